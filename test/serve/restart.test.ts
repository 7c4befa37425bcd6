// `audiotag serve --jobs-db`: jobs posted over HTTP survive a kill -9 of the server with jobs queued and
// one running; after a restart on the same database every job finishes exactly once with its result.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT, tempDir, tinyRun } from '../infer/helpers.js';
import { killRestartAllDoneOnce, type Server, writeLongSpeech } from './helpers.js';

const dir = tempDir('audiotag-serve-restart-');
let run = '';
const long = join(dir, 'long.wav');
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

before(async () => {
  run = await tinyRun(dir, 'run', 5);
  await writeLongSpeech(long, 60);
});

/** Starts the server on a free port; resolves with its URL once it listens. */
function serve(db: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'src/cli/main.ts'),
      'serve',
      '--model',
      run,
      '--port',
      '0',
      '--jobs-db',
      db,
      '--job-lease',
      '1',
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.push(child);
  return new Promise((res, rej) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) res({ url: m[1]!, child });
    });
    child.on('exit', (code) => rej(new Error(`serve exited ${code}: ${err}`)));
  });
}

test('kill -9 with jobs queued and running, restart: every job done once', { timeout: 180_000 }, async () => {
  const db = join(dir, 'jobs.db');
  const second = await killRestartAllDoneOnce({
    first: await serve(db),
    restart: () => serve(db),
    long,
    seconds: 60,
    minWindows: 100,
    waitS: 60,
  });
  second.child.kill('SIGTERM');
  await new Promise((r) => second.child.once('exit', r));
});
