// How a config.json's model_args in timm's VisionTransformer argument names
// set this package's options (core's modelOptionsFromConfig applies it; the
// option values are checked where the model is built).
import type { TimmArgTable } from '@vitkit/core';

export const VIT_TIMM_ARGS: TimmArgTable = {
  img_size: 'imgSize',
  patch_size: 'patchSize',
  in_chans: 'inChannels',
  num_classes: 'numClasses',
  global_pool: 'globalPool',
  embed_dim: 'embedDim',
  depth: 'depth',
  num_heads: 'numHeads',
  mlp_ratio: 'mlpRatio',
  qkv_bias: 'qkvBias',
  class_token: 'classToken',
  no_embed_class: 'noEmbedClass',
  fc_norm: 'fcNorm',
  // timm 0.6's meaning (dropout after the position embedding and in every block), which this VisionTransformer has.
  drop_rate: 'dropRate',
  attn_drop_rate: 'attnDropRate',
  drop_path_rate: 'dropPathRate',
  // Features of later timm versions that this VisionTransformer has only in their off state.
  qk_norm: { fixed: false },
  init_values: { fixed: null },
  reg_tokens: { fixed: 0 },
  pos_embed: { fixed: 'learn' },
  pre_norm: { fixed: false },
  final_norm: { fixed: true },
  dynamic_img_size: { fixed: false },
  dynamic_img_pad: { fixed: false },
  pos_drop_rate: { fixed: 0 },
  patch_drop_rate: { fixed: 0 },
  proj_drop_rate: { fixed: 0 },
  weight_init: { fixed: '' },
  fix_init: { fixed: false },
};
