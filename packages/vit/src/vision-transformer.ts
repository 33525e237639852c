// The Vision Transformer of Dosovitskiy et al. 2021 ("An Image is Worth 16x16
// Words", https://arxiv.org/abs/2010.11929) as timm 0.6.13's VisionTransformer
// builds it, so timm checkpoints load by name: patchify, class token, learned
// position embedding, pre-norm blocks, final norm, pooled token, linear head.
// DeiT (Touvron et al. 2021) is the same network with other training.
import * as tf from '@tensorflow/tfjs-core';
import {
  type Cost,
  Dropout,
  declareOptions,
  type GlobalPool,
  Identity,
  type IntermediateRecorder,
  type IntermediatesOptions,
  type IntermediatesResult,
  ImageClassifier,
  initRng,
  mimeticInit,
  type Layer,
  type OnnxScope,
  LayerNorm,
  Linear,
  ModuleList,
  type OptionsOf,
  PatchEmbed,
  patchGrid,
  ShiftedPatchEmbed,
  PreLogits,
  poolTokens,
  prependToken,
  repeatCost,
  sumCosts,
  takeIndices,
  type TokenEmbedder,
  TransformerBlock,
  truncNormal,
  type AttentionExplainer,
  type AttentionMapGroup,
  type AttentionMapOptions,
  type BlockTransformer,
  explainBlockAttention,
} from '@vitkit/core';

/**
 * Builds the token embedder in front of the transformer (default: timm's
 * PatchEmbed). A convolutional stem from @vitkit/hybrid-stem plugs in here.
 */
export interface EmbedLayerFactory {
  (imgSize: [number, number], inChannels: number, embedDim: number): TokenEmbedder;
  /**
   * The embedder's cost and token grid for an imgSize image, without building
   * it: `VisionTransformer.cost` (the registry's static count) needs it for a
   * model with this embedder.
   */
  cost?(imgSize: [number, number], inChannels: number, embedDim: number): EmbedCost;
}

/** What an embedder costs and the token grid it gives. */
export interface EmbedCost {
  cost: Cost;
  grid: [number, number];
}

/**
 * Every option of VisionTransformer with its default (timm's: ViT-B/16 at
 * 224); `createModel` accepts exactly these names for the vit family.
 */
export const VIT_OPTIONS = declareOptions('VisionTransformer', {
  /** Input resolution the position embedding is built for (default 224). */
  imgSize: 224 as number | [number, number],
  /** Side of a square patch (default 16); unused when `embedLayer` is given. */
  patchSize: 16,
  inChannels: 3,
  /** Classes of the head; 0 leaves no head and `forward` returns the pooled features. */
  numClasses: 1000,
  /** 'token': the class token; 'avg': mean of the tokens after the class token (default 'token'). */
  globalPool: 'token' as GlobalPool,
  embedDim: 768,
  depth: 12,
  numHeads: 12,
  /** MLP hidden width as a multiple of embedDim (timm). */
  mlpRatio: 4,
  /** MLP hidden width as an absolute size (pycls' mlp_d); wins over mlpRatio when set. */
  mlpHidden: null as number | null,
  qkvBias: true,
  /** Prepend a learned class token (default true; 'token' pooling needs it). */
  classToken: true,
  /** Position embedding covers only the patches and is added before the class token is prepended (DeiT III, big_vision). */
  noEmbedClass: false,
  /**
   * Normalise the pooled vector (`fc_norm`) instead of all tokens (`norm`).
   * null (the default) follows timm: on for 'avg' pooling, off for 'token'.
   * pycls' mean-token classifier ('pooled') is `classToken: false,
   * globalPool: 'avg', fcNorm: false`: the final norm on every token, then their mean.
   */
  fcNorm: null as boolean | null,
  /** Representation layer (Linear + tanh, `pre_logits.fc`) of this size before the head, as the original in21k ViTs. */
  representationSize: null as number | null,
  /** Dropout after the position embedding and inside every block (attention projection, MLP). */
  dropRate: 0,
  attnDropRate: 0,
  /** Stochastic depth, rising linearly from 0 in the first block to this rate in the last. */
  dropPathRate: 0,
  /** LayerNorm epsilon (timm: 1e-6; pycls: 1e-5). */
  eps: 1e-6,
  /**
   * Standard deviation of the position embedding's initial values (truncated normal;
   * default 0.02, as timm). The micro models start it near the scale of the
   * patch tokens so positions are told apart from the first step: on short runs
   * (one MNIST epoch) that is what a small ViT learns slowest.
   */
  posEmbedInitStd: 0.02,
  /**
   * Attention weights' initial values: 'reference' (timm's truncated normal, std 0.02) or
   * 'mimetic' (q/k and v/proj near plus and minus identity; see core's mimeticInit).
   */
  attentionInit: 'reference' as 'reference' | 'mimetic',
  /**
   * Shifted patch tokens (core's ShiftedPatchEmbed: each patch with its four
   * half-patch diagonal shifts, LayerNorm, linear) instead of the patchify
   * convolution (default false). Same patch grid; used by vit_micro_32.
   */
  shiftedPatches: false,
  /** Locality self-attention in every block (core's AttentionOptions.locality; default false). */
  localityAttention: false,
  /** Another token embedder in place of the patchify convolution (a conv stem: ViTC). */
  embedLayer: null as EmbedLayerFactory | null,
});

export type VisionTransformerOptions = OptionsOf<typeof VIT_OPTIONS.defaults>;

/** Every option resolved to its value. */
export type VisionTransformerConfig = Omit<typeof VIT_OPTIONS.defaults, 'imgSize' | 'embedLayer' | 'fcNorm'> & {
  imgSize: [number, number];
  fcNorm: boolean;
};

export function resolveConfig(options: VisionTransformerOptions = {}): VisionTransformerConfig {
  const { imgSize, embedLayer: _, ...o } = VIT_OPTIONS.resolve([options]);
  const config: VisionTransformerConfig = {
    ...o,
    imgSize: typeof imgSize === 'number' ? [imgSize, imgSize] : [imgSize[0], imgSize[1]],
    fcNorm: o.fcNorm ?? o.globalPool === 'avg',
    representationSize: o.representationSize || null,
  };
  if (config.globalPool !== 'token' && config.globalPool !== 'avg')
    throw new Error(`VisionTransformer: globalPool must be 'token' or 'avg' (got '${config.globalPool}')`);
  if (config.globalPool === 'token' && !config.classToken) throw new Error("VisionTransformer: globalPool 'token' needs classToken: true");
  if (config.mlpHidden !== null && !(Number.isInteger(config.mlpHidden) && config.mlpHidden > 0))
    throw new Error(`VisionTransformer: mlpHidden must be a positive whole number or null (got ${config.mlpHidden})`);
  if (config.embedDim % config.numHeads !== 0) {
    throw new Error(`VisionTransformer: embedDim ${config.embedDim} is not divisible by numHeads ${config.numHeads}`);
  }
  return config;
}

/** The MLP width of every block: the absolute width when given, else the ratio's. */
function blockMlp(c: VisionTransformerConfig): { mlpRatio: number; mlpHidden?: number } {
  return c.mlpHidden === null ? { mlpRatio: c.mlpRatio } : { mlpRatio: c.mlpRatio, mlpHidden: c.mlpHidden };
}

/** The token grid and embedding cost of the model's embedder, from the configuration alone. */
function staticEmbedCost(c: VisionTransformerConfig, embedLayer: EmbedLayerFactory | null): EmbedCost {
  if (embedLayer) {
    if (!embedLayer.cost) {
      throw new Error(
        'VisionTransformer.cost: the embedLayer factory has no static cost(); give it one, or count a built model with complexity()',
      );
    }
    return embedLayer.cost(c.imgSize, c.inChannels, c.embedDim);
  }
  const [h, w] = c.imgSize;
  return {
    cost: (c.shiftedPatches ? ShiftedPatchEmbed : PatchEmbed).cost(c.patchSize, c.inChannels, c.embedDim, h, w),
    grid: patchGrid(c.patchSize, h, w),
  };
}

export class VisionTransformer extends ImageClassifier implements BlockTransformer, AttentionExplainer {
  readonly config: VisionTransformerConfig;
  readonly imgSize: [number, number];
  numClasses: number;
  readonly embedDim: number;
  /** Class token (1) or none (0): tokens before the patches. */
  readonly numPrefixTokens: number;
  /** Token grid [gh, gw] the position embedding covers. */
  readonly grid: [number, number];
  readonly clsToken: tf.Variable | null;
  readonly posEmbed: tf.Variable;
  readonly patchEmbed: TokenEmbedder;
  readonly blocks: ModuleList<TransformerBlock>;
  readonly norm: Layer;
  readonly fcNorm: Layer;
  readonly preLogits: PreLogits | null;
  private readonly posDrop: Dropout;
  private headLayer: Layer;

  constructor(options: VisionTransformerOptions = {}) {
    super();
    const c = resolveConfig(options);
    this.config = c;
    this.imgSize = c.imgSize;
    this.numClasses = c.numClasses;
    this.embedDim = c.embedDim;
    this.numPrefixTokens = c.classToken ? 1 : 0;

    const embedLayer = options.embedLayer ?? null;
    const embedder = embedLayer
      ? embedLayer(c.imgSize, c.inChannels, c.embedDim)
      : c.shiftedPatches
        ? new ShiftedPatchEmbed(c.patchSize, c.inChannels, c.embedDim)
        : new PatchEmbed(c.patchSize, c.inChannels, c.embedDim);
    if (embedder.embedDim !== c.embedDim) {
      embedder.dispose();
      throw new Error(`VisionTransformer: the embed layer gives ${embedder.embedDim}-wide tokens, the model is ${c.embedDim} wide`);
    }
    this.grid = embedder.gridSize(c.imgSize[0], c.imgSize[1]);
    const patches = this.grid[0] * this.grid[1];
    if (!(patches > 0)) throw new Error(`VisionTransformer: a ${c.imgSize.join('x')} image gives an empty token grid`);

    // timm's init: class token N(0, 1e-6), position embedding truncated N(0, 0.02) unless set.
    this.clsToken = c.classToken
      ? this.addParameter('cls_token', tf.randomNormal([1, 1, c.embedDim], 0, 1e-6, 'float32', initRng.nextSeed()))
      : null;
    const embedLen = c.noEmbedClass ? patches : patches + this.numPrefixTokens;
    this.posEmbed = this.addParameter('pos_embed', truncNormal([1, embedLen, c.embedDim], c.posEmbedInitStd));
    this.patchEmbed = this.addModule('patch_embed', embedder);
    this.posDrop = this.addModule('pos_drop', new Dropout(c.dropRate));
    const blocks: TransformerBlock[] = [];
    for (let i = 0; i < c.depth; i++) {
      blocks.push(
        new TransformerBlock(c.embedDim, {
          numHeads: c.numHeads,
          ...blockMlp(c),
          qkvBias: c.qkvBias,
          drop: c.dropRate,
          attnDrop: c.attnDropRate,
          dropPath: c.depth > 1 ? (c.dropPathRate * i) / (c.depth - 1) : 0,
          eps: c.eps,
          locality: c.localityAttention,
        }),
      );
    }
    this.blocks = this.addModule('blocks', new ModuleList(blocks));
    if (c.attentionInit === 'mimetic') mimeticInit(this.blocks);
    // timm keeps both slots and makes the unused one an Identity (no parameters).
    this.norm = this.addModule('norm', c.fcNorm ? new Identity() : new LayerNorm(c.embedDim, c.eps));
    this.fcNorm = this.addModule('fc_norm', c.fcNorm ? new LayerNorm(c.embedDim, c.eps) : new Identity());
    this.preLogits = c.representationSize ? this.addModule('pre_logits', new PreLogits(c.embedDim, c.representationSize)) : null;
    this.headLayer = this.addModule('head', this.makeHead(c.numClasses, 'trunc_normal'));
  }

  /** Width of the vector the head sees (the representation size when there is a pre-logits layer). */
  get headInFeatures(): number {
    return this.config.representationSize ?? this.embedDim;
  }

  get head(): Layer {
    return this.headLayer;
  }

  private makeHead(numClasses: number, init: 'trunc_normal' | 'zeros'): Layer {
    return numClasses > 0 ? new Linear(this.headInFeatures, numClasses, { init }) : new Identity();
  }

  /**
   * Replaces the head by a fresh one for `numClasses` classes (0: none), with
   * zero weights and bias as the ViT paper fine-tunes, so training starts from
   * uniform predictions.
   */
  resetClassifier(numClasses: number): void {
    if (!Number.isInteger(numClasses) || numClasses < 0)
      throw new Error(`resetClassifier: numClasses must be a whole number >= 0 (got ${numClasses})`);
    const head = this.makeHead(numClasses, 'zeros');
    head.train(this.training);
    this.replaceModule('head', head).dispose();
    this.headLayer = head;
    this.numClasses = numClasses;
  }

  /** x: [B, H, W, C] NHWC -> patch tokens [B, gh*gw, C], checked against the position embedding's grid. */
  embedPatches(x: tf.Tensor): tf.Tensor {
    const [, h, w] = x.shape as number[];
    const grid = this.patchEmbed.gridSize(h!, w!);
    if (grid[0] !== this.grid[0] || grid[1] !== this.grid[1]) {
      throw new Error(
        `VisionTransformer: a ${h}x${w} image gives a ${grid.join('x')} token grid, but the position embedding covers ` +
          `${this.grid.join('x')} (built for ${this.imgSize.join('x')}); create the model at ${h}x${w} and load the ` +
          'checkpoint with loadWeights, which resamples the position embedding',
      );
    }
    const tokens = this.patchEmbed.forward(x);
    if (tokens.shape[1] !== grid[0] * grid[1]) {
      throw new Error(`VisionTransformer: the embed layer reports a ${grid.join('x')} grid but produced ${tokens.shape[1]} tokens`);
    }
    return tokens;
  }

  /** Class token and position embedding, in timm's order for `noEmbedClass`. */
  private addPositions(tokens: tf.Tensor): tf.Tensor {
    if (this.config.noEmbedClass) {
      const placed = tf.add(tokens, this.posEmbed);
      return this.clsToken ? prependToken(placed, this.clsToken) : placed;
    }
    return tf.add(this.clsToken ? prependToken(tokens, this.clsToken) : tokens, this.posEmbed);
  }

  /** All tokens [B, prefix + gh*gw, C] after the final norm. Call inside tf.tidy. */
  forwardFeatures(x: tf.Tensor, record?: IntermediateRecorder): tf.Tensor {
    const patches = this.embedPatches(x);
    record?.('patch_embed', patches);
    let h = this.posDrop.forward(this.addPositions(patches));
    record?.('pos_drop', h);
    this.blocks.items.forEach((block, i) => {
      h = block.forward(h);
      record?.(`blocks.${i}`, h);
    });
    h = this.norm.forward(h);
    record?.('norm', h);
    return h;
  }

  /**
   * Pools the tokens of `forwardFeatures`, then fc_norm, pre-logits and head.
   * With `preLogits` the vector before the head is returned (embedding use).
   */
  forwardHead(features: tf.Tensor, options: { preLogits?: boolean; record?: IntermediateRecorder } = {}): tf.Tensor {
    let x = this.fcNorm.forward(poolTokens(features, this.config.globalPool, this.numPrefixTokens));
    options.record?.('fc_norm', x);
    if (this.preLogits) {
      x = this.preLogits.forward(x);
      options.record?.('pre_logits', x);
    }
    return options.preLogits ? x : this.headLayer.forward(x);
  }

  /** x: [B, H, W, C] NHWC -> logits [B, numClasses]. Call inside tf.tidy. */
  forward(x: tf.Tensor): tf.Tensor {
    return this.forwardHead(this.forwardFeatures(x));
  }

  /**
   * The final features (as `forwardFeatures`) and the chosen blocks' outputs,
   * all tokens [B, prefix + gh*gw, C]; with `norm` the final norm is applied
   * to each block's output (an identity when the model normalises the pooled
   * vector instead, as timm). Call inside tf.tidy.
   */
  forwardIntermediates(x: tf.Tensor, options: IntermediatesOptions = {}): IntermediatesResult {
    const wanted = new Set(takeIndices(this.blocks.items.length, options.indices, 'VisionTransformer.forwardIntermediates'));
    const intermediates: tf.Tensor[] = [];
    const features = this.forwardFeatures(x, (name, t) => {
      const block = /^blocks\.(\d+)$/.exec(name);
      if (block && wanted.has(Number(block[1]))) intermediates.push(options.norm ? this.norm.forward(t) : t);
    });
    return { features, intermediates };
  }

  /** Per-head class-token maps of one block, or the rollout through all of them (`vitkit attention`). */
  explainAttention(x: tf.Tensor4D, options: AttentionMapOptions): { logits: tf.Tensor; groups: AttentionMapGroup[] } {
    return explainBlockAttention(this, x, options);
  }

  get inChannels(): number {
    return this.config.inChannels;
  }

  /**
   * pixel_values [B, C, H, W] -> logits. With the class token pooled, the final
   * norm runs on that token alone (it is per token, so the result is the same).
   */
  toOnnx(g: OnnxScope, x: string): string {
    const c = this.embedDim;
    const tokens = g.lower('patch_embed', this.patchEmbed, x);
    const clsToken = () => g.expandToBatch(g.parameter('cls_token', this.clsToken!), tokens, [1, c]);
    const posEmbed = g.parameter('pos_embed', this.posEmbed);
    let h: string;
    if (this.config.noEmbedClass) {
      const placed = g.op('Add', [tokens, posEmbed]);
      h = this.clsToken ? g.concat([clsToken(), placed], 1) : placed;
    } else {
      h = g.op('Add', [this.clsToken ? g.concat([clsToken(), tokens], 1) : tokens, posEmbed]);
    }
    this.blocks.items.forEach((block, i) => {
      h = g.at('blocks').lower(String(i), block, h);
    });
    const pooled =
      this.config.globalPool === 'token'
        ? g.lower('norm', this.norm, g.gather(h, 1, 0))
        : g.reduceMean(g.slice(g.lower('norm', this.norm, h), 1, this.numPrefixTokens, Number.MAX_SAFE_INTEGER), [1]);
    let y = g.lower('fc_norm', this.fcNorm, pooled);
    if (this.preLogits) y = g.lower('pre_logits', this.preLogits, y);
    return g.lower('head', this.headLayer, y);
  }

  complexity(): Cost {
    const [h, w] = this.imgSize;
    return VisionTransformer.cost(
      { ...this.config, numClasses: this.numClasses },
      { cost: this.patchEmbed.embedCost(h, w), grid: this.grid },
    );
  }

  /**
   * Parameters and MACs from the configuration alone (no weights allocated).
   * `embedding` gives the cost and token grid of the embedder; by default they
   * come from the options: the embedLayer's static cost(), else the patchify
   * (or shifted patch) embedding's.
   */
  static cost(options: VisionTransformerOptions = {}, embedding?: EmbedCost): Cost {
    const c = resolveConfig(options);
    const { cost: embedCost, grid } = embedding ?? staticEmbedCost(c, options.embedLayer ?? null);
    const patches = grid[0] * grid[1];
    const prefix = c.classToken ? 1 : 0;
    const tokens = patches + prefix;
    const d = c.embedDim;
    const headIn = c.representationSize ?? d;
    return sumCosts(
      embedCost,
      { params: prefix * d + (c.noEmbedClass ? patches : tokens) * d, macs: 0 },
      repeatCost(TransformerBlock.cost(d, tokens, { ...blockMlp(c), qkvBias: c.qkvBias, locality: c.localityAttention }), c.depth),
      LayerNorm.cost(d),
      c.representationSize ? PreLogits.cost(d, c.representationSize) : { params: 0, macs: 0 },
      c.numClasses > 0 ? Linear.cost(headIn, c.numClasses, 1) : { params: 0, macs: 0 },
    );
  }
}
