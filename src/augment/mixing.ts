// Batch-level mixing: each chosen item (probability p per item) is combined with another item of the
// batch (a random permutation picks the partner, as in the reference implementations) and its target row
// is mixed in the same proportion as its pixels/samples. Targets are [batch, classes] rows: one-hot for
// single-label data (then every mixed row still sums to 1) or multi-hot.
import { z } from 'zod';
import { type NDArray, size } from '../core/ndarray.js';
import type { Random } from '../core/random.js';
import {
  AugmentationError,
  type BatchContext,
  BatchTransform,
  type MixResult,
  ordered,
  probability,
} from './base.js';

function itemSize(batch: NDArray): number {
  return size(batch.shape.slice(1));
}

/** Adds (1 − w)·row i + w·row j of src into row i of dst. */
function blendRow(src: Float32Array, dst: Float32Array, n: number, i: number, j: number, w: number): void {
  const a = i * n;
  const b = j * n;
  for (let k = 0; k < n; k++) dst[a + k] = (1 - w) * src[a + k]! + w * src[b + k]!;
}

// ---- mixup ---------------------------------------------------------------------------------------

const MixupSchema = z
  .object({
    p: probability,
    alpha: z.number().positive().default(0.4),
    lambdaMax: z.boolean().default(true),
    targets: z.enum(['mix', 'max']).default('mix'),
  })
  .strict();

/**
 * mixup (Zhang et al. 2018) on waveforms or spectrograms of any shape: x = λ·x_i + (1 − λ)·x_j with
 * λ ~ Beta(alpha, alpha) per item; with lambdaMax λ = max(λ, 1 − λ) so the item stays the larger part
 * (fastai's convention). Targets: λ·y_i + (1 − λ)·y_j ("mix") or the element-wise max ("max", a union
 * of labels for multi-label data).
 */
export class Mixup extends BatchTransform<z.output<typeof MixupSchema>> {
  static readonly schema = MixupSchema;
  constructor(options: z.input<typeof MixupSchema> = {}) {
    super('Mixup', MixupSchema, options);
  }
  forward(batch: NDArray, targets: NDArray, rng: Random): MixResult {
    const b = batch.shape[0]!;
    const n = itemSize(batch);
    const k = targets.shape[1]!;
    const perm = rng.permutation(b);
    const chosen = this.chosen(b, rng);
    const x = batch.data.slice();
    const y = targets.data.slice();
    for (let i = 0; i < b; i++) {
      if (!chosen[i]) continue;
      let lam = rng.beta(this.options.alpha, this.options.alpha);
      if (this.options.lambdaMax) lam = Math.max(lam, 1 - lam);
      const j = perm[i]!;
      blendRow(batch.data, x, n, i, j, 1 - lam);
      if (this.options.targets === 'mix') blendRow(targets.data, y, k, i, j, 1 - lam);
      else
        for (let c = 0; c < k; c++)
          y[i * k + c] = Math.max(targets.data[i * k + c]!, targets.data[j * k + c]!);
    }
    return { batch: { data: x, shape: [...batch.shape] }, targets: { data: y, shape: [...targets.shape] } };
  }
}

// ---- SpecMix -------------------------------------------------------------------------------------

/** [c, m, t] of the items of a [b, m, t] or [b, c, m, t] batch. */
function specItemDims(name: string, shape: readonly number[]): { c: number; m: number; t: number } {
  if (shape.length === 3) return { c: 1, m: shape[1]!, t: shape[2]! };
  if (shape.length === 4) return { c: shape[1]!, m: shape[2]!, t: shape[3]! };
  throw new AugmentationError(
    `${name}: expected a spectrogram batch [batch, mels, frames] or [batch, channels, mels, frames], got [${shape.join(', ')}]`,
  );
}

const SpecMixSchema = z
  .object({
    p: probability,
    minFreqFraction: z.number().min(0).max(1).default(0),
    maxFreqFraction: z.number().min(0).max(1).default(0.15),
    minTimeFraction: z.number().min(0).max(1).default(0),
    maxTimeFraction: z.number().min(0).max(1).default(0.3),
  })
  .strict()
  .superRefine(
    ordered([
      ['minFreqFraction', 'maxFreqFraction'],
      ['minTimeFraction', 'maxTimeFraction'],
    ]),
  );

/**
 * SpecMix as the Freesound Audio Tagging 2019 8th-place solution (E. Bouteillon) defines it: from ONE
 * other item j of the batch, f consecutive mel bands [f0, f0 + f) and t consecutive frames [t0, t0 + t)
 * replace the item's own (all channels); f is drawn uniformly in
 * [⌊minFreqFraction·ν⌋, ⌊maxFreqFraction·ν⌋] and f0 in [0, ν − f] (ν mels), t and t0 likewise over τ
 * frames. The target is weighted by the share of pixels from each item:
 * s = (f·τ + t·ν − f·t) / (ν·τ), y = (1 − s)·y_i + s·y_j.
 */
export class SpecMix extends BatchTransform<z.output<typeof SpecMixSchema>> {
  static readonly schema = SpecMixSchema;
  constructor(options: z.input<typeof SpecMixSchema> = {}) {
    super('SpecMix', SpecMixSchema, options);
  }
  forward(batch: NDArray, targets: NDArray, rng: Random): MixResult {
    const { c, m, t } = specItemDims(this.name, batch.shape);
    const b = batch.shape[0]!;
    const n = c * m * t;
    const k = targets.shape[1]!;
    const o = this.options;
    const perm = rng.permutation(b);
    const chosen = this.chosen(b, rng);
    const x = batch.data.slice();
    const y = targets.data.slice();
    const src = batch.data;
    for (let i = 0; i < b; i++) {
      if (!chosen[i]) continue;
      const j = perm[i]!;
      const f = rng.int(Math.floor(o.minFreqFraction * m), Math.floor(o.maxFreqFraction * m) + 1);
      const f0 = rng.int(0, m - f + 1);
      const tw = rng.int(Math.floor(o.minTimeFraction * t), Math.floor(o.maxTimeFraction * t) + 1);
      const t0 = rng.int(0, t - tw + 1);
      for (let ch = 0; ch < c; ch++) {
        const di = i * n + ch * m * t;
        const sj = j * n + ch * m * t;
        // Frequency replacement: whole rows f0..f0+f.
        x.set(src.subarray(sj + f0 * t, sj + (f0 + f) * t), di + f0 * t);
        // Time replacement: columns t0..t0+tw of every row.
        if (tw > 0)
          for (let r = 0; r < m; r++)
            x.set(src.subarray(sj + r * t + t0, sj + r * t + t0 + tw), di + r * t + t0);
      }
      const share = (f * t + tw * m - f * tw) / (m * t);
      blendRow(targets.data, y, k, i, j, share);
    }
    return { batch: { data: x, shape: [...batch.shape] }, targets: { data: y, shape: [...targets.shape] } };
  }
}

const MixupSpecMixSchema = z
  .object({
    ...MixupSchema.shape,
    minFreqFraction: z.number().min(0).max(1).default(0),
    maxFreqFraction: z.number().min(0).max(1).default(0.15),
    minTimeFraction: z.number().min(0).max(1).default(0),
    maxTimeFraction: z.number().min(0).max(1).default(0.3),
  })
  .strict()
  .superRefine(
    ordered([
      ['minFreqFraction', 'maxFreqFraction'],
      ['minTimeFraction', 'maxTimeFraction'],
    ]),
  );

/**
 * mixup followed by SpecMix on the mixed batch (the 8th-place recipe): one output item draws on up to
 * four input items, and its target is the matching blend. p applies to each stage per item. The same as
 * `Compose [Mixup, SpecMix]` with shared options, under one name.
 */
export class MixupSpecMix extends BatchTransform<z.output<typeof MixupSpecMixSchema>> {
  static readonly schema = MixupSpecMixSchema;
  private readonly mixup: Mixup;
  private readonly specMix: SpecMix;
  constructor(options: z.input<typeof MixupSpecMixSchema> = {}) {
    super('MixupSpecMix', MixupSpecMixSchema, options);
    const { p, alpha, lambdaMax, targets, ...spec } = this.options;
    this.mixup = new Mixup({ p, alpha, lambdaMax, targets });
    this.specMix = new SpecMix({ p, ...spec });
  }
  forward(batch: NDArray, targets: NDArray, rng: Random): MixResult {
    const mixed = this.mixup.forward(batch, targets, rng);
    return this.specMix.forward(mixed.batch, mixed.targets, rng);
  }
}

// ---- CutMix --------------------------------------------------------------------------------------

const CutMixSchema = z.object({ p: probability, alpha: z.number().positive().default(1) }).strict();

/**
 * CutMix (Yun et al. 2019): a box over the last two axes (mels × frames; the time axis alone for
 * waveform batches [batch, samples]) is pasted from item j. λ ~ Beta(alpha, alpha) sets the box to
 * about (1 − λ) of the area, its centre is uniform and it is clipped at the borders; the target weight is
 * the box's actual share of pixels.
 */
export class CutMix extends BatchTransform<z.output<typeof CutMixSchema>> {
  static readonly schema = CutMixSchema;
  constructor(options: z.input<typeof CutMixSchema> = {}) {
    super('CutMix', CutMixSchema, options);
  }
  forward(batch: NDArray, targets: NDArray, rng: Random): MixResult {
    const shape = batch.shape;
    const b = shape[0]!;
    const n = itemSize(batch);
    const twoD = shape.length >= 3;
    const m = twoD ? shape[shape.length - 2]! : 1;
    const t = shape[shape.length - 1]!;
    const planes = n / (m * t || 1);
    const k = targets.shape[1]!;
    const perm = rng.permutation(b);
    const chosen = this.chosen(b, rng);
    const x = batch.data.slice();
    const y = targets.data.slice();
    for (let i = 0; i < b; i++) {
      if (!chosen[i] || n === 0) continue;
      const lam = rng.beta(this.options.alpha, this.options.alpha);
      const r = twoD ? Math.sqrt(1 - lam) : 1 - lam;
      const [r0, r1] = twoD ? span(rng, m, Math.floor(m * r)) : [0, 1];
      const [c0, c1] = span(rng, t, Math.floor(t * r));
      const j = perm[i]!;
      for (let pl = 0; pl < planes; pl++) {
        for (let row = r0; row < r1; row++) {
          const off = pl * m * t + row * t;
          x.set(batch.data.subarray(j * n + off + c0, j * n + off + c1), i * n + off + c0);
        }
      }
      blendRow(targets.data, y, k, i, j, ((r1 - r0) * (c1 - c0)) / (m * t));
    }
    return { batch: { data: x, shape: [...shape] }, targets: { data: y, shape: [...targets.shape] } };
  }
}

/** A run of about `len` cells centred uniformly in [0, size), clipped to the axis. */
function span(rng: Random, size: number, len: number): [number, number] {
  const centre = rng.int(0, size);
  const lo = Math.max(0, centre - Math.floor(len / 2));
  const hi = Math.min(size, centre - Math.floor(len / 2) + len);
  return [lo, hi];
}

// ---- mixing with a noisy set ---------------------------------------------------------------------

const NoisySchema = z
  .object({
    p: probability,
    alpha: z.number().positive().default(0.75),
    lambdaMax: z.boolean().default(true),
    weight: z.number().gt(0).max(1).optional(),
  })
  .strict();

/**
 * Mixes curated items with items drawn (uniformly, with replacement) from a second, noisily-labelled
 * batch given as `ctx.noisy` (MixMatch-like, Berthelot et al. 2019). The curated weight λ is fixed by
 * `weight`, or λ ~ Beta(alpha, alpha), max(λ, 1 − λ) with lambdaMax so the curated item dominates.
 * Targets mix with the same λ.
 */
export class MixWithNoisy extends BatchTransform<z.output<typeof NoisySchema>> {
  static readonly schema = NoisySchema;
  constructor(options: z.input<typeof NoisySchema> = {}) {
    super('MixWithNoisy', NoisySchema, options);
  }
  forward(batch: NDArray, targets: NDArray, rng: Random, ctx?: BatchContext): MixResult {
    const noisy = ctx?.noisy;
    if (!noisy)
      throw new AugmentationError(
        'MixWithNoisy: needs the noisy batch, passed as ctx.noisy = { batch, targets }',
      );
    const item = batch.shape.slice(1);
    const nItem = noisy.batch.shape.slice(1);
    if (item.length !== nItem.length || item.some((d, i) => d !== nItem[i]))
      throw new AugmentationError(
        `MixWithNoisy: noisy items have shape [${nItem.join(', ')}], expected [${item.join(', ')}] like the batch`,
      );
    if (noisy.targets.shape.length !== 2 || noisy.targets.shape[1] !== targets.shape[1])
      throw new AugmentationError(
        `MixWithNoisy: noisy targets have shape [${noisy.targets.shape.join(', ')}], expected [${noisy.batch.shape[0]}, ${targets.shape[1]}]`,
      );
    const nb = noisy.batch.shape[0]!;
    if (nb === 0 || noisy.targets.shape[0] !== nb)
      throw new AugmentationError(`MixWithNoisy: the noisy batch is empty or its targets do not match it`);
    const b = batch.shape[0]!;
    const n = itemSize(batch);
    const k = targets.shape[1]!;
    const chosen = this.chosen(b, rng);
    const x = batch.data.slice();
    const y = targets.data.slice();
    for (let i = 0; i < b; i++) {
      if (!chosen[i]) continue;
      const j = rng.int(0, nb);
      let lam = this.options.weight ?? rng.beta(this.options.alpha, this.options.alpha);
      if (this.options.weight === undefined && this.options.lambdaMax) lam = Math.max(lam, 1 - lam);
      for (let q = 0; q < n; q++)
        x[i * n + q] = lam * batch.data[i * n + q]! + (1 - lam) * noisy.batch.data[j * n + q]!;
      for (let q = 0; q < k; q++)
        y[i * k + q] = lam * targets.data[i * k + q]! + (1 - lam) * noisy.targets.data[j * k + q]!;
    }
    return { batch: { data: x, shape: [...batch.shape] }, targets: { data: y, shape: [...targets.shape] } };
  }
}
