// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", 2019),
// computed as torch.optim.AdamW: p *= 1 - lr*wd (decay params only), then
// p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps).
import * as tf from '@tensorflow/tfjs-core';
import type { ParamSet } from './optimizer.js';
import { SlotOptimizer } from './slot-optimizer.js';

export interface AdamWOptions {
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export class AdamW extends SlotOptimizer {
  readonly kind = 'adamw';
  readonly weightDecay: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;

  constructor(paramSet: ParamSet, options: AdamWOptions = {}) {
    super(paramSet, ['exp_avg', 'exp_avg_sq']);
    this.weightDecay = options.weightDecay ?? 0.05;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
  }

  apply(grads: ReadonlyMap<string, tf.Tensor>, lr: number): void {
    this.t += 1;
    const bc1 = 1 - this.beta1 ** this.t;
    const bc2 = 1 - this.beta2 ** this.t;
    tf.tidy(() => {
      const b1 = tf.scalar(this.beta1);
      const b2 = tf.scalar(this.beta2);
      const c1 = tf.scalar(1 - this.beta1);
      const c2 = tf.scalar(1 - this.beta2);
      const stepSize = tf.scalar(-lr / bc1);
      const sqrtBc2 = tf.scalar(Math.sqrt(bc2));
      const eps = tf.scalar(this.eps);
      const shrink = tf.scalar(1 - lr * this.weightDecay);
      for (const [name, p] of this.paramSet.params) {
        const g = grads.get(name);
        if (!g) continue;
        const m = this.slots.get('exp_avg', name, p);
        const v = this.slots.get('exp_avg_sq', name, p);
        m.assign(tf.add(tf.mul(m, b1), tf.mul(g, c1)));
        v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), c2)));
        const decayed = this.weightDecay !== 0 && this.paramSet.decay.has(name) ? tf.mul(p, shrink) : p;
        const denom = tf.add(tf.div(tf.sqrt(v), sqrtBc2), eps);
        p.assign(tf.add(decayed, tf.mul(tf.div(m, denom), stepSize)));
      }
    });
  }

  protected hyper(): Record<string, number | boolean> {
    return { weightDecay: this.weightDecay, beta1: this.beta1, beta2: this.beta2, eps: this.eps };
  }
}
