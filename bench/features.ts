// Feature benchmark: log-mel (mel spectrogram + power_to_db) of a preset over N clips of S seconds,
// clips per second, against torchaudio's MelSpectrogram + AmplitudeToDB on the same clips and thread
// count (scripts/bench/features_torchaudio.py through Debian's /usr/bin/python3). Our side runs as
// plain JS (src/features) and/or through the engine backend (src/features/node/engine.ts: torch.stft
// and blocked filterbank matmuls in libtorch, dB and the rest in TS).
//
//   npx tsx bench/features.ts [--preset fat2019] [--clips 100] [--seconds 5] [--threads 1] [--repeats 3]
//                             [--backend both|js|engine] [--engine-batch 1]
//   bin/audiotag bench features --preset fat2019 --backend engine --json
//
// Clips: the first N ESC-10 clips (meta.csv order), decoded and resampled to the preset's rate by
// src/audio (not timed), cropped/padded to S seconds; `--synthetic` uses generated noise+chirps instead.
// Trimming is left out on both sides (torchaudio has none), so both time the same STFT → mel → dB work.
// Threads: JS runs in-process for 1, on worker threads for more; the engine runs in-process with
// setNumThreads(threads); torch.set_num_threads(threads) on torchaudio's side.
// The sides alternate for `repeats` rounds (JS pass, engine pass, torchaudio pass, …) after a warm-up,
// so a machine whose load changes over time affects all alike; the best round of each is reported, by
// wall clock (clips_per_s_*) and by process CPU time (clips_per_cpu_s_*: CPU-seconds of all threads,
// which a loaded machine distorts much less).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cropOrPad } from '../src/audio/browser.js';
import { loadAudio } from '../src/audio/index.js';
import type { NDArray } from '../src/core/ndarray.js';
import {
  type FeatureConfig,
  featuresFromSignal,
  type PresetName,
  resolveFeatureConfig,
} from '../src/features/index.js';
import { FeatureWorkerPool } from '../src/features/node/extract.js';
import { decodeNpyFloat32 } from '../src/features/npy.js';
import { stftPlan } from '../src/features/stft.js';
import { REPO_ROOT } from './root.js';

const ROOT = REPO_ROOT;
const ESC10 = join(ROOT, '..', 'shared', 'data', 'esc10');

export interface FeaturesBenchOptions {
  preset?: PresetName;
  clips?: number;
  seconds?: number;
  threads?: number;
  repeats?: number;
  synthetic?: boolean;
  /** Skip the torchaudio side (e.g. without Debian's python3-torchaudio). */
  noTorch?: boolean;
  /** Which of our backends to time: 'both' (default), 'js' or 'engine'. */
  backend?: BenchBackend;
  /** Clips per torch.stft call on the engine side (EngineFeatureOptions.batchSize); default 1. */
  engineBatch?: number;
}

export type BenchBackend = 'both' | 'js' | 'engine';
export const BENCH_BACKENDS: readonly BenchBackend[] = ['both', 'js', 'engine'];

export interface FeaturesBenchResult {
  bench: 'features';
  preset: string;
  clips: number;
  seconds: number;
  source: string;
  threads: number;
  /** The backends timed ('both', 'js', 'engine'). */
  backend: BenchBackend;
  /** The headline backend of clips_per_s / speedup_vs_torchaudio: the engine when timed, else JS. */
  primary: 'js' | 'engine';
  /** Best round, wall clock, of `primary`. */
  clips_per_s: number;
  /** Best round, clips per CPU-second of the process (all threads), of `primary`. */
  clips_per_cpu_s: number;
  /** Best round per backend (null when not timed). */
  clips_per_s_js: number | null;
  clips_per_s_engine: number | null;
  clips_per_cpu_s_js: number | null;
  clips_per_cpu_s_engine: number | null;
  engine_batch: number | null;
  /** max |dB engine − dB JS| over all clips. */
  max_db_diff_engine_vs_js: number | null;
  torchaudio_clips_per_s: number | null;
  torchaudio_clips_per_cpu_s: number | null;
  /** torchaudio on the whole batch in one call (not what a per-clip loader does; for reference). */
  torchaudio_batched_clips_per_s: number | null;
  speedup_vs_torchaudio: number | null;
  cpu_speedup_vs_torchaudio: number | null;
  speedup_js_vs_torchaudio: number | null;
  speedup_engine_vs_torchaudio: number | null;
  /** Our RealFFT.power on one windowed n_fft frame, and torch.stft per frame (pocketfft), µs. */
  fft_us_per_frame: number;
  torch_stft_us_per_frame: number | null;
  /** max |dB ours (primary) − dB torchaudio (float32)| on the first clip. */
  max_db_diff_vs_torchaudio: number | null;
  js_seconds: number[];
  engine_seconds: number[];
  torchaudio_seconds?: number[];
  load_avg_1m: number;
  torch?: string;
}

async function loadClips(
  n: number,
  seconds: number,
  config: FeatureConfig,
  synthetic: boolean,
): Promise<Float32Array[]> {
  const len = Math.round(seconds * config.sampleRate);
  if (synthetic) {
    // Deterministic noise + chirp per clip (LCG), for machines without the shared data.
    return Array.from({ length: n }, (_, c) => {
      let s = (c + 1) >>> 0;
      const x = new Float32Array(len);
      for (let i = 0; i < len; i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        const t = i / config.sampleRate;
        x[i] =
          0.3 * Math.sin(2 * Math.PI * (200 + 1000 * c * 0.01) * t * (1 + t)) + 0.05 * (s / 2 ** 32 - 0.5);
      }
      return x;
    });
  }
  const names = readFileSync(join(ESC10, 'meta.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',')[0]!)
    .slice(0, n);
  if (names.length < n) throw new Error(`bench features: ESC-10 has ${names.length} clips, asked for ${n}`);
  // Decoding 100 clips through ffmpeg takes a minute on a loaded machine: keep the decoded clips in the
  // system temp folder (not the checkout: the data stays in ../shared) for the next run.
  const cacheFile = join(tmpdir(), 'audiotag-bench-cache', `esc10-${n}x${len}@${config.sampleRate}.f32`);
  if (existsSync(cacheFile)) {
    const all = new Float32Array(new Uint8Array(readFileSync(cacheFile)).buffer);
    if (all.length === n * len) return Array.from({ length: n }, (_, i) => all.slice(i * len, (i + 1) * len));
  }
  const out: Float32Array[] = [];
  for (const name of names) {
    const a = await loadAudio(join(ESC10, 'audio', name), { sampleRate: config.sampleRate, mono: true });
    out.push(cropOrPad(a.channels[0]!, len));
  }
  const all = new Float32Array(n * len);
  out.forEach((x, i) => {
    all.set(x, i * len);
  });
  mkdirSync(dirname(cacheFile), { recursive: true });
  writeFileSync(cacheFile, new Uint8Array(all.buffer));
  return out;
}

/** CPU seconds (user + system, all threads) of this process. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

interface Runner {
  first: NDArray;
  pass: () => Promise<{ wall: number; cpu: number }>;
  close: () => Promise<void>;
}

/**
 * An engine runner: every clip through the engine backend in-process, libtorch's intra-op threads set
 * to `threads`. Imported here so the JS-only bench works without the native addon.
 */
async function engineRunner(
  clips: Float32Array[],
  config: FeatureConfig,
  threads: number,
  batchSize: number,
): Promise<Runner & { all: NDArray[] }> {
  const E = await import('../src/engine/index.js');
  const { featuresFromSignalsEngine } = await import('../src/features/node/engine.js');
  const before = E.getNumThreads();
  E.setNumThreads(threads);
  // Warm-up (plans, allocator); the results are kept for the engine-vs-JS difference.
  const all = featuresFromSignalsEngine(clips, config, { batchSize });
  return {
    first: all[0]!,
    all,
    pass: async () => {
      const t = performance.now();
      const c = cpuSeconds();
      featuresFromSignalsEngine(clips, config, { batchSize });
      return { wall: (performance.now() - t) / 1000, cpu: cpuSeconds() - c };
    },
    close: async () => E.setNumThreads(before),
  };
}

/** A JS runner: `pass()` computes every clip once and returns wall and CPU seconds. */
async function jsRunner(clips: Float32Array[], config: FeatureConfig, threads: number): Promise<Runner> {
  const sr = config.sampleRate;
  if (threads <= 1) {
    const first = featuresFromSignal(clips[0]!, config); // warm-up: JIT, FFT plan, filterbank
    for (let i = 1; i < Math.min(4, clips.length); i++) featuresFromSignal(clips[i]!, config);
    return {
      first,
      pass: async () => {
        const t = performance.now();
        const c = cpuSeconds();
        for (const x of clips) featuresFromSignal(x, config);
        return { wall: (performance.now() - t) / 1000, cpu: cpuSeconds() - c };
      },
      close: async () => {},
    };
  }
  const pool = new FeatureWorkerPool(config, threads);
  // Warm-up: every worker compiles and plans (worker start-up is not part of the figure).
  const warm = await Promise.all(
    Array.from({ length: threads * 3 }, (_, i) =>
      pool.run({ kind: 'samples', samples: clips[i % clips.length]!, sampleRate: sr }),
    ),
  );
  return {
    first: warm[0]!,
    pass: async () => {
      const t = performance.now();
      const c = cpuSeconds();
      await Promise.all(clips.map((x) => pool.run({ kind: 'samples', samples: x, sampleRate: sr })));
      return { wall: (performance.now() - t) / 1000, cpu: cpuSeconds() - c };
    },
    close: () => pool.close(),
  };
}

function writeClips(dir: string, clips: Float32Array[]): string {
  const input = join(dir, 'clips.f32');
  const buf = new Float32Array(clips.length * clips[0]!.length);
  clips.forEach((x, i) => {
    buf.set(x, i * x.length);
  });
  writeFileSync(input, new Uint8Array(buf.buffer));
  return input;
}

/** Best-of-20 µs for one windowed real FFT frame (RealFFT.power, the STFT's inner step). */
function fftMicros(config: FeatureConfig, clip: Float32Array): number {
  const plan = stftPlan(config);
  const { padded, frames } = plan.prepare(clip);
  const out = new Float64Array(plan.bins);
  let bestUs = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 20; r++) {
    const t = performance.now();
    for (let f = 0; f < frames; f++) plan.powerAt(padded, f, out);
    bestUs = Math.min(bestUs, ((performance.now() - t) * 1000) / frames);
  }
  return bestUs;
}

/** One torchaudio pass (a fresh /usr/bin/python3; its import and warm-up are not timed). */
function torchPass(
  dir: string,
  input: string,
  n: number,
  len: number,
  config: FeatureConfig,
  threads: number,
) {
  const dump = join(dir, 'first.npy');
  const args = [
    join(ROOT, 'scripts', 'bench', 'features_torchaudio.py'),
    '--input',
    input,
    '--clips',
    String(n),
    '--samples',
    String(len),
    '--threads',
    String(threads),
    '--repeats',
    '1',
    '--dump',
    dump,
    '--config',
    JSON.stringify(config),
  ];
  const r = spawnSync('/usr/bin/python3', args, {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: String(threads) },
  });
  if (r.status !== 0) throw new Error(`torchaudio bench failed: ${r.stderr || r.error?.message}`);
  const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    torchaudio_seconds: number[];
    torchaudio_cpu_seconds: number[];
    torch_stft_us_per_frame: number;
    torchaudio_batched_clips_per_s: number;
    torch: string;
    torchaudio: string;
  };
  return { res, first: decodeNpyFloat32(readFileSync(dump), dump) };
}

/** Runs the benchmark and returns the JSON record (see the file header). */
export async function runFeaturesBench(opts: FeaturesBenchOptions = {}): Promise<FeaturesBenchResult> {
  const preset = opts.preset ?? 'fat2019';
  const n = opts.clips ?? 100;
  const seconds = opts.seconds ?? 5;
  const threads = opts.threads ?? 1;
  const repeats = opts.repeats ?? 3;
  const backend = opts.backend ?? 'both';
  const engineBatch = opts.engineBatch ?? 1;
  if (!BENCH_BACKENDS.includes(backend))
    throw new Error(`--backend must be one of ${BENCH_BACKENDS.join(', ')}, got "${backend}"`);
  const config = resolveFeatureConfig({ preset, trim: null, duration: null, format: 'mel', scale: 'db' });
  const clips = await loadClips(n, seconds, config, opts.synthetic ?? false);
  const js = backend === 'engine' ? null : await jsRunner(clips, config, threads);
  const engine = backend === 'js' ? null : await engineRunner(clips, config, threads, engineBatch);
  const dir = mkdtempSync(join(tmpdir(), 'audiotag-bench-'));
  const jsRuns: { wall: number; cpu: number }[] = [];
  const engineRuns: { wall: number; cpu: number }[] = [];
  const torchRuns: { wall: number; cpu: number; batched: number; stft: number }[] = [];
  let torchFirst: NDArray | null = null;
  let torchVersion = '';
  try {
    const input = opts.noTorch ? '' : writeClips(dir, clips);
    for (let r = 0; r < repeats; r++) {
      if (js) jsRuns.push(await js.pass());
      if (engine) engineRuns.push(await engine.pass());
      if (!opts.noTorch) {
        const t = torchPass(dir, input, n, clips[0]!.length, config, threads);
        torchRuns.push({
          wall: t.res.torchaudio_seconds[0]!,
          cpu: t.res.torchaudio_cpu_seconds[0]!,
          batched: t.res.torchaudio_batched_clips_per_s,
          stft: t.res.torch_stft_us_per_frame,
        });
        torchFirst = t.first;
        torchVersion = `${t.res.torch} / torchaudio ${t.res.torchaudio}`;
      }
    }
  } finally {
    await js?.close();
    await engine?.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const best = (xs: number[]) => Math.min(...xs);
  const rate = (runs: { wall: number; cpu: number }[], k: 'wall' | 'cpu') =>
    runs.length > 0 ? n / best(runs.map((r) => r[k])) : null;
  const primary = engine ? 'engine' : 'js';
  const primaryFirst = (engine ?? js)!.first;
  let engineVsJs: number | null = null;
  if (engine && js) {
    // Every clip: the engine's features (kept from its warm-up) against the JS path's.
    engineVsJs = 0;
    for (let i = 0; i < n; i++) {
      const a = engine.all[i]!.data;
      const b = featuresFromSignal(clips[i]!, config).data;
      for (let j = 0; j < a.length; j++) engineVsJs = Math.max(engineVsJs, Math.abs(a[j]! - b[j]!));
    }
  }
  const result: FeaturesBenchResult = {
    bench: 'features',
    preset,
    clips: n,
    seconds,
    source: opts.synthetic
      ? 'synthetic chirp + noise'
      : `ESC-10 (first ${n} in meta.csv) resampled to ${config.sampleRate} Hz by src/audio`,
    threads,
    backend,
    primary,
    clips_per_s: rate(primary === 'engine' ? engineRuns : jsRuns, 'wall')!,
    clips_per_cpu_s: rate(primary === 'engine' ? engineRuns : jsRuns, 'cpu')!,
    clips_per_s_js: rate(jsRuns, 'wall'),
    clips_per_s_engine: rate(engineRuns, 'wall'),
    clips_per_cpu_s_js: rate(jsRuns, 'cpu'),
    clips_per_cpu_s_engine: rate(engineRuns, 'cpu'),
    engine_batch: engine ? engineBatch : null,
    max_db_diff_engine_vs_js: engineVsJs,
    torchaudio_clips_per_s: null,
    torchaudio_clips_per_cpu_s: null,
    torchaudio_batched_clips_per_s: null,
    speedup_vs_torchaudio: null,
    cpu_speedup_vs_torchaudio: null,
    speedup_js_vs_torchaudio: null,
    speedup_engine_vs_torchaudio: null,
    max_db_diff_vs_torchaudio: null,
    fft_us_per_frame: fftMicros(config, clips[0]!),
    torch_stft_us_per_frame: null,
    js_seconds: jsRuns.map((r) => r.wall),
    engine_seconds: engineRuns.map((r) => r.wall),
    load_avg_1m: loadavg()[0]!,
  };
  if (torchFirst) {
    const ta = n / best(torchRuns.map((r) => r.wall));
    result.torchaudio_clips_per_s = ta;
    result.torchaudio_clips_per_cpu_s = n / best(torchRuns.map((r) => r.cpu));
    result.torchaudio_batched_clips_per_s = Math.max(...torchRuns.map((r) => r.batched));
    result.torchaudio_seconds = torchRuns.map((r) => r.wall);
    result.speedup_vs_torchaudio = result.clips_per_s / ta;
    result.cpu_speedup_vs_torchaudio = result.clips_per_cpu_s / result.torchaudio_clips_per_cpu_s;
    result.speedup_js_vs_torchaudio = result.clips_per_s_js === null ? null : result.clips_per_s_js / ta;
    result.speedup_engine_vs_torchaudio =
      result.clips_per_s_engine === null ? null : result.clips_per_s_engine / ta;
    result.torch = torchVersion;
    result.torch_stft_us_per_frame = best(torchRuns.map((r) => r.stft));
    let d = 0;
    for (let i = 0; i < torchFirst.data.length; i++)
      d = Math.max(d, Math.abs(torchFirst.data[i]! - primaryFirst.data[i]!));
    result.max_db_diff_vs_torchaudio = d;
  }
  return result;
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      preset: { type: 'string', default: 'fat2019' },
      clips: { type: 'string', default: '100' },
      seconds: { type: 'string', default: '5' },
      threads: { type: 'string', default: '1' },
      repeats: { type: 'string', default: '3' },
      synthetic: { type: 'boolean', default: false },
      'no-torch': { type: 'boolean', default: false },
      backend: { type: 'string', default: 'both' },
      'engine-batch': { type: 'string', default: '1' },
      json: { type: 'boolean', default: true },
    },
  });
  const r = await runFeaturesBench({
    preset: a.preset as PresetName,
    clips: Number(a.clips),
    seconds: Number(a.seconds),
    threads: Number(a.threads),
    repeats: Number(a.repeats),
    synthetic: a.synthetic,
    noTorch: a['no-torch'],
    backend: a.backend as BenchBackend,
    engineBatch: Number(a['engine-batch']),
  });
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    process.stderr.write(`bench features: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
