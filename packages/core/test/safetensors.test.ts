import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { craftSafetensors, fixtureDir } from '../../../test-utils/index.js';
import {
  decodeEntry,
  decodeSafetensors,
  encodeSafetensors,
  readSafetensorsHeader,
  SafetensorsError,
  type StateDict,
} from '../src/index.js';

function expectSafetensorsError(bytes: Uint8Array, reason: RegExp): void {
  let error: unknown;
  try {
    tf.dispose(Object.values(decodeSafetensors(bytes, 'bad.safetensors')));
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(SafetensorsError);
  const message = (error as Error).message;
  expect(message).toContain('bad.safetensors');
  expect(message).toMatch(reason);
}

const f32 = (n: number) => new Uint8Array(4 * n);

/** A fixture's bytes and its tensors decoded in memory (the file API is @vitkit/node's, tested there). */
async function readFixture(path: string): Promise<{ bytes: Uint8Array; sd: StateDict }> {
  const bytes = new Uint8Array(await readFile(path));
  return { bytes, sd: decodeSafetensors(bytes, path) };
}

describe('safetensors round trip', () => {
  it('F32, int32 as I64, and metadata come back exactly; keys sorted; header 8-byte aligned', async () => {
    const tensors: StateDict = {
      'b.weight': tf.tensor2d([
        [1.5, -2.25, 3e-8],
        [1e30, -0, 7],
      ]),
      'a.count': tf.tensor1d([0, -1, 2147483647, -2147483648], 'int32'),
      'a.scalar': tf.scalar(3, 'int32'),
      empty: tf.zeros([0, 3]),
    };
    // Non-ASCII text: the alignment must count UTF-8 bytes, not characters.
    const metadata = { format: 'pt', note: 'größe µ 模型' };
    const bytes = await encodeSafetensors(tensors, { metadata });
    const header = readSafetensorsHeader(bytes);
    expect(header.dataStart % 8).toBe(0);
    expect(header.metadata).toEqual(metadata);
    expect(Object.keys(header.entries)).toEqual(['a.count', 'a.scalar', 'b.weight', 'empty']);
    expect(header.entries['a.count']!.dtype).toBe('I64');
    expect(header.entries['a.scalar']).toEqual({ dtype: 'I64', shape: [], offsets: [32, 40] });
    expect(header.entries['b.weight']!.dtype).toBe('F32');

    const back = decodeSafetensors(bytes);
    for (const [name, t] of Object.entries(tensors)) {
      expect(back[name]!.dtype, name).toBe(t.dtype);
      expect(back[name]!.shape, name).toEqual(t.shape);
      expect(Array.from(back[name]!.dataSync()), name).toEqual(Array.from(t.dataSync()));
    }
    tf.dispose([...Object.values(tensors), ...Object.values(back)]);
  });

  it('F16: exact where representable, round to nearest even, subnormals, overflow and NaN', async () => {
    const cases: [number, number][] = [
      [1, 1],
      [-2, -2],
      [0.099975586, 0.099975586],
      [65504, 65504],
      [2 ** -24, 2 ** -24], // smallest subnormal
      [2 ** -26, 0], // below half of it
      [1 + 2 ** -11, 1], // tie, to even
      [1 + 3 * 2 ** -11, 1 + 2 ** -9], // tie, to even (up)
      [65519, 65504], // rounds down to the largest half
      [65520, Number.POSITIVE_INFINITY], // rounds up past it
      [2 ** -14 - 2 ** -26, 2 ** -14], // a subnormal that rounds up to the smallest normal
      [70000, Number.POSITIVE_INFINITY],
      [-70000, Number.NEGATIVE_INFINITY],
    ];
    const t = tf.tensor1d([...cases.map(([v]) => v), Number.NaN]);
    const bytes = await encodeSafetensors({ t }, { floatDType: 'F16' });
    expect(readSafetensorsHeader(bytes).entries['t']).toMatchObject({ dtype: 'F16', offsets: [0, 2 * (cases.length + 1)] });
    const back = decodeSafetensors(bytes);
    const values = back['t']!.dataSync();
    cases.forEach(([, want], i) => {
      expect(values[i], `F16(${cases[i]![0]})`).toBe(Math.fround(want));
    });
    expect(values[cases.length]).toBeNaN();
    tf.dispose([t, back['t']!]);
  });

  it('BF16: exact where representable, round to nearest even, NaN', async () => {
    const cases: [number, number][] = [
      [1, 1],
      [-3.140625, -3.140625],
      [2 ** 100, 2 ** 100],
      [1 + 2 ** -8, 1], // tie, to even
      [1 + 3 * 2 ** -8, 1 + 2 ** -6], // tie, to even (up)
      [1 + 2 ** -8 + 2 ** -12, 1 + 2 ** -7], // above the tie
    ];
    const t = tf.tensor1d([...cases.map(([v]) => v), Number.NaN]);
    const back = decodeSafetensors(await encodeSafetensors({ t }, { floatDType: 'BF16' }));
    const values = back['t']!.dataSync();
    cases.forEach(([, want], i) => {
      expect(values[i], `BF16(${cases[i]![0]})`).toBe(Math.fround(want));
    });
    expect(values[cases.length]).toBeNaN();
    tf.dispose([t, back['t']!]);
  });

  it('reads F16, BF16, I64 and U8 written by hand (little-endian, as PyTorch writes them)', () => {
    const data = new Uint8Array(2 + 2 + 8 + 8 + 3);
    const view = new DataView(data.buffer);
    view.setUint16(0, 0x3c00, true); // F16 1.0
    view.setUint16(2, 0xc049, true); // BF16 -3.140625
    view.setBigInt64(4, -7n, true);
    view.setBigInt64(12, 123456789n, true);
    data.set([0, 128, 255], 20); // U8, as image fixtures store pixels
    const bytes = craftSafetensors(
      {
        h: { dtype: 'F16', shape: [1], data_offsets: [0, 2] },
        b: { dtype: 'BF16', shape: [1], data_offsets: [2, 4] },
        n: { dtype: 'I64', shape: [2], data_offsets: [4, 20] },
        u: { dtype: 'U8', shape: [3], data_offsets: [20, 23] },
      },
      data,
    );
    const sd = decodeSafetensors(bytes);
    expect(sd['h']!.dataSync()[0]).toBe(1);
    expect(sd['b']!.dataSync()[0]).toBe(-3.140625);
    expect(sd['n']!.dtype).toBe('int32');
    expect(Array.from(sd['n']!.dataSync())).toEqual([-7, 123456789]);
    expect(sd['u']!.dtype).toBe('int32');
    expect(Array.from(sd['u']!.dataSync())).toEqual([0, 128, 255]);
    tf.dispose(Object.values(sd));
  });
});

describe('safetensors: the shared fixtures', () => {
  const names = ['vit_tiny', 'vitc_tiny', 'vitp_tiny', 'cswin_tiny', 'crossvit_tiny', 'crossvit_dagger_tiny'];

  it.each(names)('%s: every tensor decodes with the shape its header gives', async (name) => {
    for (const file of ['weights.safetensors', 'io.safetensors']) {
      const path = `${fixtureDir(name)}/${file}`;
      const { bytes, sd } = await readFixture(path);
      const header = readSafetensorsHeader(bytes, path);
      expect(Object.keys(sd).sort()).toEqual(Object.keys(header.entries).sort());
      for (const [key, e] of Object.entries(header.entries)) {
        expect(sd[key]!.shape, key).toEqual(e.shape);
        expect(sd[key]!.dtype, key).toBe(e.dtype === 'I64' ? 'int32' : 'float32');
      }
      tf.dispose(Object.values(sd));
    }
  });

  it('vit_tiny: names, PyTorch shapes, parameter count and raw values', async () => {
    const dir = fixtureDir('vit_tiny');
    const config = JSON.parse(await readFile(`${dir}/config.json`, 'utf8')) as { num_params: number };
    const path = `${dir}/weights.safetensors`;
    const { bytes, sd } = await readFixture(path);
    const header = readSafetensorsHeader(bytes, path);
    expect(header.metadata).toEqual({ format: 'pt' });
    expect(sd['blocks.0.attn.qkv.weight']!.shape).toEqual([192, 64]);
    expect(sd['patch_embed.proj.weight']!.shape).toEqual([64, 3, 4, 4]);
    expect(sd['cls_token']!.shape).toEqual([1, 1, 64]);
    expect(Object.values(sd).reduce((n, t) => n + t.size, 0)).toBe(config.num_params);
    // The first values of a tensor, read straight from the bytes.
    const e = header.entries['blocks.0.norm1.weight']!;
    const view = new DataView(bytes.buffer, bytes.byteOffset + header.dataStart + e.offsets[0]);
    const decoded = decodeEntry(bytes, header, 'blocks.0.norm1.weight', path);
    for (let i = 0; i < 4; i++) expect(decoded[i]).toBe(view.getFloat32(4 * i, true));
    expect(sd['blocks.0.norm1.weight']!.dataSync().slice(0, 4)).toEqual(decoded.slice(0, 4));
    tf.dispose(Object.values(sd));
  });

  it('vitc_tiny: I64 BatchNorm counters read as int32 scalars', async () => {
    const { sd } = await readFixture(`${fixtureDir('vitc_tiny')}/weights.safetensors`);
    const counters = Object.entries(sd).filter(([k]) => k.endsWith('num_batches_tracked'));
    expect(counters.length).toBe(2);
    for (const [, t] of counters) {
      expect(t.dtype).toBe('int32');
      expect(t.shape).toEqual([]);
      expect(Number.isInteger(t.dataSync()[0])).toBe(true);
    }
    tf.dispose(Object.values(sd));
  });
});

describe('safetensors: malformed files get a SafetensorsError naming the file and the reason', () => {
  const one = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };

  it('shorter than the 8-byte length', () => {
    for (const n of [0, 1, 7]) expectSafetensorsError(new Uint8Array(n), /shorter than the 8-byte header length/);
  });

  it('header length past the end of the file, including one claiming 2^40 bytes', () => {
    expectSafetensorsError(craftSafetensors(one, f32(2), 500n), /header length 500 runs past the end/);
    // Refused from the length alone: allocating 2^40 bytes would have thrown a RangeError instead.
    expectSafetensorsError(craftSafetensors('{}', new Uint8Array(0), 2n ** 40n), /header length 1099511627776 runs past the end/);
    expectSafetensorsError(craftSafetensors('{}', new Uint8Array(0), 2n ** 64n - 1n), /runs past the end/);
  });

  it('every truncation of a valid file', async () => {
    const t = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const bytes = await encodeSafetensors({ t, u: tf.tensor1d([5], 'int32') });
    t.dispose();
    for (let n = 0; n < bytes.length; n++) expectSafetensorsError(bytes.subarray(0, n), /./);
    expectSafetensorsError(bytes.subarray(0, bytes.length - 1), /lie outside the \d+-byte data section/);
  });

  it('a data section cut short, or offsets out of range', () => {
    expectSafetensorsError(craftSafetensors(one, f32(1)), /data_offsets \[0, 8\] lie outside the 4-byte data section/);
    expectSafetensorsError(craftSafetensors({ w: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }, f32(4)), /data_offsets \[8, 4\]/);
    expectSafetensorsError(craftSafetensors({ w: { dtype: 'F32', shape: [1], data_offsets: [-4, 0] } }, f32(4)), /invalid data_offsets/);
    expectSafetensorsError(craftSafetensors({ w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, f32(4)), /invalid data_offsets/);
    expectSafetensorsError(craftSafetensors({ w: { dtype: 'F32', shape: [1] } }, f32(4)), /invalid data_offsets/);
  });

  it('overlapping tensors', () => {
    const header = {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    };
    expectSafetensorsError(craftSafetensors(header, f32(3)), /tensors 'a' and 'b' overlap/);
    const nested = {
      outer: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
      inner: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
    };
    expectSafetensorsError(craftSafetensors(nested, f32(4)), /overlap/);
  });

  it('empty tensors next to others do not overlap', () => {
    const header = {
      x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      e: { dtype: 'F32', shape: [0], data_offsets: [0, 0] },
      f: { dtype: 'F32', shape: [0, 2], data_offsets: [4, 4] },
    };
    const sd = decodeSafetensors(craftSafetensors(header, f32(1)));
    expect(sd['e']!.shape).toEqual([0]);
    expect(sd['f']!.shape).toEqual([0, 2]);
    tf.dispose(Object.values(sd));
  });

  it('unknown or unsupported dtypes', () => {
    for (const dtype of ['F64', 'U16', 'f32', 'constructor', 'toString', 42, null]) {
      expectSafetensorsError(craftSafetensors({ w: { dtype, shape: [1], data_offsets: [0, 4] } }, f32(1)), /unsupported dtype/);
    }
  });

  it('a shape that does not match the byte count, or is not a shape', () => {
    expectSafetensorsError(
      craftSafetensors({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32(2)),
      /needs 12 bytes, data_offsets give 8/,
    );
    // A shape claiming 2^40 elements over 8 bytes is refused before anything is allocated.
    expectSafetensorsError(craftSafetensors({ w: { dtype: 'F32', shape: [2 ** 20, 2 ** 20], data_offsets: [0, 8] } }, f32(2)), /needs/);
    for (const shape of [[-1], [1.5], ['2'], 2, null]) {
      expectSafetensorsError(craftSafetensors({ w: { dtype: 'F32', shape, data_offsets: [0, 4] } }, f32(1)), /invalid shape/);
    }
  });

  it('a header that is not JSON, not an object, or has bad entries', () => {
    expectSafetensorsError(craftSafetensors('{"w": {', f32(1)), /header is not JSON/);
    const notUtf8 = new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe]);
    expectSafetensorsError(notUtf8, /header is not JSON/);
    expectSafetensorsError(craftSafetensors('', f32(1)), /header is not JSON/);
    expectSafetensorsError(craftSafetensors('[1, 2]'), /not a JSON object/);
    expectSafetensorsError(craftSafetensors('null'), /not a JSON object/);
    expectSafetensorsError(craftSafetensors({ w: 3 }), /tensor 'w' has no description/);
    expectSafetensorsError(craftSafetensors({ __metadata__: { format: 1 } }), /__metadata__/);
  });

  it('I64 values outside the int32 range', () => {
    const data = new Uint8Array(16);
    new DataView(data.buffer).setBigInt64(8, 2n ** 31n, true);
    expectSafetensorsError(
      craftSafetensors({ n: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data),
      /tensor 'n' holds 2147483648, outside the int32 range/,
    );
    new DataView(data.buffer).setBigInt64(8, -(2n ** 40n), true);
    expectSafetensorsError(craftSafetensors({ n: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data), /outside the int32 range/);
  });
});
