// Pillow's resampling and timm's evaluation geometry on arrays small enough to
// work out by hand (the fixture test covers real photos against PIL itself).
import { describe, expect, it } from 'vitest';
import {
  axisCoefficients,
  crop,
  evalConfigFromPretrained,
  evalResize,
  hwcToChw,
  parsePretrainedConfig,
  type RawImage,
  resamplePixels,
  resizeImage,
  resizeShorter,
} from '../src/index.js';

const row = (values: number[]) => Uint8Array.from(values);
const constant = (h: number, w: number, c: number, v: number): RawImage => ({
  data: new Uint8Array(h * w * c).fill(v),
  height: h,
  width: w,
  channels: c,
});

describe("Pillow's resampling", () => {
  it('bilinear 4 -> 2 widens the support by the scale (three taps, not two)', () => {
    // Output 0 is centred at 1.0 with support 2: inputs 0..2 weigh
    // f(-0.25), f(0.25), f(0.75) = 0.75, 0.75, 0.25, so 3/7, 3/7, 1/7:
    // (0 * 3 + 100 * 3 + 200) / 7 = 71.4; output 1 reads inputs 1..3: 209.3.
    // In 2^22 fixed point with 2^21 added, both floor to 71 and 209.
    expect(Array.from(resamplePixels(row([0, 100, 200, 255]), 1, 4, 1, 1, 2, 'bilinear'))).toEqual([71, 209]);
    // The same along y, the vertical pass alone.
    expect(Array.from(resamplePixels(row([0, 100, 200, 255]), 4, 1, 1, 2, 1, 'bilinear'))).toEqual([71, 209]);
  });

  it('bicubic (a = -0.5) 2 -> 4 overshoots and clips to 0..255', () => {
    // Output 1, centre 0.75: weights f(-0.25) = 0.8671875 and f(0.75) = 0.2265625,
    // normalised 0.79286 and 0.20714: 255 x 0.20714 = 52.8, in fixed point 53.
    // Outputs 0 and 3 take a negative weight of 255 past the ends: clipped.
    expect(Array.from(resamplePixels(row([0, 255]), 1, 2, 1, 1, 4, 'bicubic'))).toEqual([0, 53, 202, 255]);
  });

  it('fixed-point weights: round half away from zero of w / sum x 2^22, one table per axis', () => {
    const k = axisCoefficients(2, 4, 'bicubic');
    expect(Array.from(k.first)).toEqual([0, 0, 0, 0]);
    expect(Array.from(k.count)).toEqual([2, 2, 2, 2]);
    // Output 1: 0.8671875 / 1.09375 x 2^22 = 3325483.9 and 0.2265625 / 1.09375 x 2^22 = 868820.1.
    expect([k.weights[k.taps]!, k.weights[k.taps + 1]!]).toEqual([3325484, 868820]);
    // Negative: -0.0703125 / 0.796875 x 2^22 = -370085.6 -> -370086.
    expect(k.weights[1]).toBe(-370086);
  });

  it('nearest takes floor((i + 0.5) x in / out)', () => {
    expect(Array.from(resamplePixels(row([0, 10, 20, 30, 40]), 1, 5, 1, 1, 3, 'nearest'))).toEqual([0, 20, 40]);
    expect(Array.from(resamplePixels(row([0, 10, 20]), 1, 3, 1, 1, 5, 'nearest'))).toEqual([0, 0, 10, 20, 20]);
  });

  it('resamples every channel alike and both axes (rows first)', () => {
    // Four identical rows of RGB pixels whose red runs 0, 100, 200, 255.
    const rgb = new Uint8Array(4 * 4 * 3);
    for (let y = 0; y < 4; y++) {
      for (const [x, v] of [0, 100, 200, 255].entries()) rgb.set([v, 255 - v, 7], (y * 4 + x) * 3);
    }
    const out = resizeImage({ data: rgb, height: 4, width: 4, channels: 3 }, 2, 2, 'bilinear');
    expect(Array.from(out.data)).toEqual([71, 184, 7, 209, 46, 7, 71, 184, 7, 209, 46, 7]);
  });

  it('returns a copy at the same size; rejects bad sizes and modes', () => {
    const src = row([1, 2, 3]);
    const same = resamplePixels(src, 1, 3, 1, 1, 3, 'bicubic');
    expect(same).toEqual(src);
    expect(same).not.toBe(src);
    expect(() => resamplePixels(src, 1, 3, 1, 0, 3, 'bicubic')).toThrow(/positive integers/);
    expect(() => resamplePixels(src, 1, 2, 1, 1, 3, 'bicubic')).toThrow(/3 values for a 1x2x1/);
    expect(() => resamplePixels(src, 1, 3, 1, 1, 2, 'lanczos' as 'bicubic')).toThrow(/unknown interpolation 'lanczos'/);
  });

  it('rounds float pixels to bytes, as a PIL image holds them', () => {
    const img: RawImage = { data: Float32Array.from([-3, 99.6, 300]), height: 1, width: 3, channels: 1 };
    expect(Array.from(resizeImage(img, 1, 6, 'nearest').data)).toEqual([0, 0, 100, 100, 255, 255]);
  });

  it('Resize(size) as torchvision: shorter side to size, longer int(size x long / short)', () => {
    // 451 x 300 to 248: 248 x 451 / 300 = 372.8, truncated.
    const out = resizeShorter(constant(300, 451, 3, 9), 248, 'bicubic');
    expect([out.height, out.width]).toEqual([248, 372]);
    expect(out.data.every((v) => v === 9)).toBe(true);
    const tall = resizeShorter(constant(451, 300, 1, 9), 248, 'bilinear');
    expect([tall.height, tall.width]).toEqual([372, 248]);
  });
});

describe("timm's evaluation geometry", () => {
  const base = { interpolation: 'bilinear' as const, mean: [0.485, 0.456, 0.406] };
  // Distinct values at every pixel, so crop offsets show.
  const ramp = (h: number, w: number): RawImage => ({
    data: Uint8Array.from({ length: h * w * 3 }, (_, i) => (i * 7) % 251),
    height: h,
    width: w,
    channels: 3,
  });

  it("'center': shorter side to floor(size / crop_pct), then the central crop at round((n - size) / 2)", () => {
    // floor(32 / 0.875) = 36; 40 x 60 becomes 36 x 54; the crop starts at (2, 11).
    const img = ramp(40, 60);
    const out = evalResize(img, { ...base, imgSize: 32, cropPct: 0.875, cropMode: 'center' });
    expect(out.data).toEqual(crop(resizeShorter(img, 36, 'bilinear'), 2, 11, 32, 32).data);
    // 33 x 50 at crop_pct 1 and size 32: width int(32 x 50 / 33) = 48, left round(16 / 2) = 8;
    // rows 33 -> 32 is a resize, so the crop's top is round(0 / 2) = 0.
    const odd = ramp(33, 50);
    expect(evalResize(odd, { ...base, imgSize: 32, cropPct: 1, cropMode: 'center' }).data).toEqual(
      crop(resizeShorter(odd, 32, 'bilinear'), 0, 8, 32, 32).data,
    );
  });

  it("Python's round in the crop offset: halves go to the even neighbour", () => {
    // Widths 41 and 43 into 36: offsets round(2.5) = 2 and round(3.5) = 4.
    const img = ramp(36, 41);
    expect(evalResize(img, { ...base, imgSize: 36, cropPct: 1, cropMode: 'center' }).data).toEqual(crop(img, 0, 2, 36, 36).data);
    const seven = ramp(36, 43);
    expect(evalResize(seven, { ...base, imgSize: 36, cropPct: 1, cropMode: 'center' }).data).toEqual(crop(seven, 0, 4, 36, 36).data);
  });

  it("'squash': both sides to floor(size / crop_pct), then the central crop", () => {
    const img = ramp(40, 60);
    const out = evalResize(img, { ...base, imgSize: 32, cropPct: 0.875, cropMode: 'squash' });
    expect(out.data).toEqual(crop(resizeImage(img, 36, 36, 'bilinear'), 2, 2, 32, 32).data);
  });

  it("'border': the longer side fits, the rest is padded with round(255 x mean)", () => {
    // 40 x 60 into 32: ratio max(40, 60) / 32 = 1.875, size round(21.33) x 32 = 21 x 32;
    // padded to 32 rows: floor(11 / 2) = 5 above, 6 below.
    const out = evalResize(constant(40, 60, 3, 200), { ...base, imgSize: 32, cropPct: 1, cropMode: 'border' });
    expect([out.height, out.width]).toEqual([32, 32]);
    const pixel = (y: number, x: number) => Array.from(out.data.slice((y * 32 + x) * 3, (y * 32 + x) * 3 + 3));
    const fill = [124, 116, 104]; // round(255 x [0.485, 0.456, 0.406])
    expect(pixel(0, 0)).toEqual(fill);
    expect(pixel(4, 31)).toEqual(fill);
    expect(pixel(5, 0)).toEqual([200, 200, 200]);
    expect(pixel(25, 31)).toEqual([200, 200, 200]);
    expect(pixel(26, 16)).toEqual(fill);
    expect(pixel(31, 31)).toEqual(fill);
  });

  it("takes the eval config from a parsed pretrained_cfg, with timm's defaults and errors naming the source", () => {
    const parsed = (cfg: Record<string, unknown>) =>
      parsePretrainedConfig({ architecture: 'vit_tiny_patch16_224', num_classes: 10, pretrained_cfg: cfg }, 'c.json').pretrainedCfg;
    const cfg = evalConfigFromPretrained(
      parsed({
        input_size: [3, 384, 384],
        interpolation: 'bicubic',
        crop_pct: 1.0,
        crop_mode: 'squash',
        mean: [0.5, 0.5, 0.5],
        std: [0.5, 0.5, 0.5],
      }),
      'config.json',
    );
    expect(cfg).toEqual({
      imgSize: 384,
      cropPct: 1,
      interpolation: 'bicubic',
      cropMode: 'squash',
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
    });
    const defaults = evalConfigFromPretrained(parsed({ input_size: [3, 224, 224], mean: [0, 0, 0], std: [1, 1, 1] }), 'c.json');
    expect([defaults.cropPct, defaults.interpolation, defaults.cropMode]).toEqual([0.875, 'bicubic', 'center']);
    expect(() => evalConfigFromPretrained(parsed({ input_size: [3, 224, 256], mean: [0, 0, 0], std: [1, 1, 1] }), 'c.json')).toThrow(
      "c.json: 'pretrained_cfg.input_size' must be square (got [3,224,256])",
    );
    expect(() =>
      evalConfigFromPretrained(parsed({ input_size: [3, 224, 224], interpolation: 'lanczos', mean: [0, 0, 0], std: [1, 1, 1] }), 'c.json'),
    ).toThrow("c.json: pretrained_cfg: interpolation must be one of nearest, bilinear, bicubic, got 'lanczos'");
    expect(() => evalConfigFromPretrained(parsed({ input_size: [1, 224, 224], mean: [0], std: [1] }), 'c.json')).toThrow(
      'c.json: pretrained_cfg: mean must be three numbers',
    );
  });

  it('HWC to CHW', () => {
    expect(Array.from(hwcToChw(Float32Array.from([1, 2, 3, 4, 5, 6]), 1, 2, 3))).toEqual([1, 4, 2, 5, 3, 6]);
  });
});
