import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  cropOrPad,
  decodeWav,
  frameRmsDb,
  normalizePeak,
  normalizeRms,
  preEmphasis,
  toMono,
  trim,
} from '../../src/audio/browser.js';
import { Random } from '../../src/core/random.js';
import { f32, ROOT, SHARED } from './helpers.js';

interface TrimCase {
  name: string;
  offset?: number;
  length?: number;
  file?: string;
  top_db: number;
  frame_length?: number;
  hop_length?: number;
  ref?: number;
  start: number;
  end: number;
  db: number[];
}

const FIXTURES = join(ROOT, 'test', 'fixtures', 'audio');

test('trim matches the NumPy re-implementation of librosa.effects.trim (scripts/fixtures/audio_trim.py)', () => {
  const { cases } = JSON.parse(readFileSync(join(FIXTURES, 'trim.json'), 'utf8')) as { cases: TrimCase[] };
  const signals = f32(readFileSync(join(FIXTURES, 'trim_signals.f32')));
  assert.ok(cases.length >= 10);
  for (const c of cases) {
    const x = c.file
      ? decodeWav(new Uint8Array(readFileSync(join(SHARED, c.file))), c.file).channels[0]!
      : signals.slice(c.offset!, c.offset! + c.length!);
    const opts = {
      topDb: c.top_db,
      frameLength: c.frame_length ?? 2048,
      hopLength: c.hop_length ?? 512,
      ref: c.ref ?? ('max' as const),
    };
    const r = trim(x, opts);
    assert.equal(r.start, c.start, `${c.name}: start`);
    assert.equal(r.end, c.end, `${c.name}: end`);
    assert.deepEqual(r.samples, x.slice(c.start, c.end), `${c.name}: samples`);
    const db = frameRmsDb(x, opts.frameLength, opts.hopLength, opts.ref);
    assert.equal(db.length, c.db.length, `${c.name}: frame count`);
    // librosa works in float32: its dB values differ from our float64 ones by ~1e-5 dB.
    for (let f = 0; f < db.length; f++)
      assert.ok(Math.abs(db[f]! - c.db[f]!) < 1e-3, `${c.name} frame ${f}: ${db[f]} vs ${c.db[f]}`);
  }
});

test('trim defaults follow librosa (top_db 60, frame 2048, hop 512, ref max)', () => {
  const x = new Float32Array(20000);
  for (let i = 5000; i < 9000; i++) x[i] = Math.sin(i / 5);
  // A faint blip after the tone, about -69 dB in its frames: trimmed at top_db 60, kept at 90.
  for (let i = 15000; i < 15256; i++) x[i] = 1e-3 * Math.sin(i / 5);
  const r = trim(x);
  assert.deepEqual([r.start, r.end], [4096, 10240]);
  assert.deepEqual([trim(x, { topDb: 90 }).start, trim(x, { topDb: 90 }).end], [4096, 16384]);
});

test('preEmphasis, normalizePeak, normalizeRms', () => {
  const x = Float32Array.from([0.5, 1, -1, 0]);
  assert.deepEqual(
    Array.from(preEmphasis(x)),
    Array.from(Float32Array.from([0.5, 1 - 0.97 * 0.5, -1 - 0.97, 0.97])),
  );
  assert.deepEqual(Array.from(preEmphasis(x, 0.5)), [0.5, 0.75, -1.5, 0.5]);
  assert.equal(preEmphasis(new Float32Array(0)).length, 0);

  const p = normalizePeak(Float32Array.from([0.1, -0.25, 0.2]), 0.5);
  assert.deepEqual(Array.from(p), Array.from(Float32Array.from([0.2, -0.5, 0.4])));
  assert.deepEqual(normalizePeak(new Float32Array(3)), new Float32Array(3));

  const sine = Float32Array.from({ length: 8000 }, (_, i) => 0.3 * Math.sin(i / 3));
  const r = normalizeRms(sine, -20);
  const rms = Math.sqrt(r.reduce((s, v) => s + v * v, 0) / r.length);
  assert.ok(Math.abs(20 * Math.log10(rms) + 20) < 1e-4, `rms ${rms}`);
  assert.deepEqual(normalizeRms(new Float32Array(4)), new Float32Array(4));
  // Input untouched.
  assert.equal(sine[1], Math.fround(0.3 * Math.sin(1 / 3)));
});

test('toMono is the mean of the channels', () => {
  const a = Float32Array.from([1, 0.5, -1]);
  const b = Float32Array.from([0, 0.5, 0]);
  assert.deepEqual(Array.from(toMono({ sampleRate: 8000, channels: [a, b] })), [0.5, 0.5, -0.5]);
  const one = toMono({ sampleRate: 8000, channels: [a] });
  assert.deepEqual(one, a);
  assert.notEqual(one, a);
});

test('cropOrPad: start / center / random crops and pads, constant and wrap', () => {
  const x = Float32Array.from([1, 2, 3, 4, 5]);
  assert.deepEqual(Array.from(cropOrPad(x, 3)), [1, 2, 3]);
  assert.deepEqual(Array.from(cropOrPad(x, 3, { mode: 'center' })), [2, 3, 4]);
  assert.deepEqual(Array.from(cropOrPad(x, 8)), [1, 2, 3, 4, 5, 0, 0, 0]);
  assert.deepEqual(Array.from(cropOrPad(x, 8, { mode: 'center' })), [0, 1, 2, 3, 4, 5, 0, 0]);
  assert.deepEqual(
    Array.from(cropOrPad(x, 8, { mode: 'center', padMode: 'wrap' })),
    [5, 1, 2, 3, 4, 5, 1, 2],
  );
  assert.deepEqual(Array.from(cropOrPad(x, 12, { padMode: 'wrap' })), [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2]);
  assert.deepEqual(Array.from(cropOrPad(x, 5, { mode: 'random', rng: new Random(1) })), [1, 2, 3, 4, 5]);

  // Random crops: every offset occurs, uniformly, and the same seed repeats the same choices.
  const long = Float32Array.from({ length: 10 }, (_, i) => i);
  const counts = new Array(8).fill(0);
  const rng = new Random(7);
  for (let i = 0; i < 8000; i++) counts[cropOrPad(long, 3, { mode: 'random', rng })[0]!]++;
  for (const c of counts) assert.ok(c > 850 && c < 1150, `offset counts ${counts}`);
  const seq = (seed: number): number[] => {
    const g = new Random(seed);
    return Array.from({ length: 5 }, () => cropOrPad(x, 9, { mode: 'random', rng: g }).indexOf(1));
  };
  assert.deepEqual(seq(3), seq(3));
  assert.ok(new Set(seq(3).concat(seq(4))).size > 1);

  assert.throws(() => cropOrPad(x, 3, { mode: 'random' }), /needs opts.rng/);
  assert.throws(() => cropOrPad(x, -1), /length/);
  assert.throws(() => cropOrPad(new Float32Array(0), 3, { padMode: 'wrap' }), /empty clip/);
});
