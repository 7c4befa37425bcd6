// `audiotag features <audio>`: one clip's features as a NumPy .npy (float32, [bands, frames] or
// [channels, bands, frames]) and/or a PNG, from a preset with librosa-named overrides.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import YAML from 'yaml';
import { loadAudio } from '../../audio/index.js';
import { writeFileAtomic } from '../../core/atomic-file.js';
import type { FeatureFanout } from '../../distributed/bullmq-features.js';
import {
  computeFeatures,
  FEATURE_FORMATS,
  type FeatureConfig,
  FeatureConfigError,
  type FeatureConfigInput,
  NORMALIZATIONS,
  PAD_MODES,
  PRESET_NAMES,
  resolveFeatureConfig,
  WINDOW_NAMES,
} from '../../features/index.js';
import type { BatchOptions } from '../../features/node/batch.js';
import { encodeNpy } from '../../features/npy.js';
import { renderSpectrogramFigurePng } from '../../report/spectrogram-figure.js';
import { type Colormap, renderSpectrogramPng } from '../../report/spectrogram-png.js';
import { forEachInput } from '../batch.js';
import { UsageError } from '../errors.js';
import {
  parseChoice as choice,
  parseNumber as num,
  requireExt,
  requireInputFile,
  requireOutputFile,
  requireQueueUrl,
} from '../flags.js';

interface Flags {
  preset?: string;
  config?: string;
  out?: string;
  png?: string;
  colormap: string;
  axes?: boolean;
  json?: boolean;
  quiet?: boolean;
  sr?: string;
  nFft?: string;
  hopLength?: string;
  winLength?: string;
  nMels?: string;
  fmin?: string;
  fmax?: string;
  window?: string;
  center?: boolean;
  padMode?: string;
  power?: string;
  scale?: string;
  topDb?: string;
  ref?: string;
  trim?: string | boolean;
  duration?: string;
  format?: string;
  nMfcc?: string;
  normalize?: string;
  outDir?: string;
  threads?: string;
  queue?: string;
}

/** The flag each config key comes from, so config errors can name the flag. */
const FLAG_OF: Partial<Record<keyof FeatureConfig, string>> = {
  sampleRate: '--sr',
  nFft: '--n-fft',
  hopLength: '--hop-length',
  winLength: '--win-length',
  nMels: '--n-mels',
  fmin: '--fmin',
  fmax: '--fmax',
  window: '--window',
  center: '--no-center',
  padMode: '--pad-mode',
  power: '--power',
  scale: '--scale',
  topDb: '--top-db',
  ref: '--ref',
  trim: '--trim',
  duration: '--duration',
  format: '--format',
  nMfcc: '--n-mfcc',
  normalize: '--normalize',
};

/** The config the flags describe: preset, then --config (YAML or JSON), then individual overrides. */
export function configFromFlags(f: Flags): FeatureConfig {
  const o: Record<string, unknown> = {};
  if (f.preset !== undefined) o.preset = choice('--preset', f.preset, PRESET_NAMES);
  if (f.config !== undefined) {
    requireInputFile('--config', f.config);
    let fileCfg: unknown;
    try {
      // YAML 1.2 reads JSON too.
      fileCfg = YAML.parse(readFileSync(f.config, 'utf8'));
    } catch (e) {
      throw new UsageError(
        `--config ${f.config}: not valid YAML or JSON (${e instanceof Error ? e.message.split('\n')[0] : e})`,
      );
    }
    if (fileCfg === null || typeof fileCfg !== 'object' || Array.isArray(fileCfg))
      throw new UsageError(`--config ${f.config}: expected a mapping of FeatureConfig keys (YAML or JSON)`);
    Object.assign(o, fileCfg);
  }
  const set = new Set<string>();
  const put = (key: keyof FeatureConfig, v: unknown) => {
    o[key] = v;
    set.add(key);
  };
  if (f.sr !== undefined) put('sampleRate', num('--sr', f.sr, { int: true, min: 1 }));
  if (f.nFft !== undefined) put('nFft', num('--n-fft', f.nFft, { int: true, min: 1 }));
  if (f.hopLength !== undefined) put('hopLength', num('--hop-length', f.hopLength, { int: true, min: 1 }));
  if (f.winLength !== undefined) put('winLength', num('--win-length', f.winLength, { int: true, min: 1 }));
  if (f.nMels !== undefined) put('nMels', num('--n-mels', f.nMels, { int: true, min: 1 }));
  if (f.fmin !== undefined) put('fmin', num('--fmin', f.fmin, { min: 0 }));
  if (f.fmax !== undefined) put('fmax', num('--fmax', f.fmax, { above: 0 }));
  if (f.window !== undefined) put('window', choice('--window', f.window, WINDOW_NAMES));
  if (f.center === false) put('center', false);
  if (f.padMode !== undefined) put('padMode', choice('--pad-mode', f.padMode, PAD_MODES));
  if (f.power !== undefined) put('power', num('--power', f.power, { above: 0 }));
  if (f.scale !== undefined) put('scale', choice('--scale', f.scale, ['power', 'db'] as const));
  if (f.topDb !== undefined) put('topDb', f.topDb === 'none' ? null : num('--top-db', f.topDb, { min: 0 }));
  if (f.ref !== undefined) put('ref', f.ref === 'max' ? 'max' : num('--ref', f.ref, { above: 0 }));
  if (f.trim === false) put('trim', null);
  else if (typeof f.trim === 'string') put('trim', num('--trim', f.trim, { above: 0 }));
  if (f.duration !== undefined) put('duration', num('--duration', f.duration, { above: 0 }));
  if (f.format !== undefined) put('format', choice('--format', f.format, FEATURE_FORMATS));
  if (f.nMfcc !== undefined) put('nMfcc', num('--n-mfcc', f.nMfcc, { int: true, min: 1 }));
  if (f.normalize !== undefined) put('normalize', choice('--normalize', f.normalize, NORMALIZATIONS));
  try {
    return resolveFeatureConfig(o as FeatureConfigInput);
  } catch (e) {
    if (!(e instanceof FeatureConfigError)) throw e;
    const origin = [f.preset && `--preset ${f.preset}`, f.config && `--config ${f.config}`]
      .filter(Boolean)
      .join(' / ');
    // Name the flag when the bad value came from one; otherwise the key (from --preset/--config).
    const lines = e.problems.map(({ key, message }) => {
      const flag = FLAG_OF[key as keyof FeatureConfig];
      if (flag && set.has(key)) return `${flag}: ${message}`;
      const where = e.problems.length === 1 ? `feature config: ${key ? `key "${key}": ` : ''}` : `${key}: `;
      return (
        `${where}${message}` +
        `${origin ? ` (value from ${origin})` : ''}${flag ? `; set ${flag} to override it` : ''}`
      );
    });
    throw new UsageError(lines.length === 1 ? lines[0]! : `bad feature config:\n  ${lines.join('\n  ')}`);
  }
}

/**
 * Recordings longer than 10 minutes go to the .npy in chunks (src/features/node/long.ts: bounded memory,
 * the same numbers) when the config allows it; returns false to take the whole-clip path.
 */
async function longFeaturesToNpy(input: string, config: FeatureConfig, f: Flags): Promise<boolean> {
  const { audioInfo } = await import('../../audio/index.js');
  const info = await audioInfo(input).catch(() => null);
  if (info === null || !(info.duration > 600)) return false;
  const { checkChunkable, longFeatures } = await import('../../features/node/long.js');
  try {
    checkChunkable(config);
  } catch {
    return false;
  }
  const shape = (await longFeatures(input, config, { out: f.out })) as number[];
  if (f.quiet) return true;
  const summary = { file: input, shape, out: f.out, chunked: true, config };
  process.stdout.write(
    f.json
      ? `${JSON.stringify(summary)}\n`
      : `${input}: ${config.format} [${shape.join(', ')}] in chunks, wrote ${f.out}\n`,
  );
  return true;
}

/**
 * Runs `work` (extractToDir or prepareCache) with the options `features --out-dir` and `dataset prepare`
 * share: a progress bar named `what` over `total` clips, skipped clips reported on stderr, and with
 * `--queue URL` the clips computed by `audiotag worker` processes (src/distributed/bullmq-features.ts),
 * `threads` then counting the clips in flight (default 64).
 */
export async function runClipBatch<R>(
  o: {
    what: string;
    total: number;
    queue?: string;
    quiet: boolean;
    threads?: number;
    config: FeatureConfig;
    backend: 'auto' | 'engine' | 'js';
  },
  work: (opts: BatchOptions) => Promise<R>,
): Promise<R> {
  let fanout: FeatureFanout | null = null;
  if (o.queue !== undefined) {
    await requireQueueUrl('--queue', o.queue);
    const { reachRedis } = await import('../../distributed/bullmq-predict.js');
    await reachRedis('--queue', o.queue);
    const queued = await import('../../distributed/bullmq-features.js');
    fanout = new queued.FeatureFanout(o.queue, o.config, o.backend);
  }
  const { createProgress } = await import('../progress.js');
  const progress = createProgress(o.what, o.total, { unit: 'clips', quiet: o.quiet });
  let r: R;
  try {
    r = await work({
      threads: o.threads ?? (fanout ? 64 : undefined),
      backend: o.backend,
      onProgress: (p) => progress.update(p.done),
      onBad: (path, reason) => process.stderr.write(`audiotag: skipping ${path}: ${reason}\n`),
      ...(fanout ? { runToFile: fanout.runToFile } : {}),
    });
  } finally {
    await fanout?.close();
  }
  progress.stop();
  return r;
}

/** `--out-dir`: every clip of a folder or manifest on the worker pool (src/features/node/batch.ts). */
async function batchFeatures(input: string, outDir: string, config: FeatureConfig, f: Flags): Promise<void> {
  if (f.out !== undefined || f.png !== undefined)
    throw new UsageError('--out-dir writes one .npy per clip; it cannot be combined with --out or --png');
  const threads = f.threads === undefined ? undefined : num('--threads', f.threads, { int: true, min: 1 });
  const { preferOneOpenMpThread } = await import('../../features/node/prepare.js');
  // libtorch's STFT in each worker when it loads, with one OpenMP thread per worker; else TypeScript.
  const backend = preferOneOpenMpThread() ? 'auto' : 'js';
  const { extractToDir, listBatchInputs } = await import('../../features/node/batch.js');
  const inputs = await listBatchInputs(input).catch((e: Error) => {
    throw new UsageError(e.message);
  });
  const r = await runClipBatch(
    {
      what: 'features',
      total: inputs.length,
      queue: f.queue,
      quiet: !!(f.quiet || f.json),
      threads,
      config,
      backend,
    },
    (o) => extractToDir(inputs, outDir, config, o),
  );
  if (f.quiet) return;
  process.stdout.write(
    f.json
      ? `${JSON.stringify(r)}\n`
      : `${input}: ${r.total} clip(s), ${r.computed} computed, ${r.skipped} already there, ${r.failed} failed; index ${r.index}\n`,
  );
  if (r.failed > 0) process.exitCode = 1;
}

export function register(program: Command): void {
  program
    .command('features')
    .description("compute one clip's features (librosa 0.10's formulas) and write a NumPy .npy and/or a PNG")
    .argument(
      '<audio...>',
      'audio file (WAV natively; FLAC, MP3, OGG in process; M4A… through ffmpeg); with --out-dir a folder or a manifest',
    )
    .option('--preset <name>', `start from a preset: ${PRESET_NAMES.join(', ')}`)
    .option('--config <file>', 'FeatureConfig keys as YAML or JSON (applied after --preset)')
    .option('--out <file.npy>', 'write the features as float32 .npy')
    .option(
      '--out-dir <dir>',
      'batch: one .npy per clip of the folder/manifest, plus index.csv; reruns skip finished clips',
    )
    .option('--threads <n>', 'batch: worker threads (default: one per core)')
    .option(
      '--queue <url>',
      'batch: compute the clips on `audiotag worker` processes through BullMQ on Redis (redis://HOST:PORT)',
    )
    .option('--png <file.png>', 'render the features as a PNG')
    .option('--colormap <name>', 'PNG colour map: magma, viridis, gray', 'magma')
    .option('--axes', 'PNG: draw Hz and time axes')
    .option('--json', 'print a JSON summary (shape, range, resolved config)')
    .option('-q, --quiet', 'print nothing (errors still go to stderr)')
    .option('--sr <hz>', 'target sample rate (resamples)')
    .option('--n-fft <n>', 'FFT size (any positive integer)')
    .option('--hop-length <n>', 'samples between frames')
    .option('--win-length <n>', 'window length ≤ n_fft')
    .option('--n-mels <n>', 'mel bands')
    .option('--fmin <hz>', 'lowest mel frequency')
    .option('--fmax <hz>', 'highest mel frequency')
    .option('--window <name>', `window: ${WINDOW_NAMES.join(', ')}`)
    .option('--no-center', 'frames start at 0 instead of being centred')
    .option('--pad-mode <mode>', `centre padding: ${PAD_MODES.join(', ')}`)
    .option('--power <p>', 'magnitude exponent: 2 power, 1 magnitude')
    .option('--scale <s>', 'power or db')
    .option('--top-db <db>', 'dB floor below the peak, or "none"')
    .option('--ref <r>', 'dB reference: a value or "max"')
    .option('--trim <db>', 'trim leading/trailing silence quieter than this (dB below peak)')
    .option('--no-trim', 'do not trim silence')
    .option('--duration <s>', 'crop or zero-pad to this many seconds')
    .option('--format <f>', `output format: ${FEATURE_FORMATS.join(', ')}`)
    .option('--n-mfcc <n>', 'coefficients for mfcc/gtcc')
    .option('--normalize <n>', `normalisation: ${NORMALIZATIONS.join(', ')}`)
    .action(async (inputs: string[], f: Flags) => {
      const config = configFromFlags(f);
      if (f.queue !== undefined && f.outDir === undefined)
        throw new UsageError('--queue goes with --out-dir (it fans the clips of a folder or manifest out)');
      if (f.outDir !== undefined) {
        if (inputs.length !== 1)
          throw new UsageError(`--out-dir takes one folder or manifest, got ${inputs.length} inputs`);
        return batchFeatures(inputs[0]!, f.outDir, config, f);
      }
      if (inputs.length === 1 && f.out !== undefined && f.png === undefined)
        if (await longFeaturesToNpy(inputs[0]!, config, f)) return;
      const colormap = choice('--colormap', f.colormap, ['magma', 'viridis', 'gray'] as Colormap[]);
      // Output locations are checked before any clip is read; --out/--png name one file.
      if (inputs.length > 1 && (f.out !== undefined || f.png !== undefined))
        throw new UsageError(
          `--out/--png name one file, got ${inputs.length} inputs; use --out-dir for several clips`,
        );
      if (f.out !== undefined) {
        requireExt('--out', f.out, '.npy');
        requireOutputFile('--out', f.out);
      }
      if (f.png !== undefined) {
        requireExt('--png', f.png, '.png');
        requireOutputFile('--png', f.png);
      }
      await forEachInput(inputs, 'clip', (audioPath) => oneClip(audioPath, config, colormap, f));
    });
}

/** Features of one clip: the .npy/.png it asks for (written atomically) and its summary line. */
async function oneClip(
  audioPath: string,
  config: FeatureConfig,
  colormap: Colormap,
  f: Flags,
): Promise<void> {
  const audio = await loadAudio(audioPath, { mono: true });
  const feats = computeFeatures(audio.channels[0]!, audio.sampleRate, config);
  if (f.out) writeFileAtomic(f.out, encodeNpy(feats));
  if (f.png) {
    const banded = config.format !== 'mfcc' && config.format !== 'gtcc';
    const where = {
      sampleRate: config.sampleRate,
      hopLength: config.hopLength,
      // Hz labels only where rows are mel bands (the gammatone rows are ERB-spaced, not mel).
      ...(banded && config.format !== 'gammatone'
        ? { fmin: config.fmin, fmax: config.fmax, melScale: config.melScale }
        : { fmin: 0, fmax: 0 }),
    };
    // With --axes: a figure (axis titles, round ticks, colour bar; src/report/spectrogram-figure.ts).
    const png = f.axes
      ? renderSpectrogramFigurePng(feats, {
          colormap,
          ...where,
          unit: banded && config.format !== 'pcen' ? 'dB' : 'value',
        })
      : renderSpectrogramPng(feats, { colormap, ...where });
    writeFileAtomic(f.png, png);
  }
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (const v of feats.data) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
    sum += v;
  }
  const summary = {
    file: audioPath,
    shape: feats.shape,
    min: lo,
    max: hi,
    mean: sum / feats.data.length,
    seconds: (feats.shape[feats.shape.length - 1]! * config.hopLength) / config.sampleRate,
    ...(f.out ? { out: f.out } : {}),
    ...(f.png ? { png: f.png } : {}),
    config,
  };
  if (f.quiet) return;
  if (f.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else
    process.stdout.write(
      `${audioPath}: ${config.format} [${feats.shape.join(', ')}], range ${lo.toFixed(2)} … ${hi.toFixed(2)}` +
        `${f.out ? `, wrote ${f.out}` : ''}${f.png ? `, wrote ${f.png}` : ''}\n`,
    );
}
