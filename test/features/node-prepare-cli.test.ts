// `audiotag dataset prepare --config` builds exactly the cache `audiotag train`'s loader reads, and
// `audiotag features <folder> --out-dir` from the command line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLoader } from '../../src/data/loader.js';
import { loadTrainConfig } from '../../src/train/config.js';
import { prepareData } from '../../src/train/data.js';
import { SHARED } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const tmp = mkdtempSync(join(tmpdir(), 'audiotag-prepare-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[]) {
  const r = spawnSync(join(ROOT, 'bin', 'audiotag'), args, { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('dataset prepare fills the cache the training loader reads; a rerun computes nothing', async () => {
  // configs/esc10.yaml restricted to two classes (80 clips), with the manifest path made absolute.
  const yaml = readFileSync(join(ROOT, 'configs', 'esc10.yaml'), 'utf8').replace(
    'manifest: ../../shared/data/esc10/meta.csv',
    `manifest: ${join(SHARED, 'esc10', 'meta.csv')}\n  filter: { label: [dog, rooster] }`,
  );
  const cfg = join(tmp, 'esc10-two.yaml');
  writeFileSync(cfg, yaml);
  const cacheDir = join(tmp, 'cache');
  const first = cli([
    'dataset',
    'prepare',
    '--config',
    cfg,
    '--cache-dir',
    cacheDir,
    '--threads',
    '2',
    '--json',
  ]);
  assert.equal(first.code, 0, first.err);
  const s = JSON.parse(first.out) as { clips: number; computed: number; cached: number; failed: number };
  assert.deepEqual([s.clips, s.computed, s.cached, s.failed], [80, 80, 0, 0]);
  const config = loadTrainConfig({ file: cfg });
  const data = await prepareData(config);
  const loader = await createLoader(data.dataset, {
    features: config.features,
    cacheDir,
    batchSize: 8,
    training: false,
    workers: 0,
  } as never);
  try {
    const stats = (loader as unknown as { stats: { cached: number; computed: number } }).stats;
    assert.deepEqual([stats.cached, stats.computed], [80, 0]);
  } finally {
    await loader.close();
  }
  const again = cli(['dataset', 'prepare', '--config', cfg, '--cache-dir', cacheDir, '--json']);
  assert.equal(JSON.parse(again.out).cached, 80);
  const bad = cli(['dataset', 'prepare', '--config', join(tmp, 'missing.yaml')]);
  assert.equal(bad.code, 2, bad.err);
  assert.match(bad.err, /missing\.yaml/);
});

test('features <folder> --out-dir from the command line: npy files, index.csv, exit 1 with a bad clip', () => {
  const input = join(tmp, 'clips');
  mkdirSync(input);
  copyFileSync(
    join(SHARED, 'philharmonia', 'audio', 'banjo_E5_very-long_forte_normal.mp3'),
    join(input, 'banjo.mp3'),
  );
  writeFileSync(join(input, 'broken.flac'), 'fLaC but nothing after');
  const out = join(tmp, 'feats');
  const r = cli(['features', input, '--out-dir', out, '--preset', 'speech', '--threads', '2']);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /skipping .*broken\.flac: /);
  assert.match(r.out, /2 clip\(s\), 1 computed, 0 already there, 1 failed/);
  const index = readFileSync(join(out, 'index.csv'), 'utf8');
  assert.match(index, /banjo\.mp3,banjo\.npy,64x101,/);
  const usage = cli(['features', join(tmp, 'nowhere'), '--out-dir', out]);
  assert.equal(usage.code, 2);
  assert.match(usage.err, /nowhere: no such file or folder/);
});
