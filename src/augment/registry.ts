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
import { FrequencyWarp, RandomEQ, SpeedPerturb } from './perturb.js';
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
// Names are spelled out rather than taken from class names, which a minifier may rename.
const BUILT_IN: [AugmentationKind, string, Ctor, boolean?][] = [
  ['waveform', 'Gain', Gain as Ctor],
  ['waveform', 'GaussianNoise', GaussianNoise as Ctor],
  ['waveform', 'GaussianSNR', GaussianSNR as Ctor],
  ['waveform', 'ColoredNoise', ColoredNoise as Ctor],
  ['waveform', 'BackgroundNoise', BackgroundNoise as unknown as Ctor],
  ['waveform', 'Shift', Shift as Ctor],
  ['waveform', 'TimeMask', TimeMask as Ctor],
  ['waveform', 'PolarityInversion', PolarityInversion as Ctor],
  ['waveform', 'Reverse', Reverse as Ctor],
  ['waveform', 'LowPass', LowPass as Ctor],
  ['waveform', 'HighPass', HighPass as Ctor],
  ['waveform', 'BandPass', BandPass as Ctor],
  ['waveform', 'ImpulseResponse', ImpulseResponse as unknown as Ctor],
  ['waveform', 'Clip', Clip as Ctor],
  ['waveform', 'ClippingDistortion', ClippingDistortion as Ctor],
  ['waveform', 'RandomCrop', RandomCrop as Ctor],
  ['waveform', 'PitchShift', PitchShift as Ctor, true],
  ['waveform', 'TimeStretch', TimeStretch as Ctor, true],
  ['waveform', 'SpeedPerturb', SpeedPerturb as Ctor],
  ['spectrogram', 'SpecFrequencyMask', SpecFrequencyMask as Ctor],
  ['spectrogram', 'SpecTimeMask', SpecTimeMask as Ctor],
  ['spectrogram', 'SpecTimeWarp', SpecTimeWarp as Ctor],
  ['spectrogram', 'RandomZoomCrop', RandomZoomCrop as Ctor],
  ['spectrogram', 'Lighting', Lighting as Ctor],
  ['spectrogram', 'RandomResizedCrop', RandomResizedCrop as Ctor],
  ['spectrogram', 'FrequencyShift', FrequencyShift as Ctor],
  ['spectrogram', 'FrequencyWarp', FrequencyWarp as Ctor],
  ['spectrogram', 'RandomEQ', RandomEQ as Ctor],
  ['batch', 'Mixup', Mixup as Ctor],
  ['batch', 'SpecMix', SpecMix as Ctor],
  ['batch', 'MixupSpecMix', MixupSpecMix as Ctor],
  ['batch', 'CutMix', CutMix as Ctor],
  ['batch', 'MixWithNoisy', MixWithNoisy as Ctor],
];
for (const [kind, name, cls, slow] of BUILT_IN)
  registerAugmentation(name, { kind, schema: cls.schema, create: (o) => new cls(o), slow: slow ?? false });

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
