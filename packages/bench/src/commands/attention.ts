import * as tf from '@tensorflow/tfjs-core';
import { canExplainAttention } from '@vitkit/core';
import { initBackend, writeFileAtomic } from '@vitkit/node';
import { InputError, UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { loadImageForModel } from '../image-input.js';
import { CHECKPOINT_OPTION, loadCommandModel, MODEL_OPTION, modelEntry, NUM_CLASSES_OPTION } from '../model-loading.js';
import { renderHeatmaps } from '../render/heatmap.js';

export const attention = defineCommand({
  name: 'attention',
  summary: 'draw attention heat maps over an image (per head of a layer, or rollout)',
  usage:
    'vitkit attention --model NAME|NAME.TAG|hf-hub:ORG/REPO|local-dir:DIR [--checkpoint FILE|DIR] --image FILE [--layer L | --rollout] --out FILE.png [--json]',
  details:
    'Per-head maps of the class token over the patch grid at block L (default the last; negative counts from\n' +
    'the end), or attention rollout through all blocks (Abnar & Zuidema 2020). For CrossViT, each class\n' +
    "token's cross-attention over the other branch. The PNG has one row per map group: the image, then the maps.",
  options: [
    MODEL_OPTION,
    { ...CHECKPOINT_OPTION, required: false, description: `${CHECKPOINT_OPTION.description}; fresh weights when absent` },
    NUM_CLASSES_OPTION,
    { name: 'image', type: 'string', value: 'FILE', description: 'input image (png, jpg, webp)', required: true },
    { name: 'layer', type: 'number', value: 'L', description: 'block whose heads to draw' },
    { name: 'rollout', type: 'boolean', description: 'attention rollout instead of one layer' },
    { name: 'out', type: 'string', value: 'FILE.png', description: 'where to write the picture', required: true },
  ],
  async run({ options }, io) {
    const { model: name, image: imagePath, out } = options;
    if (options.rollout && options.layer !== undefined) throw new UsageError('choose one of --layer and --rollout');
    await initBackend({ quiet: true });
    const loaded = await loadCommandModel(
      name,
      { checkpoint: options.checkpoint, numClasses: options['num-classes'], allowFresh: true },
      io.progress,
    );
    const { model } = loaded;
    try {
      if (!canExplainAttention(model)) {
        throw new InputError(`${name}: family '${modelEntry(loaded.architecture).defaults.family}' has no class-token attention to draw`);
      }
      model.eval();
      const size = model.imgSize[0];
      const { rgb, x } = await loadImageForModel(imagePath, loaded.evalConfig);
      const layer = options.layer;
      const { logits, groups } = model.explainAttention(x, {
        rollout: options.rollout,
        ...(layer === undefined ? {} : { layer }),
      });
      const rows = await Promise.all(
        groups.map(async (g) => {
          const [, k, gh, gw] = g.maps.shape as number[];
          const data = (await g.maps.data()) as Float32Array;
          const cell = gh! * gw!;
          return { panels: Array.from({ length: k! }, (_, i) => ({ values: data.slice(i * cell, (i + 1) * cell), grid: g.grid })) };
        }),
      );
      const png = await renderHeatmaps(rgb, size, rows);
      await writeFileAtomic(out, png);
      const softmax = tf.softmax(logits);
      const probabilities = await softmax.data();
      softmax.dispose();
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
});
