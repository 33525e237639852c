// The checks every registered model gets, parametrised over listModels() as
// timm's tests/test_models.py is: a model is tested the moment it is
// registered. Forward, backward (a finite, non-zero gradient for every
// parameter), state-dict round trip, no tensor leak, the default config, and
// the built model's parameters and complexity against the registry's static
// cost. Then every model is built with each of its declared options set.
//
// Models above a size cap run shrunk (as timm caps the size it tests): the
// block is the same code at every depth and width, so one or two blocks on a
// 2x2 to 4x4 token grid exercise it. The full-size counts are checked against
// ../shared/tables/reference-models.json in each family's own tests.
import * as tf from '@tensorflow/tfjs-core';
import { type CreateOptions, createModel, getModelEntry, listModels, type ModelEntry, microDefaults, PatchEmbed } from '@vitkit/core';
import { CSWIN_PRESETS } from '@vitkit/cswin';
import { PRESETS as HYBRID_PRESETS, RESNET_HYBRID_PRESETS } from '@vitkit/hybrid-stem';
import { type EmbedLayerFactory, VIT_PRESETS } from '@vitkit/vit';
import { describe, expect, it } from 'vitest';
import '../src/register-models.js';

/** Models up to this many MACs an image run as registered; bigger ones get their declaration's shrunk options. */
const MACS_CAP = 50e6;

/**
 * The shrunk configuration of a model too big to test as registered, per
 * option declaration: heads, patch and stem as published, the width cut to a
 * few channels a head, one block (or one a stage).
 */
const SHRINK: Record<string, (name: string) => CreateOptions> = {
  // Two patches a side (patch 14 models at 28 px, patch 32 at 64), 16 channels a head.
  VisionTransformer: (name) => {
    const { patchSize, numHeads } = VIT_PRESETS.find((p) => p.name === name)!.architecture;
    return { imgSize: 2 * patchSize!, depth: 1, embedDim: 16 * numHeads! };
  },
  // Stride-16 stems give a 2x2 grid at 32 px; 16 channels a head, the MLP at the preset's ratio.
  'hybrid-stem': (name) => {
    const { numHeads, embedDim, mlpHidden } = HYBRID_PRESETS.find((p) => p.name === name)!.config;
    const width = 16 * numHeads!;
    return { imgSize: 32, depth: 1, embedDim: width, mlpHidden: (width * mlpHidden!) / embedDim! };
  },
  // At 32 px a 1x1 or 2x2 token grid; the backbone keeps its stages, block counts and strides at 256 channels a stage.
  'ResNet hybrid': (name) => {
    const { backbone, numHeads } = RESNET_HYBRID_PRESETS.find((p) => p.name === name)!.config;
    return {
      imgSize: 32,
      depth: 1,
      embedDim: 16 * numHeads!,
      backbone: { layers: backbone.layers, channels: [256, 256, 256, 256], stemChannels: 32 },
    };
  },
  // A 64 px input (grids 16, 8, 4, 2), one block a stage, stripes that divide
  // those grids, a stage-1 width of 8 per stage-1 head.
  cswin: (name) => {
    const heads = CSWIN_PRESETS.find((p) => p.name === name)!.config.numHeads;
    return { imgSize: 64, depths: [1, 1, 1, 1], splitSize: [1, 2, 2, 2], embedDim: 8 * heads[0]! };
  },
  // Branches at 48 and 32 px (4x4 and 2x2 patches), one encoder of one block each (CrossViT's width is not an option).
  CrossViT: () => ({ imgSize: 48, depth: [[1, 1, 0]] }),
};

function testOptions(entry: ModelEntry): CreateOptions {
  if (entry.cost().macs <= MACS_CAP) return {};
  const shrink = SHRINK[entry.options.owner];
  if (!shrink) throw new Error(`no shrunk configuration for the '${entry.options.owner}' options (add one to SHRINK)`);
  return shrink(entry.name);
}

const NUM_CLASSES = 7;
const finiteSum = (t: tf.Tensor) => tf.tidy(() => tf.sum(tf.abs(t)).dataSync()[0]!);

describe.each(listModels())('%s', (name) => {
  const entry = getModelEntry(name);

  it('default config', () => {
    const d = entry.defaults;
    expect(Object.keys(d).sort()).toEqual(
      [
        'cropPct',
        'family',
        'figures',
        'imgSize',
        'implementation',
        'inChannels',
        'interpolation',
        'mean',
        'numClasses',
        'paper',
        'std',
      ].sort(),
    );
    expect([d.mean.length, d.std.length]).toEqual([3, 3]);
    expect(d.cropPct).toBeGreaterThan(0);
    expect(d.cropPct).toBeLessThanOrEqual(1);
    expect(['bilinear', 'bicubic']).toContain(d.interpolation);
    expect(Number.isInteger(d.imgSize) && Number.isInteger(d.numClasses) && Number.isInteger(d.inChannels)).toBe(true);
    expect(d.implementation.length * d.paper.length).toBeGreaterThan(0);
    expect(entry.options.names).toEqual(expect.arrayContaining(['numClasses', 'imgSize', 'inChannels', 'dropRate', 'dropPathRate']));
    // A micro model differs from the others only in what its family gives microDefaults.
    if (name.endsWith('_micro_32')) expect(d).toEqual(microDefaults(d));
  });

  it('forward, backward, state-dict round trip, no leak; numParams and complexity equal the static cost', () => {
    const options = { ...testOptions(entry), numClasses: NUM_CLASSES };
    const model = createModel(name, options);
    const fresh = createModel(name, options);
    const [h, w] = model.imgSize;
    const x = tf.randomNormal([2, h, w, entry.defaults.inChannels], 0, 1, 'float32', 3);
    const labels = tf.oneHot(tf.tensor1d([1, 4], 'int32'), NUM_CLASSES);
    try {
      const cost = entry.cost(options);
      expect(model.numParams()).toBe(cost.params);
      expect(model.complexity()).toEqual(cost);

      // A first forward in each mode settles what that mode caches (StdConv2d keeps its
      // standardised filters in eval mode and releases them at its first training forward).
      const settle = () => tf.tidy(() => model.forward(x)).dispose();
      model.eval();
      settle();
      let before = tf.memory().numTensors;
      const logits = tf.tidy(() => model.forward(x));
      expect(logits.shape).toEqual([2, NUM_CLASSES]);
      expect(Number.isFinite(finiteSum(logits))).toBe(true);
      logits.dispose();
      expect(tf.memory().numTensors).toBe(before);

      model.train();
      settle();
      before = tf.memory().numTensors;
      const norms = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(
          () => tf.losses.softmaxCrossEntropy(labels, model.forward(x)) as tf.Scalar,
          model.parameters(),
        );
        expect(Number.isFinite(value.dataSync()[0]!)).toBe(true);
        return Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, finiteSum(g)]));
      });
      expect(tf.memory().numTensors).toBe(before);
      const bad = model
        .namedParameters()
        .filter(([, v]) => !(Number.isFinite(norms[v.name]) && norms[v.name]! > 0))
        .map(([n]) => n);
      expect(bad, 'parameters without a finite non-zero gradient').toEqual([]);

      // After the training step, which moves BatchNorm's running statistics,
      // so the round trip carries the state that is actually saved.
      model.eval();
      fresh.eval();
      const sd = model.stateDict();
      fresh.loadStateDict(sd);
      tf.dispose(Object.values(sd));
      const [a, b] = tf.tidy(() => [model.forward(x), fresh.forward(x)]);
      expect(Array.from(b!.dataSync())).toEqual(Array.from(a!.dataSync()));
      tf.dispose([a!, b!]);
    } finally {
      tf.dispose([x, labels]);
      model.dispose();
      fresh.dispose();
    }
  });
});

/** A patchify embedder of 8 with the static cost VisionTransformer.cost needs. */
const patch8: EmbedLayerFactory = Object.assign((_s: [number, number], c: number, d: number) => new PatchEmbed(8, c, d), {
  cost: ([h, w]: [number, number], c: number, d: number) => ({
    cost: PatchEmbed.cost(8, c, d, h, w),
    grid: [h / 8, w / 8] as [number, number],
  }),
});

const VIT_SETS: CreateOptions[] = [
  {
    imgSize: 16,
    patchSize: 4,
    inChannels: 1,
    numClasses: 3,
    globalPool: 'avg',
    embedDim: 32,
    depth: 2,
    numHeads: 2,
    mlpHidden: 48,
    qkvBias: false,
    classToken: false,
    fcNorm: false,
    dropRate: 0.1,
    attnDropRate: 0.1,
    dropPathRate: 0.1,
    eps: 1e-5,
    posEmbedInitStd: 1,
    attentionInit: 'mimetic',
    shiftedPatches: true,
    localityAttention: true,
  },
  { imgSize: 16, embedDim: 32, depth: 1, numHeads: 2, mlpRatio: 2, noEmbedClass: true, representationSize: 16, embedLayer: patch8 },
];

const { embedLayer: _embedLayer, ...vitWithoutEmbedLayer } = VIT_SETS[1]!;

/**
 * Sets of option values that together set every option of each declaration
 * (keyed by its owner); a new option without a value here fails the coverage test.
 */
const OPTION_SETS: Record<string, CreateOptions[]> = {
  VisionTransformer: VIT_SETS,
  'hybrid-stem': [
    { ...VIT_SETS[0], stem: null },
    { ...vitWithoutEmbedLayer, stem: { kernels: [3, 1], strides: [4, 2], dims: [8, 32] } },
  ],
  'ResNet hybrid': [
    {
      imgSize: 32,
      inChannels: 1,
      numClasses: 3,
      dropRate: 0.1,
      attnDropRate: 0.1,
      dropPathRate: 0.1,
      embedDim: 32,
      depth: 1,
      numHeads: 2,
      mlpRatio: 2,
      qkvBias: false,
      globalPool: 'avg',
      classToken: false,
      fcNorm: true,
      backbone: { layers: [1], channels: [128], stemChannels: 32, paddingSame: false },
      patchSize: 2,
    },
  ],
  cswin: [
    {
      imgSize: 64,
      inChannels: 1,
      numClasses: 3,
      embedDim: 16,
      depths: [1, 1, 1, 1],
      numHeads: [2, 2, 4, 8],
      splitSize: [1, 2, 2, 2],
      mlpRatio: 2,
      qkvBias: false,
      qkScale: 0.5,
      dropRate: 0.1,
      attnDropRate: 0.1,
      dropPathRate: 0.1,
    },
  ],
  // branchImgSize wins over imgSize (which the shrunk models above exercise).
  CrossViT: [
    {
      numClasses: 3,
      imgSize: 48,
      branchImgSize: [48, 32],
      inChannels: 1,
      dropRate: 0.1,
      dropPathRate: 0.1,
      depth: [[1, 1, 0]],
      attnDropRate: 0.1,
      qkScale: 0.5,
    },
  ],
};

describe('every registered model builds with each of its options set', () => {
  const declarations = new Map(listModels().map((n) => [getModelEntry(n).options.owner, getModelEntry(n).options]));

  it.each(Object.keys(OPTION_SETS))('the %s sets cover every declared option', (owner) => {
    const declared = declarations.get(owner)?.names;
    expect(declared, `no registered model declares its options as '${owner}'`).toBeDefined();
    expect(new Set(OPTION_SETS[owner]!.flatMap((s) => Object.keys(s)))).toEqual(new Set(declared));
  });

  it('every option declaration has option sets', () => {
    expect([...declarations.keys()].sort()).toEqual(Object.keys(OPTION_SETS).sort());
  });

  it.each(listModels())('%s', (name) => {
    const entry = getModelEntry(name);
    for (const options of OPTION_SETS[entry.options.owner]!) {
      const model = createModel(name, options);
      try {
        expect(model.numParams()).toBe(entry.cost(options).params);
        const [h, w] = model.imgSize;
        const channels = (options['inChannels'] as number | undefined) ?? entry.defaults.inChannels;
        const y = tf.tidy(() => model.eval().forward(tf.zeros([1, h, w, channels])));
        expect(y.shape).toEqual([1, model.numClasses]);
        y.dispose();
      } finally {
        model.dispose();
      }
    }
  });
});
