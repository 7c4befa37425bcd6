// `audiotag serve --queue redis://…`: jobs posted over HTTP live in Redis (BullMQ). The server is killed
// with kill -9 while a job runs and others wait; a restarted server and an `audiotag worker --model` process
// then finish every job exactly once: attempts 2 for the one interrupted, 1 for the rest, and every result
// whole. The lease (10 s) is longer than the event loop is ever blocked while a long file is tagged on a
// loaded machine; with 1–3 s two processes took one job from each other again and again.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { tempDir, tinyRun } from '../infer/helpers.js';
import { killRestartAllDoneOnce, type Server, writeLongSpeech } from '../serve/helpers.js';
import { exitOf, sleep, spawnCli, startRedis } from './helpers.js';

const dir = tempDir('audiotag-serve-queue-');
let run = '';
let url = '';
const long = join(dir, 'long.wav');

before(async () => {
  run = await tinyRun(dir, 'run', 5);
  // 180 s of real speech: long enough for a job to be seen running.
  await writeLongSpeech(long, 180);
  url = await startRedis();
});

/** Starts the server on a free port with its jobs in Redis; resolves with its URL once it listens. */
async function serve(): Promise<Server> {
  const s = spawnCli([
    'serve',
    '--model',
    run,
    '--port',
    '0',
    '--queue',
    url,
    '--jobs-dir',
    join(dir, 'uploads'),
    '--job-lease',
    '10',
  ]);
  for (let i = 0; i < 600; i++) {
    const m = /listening on (http:\/\/\S+)/.exec(s.log());
    if (m) return { url: m[1]!, child: s.p };
    if (s.p.exitCode !== null) break;
    await sleep(100);
  }
  throw new Error(`serve did not start: ${s.log()}`);
}

test('serve --queue: kill -9 with jobs queued and running, restart + a worker: every job done once', async () => {
  let worker: ReturnType<typeof spawnCli> | undefined;
  const second = await killRestartAllDoneOnce({
    first: await serve(),
    // The restarted server and a worker on another "machine" share the remaining jobs.
    restart: () => {
      worker = spawnCli(['worker', '--queue', url, '--model', run, '--job-lease', '10']);
      return serve();
    },
    long,
    seconds: 180,
    minWindows: 300,
    waitS: 120,
  });
  second.child.kill('SIGTERM');
  worker!.p.kill('SIGTERM');
  assert.equal(await exitOf(second.child, 20_000), 0);
  assert.equal(await exitOf(worker!.p, 20_000), 0, worker!.log());
});
