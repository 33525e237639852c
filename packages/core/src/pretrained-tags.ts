// timm's pretrained tags for the architectures vitkit builds (`NAME.TAG`, as
// timm's default_cfgs list them, first tag of a name = its default) with the
// Hub repository each is published in and the preprocessing it was trained
// with. From timm's vision_transformer.py, deit.py, crossvit.py and
// vision_transformer_hybrid.py; only entries published under hf_hub_id 'timm/'.
import type { PretrainedCfg } from './pretrained-config.js';
import { IMAGENET_MEAN, IMAGENET_STD, INCEPTION_MEAN, INCEPTION_STD } from './registry.js';

export interface PretrainedTag {
  /** `architecture.tag`, as timm names the weights. */
  name: string;
  architecture: string;
  tag: string;
  /** The Hub repository holding config.json and model.safetensors. */
  hfHubId: string;
  numClasses: number;
  pretrainedCfg: PretrainedCfg;
}

/** What a tag's config sets over its family's defaults (timm's _cfg keyword arguments). */
interface Cfg {
  numClasses?: number;
  inputSize?: [number, number, number];
  cropPct?: number;
  interpolation?: string;
  mean?: [number, number, number];
  std?: [number, number, number];
  firstConv?: string | string[];
  classifier?: string | string[];
  license?: string;
}

const AT_384: Cfg = { inputSize: [3, 384, 384], cropPct: 1 };
const IN21K: Cfg = { numClasses: 21843 };
const NO_HEAD: Cfg = { numClasses: 0 };
const IMAGENET: Cfg = { mean: IMAGENET_MEAN, std: IMAGENET_STD };

const VIT: Required<Cfg> = {
  numClasses: 1000,
  inputSize: [3, 224, 224],
  cropPct: 0.9,
  interpolation: 'bicubic',
  mean: INCEPTION_MEAN,
  std: INCEPTION_STD,
  firstConv: 'patch_embed.proj',
  classifier: 'head',
  license: 'apache-2.0',
};

const VIT_TAGS: Record<string, Cfg> = {
  'vit_base_patch16_224.augreg2_in21k_ft_in1k': {},
  'vit_tiny_patch16_224.augreg_in21k_ft_in1k': {},
  'vit_tiny_patch16_384.augreg_in21k_ft_in1k': AT_384,
  'vit_small_patch32_224.augreg_in21k_ft_in1k': {},
  'vit_small_patch32_384.augreg_in21k_ft_in1k': AT_384,
  'vit_small_patch16_224.augreg_in21k_ft_in1k': {},
  'vit_small_patch16_384.augreg_in21k_ft_in1k': AT_384,
  'vit_base_patch32_224.augreg_in21k_ft_in1k': {},
  'vit_base_patch32_384.augreg_in21k_ft_in1k': AT_384,
  'vit_base_patch16_224.augreg_in21k_ft_in1k': {},
  'vit_base_patch16_384.augreg_in21k_ft_in1k': AT_384,
  'vit_large_patch16_224.augreg_in21k_ft_in1k': {},
  'vit_large_patch16_384.augreg_in21k_ft_in1k': AT_384,
  'vit_base_patch16_224.orig_in21k_ft_in1k': {},
  'vit_base_patch16_384.orig_in21k_ft_in1k': AT_384,
  'vit_large_patch32_384.orig_in21k_ft_in1k': AT_384,
  'vit_small_patch16_224.augreg_in1k': {},
  'vit_small_patch16_384.augreg_in1k': AT_384,
  'vit_base_patch32_224.augreg_in1k': {},
  'vit_base_patch32_384.augreg_in1k': AT_384,
  'vit_base_patch16_224.augreg_in1k': {},
  'vit_base_patch16_384.augreg_in1k': AT_384,
  'vit_base_patch32_224.orig_in21k': NO_HEAD,
  'vit_base_patch16_224.orig_in21k': NO_HEAD,
  'vit_large_patch32_224.orig_in21k': NO_HEAD,
  'vit_large_patch16_224.orig_in21k': NO_HEAD,
  'vit_huge_patch14_224.orig_in21k': NO_HEAD,
  'vit_tiny_patch16_224.augreg_in21k': IN21K,
  'vit_small_patch32_224.augreg_in21k': IN21K,
  'vit_small_patch16_224.augreg_in21k': IN21K,
  'vit_base_patch32_224.augreg_in21k': IN21K,
  'vit_base_patch16_224.augreg_in21k': IN21K,
  'vit_large_patch16_224.augreg_in21k': IN21K,
  'vit_base_patch32_224.sam_in1k': {},
  'vit_base_patch16_224.sam_in1k': {},
  'vit_small_patch16_224.dino': { ...IMAGENET, ...NO_HEAD },
  'vit_base_patch16_224.dino': { ...IMAGENET, ...NO_HEAD },
  'vit_base_patch16_224.mae': { ...IMAGENET, ...NO_HEAD, license: 'cc-by-nc-4.0' },
  'vit_large_patch16_224.mae': { ...IMAGENET, ...NO_HEAD, license: 'cc-by-nc-4.0' },
  'vit_huge_patch14_224.mae': { ...IMAGENET, ...NO_HEAD, license: 'cc-by-nc-4.0' },
};

const DEIT: Required<Cfg> = { ...VIT, mean: IMAGENET_MEAN, std: IMAGENET_STD };

const DEIT_TAGS: Record<string, Cfg> = {
  'deit_tiny_patch16_224.fb_in1k': {},
  'deit_small_patch16_224.fb_in1k': {},
  'deit_base_patch16_224.fb_in1k': {},
};

// crossvit.py's _cfg names no interpolation or license: timm's PretrainedCfg defaults (bicubic) apply.
const CROSSVIT: Omit<Required<Cfg>, 'license'> = {
  numClasses: 1000,
  inputSize: [3, 240, 240],
  cropPct: 0.875,
  interpolation: 'bicubic',
  mean: IMAGENET_MEAN,
  std: IMAGENET_STD,
  firstConv: ['patch_embed.0.proj', 'patch_embed.1.proj'],
  classifier: ['head.0', 'head.1'],
};
/** The dagger models' multi-convolution patch embedding. */
const DAGGER: Cfg = { firstConv: ['patch_embed.0.proj.0', 'patch_embed.1.proj.0'] };

const CROSSVIT_TAGS: Record<string, Cfg> = {
  'crossvit_15_240.in1k': {},
  'crossvit_15_dagger_240.in1k': DAGGER,
  'crossvit_18_240.in1k': {},
  'crossvit_18_dagger_240.in1k': DAGGER,
  'crossvit_9_240.in1k': {},
  'crossvit_9_dagger_240.in1k': DAGGER,
  'crossvit_base_240.in1k': {},
  'crossvit_small_240.in1k': {},
  'crossvit_tiny_240.in1k': {},
};

// The ResNetV2 + ViT hybrids (vision_transformer_hybrid.py); no license in their _cfg.
const HYBRID: Omit<Required<Cfg>, 'license'> = { ...VIT, firstConv: 'patch_embed.backbone.stem.conv' };
/** The R+ViT-Ti models have a stem only, no ResNet stages. */
const STEM_ONLY: Cfg = { firstConv: 'patch_embed.backbone.conv' };

const HYBRID_TAGS: Record<string, Cfg> = {
  'vit_tiny_r_s16_p8_224.augreg_in21k_ft_in1k': STEM_ONLY,
  'vit_tiny_r_s16_p8_384.augreg_in21k_ft_in1k': { ...STEM_ONLY, ...AT_384 },
  'vit_small_r26_s32_224.augreg_in21k_ft_in1k': {},
  'vit_small_r26_s32_384.augreg_in21k_ft_in1k': AT_384,
  'vit_base_r50_s16_384.orig_in21k_ft_in1k': AT_384,
  'vit_large_r50_s32_224.augreg_in21k_ft_in1k': {},
  'vit_large_r50_s32_384.augreg_in21k_ft_in1k': AT_384,
  'vit_tiny_r_s16_p8_224.augreg_in21k': { ...STEM_ONLY, ...IN21K },
  'vit_small_r26_s32_224.augreg_in21k': IN21K,
  'vit_base_r50_s16_224.orig_in21k': NO_HEAD,
  'vit_large_r50_s32_224.augreg_in21k': IN21K,
};

function expand(defaults: Cfg & Omit<Required<Cfg>, 'license'>, tags: Record<string, Cfg>): PretrainedTag[] {
  return Object.entries(tags).map(([name, own]) => {
    const c = { ...defaults, ...own };
    const dot = name.indexOf('.');
    return {
      name,
      architecture: name.slice(0, dot),
      tag: name.slice(dot + 1),
      hfHubId: `timm/${name}`,
      numClasses: c.numClasses,
      pretrainedCfg: {
        inputSize: c.inputSize,
        interpolation: c.interpolation,
        cropPct: c.cropPct,
        cropMode: 'center',
        mean: [...c.mean],
        std: [...c.std],
        firstConv: c.firstConv,
        classifier: c.classifier,
        extra: c.license ? { license: c.license } : {},
      },
    };
  });
}

const TAGS: PretrainedTag[] = [
  ...expand(VIT, VIT_TAGS),
  ...expand(DEIT, DEIT_TAGS),
  ...expand(CROSSVIT, CROSSVIT_TAGS),
  ...expand(HYBRID, HYBRID_TAGS),
];
const BY_NAME = new Map(TAGS.map((t) => [t.name, t]));

/** Every known tag, or those of one architecture; an architecture's first tag is its default, as in timm. */
export function listPretrainedTags(architecture?: string): PretrainedTag[] {
  return architecture === undefined ? [...TAGS] : TAGS.filter((t) => t.architecture === architecture);
}

/**
 * The weights `NAME.TAG` names, or NAME's default tag for a bare NAME. An
 * unknown tag is an error listing the architecture's tags.
 */
export function resolvePretrainedTag(name: string): PretrainedTag {
  const exact = BY_NAME.get(name);
  if (exact) return exact;
  const dot = name.indexOf('.');
  const architecture = dot < 0 ? name : name.slice(0, dot);
  const known = listPretrainedTags(architecture);
  if (!known.length) throw new Error(`no pretrained weights are known for '${architecture}' (vitkit models --pretrained lists them)`);
  if (dot < 0) return known[0]!;
  throw new Error(`no pretrained tag '${name.slice(dot + 1)}' for ${architecture} (its tags: ${known.map((t) => t.tag).join(', ')})`);
}
