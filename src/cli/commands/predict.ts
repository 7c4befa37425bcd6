// `audiotag predict`: tags files, folders, manifests or a Kaggle sample submission with one or more
// trained runs (every fold) or exported ONNX files, and writes the chosen tables (src/infer). `audiotag
// embed` (embed.ts) is the same job writing embeddings only.
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import type { Command } from 'commander';
import { fsReason } from '../../core/errors.js';
import { MANIFEST_FORMATS, type ManifestFormat } from '../../data/index.js';
import { CLIP_POOLINGS, ENSEMBLE_METHODS } from '../../infer/ensemble.js';
import { OUTPUT_FILES, OUTPUT_FORMATS, type OutputFormat } from '../../infer/formats.js';
import type { PredictJobOptions, PredictSummary, Progress } from '../../infer/job.js';
import { UsageError } from '../errors.js';
import {
  optionalChoice,
  optionalInt,
  optionalNumber,
  parseFoldList,
  parseList,
  parseNumber,
  requireInputFile,
  requireOutputDir,
  requireQueueUrl,
} from '../flags.js';
import { lineInterval } from '../progress.js';

export interface PredictFlags {
  model: string[];
  out: string;
  format?: string;
  window?: string;
  hop?: string;
  overlap?: string;
  last?: string;
  pool?: string;
  tta?: string;
  ttaAugment?: string;
  ensemble?: string;
  weights?: string;
  folds?: string;
  checkpoint?: string;
  threshold?: string;
  thresholds?: string;
  tuneThresholds?: boolean;
  topK?: string;
  minDuration?: string;
  smooth?: string;
  boost?: string;
  boostConf?: string;
  ravenTable?: string;
  audioDir?: string;
  manifestFormat?: string;
  batchSize?: string;
  workers?: string;
  threads?: string;
  force?: boolean;
  quiet?: boolean;
  json?: boolean;
  queue?: string;
  chunkSeconds?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** The options predict and embed share. */
export function addJobOptions(cmd: Command): Command {
  return cmd
    .requiredOption(
      '--model <path>',
      'a run directory (all its folds), a checkpoint directory or a .onnx export; repeat for an ensemble',
      collect,
    )
    .requiredOption('--out <dir>', 'output folder (a killed job run again with the same --out resumes)')
    .option('--window <s>', "window length in seconds (default: the model's: its crop or features.duration)")
    .option('--hop <s>', 'seconds between window starts (default: half a window)')
    .option('--overlap <s>', 'seconds of overlap between windows (hop = window − overlap)')
    .option('--last <mode>', 'a last window running past the end: pad (default) or drop')
    .option('--tta <n>', 'test-time augmentation: average n copies of each window shifted by hop/n')
    .option(
      '--tta-augment <file>',
      'also augment TTA copies 2..n: a waveform or spectrogram augmentation spec (YAML/JSON, docs/augment.md)',
    )
    .option('--folds <list>', 'fold models of each run to use, e.g. 0,2 (default: all)')
    .option('--checkpoint <which>', "each fold's best (default) or last checkpoint")
    .option('--audio-dir <dir>', "folder of a manifest's or sample submission's files (default: guessed)")
    .option('--manifest-format <name>', `manifest format (${MANIFEST_FORMATS.join(', ')}; default: detected)`)
    .option('--batch-size <n>', 'windows per model call (default 32)')
    .option('--workers <n>', 'feature worker threads (default: cores − 1; 0 = in-process)')
    .option('--threads <n>', 'engine / onnxruntime threads (default 1)')
    .option('--force', 'start over when --out holds results of other models or windows')
    .option('--quiet', 'no progress line')
    .option('--json', 'print the summary as JSON');
}

function numberList(flag: string, text: string): number[] {
  return parseList(flag, text)!.map((v) => parseNumber(flag, v, { min: 0 }));
}

/** Per-class thresholds from a CSV/TSV (`class,threshold` rows) or JSON (`{class: threshold}`) file. */
function readThresholds(path: string): Record<string, number> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--thresholds ${path}: cannot read it (${fsReason(e)})`);
  }
  if (extname(path).toLowerCase() === '.json') {
    const j = JSON.parse(text) as Record<string, unknown>;
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(j)) {
      if (typeof v !== 'number')
        throw new UsageError(`--thresholds ${path}: "${k}" must be a number, got ${JSON.stringify(v)}`);
      out[k] = v;
    }
    return out;
  }
  const out: Record<string, number> = {};
  text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .forEach((line, i) => {
      const [k, v] = line.split(/[,\t]/).map((s) => s.trim());
      if (i === 0 && Number.isNaN(Number(v))) return; // a header
      const x = Number(v);
      if (!k || v === undefined || !Number.isFinite(x))
        throw new UsageError(`--thresholds ${path}:${i + 1}: expected "class,threshold", got "${line}"`);
      out[k] = x;
    });
  return out;
}

/** Flags → job options (every value checked, naming its flag). */
export function jobOptions(
  inputs: string[],
  flags: PredictFlags,
  formats: OutputFormat[],
): PredictJobOptions {
  requireOutputDir('--out', flags.out);
  if (flags.ttaAugment !== undefined) requireInputFile('--tta-augment', flags.ttaAugment);
  for (const m of flags.model)
    if (!existsSync(m))
      throw new UsageError(`--model ${m}: no such run directory, checkpoint directory or .onnx file`);
  if (flags.hop !== undefined && flags.overlap !== undefined)
    throw new UsageError('--hop and --overlap: give one of them');
  const sec = { above: 0, what: 'a number of seconds' };
  const weights =
    flags.weights === undefined
      ? undefined
      : flags.weights === 'oof'
        ? ('oof' as const)
        : numberList('--weights', flags.weights);
  if (Array.isArray(weights) && weights.length !== flags.model.length)
    throw new UsageError(
      `--weights: expected ${flags.model.length} numbers (one per --model), got ${weights.length}`,
    );
  const given = [flags.threshold, flags.thresholds, flags.tuneThresholds].filter(
    (x) => x !== undefined,
  ).length;
  if (given > 1) throw new UsageError('--threshold, --thresholds and --tune-thresholds: give one of them');
  const boost = optionalNumber('--boost', flags.boost, { above: 0 });
  const cores = availableParallelism();
  return {
    models: flags.model,
    inputs,
    out: flags.out,
    formats,
    tagger: {
      window: optionalNumber('--window', flags.window, sec),
      hop: optionalNumber('--hop', flags.hop, sec),
      overlap: optionalNumber('--overlap', flags.overlap, { min: 0, what: 'a number of seconds' }),
      last: optionalChoice('--last', flags.last, ['pad', 'drop'] as const),
      tta: optionalInt('--tta', flags.tta, 1),
      ttaAugment: flags.ttaAugment,
      ensemble: optionalChoice('--ensemble', flags.ensemble, ENSEMBLE_METHODS),
      weights,
      folds: parseFoldList('--folds', flags.folds),
      checkpoint: optionalChoice('--checkpoint', flags.checkpoint, ['best', 'last'] as const),
      batchSize: optionalInt('--batch-size', flags.batchSize, 1),
      workers: optionalInt('--workers', flags.workers, 0) ?? Math.max(1, cores - 1),
      threads: optionalInt('--threads', flags.threads, 1) ?? 1,
    },
    post: {
      pooling: optionalChoice('--pool', flags.pool, CLIP_POOLINGS),
      threshold:
        flags.thresholds !== undefined
          ? readThresholds(flags.thresholds)
          : optionalNumber('--threshold', flags.threshold, { min: 0, max: 1 }),
      topK: optionalInt('--top-k', flags.topK, 1),
      minDuration: optionalNumber('--min-duration', flags.minDuration, {
        min: 0,
        what: 'a number of seconds',
      }),
      smooth: optionalInt('--smooth', flags.smooth, 0),
      boost:
        boost === undefined
          ? undefined
          : {
              factor: boost,
              conf: optionalNumber('--boost-conf', flags.boostConf, { min: 0, max: 1 }) ?? 0.5,
            },
    },
    tuneThresholds: flags.tuneThresholds,
    audioDir: flags.audioDir,
    manifestFormat: optionalChoice('--manifest-format', flags.manifestFormat, MANIFEST_FORMATS) as
      | ManifestFormat
      | undefined,
    raven: optionalChoice('--raven-table', flags.ravenTable, ['per-file', 'combined'] as const),
    force: flags.force,
  };
}

function progressLine(p: Progress): string {
  const rate = p.seconds > 0 ? p.files / p.seconds : 0;
  const rtf = p.seconds > 0 ? p.audio / p.seconds : 0;
  return `${p.files}/${p.total} files, ${rate.toFixed(2)} files/s, ${rtf.toFixed(0)}× real time${p.skipped ? `, ${p.skipped} skipped` : ''}`;
}

/** Runs the job with a progress line on stderr, prints the summary, sets exit code 1 when files were skipped. */
export async function runJob(o: PredictJobOptions, flags: PredictFlags): Promise<PredictSummary> {
  const tty = process.stderr.isTTY;
  let last = 0;
  let shown = '';
  const every = lineInterval() * 1000;
  o.onMessage = (s) => {
    if (!flags.quiet) process.stderr.write(`audiotag: ${s}\n`);
  };
  o.onProgress = (p) => {
    if (flags.quiet) return;
    const now = performance.now();
    if (tty) {
      if (p.done || now - last > 200) {
        process.stderr.write(`\r${progressLine(p)}\x1b[K${p.done ? '\n' : ''}`);
        last = now;
      }
    } else if (p.done || now - last > every) {
      const line = progressLine(p);
      if (p.total > 0 && line !== shown) process.stderr.write(`${line}\n`);
      shown = line;
      last = now;
    }
  };
  // Imported here: loading models may load the engine (libtorch), which the rest of the CLI does not need.
  const { predict } = await import('../../infer/job.js');
  const r = await predict(o);
  if (flags.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  else {
    const rtf = r.seconds > 0 ? r.audio / r.seconds : 0;
    process.stdout.write(
      `${r.scored} file(s) tagged (${(r.audio / 60).toFixed(1)} min of audio in ${r.seconds.toFixed(1)} s, ${rtf.toFixed(0)}× real time)` +
        `${r.resumed ? `, ${r.resumed} already done` : ''}; written to ${r.out} (${o.formats.map((f) => OUTPUT_FILES[f]).join(', ')})\n`,
    );
  }
  if (r.skipped.length > 0) {
    process.stderr.write(
      `audiotag: skipped ${r.skipped.length} file(s) (listed in ${r.out}/skipped.csv):\n${r.skipped.map((s) => `  ${s.id}: ${s.reason}`).join('\n')}\n`,
    );
    process.exitCode = 1;
  }
  return r;
}

export function register(program: Command): void {
  const cmd = program
    .command('predict')
    .description(
      'tag audio files, folders, manifests or a sample submission with trained runs or ONNX exports',
    )
    .argument('<inputs...>', 'audio files, folders (recursive), manifests, or a Kaggle sample_submission.csv')
    .option(
      '--format <list>',
      `comma-separated outputs (default windows,events): ${OUTPUT_FORMATS.map((f) => `${f} (${OUTPUT_FILES[f]})`).join(', ')}`,
    )
    .option(
      '--pool <how>',
      "clip score from window scores: mean, max or attention (default: the run's; attention for SED)",
    )
    .option('--ensemble <how>', 'combine models: mean (default), geometric or rank')
    .option(
      '--weights <w>',
      "per-model weights: one number per --model, or oof (each run's out-of-fold per-class lwlrap)",
    )
    .option('--threshold <x>', 'detection threshold for every class (default 0.5)')
    .option('--thresholds <file>', 'per-class thresholds: class,threshold rows (CSV) or {"class": x} (JSON)')
    .option('--tune-thresholds', "per-class thresholds that maximise F1 on the runs' out-of-fold scores")
    .option('--top-k <k>', 'only the k best classes of a window can be detected')
    .option('--min-duration <s>', 'drop events shorter than this (seconds)')
    .option('--smooth <k>', 'average each window with its k neighbours on each side (BirdCLEF smoothing)')
    .option(
      '--boost <factor>',
      'BirdCLEF file-level boost: × factor for a class with a window above --boost-conf',
    )
    .option('--boost-conf <x>', 'confidence that triggers the boost (default 0.5)')
    .option('--raven-table <how>', 'Raven selection tables: per-file (default) or combined')
    .option(
      '--queue <url>',
      'score on `audiotag worker` processes through BullMQ on Redis (redis://HOST:PORT; docs/distributed.md)',
    )
    .option(
      '--chunk-seconds <s>',
      'with --queue: recordings longer than this go out as chunks of about this length (default 300)',
    )
    .addHelpText(
      'after',
      `
Examples:
  audiotag predict --model runs/esc10 recordings/ --out tags --format raven,audacity --threshold 0.3
  audiotag predict --model runs/a --model runs/b sample_submission.csv --audio-dir test/ --out sub --format kaggle --weights oof
  audiotag predict --model model.onnx clips/ --out tags --format jsonl --tta 4
More: docs/predict.md`,
    );
  addJobOptions(cmd).action(async (inputs: string[], flags: PredictFlags) => {
    const formats = (parseList('--format', flags.format) ?? ['windows', 'events']).map(
      (f) => optionalChoice('--format', f, OUTPUT_FORMATS)!,
    );
    const o = jobOptions(inputs, flags, [...new Set(formats)]);
    if (flags.chunkSeconds !== undefined && flags.queue === undefined)
      throw new UsageError('--chunk-seconds goes with --queue (chunks are jobs for queue workers)');
    if (flags.queue !== undefined) {
      await requireQueueUrl('--queue', flags.queue);
      const { bullmqRunner } = await import('../../distributed/bullmq-predict.js');
      const chunkSeconds =
        flags.chunkSeconds === undefined
          ? undefined
          : parseNumber('--chunk-seconds', flags.chunkSeconds, { above: 0 });
      o.runner = bullmqRunner(flags.queue, { chunkSeconds });
    }
    await runJob(o, flags);
  });
}
