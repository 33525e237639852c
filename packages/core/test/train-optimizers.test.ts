import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { AdamW, createOptimizer, Linear, LayerNorm, Module, Sgd, wantsWeightDecay, weightDecayNames } from '../src/index.js';

// A weight [1, 2] (decayed) and a bias [2] (never decayed), updated with the same two gradients.
function setup() {
  const w = tf.variable(tf.tensor2d([[1, -2]]));
  const b = tf.variable(tf.tensor1d([1, -2]));
  const params: [string, tf.Variable][] = [
    ['fc.weight', w],
    ['fc.bias', b],
  ];
  const grads = [
    [0.5, 0.1],
    [-0.5, 0.3],
  ];
  const gradMap = (g: number[]) =>
    new Map<string, tf.Tensor>([
      ['fc.weight', tf.tensor2d([g])],
      ['fc.bias', tf.tensor1d(g)],
    ]);
  return { w, b, params, grads, gradMap };
}

describe('AdamW', () => {
  it('matches hand-computed torch.optim.AdamW updates, decaying only the weight', () => {
    const { w, b, params, grads, gradMap } = setup();
    const opt = new AdamW({ params, decay: new Set(['fc.weight']) }, { weightDecay: 0.1 });
    const g1 = gradMap(grads[0]!);
    opt.apply(g1, 0.1);
    // Step 1: m = 0.1 g, v = 0.001 g^2, so m_hat / sqrt(v_hat) = sign(g): p = p (1 - lr wd) - lr sign(g).
    expect(Array.from(w.dataSync())).toEqual([expect.closeTo(0.89, 6), expect.closeTo(-2.08, 6)]);
    expect(Array.from(b.dataSync())).toEqual([expect.closeTo(0.9, 6), expect.closeTo(-2.1, 6)]);
    const g2 = gradMap(grads[1]!);
    opt.apply(g2, 0.1);
    // Step 2 by hand: m = [-0.005, 0.039], v = [4.9975e-4, 9.999e-5], bc1 = 0.19, bc2 = 0.001999.
    expect(Array.from(w.dataSync())).toEqual([expect.closeTo(0.886363, 5), expect.closeTo(-2.150978, 5)]);
    expect(opt.step).toBe(2);
    tf.dispose([...g1.values(), ...g2.values(), w, b]);
    opt.dispose();
  });

  it('saves and restores its state exactly', () => {
    const a = setup();
    const opt = new AdamW({ params: a.params, decay: new Set(['fc.weight']) });
    const g = a.gradMap(a.grads[0]!);
    opt.apply(g, 0.1);
    const state = opt.getState();
    const b = setup();
    const other = new AdamW({ params: b.params, decay: new Set(['fc.weight']) });
    other.setState(state);
    b.w.assign(a.w);
    b.b.assign(a.b);
    opt.apply(g, 0.1);
    other.apply(g, 0.1);
    expect(Array.from(b.w.dataSync())).toEqual(Array.from(a.w.dataSync()));
    expect(other.step).toBe(2);
    expect(() => new Sgd({ params: b.params, decay: new Set() }).setState(state)).toThrow(/adamw/);
    tf.dispose([...g.values(), ...Object.values(state.tensors)]);
  });
});

describe('SGD with momentum', () => {
  it('matches hand-computed torch.optim.SGD updates (coupled weight decay on the weight only)', () => {
    const { w, b, params, grads, gradMap } = setup();
    const opt = new Sgd({ params, decay: new Set(['fc.weight']) }, { momentum: 0.9, weightDecay: 0.1 });
    opt.apply(gradMap(grads[0]!), 0.1);
    // g' = g + 0.1 p = [0.6, -0.1]; buf = g'; p = [1, -2] - 0.1 [0.6, -0.1].
    expect(Array.from(w.dataSync())).toEqual([expect.closeTo(0.94, 6), expect.closeTo(-1.99, 6)]);
    opt.apply(gradMap(grads[1]!), 0.1);
    // g' = [-0.5 + 0.094, 0.3 - 0.199]; buf = 0.9 [0.6, -0.1] + g' = [0.134, 0.011].
    expect(Array.from(w.dataSync())).toEqual([expect.closeTo(0.9266, 6), expect.closeTo(-1.9911, 6)]);
    // The bias has no decay: buf = [0.5, 0.1] then [-0.05, 0.39].
    expect(Array.from(b.dataSync())).toEqual([expect.closeTo(0.955, 6), expect.closeTo(-2.049, 6)]);
  });

  it('Nesterov steps along g + momentum * buf', () => {
    const { w, params, gradMap } = setup();
    const opt = new Sgd({ params, decay: new Set() }, { momentum: 0.5, nesterov: true });
    opt.apply(gradMap([1, 1]), 0.1);
    opt.apply(gradMap([1, 1]), 0.1);
    // Step 1: buf = 1, update 1 + 0.5 = 1.5; step 2: buf = 1.5, update 1 + 0.75 = 1.75.
    expect(w.dataSync()[0]).toBeCloseTo(1 - 0.15 - 0.175, 6);
  });
});

describe('weight-decay exclusions (timm)', () => {
  class Tiny extends Module {
    constructor() {
      super();
      this.addModule('head', new Linear(4, 2));
      this.addModule('norm', new LayerNorm(4, 1e-6));
      this.addParameter('pos_embed', tf.zeros([1, 3, 4]));
      this.addParameter('cls_token', tf.zeros([1, 1, 4]));
      this.addParameter('scale', tf.zeros([2, 2]));
    }
  }

  it('decays matrices only, not biases, norms, position embeddings or class tokens', () => {
    const m = new Tiny();
    expect([...weightDecayNames(m)].sort()).toEqual(['head.weight', 'scale']);
    expect(wantsWeightDecay('pos_embed.0', [1, 5, 8])).toBe(false);
    expect(wantsWeightDecay('blocks.0.mlp.fc1.weight', [8, 32])).toBe(true);
    const opt = createOptimizer('adamw', m);
    expect(opt.kind).toBe('adamw');
    opt.dispose();
    m.dispose();
  });
});
