// Complexity bookkeeping in the style of pycls: every layer has a static `cost`
// beside its forward, computed from its configuration alone, so the counts of
// the largest models need no weights and cannot drift from the code that spends
// them. MACs count every Linear, convolution and attention matmul (what the
// papers call "FLOPs"); norms, activations and softmax are not counted, as in
// the reference counts.

/** Parameters and multiply-accumulates of a module for one input (batch 1). */
export interface Cost {
  params: number;
  macs: number;
}

export const noCost: Cost = { params: 0, macs: 0 };

export function sumCosts(...costs: Cost[]): Cost {
  return costs.reduce((a, c) => ({ params: a.params + c.params, macs: a.macs + c.macs }), noCost);
}

/** `times` copies of a module (parameters and MACs both scale). */
export function repeatCost(c: Cost, times: number): Cost {
  return { params: c.params * times, macs: c.macs * times };
}
