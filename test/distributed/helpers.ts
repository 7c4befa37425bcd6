// Shared by the BullMQ tests: a real redis-server on a free 127.0.0.1 port (stopped when the test file
// ends), the CLI as a child process, `audiotag worker` processes with their logs, and a float-tolerant CSV
// comparison.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'audiotag');
export const FSDD = join(ROOT, '..', 'shared', 'data', 'fsdd');
export const ENV = { ...process.env, OMP_NUM_THREADS: '1', NO_COLOR: '1' };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every child started here is SIGKILLed when the test file ends (if still running). */
const children: ChildProcess[] = [];
after(() => {
  for (const p of children) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

import { freePort } from '../../src/distributed/launch.js';

export { freePort };

/** Runs the CLI to the end. */
export function cli(args: string[], timeout = 180_000) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: ENV, timeout });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

/** A child process of the CLI with its stdout+stderr collected. */
export function spawnCli(args: string[], env: Record<string, string> = {}) {
  const p = spawn(process.execPath, [BIN, ...args], {
    env: { ...ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(p);
  let log = '';
  p.stdout!.on('data', (b) => {
    log += String(b);
  });
  p.stderr!.on('data', (b) => {
    log += String(b);
  });
  return { p, log: () => log };
}

/** Exit code of a child, or 'timed out' after ms. */
export function exitOf(p: ChildProcess, ms: number): Promise<number | null | 'timed out'> {
  if (p.exitCode !== null) return Promise.resolve(p.exitCode);
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    new Promise<number | null>((r) => p.once('exit', (c) => r(c))),
    new Promise<'timed out'>((r) => {
      timer = setTimeout(() => r('timed out'), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A redis-server on a free port of 127.0.0.1 (64 MB, noeviction, no persistence); its redis:// URL. */
export async function startRedis(): Promise<string> {
  const port = await freePort();
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
  children.push(redis);
  for (let i = 0; i < 50; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG')
      return `redis://127.0.0.1:${port}`;
    await sleep(100);
  }
  throw new Error(`redis-server did not answer on port ${port}`);
}

/** `audiotag worker --queue url` with a test delay per job (so it can be killed inside one). */
export function startWorker(url: string, extra: string[] = [], delayMs = 250) {
  return spawnCli(['worker', '--queue', url, '--lock-ms', '1500', ...extra], {
    AUDIOTAG_TEST_JOB_DELAY_MS: String(delayMs),
  });
}

/** SIGKILLs the worker inside its first job; returns what it was doing then. */
export async function killInFirstJob(w: ReturnType<typeof startWorker>, ms = 60_000): Promise<string> {
  for (let i = 0; i < ms / 50 && !/started /.test(w.log()); i++) await sleep(50);
  const started = /started ([^\n]+)/.exec(w.log())?.[1];
  assert.ok(started, `the worker took no job: ${w.log()}`);
  w.p.kill('SIGKILL');
  return started;
}

/** Two CSV files: same header and first column, numbers within tol. */
export function assertCsvClose(a: string, b: string, tol: number): void {
  const x = readFileSync(a, 'utf8').trim().split('\n');
  const y = readFileSync(b, 'utf8').trim().split('\n');
  assert.equal(y.length, x.length, `${b}: ${y.length} rows, ${a}: ${x.length}`);
  assert.equal(y[0], x[0]);
  for (let i = 1; i < x.length; i++) {
    const u = x[i]!.split(',');
    const v = y[i]!.split(',');
    assert.equal(v[0], u[0]);
    for (let j = 1; j < u.length; j++)
      assert.ok(Math.abs(Number(u[j]) - Number(v[j])) <= tol, `${x[i]}\n${y[i]}`);
  }
}
