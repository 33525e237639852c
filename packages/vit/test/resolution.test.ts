import * as tf from '@tensorflow/tfjs-core';
import { loadWeights, resamplePositionEmbedding, type StateDict } from '@vitkit/core';
import { describe, expect, it } from 'vitest';
import { expectClose, maxAbsDiff } from '../../../test-utils/index.js';
import { VisionTransformer, type VisionTransformerOptions } from '../src/index.js';

const tiny: VisionTransformerOptions = { patchSize: 4, embedDim: 32, depth: 2, numHeads: 2, numClasses: 5 };

const load = (model: VisionTransformer, sd: StateDict, options: { checkpointGrids?: Record<string, [number, number]> } = {}) =>
  loadWeights(model, sd, { family: 'vit', source: 'vit.safetensors', ...options });

function checkpointAt(imgSize: number): StateDict {
  const source = new VisionTransformer({ ...tiny, imgSize });
  const sd = source.stateDict();
  source.dispose();
  return sd;
}

describe('position-embedding resampling when loading at another image size', () => {
  it('is the identity when the grid does not change', () => {
    const pe = tf.randomNormal([1, 17, 32]);
    const same = resamplePositionEmbedding(pe, [4, 4], [4, 4], { prefixTokens: 1 });
    expect(maxAbsDiff(same, pe)).toBe(0);

    const sd = checkpointAt(16);
    const model = new VisionTransformer({ ...tiny, imgSize: 16 });
    const report = load(model, sd);
    expect(report.resampled).toEqual([]);
    expect(report.notes).toEqual([]);
    expect(maxAbsDiff(model.posEmbed, sd['pos_embed']!)).toBe(0);
    tf.dispose([pe, same, ...Object.values(sd)]);
    model.dispose();
  });

  it('loads a 16 px (4x4 grid) checkpoint into a 32 px model, says so, and runs', () => {
    const sd = checkpointAt(16);
    const model = new VisionTransformer({ ...tiny, imgSize: 32 });
    const report = load(model, sd);
    expect(report.resampled).toEqual([{ key: 'pos_embed', from: [4, 4], to: [8, 8] }]);
    expect(report.notes.join()).toMatch(/pos_embed resampled bicubically from a 4x4 to a 8x8 token grid/);
    expect(model.posEmbed.shape).toEqual([1, 65, 32]);
    // The class token's entry is kept as it was; the grid part is timm's bicubic resample.
    tf.tidy(() => {
      expect(maxAbsDiff(tf.slice(model.posEmbed, [0, 0, 0], [1, 1, 32]), tf.slice(sd['pos_embed']!, [0, 0, 0], [1, 1, 32]))).toBe(0);
      expectClose(model.posEmbed, resamplePositionEmbedding(sd['pos_embed']!, [4, 4], [8, 8], { prefixTokens: 1 }), 0);
      expect(maxAbsDiff(model.getSubmodule('blocks.1.mlp.fc2').stateDict()['weight']!, sd['blocks.1.mlp.fc2.weight']!)).toBe(0);
    });
    model.eval();
    const y = tf.tidy(() => model.forward(tf.randomNormal([3, 32, 32, 3])));
    expect(y.shape).toEqual([3, 5]);
    expect(Number.isFinite(tf.sum(y).dataSync()[0]!)).toBe(true);
    tf.dispose([y, ...Object.values(sd)]);
    model.dispose();
  });

  it('interpolates as PyTorch bicubic (a = -0.75, align_corners False)', () => {
    // A 2x2 grid whose values rise 0 -> 1 along the width, resampled to 4x4:
    // every row becomes F.interpolate([0, 1], 4, 'bicubic') = [-0.10546875, 0.2265625, 0.7734375, 1.10546875].
    const cls = tf.fill([1, 1, 1], 7);
    const grid = tf.tensor3d([0, 1, 0, 1], [1, 4, 1]);
    const pe = tf.concat([cls, grid], 1);
    const out = resamplePositionEmbedding(pe, [2, 2], [4, 4], { prefixTokens: 1 });
    const row = [-0.10546875, 0.2265625, 0.7734375, 1.10546875];
    const values = Array.from(out.dataSync());
    expect(values[0]).toBe(7);
    values.slice(1).forEach((v, i) => {
      expect(v).toBeCloseTo(row[i % 4]!, 6);
    });
    tf.dispose([cls, grid, pe, out]);
  });

  it('asks for the grid of a non-square checkpoint and refuses an image the position embedding does not cover', () => {
    const source = new VisionTransformer({ ...tiny, imgSize: [16, 32] });
    const sd = source.stateDict();
    const model = new VisionTransformer({ ...tiny, imgSize: 32 });
    expect(() => load(model, sd)).toThrow(
      /vit.safetensors: 'pos_embed' \[1, 33, 32\] has 32 entries after 1 prefix token\(s\), not a square grid.*checkpointGrids/,
    );
    expect(load(model, sd, { checkpointGrids: { pos_embed: [4, 8] } }).resampled).toEqual([{ key: 'pos_embed', from: [4, 8], to: [8, 8] }]);
    expect(() => tf.tidy(() => model.forward(tf.zeros([1, 16, 16, 3])))).toThrow(
      /4x4 token grid, but the position embedding covers 8x8.*loadWeights/,
    );
    tf.dispose(Object.values(sd));
    source.dispose();
    model.dispose();
  });

  it('still reports a checkpoint that does not fit in other ways', () => {
    const sd = checkpointAt(16);
    const model = new VisionTransformer({ ...tiny, imgSize: 32, depth: 1 });
    expect(() => load(model, sd)).toThrow(/unexpected keys \(12\): blocks\.1\./);
    tf.dispose(Object.values(sd));
    model.dispose();
  });
});
