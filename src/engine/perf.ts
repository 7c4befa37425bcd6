// Speed controls: reduced-precision autocast and the process allocator's state. Memory formats are a
// Tensor method (`t.contiguous('channels-last')`); docs/engine.md, Speed, has the measurements.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkDevice, type DType, dtypeCode, type MemoryFormat, memoryFormatCode } from './dtype.js';
import { fail } from './errors.js';
import { type CpuCacheStats, N } from './native.js';
import { HList, type Tensor } from './tensor.js';

export type { CpuCacheStats };

export type AutocastDType = Extract<DType, 'bfloat16' | 'float16'>;

export interface AutocastOptions {
  /** The reduced type (default bfloat16, the one CPUs with AVX-512 BF16 / AMX run fast). */
  dtype?: AutocastDType;
  /** 'cpu' (default) or 'cuda' (any 'cuda:N': autocast is per device type). */
  device?: string;
  /** false runs fn unchanged (so callers can pass a config flag straight through). */
  enabled?: boolean;
}

/**
 * Runs fn under libtorch's autocast, as `with torch.autocast(device, dtype)`: convolutions, linear layers
 * and matmuls run in `dtype` (weights cast once per region), precision-sensitive ops (losses, softmax,
 * norms' statistics…) stay in float32. Parameters, their gradients and optimiser state stay float32; compute
 * the loss on `out.to('float32')`. Synchronous only: fn must not return a promise.
 */
export function autocast<T>(opts: AutocastOptions, fn: () => T): T {
  if (typeof fn !== 'function') fail('autocast', `expected a function, got ${typeof fn}`);
  if (opts.enabled === false) return fn();
  const dtype = opts.dtype ?? 'bfloat16';
  if (dtype !== 'bfloat16' && dtype !== 'float16')
    fail('autocast', `dtype must be bfloat16 or float16, got ${JSON.stringify(dtype)}`);
  const device = checkDevice('autocast', opts.device ?? 'cpu').startsWith('cuda') ? 'cuda' : 'cpu';
  const [was, prev] = N.autocastEnter(device, dtypeCode('autocast', dtype));
  try {
    const r = fn();
    if (r instanceof Promise) fail('autocast', 'fn returned a promise; autocast regions must be synchronous');
    return r;
  } finally {
    N.autocastExit(device, was, prev);
  }
}

/** Whether autocast is on for that device type ('cpu' default). */
export function isAutocastEnabled(device = 'cpu'): boolean {
  return N.isAutocastEnabled(checkDevice('isAutocastEnabled', device).startsWith('cuda') ? 'cuda' : 'cpu');
}

/**
 * How 3×3, stride-1 float32 CPU convolutions run: `direct` (libtorch's own oneDNN call, PyTorch-exact) or
 * `winograd` (oneDNN's Winograd F(4×4, 3×3) kernels: about half the arithmetic in the forward and both
 * backward passes, results equal up to rounding, ~1e-6 relative). Where Winograd does not apply (other
 * kernels, strides, dilations, groups, channel counts not a multiple of 16, few output tiles, autocast,
 * CUDA) `winograd` runs the direct path. The trainer and the inference paths set it from their options
 * (default winograd); AUDIOTAG_CONV_ALGORITHM=direct|winograd in the environment overrides every setting.
 * docs/engine.md, "Convolution algorithm".
 */
export type ConvAlgorithm = 'winograd' | 'direct';

export function setConvAlgorithm(algorithm: ConvAlgorithm): void {
  if (algorithm !== 'winograd' && algorithm !== 'direct')
    fail('setConvAlgorithm', `expected 'winograd' or 'direct', got ${JSON.stringify(algorithm)}`);
  N.setConvAlgorithm(algorithm);
}

/** The algorithm in force (process-wide). */
export function convAlgorithm(): ConvAlgorithm {
  return N.getConvAlgorithm();
}

/** Runs fn with `algorithm` in force, then restores the previous one (synchronous fn only). */
export function withConvAlgorithm<T>(algorithm: ConvAlgorithm, fn: () => T): T {
  const before = convAlgorithm();
  setConvAlgorithm(algorithm);
  try {
    return fn();
  } finally {
    setConvAlgorithm(before);
  }
}

export interface MallocStats {
  /** Bytes glibc holds in its heaps (in use + free but kept). */
  heapBytes: number;
  /** Bytes in blocks glibc mapped on their own (above its mmap threshold). */
  mmapBytes: number;
  inUseBytes: number;
  /** Free bytes kept in the heaps for reuse (what the engine's allocator settings keep from the kernel). */
  freeBytes: number;
}

/** glibc's view of the process heap (zeros on other C libraries). */
export function mallocStats(): MallocStats {
  return N.mallocStats();
}

/**
 * Gives the heap's free pages back to the kernel. The engine keeps freed memory for reuse (docs/engine.md,
 * Memory); call this when a long-lived process is done with a large working set (after training, say).
 */
export function mallocTrim(): boolean {
  return N.mallocTrim();
}

/** The caching CPU allocator's counters (docs/engine.md, Memory); `installed` is false with AUDIOTAG_MALLOC set. */
export function cpuCacheStats(): CpuCacheStats {
  return N.cpuCacheStats();
}

/** Unmaps every cached free block (memory in use is untouched). */
export function emptyCpuCache(): void {
  N.emptyCpuCache();
}

/** Caps the cached free bytes (MiB; default a quarter of RAM, or AUDIOTAG_CPU_CACHE_MB); evicts at once. */
export function setCpuCacheLimit(mib: number): void {
  if (typeof mib !== 'number' || !(mib >= 0))
    fail('setCpuCacheLimit', `expected a non-negative number of MiB, got ${String(mib)}`);
  N.setCpuCacheLimit(mib);
}

/**
 * Re-lays out tensors in place (same handles, values, requiresGrad): every 4-D one for 'channels-last'
 * (5-D for 'channels-last-3d'; 'contiguous' restores row-major), others untouched. For a model's
 * parameters before training, as `model.to(memory_format=torch.channels_last)`: with the conv weights in
 * channels-last, convolutions produce channels-last activations whatever the input's layout (a
 * one-channel input's layout is ambiguous, so converting the input alone does nothing there). Convert before the optimiser's first step, so its state follows.
 * Returns how many tensors changed.
 */
export function setMemoryFormat_(tensors: Tensor[], format: MemoryFormat): number {
  return N.setMemoryFormat_(HList(tensors, 'setMemoryFormat_'), memoryFormatCode('setMemoryFormat_', format));
}

/** One op's share of a profiled run (times in ms, summed over its calls). */
export interface OpProfile {
  name: string;
  calls: number;
  /** Time in the op itself, excluding the ops it called. */
  selfMs: number;
  /** Time including the ops it called. */
  totalMs: number;
}

interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur: number;
  tid: number | string;
}

/**
 * Runs fn under libtorch's op profiler and returns every op (forward ops, autograd backward nodes and
 * their kernels, optimiser ops) by self time, largest first. Wall time, so run it on a quiet machine or
 * compare shares rather than milliseconds. Synchronous fn only.
 */
export function profileOps(fn: () => void): OpProfile[] {
  if (typeof fn !== 'function') fail('profileOps', `expected a function, got ${typeof fn}`);
  const dir = mkdtempSync(join(tmpdir(), 'audiotag-profile-'));
  const path = join(dir, 'trace.json');
  N.profileStart(path);
  try {
    fn();
  } finally {
    N.profileStop();
  }
  let events: TraceEvent[];
  try {
    events = (JSON.parse(readFileSync(path, 'utf8')) as TraceEvent[]).filter((e) => e.ph === 'X');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // Self time: an event's duration minus its direct children's (nested events on the same thread).
  const byThread = new Map<string, TraceEvent[]>();
  for (const e of events) {
    const k = String(e.tid);
    if (!byThread.has(k)) byThread.set(k, []);
    byThread.get(k)!.push(e);
  }
  const acc = new Map<string, OpProfile>();
  for (const list of byThread.values()) {
    list.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
    const stack: { e: TraceEvent; child: number }[] = [];
    const close = (top: { e: TraceEvent; child: number }) => {
      const o = acc.get(top.e.name) ?? { name: top.e.name, calls: 0, selfMs: 0, totalMs: 0 };
      o.calls++;
      o.totalMs += top.e.dur / 1000;
      o.selfMs += Math.max(0, top.e.dur - top.child) / 1000;
      acc.set(top.e.name, o);
    };
    for (const e of list) {
      while (stack.length && stack[stack.length - 1]!.e.ts + stack[stack.length - 1]!.e.dur <= e.ts)
        close(stack.pop()!);
      if (stack.length) stack[stack.length - 1]!.child += e.dur;
      stack.push({ e, child: 0 });
    }
    while (stack.length) close(stack.pop()!);
  }
  return [...acc.values()].sort((a, b) => b.selfMs - a.selfMs);
}
