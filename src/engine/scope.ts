// Memory scopes. libtorch memory lives outside V8's heap, so the GC neither sees its size nor frees
// it in time: tensors are disposed explicitly, or by `tidy`, which disposes every tensor created
// while its function ran except those it returns (or that were `keep`-ed).
import { EngineError, fail } from './errors.js';

/** What scopes need from a tensor (kept minimal so this file does not import tensor.ts). */
export interface ScopedTensor {
  readonly disposed: boolean;
  dispose(): void;
  /** @internal the scope array that will dispose this tensor, or null. */
  _scope: ScopedTensor[] | null;
}

/** Marks engine tensors for the deep walks below without importing the class. */
export const TENSOR_BRAND: unique symbol = Symbol.for('audiotag.engine.Tensor');

function isTensor(x: unknown): x is ScopedTensor {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[TENSOR_BRAND] === true;
}

const scopes: ScopedTensor[][] = [];
const kept = new WeakSet<ScopedTensor>();
let live = 0;

/** @internal called by every new Tensor. */
export function track(t: ScopedTensor): void {
  live++;
  const s = scopes.length > 0 ? scopes[scopes.length - 1]! : null;
  if (s !== null) {
    s.push(t);
    t._scope = s;
  }
}

/** @internal called once by Tensor.dispose(). */
export function untrack(): void {
  live--;
}

/** Every tensor inside x: a tensor, or arrays, plain objects, Maps and Sets holding tensors. */
function collect(x: unknown, out: Set<ScopedTensor>, seen: Set<object>): void {
  if (typeof x !== 'object' || x === null) return;
  if (isTensor(x)) {
    out.add(x);
    return;
  }
  if (seen.has(x)) return;
  seen.add(x);
  if (Array.isArray(x)) {
    for (const v of x) collect(v, out, seen);
  } else if (x instanceof Map || x instanceof Set) {
    for (const v of x.values()) collect(v, out, seen);
  } else if (!ArrayBuffer.isView(x)) {
    for (const v of Object.values(x)) collect(v, out, seen);
  }
}

function isThenable(x: unknown): boolean {
  return (
    (typeof x === 'object' || typeof x === 'function') &&
    x !== null &&
    typeof (x as { then?: unknown }).then === 'function'
  );
}

/**
 * Runs fn and disposes every tensor created inside it except those in its result (searched deeply
 * through arrays and objects) and those passed to `keep`. Returned tensors belong to the enclosing
 * tidy, if any. Scopes nest. fn must be synchronous: tensors made after an `await` would escape the
 * scope, so a returned Promise is an error.
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== 'function') fail('tidy', `expected a function, got ${typeof fn}`);
  const scope: ScopedTensor[] = [];
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    release(scope, new Set());
    throw e;
  }
  scopes.pop();
  if (isThenable(result)) {
    release(scope, new Set());
    throw new EngineError(
      'tidy: the function returned a Promise; async functions are not supported (tensors created after an ' +
        'await would escape the scope). Await outside tidy and wrap the synchronous parts in tidy calls.',
    );
  }
  const returned = new Set<ScopedTensor>();
  collect(result, returned, new Set());
  release(scope, returned);
  // Results made in this scope now belong to the enclosing one.
  const parent = scopes.length > 0 ? scopes[scopes.length - 1]! : null;
  for (const t of returned) {
    if (t._scope !== scope) continue;
    t._scope = parent;
    if (parent !== null) parent.push(t);
  }
  return result;
}

function release(scope: ScopedTensor[], spare: Set<ScopedTensor>): void {
  for (const t of scope) {
    if (t._scope !== scope || t.disposed || spare.has(t) || kept.has(t)) continue;
    t.dispose();
  }
}

/** Makes t survive every enclosing tidy; only an explicit dispose() frees it. */
export function keep<T extends ScopedTensor>(t: T): T {
  if (!isTensor(t)) fail('keep', 'expected a Tensor');
  kept.add(t);
  t._scope = null;
  return t;
}

/** Disposes a tensor, or every tensor in an array or object (deeply). Disposed ones are skipped. */
export function dispose(x: unknown): void {
  const all = new Set<ScopedTensor>();
  collect(x, all, new Set());
  for (const t of all) t.dispose();
}

/** Tensor handles created and not yet disposed (a leak shows as a count that keeps growing). */
export function liveTensors(): number {
  return live;
}

/** How many tidy scopes are open (0 outside any). */
export function scopeDepth(): number {
  return scopes.length;
}
