// The layouts PIL's convert('RGB') treats specially, in files written here
// byte by byte (PNG) or by PIL itself (the CMYK JPEG), so the expected pixels
// do not depend on the decoder under test. Each expectation is what PIL 9.4
// gives for that file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../src/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'vitkit-decode-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A PNG of one row per `rows` entry, samples as given (16-bit ones big-endian), no filtering. */
function png(
  name: string,
  rows: number[][],
  width: number,
  bitDepth: 1 | 8 | 16,
  colourType: 0 | 2 | 3 | 4 | 6,
  extra: [string, number[]][] = [],
): string {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(rows.length, 4);
  ihdr.set([bitDepth, colourType, 0, 0, 0], 8);
  const raw = rows.flatMap((r) => {
    if (bitDepth === 16) return [0, ...r.flatMap((v) => [v >> 8, v & 255])];
    if (bitDepth === 1) {
      const bytes = new Array<number>(Math.ceil(r.length / 8)).fill(0);
      r.forEach((v, i) => {
        bytes[i >> 3]! |= v << (7 - (i & 7));
      });
      return [0, ...bytes];
    }
    return [0, ...r];
  });
  const path = join(tmp, name);
  writeFileSync(
    path,
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      ...extra.map(([type, data]) => chunk(type, Uint8Array.from(data))),
      chunk('IDAT', deflateSync(Uint8Array.from(raw))),
      chunk('IEND', new Uint8Array(0)),
    ]),
  );
  return path;
}

const pixels = async (path: string) => {
  const img = await decodeImage(path);
  expect(img.channels).toBe(3);
  return Array.from(img.data);
};
const grey = (values: number[]) => values.flatMap((v) => [v, v, v]);

describe("decoding special layouts as PIL's convert('RGB')", () => {
  it('16-bit greyscale: the values clipped at 255 (PIL 9.4 reads them as 32-bit integers)', async () => {
    const path = png('grey16.png', [[0, 100, 255, 256, 1000, 65535]], 6, 16, 0);
    expect(await pixels(path)).toEqual(grey([0, 100, 255, 255, 255, 255]));
  });

  it('16-bit RGB, RGBA and grey with alpha: the high bytes, alpha dropped', async () => {
    const rgb = png('rgb16.png', [[0x1234, 0xabcd, 0x00ff, 0xff00, 0x0100, 0x80ff]], 2, 16, 2);
    expect(await pixels(rgb)).toEqual([0x12, 0xab, 0x00, 0xff, 0x01, 0x80]);
    const rgba = png('rgba16.png', [[0x1234, 0xabcd, 0x00ff, 0x0000]], 1, 16, 6);
    expect(await pixels(rgba)).toEqual([0x12, 0xab, 0x00]);
    const la = png('la16.png', [[0x1234, 0xffff, 0xfedc, 0x0000]], 2, 16, 4);
    expect(await pixels(la)).toEqual(grey([0x12, 0xfe]));
  });

  it('8-bit alpha dropped, not composited: transparent pixels keep their stored colour', async () => {
    const rgba = png('rgba.png', [[10, 20, 30, 0, 200, 100, 50, 128]], 2, 8, 6);
    expect(await pixels(rgba)).toEqual([10, 20, 30, 200, 100, 50]);
    const la = png('la.png', [[77, 0, 250, 3]], 2, 8, 4);
    expect(await pixels(la)).toEqual(grey([77, 250]));
  });

  it('palettes expanded (a transparency chunk ignored), 1-bit grey to 0 and 255', async () => {
    const palette = png('palette.png', [[2, 0, 1]], 3, 8, 3, [
      ['PLTE', [255, 0, 0, 0, 128, 0, 1, 2, 3]],
      ['tRNS', [0, 255, 10]],
    ]);
    expect(await pixels(palette)).toEqual([1, 2, 3, 255, 0, 0, 0, 128, 0]);
    const bits = png('bits.png', [[1, 0, 1, 1, 0, 0, 0, 1, 1]], 9, 1, 0);
    expect(await pixels(bits)).toEqual(grey([255, 0, 255, 255, 0, 0, 0, 255, 255]));
  });

  it("CMYK JPEG (Adobe, inverted): PIL's conversion, (255 - K) less C x (255 - K) / 255", async () => {
    // 4x2 CMYK written by PIL 9.4 at quality 100; PIL reads its first row as
    // C, M, Y, K = 0,0,0,0 / 255,0,0,0 / 0,0,0,255 / 182,19,146,246.
    const jpeg = [
      '/9j/7gAOQWRvYmUAZAAAAAAA/9sAQwABAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ',
      'EBAQEB/8AAFAgAAgAEBEMRAE0RAFkRAEsRAP/EAB8AAAEFAQEBAQEBAAAAAAAAAAABAgMEBQYHCAkKC//EALUQAAIBAwMCBAMFBQQEAAABfQEC',
      'AwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dX',
      'Z3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+v/aAA4E',
      'QwBNAFkASwAAPwDxf/gotbW83xS+G0k1vDK938KtU1+6eWKOR7nXvG3x6+OXj3xnrdwzqTNq/i7x14p8T+NPE+pSFrzX/FniPXvEeqzXesavqF',
      '5cfvB/wTp+K/xS+In7Af7F3jf4gfErx/458aeKP2afhLrXiXxf4x8ZeIvE3ijxFrOo+FbK61DVtd1/WtRvtV1bU766lluby/v7u4urmeSSaeV5',
      'HZjzf/BTr4gePPEf7XHxKPiHxt4u106F4w+LvhjRDrPiTWdUOj+G9D/aD+Mdrovh7SjfXs50/Q9Htf8ARtL0m08mw0+D9zaW8Mfy165/wTi+CH',
      'wW/a08L/tP/GP9qr4Q/C/9pn4u3/7WvjTw7ffFT9oLwB4U+M3xHvfD/hf4VfBjSPDOhXfjj4jaT4k8T3GjeHdKgh0zQtMm1R7LSNPhistPgt7a',
      'NIh//9k=',
    ].join('');
    const path = join(tmp, 'cmyk.jpg');
    writeFileSync(path, Buffer.from(jpeg, 'base64'));
    expect(await pixels(path)).toEqual([255, 255, 255, 0, 255, 255, 0, 0, 0, 3, 8, 4, 66, 3, 103, 36, 38, 24, 31, 36, 25, 65, 163, 69]);
  });
});
