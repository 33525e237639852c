import * as tf from '@tensorflow/tfjs-core';
import { createOptimizer, getModelEntry, localGradients, trainStep } from '@vitkit/core';
import { initBackend } from '@vitkit/core/node';
import { type ParsedOptions, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { textTable } from '../format.js';
import '../register-models.js';
import { medianSeconds } from '../timing.js';
import { buildModel } from './train.js';

export interface ThroughputCase {
  model: string;
  mode: 'infer' | 'train';
  batch: number;
  img_size: number;
  images_per_s: number;
  median_s: number;
  /** Multiply-accumulates per second of the forward pass (x3 for a training step). */
  gmacs_per_s: number;
  /** Peak bytes held by tensors during one timed call (tf.profile). */
  peak_bytes: number;
  backend: string;
}

/** Times inference or AdamW training steps of one model on a random batch. */
export async function measureThroughput(name: string, options: ParsedOptions, backend: string): Promise<ThroughputCase> {
  const model = buildModel(name, {
    imgSize: options['img-size'] as number | undefined,
    patchSize: options['patch-size'] as number | undefined,
    numClasses: options['num-classes'] as number | undefined,
  });
  const batch = options['batch'] as number;
  const train = Boolean(options['train']);
  const [h, w] = model.imgSize;
  const c = getModelEntry(name).defaults.inChannels;
  const x = tf.randomNormal([batch, h, w, c], 0, 1, 'float32', 7) as tf.Tensor4D;
  const optimizer = train ? createOptimizer('adamw', model, { weightDecay: 0.05 }) : null;
  let step = 0;
  try {
    let call: () => Promise<void>;
    if (optimizer) {
      model.train();
      const grads = localGradients(model);
      const hostBatch = {
        images: x.dataSync() as Float32Array,
        shape: [batch, h, w, c] as [number, number, number, number],
        labels: Int32Array.from({ length: batch }, (_, i) => i % model.numClasses),
      };
      call = async () => {
        await trainStep(grads, optimizer, hostBatch, { lr: 1e-4, step: step++ });
      };
    } else {
      model.eval();
      call = async () => {
        const y = tf.tidy(() => model.forward(x));
        await y.data();
        y.dispose();
      };
    }
    const runs = options['runs'] as number;
    const { median } = await medianSeconds(call, runs, options['warmup'] as number);
    const profile = await tf.profile(call);
    const macs = model.complexity().macs * batch * (train ? 3 : 1);
    return {
      model: name,
      mode: train ? 'train' : 'infer',
      batch,
      img_size: h,
      images_per_s: batch / median,
      median_s: median,
      gmacs_per_s: macs / median / 1e9,
      peak_bytes: profile.peakBytes,
      backend,
    };
  } finally {
    optimizer?.dispose();
    x.dispose();
    model.dispose();
  }
}

export const throughput: Command = {
  name: 'throughput',
  summary: 'images/s for inference or training steps (median of timed runs after warm-up)',
  usage: 'vitkit throughput --model M [--batch B] [--train] [--img-size S] [--patch-size P] [--num-classes N] [--compare A,B,...] [--json]',
  details:
    'Random inputs; a training step is forward, backward and an AdamW update. --compare times several models\n' +
    'with the same settings and prints one table. Timings are noisy on shared machines: compare ratios\n' +
    'within one run.',
  options: [
    { name: 'model', type: 'string', value: 'M', description: 'registered model name' },
    { name: 'compare', type: 'list', value: 'A,B', description: 'several models, one table' },
    { name: 'batch', type: 'number', value: 'B', description: 'batch size', default: 8 },
    { name: 'train', type: 'boolean', description: 'time training steps instead of inference' },
    { name: 'img-size', type: 'number', value: 'S', description: 'input size (models that accept it)' },
    { name: 'patch-size', type: 'number', value: 'P', description: 'patch size (ViT-style models)' },
    { name: 'num-classes', type: 'number', value: 'N', description: 'classifier size' },
    { name: 'runs', type: 'number', value: 'R', description: 'timed runs', default: 5 },
    { name: 'warmup', type: 'number', value: 'W', description: 'untimed runs first', default: 2 },
  ],
  async run({ options }, io) {
    const names = (options['compare'] as string[] | undefined) ?? (options['model'] ? [options['model'] as string] : []);
    if (names.length === 0) throw new UsageError('throughput needs --model or --compare');
    if (!((options['batch'] as number) >= 1) || !((options['runs'] as number) >= 1)) throw new UsageError('--batch and --runs must be at least 1');
    const { backend } = await initBackend({ quiet: true });
    const cases: ThroughputCase[] = [];
    for (const name of names) {
      io.progress(`timing ${name} (${options['train'] ? 'train' : 'infer'}, batch ${options['batch']})...`);
      cases.push(await measureThroughput(name, options, backend));
    }
    const lines = textTable(
      ['model', 'mode', 'batch', 'img', 'images/s', 'GMAC/s', 'peak MiB', 'backend'],
      cases.map((r) => [r.model, r.mode, r.batch, r.img_size, Number(r.images_per_s.toFixed(2)), Number(r.gmacs_per_s.toFixed(2)), Number((r.peak_bytes / 2 ** 20).toFixed(1)), r.backend]),
    );
    return { ok: true, lines, data: options['compare'] ? cases : cases[0] };
  },
};
