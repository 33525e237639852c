// CSWin Transformer: "CSWin Transformer: A General Vision Transformer Backbone
// with Cross-Shaped Windows", Dong et al., CVPR 2022, https://arxiv.org/abs/2107.00652.
// Mirrors microsoft/CSWin-Transformer models/cswin.py (parameter names, layer
// order, LayerNorm eps 1e-5, the stochastic depth schedule); inside, token maps
// stay NHWC [B, H, W, C] so stripes are cut by reshapes, and intermediates are
// returned as the reference's [B, H*W, C].
import * as tf from '@tensorflow/tfjs-core';
import {
  Conv2d,
  type Cost,
  convOutSize,
  Identity,
  ImageClassifier,
  LayerNorm,
  Linear,
  ModuleList,
  repeatCost,
  Sequential,
  sumCosts,
} from '@vitkit/core';
import { CSWIN_EPS, CSWinBlock } from './cswin-block.js';
import { MergeBlock } from './merge-block.js';

/** A complete CSWin configuration (every field of the reference constructor that matters). */
export interface CSWinConfig {
  imgSize: number;
  inChannels: number;
  /** 0 leaves out the head: forward returns the pooled features. */
  numClasses: number;
  /** Width of stage 1; each later stage doubles it. */
  embedDim: number;
  /** Blocks per stage (4 stages). */
  depths: number[];
  /** Heads per stage; stripe stages give half to each branch. */
  numHeads: number[];
  /** Stripe width per stage (the reference's split_size; stage 4 always attends to the whole map). */
  splitSize: number[];
  mlpRatio: number;
  qkvBias: boolean;
  /** Overrides headDim^-0.5 when set. */
  qkScale: number | null;
  /** Dropout inside the MLPs (the reference applies drop_rate nowhere else). */
  dropRate: number;
  attnDropRate: number;
  dropPathRate: number;
}

/** What each stage is made of at the configured input size. */
export interface StagePlan {
  /** 1-based. */
  stage: number;
  dim: number;
  /** Side of the (square) token grid at the configured input size. */
  grid: number;
  depth: number;
  numHeads: number;
  split: number;
  /** Full attention with one branch: the last stage, or a stage whose grid equals its stripe width. */
  fullAttention: boolean;
  /** Stochastic depth rate of each block. */
  dropPath: number[];
}

const STEM = { kernel: 7, stride: 4, padding: 2 };

/** The stage layout of a configuration; throws StripeSizeError when a grid does not divide into its stripes. */
export function planStages(config: CSWinConfig): StagePlan[] {
  for (const key of ['depths', 'numHeads', 'splitSize'] as const) {
    if (config[key].length !== 4) throw new Error(`CSWin: ${key} needs 4 entries, one per stage (got [${config[key].join(', ')}])`);
  }
  const total = config.depths.reduce((a, d) => a + d, 0);
  // torch.linspace(0, drop_path_rate, sum(depth)).
  const rates = Array.from({ length: total }, (_, i) => (total > 1 ? (config.dropPathRate * i) / (total - 1) : 0));
  let grid = convOutSize(config.imgSize, STEM.kernel, STEM.stride, STEM.padding);
  let first = 0;
  return config.depths.map((depth, i) => {
    if (i > 0) grid = convOutSize(grid, 3, 2, 1);
    const split = config.splitSize[i]!;
    const fullAttention = i === 3 || grid === split;
    CSWinBlock.checkGrid(i + 1, grid, grid, split, fullAttention, [config.imgSize, config.imgSize]);
    const plan: StagePlan = {
      stage: i + 1,
      dim: config.embedDim * 2 ** i,
      grid,
      depth,
      numHeads: config.numHeads[i]!,
      split,
      fullAttention,
      dropPath: rates.slice(first, first + depth),
    };
    first += depth;
    return plan;
  });
}

function blockOptions(config: CSWinConfig, plan: StagePlan, dropPath = 0) {
  return {
    numHeads: plan.numHeads,
    split: plan.split,
    fullAttention: plan.fullAttention,
    mlpRatio: config.mlpRatio,
    qkvBias: config.qkvBias,
    qkScale: config.qkScale,
    drop: config.dropRate,
    attnDrop: config.attnDropRate,
    dropPath,
    stage: plan.stage,
  };
}

/** Parameters and MACs for one image, from the configuration alone (no weights). */
export function cswinCost(config: CSWinConfig): Cost {
  const stages = planStages(config);
  const s = config.imgSize;
  const costs: Cost[] = [Conv2d.cost(config.inChannels, config.embedDim, STEM.kernel, s, s, STEM), LayerNorm.cost(config.embedDim)];
  stages.forEach((plan, i) => {
    const before = stages[i - 1];
    if (before) costs.push(MergeBlock.cost(before.dim, plan.dim, before.grid, before.grid));
    costs.push(repeatCost(CSWinBlock.cost(plan.dim, plan.grid, plan.grid, blockOptions(config, plan)), plan.depth));
  });
  const width = stages[3]!.dim;
  costs.push(LayerNorm.cost(width));
  if (config.numClasses > 0) costs.push(Linear.cost(width, config.numClasses, 1));
  return sumCosts(...costs);
}

/** Called with each reference sub-module's name and its output as [B, H*W, C]. */
type Visitor = (name: string, tokens: tf.Tensor) => void;

export class CSWinTransformer extends ImageClassifier {
  readonly numClasses: number;
  readonly imgSize: [number, number];
  readonly stages: StagePlan[];
  readonly stage1ConvEmbed: Sequential;
  readonly blocks: ModuleList<CSWinBlock>[] = [];
  readonly merges: MergeBlock[] = [];
  readonly norm: LayerNorm;
  readonly head: Linear | null;

  constructor(readonly config: CSWinConfig) {
    super();
    this.numClasses = config.numClasses;
    this.imgSize = [config.imgSize, config.imgSize];
    this.stages = planStages(config);
    this.stage1ConvEmbed = this.addModule(
      'stage1_conv_embed',
      new Sequential([
        new Conv2d(config.inChannels, config.embedDim, STEM.kernel, STEM),
        // The reference's einops Rearrange to tokens: NHWC already is token-major.
        new Identity(),
        new LayerNorm(config.embedDim, CSWIN_EPS),
      ]),
    );
    for (const plan of this.stages) {
      if (plan.stage > 1) this.merges.push(this.addModule(`merge${plan.stage - 1}`, new MergeBlock(plan.dim / 2, plan.dim)));
      const blocks = plan.dropPath.map((rate) => new CSWinBlock(plan.dim, blockOptions(config, plan, rate)));
      this.blocks.push(this.addModule(`stage${plan.stage}`, new ModuleList(blocks)));
    }
    const width = this.stages[3]!.dim;
    this.norm = this.addModule('norm', new LayerNorm(width, CSWIN_EPS));
    this.head = config.numClasses > 0 ? this.addModule('head', new Linear(width, config.numClasses)) : null;
  }

  /** Throws StripeSizeError, naming the stage, if an input of h x w does not divide into the stripes. */
  checkInputSize(h: number, w: number): void {
    let gh = convOutSize(h, STEM.kernel, STEM.stride, STEM.padding);
    let gw = convOutSize(w, STEM.kernel, STEM.stride, STEM.padding);
    for (const plan of this.stages) {
      if (plan.stage > 1) {
        gh = convOutSize(gh, 3, 2, 1);
        gw = convOutSize(gw, 3, 2, 1);
      }
      CSWinBlock.checkGrid(plan.stage, gh, gw, plan.split, plan.fullAttention, [h, w]);
    }
  }

  private run(x: tf.Tensor, visit?: Visitor): tf.Tensor4D[] {
    if (x.rank !== 4 || x.shape[3] !== this.config.inChannels) {
      throw new Error(`CSWin expects NHWC images with ${this.config.inChannels} channels, got [${x.shape.join(', ')}]`);
    }
    this.checkInputSize(x.shape[1]!, x.shape[2]!);
    const tokens = (t: tf.Tensor) => tf.reshape(t, [t.shape[0]!, -1, t.shape[3]!]);
    let h = this.stage1ConvEmbed.forward(x);
    visit?.('stage1_conv_embed', tokens(h));
    const features: tf.Tensor4D[] = [];
    this.blocks.forEach((stage, i) => {
      if (i > 0) {
        h = this.merges[i - 1]!.forward(h);
        visit?.(`merge${i}`, tokens(h));
      }
      stage.items.forEach((block, j) => {
        h = block.forward(h);
        visit?.(`stage${i + 1}.${j}`, tokens(h));
      });
      features.push(h as tf.Tensor4D);
    });
    return features;
  }

  /**
   * The four stages' outputs, NHWC [B, H/4, W/4, C], [B, H/8, W/8, 2C],
   * [B, H/16, W/16, 4C], [B, H/32, W/32, 8C], for detection and segmentation
   * heads (the last one before the final norm). Call inside tf.tidy.
   */
  forwardFeatures(x: tf.Tensor): tf.Tensor4D[] {
    return this.run(x);
  }

  /** Final norm, mean over tokens, head: [B, H', W', C] -> logits (or pooled features without a head). */
  forwardHead(last: tf.Tensor, visit?: Visitor): tf.Tensor {
    const normed = this.norm.forward(last);
    visit?.('norm', tf.reshape(normed, [normed.shape[0]!, -1, normed.shape[3]!]));
    const pooled = tf.mean(normed, [1, 2]);
    return this.head ? this.head.forward(pooled) : pooled;
  }

  /** x: [B, H, W, C] -> logits [B, numClasses]. Call inside tf.tidy. */
  forward(x: tf.Tensor): tf.Tensor {
    return this.forwardHead(this.run(x)[3]!);
  }

  /**
   * Logits and the output of every reference sub-module (`stage1_conv_embed`,
   * `stage{i}.{j}`, `merge{i}`, `norm`) as [B, H*W, C]. Call inside tf.tidy.
   */
  forwardWithIntermediates(x: tf.Tensor): { logits: tf.Tensor; intermediates: Record<string, tf.Tensor> } {
    const intermediates: Record<string, tf.Tensor> = {};
    const visit: Visitor = (name, t) => {
      intermediates[name] = t;
    };
    const logits = this.forwardHead(this.run(x, visit)[3]!, visit);
    return { logits, intermediates };
  }

  complexity(): Cost {
    return cswinCost(this.config);
  }
}
