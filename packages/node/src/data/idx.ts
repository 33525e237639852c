// The IDX format of MNIST and Fashion-MNIST (yann.lecun.com/exdb/mnist): two
// zero bytes, a type code, the number of dimensions, big-endian int32 sizes,
// then the data. Gzipped files are recognised by their magic bytes.
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';

export interface IdxArray {
  shape: number[];
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

// Type codes: 0x08 uint8, 0x09 int8, 0x0b int16, 0x0c int32, 0x0d float32, 0x0e float64.
const TYPES: Record<number, { bytes: number; read: (v: DataView, n: number) => IdxArray['data'] }> = {
  8: { bytes: 1, read: (v, n) => new Uint8Array(v.buffer, v.byteOffset, n) },
  9: { bytes: 1, read: (v, n) => new Int8Array(v.buffer, v.byteOffset, n) },
  11: { bytes: 2, read: (v, n) => Int16Array.from({ length: n }, (_, i) => v.getInt16(2 * i)) },
  12: { bytes: 4, read: (v, n) => Int32Array.from({ length: n }, (_, i) => v.getInt32(4 * i)) },
  13: { bytes: 4, read: (v, n) => Float32Array.from({ length: n }, (_, i) => v.getFloat32(4 * i)) },
  14: { bytes: 8, read: (v, n) => Float64Array.from({ length: n }, (_, i) => v.getFloat64(8 * i)) },
};

/** Parses IDX bytes (plain or gzipped); `source` names the file in errors. */
export function parseIdx(raw: Uint8Array, source = 'IDX data'): IdxArray {
  const bytes = raw[0] === 0x1f && raw[1] === 0x8b ? new Uint8Array(gunzipSync(raw)) : raw;
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) throw new Error(`${source}: not an IDX file (bad magic number)`);
  const type = TYPES[bytes[2]!];
  if (!type) throw new Error(`${source}: unknown IDX type code 0x${bytes[2]!.toString(16)}`);
  const ndim = bytes[3]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: ndim }, (_, i) => view.getInt32(4 + 4 * i));
  const n = shape.reduce((a, d) => a * d, 1);
  const offset = 4 + 4 * ndim;
  if (bytes.length - offset < n * type.bytes) {
    throw new Error(`${source}: truncated (${bytes.length - offset} data bytes, shape [${shape}] needs ${n * type.bytes})`);
  }
  return { shape, data: type.read(new DataView(bytes.buffer, bytes.byteOffset + offset, n * type.bytes), n) };
}

export async function readIdx(path: string): Promise<IdxArray> {
  let raw: Uint8Array;
  try {
    raw = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new Error(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseIdx(raw, path);
}
