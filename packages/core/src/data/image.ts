/**
 * One decoded image on the host, HWC. Pixel values are on the 0..255 scale
 * until `normalize` maps them to the model's input statistics.
 */
export interface RawImage {
  data: Uint8Array | Float32Array;
  height: number;
  width: number;
  channels: number;
}

export function newImage(height: number, width: number, channels: number): RawImage & { data: Float32Array } {
  return { data: new Float32Array(height * width * channels), height, width, channels };
}

/** The pixels as bytes: the same array when they are bytes, else rounded and clamped to 0..255. */
export function toUint8Pixels(data: Uint8Array | Float32Array): Uint8Array {
  if (data instanceof Uint8Array) return data;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Math.min(Math.max(Math.round(data[i]!), 0), 255);
  return out;
}
