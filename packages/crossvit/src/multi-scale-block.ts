import * as tf from '@tensorflow/tfjs-core';
import {
  type Cost,
  GELU,
  type Layer,
  LayerNorm,
  Linear,
  Module,
  ModuleList,
  type OnnxScope,
  Sequential,
  sumCosts,
  TransformerBlock,
} from '@vitkit/core';
import { type CrossAttention, CrossAttentionBlock } from './cross-attention.js';

export interface MultiScaleBlockOptions {
  /** Width of each branch. */
  dims: number[];
  /** The transformer depth of each branch, then the number of cross-attention layers (see `fusionLayers`). */
  depth: number[];
  numHeads: number[];
  /** MLP ratio of each branch's transformer blocks. */
  mlpRatio: number[];
  qkvBias: boolean;
  qkScale: number | null;
  drop: number;
  attnDrop: number;
  /** Stochastic-depth rates: entry i for each branch's block i, the last one for the fusion. */
  dropPath: number[];
  eps: number;
}

/**
 * Cross-attention layers per branch in a stage. A fusion depth of 0 is the
 * reference's "backward capability" form: one CrossAttentionBlock stored bare
 * (`fusion.0.attn`), where a depth k > 0 stores k of them in a Sequential
 * (`fusion.0.0.attn`, ...). Every published model uses 0, i.e. one layer.
 */
export function fusionLayers(depth: readonly number[]): number {
  return Math.max(1, depth[depth.length - 1]!);
}

/**
 * One CrossViT multi-scale encoder: each branch's transformer blocks, then for
 * each branch i its class token is projected to the next branch's width
 * (`projs.i`: LayerNorm, GELU, Linear), reads that branch's patch tokens by
 * cross-attention (`fusion.i`), is projected back (`revert_projs.i`) and
 * rejoins its own patch tokens.
 */
export class MultiScaleBlock extends Module {
  readonly blocks: ModuleList<Sequential>;
  readonly projs: ModuleList<Sequential>;
  readonly fusion: ModuleList<Layer>;
  readonly revertProjs: ModuleList<Sequential>;
  readonly numBranches: number;

  constructor(options: MultiScaleBlockOptions) {
    super();
    const { dims, depth, numHeads, eps } = options;
    const n = dims.length;
    this.numBranches = n;
    const next = (d: number) => (d + 1) % n;
    const rate = (i: number) => {
      const r = options.dropPath[i < 0 ? options.dropPath.length + i : i];
      // The reference indexes a slice of its drop-path schedule the same way and fails where this does.
      if (r === undefined) throw new Error(`depth: stage [${depth}] needs stochastic-depth entry ${i} of ${options.dropPath.length}`);
      return r;
    };

    this.blocks = this.addModule('blocks', new ModuleList<Sequential>());
    for (let d = 0; d < n; d++) {
      const layers = Array.from(
        { length: depth[d]! },
        (_, i) =>
          new TransformerBlock(dims[d]!, {
            numHeads: numHeads[d]!,
            mlpRatio: options.mlpRatio[d]!,
            qkvBias: options.qkvBias,
            drop: options.drop,
            attnDrop: options.attnDrop,
            dropPath: rate(i),
            eps,
          }),
      );
      this.blocks.push(new Sequential(layers));
    }

    this.projs = this.addModule('projs', new ModuleList<Sequential>());
    for (let d = 0; d < n; d++) this.projs.push(projection(dims[d]!, dims[next(d)]!, eps));

    this.fusion = this.addModule('fusion', new ModuleList<Layer>());
    const fusionDepth = depth[depth.length - 1]!;
    for (let d = 0; d < n; d++) {
      const make = () =>
        new CrossAttentionBlock(dims[next(d)]!, {
          numHeads: numHeads[next(d)]!,
          qkvBias: options.qkvBias,
          qkScale: options.qkScale,
          attnDrop: options.attnDrop,
          projDrop: options.drop,
          dropPath: rate(-1),
          eps,
        });
      this.fusion.push(fusionDepth === 0 ? make() : new Sequential(Array.from({ length: fusionDepth }, make)));
    }

    this.revertProjs = this.addModule('revert_projs', new ModuleList<Sequential>());
    for (let d = 0; d < n; d++) this.revertProjs.push(projection(dims[next(d)]!, dims[d]!, eps));
  }

  /** Each branch's tokens [B, 1 + N_i, C_i] -> the same shapes. */
  forward(xs: tf.Tensor[]): tf.Tensor[] {
    const n = this.numBranches;
    const outs = xs.map((x, i) => this.blocks.items[i]!.forward(x));
    const cls = (x: tf.Tensor) => tf.slice(x, [0, 0, 0], [x.shape[0]!, 1, x.shape[2]!]);
    const patches = (x: tf.Tensor) => tf.slice(x, [0, 1, 0], [x.shape[0]!, x.shape[1]! - 1, x.shape[2]!]);
    return outs.map((own, i) => {
      const other = outs[(i + 1) % n]!;
      const query = this.projs.items[i]!.forward(cls(own));
      const fused = this.fusion.items[i]!.forward(tf.concat([query, patches(other)], 1));
      return tf.concat([this.revertProjs.items[i]!.forward(fused), patches(own)], 1);
    });
  }

  /** As forward, on each branch's tokens [B, 1 + N_i, C_i]. */
  toOnnx(g: OnnxScope, xs: string[]): string[] {
    const n = this.numBranches;
    const outs = xs.map((x, i) => g.at('blocks').lower(String(i), this.blocks.items[i]!, x));
    const cls = (x: string) => g.slice(x, 1, 0, 1);
    const patches = (x: string) => g.slice(x, 1, 1, Number.MAX_SAFE_INTEGER);
    return outs.map((own, i) => {
      const query = g.at('projs').lower(String(i), this.projs.items[i]!, cls(own));
      const fused = g.at('fusion').lower(String(i), this.fusion.items[i]!, g.concat([query, patches(outs[(i + 1) % n]!)], 1));
      return g.concat([g.at('revert_projs').lower(String(i), this.revertProjs.items[i]!, fused), patches(own)], 1);
    });
  }

  /** The cross-attention modules of branch 0, 1, ... (one per layer of each fusion). */
  crossAttentions(): CrossAttention[][] {
    return this.fusion.items.map((f) =>
      f instanceof CrossAttentionBlock ? [f.attn] : (f as Sequential).layers.map((l) => (l as CrossAttentionBlock).attn),
    );
  }

  /** `tokens[i]`: tokens of branch i including its class token. */
  static cost(options: Pick<MultiScaleBlockOptions, 'dims' | 'depth' | 'mlpRatio' | 'qkvBias'>, tokens: number[]): Cost {
    const { dims, depth, qkvBias } = options;
    const n = dims.length;
    const costs: Cost[] = [];
    for (let d = 0; d < n; d++) {
      const e = (d + 1) % n;
      for (let i = 0; i < depth[d]!; i++)
        costs.push(TransformerBlock.cost(dims[d]!, tokens[d]!, { mlpRatio: options.mlpRatio[d]!, qkvBias }));
      costs.push(projectionCost(dims[d]!, dims[e]!), projectionCost(dims[e]!, dims[d]!));
      // The first cross-attention layer sees the query plus the other branch's patches; any
      // further layer of a fusion Sequential receives only the updated class token.
      for (let l = 0; l < fusionLayers(depth); l++) costs.push(CrossAttentionBlock.cost(dims[e]!, l === 0 ? tokens[e]! : 1, qkvBias));
    }
    return sumCosts(...costs);
  }
}

/** LayerNorm, GELU, Linear on the class token: `projs.i` and `revert_projs.i` (children 0, 1, 2). */
function projection(from: number, to: number, eps: number): Sequential {
  return new Sequential([new LayerNorm(from, eps), new GELU(), new Linear(from, to)]);
}

function projectionCost(from: number, to: number): Cost {
  return sumCosts(LayerNorm.cost(from), Linear.cost(from, to, 1));
}
