// Which parameters get weight decay, as timm decides it: none for 1-D tensors
// (biases, norm weights), none for names ending in `.bias`, and none for the
// model's "no weight decay" list (position embeddings and class/distillation
// tokens). Decaying those hurts ViTs; the DeiT and timm recipes exclude them.
import type { Module } from '../module.js';

/** Name segments timm's models list in `no_weight_decay()` (ViT, DeiT, CrossViT, CSWin). */
const NO_DECAY_SEGMENT = /^(pos_embed|cls_token|dist_token|reg_token)(_\d+)?$/;

/** A model may name more parameters to exclude, as timm's `model.no_weight_decay()`. */
export interface NoWeightDecay {
  noWeightDecay(): string[];
}

export function wantsWeightDecay(name: string, shape: readonly number[], extra: ReadonlySet<string> = new Set()): boolean {
  if (shape.length <= 1 || name.endsWith('.bias') || extra.has(name)) return false;
  return !name.split('.').some((s) => NO_DECAY_SEGMENT.test(s));
}

/** The names of `model`'s parameters that get weight decay. */
export function weightDecayNames(model: Module): Set<string> {
  const extra = new Set(hasNoWeightDecay(model) ? model.noWeightDecay() : []);
  return new Set(
    model
      .namedParameters()
      .filter(([n, v]) => wantsWeightDecay(n, v.shape, extra))
      .map(([n]) => n),
  );
}

function hasNoWeightDecay(m: Module): m is Module & NoWeightDecay {
  return typeof (m as Partial<NoWeightDecay>).noWeightDecay === 'function';
}
