// STFT framing, mel scale and filterbanks, dB conversions: properties and hand-checked values.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  amplitudeToDb,
  applyFilterbank,
  dbToPower,
  fftFrequencies,
  frameCount,
  hzToMel,
  melFilterbank,
  melFrequencies,
  melSpectrogram,
  melToHz,
  padSignal,
  powerToDb,
  spectrogram,
  stft,
} from '../../src/features/index.js';
import { getWindow } from '../../src/features/window.js';
import { maxAbs, relToMax, testSignal } from './helpers.js';

describe('stft', () => {
  test('frame count follows librosa: 1 + ⌊(len + 2⌊n_fft/2⌋ − n_fft)/hop⌋ when centred', () => {
    assert.equal(frameCount(220500, { nFft: 2560, hopLength: 347 }), 636);
    assert.equal(frameCount(16000, { nFft: 512, hopLength: 160 }), 101);
    assert.equal(frameCount(1000, { nFft: 1001, hopLength: 200 }), 5); // odd n_fft: pads 500 each side
    assert.equal(frameCount(1000, { nFft: 400, hopLength: 100, center: false }), 7);
    assert.equal(frameCount(300, { nFft: 400, center: false }), 0);
  });

  test('each frame is the DFT of the windowed, centre-padded signal', () => {
    const y = testSignal(900, 8000);
    const nFft = 200;
    const hop = 70;
    const { real, imag } = stft(y, {
      nFft,
      hopLength: hop,
      winLength: 150,
      window: 'hamming',
      padMode: 'reflect',
    });
    const padded = padSignal(y, 100, 100, 'reflect');
    const w = new Float64Array(nFft);
    w.set(getWindow('hamming', 150), 25); // win_length < n_fft: centred in the frame
    const frames = real.shape[1]!;
    for (const t of [0, 3, frames - 1]) {
      for (const k of [0, 1, 17, 100]) {
        let sr = 0;
        let si = 0;
        for (let n = 0; n < nFft; n++) {
          const a = (-2 * Math.PI * k * n) / nFft;
          sr += padded[t * hop + n]! * w[n]! * Math.cos(a);
          si += padded[t * hop + n]! * w[n]! * Math.sin(a);
        }
        assert.ok(Math.abs(real.data[k * frames + t]! - sr) < 1e-4, `re[${k},${t}]`);
        assert.ok(Math.abs(imag.data[k * frames + t]! - si) < 1e-4, `im[${k},${t}]`);
      }
    }
  });

  test('power 1 is the square root of power 2, and |X|² = re² + im²', () => {
    const y = testSignal(4000, 16000);
    const o = { nFft: 512, hopLength: 128 };
    const p2 = spectrogram(y, o);
    const p1 = spectrogram(y, { ...o, power: 1 });
    const { real, imag } = stft(y, o);
    for (let i = 0; i < p2.data.length; i += 97) {
      assert.ok(Math.abs(p1.data[i]! ** 2 - p2.data[i]!) <= 1e-5 * (1 + p2.data[i]!));
      const pw = real.data[i]! ** 2 + imag.data[i]! ** 2;
      assert.ok(Math.abs(pw - p2.data[i]!) <= 1e-5 * (1 + pw));
    }
  });

  test('a sine peaks in its own bin', () => {
    const sr = 8000;
    const y = Float32Array.from({ length: 8000 }, (_, i) => Math.sin((2 * Math.PI * 1000 * i) / sr));
    const s = spectrogram(y, { nFft: 256, hopLength: 64 });
    const frames = s.shape[1]!;
    const t = 50;
    let best = 0;
    for (let k = 1; k < s.shape[0]!; k++) if (s.data[k * frames + t]! > s.data[best * frames + t]!) best = k;
    assert.equal(best, 32); // 1000 Hz · 256 / 8000
  });

  test('bad input names the problem', () => {
    assert.throws(() => stft(new Float32Array(0), { nFft: 16 }), /empty/);
    assert.throws(
      () => stft(new Float32Array(10), { nFft: 16, center: false }),
      /too large for a signal of 10/,
    );
    assert.throws(() => stft(new Float32Array(100), { nFft: 16, winLength: 32 }), /winLength/);
    assert.throws(() => stft(new Float32Array(100), { nFft: 16, padMode: 'mean' as never }), /padMode/);
  });
});

describe('mel scale and filterbank', () => {
  test('known points of both scales, and round trips', () => {
    assert.ok(Math.abs(hzToMel(1000) - 15) < 1e-12); // Slaney: 1 kHz is 15 mels
    assert.ok(Math.abs(hzToMel(200) - 3) < 1e-12);
    assert.ok(Math.abs(hzToMel(6400) - 42) < 1e-9); // 15 + 27 at 6.4 kHz
    assert.ok(Math.abs(hzToMel(1000, 'htk') - 999.9855371) < 1e-6);
    for (const f of [0, 20, 440, 999.9, 1000, 4000, 22050])
      for (const s of ['slaney', 'htk'] as const)
        assert.ok(Math.abs(melToHz(hzToMel(f, s), s) - f) < 1e-8 * (1 + f));
    const mf = melFrequencies(5, 0, 8000);
    assert.equal(mf[0], 0);
    assert.ok(Math.abs(mf[4]! - 8000) < 1e-9);
    assert.deepEqual(Array.from(fftFrequencies(8, 8)), [0, 1, 2, 3, 4]);
    assert.deepEqual(Array.from(fftFrequencies(8, 7)), [0, 8 / 7, 16 / 7, 24 / 7]); // rfftfreq, not linspace
  });

  test('Slaney-normalised triangles have unit area in Hz; unnormalised ones peak at ≤ 1', () => {
    const sr = 16000;
    const nFft = 4096;
    const fb = melFilterbank({ sampleRate: sr, nFft, nMels: 40, fmin: 100, fmax: 7000 });
    const bins = fb.shape[1]!;
    const df = sr / nFft;
    for (const m of [5, 20, 39]) {
      let area = 0;
      for (let k = 0; k < bins; k++) area += fb.data[m * bins + k]! * df;
      assert.ok(Math.abs(area - 1) < 0.02, `filter ${m} area ${area}`);
    }
    const raw = melFilterbank({
      sampleRate: sr,
      nFft,
      nMels: 40,
      fmin: 100,
      fmax: 7000,
      melNorm: null,
      melScale: 'htk',
    });
    assert.ok(Math.max(...raw.data) <= 1 && Math.max(...raw.data) > 0.95);
    assert.throws(() => melFilterbank({ sampleRate: sr, nFft, fmin: 5000, fmax: 4000 }), /fmin < fmax/);
  });

  test('melSpectrogram equals the filterbank applied to the power spectrogram', () => {
    const y = testSignal(8000, 16000, 4);
    const o = { sampleRate: 16000, nFft: 400, hopLength: 160, nMels: 26 };
    const direct = melSpectrogram(y, o);
    const viaDense = applyFilterbank(melFilterbank(o), spectrogram(y, o));
    assert.ok(relToMax(direct, viaDense) < 1e-6);
    const mag = melSpectrogram(y, { ...o, power: 1 });
    const magDense = applyFilterbank(melFilterbank(o), spectrogram(y, { ...o, power: 1 }));
    assert.ok(relToMax(mag, magDense) < 1e-6);
  });
});

describe('dB conversions', () => {
  const S = { data: Float32Array.from([1, 10, 100, 1e-3, 0, 1e-12]), shape: [2, 3] };
  test('power_to_db: ref 1, amin 1e-10, top_db 80 by default', () => {
    const d = powerToDb(S);
    assert.deepEqual(
      Array.from(d.data).map((v) => Math.round(v * 1000) / 1000),
      [0, 10, 20, -30, -60, -60],
    );
    const noClamp = powerToDb(S, { topDb: null });
    assert.ok(Math.abs(noClamp.data[4]! + 100) < 1e-4); // amin floor: 10·log10(1e-10)
    const rel = powerToDb(S, { ref: 'max', topDb: null });
    assert.ok(Math.abs(rel.data[2]!) < 1e-6 && Math.abs(rel.data[0]! + 20) < 1e-5);
    assert.ok(Math.abs(powerToDb(S, { ref: 10 }).data[1]!) < 1e-6);
  });

  test('amplitude_to_db is power_to_db of the squares with ref² and amin²; db_to_power inverts', () => {
    const A = { data: Float32Array.from([1, 0.5, 2, 1e-7]), shape: [4] };
    const a = amplitudeToDb(A, { topDb: null });
    assert.ok(Math.abs(a.data[1]! - 20 * Math.log10(0.5)) < 1e-5);
    assert.ok(Math.abs(a.data[3]! + 100) < 1e-4); // amin 1e-5 → −100 dB
    const p = dbToPower(powerToDb({ data: Float32Array.from([0.25, 3, 7e-4]), shape: [3] }, { topDb: null }));
    assert.ok(maxAbs(p, { data: Float32Array.from([0.25, 3, 7e-4]), shape: [3] }) < 1e-6);
  });
});
