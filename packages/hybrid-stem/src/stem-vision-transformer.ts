/**
 * The Vision Transformer of pycls (facebookresearch/pycls, pycls/models/vit.py),
 * the code of Xiao et al. 2021, "Early Convolutions Help Transformers See
 * Better" (https://arxiv.org/abs/2106.14881): a patchify stem (ViTP) or a
 * convolutional stem (ViTC), a class token, a learned position embedding,
 * pre-norm blocks with LayerNorm eps 1e-5 and an absolute MLP width (mlp_d),
 * a final LayerNorm and a linear head on the class token (or on the mean token).
 *
 * Parameter names follow core's (timm's) ViT names - `patch_embed`, `cls_token`,
 * `pos_embed`, `blocks.{i}.norm1/attn.qkv/attn.proj/norm2/mlp.fc1/mlp.fc2`,
 * `norm`, `head` - so a ViTC is a ViT with another `patch_embed`; the conv
 * stem's children keep pycls' names. pycls checkpoints go through
 * `fromPyclsStateDict` (pycls-checkpoint.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  type Cost,
  ImageClassifier,
  LayerNorm,
  mimeticInit,
  Linear,
  ModuleList,
  PatchEmbed,
  poolTokens,
  prependToken,
  repeatCost,
  sumCosts,
  type TokenEmbedder,
  TransformerBlock,
  truncNormal,
  type AttentionExplainer,
  type AttentionMapGroup,
  type AttentionMapOptions,
  type BlockTransformer,
  explainBlockAttention,
} from '@vitkit/core';
import { ConvStem, type ConvStemConfig, convStemGrid } from './conv-stem.js';

/** pycls' LayerNorm epsilon (torch's default). */
export const PYCLS_LN_EPS = 1e-5;

export type StemSpec = { type: 'patchify'; patchSize: number } | ({ type: 'conv' } & ConvStemConfig);

export interface StemViTOptions {
  /** Square input side the position embedding is made for. */
  imgSize: number;
  inChannels?: number;
  numClasses: number;
  stem: StemSpec;
  /** Token width (pycls hidden_d); a conv stem's last dim must equal it. */
  embedDim: number;
  /** Number of blocks (pycls n_layers). */
  depth: number;
  numHeads: number;
  /** MLP hidden width (pycls mlp_d). */
  mlpHidden: number;
  /** 'token': head on the class token (pycls' default); 'pooled': no class token, head on the mean token. */
  classifier?: 'token' | 'pooled';
  /** Dropout inside the blocks (attention projection, MLP); 0 in pycls. */
  dropRate?: number;
  /** Stochastic depth, rising linearly over the blocks to this rate; 0 in pycls. */
  dropPathRate?: number;
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
}

/** The outputs of every stage of one forward pass. */
export interface StemViTStages {
  /** The stem's tokens [B, gh*gw, C] (grid row-major). */
  stem: tf.Tensor;
  /** Each block's output [B, N, C], class token first. */
  blocks: tf.Tensor[];
  /** The final LayerNorm's output [B, N, C]. */
  norm: tf.Tensor;
  logits: tf.Tensor;
}

export class StemViT extends ImageClassifier implements BlockTransformer, AttentionExplainer {
  readonly numClasses: number;
  readonly imgSize: [number, number];
  readonly options: Readonly<StemViTOptions>;
  /** Token grid [gh, gw] the position embedding covers. */
  readonly grid: [number, number];
  readonly patch_embed: TokenEmbedder;
  readonly cls_token: tf.Variable | null;
  readonly pos_embed: tf.Variable;
  readonly blocks: ModuleList<TransformerBlock>;
  readonly norm: LayerNorm;
  readonly head: Linear;

  constructor(options: StemViTOptions) {
    super();
    validateOptions(options);
    this.options = { ...options };
    this.numClasses = options.numClasses;
    this.imgSize = [options.imgSize, options.imgSize];
    const inChannels = options.inChannels ?? 3;
    const c = options.embedDim;

    this.patch_embed = this.addModule('patch_embed', makeStem(options.stem, inChannels, c));
    this.grid = this.patch_embed.gridSize(options.imgSize, options.imgSize);
    const tokens = this.grid[0] * this.grid[1];
    this.cls_token = options.classifier === 'pooled' ? null : this.addParameter('cls_token', tf.zeros([1, 1, c]));
    this.pos_embed = this.addParameter('pos_embed', truncNormal([1, tokens + this.numPrefixTokens, c], options.posEmbedInitStd ?? 0.02));
    const dropPath = options.dropPathRate ?? 0;
    this.blocks = this.addModule(
      'blocks',
      new ModuleList(
        Array.from(
          { length: options.depth },
          (_, i) =>
            new TransformerBlock(c, {
              numHeads: options.numHeads,
              mlpHidden: options.mlpHidden,
              qkvBias: true,
              drop: options.dropRate ?? 0,
              dropPath: options.depth > 1 ? (dropPath * i) / (options.depth - 1) : dropPath,
              eps: PYCLS_LN_EPS,
            }),
        ),
      ),
    );
    if (options.attentionInit === 'mimetic') mimeticInit(this.blocks);
    this.norm = this.addModule('norm', new LayerNorm(c, PYCLS_LN_EPS));
    this.head = this.addModule('head', new Linear(c, options.numClasses));
  }

  /** 1 with a class token, 0 for the pooled classifier. */
  get numPrefixTokens(): number {
    return this.cls_token ? 1 : 0;
  }

  /** x: [B, H, W, C] NHWC -> logits [B, numClasses]. */
  forward(x: tf.Tensor): tf.Tensor {
    return this.forwardStages(x).logits;
  }

  /** The forward pass keeping every stage's output (all of them are needed for the gradient anyway). */
  forwardStages(x: tf.Tensor): StemViTStages {
    const [, h, w] = x.shape as number[];
    const [gh, gw] = this.patch_embed.gridSize(h!, w!);
    if (gh !== this.grid[0] || gw !== this.grid[1]) {
      throw new Error(
        `StemViT: a ${h}x${w} image gives a ${gh}x${gw} token grid, but the position embedding is for ` +
          `${this.grid[0]}x${this.grid[1]} (a ${this.imgSize[0]}x${this.imgSize[1]} image); build the model with imgSize ${h}`,
      );
    }
    const stem = this.patch_embed.forward(x);
    let t = this.cls_token ? prependToken(stem, this.cls_token) : stem;
    t = tf.add(t, this.pos_embed);
    const blocks: tf.Tensor[] = [];
    for (const block of this.blocks.items) {
      t = block.forward(t);
      blocks.push(t);
    }
    const norm = this.norm.forward(t);
    // pycls 'pooled' averages every token (there is no class token to leave out).
    const pooled = this.cls_token ? poolTokens(norm, 'token') : poolTokens(norm, 'avg', 0);
    return { stem, blocks, norm, logits: this.head.forward(pooled) };
  }

  /** Per-head class-token maps of one block, or the rollout through all of them (`vitkit attention`). */
  explainAttention(x: tf.Tensor4D, options: AttentionMapOptions): { logits: tf.Tensor; groups: AttentionMapGroup[] } {
    return explainBlockAttention(this, x, options);
  }

  complexity(): Cost {
    return StemViT.cost(this.options);
  }

  /** Parameters and MACs for one image of options.imgSize, from the configuration alone. */
  static cost(options: StemViTOptions): Cost {
    validateOptions(options);
    const inChannels = options.inChannels ?? 3;
    const c = options.embedDim;
    const side = options.imgSize;
    const stemCost =
      options.stem.type === 'conv'
        ? ConvStem.cost(inChannels, options.stem, side, side)
        : PatchEmbed.cost(options.stem.patchSize, inChannels, c, side, side);
    const [gh, gw] =
      options.stem.type === 'conv'
        ? convStemGrid(options.stem, side, side)
        : [side / options.stem.patchSize, side / options.stem.patchSize];
    const gridTokens = gh * gw;
    const prefix = options.classifier === 'pooled' ? 0 : 1;
    const tokens = gridTokens + prefix;
    return sumCosts(
      stemCost,
      { params: prefix * c + tokens * c, macs: 0 },
      repeatCost(TransformerBlock.cost(c, tokens, { mlpHidden: options.mlpHidden, qkvBias: true }), options.depth),
      LayerNorm.cost(c),
      Linear.cost(c, options.numClasses, 1),
    );
  }
}

function makeStem(spec: StemSpec, inChannels: number, embedDim: number): TokenEmbedder {
  if (spec.type === 'patchify') return new PatchEmbed(spec.patchSize, inChannels, embedDim);
  return new ConvStem(inChannels, { kernels: spec.kernels, strides: spec.strides, dims: spec.dims });
}

function validateOptions(o: StemViTOptions): void {
  const positive = {
    imgSize: o.imgSize,
    numClasses: o.numClasses,
    embedDim: o.embedDim,
    depth: o.depth,
    numHeads: o.numHeads,
    mlpHidden: o.mlpHidden,
  };
  for (const [name, v] of Object.entries(positive)) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`StemViT: ${name} must be a positive integer, got ${v}`);
  }
  if (o.embedDim % o.numHeads !== 0) throw new Error(`StemViT: embedDim ${o.embedDim} is not divisible by numHeads ${o.numHeads}`);
  if (o.stem.type === 'patchify') {
    if (o.imgSize % o.stem.patchSize !== 0) {
      throw new Error(`StemViT: imgSize ${o.imgSize} is not divisible by the patch size ${o.stem.patchSize}`);
    }
  } else if (o.stem.type === 'conv') {
    const last = o.stem.dims[o.stem.dims.length - 1];
    if (last !== o.embedDim) throw new Error(`StemViT: the conv stem ends at ${last} channels, but embedDim is ${o.embedDim}`);
  } else {
    throw new Error(`StemViT: unknown stem type '${(o.stem as { type: unknown }).type}' (use 'patchify' or 'conv')`);
  }
  if (o.classifier !== undefined && o.classifier !== 'token' && o.classifier !== 'pooled') {
    throw new Error(`StemViT: classifier must be 'token' or 'pooled', got '${o.classifier}'`);
  }
}
