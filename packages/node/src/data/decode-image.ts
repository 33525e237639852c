// Image files decoded to the pixels PIL's Image.open(path).convert('RGB')
// gives, which is how timm's ImageDataset reads every image a pretrained model
// was trained and evaluated on. sharp (libvips) decodes; its options keep the
// stored values, and the conversions PIL makes that libvips does not are done
// here, each checked against PIL 9.4.
import sharp from 'sharp';
import type { RawImage } from '@vitkit/core';

/** A decoded image: 8-bit RGB, HWC. */
export type RgbImage = RawImage & { data: Uint8Array; channels: 3 };

/** Decodes an image file as PIL's `Image.open(path).convert('RGB')`; a file that fails is named in the error. */
export async function decodeImage(path: string): Promise<RgbImage> {
  try {
    return await decodeRgb(path);
  } catch (e) {
    throw new Error(`${path}: cannot decode image (${(e as Error).message})`);
  }
}

async function decodeRgb(path: string): Promise<RgbImage> {
  // ignoreIcc: no colour management, the stored values (PIL ignores embedded
  // profiles). autoOrient false: EXIF orientation is not applied (PIL's open
  // does not rotate). Multi-frame files give their first frame, as PIL's.
  const open = () => sharp(path, { ignoreIcc: true, autoOrient: false });
  const meta = await open().metadata();
  if (meta.space === 'cmyk') {
    // The CMYK pipeline keeps libvips from converting through a CMYK profile;
    // its values are the inverted Adobe samples PIL's CMYK mode holds.
    const { data, info } = await open().pipelineColourspace('cmyk').toColourspace('cmyk').raw().toBuffer({ resolveWithObject: true });
    return cmykToRgb(data, info.height, info.width, info.channels);
  }
  if (meta.depth === 'ushort') {
    // 16-bit PNGs: PIL 9.4 reads greyscale as 32-bit integers, which convert
    // to RGB clipped at 255; every other 16-bit layout it reads as its high bytes.
    const grey = meta.channels <= 2;
    const { data, info } = await open()
      .toColourspace(grey ? 'grey16' : 'rgb16')
      .raw({ depth: 'ushort' })
      .toBuffer({ resolveWithObject: true });
    const words = new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
    const toByte = info.channels === 1 ? (v: number) => Math.min(v, 255) : (v: number) => v >> 8;
    return toRgb(words, info.height, info.width, info.channels, toByte);
  }
  // 8-bit: libvips expands palettes (to RGB, or RGBA with a transparency
  // chunk) and bit depths below 8, and replicates grey to RGB; alpha is
  // dropped below, not composited, as PIL's convert('RGB') drops it.
  const { data, info } = await open().raw().toBuffer({ resolveWithObject: true });
  return toRgb(data, info.height, info.width, info.channels, (v) => v);
}

/** 1 to 4 channels to RGB: grey replicated, alpha dropped. */
function toRgb(src: ArrayLike<number>, height: number, width: number, channels: number, toByte: (v: number) => number): RgbImage {
  const n = height * width;
  if (src.length !== n * channels) throw new Error(`decoder returned ${src.length} samples for ${width}x${height}x${channels}`);
  const data = new Uint8Array(n * 3);
  const colour = channels >= 3;
  for (let p = 0; p < n; p++) {
    const s = p * channels;
    for (let k = 0; k < 3; k++) data[p * 3 + k] = toByte(src[s + (colour ? k : 0)]!);
  }
  return { data, height, width, channels: 3 };
}

/**
 * PIL's CMYK to RGB: each colour is (255 - K) less C x (255 - K) / 255, the
 * product rounded as its fixed-point divide by 255 rounds it.
 */
function cmykToRgb(src: Uint8Array, height: number, width: number, channels: number): RgbImage {
  if (channels !== 4) throw new Error(`CMYK image decoded with ${channels} channels`);
  const n = height * width;
  const data = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    const nk = 255 - src[p * 4 + 3]!;
    for (let k = 0; k < 3; k++) {
      const t = src[p * 4 + k]! * nk + 128;
      data[p * 3 + k] = nk - (((t >> 8) + t) >> 8);
    }
  }
  return { data, height, width, channels: 3 };
}
