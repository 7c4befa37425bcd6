// Resampler benchmark: quality (swept sine, bench/resample-meter.ts) and speed of src/audio/resample.ts,
// next to torchaudio.functional.resample (default and kaiser_best settings) and sox's `rate -h` on the same
// signals. Prints one JSON object.
//
//   node --import tsx bench/resample.ts [--seconds 30] [--repeats 3] [--threads 1] [--no-peers]
//
// Speed is input samples per second (Msamples/s) on one thread, best of --repeats. The speed signal is a
// chirp over the whole band (the filter cost does not depend on the content).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type ResampleQuality, resample, resampleFilterTaps } from '../src/audio/resample.js';
import { chirp, measureSweep, type SweepResult } from './resample-meter.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    repeats: { type: 'string', default: '3' },
    threads: { type: 'string', default: '1' },
    'no-peers': { type: 'boolean', default: false },
  },
});
const seconds = Number(args.seconds);
const repeats = Number(args.repeats);
const here = dirname(fileURLToPath(import.meta.url));
const FROM = 44100;
const PAIRS: Array<[number, number]> = [
  [44100, 16000],
  [44100, 22050],
  [48000, 44100],
  [8000, 16000],
];
// The quality sweep: the meter's defaults (8 s, 0 Hz to the input Nyquist, amplitude 0.5).
const SWEEP_SECONDS = 8;

function round(x: number, digits = 4): number {
  return Number(x.toPrecision(digits));
}

function summary(r: SweepResult): Record<string, number> {
  return {
    passEdgeHz: r.passEdgeHz,
    passbandMaxDeviationDb: round(r.passbandMaxDeviationDb, 3),
    aliasMaxDb: round(r.aliasMaxDb, 4),
    aliasMaxAtHz: Math.round(r.aliasMaxAtHz),
  };
}

function timeIt(fn: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

const ours: unknown[] = [];
for (const [from, to] of PAIRS) {
  const x = chirp(from, seconds, 0.5, from / 2);
  for (const quality of ['hq', 'fast'] as ResampleQuality[]) {
    resample(x.subarray(0, 4096), from, to, { quality }); // builds and caches the filter bank
    const s = timeIt(() => resample(x, from, to, { quality }));
    const q = measureSweep((v, f, t) => resample(v, f, t, { quality }), {
      fromRate: from,
      toRate: to,
      seconds: SWEEP_SECONDS,
      passEdge: quality === 'hq' ? 0.9 : 0.8,
    });
    ours.push({
      from,
      to,
      quality,
      taps: resampleFilterTaps(from, to, quality),
      msamplesPerS: round(x.length / s / 1e6, 3),
      ...summary(q),
    });
  }
}

const peers: Record<string, unknown> = {};
if (!args['no-peers']) {
  const dir = mkdtempSync(join(tmpdir(), 'audiotag-bench-resample-'));
  try {
    const input = join(dir, 'input.f32');
    const sweepPath = join(dir, 'sweep.f32');
    const speedSignal = chirp(FROM, seconds, 0.5, FROM / 2);
    const sweep = chirp(FROM, SWEEP_SECONDS, 0.5, FROM / 2);
    writeFileSync(input, speedSignal);
    writeFileSync(sweepPath, sweep);
    const read = (p: string): Float32Array => {
      const b = readFileSync(p);
      const out = new Float32Array(b.length / 4);
      new Uint8Array(out.buffer).set(b);
      return out;
    };
    // Scores a precomputed output with the same meter (the meter regenerates the identical sweep).
    const scored = (y: Float32Array, to: number, passEdge = 0.9): Record<string, number> =>
      summary(measureSweep(() => y, { fromRate: FROM, toRate: to, seconds: SWEEP_SECONDS, passEdge }));
    const targets = PAIRS.filter(([f]) => f === FROM).map(([, t]) => t);
    try {
      const out = execFileSync(
        '/usr/bin/python3',
        [
          join(here, 'resample_torchaudio.py'),
          '--input',
          input,
          '--sweep',
          sweepPath,
          '--from-rate',
          String(FROM),
          '--to-rates',
          targets.join(','),
          '--threads',
          String(args.threads),
          '--repeats',
          String(repeats),
          '--dump-dir',
          dir,
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const t = JSON.parse(out) as {
        torchaudio: string;
        threads: number;
        results: Array<{ setting: string; to: number; msamples_per_s: number }>;
      };
      peers.torchaudio = {
        version: t.torchaudio,
        threads: t.threads,
        results: t.results.map((r) => ({
          from: FROM,
          to: r.to,
          setting: r.setting,
          msamplesPerS: round(r.msamples_per_s, 3),
          ...scored(read(join(dir, `${r.setting}_${r.to}.f32`)), r.to),
        })),
      };
    } catch (err) {
      peers.torchaudio = { error: String((err as Error).message).split('\n')[0] };
    }
    try {
      const results = targets.map((to) => {
        const out = join(dir, `sox_${to}.f32`);
        const cmd = (p: string, o: string): void => {
          execFileSync('sox', [
            '-D',
            '-t',
            'f32',
            '-r',
            String(FROM),
            '-c',
            '1',
            p,
            '-t',
            'f32',
            o,
            'rate',
            '-h',
            String(to),
          ]);
        };
        cmd(sweepPath, out);
        // Wall time of the whole sox process (start-up and file I/O included): an upper bound.
        const s = timeIt(() => cmd(input, join(dir, 'sox_speed.f32')));
        return {
          from: FROM,
          to,
          setting: 'rate -h',
          msamplesPerSWall: round(speedSignal.length / s / 1e6, 3),
          ...scored(read(out), to),
        };
      });
      peers.sox = { results };
    } catch (err) {
      peers.sox = { error: String((err as Error).message).split('\n')[0] };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(
  JSON.stringify(
    {
      bench: 'resample',
      node: process.version,
      cpu: cpus()[0]?.model ?? 'unknown',
      signalSeconds: seconds,
      repeats,
      sweep: { seconds: SWEEP_SECONDS, from: '0 Hz', to: 'input Nyquist', amplitude: 0.5, windowMs: 20 },
      ours,
      peers,
    },
    null,
    1,
  ),
);
