// Distributed prediction on BullMQ + Redis: a real redis-server on a free 127.0.0.1 port, 2 `audiotag
// worker` processes, one killed (SIGKILL) in the middle of a job; `predict --queue` must write the files a
// local run writes: events.csv byte for byte, windows.csv to 1e-5 (a local run batches windows across
// files, a worker scores one file at a time, so the last printed digit can differ).
import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeWav } from '../../src/audio/index.js';
import { loadAudio } from '../../src/audio/io.js';
import { concatFloat32 } from '../../src/core/ndarray.js';
import { redisConnection } from '../../src/distributed/bullmq-predict.js';
import {
  assertCsvClose,
  cli,
  exitOf,
  FSDD,
  killInFirstJob,
  spawnCli,
  startRedis,
  startWorker,
} from './helpers.js';

describe('predict --queue on BullMQ + Redis (2 workers, one killed mid-job)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'audiotag-queue-'));
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
    // Two long recordings (~95 s and ~70 s of real speech, 8 kHz as the model): FSDD clips end to end.
    mkdirSync(join(dir, 'long'));
    const clips = readdirSync(join(FSDD, 'audio'))
      .filter((f) => /_jackson_\d\.wav$/.test(f))
      .sort();
    for (const [name, seconds] of [
      ['a.wav', 95],
      ['b.wav', 70],
    ] as const) {
      const parts: Float32Array[] = [];
      let n = 0;
      for (let k = 0; n < seconds * 8000; k++) {
        const x = (await loadAudio(join(FSDD, 'audio', clips[k % clips.length]!))).channels[0]!;
        parts.push(x);
        n += x.length;
      }
      await writeWav(join(dir, 'long', name), { sampleRate: 8000, channels: [concatFloat32(parts)] });
    }
    url = await startRedis();
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  /** `audiotag predict` of the tiny run over dir/input into dir/out, no worker threads (add --queue for BullMQ). */
  const predict = (input: string, out: string) => [
    'predict',
    '--model',
    join(dir, 'run'),
    join(dir, input),
    '--out',
    join(dir, out),
    '--workers',
    '0',
  ];

  test("the outputs equal a local run; the killed worker's job is done by the other", async () => {
    const local = cli(predict('in', 'local'));
    assert.equal(local.status, 0, local.out);
    const w1 = startWorker(url);
    const w2 = startWorker(url);
    const pred = spawnCli([...predict('in', 'queued'), '--queue', url]);
    // Kill worker 1 in the middle of its first job (while the test delay holds it).
    const started = await killInFirstJob(w1, 30_000);
    const code = await exitOf(pred.p, 120_000);
    assert.equal(code, 0, pred.log());
    // Its job was retried by worker 2.
    assert.ok(w2.log().includes(`started ${started}\n`), `worker 2 did not retry ${started}:\n${w2.log()}`);
    assert.match(pred.log(), /24 file\(s\) tagged/);
    assert.equal(
      readFileSync(join(dir, 'queued', 'events.csv'), 'utf8'),
      readFileSync(join(dir, 'local', 'events.csv'), 'utf8'),
    );
    // A local run batches windows across files, a worker one file at a time: the last digit can differ.
    assertCsvClose(join(dir, 'local', 'windows.csv'), join(dir, 'queued', 'windows.csv'), 1e-5);
    w2.p.kill('SIGTERM');
    assert.equal(await exitOf(w2.p, 20_000), 0, w2.log());
  });

  test('long recordings go out as chunks (3 workers, one killed) and gather into the local outputs', async () => {
    const local = cli(predict('long', 'long-local'));
    assert.equal(local.status, 0, local.out);
    const ws = [startWorker(url), startWorker(url), startWorker(url)];
    // 20-s chunks: 5 of a.wav and 4 of b.wav (window 1 s, hop 0.5 s).
    const pred = spawnCli([...predict('long', 'long-queued'), '--queue', url, '--chunk-seconds', '20']);
    const started = await killInFirstJob(ws[0]!, 30_000);
    assert.match(started, /\(chunk \d+\)$/);
    assert.equal(await exitOf(pred.p, 120_000), 0, pred.log());
    const chunks = [ws[1]!, ws[2]!].reduce(
      (a, w) => a + (w.log().match(/started .*\(chunk \d+\)/g)?.length ?? 0),
      0,
    );
    assert.ok(chunks >= 9, `the other workers scored ${chunks} chunks (9 + the killed one's expected)`);
    assert.ok(
      ws.slice(1).some((w) => w.log().includes(`started ${started}\n`)),
      `no worker retried ${started}`,
    );
    assertCsvClose(join(dir, 'long-local', 'windows.csv'), join(dir, 'long-queued', 'windows.csv'), 1e-5);
    assert.equal(
      readFileSync(join(dir, 'long-queued', 'events.csv'), 'utf8'),
      readFileSync(join(dir, 'long-local', 'events.csv'), 'utf8'),
    );
    for (const w of ws.slice(1)) w.p.kill('SIGTERM');
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
    const c = cli(
      [
        'predict',
        '--model',
        join(dir, 'run'),
        join(dir, 'in'),
        '--out',
        join(dir, 'x'),
        '--chunk-seconds',
        '5',
      ],
      30_000,
    );
    assert.equal(c.status, 2, c.out);
    assert.match(c.out, /--chunk-seconds goes with --queue/);
  });
});
