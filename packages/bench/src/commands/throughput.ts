import * as tf from '@tensorflow/tfjs-core';
import { createOptimizer, localGradients, trainStep } from '@vitkit/core';
import { currentBackend, type DataParallel, type GpuAdapterInfo, initBackend, wasmHeapBytes } from '@vitkit/node';
import { InputError, type OptionsOf, UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { textTable } from '../format.js';
import { isPretrainedName, loadCommandModel, modelEntry } from '../model-loading.js';
import { replicaCount, startReplicas, WORKERS_OPTION } from '../replicas.js';
import { writeThroughputCsv } from '../throughput-csv.js';
import { ONNX_RUNTIME_OPTIONS, OnnxSession, resolveDevice, resolveRuntime, type Runtime } from '../onnx/session.js';
import { medianSeconds } from '../timing.js';

const OPTIONS = [
  {
    name: 'model',
    type: 'string',
    value: 'M',
    description: 'registered model name, or a pretrained one (NAME.TAG, hf-hub:ORG/REPO, local-dir:DIR)',
  },
  { name: 'compare', type: 'list', value: 'A,B', description: 'several models, one table' },
  { name: 'batch-size', type: 'number', value: 'B', description: 'batch size', default: 8 },
  { name: 'train', type: 'boolean', description: 'time training steps instead of inference' },
  { name: 'img-size', type: 'number', value: 'S', description: 'input size (models that accept it)' },
  { name: 'patch-size', type: 'number', value: 'P', description: 'patch size (ViT-style models)' },
  { name: 'num-classes', type: 'number', value: 'N', description: 'classifier size' },
  { name: 'runs', type: 'number', value: 'R', description: 'timed runs', default: 5 },
  { name: 'warmup', type: 'number', value: 'W', description: 'untimed runs first', default: 2 },
  WORKERS_OPTION,
  { name: 'csv', type: 'string', value: 'FILE', description: "also write timm benchmark.py's columns to FILE" },
  ...ONNX_RUNTIME_OPTIONS,
] as const;

export type ThroughputOptions = OptionsOf<typeof OPTIONS>;

export interface ThroughputCase {
  model: string;
  mode: 'infer' | 'train';
  batch: number;
  img_size: number;
  images_per_s: number;
  median_s: number;
  /** Multiply-accumulates of one forward pass of one image. */
  macs_per_image: number;
  params: number;
  /** Multiply-accumulates per second of the forward pass (x3 for a training step). */
  gmacs_per_s: number;
  /** Data-parallel replicas the batch was split over (see --workers). */
  replicas: number;
  /** Largest WebAssembly heap of any replica at the end, in bytes (null on other backends): the heap only grows, so this is the peak. */
  heap_bytes: number | null;
  /** The same after the warm-up calls: equal to heap_bytes when memory does not grow over the timed calls. */
  heap_bytes_after_warmup: number | null;
  /** Tensors alive after the timed calls minus before them, on the main thread (0: nothing leaks). */
  tensor_growth: number;
  /** TensorFlow.js, or ONNX Runtime on the model's exported graph (--runtime onnx). */
  runtime: Runtime;
  /** The TF.js backend, or ONNX Runtime's version, device and threads. */
  backend: string;
  /** The WebGPU adapter the case ran on (null on other backends). */
  adapter: GpuAdapterInfo | null;
}

/** Times inference or AdamW training steps of one model on a random batch, split over `replicas`. */
export async function measureThroughput(name: string, options: ThroughputOptions, backend: string): Promise<ThroughputCase> {
  if (resolveRuntime(options.runtime) === 'onnx') return measureOnnxThroughput(name, options);
  const loaded = await loadCommandModel(
    name,
    { imgSize: options['img-size'], numClasses: options['num-classes'], extra: { patchSize: options['patch-size'] }, allowFresh: true },
    () => {},
  );
  const { model, inChannels: c } = loaded;
  const batch = options['batch-size'];
  const train = options.train;
  const [h, w] = model.imgSize;
  const shape: [number, number, number, number] = [batch, h, w, c];
  const random = tf.randomNormal(shape, 0, 1, 'float32', 7);
  const images = (await random.data()) as Float32Array;
  random.dispose();
  const optimizer = train ? createOptimizer('adamw', model, { weightDecay: 0.05 }) : null;
  let parallel: DataParallel | null = null;
  let step = 0;
  try {
    const replicas = replicaCount(options.workers, backend);
    parallel = await startReplicas(model, loaded.architecture, loaded.options, replicas);
    let call: () => Promise<void>;
    if (optimizer) {
      model.train();
      const grads = parallel?.gradients ?? localGradients(model);
      const hostBatch = { images, shape, labels: Int32Array.from({ length: batch }, (_, i) => i % model.numClasses) };
      call = async () => {
        await trainStep(grads, optimizer, hostBatch, { lr: 1e-4, step: step++ });
      };
    } else {
      model.eval();
      call = async () => {
        const y = parallel ? await parallel.predict(images, shape) : tf.tidy(() => model.forward(tf.tensor4d(images, shape)));
        await y.data();
        y.dispose();
      };
    }
    const heap = () => {
      const mine = wasmHeapBytes();
      return mine === null ? null : Math.max(mine, parallel?.workerHeapBytes ?? 0);
    };
    const warmup = options.warmup;
    for (let i = 0; i < warmup; i++) await call();
    const heapAfterWarmup = heap();
    const tensorsBefore = tf.memory().numTensors;
    const { median } = await medianSeconds(call, options.runs, 0);
    const complexity = model.complexity();
    const macs = complexity.macs * batch * (train ? 3 : 1);
    return {
      model: name,
      mode: train ? 'train' : 'infer',
      batch,
      img_size: h,
      images_per_s: batch / median,
      median_s: median,
      macs_per_image: complexity.macs,
      params: complexity.params,
      gmacs_per_s: macs / median / 1e9,
      replicas,
      heap_bytes: heap(),
      heap_bytes_after_warmup: heapAfterWarmup,
      tensor_growth: tf.memory().numTensors - tensorsBefore,
      runtime: 'tfjs',
      backend,
      adapter: currentBackend()?.gpu ?? null,
    };
  } finally {
    await parallel?.close();
    optimizer?.dispose();
    model.dispose();
  }
}

/** Inference of the model's exported graph in ONNX Runtime (one session, every core as intra-op threads). */
async function measureOnnxThroughput(name: string, options: ThroughputOptions): Promise<ThroughputCase> {
  const loaded = await loadCommandModel(
    name,
    { imgSize: options['img-size'], numClasses: options['num-classes'], extra: { patchSize: options['patch-size'] }, allowFresh: true },
    () => {},
  );
  const { model, inChannels: c } = loaded;
  model.eval();
  let session: OnnxSession | null = null;
  try {
    session = await OnnxSession.forModel(loaded.architecture, model, {
      device: resolveDevice(options.device, 'onnx'),
      cacheDir: options['cache-dir'],
    });
    const batch = options['batch-size'];
    const [h, w] = model.imgSize;
    const shape: [number, number, number, number] = [batch, c, h, w];
    const random = tf.randomNormal(shape, 0, 1, 'float32', 7);
    const images = (await random.data()) as Float32Array;
    random.dispose();
    const open = session;
    const call = async () => {
      await open.run(images, shape);
    };
    for (let i = 0; i < options.warmup; i++) await call();
    const { median } = await medianSeconds(call, options.runs, 0);
    const complexity = model.complexity();
    return {
      model: name,
      mode: 'infer',
      batch,
      img_size: h,
      images_per_s: batch / median,
      median_s: median,
      gmacs_per_s: (complexity.macs * batch) / median / 1e9,
      macs_per_image: complexity.macs,
      params: complexity.params,
      adapter: null,
      replicas: 1,
      heap_bytes: null,
      heap_bytes_after_warmup: null,
      tensor_growth: 0,
      runtime: 'onnx',
      backend: session.description,
    };
  } finally {
    await session?.release();
    model.dispose();
  }
}

export const throughput = defineCommand({
  name: 'throughput',
  summary: 'images/s for inference or training steps (median of timed runs after warm-up)',
  usage:
    'vitkit throughput --model M [--batch-size B] [--train] [--img-size S] [--patch-size P] [--num-classes N] [--compare A,B,...] [--runtime tfjs|onnx] [--json]',
  details:
    'Random inputs; a training step is forward, backward and an AdamW update. The batch is split over\n' +
    'data-parallel replicas as vitkit train and eval do (--workers). The heap column is the largest\n' +
    'WebAssembly heap of any replica (the heap only grows: it is the peak). --compare times several models\n' +
    'with the same settings and prints one table. Timings are noisy on shared machines: compare ratios\n' +
    'within one run. --runtime onnx (or VITKIT_RUNTIME=onnx) times the model exported to ONNX (cached in\n' +
    '--cache-dir) in ONNX Runtime with every core as intra-op threads; --device cuda where its CUDA build is present.',
  options: OPTIONS,
  async run({ options }, io) {
    const names = options.compare ?? (options.model ? [options.model] : []);
    if (names.length === 0) throw new UsageError('throughput needs --model or --compare');
    if (!(options['batch-size'] >= 1) || !(options.runs >= 1)) throw new UsageError('--batch-size and --runs must be at least 1');
    for (const name of names) if (!isPretrainedName(name)) modelEntry(name);
    const runtime = resolveRuntime(options.runtime);
    resolveDevice(options.device, runtime);
    if (runtime === 'onnx' && options.train) throw new UsageError('--runtime onnx times inference only: training runs on TensorFlow.js');
    const { backend } = await initBackend({ quiet: true });
    const cases: ThroughputCase[] = [];
    for (const name of names) {
      io.progress(`timing ${name} (${options.train ? 'train' : 'infer'}, batch ${options['batch-size']}, ${runtime})...`);
      cases.push(await measureThroughput(name, options, backend));
    }
    const mib = (b: number | null) => (b === null ? 'n/a' : Math.round(b / 2 ** 20));
    const lines = textTable(
      ['model', 'mode', 'batch', 'img', 'images/s', 'GMAC/s', 'replicas', 'heap MiB', 'backend'],
      cases.map((r) => [
        r.model,
        r.mode,
        r.batch,
        r.img_size,
        Number(r.images_per_s.toFixed(2)),
        Number(r.gmacs_per_s.toFixed(2)),
        r.replicas,
        mib(r.heap_bytes),
        r.backend,
      ]),
    );
    const { csv } = options;
    if (csv) {
      await writeThroughputCsv(csv, cases).catch((e: Error) => {
        throw new InputError(`--csv ${csv}: ${e.message}`);
      });
      lines.push(`timm benchmark columns: ${csv}`);
    }
    return { ok: true, lines, data: options.compare ? cases : cases[0] };
  },
});
