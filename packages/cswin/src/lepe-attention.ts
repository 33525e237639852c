import * as tf from '@tensorflow/tfjs-core';
import { Conv2d, type Cost, Dropout, Module, type OnnxScope, scaledDotProductAttention } from '@vitkit/core';
import { mergeHeads, onnxWindows, splitHeads, windowMerge, windowPartition } from './stripe-windows.js';

/** A branch's inputs in an exported graph: q (scaled), k, v as NHWC maps [B, h, w, dim]. */
export interface OnnxStripeInput {
  q: string;
  k: string;
  v: string;
  h: number;
  w: number;
}

/**
 * Which windows a branch attends within, as the reference's `idx`:
 * 'columns' (idx 0) are stripes the full height and `split` tokens wide,
 * 'rows' (idx 1) are `split` tokens high and the full width, 'full' (idx -1)
 * is the whole map (the last stage, or a stage whose grid equals the stripe width).
 */
export type StripeKind = 'columns' | 'rows' | 'full';

/** Thrown when a token grid does not divide into a stage's stripes. */
export class StripeSizeError extends Error {
  constructor(
    readonly stage: number,
    readonly resolution: [number, number],
    readonly stripeWidth: number,
    inputSize?: [number, number],
  ) {
    const input = inputSize ? ` (input ${inputSize[0]}x${inputSize[1]})` : '';
    super(
      `CSWin stage ${stage}: its ${resolution[0]}x${resolution[1]} token grid${input} does not divide into stripes ` +
        `of width ${stripeWidth}; use an input size whose stage-${stage} grid is a multiple of ${stripeWidth}, ` +
        `or a split size that divides ${resolution[0]} and ${resolution[1]}`,
    );
    this.name = 'StripeSizeError';
  }
}

/** Window height and width of a branch on an h x w grid. */
export function stripeShape(kind: StripeKind, split: number, h: number, w: number): [number, number] {
  if (kind === 'full') return [h, w];
  return kind === 'columns' ? [h, split] : [split, w];
}

/**
 * One branch of cross-shaped window attention (the reference's LePEAttention):
 * multi-head attention inside each stripe window plus the locally-enhanced
 * positional encoding, a 3x3 depthwise convolution of V (`get_v`) run on each
 * window on its own, so it sees zeros beyond the window's borders. The qkv and
 * output projections live in the block; this module owns only `get_v`.
 */
export class LePEAttention extends Module {
  readonly getV: Conv2d;
  private readonly attnDrop: Dropout;

  constructor(
    readonly dim: number,
    readonly numHeads: number,
    readonly kind: StripeKind,
    readonly split: number,
    attnDrop = 0,
  ) {
    super();
    if (dim % numHeads !== 0) throw new Error(`LePEAttention: dim ${dim} is not divisible by ${numHeads} heads`);
    this.getV = this.addModule('get_v', new Conv2d(dim, dim, 3, { padding: 1, groups: dim }));
    this.attnDrop = this.addModule('attn_drop', new Dropout(attnDrop));
  }

  /**
   * q (already scaled), k, v: [B, H, W, dim] in image layout -> [B, H, W, dim].
   * The caller has checked that H and W divide into the stripes.
   */
  forward(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor): tf.Tensor4D {
    const [b, h, w] = q.shape as [number, number, number, number];
    const [hSp, wSp] = stripeShape(this.kind, this.split, h, w);
    const heads = this.numHeads;
    const vWindows = windowPartition(v, hSp, wSp);
    const lepe = this.getV.forward(vWindows);
    const qh = splitHeads(windowPartition(q, hSp, wSp), heads);
    const kh = splitHeads(windowPartition(k, hSp, wSp), heads);
    const vh = splitHeads(vWindows, heads);
    // q is already scaled. Core's attention: one custom-gradient op unless attention dropout is active.
    const { out } = scaledDotProductAttention(qh, kh, vh, { dropout: this.attnDrop, scale: 1 });
    const attended = mergeHeads(out, heads, hSp, wSp);
    return windowMerge(tf.add(attended, lepe), b, h, w);
  }

  /** As forward: attention within the windows plus LePE, a grouped Conv on each V window (NCHW). */
  toOnnx(g: OnnxScope, { q, k, v, h, w }: OnnxStripeInput): string {
    const [hSp, wSp] = stripeShape(this.kind, this.split, h, w);
    const c = this.dim;
    const heads = this.numHeads;
    const hd = c / heads;
    const n = hSp * wSp;
    const map: [number, number, number] = [h, w, c];
    const vWindows = onnxWindows.partition(g, v, map, hSp, wSp);
    const lepe = g.transpose(g.lower('get_v', this.getV, g.transpose(vWindows, [0, 3, 1, 2])), [0, 2, 3, 1]);
    const qh = onnxWindows.splitHeads(g, onnxWindows.partition(g, q, map, hSp, wSp), n, heads, hd);
    const kT = onnxWindows.splitHeads(g, onnxWindows.partition(g, k, map, hSp, wSp), n, heads, hd, true);
    const vh = onnxWindows.splitHeads(g, vWindows, n, heads, hd);
    const attended = onnxWindows.mergeHeads(g, g.attention(qh, kT, vh), heads, n, hd, hSp, wSp);
    return onnxWindows.merge(g, g.op('Add', [attended, lepe]), map, hSp, wSp);
  }

  /** Parameters and MACs (attention matmuls and LePE) on an h x w grid. */
  static cost(dim: number, kind: StripeKind, split: number, h: number, w: number): Cost {
    const [hSp, wSp] = stripeShape(kind, split, h, w);
    const windows = (h / hSp) * (w / wSp);
    const n = hSp * wSp;
    const lepe = Conv2d.cost(dim, dim, 3, hSp, wSp, { padding: 1, groups: dim });
    return { params: lepe.params, macs: windows * (lepe.macs + 2 * n * n * dim) };
  }
}
