// The ONNX runtime of the inference commands: a registered model exported
// once into a cache keyed by a hash of its configuration and weights, then run
// by onnxruntime-node. Training stays on TF.js.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { type BatchForward, exportOnnx, hwcToChw, type ImageClassifier, ONNX_INPUT, ONNX_OUTPUT } from '@vitkit/core';
import { writeFileAtomic } from '@vitkit/node';
import { InputError, type OptionSpec, UsageError } from '../args.js';
import { encodeOnnx } from './encode.js';
import { loadOnnxRuntime, type OnnxRuntime, onnxRuntimePackageDir } from './runtime.js';

export type Runtime = 'tfjs' | 'onnx';
export type OnnxDevice = 'cpu' | 'cuda';

const RUNTIME_OPTION = {
  name: 'runtime',
  type: 'string',
  value: 'tfjs|onnx',
  description: 'inference runtime: TensorFlow.js (default) or ONNX Runtime (default: $VITKIT_RUNTIME)',
} as const satisfies OptionSpec;

const DEVICE_OPTION = {
  name: 'device',
  type: 'string',
  value: 'cpu|cuda',
  description: "ONNX Runtime's execution provider (cuda needs onnxruntime-node's CUDA build)",
} as const satisfies OptionSpec;

const CACHE_DIR_OPTION = {
  name: 'cache-dir',
  type: 'string',
  value: 'DIR',
  description: 'where --runtime onnx keeps exported models (default ~/.cache/vitkit/onnx)',
} as const satisfies OptionSpec;

/** The options of a command that can run inference on ONNX Runtime. */
export const ONNX_RUNTIME_OPTIONS = [RUNTIME_OPTION, DEVICE_OPTION, CACHE_DIR_OPTION] as const;

/** --runtime, else $VITKIT_RUNTIME, else tfjs. */
export function resolveRuntime(option: string | undefined): Runtime {
  const value = option ?? process.env['VITKIT_RUNTIME'] ?? 'tfjs';
  if (value !== 'tfjs' && value !== 'onnx') {
    const from = option === undefined ? 'VITKIT_RUNTIME' : '--runtime';
    throw new UsageError(`${from} must be tfjs or onnx (got '${value}')`);
  }
  return value;
}

export function resolveDevice(option: string | undefined, runtime: Runtime): OnnxDevice {
  const value = option ?? 'cpu';
  if (value !== 'cpu' && value !== 'cuda') throw new UsageError(`--device must be cpu or cuda (got '${value}')`);
  if (value === 'cuda' && runtime !== 'onnx') throw new UsageError('--device cuda needs --runtime onnx');
  return value;
}

/** The cache folder: --cache-dir, else $XDG_CACHE_HOME/vitkit/onnx, else ~/.cache/vitkit/onnx. */
function onnxCacheDir(option: string | undefined): string {
  return option ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'vitkit', 'onnx');
}

/**
 * The ONNX file of an evaluation-mode model with a dynamic batch: from the
 * cache when its key (the model name, input size, classes, opset and every
 * state-dict tensor's name, shape and bytes) is there, else exported now.
 */
export async function cachedOnnxFile(name: string, model: ImageClassifier, cacheDir: string): Promise<{ file: string; cached: boolean }> {
  const opset = 17;
  const hash = createHash('sha256');
  // `exporter` versions the graphs the lowerings write: raise it when one changes, so no stale file is reused.
  hash.update(JSON.stringify({ name, imgSize: model.imgSize, numClasses: model.numClasses, opset, exporter: 1 }));
  const sd = model.stateDict();
  try {
    for (const key of Object.keys(sd).sort()) {
      const t = sd[key]!;
      hash.update(`${key}:${t.dtype}[${t.shape.join(',')}]`);
      const data = t.dataSync();
      hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  } finally {
    for (const t of Object.values(sd)) t.dispose();
  }
  const file = join(cacheDir, `${name}-${hash.digest('hex').slice(0, 16)}.onnx`);
  if (existsSync(file)) return { file, cached: true };
  mkdirSync(dirname(file), { recursive: true });
  await writeFileAtomic(file, encodeOnnx(exportOnnx(model, { opset, dynamicBatch: true })));
  return { file, cached: false };
}

/** A model in ONNX Runtime: NCHW float32 images in, logits out. */
export class OnnxSession {
  private constructor(
    private readonly ort: OnnxRuntime,
    private readonly session: Awaited<ReturnType<OnnxRuntime['InferenceSession']['create']>>,
    /** e.g. 'onnxruntime-node 1.30.0 cpu, 2 threads'. */
    readonly description: string,
  ) {}

  /** Opens `file` with every core as intra-op threads (ONNX Runtime parallelises inside each op). */
  static async open(file: string, device: OnnxDevice): Promise<OnnxSession> {
    const ort = loadOnnxRuntime();
    if (device === 'cuda') assertCudaBuild();
    const threads = availableParallelism();
    const session = await ort.InferenceSession.create(file, {
      executionProviders: [device],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    return new OnnxSession(ort, session, `onnxruntime-node ${ort.env.versions.common} ${device}, ${threads} threads`);
  }

  /** A registered model's session: its cached export (exported now if missing) on `device`. */
  static async forModel(name: string, model: ImageClassifier, options: { device: OnnxDevice; cacheDir?: string }): Promise<OnnxSession> {
    const { file } = await cachedOnnxFile(name, model, onnxCacheDir(options.cacheDir));
    return OnnxSession.open(file, options.device);
  }

  /** images: NCHW [B, C, H, W] -> logits [B, classes] (row-major). */
  async run(images: Float32Array, shape: [number, number, number, number]): Promise<Float32Array> {
    const out = await this.session.run({ [ONNX_INPUT]: new this.ort.Tensor('float32', images, shape) });
    return out[ONNX_OUTPUT]!.data as Float32Array;
  }

  /** evaluate()'s forward on this session: each batch of NHWC images run as NCHW, its logits as a tensor. */
  batchForward(): BatchForward {
    return async (images, [b, h, w, c]) => {
      const size = h * w * c;
      const nchw = new Float32Array(images.length);
      for (let i = 0; i < b; i++) nchw.set(hwcToChw(images.subarray(i * size, (i + 1) * size), h, w, c), i * size);
      const logits = await this.run(nchw, [b, c, h, w]);
      return tf.tensor2d(logits, [b, logits.length / b]);
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** onnxruntime-node's CUDA provider library ships only when its install script fetched it. */
function assertCudaBuild(): void {
  const bin = join(onnxRuntimePackageDir(), 'bin');
  const found = existsSync(bin) && findFile(bin, 'libonnxruntime_providers_cuda.so');
  if (!found) {
    throw new InputError(
      `--device cuda: onnxruntime-node's CUDA build is not installed (no libonnxruntime_providers_cuda.so under ${bin}); ` +
        'its install script, denied in package.json, fetches it from outside the npm registry: approve it ' +
        '(npm install-scripts approve onnxruntime-node) and reinstall where that network is reachable',
    );
  }
}

function findFile(dir: string, name: string): boolean {
  return readdirSync(dir, { withFileTypes: true }).some((e) => (e.isDirectory() ? findFile(join(dir, e.name), name) : e.name === name));
}
