import * as tf from '@tensorflow/tfjs-core';
import {
  CapturesAttention,
  type Cost,
  DropPath,
  Dropout,
  Layer,
  LayerNorm,
  Linear,
  type OnnxScope,
  readFloats,
  scaledDotProductAttention,
  sumCosts,
} from '@vitkit/core';

export interface CrossAttentionOptions {
  numHeads: number;
  /** Bias on wq, wk, wv (the reference's qkv_bias; every registered model sets it). */
  qkvBias: boolean;
  /** Logit scale; null for head_dim ** -0.5 (the reference's `qk_scale or head_dim ** -0.5`). */
  qkScale?: number | null;
  attnDrop?: number;
  projDrop?: number;
}

/**
 * CrossViT's cross-attention: only the first token (a branch's class token,
 * projected to this width) is the query; keys and values are every token.
 * Cost is linear in the number of tokens, not quadratic. Parameters `wq`,
 * `wk`, `wv`, `proj` as in the reference.
 *
 * Set `captureAttention` to keep the last forward's probabilities
 * [B, heads, N] (the class token's weights over itself and the other branch's
 * patch tokens) in `attention`; nothing is kept when it is off.
 */
export class CrossAttention extends CapturesAttention {
  readonly wq: Linear;
  readonly wk: Linear;
  readonly wv: Linear;
  readonly proj: Linear;
  readonly numHeads: number;
  readonly scale: number;
  private readonly attnDrop: Dropout;
  private readonly projDrop: Dropout;

  constructor(
    readonly dim: number,
    options: CrossAttentionOptions,
  ) {
    super();
    if (dim % options.numHeads !== 0) throw new Error(`cross-attention: dim ${dim} is not divisible by ${options.numHeads} heads`);
    this.numHeads = options.numHeads;
    this.scale = options.qkScale || (dim / options.numHeads) ** -0.5;
    this.wq = this.addModule('wq', new Linear(dim, dim, { bias: options.qkvBias }));
    this.wk = this.addModule('wk', new Linear(dim, dim, { bias: options.qkvBias }));
    this.wv = this.addModule('wv', new Linear(dim, dim, { bias: options.qkvBias }));
    this.attnDrop = this.addModule('attn_drop', new Dropout(options.attnDrop ?? 0));
    this.proj = this.addModule('proj', new Linear(dim, dim));
    this.projDrop = this.addModule('proj_drop', new Dropout(options.projDrop ?? 0));
  }

  /** x: [B, N, C] -> the attended class token [B, 1, C]. */
  forward(x: tf.Tensor): tf.Tensor {
    const [b, n, c] = x.shape as [number, number, number];
    const h = this.numHeads;
    const d = c / h;
    // With a single query, [B, 1, H, D] and [B, H, 1, D] share one memory order: a reshape suffices.
    const q = tf.reshape(this.wq.forward(tf.slice(x, [0, 0, 0], [b, 1, c])), [b, h, 1, d]);
    const k = tf.transpose(tf.reshape(this.wk.forward(x), [b, n, h, d]), [0, 2, 1, 3]);
    const v = tf.transpose(tf.reshape(this.wv.forward(x), [b, n, h, d]), [0, 2, 1, 3]);
    const { out, probabilities } = scaledDotProductAttention(q, k, v, {
      dropout: this.attnDrop,
      keepProbabilities: this.captureAttention,
      scale: this.scale,
    });
    if (probabilities) this.keepAttention(tf.reshape(probabilities, [b, h, n]));
    return this.projDrop.forward(this.proj.forward(tf.reshape(out, [b, 1, c])));
  }

  /** x: [B, N, C] -> [B, 1, C]; the scale is folded into wq. */
  toOnnx(g: OnnxScope, x: string): string {
    const c = this.dim;
    const h = this.numHeads;
    const d = c / h;
    const scaled = (t: tf.Tensor) => readFloats(t).map((v) => v * this.scale);
    const q = g.at('wq').matmulAdd(g.slice(x, 1, 0, 1), '', scaled(this.wq.weight), [c, c], this.wq.bias ? scaled(this.wq.bias) : null);
    const kT = g.transpose(g.reshape(g.lower('wk', this.wk, x), [0, 0, h, d]), [0, 2, 3, 1]);
    const v = g.transpose(g.reshape(g.lower('wv', this.wv, x), [0, 0, h, d]), [0, 2, 1, 3]);
    const out = g.attention(g.reshape(q, [0, h, 1, d]), kT, v);
    return g.lower('proj', this.proj, g.reshape(out, [0, 1, c]));
  }

  /** One query over `tokens` keys and values: wk and wv see every token, wq and proj only the query. */
  static cost(dim: number, tokens: number, qkvBias: boolean): Cost {
    return sumCosts(
      Linear.cost(dim, dim, 1, qkvBias),
      Linear.cost(dim, dim, tokens, qkvBias),
      Linear.cost(dim, dim, tokens, qkvBias),
      { params: 0, macs: 2 * tokens * dim },
      Linear.cost(dim, dim, 1),
    );
  }
}

export interface CrossAttentionBlockOptions extends CrossAttentionOptions {
  dropPath?: number;
  eps: number;
}

/**
 * Pre-norm cross-attention with a residual on the class token only:
 * x[:, :1] + DropPath(attn(norm1(x))). The output is the updated class token
 * [B, 1, C]; as in every reference configuration, no MLP follows.
 */
export class CrossAttentionBlock extends Layer {
  readonly norm1: LayerNorm;
  readonly attn: CrossAttention;
  private readonly dropPath: DropPath;

  constructor(
    readonly dim: number,
    options: CrossAttentionBlockOptions,
  ) {
    super();
    this.norm1 = this.addModule('norm1', new LayerNorm(dim, options.eps));
    this.attn = this.addModule('attn', new CrossAttention(dim, options));
    this.dropPath = this.addModule('drop_path', new DropPath(options.dropPath ?? 0));
  }

  /** x: [B, N, C] -> [B, 1, C]. */
  forward(x: tf.Tensor): tf.Tensor {
    const [b, , c] = x.shape as [number, number, number];
    return tf.add(tf.slice(x, [0, 0, 0], [b, 1, c]), this.dropPath.forward(this.attn.forward(this.norm1.forward(x))));
  }

  /** x: [B, N, C] -> [B, 1, C]. */
  toOnnx(g: OnnxScope, x: string): string {
    return g.op('Add', [g.slice(x, 1, 0, 1), g.lower('attn', this.attn, g.lower('norm1', this.norm1, x))]);
  }

  static cost(dim: number, tokens: number, qkvBias: boolean): Cost {
    return sumCosts(LayerNorm.cost(dim), CrossAttention.cost(dim, tokens, qkvBias));
  }
}
