// What forwardIntermediates shares across families: which blocks or stages
// the caller asked for, and a recorder that keeps the outputs it names.
import type * as tf from '@tensorflow/tfjs-core';
import type { IntermediateRecorder, IntermediatesOptions } from './classifier.js';

/**
 * The block (or stage) indices `indices` selects out of `count`, ascending and
 * each once: forwardIntermediates returns them in block order, as timm's
 * forward_intermediates does. Default all; a number n takes the last n; an
 * array names them, negative counting from the end. `units` names what is
 * counted in the errors ('stages', 'multi-scale blocks').
 */
export function takeIndices(indices: IntermediatesOptions['indices'], count: number, units: string): number[] {
  if (indices === undefined) return [...Array(count).keys()];
  if (typeof indices === 'number') {
    if (!Number.isInteger(indices) || indices < 1 || indices > count) {
      throw new Error(
        `forwardIntermediates: indices ${indices} asks for the last ${indices} ${units}; the model has ${count} (1 to ${count})`,
      );
    }
    return Array.from({ length: indices }, (_, i) => count - indices + i);
  }
  const taken = new Set<number>();
  for (const i of indices) {
    const at = i < 0 ? count + i : i;
    if (!Number.isInteger(i) || at < 0 || at >= count) {
      throw new Error(
        `forwardIntermediates: index ${i} is out of range: the model has ${count} ${units} (0 to ${count - 1}, or -${count} to -1 from the end)`,
      );
    }
    taken.add(at);
  }
  return [...taken].sort((a, b) => a - b);
}

/**
 * A recorder that keeps the outputs named in `names` (every output when
 * omitted) in `outputs`, by name. The tensors stay in the forward's scope.
 */
export function keepOutputs(names?: Iterable<string>): { record: IntermediateRecorder; outputs: Map<string, tf.Tensor> } {
  const wanted = names ? new Set(names) : null;
  const outputs = new Map<string, tf.Tensor>();
  return {
    record: (name, t) => {
      if (!wanted || wanted.has(name)) outputs.set(name, t);
    },
    outputs,
  };
}
