// Messages between loader.ts (main thread) and worker.ts.
import type { BatchResult, BatchTask, ClipStore } from './worker-core.js';

export type ToWorker =
  | { type: 'store'; store: ClipStore }
  | { type: 'compute'; id: number; clip: number }
  | { type: 'batch'; id: number; task: BatchTask };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'init-error'; message: string }
  | { type: 'computed'; id: number; data: Float32Array; shape: number[] }
  | { type: 'batch'; id: number; result: BatchResult }
  | { type: 'failed'; id: number; message: string };
