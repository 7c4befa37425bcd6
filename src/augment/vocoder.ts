// Phase-vocoder time stretching (Flanagan & Golden 1966; Laroche & Dolson 1999 for the phase
// propagation), used by TimeStretch directly and by PitchShift (stretch by the pitch ratio, then read the
// result back at that ratio). Hann analysis/synthesis windows at 75 % overlap.
import { fft, nextPow2 } from './fft.js';

/** An FFT of about 32 ms, a power of two: 256 at 8 kHz, 512 at 16 kHz, 2048 at 44.1 kHz. */
export function autoFftSize(sampleRate: number): number {
  return Math.max(64, nextPow2(Math.round(sampleRate * 0.032)));
}

/**
 * Stretches x in time by 1/rate (rate > 1 is faster and shorter) keeping its pitch.
 * The result has round(x.length / rate) samples.
 */
export function timeStretch(x: Float32Array, rate: number, nFft: number): Float32Array {
  if (!(rate > 0)) throw new Error(`timeStretch: rate must be > 0, got ${rate}`);
  const outLen = Math.round(x.length / rate);
  if (x.length === 0 || outLen === 0) return new Float32Array(outLen);
  const hop = nFft / 4;
  const pad = nFft / 2;
  const n = x.length;
  const frames = 1 + Math.floor(n / hop);
  const bins = nFft / 2 + 1;
  const win = new Float64Array(nFft);
  for (let i = 0; i < nFft; i++) win[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / nFft);

  // Analysis: magnitudes and phases of every frame of the centre-padded signal.
  const mag = new Float64Array(frames * bins);
  const phase = new Float64Array(frames * bins);
  const re = new Float64Array(nFft);
  const im = new Float64Array(nFft);
  for (let f = 0; f < frames; f++) {
    const start = f * hop - pad;
    for (let i = 0; i < nFft; i++) {
      const j = start + i;
      re[i] = j >= 0 && j < n ? x[j]! * win[i]! : 0;
      im[i] = 0;
    }
    fft(re, im);
    for (let k = 0; k < bins; k++) {
      mag[f * bins + k] = Math.sqrt(re[k]! * re[k]! + im[k]! * im[k]!);
      phase[f * bins + k] = Math.atan2(im[k]!, re[k]!);
    }
  }

  // Synthesis frames at fractional analysis positions 0, rate, 2·rate, ...
  const outFrames = Math.ceil(frames / rate);
  const yLen = (outFrames - 1) * hop + nFft;
  const y = new Float64Array(yLen);
  const wsum = new Float64Array(yLen);
  const acc = new Float64Array(bins);
  for (let k = 0; k < bins; k++) acc[k] = phase[k]!;
  for (let j = 0; j < outFrames; j++) {
    const t = j * rate;
    const i0 = Math.floor(t);
    const a = t - i0;
    const has1 = i0 + 1 < frames;
    re.fill(0);
    im.fill(0);
    for (let k = 0; k < bins; k++) {
      const m0 = mag[i0 * bins + k]!;
      const m1 = has1 ? mag[(i0 + 1) * bins + k]! : 0;
      const m = (1 - a) * m0 + a * m1;
      re[k] = m * Math.cos(acc[k]!);
      im[k] = m * Math.sin(acc[k]!);
      // Advance the phase by the bin's measured frequency between the two analysis frames.
      const expected = (2 * Math.PI * k * hop) / nFft;
      if (has1) {
        let d = phase[(i0 + 1) * bins + k]! - phase[i0 * bins + k]! - expected;
        d -= 2 * Math.PI * Math.round(d / (2 * Math.PI));
        acc[k] = acc[k]! + expected + d;
      } else {
        acc[k] = acc[k]! + expected;
      }
    }
    im[0] = 0;
    im[nFft / 2] = 0;
    for (let k = 1; k < nFft / 2; k++) {
      re[nFft - k] = re[k]!;
      im[nFft - k] = -im[k]!;
    }
    fft(re, im, true);
    const off = j * hop;
    for (let i = 0; i < nFft; i++) {
      y[off + i] = y[off + i]! + re[i]! * win[i]!;
      wsum[off + i] = wsum[off + i]! + win[i]! * win[i]!;
    }
  }
  const out = new Float32Array(outLen);
  for (let i = 0; i < outLen; i++) {
    const j = i + pad;
    if (j < yLen && wsum[j]! > 1e-6) out[i] = y[j]! / wsum[j]!;
  }
  return out;
}
