import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { checkResetClassifier, fixtureDir, maxAbsDiff } from '../../../test-utils/index.js';
import { CrossViT, configFromReferenceArgs } from '../src/index.js';

// The crossvit_tiny fixture's branches (48 px / patch 12 and 32 px / patch 16: 17 and 5 tokens) with three encoders.
const args = {
  ...JSON.parse(readFileSync(`${fixtureDir('crossvit_tiny')}/config.json`, 'utf8')).reference_args,
  depth: [
    [1, 1, 0],
    [1, 1, 0],
    [1, 1, 0],
  ],
};

const TOKEN_SHAPES = [
  [2, 17, 32],
  [2, 5, 64],
];

/** The model in eval mode, disposed after `body`. */
function withModel(body: (model: CrossViT, x: tf.Tensor) => void): void {
  const model = new CrossViT(configFromReferenceArgs(args));
  model.eval();
  const x = tf.randomNormal([2, 48, 48, 3], 0, 1, 'float32', 11);
  try {
    body(model, x);
  } finally {
    x.dispose();
    model.dispose();
  }
}

const shapesOf = (ts: tf.Tensor[]) => ts.map((t) => t.shape);

describe('CrossViT features API', () => {
  it("forwardFeatures gives each branch's tokens after its final norm, and forwardHead of them is forward", () => {
    withModel((model, x) =>
      tf.tidy(() => {
        const features = model.forwardFeatures(x);
        expect(shapesOf(features)).toEqual(TOKEN_SHAPES);
        const recorded = model.forwardWithIntermediates(x as tf.Tensor4D).intermediates;
        for (const [i, t] of features.entries()) expect(maxAbsDiff(t, recorded[`norm.${i}`]!)).toBe(0);
        const logits = model.forwardHead(features);
        expect(logits.shape).toEqual([2, 10]);
        expect(maxAbsDiff(logits, model.forward(x))).toBe(0);
      }),
    );
  });

  it('gives the class tokens concatenated on the last axis as pre-logits', () => {
    withModel((model, x) =>
      tf.tidy(() => {
        const features = model.forwardFeatures(x);
        const pre = model.forwardHead(features, { preLogits: true });
        expect(pre.shape).toEqual([2, 96]);
        expect(maxAbsDiff(tf.slice(pre, [0, 0], [2, 32]), tf.squeeze(tf.slice(features[0]!, [0, 0, 0], [2, 1, 32]), [1]))).toBe(0);
        expect(maxAbsDiff(tf.slice(pre, [0, 32], [2, 64]), tf.squeeze(tf.slice(features[1]!, [0, 0, 0], [2, 1, 64]), [1]))).toBe(0);
        expect(() => model.forwardHead([features[0]!])).toThrow(/features must be the 2 branches' tokens from forwardFeatures, got 1/);
      }),
    );
  });

  it("forwardIntermediates gives every encoder's branch tokens by default, as the recorder sees them", () => {
    withModel((model, x) =>
      tf.tidy(() => {
        const { features, intermediates } = model.forwardIntermediates(x);
        expect(intermediates.map((b) => shapesOf(b as tf.Tensor[]))).toEqual([TOKEN_SHAPES, TOKEN_SHAPES, TOKEN_SHAPES]);
        const reference = model.forwardFeatures(x);
        for (const [i, t] of (features as tf.Tensor[]).entries()) expect(maxAbsDiff(t, reference[i]!)).toBe(0);
        const recorded = model.forwardWithIntermediates(x as tf.Tensor4D).intermediates;
        for (const [k, branches] of intermediates.entries()) {
          for (const [i, t] of (branches as tf.Tensor[]).entries()) expect(maxAbsDiff(t, recorded[`blocks.${k}_${i}`]!)).toBe(0);
        }
      }),
    );
  });

  it('takes the last n encoders for a number, the named ones (negative from the end) for an array, in encoder order', () => {
    withModel((model, x) =>
      tf.tidy(() => {
        const recorded = model.forwardWithIntermediates(x as tf.Tensor4D).intermediates;
        const taken = (indices: number | number[]) =>
          model.forwardIntermediates(x, { indices }).intermediates.map((branches) => {
            const first = (branches as tf.Tensor[])[0]!;
            return [0, 1, 2].find((k) => maxAbsDiff(first, recorded[`blocks.${k}_0`]!) === 0);
          });
        expect(taken(2)).toEqual([1, 2]);
        expect(taken(1)).toEqual([2]);
        expect(taken([0])).toEqual([0]);
        expect(taken([-1, 0])).toEqual([0, 2]);
        expect(taken([1, -2])).toEqual([1]);
      }),
    );
  });

  it("applies each branch's final norm with norm: true, so the last encoder's output equals the features", () => {
    withModel((model, x) =>
      tf.tidy(() => {
        const plain = model.forwardIntermediates(x, { indices: [0, -1] });
        const normed = model.forwardIntermediates(x, { indices: [0, -1], norm: true });
        const features = normed.features as tf.Tensor[];
        const [p0, pLast] = plain.intermediates as tf.Tensor[][];
        const [n0, nLast] = normed.intermediates as tf.Tensor[][];
        for (const [i, t] of nLast!.entries()) expect(maxAbsDiff(t, features[i]!)).toBe(0);
        for (const [i, t] of pLast!.entries()) expect(maxAbsDiff(t, features[i]!)).toBeGreaterThan(1e-3);
        for (const [i, t] of n0!.entries()) expect(maxAbsDiff(t, model.norm.items[i]!.forward(p0![i]!))).toBe(0);
      }),
    );
  });

  it('names the index and the encoder count when an index is out of range', () => {
    withModel((model, x) => {
      const call = (indices: number | number[]) => () => tf.tidy(() => model.forwardIntermediates(x, { indices }).intermediates.flat());
      expect(call([3])).toThrow(
        /CrossViT.forwardIntermediates: index 3 is out of range for 3 multi-scale blocks \(use 0..2, or -3..-1 from the end\)/,
      );
      expect(call([-4])).toThrow(/index -4 is out of range for 3 multi-scale blocks/);
      expect(call(4)).toThrow(/indices 4 must be a whole number from 1 to 3 \(the last n of 3 multi-scale blocks\)/);
    });
  });

  it('resetClassifier puts in zero heads for the new class count, keeps the mode and leaks nothing', () => {
    withModel((model, x) => {
      checkResetClassifier(model, x);
      model.resetClassifier(4);
      expect(model.stateShapes()['head.1.weight']).toEqual([4, 64]);
      tf.tidy(() => {
        expect(model.forwardHead(model.forwardFeatures(x), { preLogits: true }).shape).toEqual([2, 96]);
      });
    });
  });

  it('keeps the tensor count flat across attention explanations', () => {
    withModel((model, x) => {
      const explain = () => {
        const { logits, groups } = model.explainAttention(x as tf.Tensor4D, {});
        tf.dispose([logits, ...groups.map((g) => g.maps)]);
      };
      explain();
      const before = tf.memory().numTensors;
      explain();
      explain();
      expect(tf.memory().numTensors).toBe(before);
    });
  });
});
