// Shared helpers for the feature tests: fixture loading and error measures.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NDArray } from '../../src/core/ndarray.js';
import { decodeNpy, decodeNpyFloat32 } from '../../src/features/npy.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/features/', import.meta.url));
export const SHARED = fileURLToPath(new URL('../../../shared/data/', import.meta.url));

export function loadNpy(name: string): NDArray {
  return decodeNpyFloat32(readFileSync(join(FIXTURES, name)), name);
}

/** An int16 .npy as float32 samples in [-1, 1): v / 32768, exact. */
export function loadPcm(name: string): Float32Array {
  const n = decodeNpy(readFileSync(join(FIXTURES, name)), name);
  if (n.dtype !== '<i2') throw new Error(`${name}: expected int16, got ${n.dtype}`);
  return Float32Array.from(n.data, (v) => v / 32768);
}

export function checkShape(a: NDArray, b: NDArray, what: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i]))
    throw new Error(`${what}: shape [${a.shape}] differs from the reference [${b.shape}]`);
}

/** max |a − b| / max |b|: the error relative to the largest reference value. */
export function relToMax(a: NDArray, b: NDArray, what = 'array'): number {
  checkShape(a, b, what);
  let err = 0;
  let peak = 0;
  for (let i = 0; i < b.data.length; i++) {
    err = Math.max(err, Math.abs(a.data[i]! - b.data[i]!));
    peak = Math.max(peak, Math.abs(b.data[i]!));
  }
  if (!(peak > 0)) throw new Error(`${what}: the reference is all zeros, a comparison would prove nothing`);
  return err / peak;
}

/** max over elements with |b| ≥ floor·max|b| of |a − b| / |b|: per-element relative error above a floor. */
export function relPerElement(a: NDArray, b: NDArray, floor = 1e-6, what = 'array'): number {
  checkShape(a, b, what);
  let peak = 0;
  for (const v of b.data) peak = Math.max(peak, Math.abs(v));
  if (!(peak > 0)) throw new Error(`${what}: the reference is all zeros, a comparison would prove nothing`);
  let worst = 0;
  for (let i = 0; i < b.data.length; i++) {
    const r = Math.abs(b.data[i]!);
    if (r >= floor * peak) worst = Math.max(worst, Math.abs(a.data[i]! - b.data[i]!) / r);
  }
  return worst;
}

/** max |a − b|. */
export function maxAbs(a: NDArray, b: NDArray, what = 'array'): number {
  checkShape(a, b, what);
  let err = 0;
  for (let i = 0; i < b.data.length; i++) err = Math.max(err, Math.abs(a.data[i]! - b.data[i]!));
  return err;
}

/** A deterministic test signal: chirp + tone + seeded noise. */
export function testSignal(n: number, sampleRate: number, seed = 1): Float32Array {
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
  const out = new Float32Array(n);
  const dur = n / sampleRate;
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    out[i] =
      0.4 * Math.sin(2 * Math.PI * (100 * t + (0.5 * (0.4 * sampleRate - 100) * t * t) / dur)) +
      0.2 * Math.sin(2 * Math.PI * 440 * t) +
      0.05 * rand();
  }
  return out;
}
