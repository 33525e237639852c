// How a config.json's model_args in timm's CrossVit argument names set this
// package's createModel options. The branch layout (patch sizes, widths,
// heads, img_scale) comes with the architecture and is not an override here.
import type { TimmArgTable } from '@vitkit/core';

export const CROSSVIT_TIMM_ARGS: TimmArgTable = {
  img_size: 'imgSize',
  in_chans: 'inChannels',
  num_classes: 'numClasses',
  depth: 'depth',
  drop_rate: 'dropRate',
  attn_drop_rate: 'attnDropRate',
  drop_path_rate: 'dropPathRate',
  crop_scale: { fixed: false },
  pos_drop_rate: { fixed: 0 },
  proj_drop_rate: { fixed: 0 },
  global_pool: { fixed: 'token' },
};
