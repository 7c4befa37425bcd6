// Loader benchmark (issue 5, "the loader keeps the engine busy"): CNN-model-1 training steps (forward,
// backward, Adam) fed by the batch loader — cached fat2019 features, random crops, the 8th-place
// augmentation (zoom-and-crop and lighting per row, mixup and SpecMix per batch) in worker threads — against
// the same number of steps on the very same batches held in memory. The loader is deterministic, so
// epoch e gives identical batches both times; the difference is what feeding costs the engine.
//
//   node --import tsx bench/loader.ts [--steps 6] [--batch 32] [--frames 128] [--rounds 2] [--workers N]
//   bin/audiotag bench loader [same flags] --json
//
// --steps N times N steps per side on a seeded subset of N × batch clips, so the loader-fed pass is a
// whole epoch of that subset (no batches left in the making to steal CPU from the next pass); --steps 0
// takes the whole manifest. Rounds alternate which side goes first. Features are cached on the first run
// (reported as precompute_ms); later runs read the cache.
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Random } from '../src/core/random.js';
import { loadManifest, subset } from '../src/data/index.js';
import { type Batch, createLoader } from '../src/data/loader.js';
import * as E from '../src/engine/index.js';
import { Adam } from '../src/engine/optim.js';
import { PRESET_NAMES, type PresetName, resolveFeatureConfig } from '../src/features/config.js';
import { createModel } from '../src/models/index.js';
import { crossEntropy } from '../src/nn/losses.js';
import { REPO_ROOT } from './root.js';

// The repository root, from bench/loader.ts or from its compiled copy dist/bench/loader.js.
const ROOT = REPO_ROOT;

export interface LoaderBenchOptions {
  /** Manifest (any format loadManifest reads); default ../shared/data/esc10/meta.csv. */
  manifest?: string;
  preset?: PresetName;
  /** Feature format; default mel-delta3 (3 channels, CNN-model-1's input). */
  format?: string;
  batch?: number;
  /** Crop length in frames (128 = 2 s with fat2019). */
  frames?: number;
  /** Steps per side and round; 0: a whole epoch of the manifest. */
  steps?: number;
  warmup?: number;
  rounds?: number;
  workers?: number;
  prefetch?: number;
  /** Engine intra-op threads; default: the engine's (all cores). */
  threads?: number;
  /** Augmentation pipeline file, or 'none'; default configs/augment/fat2019-8th.yaml. */
  augment?: string;
  cacheDir?: string;
  seed?: number;
}

export interface LoaderBenchResult {
  bench: 'loader';
  manifest: string;
  clips: number;
  features: string;
  augment: string;
  input_shape: number[];
  batch: number;
  steps: number;
  rounds: number;
  workers: number;
  prefetch: number;
  engine_threads: number;
  cores: number;
  precompute_ms: number;
  cache: { cached: number; computed: number; skipped: number };
  /** Per round: ms for `steps` steps fed by the loader, and on the same batches in memory. */
  loader_fed_ms: number[];
  in_memory_ms: number[];
  loader_ms_per_step: number;
  memory_ms_per_step: number;
  /** (loader-fed − in-memory) / in-memory, medians over rounds, in %. */
  overhead_pct: number;
  /** The same within each round (the two passes of a round ran back to back), and their median. */
  overhead_pct_by_round: number[];
  overhead_pct_paired_median: number;
  /** Process CPU time (every thread: engine, workers) per round, and its overhead in %: less noisy than
   * wall time on a shared machine, and what the loader takes from the engine on a machine with no spare core. */
  loader_fed_cpu_ms: number[];
  in_memory_cpu_ms: number[];
  cpu_overhead_pct: number;
  /** The loader alone (nobody training): wall and process CPU ms per batch while collecting the
   * in-memory batches. */
  loader_only_ms_per_batch: number;
  loader_cpu_ms_per_batch: number;
  /** Process CPU ms per engine step (in-memory pass). */
  engine_cpu_ms_per_step: number;
  /** loader CPU per batch ÷ engine CPU per step, %: what the loader would take from the engine on a
   * machine with no spare core (every CPU-ms it uses is one the engine does not get). Robust to load
   * from other processes, unlike wall time. */
  loader_cpu_share_pct: number;
  /** Mean time per step the training loop waited for the loader's next batch. */
  wait_ms_per_step: number;
  load_avg_1m: number;
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function check(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min)
    throw new Error(`bench loader: ${name} must be an integer ≥ ${min}, got ${v}`);
  return v;
}

export async function runLoaderBench(opts: LoaderBenchOptions = {}): Promise<LoaderBenchResult> {
  const manifest = opts.manifest ?? join(ROOT, '../shared/data/esc10/meta.csv');
  const preset = opts.preset ?? 'fat2019';
  if (!PRESET_NAMES.includes(preset)) throw new Error(`bench loader: unknown preset ${preset}`);
  const format = opts.format ?? 'mel-delta3';
  const batch = check('batch', opts.batch ?? 32, 1);
  const frames = check('frames', opts.frames ?? 128, 16);
  const steps = check('steps', opts.steps ?? 6, 0);
  const warmup = check('warmup', opts.warmup ?? 1, 0);
  const rounds = check('rounds', opts.rounds ?? 2, 1);
  const workers = check('workers', opts.workers ?? Math.max(1, availableParallelism() - 1), 1);
  const prefetch = check('prefetch', opts.prefetch ?? 4, 1);
  const seed = opts.seed ?? 0;
  const augment = opts.augment ?? join(ROOT, 'configs/augment/fat2019-8th.yaml');
  if (opts.threads !== undefined) E.setNumThreads(check('threads', opts.threads, 1));

  const full = (await loadManifest({ path: manifest })).dataset;
  let dataset = full;
  if (steps > 0) {
    if (steps * batch > full.items.length)
      throw new Error(
        `bench loader: ${steps} steps × ${batch} = ${steps * batch} clips, the manifest has ${full.items.length}`,
      );
    dataset = subset(full, new Random(seed).permutation(full.items.length).slice(0, steps * batch));
  }
  const features = resolveFeatureConfig({ preset, format: format as never, normalize: 'clip' });
  const loader = await createLoader(dataset, {
    features,
    cacheDir: opts.cacheDir,
    batchSize: batch,
    training: true,
    crop: { frames },
    augment: augment === 'none' ? undefined : { batch: augment },
    dropLast: true,
    workers,
    prefetch,
    seed,
  });
  const shape = loader.inputShape;
  if (!shape) throw new Error('bench loader: rows have no fixed shape');
  const nSteps = loader.batchesPerEpoch;

  E.manualSeed(seed);
  const model = createModel('cnn-model-1', { numClasses: dataset.classes.length, inChannels: shape[0]! });
  model.train();
  const adam = new Adam(model.parameters(), { lr: 1e-3 });
  const step = (b: Batch) =>
    E.tidy(() => {
      adam.zeroGrad();
      const x = E.fromNDArray(b.inputs);
      const y = E.fromNDArray(b.targets);
      crossEntropy(model.call(x).clipwise, y).backward();
      adam.step();
    });

  const fedMs: number[] = [];
  const memMs: number[] = [];
  const fedCpu: number[] = [];
  const memCpu: number[] = [];
  const buildMs: number[] = [];
  const buildCpu: number[] = [];
  let waitMs = 0;
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  try {
    const inMemory = async (epoch: number) => {
      const batches: Batch[] = [];
      const cb = cpu();
      const tb = performance.now();
      for await (const b of loader.epoch(epoch)) batches.push(b);
      buildMs.push((performance.now() - tb) / batches.length);
      buildCpu.push((cpu() - cb) / batches.length);
      const c0 = cpu();
      const t0 = performance.now();
      for (const b of batches) {
        step(b);
        // Back to the event loop between steps, as the loader-fed loop (and any trainer) does: a loop of
        // synchronous steps measured a few % slower than the same steps fed by the loader.
        await new Promise((r) => setImmediate(r));
      }
      memMs.push(performance.now() - t0);
      memCpu.push(cpu() - c0);
    };
    const fed = async (epoch: number) => {
      const c0 = cpu();
      const t0 = performance.now();
      let asked = t0;
      for await (const b of loader.epoch(epoch)) {
        waitMs += performance.now() - asked;
        step(b);
        asked = performance.now();
      }
      fedMs.push(performance.now() - t0);
      fedCpu.push(cpu() - c0);
    };
    // Warm-up: the first steps allocate libtorch's buffers. The whole epoch is drained so that no batch is
    // still in the making (on the CPU the engine needs) when timing starts.
    const first: Batch[] = [];
    for await (const b of loader.epoch(1000)) first.push(b);
    for (let i = 0; i < warmup; i++) step(first[0]!);
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) {
        await fed(r);
        await inMemory(r);
      } else {
        await inMemory(r);
        await fed(r);
      }
    }
  } finally {
    await loader.close();
    adam.dispose();
    model.dispose();
  }
  const a = median(fedMs);
  const byRound = fedMs.map((f, i) => ((f - memMs[i]!) / memMs[i]!) * 100);
  const b = median(memMs);
  return {
    bench: 'loader',
    manifest: manifest.startsWith(ROOT) ? manifest.slice(ROOT.length) : manifest,
    clips: dataset.items.length,
    features: `${preset} ${format}, normalize clip`,
    augment: augment.startsWith(ROOT) ? augment.slice(ROOT.length) : augment,
    input_shape: [batch, ...shape],
    batch,
    steps: nSteps,
    rounds,
    workers,
    prefetch,
    engine_threads: E.getNumThreads(),
    cores: availableParallelism(),
    precompute_ms: loader.stats.precomputeMs,
    cache: { cached: loader.stats.cached, computed: loader.stats.computed, skipped: loader.stats.skipped },
    loader_fed_ms: fedMs.map((x) => round(x)),
    in_memory_ms: memMs.map((x) => round(x)),
    loader_ms_per_step: round(a / nSteps),
    memory_ms_per_step: round(b / nSteps),
    overhead_pct: round(((a - b) / b) * 100, 2),
    overhead_pct_by_round: byRound.map((x) => round(x, 2)),
    overhead_pct_paired_median: round(median(byRound), 2),
    loader_fed_cpu_ms: fedCpu.map((x) => round(x)),
    in_memory_cpu_ms: memCpu.map((x) => round(x)),
    cpu_overhead_pct: round(((median(fedCpu) - median(memCpu)) / median(memCpu)) * 100, 2),
    loader_only_ms_per_batch: round(median(buildMs)),
    loader_cpu_ms_per_batch: round(median(buildCpu)),
    engine_cpu_ms_per_step: round(median(memCpu) / nSteps),
    loader_cpu_share_pct: round((median(buildCpu) / (median(memCpu) / nSteps)) * 100, 2),
    wait_ms_per_step: round(waitMs / (rounds * nSteps)),
    load_avg_1m: round(loadavg()[0]!, 2),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values: a } = parseArgs({
    options: {
      manifest: { type: 'string' },
      preset: { type: 'string' },
      format: { type: 'string' },
      batch: { type: 'string' },
      frames: { type: 'string' },
      steps: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      workers: { type: 'string' },
      prefetch: { type: 'string' },
      threads: { type: 'string' },
      augment: { type: 'string' },
      'cache-dir': { type: 'string' },
      seed: { type: 'string' },
    },
  });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const r = await runLoaderBench({
    manifest: a.manifest,
    preset: a.preset as PresetName | undefined,
    format: a.format,
    batch: num(a.batch),
    frames: num(a.frames),
    steps: num(a.steps),
    warmup: num(a.warmup),
    rounds: num(a.rounds),
    workers: num(a.workers),
    prefetch: num(a.prefetch),
    threads: num(a.threads),
    augment: a.augment,
    cacheDir: a['cache-dir'],
    seed: num(a.seed),
  });
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
