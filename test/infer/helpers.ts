// Tiny runs for the infer tests: FSDD digits 0–2 of two speakers, two stratified folds, one epoch (a few
// seconds), trained in-process once per test file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import * as E from '../../src/engine/index.js';
import { loadTrainConfig } from '../../src/train/config.js';
import { runTraining } from '../../src/train/run.js';

E.setNumThreads(1);

export const ROOT = new URL('../../', import.meta.url).pathname;
export const SHARED = new URL('../../../shared/data/', import.meta.url).pathname;
export const FSDD = join(SHARED, 'fsdd');
export const FSDD_AUDIO = join(FSDD, 'audio');

export function tempDir(prefix = 'audiotag-infer-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Trains a tiny FSDD run (2 folds, 1 epoch) into dir/name and returns its path; `overrides` are dotted
 * config keys set on top (as `audiotag train --train.epochs 12` would).
 */
export async function tinyRun(
  dir: string,
  name: string,
  seed: number,
  overrides: Record<string, unknown> = {},
): Promise<string> {
  const config = loadTrainConfig({
    object: {
      seed,
      data: {
        manifest: join(FSDD, 'meta.csv'),
        format: 'csv',
        csv: { pathCol: 'fname', labelCol: 'label', groupCol: 'speaker' },
        filter: { label: [0, 1, 2], speaker: ['george', 'theo'] },
      },
      folds: { strategy: 'stratified', k: 2 },
      features: {
        sampleRate: 8000,
        nFft: 256,
        hopLength: 128,
        nMels: 32,
        duration: 1,
        durationAlign: 'center',
        normalize: 'clip',
      },
      model: { name: 'small-cnn', config: { channels: [8, 16], convsPerBlock: 1, dropout: 0.1 } },
      loader: { batchSize: 16, workers: 0, cacheDir: join(dir, 'cache') },
      train: {
        epochs: 1,
        optimizer: { name: 'adam', lr: 0.01 },
        metrics: ['accuracy', 'lwlrap'],
        threads: 1,
      },
    },
    overrides: Object.entries(overrides),
  });
  const out = join(dir, name);
  await runTraining({ config, out, quiet: true });
  return out;
}

/** Runs the CLI from the sources in a child process. */
export { runCli } from '../cli/helpers.js';
