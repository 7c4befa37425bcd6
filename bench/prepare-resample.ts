// Resampler choice for dataset preparation (issue 11): libsoxr through the audio addon ('hq' and 'fast'
// recipes, native/audio/audio.cc) against src/audio/resample.ts and torchaudio 0.13's resample with
// librosa's kaiser_best settings, on the same signals. Quality: bench/resample-meter.ts's swept sine (pass
// band max deviation, worst aliasing / pass-band residual). Speed: input Msamples/s on one thread, best
// of --repeats on a --seconds chirp; the torchaudio side runs bench/resample_torchaudio.py (Debian's
// /usr/bin/python3, torch.set_num_threads(1)) after ours for each source rate. Prints one JSON object.
//
//   node --import tsx bench/prepare-resample.ts [--seconds 10] [--repeats 3] [--no-peer]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { audioAddon } from '../src/audio/native.js';
import { resample } from '../src/audio/resample.js';
import { chirp, measureSweep } from './resample-meter.js';
import { REPO_ROOT } from './root.js';

const { values: a } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    repeats: { type: 'string', default: '3' },
    'no-peer': { type: 'boolean', default: false },
  },
});
const seconds = Number(a.seconds);
const repeats = Number(a.repeats);
const addon = audioAddon();
if (addon === null) throw new Error('bench/prepare-resample.ts needs the audio addon (make -C native audio)');
const PAIRS: Array<[number, number]> = [
  [44100, 16000],
  [16000, 44100],
  [48000, 44100],
  [32000, 44100],
];

function best(fn: () => void): number {
  let b = Number.POSITIVE_INFINITY;
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    fn();
    b = Math.min(b, (performance.now() - t0) / 1000);
  }
  return b;
}

const r3 = (x: number) => Number(x.toPrecision(3));
const rows: Record<string, unknown>[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'audiotag-resample-'));
const load0 = loadavg()[0]!;
try {
  for (const [from, to] of PAIRS) {
    const row: Record<string, unknown> = { from, to };
    const x = chirp(from, seconds, 0.5, from / 2);
    for (const [name, fn] of [
      ['soxr_hq', (y: Float32Array) => addon.resample(y, from, to, 'hq')],
      ['soxr_fast', (y: Float32Array) => addon.resample(y, from, to, 'fast')],
      ['js_hq', (y: Float32Array) => resample(y, from, to)],
    ] as const) {
      const q = measureSweep((y) => fn(y), { fromRate: from, toRate: to });
      row[name] = {
        passband_max_dev_db: r3(q.passbandMaxDeviationDb),
        alias_max_db: r3(q.aliasMaxDb),
        msamples_per_s: r3(x.length / best(() => fn(x)) / 1e6),
      };
    }
    if (!a['no-peer']) {
      const input = join(tmp, 'x.f32');
      const sweep = join(tmp, 'sweep.f32');
      writeFileSync(input, new Uint8Array(x.buffer));
      writeFileSync(sweep, new Uint8Array(chirp(from, 8, 0.5, from / 2).buffer));
      const out = execFileSync(
        '/usr/bin/python3',
        [
          join(REPO_ROOT, 'bench', 'resample_torchaudio.py'),
          ...['--input', input, '--sweep', sweep, '--from-rate', String(from), '--to-rates', String(to)],
          ...['--repeats', String(repeats), '--dump-dir', tmp],
        ],
        { encoding: 'utf8' },
      );
      const res = (
        JSON.parse(out.trim().split('\n').pop()!) as {
          results: { setting: string; msamples_per_s: number }[];
        }
      ).results.find((s) => s.setting === 'kaiser_best')!;
      const y = new Float32Array(readFileSync(join(tmp, `kaiser_best_${to}.f32`)).buffer.slice(0));
      const q = measureSweep(() => y, { fromRate: from, toRate: to });
      row.torchaudio_kaiser_best = {
        passband_max_dev_db: r3(q.passbandMaxDeviationDb),
        alias_max_db: r3(q.aliasMaxDb),
        msamples_per_s: r3(res.msamples_per_s),
      };
    }
    rows.push(row);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.stdout.write(
  `${JSON.stringify({ bench: 'prepare-resample', seconds, repeats, soxr: addon.soxrVersion, load_avg_1m: [r3(load0), r3(loadavg()[0]!)], pairs: rows })}\n`,
);
