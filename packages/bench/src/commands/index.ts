import type { Command } from '../command.js';
import { attention } from './attention.js';
import { compare } from './compare.js';
import { convert } from './convert.js';
import { demo } from './demo.js';
import { evalCommand } from './eval.js';
import { exportCommand } from './export.js';
import { info } from './info.js';
import { inspect } from './inspect.js';
import { models } from './models.js';
import { parity } from './parity.js';
import { predict } from './predict.js';
import { preprocess } from './preprocess.js';
import { report } from './report.js';
import { table } from './table.js';
import { throughput } from './throughput.js';
import { train } from './train.js';
import { validate } from './validate.js';
import { worker } from './worker.js';

/** Every `vitkit` subcommand, in the order `vitkit --help` lists them. */
export const commands: Command[] = [
  compare,
  worker,
  report,
  models,
  table,
  parity,
  train,
  evalCommand,
  validate,
  predict,
  preprocess,
  throughput,
  exportCommand,
  attention,
  demo,
  inspect,
  convert,
  info,
];
