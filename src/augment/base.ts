// The common shape of every augmentation: a name, validated options (which double as its JSON/YAML spec),
// a probability p, and a train/eval switch. Three kinds exist because they take different inputs:
// waveform transforms see one clip, spectrogram transforms one [channels, mels, frames] item (or a batch
// of them, item by item), and batch transforms see a whole batch plus its targets (they mix items).
import { z } from 'zod';
import { formatSchemaIssues } from '../core/errors.js';
import type { NDArray } from '../core/ndarray.js';
import type { Random } from '../core/random.js';

export type AugmentationKind = 'waveform' | 'spectrogram' | 'batch';

/** A plain, serialisable description of an augmentation: `{ name: 'Gain', p: 0.5, minGainDb: -6 }`. */
export interface AugmentationSpec {
  name: string;
  [key: string]: unknown;
}

/** A bad augmentation spec or option: the message names the transform, the key and what was expected. */
export class AugmentationError extends Error {
  override name = 'AugmentationError';
}

/** Per-clip extras a waveform transform may use (only RandomCrop reads any today). */
export interface WaveInfo {
  /** One weight per second of the clip: RandomCrop prefers windows whose seconds weigh more. */
  secondWeights?: ArrayLike<number>;
}

/** What `prepare` needs to load files (noise clips, impulse responses) before `apply` runs. */
export interface PrepareContext {
  /** The rate the pipeline will be applied at; files are decoded at this rate. */
  sampleRate: number;
  /** Decodes one file to mono samples at `sampleRate`. */
  loadClip?: (path: string, sampleRate: number) => Promise<Float32Array>;
  /** Lists the audio files of a folder (sorted, so a seed picks the same file everywhere). */
  listFolder?: (folder: string, extensions: readonly string[]) => Promise<string[]>;
  /** Relative paths in specs are resolved against this folder (the config file's folder). */
  baseDir?: string;
}

/** The second, noisy batch `MixWithNoisy` draws from, and the sample rate waveform items are at. */
export interface BatchContext {
  noisy?: { batch: NDArray; targets: NDArray };
  /** Needed when a batch pipeline holds waveform transforms (they are applied row by row). */
  sampleRate?: number;
}

export interface MixResult {
  batch: NDArray;
  targets: NDArray;
}

/** What every augmentation (and Compose/OneOf/SomeOf) offers. */
export interface Augmentation {
  readonly name: string;
  readonly kind: AugmentationKind | 'empty';
  /** Probability that the transform runs (per clip, per item, or per batch item for mixers). */
  readonly p: number;
  readonly enabled: boolean;
  /** Turns augmentation off (identity), recursively: use it for evaluation. */
  eval(): this;
  /** Turns augmentation back on, recursively. */
  train(on?: boolean): this;
  toSpec(): AugmentationSpec;
  /** Loads whatever files the transform needs (no-op for most). */
  prepare(ctx: PrepareContext): Promise<void>;
}

export interface WaveformAugmentation extends Augmentation {
  readonly kind: 'waveform';
  apply(x: Float32Array, sampleRate: number, rng: Random, info?: WaveInfo): Float32Array;
}

export interface SpectrogramAugmentation extends Augmentation {
  readonly kind: 'spectrogram';
  /** x is [mels, frames], [channels, mels, frames] or a batch [batch, channels, mels, frames]. */
  apply(x: NDArray, rng: Random): NDArray;
  /** Treats the first axis as the batch whatever the rank (used inside batch pipelines). */
  applyBatch(batch: NDArray, rng: Random): NDArray;
}

export interface BatchAugmentation extends Augmentation {
  readonly kind: 'batch';
  apply(batch: NDArray, targets: NDArray, rng: Random, ctx?: BatchContext): MixResult;
}

// ---- option schemas ------------------------------------------------------------------------

/** The `p` every transform accepts. */
export const probability = z.number().min(0).max(1).default(1);

/** Adds "min ≤ max" checks for pairs of keys, reported on the max key. */
export function ordered<T extends Record<string, unknown>>(pairs: [keyof T & string, keyof T & string][]) {
  return (value: T, ctx: z.RefinementCtx) => {
    for (const [lo, hi] of pairs) {
      const a = value[lo];
      const b = value[hi];
      if (typeof a === 'number' && typeof b === 'number' && a > b) {
        ctx.addIssue({
          code: 'custom',
          path: [hi],
          message: `expected ${hi} ≥ ${lo} (${a}), got ${b}`,
        });
      }
    }
  };
}

// biome-ignore lint/suspicious/noExplicitAny: a schema of any object shape
export type AnySchema = z.ZodType<any, any>;

/** Validates options with a schema; the error names the transform, the key and what was expected. */
export function parseOptions<S extends AnySchema>(name: string, schema: S, options: unknown): z.output<S> {
  const r = schema.safeParse(options ?? {});
  if (r.success) return r.data;
  const problems = formatSchemaIssues(r.error.issues, options ?? {}, { schema, root: '(options)' });
  throw new AugmentationError(`${name}: ${problems.join('; ')}`);
}

// ---- base classes ----------------------------------------------------------------------------

/** The options every augmentation has: the probability `p` that it runs. */
export type BaseOptions = { p: number };

/**
 * What every augmentation and pipeline shares: a name, validated frozen options with `p`, the
 * train/eval switch, its spec, and `fires` (one draw per decision).
 */
export abstract class AugmentationBase<O extends BaseOptions = BaseOptions> {
  readonly options: Readonly<O>;
  private on = true;

  constructor(
    readonly name: string,
    schema: AnySchema,
    options: unknown,
  ) {
    this.options = Object.freeze(parseOptions(name, schema, options) as O);
  }

  get p(): number {
    return this.options.p;
  }

  get enabled(): boolean {
    return this.on;
  }

  eval(): this {
    return this.train(false);
  }

  train(on = true): this {
    this.on = on;
    return this;
  }

  toSpec(): AugmentationSpec {
    return { name: this.name, ...structuredClone(this.options) } as AugmentationSpec;
  }

  async prepare(_ctx: PrepareContext): Promise<void> {}

  /** One draw per decision, skipped at p = 1 so certain transforms cost no randomness. */
  protected fires(rng: Random): boolean {
    const p = this.options.p;
    if (p >= 1) return true;
    if (p <= 0) return false;
    return rng.random() < p;
  }
}

/**
 * A transform of one clip. `apply` honours p and the eval switch and may return its input unchanged;
 * `forward` always transforms. Neither modifies the input.
 */
export abstract class WaveformTransform<O extends BaseOptions = BaseOptions>
  extends AugmentationBase<O>
  implements WaveformAugmentation
{
  readonly kind = 'waveform' as const;

  apply(x: Float32Array, sampleRate: number, rng: Random, info?: WaveInfo): Float32Array {
    checkWave(this.name, x, sampleRate);
    if (!this.enabled || !this.fires(rng)) return x;
    return this.forward(x, sampleRate, rng, info);
  }

  abstract forward(x: Float32Array, sampleRate: number, rng: Random, info?: WaveInfo): Float32Array;
}

export function checkWave(name: string, x: Float32Array, sampleRate: number): void {
  if (!(x instanceof Float32Array)) throw new AugmentationError(`${name}: expected a Float32Array clip`);
  if (!(sampleRate > 0) || !Number.isFinite(sampleRate))
    throw new AugmentationError(`${name}: sampleRate must be a positive number, got ${sampleRate}`);
}

/** [channels, mels, frames] of one item. */
export interface ItemDims {
  c: number;
  m: number;
  t: number;
}

/** Splits a spectrogram shape into a batch count and item dims: rank 2 [m, t], 3 [c, m, t], 4 [b, c, m, t]. */
export function specDims(name: string, shape: readonly number[], batched: boolean): { b: number } & ItemDims {
  const s = batched ? shape.slice(1) : shape;
  const b = batched ? shape[0]! : 1;
  if (batched && shape.length < 3)
    throw new AugmentationError(
      `${name}: expected a batch [batch, mels, frames] or [batch, channels, mels, frames], got [${shape.join(', ')}]`,
    );
  if (s.length === 2) return { b, c: 1, m: s[0]!, t: s[1]! };
  if (s.length === 3) return { b, c: s[0]!, m: s[1]!, t: s[2]! };
  throw new AugmentationError(
    `${name}: expected a spectrogram [mels, frames], [channels, mels, frames] or [batch, channels, mels, frames], got [${shape.join(', ')}]`,
  );
}

/**
 * A transform of one spectrogram item. Batches are processed item by item, each with its own draws
 * (p included). The output is always a new array when enabled.
 */
export abstract class SpectrogramTransform<O extends BaseOptions = BaseOptions>
  extends AugmentationBase<O>
  implements SpectrogramAugmentation
{
  readonly kind = 'spectrogram' as const;

  apply(x: NDArray, rng: Random): NDArray {
    if (!this.enabled) return x;
    return this.run(x, rng, x.shape.length === 4, true);
  }

  applyBatch(batch: NDArray, rng: Random): NDArray {
    if (!this.enabled) return batch;
    return this.run(batch, rng, true, true);
  }

  /** Always transforms (every item of a batch). */
  forward(x: NDArray, rng: Random): NDArray {
    return this.run(x, rng, x.shape.length === 4, false);
  }

  private run(x: NDArray, rng: Random, batched: boolean, useP: boolean): NDArray {
    const { b, c, m, t } = specDims(this.name, x.shape, batched);
    const n = c * m * t;
    const out = new Float32Array(x.data.length);
    for (let i = 0; i < b; i++) {
      const src = x.data.subarray(i * n, (i + 1) * n);
      const dst = out.subarray(i * n, (i + 1) * n);
      if (n > 0 && (!useP || this.fires(rng))) this.forwardItem(src, dst, { c, m, t }, rng);
      else dst.set(src);
    }
    return { data: out, shape: [...x.shape] };
  }

  /** Writes the transformed item into dst (same size as src; they never alias). */
  protected abstract forwardItem(src: Float32Array, dst: Float32Array, dims: ItemDims, rng: Random): void;
}

/** A transform of a whole batch and its [batch, classes] targets (mixers). p is per batch item. */
export abstract class BatchTransform<O extends BaseOptions = BaseOptions>
  extends AugmentationBase<O>
  implements BatchAugmentation
{
  readonly kind = 'batch' as const;

  apply(batch: NDArray, targets: NDArray, rng: Random, ctx?: BatchContext): MixResult {
    checkBatch(this.name, batch, targets);
    if (!this.enabled) return { batch, targets };
    return this.forward(batch, targets, rng, ctx);
  }

  /** Mixes every item chosen with probability p. */
  abstract forward(batch: NDArray, targets: NDArray, rng: Random, ctx?: BatchContext): MixResult;

  /** Which items of a batch of b get mixed (p per item). */
  protected chosen(b: number, rng: Random): boolean[] {
    return Array.from({ length: b }, () => this.fires(rng));
  }
}

export function checkBatch(name: string, batch: NDArray, targets: NDArray): void {
  if (batch.shape.length < 2)
    throw new AugmentationError(
      `${name}: batch must have a batch axis, got shape [${batch.shape.join(', ')}]`,
    );
  if (targets.shape.length !== 2)
    throw new AugmentationError(
      `${name}: targets must be [batch, classes], got shape [${targets.shape.join(', ')}]`,
    );
  if (targets.shape[0] !== batch.shape[0])
    throw new AugmentationError(
      `${name}: targets have ${targets.shape[0]} rows but the batch has ${batch.shape[0]} items`,
    );
}
