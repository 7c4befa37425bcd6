// Speaker-nuisance augmentations for speech: speed perturbation (Ko et al., "Audio augmentation for speech
// recognition", Interspeech 2015) and a vocal-tract-length-style warp of the frequency axis (Jaitly &
// Hinton, "Vocal Tract Length Perturbation (VTLP) improves speech recognition", ICML workshop 2013).
// Both model what changes from one speaker to the next, which is what a held-out speaker tests.
import { z } from 'zod';
import type { Random } from '../core/random.js';
import { type ItemDims, ordered, probability, SpectrogramTransform, WaveformTransform } from './base.js';
import { readFractional } from './dsp.js';

const SpeedSchema = z
  .object({
    p: probability,
    minRate: z.number().positive().default(0.9),
    maxRate: z.number().positive().default(1.1),
    keepLength: z
      .boolean()
      .default(true)
      .describe(
        'Keep n samples, the middle sample staying in the middle (what a fixed-length loader needs).',
      ),
  })
  .strict()
  .superRefine(ordered([['minRate', 'maxRate']]));

/**
 * Plays the clip faster or slower by a rate drawn in [minRate, maxRate] (rate > 1 is faster), changing
 * tempo and pitch together, as a tape would: band-limited resampling, y[k] = x(s + k·rate). With keepLength
 * (the default) the result has n samples and s = (n/2)(1 − rate), so the middle stays in the middle and a
 * centred utterance stays centred; otherwise s = 0 and it has round(n / rate) samples. Cheap, unlike the
 * phase vocoder of TimeStretch and PitchShift; Ko et al. used rates 0.9, 1.0 and 1.1.
 */
export class SpeedPerturb extends WaveformTransform<z.output<typeof SpeedSchema>> {
  static readonly schema = SpeedSchema;
  constructor(options: z.input<typeof SpeedSchema> = {}) {
    super('SpeedPerturb', SpeedSchema, options);
  }
  forward(x: Float32Array, _sampleRate: number, rng: Random): Float32Array {
    const rate = rng.uniform(this.options.minRate, this.options.maxRate);
    if (rate === 1 || x.length === 0) return x.slice();
    if (!this.options.keepLength) return readFractional(x, rate, Math.max(1, Math.round(x.length / rate)));
    return readFractional(x, rate, x.length, (x.length / 2) * (1 - rate));
  }
}

const WarpSchema = z
  .object({
    p: probability,
    minAlpha: z.number().positive().default(0.9),
    maxAlpha: z.number().positive().default(1.1),
    boundary: z
      .number()
      .gt(0)
      .lt(1)
      .default(0.8)
      .describe('Fraction of the axis up to which the warp is a pure scaling (VTLP: f_hi / Nyquist).'),
  })
  .strict()
  .superRefine(ordered([['minAlpha', 'maxAlpha']]));

/**
 * VTLP-style warp of the frequency (mel) axis by a factor α drawn in [minAlpha, maxAlpha]: the content
 * at bin r moves to bin α·r below the boundary b·M·min(α, 1)/α, and the rest is mapped linearly so the top
 * bin stays the top bin (Jaitly & Hinton's piecewise-linear warp, applied to bin indices of the
 * spectrogram the model sees rather than to the filterbank, so it needs no feature settings). Rows are read
 * with linear interpolation between bins.
 */
export class FrequencyWarp extends SpectrogramTransform<z.output<typeof WarpSchema>> {
  static readonly schema = WarpSchema;
  constructor(options: z.input<typeof WarpSchema> = {}) {
    super('FrequencyWarp', WarpSchema, options);
  }
  protected forwardItem(src: Float32Array, dst: Float32Array, { c, m, t }: ItemDims, rng: Random): void {
    const alpha = rng.uniform(this.options.minAlpha, this.options.maxAlpha);
    const top = m - 1;
    for (let r = 0; r < m; r++) {
      const s = Math.min(top, Math.max(0, unwarp(r, alpha, this.options.boundary * top, top)));
      const lo = Math.floor(s);
      const hi = Math.min(top, lo + 1);
      const w = s - lo;
      for (let ch = 0; ch < c; ch++) {
        const base = ch * m * t;
        const a = base + lo * t;
        const b = base + hi * t;
        const o = base + r * t;
        for (let k = 0; k < t; k++) dst[o + k] = (1 - w) * src[a + k] + w * src[b + k];
      }
    }
  }
}

/**
 * The source bin whose content the warp f(s) moves to output bin r, i.e. f⁻¹(r), where f(s) = α·s for
 * s ≤ s0 = boundary·min(α, 1)/α and f is linear from (s0, α·s0) to (top, top) above it.
 */
export function unwarp(r: number, alpha: number, boundary: number, top: number): number {
  const s0 = (boundary * Math.min(alpha, 1)) / alpha;
  const r0 = alpha * s0;
  if (r <= r0) return r / alpha;
  return s0 + ((r - r0) * (top - s0)) / (top - r0);
}

const EqSchema = z
  .object({
    p: probability,
    maxGain: z
      .number()
      .nonnegative()
      .default(0.5)
      .describe(
        'Largest amplitude of each cosine term, in the units of the features (std units once normalised).',
      ),
    terms: z.number().int().min(1).max(16).default(3).describe('Cosine terms: more is a wigglier curve.'),
  })
  .strict();

/**
 * A random equaliser on a log spectrogram: adds one smooth curve over the frequency axis to every frame,
 * g(r) = Σₖ aₖ·cos(π·k·r/(M−1)), k = 1…terms, aₖ uniform in ±maxGain/k. On log-magnitude features an added
 * curve is a multiplicative filter, i.e. another microphone, room or vocal tract colouring: the channel
 * differences between speakers and recorders that a held-out speaker or site brings.
 */
export class RandomEQ extends SpectrogramTransform<z.output<typeof EqSchema>> {
  static readonly schema = EqSchema;
  constructor(options: z.input<typeof EqSchema> = {}) {
    super('RandomEQ', EqSchema, options);
  }
  protected forwardItem(src: Float32Array, dst: Float32Array, { c, m, t }: ItemDims, rng: Random): void {
    const a = Array.from(
      { length: this.options.terms },
      (_, k) => rng.uniform(-1, 1) * (this.options.maxGain / (k + 1)),
    );
    for (let r = 0; r < m; r++) {
      let g = 0;
      for (let k = 0; k < a.length; k++) g += a[k]! * Math.cos((Math.PI * (k + 1) * r) / Math.max(1, m - 1));
      for (let ch = 0; ch < c; ch++) {
        const o = ch * m * t + r * t;
        for (let j = 0; j < t; j++) dst[o + j] = src[o + j]! + g;
      }
    }
  }
}
