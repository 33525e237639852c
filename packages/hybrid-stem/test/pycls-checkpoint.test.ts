import * as tf from '@tensorflow/tfjs-core';
import type { StateDict } from '@vitkit/core';
import { loadSafetensors } from '@vitkit/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureDir } from '../../../test-utils/index.js';
import { fromPyclsParams, fromPyclsStateDict, toPyclsStateDict } from '../src/index.js';

describe.each(['vitc_tiny', 'vitp_tiny'])('pycls checkpoints in both directions (%s)', (name) => {
  let weights: StateDict;
  let args: Record<string, unknown>;
  beforeAll(async () => {
    weights = await loadSafetensors(`${fixtureDir(name)}/weights.safetensors`);
    const { readFile } = await import('node:fs/promises');
    args = JSON.parse(await readFile(`${fixtureDir(name)}/config.json`, 'utf8')).reference_args;
  });
  afterAll(() => tf.dispose(Object.values(weights)));

  it('loads pycls names strictly and saves them back unchanged', () => {
    const model = fromPyclsParams(args);
    const ours = fromPyclsStateDict(weights);
    const created = Object.values(ours).filter((t) => !Object.values(weights).includes(t));
    try {
      model.loadStateDict(ours);
      const keys = Object.keys(model.stateShapes());
      expect(keys).toContain('pos_embed');
      expect(keys).toContain('blocks.0.attn.qkv.weight');
      expect(keys.some((k) => k.startsWith('encoder.') || k.startsWith('stem.'))).toBe(false);

      const back = model.stateDict();
      const pycls = toPyclsStateDict(back);
      expect(Object.keys(pycls).sort()).toEqual(Object.keys(weights).sort());
      for (const [key, want] of Object.entries(weights)) {
        const got = pycls[key]!;
        expect(got.shape, key).toEqual(want.shape);
        expect(got.dtype, key).toBe(want.dtype);
        expect(Array.from(got.dataSync()), key).toEqual(Array.from(want.dataSync()));
      }
      tf.dispose([...Object.values(back), ...Object.values(pycls)]);
    } finally {
      tf.dispose(created);
      model.dispose();
    }
  });

  it('keeps the BatchNorm counters of the file (I64 on disk, int32 here)', () => {
    const bn = Object.keys(weights).filter((k) => k.endsWith('num_batches_tracked'));
    expect(bn.length).toBe(name === 'vitc_tiny' ? 2 : 0);
    if (bn.length === 0) return;
    const model = fromPyclsParams(args);
    const ours = fromPyclsStateDict(weights);
    model.loadStateDict(ours);
    for (const key of bn) {
      const buffer = model.namedBuffers().find(([n]) => n === key.replace(/^stem\./, 'patch_embed.'))![1];
      expect(buffer.dtype).toBe('int32');
      expect(buffer.dataSync()[0]).toBe(weights[key]!.dataSync()[0]);
    }
    tf.dispose(Object.values(ours).filter((t) => !Object.values(weights).includes(t)));
    model.dispose();
  });
});
