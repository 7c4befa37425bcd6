// Spectrogram augmentations on one [channels, mels, frames] item (batches are processed item by item by
// the base class, each item with its own draws). All channels of an item get the same geometry (mask,
// warp, crop), since the channels of a feature image (log-mel, deltas, copies) describe the same pixels.
import { z } from 'zod';
import type { Random } from '../core/random.js';
import { type ItemDims, ordered, probability, SpectrogramTransform } from './base.js';

const maskValue = z
  .union([z.enum(['mean', 'zero']), z.number()], { error: 'expected "mean", "zero" or a number' })
  .default('mean');
type MaskValue = z.output<typeof maskValue>;

function channelMean(src: Float32Array, off: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i++) s += src[off + i]!;
  return len ? s / len : 0;
}

function fillValue(mode: MaskValue, src: Float32Array, off: number, len: number): number {
  return mode === 'mean' ? channelMean(src, off, len) : mode === 'zero' ? 0 : mode;
}

/** An integer width drawn uniformly in [lo, hi] (inclusive), hi clamped to the axis size. */
function drawWidth(rng: Random, lo: number, hi: number, size: number): number {
  const top = Math.min(hi, size);
  const bottom = Math.min(lo, top);
  return rng.int(bottom, top + 1);
}

// ---- SpecAugment masks -------------------------------------------------------------------------

const FreqMaskSchema = z
  .object({
    p: probability,
    count: z.number().int().min(0).default(2),
    minWidth: z.number().int().min(0).default(0),
    maxWidth: z.number().int().min(0).default(27),
    maskValue,
  })
  .strict()
  .superRefine(ordered([['minWidth', 'maxWidth']]));

/**
 * SpecAugment frequency masking (Park et al. 2019): `count` bands of f consecutive mel bins, f drawn in
 * [minWidth, maxWidth] and f0 in [0, mels − f], are set to the channel mean ("mean"), 0 ("zero") or a
 * number.
 */
export class SpecFrequencyMask extends SpectrogramTransform<z.output<typeof FreqMaskSchema>> {
  static readonly schema = FreqMaskSchema;
  constructor(options: z.input<typeof FreqMaskSchema> = {}) {
    super('SpecFrequencyMask', FreqMaskSchema, options);
  }
  protected forwardItem(src: Float32Array, dst: Float32Array, { c, m, t }: ItemDims, rng: Random): void {
    dst.set(src);
    const o = this.options;
    const fills = Array.from({ length: c }, (_, ch) => fillValue(o.maskValue, src, ch * m * t, m * t));
    for (let k = 0; k < o.count; k++) {
      const f = drawWidth(rng, o.minWidth, o.maxWidth, m);
      const f0 = rng.int(0, m - f + 1);
      for (let ch = 0; ch < c; ch++) dst.fill(fills[ch]!, ch * m * t + f0 * t, ch * m * t + (f0 + f) * t);
    }
  }
}

const TimeMaskSchema = z
  .object({
    p: probability,
    count: z.number().int().min(0).default(2),
    minWidth: z.number().int().min(0).default(0),
    maxWidth: z.number().int().min(0).default(40),
    maxFraction: z.number().min(0).max(1).default(1),
    maskValue,
  })
  .strict()
  .superRefine(ordered([['minWidth', 'maxWidth']]));

/**
 * SpecAugment time masking: `count` bands of t consecutive frames, t drawn in [minWidth, maxWidth]
 * (and at most maxFraction × frames, SpecAugment's upper bound p), t0 in [0, frames − t].
 */
export class SpecTimeMask extends SpectrogramTransform<z.output<typeof TimeMaskSchema>> {
  static readonly schema = TimeMaskSchema;
  constructor(options: z.input<typeof TimeMaskSchema> = {}) {
    super('SpecTimeMask', TimeMaskSchema, options);
  }
  protected forwardItem(src: Float32Array, dst: Float32Array, { c, m, t }: ItemDims, rng: Random): void {
    dst.set(src);
    const o = this.options;
    const fills = Array.from({ length: c }, (_, ch) => fillValue(o.maskValue, src, ch * m * t, m * t));
    const hi = Math.min(o.maxWidth, Math.floor(o.maxFraction * t));
    for (let k = 0; k < o.count; k++) {
      const w = drawWidth(rng, o.minWidth, hi, t);
      const t0 = rng.int(0, t - w + 1);
      for (let ch = 0; ch < c; ch++) {
        for (let r = 0; r < m; r++) {
          const row = ch * m * t + r * t;
          dst.fill(fills[ch]!, row + t0, row + t0 + w);
        }
      }
    }
  }
}

const WarpSchema = z.object({ p: probability, maxWarp: z.number().int().min(0).default(10) }).strict();

/**
 * SpecAugment time warping: a frame c0 in [W, frames − W) is moved to c0 + w, w drawn in (−W, W),
 * and both sides are stretched linearly so the first and last frames stay in place (linear
 * interpolation along time, W = maxWarp clamped to fit the item).
 */
export class SpecTimeWarp extends SpectrogramTransform<z.output<typeof WarpSchema>> {
  static readonly schema = WarpSchema;
  constructor(options: z.input<typeof WarpSchema> = {}) {
    super('SpecTimeWarp', WarpSchema, options);
  }
  protected forwardItem(src: Float32Array, dst: Float32Array, { c, m, t }: ItemDims, rng: Random): void {
    const W = Math.min(this.options.maxWarp, Math.floor((t - 1) / 2) - 1);
    if (W <= 0) {
      dst.set(src);
      return;
    }
    const c0 = rng.int(W, t - W);
    // w in (−W, W) as in SpecAugment, which keeps c0 + w strictly inside the item.
    const w = rng.int(-W + 1, W);
    const c1 = c0 + w;
    // Source position of every output frame: [0, c1] ← [0, c0], [c1, t−1] ← [c0, t−1].
    const pos = new Float64Array(t);
    for (let j = 0; j < t; j++)
      pos[j] = j <= c1 ? (j * c0) / c1 : c0 + ((j - c1) * (t - 1 - c0)) / (t - 1 - c1);
    for (let r = 0; r < c * m; r++) {
      const row = r * t;
      for (let j = 0; j < t; j++) {
        const s = pos[j]!;
        const i0 = Math.min(t - 1, Math.floor(s));
        const i1 = Math.min(t - 1, i0 + 1);
        const a = s - i0;
        dst[row + j] = (1 - a) * src[row + i0]! + a * src[row + i1]!;
      }
    }
  }
}

// ---- geometric: zoom, resized crop, frequency shift -------------------------------------------

/**
 * Bilinear resampling of the region [y0, y0 + h) × [x0, x0 + w) (source pixels, fractional) of each
 * m×t channel onto a full m×t output, with pixel centres at +0.5 (the align_corners = false convention
 * of torch and fastai), clamped at the borders.
 */
export function resampleRegion(
  src: Float32Array,
  dst: Float32Array,
  { c, m, t }: ItemDims,
  y0: number,
  h: number,
  x0: number,
  w: number,
): void {
  const sy = h / m;
  const sx = w / t;
  const xi0 = new Int32Array(t);
  const xi1 = new Int32Array(t);
  const xa = new Float32Array(t);
  for (let j = 0; j < t; j++) {
    const x = Math.min(t - 1, Math.max(0, x0 + (j + 0.5) * sx - 0.5));
    xi0[j] = Math.floor(x);
    xi1[j] = Math.min(t - 1, xi0[j]! + 1);
    xa[j] = x - xi0[j]!;
  }
  for (let ch = 0; ch < c; ch++) {
    const base = ch * m * t;
    for (let i = 0; i < m; i++) {
      const y = Math.min(m - 1, Math.max(0, y0 + (i + 0.5) * sy - 0.5));
      const r0 = Math.floor(y);
      const r1 = Math.min(m - 1, r0 + 1);
      const ya = y - r0;
      const a = base + r0 * t;
      const b = base + r1 * t;
      const o = base + i * t;
      for (let j = 0; j < t; j++) {
        const p = xi0[j]!;
        const q = xi1[j]!;
        const u = xa[j]!;
        const top = src[a + p]! + u * (src[a + q]! - src[a + p]!);
        const bot = src[b + p]! + u * (src[b + q]! - src[b + p]!);
        dst[o + j] = top + ya * (bot - top);
      }
    }
  }
}

const ZoomSchema = z
  .object({
    p: probability,
    minScale: z.number().min(1).default(1),
    maxScale: z.number().min(1).default(1.05),
  })
  .strict()
  .superRefine(ordered([['minScale', 'maxScale']]));

/**
 * Random zoom-and-crop (Freesound 2019, 8th place: scale 1 to 1.05 with p = 0.75): the item is
 * enlarged by a scale s drawn in [minScale, maxScale] (bilinear) and a random mels×frames window of the
 * enlarged image is kept. Computed in one pass as a resample of a 1/s-sized source window.
 */
export class RandomZoomCrop extends SpectrogramTransform<z.output<typeof ZoomSchema>> {
  static readonly schema = ZoomSchema;
  constructor(options: z.input<typeof ZoomSchema> = {}) {
    super('RandomZoomCrop', ZoomSchema, options);
  }
  protected forwardItem(src: Float32Array, dst: Float32Array, dims: ItemDims, rng: Random): void {
    const s = rng.uniform(this.options.minScale, this.options.maxScale);
    const h = dims.m / s;
    const w = dims.t / s;
    resampleRegion(src, dst, dims, rng.uniform(0, dims.m - h), h, rng.uniform(0, dims.t - w), w);
  }
}

const ResizedCropSchema = z
  .object({
    p: probability,
    minScale: z.number().gt(0).max(1).default(0.8),
    maxScale: z.number().gt(0).max(1).default(1),
    minRatio: z
      .number()
      .positive()
      .default(3 / 4),
    maxRatio: z
      .number()
      .positive()
      .default(4 / 3),
  })
  .strict()
  .superRefine(
    ordered([
      ['minScale', 'maxScale'],
      ['minRatio', 'maxRatio'],
    ]),
  );

/**
 * Random resized crop (torchvision style): a window covering a fraction of the item's area drawn in
 * [minScale, maxScale], with aspect change (frames stretch ÷ mels stretch) log-uniform in
 * [minRatio, maxRatio], is resized back to mels×frames. Falls back to the whole item after 10 misses.
 */
export class RandomResizedCrop extends SpectrogramTransform<z.output<typeof ResizedCropSchema>> {
  static readonly schema = ResizedCropSchema;
  constructor(options: z.input<typeof ResizedCropSchema> = {}) {
    super('RandomResizedCrop', ResizedCropSchema, options);
  }
  protected forwardItem(src: Float32Array, dst: Float32Array, dims: ItemDims, rng: Random): void {
    const o = this.options;
    const { m, t } = dims;
    for (let attempt = 0; attempt < 10; attempt++) {
      const area = rng.uniform(o.minScale, o.maxScale);
      const ratio = Math.exp(rng.uniform(Math.log(o.minRatio), Math.log(o.maxRatio)));
      // Fractions of each axis: fw·fh = area, fw/fh = ratio.
      const fw = Math.sqrt(area * ratio);
      const fh = Math.sqrt(area / ratio);
      if (fw <= 1 && fh <= 1) {
        const w = fw * t;
        const h = fh * m;
        resampleRegion(src, dst, dims, rng.uniform(0, m - h), h, rng.uniform(0, t - w), w);
        return;
      }
    }
    dst.set(src);
  }
}

const FreqShiftSchema = z
  .object({
    p: probability,
    minShift: z.number().int().default(-8),
    maxShift: z.number().int().default(8),
    fill: z.enum(['zero', 'mean', 'edge', 'wrap']).default('edge'),
  })
  .strict()
  .superRefine(ordered([['minShift', 'maxShift']]));

/**
 * Moves the item up or down the mel axis by k bins drawn in [minShift, maxShift] (positive = higher).
 * Bins that come in are zero, the channel mean, a copy of the edge bin, or wrap around.
 */
export class FrequencyShift extends SpectrogramTransform<z.output<typeof FreqShiftSchema>> {
  static readonly schema = FreqShiftSchema;
  constructor(options: z.input<typeof FreqShiftSchema> = {}) {
    super('FrequencyShift', FreqShiftSchema, options);
  }
  protected forwardItem(src: Float32Array, dst: Float32Array, { c, m, t }: ItemDims, rng: Random): void {
    const k = rng.int(this.options.minShift, this.options.maxShift + 1);
    const fill = this.options.fill;
    for (let ch = 0; ch < c; ch++) {
      const base = ch * m * t;
      const mean = fill === 'mean' ? channelMean(src, base, m * t) : 0;
      for (let r = 0; r < m; r++) {
        const out = dst.subarray(base + r * t, base + (r + 1) * t);
        let s = r - k;
        if (s >= 0 && s < m) {
          out.set(src.subarray(base + s * t, base + (s + 1) * t));
        } else if (fill === 'wrap') {
          s = ((s % m) + m) % m;
          out.set(src.subarray(base + s * t, base + (s + 1) * t));
        } else if (fill === 'edge') {
          s = s < 0 ? 0 : m - 1;
          out.set(src.subarray(base + s * t, base + (s + 1) * t));
        } else {
          out.fill(mean);
        }
      }
    }
  }
}

// ---- intensity -------------------------------------------------------------------------------------

const LightingSchema = z
  .object({
    p: probability,
    maxBrightness: z.number().min(0).max(0.99).default(0.2),
    maxContrast: z.number().min(0).max(0.99).default(0.2),
    mode: z.enum(['affine', 'logit']).default('affine'),
  })
  .strict();

/**
 * Brightness and contrast ("lighting", as fastai's max_lighting = 0.2 used by the Freesound 2019 8th
 * place). Contrast c is log-uniform in [1 − maxContrast, 1/(1 − maxContrast)].
 * - affine (any scale, e.g. normalised log-mels): y = μ + c·(x − μ) + b·σ, b uniform in
 *   [−maxBrightness, maxBrightness], μ and σ the item's mean and standard deviation.
 * - logit (images in [0, 1], fastai's maths): y = sigmoid(c·(logit(x) + logit(b))), b uniform in
 *   [0.5·(1 − maxBrightness), 0.5·(1 + maxBrightness)].
 */
export class Lighting extends SpectrogramTransform<z.output<typeof LightingSchema>> {
  static readonly schema = LightingSchema;
  constructor(options: z.input<typeof LightingSchema> = {}) {
    super('Lighting', LightingSchema, options);
  }
  protected forwardItem(src: Float32Array, dst: Float32Array, _dims: ItemDims, rng: Random): void {
    const o = this.options;
    const lc = -Math.log(1 - o.maxContrast);
    const c = Math.exp(rng.uniform(-lc, lc));
    if (o.mode === 'logit') {
      const b = rng.uniform(0.5 * (1 - o.maxBrightness), 0.5 * (1 + o.maxBrightness));
      const lb = Math.log(b / (1 - b));
      const eps = 1e-6;
      for (let i = 0; i < src.length; i++) {
        const v = Math.min(1 - eps, Math.max(eps, src[i]!));
        dst[i] = 1 / (1 + Math.exp(-c * (Math.log(v / (1 - v)) + lb)));
      }
      return;
    }
    const b = rng.uniform(-o.maxBrightness, o.maxBrightness);
    let mean = 0;
    for (let i = 0; i < src.length; i++) mean += src[i]!;
    mean /= src.length;
    let v = 0;
    for (let i = 0; i < src.length; i++) v += (src[i]! - mean) ** 2;
    const std = Math.sqrt(v / src.length);
    const shift = mean + b * std - c * mean;
    for (let i = 0; i < src.length; i++) dst[i] = c * src[i]! + shift;
  }
}
