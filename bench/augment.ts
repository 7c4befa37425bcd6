// Augmentation benchmark: one fat2019 training batch (default 64 × 3 × 128 × 128 log-mel images, 80
// classes) through the Freesound 2019 8th-place pipeline (configs/augment/fat2019-8th.yaml: zoom-and-crop,
// lighting, mixup, SpecMix), milliseconds per batch, plus each stage alone. With --train it also runs
// `audiotag bench train --model cnn-model-1` on the same batch size and prints the ratio (augmentation
// time ÷ training-step time); --train-ms takes a step time measured elsewhere instead.
//
//   npx tsx bench/augment.ts [--batch 64] [--size 128] [--reps 10] [--real] [--train | --train-ms N]
//
// Input: random N(0, 1) images by default (every stage's cost is independent of the values); --real uses
// fat2019 log-mels of ESC-10 clips (normalised per clip, 3 channels) so the numbers can be checked on data.

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadAudio } from '../src/audio/index.js';
import { type AnyAugmentation, applyBatch } from '../src/augment/index.js';
import { loadAugmentationConfig } from '../src/augment/node/index.js';
import type { NDArray } from '../src/core/ndarray.js';
import { Random } from '../src/core/random.js';
import { computeFeatures, normalizeClip } from '../src/features/index.js';

const root = join(import.meta.dirname, '..');
const { values: a } = parseArgs({
  options: {
    config: { type: 'string', default: join(root, 'configs/augment/fat2019-8th.yaml') },
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

const int = (k: keyof typeof a) => {
  const v = Number(a[k]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`bench/augment: --${k} must be a non-negative integer, got ${a[k]}`);
  return v;
};
const batch = int('batch');
const size = int('size');
const channels = int('channels');
const classes = int('classes');
const reps = Math.max(1, int('reps'));
const warmup = int('warmup');
const rng = new Random(int('seed'));
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const median = (xs: number[]) => {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** A [batch, channels, size, size] input: random, or fat2019 log-mels of ESC-10 clips. */
async function makeBatch(): Promise<{ x: NDArray; y: NDArray; input: string }> {
  const n = channels * size * size;
  const data = new Float32Array(batch * n);
  if (!a.real) {
    for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  } else {
    // Eight clips, cropped to `size` frames, repeated over the batch: feature extraction is not timed.
    const dir = join(root, '../shared/data/esc10/audio');
    const files = readdirSync(dir).filter((f) => f.endsWith('.flac')).sort().slice(0, 8);
    const items: Float32Array[] = [];
    for (const f of files) {
      const audio = await loadAudio(join(dir, f), { mono: true });
      const mel = normalizeClip(computeFeatures(audio.channels[0]!, audio.sampleRate, { preset: 'fat2019', nMels: size }));
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
    x: { data, shape: [batch, channels, size, size] },
    y: { data: y, shape: [batch, classes] },
    input: a.real ? 'esc10-fat2019-logmel' : 'random-normal',
  };
}

function time(pipe: AnyAugmentation, x: NDArray, y: NDArray): { median: number; mean: number; min: number } {
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

/** ms per CNN-model-1 training step on the same batch, from `audiotag bench train`, or null. */
function trainStepMs(): { ms: number | null; source: string } {
  if (a['train-ms'] !== undefined) return { ms: Number(a['train-ms']), source: '--train-ms' };
  if (!a.train) return { ms: null, source: 'not measured (pass --train or --train-ms)' };
  const args = ['bench', 'train', '--model', 'cnn-model-1', '--batch', String(batch), '--size', String(size), '--steps', '3', '--json'];
  const r = spawnSync(join(root, 'bin/audiotag'), args, { encoding: 'utf8', timeout: 30 * 60 * 1000 });
  const line = r.stdout
    ?.trim()
    .split('\n')
    .reverse()
    .find((l) => l.includes('ms_per_step'));
  if (r.status !== 0 || !line)
    return { ms: null, source: `audiotag ${args.join(' ')} failed: ${(r.stderr || r.stdout || '').trim().split('\n').pop()}` };
  return { ms: Number(JSON.parse(line).ms_per_step), source: `audiotag ${args.join(' ')}` };
}

const pipe = await loadAugmentationConfig(a.config!);
const { x, y, input } = await makeBatch();
const total = time(pipe, x, y);
const stages: Record<string, number> = {};
const spec = pipe.toSpec() as { transforms?: { name: string }[] };
for (const t of (pipe as { transforms?: readonly AnyAugmentation[] }).transforms ?? []) {
  stages[t.name] = time(t, x, y).median;
}
const train = trainStepMs();
process.stdout.write(
  `${JSON.stringify({
    bench: 'augment',
    pipeline: a.config!.replace(`${root}/`, ''),
    transforms: spec.transforms?.map((t) => t.name) ?? [spec],
    input,
    batch,
    shape: x.shape,
    reps,
    ms_per_batch: total.median,
    ms_per_batch_mean: total.mean,
    ms_per_batch_min: total.min,
    stage_ms: stages,
    train_ms_per_step: train.ms,
    train_source: train.source,
    augment_to_train_ratio: train.ms ? round(total.median / train.ms, 4) : null,
  })}\n`,
);
