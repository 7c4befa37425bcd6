// What an epoch is made of, decided on the main thread before any work is handed out: which clip goes in
// which row of which batch, the seed of every row's Random, and (in evaluation) every crop's position.
// Everything here is a pure function of (seed, epoch, dataset), so the batches do not depend on how many
// workers build them or in which order they finish.
import { mixSeed, Random, STREAM } from '../core/random.js';

export type SamplerName = 'shuffle' | 'balanced' | 'weighted';

/** Everything the samplers need about the usable (non-skipped) clips. */
export interface SamplingInput {
  /** Dataset indices of the usable clips, in dataset order. */
  usable: Int32Array;
  /** Label indices of every dataset item (all labels, primary first); balanced sampling uses them. */
  labels: readonly (readonly number[])[];
  /** Every dataset item's weight (1 when absent); weighted sampling uses them. */
  weights: Float64Array;
  /** Item ids, for error messages. */
  ids: readonly string[];
}

/** Checked per-class pools (balanced) or cumulative weights (weighted), built once per loader. */
export interface Sampler {
  readonly name: SamplerName;
  /** Dataset indices drawn for one training epoch (as many draws as usable clips). */
  draw(seed: number, epoch: number): Int32Array;
}

/** A uniform permutation of the usable clips each epoch. */
function shuffleSampler({ usable }: SamplingInput): Sampler {
  return {
    name: 'shuffle',
    draw(seed, epoch) {
      const rng = new Random(mixSeed(seed, epoch, STREAM.order));
      const out = usable.slice();
      for (let i = out.length - 1; i > 0; i--) {
        const j = rng.int(0, i + 1);
        const t = out[i]!;
        out[i] = out[j]!;
        out[j] = t;
      }
      return out;
    },
  };
}

/** Each draw picks a class uniformly, then a clip of it. A multi-label clip sits in the pool of each of
 * its labels; unlabelled clips are never drawn. */
function balancedSampler({ usable, labels }: SamplingInput): Sampler {
  const pools = new Map<number, number[]>();
  for (const i of usable)
    for (const c of labels[i] ?? []) {
      const pool = pools.get(c);
      if (pool) pool.push(i);
      else pools.set(c, [i]);
    }
  if (pools.size === 0) throw new Error("loader: sampler 'balanced' needs labelled items; none has a label");
  const classes = [...pools.keys()].sort((a, b) => a - b).map((c) => Int32Array.from(pools.get(c)!));
  return {
    name: 'balanced',
    draw(seed, epoch) {
      const rng = new Random(mixSeed(seed, epoch, STREAM.order));
      const out = new Int32Array(usable.length);
      for (let k = 0; k < out.length; k++) {
        const pool = classes[rng.int(0, classes.length)]!;
        out[k] = pool[rng.int(0, pool.length)]!;
      }
      return out;
    },
  };
}

/** Draws with replacement, each clip with probability proportional to its weight. */
function weightedSampler({ usable, weights, ids }: SamplingInput): Sampler {
  const n = usable.length;
  const cum = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) {
    const i = usable[k]!;
    const w = weights[i]!;
    if (!(w >= 0) || !Number.isFinite(w))
      throw new Error(`loader: item ${ids[i]} has weight ${w}; sampler 'weighted' needs finite weights ≥ 0`);
    total += w;
    cum[k] = total;
  }
  if (!(total > 0)) throw new Error("loader: sampler 'weighted' needs a positive total item weight");
  return {
    name: 'weighted',
    draw(seed, epoch) {
      const rng = new Random(mixSeed(seed, epoch, STREAM.order));
      const out = new Int32Array(n);
      for (let k = 0; k < n; k++) {
        // First index whose cumulative weight exceeds r (binary search: O(n log n) per epoch).
        const r = rng.random() * total;
        let lo = 0;
        let hi = n - 1;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (cum[mid]! > r) hi = mid;
          else lo = mid + 1;
        }
        out[k] = usable[lo]!;
      }
      return out;
    },
  };
}

const SAMPLERS: Record<SamplerName, (input: SamplingInput) => Sampler> = {
  shuffle: shuffleSampler,
  balanced: balancedSampler,
  weighted: weightedSampler,
};

export function makeSampler(name: SamplerName, input: SamplingInput): Sampler {
  const make = Object.hasOwn(SAMPLERS, name) ? SAMPLERS[name] : undefined;
  if (!make)
    throw new Error(
      `loader: sampler must be 'shuffle', 'balanced' or 'weighted', got ${JSON.stringify(name)}`,
    );
  return make(input);
}

/**
 * Start frame of a crop of `frames` out of a clip of `length` frames, for evaluation. A negative start
 * means the clip is shorter and sits at -start inside the padded window. 'center' puts the window (or the
 * short clip) in the middle, rounding as cropOrPad does.
 */
export function evalStart(length: number, frames: number, mode: 'center' | 'start'): number {
  if (mode === 'start') return 0;
  return length >= frames ? Math.floor((length - frames) / 2) : -Math.floor((frames - length) / 2);
}

/** Starts of the windows that tile a clip: every `hop` frames, plus one flush with the end, so every
 * frame is in at least one window (a hop above `frames` would leave gaps, so it is capped there). A clip
 * no longer than `frames` gets the one window at 0. */
export function windowStarts(length: number, frames: number, hop: number): number[] {
  if (length <= frames) return [0];
  hop = Math.min(hop, frames);
  const last = length - frames;
  const out: number[] = [];
  for (let s = 0; s < last; s += hop) out.push(s);
  out.push(last);
  return out;
}

/** One row of an evaluation epoch. */
export interface EvalRow {
  clip: number;
  start: number;
}

/** The rows of an evaluation epoch: every usable clip in dataset order, one row per crop or window. */
export function evalRows(
  usable: Int32Array,
  lengthOf: (clip: number) => number,
  crop: { frames: number; evalMode: 'center' | 'start' | 'windows'; evalHop: number } | null,
): EvalRow[] {
  const rows: EvalRow[] = [];
  for (const clip of usable) {
    if (!crop) rows.push({ clip, start: 0 });
    else if (crop.evalMode === 'windows')
      for (const start of windowStarts(lengthOf(clip), crop.frames, crop.evalHop)) rows.push({ clip, start });
    else rows.push({ clip, start: evalStart(lengthOf(clip), crop.frames, crop.evalMode) });
  }
  return rows;
}

/** Number of batches for `rows` rows. */
export function batchCount(rows: number, batchSize: number, dropLast: boolean): number {
  return dropLast ? Math.floor(rows / batchSize) : Math.ceil(rows / batchSize);
}
