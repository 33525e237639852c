import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClose, fixtureDir } from '../../../test-utils/index.js';
import { decodeSafetensors, prependToken, type StateDict, TransformerBlock } from '../src/index.js';

// vit_tiny's first block in isolation: from the fixture's patch_embed output,
// through class token and position embedding, to inter.blocks.0.
describe('TransformerBlock against timm (vit_tiny fixture)', () => {
  let weights: StateDict;
  let io: StateDict;
  beforeAll(async () => {
    weights = decodeSafetensors(new Uint8Array(await readFile(`${fixtureDir('vit_tiny')}/weights.safetensors`)));
    io = decodeSafetensors(new Uint8Array(await readFile(`${fixtureDir('vit_tiny')}/io.safetensors`)));
  });
  afterAll(() => tf.dispose([...Object.values(weights), ...Object.values(io)]));

  it('reproduces blocks.0 to 1e-4', () => {
    const block = new TransformerBlock(64, { numHeads: 2, mlpRatio: 4, qkvBias: true, eps: 1e-6 });
    const prefix = 'blocks.0.';
    const sd = Object.fromEntries(
      Object.entries(weights)
        .filter(([k]) => k.startsWith(prefix))
        .map(([k, v]) => [k.slice(prefix.length), v]),
    );
    block.loadStateDict(sd);
    block.eval();
    tf.tidy(() => {
      const tokens = tf.add(prependToken(io['inter.patch_embed']!, weights['cls_token']!), weights['pos_embed']!);
      expectClose(block.forward(tokens), io['inter.blocks.0']!, 1e-4);
    });
    expect(block.numParams()).toBe(TransformerBlock.cost(64, 65, { mlpRatio: 4 }).params);
    block.dispose();
  });

  it("frees each block's intermediates when it returns: peak memory does not grow with depth", async () => {
    const peakOf = async (depth: number) => {
      const blocks = Array.from({ length: depth }, () => new TransformerBlock(64, { numHeads: 2, mlpRatio: 4, eps: 1e-6 }).eval());
      const x = tf.randomNormal([4, 65, 64]);
      const profile = await tf.profile(() => {
        const y = tf.tidy(() => blocks.reduce((h, b) => b.forward(h), x));
        y.dispose();
      });
      x.dispose();
      for (const b of blocks) b.dispose();
      return profile.peakBytes;
    };
    const shallow = await peakOf(2);
    const deep = await peakOf(8);
    // Without a scope per block, 8 blocks hold about 4x the intermediates of 2.
    expect(deep / shallow).toBeLessThan(1.3);
  });
});
