// The registered configurations: the eight models of Xiao et al. 2021, Table 1
// (ViTP-nGF with a 16x16 patchify stem; ViTC-nGF with a conv stem and one block
// fewer, so the stem's cost takes the place of that block), as pycls' configs
// spell them, and a micro model for 32x32 experiments.
import { IMAGENET_MEAN, IMAGENET_STD, type ModelDefaults, microDefaults, type ReferenceFigures } from '@vitkit/core';
import type { ConvStemConfig } from './conv-stem.js';
import type { HybridStemOptions } from './pycls-vit.js';

export const PAPER = 'Xiao et al. 2021, Early Convolutions Help Transformers See Better, https://arxiv.org/abs/2106.14881';
export const IMPLEMENTATION = 'pycls.models.vit.ViT (facebookresearch/pycls)';

export interface Preset {
  name: string;
  /** The architecture at the default input size and class count. */
  config: HybridStemOptions;
  defaults: ModelDefaults;
}

interface Width {
  embedDim: number;
  numHeads: number;
  mlpHidden: number;
  /** Blocks of the ViTP model; its ViTC twin has one fewer. */
  depth: number;
}

// Table 1: hidden size, heads, MLP width (3x for 1GF and 4GF, 4x above), blocks.
const WIDTHS: Record<string, Width> = {
  '1gf': { embedDim: 192, numHeads: 3, mlpHidden: 576, depth: 12 },
  '4gf': { embedDim: 384, numHeads: 6, mlpHidden: 1152, depth: 12 },
  '18gf': { embedDim: 768, numHeads: 12, mlpHidden: 3072, depth: 12 },
  '36gf': { embedDim: 1024, numHeads: 16, mlpHidden: 4096, depth: 14 },
};

// The paper's conv stems: 3x3 convolutions (stride 2 doubles the channels,
// stride 1 keeps them), then a 1x1 convolution to the model width. The small
// models use four stride-2 convolutions; 18GF and 36GF interleave stride-1 ones.
const CONV_STEMS: Record<string, (width: number) => ConvStemConfig> = {
  '1gf': (w) => ({ kernels: [3, 3, 3, 3, 1], strides: [2, 2, 2, 2, 1], dims: [24, 48, 96, 192, w] }),
  '4gf': (w) => ({ kernels: [3, 3, 3, 3, 1], strides: [2, 2, 2, 2, 1], dims: [48, 96, 192, 384, w] }),
  '18gf': (w) => ({
    kernels: [3, 3, 3, 3, 3, 3, 1],
    strides: [2, 2, 1, 2, 1, 2, 1],
    dims: [64, 128, 128, 256, 256, 512, w],
  }),
  '36gf': (w) => ({
    kernels: [3, 3, 3, 3, 3, 3, 1],
    strides: [2, 2, 1, 2, 1, 2, 1],
    dims: [64, 128, 128, 256, 256, 512, w],
  }),
};

// Copied from ../shared/tables/reference-models.json (a test checks they agree).
const FIGURES: Record<string, ReferenceFigures> = {
  vitp_1gf: { reference: 'pycls/ViTP-1GF', params: 4830376, macs: 1079390208, paperParamsM: 4.8, paperGflops: 1.1, paperTop1: 72.3 },
  vitp_4gf: { reference: 'pycls/ViTP-4GF', params: 18507112, macs: 3901710336, paperParamsM: 18.5, paperGflops: 3.9, paperTop1: 80.4 },
  vitp_18gf: { reference: 'pycls/ViTP-18GF', params: 86567656, macs: 17563828224, paperParamsM: 86.7, paperGflops: 17.5, paperTop1: 82.1 },
  vitp_36gf: {
    reference: 'pycls/ViTP-36GF',
    params: 178364392,
    macs: 35971567616,
    paperParamsM: 178.4,
    paperGflops: 35.9,
    paperTop1: 81.8,
  },
  vitc_1gf: { reference: 'pycls/ViTC-1GF', params: 4567936, macs: 1075860096, paperParamsM: 4.6, paperGflops: 1.1, paperTop1: 75.3 },
  vitc_4gf: { reference: 'pycls/ViTC-4GF', params: 17754136, macs: 3958940928, paperParamsM: 17.8, paperGflops: 4.0, paperTop1: 81.4 },
  vitc_18gf: { reference: 'pycls/ViTC-18GF', params: 81573160, macs: 17711491584, paperParamsM: 81.6, paperGflops: 17.7, paperTop1: 83.0 },
  vitc_36gf: {
    reference: 'pycls/ViTC-36GF',
    params: 167796008,
    macs: 35002025984,
    paperParamsM: 167.8,
    paperGflops: 35.0,
    paperTop1: 83.2,
  },
};

const TOP1_SOURCE = 'Xiao et al. Tab.1, 400 epochs';

function imagenetDefaults(name: string): ModelDefaults {
  return {
    family: 'hybrid-stem',
    imgSize: 224,
    inChannels: 3,
    numClasses: 1000,
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    // pycls evaluates on a 224 centre crop of the image resized to 256 (cv2 bilinear).
    cropPct: 0.875,
    interpolation: 'bilinear',
    implementation: IMPLEMENTATION,
    paper: PAPER,
    figures: { ...FIGURES[name]!, macsExact: true, paperTop1Source: TOP1_SOURCE },
  };
}

function paperPresets(): Preset[] {
  const out: Preset[] = [];
  for (const [size, w] of Object.entries(WIDTHS)) {
    const common = {
      imgSize: 224,
      inChannels: 3,
      numClasses: 1000,
      embedDim: w.embedDim,
      numHeads: w.numHeads,
      mlpHidden: w.mlpHidden,
    };
    out.push({
      name: `vitc_${size}`,
      config: { ...common, depth: w.depth - 1, stem: CONV_STEMS[size]!(w.embedDim) },
      defaults: imagenetDefaults(`vitc_${size}`),
    });
    out.push({
      name: `vitp_${size}`,
      config: { ...common, depth: w.depth, patchSize: 16 },
      defaults: imagenetDefaults(`vitp_${size}`),
    });
  }
  return out;
}

/**
 * vitc_micro_32: the ViTC twin of a plain patchify vit_micro_32 (patch 4,
 * width 64, depth 3, 2 heads, MLP 256: 11.40 M MACs; the registered
 * vit_micro_32 adds shifted patch tokens, 12.19 M) built by the paper's
 * recipe - a conv stem to the same 8x8 grid and one block fewer. The stem
 * follows the 18GF pattern (two stride-2 3x3 convolutions doubling 32 -> 64, a
 * stride-1 3x3 at 64, the 1x1 to the width), which makes its cost about one
 * block's: 11.49 M MACs in all, within 1% of its patchify twin, as the paper
 * matches ViTC to ViTP flops.
 */
const MICRO: Preset = {
  name: 'vitc_micro_32',
  config: {
    imgSize: 32,
    inChannels: 3,
    numClasses: 10,
    embedDim: 64,
    numHeads: 2,
    mlpHidden: 256,
    depth: 2,
    stem: { kernels: [3, 3, 3, 1], strides: [2, 2, 1, 1], dims: [32, 64, 64, 64] },
    // As vit_micro_32 (position embedding at std 1, mimetic attention), for short runs from scratch.
    posEmbedInitStd: 1,
    attentionInit: 'mimetic',
  },
  defaults: microDefaults({ family: 'hybrid-stem', interpolation: 'bilinear', implementation: IMPLEMENTATION, paper: PAPER }),
};

export const PRESETS: Preset[] = [...paperPresets(), MICRO];
