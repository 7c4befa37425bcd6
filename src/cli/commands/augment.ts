// `audiotag augment`: runs an augmentation pipeline on one clip so a user can hear (--out) and see (--png)
// what it does. Waveform pipelines write audio; spectrogram and batch pipelines work on the clip's log-mel
// (a feature preset, fat2019 by default), and mixers mix it with the --mix-with clips.

import type { Command } from 'commander';
import { encodeWav, loadAudio, toMono } from '../../audio/index.js';
import {
  type AnyAugmentation,
  AugmentationError,
  applyBatch,
  applySpectrogram,
  applyWaveform,
} from '../../augment/index.js';
import { loadAugmentationConfig, prepareAugmentation } from '../../augment/node/index.js';
import { writeFileAtomic } from '../../core/atomic-file.js';
import { type NDArray, stack } from '../../core/ndarray.js';
import { Random } from '../../core/random.js';
import {
  computeFeatures,
  PRESET_NAMES,
  type PresetName,
  resolveFeatureConfig,
} from '../../features/index.js';
import { renderSpectrogramFigurePng } from '../../report/spectrogram-figure.js';
import { UsageError } from '../errors.js';
import { optionalChoice, parseSeed, requireExt, requireInputFile, requireOutputFile } from '../flags.js';

interface AugmentFlags {
  config?: string;
  out?: string;
  png?: string;
  seed?: string;
  preset?: string;
  mixWith?: string[];
  compare?: boolean;
}

/** Channel 0 of a [c, mels, frames] item, or the [mels, frames] itself. */
function plane(x: NDArray): NDArray {
  if (x.shape.length !== 3) return x;
  const [, m, t] = x.shape as [number, number, number];
  return { data: x.data.subarray(0, m * t), shape: [m, t] };
}

/**
 * Writes the spectrogram as a PNG with axes for the preset; with `before`, the original goes on top of
 * the augmented one, both on one colour scale so level changes (Lighting, noise) show.
 */
function writePng(path: string, after: NDArray, preset: PresetName, before?: NDArray): void {
  const c = resolveFeatureConfig(preset);
  const raw = (before ? [before, after] : [after]).map(plane);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const p of raw)
    for (const v of p.data) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  // A crop or stretch may change the length: the shorter plane is padded with the quietest value.
  const t = Math.max(...raw.map((p) => p.shape[1]!));
  const planes = raw.map((p) => fitFrames(p, t, lo));
  const m = planes[0]!.shape[0]!;
  const data = new Float32Array(planes.length * m * t);
  planes.forEach((p, i) => {
    data.set(p.data, i * m * t);
  });
  const png = renderSpectrogramFigurePng(
    { data, shape: [planes.length, m, t] },
    {
      panelTitles: before ? ['original', 'augmented'] : ['augmented'],
      sampleRate: c.sampleRate,
      hopLength: c.hopLength,
      fmin: c.fmin,
      fmax: c.fmax,
      melScale: c.melScale,
      vmin: lo,
      vmax: hi > lo ? hi : lo + 1,
    },
  );
  writeFileAtomic(path, png);
}

/** Crops or pads (with `fill`) the last axis to `frames` so clips of different lengths can share a batch. */
function fitFrames(x: NDArray, frames: number, fill = 0): NDArray {
  const t = x.shape[x.shape.length - 1]!;
  if (t === frames) return x;
  const rows = x.data.length / t;
  const out = new Float32Array(rows * frames).fill(fill);
  for (let r = 0; r < rows; r++) out.set(x.data.subarray(r * t, r * t + Math.min(t, frames)), r * frames);
  return { data: out, shape: [...x.shape.slice(0, -1), frames] };
}

async function runWaveform(pipe: AnyAugmentation, input: string, flags: AugmentFlags, seed: number) {
  if (!flags.out) throw new UsageError('--out is required: a waveform pipeline writes audio (--out out.wav)');
  if (flags.mixWith?.length)
    throw new UsageError('--mix-with only applies to spectrogram/batch pipelines with mixers');
  requireExt('--out', flags.out, '.wav');
  const audio = await loadAudio(input, { mono: false });
  await prepareAugmentation(pipe, audio.sampleRate);
  // Every channel replays the same draws (same seed), so a stereo clip keeps its image.
  const channels = audio.channels.map((x) => applyWaveform(pipe, x, audio.sampleRate, new Random(seed)));
  writeFileAtomic(flags.out, encodeWav({ sampleRate: audio.sampleRate, channels }));
  if (flags.png) {
    const preset = (flags.preset ?? 'fat2019') as PresetName;
    const logMel = (chs: Float32Array[]) =>
      computeFeatures(toMono({ sampleRate: audio.sampleRate, channels: chs }), audio.sampleRate, preset);
    writePng(flags.png, logMel(channels), preset, flags.compare ? logMel(audio.channels) : undefined);
  }
  return {
    kind: 'waveform',
    out: flags.out,
    png: flags.png ?? null,
    sampleRate: audio.sampleRate,
    samples: channels[0]!.length,
  };
}

async function runSpectrogram(pipe: AnyAugmentation, input: string, flags: AugmentFlags, seed: number) {
  if (!flags.png)
    throw new UsageError(`--png is required: a ${pipe.kind} pipeline works on spectrograms (--png out.png)`);
  if (flags.out) throw new UsageError('--out: a spectrogram pipeline writes no audio; use --png');
  requireExt('--png', flags.png, '.png');
  const preset = (flags.preset ?? 'fat2019') as PresetName;
  const features = async (path: string) => {
    const audio = await loadAudio(path, { mono: true });
    return computeFeatures(audio.channels[0]!, audio.sampleRate, preset);
  };
  const first = await features(input);
  const rng = new Random(seed);
  let result: NDArray;
  let target: number[] | null = null;
  if (pipe.kind === 'spectrogram' && !flags.mixWith?.length) {
    result = applySpectrogram(pipe, first, rng);
  } else {
    const frames = first.shape[first.shape.length - 1]!;
    const others = await Promise.all(
      (flags.mixWith ?? []).map(async (p) => fitFrames(await features(p), frames)),
    );
    const batch = stack([first, ...others]);
    // Clip k is class k, so the printed target row says how much of each clip the output holds.
    const b = batch.shape[0]!;
    const targets = new Float32Array(b * b);
    for (let i = 0; i < b; i++) targets[i * b + i] = 1;
    if (b === 1 && pipe.kind === 'batch')
      process.stderr.write(
        'audiotag augment: note: mixers mix clips of a batch; pass --mix-with other.wav to see them\n',
      );
    const out = applyBatch(pipe, batch, { data: targets, shape: [b, b] }, rng);
    result = { data: out.batch.data.slice(0, first.data.length), shape: first.shape };
    target = Array.from(out.targets.data.subarray(0, b), (v) => Math.round(v * 1e4) / 1e4);
  }
  writePng(flags.png, result, preset, flags.compare ? first : undefined);
  return { kind: pipe.kind, png: flags.png, preset, shape: result.shape, target };
}

export function register(program: Command): void {
  program
    .command('augment')
    .description(
      'apply an augmentation pipeline (YAML/JSON) to one clip: write the audio and/or a spectrogram PNG',
    )
    .argument('<input>', 'audio file (WAV natively; other formats through ffmpeg)')
    .option('--config <file>', 'the pipeline, YAML or JSON (e.g. configs/augment/fat2019-8th.yaml)')
    .option('--out <wav>', 'output audio (waveform pipelines)')
    .option('--png <png>', 'output spectrogram image (required for spectrogram/batch pipelines)')
    .option('--seed <n>', 'random seed (default 0): the same seed gives the same output')
    .option(
      '--preset <name>',
      `feature preset for spectrograms (default fat2019): ${PRESET_NAMES.join(', ')}`,
    )
    .option('--compare', 'with --png: the original spectrogram above the augmented one, on one colour scale')
    .option('--mix-with <files...>', 'other clips to fill the batch that mixers (Mixup, SpecMix...) draw on')
    .action(async (input: string, flags: AugmentFlags) => {
      if (!flags.config)
        throw new UsageError('--config is required: the augmentation pipeline (YAML or JSON)');
      const seed = parseSeed('--seed', flags.seed);
      requireInputFile('--config', flags.config);
      optionalChoice('--preset', flags.preset, PRESET_NAMES);
      if (flags.png) requireExt('--png', flags.png, '.png');
      if (flags.png) requireOutputFile('--png', flags.png);
      if (flags.out) requireOutputFile('--out', flags.out);
      // A pipeline that does not load or validate is a bad config: a usage error (exit 2).
      const pipe = await loadAugmentationConfig(flags.config).catch((e: unknown) => {
        throw e instanceof AugmentationError ? new UsageError(e.message) : e;
      });
      if (pipe.kind === 'empty') throw new UsageError(`--config: ${flags.config} holds no transforms`);
      const summary =
        pipe.kind === 'waveform'
          ? await runWaveform(pipe, input, flags, seed)
          : await runSpectrogram(pipe, input, flags, seed);
      process.stdout.write(`${JSON.stringify({ input, config: flags.config, seed, ...summary })}\n`);
    });
}
