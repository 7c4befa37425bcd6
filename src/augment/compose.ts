// Compose / OneOf / SomeOf: pipelines of augmentations, themselves augmentations (nestable, with p and the
// eval switch). A pipeline's kind follows its children: all waveform → a waveform pipeline; spectrogram
// transforms with or without mixers → a spectrogram or batch pipeline. Waveform and spectrogram transforms
// cannot share one pipeline (feature extraction sits between them).
import { z } from 'zod';
import type { NDArray } from '../core/ndarray.js';
import type { Random } from '../core/random.js';
import {
  type Augmentation,
  AugmentationBase,
  AugmentationError,
  type AugmentationKind,
  type AugmentationSpec,
  type BaseOptions,
  type BatchAugmentation,
  type BatchContext,
  checkBatch,
  checkWave,
  type MixResult,
  type PrepareContext,
  probability,
  type SpectrogramAugmentation,
  specDims,
  type WaveformAugmentation,
  type WaveInfo,
} from './base.js';

export type AnyAugmentation = WaveformAugmentation | SpectrogramAugmentation | BatchAugmentation | Composite;

function isNDArray(v: unknown): v is NDArray {
  return typeof v === 'object' && v !== null && 'data' in v && 'shape' in v && Array.isArray(v.shape);
}

function kindOf(name: string, children: readonly AnyAugmentation[]): AugmentationKind | 'empty' {
  const by = (k: string) => children.filter((c) => c.kind === k).map((c) => c.name);
  const wave = by('waveform');
  const spec = by('spectrogram');
  const batch = by('batch');
  if (wave.length && spec.length)
    throw new AugmentationError(
      `${name}: mixes waveform transforms (${wave.join(', ')}) with spectrogram transforms (${spec.join(', ')}); ` +
        'a pipeline works on one of them (features are computed in between)',
    );
  if (batch.length) return 'batch';
  if (spec.length) return 'spectrogram';
  if (wave.length) return 'waveform';
  return 'empty';
}

/** What Compose, OneOf and SomeOf share: children, kind, the three apply forms, eval/train, spec. */
export abstract class Composite<O extends BaseOptions = BaseOptions>
  extends AugmentationBase<O>
  implements Augmentation
{
  readonly kind: AugmentationKind | 'empty';
  readonly transforms: readonly AnyAugmentation[];

  constructor(name: string, schema: z.ZodType<O>, transforms: readonly AnyAugmentation[], options: unknown) {
    if (!Array.isArray(transforms))
      throw new AugmentationError(`${name}: transforms must be a list of augmentations`);
    super(name, schema, options);
    this.transforms = [...transforms];
    this.kind = kindOf(name, this.transforms);
  }

  override train(on = true): this {
    super.train(on);
    for (const t of this.transforms) t.train(on);
    return this;
  }

  override toSpec(): AugmentationSpec {
    return { ...super.toSpec(), transforms: this.transforms.map((t) => t.toSpec()) } as AugmentationSpec;
  }

  override async prepare(ctx: PrepareContext): Promise<void> {
    for (const t of this.transforms) await t.prepare(ctx);
  }

  /** The children to run this time, in the order to run them. */
  protected abstract select(rng: Random): AnyAugmentation[];

  /** A waveform pipeline on one clip. */
  apply(x: Float32Array, sampleRate: number, rng: Random, info?: WaveInfo): Float32Array;
  /** A spectrogram pipeline on one item ([mels, frames] or [channels, mels, frames]) or a 4-D batch. */
  apply(x: NDArray, rng: Random): NDArray;
  /** A batch pipeline (mixers and per-item spectrogram or waveform transforms) on a batch and targets. */
  apply(batch: NDArray, targets: NDArray, rng: Random, ctx?: BatchContext): MixResult;
  apply(a: unknown, b: unknown, c?: unknown, d?: unknown): unknown {
    if (a instanceof Float32Array)
      return this.applyWave(a, b as number, c as Random, d as WaveInfo | undefined);
    if (isNDArray(a) && isNDArray(b)) return this.applyMix(a, b, c as Random, d as BatchContext | undefined);
    if (isNDArray(a)) return this.applySpec(a, b as Random);
    throw new AugmentationError(
      `${this.name}: apply expects (clip, sampleRate, rng), (spectrogram, rng) or (batch, targets, rng)`,
    );
  }

  private requireKind(form: string, ok: readonly string[]): void {
    if (!ok.includes(this.kind))
      throw new AugmentationError(
        `${this.name}: a ${this.kind} pipeline cannot be applied to a ${form} (${this.transforms.map((t) => t.name).join(', ')})`,
      );
  }

  private applyWave(x: Float32Array, sampleRate: number, rng: Random, info?: WaveInfo): Float32Array {
    this.requireKind('waveform clip', ['waveform', 'empty']);
    checkWave(this.name, x, sampleRate);
    if (!this.enabled || !this.fires(rng)) return x;
    for (const t of this.select(rng)) x = (t as WaveformAugmentation).apply(x, sampleRate, rng, info);
    return x;
  }

  private applySpec(x: NDArray, rng: Random): NDArray {
    this.requireKind('spectrogram', ['spectrogram', 'empty']);
    if (x.shape.length === 4) return this.applyBatch(x, rng);
    specDims(this.name, x.shape, false);
    return this.specItem(x, rng);
  }

  /** Runs the pipeline on every item of a batch (first axis), each item with its own draws. */
  applyBatch(batch: NDArray, rng: Random): NDArray {
    this.requireKind('spectrogram batch', ['spectrogram', 'empty']);
    if (!this.enabled) return batch;
    const { b } = specDims(this.name, batch.shape, true);
    const itemShape = batch.shape.slice(1);
    const n = b ? batch.data.length / b : 0;
    const out = new Float32Array(batch.data.length);
    for (let i = 0; i < b; i++) {
      const item = { data: batch.data.subarray(i * n, (i + 1) * n), shape: itemShape };
      out.set(this.specItem(item, rng).data, i * n);
    }
    return { data: out, shape: [...batch.shape] };
  }

  private specItem(x: NDArray, rng: Random): NDArray {
    if (!this.enabled || !this.fires(rng)) return x;
    for (const t of this.select(rng)) x = (t as SpectrogramAugmentation).apply(x, rng);
    return x;
  }

  private applyMix(batch: NDArray, targets: NDArray, rng: Random, ctx?: BatchContext): MixResult {
    checkBatch(this.name, batch, targets);
    if (!this.enabled || !this.fires(rng)) return { batch, targets };
    let r: MixResult = { batch, targets };
    for (const t of this.select(rng)) {
      if (t.kind === 'batch') {
        r = (t as BatchAugmentation).apply(r.batch, r.targets, rng, ctx);
      } else if (t.kind === 'spectrogram') {
        r = { batch: (t as SpectrogramAugmentation).applyBatch(r.batch, rng), targets: r.targets };
      } else if (t.kind === 'waveform') {
        r = { batch: waveRows(t as WaveformAugmentation, r.batch, rng, ctx), targets: r.targets };
      }
    }
    return r;
  }
}

/** A waveform transform applied to every row of a [batch, samples] array (rows keep their length). */
function waveRows(t: WaveformAugmentation, batch: NDArray, rng: Random, ctx?: BatchContext): NDArray {
  const sr = ctx?.sampleRate;
  if (!sr)
    throw new AugmentationError(
      `${t.name}: a waveform transform in a batch pipeline needs ctx.sampleRate (the batch's sample rate)`,
    );
  if (batch.shape.length !== 2)
    throw new AugmentationError(
      `${t.name}: waveform batches must be [batch, samples], got [${batch.shape.join(', ')}]`,
    );
  const [b, n] = batch.shape as [number, number];
  const out = new Float32Array(b * n);
  for (let i = 0; i < b; i++) {
    const y = t.apply(batch.data.subarray(i * n, (i + 1) * n), sr, rng);
    if (y.length !== n)
      throw new AugmentationError(
        `${t.name}: changed a row's length from ${n} to ${y.length} inside a batch`,
      );
    out.set(y, i * n);
  }
  return { data: out, shape: [b, n] };
}

// ---- the three pipelines -------------------------------------------------------------------------

const ComposeSchema = z.object({ p: probability, shuffle: z.boolean().default(false) }).strict();

/** Runs every child in order (or in a random order with shuffle); each child still draws its own p. */
export class Compose extends Composite<z.output<typeof ComposeSchema>> {
  static readonly schema = ComposeSchema;
  constructor(transforms: readonly AnyAugmentation[], options: z.input<typeof ComposeSchema> = {}) {
    super('Compose', ComposeSchema, transforms, options);
  }
  protected select(rng: Random): AnyAugmentation[] {
    return this.options.shuffle ? rng.shuffle([...this.transforms]) : [...this.transforms];
  }
}

const OneOfSchema = z
  .object({ p: probability, weights: z.array(z.number().min(0)).min(1).optional() })
  .strict();

/** Runs exactly one child, drawn by `weights` (uniform when absent); the child's own p still applies. */
export class OneOf extends Composite<z.output<typeof OneOfSchema>> {
  static readonly schema = OneOfSchema;
  constructor(transforms: readonly AnyAugmentation[], options: z.input<typeof OneOfSchema> = {}) {
    super('OneOf', OneOfSchema, transforms, options);
    const w = this.options.weights;
    if (w && w.length !== this.transforms.length)
      throw new AugmentationError(
        `OneOf: weights has ${w.length} values but there are ${this.transforms.length} transforms`,
      );
    if (w && !w.some((v) => v > 0)) throw new AugmentationError('OneOf: weights must have a positive sum');
  }
  protected select(rng: Random): AnyAugmentation[] {
    if (this.transforms.length === 0) return [];
    const w = this.options.weights;
    return [this.transforms[w ? rng.weightedIndex(w) : rng.int(0, this.transforms.length)]!];
  }
}

const SomeOfSchema = z
  .object({
    p: probability,
    n: z
      .union(
        [
          z.number().int().min(0),
          z.tuple([z.number().int().min(0), z.number().int().min(0)], {
            error: 'expected a [min, max] pair',
          }),
        ],
        { error: 'expected a count ≥ 0 or a [min, max] pair of counts' },
      )
      .default(1),
  })
  .strict();

/** Runs n distinct children (n fixed or drawn in [min, max]), chosen uniformly, in pipeline order. */
export class SomeOf extends Composite<z.output<typeof SomeOfSchema>> {
  static readonly schema = SomeOfSchema;
  constructor(transforms: readonly AnyAugmentation[], options: z.input<typeof SomeOfSchema> = {}) {
    super('SomeOf', SomeOfSchema, transforms, options);
    const [lo, hi] = this.range();
    if (lo > hi) throw new AugmentationError(`SomeOf: n is [${lo}, ${hi}]; expected min ≤ max`);
    if (hi > this.transforms.length)
      throw new AugmentationError(
        `SomeOf: n asks for up to ${hi} transforms but there are ${this.transforms.length}`,
      );
  }
  private range(): [number, number] {
    const n = this.options.n;
    return typeof n === 'number' ? [n, n] : n;
  }
  protected select(rng: Random): AnyAugmentation[] {
    const [lo, hi] = this.range();
    const count = lo === hi ? lo : rng.int(lo, hi + 1);
    const picked = rng
      .permutation(this.transforms.length)
      .slice(0, count)
      .sort((a, b) => a - b);
    return picked.map((i) => this.transforms[i]!);
  }
}

// ---- kind-checked entry points -------------------------------------------------------------------

function wrongKind(a: Augmentation, want: string): AugmentationError {
  return new AugmentationError(`${a.name}: is a ${a.kind} augmentation, cannot be applied to a ${want}`);
}

/** Applies any augmentation to one clip, checking that it is a waveform one. */
export function applyWaveform(
  a: Augmentation,
  x: Float32Array,
  sampleRate: number,
  rng: Random,
  info?: WaveInfo,
): Float32Array {
  if (a.kind === 'empty') return x;
  if (a.kind !== 'waveform') throw wrongKind(a, 'waveform clip');
  return (a as WaveformAugmentation).apply(x, sampleRate, rng, info);
}

/** Applies any augmentation to a spectrogram item or 4-D batch, checking that it is a spectrogram one. */
export function applySpectrogram(a: Augmentation, x: NDArray, rng: Random): NDArray {
  if (a.kind === 'empty') return x;
  if (a.kind !== 'spectrogram') throw wrongKind(a, 'spectrogram');
  return (a as SpectrogramAugmentation).apply(x, rng);
}

/**
 * Applies any augmentation to a batch and its targets: mixers run on the batch, spectrogram transforms
 * item by item, waveform transforms row by row (ctx.sampleRate needed).
 */
export function applyBatch(
  a: Augmentation,
  batch: NDArray,
  targets: NDArray,
  rng: Random,
  ctx?: BatchContext,
): MixResult {
  checkBatch(a.name, batch, targets);
  if (a.kind === 'empty' || !a.enabled) return { batch, targets };
  if (a instanceof Composite) return a.apply(batch, targets, rng, ctx);
  if (a.kind === 'batch') return (a as BatchAugmentation).apply(batch, targets, rng, ctx);
  if (a.kind === 'spectrogram')
    return { batch: (a as SpectrogramAugmentation).applyBatch(batch, rng), targets };
  return { batch: waveRows(a as WaveformAugmentation, batch, rng, ctx), targets };
}
