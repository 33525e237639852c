// IntermediateRecorders that keep what a forward pass shows them, for
// forwardIntermediates and the parity adapters' forwardWithIntermediates.
import type * as tf from '@tensorflow/tfjs-core';
import type { IntermediateRecorder } from './classifier.js';

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
