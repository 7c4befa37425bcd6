// Shared by the restart tests of `serve --jobs-db` (test/serve/restart.test.ts) and `serve --queue`
// (test/distributed/serve-queue.test.ts): a long recording, and the kill -9 scenario — jobs posted, the
// server killed while one runs and others wait, a restarted server that finishes every job exactly once.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAudio, writeWav } from '../../src/audio/index.js';
import { FSDD_AUDIO } from '../infer/helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `seconds` of real speech (one FSDD clip repeated), written to `path`. */
export async function writeLongSpeech(path: string, seconds: number): Promise<void> {
  const a = await loadAudio(join(FSDD_AUDIO, '1_theo_7.wav'));
  const x = a.channels[0]!;
  const out = new Float32Array(a.sampleRate * seconds);
  for (let i = 0; i < out.length; i++) out[i] = x[i % x.length]!;
  await writeWav(path, { sampleRate: a.sampleRate, channels: [out] });
}

export interface Server {
  url: string;
  child: ChildProcess;
}

interface Job {
  id: string;
  state: string;
  attempts: number;
  result: { duration: number; top: { label: string }[]; windows: unknown[] } | null;
}

const getJob = async (url: string, id: string) => (await (await fetch(`${url}/v1/jobs/${id}`)).json()) as Job;

/**
 * Posts six jobs of `long` (`seconds` long) to `first`, SIGKILLs it as soon as a job runs and some wait,
 * then waits (at most `waitS`) for the server `restart()` starts to finish them all, and checks: every
 * job done with the whole recording's result (more than `minWindows` windows), at most 2 attempts for a
 * job not done at the kill (interrupted while running, or it finished or started just before the kill
 * landed) and exactly 1 for a job done before it, the metrics counting 6 done. Returns the second server.
 */
export async function killRestartAllDoneOnce(o: {
  first: Server;
  restart: () => Promise<Server>;
  long: string;
  seconds: number;
  minWindows: number;
  waitS: number;
}): Promise<Server> {
  // Posted all at once: posted one after another, a fast machine finished each before the next arrived.
  const body = readFileSync(o.long);
  const ids = await Promise.all(
    Array.from({ length: 6 }, async (_, i) => {
      const f = new FormData();
      f.append('file', new Blob([body]), `long${i}.wav`);
      const r = await fetch(`${o.first.url}/v1/jobs?topK=1`, { method: 'POST', body: f });
      assert.equal(r.status, 202, await r.clone().text());
      return ((await r.json()) as { id: string }).id;
    }),
  );
  // Kill as soon as a job is running and some are still queued.
  let states: string[] = [];
  for (let i = 0; i < 400; i++) {
    states = await Promise.all(ids.map(async (id) => (await getJob(o.first.url, id)).state));
    if (states.includes('running') && states.includes('queued')) break;
    await sleep(10);
  }
  const exited = new Promise((r) => o.first.child.once('exit', r));
  o.first.child.kill('SIGKILL');
  await exited;
  assert.ok(states.includes('running') && states.includes('queued'), `states at the kill: ${states}`);
  // Between the last poll and the SIGKILL a queued job may start too: any job not yet done may have been
  // interrupted (claimed twice); a job done before the kill must not run again.
  const unfinished = ids.filter((_, i) => states[i] !== 'done');

  const second = await o.restart();
  let jobs: Job[] = [];
  for (let i = 0; i < o.waitS * 10; i++) {
    jobs = await Promise.all(ids.map((id) => getJob(second.url, id)));
    if (jobs.every((j) => j.state === 'done' || j.state === 'failed')) break;
    await sleep(100);
  }
  for (const j of jobs) {
    assert.equal(j.state, 'done', `${j.id}: ${JSON.stringify(j)}`);
    assert.ok(Math.abs(j.result!.duration - o.seconds) < 0.01);
    assert.ok(j.result!.windows.length > o.minWindows, 'per-window scores of a long file');
  }
  // A job interrupted while running is claimed a second time, never more; a finished one exactly once.
  for (const j of jobs)
    assert.ok(
      (unfinished.includes(j.id) ? [1, 2] : [1]).includes(j.attempts),
      `${j.id}: ${j.attempts} attempts`,
    );
  const m = await (await fetch(`${second.url}/metrics`)).text();
  assert.match(m, /audiotag_jobs\{state="done"\} 6/);
  return second;
}
