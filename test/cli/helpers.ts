// Running the CLI from tests, shared by every test folder: in process through main() (or a command's own
// register() on a fresh program) with stderr captured, or in a child process from the sources (bin/audiotag
// synchronously, or src/cli/main.ts through tsx asynchronously).
import { execFile, type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'audiotag');

export interface InProcess {
  code: number;
  /** Everything written to stderr while it ran. */
  err: string;
}

/**
 * Runs `work` (which returns an exit code) with stderr captured. Only stderr is captured: in a test file's
 * process stdout carries the test runner's own events. process.exitCode is cleared for the run and restored
 * after: main() returns it when set, and the test runner sets it to 1 after a failed test (a command that
 * sets it would otherwise fail the test file).
 */
export async function captureStderr(work: () => Promise<number>): Promise<InProcess> {
  let err = '';
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => {
    err += s;
    return true;
  }) as typeof process.stderr.write;
  const exitCode = process.exitCode;
  process.exitCode = undefined;
  try {
    const code = await work();
    return { code, err };
  } finally {
    process.stderr.write = write;
    process.exitCode = exitCode;
  }
}

/**
 * Runs the full CLI in process (`audiotag ...args`) through main(): its exit code and stderr. main() is
 * imported on first use, so files that only use captureStderr do not load every command.
 */
export async function runMain(...args: string[]): Promise<InProcess> {
  const { main } = await import('../../src/cli/main.js');
  return captureStderr(() => main(args));
}

/**
 * Runs bin/audiotag from the TypeScript sources in a child process; `env` adds to the environment.
 * Successful commands print their JSON summary on stdout.
 */
export function spawnCli(
  args: string[],
  env: Record<string, string> = {},
  timeout = 120_000,
): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, AUDIOTAG_FROM_SOURCE: '1', ...env },
    timeout,
  });
}

export interface ChildRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs src/cli/main.ts through tsx in a child process without blocking this one (the test runner owns
 * this process's stdout); `env` adds to the environment, NO_COLOR is set.
 */
export function runCli(args: string[], cwd = ROOT, env: Record<string, string> = {}): Promise<ChildRun> {
  return new Promise((res) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args],
      { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) =>
        res({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}
