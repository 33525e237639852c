// SGD with momentum as torch.optim.SGD (dampening 0): weight decay is coupled
// (added to the gradient, decay params only), buf = momentum*buf + g, and
// Nesterov uses g + momentum*buf.
import * as tf from '@tensorflow/tfjs-core';
import { MomentSlots } from './moments.js';
import type { Optimizer, OptimizerState, ParamSet } from './optimizer.js';

export interface SgdOptions {
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export class Sgd implements Optimizer {
  readonly kind = 'sgd';
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  private t = 0;
  private readonly slots = new MomentSlots(['momentum_buffer']);

  constructor(
    private readonly paramSet: ParamSet,
    options: SgdOptions = {},
  ) {
    this.momentum = options.momentum ?? 0.9;
    this.weightDecay = options.weightDecay ?? 0;
    this.nesterov = options.nesterov ?? false;
  }

  get step(): number {
    return this.t;
  }

  apply(grads: ReadonlyMap<string, tf.Tensor>, lr: number): void {
    this.t += 1;
    tf.tidy(() => {
      const mu = tf.scalar(this.momentum);
      const wd = tf.scalar(this.weightDecay);
      const negLr = tf.scalar(-lr);
      for (const [name, p] of this.paramSet.params) {
        let g = grads.get(name);
        if (!g) continue;
        if (this.weightDecay !== 0 && this.paramSet.decay.has(name)) g = tf.add(g, tf.mul(p, wd));
        if (this.momentum !== 0) {
          const buf = this.slots.get('momentum_buffer', name, p);
          // PyTorch starts the buffer at the first gradient, which equals momentum*0 + g.
          buf.assign(tf.add(tf.mul(buf, mu), g));
          g = this.nesterov ? tf.add(g, tf.mul(buf, mu)) : buf;
        }
        p.assign(tf.add(p, tf.mul(g, negLr)));
      }
    });
  }

  getState(): OptimizerState {
    return {
      kind: this.kind,
      step: this.t,
      hyper: { momentum: this.momentum, weightDecay: this.weightDecay, nesterov: this.nesterov },
      tensors: this.slots.toStateDict(),
    };
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
