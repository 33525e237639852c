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
