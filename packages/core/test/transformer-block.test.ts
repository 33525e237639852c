import * as tf from '@tensorflow/tfjs-core';
import { loadSafetensors } from '@vitkit/core/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClose, fixtureDir } from '../../../test-utils/index.js';
import { prependToken, type StateDict, TransformerBlock } from '../src/index.js';

// vit_tiny's first block in isolation: from the fixture's patch_embed output,
// through class token and position embedding, to inter.blocks.0.
describe('TransformerBlock against timm (vit_tiny fixture)', () => {
  let weights: StateDict;
  let io: StateDict;
  beforeAll(async () => {
    weights = await loadSafetensors(`${fixtureDir('vit_tiny')}/weights.safetensors`);
    io = await loadSafetensors(`${fixtureDir('vit_tiny')}/io.safetensors`);
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
});
