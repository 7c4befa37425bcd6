import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { benchModel, median } from '../../src/models/bench.js';
import { runDemo } from '../../src/models/demo.js';
import { hasTorchPython, repoPath } from '../nn/helpers.js';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', repoPath('src/cli/main.ts'), ...args], {
    encoding: 'utf8',
    cwd: repoPath('.'),
  });
}
const tiny = [
  '--batch',
  '2',
  '--size',
  '16',
  '--steps',
  '1',
  '--warmup',
  '0',
  '--classes',
  '3',
  '--threads',
  '1',
];

describe('bench and demo plumbing', () => {
  test('median', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    assert.throws(() => median([]), /no values/);
  });

  test('benchModel reports the documented JSON fields and frees what it made', () => {
    const live = E.liveTensors();
    const threads = E.getNumThreads();
    for (const mode of ['train', 'infer'] as const) {
      const r = benchModel({ mode, batch: 2, size: 16, steps: 2, warmup: 1, threads: 1, classes: 5 });
      assert.equal(r.mode, mode);
      assert.equal(r.threads, 1);
      assert.ok(r.ms_per_step > 0 && Number.isFinite(r.ms_per_step));
      assert.ok(Math.abs(r.samples_per_s - (2 / r.ms_per_step) * 1000) < 0.01 * r.samples_per_s);
    }
    E.setNumThreads(threads);
    assert.equal(E.liveTensors(), live);
    assert.throws(() => benchModel({ mode: 'train', batch: 0 }), /batch must be a positive integer, got 0/);
  });

  test('the demo learns noise vs tone (loss falls, held-out accuracy high)', () => {
    const r = runDemo({ steps: 40, seed: 0 });
    const first = r.losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = r.losses.slice(-5).reduce((a, b) => a + b) / 5;
    assert.ok(last < first * 0.6, `loss ${first.toFixed(3)} → ${last.toFixed(3)}`);
    assert.ok(r.accuracy > 0.9, `accuracy ${r.accuracy}`);
  });

  test('audiotag bench train --json prints the documented fields; bad flags exit 2', () => {
    const r = cli('bench', 'train', ...tiny, '--json');
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout.trim());
    assert.deepEqual(Object.keys(j).slice(0, 3), ['samples_per_s', 'ms_per_step', 'threads']);
    assert.equal(j.threads, 1);
    const bad = cli('bench', 'infer', '--batch', 'x');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--batch must be an integer ≥ 1, got "x"/);
  });

  test('audiotag bench infer --peer torch runs both and reports the overhead', (t) => {
    if (!hasTorchPython()) {
      t.skip('/usr/bin/python3 has no torch');
      return;
    }
    const r = cli('bench', 'infer', ...tiny, '--json', '--peer', 'torch');
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => l.impl ?? 'summary'),
      ['audiotag', 'torch', 'summary'],
    );
    const [ours, torch, summary] = lines;
    assert.equal(torch.threads, 1);
    const expected = Math.round(((ours.ms_per_step - torch.ms_per_step) / torch.ms_per_step) * 1000) / 10;
    assert.ok(Math.abs(summary.overhead_pct - expected) <= 0.1, JSON.stringify(summary));
  });
});
