// Shared by test/nn and test/models: fixture paths and tensor comparisons.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Tensor } from '../../src/engine/index.js';
import { loadSafetensors } from '../../src/nn/safetensors.js';

export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../fixtures/nn/${name}`, import.meta.url));
}

export function repoPath(rel: string): string {
  return fileURLToPath(new URL(`../../${rel}`, import.meta.url));
}

/** Loads a fixture file's tensors (the caller disposes them). */
export function loadFixture(name: string): Record<string, Tensor> {
  return loadSafetensors(fixturePath(name)).tensors;
}

/** Asserts same shape and |a − b| ≤ atol + rtol·|b| everywhere, naming the worst element. */
export function assertClose(
  actual: Tensor,
  expected: Tensor,
  atol = 1e-5,
  rtol = 1e-5,
  what = 'tensor',
): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.toFloat64Array();
  const b = expected.toFloat64Array();
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const excess = Math.abs(a[i]! - b[i]!) - (atol + rtol * Math.abs(b[i]!));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0)
    assert.fail(
      `${what}: element ${worst} is ${a[worst]}, expected ${b[worst]} (atol ${atol}, rtol ${rtol})`,
    );
}

/** Whether Debian's python3 with torch is there (the interop tests skip without it). */
export function hasTorchPython(): boolean {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  return r.status === 0;
}
