// Distributed prediction on BullMQ + Redis: a real redis-server on a free 127.0.0.1 port, 2 `audiotag
// worker` processes, one killed (SIGKILL) in the middle of a job; `predict --queue` must write the files a
// local run writes: events.csv byte for byte, windows.csv to 1e-5 (a local run batches windows across
// files, a worker scores one file at a time, so the last printed digit can differ).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { redisConnection } from '../../src/distributed/bullmq-predict.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'audiotag');
const FSDD = join(ROOT, '..', 'shared', 'data', 'fsdd');
const ENV = { ...process.env, OMP_NUM_THREADS: '1' };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

function cli(args: string[], timeout = 180_000) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: ENV, timeout });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('predict --queue on BullMQ + Redis (2 workers, one killed mid-job)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'audiotag-queue-'));
  const procs: ChildProcess[] = [];
  let url = '';

  before(async () => {
    // A tiny trained run to predict with.
    const lines = readFileSync(join(FSDD, 'meta.csv'), 'utf8').trim().split('\n');
    const rows = lines.slice(1).filter((l) => /^\d_(george|jackson)_(3|4|5|6)\.wav/.test(l));
    writeFileSync(join(dir, 'meta.csv'), `${lines[0]}\n${rows.join('\n')}\n`);
    writeFileSync(
      join(dir, 'run.yaml'),
      `seed: 1
data: { manifest: ${join(dir, 'meta.csv')}, audioDir: ${join(FSDD, 'audio')}, format: csv, csv: { pathCol: fname, labelCol: label } }
folds: { strategy: split, column: split, trainValue: train, valValue: test }
features: { sampleRate: 8000, nFft: 256, hopLength: 128, nMels: 32, duration: 1, durationAlign: center, normalize: clip }
model: { name: spec-transformer, config: { patchSize: [8, 8], patchStride: [8, 8], dim: 32, depth: 1, heads: 2 } }
loader: { batchSize: 16 }
train: { epochs: 1, metrics: [accuracy], threads: 1, monitor: last }
`,
    );
    const t = cli(['train', '--config', join(dir, 'run.yaml'), '--out', join(dir, 'run'), '--quiet']);
    assert.equal(t.status, 0, t.out);
    // 24 inputs.
    mkdirSync(join(dir, 'in'));
    const files = readdirSync(join(FSDD, 'audio'))
      .filter((f) => /^[0-9]_theo_1\d\.wav$/.test(f))
      .slice(0, 24);
    for (const f of files) symlinkSync(join(FSDD, 'audio', f), join(dir, 'in', f));
    const port = await freePort();
    url = `redis://127.0.0.1:${port}`;
    const redis = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory',
        '64mb',
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: 'ignore' },
    );
    procs.push(redis);
    for (let i = 0; i < 50; i++) {
      if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG')
        break;
      await sleep(100);
    }
  });

  after(() => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test("the outputs equal a local run; the killed worker's job is done by the other", async () => {
    const local = cli([
      'predict',
      '--model',
      join(dir, 'run'),
      join(dir, 'in'),
      '--out',
      join(dir, 'local'),
      '--workers',
      '0',
    ]);
    assert.equal(local.status, 0, local.out);
    const worker = (name: string) => {
      const p = spawn(process.execPath, [BIN, 'worker', '--queue', url, '--lock-ms', '1500'], {
        env: { ...ENV, AUDIOTAG_TEST_JOB_DELAY_MS: '250' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let log = '';
      p.stderr!.on('data', (b) => {
        log += String(b);
      });
      procs.push(p);
      return { p, log: () => log, name };
    };
    const w1 = worker('w1');
    const w2 = worker('w2');
    const pred = spawn(
      process.execPath,
      [
        BIN,
        'predict',
        '--model',
        join(dir, 'run'),
        join(dir, 'in'),
        '--out',
        join(dir, 'queued'),
        '--workers',
        '0',
        '--queue',
        url,
      ],
      { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    procs.push(pred);
    let out = '';
    pred.stdout!.on('data', (b) => {
      out += String(b);
    });
    pred.stderr!.on('data', (b) => {
      out += String(b);
    });
    // Kill worker 1 in the middle of its first job (while the test delay holds it).
    for (let i = 0; i < 600 && !/started /.test(w1.log()); i++) await sleep(50);
    const started = /started (\S+)/.exec(w1.log())?.[1];
    assert.ok(started, `worker 1 took no job: ${w1.log()}`);
    w1.p.kill('SIGKILL');
    const code = await Promise.race([
      new Promise<number | null>((r) => pred.once('exit', (c) => r(c))),
      sleep(120_000).then(() => 'timed out'),
    ]);
    assert.equal(code, 0, out);
    // Its job was retried by worker 2.
    assert.ok(w2.log().includes(`started ${started}\n`), `worker 2 did not retry ${started}:\n${w2.log()}`);
    assert.match(out, /24 file\(s\) tagged/);
    assert.equal(
      readFileSync(join(dir, 'queued', 'events.csv'), 'utf8'),
      readFileSync(join(dir, 'local', 'events.csv'), 'utf8'),
    );
    const a = readFileSync(join(dir, 'local', 'windows.csv'), 'utf8')
      .trim()
      .split('\n');
    const b = readFileSync(join(dir, 'queued', 'windows.csv'), 'utf8')
      .trim()
      .split('\n');
    assert.equal(b.length, a.length);
    assert.equal(b[0], a[0]);
    for (let i = 1; i < a.length; i++) {
      const x = a[i]!.split(',');
      const y = b[i]!.split(',');
      assert.equal(y[0], x[0]);
      for (let j = 1; j < x.length; j++)
        assert.ok(Math.abs(Number(x[j]) - Number(y[j])) <= 1e-5, `${a[i]}\n${b[i]}`);
    }
    w2.p.kill('SIGTERM');
  });

  test('--queue must be a redis:// URL', () => {
    assert.throws(() => redisConnection('--queue', 'http://x:1'), /--queue must be redis:\/\/HOST:PORT/);
    assert.deepEqual(redisConnection('--queue', 'redis://10.0.0.2:6380/2'), {
      host: '10.0.0.2',
      port: 6380,
      db: 2,
      maxRetriesPerRequest: null,
    });
    const r = cli(['worker', '--queue', 'nope'], 30_000);
    assert.equal(r.status, 2, r.out);
  });
});
