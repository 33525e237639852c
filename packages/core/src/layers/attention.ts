import * as tf from '@tensorflow/tfjs-core';
import type { Cost } from '../complexity.js';
import { sumCosts } from '../complexity.js';
import { attentionCore, diagonalMask } from '../ops/attention-core.js';
import { Dropout } from './dropout.js';
import { Module } from '../module.js';
import { Linear } from './linear.js';
import { type OnnxScope, qkvWithScaledQuery } from '../onnx/graph.js';

export interface AttentionOptions {
  numHeads: number;
  qkvBias?: boolean;
  attnDrop?: number;
  projDrop?: number;
  /**
   * Locality self-attention (Lee, Lee & Song 2021): a learned scale (parameter
   * `log_scale`, its logarithm, starting at head_dim^-0.5) and no token
   * attending to itself. Default false (timm's attention).
   */
  locality?: boolean;
}

/**
 * Scaled dot-product attention over heads: q, k, v [B, H, N, D] -> [B, H, N, D],
 * with the probabilities [B, H, N, N] when asked for. `scale` (a number or a
 * one-element tensor) defaults to head_dim^-0.5; `maskDiagonal` keeps each
 * token from attending to itself. Without active dropout it is one
 * custom-gradient op (ops/attention-core.ts); with dropout on the probabilities
 * it is the plain differentiable composition.
 */
export function scaledDotProductAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  options: { dropout?: Dropout; keepProbabilities?: boolean; scale?: number | tf.Tensor; maskDiagonal?: boolean } = {},
): { out: tf.Tensor; probabilities?: tf.Tensor } {
  const scale = options.scale ?? q.shape[q.rank - 1]! ** -0.5;
  const dropout = options.dropout;
  if (!dropout?.training || dropout.rate === 0) {
    return attentionCore(q, k, v, { scale, keepProbabilities: options.keepProbabilities, maskDiagonal: options.maskDiagonal });
  }
  let logits = tf.matMul(tf.mul(q, scale), k, false, true);
  if (options.maskDiagonal) logits = tf.add(logits, diagonalMask(logits.shape[logits.rank - 1]!));
  const probabilities = tf.softmax(logits, -1);
  const out = tf.matMul(dropout.forward(probabilities), v);
  return options.keepProbabilities ? { out, probabilities } : { out };
}

/**
 * An attention module that can keep its probabilities: set `captureAttention`
 * and the next forward leaves them in `attention` (owned by the module until
 * taken); when off, nothing is kept and nothing is paid.
 */
export abstract class CapturesAttention extends Module {
  captureAttention = false;
  /** Probabilities of the last forward with `captureAttention` on. */
  attention: tf.Tensor | null = null;

  protected keepAttention(p: tf.Tensor): void {
    this.attention?.dispose();
    this.attention = tf.keep(p.clone());
  }

  /** Turns capture off and frees what it kept. */
  releaseAttention(): void {
    this.captureAttention = false;
    this.attention?.dispose();
    this.attention = null;
  }

  override dispose(): void {
    this.releaseAttention();
    super.dispose();
  }
}

/**
 * Multi-head self-attention with a fused qkv projection, as timm's `Attention`
 * (parameters `qkv` and `proj`). Set `captureAttention` to keep the last
 * forward's probabilities [B, heads, N, N] in `attention`; it costs nothing
 * when off.
 */
export class MultiHeadSelfAttention extends CapturesAttention {
  readonly qkv: Linear;
  readonly proj: Linear;
  readonly numHeads: number;
  /** Locality self-attention's learned log scale [1], or null (the fixed head_dim^-0.5). */
  readonly logScale: tf.Variable | null;
  private readonly attnDrop: Dropout;
  private readonly projDrop: Dropout;

  constructor(
    readonly dim: number,
    options: AttentionOptions,
  ) {
    super();
    if (dim % options.numHeads !== 0) throw new Error(`attention: dim ${dim} is not divisible by ${options.numHeads} heads`);
    this.numHeads = options.numHeads;
    this.logScale = options.locality ? this.addParameter('log_scale', tf.fill([1], Math.log((dim / options.numHeads) ** -0.5))) : null;
    this.qkv = this.addModule('qkv', new Linear(dim, 3 * dim, { bias: options.qkvBias ?? true }));
    this.attnDrop = this.addModule('attn_drop', new Dropout(options.attnDrop ?? 0));
    this.proj = this.addModule('proj', new Linear(dim, dim));
    this.projDrop = this.addModule('proj_drop', new Dropout(options.projDrop ?? 0));
  }

  /** x: [B, N, C] -> [B, N, C]. */
  forward(x: tf.Tensor): tf.Tensor {
    const [b, n, c] = x.shape as [number, number, number];
    const h = this.numHeads;
    const d = c / h;
    // [B, N, 3H, D] -> [B, 3H, N, D] -> three [B, H, N, D]: one rank-4 transpose (the WebAssembly
    // backend runs rank-5 ones ~30x slower) and one split, whose gradient is a fast Concat
    // (cheaper than Unpack and per-head transposes; docs/webassembly-notes.md).
    const heads = tf.transpose(tf.reshape(this.qkv.forward(x), [b, n, 3 * h, d]), [0, 2, 1, 3]);
    const [q, k, v] = tf.split(tf.reshape(heads, [b, 3, h * n * d]), 3, 1).map((t) => tf.reshape(t, [b, h, n, d])) as [
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
    ];
    const { out, probabilities } = scaledDotProductAttention(q, k, v, {
      dropout: this.attnDrop,
      keepProbabilities: this.captureAttention,
      ...(this.logScale ? { scale: tf.exp(this.logScale), maskDiagonal: true } : {}),
    });
    if (probabilities) this.keepAttention(probabilities);
    const merged = tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [b, n, c]);
    return this.projDrop.forward(this.proj.forward(merged));
  }

  /**
   * x: [B, N, C] -> [B, N, C]. One qkv MatMul whose q columns carry the
   * head_dim^-0.5 scale, one reshape, transpose and split into heads, then
   * MatMul, Softmax, MatMul, as lean as PyTorch's own export.
   */
  toOnnx(g: OnnxScope, x: string): string {
    if (this.logScale) g.fail('locality self-attention (a learned scale, a masked diagonal) cannot be exported to ONNX');
    const c = this.dim;
    const h = this.numHeads;
    const d = c / h;
    const { weight, bias } = qkvWithScaledQuery(this.qkv.weight, this.qkv.bias, d ** -0.5);
    const qkv = g.at('qkv').matmulAdd(x, '', weight, [c, 3 * c], bias);
    const heads = g.transpose(g.reshape(qkv, [0, 0, 3 * h, d]), [0, 2, 1, 3]);
    const [q, k, v] = g.split(heads, 1, [h, h, h]) as [string, string, string];
    const out = g.attention(q, g.transpose(k, [0, 1, 3, 2]), v);
    const merged = g.reshape(g.transpose(out, [0, 2, 1, 3]), [0, 0, c]);
    return g.lower('proj', this.proj, merged);
  }

  static cost(dim: number, tokens: number, qkvBias = true, locality = false): Cost {
    return sumCosts(
      Linear.cost(dim, 3 * dim, tokens, qkvBias),
      { params: locality ? 1 : 0, macs: 2 * tokens * tokens * dim },
      Linear.cost(dim, dim, tokens),
    );
  }
}
