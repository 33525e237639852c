import * as tf from '@tensorflow/tfjs-core';
import {
  type Cost,
  DropPath,
  dense,
  LayerNorm,
  Layer,
  Linear,
  Mlp,
  ModuleList,
  type OnnxScope,
  qkvWithScaledQuery,
  sumCosts,
} from '@vitkit/core';
import { LePEAttention, type OnnxStripeInput, StripeSizeError, type StripeKind } from './lepe-attention.js';

/** A token map in an exported graph: NHWC [B, h, w, C] and its grid. */
export interface OnnxTokenMap {
  value: string;
  h: number;
  w: number;
}

export interface CSWinBlockOptions {
  numHeads: number;
  /** Stripe width of the stage (the reference's split_size). */
  split: number;
  /** One branch of full attention instead of two stripe branches. */
  fullAttention: boolean;
  mlpRatio?: number;
  qkvBias?: boolean;
  /** Overrides headDim^-0.5 when set (the reference's qk_scale). */
  qkScale?: number | null;
  drop?: number;
  attnDrop?: number;
  dropPath?: number;
  /** 1-based stage number, for error messages. */
  stage?: number;
}

/** CSWin's LayerNorm epsilon (PyTorch's default). */
export const CSWIN_EPS = 1e-5;

/**
 * One CSWin block (the reference's CSWinBlock) on an NHWC token map:
 * x + DropPath(proj(attn(norm1(x)))), then x + DropPath(mlp(norm2(x))).
 * The fused `qkv` projection feeds two branches: the first half of each of
 * q, k and v (and so the first half of the heads) attends within column
 * stripes, the second half within row stripes; the last stage uses a single
 * branch over the whole map.
 */
export class CSWinBlock extends Layer {
  readonly qkv: Linear;
  readonly norm1: LayerNorm;
  readonly proj: Linear;
  readonly attns: ModuleList<LePEAttention>;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;
  private readonly dropPath: DropPath;
  private readonly scale: number;
  private readonly stage: number;

  constructor(
    readonly dim: number,
    readonly options: CSWinBlockOptions,
  ) {
    super();
    const branches = CSWinBlock.branches(dim, options);
    this.stage = options.stage ?? 0;
    this.qkv = this.addModule('qkv', new Linear(dim, 3 * dim, { bias: options.qkvBias ?? true }));
    this.norm1 = this.addModule('norm1', new LayerNorm(dim, CSWIN_EPS));
    this.proj = this.addModule('proj', new Linear(dim, dim));
    this.attns = this.addModule(
      'attns',
      new ModuleList(branches.map((br) => new LePEAttention(br.dim, br.heads, br.kind, options.split, options.attnDrop ?? 0))),
    );
    const headDim = Math.floor(branches[0]!.dim / branches[0]!.heads);
    // `qk_scale or head_dim ** -0.5` in the reference: 0 and null both mean the default.
    this.scale = options.qkScale || headDim ** -0.5;
    this.dropPath = this.addModule('drop_path', new DropPath(options.dropPath ?? 0));
    this.mlp = this.addModule('mlp', new Mlp(dim, Math.floor(dim * (options.mlpRatio ?? 4)), { drop: options.drop ?? 0 }));
    this.norm2 = this.addModule('norm2', new LayerNorm(dim, CSWIN_EPS));
  }

  /** The branches' channel count, heads and stripe kind, as the reference splits them. */
  static branches(
    dim: number,
    options: Pick<CSWinBlockOptions, 'numHeads' | 'fullAttention'>,
  ): { dim: number; heads: number; kind: StripeKind }[] {
    if (options.fullAttention) {
      if (dim % options.numHeads !== 0) throw new Error(`CSWinBlock: dim ${dim} is not divisible by ${options.numHeads} heads`);
      return [{ dim, heads: options.numHeads, kind: 'full' }];
    }
    const half = Math.floor(options.numHeads / 2);
    if (dim % 2 !== 0 || half === 0 || (dim / 2) % half !== 0) {
      throw new Error(
        `CSWinBlock: two stripe branches need an even dim and at least 2 heads with (dim/2) divisible by heads/2 (dim ${dim}, ${options.numHeads} heads)`,
      );
    }
    return [
      { dim: dim / 2, heads: half, kind: 'columns' },
      { dim: dim / 2, heads: half, kind: 'rows' },
    ];
  }

  /** Throws StripeSizeError unless an h x w grid divides into this block's stripes. */
  static checkGrid(stage: number, h: number, w: number, split: number, fullAttention: boolean, inputSize?: [number, number]): void {
    if (!fullAttention && (h % split !== 0 || w % split !== 0)) throw new StripeSizeError(stage, [h, w], split, inputSize);
  }

  /** x: [B, H, W, C] -> [B, H, W, C]. */
  forward(x: tf.Tensor): tf.Tensor {
    const [, h, w] = x.shape as [number, number, number, number];
    CSWinBlock.checkGrid(this.stage, h, w, this.options.split, this.options.fullAttention);
    const img = this.norm1.forward(x);
    const branches = this.attns.items;
    // One dense per branch and per q/k/v on a column slice of the qkv weight,
    // instead of one fused matmul then channel slices: no activation slicing
    // (slow on WebAssembly) and, measured, faster matmuls (narrower outputs).
    // The attention scale is folded into q's weights.
    const c = this.dim;
    let attended: tf.Tensor | null = null;
    let offset = 0;
    for (const branch of branches) {
      const cb = branch.dim;
      const project = (part: number, scale = 1) => {
        const start = part * c + offset;
        const wSlice = tf.slice(this.qkv.weight, [0, start], [c, cb]);
        const bSlice = this.qkv.bias ? tf.slice(this.qkv.bias, [start], [cb]) : undefined;
        return scale === 1 ? dense(img, wSlice, bSlice) : dense(img, tf.mul(wSlice, scale), bSlice ? tf.mul(bSlice, scale) : undefined);
      };
      const out = branch.forward(project(0, this.scale), project(1), project(2));
      // proj(concat(branches)) as a sum of per-branch products over row slices of its weight, so nothing is concatenated.
      const pw = cb === c ? this.proj.weight : tf.slice(this.proj.weight, [offset, 0], [cb, c]);
      const projected = dense(out, pw);
      attended = attended ? tf.add(attended, projected) : projected;
      offset += cb;
    }
    const y = tf.add(x, this.dropPath.forward(tf.add(attended!, this.proj.bias!)));
    return tf.add(y, this.dropPath.forward(this.mlp.forward(this.norm2.forward(y))));
  }

  /**
   * As forward, with one fused qkv MatMul (the scale folded into q's columns)
   * split into each branch's q, k and v, and one proj MatMul over the branches'
   * concatenated outputs.
   */
  toOnnx(g: OnnxScope, { value: x, h, w }: OnnxTokenMap): OnnxTokenMap {
    const c = this.dim;
    const { weight, bias } = qkvWithScaledQuery(this.qkv.weight, this.qkv.bias, this.scale);
    const branches = this.attns.items;
    const qkv = g.at('qkv').matmulAdd(g.lower('norm1', this.norm1, x), '', weight, [c, 3 * c], bias);
    // qkv's columns are q, k and v, each the branches' parts in order: [q0, q1, k0, k1, v0, v1].
    const parts = g.split(
      qkv,
      -1,
      [0, 1, 2].flatMap(() => branches.map((b) => b.dim)),
    );
    const outs = branches.map((branch, i) => {
      const [q, k, v] = [0, 1, 2].map((p) => parts[p * branches.length + i]!) as [string, string, string];
      return g.at('attns').lower<OnnxStripeInput>(String(i), branch, { q, k, v, h, w });
    });
    const attended = g.lower('proj', this.proj, outs.length === 1 ? outs[0]! : g.concat(outs, -1));
    const y = g.op('Add', [x, attended]);
    return { value: g.op('Add', [y, g.lower('mlp', this.mlp, g.lower('norm2', this.norm2, y))]), h, w };
  }

  /** Parameters and MACs on an h x w grid. */
  static cost(dim: number, h: number, w: number, options: CSWinBlockOptions): Cost {
    const tokens = h * w;
    const branches = CSWinBlock.branches(dim, options).map((br) => LePEAttention.cost(br.dim, br.kind, options.split, h, w));
    return sumCosts(
      Linear.cost(dim, 3 * dim, tokens, options.qkvBias ?? true),
      LayerNorm.cost(dim),
      Linear.cost(dim, dim, tokens),
      ...branches,
      Mlp.cost(dim, Math.floor(dim * (options.mlpRatio ?? 4)), tokens),
      LayerNorm.cost(dim),
    );
  }
}
