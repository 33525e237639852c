// ResNetV2 as timm builds it for the ViT hybrids of Dosovitskiy et al. 2021
// ("An Image is Worth 16x16 Words", section 3.1; the BiT ResNet of Kolesnikov
// et al. 2020 without pre-activation): the stem, then stages of bottleneck
// blocks at strides 1, 2, 2, ..., weight-standardised convolutions and
// GroupNorm throughout, no final norm and no head. R50 is layers [3, 4, 9]
// (three stages, stride 16), R26 [2, 2, 2, 2] (stride 32); `layers: []` is
// the stem alone.
import type * as tf from '@tensorflow/tfjs-core';
import { type Cost, type IntermediateRecorder, Layer, ModuleList, type OnnxScope, sumCosts } from '@vitkit/core';
import { Bottleneck, type BottleneckConfig } from './bottleneck.js';
import { ResNetV2Stem } from './resnet-stem.js';
import type { OnnxMap } from './same-padding.js';

export interface ResNetV2Config {
  /** Bottleneck blocks in each stage; [] is the stem alone. */
  layers: number[];
  /** Output channels of each stage (default timm's 256, 512, 1024, 2048); entries past `layers` are unused, as timm zips them. */
  channels?: number[];
  /** Output channels of the stem (default 64). */
  stemChannels?: number;
  /** TensorFlow's "SAME" padding for each input size (default true, timm's padding_same), else symmetric padding. */
  paddingSame?: boolean;
  inChannels?: number;
}

export const RESNET_V2_CHANNELS = [256, 512, 1024, 2048];
const GROUPS = 32;

/**
 * timm's make_div: a width rounded to the nearest multiple of 8 (never below 8,
 * nor more than 10% under the asked width). timm applies it to every stage
 * width and bottleneck width, so odd requests build what timm builds.
 */
export function makeDivisible(v: number, divisor = 8): number {
  const rounded = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  return rounded < 0.9 * v ? rounded + divisor : rounded;
}

/** Every block of every stage, resolved from a config (shared by the constructor and the static cost). */
export interface ResNetV2Plan {
  inChannels: number;
  stemChannels: number;
  paddingSame: boolean;
  stages: BottleneckConfig[][];
  outChannels: number;
}

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new Error(`ResNetV2: ${what} must be a positive whole number (got ${JSON.stringify(v)})`);
  return v;
}

function assertGroups(channels: number, what: string): void {
  if (channels % GROUPS !== 0) throw new Error(`ResNetV2: ${what} is ${channels}, which the ${GROUPS} GroupNorm groups do not divide`);
}

export function planResNetV2(config: ResNetV2Config): ResNetV2Plan {
  if (!Array.isArray(config.layers))
    throw new Error(`ResNetV2: layers must be a list of block counts (got ${JSON.stringify(config.layers)})`);
  const layers = config.layers.map((d, i) => positiveInt(d, `layers[${i}]`));
  const channels = config.channels ?? RESNET_V2_CHANNELS;
  if (!Array.isArray(channels) || channels.length < layers.length) {
    throw new Error(`ResNetV2: channels needs one entry per stage (layers has ${layers.length}, channels ${JSON.stringify(channels)})`);
  }
  const inChannels = positiveInt(config.inChannels ?? 3, 'inChannels');
  const paddingSame = config.paddingSame ?? true;
  if (typeof paddingSame !== 'boolean') throw new Error(`ResNetV2: paddingSame must be true or false (got ${JSON.stringify(paddingSame)})`);
  const requestedStem = positiveInt(config.stemChannels ?? 64, 'stemChannels');
  // timm rounds the stem width of a full ResNetV2; a stem alone (create_resnetv2_stem) takes it as given.
  const stemChannels = layers.length > 0 ? makeDivisible(requestedStem) : requestedStem;
  assertGroups(stemChannels, 'the stem width');
  let prev = stemChannels;
  const stages = layers.map((depth, s) => {
    const out = makeDivisible(positiveInt(channels[s], `channels[${s}]`));
    const mid = makeDivisible(out / 4);
    assertGroups(out, `stage ${s}'s width`);
    assertGroups(mid, `stage ${s}'s bottleneck width (make_div(${out} / 4))`);
    const blocks: BottleneckConfig[] = [];
    for (let b = 0; b < depth; b++) {
      blocks.push({
        inChannels: prev,
        outChannels: out,
        midChannels: mid,
        stride: b === 0 && s > 0 ? 2 : 1,
        project: b === 0,
        paddingSame,
      });
      prev = out;
    }
    return blocks;
  });
  return { inChannels, stemChannels, paddingSame, stages, outChannels: prev };
}

/** A stage: its blocks under `blocks`, as timm's ResNetStage. */
export class ResNetV2Stage extends Layer {
  readonly blocks: ModuleList<Bottleneck>;

  constructor(blocks: BottleneckConfig[]) {
    super();
    this.blocks = this.addModule('blocks', new ModuleList(blocks.map((b) => new Bottleneck(b))));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.blocks.items.reduce((y, block) => block.forward(y), x);
  }

  toOnnx(g: OnnxScope, x: OnnxMap): OnnxMap {
    const blocks = g.at('blocks');
    return this.blocks.items.reduce((y, block, i) => blocks.lower<OnnxMap, OnnxMap>(String(i), block, y), x);
  }

  /** Cost of one h x w input map, and the output size. */
  static cost(blocks: BottleneckConfig[], h: number, w: number): Cost & { outH: number; outW: number } {
    const costs: Cost[] = [];
    let [oh, ow] = [h, w];
    for (const block of blocks) {
      const c = Bottleneck.cost(block, oh, ow);
      costs.push(c);
      [oh, ow] = [c.outH, c.outW];
    }
    return { ...sumCosts(...costs), outH: oh, outW: ow };
  }
}

/** The backbone: `stem` and `stages`, returning the last stage's NHWC feature map. */
export class ResNetV2 extends Layer {
  readonly plan: ResNetV2Plan;
  readonly stem: ResNetV2Stem;
  readonly stages: ModuleList<ResNetV2Stage>;

  constructor(config: ResNetV2Config) {
    super();
    this.plan = planResNetV2(config);
    this.stem = this.addModule('stem', new ResNetV2Stem(this.plan.inChannels, this.plan.stemChannels, this.plan.paddingSame));
    this.stages = this.addModule('stages', new ModuleList(this.plan.stages.map((s) => new ResNetV2Stage(s))));
  }

  get outChannels(): number {
    return this.plan.outChannels;
  }

  /**
   * x: [B, H, W, Cin] -> [B, H / s, W / s, outChannels] with s = 4 * 2^(stages - 1).
   * `record` receives the stem's maps (`stem.conv`, `stem.norm`, `stem.pool`, `stem`) and each stage's (`stages.0`, ...), NHWC.
   */
  forward(x: tf.Tensor, record?: IntermediateRecorder): tf.Tensor {
    let y = this.stem.forward(x, record && ((name, t) => record(`stem.${name}`, t)));
    record?.('stem', y);
    this.stages.items.forEach((stage, i) => {
      y = stage.forward(y);
      record?.(`stages.${i}`, y);
    });
    return y;
  }

  toOnnx(g: OnnxScope, x: OnnxMap): OnnxMap {
    const stages = g.at('stages');
    const stem = g.lower<OnnxMap, OnnxMap>('stem', this.stem, x);
    return this.stages.items.reduce((y, stage, i) => stages.lower<OnnxMap, OnnxMap>(String(i), stage, y), stem);
  }

  /** Parameters and MACs for one h x w image, and the feature map's size and channels. */
  static cost(config: ResNetV2Config, h: number, w: number): Cost & { outH: number; outW: number; outChannels: number } {
    const plan = planResNetV2(config);
    const stem = ResNetV2Stem.cost(plan.inChannels, plan.stemChannels, h, w, plan.paddingSame);
    const costs: Cost[] = [stem];
    let [oh, ow] = [stem.outH, stem.outW];
    for (const blocks of plan.stages) {
      const c = ResNetV2Stage.cost(blocks, oh, ow);
      costs.push(c);
      [oh, ow] = [c.outH, c.outW];
    }
    return { ...sumCosts(...costs), outH: oh, outW: ow, outChannels: plan.outChannels };
  }
}
