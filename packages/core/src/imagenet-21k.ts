// @vitkit/core/imagenet-21k: the 21843 ImageNet-21k classes in Google's order
// (the augreg in21k heads), an entry of its own so the main entry stays small.
import { IMAGENET_21K_GOOG_TABLE } from './labels/imagenet-21k-data.js';
import { type ImageNetClass, parseClassTable } from './labels/imagenet.js';

let classes: ImageNetClass[] | null = null;

export function imagenet21kGoogClasses(): readonly ImageNetClass[] {
  classes ??= parseClassTable(IMAGENET_21K_GOOG_TABLE);
  return classes;
}
