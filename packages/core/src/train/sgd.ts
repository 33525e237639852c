// SGD with momentum as torch.optim.SGD (dampening 0): weight decay is coupled
// (added to the gradient, decay params only), buf = momentum*buf + g, and
// Nesterov uses g + momentum*buf.
import * as tf from '@tensorflow/tfjs-core';
import type { ParamSet } from './optimizer.js';
import { SlotOptimizer } from './slot-optimizer.js';

export interface SgdOptions {
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export class Sgd extends SlotOptimizer {
  readonly kind = 'sgd';
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;

  constructor(paramSet: ParamSet, options: SgdOptions = {}) {
    super(paramSet, ['momentum_buffer']);
    this.momentum = options.momentum ?? 0.9;
    this.weightDecay = options.weightDecay ?? 0;
    this.nesterov = options.nesterov ?? false;
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

  protected hyper(): Record<string, number | boolean> {
    return { momentum: this.momentum, weightDecay: this.weightDecay, nesterov: this.nesterov };
  }
}
