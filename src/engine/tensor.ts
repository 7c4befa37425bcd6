// The Tensor class: a handle on a libtorch tensor. Every op returns a new Tensor (tracked by the
// current tidy scope); in-place ops end in `_` and return `this`.
import type { NDArray } from '../core/ndarray.js';
import {
  checkDevice,
  checkInt,
  checkInts,
  checkTargetShape,
  type Device,
  type DType,
  dtypeCode,
  dtypeFromCode,
  isDevice,
  isDType,
  isFloating,
  type MemoryFormat,
  memoryFormatCode,
  numel,
  type Shape,
} from './dtype.js';
import { fail } from './errors.js';
import { N, type NativeHandle } from './native.js';
import { type ScopedTensor, TENSOR_BRAND, track, untrack } from './scope.js';

type Other = Tensor | number;
type Dim = number | readonly number[];

let handleOf: (t: Tensor) => NativeHandle | null;

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'an object';
  return typeof x;
}

/** @internal The native handle of t, or an EngineError naming op. */
export function H(t: unknown, op: string, what = 'argument'): NativeHandle {
  if (!(t instanceof Tensor)) fail(op, `${what} must be a Tensor, got ${describe(t)}`);
  const h = handleOf(t);
  if (h === null) fail(op, 'tensor used after dispose()');
  return h;
}

/** @internal Handle or null for optional tensor arguments. */
export function optH(t: unknown, op: string, what: string): NativeHandle | null {
  return t === undefined || t === null ? null : H(t, op, what);
}

/** @internal A tensor operand or a plain number. */
export function O(o: unknown, op: string): NativeHandle | number {
  if (typeof o === 'number') return o;
  if (!(o instanceof Tensor)) fail(op, `the other operand must be a Tensor or a number, got ${describe(o)}`);
  return H(o, op);
}

/** @internal Handles of a tensor list. */
export function HList(ts: unknown, op: string, what = 'tensors'): NativeHandle[] {
  if (!Array.isArray(ts)) fail(op, `${what} must be an array of Tensors, got ${describe(ts)}`);
  return ts.map((t, i) => H(t, op, `${what}[${i}]`));
}

/** @internal Wraps a native result. */
export function wrap(h: NativeHandle): Tensor {
  return new Tensor(h);
}

/** null for "every dim", else a list. */
function dims(op: string, dim: Dim | undefined | null): number[] | null {
  if (dim === undefined || dim === null) return null;
  if (typeof dim === 'number') return [checkInt(op, 'dim', dim)];
  return checkInts(op, 'dim', dim);
}

function optDim(op: string, dim: number | undefined | null): number | null {
  return dim === undefined || dim === null ? null : checkInt(op, 'dim', dim);
}

export class Tensor implements ScopedTensor {
  #h: NativeHandle | null;
  #shape: number[] | undefined;
  #dtype: DType | undefined;
  /** @internal */
  _scope: ScopedTensor[] | null = null;
  readonly [TENSOR_BRAND] = true;

  static {
    handleOf = (t) => t.#h;
  }

  /** @internal Tensors are made by the engine's functions, never constructed directly. */
  constructor(handle: NativeHandle) {
    this.#h = handle;
    track(this);
  }

  // ---- metadata
  get disposed(): boolean {
    return this.#h === null;
  }
  get shape(): number[] {
    this.#shape ??= N.shape(H(this, 'shape'));
    return [...this.#shape];
  }
  get dtype(): DType {
    this.#dtype ??= dtypeFromCode(N.dtype(H(this, 'dtype')));
    return this.#dtype;
  }
  get device(): Device {
    return N.device(H(this, 'device'));
  }
  get ndim(): number {
    this.#shape ??= N.shape(H(this, 'ndim'));
    return this.#shape.length;
  }
  get numel(): number {
    this.#shape ??= N.shape(H(this, 'numel'));
    return numel(this.#shape);
  }
  /** Size of one dim (negative counts from the end). */
  size(dim: number): number {
    const s = this.shape;
    const d = dim < 0 ? dim + s.length : dim;
    if (!Number.isInteger(d) || d < 0 || d >= s.length)
      fail('size', `dim ${dim} is out of range for ${s.length} dims`);
    return s[d]!;
  }
  isContiguous(format?: MemoryFormat): boolean {
    if (format !== undefined)
      return N.isContiguousFormat(H(this, 'isContiguous'), memoryFormatCode('isContiguous', format));
    return N.isContiguous(H(this, 'isContiguous'));
  }
  toString(): string {
    if (this.disposed) return 'Tensor(disposed)';
    return `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  // ---- memory
  /** Frees the libtorch memory now (unless a view, the autograd graph or an optimiser still uses it). */
  dispose(): void {
    if (this.#h === null) return;
    N.dispose(this.#h);
    this.#h = null;
    untrack();
  }

  // ---- autograd
  get requiresGrad(): boolean {
    return N.requiresGrad(H(this, 'requiresGrad'));
  }
  set requiresGrad(on: boolean) {
    const h = H(this, 'requiresGrad');
    if (on === true && !isFloating(this.dtype)) {
      fail('requiresGrad', `only floating point tensors can require gradients, not ${this.dtype}`);
    }
    N.setRequiresGrad(h, on === true);
  }
  get isLeaf(): boolean {
    return N.isLeaf(H(this, 'isLeaf'));
  }
  /** A new handle on .grad at each access (dispose it or read it inside tidy), or null. */
  get grad(): Tensor | null {
    const g = N.grad(H(this, 'grad'));
    return g === null ? null : wrap(g);
  }
  /** grad = None. */
  zeroGrad(): void {
    N.zeroGrad(H(this, 'zeroGrad'));
  }
  /** Keeps .grad on a non-leaf tensor after backward. */
  retainGrad(): this {
    N.retainGrad(H(this, 'retainGrad'));
    return this;
  }
  backward(grad?: Tensor | null, opts: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    const createGraph = opts.createGraph === true;
    N.backward(
      H(this, 'backward'),
      optH(grad, 'backward', 'grad'),
      opts.retainGraph ?? createGraph,
      createGraph,
    );
  }
  detach(): Tensor {
    return wrap(N.detach(H(this, 'detach')));
  }
  clone(): Tensor {
    return wrap(N.clone(H(this, 'clone')));
  }
  /**
   * A contiguous copy (the tensor itself when already contiguous); `format` picks the layout:
   * 'channels-last' stores a 4-D [N, C, H, W] tensor as NHWC in memory (shape unchanged), which oneDNN
   * convolutions, batch norm and pooling run faster on (see docs/engine.md, Speed).
   */
  contiguous(format?: MemoryFormat): Tensor {
    if (format === undefined) return wrap(N.contiguous(H(this, 'contiguous')));
    return wrap(N.contiguousFormat(H(this, 'contiguous'), memoryFormatCode('contiguous', format)));
  }
  to(target: DType | Device | { dtype?: DType; device?: Device }): Tensor {
    const h = H(this, 'to');
    let dtype: number | null = null;
    let device: string | null = null;
    if (typeof target === 'string') {
      if (isDType(target)) dtype = dtypeCode('to', target);
      else if (isDevice(target)) device = target;
      else fail('to', `unknown dtype or device ${JSON.stringify(target)}`);
    } else if (typeof target === 'object' && target !== null) {
      if (target.dtype !== undefined) dtype = dtypeCode('to', target.dtype);
      if (target.device !== undefined) device = checkDevice('to', target.device);
    } else {
      fail('to', `expected a dtype, a device or { dtype, device }, got ${describe(target)}`);
    }
    return wrap(N.to(h, dtype, device));
  }
  cpu(): Tensor {
    return wrap(N.to(H(this, 'cpu'), null, 'cpu'));
  }
  cuda(index = 0): Tensor {
    return wrap(N.to(H(this, 'cuda'), null, `cuda:${index}`));
  }

  // ---- data out (copies to the CPU)
  toFloat32Array(): Float32Array {
    return new Float32Array(N.toBuffer(H(this, 'toFloat32Array'), 0));
  }
  toFloat64Array(): Float64Array {
    return new Float64Array(N.toBuffer(H(this, 'toFloat64Array'), 1));
  }
  toInt32Array(): Int32Array {
    return new Int32Array(N.toBuffer(H(this, 'toInt32Array'), 3));
  }
  toBigInt64Array(): BigInt64Array {
    return new BigInt64Array(N.toBuffer(H(this, 'toBigInt64Array'), 2));
  }
  toUint8Array(): Uint8Array {
    return new Uint8Array(N.toBuffer(H(this, 'toUint8Array'), 5));
  }
  /** Row-major values as numbers (int64 beyond 2^53 loses precision; bool gives 0/1). */
  toArray(): number[] {
    return Array.from(new Float64Array(N.toBuffer(H(this, 'toArray'), 1)));
  }
  /** The value of a one-element tensor. */
  item(): number {
    return N.item(H(this, 'item'));
  }
  /** A float32 NDArray copy. */
  toNDArray(): NDArray {
    return { data: this.toFloat32Array(), shape: this.shape };
  }

  // ---- views and indexing
  reshape(shape: Shape): Tensor {
    return wrap(N.reshape(H(this, 'reshape'), checkTargetShape('reshape', shape)));
  }
  view(shape: Shape): Tensor {
    return wrap(N.view(H(this, 'view'), checkTargetShape('view', shape)));
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return wrap(N.flatten(H(this, 'flatten'), startDim, endDim));
  }
  permute(dimsOrder: Shape): Tensor {
    return wrap(N.permute(H(this, 'permute'), checkInts('permute', 'dims', dimsOrder)));
  }
  transpose(d0: number, d1: number): Tensor {
    return wrap(N.transpose(H(this, 'transpose'), d0, d1));
  }
  t(): Tensor {
    return wrap(N.t(H(this, 't')));
  }
  /** Like x[start:end:step] along dim; start/end may be negative, step must be positive. */
  slice(dim: number, start?: number | null, end?: number | null, step = 1): Tensor {
    return wrap(N.slice(H(this, 'slice'), dim, start ?? null, end ?? null, step));
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return wrap(N.narrow(H(this, 'narrow'), dim, start, length));
  }
  select(dim: number, index: number): Tensor {
    return wrap(N.select(H(this, 'select'), dim, index));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return wrap(N.indexSelect(H(this, 'indexSelect'), dim, H(index, 'indexSelect', 'index')));
  }
  gather(dim: number, index: Tensor): Tensor {
    return wrap(N.gather(H(this, 'gather'), dim, H(index, 'gather', 'index')));
  }
  scatter(dim: number, index: Tensor, src: Tensor | number): Tensor {
    return wrap(N.scatter(H(this, 'scatter'), dim, H(index, 'scatter', 'index'), O(src, 'scatter')));
  }
  maskedFill(mask: Tensor, value: Tensor | number): Tensor {
    return wrap(N.maskedFill(H(this, 'maskedFill'), H(mask, 'maskedFill', 'mask'), O(value, 'maskedFill')));
  }
  expand(shape: Shape): Tensor {
    return wrap(N.expand(H(this, 'expand'), checkTargetShape('expand', shape)));
  }
  squeeze(dim?: number): Tensor {
    return wrap(N.squeeze(H(this, 'squeeze'), optDim('squeeze', dim)));
  }
  unsqueeze(dim: number): Tensor {
    return wrap(N.unsqueeze(H(this, 'unsqueeze'), dim));
  }
  repeat(reps: Shape): Tensor {
    return wrap(N.repeat(H(this, 'repeat'), checkInts('repeat', 'reps', reps)));
  }
  flip(dimsToFlip: number | readonly number[]): Tensor {
    return wrap(N.flip(H(this, 'flip'), dims('flip', dimsToFlip)!));
  }
  roll(shifts: number | readonly number[], dimsToRoll: number | readonly number[]): Tensor {
    return wrap(N.roll(H(this, 'roll'), dims('roll', shifts)!, dims('roll', dimsToRoll)!));
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return N.chunk(H(this, 'chunk'), chunks, dim).map(wrap);
  }
  /** Splits into pieces of `sizes` (a number: equal pieces, the last may be smaller). */
  split(sizes: number | readonly number[], dim = 0): Tensor[] {
    const h = H(this, 'split');
    let list: number[];
    if (typeof sizes === 'number') {
      if (!Number.isInteger(sizes) || sizes < 1)
        fail('split', `size must be a positive integer, got ${sizes}`);
      const n = this.size(dim);
      list = [];
      for (let s = 0; s < n; s += sizes) list.push(Math.min(sizes, n - s));
    } else {
      list = checkInts('split', 'sizes', sizes);
    }
    return N.split(h, list, dim).map(wrap);
  }
  tril(diagonal = 0): Tensor {
    return wrap(N.tril(H(this, 'tril'), diagonal));
  }
  triu(diagonal = 0): Tensor {
    return wrap(N.triu(H(this, 'triu'), diagonal));
  }

  // ---- elementwise (broadcasting as in PyTorch)
  add(o: Other, alpha = 1): Tensor {
    return wrap(N.add(H(this, 'add'), O(o, 'add'), alpha));
  }
  sub(o: Other, alpha = 1): Tensor {
    return wrap(N.sub(H(this, 'sub'), O(o, 'sub'), alpha));
  }
  /** o - this, for a number o. */
  rsub(o: number): Tensor {
    return wrap(N.rsub(H(this, 'rsub'), o));
  }
  mul(o: Other): Tensor {
    return wrap(N.mul(H(this, 'mul'), O(o, 'mul')));
  }
  div(o: Other): Tensor {
    return wrap(N.div(H(this, 'div'), O(o, 'div')));
  }
  pow(o: Other): Tensor {
    return wrap(N.pow(H(this, 'pow'), O(o, 'pow')));
  }
  remainder(o: Other): Tensor {
    return wrap(N.remainder(H(this, 'remainder'), O(o, 'remainder')));
  }
  neg(): Tensor {
    return wrap(N.neg(H(this, 'neg')));
  }
  exp(): Tensor {
    return wrap(N.exp(H(this, 'exp')));
  }
  log(): Tensor {
    return wrap(N.log(H(this, 'log')));
  }
  log1p(): Tensor {
    return wrap(N.log1p(H(this, 'log1p')));
  }
  sqrt(): Tensor {
    return wrap(N.sqrt(H(this, 'sqrt')));
  }
  rsqrt(): Tensor {
    return wrap(N.rsqrt(H(this, 'rsqrt')));
  }
  abs(): Tensor {
    return wrap(N.abs(H(this, 'abs')));
  }
  sign(): Tensor {
    return wrap(N.sign(H(this, 'sign')));
  }
  sin(): Tensor {
    return wrap(N.sin(H(this, 'sin')));
  }
  cos(): Tensor {
    return wrap(N.cos(H(this, 'cos')));
  }
  floor(): Tensor {
    return wrap(N.floor(H(this, 'floor')));
  }
  ceil(): Tensor {
    return wrap(N.ceil(H(this, 'ceil')));
  }
  round(): Tensor {
    return wrap(N.round(H(this, 'round')));
  }
  reciprocal(): Tensor {
    return wrap(N.reciprocal(H(this, 'reciprocal')));
  }
  square(): Tensor {
    return wrap(N.square(H(this, 'square')));
  }
  atan2(o: Tensor): Tensor {
    return wrap(N.atan2(H(this, 'atan2'), H(o, 'atan2')));
  }
  clamp(min?: number | null, max?: number | null): Tensor {
    if ((min ?? null) === null && (max ?? null) === null)
      fail('clamp', 'at least one of min and max is needed');
    return wrap(N.clamp(H(this, 'clamp'), min ?? null, max ?? null));
  }
  maximum(o: Tensor): Tensor {
    return wrap(N.maximum(H(this, 'maximum'), H(o, 'maximum')));
  }
  minimum(o: Tensor): Tensor {
    return wrap(N.minimum(H(this, 'minimum'), H(o, 'minimum')));
  }
  eq(o: Other): Tensor {
    return wrap(N.eq(H(this, 'eq'), O(o, 'eq')));
  }
  ne(o: Other): Tensor {
    return wrap(N.ne(H(this, 'ne'), O(o, 'ne')));
  }
  lt(o: Other): Tensor {
    return wrap(N.lt(H(this, 'lt'), O(o, 'lt')));
  }
  le(o: Other): Tensor {
    return wrap(N.le(H(this, 'le'), O(o, 'le')));
  }
  gt(o: Other): Tensor {
    return wrap(N.gt(H(this, 'gt'), O(o, 'gt')));
  }
  ge(o: Other): Tensor {
    return wrap(N.ge(H(this, 'ge'), O(o, 'ge')));
  }
  logicalNot(): Tensor {
    return wrap(N.logicalNot(H(this, 'logicalNot')));
  }
  logicalAnd(o: Tensor): Tensor {
    return wrap(N.logicalAnd(H(this, 'logicalAnd'), H(o, 'logicalAnd')));
  }
  logicalOr(o: Tensor): Tensor {
    return wrap(N.logicalOr(H(this, 'logicalOr'), H(o, 'logicalOr')));
  }
  isnan(): Tensor {
    return wrap(N.isnan(H(this, 'isnan')));
  }
  isfinite(): Tensor {
    return wrap(N.isfinite(H(this, 'isfinite')));
  }

  // ---- reductions (dim undefined = every dim)
  sum(dim?: Dim, keepdim = false): Tensor {
    return wrap(N.sum(H(this, 'sum'), dims('sum', dim), keepdim));
  }
  mean(dim?: Dim, keepdim = false): Tensor {
    return wrap(N.mean(H(this, 'mean'), dims('mean', dim), keepdim));
  }
  prod(dim?: number, keepdim = false): Tensor {
    return wrap(N.prod(H(this, 'prod'), optDim('prod', dim), keepdim));
  }
  /** Values only (see argmax for indices); along a dim the gradient goes to the chosen element. */
  max(dim?: number, keepdim = false): Tensor {
    return wrap(N.max(H(this, 'max'), optDim('max', dim), keepdim));
  }
  min(dim?: number, keepdim = false): Tensor {
    return wrap(N.min(H(this, 'min'), optDim('min', dim), keepdim));
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return wrap(N.argmax(H(this, 'argmax'), optDim('argmax', dim), keepdim));
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return wrap(N.argmin(H(this, 'argmin'), optDim('argmin', dim), keepdim));
  }
  logsumexp(dim: Dim, keepdim = false): Tensor {
    const d = dims('logsumexp', dim);
    if (d === null) fail('logsumexp', 'dim is required');
    return wrap(N.logsumexp(H(this, 'logsumexp'), d, keepdim));
  }
  /** Variance; unbiased (n - 1) by default, as in PyTorch. */
  var(dim?: Dim, opts: { unbiased?: boolean; keepdim?: boolean } = {}): Tensor {
    return wrap(N.var(H(this, 'var'), dims('var', dim), opts.unbiased ?? true, opts.keepdim ?? false));
  }
  std(dim?: Dim, opts: { unbiased?: boolean; keepdim?: boolean } = {}): Tensor {
    return wrap(N.std(H(this, 'std'), dims('std', dim), opts.unbiased ?? true, opts.keepdim ?? false));
  }
  norm(p = 2, dim?: Dim, keepdim = false): Tensor {
    return wrap(N.norm(H(this, 'norm'), p, dims('norm', dim), keepdim));
  }
  topk(
    k: number,
    dim = -1,
    opts: { largest?: boolean; sorted?: boolean } = {},
  ): { values: Tensor; indices: Tensor } {
    const [v, i] = N.topk(H(this, 'topk'), k, dim, opts.largest ?? true, opts.sorted ?? true);
    return { values: wrap(v), indices: wrap(i) };
  }
  sort(dim = -1, descending = false): { values: Tensor; indices: Tensor } {
    const [v, i] = N.sort(H(this, 'sort'), dim, descending);
    return { values: wrap(v), indices: wrap(i) };
  }
  cumsum(dim: number): Tensor {
    return wrap(N.cumsum(H(this, 'cumsum'), dim));
  }
  any(dim?: number, keepdim = false): Tensor {
    return wrap(N.any(H(this, 'any'), optDim('any', dim), keepdim));
  }
  all(dim?: number, keepdim = false): Tensor {
    return wrap(N.all(H(this, 'all'), optDim('all', dim), keepdim));
  }

  // ---- linear algebra
  matmul(o: Tensor): Tensor {
    return wrap(N.matmul(H(this, 'matmul'), H(o, 'matmul')));
  }
  bmm(o: Tensor): Tensor {
    return wrap(N.bmm(H(this, 'bmm'), H(o, 'bmm')));
  }
  outer(o: Tensor): Tensor {
    return wrap(N.outer(H(this, 'outer'), H(o, 'outer')));
  }

  // ---- activations
  softmax(dim: number): Tensor {
    return wrap(N.softmax(H(this, 'softmax'), dim));
  }
  logSoftmax(dim: number): Tensor {
    return wrap(N.logSoftmax(H(this, 'logSoftmax'), dim));
  }
  sigmoid(): Tensor {
    return wrap(N.sigmoid(H(this, 'sigmoid')));
  }
  logSigmoid(): Tensor {
    return wrap(N.logSigmoid(H(this, 'logSigmoid')));
  }
  relu(): Tensor {
    return wrap(N.relu(H(this, 'relu')));
  }
  leakyRelu(slope = 0.01): Tensor {
    return wrap(N.leakyRelu(H(this, 'leakyRelu'), slope));
  }
  /** approximate: 'none' (erf, PyTorch's default) or 'tanh'. */
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor {
    return wrap(N.gelu(H(this, 'gelu'), approximate));
  }
  silu(): Tensor {
    return wrap(N.silu(H(this, 'silu')));
  }
  elu(alpha = 1): Tensor {
    return wrap(N.elu(H(this, 'elu'), alpha));
  }
  tanh(): Tensor {
    return wrap(N.tanh(H(this, 'tanh')));
  }
  softplus(beta = 1, threshold = 20): Tensor {
    return wrap(N.softplus(H(this, 'softplus'), beta, threshold));
  }

  // ---- in place (libtorch refuses these on a leaf that requires grad unless inside noGrad)
  copy_(src: Tensor): this {
    N.copy_(H(this, 'copy_'), H(src, 'copy_', 'src'));
    return this;
  }
  fill_(v: number): this {
    N.fill_(H(this, 'fill_'), v);
    return this;
  }
  zero_(): this {
    N.zero_(H(this, 'zero_'));
    return this;
  }
  mul_(o: Other): this {
    N.mul_(H(this, 'mul_'), O(o, 'mul_'));
    return this;
  }
  add_(o: Other, alpha = 1): this {
    N.add_(H(this, 'add_'), O(o, 'add_'), alpha);
    return this;
  }
  clamp_(min?: number | null, max?: number | null): this {
    if ((min ?? null) === null && (max ?? null) === null)
      fail('clamp_', 'at least one of min and max is needed');
    N.clamp_(H(this, 'clamp_'), min ?? null, max ?? null);
    return this;
  }
  uniform_(lo: number, hi: number): this {
    N.uniform_(H(this, 'uniform_'), lo, hi);
    return this;
  }
  normal_(mean: number, std: number): this {
    N.normal_(H(this, 'normal_'), mean, std);
    return this;
  }
}
