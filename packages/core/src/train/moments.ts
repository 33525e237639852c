// Per-parameter optimizer slots (Adam's two moments, SGD's momentum buffer):
// non-trainable variables created on first use, saved and restored by name.
import * as tf from '@tensorflow/tfjs-core';
import type { StateDict } from '../module.js';

export class MomentSlots {
  private readonly slots = new Map<string, tf.Variable>();

  constructor(private readonly slotNames: readonly string[]) {}

  /** The slot `slot` of parameter `name`, zero-initialised like `like` on first use. */
  get(slot: string, name: string, like: tf.Tensor): tf.Variable {
    const key = `${slot}.${name}`;
    let v = this.slots.get(key);
    if (!v) {
      v = tf.variable(tf.zerosLike(like), false);
      this.slots.set(key, v);
    }
    return v;
  }

  /** Copies of every slot, keyed `<slot>.<parameter>`; the caller owns them. */
  toStateDict(): StateDict {
    const out: StateDict = {};
    for (const [key, v] of this.slots) out[key] = tf.clone(v);
    return out;
  }

  /** Replaces every slot with the given tensors (copied); shapes are checked against the parameters. */
  load(tensors: StateDict, params: ReadonlyMap<string, tf.Tensor>): void {
    const problems: string[] = [];
    for (const [key, t] of Object.entries(tensors)) {
      const dot = key.indexOf('.');
      const slot = key.slice(0, dot);
      const param = params.get(key.slice(dot + 1));
      if (!this.slotNames.includes(slot) || !param) problems.push(`unexpected optimizer tensor '${key}'`);
      else if (param.shape.join(',') !== t.shape.join(','))
        problems.push(`'${key}' has shape [${t.shape}], parameter has [${param.shape}]`);
    }
    if (problems.length) throw new Error(`optimizer state does not match the model:\n  ${problems.join('\n  ')}`);
    this.dispose();
    for (const [key, t] of Object.entries(tensors)) this.slots.set(key, tf.variable(tf.clone(t), false));
  }

  dispose(): void {
    for (const v of this.slots.values()) v.dispose();
    this.slots.clear();
  }
}
