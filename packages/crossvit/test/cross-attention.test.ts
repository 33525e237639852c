import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { getReferenceAdapter, prependToken, type StateDict } from '@vitkit/core';
import { loadSafetensors } from '@vitkit/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClose, fixtureDir } from '../../../test-utils/index.js';
import type { CrossViT } from '../src/index.js';
import '../src/index.js';

// Cross-attention maps on request: which tokens of the other branch each
// class token reads, in every encoder. Checked against a recomputation from
// the fixture's weights and its patch_embed outputs.
describe('cross-attention maps (crossvit_tiny fixture)', () => {
  let weights: StateDict;
  let io: StateDict;
  let model: CrossViT;
  beforeAll(async () => {
    const dir = fixtureDir('crossvit_tiny');
    weights = await loadSafetensors(`${dir}/weights.safetensors`);
    io = await loadSafetensors(`${dir}/io.safetensors`);
    const adapter = getReferenceAdapter('crossvit');
    model = adapter.fromReferenceConfig(JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')).reference_args) as CrossViT;
    model.loadStateDict(weights);
    model.eval();
  });
  afterAll(() => {
    model.dispose();
    tf.dispose([...Object.values(weights), ...Object.values(io)]);
  });

  const input = () => tf.transpose(io['input']!, [0, 2, 3, 1]) as tf.Tensor4D;

  it('returns [B, heads, 1 + other branch patches] probabilities per encoder and branch, logits unchanged', () => {
    tf.tidy(() => {
      const { logits, crossAttention } = model.forwardWithCrossAttention(input());
      expectClose(logits, io['logits']!, 1e-4);
      expect(crossAttention.length).toBe(2);
      for (const stage of crossAttention) {
        // Branch 0's class token (width 32 -> 64) reads branch 1's 2x2 patches; branch 1's reads branch 0's 4x4.
        expect(stage.map((layers) => layers.map((m) => m.shape))).toEqual([[[2, 2, 5]], [[2, 2, 17]]]);
        for (const [m] of stage) expectClose(tf.sum(m!, -1), tf.onesLike(tf.sum(m!, -1)), 1e-6);
      }
    });
  });

  it('equals softmax(q k^T * head_dim^-0.5) of the projected class token, recomputed from the weights', () => {
    tf.tidy(() => {
      const { crossAttention } = model.forwardWithCrossAttention(input());
      // Encoder 0's input per branch, from the fixture's patch embeddings.
      const tokens = [0, 1].map((i) =>
        tf.add(prependToken(io[`inter.patch_embed.${i}`]!, weights[`cls_token.${i}`]!), weights[`pos_embed.${i}`]!),
      );
      const stage = model.blocks.items[0]!;
      const afterBlocks = tokens.map((t, i) => stage.blocks.items[i]!.forward(t));
      const w = (k: string) => weights[`blocks.0.${k}`]!;
      const linear = (x: tf.Tensor, k: string) => tf.add(tf.matMul(x, w(`${k}.weight`), false, true), w(`${k}.bias`));
      const layerNorm = (x: tf.Tensor, k: string) => {
        const { mean, variance } = tf.moments(x, -1, true);
        return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-6))), w(`${k}.weight`)), w(`${k}.bias`));
      };
      for (const i of [0, 1]) {
        const j = 1 - i;
        const own = afterBlocks[i]!;
        const other = afterBlocks[j]!;
        const [b, , c] = own.shape as number[];
        const gelu = (x: tf.Tensor) => tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
        const query = linear(gelu(layerNorm(tf.slice(own, [0, 0, 0], [b!, 1, c!]), `projs.${i}.0`)), `projs.${i}.2`);
        const [, n, d] = other.shape as number[];
        const seq = layerNorm(tf.concat([query, tf.slice(other, [0, 1, 0], [b!, n! - 1, d!])], 1), `fusion.${i}.norm1`);
        const heads = 2;
        const q = tf.reshape(linear(tf.slice(seq, [0, 0, 0], [b!, 1, d!]), `fusion.${i}.attn.wq`), [b!, 1, heads, d! / heads]);
        const k = tf.reshape(linear(seq, `fusion.${i}.attn.wk`), [b!, n!, heads, d! / heads]);
        // [B, N, H]: per head, the dot product of the class-token query with every key.
        const scores = tf.mul(tf.sum(tf.mul(q, k), -1), (d! / heads) ** -0.5);
        const expected = tf.softmax(tf.transpose(scores, [0, 2, 1]), -1);
        expectClose(crossAttention[0]![i]![0]!, expected, 1e-5);
      }
    });
  });

  it('keeps nothing when not requested, and releases everything after a request', () => {
    const modules = model.blocks.items.flatMap((s) => s.crossAttentions().flat());
    expect(modules.length).toBe(4);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      model.forward(input());
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(modules.every((m) => m.attention === null)).toBe(true);
    const maps = tf.tidy(() => model.forwardWithCrossAttention(input()).crossAttention.flat(2));
    expect(tf.memory().numTensors).toBe(before + maps.length);
    expect(modules.every((m) => m.attention === null && !m.captureAttention)).toBe(true);
    tf.dispose(maps);
    expect(tf.memory().numTensors).toBe(before);
  });
});
