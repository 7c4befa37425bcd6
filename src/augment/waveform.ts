// Waveform augmentations: one mono Float32Array clip in, one out, at any sample rate. Parameter names and
// defaults follow the augmentation sets of the winning solutions (most of them used audiomentations-like
// ranges); the maths is ours. Every random draw goes through the Random passed in.
import { z } from 'zod';
import type { Random } from '../core/random.js';
import {
  AugmentationError,
  ordered,
  type PrepareContext,
  probability,
  WaveformTransform,
  type WaveInfo,
} from './base.js';
import {
  absQuantile,
  biquad,
  butterworthQs,
  dbToAmplitude,
  filterCascade,
  meanSquare,
  readFractional,
} from './dsp.js';
import { fft, fftConvolve, isPow2, nextPow2 } from './fft.js';
import { autoFftSize, timeStretch } from './vocoder.js';

/**
 * x plus noise scaled so that 10·log10(P_x / P_noise) is exactly snrDb. A silent clip or silent noise
 * leaves x as it is (no SNR can be met).
 */
export function mixAtSnr(x: Float32Array, noise: ArrayLike<number>, snrDb: number): Float32Array {
  const ps = meanSquare(x);
  const pn = meanSquare(noise);
  if (ps === 0 || pn === 0) return x.slice();
  const scale = Math.sqrt(ps / (pn * 10 ** (snrDb / 10)));
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i]! + scale * noise[i]!;
  return y;
}

/** x mapped sample by sample (a plain loop: Float32Array.from with a callback is several times slower). */
function map(x: Float32Array, f: (v: number) => number): Float32Array {
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = f(x[i]!);
  return y;
}

// ---- level -------------------------------------------------------------------------------------

const GainSchema = z
  .object({ p: probability, minGainDb: z.number().default(-12), maxGainDb: z.number().default(12) })
  .strict()
  .superRefine(ordered([['minGainDb', 'maxGainDb']]));

/** Multiplies the clip by a gain drawn uniformly in dB. */
export class Gain extends WaveformTransform<z.output<typeof GainSchema>> {
  static readonly schema = GainSchema;
  constructor(options: z.input<typeof GainSchema> = {}) {
    super('Gain', GainSchema, options);
  }
  forward(x: Float32Array, _sr: number, rng: Random): Float32Array {
    const g = dbToAmplitude(rng.uniform(this.options.minGainDb, this.options.maxGainDb));
    return map(x, (v) => v * g);
  }
}

const PolaritySchema = z.object({ p: probability }).strict();

/** Flips the sign of every sample (inaudible alone; changes what a waveform model sees). */
export class PolarityInversion extends WaveformTransform<z.output<typeof PolaritySchema>> {
  static readonly schema = PolaritySchema;
  constructor(options: z.input<typeof PolaritySchema> = {}) {
    super('PolarityInversion', PolaritySchema, options);
  }
  forward(x: Float32Array): Float32Array {
    return map(x, (v) => -v);
  }
}

/** Plays the clip backwards. */
export class Reverse extends WaveformTransform<z.output<typeof PolaritySchema>> {
  static readonly schema = PolaritySchema;
  constructor(options: z.input<typeof PolaritySchema> = {}) {
    super('Reverse', PolaritySchema, options);
  }
  forward(x: Float32Array): Float32Array {
    return x.slice().reverse();
  }
}

const ClipSchema = z.object({ p: probability, maxAbs: z.number().positive().default(1) }).strict();

/** Hard-clips to [-maxAbs, maxAbs] (e.g. after a gain that may have pushed samples past full scale). */
export class Clip extends WaveformTransform<z.output<typeof ClipSchema>> {
  static readonly schema = ClipSchema;
  constructor(options: z.input<typeof ClipSchema> = {}) {
    super('Clip', ClipSchema, options);
  }
  forward(x: Float32Array): Float32Array {
    const a = this.options.maxAbs;
    return map(x, (v) => Math.min(a, Math.max(-a, v)));
  }
}

const ClippingSchema = z
  .object({
    p: probability,
    minPercentile: z.number().min(0).max(100).default(0),
    maxPercentile: z.number().min(0).max(100).default(40),
  })
  .strict()
  .superRefine(ordered([['minPercentile', 'maxPercentile']]));

/**
 * Clipping distortion: a percentage q of the samples (drawn in [minPercentile, maxPercentile]) is
 * clipped, i.e. the threshold is the (100 − q)-th percentile of |x|.
 */
export class ClippingDistortion extends WaveformTransform<z.output<typeof ClippingSchema>> {
  static readonly schema = ClippingSchema;
  constructor(options: z.input<typeof ClippingSchema> = {}) {
    super('ClippingDistortion', ClippingSchema, options);
  }
  forward(x: Float32Array, _sr: number, rng: Random): Float32Array {
    const q = rng.uniform(this.options.minPercentile, this.options.maxPercentile);
    const t = absQuantile(x, 1 - q / 100);
    return map(x, (v) => Math.min(t, Math.max(-t, v)));
  }
}

// ---- noise -------------------------------------------------------------------------------------

const NoiseSchema = z
  .object({
    p: probability,
    minAmplitude: z.number().min(0).default(0.001),
    maxAmplitude: z.number().min(0).default(0.015),
  })
  .strict()
  .superRefine(ordered([['minAmplitude', 'maxAmplitude']]));

/** Adds white Gaussian noise whose standard deviation is drawn in [minAmplitude, maxAmplitude]. */
export class GaussianNoise extends WaveformTransform<z.output<typeof NoiseSchema>> {
  static readonly schema = NoiseSchema;
  constructor(options: z.input<typeof NoiseSchema> = {}) {
    super('GaussianNoise', NoiseSchema, options);
  }
  forward(x: Float32Array, _sr: number, rng: Random): Float32Array {
    const a = rng.uniform(this.options.minAmplitude, this.options.maxAmplitude);
    return map(x, (v) => v + a * rng.normal());
  }
}

const SnrSchema = z
  .object({ p: probability, minSnrDb: z.number().default(5), maxSnrDb: z.number().default(40) })
  .strict()
  .superRefine(ordered([['minSnrDb', 'maxSnrDb']]));

/** Adds white Gaussian noise at an SNR drawn in [minSnrDb, maxSnrDb], exact for the noise drawn. */
export class GaussianSNR extends WaveformTransform<z.output<typeof SnrSchema>> {
  static readonly schema = SnrSchema;
  constructor(options: z.input<typeof SnrSchema> = {}) {
    super('GaussianSNR', SnrSchema, options);
  }
  forward(x: Float32Array, _sr: number, rng: Random): Float32Array {
    const snr = rng.uniform(this.options.minSnrDb, this.options.maxSnrDb);
    const noise = new Float64Array(x.length);
    for (let i = 0; i < noise.length; i++) noise[i] = rng.normal();
    return mixAtSnr(x, noise, snr);
  }
}

/** Spectral slopes of the named noise colours, in dB per octave of power spectral density. */
export const NOISE_COLORS = {
  white: 0,
  pink: -10 * Math.log10(2),
  brown: -20 * Math.log10(2),
  blue: 10 * Math.log10(2),
  violet: 20 * Math.log10(2),
} as const;
export type NoiseColor = keyof typeof NOISE_COLORS;

/**
 * Gaussian noise whose power spectral density falls (or rises) by slopeDb per octave: white noise is
 * shaped in the frequency domain by f^(β/2) with β = slopeDb / (10·log10 2), DC removed.
 */
export function coloredNoise(n: number, slopeDb: number, rng: Random): Float64Array {
  if (n === 0) return new Float64Array(0);
  const len = nextPow2(n);
  const re = new Float64Array(len);
  const im = new Float64Array(len);
  for (let i = 0; i < len; i++) re[i] = rng.normal();
  fft(re, im);
  const halfExp = slopeDb / (10 * Math.log10(2)) / 2;
  re[0] = 0;
  im[0] = 0;
  for (let k = 1; k <= len / 2; k++) {
    const g = k ** halfExp;
    re[k] = re[k]! * g;
    im[k] = im[k]! * g;
    if (k < len / 2) {
      re[len - k] = re[len - k]! * g;
      im[len - k] = im[len - k]! * g;
    }
  }
  fft(re, im, true);
  return re.slice(0, n);
}

const ColoredSchema = z
  .object({
    p: probability,
    minSnrDb: z.number().default(5),
    maxSnrDb: z.number().default(40),
    color: z.enum(['white', 'pink', 'brown', 'blue', 'violet']).optional(),
    minSlopeDb: z.number().default(NOISE_COLORS.brown),
    maxSlopeDb: z.number().default(NOISE_COLORS.violet),
  })
  .strict()
  .superRefine(
    ordered([
      ['minSnrDb', 'maxSnrDb'],
      ['minSlopeDb', 'maxSlopeDb'],
    ]),
  );

/**
 * Adds coloured noise at an SNR drawn in [minSnrDb, maxSnrDb]. The colour is fixed by `color`
 * (pink −3.01, brown −6.02, blue +3.01, violet +6.02 dB/octave) or its slope is drawn in
 * [minSlopeDb, maxSlopeDb].
 */
export class ColoredNoise extends WaveformTransform<z.output<typeof ColoredSchema>> {
  static readonly schema = ColoredSchema;
  constructor(options: z.input<typeof ColoredSchema> = {}) {
    super('ColoredNoise', ColoredSchema, options);
  }
  forward(x: Float32Array, _sr: number, rng: Random): Float32Array {
    const o = this.options;
    const snr = rng.uniform(o.minSnrDb, o.maxSnrDb);
    const slope = o.color ? NOISE_COLORS[o.color] : rng.uniform(o.minSlopeDb, o.maxSlopeDb);
    return mixAtSnr(x, coloredNoise(x.length, slope, rng), snr);
  }
}

// ---- clips from files or memory (background noise, impulse responses) -------------------------

/** Decoded clips shared by every transform and pipeline, keyed by rate and path. */
const clipCache = new Map<string, Promise<Float32Array>>();

/** Drops cached noise/IR clips (tests, or long-running servers that change folders). */
export function clearClipCache(): void {
  clipCache.clear();
}

const AUDIO_EXTENSIONS = ['wav', 'flac', 'mp3', 'ogg', 'm4a', 'aac', 'opus', 'aiff', 'aif'];

/** In-memory clips for the pure (browser) variants of BackgroundNoise and ImpulseResponse. */
export interface InMemoryClips {
  clips: readonly Float32Array[];
  sampleRate: number;
}

interface FileOptions {
  paths?: string[] | undefined;
  folder?: string | undefined;
  extensions: string[];
}

/**
 * Where a transform's clips come from: files (listed and decoded in `prepare`, cached) or arrays given
 * in code (resampled on first use at a new rate, cached).
 */
class ClipSource {
  private byRate = new Map<number, Float32Array[]>();

  constructor(
    private readonly owner: string,
    private readonly files: FileOptions,
    private readonly memory?: InMemoryClips,
  ) {
    if (memory) {
      if (memory.clips.length === 0) throw new AugmentationError(`${owner}: in-memory clips list is empty`);
      if (!(memory.sampleRate > 0))
        throw new AugmentationError(`${owner}: in-memory clips need a positive sampleRate`);
    } else if (!files.paths?.length && !files.folder) {
      throw new AugmentationError(
        `${owner}: give "paths" (a list of audio files) or "folder" (a folder of audio files), or in-memory clips from code`,
      );
    }
  }

  get inMemory(): boolean {
    return this.memory !== undefined;
  }

  async prepare(ctx: PrepareContext): Promise<void> {
    if (this.memory || this.byRate.has(ctx.sampleRate)) return;
    const { loadClip, listFolder } = ctx;
    if (!loadClip)
      throw new AugmentationError(`${this.owner}: prepare needs a loadClip function to decode its files`);
    const resolve = (p: string) =>
      ctx.baseDir && !isAbsolute(p) ? `${ctx.baseDir.replace(/\/+$/, '')}/${p}` : p;
    const paths = (this.files.paths ?? []).map(resolve);
    if (this.files.folder) {
      if (!listFolder)
        throw new AugmentationError(`${this.owner}: prepare needs a listFolder function for "folder"`);
      const exts = this.files.extensions.length ? this.files.extensions : AUDIO_EXTENSIONS;
      const found = await listFolder(resolve(this.files.folder), exts);
      if (found.length === 0)
        throw new AugmentationError(
          `${this.owner}: folder "${this.files.folder}" holds no audio files (${exts.join(', ')})`,
        );
      paths.push(...found);
    }
    const clips = await Promise.all(
      paths.map((p) => {
        const key = `${ctx.sampleRate}:${p}`;
        let c = clipCache.get(key);
        if (!c) {
          c = loadClip(p, ctx.sampleRate).catch((err) => {
            clipCache.delete(key);
            throw new AugmentationError(
              `${this.owner}: cannot load "${p}": ${err instanceof Error ? err.message : String(err)}`,
            );
          });
          clipCache.set(key, c);
        }
        return c;
      }),
    );
    this.byRate.set(ctx.sampleRate, clips);
  }

  /** The clips at this rate; throws (saying what to call) when files were not prepared for it. */
  get(sampleRate: number): Float32Array[] {
    const have = this.byRate.get(sampleRate);
    if (have) return have;
    if (this.memory) {
      const step = this.memory.sampleRate / sampleRate;
      const clips = this.memory.clips.map((c) =>
        step === 1 ? c : readFractional(c, step, Math.floor(c.length / step)),
      );
      this.byRate.set(sampleRate, clips);
      return clips;
    }
    throw new AugmentationError(
      `${this.owner}: its files are not loaded for ${sampleRate} Hz; call \`await pipeline.prepare({ sampleRate: ${sampleRate}, ... })\` (or prepareAugmentation from src/augment/node) before apply`,
    );
  }
}

function isAbsolute(p: string): boolean {
  return p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p);
}

const fileKeys = {
  paths: z.array(z.string().min(1)).min(1).optional(),
  folder: z.string().min(1).optional(),
  extensions: z.array(z.string().min(1)).default([]),
};

const BackgroundSchema = z
  .object({ p: probability, minSnrDb: z.number().default(3), maxSnrDb: z.number().default(30), ...fileKeys })
  .strict()
  .superRefine(ordered([['minSnrDb', 'maxSnrDb']]));

/**
 * Mixes in a clip drawn from a set of background recordings at an SNR drawn in [minSnrDb, maxSnrDb].
 * A random excerpt of the noise is used (looped when the noise is shorter than the clip). Files are
 * listed and decoded in `prepare` (lazily, once per rate, shared across pipelines); pass in-memory clips
 * as the second argument for the pure variant (browsers).
 */
export class BackgroundNoise extends WaveformTransform<z.output<typeof BackgroundSchema>> {
  static readonly schema = BackgroundSchema;
  private readonly source: ClipSource;

  constructor(options: z.input<typeof BackgroundSchema> = {}, clips?: InMemoryClips) {
    super('BackgroundNoise', BackgroundSchema, options);
    this.source = new ClipSource('BackgroundNoise', this.options, clips);
  }

  override async prepare(ctx: PrepareContext): Promise<void> {
    await this.source.prepare(ctx);
  }

  override toSpec() {
    if (this.source.inMemory)
      throw new AugmentationError('BackgroundNoise: a transform built on in-memory clips has no file spec');
    return super.toSpec();
  }

  forward(x: Float32Array, sampleRate: number, rng: Random): Float32Array {
    const clips = this.source.get(sampleRate);
    const noise = rng.choice(clips);
    const snr = rng.uniform(this.options.minSnrDb, this.options.maxSnrDb);
    if (noise.length === 0) return x.slice();
    return mixAtSnr(x, excerpt(noise, x.length, rng), snr);
  }
}

/** n samples of src from a random offset, looping src when it is shorter than n. */
function excerpt(src: Float32Array, n: number, rng: Random): Float32Array {
  if (src.length >= n) {
    const off = rng.int(0, src.length - n + 1);
    return src.subarray(off, off + n);
  }
  const out = new Float32Array(n);
  let pos = rng.int(0, src.length);
  for (let i = 0; i < n; i++) {
    out[i] = src[pos]!;
    pos = pos + 1 === src.length ? 0 : pos + 1;
  }
  return out;
}

const IrSchema = z
  .object({ p: probability, gain: z.enum(['rms', 'none']).default('rms'), ...fileKeys })
  .strict();

/**
 * Convolves the clip with an impulse response drawn from a set (FFT convolution), keeping the clip's
 * length. With gain "rms" the result is scaled back to the input's RMS so rooms do not change loudness.
 */
export class ImpulseResponse extends WaveformTransform<z.output<typeof IrSchema>> {
  static readonly schema = IrSchema;
  private readonly source: ClipSource;

  constructor(options: z.input<typeof IrSchema> = {}, irs?: InMemoryClips) {
    super('ImpulseResponse', IrSchema, options);
    this.source = new ClipSource('ImpulseResponse', this.options, irs);
  }

  override async prepare(ctx: PrepareContext): Promise<void> {
    await this.source.prepare(ctx);
  }

  override toSpec() {
    if (this.source.inMemory)
      throw new AugmentationError('ImpulseResponse: a transform built on in-memory clips has no file spec');
    return super.toSpec();
  }

  forward(x: Float32Array, sampleRate: number, rng: Random): Float32Array {
    const ir = rng.choice(this.source.get(sampleRate));
    const full = fftConvolve(x, ir);
    const y = new Float32Array(x.length);
    y.set(full.subarray(0, x.length));
    if (this.options.gain === 'rms') {
      const py = meanSquare(y);
      if (py > 0) {
        const g = Math.sqrt(meanSquare(x) / py);
        for (let i = 0; i < y.length; i++) y[i] = y[i]! * g;
      }
    }
    return y;
  }
}

// ---- time ----------------------------------------------------------------------------------------

const ShiftSchema = z
  .object({
    p: probability,
    minShift: z.number().default(-0.5),
    maxShift: z.number().default(0.5),
    unit: z.enum(['fraction', 'seconds', 'samples']).default('fraction'),
    rollover: z.boolean().default(true),
  })
  .strict()
  .superRefine(ordered([['minShift', 'maxShift']]));

/**
 * Shifts the clip in time by an amount drawn in [minShift, maxShift] (a fraction of its length, seconds,
 * or samples; positive is later). With rollover the samples pushed out come back at the other end,
 * otherwise the gap is zero-filled.
 */
export class Shift extends WaveformTransform<z.output<typeof ShiftSchema>> {
  static readonly schema = ShiftSchema;
  constructor(options: z.input<typeof ShiftSchema> = {}) {
    super('Shift', ShiftSchema, options);
  }
  forward(x: Float32Array, sampleRate: number, rng: Random): Float32Array {
    const o = this.options;
    const n = x.length;
    const amount = rng.uniform(o.minShift, o.maxShift);
    const unit = o.unit === 'fraction' ? n : o.unit === 'seconds' ? sampleRate : 1;
    return shiftSamples(x, Math.round(amount * unit), o.rollover);
  }
}

/** y[i] = x[i − k], rolled or zero-filled. */
export function shiftSamples(x: Float32Array, k: number, rollover: boolean): Float32Array {
  const n = x.length;
  const y = new Float32Array(n);
  if (n === 0) return y;
  if (rollover) {
    const s = ((k % n) + n) % n;
    y.set(x.subarray(0, n - s), s);
    y.set(x.subarray(n - s), 0);
  } else if (Math.abs(k) < n) {
    if (k >= 0) y.set(x.subarray(0, n - k), k);
    else y.set(x.subarray(-k), 0);
  }
  return y;
}

const TimeMaskSchema = z
  .object({
    p: probability,
    minFraction: z.number().min(0).max(1).default(0),
    maxFraction: z.number().min(0).max(1).default(0.2),
    fade: z.boolean().default(false),
    fadeSeconds: z.number().min(0).default(0.01),
  })
  .strict()
  .superRefine(ordered([['minFraction', 'maxFraction']]));

/**
 * Silences one band of the clip whose length is a fraction of it drawn in [minFraction, maxFraction].
 * With fade, the band's edges are raised-cosine ramps of fadeSeconds (at most half the band) inside the
 * band, so the cut makes no click.
 */
export class TimeMask extends WaveformTransform<z.output<typeof TimeMaskSchema>> {
  static readonly schema = TimeMaskSchema;
  constructor(options: z.input<typeof TimeMaskSchema> = {}) {
    super('TimeMask', TimeMaskSchema, options);
  }
  forward(x: Float32Array, sampleRate: number, rng: Random): Float32Array {
    const o = this.options;
    const n = x.length;
    const width = Math.min(n, Math.round(rng.uniform(o.minFraction, o.maxFraction) * n));
    const start = rng.int(0, n - width + 1);
    const y = x.slice();
    const ramp = o.fade ? Math.min(Math.floor(width / 2), Math.round(o.fadeSeconds * sampleRate)) : 0;
    for (let i = 0; i < width; i++) {
      let g = 0;
      const fromEdge = Math.min(i, width - 1 - i);
      if (fromEdge < ramp) g = 0.5 + 0.5 * Math.cos((Math.PI * (fromEdge + 1)) / (ramp + 1));
      y[start + i] = x[start + i]! * g;
    }
    return y;
  }
}

const CropSchema = z
  .object({
    p: probability,
    duration: z.number().positive().default(5),
    pad: z.enum(['zero', 'repeat']).default('zero'),
  })
  .strict();

/**
 * Cuts a window of `duration` seconds from a long clip (BirdCLEF style). Without weights the start is
 * uniform over samples. With `info.secondWeights` (one weight per second of the clip, e.g. from a
 * previous model's per-second scores) the window starts on a whole second k, chosen with probability
 * proportional to the summed weights of the seconds it covers. Shorter clips are padded: zeros around
 * the clip at a random offset, or the clip repeated. Always returns round(duration·sampleRate) samples.
 */
export class RandomCrop extends WaveformTransform<z.output<typeof CropSchema>> {
  static readonly schema = CropSchema;
  constructor(options: z.input<typeof CropSchema> = {}) {
    super('RandomCrop', CropSchema, options);
  }
  forward(x: Float32Array, sampleRate: number, rng: Random, info?: WaveInfo): Float32Array {
    const len = Math.round(this.options.duration * sampleRate);
    const n = x.length;
    if (n <= len) {
      const out = new Float32Array(len);
      if (n === 0) return out;
      if (this.options.pad === 'repeat') {
        for (let i = 0; i < len; i++) out[i] = x[i % n]!;
      } else {
        out.set(x, rng.int(0, len - n + 1));
      }
      return out;
    }
    const w = info?.secondWeights;
    if (!w) {
      const start = rng.int(0, n - len + 1);
      return x.slice(start, start + len);
    }
    const seconds = n / sampleRate;
    if (w.length < Math.floor(seconds))
      throw new AugmentationError(
        `RandomCrop: secondWeights has ${w.length} values but the clip is ${seconds.toFixed(2)} s long (one per second expected)`,
      );
    const windowSeconds = Math.ceil(this.options.duration);
    const starts = Math.floor((n - len) / sampleRate) + 1;
    const weights = new Float64Array(starts);
    let total = 0;
    for (let k = 0; k < starts; k++) {
      for (let s = k; s < Math.min(w.length, k + windowSeconds); s++) {
        const v = Number(w[s]);
        if (!(v >= 0))
          throw new AugmentationError(`RandomCrop: secondWeights[${s}] must be a number ≥ 0, got ${w[s]}`);
        weights[k] = weights[k]! + v;
      }
      total += weights[k]!;
    }
    const k = total > 0 ? rng.weightedIndex(weights) : rng.int(0, starts);
    const start = k * Math.round(sampleRate);
    return x.slice(start, start + len);
  }
}

// ---- filters -------------------------------------------------------------------------------------

const order = z
  .number()
  .int()
  .refine((v) => v >= 2 && v <= 16 && v % 2 === 0, 'expected an even order from 2 to 16')
  .default(2);

/** Cutoffs are kept below 0.49 × sampleRate so one config works at 8 kHz and at 44.1 kHz. */
function clampCutoff(f: number, sampleRate: number): number {
  return Math.min(Math.max(f, 1e-3 * sampleRate), 0.49 * sampleRate);
}

const LowPassSchema = z
  .object({
    p: probability,
    minCutoffHz: z.number().positive().default(150),
    maxCutoffHz: z.number().positive().default(7500),
    order,
  })
  .strict()
  .superRefine(ordered([['minCutoffHz', 'maxCutoffHz']]));

/**
 * Butterworth low-pass (cascaded RBJ biquads) with a cutoff drawn in [minCutoffHz, maxCutoffHz]:
 * −3 dB at the cutoff, falling 6·order dB per octave above it.
 */
export class LowPass extends WaveformTransform<z.output<typeof LowPassSchema>> {
  static readonly schema = LowPassSchema;
  constructor(options: z.input<typeof LowPassSchema> = {}) {
    super('LowPass', LowPassSchema, options);
  }
  forward(x: Float32Array, sampleRate: number, rng: Random): Float32Array {
    const f = clampCutoff(rng.uniform(this.options.minCutoffHz, this.options.maxCutoffHz), sampleRate);
    return filterCascade(
      x,
      butterworthQs(this.options.order).map((q) => biquad('lowpass', f, sampleRate, q)),
    );
  }
}

const HighPassSchema = z
  .object({
    p: probability,
    minCutoffHz: z.number().positive().default(20),
    maxCutoffHz: z.number().positive().default(2400),
    order,
  })
  .strict()
  .superRefine(ordered([['minCutoffHz', 'maxCutoffHz']]));

/** Butterworth high-pass, the mirror of LowPass. */
export class HighPass extends WaveformTransform<z.output<typeof HighPassSchema>> {
  static readonly schema = HighPassSchema;
  constructor(options: z.input<typeof HighPassSchema> = {}) {
    super('HighPass', HighPassSchema, options);
  }
  forward(x: Float32Array, sampleRate: number, rng: Random): Float32Array {
    const f = clampCutoff(rng.uniform(this.options.minCutoffHz, this.options.maxCutoffHz), sampleRate);
    return filterCascade(
      x,
      butterworthQs(this.options.order).map((q) => biquad('highpass', f, sampleRate, q)),
    );
  }
}

const BandPassSchema = z
  .object({
    p: probability,
    minCenterHz: z.number().positive().default(200),
    maxCenterHz: z.number().positive().default(4000),
    minBandwidthFraction: z.number().positive().default(0.5),
    maxBandwidthFraction: z.number().positive().default(1.99),
  })
  .strict()
  .superRefine(
    ordered([
      ['minCenterHz', 'maxCenterHz'],
      ['minBandwidthFraction', 'maxBandwidthFraction'],
    ]),
  );

/**
 * Band-pass biquad (RBJ, 0 dB at the centre) with a centre drawn in [minCenterHz, maxCenterHz] and a
 * −3 dB bandwidth of fraction × centre (Q = 1 / fraction), the fraction drawn in its range.
 */
export class BandPass extends WaveformTransform<z.output<typeof BandPassSchema>> {
  static readonly schema = BandPassSchema;
  constructor(options: z.input<typeof BandPassSchema> = {}) {
    super('BandPass', BandPassSchema, options);
  }
  forward(x: Float32Array, sampleRate: number, rng: Random): Float32Array {
    const o = this.options;
    const f = clampCutoff(rng.uniform(o.minCenterHz, o.maxCenterHz), sampleRate);
    const frac = rng.uniform(o.minBandwidthFraction, o.maxBandwidthFraction);
    return filterCascade(x, [biquad('bandpass', f, sampleRate, 1 / frac)]);
  }
}

// ---- pitch and tempo (slow: phase vocoder) -----------------------------------------------------

const nFft = z
  .number()
  .int()
  .refine((v) => v === 0 || (isPow2(v) && v >= 64), 'expected 0 (automatic) or a power of two ≥ 64')
  .default(0);

const PitchSchema = z
  .object({
    p: probability,
    minSemitones: z.number().min(-24).max(24).default(-4),
    maxSemitones: z.number().min(-24).max(24).default(4),
    nFft,
  })
  .strict()
  .superRefine(ordered([['minSemitones', 'maxSemitones']]));

/**
 * Shifts pitch by semitones drawn in [minSemitones, maxSemitones], keeping duration: phase-vocoder
 * stretch by the pitch ratio, then band-limited resampling back to the original length. Slow (two
 * STFTs and a windowed-sinc resampler per clip).
 */
export class PitchShift extends WaveformTransform<z.output<typeof PitchSchema>> {
  static readonly schema = PitchSchema;
  constructor(options: z.input<typeof PitchSchema> = {}) {
    super('PitchShift', PitchSchema, options);
  }
  forward(x: Float32Array, sampleRate: number, rng: Random): Float32Array {
    const st = rng.uniform(this.options.minSemitones, this.options.maxSemitones);
    return pitchShift(x, sampleRate, st, this.options.nFft || autoFftSize(sampleRate));
  }
}

export function pitchShift(
  x: Float32Array,
  _sampleRate: number,
  semitones: number,
  fftSize: number,
): Float32Array {
  const r = 2 ** (semitones / 12);
  if (r === 1 || x.length === 0) return x.slice();
  const stretched = timeStretch(x, 1 / r, fftSize);
  return readFractional(stretched, r, x.length);
}

const StretchSchema = z
  .object({
    p: probability,
    minRate: z.number().positive().default(0.8),
    maxRate: z.number().positive().default(1.25),
    keepLength: z.boolean().default(true),
    nFft,
  })
  .strict()
  .superRefine(ordered([['minRate', 'maxRate']]));

/**
 * Changes tempo by a rate drawn in [minRate, maxRate] (rate > 1 is faster) keeping pitch (phase
 * vocoder). With keepLength the result is cut or zero-padded back to the input length; otherwise it has
 * round(n / rate) samples. Slow.
 */
export class TimeStretch extends WaveformTransform<z.output<typeof StretchSchema>> {
  static readonly schema = StretchSchema;
  constructor(options: z.input<typeof StretchSchema> = {}) {
    super('TimeStretch', StretchSchema, options);
  }
  forward(x: Float32Array, sampleRate: number, rng: Random): Float32Array {
    const rate = rng.uniform(this.options.minRate, this.options.maxRate);
    const y = timeStretch(x, rate, this.options.nFft || autoFftSize(sampleRate));
    if (!this.options.keepLength || y.length === x.length) return y;
    const out = new Float32Array(x.length);
    out.set(y.subarray(0, x.length));
    return out;
  }
}
