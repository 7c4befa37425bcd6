// Creating tensors (from JS data, constants, ranges, random numbers, raw bytes) and the engine-wide
// switches: threads, grad mode, devices.
import type { NDArray } from '../core/ndarray.js';
import {
  checkDevice,
  checkInt,
  checkShape,
  type Device,
  DTYPE_BYTES,
  type DType,
  dtypeCode,
  isFloating,
  numel,
  type Shape,
} from './dtype.js';
import { EngineError, fail } from './errors.js';
import { N } from './native.js';
import { H, HList, O, type Tensor, wrap } from './tensor.js';

export interface CreateOpts {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

type Data =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | number[]
  | boolean[]
  | number;

function resolve(
  op: string,
  opts: CreateOpts | undefined,
  dflt: DType,
): { dtype: number; device: string; rg: boolean } {
  const o = opts ?? {};
  if (typeof o !== 'object') fail(op, `options must be an object, got ${typeof o}`);
  const dtype = o.dtype ?? dflt;
  const code = dtypeCode(op, dtype);
  const rg = o.requiresGrad === true;
  if (rg && !isFloating(dtype)) fail(op, `only floating point tensors can require gradients, not ${dtype}`);
  return { dtype: code, device: o.device === undefined ? 'cpu' : checkDevice(op, o.device), rg };
}

function finish(t: Tensor, rg: boolean): Tensor {
  if (rg) t.requiresGrad = true;
  return t;
}

/**
 * A tensor from JS data (copied). Typed arrays keep their dtype (Float32Array → float32, Float64Array →
 * float64, Int32Array → int32, BigInt64Array → int64, Uint8Array → uint8) unless opts.dtype converts;
 * number[] gives float32 unless opts.dtype; boolean[] gives bool; a number gives a 0-dim tensor.
 * shape defaults to [data.length].
 */
export function tensor(data: Data, shape?: Shape, opts?: CreateOpts): Tensor {
  const op = 'tensor';
  let src: ArrayBufferView & { length: number };
  let srcDtype: DType;
  let defaultShape: number[];
  if (typeof data === 'number') {
    src = new Float64Array([data]);
    srcDtype = 'float64';
    defaultShape = [];
  } else if (Array.isArray(data)) {
    if (data.length > 0 && typeof data[0] === 'boolean') {
      if (!data.every((v) => typeof v === 'boolean')) fail(op, 'data mixes booleans with other values');
      src = Uint8Array.from(data as boolean[], (v) => (v ? 1 : 0));
      srcDtype = 'bool';
    } else {
      if (!data.every((v) => typeof v === 'number')) fail(op, 'data must hold only numbers');
      // float32 data converts directly; other dtypes go through float64 so integers stay exact.
      const wanted = opts?.dtype ?? 'float32';
      if (wanted === 'float32') {
        src = Float32Array.from(data as number[]);
        srcDtype = 'float32';
      } else {
        src = Float64Array.from(data as number[]);
        srcDtype = 'float64';
      }
    }
    defaultShape = [data.length];
  } else if (data instanceof Float32Array) {
    [src, srcDtype, defaultShape] = [data, 'float32', [data.length]];
  } else if (data instanceof Float64Array) {
    [src, srcDtype, defaultShape] = [data, 'float64', [data.length]];
  } else if (data instanceof Int32Array) {
    [src, srcDtype, defaultShape] = [data, 'int32', [data.length]];
  } else if (data instanceof BigInt64Array) {
    [src, srcDtype, defaultShape] = [data, 'int64', [data.length]];
  } else if (data instanceof Uint8Array) {
    [src, srcDtype, defaultShape] = [data, 'uint8', [data.length]];
  } else {
    fail(
      op,
      `data must be a number, number[], boolean[], Float32Array, Float64Array, Int32Array, BigInt64Array or Uint8Array, got ${
        (data as object)?.constructor?.name ?? typeof data
      }`,
    );
  }
  const s = shape === undefined ? defaultShape : checkShape(op, shape);
  if (numel(s) !== src.length) {
    fail(op, `${src.length} values do not fit shape [${s.join(', ')}] (${numel(s)} expected)`);
  }
  const defaultDtype: DType = typeof data === 'number' ? 'float32' : srcDtype;
  const r = resolve(op, opts, defaultDtype);
  return wrap(N.fromBuffer(src, s, dtypeCode(op, srcDtype), r.dtype, r.device, r.rg));
}

/** A float32 tensor from an NDArray (copied). */
export function fromNDArray(a: NDArray, opts?: CreateOpts): Tensor {
  if (typeof a !== 'object' || a === null || !(a.data instanceof Float32Array)) {
    fail('fromNDArray', 'expected an NDArray { data: Float32Array, shape }');
  }
  return tensor(a.data, a.shape, opts);
}

export function zeros(shape: Shape, opts?: CreateOpts): Tensor {
  const r = resolve('zeros', opts, 'float32');
  return finish(wrap(N.zeros(checkShape('zeros', shape), r.dtype, r.device)), r.rg);
}

export function ones(shape: Shape, opts?: CreateOpts): Tensor {
  const r = resolve('ones', opts, 'float32');
  return finish(wrap(N.ones(checkShape('ones', shape), r.dtype, r.device)), r.rg);
}

/** Filled with value; float32 unless opts.dtype. */
export function full(shape: Shape, value: number, opts?: CreateOpts): Tensor {
  if (typeof value !== 'number') fail('full', `value must be a number, got ${typeof value}`);
  const r = resolve('full', opts, 'float32');
  return finish(wrap(N.full(checkShape('full', shape), value, r.dtype, r.device)), r.rg);
}

/** Uninitialised memory (for outputs that are overwritten at once). */
export function empty(shape: Shape, opts?: CreateOpts): Tensor {
  const r = resolve('empty', opts, 'float32');
  return finish(wrap(N.empty(checkShape('empty', shape), r.dtype, r.device)), r.rg);
}

/** Zeros with t's shape, dtype and device. */
export function zerosLike(t: Tensor): Tensor {
  return wrap(N.zerosLike(H(t, 'zerosLike')));
}

export function onesLike(t: Tensor): Tensor {
  return wrap(N.onesLike(H(t, 'onesLike')));
}

/**
 * arange(end) or arange(start, end, step = 1, opts). As in PyTorch the dtype is int64 when every
 * bound is an integer, float32 otherwise (unless opts.dtype).
 */
export function arange(end: number, opts?: CreateOpts): Tensor;
export function arange(start: number, end: number, step?: number, opts?: CreateOpts): Tensor;
export function arange(a: number, b?: number | CreateOpts, c?: number, d?: CreateOpts): Tensor {
  let start = 0;
  let end: number;
  let step = 1;
  let opts: CreateOpts | undefined;
  if (typeof b === 'number') {
    start = a;
    end = b;
    step = c ?? 1;
    opts = d;
  } else {
    end = a;
    opts = b;
  }
  for (const v of [start, end, step]) {
    if (typeof v !== 'number' || !Number.isFinite(v))
      fail('arange', `bounds must be finite numbers, got ${v}`);
  }
  if (step === 0) fail('arange', 'step must not be 0');
  const ints = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  const r = resolve('arange', opts, ints ? 'int64' : 'float32');
  return finish(wrap(N.arange(start, end, step, r.dtype, r.device)), r.rg);
}

export function linspace(start: number, end: number, steps: number, opts?: CreateOpts): Tensor {
  checkInt('linspace', 'steps', steps);
  const r = resolve('linspace', opts, 'float32');
  return finish(wrap(N.linspace(start, end, steps, r.dtype, r.device)), r.rg);
}

/** The n×n identity (or n×m when m is given). */
export function eye(n: number, opts?: CreateOpts): Tensor;
export function eye(n: number, m: number, opts?: CreateOpts): Tensor;
export function eye(n: number, b?: number | CreateOpts, c?: CreateOpts): Tensor {
  const m = typeof b === 'number' ? b : n;
  const opts = typeof b === 'number' ? c : b;
  checkInt('eye', 'n', n);
  checkInt('eye', 'm', m);
  const r = resolve('eye', opts, 'float32');
  return finish(wrap(N.eye(n, m, r.dtype, r.device)), r.rg);
}

export function cat(ts: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(ts) || ts.length === 0) fail('cat', 'expected a non-empty array of tensors');
  return wrap(N.cat(HList(ts, 'cat'), checkInt('cat', 'dim', dim)));
}

export function stack(ts: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(ts) || ts.length === 0) fail('stack', 'expected a non-empty array of tensors');
  return wrap(N.stack(HList(ts, 'stack'), checkInt('stack', 'dim', dim)));
}

/** a where cond is true, else b (either may be a number). */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  return wrap(N.where(H(cond, 'where', 'cond'), O(a, 'where'), O(b, 'where')));
}

// ---- random, on libtorch's default generator (CPU, and every CUDA device when present)

export function manualSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0)
    fail('manualSeed', `seed must be a non-negative integer, got ${seed}`);
  N.manualSeed(seed);
}

/** Uniform on [0, 1). */
export function rand(shape: Shape, opts?: CreateOpts): Tensor {
  const r = resolve('rand', opts, 'float32');
  return finish(wrap(N.rand(checkShape('rand', shape), r.dtype, r.device)), r.rg);
}

export function randn(shape: Shape, opts?: CreateOpts): Tensor {
  const r = resolve('randn', opts, 'float32');
  return finish(wrap(N.randn(checkShape('randn', shape), r.dtype, r.device)), r.rg);
}

/** Integers in [low, high); int64 unless opts.dtype. */
export function randint(low: number, high: number, shape: Shape, opts?: CreateOpts): Tensor {
  checkInt('randint', 'low', low);
  checkInt('randint', 'high', high);
  const r = resolve('randint', opts, 'int64');
  return wrap(N.randint(low, high, checkShape('randint', shape), r.dtype, r.device));
}

/** A random permutation of 0..n-1; int64 unless opts.dtype. */
export function randperm(n: number, opts?: CreateOpts): Tensor {
  checkInt('randperm', 'n', n);
  const r = resolve('randperm', opts, 'int64');
  return wrap(N.randperm(n, r.dtype, r.device));
}

/** 0/1 draws with the given probabilities (same dtype as probs). */
export function bernoulli(probs: Tensor): Tensor {
  return wrap(N.bernoulli(H(probs, 'bernoulli')));
}

/** Indices drawn from the rows of probs (int64). */
export function multinomial(probs: Tensor, numSamples: number, replacement = false): Tensor {
  return wrap(
    N.multinomial(H(probs, 'multinomial'), checkInt('multinomial', 'numSamples', numSamples), replacement),
  );
}

// ---- threads: libtorch's intra-op pool. The addon starts it at every usable core (OMP_NUM_THREADS wins).

export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) fail('setNumThreads', `expected a positive integer, got ${n}`);
  N.setNumThreads(n);
}

export function getNumThreads(): number {
  return N.getNumThreads();
}

// ---- autograd mode

/** Runs fn with gradient recording off (like torch.no_grad()); fn must be synchronous. */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn, 'noGrad');
}

/** Runs fn with gradient recording on, even inside noGrad. */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn, 'enableGrad');
}

function withGradMode<T>(on: boolean, fn: () => T, op: string): T {
  if (typeof fn !== 'function') fail(op, `expected a function, got ${typeof fn}`);
  const prev = N.isGradEnabled();
  N.setGradEnabled(on);
  let result: T;
  try {
    result = fn();
  } finally {
    N.setGradEnabled(prev);
  }
  if (typeof (result as { then?: unknown } | null)?.then === 'function') {
    throw new EngineError(
      `${op}: the function returned a Promise; async functions are not supported (the grad mode would not ` +
        'cover the code after an await)',
    );
  }
  return result;
}

export function isGradEnabled(): boolean {
  return N.isGradEnabled();
}

/** Sets the grad mode until changed again (noGrad is the scoped form). */
export function setGradEnabled(on: boolean): void {
  N.setGradEnabled(on === true);
}

// ---- devices

export function cudaIsAvailable(): boolean {
  return N.cudaIsAvailable();
}

export function cudaDeviceCount(): number {
  return N.cudaDeviceCount();
}

/** Waits for queued CUDA work (for timing); a no-op without CUDA. */
export function cudaSynchronize(device?: number): void {
  N.cudaSynchronize(device ?? null);
}

/** What the addon was built against. */
export function buildInfo(): {
  torchVersion: string;
  cuda: boolean;
  cxx11Abi: boolean;
  parallel: string;
  malloc: string;
} {
  return N.buildInfo();
}

// ---- raw bytes (safetensors): little-endian (the byte order of every platform libtorch runs on), row-major

/** The tensor's bytes, in its own dtype, contiguous, copied to the CPU. */
export function toBytes(t: Tensor): Uint8Array {
  return new Uint8Array(N.toBuffer(H(t, 'toBytes'), dtypeCode('toBytes', t.dtype)));
}

/** A tensor read from raw bytes (copied), for any dtype including float16/bfloat16. */
export function fromBytes(
  bytes: Uint8Array,
  shape: Shape,
  dtype: DType,
  opts: { device?: Device; requiresGrad?: boolean } = {},
): Tensor {
  const op = 'fromBytes';
  if (!(bytes instanceof Uint8Array)) fail(op, 'bytes must be a Uint8Array');
  const code = dtypeCode(op, dtype);
  const s = checkShape(op, shape);
  const expected = numel(s) * DTYPE_BYTES[dtype];
  if (bytes.byteLength !== expected) {
    fail(
      op,
      `${bytes.byteLength} bytes do not fit shape [${s.join(', ')}] of ${dtype} (${expected} expected)`,
    );
  }
  const device = opts.device === undefined ? 'cpu' : checkDevice(op, opts.device);
  return wrap(N.fromBuffer(bytes, s, code, code, device, opts.requiresGrad === true));
}
