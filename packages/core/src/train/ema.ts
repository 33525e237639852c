// An exponential moving average of the weights (Polyak averaging, as timm's
// ModelEmaV2): shadow = decay * shadow + (1 - decay) * weight after every
// step, buffers copied. Evaluating with the average often beats the raw
// weights late in training.
import * as tf from '@tensorflow/tfjs-core';
import type { Module, StateDict } from '../module.js';

export class ModelEma {
  private readonly shadow: [tf.Variable, tf.Variable][];

  constructor(
    private readonly model: Module,
    readonly decay = 0.9998,
  ) {
    const tracked = [...model.namedParameters(), ...model.namedBuffers()].map(([, v]) => v);
    this.shadow = tracked.map((v) => [v, tf.variable(tf.clone(v), false)]);
  }

  update(): void {
    tf.tidy(() => {
      const d = tf.scalar(this.decay);
      const c = tf.scalar(1 - this.decay);
      for (const [v, s] of this.shadow) {
        s.assign(v.trainable ? tf.add(tf.mul(s, d), tf.mul(v, c)) : tf.clone(v));
      }
    });
  }

  /** Runs `fn` with the averaged weights in the model, then puts the raw weights back. */
  async withAveragedWeights<T>(fn: () => T | Promise<T>): Promise<T> {
    this.swap();
    try {
      return await fn();
    } finally {
      this.swap();
    }
  }

  /** The averaged weights as the model's state dict (PyTorch layout); the caller owns it. */
  async stateDict(): Promise<StateDict> {
    return this.withAveragedWeights(() => this.model.stateDict());
  }

  /** Loads averaged weights saved by stateDict(). */
  async loadStateDict(sd: StateDict): Promise<void> {
    await this.withAveragedWeights(() => {
      this.model.loadStateDict(sd, { context: 'EMA weights' });
    });
  }

  private swap(): void {
    tf.tidy(() => {
      for (const [v, s] of this.shadow) {
        const raw = tf.clone(v);
        v.assign(s);
        s.assign(raw);
      }
    });
  }

  dispose(): void {
    for (const [, s] of this.shadow) s.dispose();
  }
}
