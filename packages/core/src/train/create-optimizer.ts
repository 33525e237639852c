import type { Module } from '../module.js';
import { AdamW, type AdamWOptions } from './adamw.js';
import type { Optimizer } from './optimizer.js';
import { Sgd, type SgdOptions } from './sgd.js';
import { weightDecayNames } from './weight-decay.js';

export type OptimizerKind = 'adamw' | 'sgd';

/** An optimizer over every parameter of `model`, with timm's weight-decay exclusions. */
export function createOptimizer(kind: OptimizerKind, model: Module, options: AdamWOptions & SgdOptions = {}): Optimizer {
  const paramSet = { params: model.namedParameters(), decay: weightDecayNames(model) };
  if (kind === 'adamw') return new AdamW(paramSet, options);
  if (kind === 'sgd') return new Sgd(paramSet, options);
  throw new Error(`unknown optimizer '${kind}' (adamw or sgd)`);
}
