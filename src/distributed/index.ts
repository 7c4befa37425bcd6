// Data-parallel training on libtorch's c10d (docs/distributed.md): the rank layout read from the
// torchrun variables (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), and a process group over the addon's
// TCPStore + ProcessGroupGloo (native/src/distributed.cc): gradient all-reduce (averaged), broadcast.
import { N } from '../engine/native.js';
import { HList, type Tensor } from '../engine/tensor.js';
import type { RankLayout } from './env.js';

type H = ReturnType<typeof HList>[number];

/** The addon's c10d ops (native/src/distributed.cc). */
interface DistNative {
  distAvailable(): boolean;
  distInit(host: string, port: number, rank: number, worldSize: number, timeoutMs: number): void;
  distAllreduceGrads(params: H[]): void;
  distAllreduce(ts: H[], average: boolean): void;
  distBroadcast(ts: H[], root: number): void;
  distBarrier(): void;
  distDestroy(): void;
}
const D = N as unknown as DistNative;

/** Whether the addon was built with c10d Gloo (USE_C10D_GLOO). */
export function distributedAvailable(): boolean {
  return typeof D.distAvailable === 'function' && D.distAvailable();
}

export { type RankLayout, rankLayoutFromEnv, shardRange } from './env.js';

/** This process's member of the c10d Gloo process group (one per process). */
export class ProcessGroup {
  private closed = false;
  private constructor(readonly layout: RankLayout) {}

  get rank(): number {
    return this.layout.rank;
  }
  get worldSize(): number {
    return this.layout.worldSize;
  }

  /** Joins the group: rank 0 hosts the store at masterAddr:masterPort; waits up to timeoutMs for all. */
  static init(layout: RankLayout, timeoutMs = 300_000): ProcessGroup {
    if (!distributedAvailable())
      throw new Error(
        'distributed training needs the addon built with c10d Gloo (libgloo-dev installed, then `make -C native`); see docs/distributed.md',
      );
    D.distInit(layout.masterAddr, layout.masterPort, layout.rank, layout.worldSize, timeoutMs);
    return new ProcessGroup(layout);
  }

  /** Every parameter's gradient averaged over the ranks, in place (missing gradients count as zeros). */
  allreduceGrads(params: Tensor[]): void {
    if (params.length > 0) D.distAllreduceGrads(HList(params, 'allreduceGrads', 'params'));
  }

  /** The tensors summed (average: divided by the world size) over the ranks, in place. */
  allreduce(ts: Tensor[], average = false): void {
    if (ts.length > 0) D.distAllreduce(HList(ts, 'allreduce'), average);
  }

  /** Every rank's tensors take rank `root`'s values, in place. */
  broadcast(ts: Tensor[], root = 0): void {
    if (ts.length > 0) D.distBroadcast(HList(ts, 'broadcast'), root);
  }

  barrier(): void {
    D.distBarrier();
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    D.distDestroy();
  }
}
