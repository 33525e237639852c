import * as tf from '@tensorflow/tfjs-core';
import { PatchEmbed } from '@vitkit/core';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../../../test-utils/index.js';
import { VisionTransformer, type VisionTransformerOptions } from '../src/index.js';

const tiny: VisionTransformerOptions = { imgSize: 16, patchSize: 4, embedDim: 32, depth: 2, numHeads: 2, numClasses: 5 };
const keys = (m: VisionTransformer) => Object.keys(m.stateShapes());

describe('fine-tuning helpers', () => {
  it('resetClassifier puts a zero-initialised head for the new classes', () => {
    const model = new VisionTransformer(tiny);
    const before = model.numParams();
    model.resetClassifier(3);
    expect(model.numClasses).toBe(3);
    expect(model.stateShapes()['head.weight']).toEqual([3, 32]);
    expect(model.numParams()).toBe(before - 2 * 33);
    const sd = model.stateDict();
    expect(tf.max(tf.abs(sd['head.weight']!)).dataSync()[0]).toBe(0);
    expect(tf.max(tf.abs(sd['head.bias']!)).dataSync()[0]).toBe(0);
    tf.dispose(Object.values(sd));
    const x = tf.randomNormal([2, 16, 16, 3]);
    const y = tf.tidy(() => model.forward(x));
    expect(y.shape).toEqual([2, 3]);
    expect(tf.max(tf.abs(y)).dataSync()[0]).toBe(0);
    // The new head is a trainable parameter of the model.
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(model.forward(x), tf.tensor1d([1, -2, 3]))) as tf.Scalar, model.parameters());
    const headGrad = grads[(model.head as unknown as { weight: tf.Variable }).weight.name]!;
    expect(tf.sum(tf.abs(headGrad)).dataSync()[0]).toBeGreaterThan(0);
    expect(model.complexity().params).toBe(model.numParams());
    tf.dispose([x, y, ...Object.values(grads)]);
    model.dispose();
  });

  it('resetClassifier(0) leaves no head and forward returns the pooled features', () => {
    const model = new VisionTransformer(tiny);
    model.resetClassifier(0);
    expect(keys(model).filter((k) => k.startsWith('head'))).toEqual([]);
    const y = tf.tidy(() => model.forward(tf.randomNormal([2, 16, 16, 3])));
    expect(y.shape).toEqual([2, 32]);
    tf.dispose(y);
    model.dispose();
  });

  it('forwardFeatures returns every token after the final norm; forwardHead pools and classifies', () => {
    const model = new VisionTransformer(tiny).eval();
    tf.tidy(() => {
      const x = tf.randomNormal([2, 16, 16, 3]);
      const features = model.forwardFeatures(x);
      expect(features.shape).toEqual([2, 17, 32]);
      // LayerNorm with unit gain and zero bias: every token has mean 0 and (up to eps) unit variance.
      const { mean, variance } = tf.moments(features, -1);
      expect(tf.max(tf.abs(mean)).dataSync()[0]).toBeLessThan(1e-5);
      expect(tf.max(tf.abs(tf.sub(variance, 1))).dataSync()[0]).toBeLessThan(1e-2);
      expectClose(model.forwardHead(features), model.forward(x), 0);
      const pre = model.forwardHead(features, { preLogits: true });
      expectClose(pre, tf.reshape(tf.slice(features, [0, 0, 0], [2, 1, 32]), [2, 32]), 0);
    });
    model.dispose();
  });

  it("follows timm's fc_norm, class-token and pre-logits options in its parameter names", () => {
    const avg = new VisionTransformer({ ...tiny, globalPool: 'avg', classToken: false });
    expect(keys(avg).filter((k) => !k.startsWith('blocks.'))).toEqual([
      'pos_embed',
      'patch_embed.proj.weight',
      'patch_embed.proj.bias',
      'fc_norm.weight',
      'fc_norm.bias',
      'head.weight',
      'head.bias',
    ]);
    expect(avg.stateShapes()['pos_embed']).toEqual([1, 16, 32]);
    tf.tidy(() => {
      const x = tf.randomNormal([2, 16, 16, 3]);
      const f = avg.forwardFeatures(x);
      expect(f.shape).toEqual([2, 16, 32]);
      expectClose(avg.forwardHead(f, { preLogits: true }), avg.fcNorm.forward(tf.mean(f, 1)), 1e-6);
    });
    avg.dispose();

    const rep = new VisionTransformer({ ...tiny, representationSize: 24 });
    expect(rep.stateShapes()['pre_logits.fc.weight']).toEqual([24, 32]);
    expect(rep.stateShapes()['head.weight']).toEqual([5, 24]);
    expect(rep.numParams()).toBe(VisionTransformer.cost({ ...tiny, representationSize: 24 }).params);
    rep.dispose();

    const noEmbedClass = new VisionTransformer({ ...tiny, noEmbedClass: true });
    expect(noEmbedClass.stateShapes()['pos_embed']).toEqual([1, 16, 32]);
    expect(noEmbedClass.stateShapes()['cls_token']).toEqual([1, 1, 32]);
    expect(tf.tidy(() => noEmbedClass.forwardFeatures(tf.zeros([1, 16, 16, 3])).shape)).toEqual([1, 17, 32]);
    expect(noEmbedClass.numParams()).toBe(noEmbedClass.complexity().params);
    noEmbedClass.dispose();
    expect(() => new VisionTransformer({ ...tiny, classToken: false })).toThrow(/'token' needs classToken/);
  });
});

/** A patchify layer that misreports its grid, as a faulty custom stem would. */
class MisreportingEmbed extends PatchEmbed {
  override gridSize(h: number, w: number): [number, number] {
    return [h / 8, w / 4];
  }
}

describe('custom embed layer (a convolutional stem in front)', () => {
  it('builds the position embedding on the grid the embed layer reports and counts its cost', () => {
    let seen: unknown[] = [];
    const model = new VisionTransformer({
      ...tiny,
      imgSize: 32,
      embedLayer: (imgSize, inChannels, embedDim) => {
        seen = [imgSize, inChannels, embedDim];
        return new PatchEmbed(8, inChannels, embedDim);
      },
    });
    expect(seen).toEqual([[32, 32], 3, 32]);
    expect(model.grid).toEqual([4, 4]);
    expect(model.stateShapes()['pos_embed']).toEqual([1, 17, 32]);
    expect(model.stateShapes()['patch_embed.proj.weight']).toEqual([32, 3, 8, 8]);
    expect(model.complexity()).toEqual(VisionTransformer.cost({ ...tiny, imgSize: 32, patchSize: 8 }));
    expect(model.numParams()).toBe(model.complexity().params);
    const y = tf.tidy(() => model.forward(tf.randomNormal([2, 32, 32, 3])));
    expect(y.shape).toEqual([2, 5]);
    tf.dispose(y);
    model.dispose();
  });

  it("counts a model with a custom embed layer statically from the layer's own cost(), and refuses to guess without one", () => {
    const patch8 = Object.assign((_s: [number, number], c: number, d: number) => new PatchEmbed(8, c, d), {
      cost: ([h, w]: [number, number], c: number, d: number) => ({
        cost: PatchEmbed.cost(8, c, d, h, w),
        grid: [h / 8, w / 8] as [number, number],
      }),
    });
    const model = new VisionTransformer({ ...tiny, imgSize: 32, embedLayer: patch8 });
    expect(VisionTransformer.cost({ ...tiny, imgSize: 32, embedLayer: patch8 })).toEqual(model.complexity());
    model.dispose();
    expect(() => VisionTransformer.cost({ ...tiny, embedLayer: (_s, c, d) => new PatchEmbed(8, c, d) })).toThrow(
      /VisionTransformer.cost: the embedLayer factory has no static cost\(\)/,
    );
  });

  it('refuses an embed layer whose grid or width does not match', () => {
    const bad = new VisionTransformer({ ...tiny, embedLayer: (_s, c, d) => new MisreportingEmbed(4, c, d) });
    expect(bad.grid).toEqual([2, 4]);
    expect(() => tf.tidy(() => bad.forward(tf.zeros([1, 16, 16, 3])))).toThrow(/reports a 2x4 grid but produced 16 tokens/);
    bad.dispose();
    expect(() => new VisionTransformer({ ...tiny, embedLayer: (_s, c) => new PatchEmbed(4, c, 48) })).toThrow(
      /48-wide tokens, the model is 32 wide/,
    );
  });
});
