// Sequential and ModuleList: children named '0', '1', … as in PyTorch, so state-dict keys such as
// `features.0.weight` line up with PyTorch models.

import type { Tensor } from '../engine/index.js';
import { type AnyModule, Module } from './module.js';

/** A module of one tensor in, one tensor out: what a Sequential chains. */
export type TensorModule = Module<[Tensor], Tensor>;

/** Runs its children in order, each on the previous one's output. */
export class Sequential extends Module {
  private readonly items: TensorModule[] = [];
  constructor(...modules: TensorModule[]) {
    super();
    for (const m of modules) this.append(m);
  }
  append(m: TensorModule): this {
    this.registerModule(String(this.items.length), m);
    this.items.push(m);
    return this;
  }
  get length(): number {
    return this.items.length;
  }
  /** The i-th child (negative counts from the end). */
  get(i: number): TensorModule {
    const m = this.items[i < 0 ? this.items.length + i : i];
    if (!m) throw new Error(`Sequential: no child ${i} (length ${this.items.length})`);
    return m;
  }
  [Symbol.iterator](): Iterator<TensorModule> {
    return this.items[Symbol.iterator]();
  }
  forward(x: Tensor): Tensor {
    // Intermediate handles are dropped as soon as the next layer has run: autograd keeps what backward
    // needs through libtorch's own references, and without grad this frees activations early.
    return pipe(x, ...this.items.map((m) => (t: Tensor) => m.call(t)));
  }
}

/** A list of sub-modules, registered so their parameters are found; it has no forward of its own. */
export class ModuleList<M extends AnyModule = AnyModule> extends Module<never[], never> {
  private readonly items: M[] = [];
  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }
  append(m: M): this {
    this.registerModule(String(this.items.length), m);
    this.items.push(m);
    return this;
  }
  get length(): number {
    return this.items.length;
  }
  get(i: number): M {
    const m = this.items[i < 0 ? this.items.length + i : i];
    if (!m) throw new Error(`ModuleList: no item ${i} (length ${this.items.length})`);
    return m;
  }
  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
  forward(): never {
    throw new Error('ModuleList has no forward(); iterate over it in the parent module');
  }
}

/**
 * Applies `steps` in order to `x` and returns the last result, disposing each intermediate handle as soon
 * as the next step has used it (never `x` itself). Handy in hand-written forwards; see Sequential.
 */
export function pipe(x: Tensor, ...steps: ((t: Tensor) => Tensor)[]): Tensor {
  let y = x;
  for (const step of steps) {
    const next = step(y);
    if (y !== x && next !== y) y.dispose();
    y = next;
  }
  return y;
}
