// `audiotag demo`: the whole pipeline on real recordings in under a minute on an idle 2-core machine — a
// small CNN learns the ten spoken digits of FSDD on the official split (recordings 5–49 of each digit and
// speaker train it, 0–4 test it), then the run's metrics are printed. Without the shared data it falls back to the
// synthetic noise-vs-tone demo (src/models/demo.ts). The engine is imported when the command runs, so the
// rest of the CLI works without the native addon.

import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';

/** ../shared/data/fsdd next to the package root, where the project keeps its data. */
function defaultFsdd(): string {
  const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
  for (const up of ['..', '../..']) {
    const p = resolve(root, up, 'shared/data/fsdd');
    if (existsSync(join(p, 'meta.csv'))) return p;
  }
  return resolve(root, '../shared/data/fsdd');
}

/** The demo's training config: small enough for about a minute on 2 CPU cores. */
export function demoConfig(fsdd: string, epochs: number, seed: number): Record<string, unknown> {
  return {
    seed,
    data: {
      manifest: join(fsdd, 'meta.csv'),
      format: 'csv',
      csv: { pathCol: 'fname', labelCol: 'label', groupCol: 'speaker' },
    },
    folds: { strategy: 'split' },
    features: {
      sampleRate: 8000,
      nFft: 512,
      winLength: 256,
      hopLength: 128,
      nMels: 48,
      fmin: 20,
      duration: 1,
      durationAlign: 'center',
      normalize: 'clip',
    },
    model: { name: 'small-cnn', config: { channels: [16, 32, 64, 96], convsPerBlock: 1, dropout: 0.2 } },
    augment: { spectrogram: { name: 'SpecTimeMask', p: 0.5, count: 1, maxWidth: 8 } },
    loader: { batchSize: 32, workers: 0 },
    train: {
      epochs,
      optimizer: { name: 'adamw', lr: 0.004 },
      schedule: { name: 'one-cycle', pctStart: 0.25 },
      loss: { labelSmoothing: 0.05 },
      metrics: ['accuracy', 'f1_macro'],
    },
  };
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('train a small CNN on spoken digits (FSDD) for about a minute, then print its test metrics')
    .option('--epochs <n>', 'training epochs', '8')
    .option('--seed <n>', 'random seed', '0')
    .option('--data <dir>', 'the FSDD folder (meta.csv + audio/); default ../shared/data/fsdd')
    .option('--out <dir>', 'run directory (default: a new folder under the system temp dir)')
    .option('--synthetic', 'the no-data demo: noise vs noise + tone')
    .action(async (o: { epochs: string; seed: string; data?: string; out?: string; synthetic?: boolean }) => {
      const epochs = Number(o.epochs);
      const seed = Number(o.seed);
      if (!Number.isInteger(epochs) || epochs < 1)
        throw new UsageError(`--epochs must be a positive integer, got ${o.epochs}`);
      if (!Number.isInteger(seed) || seed < 0)
        throw new UsageError(`--seed must be a non-negative integer, got ${o.seed}`);
      const say = (s: string) => process.stdout.write(`${s}\n`);
      const fsdd = resolve(o.data ?? defaultFsdd());
      if (o.synthetic || !existsSync(join(fsdd, 'meta.csv'))) {
        if (!o.synthetic) {
          if (o.data) throw new UsageError(`--data: ${fsdd} has no meta.csv (expected the FSDD folder)`);
          say(`(no FSDD at ${fsdd}: running the synthetic demo instead)`);
        }
        const { runDemo } = await import('../../models/demo.js');
        runDemo({ steps: 60, seed, log: say });
        return;
      }
      const { loadTrainConfig } = await import('../../train/config.js');
      const { runTraining } = await import('../../train/run.js');
      const { lineReporter } = await import('../../train/progress.js');
      const out = resolve(o.out ?? mkdtempSync(join(tmpdir(), 'audiotag-demo-')));
      const t0 = performance.now();
      say(
        'FSDD spoken digits, official split: recordings 5-49 of each digit and speaker train a small CNN, 0-4 test it',
      );
      const config = loadTrainConfig({ object: demoConfig(fsdd, epochs, seed) });
      const m = await runTraining({
        config,
        out,
        force: true,
        reporter: lineReporter((s) => process.stdout.write(s)),
      });
      const secs = (performance.now() - t0) / 1000;
      const acc = m.metrics.accuracy?.mean ?? Number.NaN;
      say(
        `\ntest accuracy ${(acc * 100).toFixed(1)} % on ${m.folds[0]?.val ?? '?'} clips (chance 10 %), ${secs.toFixed(0)} s in all`,
      );
      say(`run directory: ${out}`);
      say(
        `score other clips with: audiotag evaluate --run ${out} --manifest <manifest.csv> --audio-dir <folder>`,
      );
    });
}
