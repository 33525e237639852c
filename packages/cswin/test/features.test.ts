import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { checkResetClassifier, fixtureDir, maxAbsDiff } from '../../../test-utils/index.js';
import { CSWinTransformer, configFromReference } from '../src/index.js';

const args = JSON.parse(readFileSync(`${fixtureDir('cswin_tiny')}/config.json`, 'utf8')).reference_args as Record<string, unknown>;

/** A CSWin on the parity fixture's configuration, in eval mode, disposed after `body`. */
function withModel(body: (model: CSWinTransformer) => void): void {
  const model = new CSWinTransformer(configFromReference(args));
  model.eval();
  try {
    body(model);
  } finally {
    model.dispose();
  }
}

const STAGE_SHAPES = [
  [2, 16, 32, 16],
  [2, 8, 16, 32],
  [2, 4, 8, 64],
  [2, 2, 4, 128],
];

describe('CSWinTransformer features API', () => {
  it('forwardFeatures gives the last stage NHWC after the final norm, and forwardHead of it is forward', () => {
    withModel((model) =>
      tf.tidy(() => {
        const x = tf.randomNormal([2, 64, 128, 3], 0, 1, 'float32', 3);
        const features = model.forwardFeatures(x);
        expect(features.shape).toEqual([2, 2, 4, 128]);
        expect(maxAbsDiff(model.forwardHead(features), model.forward(x))).toBe(0);
        const pooled = model.forwardHead(features, { preLogits: true });
        expect(pooled.shape).toEqual([2, model.numFeatures]);
        expect(maxAbsDiff(pooled, tf.mean(features, [1, 2]))).toBe(0);
      }),
    );
  });

  it('forwardIntermediates gives the four stages NHWC by default, the same maps the recorder sees', () => {
    withModel((model) =>
      tf.tidy(() => {
        const x = tf.randomNormal([2, 64, 128, 3], 0, 1, 'float32', 4);
        const { features, intermediates } = model.forwardIntermediates(x);
        expect((intermediates as tf.Tensor[]).map((t) => t.shape)).toEqual(STAGE_SHAPES);
        expect(maxAbsDiff(features as tf.Tensor, model.forwardFeatures(x))).toBe(0);
        const recorded = model.forwardWithIntermediates(x).intermediates;
        ['stage1.0', 'stage2.0', 'stage3.1', 'stage4.0'].forEach((name, i) => {
          const stage = intermediates[i] as tf.Tensor;
          expect(maxAbsDiff(tf.reshape(stage, recorded[name]!.shape), recorded[name]!)).toBe(0);
        });
      }),
    );
  });

  it('takes the last n stages for a number, the named ones (negative from the end) for an array, in stage order', () => {
    withModel((model) =>
      tf.tidy(() => {
        const x = tf.randomNormal([2, 64, 128, 3], 0, 1, 'float32', 5);
        const shapes = (indices: number | number[]) =>
          (model.forwardIntermediates(x, { indices }).intermediates as tf.Tensor[]).map((t) => t.shape);
        expect(shapes(2)).toEqual(STAGE_SHAPES.slice(2));
        expect(shapes(4)).toEqual(STAGE_SHAPES);
        expect(shapes([1])).toEqual([STAGE_SHAPES[1]]);
        expect(shapes([-1, 0])).toEqual([STAGE_SHAPES[0], STAGE_SHAPES[3]]);
        expect(shapes([2, -2])).toEqual([STAGE_SHAPES[2]]);
      }),
    );
  });

  it('applies the final norm to stage 4 only with norm: true, which then equals the features', () => {
    withModel((model) =>
      tf.tidy(() => {
        const x = tf.randomNormal([2, 64, 64, 3], 0, 1, 'float32', 6);
        const plain = model.forwardIntermediates(x, { indices: [0, 3] });
        const normed = model.forwardIntermediates(x, { indices: [0, 3], norm: true });
        const [p0, p3] = plain.intermediates as tf.Tensor[];
        const [n0, n3] = normed.intermediates as tf.Tensor[];
        expect(maxAbsDiff(n0!, p0!)).toBe(0);
        expect(maxAbsDiff(n3!, normed.features as tf.Tensor)).toBe(0);
        expect(maxAbsDiff(p3!, plain.features as tf.Tensor)).toBeGreaterThan(1e-3);
      }),
    );
  });

  it('names the index and the stage count when an index is out of range', () => {
    withModel((model) => {
      const x = tf.zeros([1, 64, 64, 3]);
      const call = (indices: number | number[]) => () => tf.tidy(() => model.forwardIntermediates(x, { indices }).features);
      expect(call([4])).toThrow(
        /CSWinTransformer.forwardIntermediates: index 4 is out of range for 4 stages \(use 0..3, or -4..-1 from the end\)/,
      );
      expect(call([0, -5])).toThrow(/index -5 is out of range for 4 stages/);
      expect(call(5)).toThrow(/indices 5 must be a whole number from 1 to 4 \(the last n of 4 stages\)/);
      expect(call(0)).toThrow(/indices 0 must be a whole number from 1 to 4/);
      expect(call([1.5])).toThrow(/index 1.5 is out of range/);
      expect(call([])).toThrow(/indices must be a number or a non-empty array/);
      x.dispose();
    });
  });

  it('resetClassifier puts in a zero head for the new class count, keeps the mode and leaks nothing', () => {
    withModel((model) => {
      const x = tf.randomNormal([2, 64, 64, 3], 0, 1, 'float32', 7);
      checkResetClassifier(model, x);
      model.resetClassifier(4);
      expect(model.stateShapes()['head.weight']).toEqual([4, 128]);
      x.dispose();
    });
  });
});
