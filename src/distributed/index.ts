// Data-parallel training on libtorch's c10d (docs/distributed.md): the rank layout read from the
// torchrun variables (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), and a process group over the addon's
// TCPStore + ProcessGroupGloo, or ProcessGroupNCCL for GPUs in a CUDA build (native/src/distributed.cc):
// gradient all-reduce (averaged), broadcast.
import { N } from '../engine/native.js';
import { HList, type Tensor } from '../engine/tensor.js';
import type { RankLayout } from './env.js';

type H = ReturnType<typeof HList>[number];

/** The addon's c10d ops (native/src/distributed.cc). */
interface DistNative {
  distAvailable(): boolean;
  distBackends?(): string[];
  distInit(
    host: string,
    port: number,
    rank: number,
    worldSize: number,
    timeoutMs: number,
    backend?: DistBackend,
    cudaDevice?: number,
  ): void;
  distAllreduceGrads(params: H[]): void;
  distAllreduce(ts: H[], average: boolean): void;
  distBroadcast(ts: H[], root: number): void;
  distBarrier(): void;
  distDestroy(): void;
}
const D = N as unknown as DistNative;

/** A c10d process-group backend: Gloo (CPU, or CUDA tensors) or NCCL (GPUs, CUDA builds only). */
export type DistBackend = 'gloo' | 'nccl';

/** Whether the addon was built with c10d (USE_C10D_GLOO and/or USE_C10D_NCCL). */
export function distributedAvailable(): boolean {
  return typeof D.distAvailable === 'function' && D.distAvailable();
}

/** The backends this addon was built with (an older addon: gloo when c10d is there at all). */
export function distributedBackends(): DistBackend[] {
  if (!distributedAvailable()) return [];
  return typeof D.distBackends === 'function' ? (D.distBackends() as DistBackend[]) : ['gloo'];
}

/**
 * Each rank's device and backend for a configured `train.device`: on `cpu`, Gloo; on `cuda` (no index),
 * GPU `cuda:LOCAL_RANK` (one GPU per local rank, as torchrun scripts do), with NCCL when the addon has it
 * and Gloo otherwise; an explicit `cuda:N` is kept (e.g. one rank per machine). AUDIOTAG_DIST_BACKEND
 * (gloo or nccl) overrides the backend.
 */
export function rankPlacement(
  device: string,
  layout: RankLayout,
  backends: readonly DistBackend[] = distributedBackends(),
  env: NodeJS.ProcessEnv = process.env,
): { device: string; backend: DistBackend; cudaDevice?: number } {
  const m = /^cuda(?::(\d+))?$/.exec(device);
  const rankDevice = m ? `cuda:${m[1] ?? layout.localRank}` : device;
  const wanted = env.AUDIOTAG_DIST_BACKEND;
  if (wanted !== undefined && wanted !== '' && wanted !== 'gloo' && wanted !== 'nccl')
    throw new RangeError(`environment variable AUDIOTAG_DIST_BACKEND must be gloo or nccl, got "${wanted}"`);
  const backend: DistBackend =
    (wanted as DistBackend | undefined) || (m && backends.includes('nccl') ? 'nccl' : 'gloo');
  if (backend === 'nccl' && !m)
    throw new RangeError(`the NCCL backend needs train.device cuda or cuda:N, got "${device}"`);
  return m ? { device: rankDevice, backend, cudaDevice: Number(rankDevice.slice(5)) } : { device, backend };
}

export { type RankLayout, rankLayoutFromEnv, shardRange } from './env.js';

/** This process's member of the c10d Gloo process group (one per process). */
export class ProcessGroup {
  private closed = false;
  private constructor(
    readonly layout: RankLayout,
    readonly backend: DistBackend,
  ) {}

  get rank(): number {
    return this.layout.rank;
  }
  get worldSize(): number {
    return this.layout.worldSize;
  }

  /**
   * Joins the group: rank 0 hosts the store at masterAddr:masterPort; waits up to timeoutMs for all.
   * NCCL (CUDA builds) binds this process to `cudaDevice` (see rankPlacement).
   */
  static init(
    layout: RankLayout,
    timeoutMs = 300_000,
    placement: { backend: DistBackend; cudaDevice?: number } = { backend: 'gloo' },
  ): ProcessGroup {
    if (!distributedAvailable())
      throw new Error(
        'distributed training needs the addon built with c10d Gloo (libgloo-dev installed, then `make -C native`); see docs/distributed.md',
      );
    if (!distributedBackends().includes(placement.backend))
      throw new Error(
        `this addon was built without the c10d ${placement.backend} backend (it has: ${distributedBackends().join(', ')}); see docs/distributed.md`,
      );
    D.distInit(
      layout.masterAddr,
      layout.masterPort,
      layout.rank,
      layout.worldSize,
      timeoutMs,
      placement.backend,
      placement.cudaDevice,
    );
    return new ProcessGroup(layout, placement.backend);
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
