/**
 * CrossViT: Cross-Attention Multi-Scale Vision Transformer for Image
 * Classification (Chen, Fan and Panda, ICCV 2021, https://arxiv.org/abs/2103.14899).
 * A port of the official IBM/CrossViT `models/crossvit.py` VisionTransformer,
 * with its parameter names (`cls_token.0`, `pos_embed.0`, `blocks.0.fusion.0.attn.wq`).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  type AttentionExplainer,
  type AttentionMapGroup,
  type AttentionMapOptions,
  type Cost,
  classifierHead,
  Dropout,
  type IntermediateRecorder,
  type IntermediatesOptions,
  type IntermediatesResult,
  ImageClassifier,
  keepOutputs,
  type Layer,
  LayerNorm,
  mimeticInit,
  Linear,
  ModuleList,
  onnxAttr,
  type OnnxScope,
  PatchEmbed,
  poolTokens,
  prependToken,
  resize2d,
  ShiftedPatchEmbed,
  sumCosts,
  takeIndices,
  type TokenEmbedder,
  truncNormal,
} from '@vitkit/core';
import { MULTI_CONV_PATCH_SIZES, MultiConvPatchEmbed } from './multi-conv-patch-embed.js';
import { MultiScaleBlock } from './multi-scale-block.js';
import { ParameterList } from './parameter-list.js';

export interface CrossViTConfig {
  /** Square image size of each branch; the input is resized (bicubic) to each size it differs from. */
  imgSize: number[];
  /** Patch size of each branch (12 and 16 in every published model). */
  patchSize: number[];
  inChannels: number;
  /** 0 leaves out the heads: forward returns the class tokens, concatenated (see CrossViT.forwardHead). */
  numClasses: number;
  /** Width of each branch. */
  embedDim: number[];
  /**
   * One entry per multi-scale encoder: the transformer depth of each branch,
   * then the cross-attention depth (0: one layer, the published form).
   */
  depth: number[][];
  numHeads: number[];
  /** MLP ratio of each branch (a trailing extra entry, unused, is allowed as in the reference). */
  mlpRatio: number[];
  qkvBias: boolean;
  /** Cross-attention logit scale; null for head_dim ** -0.5. */
  qkScale: number | null;
  /** Dagger variants: three-convolution patch embedding instead of one patchify convolution. */
  multiConv: boolean;
  dropRate: number;
  attnDropRate: number;
  dropPathRate: number;
  /** LayerNorm epsilon: 1e-6 in every published CrossViT. */
  eps: number;
  /**
   * Standard deviation of the position embedding's initial values (truncated normal;
   * default 0.02, as the reference). The micro models start it near the scale of the
   * patch tokens so positions are told apart from the first step: on short runs
   * (one MNIST epoch) that is what a small ViT learns slowest.
   */
  posEmbedInitStd?: number;
  /**
   * Attention weights' initial values: the reference's, or 'mimetic' (q/k and
   * v/proj near plus and minus identity; see core's mimeticInit).
   */
  attentionInit?: 'reference' | 'mimetic';
  /** Shifted patch tokens (core's ShiftedPatchEmbed) instead of the patchify convolution, in every branch. */
  shiftedPatches?: boolean;
}

/** The token embedder class of every branch: dagger convolutions, shifted patches, or the patchify convolution. */
function branchEmbedder(c: CrossViTConfig): {
  create(patchSize: number, inChannels: number, embedDim: number): TokenEmbedder;
  cost(patchSize: number, inChannels: number, embedDim: number, h: number, w: number): Cost;
} {
  const cls = c.multiConv ? MultiConvPatchEmbed : c.shiftedPatches ? ShiftedPatchEmbed : PatchEmbed;
  return { create: (p, inC, d) => new cls(p, inC, d), cost: (p, inC, d, h, w) => cls.cost(p, inC, d, h, w) };
}

/** Checks a configuration as the reference constructor and forward would; errors name the reference argument. */
export function validateCrossViTConfig(c: CrossViTConfig): void {
  const n = c.patchSize.length;
  const fail = (arg: string, why: string): never => {
    throw new Error(`CrossViT ${arg}: ${why}`);
  };
  if (n < 1) fail('patch_size', 'needs at least one branch');
  const perBranch = { img_size: c.imgSize, embed_dim: c.embedDim, num_heads: c.numHeads };
  for (const [arg, v] of Object.entries(perBranch)) if (v.length !== n) fail(arg, `has ${v.length} entries for ${n} branches`);
  if (c.mlpRatio.length < n) fail('mlp_ratio', `has ${c.mlpRatio.length} entries for ${n} branches`);
  if (c.multiConv && c.shiftedPatches) fail('multi_conv', 'and shiftedPatches are two different token embedders: choose one');
  c.patchSize.forEach((p, i) => {
    const s = c.imgSize[i]!;
    if (!(p > 0 && s >= p && s % p === 0)) fail('img_size', `branch ${i}: image size ${s} must be a positive multiple of patch size ${p}`);
    if (c.multiConv && !MULTI_CONV_PATCH_SIZES.includes(p)) {
      fail('multi_conv', `the reference builds it only for patch sizes ${MULTI_CONV_PATCH_SIZES.join(' and ')}, not ${p}`);
    }
    const heads = c.numHeads[i]!;
    if (c.embedDim[i]! % heads !== 0) fail('num_heads', `branch ${i}: width ${c.embedDim[i]} is not divisible by ${heads} heads`);
  });
  if (c.depth.length < 1) fail('depth', 'needs at least one multi-scale encoder');
  for (const stage of c.depth) {
    if (stage.length !== n + 1) fail('depth', `stage [${stage}] needs ${n} branch depths and a fusion depth`);
    // The reference drops empty branches from its ModuleList and then pairs blocks with the wrong branch.
    if (stage.slice(0, n).some((d) => !(Number.isInteger(d) && d >= 1)))
      fail('depth', `stage [${stage}]: every branch needs at least one block`);
    if (!(Number.isInteger(stage[n]) && stage[n]! >= 0)) fail('depth', `stage [${stage}]: the fusion depth must be 0 or more`);
  }
  if (!(Number.isInteger(c.numClasses) && c.numClasses >= 0)) fail('num_classes', `must be a whole number >= 0, got ${c.numClasses}`);
}

/** Tokens of each branch, class token included. */
export function branchTokens(c: CrossViTConfig): number[] {
  return c.imgSize.map((s, i) => 1 + (s / c.patchSize[i]!) ** 2);
}

/**
 * The reference's stochastic-depth schedule: torch.linspace(0, rate, total)
 * with total = sum over stages of (last branch depth + fusion depth), handed
 * out to the stages in slices of max(branch depths) + fusion depth.
 */
export function dropPathSchedule(c: CrossViTConfig): number[][] {
  const total = c.depth.reduce((s, stage) => s + stage[stage.length - 2]! + stage[stage.length - 1]!, 0);
  const all = Array.from({ length: total }, (_, i) => (total === 1 ? 0 : (c.dropPathRate * i) / (total - 1)));
  let at = 0;
  return c.depth.map((stage) => {
    const take = Math.max(...stage.slice(0, -1)) + stage[stage.length - 1]!;
    const slice = all.slice(at, at + take);
    at += take;
    return slice;
  });
}

/**
 * Intermediate outputs reach an IntermediateRecorder under the reference's
 * sub-module names: `patch_embed.i` (branch i's patch tokens), `blocks.k_i`
 * (branch i's tokens after multi-scale encoder k, as the reference names list
 * outputs), `norm.i` and `head.i`, tokens [B, N_i, C_i].
 */
export class CrossViT extends ImageClassifier implements AttentionExplainer {
  readonly patchEmbed: ModuleList<TokenEmbedder>;
  readonly clsToken: ParameterList;
  readonly posEmbed: ParameterList;
  readonly blocks: ModuleList<MultiScaleBlock>;
  readonly norm: ModuleList<LayerNorm>;
  private headList: ModuleList<Layer>;
  private readonly posDrop: Dropout;
  numClasses: number;
  readonly imgSize: [number, number];

  constructor(readonly config: CrossViTConfig) {
    super();
    validateCrossViTConfig(config);
    const c = config;
    const n = c.patchSize.length;
    const tokens = branchTokens(c);
    this.numClasses = c.numClasses;
    this.imgSize = [c.imgSize[0]!, c.imgSize[0]!];

    this.patchEmbed = this.addModule('patch_embed', new ModuleList<TokenEmbedder>());
    for (let i = 0; i < n; i++) {
      const [p, d] = [c.patchSize[i]!, c.embedDim[i]!];
      this.patchEmbed.push(branchEmbedder(c).create(p, c.inChannels, d));
    }
    this.posEmbed = this.addModule('pos_embed', new ParameterList());
    for (let i = 0; i < n; i++) this.posEmbed.push(truncNormal([1, tokens[i]!, c.embedDim[i]!], c.posEmbedInitStd ?? 0.02));
    this.clsToken = this.addModule('cls_token', new ParameterList());
    for (let i = 0; i < n; i++) this.clsToken.push(truncNormal([1, 1, c.embedDim[i]!]));
    this.posDrop = this.addModule('pos_drop', new Dropout(c.dropRate));

    const schedule = dropPathSchedule(c);
    this.blocks = this.addModule('blocks', new ModuleList<MultiScaleBlock>());
    c.depth.forEach((stage, k) => {
      this.blocks.push(
        new MultiScaleBlock({
          dims: c.embedDim,
          depth: stage,
          numHeads: c.numHeads,
          mlpRatio: c.mlpRatio,
          qkvBias: c.qkvBias,
          qkScale: c.qkScale,
          drop: c.dropRate,
          attnDrop: c.attnDropRate,
          dropPath: schedule[k]!,
          eps: c.eps,
        }),
      );
    });
    if (c.attentionInit === 'mimetic') mimeticInit(this.blocks);
    this.norm = this.addModule('norm', new ModuleList(c.embedDim.map((d) => new LayerNorm(d, c.eps))));
    this.headList = this.addModule('head', this.makeHeads(c.numClasses, 'trunc_normal'));
  }

  /** One head per branch: Linear(C_i, numClasses), or Identities without classes. */
  get head(): ModuleList<Layer> {
    return this.headList;
  }

  private makeHeads(numClasses: number, init: 'trunc_normal' | 'zeros'): ModuleList<Layer> {
    return new ModuleList(this.config.embedDim.map((d) => classifierHead(d, numClasses, init)));
  }

  /**
   * Replaces every branch's head by a fresh one for `numClasses` classes (0:
   * none, and forward returns the pre-logits of forwardHead), with zero
   * weights and bias, in the model's train/eval mode. The old heads are disposed.
   */
  resetClassifier(numClasses: number): void {
    const heads = this.makeHeads(numClasses, 'zeros');
    heads.train(this.training);
    this.replaceModule('head', heads).dispose();
    this.headList = heads;
    this.numClasses = numClasses;
  }

  /** x: [B, H, W, C] NHWC -> each branch's tokens [B, 1 + N_i, C_i] after its final norm. Call inside tf.tidy. */
  forwardFeatures(x: tf.Tensor, record?: IntermediateRecorder): tf.Tensor[] {
    if (x.rank !== 4 || x.shape[3] !== this.config.inChannels) {
      throw new Error(`CrossViT expects NHWC images with ${this.config.inChannels} channels, got [${x.shape.join(', ')}]`);
    }
    const [, h, w] = x.shape;
    const c = this.config;
    let xs = this.patchEmbed.items.map((embed, i) => {
      const s = c.imgSize[i]!;
      // The reference resizes a branch's input only when it differs from the branch's size.
      const image = h === s && w === s ? x : resize2d(x as tf.Tensor4D, s, s, 'bicubic');
      const tokens = embed.forward(image);
      record?.(`patch_embed.${i}`, tokens);
      return this.posDrop.forward(tf.add(prependToken(tokens, this.clsToken.items[i]!), this.posEmbed.items[i]!));
    });
    this.blocks.items.forEach((block, k) => {
      xs = block.forward(xs);
      if (record) for (const [i, t] of xs.entries()) record(`blocks.${k}_${i}`, t);
    });
    return xs.map((t, i) => {
      const normed = this.norm.items[i]!.forward(t);
      record?.(`norm.${i}`, normed);
      return normed;
    });
  }

  /**
   * Each branch's class token through its head; the logits [B, numClasses]
   * are the mean over the branches. With `preLogits` (or without heads) the
   * class tokens concatenated on the last axis, [B, sum of C_i], as timm's
   * CrossViT gives them.
   */
  forwardHead(features: tf.Tensor[], options: { preLogits?: boolean; record?: IntermediateRecorder } = {}): tf.Tensor {
    const n = this.config.patchSize.length;
    if (!Array.isArray(features) || features.length !== n) {
      throw new Error(
        `CrossViT forwardHead: features must be the ${n} branches' tokens from forwardFeatures, got ${Array.isArray(features) ? `${features.length}` : 'one tensor'}`,
      );
    }
    const tokens = features.map((t) => poolTokens(t, 'token'));
    if (options.preLogits || this.numClasses === 0) return tf.concat(tokens, -1);
    const logits = tokens.map((t, i) => {
      const out = this.headList.items[i]!.forward(t);
      options.record?.(`head.${i}`, out);
      return out;
    });
    return tf.mean(tf.stack(logits), 0);
  }

  /** x: [B, H, W, C] NHWC -> logits [B, numClasses], the mean of the branches' heads. Call inside tf.tidy. */
  forward(x: tf.Tensor): tf.Tensor {
    return this.forwardHead(this.forwardFeatures(x));
  }

  /**
   * The final features and the chosen multi-scale encoders' outputs
   * (0-based; default all), each as its branches' tokens [B, 1 + N_i, C_i].
   * `norm` applies each branch's final norm, so the last encoder's output
   * then equals the features. Call inside tf.tidy.
   */
  forwardIntermediates(x: tf.Tensor, options: IntermediatesOptions = {}): IntermediatesResult {
    const take = takeIndices(this.blocks.length, options.indices, 'CrossViT.forwardIntermediates', 'multi-scale blocks');
    const branches = [...this.config.patchSize.keys()];
    const { record, outputs } = keepOutputs(take.flatMap((k) => branches.map((i) => `blocks.${k}_${i}`)));
    const features = this.forwardFeatures(x, record);
    const intermediates = take.map((k) =>
      branches.map((i) => {
        const out = outputs.get(`blocks.${k}_${i}`)!;
        return options.norm ? this.norm.items[i]!.forward(out) : out;
      }),
    );
    return { features, intermediates };
  }

  /** Logits and every reference sub-module output (`patch_embed.i`, `blocks.k_i`, `norm.i`, `head.i`), for parity. */
  forwardWithIntermediates(x: tf.Tensor4D): { logits: tf.Tensor; intermediates: Record<string, tf.Tensor> } {
    const { record, outputs } = keepOutputs();
    const logits = this.forwardHead(this.forwardFeatures(x, record), { record });
    return { logits, intermediates: Object.fromEntries(outputs) };
  }

  /**
   * Logits and the cross-attention maps: `crossAttention[k][i][l]` is
   * [B, heads, 1 + N_j], the probabilities with which branch i's class token
   * (projected to branch j = i + 1's width) reads, in encoder k and fusion
   * layer l, itself (index 0) and branch j's patch tokens (1.., row-major grid).
   * The maps are new tensors in the caller's scope.
   */
  forwardWithCrossAttention(x: tf.Tensor4D): { logits: tf.Tensor; crossAttention: tf.Tensor[][][] } {
    const modules = this.blocks.items.map((b) => b.crossAttentions());
    const all = modules.flat(2);
    for (const m of all) m.captureAttention = true;
    try {
      const logits = tf.tidy(() => this.forward(x));
      const crossAttention = modules.map((stage) => stage.map((branch) => branch.map((m) => (m.attention as tf.Tensor).clone())));
      return { logits, crossAttention };
    } finally {
      for (const m of all) m.releaseAttention();
    }
  }

  /**
   * For `vitkit attention`: per head, where each branch's class token reads the
   * other branch's patch grid in encoder `layer` (default the last; its last
   * fusion layer). Rollout is not defined across the two branches.
   */
  explainAttention(x: tf.Tensor4D, options: AttentionMapOptions): { logits: tf.Tensor; groups: AttentionMapGroup[] } {
    if (options.rollout) throw new Error('CrossViT: attention rollout is not defined across branches; choose an encoder with --layer');
    const depth = this.blocks.length;
    const k = (options.layer ?? -1) < 0 ? depth + (options.layer ?? -1) : options.layer!;
    if (!Number.isInteger(k) || k < 0 || k >= depth)
      throw new Error(`CrossViT: encoder ${options.layer} does not exist (the model has ${depth})`);
    const { logits, crossAttention } = this.forwardWithCrossAttention(x);
    const n = this.config.patchSize.length;
    const groups = tf.tidy(() =>
      crossAttention[k]!.map((layers, i) => {
        const j = (i + 1) % n;
        const g = this.config.imgSize[j]! / this.config.patchSize[j]!;
        const probabilities = layers.at(-1)!;
        const [b, heads] = probabilities.shape as [number, number, number];
        const patches = tf.slice(probabilities, [0, 0, 1], [b, heads, g * g]);
        return {
          title: `encoder ${k}: branch ${i} class token over branch ${j} patches`,
          grid: [g, g] as [number, number],
          maps: tf.keep(tf.reshape(patches, [b, heads, g, g])),
          labels: Array.from({ length: heads }, (_, h) => `head ${h}`),
        };
      }),
    );
    tf.dispose(crossAttention.flat(2));
    return { logits, groups };
  }

  get inChannels(): number {
    return this.config.inChannels;
  }

  /**
   * pixel_values [B, C, H, W] -> logits: each branch's image (ONNX Resize,
   * cubic a = -0.75 with half-pixel centres, as PyTorch's bicubic), tokens and
   * encoders as forward, then each class token's norm and head, averaged.
   */
  toOnnx(g: OnnxScope, x: string): string {
    const c = this.config;
    const [h, w] = this.imgSize;
    let xs = this.patchEmbed.items.map((embed, i) => {
      const s = c.imgSize[i]!;
      const image = h === s && w === s ? x : resizeBicubic(g.at(`patch_embed.${i}`), x, s);
      const tokens = g.at('patch_embed').lower(String(i), embed, image);
      const cls = g.expandToBatch(g.at('cls_token').parameter(String(i), this.clsToken.items[i]!), tokens, [1, c.embedDim[i]!]);
      return g.op('Add', [g.concat([cls, tokens], 1), g.at('pos_embed').parameter(String(i), this.posEmbed.items[i]!)]);
    });
    this.blocks.items.forEach((block, k) => {
      xs = g.at('blocks').lower<string[], string[]>(String(k), block, xs);
    });
    // The final norm is per token: only the class tokens need it.
    const tokens = xs.map((t, i) => g.at('norm').lower(String(i), this.norm.items[i]!, g.gather(t, 1, 0)));
    if (this.numClasses === 0) return g.concat(tokens, -1);
    const logits = tokens.map((t, i) => g.at('head').lower(String(i), this.headList.items[i]!, t));
    return logits.length === 1 ? logits[0]! : g.op('Mul', [g.op('Sum', logits), g.scalar(1 / logits.length)]);
  }

  complexity(): Cost {
    return CrossViT.cost({ ...this.config, numClasses: this.numClasses });
  }

  /** Parameters and MACs for one image, from the configuration alone (the bicubic resize is not counted). */
  static cost(c: CrossViTConfig): Cost {
    validateCrossViTConfig(c);
    const tokens = branchTokens(c);
    const perBranch = c.embedDim.map((d, i) => {
      const s = c.imgSize[i]!;
      const p = c.patchSize[i]!;
      return sumCosts(
        branchEmbedder(c).cost(p, c.inChannels, d, s, s),
        { params: (tokens[i]! + 1) * d, macs: 0 }, // position embedding and class token
        LayerNorm.cost(d),
        Linear.cost(d, c.numClasses, 1),
      );
    });
    const stages = c.depth.map((stage) =>
      MultiScaleBlock.cost({ dims: c.embedDim, depth: stage, mlpRatio: c.mlpRatio, qkvBias: c.qkvBias }, tokens),
    );
    return sumCosts(...perBranch, ...stages);
  }
}

/** x [B, C, H, W] -> [B, C, size, size], as resize2d's bicubic (PyTorch's: a = -0.75, align_corners=False, clamped borders). */
function resizeBicubic(g: OnnxScope, x: string, size: number): string {
  const sizes = g.concat([g.op('Shape', [x], { start: onnxAttr.int(0), end: onnxAttr.int(2) }), g.int64s([size, size])], 0);
  return g.op('Resize', [x, '', '', sizes], {
    mode: onnxAttr.string('cubic'),
    cubic_coeff_a: onnxAttr.float(-0.75),
    coordinate_transformation_mode: onnxAttr.string('half_pixel'),
    exclude_outside: onnxAttr.int(0),
  });
}
