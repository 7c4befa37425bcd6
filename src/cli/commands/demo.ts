// `audiotag demo`: a short end-to-end run on synthetic data (see src/models/demo.ts). The engine is
// imported when the command runs, so the rest of the CLI works without the native addon.

import type { Command } from 'commander';
import { UsageError } from '../errors.js';

export function register(program: Command): void {
  program
    .command('demo')
    .description('train a tiny CNN on synthetic spectrogram-like data (noise vs tone) and report accuracy')
    .option('--steps <n>', 'training steps', '60')
    .option('--seed <n>', 'random seed', '0')
    .action(async (o: { steps: string; seed: string }) => {
      const steps = Number(o.steps);
      const seed = Number(o.seed);
      if (!Number.isInteger(steps) || steps < 1)
        throw new UsageError(`--steps must be a positive integer, got ${o.steps}`);
      if (!Number.isInteger(seed) || seed < 0)
        throw new UsageError(`--seed must be a non-negative integer, got ${o.seed}`);
      const { runDemo } = await import('../../models/demo.js');
      runDemo({ steps, seed, log: (s) => process.stdout.write(`${s}\n`) });
    });
}
