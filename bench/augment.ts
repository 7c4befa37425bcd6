// Augmentation benchmark: one fat2019 training batch (default 64 × 3 × 128 × 128 log-mel images, 80
// classes) through the Freesound 2019 8th-place pipeline (configs/augment/fat2019-8th.yaml: zoom-and-crop,
// lighting, mixup, SpecMix), milliseconds per batch, plus each stage alone. With --train it also runs
// `audiotag bench train --model cnn-model-1` on the same batch size and prints the ratio (augmentation
// time ÷ training-step time); --train-ms takes a step time measured elsewhere instead.
//
//   npx tsx bench/augment.ts [--batch 64] [--size 128] [--reps 10] [--real] [--train | --train-ms N]
//   bin/audiotag bench augment [same flags] --json
//
// Input: random N(0, 1) images by default (every stage's cost is independent of the values); --real uses
// fat2019 log-mels of ESC-10 clips (normalised per clip, 3 channels) so the numbers can be checked on data.

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadAudio } from '../src/audio/index.js';
import { type AnyAugmentation, applyBatch } from '../src/augment/index.js';
import { loadAugmentationConfig } from '../src/augment/node/index.js';
import type { NDArray } from '../src/core/ndarray.js';
import { Random } from '../src/core/random.js';
import { computeFeatures, normalizeClip } from '../src/features/index.js';
import { REPO_ROOT } from './root.js';

const ROOT = REPO_ROOT;

export interface AugmentBenchOptions {
  /** Pipeline file; default configs/augment/fat2019-8th.yaml. */
  config?: string;
  batch?: number;
  size?: number;
  channels?: number;
  classes?: number;
  reps?: number;
  warmup?: number;
  seed?: number;
  /** ESC-10 fat2019 log-mels instead of random images. */
  real?: boolean;
  /** Also time a CNN-model-1 training step (`audiotag bench train`) on the same batch size. */
  train?: boolean;
  /** A training-step time measured elsewhere (ms), used instead of --train. */
  trainMs?: number;
}

export interface AugmentBenchResult {
  bench: 'augment';
  pipeline: string;
  transforms: string[];
  input: string;
  batch: number;
  shape: number[];
  reps: number;
  ms_per_batch: number;
  ms_per_batch_mean: number;
  ms_per_batch_min: number;
  stage_ms: Record<string, number>;
  train_ms_per_step: number | null;
  train_source: string;
  augment_to_train_ratio: number | null;
  /** The machine is shared: the 1-minute load average when the run ended. */
  load_avg_1m: number;
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const median = (xs: number[]) => {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** A [batch, channels, size, size] input: random, or fat2019 log-mels of ESC-10 clips, and targets. */
async function makeBatch(o: Required<AugmentBenchOptions>, rng: Random) {
  const { batch, channels, size, classes } = o;
  const n = channels * size * size;
  const data = new Float32Array(batch * n);
  if (!o.real) {
    for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  } else {
    // Eight clips, cropped to `size` frames, repeated over the batch: feature extraction is not timed.
    const dir = join(ROOT, '../shared/data/esc10/audio');
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.flac'))
      .sort()
      .slice(0, 8);
    const items: Float32Array[] = [];
    for (const f of files) {
      const audio = await loadAudio(join(dir, f), { mono: true });
      const mel = normalizeClip(
        computeFeatures(audio.channels[0]!, audio.sampleRate, { preset: 'fat2019', nMels: size }),
      );
      const t = mel.shape[1]!;
      const item = new Float32Array(n);
      for (let c = 0; c < channels; c++)
        for (let r = 0; r < size; r++)
          item.set(mel.data.subarray(r * t, r * t + Math.min(t, size)), c * size * size + r * size);
      items.push(item);
    }
    for (let i = 0; i < batch; i++) data.set(items[i % items.length]!, i * n);
  }
  const y = new Float32Array(batch * classes);
  for (let i = 0; i < batch; i++) y[i * classes + rng.int(0, classes)] = 1;
  return {
    x: { data, shape: [batch, channels, size, size] } as NDArray,
    y: { data: y, shape: [batch, classes] } as NDArray,
    input: o.real ? 'esc10-fat2019-logmel' : 'random-normal',
  };
}

function time(pipe: AnyAugmentation, x: NDArray, y: NDArray, rng: Random, warmup: number, reps: number) {
  const times: number[] = [];
  for (let i = 0; i < warmup + reps; i++) {
    const t0 = performance.now();
    applyBatch(pipe, x, y, rng);
    const dt = performance.now() - t0;
    if (i >= warmup) times.push(dt);
  }
  return {
    median: round(median(times)),
    mean: round(times.reduce((s, v) => s + v, 0) / times.length),
    min: round(Math.min(...times)),
  };
}

/** ms per CNN-model-1 training step on the same batch, from `audiotag bench train`, or null and why. */
function trainStepMs(o: Required<AugmentBenchOptions>): { ms: number | null; source: string } {
  if (o.trainMs > 0) return { ms: o.trainMs, source: 'given (--train-ms)' };
  if (!o.train) return { ms: null, source: 'not measured (pass --train or --train-ms)' };
  const args = [
    'bench',
    'train',
    '--model',
    'cnn-model-1',
    '--batch',
    String(o.batch),
    '--size',
    String(o.size),
  ];
  args.push('--steps', '3', '--json');
  const r = spawnSync(join(ROOT, 'bin/audiotag'), args, { encoding: 'utf8', timeout: 30 * 60 * 1000 });
  const line = r.stdout
    ?.trim()
    .split('\n')
    .reverse()
    .find((l) => l.includes('ms_per_step'));
  if (r.status !== 0 || !line) {
    const why = (r.stderr || r.stdout || r.error?.message || '').trim().split('\n').pop();
    return { ms: null, source: `audiotag ${args.join(' ')} failed: ${why}` };
  }
  return { ms: Number(JSON.parse(line).ms_per_step), source: `audiotag ${args.join(' ')}` };
}

/** Runs the benchmark and returns its JSON record (see the file header). */
export async function runAugmentBench(opts: AugmentBenchOptions = {}): Promise<AugmentBenchResult> {
  const o: Required<AugmentBenchOptions> = {
    config: opts.config ?? join(ROOT, 'configs/augment/fat2019-8th.yaml'),
    batch: opts.batch ?? 64,
    size: opts.size ?? 128,
    channels: opts.channels ?? 3,
    classes: opts.classes ?? 80,
    reps: Math.max(1, opts.reps ?? 10),
    warmup: opts.warmup ?? 2,
    seed: opts.seed ?? 0,
    real: opts.real ?? false,
    train: opts.train ?? false,
    trainMs: opts.trainMs ?? 0,
  };
  for (const k of ['batch', 'size', 'channels', 'classes', 'warmup', 'seed'] as const)
    if (!Number.isInteger(o[k]) || o[k] < 0)
      throw new Error(`bench augment: ${k} must be a non-negative integer, got ${o[k]}`);
  const rng = new Random(o.seed);
  const pipe = await loadAugmentationConfig(o.config);
  const { x, y, input } = await makeBatch(o, rng);
  const total = time(pipe, x, y, rng, o.warmup, o.reps);
  const stages: Record<string, number> = {};
  const children = (pipe as { transforms?: readonly AnyAugmentation[] }).transforms ?? [];
  for (const t of children) stages[t.name] = time(t, x, y, rng, o.warmup, o.reps).median;
  const train = trainStepMs(o);
  return {
    bench: 'augment',
    pipeline: o.config.startsWith(ROOT) ? o.config.slice(ROOT.length) : o.config,
    transforms: children.length ? children.map((t) => t.name) : [pipe.name],
    input,
    batch: o.batch,
    shape: x.shape,
    reps: o.reps,
    ms_per_batch: total.median,
    ms_per_batch_mean: total.mean,
    ms_per_batch_min: total.min,
    stage_ms: stages,
    train_ms_per_step: train.ms,
    train_source: train.source,
    augment_to_train_ratio: train.ms ? round(total.median / train.ms, 4) : null,
    load_avg_1m: round(loadavg()[0]!, 2),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values: a } = parseArgs({
    options: {
      config: { type: 'string' },
      batch: { type: 'string', default: '64' },
      size: { type: 'string', default: '128' },
      channels: { type: 'string', default: '3' },
      classes: { type: 'string', default: '80' },
      reps: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      seed: { type: 'string', default: '0' },
      real: { type: 'boolean', default: false },
      train: { type: 'boolean', default: false },
      'train-ms': { type: 'string' },
    },
  });
  const r = await runAugmentBench({
    config: a.config,
    batch: Number(a.batch),
    size: Number(a.size),
    channels: Number(a.channels),
    classes: Number(a.classes),
    reps: Number(a.reps),
    warmup: Number(a.warmup),
    seed: Number(a.seed),
    real: a.real,
    train: a.train,
    trainMs: a['train-ms'] === undefined ? undefined : Number(a['train-ms']),
  });
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
