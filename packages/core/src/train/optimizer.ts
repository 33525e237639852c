// The optimizer contract. Optimizers update the model's tf.Variables directly
// (no tfjs optimizer classes) so their whole state is plain: a small JSON
// object (kind, step count, hyper-parameters) and named moment tensors, which
// a checkpoint stores and a resumed run restores exactly.
import type * as tf from '@tensorflow/tfjs-core';
import type { StateDict } from '../module.js';

export interface OptimizerState {
  /** 'adamw' | 'sgd'. */
  kind: string;
  /** Updates taken so far (Adam's bias correction depends on it). */
  step: number;
  hyper: Record<string, number | boolean>;
  /** Moment tensors keyed `<slot>.<parameter name>`; the caller owns them. */
  tensors: StateDict;
}

export interface Optimizer {
  readonly kind: string;
  /** Updates taken so far. */
  readonly step: number;
  /**
   * One update at learning rate `lr`. `grads` maps each parameter's module
   * name (`blocks.0.attn.qkv.weight`) to its gradient; a parameter without a
   * gradient is left untouched.
   */
  apply(grads: ReadonlyMap<string, tf.Tensor>, lr: number): void;
  getState(): OptimizerState;
  /** Restores a state from getState(); throws if it belongs to another optimizer or model. */
  setState(state: OptimizerState): void;
  dispose(): void;
}

/** The parameters an optimizer updates, by module name, and which of them decay. */
export interface ParamSet {
  params: [string, tf.Variable][];
  decay: ReadonlySet<string>;
}
