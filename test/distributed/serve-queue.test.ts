// `audiotag serve --queue redis://…`: jobs posted over HTTP live in Redis (BullMQ). The server is killed
// with kill -9 while a job runs and others wait; a restarted server and an `audiotag worker --model` process
// then finish every job exactly once: attempts 2 for the one interrupted, 1 for the rest, and every result
// whole. The lease (10 s) is longer than the event loop is ever blocked while a long file is tagged on a
// loaded machine; with 1–3 s two processes took one job from each other again and again.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { loadAudio, writeWav } from '../../src/audio/index.js';
import { FSDD_AUDIO, tempDir, tinyRun } from '../infer/helpers.js';
import { exitOf, sleep, spawnCli, startRedis } from './helpers.js';

const dir = tempDir('audiotag-serve-queue-');
let run = '';
let url = '';
const long = join(dir, 'long.wav');

before(async () => {
  run = await tinyRun(dir, 'run', 5);
  // 180 s of real speech (one FSDD clip repeated): long enough for a job to be seen running.
  const a = await loadAudio(join(FSDD_AUDIO, '1_theo_7.wav'));
  const x = a.channels[0]!;
  const out = new Float32Array(a.sampleRate * 180);
  for (let i = 0; i < out.length; i++) out[i] = x[i % x.length]!;
  await writeWav(long, { sampleRate: a.sampleRate, channels: [out] });
  url = await startRedis();
});

/** Starts the server on a free port with its jobs in Redis; resolves with its URL once it listens. */
async function serve(): Promise<{ url: string; child: ChildProcess }> {
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

interface Job {
  id: string;
  state: string;
  attempts: number;
  result: { duration: number; top: { label: string }[]; windows: unknown[] } | null;
}

test('serve --queue: kill -9 with jobs queued and running, restart + a worker: every job done once', async () => {
  const first = await serve();
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const f = new FormData();
    f.append('file', new Blob([readFileSync(long)]), `long${i}.wav`);
    const r = await fetch(`${first.url}/v1/jobs?topK=1`, { method: 'POST', body: f });
    assert.equal(r.status, 202, await r.clone().text());
    ids.push(((await r.json()) as { id: string }).id);
  }
  const get = async (u: string, id: string) => (await (await fetch(`${u}/v1/jobs/${id}`)).json()) as Job;
  let states: string[] = [];
  for (let i = 0; i < 400; i++) {
    states = await Promise.all(ids.map(async (id) => (await get(first.url, id)).state));
    if (states.includes('running') && states.includes('queued')) break;
    await sleep(10);
  }
  first.child.kill('SIGKILL');
  await exitOf(first.child, 10_000);
  assert.ok(states.includes('running') && states.includes('queued'), `states at the kill: ${states}`);
  const running = ids.filter((_, i) => states[i] === 'running');

  // The restarted server and a worker on another "machine" share the remaining jobs.
  const worker = spawnCli(['worker', '--queue', url, '--model', run, '--job-lease', '10']);
  const second = await serve();
  let jobs: Job[] = [];
  for (let i = 0; i < 1200; i++) {
    jobs = await Promise.all(ids.map((id) => get(second.url, id)));
    if (jobs.every((j) => j.state === 'done' || j.state === 'failed')) break;
    await sleep(100);
  }
  for (const j of jobs) {
    assert.equal(j.state, 'done', `${j.id}: ${JSON.stringify(j)}`);
    assert.ok(Math.abs(j.result!.duration - 180) < 0.01);
    assert.ok(j.result!.windows.length > 300, 'per-window scores of a long file');
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
  worker.p.kill('SIGTERM');
  assert.equal(await exitOf(second.child, 20_000), 0);
  assert.equal(await exitOf(worker.p, 20_000), 0, worker.log());
});
