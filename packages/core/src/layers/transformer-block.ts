import * as tf from '@tensorflow/tfjs-core';
import { type Cost, sumCosts } from '../complexity.js';
import { MultiHeadSelfAttention } from './attention.js';
import { DropPath } from './dropout.js';
import { Layer } from './layer.js';
import { LayerNorm } from './layer-norm.js';
import { Mlp } from './mlp.js';
import type { OnnxScope } from '../onnx/graph.js';

export interface TransformerBlockOptions {
  numHeads: number;
  /** Hidden width of the MLP, as a multiple of dim (timm) ... */
  mlpRatio?: number;
  /** ... or as an absolute size (pycls' mlp_d); wins over mlpRatio. */
  mlpHidden?: number;
  qkvBias?: boolean;
  drop?: number;
  attnDrop?: number;
  dropPath?: number;
  /** Locality self-attention (see AttentionOptions.locality). */
  locality?: boolean;
  /** LayerNorm epsilon: 1e-6 for timm ViT and CrossViT, 1e-5 for pycls and CSWin. */
  eps: number;
}

export function mlpHiddenSize(dim: number, options: { mlpRatio?: number; mlpHidden?: number }): number {
  return options.mlpHidden ?? Math.floor(dim * (options.mlpRatio ?? 4));
}

/** Pre-norm transformer block: x + DropPath(attn(norm1(x))), then x + DropPath(mlp(norm2(x))). */
export class TransformerBlock extends Layer {
  readonly norm1: LayerNorm;
  readonly attn: MultiHeadSelfAttention;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;
  private readonly dropPath: DropPath;

  constructor(
    readonly dim: number,
    options: TransformerBlockOptions,
  ) {
    super();
    this.norm1 = this.addModule('norm1', new LayerNorm(dim, options.eps));
    this.attn = this.addModule(
      'attn',
      new MultiHeadSelfAttention(dim, {
        numHeads: options.numHeads,
        qkvBias: options.qkvBias ?? true,
        attnDrop: options.attnDrop ?? 0,
        projDrop: options.drop ?? 0,
        locality: options.locality ?? false,
      }),
    );
    this.dropPath = this.addModule('drop_path', new DropPath(options.dropPath ?? 0));
    this.norm2 = this.addModule('norm2', new LayerNorm(dim, options.eps));
    this.mlp = this.addModule('mlp', new Mlp(dim, mlpHiddenSize(dim, options), { drop: options.drop ?? 0 }));
  }

  /** x: [B, N, C] -> [B, N, C]. */
  forward(x: tf.Tensor): tf.Tensor {
    // A scope per block frees its intermediates as soon as it returns: tensors the
    // backward pass needs are kept by the gradient tape, the rest would otherwise
    // live until the caller's tidy ends (all blocks' worth at once).
    return tf.tidy(() => {
      const h = tf.add(x, this.dropPath.forward(this.attn.forward(this.norm1.forward(x))));
      return tf.add(h, this.dropPath.forward(this.mlp.forward(this.norm2.forward(h))));
    });
  }

  /** x: [B, N, C] -> [B, N, C]; drop-path is the identity at inference. */
  toOnnx(g: OnnxScope, x: string): string {
    const h = g.op('Add', [x, g.lower('attn', this.attn, g.lower('norm1', this.norm1, x))]);
    return g.op('Add', [h, g.lower('mlp', this.mlp, g.lower('norm2', this.norm2, h))]);
  }

  static cost(
    dim: number,
    tokens: number,
    options: { mlpRatio?: number; mlpHidden?: number; qkvBias?: boolean; locality?: boolean },
  ): Cost {
    return sumCosts(
      LayerNorm.cost(dim),
      MultiHeadSelfAttention.cost(dim, tokens, options.qkvBias ?? true, options.locality ?? false),
      LayerNorm.cost(dim),
      Mlp.cost(dim, mlpHiddenSize(dim, options), tokens),
    );
  }
}
