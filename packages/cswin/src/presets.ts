// The registered CSWin configurations: the official repository's six models
// (Table 1 of the paper; heads as in the code, which gives CSWin-L 24 heads in
// stage 4 where the paper's table says 48) and a micro model for 32x32 inputs.
import { declareOptions, IMAGENET_MEAN, IMAGENET_STD, type ModelDefaults, microDefaults, type OptionsOf, presetValue } from '@vitkit/core';
import type { CSWinConfig } from './cswin-transformer.js';

export const CSWIN_PAPER =
  'CSWin Transformer: A General Vision Transformer Backbone with Cross-Shaped Windows (Dong et al., CVPR 2022), https://arxiv.org/abs/2107.00652';
const OFFICIAL = 'microsoft/CSWin-Transformer models/cswin.py';

export interface CSWinPreset {
  name: string;
  config: CSWinConfig;
  defaults: ModelDefaults;
}

/**
 * What `createModel('cswin_*', options)` accepts: every field of CSWinConfig,
 * each defaulting to the preset's value (an undefined one too).
 */
export const CSWIN_OPTIONS = declareOptions('cswin', {
  imgSize: presetValue<number>(),
  inChannels: presetValue<number>(),
  numClasses: presetValue<number>(),
  embedDim: presetValue<number>(),
  depths: presetValue<number[]>(),
  numHeads: presetValue<number[]>(),
  splitSize: presetValue<number[]>(),
  mlpRatio: presetValue<number>(),
  qkvBias: presetValue<boolean>(),
  qkScale: presetValue<number | null>(),
  dropRate: presetValue<number>(),
  attnDropRate: presetValue<number>(),
  dropPathRate: presetValue<number>(),
} satisfies CSWinConfig);

export type CSWinOptions = OptionsOf<typeof CSWIN_OPTIONS.defaults>;

/** A preset's configuration with options applied; an unknown option is an error naming it. */
export function configWithOptions(preset: CSWinPreset, options: CSWinOptions = {}): CSWinConfig {
  return CSWIN_OPTIONS.resolve([preset.config, options], preset.name);
}

interface Variant {
  name: string;
  imgSize: number;
  embedDim: number;
  depths: number[];
  numHeads: number[];
  splitSize: number[];
  /** The official function name, also the row in reference-models.json (`cswin/<fn>`). */
  officialName: string;
  figures: ModelDefaults['figures'];
}

function official(v: Variant): CSWinPreset {
  return {
    name: v.name,
    config: {
      imgSize: v.imgSize,
      inChannels: 3,
      numClasses: 1000,
      embedDim: v.embedDim,
      depths: v.depths,
      numHeads: v.numHeads,
      splitSize: v.splitSize,
      mlpRatio: 4,
      qkvBias: true,
      qkScale: null,
      dropRate: 0,
      attnDropRate: 0,
      dropPathRate: 0,
    },
    defaults: {
      family: 'cswin',
      imgSize: v.imgSize,
      inChannels: 3,
      numClasses: 1000,
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
      cropPct: v.imgSize === 384 ? 1.0 : 0.9,
      interpolation: 'bicubic',
      implementation: `${OFFICIAL} ${v.officialName}`,
      paper: CSWIN_PAPER,
      figures: v.figures,
    },
  };
}

const SPLIT_224 = [1, 2, 7, 7];
const SPLIT_384 = [1, 2, 12, 12];
const DEPTHS_24322 = [2, 4, 32, 2];

export const CSWIN_PRESETS: CSWinPreset[] = [
  official({
    name: 'cswin_tiny_224',
    imgSize: 224,
    embedDim: 64,
    depths: [1, 2, 21, 1],
    numHeads: [2, 4, 8, 16],
    splitSize: SPLIT_224,
    officialName: 'CSWin_64_12211_tiny_224',
    figures: {
      reference: 'cswin/CSWin_64_12211_tiny_224',
      params: 22320552,
      macs: 4324203008,
      paperParamsM: 23,
      paperGflops: 4.3,
      paperTop1: 82.8,
      paperTop1Source: 'CSWin README',
    },
  }),
  official({
    name: 'cswin_small_224',
    imgSize: 224,
    embedDim: 64,
    depths: DEPTHS_24322,
    numHeads: [2, 4, 8, 16],
    splitSize: SPLIT_224,
    officialName: 'CSWin_64_24322_small_224',
    figures: {
      reference: 'cswin/CSWin_64_24322_small_224',
      params: 34643304,
      macs: 6800714752,
      paperParamsM: 35,
      paperGflops: 6.9,
      paperTop1: 83.6,
      paperTop1Source: 'CSWin README',
    },
  }),
  official({
    name: 'cswin_base_224',
    imgSize: 224,
    embedDim: 96,
    depths: DEPTHS_24322,
    numHeads: [4, 8, 16, 32],
    splitSize: SPLIT_224,
    officialName: 'CSWin_96_24322_base_224',
    figures: {
      reference: 'cswin/CSWin_96_24322_base_224',
      params: 77382184,
      macs: 14955348480,
      paperParamsM: 78,
      paperGflops: 15.0,
      paperTop1: 84.2,
      paperTop1Source: 'CSWin README',
    },
  }),
  official({
    name: 'cswin_large_224',
    imgSize: 224,
    embedDim: 144,
    depths: DEPTHS_24322,
    numHeads: [6, 12, 24, 24],
    splitSize: SPLIT_224,
    officialName: 'CSWin_144_24322_large_224',
    figures: {
      reference: 'cswin/CSWin_144_24322_large_224',
      params: 173262664,
      macs: 33130000000,
      macsExact: false,
      paperParamsM: 173,
      paperGflops: 31.5,
      paperTop1: 86.5,
      paperTop1Source: 'CSWin README, ImageNet-22k pre-training',
    },
  }),
  official({
    name: 'cswin_base_384',
    imgSize: 384,
    embedDim: 96,
    depths: DEPTHS_24322,
    numHeads: [4, 8, 16, 32],
    splitSize: SPLIT_384,
    officialName: 'CSWin_96_24322_base_384',
    figures: {
      reference: 'cswin/CSWin_96_24322_base_384',
      params: 77382184,
      macs: 46960000000,
      macsExact: false,
      paperParamsM: 78,
      paperGflops: 47.0,
      paperTop1: 85.5,
      paperTop1Source: 'CSWin README (abstract says 85.4)',
    },
  }),
  official({
    name: 'cswin_large_384',
    imgSize: 384,
    embedDim: 144,
    depths: DEPTHS_24322,
    numHeads: [6, 12, 24, 24],
    splitSize: SPLIT_384,
    officialName: 'CSWin_144_24322_large_384',
    // No row in reference-models.json: the paper's figures only.
    figures: {
      paperParamsM: 173,
      paperGflops: 96.8,
      paperTop1: 87.5,
      paperTop1Source: 'CSWin README, ImageNet-22k pre-training',
    },
  }),
];

/**
 * cswin_micro_32: for 32x32 inputs (token grids 8, 4, 2, 1), 10 classes,
 * mean/std 0.5, sized to the bench's vit_micro_32 (11.6 M MACs against 12.2 M).
 * Width 32 doubling per stage as in CSWin (32, 64, 128, 256); depths 2, 2, 8, 1
 * put most blocks in stage 3 as every CSWin does; stripe widths 1, 2, 1 (stage
 * 3's 2x2 grid still gets two 1-token-wide branches instead of collapsing to
 * full attention; stage 4 is one token); heads 2, 2, 4, 8 (head width 16, then
 * 32 as in vit_micro_32). CSWin's widening stages make it heavier in
 * parameters (about 3 M) than a ViT of the same MACs.
 */
export const CSWIN_MICRO: CSWinPreset = {
  name: 'cswin_micro_32',
  config: {
    imgSize: 32,
    inChannels: 3,
    numClasses: 10,
    embedDim: 32,
    depths: [2, 2, 8, 1],
    numHeads: [2, 2, 4, 8],
    splitSize: [1, 2, 1, 1],
    mlpRatio: 4,
    qkvBias: true,
    qkScale: null,
    dropRate: 0,
    attnDropRate: 0,
    dropPathRate: 0,
  },
  defaults: microDefaults({
    family: 'cswin',
    interpolation: 'bilinear',
    implementation: `${OFFICIAL} CSWinTransformer (vitkit micro configuration)`,
    paper: CSWIN_PAPER,
  }),
};
