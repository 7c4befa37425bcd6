// Per-transform cost: every registered waveform transform on a 5 s clip (16 kHz and 44.1 kHz), every
// spectrogram transform on one 3 × 128 × 128 item, every mixer on a 64-item batch. One JSON line per
// transform; this is where docs/augment.md's "slow" flags come from.
//
//   npx tsx bench/augment-transforms.ts [--reps 5] [--only Gain,PitchShift]

import { parseArgs } from 'node:util';
import {
  augmentationFromSpec,
  augmentationNames,
  type BatchAugmentation,
  registryEntry,
  type SpectrogramAugmentation,
  type WaveformAugmentation,
} from '../src/augment/index.js';
import { Random } from '../src/core/random.js';

const { values: a } = parseArgs({
  options: { reps: { type: 'string', default: '5' }, only: { type: 'string' } },
});
const reps = Math.max(1, Number(a.reps));
const only = a.only?.split(',');
const rng = new Random(0);
const round = (x: number) => Math.round(x * 1000) / 1000;

function timeIt(fn: () => void): number {
  fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((p, q) => p - q);
  return round(times[times.length >> 1]!);
}

const clip = (sr: number) => Float32Array.from({ length: 5 * sr }, () => 0.3 * rng.normal());
const clips = { 16000: clip(16000), 44100: clip(44100) };
const item = { data: Float32Array.from({ length: 3 * 128 * 128 }, () => rng.normal()), shape: [3, 128, 128] };
const b = 64;
const batch = {
  data: Float32Array.from({ length: b * 3 * 128 * 128 }, () => rng.normal()),
  shape: [b, 3, 128, 128],
};
const targets = { data: new Float32Array(b * 80), shape: [b, 80] };
for (let i = 0; i < b; i++) targets.data[i * 80 + (i % 80)] = 1;
const noisy = { batch, targets };

for (const name of augmentationNames()) {
  const entry = registryEntry(name);
  if (!entry || (only && !only.includes(name))) continue;
  const row: Record<string, unknown> = {
    bench: 'augment-transform',
    name,
    kind: entry.kind,
    slow: entry.slow ?? false,
  };
  if (entry.kind === 'waveform') {
    for (const sr of [16000, 44100] as const) {
      // File-backed transforms get in-memory clips of the same kind instead.
      let t: WaveformAugmentation;
      if (name === 'BackgroundNoise' || name === 'ImpulseResponse') {
        const { BackgroundNoise, ImpulseResponse } = await import('../src/augment/index.js');
        const irLike = Float32Array.from(
          { length: sr / 2 },
          (_, i) => rng.normal() * Math.exp(-i / (0.05 * sr)),
        );
        t =
          name === 'BackgroundNoise'
            ? new BackgroundNoise({}, { clips: [clip(sr)], sampleRate: sr })
            : new ImpulseResponse({}, { clips: [irLike], sampleRate: sr });
      } else {
        t = augmentationFromSpec({ name }) as WaveformAugmentation;
      }
      row[`ms_5s_${sr / 1000}k`] = timeIt(() => t.apply(clips[sr], sr, rng));
    }
  } else if (entry.kind === 'spectrogram') {
    const t = augmentationFromSpec({ name }) as SpectrogramAugmentation;
    row.ms_item_3x128x128 = timeIt(() => t.apply(item, rng));
    row.ms_batch_64 = timeIt(() => t.apply(batch, rng));
  } else {
    const t = augmentationFromSpec({ name }) as BatchAugmentation;
    row.ms_batch_64 = timeIt(() => t.apply(batch, targets, rng, { noisy }));
  }
  process.stdout.write(`${JSON.stringify(row)}\n`);
}
