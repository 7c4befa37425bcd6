// `features --out-dir --queue` and `dataset prepare --queue` on BullMQ + Redis: a real redis-server, 3
// `audiotag worker` processes, one SIGKILLed inside its first job; the folder (every .npy, index.csv,
// config.json) and the feature cache must equal a local run's byte for byte.
import assert from 'node:assert/strict';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cli, exitOf, FSDD, killInFirstJob, spawnCli, startRedis, startWorker } from './helpers.js';

/** Every file below dir (relative path → bytes). */
function tree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

function assertSameTree(a: string, b: string, skip: (f: string) => boolean = () => false): number {
  const x = tree(a);
  const y = tree(b);
  const names = (m: Map<string, Buffer>) => [...m.keys()].filter((f) => !skip(f));
  assert.deepEqual(names(y), names(x));
  for (const f of names(x)) assert.ok(x.get(f)!.equals(y.get(f)!), `${f} differs between ${a} and ${b}`);
  return names(x).length;
}

describe('features and dataset prepare on BullMQ workers (3 workers, one killed mid-job)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'audiotag-fqueue-'));
  let url = '';

  before(async () => {
    // 30 real clips in two sub-folders, and one file that is not audio.
    const clips = readdirSync(join(FSDD, 'audio'))
      .filter((f) => /^[0-9]_(yweweler|nicolas)_4\d\.wav$/.test(f))
      .sort()
      .slice(0, 30);
    assert.equal(clips.length, 30);
    for (const [i, f] of clips.entries()) {
      const sub = join(dir, 'in', i % 2 ? 'odd' : 'even');
      mkdirSync(sub, { recursive: true });
      copyFileSync(join(FSDD, 'audio', f), join(sub, f));
    }
    writeFileSync(join(dir, 'in', 'broken.wav'), 'not a wav file');
    writeFileSync(join(dir, 'meta.csv'), `fname,label\n${clips.map((f) => `${f},${f[0]}`).join('\n')}\n`);
    writeFileSync(
      join(dir, 'train.yaml'),
      `data: { manifest: ${join(dir, 'meta.csv')}, audioDir: ${join(FSDD, 'audio')}, format: csv, csv: { pathCol: fname, labelCol: label } }
features: { sampleRate: 8000, nFft: 256, hopLength: 128, nMels: 32, duration: 1, normalize: clip }
model: { name: small-cnn }
train: { epochs: 1 }
`,
    );
    url = await startRedis();
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  test('features --out-dir --queue writes the local folder, byte for byte', async () => {
    const feats = ['--sr', '8000', '--n-fft', '256', '--hop-length', '64', '--n-mels', '40'];
    const local = cli(['features', join(dir, 'in'), '--out-dir', join(dir, 'f-local'), ...feats], 120_000);
    assert.equal(local.status, 1, local.out); // the broken file
    const ws = [startWorker(url), startWorker(url), startWorker(url)];
    const run = spawnCli([
      'features',
      join(dir, 'in'),
      '--out-dir',
      join(dir, 'f-queued'),
      ...feats,
      '--queue',
      url,
    ]);
    const started = await killInFirstJob(ws[0]!, 30_000);
    assert.equal(await exitOf(run.p, 90_000), 1, run.log());
    assert.match(run.log(), /31 clip\(s\), 30 computed, 0 already there, 1 failed/);
    assert.ok(
      ws.slice(1).some((w) => w.log().includes(`started ${started}\n`)),
      `no other worker retried ${started}`,
    );
    // index.csv (with the broken file's reason), config.json and the 30 .npy files.
    assert.equal(assertSameTree(join(dir, 'f-local'), join(dir, 'f-queued')), 32);
    for (const w of ws.slice(1)) w.p.kill('SIGTERM');
  });

  test('dataset prepare --queue fills the same cache as a local run', async () => {
    const prepare = (cache: string) => [
      'dataset',
      'prepare',
      '--config',
      join(dir, 'train.yaml'),
      '--cache-dir',
      join(dir, cache),
    ];
    const ws = [startWorker(url, [], 150), startWorker(url, [], 150)];
    const local = cli(prepare('c-local'), 120_000);
    assert.equal(local.status, 0, local.out);
    const run = spawnCli([...prepare('c-queued'), '--queue', url]);
    await killInFirstJob(ws[0]!, 30_000);
    assert.equal(await exitOf(run.p, 90_000), 0, run.log());
    assert.match(run.log(), /30 clips, 30 computed, 0 already cached, 0 skipped/);
    // Every cache entry and the config, byte for byte; the path → hash memo holds the same entries.
    const n = assertSameTree(join(dir, 'c-local'), join(dir, 'c-queued'), (f) => f.endsWith('hashes.json'));
    assert.equal(n, 31);
    const memo = (d: string) => {
      const sub = readdirSync(d)[0]!;
      return JSON.parse(readFileSync(join(d, sub, 'hashes.json'), 'utf8')) as Record<string, unknown>;
    };
    const a = memo(join(dir, 'c-local'));
    const b = memo(join(dir, 'c-queued'));
    assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
    // A rerun finds everything cached.
    const again = cli([...prepare('c-queued'), '--queue', url], 60_000);
    assert.match(again.out, /30 clips, 0 computed, 30 already cached/);
    ws[1]!.p.kill('SIGTERM');
    const bad = cli(['features', join(dir, 'in'), '--out', join(dir, 'x.npy'), '--queue', url], 30_000);
    assert.equal(bad.status, 2, bad.out);
  });
});
