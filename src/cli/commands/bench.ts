// `audiotag bench <what>`: benchmarks that print their figures (one JSON line each with --json).
// Each sub-command is added to the `bench` group by its own add* function; to add one, write another
// function taking the group and call it from register(). Engine-backed code is imported inside the
// actions, so `audiotag --help` and the other commands work without the native addon.

import type { Command } from 'commander';
import type { OnnxBenchOptions, OnnxBenchResult } from '../../export/bench.js';
import type { BenchMode, ModelBenchOptions, ModelBenchResult } from '../../models/bench.js';
import { UsageError } from '../errors.js';
import { optionalInt as int, optionalChoice, parseChoice, parseNumber, parseSeed } from '../flags.js';

interface ModelBenchFlags {
  model: string;
  batch: string;
  size: string;
  steps: string;
  warmup: string;
  threads?: string;
  classes: string;
  device: string;
  seed: string;
  peer?: string;
  rounds: string;
  runtime?: string;
  memoryFormat?: string;
  precision?: string;
  convAlgorithm?: string;
  peerAllocator?: string;
  json?: boolean;
}

/** The sizes and counts every model bench takes (`bench train`, `bench infer`, `bench infer --runtime onnx`),
 * parsed in one place: each an integer with its least value, the error naming the flag (src/cli/flags.ts). */
export function parseModelBenchFlags(
  f: Pick<ModelBenchFlags, 'batch' | 'size' | 'steps' | 'warmup' | 'threads' | 'classes' | 'seed'>,
) {
  return {
    batch: int('--batch', f.batch, 1),
    size: int('--size', f.size, 1),
    steps: int('--steps', f.steps, 1),
    warmup: int('--warmup', f.warmup, 0),
    threads: int('--threads', f.threads, 1),
    classes: int('--classes', f.classes, 1),
    seed: parseSeed('--seed', f.seed),
  };
}

function human(r: ModelBenchResult): string {
  return (
    `${r.impl.padEnd(8)} ${r.mode} ${r.model} batch ${r.batch} ${r.size}×${r.size} ${r.threads} threads: ` +
    `${r.ms_per_step.toFixed(1)} ms/step, ${r.samples_per_s.toFixed(1)} samples/s`
  );
}

/** `bench train` and `bench infer`: a registry model on random inputs, optionally against PyTorch. */
function addModelBenches(group: Command): void {
  for (const mode of ['train', 'infer'] as BenchMode[]) {
    group
      .command(mode)
      .description(
        mode === 'train'
          ? 'time training steps (Adam, cross entropy) of a model on random square inputs'
          : 'time inference (eval mode, no grad) of a model on random square inputs',
      )
      .option('--model <name>', 'registry model', 'cnn-model-1')
      .option('--batch <n>', 'batch size', '32')
      .option('--size <n>', "side of the square input (the model's last two dims)", '128')
      .option('--steps <n>', 'timed steps (the median is reported)', '10')
      .option('--warmup <n>', 'untimed steps first', '2')
      .option('--threads <n>', 'intra-op threads (default: all cores)')
      .option('--classes <n>', 'output classes', '80')
      .option('--device <d>', 'cpu, cuda, cuda:N', 'cpu')
      .option('--seed <n>', 'seed for weights and inputs', '0')
      .option(
        '--peer <name>',
        "also run the same measurement in PyTorch ('torch', Debian's /usr/bin/python3)",
      )
      .option('--rounds <n>', 'with --peer: alternate ours/theirs this many times', '1')
      .option(
        '--memory-format <f>',
        mode === 'train'
          ? "layout of conv weights and inputs: channels-last (the trainer's default) or contiguous"
          : 'layout of conv weights and inputs: contiguous or channels-last',
        mode === 'train' ? 'channels-last' : 'contiguous',
      )
      .option('--precision <p>', 'fp32, or bf16 (forward under bfloat16 autocast)', 'fp32')
      .option(
        '--conv-algorithm <a>',
        "3×3 convolutions: winograd (the trainer's and predict's default) or direct (libtorch's)",
        'winograd',
      )
      .option(
        '--peer-allocator <a>',
        "PyTorch's glibc malloc: default, or keep (MALLOC_*_THRESHOLD_ set high)",
        'default',
      )
      .option('--json', 'print JSON lines')
      .option(
        '--runtime <name>',
        'engine (libtorch, default) or onnx (infer only: exported, onnxruntime-node)',
      )
      .action(async (f: ModelBenchFlags) => {
        if (f.runtime !== undefined && f.runtime !== 'engine') {
          if (f.runtime !== 'onnx' || mode !== 'infer')
            throw new UsageError(
              `--runtime must be "engine"${mode === 'infer' ? ' or "onnx"' : ''}, got "${f.runtime}"`,
            );
          return onnxBenchCli(f);
        }
        const opts: ModelBenchOptions = {
          mode,
          model: f.model,
          ...parseModelBenchFlags(f),
          device: f.device,
          memoryFormat: optionalChoice('--memory-format', f.memoryFormat, [
            'contiguous',
            'channels-last',
          ] as const),
          precision: optionalChoice('--precision', f.precision, ['fp32', 'bf16'] as const),
          convAlgorithm: optionalChoice('--conv-algorithm', f.convAlgorithm, ['winograd', 'direct'] as const),
          peerAllocator: optionalChoice('--peer-allocator', f.peerAllocator, ['default', 'keep'] as const),
        };
        const out = (s: string) => process.stdout.write(`${s}\n`);
        // Imported here so that the rest of the CLI works without the native addon.
        const { benchModel, compareWithTorch } = await import('../../models/bench.js');
        if (f.peer === undefined) {
          const r = benchModel(opts);
          out(f.json ? JSON.stringify(r) : human(r));
          return;
        }
        if (f.peer !== 'torch') throw new UsageError(`--peer must be "torch", got "${f.peer}"`);
        const c = compareWithTorch(opts, int('--rounds', f.rounds, 1) ?? 1, (r) =>
          out(f.json ? JSON.stringify(r) : human(r)),
        );
        const summary = {
          summary: mode,
          rounds: c.rounds,
          ours_ms_per_step: c.ours_ms_per_step,
          torch_ms_per_step: c.torch_ms_per_step,
          overhead_pct: c.overhead_pct,
          ours_cpu_ms_per_step: c.ours_cpu_ms_per_step,
          torch_cpu_ms_per_step: c.torch_cpu_ms_per_step,
          cpu_overhead_pct: c.cpu_overhead_pct,
        };
        out(
          f.json
            ? JSON.stringify(summary)
            : `overhead over PyTorch (median of ${c.rounds} round(s)): wall ${c.overhead_pct > 0 ? '+' : ''}${c.overhead_pct} %, CPU time ${c.cpu_overhead_pct > 0 ? '+' : ''}${c.cpu_overhead_pct} %`,
        );
      });
  }
}

/** `bench features`: log-mel of a preset over ESC-10 clips against torchaudio (bench/features.ts). */
function addFeaturesBench(group: Command): void {
  group
    .command('features')
    .description('time log-mel extraction of a preset (clips/s) against torchaudio on the same clips')
    .option('--preset <name>', 'feature preset', 'fat2019')
    .option('--clips <n>', 'number of ESC-10 clips', '100')
    .option('--seconds <s>', 'clip length', '5')
    .option('--threads <n>', 'worker threads (JS) / engine threads here, torch.set_num_threads there', '1')
    .option('--repeats <n>', 'timed passes per side (the best is reported)', '3')
    .option('--synthetic', 'generated clips instead of ESC-10')
    .option('--no-torch', 'skip the torchaudio side')
    .option(
      '--backend <name>',
      'our side: both, js (src/features) or engine (torch.stft via the addon)',
      'both',
    )
    .option('--json', 'print one JSON line')
    .action(
      async (f: {
        backend: string;
        preset: string;
        clips: string;
        seconds: string;
        threads: string;
        repeats: string;
        synthetic?: boolean;
        torch: boolean;
        json?: boolean;
      }) => {
        const { PRESET_NAMES } = await import('../../features/config.js');
        parseChoice('--preset', f.preset, PRESET_NAMES);
        const seconds = parseNumber('--seconds', f.seconds, { above: 0 });
        // bench/ is not part of the published package: load it lazily so the CLI works without it.
        const { BENCH_BACKENDS, runFeaturesBench } = await import('../../../bench/features.js');
        parseChoice('--backend', f.backend, BENCH_BACKENDS);
        const r = await runFeaturesBench({
          preset: f.preset as never,
          clips: int('--clips', f.clips, 1),
          seconds,
          threads: int('--threads', f.threads, 1),
          repeats: int('--repeats', f.repeats, 1),
          synthetic: f.synthetic ?? false,
          noTorch: !f.torch,
          backend: f.backend as never,
        });
        const ours = (['js', 'engine'] as const).flatMap((k) => {
          const v = k === 'js' ? r.clips_per_s_js : r.clips_per_s_engine;
          return v === null ? [] : [`${k} ${v.toFixed(1)} clips/s`];
        });
        const torch = r.torchaudio_clips_per_s
          ? `, torchaudio ${r.torchaudio_clips_per_s.toFixed(1)} clips/s (${r.primary} ×${r.speedup_vs_torchaudio!.toFixed(2)})`
          : '';
        process.stdout.write(
          f.json
            ? `${JSON.stringify(r)}\n`
            : `features ${r.preset} on ${r.threads} thread(s): ${ours.join(', ')}${torch}\n`,
        );
      },
    );
}

/** `bench augment`: one training batch through an augmentation pipeline (bench/augment.ts). */
function addAugmentBench(group: Command): void {
  group
    .command('augment')
    .description('time one fat2019 batch through an augmentation pipeline (default: the 8th-place one)')
    .option('--config <file>', 'pipeline (default configs/augment/fat2019-8th.yaml)')
    .option('--batch <n>', 'batch size', '64')
    .option('--size <n>', 'mels and frames of each item', '128')
    .option('--reps <n>', 'timed batches (the median is reported)', '10')
    .option('--real', 'ESC-10 fat2019 log-mels instead of random images')
    .option('--train', 'also time a CNN-model-1 training step (bench train) and print the ratio')
    .option('--json', 'print one JSON line')
    .action(
      async (f: {
        config?: string;
        batch: string;
        size: string;
        reps: string;
        real?: boolean;
        train?: boolean;
        json?: boolean;
      }) => {
        const { runAugmentBench } = await import('../../../bench/augment.js');
        const r = await runAugmentBench({
          config: f.config,
          batch: int('--batch', f.batch, 1),
          size: int('--size', f.size, 2),
          reps: int('--reps', f.reps, 1),
          real: f.real ?? false,
          train: f.train ?? false,
        });
        const ratio =
          r.augment_to_train_ratio === null
            ? ''
            : `, ${(100 * r.augment_to_train_ratio).toFixed(1)} % of a training step`;
        process.stdout.write(
          f.json
            ? `${JSON.stringify(r)}\n`
            : `augment ${r.pipeline}: ${r.ms_per_batch} ms per batch of ${r.batch}${ratio}\n`,
        );
      },
    );
}

/** `bench loader`: CNN-model-1 steps fed by the batch loader against the same batches in memory (bench/loader.ts). */
function addLoaderBench(group: Command): void {
  group
    .command('loader')
    .description('what feeding CNN-model-1 steps from the batch loader costs over the same batches in memory')
    .option('--manifest <file>', 'manifest (default ../shared/data/esc10/meta.csv)')
    .option('--batch <n>', 'batch size', '32')
    .option('--frames <n>', 'crop length in frames', '128')
    .option(
      '--steps <n>',
      'steps per side and round, on a subset of steps × batch clips (0: the whole manifest)',
      '6',
    )
    .option('--rounds <n>', 'rounds, alternating which side goes first', '2')
    .option('--workers <n>', 'loader worker threads (default: cores − 1)')
    .option('--prefetch <n>', 'batches built ahead', '4')
    .option('--threads <n>', 'engine intra-op threads (default: all cores)')
    .option('--augment <file>', "pipeline file, or 'none' (default configs/augment/fat2019-8th.yaml)")
    .option('--json', 'print one JSON line')
    .action(
      async (f: {
        manifest?: string;
        batch: string;
        frames: string;
        steps: string;
        rounds: string;
        workers?: string;
        prefetch: string;
        threads?: string;
        augment?: string;
        json?: boolean;
      }) => {
        const { runLoaderBench } = await import('../../../bench/loader.js');
        const r = await runLoaderBench({
          manifest: f.manifest,
          batch: int('--batch', f.batch, 1),
          frames: int('--frames', f.frames, 16),
          steps: int('--steps', f.steps, 0),
          rounds: int('--rounds', f.rounds, 1),
          workers: int('--workers', f.workers, 1),
          prefetch: int('--prefetch', f.prefetch, 1),
          threads: int('--threads', f.threads, 1),
          augment: f.augment,
        });
        process.stdout.write(
          f.json
            ? `${JSON.stringify(r)}\n`
            : `loader: ${r.loader_ms_per_step} ms/step fed by the loader, ${r.memory_ms_per_step} ms/step from memory: ${r.overhead_pct > 0 ? '+' : ''}${r.overhead_pct} % (${r.steps} steps × ${r.rounds} rounds, batch ${r.input_shape.join('×')})\n`,
        );
      },
    );
}

/** `bench prepare`: a cold feature cache of N dataset clips against torchaudio (bench/prepare.ts). */
function addPrepareBench(group: Command): void {
  group
    .command('prepare')
    .description(
      'time dataset preparation (decode, resample, log-mel into a fresh cache; clips/s) against torchaudio',
    )
    .option('--clips <n>', 'the first N clips of the dataset', '100')
    .option('--threads <n>', 'worker threads here, torch.set_num_threads there', '2')
    .option('--preset <name>', 'feature preset', 'fat2019')
    .option('--data <name>', 'esc10 (FLAC), philharmonia (MP3) or fsdd (WAV) from ../shared/data', 'esc10')
    .option('--rounds <n>', 'alternate ours / torchaudio this many times (best of each reported)', '1')
    .option(
      '--backend <name>',
      'our spectrograms: auto (libtorch in each worker, one OpenMP thread each, when it loads), engine or js',
      'auto',
    )
    .option('--no-peer', 'skip torchaudio')
    .option('--json', 'print one JSON line')
    .action(
      async (f: {
        clips: string;
        threads: string;
        preset: string;
        data: string;
        rounds: string;
        backend: string;
        peer: boolean;
        json?: boolean;
      }) => {
        const { PRESET_NAMES } = await import('../../features/config.js');
        parseChoice('--preset', f.preset, PRESET_NAMES);
        const { PREPARE_DATASETS, runPrepareBench } = await import('../../../bench/prepare.js');
        parseChoice('--data', f.data, PREPARE_DATASETS);
        parseChoice('--backend', f.backend, ['js', 'engine', 'auto'] as const);
        const r = await runPrepareBench({
          clips: int('--clips', f.clips, 1),
          threads: int('--threads', f.threads, 1),
          preset: f.preset as never,
          data: f.data as never,
          rounds: int('--rounds', f.rounds, 1),
          backend: f.backend as never,
          peer: f.peer,
        });
        const peer =
          r.peer_clips_per_s === null
            ? ''
            : `, torchaudio ${r.peer_clips_per_s.toFixed(1)} clips/s (×${r.speedup_vs_peer!.toFixed(2)})`;
        process.stdout.write(
          f.json
            ? `${JSON.stringify(r)}\n`
            : `prepare ${r.data} ${r.preset}, ${r.clips} clips on ${r.threads} thread(s): ${r.clips_per_s.toFixed(1)} clips/s${peer}\n`,
        );
      },
    );
}

export function register(program: Command): void {
  const group = program.command('bench').description('benchmarks: speed figures, as JSON with --json');
  addModelBenches(group);
  addFeaturesBench(group);
  addAugmentBench(group);
  addLoaderBench(group);
  addPrepareBench(group);
}

/** The flags of `audiotag bench infer` that the ONNX path reads: the engine path's, less its layout options. */
type OnnxBenchFlags = Omit<
  ModelBenchFlags,
  'runtime' | 'memoryFormat' | 'precision' | 'convAlgorithm' | 'peerAllocator'
>;

/** `audiotag bench infer --runtime onnx [--peer torch --rounds N]`: prints one line per run and a summary. */
async function onnxBenchCli(f: OnnxBenchFlags): Promise<void> {
  if (f.device !== 'cpu')
    throw new UsageError(`--runtime onnx runs on the CPU; --device must be cpu, got "${f.device}"`);
  // src/export/bench.ts: the model exported to ONNX and timed in onnxruntime (+ the torch peer).
  const { benchOnnx, compareOnnxWithTorch } = await import('../../export/bench.js');
  const opts: OnnxBenchOptions = {
    model: f.model,
    ...parseModelBenchFlags(f),
  };
  const out = (r: object, text: string) => process.stdout.write(`${f.json ? JSON.stringify(r) : text}\n`);
  const line = (r: OnnxBenchResult | ModelBenchResult) =>
    out(
      r,
      `${r.impl.padEnd(16)} infer ${r.model} batch ${r.batch} ${r.size}×${r.size} ${r.threads} threads: ` +
        `${r.ms_per_step.toFixed(1)} ms/step, ${r.samples_per_s.toFixed(1)} samples/s`,
    );
  if (f.peer === undefined) {
    line(await benchOnnx(opts));
    return;
  }
  if (f.peer !== 'torch') throw new UsageError(`--peer must be "torch", got "${f.peer}"`);
  const c = await compareOnnxWithTorch(opts, int('--rounds', f.rounds, 1) ?? 1, line);
  out(c, `onnxruntime / PyTorch eager (median of ${c.rounds} round(s)): ${c.speedup_vs_torch}×`);
}
