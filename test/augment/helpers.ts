// Signals and measurements shared by the augmentation tests.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fft, nextPow2 } from '../../src/augment/fft.js';
import { Random } from '../../src/core/random.js';

export function sine(freq: number, sampleRate: number, seconds: number, amp = 0.5): Float32Array {
  const n = Math.round(sampleRate * seconds);
  return Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * freq * i) / sampleRate));
}

export function gaussian(n: number, seed: number, std = 0.3): Float32Array {
  const r = new Random(seed);
  return Float32Array.from({ length: n }, () => r.normal(0, std));
}

export function rms(x: ArrayLike<number>, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / (to - from));
}

export function db(ratio: number): number {
  return 20 * Math.log10(ratio);
}

export function assertFinite(x: ArrayLike<number>, what = 'output'): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!)) assert.fail(`${what}[${i}] is ${x[i]}`);
  }
}

/** The frequency of the strongest spectral peak (Hann window, parabolic interpolation). */
export function dominantFrequency(x: Float32Array, sampleRate: number): number {
  const n = nextPow2(x.length);
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = 0; i < x.length; i++) re[i] = x[i]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / x.length));
  fft(re, im);
  let best = 1;
  const mag = (k: number) => Math.hypot(re[k]!, im[k]!);
  for (let k = 1; k < n / 2; k++) if (mag(k) > mag(best)) best = k;
  const a = Math.log(mag(best - 1) + 1e-12);
  const b = Math.log(mag(best) + 1e-12);
  const c = Math.log(mag(best + 1) + 1e-12);
  const off = (0.5 * (a - c)) / (a - 2 * b + c);
  return ((best + off) * sampleRate) / n;
}

/** Asserts |a - b| <= tol with a message naming what was compared. */
export function near(a: number, b: number, tol: number, what: string): void {
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} is not within ${tol} of ${b}`);
}

/**
 * A real number in [lo, hi] for fast-check properties, spread over the interval: fc.double mostly
 * yields 0 and the two bounds, which let wrong scalings slip through.
 */
export function real(lo: number, hi: number) {
  return fc.integer({ min: 0, max: 1_000_000 }).map((k) => lo + ((hi - lo) * k) / 1_000_000);
}
