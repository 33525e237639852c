import { describe, expect, it } from 'vitest';
import {
  applyAugmentOp,
  type Batch,
  centerCrop,
  derivedRng,
  evalResize,
  evalTransform,
  fitToSize,
  greyToRgb,
  hflip,
  mixBatch,
  mixedTargets,
  normalize,
  padImage,
  RAND_AUGMENT_OPS,
  randAugment,
  randomResizedCrop,
  type RawImage,
  Rng,
  trainTransform,
} from '../src/index.js';

function ramp(h: number, w: number, c: number): RawImage {
  return { data: Float32Array.from({ length: h * w * c }, (_, i) => (i * 37) % 256), height: h, width: w, channels: c };
}

describe('image transforms', () => {
  it('pads, crops, flips and converts grey to RGB', () => {
    const img = ramp(2, 3, 1);
    const padded = padImage(img, 1);
    expect([padded.height, padded.width]).toEqual([4, 5]);
    expect(padded.data[0]).toBe(0);
    expect(padded.data[1 * 5 + 1]).toBe(img.data[0]);
    // Offsets as torchvision: round((4 - 2) / 2) = 1 and round((5 - 2) / 2) = 2 (half to even).
    expect(centerCrop(padded, 2).data).toEqual(Float32Array.from([img.data[1]!, img.data[2]!, img.data[4]!, img.data[5]!]));
    expect(Array.from(hflip(img).data.slice(0, 3))).toEqual([img.data[2], img.data[1], img.data[0]]);
    const rgb = greyToRgb(img);
    expect(rgb.channels).toBe(3);
    expect(Array.from(rgb.data.slice(3, 6))).toEqual([img.data[1], img.data[1], img.data[1]]);
  });

  it('pads 28-pixel digits to 32 and resizes what is far from the model size', () => {
    const digit = ramp(28, 28, 1);
    const padded = fitToSize([28, 28, 1], 32, 'bilinear')(digit, new Rng(0));
    expect([padded.height, padded.width]).toEqual([32, 32]);
    expect(padded.data[2 * 32 + 2]).toBe(digit.data[0]);
    const resized = fitToSize([28, 28, 1], 64, 'bilinear')(digit, new Rng(0));
    expect([resized.height, resized.width]).toEqual([64, 64]);
  });

  it("follows timm's evaluation crop: shorter side to size / cropPct, then the centre", () => {
    const out = evalResize(ramp(40, 60, 3), { imgSize: 32, cropPct: 0.875, interpolation: 'bicubic', cropMode: 'center', mean: [0, 0, 0] });
    expect([out.height, out.width, out.channels]).toEqual([32, 32, 3]);
    const pipeline = evalTransform(null, { imgSize: 32, inChannels: 3, cropPct: 0.875, interpolation: 'bicubic' });
    expect(pipeline(ramp(40, 60, 1), new Rng(0)).channels).toBe(3);
  });

  it('normalises with the model mean/std', () => {
    const img: RawImage = { data: Uint8Array.from([0, 255, 51]), height: 1, width: 1, channels: 3 };
    expect(Array.from(normalize(img, [0.5, 0.5, 0.2], [0.5, 0.25, 0.1]))).toEqual([
      expect.closeTo(-1, 6),
      expect.closeTo(2, 6),
      expect.closeTo(0, 6),
    ]);
  });

  it('random-resized crop and RandAugment are deterministic in their seed', () => {
    const img = ramp(24, 20, 3);
    const a = randomResizedCrop(img, 16, derivedRng(1, 2, 3));
    const b = randomResizedCrop(img, 16, derivedRng(1, 2, 3));
    expect([a.height, a.width]).toEqual([16, 16]);
    expect(a.data).toEqual(b.data);
    const aug = trainTransform(
      null,
      { imgSize: 16, inChannels: 3, cropPct: 1, interpolation: 'bilinear' },
      { hflip: true, randAugment: { n: 3 } },
    );
    expect(aug(img, derivedRng(5)).data).toEqual(aug(img, derivedRng(5)).data);
    expect(aug(img, derivedRng(5)).data).not.toEqual(aug(img, derivedRng(6)).data);
  });

  it('has every RandAugment op keep the shape and the 0..255 range', () => {
    const img = ramp(9, 11, 3);
    for (const op of RAND_AUGMENT_OPS) {
      const out = applyAugmentOp(op, img, 9, new Rng(1));
      expect([out.height, out.width, out.channels], op).toEqual([9, 11, 3]);
      expect(
        out.data.every((v) => v >= 0 && v <= 255),
        op,
      ).toBe(true);
    }
    expect(applyAugmentOp('Invert', img, 5, new Rng(0)).data[1]).toBe(255 - img.data[1]!);
    expect(randAugment(img, new Rng(3), { n: 2, p: 0 }).data).toBe(img.data);
  });
});

describe('mixup and cutmix', () => {
  const batch = (): Batch => ({
    images: Float32Array.from({ length: 2 * 4 * 4 }, (_, i) => (i < 16 ? 1 : 0)),
    shape: [2, 4, 4, 1],
    labels: Int32Array.from([0, 2]),
  });

  it('mixes targets with lam and label smoothing as timm', () => {
    const t = mixedTargets(Int32Array.from([0, 2]), 0.75, 3, 0.3);
    // off = 0.1, on = 0.8: row 0 = 0.75 * [0.8, 0.1, 0.1] + 0.25 * [0.1, 0.1, 0.8].
    expect(Array.from(t.slice(0, 3))).toEqual([expect.closeTo(0.625, 6), expect.closeTo(0.1, 6), expect.closeTo(0.275, 6)]);
  });

  it('mixup blends each image with the reversed batch; cutmix pastes a box whose area sets lam', () => {
    const b = batch();
    const lam = mixBatch(b, new Rng(4), { numClasses: 3, mixupAlpha: 1, cutmixAlpha: 0 });
    expect(b.images[0]).toBeCloseTo(lam, 5);
    expect(b.images[16]).toBeCloseTo(1 - lam, 5);
    const c = batch();
    const lamCut = mixBatch(c, new Rng(4), { numClasses: 3, mixupAlpha: 0, cutmixAlpha: 1 });
    const pasted = c.images.slice(0, 16).filter((v) => v === 0).length;
    expect(lamCut).toBeCloseTo(1 - pasted / 16, 6);
    expect(c.targets!.length).toBe(6);
  });
});
