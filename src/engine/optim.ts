// Optimisers: libtorch's torch::optim SGD, Adam and AdamW (so an update equals PyTorch's), with
// parameter groups, learning-rate access, state save/load, and clipGradNorm.
import { fail } from './errors.js';
import { N, type NativeOptimizer, type NativeOptimizerGroup } from './native.js';
import { HList, type Tensor } from './tensor.js';

export interface ParamGroup<O> {
  params: Tensor[];
  /** Overrides of the optimiser's options for this group (lr, weightDecay...). */
  lr?: number;
  weightDecay?: number;
  options?: Partial<O>;
}
export type Params<O> = Tensor[] | ParamGroup<O>[];

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export interface AdamOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
}

const KIND = { SGD: 0, Adam: 1, AdamW: 2 } as const;

function num(op: string, name: string, v: unknown, min = 0): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
    fail(op, `${name} must be a number >= ${min}, got ${String(v)}`);
  return v;
}

/** Shared by the three optimisers: holds the torch::optim object. */
export abstract class Optimizer {
  #o: NativeOptimizer | null;
  readonly #name: string;

  protected constructor(name: string, kind: number, groups: NativeOptimizerGroup[]) {
    this.#name = name;
    this.#o = N.optimCreate(kind, groups);
  }

  #h(op: string): NativeOptimizer {
    if (this.#o === null) fail(`${this.#name}.${op}`, 'optimizer used after dispose()');
    return this.#o;
  }

  /** One update of every parameter that has a gradient (runs without grad recording). */
  step(): void {
    N.optimStep(this.#h('step'));
  }

  /** Sets every parameter's grad to None. */
  zeroGrad(): void {
    N.optimZeroGrad(this.#h('zeroGrad'));
  }

  get numGroups(): number {
    return N.optimNumGroups(this.#h('numGroups'));
  }

  /** The learning rate of group 0; setting it sets every group. */
  get lr(): number {
    return N.optimGetLr(this.#h('lr'), 0);
  }
  set lr(lr: number) {
    const o = this.#h('lr');
    num(`${this.#name}.lr`, 'lr', lr);
    const n = N.optimNumGroups(o);
    for (let g = 0; g < n; g++) N.optimSetLr(o, g, lr);
  }

  getLr(groupIndex: number): number {
    return N.optimGetLr(this.#h('getLr'), groupIndex);
  }

  setLr(groupIndex: number, lr: number): void {
    N.optimSetLr(this.#h('setLr'), groupIndex, num(`${this.#name}.setLr`, 'lr', lr));
  }

  /** torch::serialize bytes of the per-parameter state and the group options, for resuming. */
  stateBytes(): Uint8Array {
    return new Uint8Array(N.optimStateBytes(this.#h('stateBytes')));
  }

  /** Restores stateBytes() output into an optimiser over the same parameter shapes and groups. */
  loadStateBytes(b: Uint8Array): void {
    if (!(b instanceof Uint8Array)) fail(`${this.#name}.loadStateBytes`, 'expected a Uint8Array');
    N.optimLoadStateBytes(this.#h('loadStateBytes'), b);
  }

  /** Frees the optimiser state (momentum buffers, Adam moments). */
  dispose(): void {
    if (this.#o !== null) N.optimDispose(this.#o);
    this.#o = null;
  }

  get disposed(): boolean {
    return this.#o === null;
  }
}

function groups<O extends { lr: number; weightDecay?: number }>(
  op: string,
  params: Params<O>,
  full: (o: O) => Record<string, number | boolean>,
  defaults: O,
): NativeOptimizerGroup[] {
  if (!Array.isArray(params) || params.length === 0) fail(op, 'params must be a non-empty array');
  const isGroups = params.every(
    (p) => typeof p === 'object' && p !== null && Array.isArray((p as ParamGroup<O>).params),
  );
  const list: ParamGroup<O>[] = isGroups ? (params as ParamGroup<O>[]) : [{ params: params as Tensor[] }];
  return list.map((g, i) => {
    const o: O = { ...defaults, ...(g.options ?? {}) };
    if (g.lr !== undefined) o.lr = g.lr;
    if (g.weightDecay !== undefined) o.weightDecay = g.weightDecay;
    return { params: HList(g.params, op, `group ${i} params`), options: full(o) };
  });
}

/** SGD with optional momentum, dampening, Nesterov momentum and (coupled, L2) weight decay. */
export class SGD extends Optimizer {
  constructor(params: Params<SGDOptions>, o: SGDOptions) {
    const op = 'SGD';
    const full = (x: SGDOptions) => ({
      lr: num(op, 'lr', x.lr),
      momentum: num(op, 'momentum', x.momentum ?? 0),
      dampening: num(op, 'dampening', x.dampening ?? 0),
      weightDecay: num(op, 'weightDecay', x.weightDecay ?? 0),
      nesterov: x.nesterov ?? false,
    });
    const gs = groups(op, params, full, o);
    for (const g of gs) {
      if (g.options.nesterov && ((g.options.momentum as number) <= 0 || g.options.dampening !== 0)) {
        fail(op, 'nesterov needs momentum > 0 and dampening 0');
      }
    }
    super(op, KIND.SGD, gs);
  }
}

function adamFull(op: string, dfltWd: number) {
  return (x: AdamOptions) => {
    const [b1, b2] = x.betas ?? [0.9, 0.999];
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1)) fail(op, `betas must be in [0, 1), got [${b1}, ${b2}]`);
    return {
      lr: num(op, 'lr', x.lr),
      beta1: b1,
      beta2: b2,
      eps: num(op, 'eps', x.eps ?? 1e-8),
      weightDecay: num(op, 'weightDecay', x.weightDecay ?? dfltWd),
      amsgrad: x.amsgrad ?? false,
    };
  };
}

/** Adam (weight decay added to the gradient, as torch.optim.Adam). */
export class Adam extends Optimizer {
  constructor(params: Params<AdamOptions>, o: AdamOptions) {
    super('Adam', KIND.Adam, groups('Adam', params, adamFull('Adam', 0), o));
  }
}

/** AdamW: decoupled weight decay (default 0.01, as torch.optim.AdamW). */
export class AdamW extends Optimizer {
  constructor(params: Params<AdamOptions>, o: AdamOptions) {
    super('AdamW', KIND.AdamW, groups('AdamW', params, adamFull('AdamW', 0.01), o));
  }
}

/**
 * Scales the gradients of params so their joint normType-norm is at most maxNorm; returns the norm
 * before clipping (as torch.nn.utils.clip_grad_norm_). Parameters without a gradient are skipped.
 */
export function clipGradNorm(params: Tensor[], maxNorm: number, normType = 2): number {
  const op = 'clipGradNorm';
  num(op, 'maxNorm', maxNorm);
  if (typeof normType !== 'number' || !(normType > 0)) fail(op, `normType must be positive, got ${normType}`);
  return N.clipGradNorm(HList(params, op, 'params'), maxNorm, normType);
}
