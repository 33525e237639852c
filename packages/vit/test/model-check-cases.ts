// The input and depth each registered model gets in the shared model checks
// (forward, gradients to every parameter, state-dict round trip, no leak): a
// tiny input (patch 14 models at 28 px, others at 32). Models over ~30 M
// parameters keep one block so the tests stay light (the block is the same code
// at every depth), and so do the _384 models: at a 32 px input they are exactly
// their _224 twins, which run at full depth. Two test files share the cases
// (ViT-L/H, whose weights take longest to initialise, and the rest) so the two
// CPU cores run them side by side.
import { getModelEntry } from '@vitkit/core';
import { VIT_PRESETS } from '../src/index.js';

export interface ModelCheckCase {
  name: string;
  options: { imgSize: number; depth?: number };
}

export function modelCheckCases(group: 'large' | 'others'): ModelCheckCase[] {
  const isLarge = (name: string) => name.startsWith('vit_large') || name.startsWith('vit_huge');
  return VIT_PRESETS.filter((p) => isLarge(p.name) === (group === 'large')).map((p) => {
    const imgSize = p.architecture.patchSize === 14 ? 28 : 32;
    const shrink = getModelEntry(p.name).cost().params > 30e6 || p.defaults.imgSize === 384;
    return { name: p.name, options: shrink ? { imgSize, depth: 1 } : { imgSize } };
  });
}
