// Data-parallel training on c10d Gloo (docs/distributed.md): `train --nproc 2` on 127.0.0.1 gives the
// same weights as one process with the same global batch (a model without BatchNorm or dropout, SGD),
// rank 0 writes the run, and the launcher's flags are checked.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { shardRange } from '../../src/distributed/env.js';
import { rankPlacement } from '../../src/distributed/index.js';
import { withoutFlags } from '../../src/distributed/launch.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'audiotag');
const FSDD = join(ROOT, '..', 'shared', 'data', 'fsdd');

function cli(args: string[], timeout = 240_000) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1' },
    timeout,
  });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe('data-parallel training (c10d Gloo, 2 processes on 127.0.0.1)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'audiotag-ddp-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  // 120 training and 40 validation clips of FSDD (recordings 4-7 of 4 speakers; 0-4 are the test split).
  const lines = readFileSync(join(FSDD, 'meta.csv'), 'utf8').trim().split('\n');
  const rows = lines.slice(1).filter((l) => /^\d_(george|jackson|nicolas|theo)_(4|5|6|7)\.wav/.test(l));
  writeFileSync(join(dir, 'meta.csv'), `${lines[0]}\n${rows.join('\n')}\n`);
  const config = `seed: 3
data:
  manifest: ${join(dir, 'meta.csv')}
  audioDir: ${join(FSDD, 'audio')}
  format: csv
  csv: { pathCol: fname, labelCol: label, groupCol: speaker }
folds: { strategy: split, column: split, trainValue: train, valValue: test }
features: { sampleRate: 8000, nFft: 256, hopLength: 128, nMels: 32, duration: 1, durationAlign: center, normalize: clip }
model:
  name: spec-transformer
  config: { patchSize: [8, 8], patchStride: [8, 8], dim: 32, depth: 2, heads: 2, dropout: 0 }
loader: { batchSize: 13 }
train:
  epochs: 2
  optimizer: { name: sgd, lr: 0.05, momentum: 0.9 }
  schedule: { name: constant }
  metrics: [accuracy]
  threads: 1
  monitor: last
`;
  writeFileSync(join(dir, 'ddp.yaml'), config);

  test('shards cover every row once, the larger first', () => {
    assert.deepEqual(
      [0, 1, 2].map((r) => shardRange(13, r, 3)),
      [
        [0, 5],
        [5, 9],
        [9, 13],
      ],
    );
    assert.deepEqual(shardRange(1, 1, 2), [1, 1]);
    assert.deepEqual(
      withoutFlags(['train', '--nproc', '2', '--master=a:1', '--out', 'x'], ['--nproc', '--master']),
      ['train', '--out', 'x'],
    );
  });

  test('each rank gets its GPU and backend from train.device', () => {
    const layout = { rank: 3, worldSize: 4, localRank: 1, masterAddr: '127.0.0.1', masterPort: 1 };
    assert.deepEqual(rankPlacement('cpu', layout, ['gloo'], {}), { device: 'cpu', backend: 'gloo' });
    assert.deepEqual(rankPlacement('cuda', layout, ['gloo', 'nccl'], {}), {
      device: 'cuda:1',
      backend: 'nccl',
      cudaDevice: 1,
    });
    assert.deepEqual(rankPlacement('cuda:0', layout, ['gloo'], {}), {
      device: 'cuda:0',
      backend: 'gloo',
      cudaDevice: 0,
    });
    assert.equal(
      rankPlacement('cuda', layout, ['gloo', 'nccl'], { AUDIOTAG_DIST_BACKEND: 'gloo' }).backend,
      'gloo',
    );
    assert.throws(
      () => rankPlacement('cpu', layout, ['nccl'], { AUDIOTAG_DIST_BACKEND: 'nccl' }),
      /NCCL backend needs/,
    );
    assert.throws(
      () => rankPlacement('cpu', layout, ['gloo'], { AUDIOTAG_DIST_BACKEND: 'mpi' }),
      /AUDIOTAG_DIST_BACKEND/,
    );
  });

  test('--nproc 2 trains the same weights as one process with the same global batch (1e-5)', async () => {
    const one = cli(['train', '--config', join(dir, 'ddp.yaml'), '--out', join(dir, 'one'), '--quiet']);
    assert.equal(one.status, 0, one.out);
    const two = cli([
      'train',
      '--config',
      join(dir, 'ddp.yaml'),
      '--out',
      join(dir, 'two'),
      '--quiet',
      '--nproc',
      '2',
    ]);
    assert.equal(two.status, 0, two.out);
    // Rank 0 writes the run; rank 1 keeps its own state for resume in rank1/.
    assert.ok(existsSync(join(dir, 'two', 'metrics.json')));
    assert.ok(existsSync(join(dir, 'two', 'rank1', 'fold0', 'last', 'trainer.json')));
    const { loadSafetensors } = await import('../../src/nn/safetensors.js');
    const a = loadSafetensors(join(dir, 'one', 'fold0', 'last', 'model.safetensors')).tensors;
    const b = loadSafetensors(join(dir, 'two', 'fold0', 'last', 'model.safetensors')).tensors;
    const c = loadSafetensors(join(dir, 'two', 'rank1', 'fold0', 'last', 'model.safetensors')).tensors;
    assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
    let worst = 0;
    let moved = 0;
    for (const k of Object.keys(a)) {
      const x = a[k]!.toFloat32Array();
      const y = b[k]!.toFloat32Array();
      const z = c[k]!.toFloat32Array();
      for (let i = 0; i < x.length; i++) {
        worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
        assert.equal(y[i], z[i], `${k}: the ranks' weights differ`);
      }
      moved++;
    }
    assert.ok(moved > 5);
    assert.ok(worst < 1e-5, `largest weight difference ${worst}`);
    const la = readFileSync(join(dir, 'one', 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const lb = readFileSync(join(dir, 'two', 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lb.length, 2);
    for (let i = 0; i < 2; i++)
      assert.ok(Math.abs(la[i].train_loss - lb[i].train_loss) < 1e-5, JSON.stringify([la[i], lb[i]]));
  });

  test('bad launcher flags are usage errors naming the flag', () => {
    const r = cli(
      ['train', '--config', join(dir, 'ddp.yaml'), '--out', join(dir, 'bad'), '--nproc', '0'],
      60_000,
    );
    assert.equal(r.status, 2, r.out);
    assert.match(r.out, /--nproc must be an integer/);
    const m = cli(
      ['train', '--config', join(dir, 'ddp.yaml'), '--out', join(dir, 'bad'), '--nnodes', '2'],
      60_000,
    );
    assert.equal(m.status, 2, m.out);
    assert.match(m.out, /--nnodes above 1 needs --master/);
  });
});
