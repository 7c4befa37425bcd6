// Loads the native addon (build/Release/audiotag_native.node at the package root) and describes its
// functions. Everything here is internal to src/engine: the public API is index.ts, functional.ts
// and optim.ts.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot as findPackageRoot } from '../core/package-root.js';
import { EngineError } from './errors.js';

/** An opaque libtorch tensor reference (a JS external owned by the addon). */
export type NativeHandle = { readonly __nativeTensor: unique symbol };
/** An opaque torch::optim optimiser. */
export type NativeOptimizer = { readonly __nativeOptimizer: unique symbol };

type H = NativeHandle;
type Other = H | number;
type Dims = number[] | null;

export interface NativeOptimizerGroup {
  params: H[];
  options: Record<string, number | boolean>;
}

/** Ops taking one tensor and returning one. */
type UnaryName =
  | 'neg'
  | 'exp'
  | 'log'
  | 'log1p'
  | 'sqrt'
  | 'rsqrt'
  | 'abs'
  | 'sign'
  | 'sin'
  | 'cos'
  | 'floor'
  | 'ceil'
  | 'round'
  | 'reciprocal'
  | 'square'
  | 'logicalNot'
  | 'isnan'
  | 'isfinite'
  | 'sigmoid'
  | 'logSigmoid'
  | 'relu'
  | 'tanh'
  | 'silu';

/** The addon's exports, argument for argument (defaults are filled in by the TS callers). */
export interface NativeAddon extends Record<UnaryName, (t: H) => H> {
  setErrorClass(cls: typeof EngineError): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  usableCores(): number;
  setGradEnabled(on: boolean): void;
  isGradEnabled(): boolean;
  manualSeed(seed: number): void;
  cudaIsAvailable(): boolean;
  cudaDeviceCount(): number;
  cudaSynchronize(device: number | null): void;
  buildInfo(): { torchVersion: string; cuda: boolean; cxx11Abi: boolean; parallel: string; malloc: string };
  // data in/out, metadata
  fromBuffer(
    data: ArrayBufferView,
    shape: number[],
    srcDtype: number,
    dstDtype: number,
    device: string,
    requiresGrad: boolean,
  ): H;
  toBuffer(t: H, dtype: number): ArrayBuffer;
  dispose(t: H): void;
  /** Tensor handle objects the GC has not collected yet (disposed or not). */
  handleCount(): number;
  item(t: H): number;
  shape(t: H): number[];
  dtype(t: H): number | string;
  device(t: H): string;
  isContiguous(t: H): boolean;
  // autograd
  requiresGrad(t: H): boolean;
  setRequiresGrad(t: H, on: boolean): void;
  isLeaf(t: H): boolean;
  grad(t: H): H | null;
  zeroGrad(t: H): void;
  retainGrad(t: H): void;
  backward(t: H, grad: H | null, retainGraph: boolean, createGraph: boolean): void;
  detach(t: H): H;
  clone(t: H): H;
  contiguous(t: H): H;
  // speed controls (native/src/perf.cc)
  contiguousFormat(t: H, format: number): H;
  isContiguousFormat(t: H, format: number): boolean;
  setMemoryFormat_(ts: H[], format: number): number;
  profileStart(path: string): void;
  profileStop(): void;
  autocastEnter(device: string, dtype: number): [boolean, number];
  autocastExit(device: string, wasEnabled: boolean, prevDtype: number): void;
  isAutocastEnabled(device: string): boolean;
  mallocStats(): { heapBytes: number; mmapBytes: number; inUseBytes: number; freeBytes: number };
  mallocTrim(): boolean;
  cpuCacheStats(): CpuCacheStats;
  emptyCpuCache(): void;
  setCpuCacheLimit(mib: number): void;
  setConvAlgorithm(algorithm: string): void;
  getConvAlgorithm(): 'winograd' | 'direct';
  to(t: H, dtype: number | null, device: string | null): H;
  // creation and random
  zeros(shape: number[], dtype: number, device: string): H;
  ones(shape: number[], dtype: number, device: string): H;
  full(shape: number[], value: number, dtype: number, device: string): H;
  empty(shape: number[], dtype: number, device: string): H;
  zerosLike(t: H): H;
  onesLike(t: H): H;
  arange(start: number, end: number, step: number, dtype: number, device: string): H;
  linspace(start: number, end: number, steps: number, dtype: number, device: string): H;
  eye(n: number, m: number, dtype: number, device: string): H;
  cat(ts: H[], dim: number): H;
  stack(ts: H[], dim: number): H;
  where(cond: H, a: Other, b: Other): H;
  rand(shape: number[], dtype: number, device: string): H;
  randn(shape: number[], dtype: number, device: string): H;
  randint(low: number, high: number, shape: number[], dtype: number, device: string): H;
  randperm(n: number, dtype: number, device: string): H;
  bernoulli(p: H): H;
  multinomial(p: H, n: number, replacement: boolean): H;
  // views and indexing
  reshape(t: H, shape: number[]): H;
  view(t: H, shape: number[]): H;
  flatten(t: H, start: number, end: number): H;
  permute(t: H, dims: number[]): H;
  transpose(t: H, d0: number, d1: number): H;
  t(t: H): H;
  slice(t: H, dim: number, start: number | null, end: number | null, step: number): H;
  narrow(t: H, dim: number, start: number, length: number): H;
  select(t: H, dim: number, index: number): H;
  indexSelect(t: H, dim: number, index: H): H;
  gather(t: H, dim: number, index: H): H;
  scatter(t: H, dim: number, index: H, src: Other): H;
  maskedFill(t: H, mask: H, value: Other): H;
  expand(t: H, shape: number[]): H;
  squeeze(t: H, dim: number | null): H;
  unsqueeze(t: H, dim: number): H;
  repeat(t: H, reps: number[]): H;
  flip(t: H, dims: number[]): H;
  roll(t: H, shifts: number[], dims: number[]): H;
  chunk(t: H, chunks: number, dim: number): H[];
  split(t: H, sizes: number[], dim: number): H[];
  tril(t: H, diagonal: number): H;
  triu(t: H, diagonal: number): H;
  // elementwise
  add(t: H, o: Other, alpha: number): H;
  sub(t: H, o: Other, alpha: number): H;
  rsub(t: H, o: number): H;
  mul(t: H, o: Other): H;
  div(t: H, o: Other): H;
  pow(t: H, o: Other): H;
  remainder(t: H, o: Other): H;
  eq(t: H, o: Other): H;
  ne(t: H, o: Other): H;
  lt(t: H, o: Other): H;
  le(t: H, o: Other): H;
  gt(t: H, o: Other): H;
  ge(t: H, o: Other): H;
  maximum(t: H, o: H): H;
  minimum(t: H, o: H): H;
  logicalAnd(t: H, o: H): H;
  logicalOr(t: H, o: H): H;
  atan2(t: H, o: H): H;
  clamp(t: H, min: number | null, max: number | null): H;
  // reductions
  sum(t: H, dims: Dims, keepdim: boolean): H;
  mean(t: H, dims: Dims, keepdim: boolean): H;
  prod(t: H, dim: number | null, keepdim: boolean): H;
  max(t: H, dim: number | null, keepdim: boolean): H;
  min(t: H, dim: number | null, keepdim: boolean): H;
  argmax(t: H, dim: number | null, keepdim: boolean): H;
  argmin(t: H, dim: number | null, keepdim: boolean): H;
  logsumexp(t: H, dims: number[], keepdim: boolean): H;
  var(t: H, dims: Dims, unbiased: boolean, keepdim: boolean): H;
  std(t: H, dims: Dims, unbiased: boolean, keepdim: boolean): H;
  norm(t: H, p: number, dims: Dims, keepdim: boolean): H;
  topk(t: H, k: number, dim: number, largest: boolean, sorted: boolean): [H, H];
  sort(t: H, dim: number, descending: boolean): [H, H];
  cumsum(t: H, dim: number): H;
  any(t: H, dim: number | null, keepdim: boolean): H;
  all(t: H, dim: number | null, keepdim: boolean): H;
  matmul(t: H, o: H): H;
  bmm(t: H, o: H): H;
  outer(t: H, o: H): H;
  // activations
  softmax(t: H, dim: number): H;
  logSoftmax(t: H, dim: number): H;
  gelu(t: H, approximate: string): H;
  leakyRelu(t: H, slope: number): H;
  elu(t: H, alpha: number): H;
  prelu(t: H, weight: H): H;
  softplus(t: H, beta: number, threshold: number): H;
  hardtanh(t: H, min: number, max: number): H;
  // in place
  copy_(t: H, src: H): void;
  fill_(t: H, v: number): void;
  zero_(t: H): void;
  mul_(t: H, o: Other): void;
  add_(t: H, o: Other, alpha: number): void;
  clamp_(t: H, min: number | null, max: number | null): void;
  uniform_(t: H, lo: number, hi: number): void;
  normal_(t: H, mean: number, std: number): void;
  // nn functional
  conv1d(
    x: H,
    w: H,
    b: H | null,
    stride: number[],
    padding: number[] | string,
    dilation: number[],
    groups: number,
  ): H;
  conv2d(
    x: H,
    w: H,
    b: H | null,
    stride: number[],
    padding: number[] | string,
    dilation: number[],
    groups: number,
  ): H;
  convTranspose1d(
    x: H,
    w: H,
    b: H | null,
    stride: number[],
    padding: number[],
    outputPadding: number[],
    groups: number,
    dilation: number[],
  ): H;
  convTranspose2d(
    x: H,
    w: H,
    b: H | null,
    stride: number[],
    padding: number[],
    outputPadding: number[],
    groups: number,
    dilation: number[],
  ): H;
  batchNorm(
    x: H,
    runningMean: H | null,
    runningVar: H | null,
    weight: H | null,
    bias: H | null,
    training: boolean,
    momentum: number,
    eps: number,
  ): H;
  layerNorm(x: H, shape: number[], weight: H | null, bias: H | null, eps: number): H;
  groupNorm(x: H, groups: number, weight: H | null, bias: H | null, eps: number): H;
  dropout(x: H, p: number, training: boolean): H;
  dropout2d(x: H, p: number, training: boolean): H;
  maxPool1d(x: H, k: number[], s: number[], p: number[], d: number[], ceil: boolean): H;
  maxPool2d(x: H, k: number[], s: number[], p: number[], d: number[], ceil: boolean): H;
  avgPool1d(x: H, k: number[], s: number[], p: number[], ceil: boolean, countIncludePad: boolean): H;
  avgPool2d(
    x: H,
    k: number[],
    s: number[],
    p: number[],
    ceil: boolean,
    countIncludePad: boolean,
    divisorOverride: number | null,
  ): H;
  adaptiveAvgPool1d(x: H, size: number[]): H;
  adaptiveAvgPool2d(x: H, size: number[]): H;
  adaptiveMaxPool1d(x: H, size: number[]): H;
  adaptiveMaxPool2d(x: H, size: number[]): H;
  linear(x: H, w: H, b: H | null): H;
  embedding(indices: H, weight: H, paddingIdx: number): H;
  interpolate(
    x: H,
    size: number[] | null,
    scale: number[] | null,
    mode: string,
    alignCorners: boolean | null,
  ): H;
  pad(x: H, pads: number[], mode: string, value: number): H;
  gru(
    x: H,
    hx: H,
    params: H[],
    hasBiases: boolean,
    numLayers: number,
    dropout: number,
    training: boolean,
    bidirectional: boolean,
    batchFirst: boolean,
  ): [H, H];
  lstm(
    x: H,
    hx: H[],
    params: H[],
    hasBiases: boolean,
    numLayers: number,
    dropout: number,
    training: boolean,
    bidirectional: boolean,
    batchFirst: boolean,
  ): [H, H, H];
  crossEntropy(
    logits: H,
    target: H,
    weight: H | null,
    reduction: number,
    ignoreIndex: number,
    labelSmoothing: number,
  ): H;
  nllLoss(logp: H, target: H, weight: H | null, reduction: number, ignoreIndex: number): H;
  binaryCrossEntropyWithLogits(
    logits: H,
    target: H,
    weight: H | null,
    posWeight: H | null,
    reduction: number,
  ): H;
  binaryCrossEntropy(probs: H, target: H, weight: H | null, reduction: number): H;
  mseLoss(a: H, b: H, reduction: number): H;
  l1Loss(a: H, b: H, reduction: number): H;
  smoothL1Loss(a: H, b: H, reduction: number, beta: number): H;
  klDiv(input: H, target: H, reduction: number, logTarget: boolean): H;
  stft(
    x: H,
    nFft: number,
    hop: number | null,
    win: number | null,
    window: H | null,
    center: boolean,
    padMode: string,
    normalized: boolean,
    onesided: boolean | null,
  ): H;
  istft(
    x: H,
    nFft: number,
    hop: number | null,
    win: number | null,
    window: H | null,
    center: boolean,
    normalized: boolean,
    onesided: boolean | null,
    length: number | null,
  ): H;
  rfft(x: H, n: number | null, dim: number, norm: string | null): H;
  irfft(x: H, n: number | null, dim: number, norm: string | null): H;
  // optimisers
  optimCreate(kind: number, groups: NativeOptimizerGroup[]): NativeOptimizer;
  optimStep(o: NativeOptimizer): void;
  optimZeroGrad(o: NativeOptimizer): void;
  optimNumGroups(o: NativeOptimizer): number;
  optimGetLr(o: NativeOptimizer, group: number): number;
  optimSetLr(o: NativeOptimizer, group: number, lr: number): void;
  optimStateBytes(o: NativeOptimizer): ArrayBuffer;
  optimLoadStateBytes(o: NativeOptimizer, bytes: Uint8Array): void;
  optimDispose(o: NativeOptimizer): void;
  clipGradNorm(params: H[], maxNorm: number, normType: number): number;
}

/** The package root (src/core/package-root.ts); the engine cannot load without it. */
function packageRoot(): string {
  const root = findPackageRoot();
  if (root === null) throw new EngineError('engine: cannot find the audiotag package root');
  return root;
}

/**
 * Environment variables the engine set for itself before libtorch loaded (so they can be kept from child
 * processes that should run with the user's environment, like the PyTorch peer of the benchmarks).
 */
export const engineEnvDefaults: Readonly<Record<string, string>> = threadDefaults();

/**
 * libtorch's OpenMP runtime (libgomp) reads its wait policy once, when it loads with the addon. By default
 * an idle OpenMP thread spins for a while before sleeping; on a machine whose cores are shared (other
 * processes, or the loader's workers) a spinning thread takes the core from the thread that has work, so
 * 2 threads ran slower than 1 and burnt ~50 % more CPU per training step (docs/engine.md, Threads). A
 * passive policy makes waiting threads sleep. The user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT wins;
 * AUDIOTAG_OMP_WAIT=default keeps libgomp's default.
 */
function threadDefaults(): Record<string, string> {
  const env = process.env;
  if (env.AUDIOTAG_OMP_WAIT === 'default' || env.OMP_WAIT_POLICY || env.GOMP_SPINCOUNT) return {};
  env.OMP_WAIT_POLICY = 'passive';
  return { OMP_WAIT_POLICY: 'passive' };
}

/** process.env without the variables the engine set for itself. */
export function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(engineEnvDefaults)) delete env[k];
  return env;
}

/** The caching CPU allocator's counters (native/src/allocator.cc). */
export interface CpuCacheStats {
  installed: boolean;
  /** Bytes mapped by the cache: blocks in use plus cached free ones. */
  mappedBytes: number;
  /** Free bytes kept for reuse (at most limitBytes). */
  cachedBytes: number;
  limitBytes: number;
  hits: number;
  misses: number;
  evictions: number;
}

function load(): NativeAddon {
  // AUDIOTAG_NATIVE points at another build (for example one made with LIBTORCH_DIR=... elsewhere).
  const path = process.env.AUDIOTAG_NATIVE || join(packageRoot(), 'build', 'Release', 'audiotag_native.node');
  if (!existsSync(path)) {
    throw new EngineError(
      `engine: the native addon ${path} is missing; run \`make setup\` (or \`make native\`) in the audiotag checkout to build it`,
    );
  }
  const require = createRequire(import.meta.url);
  let addon: NativeAddon;
  try {
    addon = require(path) as NativeAddon;
  } catch (e) {
    throw new EngineError(
      `engine: cannot load ${path}: ${(e as Error).message}. Rebuild it with \`make native\` (libtorch-dev must be installed)`,
    );
  }
  addon.setErrorClass(EngineError);
  return addon;
}

export const N: NativeAddon = load();
