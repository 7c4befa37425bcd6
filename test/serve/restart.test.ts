// `audiotag serve --jobs-db`: jobs posted over HTTP survive a kill -9 of the server with jobs queued and
// one running; after a restart on the same database every job finishes exactly once with its result.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadAudio, writeWav } from '../../src/audio/index.js';
import { FSDD_AUDIO, ROOT, tempDir, tinyRun } from '../infer/helpers.js';

const dir = tempDir('audiotag-serve-restart-');
let run = '';
const long = join(dir, 'long.wav');
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

before(async () => {
  run = await tinyRun(dir, 'run', 5);
  // 60 s of real speech: one FSDD clip repeated.
  const a = await loadAudio(join(FSDD_AUDIO, '1_theo_7.wav'));
  const x = a.channels[0]!;
  const out = new Float32Array(a.sampleRate * 60);
  for (let i = 0; i < out.length; i++) out[i] = x[i % x.length]!;
  await writeWav(long, { sampleRate: a.sampleRate, channels: [out] });
});

/** Starts the server on a free port; resolves with its URL once it listens. */
function serve(db: string): Promise<{ url: string; child: ChildProcess }> {
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

interface Job {
  id: string;
  state: string;
  attempts: number;
  result: { duration: number; top: { label: string }[]; windows: unknown[] } | null;
}

test('kill -9 with jobs queued and running, restart: every job done once', { timeout: 180_000 }, async () => {
  const db = join(dir, 'jobs.db');
  const first = await serve(db);
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const f = new FormData();
    f.append('file', new Blob([readFileSync(long)]), `long${i}.wav`);
    const r = await fetch(`${first.url}/v1/jobs?topK=1`, { method: 'POST', body: f });
    assert.equal(r.status, 202);
    ids.push(((await r.json()) as { id: string }).id);
  }
  const get = async (url: string, id: string) => (await (await fetch(`${url}/v1/jobs/${id}`)).json()) as Job;
  // Kill as soon as a job is running and some are still queued.
  let states: string[] = [];
  for (let i = 0; i < 400; i++) {
    states = await Promise.all(ids.map(async (id) => (await get(first.url, id)).state));
    if (states.includes('running') && states.includes('queued')) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  first.child.kill('SIGKILL');
  await new Promise((r) => first.child.once('exit', r));
  assert.ok(states.includes('running') && states.includes('queued'), `states at the kill: ${states}`);
  const running = ids.filter((_, i) => states[i] === 'running');

  const second = await serve(db);
  let jobs: Job[] = [];
  for (let i = 0; i < 600; i++) {
    jobs = await Promise.all(ids.map((id) => get(second.url, id)));
    if (jobs.every((j) => j.state === 'done' || j.state === 'failed')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const j of jobs) {
    assert.equal(j.state, 'done', `${j.id}: ${JSON.stringify(j)}`);
    assert.ok(Math.abs(j.result!.duration - 60) < 0.01);
    assert.ok(j.result!.windows.length > 100, 'per-window scores of a long file');
  }
  // A job interrupted while running is claimed a second time; the others exactly once.
  // (A job seen running may still finish before the SIGKILL lands: then it was claimed once.)
  for (const j of jobs)
    assert.ok(
      (running.includes(j.id) ? [1, 2] : [1]).includes(j.attempts),
      `${j.id}: ${j.attempts} attempts`,
    );
  const m = await (await fetch(`${second.url}/metrics`)).text();
  assert.match(m, /audiotag_jobs\{state="done"\} 6/);
  second.child.kill('SIGTERM');
  await new Promise((r) => second.child.once('exit', r));
});
