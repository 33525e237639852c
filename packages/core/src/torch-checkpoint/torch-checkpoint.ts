// PyTorch's zip checkpoints (torch.save since 1.6: PREFIX/data.pkl, the
// pickled object, and PREFIX/data/KEY, one entry per storage), read into a
// state dict without running any of the file's code (see unpickler.ts). The
// official releases nest the weights under `model`, `state_dict` or an EMA
// copy; DataParallel training prefixes every key with `module.`.
import * as tf from '@tensorflow/tfjs-core';
import { unzipSync } from 'fflate';
import type { StateDict } from '../module.js';
import { decodeLittleEndian, type SafetensorsDType } from '../safetensors.js';
import { type PickleValue, PyObject, type StorageRef, type TensorRef, type TorchDType, unpickle } from './unpickler.js';

/** Where the weights are looked for, in this order, when no key is given (timm's order). */
export const STATE_DICT_KEYS = ['state_dict', 'model'] as const;

const ITEM_SIZE: Record<TorchDType, number> = {
  float64: 8,
  float32: 4,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

export interface TorchCheckpointOptions {
  /** The top-level key holding the state dict (`model_ema`, ...); default: `state_dict`, then `model`, then the whole object. */
  key?: string;
}

export interface TorchCheckpoint {
  /** Float tensors as float32, integer and bool tensors as int32; the caller owns them. */
  stateDict: StateDict;
  /** The top-level key the state dict came from, or null for a bare state dict. */
  key: string | null;
  /** The top-level keys of the file, when it is a dict. */
  topLevelKeys: string[];
}

const isTensor = (v: PickleValue): v is TensorRef => typeof v === 'object' && v !== null && 'kind' in v && v.kind === 'tensor';

function describe(v: PickleValue): string {
  if (v === null) return 'None';
  if (v instanceof Map) return 'a dict';
  if (v instanceof PyObject) return `an ${v.className}`;
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object' && 'kind' in v) return `a ${v.kind}`;
  return `a ${typeof v}`;
}

/** Reads a torch.save zip checkpoint; `source` (a path) names the file in errors. */
export function readTorchCheckpoint(bytes: Uint8Array, source: string, options: TorchCheckpointOptions = {}): TorchCheckpoint {
  const fail = (reason: string): never => {
    throw new Error(`${source}: ${reason}`);
  };
  if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) {
    fail(
      bytes[0] === 0x80
        ? "is a bare pickle (PyTorch's pre-1.6 format, or not a checkpoint); re-save it with torch.save in PyTorch >= 1.6"
        : 'is not a PyTorch zip checkpoint',
    );
  }
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (e) {
    return fail(`is not a readable zip file (${(e as Error).message})`);
  }
  const pickleName = Object.keys(entries).find((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (!pickleName) return fail('has no PREFIX/data.pkl entry; not a torch.save checkpoint');
  const prefix = pickleName.slice(0, -'data.pkl'.length);
  const byteorder = entries[`${prefix}byteorder`];
  if (byteorder && new TextDecoder().decode(byteorder).trim() !== 'little')
    fail('was written on a big-endian machine, which is not supported');

  const root = unpickle(entries[pickleName]!, `${source} (${pickleName})`);
  const topLevelKeys = root instanceof Map ? [...root.keys()].filter((k): k is string => typeof k === 'string') : [];
  let key: string | null = null;
  let dict: PickleValue = root;
  if (options.key !== undefined) {
    if (!(root instanceof Map) || !root.has(options.key)) {
      fail(`has no top-level key '${options.key}' (its keys: ${topLevelKeys.join(', ') || 'none'})`);
    }
    key = options.key;
    dict = (root as Map<PickleValue, PickleValue>).get(key)!;
  } else if (root instanceof Map) {
    const nested = STATE_DICT_KEYS.find((k) => root.get(k) instanceof Map);
    if (nested) {
      key = nested;
      dict = root.get(nested)!;
    }
  }
  const where = key === null ? 'the checkpoint' : `'${key}'`;
  if (!(dict instanceof Map)) return fail(`${where} is ${describe(dict)}, not a state dict`);

  const named: [string, TensorRef][] = [];
  for (const [k, v] of dict) {
    if (typeof k !== 'string') fail(`${where} has a key that is not a string (${describe(k)})`);
    if (!isTensor(v)) {
      fail(
        `${where}['${k}'] is ${describe(v)}, not a tensor${key === null && topLevelKeys.length ? `; pick the state dict with a key (the file's keys: ${topLevelKeys.join(', ')})` : ''}`,
      );
    }
    named.push([k as string, v as TensorRef]);
  }
  // DataParallel / DistributedDataParallel wrap the model as `module`.
  const strip = named.length > 0 && named.every(([k]) => k.startsWith('module.'));

  const storages = new Map<string, Float32Array | Int32Array>();
  const stateDict: StateDict = {};
  try {
    for (const [k, t] of named) {
      const name = strip ? k.slice('module.'.length) : k;
      const what = `${where}['${k}']`;
      let values = storages.get(t.storage.key);
      if (!values) {
        values = decodeStorage(entries, prefix, t.storage, what, source);
        storages.set(t.storage.key, values);
      }
      stateDict[name] = materialise(values, t, what, source);
    }
  } catch (e) {
    tf.dispose(Object.values(stateDict));
    throw e;
  }
  return { stateDict, key, topLevelKeys };
}

/** The safetensors dtypes that torch storages share; the other storages are decoded here. */
const SHARED_DTYPES: Partial<Record<TorchDType, SafetensorsDType>> = {
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
};

/** A storage's values as float32 or int32; `what` (the first tensor using it) names it in errors. */
function decodeStorage(
  entries: Record<string, Uint8Array>,
  prefix: string,
  s: StorageRef,
  what: string,
  source: string,
): Float32Array | Int32Array {
  const entry = `${prefix}data/${s.key}`;
  const bytes = entries[entry];
  if (!bytes) throw new Error(`${source}: storage ${s.key} (${entry}) is missing from the archive`);
  const need = s.numel * ITEM_SIZE[s.dtype];
  if (bytes.length < need)
    throw new Error(`${source}: storage ${s.key} holds ${bytes.length} bytes, ${s.numel} ${s.dtype} values need ${need}`);
  const data = bytes.subarray(0, need);
  const shared = SHARED_DTYPES[s.dtype];
  if (shared) {
    return decodeLittleEndian(data, shared, (v) => {
      throw new Error(`${source}: ${what} holds ${v}, outside the int32 range tfjs supports`);
    });
  }
  const view = new DataView(data.buffer, data.byteOffset, need);
  switch (s.dtype) {
    case 'float64':
      return Float32Array.from({ length: s.numel }, (_, i) => view.getFloat64(i * 8, true));
    case 'int16':
      return Int32Array.from({ length: s.numel }, (_, i) => view.getInt16(i * 2, true));
    case 'int8':
      return Int32Array.from({ length: s.numel }, (_, i) => view.getInt8(i));
    default:
      // uint8 and bool: one byte per value.
      return Int32Array.from(data);
  }
}

/** The tensor a strided view of a storage describes, copied out in row-major order. */
function materialise(storage: Float32Array | Int32Array, t: TensorRef, what: string, source: string): tf.Tensor {
  const count = t.shape.reduce((a, d) => a * d, 1);
  const last = t.offset + t.shape.reduce((a, d, i) => a + (d - 1) * t.stride[i]!, 0);
  if (count > 0 && last >= storage.length) {
    throw new Error(`${source}: ${what} of shape [${t.shape}] reaches element ${last} of a ${storage.length}-element storage`);
  }
  const floating = storage instanceof Float32Array;
  const out = floating ? new Float32Array(count) : new Int32Array(count);
  const index = new Array<number>(t.shape.length).fill(0);
  let at = t.offset;
  for (let i = 0; i < count; i++) {
    out[i] = storage[at]!;
    // Advance the multi-index like an odometer, moving `at` by the strides.
    for (let d = t.shape.length - 1; d >= 0; d--) {
      if (++index[d]! < t.shape[d]!) {
        at += t.stride[d]!;
        break;
      }
      at -= (t.shape[d]! - 1) * t.stride[d]!;
      index[d] = 0;
    }
  }
  return floating ? tf.tensor(out, t.shape, 'float32') : tf.tensor(out, t.shape, 'int32');
}
