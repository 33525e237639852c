// What AdamW and SGD share: the parameter set, the step count, and per-parameter
// moment slots that getState/setState save and restore by name.
import type * as tf from '@tensorflow/tfjs-core';
import { MomentSlots } from './moments.js';
import type { Optimizer, OptimizerState, ParamSet } from './optimizer.js';

export abstract class SlotOptimizer implements Optimizer {
  abstract readonly kind: string;
  protected t = 0;
  protected readonly slots: MomentSlots;

  constructor(
    protected readonly paramSet: ParamSet,
    slotNames: readonly string[],
  ) {
    this.slots = new MomentSlots(slotNames);
  }

  get step(): number {
    return this.t;
  }

  abstract apply(grads: ReadonlyMap<string, tf.Tensor>, lr: number): void;

  /** Hyper-parameters recorded with the state. */
  protected abstract hyper(): Record<string, number | boolean>;

  getState(): OptimizerState {
    return { kind: this.kind, step: this.t, hyper: this.hyper(), tensors: this.slots.toStateDict() };
  }

  setState(state: OptimizerState): void {
    if (state.kind !== this.kind) throw new Error(`optimizer state is for '${state.kind}', not '${this.kind}'`);
    this.slots.load(state.tensors, new Map(this.paramSet.params));
    this.t = state.step;
  }

  dispose(): void {
    this.slots.dispose();
  }
}
