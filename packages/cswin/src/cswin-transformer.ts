// CSWin Transformer: "CSWin Transformer: A General Vision Transformer Backbone
// with Cross-Shaped Windows", Dong et al., CVPR 2022, https://arxiv.org/abs/2107.00652.
// Mirrors microsoft/CSWin-Transformer models/cswin.py (parameter names, layer
// order, LayerNorm eps 1e-5, the stochastic depth schedule); inside, token maps
// stay NHWC [B, H, W, C] so stripes are cut by reshapes; parity intermediates
// are flattened to the reference's [B, H*W, C].
import * as tf from '@tensorflow/tfjs-core';
import {
  Conv2d,
  type Cost,
  classifierHead,
  convOutSize,
  Identity,
  type IntermediateRecorder,
  type IntermediatesOptions,
  type IntermediatesResult,
  ImageClassifier,
  keepOutputs,
  type Layer,
  LayerNorm,
  type OnnxScope,
  Linear,
  ModuleList,
  repeatCost,
  Sequential,
  sumCosts,
  takeIndices,
} from '@vitkit/core';
import { CSWIN_EPS, CSWinBlock, type OnnxTokenMap } from './cswin-block.js';
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

/**
 * The official CSWinTransformer: convolutional stem, four stages of CSWin
 * blocks joined by merge convolutions, final norm, global average pool, head.
 * Intermediate outputs reach an IntermediateRecorder under the reference's
 * sub-module names (`stage1_conv_embed`, `stage{i}.{j}`, `merge{i}`, `norm`,
 * `head`) as the NHWC maps [B, H, W, C] the model computes; parity's
 * `forwardWithIntermediates` flattens them to the reference's [B, H*W, C].
 */
export class CSWinTransformer extends ImageClassifier {
  numClasses: number;
  readonly imgSize: [number, number];
  readonly stages: StagePlan[];
  readonly stage1ConvEmbed: Sequential;
  readonly blocks: ModuleList<CSWinBlock>[] = [];
  readonly merges: MergeBlock[] = [];
  readonly norm: LayerNorm;
  private headLayer: Layer;

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
    this.norm = this.addModule('norm', new LayerNorm(this.numFeatures, CSWIN_EPS));
    this.headLayer = this.addModule('head', classifierHead(this.numFeatures, config.numClasses));
  }

  /** Width of the last stage: the pooled vector the head sees. */
  get numFeatures(): number {
    return this.stages[3]!.dim;
  }

  /** Linear(numFeatures, numClasses), or an Identity without classes. */
  get head(): Layer {
    return this.headLayer;
  }

  /**
   * Replaces the head by a fresh one for `numClasses` classes (0: none, and
   * forward returns the pooled features), with zero weights and bias, in the
   * model's train/eval mode. The old head is disposed.
   */
  resetClassifier(numClasses: number): void {
    const head = classifierHead(this.numFeatures, numClasses, 'zeros');
    head.train(this.training);
    this.replaceModule('head', head).dispose();
    this.headLayer = head;
    this.numClasses = numClasses;
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

  /**
   * x: [B, H, W, C] -> the last stage after the final norm, NHWC
   * [B, H/32, W/32, 8 * embedDim]. Call inside tf.tidy.
   */
  forwardFeatures(x: tf.Tensor, record?: IntermediateRecorder): tf.Tensor {
    if (x.rank !== 4 || x.shape[3] !== this.config.inChannels) {
      throw new Error(`CSWin expects NHWC images with ${this.config.inChannels} channels, got [${x.shape.join(', ')}]`);
    }
    this.checkInputSize(x.shape[1]!, x.shape[2]!);
    let h = this.stage1ConvEmbed.forward(x);
    record?.('stage1_conv_embed', h);
    this.blocks.forEach((stage, i) => {
      if (i > 0) {
        h = this.merges[i - 1]!.forward(h);
        record?.(`merge${i}`, h);
      }
      stage.items.forEach((block, j) => {
        h = block.forward(h);
        record?.(`stage${i + 1}.${j}`, h);
      });
    });
    h = this.norm.forward(h);
    record?.('norm', h);
    return h;
  }

  /**
   * Global average pool of `forwardFeatures`' map, then the head: logits
   * [B, numClasses]. With `preLogits` (or without a head) the pooled
   * [B, numFeatures].
   */
  forwardHead(features: tf.Tensor, options: { preLogits?: boolean; record?: IntermediateRecorder } = {}): tf.Tensor {
    const pooled = tf.mean(features, [1, 2]);
    if (options.preLogits) return pooled;
    const logits = this.headLayer.forward(pooled);
    options.record?.('head', logits);
    return logits;
  }

  /** x: [B, H, W, C] -> logits [B, numClasses]. Call inside tf.tidy. */
  forward(x: tf.Tensor): tf.Tensor {
    return this.forwardHead(this.forwardFeatures(x));
  }

  /**
   * The final features and the chosen stages' outputs (0-based; default all
   * four), NHWC [B, H/4, W/4, C], [B, H/8, W/8, 2C], [B, H/16, W/16, 4C],
   * [B, H/32, W/32, 8C], for detection and segmentation heads. The final norm
   * is as wide as stage 4 only, so `norm` applies it to stage 4's output
   * alone (as timm's hierarchical models do); that intermediate then equals
   * the features. Call inside tf.tidy.
   */
  forwardIntermediates(x: tf.Tensor, options: IntermediatesOptions = {}): IntermediatesResult {
    const take = takeIndices(this.stages.length, options.indices, 'CSWinTransformer.forwardIntermediates', 'stages');
    const names = this.stageOutputNames();
    const { record, outputs } = keepOutputs(take.map((i) => names[i]!));
    const features = this.forwardFeatures(x, record);
    const last = this.stages.length - 1;
    const intermediates = take.map((i) => {
      const out = outputs.get(names[i]!)!;
      return options.norm && i === last ? this.norm.forward(out) : out;
    });
    return { features, intermediates };
  }

  /** The sub-module whose output is each stage's output: its last block, or for an empty stage what feeds it. */
  private stageOutputNames(): string[] {
    return this.stages.map(({ stage, depth }) => {
      if (depth > 0) return `stage${stage}.${depth - 1}`;
      return stage === 1 ? 'stage1_conv_embed' : `merge${stage - 1}`;
    });
  }

  /**
   * Logits and the output of every reference sub-module (`stage1_conv_embed`,
   * `stage{i}.{j}`, `merge{i}`, `norm`, `head`) in the reference's layout,
   * maps flattened to [B, H*W, C]. Call inside tf.tidy.
   */
  forwardWithIntermediates(x: tf.Tensor): { logits: tf.Tensor; intermediates: Record<string, tf.Tensor> } {
    const { record, outputs } = keepOutputs();
    const logits = this.forwardHead(this.forwardFeatures(x, record), { record });
    const intermediates: Record<string, tf.Tensor> = {};
    for (const [name, t] of outputs) intermediates[name] = t.rank === 4 ? tf.reshape(t, [t.shape[0]!, -1, t.shape[3]!]) : t;
    return { logits, intermediates };
  }

  get inChannels(): number {
    return this.config.inChannels;
  }

  /** pixel_values [B, C, H, W] -> logits; the stem's Conv runs on NCHW, the stages on NHWC maps as forward. */
  toOnnx(g: OnnxScope, x: string): string {
    const [conv, , norm] = this.stage1ConvEmbed.layers as [Conv2d, Layer, LayerNorm];
    const stem = g.at('stage1_conv_embed');
    const [h, w] = conv.outputSize(...this.imgSize);
    let map: OnnxTokenMap = { value: stem.lower('2', norm, g.transpose(stem.lower('0', conv, x), [0, 2, 3, 1])), h, w };
    this.blocks.forEach((stage, i) => {
      if (i > 0) map = g.lower<OnnxTokenMap, OnnxTokenMap>(`merge${i}`, this.merges[i - 1]!, map);
      stage.items.forEach((block, j) => {
        map = g.at(`stage${i + 1}`).lower<OnnxTokenMap, OnnxTokenMap>(String(j), block, map);
      });
    });
    return g.lower('head', this.headLayer, g.reduceMean(g.lower('norm', this.norm, map.value), [1, 2]));
  }

  complexity(): Cost {
    return cswinCost({ ...this.config, numClasses: this.numClasses });
  }
}
