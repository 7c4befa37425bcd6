// Augmentations by name, so a training config can name its pipeline in JSON or YAML:
//   { name: 'GaussianSNR', p: 0.5, minSnrDb: 5, maxSnrDb: 30 }
//   { name: 'Compose', transforms: [ ... ] }      (a bare list is a Compose too)
// `augmentationFromSpec` validates every key (errors name the transform, where it sits in the pipeline,
// the key and what was expected) and `toSpec` gives back a spec with every default filled in.
import { parse as parseYaml } from 'yaml';
import {
  type AnySchema,
  type Augmentation,
  AugmentationError,
  type AugmentationKind,
  type AugmentationSpec,
} from './base.js';
import { type AnyAugmentation, Compose, OneOf, SomeOf } from './compose.js';
import { CutMix, Mixup, MixupSpecMix, MixWithNoisy, SpecMix } from './mixing.js';
import {
  FrequencyShift,
  Lighting,
  RandomResizedCrop,
  RandomZoomCrop,
  SpecFrequencyMask,
  SpecTimeMask,
  SpecTimeWarp,
} from './spectrogram.js';
import {
  BackgroundNoise,
  BandPass,
  Clip,
  ClippingDistortion,
  ColoredNoise,
  Gain,
  GaussianNoise,
  GaussianSNR,
  HighPass,
  ImpulseResponse,
  LowPass,
  PitchShift,
  PolarityInversion,
  RandomCrop,
  Reverse,
  Shift,
  TimeMask,
  TimeStretch,
} from './waveform.js';

export interface RegistryEntry {
  kind: AugmentationKind;
  schema: AnySchema;
  create: (options: Record<string, unknown>) => AnyAugmentation;
  /** Slow transforms (phase vocoder) are flagged so docs and tools can warn. */
  slow?: boolean;
}

const registry = new Map<string, RegistryEntry>();
const COMPOSITES = ['Compose', 'OneOf', 'SomeOf'] as const;

/** Adds an augmentation under a name (also how projects add their own). */
export function registerAugmentation(name: string, entry: RegistryEntry): void {
  if (registry.has(name) || (COMPOSITES as readonly string[]).includes(name))
    throw new AugmentationError(`registerAugmentation: "${name}" is already registered`);
  registry.set(name, entry);
}

/** Every registered name, pipelines included. */
export function augmentationNames(): string[] {
  return [...COMPOSITES, ...registry.keys()];
}

export function registryEntry(name: string): RegistryEntry | undefined {
  return registry.get(name);
}

type Ctor = { schema: AnySchema; new (options: Record<string, unknown>): AnyAugmentation };
function add(kind: AugmentationKind, cls: Ctor, slow = false): void {
  registerAugmentation(cls.name, { kind, schema: cls.schema, create: (o) => new cls(o), slow });
}

for (const c of [
  Gain,
  GaussianNoise,
  GaussianSNR,
  ColoredNoise,
  BackgroundNoise,
  Shift,
  TimeMask,
  PolarityInversion,
  Reverse,
  LowPass,
  HighPass,
  BandPass,
  ImpulseResponse,
  Clip,
  ClippingDistortion,
  RandomCrop,
] as Ctor[])
  add('waveform', c);
add('waveform', PitchShift as unknown as Ctor, true);
add('waveform', TimeStretch as unknown as Ctor, true);
for (const c of [
  SpecFrequencyMask,
  SpecTimeMask,
  SpecTimeWarp,
  RandomZoomCrop,
  Lighting,
  RandomResizedCrop,
  FrequencyShift,
] as Ctor[])
  add('spectrogram', c);
for (const c of [Mixup, SpecMix, MixupSpecMix, CutMix, MixWithNoisy] as Ctor[]) add('batch', c);

export interface FromSpecOptions {
  /** false builds the pipeline switched off (identity), as `.eval()` would. Default true. */
  training?: boolean;
}

/** Builds an augmentation (or pipeline) from its plain description. */
export function augmentationFromSpec(spec: unknown, options: FromSpecOptions = {}): AnyAugmentation {
  const a = build(spec, 'spec');
  if (options.training === false) a.eval();
  return a;
}

function build(spec: unknown, where: string): AnyAugmentation {
  if (Array.isArray(spec)) return build({ name: 'Compose', transforms: spec }, where);
  if (typeof spec !== 'object' || spec === null)
    throw new AugmentationError(
      `${where}: expected an augmentation object { name: ..., ... } or a list, got ${show(spec)}`,
    );
  const { name, ...rest } = spec as Record<string, unknown>;
  if (typeof name !== 'string')
    throw new AugmentationError(
      `${where}: "name" must be the augmentation's name (a string), got ${show(name)}`,
    );
  const here = where === 'spec' ? name : `${where} (${name})`;
  try {
    if ((COMPOSITES as readonly string[]).includes(name)) {
      const { transforms, ...opts } = rest;
      if (!Array.isArray(transforms))
        throw new AugmentationError(
          `${name}: "transforms" must be a list of augmentations, got ${show(transforms)}`,
        );
      const children = transforms.map((t, i) =>
        build(t, `${where === 'spec' ? name : here}.transforms[${i}]`),
      );
      if (name === 'Compose') return new Compose(children, opts);
      if (name === 'OneOf') return new OneOf(children, opts);
      return new SomeOf(children, opts);
    }
    const entry = registry.get(name);
    if (!entry)
      throw new AugmentationError(
        `${here}: unknown augmentation "${name}" (known: ${augmentationNames().join(', ')})`,
      );
    return entry.create(rest);
  } catch (err) {
    // Nested errors already say where they are; top-level messages start with the name.
    if (err instanceof AugmentationError && where !== 'spec' && !err.message.startsWith(where)) {
      throw new AugmentationError(`${where}: ${err.message}`);
    }
    throw err;
  }
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s && s.length > 60 ? `${s.slice(0, 57)}...` : String(s);
}

/** The plain description of an augmentation (every option, defaults filled in). */
export function toSpec(a: Augmentation): AugmentationSpec {
  return a.toSpec();
}

/**
 * Parses a YAML (or JSON, which is YAML) pipeline description. The document is an augmentation object,
 * a list (a Compose), or `{ augment: <either> }` so a training config can hold it under one key.
 */
export function parseAugmentationConfig(text: string, options: FromSpecOptions & { source?: string } = {}) {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new AugmentationError(
      `${options.source ?? 'augmentation config'}: not valid YAML: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (doc && typeof doc === 'object' && !Array.isArray(doc) && !('name' in doc) && 'augment' in doc)
    doc = (doc as { augment: unknown }).augment;
  try {
    return augmentationFromSpec(doc, options);
  } catch (err) {
    if (err instanceof AugmentationError && options.source)
      throw new AugmentationError(`${options.source}: ${err.message}`);
    throw err;
  }
}
