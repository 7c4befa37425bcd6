// The rank layout of a data-parallel run, from torchrun's variables (RANK, LOCAL_RANK, WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT), and each rank's rows of a batch. No engine import: the CLI reads it first.

/** Where this process sits: its rank among worldSize, and the rendezvous (rank 0's TCPStore). */
export interface RankLayout {
  rank: number;
  worldSize: number;
  /** Rank on this machine (LOCAL_RANK). */
  localRank: number;
  masterAddr: string;
  masterPort: number;
}

function envInt(env: NodeJS.ProcessEnv, name: string, min: number): number {
  const text = env[name] ?? '';
  const v = Number(text);
  if (text.trim() === '' || !Number.isInteger(v) || v < min)
    throw new RangeError(`environment variable ${name} must be an integer ≥ ${min}, got "${text}"`);
  return v;
}

/** The layout from torchrun's variables; null when WORLD_SIZE is unset (a single-process run). */
export function rankLayoutFromEnv(env: NodeJS.ProcessEnv = process.env): RankLayout | null {
  if (env.WORLD_SIZE === undefined || env.WORLD_SIZE === '') return null;
  const worldSize = envInt(env, 'WORLD_SIZE', 1);
  const rank = envInt(env, 'RANK', 0);
  if (rank >= worldSize) throw new RangeError(`RANK ${rank} must be below WORLD_SIZE ${worldSize}`);
  const masterPort = envInt(env, 'MASTER_PORT', 1);
  if (masterPort > 65535) throw new RangeError(`MASTER_PORT must be at most 65535, got ${masterPort}`);
  return {
    rank,
    worldSize,
    localRank: env.LOCAL_RANK ? envInt(env, 'LOCAL_RANK', 0) : rank,
    masterAddr: env.MASTER_ADDR || '127.0.0.1',
    masterPort,
  };
}

/** The rows [start, end) of a global batch of `rows` that `rank` of `worldSize` trains on: contiguous
 * shards, the first `rows % worldSize` ranks one row more. */
export function shardRange(rows: number, rank: number, worldSize: number): [number, number] {
  const base = Math.floor(rows / worldSize);
  const extra = rows % worldSize;
  const start = rank * base + Math.min(rank, extra);
  return [start, start + base + (rank < extra ? 1 : 0)];
}
