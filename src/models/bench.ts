// Training and inference throughput of a registry model on random inputs, and the same measurement from
// the PyTorch peer (bench/peers/torch_cnn.py), so the engine's overhead over PyTorch can be tracked.
// Timing rule, on both sides: each step timed on its own, the median after `warmup` (2) steps.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as E from '../engine/index.js';
import { userEnv } from '../engine/native.js';
import { Adam } from '../engine/optim.js';
import { crossEntropy } from '../nn/losses.js';
// From index.js, not registry.js: index registers the whole zoo.
import { createModel, getModelDefinition, resolveModelConfig } from './index.js';

export type BenchMode = 'train' | 'infer';

export interface ModelBenchOptions {
  mode: BenchMode;
  model?: string;
  batch?: number;
  /** Side of the square input (the last two dims of the model's example input). */
  size?: number;
  steps?: number;
  warmup?: number;
  /** Intra-op threads; undefined leaves the engine's default (all cores). */
  threads?: number;
  classes?: number;
  device?: string;
  seed?: number;
  /** Layout of the input batch (conv outputs follow it): 'contiguous' (NCHW, default) or 'channels-last'. */
  memoryFormat?: 'contiguous' | 'channels-last';
  /** 'fp32' (default) or 'bf16': the forward pass under bfloat16 autocast, loss and optimiser in float32. */
  precision?: 'fp32' | 'bf16';
  /** 3×3 convolutions: 'winograd' (default, as the trainer runs them) or 'direct' (libtorch's; E.setConvAlgorithm). */
  convAlgorithm?: E.ConvAlgorithm;
  /**
   * The PyTorch peer's glibc allocator: 'default' (as its users run it) or 'keep' (MALLOC_MMAP_THRESHOLD_,
   * MALLOC_TRIM_THRESHOLD_, MALLOC_TOP_PAD_ set high, as the acceptance check's same-allocator run).
   */
  peerAllocator?: 'default' | 'keep';
}

/** Field order = JSON order: the headline figures first. */
export interface ModelBenchResult {
  samples_per_s: number;
  ms_per_step: number;
  threads: number;
  /**
   * Median process CPU time (all threads, user + system) per step. Less sensitive than wall time to other
   * processes on a loaded machine, since time spent descheduled is not counted.
   */
  cpu_ms_per_step: number;
  /** Median system (kernel) CPU time per step: page faults and munmap show up here. */
  sys_ms_per_step?: number;
  /** Median minor page faults per step (memory the allocator gave back and faulted in again). */
  minflt_per_step?: number;
  /** The process's peak resident memory at the end of the run, MiB. */
  max_rss_mb?: number;
  /** How the process's allocator was set up (buildInfo().malloc for ours). */
  allocator?: string;
  impl: 'audiotag' | 'torch';
  memory_format?: string;
  precision?: string;
  /** 'winograd' or 'direct' (ours); PyTorch's convolutions are always direct. */
  conv_algorithm?: string;
  mode: BenchMode;
  model: string;
  batch: number;
  size: number;
  steps: number;
  device: string;
}

function resolved(o: ModelBenchOptions) {
  const r = {
    mode: o.mode,
    model: o.model ?? 'cnn-model-1',
    batch: o.batch ?? 32,
    size: o.size ?? 128,
    steps: o.steps ?? 10,
    warmup: o.warmup ?? 2,
    threads: o.threads,
    classes: o.classes ?? 80,
    device: o.device ?? 'cpu',
    seed: o.seed ?? 0,
    memoryFormat: o.memoryFormat ?? 'contiguous',
    precision: o.precision ?? 'fp32',
    convAlgorithm: o.convAlgorithm ?? 'winograd',
    peerAllocator: o.peerAllocator ?? 'default',
  };
  if (r.memoryFormat !== 'contiguous' && r.memoryFormat !== 'channels-last')
    throw new Error(`bench: memory format must be contiguous or channels-last, got ${r.memoryFormat}`);
  if (r.precision !== 'fp32' && r.precision !== 'bf16')
    throw new Error(`bench: precision must be fp32 or bf16, got ${r.precision}`);
  if (r.convAlgorithm !== 'winograd' && r.convAlgorithm !== 'direct')
    throw new Error(`bench: conv algorithm must be winograd or direct, got ${r.convAlgorithm}`);
  if (r.peerAllocator !== 'default' && r.peerAllocator !== 'keep')
    throw new Error(`bench: peer allocator must be default or keep, got ${r.peerAllocator}`);
  for (const k of ['batch', 'size', 'steps', 'classes'] as const)
    if (!Number.isInteger(r[k]) || r[k] < 1)
      throw new Error(`bench: ${k} must be a positive integer, got ${r[k]}`);
  if (!Number.isInteger(r.warmup) || r.warmup < 0)
    throw new Error(`bench: warmup must be a non-negative integer, got ${r.warmup}`);
  if (r.threads !== undefined && (!Number.isInteger(r.threads) || r.threads < 1))
    throw new Error(`bench: threads must be a positive integer, got ${r.threads}`);
  if (r.mode !== 'train' && r.mode !== 'infer')
    throw new Error(`bench: mode must be train or infer, got ${r.mode}`);
  return r;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Times `steps` training (Adam, cross entropy) or inference (eval, no grad) steps of a registry model. */
export function benchModel(opts: ModelBenchOptions): ModelBenchResult {
  const o = resolved(opts);
  return E.withConvAlgorithm(o.convAlgorithm, () => benchResolved(o));
}

function benchResolved(o: ReturnType<typeof resolved>): ModelBenchResult {
  if (o.threads !== undefined) E.setNumThreads(o.threads);
  E.manualSeed(o.seed);
  const config = resolveModelConfig(o.model, { numClasses: o.classes }) as Record<string, unknown>;
  const spec = getModelDefinition(o.model).input(config);
  const shape = [o.batch, ...spec.exampleShape];
  // `size` sets the spectrogram's two spatial dims ([B, C, M, T]); a waveform model's [B, 1, S] keeps
  // its channel dim and takes size as the sample count.
  const spatialFrom = shape.length >= 4 ? shape.length - 2 : shape.length - 1;
  for (let i = spatialFrom; i < shape.length; i++) shape[i] = o.size;
  const model = createModel(o.model, config);
  if (o.device !== 'cpu') model.to(o.device);
  const x0 = E.randn(shape, { device: o.device });
  // Channels-last: the conv weights (so activations follow even from a one-channel input) and the
  // input, which a trainer converts per batch; done once here, on random inputs.
  const cl = o.memoryFormat === 'channels-last' && shape.length === 4;
  if (cl) E.setMemoryFormat_(model.parameters(), 'channels-last');
  const x = cl ? x0.contiguous('channels-last') : x0;
  if (x !== x0) x0.dispose();
  const bf16 = o.precision === 'bf16';
  const forward = () => E.autocast({ enabled: bf16, device: o.device }, () => model.call(x).clipwise);
  const y = E.randint(0, o.classes, [o.batch], { dtype: 'int64', device: o.device });
  let opt: Adam | null = null;
  let step: () => void;
  if (o.mode === 'train') {
    model.train();
    opt = new Adam(model.parameters(), { lr: 1e-3 });
    const adam = opt;
    step = () =>
      E.tidy(() => {
        adam.zeroGrad();
        const out = forward();
        crossEntropy(bf16 ? out.to('float32') : out, y).backward();
        adam.step();
      });
  } else {
    model.eval();
    step = () =>
      E.tidy(() =>
        E.noGrad(() => {
          forward();
        }),
      );
  }
  // On CUDA, reading one value waits for the queued kernels, so the step time is the real one.
  const sync = o.device.startsWith('cuda') ? () => E.tidy(() => void x.sum().item()) : () => {};
  const times: number[] = [];
  const cpu: number[] = [];
  const sys: number[] = [];
  const faults: number[] = [];
  try {
    for (let i = 0; i < o.warmup + o.steps; i++) {
      const r0 = process.resourceUsage();
      const t0 = performance.now();
      step();
      sync();
      const dt = performance.now() - t0;
      const r1 = process.resourceUsage();
      if (i >= o.warmup) {
        times.push(dt);
        cpu.push((r1.userCPUTime - r0.userCPUTime + r1.systemCPUTime - r0.systemCPUTime) / 1000);
        sys.push((r1.systemCPUTime - r0.systemCPUTime) / 1000);
        faults.push(r1.minorPageFault - r0.minorPageFault);
      }
    }
  } finally {
    E.dispose([x, y]);
    model.dispose();
    opt?.dispose();
  }
  const ms = median(times);
  return {
    samples_per_s: round3((o.batch / ms) * 1000),
    ms_per_step: round3(ms),
    threads: E.getNumThreads(),
    cpu_ms_per_step: round3(median(cpu)),
    sys_ms_per_step: round3(median(sys)),
    minflt_per_step: median(faults),
    max_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    allocator: E.buildInfo().malloc,
    impl: 'audiotag',
    memory_format: o.memoryFormat,
    precision: o.precision,
    conv_algorithm: E.convAlgorithm(),
    mode: o.mode,
    model: o.model,
    batch: o.batch,
    size: o.size,
    steps: o.steps,
    device: o.device,
  };
}

/** The PyTorch peer script, found from the sources or from dist/. */
export function torchPeerScript(): string {
  for (const rel of ['../../bench/peers/torch_cnn.py', '../../../bench/peers/torch_cnn.py']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error(
    'bench: bench/peers/torch_cnn.py not found (it ships with the repository, not the package)',
  );
}

/** Debian's python3 with python3-torch (the pyenv python3 on PATH has no torch); AUDIOTAG_PYTHON overrides. */
export function torchPython(): string {
  return process.env.AUDIOTAG_PYTHON ?? '/usr/bin/python3';
}

/** Runs the same measurement in PyTorch (cnn-model-1 only). */
export function benchTorchPeer(opts: ModelBenchOptions): ModelBenchResult {
  const o = resolved(opts);
  if (o.model !== 'cnn-model-1')
    throw new Error(`bench: the torch peer only has cnn-model-1, not ${o.model}`);
  const args = [
    torchPeerScript(),
    ...['--mode', o.mode, '--batch', o.batch, '--size', o.size, '--steps', o.steps, '--warmup', o.warmup],
    ...['--classes', o.classes, '--device', o.device, '--seed', o.seed, '--threads', o.threads ?? 0],
    ...['--memory-format', o.memoryFormat, '--precision', o.precision],
  ].map(String);
  const env = userEnv();
  if (o.peerAllocator === 'keep')
    Object.assign(env, {
      MALLOC_MMAP_THRESHOLD_: '4294967296',
      MALLOC_TRIM_THRESHOLD_: '4294967296',
      MALLOC_TOP_PAD_: '1073741824',
    });
  // The peer runs with the user's environment, not the thread defaults the engine gave itself.
  const r = spawnSync(torchPython(), args, { encoding: 'utf8', env });
  if (r.error) throw new Error(`bench: cannot run ${torchPython()}: ${r.error.message}`);
  if (r.status !== 0)
    throw new Error(
      `bench: the torch peer failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`,
    );
  const line = r.stdout.trim().split('\n').pop() ?? '';
  const res = JSON.parse(line) as ModelBenchResult & Record<string, unknown>;
  return {
    samples_per_s: res.samples_per_s,
    ms_per_step: res.ms_per_step,
    threads: res.threads,
    cpu_ms_per_step: res.cpu_ms_per_step,
    sys_ms_per_step: res.sys_ms_per_step,
    minflt_per_step: res.minflt_per_step,
    max_rss_mb: res.max_rss_mb,
    allocator: res.allocator,
    impl: 'torch',
    memory_format: o.memoryFormat,
    precision: o.precision,
    conv_algorithm: 'direct',
    mode: o.mode,
    model: o.model,
    batch: o.batch,
    size: o.size,
    steps: o.steps,
    device: o.device,
  };
}

export interface BenchComparison {
  mode: BenchMode;
  rounds: number;
  ours: ModelBenchResult[];
  torch: ModelBenchResult[];
  /** Medians over rounds of each side's median step. */
  ours_ms_per_step: number;
  torch_ms_per_step: number;
  /** (ours − torch) / torch in %, on the medians; negative = faster than PyTorch. */
  overhead_pct: number;
  ours_cpu_ms_per_step: number;
  torch_cpu_ms_per_step: number;
  /** The same on CPU time. */
  cpu_overhead_pct: number;
}

/**
 * Alternates our run and PyTorch's `rounds` times (so load from other processes on the machine hits both
 * alike) and compares the medians.
 */
export function compareWithTorch(
  opts: ModelBenchOptions,
  rounds = 1,
  onResult?: (r: ModelBenchResult) => void,
): BenchComparison {
  const ours: ModelBenchResult[] = [];
  const torch: ModelBenchResult[] = [];
  for (let i = 0; i < rounds; i++) {
    // Alternate who goes first, so neither side always meets a warmer (or hotter) machine.
    const pair = i % 2 === 0 ? ['ours', 'torch'] : ['torch', 'ours'];
    for (const who of pair) {
      const r = who === 'ours' ? benchModel(opts) : benchTorchPeer(opts);
      (who === 'ours' ? ours : torch).push(r);
      onResult?.(r);
    }
  }
  const a = median(ours.map((r) => r.ms_per_step));
  const b = median(torch.map((r) => r.ms_per_step));
  const ca = median(ours.map((r) => r.cpu_ms_per_step));
  const cb = median(torch.map((r) => r.cpu_ms_per_step));
  const pct = (x: number, y: number) => Math.round(((x - y) / y) * 1000) / 10;
  return {
    mode: opts.mode,
    rounds,
    ours,
    torch,
    ours_ms_per_step: round3(a),
    torch_ms_per_step: round3(b),
    overhead_pct: pct(a, b),
    ours_cpu_ms_per_step: round3(ca),
    torch_cpu_ms_per_step: round3(cb),
    cpu_overhead_pct: pct(ca, cb),
  };
}
