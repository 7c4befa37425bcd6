// Dataset preparation benchmark (issue 11): a cold feature cache — decode, resample to the preset's rate,
// trim/crop as the preset says, log-mel, write one .npy per clip into a fresh cache — over the first N clips
// of a dataset in ../shared/data, by prepareCache (src/features/node/prepare.ts) on `threads` worker
// threads, against torchaudio.load + Resample + MelSpectrogram + dB on the same files and thread count
// (bench/prepare_torchaudio.py, Debian's /usr/bin/python3). Rounds alternate ours / peer; the best round of
// each side is reported. Prints one JSON object.
//
//   node --import tsx bench/prepare.ts --clips 100 --threads 2 --preset fat2019 [--data esc10|philharmonia]
//        [--rounds 3] [--backend auto|engine|js] [--no-peer]
//   (equivalently: audiotag bench prepare … --json)
//
// clips_per_s counts from the first clip to the last, without starting the worker threads (startup_s, reported
// apart: the peer's figure also leaves out starting Python and importing torch); clips_per_s_with_startup
// includes it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { audioAddon } from '../src/audio/index.js';
import { type PresetName, resolveFeatureConfig } from '../src/features/config.js';
import { FeatureCache } from '../src/features/node/cache.js';
import type { FeatureBackend } from '../src/features/node/extract.js';
import { preferOneOpenMpThread, prepareCache } from '../src/features/node/prepare.js';
import { REPO_ROOT } from './root.js';

export const PREPARE_DATASETS = ['esc10', 'philharmonia', 'fsdd'] as const;
export type PrepareDataset = (typeof PREPARE_DATASETS)[number];

export interface PrepareBenchOptions {
  clips?: number;
  threads?: number;
  preset?: PresetName;
  data?: PrepareDataset;
  rounds?: number;
  backend?: FeatureBackend;
  peer?: boolean;
}

export interface PrepareBenchResult {
  bench: 'prepare';
  data: string;
  preset: string;
  clips: number;
  threads: number;
  backend: string;
  decoder: string;
  clips_per_s: number;
  clips_per_s_with_startup: number;
  startup_s: number;
  peer_clips_per_s: number | null;
  speedup_vs_peer: number | null;
  rounds: { ours: number[]; peer: number[] };
  /** CPU time (all threads of the process) per clip, best round: less sensitive to other load than clips/s. */
  cpu_ms_per_clip: number;
  peer_cpu_ms_per_clip: number | null;
  failed: number;
  load_avg_1m_before: number;
  load_avg_1m_after: number;
}

/** The first `n` files of a dataset's meta.csv (its own order). */
export function datasetFiles(data: PrepareDataset, n: number): string[] {
  const dir = join(REPO_ROOT, '..', 'shared', 'data', data);
  const lines = readFileSync(join(dir, 'meta.csv'), 'utf8').trim().split('\n');
  const header = lines[0]!.split(',');
  const col = Math.max(header.indexOf('filename'), header.indexOf('fname'));
  if (col < 0) throw new Error(`${dir}/meta.csv: no filename/fname column`);
  const files = lines.slice(1, n + 1).map((l) => join(dir, 'audio', l.split(',')[col]!));
  if (files.length < n) throw new Error(`${data} has only ${files.length} clips, asked for ${n}`);
  return files;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export async function runPrepareBench(opts: PrepareBenchOptions = {}): Promise<PrepareBenchResult> {
  const clips = opts.clips ?? 100;
  const threads = opts.threads ?? 2;
  const preset = opts.preset ?? 'fat2019';
  const data = opts.data ?? 'esc10';
  const rounds = opts.rounds ?? 1;
  const files = datasetFiles(data, clips);
  // Before libtorch loads: one OpenMP thread per worker (else the engine is slower than TypeScript).
  let backend: FeatureBackend = opts.backend ?? 'auto';
  if (backend === 'auto' && !preferOneOpenMpThread()) backend = 'js';
  if (backend === 'engine') preferOneOpenMpThread();
  const config = resolveFeatureConfig(preset);
  const load0 = loadavg()[0]!;
  const ours: {
    rate: number;
    withStartup: number;
    startup: number;
    failed: number;
    backend: string;
    cpuMs: number;
  }[] = [];
  const peer: number[] = [];
  const peerCpu: number[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'audiotag-bench-prepare-'));
  const spec = join(tmp, 'spec.json');
  writeFileSync(
    spec,
    JSON.stringify({
      files,
      threads,
      sampleRate: config.sampleRate,
      nFft: config.nFft,
      winLength: config.winLength,
      hopLength: config.hopLength,
      nMels: config.nMels,
      fmin: config.fmin,
      fmax: config.fmax,
      power: config.power,
      melScale: config.melScale,
      melNorm: config.melNorm,
    }),
  );
  try {
    for (let r = 0; r < rounds; r++) {
      const dir = join(tmp, `cache-${r}`);
      const cache = await FeatureCache.open(dir, config);
      let cpu0 = process.cpuUsage();
      const res = await prepareCache(cache, files, {
        threads,
        backend,
        // CPU time once the workers are up (as the peer's excludes importing torch).
        onStarted: () => {
          cpu0 = process.cpuUsage();
        },
      });
      const cpu = process.cpuUsage(cpu0);
      ours.push({
        rate: res.done / (res.seconds - res.startupS),
        withStartup: res.done / res.seconds,
        startup: res.startupS,
        failed: res.failed,
        backend: res.backend,
        cpuMs: (cpu.user + cpu.system) / 1000 / res.done,
      });
      rmSync(dir, { recursive: true, force: true });
      if (opts.peer ?? true) {
        const out = execFileSync(
          '/usr/bin/python3',
          [join(REPO_ROOT, 'bench', 'prepare_torchaudio.py'), spec],
          {
            encoding: 'utf8',
            env: { ...process.env, OMP_NUM_THREADS: String(threads) },
          },
        );
        const p = JSON.parse(out.trim().split('\n').pop()!) as {
          clips_per_s: number;
          cpu_ms_per_clip: number;
        };
        peer.push(p.clips_per_s);
        peerCpu.push(p.cpu_ms_per_clip);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const best = ours.reduce((a, b) => (b.rate > a.rate ? b : a));
  const peerBest = peer.length > 0 ? Math.max(...peer) : null;
  return {
    bench: 'prepare',
    data,
    preset,
    clips,
    threads,
    backend: best.backend,
    decoder:
      audioAddon() !== null ? 'libsndfile+soxr (audio addon)' : 'ffmpeg subprocess + TypeScript resampler',
    clips_per_s: round3(best.rate),
    clips_per_s_with_startup: round3(best.withStartup),
    startup_s: round3(best.startup),
    peer_clips_per_s: peerBest === null ? null : round3(peerBest),
    speedup_vs_peer: peerBest === null ? null : round3(best.rate / peerBest),
    rounds: { ours: ours.map((o) => round3(o.rate)), peer: peer.map(round3) },
    cpu_ms_per_clip: round3(best.cpuMs),
    peer_cpu_ms_per_clip: peerCpu.length > 0 ? round3(Math.min(...peerCpu)) : null,
    failed: best.failed,
    load_avg_1m_before: round3(load0),
    load_avg_1m_after: round3(loadavg()[0]!),
  };
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      clips: { type: 'string', default: '100' },
      threads: { type: 'string', default: '2' },
      preset: { type: 'string', default: 'fat2019' },
      data: { type: 'string', default: 'esc10' },
      rounds: { type: 'string', default: '1' },
      backend: { type: 'string', default: 'auto' },
      'no-peer': { type: 'boolean', default: false },
    },
  });
  const r = await runPrepareBench({
    clips: Number(a.clips),
    threads: Number(a.threads),
    preset: a.preset as PresetName,
    data: a.data as PrepareDataset,
    rounds: Number(a.rounds),
    backend: a.backend as FeatureBackend,
    peer: !a['no-peer'],
  });
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main().catch((e) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
