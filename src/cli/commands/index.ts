// Every sub-command's `register`. Add one import and one entry per command file.
import type { Command } from 'commander';
import { register as augment } from './augment.js';
import { register as bench } from './bench.js';
import { register as dataset } from './dataset.js';
import { register as demo } from './demo.js';
import { register as embed } from './embed.js';
import { register as evaluate } from './evaluate.js';
import { register as exportCmd } from './export.js';
import { register as features } from './features.js';
import { register as info } from './info.js';
import { register as pipeline } from './pipeline.js';
import { register as predict } from './predict.js';
import { register as score } from './score.js';
import { register as serve } from './serve.js';
import { register as train } from './train.js';
import { register as worker } from './worker.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  augment,
  bench,
  dataset,
  demo,
  embed,
  evaluate,
  exportCmd,
  features,
  info,
  pipeline,
  predict,
  score,
  serve,
  train,
  worker,
];
