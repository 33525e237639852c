import * as tf from '@tensorflow/tfjs-core';
import { canExplainAttention, getModelEntry, getReferenceAdapter } from '@vitkit/core';
import { initBackend, loadSafetensors, writeFileAtomic } from '@vitkit/core/node';
import { InputError, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { loadImageForModel } from '../image-input.js';
import '../register-models.js';
import { renderHeatmaps } from '../render/heatmap.js';
import { buildModel } from './train.js';

export const attention: Command = {
  name: 'attention',
  summary: 'draw attention heat maps over an image (per head of a layer, or rollout)',
  usage: 'vitkit attention --model M [--checkpoint C] --image FILE [--layer L | --rollout] --out FILE.png [--json]',
  details:
    'Per-head maps of the class token over the patch grid at block L (default the last; negative counts from\n' +
    'the end), or attention rollout through all blocks (Abnar & Zuidema 2020). For CrossViT, each class\n' +
    "token's cross-attention over the other branch. The PNG has one row per map group: the image, then the maps.",
  options: [
    { name: 'model', type: 'string', value: 'M', description: 'registered model name' },
    { name: 'checkpoint', type: 'string', value: 'C', description: 'safetensors weights (vitkit or reference names)' },
    { name: 'image', type: 'string', value: 'FILE', description: 'input image (png, jpg, webp)' },
    { name: 'layer', type: 'number', value: 'L', description: 'block whose heads to draw' },
    { name: 'rollout', type: 'boolean', description: 'attention rollout instead of one layer' },
    { name: 'out', type: 'string', value: 'FILE.png', description: 'where to write the picture' },
  ],
  async run({ options }) {
    const name = options['model'] as string | undefined;
    const imagePath = options['image'] as string | undefined;
    const out = options['out'] as string | undefined;
    if (!name || !imagePath || !out) throw new UsageError('attention needs --model, --image and --out');
    if (options['rollout'] && options['layer'] !== undefined) throw new UsageError('choose one of --layer and --rollout');
    await initBackend({ quiet: true });
    const model = buildModel(name, {});
    const entry = getModelEntry(name);
    try {
      if (!canExplainAttention(model)) {
        throw new InputError(`${name}: family '${entry.defaults.family}' has no class-token attention to draw`);
      }
      const checkpoint = options['checkpoint'] as string | undefined;
      if (checkpoint) {
        const sd = await loadSafetensors(checkpoint).catch((e: Error) => {
          throw new InputError(e.message);
        });
        try {
          model.loadStateDict(getReferenceAdapter(entry.defaults.family, entry.defaults.implementation).convertStateDict(sd), {
            context: checkpoint,
          });
        } catch (e) {
          throw new InputError((e as Error).message);
        } finally {
          tf.dispose(Object.values(sd));
        }
      }
      model.eval();
      const size = model.imgSize[0];
      const { rgb, x } = await loadImageForModel(imagePath, entry.defaults, size);
      const layer = options['layer'] as number | undefined;
      const { logits, groups } = model.explainAttention(x, {
        rollout: Boolean(options['rollout']),
        ...(layer === undefined ? {} : { layer }),
      });
      const rows = groups.map((g) => {
        const [, k, gh, gw] = g.maps.shape as number[];
        const data = g.maps.dataSync() as Float32Array;
        const cell = gh! * gw!;
        return { panels: Array.from({ length: k! }, (_, i) => ({ values: data.slice(i * cell, (i + 1) * cell), grid: g.grid })) };
      });
      const png = await renderHeatmaps(rgb, size, rows);
      await writeFileAtomic(out, png);
      const probabilities = tf.tidy(() => tf.softmax(logits).dataSync());
      const top = [...probabilities]
        .map((p, i) => ({ class: i, probability: p }))
        .sort((a, b) => b.probability - a.probability)
        .slice(0, 5);
      const summary = groups.map((g) => ({ title: g.title, grid: g.grid, maps: g.labels }));
      tf.dispose([x, logits, ...groups.map((g) => g.maps)]);
      const lines = [
        `wrote ${out}: ${rows.length} row(s) of ${size}x${size} panels`,
        ...summary.map((g) => `  ${g.title}: ${g.maps.length} map(s) over a ${g.grid[0]}x${g.grid[1]} grid`),
        `top class ${top[0]!.class} (p = ${top[0]!.probability.toFixed(3)})`,
      ];
      return { ok: true, lines, data: { out, model: name, image: imagePath, size, groups: summary, top5: top } };
    } finally {
      model.dispose();
    }
  },
};
