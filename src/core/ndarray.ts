// A plain row-major float array with a shape: what features produce, augmentations transform and the
// data loader batches. It has no engine behind it, so it works in Node and the browser alike;
// `src/engine` converts it to and from engine tensors.

export interface NDArray {
  /** Row-major values, `data.length === size(shape)`. */
  data: Float32Array;
  shape: number[];
}

/** Number of elements of a shape. */
export function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Builds an NDArray, checking that the data fits the shape. */
export function ndarray(data: Float32Array, shape: readonly number[]): NDArray {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new Error(`ndarray: shape [${shape.join(', ')}] has a bad dimension ${d}`);
  }
  if (data.length !== size(shape)) {
    throw new Error(
      `ndarray: ${data.length} values do not fit shape [${shape.join(', ')}] (${size(shape)} expected)`,
    );
  }
  return { data, shape: [...shape] };
}

/** A zero-filled NDArray. */
export function zeros(shape: readonly number[]): NDArray {
  return ndarray(new Float32Array(size(shape)), shape);
}

/** A deep copy. */
export function clone(a: NDArray): NDArray {
  return { data: a.data.slice(), shape: [...a.shape] };
}

/** Row-major strides of a shape. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Stacks same-shaped arrays along a new first axis (a batch). */
export function stack(items: readonly NDArray[]): NDArray {
  if (items.length === 0) throw new Error('stack: no arrays given');
  const shape = items[0]!.shape;
  const n = size(shape);
  const out = new Float32Array(n * items.length);
  items.forEach((it, i) => {
    if (it.shape.length !== shape.length || it.shape.some((d, k) => d !== shape[k])) {
      throw new Error(`stack: item ${i} has shape [${it.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
    out.set(it.data, i * n);
  });
  return { data: out, shape: [items.length, ...shape] };
}

/** The arrays' values one after another, in a new array (a copy also when there is one part). */
export function concatFloat32(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The i-th item along the first axis, as a copy. */
export function unstack(a: NDArray): NDArray[] {
  const [b, ...rest] = a.shape;
  const n = size(rest);
  return Array.from({ length: b ?? 0 }, (_, i) => ({
    data: a.data.slice(i * n, (i + 1) * n),
    shape: [...rest],
  }));
}
