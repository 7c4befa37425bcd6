// Mixes rendered sources into clips as the plan says: each source scaled to its peak level and placed at
// its offset, then a background of white, pink or brown noise (with mains hum on some clips) at the
// planned signal-to-noise ratio. Everything is seeded, so a clip is the same on every run.
import { Random } from '../core/random.js';
import type { ClipSpec, Placement } from './plan.js';
import { SAMPLE_RATE } from './plan.js';

/** The largest |sample| (0 for silence). */
export function peak(x: Float32Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]!));
  return m;
}

function rms(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / Math.max(1, x.length));
}

/** `n` samples of background with RMS 1: coloured noise, plus mains hum (50/60 Hz and harmonics) if `hum`. */
export function background(noise: ClipSpec['noise'], n: number): Float32Array {
  const rng = new Random(noise.seed);
  const y = new Float32Array(n);
  // Pink: Kellet's three-pole approximation of a 1/f spectrum; brown: a leaky integrator (1/f²).
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  let br = 0;
  for (let i = 0; i < n; i++) {
    const w = rng.normal();
    if (noise.color === 'white') y[i] = w;
    else if (noise.color === 'pink') {
      b0 = 0.99765 * b0 + w * 0.099046;
      b1 = 0.963 * b1 + w * 0.2965164;
      b2 = 0.57 * b2 + w * 1.0526913;
      y[i] = b0 + b1 + b2 + w * 0.1848;
    } else {
      br = 0.995 * br + w * 0.1;
      y[i] = br;
    }
  }
  let g = 1 / (rms(y) || 1);
  for (let i = 0; i < n; i++) y[i]! *= g;
  if (noise.hum > 0) {
    const phase = Array.from({ length: 4 }, () => rng.uniform(0, 2 * Math.PI));
    const w0 = (2 * Math.PI * noise.hum) / SAMPLE_RATE;
    for (let i = 0; i < n; i++) {
      let h = 0;
      for (let k = 0; k < 4; k++) h += Math.sin(w0 * (k + 1) * i + phase[k]!) / (k + 1);
      y[i]! += 0.8 * h;
    }
    g = 1 / (rms(y) || 1);
    for (let i = 0; i < n; i++) y[i]! *= g;
  }
  return y;
}

/** Adds `source` scaled to peak `peakDb` dBFS at `offset` into `out` (cut at its end). */
export function place(
  out: Float32Array,
  source: Float32Array,
  p: Pick<Placement, 'offset' | 'peakDb'>,
): void {
  const m = peak(source);
  if (m === 0) return;
  const g = 10 ** (p.peakDb / 20) / m;
  const n = Math.min(source.length, out.length - p.offset);
  for (let i = 0; i < n; i++) out[p.offset + i]! += source[i]! * g;
}

/** Adds the background at the planned SNR (relative to the signal's RMS over the whole clip) and keeps
 * the peak below full scale. */
export function addBackground(signal: Float32Array, noise: ClipSpec['noise']): Float32Array {
  const bg = background(noise, signal.length);
  const level = (rms(signal) || 1e-3) / 10 ** (noise.snrDb / 20);
  const y = new Float32Array(signal.length);
  for (let i = 0; i < y.length; i++) y[i] = signal[i]! + bg[i]! * level;
  const m = peak(y);
  if (m > 0.98) for (let i = 0; i < y.length; i++) y[i]! *= 0.98 / m;
  return y;
}

/** One clip of `length` samples from the rendered sources. */
export function composeClip(clip: ClipSpec, sources: readonly Float32Array[], length: number): Float32Array {
  const signal = new Float32Array(length);
  for (const p of clip.placements) place(signal, sources[p.source]!, p);
  return addBackground(signal, clip.noise);
}
