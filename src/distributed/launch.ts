// The launcher of `audiotag train --nproc N [--nnodes M --node-rank K --master ADDR:PORT]`: starts N
// copies of the same command on this machine with torchrun's variables (RANK, LOCAL_RANK, WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT), waits for all of them, and stops the others when one fails.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';

export interface LaunchOptions {
  /** Processes on this machine. */
  nproc: number;
  nnodes: number;
  nodeRank: number;
  /** Rank 0's address and port; port 0: a free port of 127.0.0.1 (one machine only). */
  masterAddr: string;
  masterPort: number;
  /** The command line of every child, without the launcher's flags (node script and arguments). */
  argv: string[];
}

/** A free TCP port of 127.0.0.1 (the kernel's choice). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Parses `ADDR:PORT` (the --master flag); the error names the flag. */
export function parseMaster(flag: string, text: string): { addr: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(text.trim());
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || !(port >= 1 && port <= 65535))
    throw new RangeError(`${flag} must be ADDR:PORT with a port from 1 to 65535, got "${text}"`);
  return { addr: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

/** Runs the ranks of this node; resolves with the exit code (the first failing rank's, else 0). */
export async function launchLocal(o: LaunchOptions): Promise<number> {
  const port = o.masterPort > 0 ? o.masterPort : await freePort();
  const world = o.nproc * o.nnodes;
  // torchrun's default is one thread per process; here the usable cores are split between the ranks.
  const threads = String(Math.max(1, Math.floor(availableParallelism() / o.nproc)));
  const children: ChildProcess[] = [];
  let failed = 0;
  const exits = Array.from({ length: o.nproc }, (_, local) => {
    const rank = o.nodeRank * o.nproc + local;
    const child = spawn(process.execPath, [...process.execArgv, ...o.argv], {
      stdio: 'inherit',
      env: {
        ...process.env,
        OMP_NUM_THREADS: process.env.OMP_NUM_THREADS || threads,
        RANK: String(rank),
        LOCAL_RANK: String(local),
        WORLD_SIZE: String(world),
        LOCAL_WORLD_SIZE: String(o.nproc),
        MASTER_ADDR: o.masterAddr,
        MASTER_PORT: String(port),
      },
    });
    children.push(child);
    return new Promise<number>((resolve) => {
      child.once('error', () => resolve(1));
      child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    }).then((code) => {
      if (code !== 0 && failed === 0) {
        failed = code;
        for (const c of children) if (c !== child && c.exitCode === null) c.kill('SIGTERM');
      }
      return code;
    });
  });
  const forward = (sig: NodeJS.Signals) => {
    for (const c of children) if (c.exitCode === null) c.kill(sig);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    await Promise.all(exits);
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
  return failed;
}

/** argv without the named value flags (`--name V` or `--name=V`): the children's command line. */
export function withoutFlags(argv: readonly string[], names: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (names.includes(a)) i++;
    else if (!names.some((n) => a.startsWith(`${n}=`))) out.push(a);
  }
  return out;
}
