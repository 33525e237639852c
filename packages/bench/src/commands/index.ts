import type { Command } from '../command.js';
import { attention } from './attention.js';
import { compare } from './compare.js';
import { evalCommand } from './eval.js';
import { exportCommand } from './export.js';
import { info } from './info.js';
import { inspect } from './inspect.js';
import { models } from './models.js';
import { parity } from './parity.js';
import { predict } from './predict.js';
import { preprocess } from './preprocess.js';
import { table } from './table.js';
import { throughput } from './throughput.js';
import { train } from './train.js';

/** Every `vitkit` subcommand, in the order `vitkit --help` lists them. */
export const commands: Command[] = [
  compare,
  models,
  table,
  parity,
  train,
  evalCommand,
  predict,
  preprocess,
  throughput,
  exportCommand,
  attention,
  inspect,
  info,
];
