// Every sub-command's `register`. Add one import and one entry per command file.
import type { Command } from 'commander';
import { register as augment } from './augment.js';
import { register as dataset } from './dataset.js';
import { register as score } from './score.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [augment, dataset, score];
