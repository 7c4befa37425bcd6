// The Module base class: a tree of modules owning parameters (trainable tensors) and buffers (state such
// as BatchNorm's running statistics), with PyTorch's dotted state-dict names so checkpoints move between
// this project and PyTorch unchanged.
//
// Registration. A layer registers its tensors with `registerParameter` / `registerBuffer`; both install an
// accessor property of the same name, so `this.weight` reads (and assigning replaces) the registered
// tensor, as attribute access does in PyTorch. Sub-modules may be registered with `registerModule` or
// simply assigned to class fields: fields holding a Module are discovered (in declaration order) the
// first time the tree is walked. Arrays of modules are not discovered; use `ModuleList`.
//
// Ownership. A module owns its parameters and buffers: they are `keep`-ed so they survive an enclosing
// `tidy`, and `dispose()` frees them. `stateDict()` returns NEW detached handles that share storage with
// the module's tensors; the caller disposes them (or lets a `tidy` do it).

import type { Device, DType, Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';

export type StateDict = Record<string, Tensor>;

// biome-ignore lint/suspicious/noExplicitAny: a module of any signature, for containers and tree walks
export type AnyModule = Module<any, any>;

export interface LoadStateDictOptions {
  /** Require the keys to match exactly (default true). Shape mismatches are errors either way. */
  strict?: boolean;
}

export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

export type ToTarget = Device | DType | { device?: Device; dtype?: DType };

const FLOAT_DTYPES: ReadonlySet<DType> = new Set(['float32', 'float64', 'float16', 'bfloat16']);
const DTYPE_NAMES: ReadonlySet<string> = new Set(E.DTYPES);

function shapeStr(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

/** 'cuda' means "the current CUDA device", so it matches any 'cuda:N' tensor, as `.to('cuda')` would. */
function sameDevice(have: string, want: string): boolean {
  if (have === want) return true;
  const norm = (d: string) => (d === 'cuda' ? 'cuda' : d.replace(/^cuda:\d+$/, 'cuda'));
  return want === 'cuda' && norm(have) === 'cuda';
}

export abstract class Module<In extends unknown[] = [Tensor], Out = Tensor> {
  /** True in training mode (dropout active, BatchNorm uses and updates batch statistics). */
  training = true;

  private readonly _parameters = new Map<string, Tensor | null>();
  private readonly _buffers = new Map<string, Tensor | null>();
  private readonly _nonPersistent = new Set<string>();
  private readonly _modules = new Map<string, AnyModule | null>();
  private _disposed = false;

  /** The computation; call it directly or through `call`. */
  abstract forward(...args: In): Out;

  /** Runs `forward` (the place where hooks would go, like PyTorch's `__call__`). */
  call(...args: In): Out {
    if (this._disposed) throw new Error(`${this.constructor.name}: module used after dispose()`);
    return this.forward(...args);
  }

  // ---- registration ---------------------------------------------------------------------------

  private checkName(name: string, kind: string): void {
    if (name === '' || name.includes('.'))
      throw new Error(
        `${this.constructor.name}: ${kind} name "${name}" must be non-empty and contain no "."`,
      );
    const taken =
      (kind !== 'parameter' && this._parameters.has(name)) ||
      (kind !== 'buffer' && this._buffers.has(name)) ||
      (kind !== 'module' && this._modules.has(name));
    if (taken) throw new Error(`${this.constructor.name}: "${name}" is already registered as another kind`);
  }

  private defineAccessor(name: string, map: Map<string, unknown>, onSet: (v: unknown) => void): void {
    Object.defineProperty(this, name, {
      configurable: true,
      enumerable: true,
      get: () => map.get(name),
      set: onSet,
    });
  }

  /**
   * Registers a trainable tensor under `name` (it gets requiresGrad = true unless `requiresGrad: false`)
   * and returns it. `null` reserves the name (e.g. a layer built without bias).
   */
  registerParameter<T extends Tensor | null>(name: string, t: T, opts: { requiresGrad?: boolean } = {}): T {
    this.checkName(name, 'parameter');
    const set = (v: unknown) => {
      if (v !== null && !(v instanceof E.Tensor))
        throw new Error(`${this.constructor.name}.${name}: a parameter must be a Tensor or null`);
      if (v) E.keep(v);
      this._parameters.set(name, v as Tensor | null);
    };
    if (t !== null) t.requiresGrad = opts.requiresGrad ?? true;
    set(t);
    this.defineAccessor(name, this._parameters, set);
    return t;
  }

  /**
   * Registers non-trainable state under `name` and returns it. Persistent buffers (the default) are part
   * of the state dict; non-persistent ones only move with `to()`.
   */
  registerBuffer<T extends Tensor | null>(name: string, t: T, opts: { persistent?: boolean } = {}): T {
    this.checkName(name, 'buffer');
    const set = (v: unknown) => {
      if (v !== null && !(v instanceof E.Tensor))
        throw new Error(`${this.constructor.name}.${name}: a buffer must be a Tensor or null`);
      if (v) E.keep(v);
      this._buffers.set(name, v as Tensor | null);
    };
    set(t);
    if (opts.persistent === false) this._nonPersistent.add(name);
    else this._nonPersistent.delete(name);
    this.defineAccessor(name, this._buffers, set);
    return t;
  }

  /** Registers a child module under `name` (state-dict prefix `name.`) and returns it. */
  registerModule<M extends AnyModule | null>(name: string, m: M): M {
    this.checkName(name, 'module');
    const set = (v: unknown) => {
      if (v !== null && !(v instanceof Module))
        throw new Error(`${this.constructor.name}.${name}: a sub-module must be a Module or null`);
      this._modules.set(name, v as AnyModule | null);
    };
    set(m);
    this.defineAccessor(name, this._modules, set);
    return m;
  }

  /** Registers class fields that hold a Module and were not registered explicitly, in declaration order. */
  private discover(): void {
    for (const key of Object.keys(this)) {
      if (this._modules.has(key)) continue;
      const d = Object.getOwnPropertyDescriptor(this, key);
      if (d && 'value' in d && d.value instanceof Module) this.registerModule(key, d.value);
    }
  }

  // ---- tree walks -----------------------------------------------------------------------------

  /** Direct children with their names. */
  namedChildren(): [string, AnyModule][] {
    this.discover();
    const out: [string, AnyModule][] = [];
    for (const [k, m] of this._modules) if (m) out.push([k, m]);
    return out;
  }

  children(): AnyModule[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every descendant, depth first, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, AnyModule][] {
    const out: [string, AnyModule][] = [];
    const seen = new Set<AnyModule>();
    const walk = (m: AnyModule, p: string) => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([p, m]);
      for (const [k, c] of m.namedChildren()) walk(c, p ? `${p}.${k}` : k);
    };
    walk(this, prefix);
    return out;
  }

  modules(): AnyModule[] {
    return this.namedModules().map(([, m]) => m);
  }

  private collect(
    which: '_parameters' | '_buffers',
    recurse: boolean,
    persistentOnly: boolean,
  ): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>(); // a tensor shared by two modules is listed once, as in PyTorch
    const mods: [string, AnyModule][] = recurse ? this.namedModules() : [['', this]];
    for (const [p, m] of mods) {
      for (const [k, t] of m[which]) {
        if (!t || seen.has(t)) continue;
        if (persistentOnly && which === '_buffers' && m._nonPersistent.has(k)) continue;
        seen.add(t);
        out.push([p ? `${p}.${k}` : k, t]);
      }
    }
    return out;
  }

  /** Parameters with dotted names. These are the module's own handles: do not dispose them. */
  namedParameters(opts: { recurse?: boolean } = {}): [string, Tensor][] {
    return this.collect('_parameters', opts.recurse ?? true, false);
  }

  parameters(opts: { recurse?: boolean } = {}): Tensor[] {
    return this.namedParameters(opts).map(([, t]) => t);
  }

  /** Parameters that currently require grad (what an optimiser should update when fine-tuning). */
  trainableParameters(): Tensor[] {
    return this.parameters().filter((t) => t.requiresGrad);
  }

  /** Buffers with dotted names (persistent and not). The module's own handles: do not dispose them. */
  namedBuffers(opts: { recurse?: boolean } = {}): [string, Tensor][] {
    return this.collect('_buffers', opts.recurse ?? true, false);
  }

  buffers(opts: { recurse?: boolean } = {}): Tensor[] {
    return this.namedBuffers(opts).map(([, t]) => t);
  }

  /** Calls `fn` on every module of the tree (this one last, as PyTorch's `apply`). */
  apply(fn: (m: AnyModule) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  // ---- modes ----------------------------------------------------------------------------------

  /** Sets training mode on the whole tree. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Evaluation mode: dropout off, BatchNorm uses its running statistics. */
  eval(): this {
    return this.train(false);
  }

  /** Stops gradients for every parameter of the tree (e.g. a backbone while fine-tuning a new head). */
  freeze(): this {
    for (const p of this.parameters()) p.requiresGrad = false;
    return this;
  }

  unfreeze(): this {
    for (const p of this.parameters()) p.requiresGrad = true;
    return this;
  }

  /** Drops every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  numParameters(opts: { trainableOnly?: boolean } = {}): number {
    let n = 0;
    for (const p of this.parameters()) if (!opts.trainableOnly || p.requiresGrad) n += p.numel;
    return n;
  }

  // ---- state ----------------------------------------------------------------------------------

  /** Parameters and persistent buffers under PyTorch's dotted names, as new detached handles (caller disposes). */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [k, t] of this.stateEntries()) out[k] = t.detach();
    return out;
  }

  // PyTorch's order: each module's parameters, then its persistent buffers, then its children. Like
  // PyTorch's state_dict (and unlike namedParameters), a tensor or module shared by two owners is listed
  // under both names, so tied weights load back into either place.
  private stateEntries(prefix = '', out: [string, Tensor][] = []): [string, Tensor][] {
    for (const [k, t] of this._parameters) if (t) out.push([prefix + k, t]);
    for (const [k, t] of this._buffers) if (t && !this._nonPersistent.has(k)) out.push([prefix + k, t]);
    for (const [k, m] of this.namedChildren()) m.stateEntries(`${prefix}${k}.`, out);
    return out;
  }

  /** The names `stateDict()` would have, without creating handles. */
  stateDictKeys(): string[] {
    return this.stateEntries().map(([k]) => k);
  }

  /**
   * Copies `sd` into this module's tensors (converting dtype/device as needed). Everything is checked
   * before anything is copied, so a failed load leaves the module unchanged. Throws one error listing
   * every missing and unexpected key (when strict) and every shape mismatch.
   */
  loadStateDict(sd: StateDict, opts: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = opts.strict ?? true;
    const own = new Map(this.stateEntries());
    const missingKeys = [...own.keys()].filter((k) => !Object.hasOwn(sd, k));
    const unexpectedKeys = Object.keys(sd).filter((k) => !own.has(k));
    const problems: string[] = [];
    for (const [k, t] of own) {
      const src = sd[k];
      if (!src) continue;
      if (!(src instanceof E.Tensor)) problems.push(`"${k}" is not a Tensor`);
      else if (src.shape.length !== t.shape.length || src.shape.some((d, i) => d !== t.shape[i]))
        problems.push(
          `size mismatch for "${k}": the state dict has ${shapeStr(src.shape)}, the model has ${shapeStr(t.shape)}`,
        );
    }
    if (strict && missingKeys.length > 0) problems.unshift(`missing keys: ${missingKeys.join(', ')}`);
    if (strict && unexpectedKeys.length > 0)
      problems.unshift(`unexpected keys: ${unexpectedKeys.join(', ')}`);
    if (problems.length > 0) {
      throw new Error(
        `loadStateDict: cannot load into ${this.constructor.name}:\n  ${problems.join('\n  ')}`,
      );
    }
    E.noGrad(() => {
      for (const [k, t] of own) {
        const src = sd[k];
        if (src) t.copy_(src);
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  // ---- devices and memory ---------------------------------------------------------------------

  /**
   * Moves (and/or casts) every parameter and buffer. Only floating tensors change dtype, so integer
   * buffers such as `num_batches_tracked` stay int64. The old handles are disposed: build optimisers
   * after `to()`, as in PyTorch.
   */
  to(target: ToTarget): this {
    const t =
      typeof target === 'string'
        ? DTYPE_NAMES.has(target)
          ? { dtype: target as DType }
          : { device: target as Device }
        : target;
    for (const m of this.modules()) {
      for (const map of [m._parameters, m._buffers]) {
        for (const [k, old] of map) {
          if (!old) continue;
          const dtype = t.dtype && FLOAT_DTYPES.has(old.dtype) && old.dtype !== t.dtype ? t.dtype : undefined;
          const device = t.device && !sameDevice(old.device, t.device) ? t.device : undefined;
          if (!dtype && !device) continue;
          const moved = E.noGrad(() => old.to({ dtype, device }));
          moved.requiresGrad = old.requiresGrad;
          E.keep(moved);
          map.set(k, moved);
          old.dispose();
        }
      }
    }
    return this;
  }

  /** The device of the first parameter or buffer ('cpu' for a module without tensors). */
  get device(): Device {
    const first = this.parameters()[0] ?? this.buffers()[0];
    return first ? first.device : 'cpu';
  }

  /** Frees every parameter and buffer of the tree; the module cannot be used afterwards. */
  dispose(): void {
    for (const m of this.modules()) {
      for (const map of [m._parameters, m._buffers])
        for (const t of map.values()) if (t && !t.disposed) t.dispose();
      m._disposed = true;
    }
  }

  get disposed(): boolean {
    return this._disposed;
  }

  // ---- printing -------------------------------------------------------------------------------

  /** Extra text for `toString()` (layer hyper-parameters), like PyTorch's `extra_repr`. */
  protected extraRepr(): string {
    return '';
  }

  toString(): string {
    const kids = this.namedChildren();
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (kids.length === 0) return `${head})`;
    const lines = kids.map(([k, m]) => `  (${k}): ${m.toString().replace(/\n/g, '\n  ')}`);
    return `${head}\n${lines.join('\n')}\n)`;
  }
}
