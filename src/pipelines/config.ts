// The pipeline config (`audiotag pipeline <recipe> --config pipeline.yaml`, docs/noisy.md): a training
// config for the model and its optimisation (its data section is the curated set), the noisy set, an
// optional held-out test set, the fold count and each recipe's keys (selection thresholds and caps,
// ensemble, distillation, pseudo-labelling, mixing with noisy). Paths are relative to the YAML's folder.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { formatSchemaIssues } from '../core/errors.js';
import { MANIFEST_FORMATS } from '../data/index.js';
import { ConfigError, loadTrainConfig, type ResolvedConfig, setDotted } from '../train/config.js';

export const RECIPES = ['warmup', 'pretrain', 'curated', 'union', 'distill', 'pseudo'] as const;
export type Recipe = (typeof RECIPES)[number];

/** Stage names `overrides` may name (`all`: every stage; `base`: the config the data is read with). */
export const STAGE_NAMES = [
  'all',
  'base',
  'stage1',
  'stage2',
  'stage3',
  'stage4',
  'curated',
  'union',
  'student',
  'pseudo',
];

const manifestRef = z.union([
  z.string().min(1),
  z.strictObject({
    manifest: z.string().min(1),
    format: z.enum(MANIFEST_FORMATS).optional(),
    audioDir: z.string().min(1).optional(),
    csv: z.record(z.string(), z.unknown()).optional(),
  }),
]);
export type ManifestRef = z.output<typeof manifestRef>;

const selectionSchema = z.strictObject({
  minScore: z.number().min(0).max(1),
  combine: z.enum(['geomean', 'mean', 'min', 'last']),
  capPerFoldLabel: z.number().int().min(1).nullable(),
});

export const pipelineSchema = z.strictObject({
  /** A train config file (or an inline mapping): features, model, crop, augment, loader, train, labels.
   * Its data section names the curated set. */
  train: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  /** The curated set; default: the train config's data section. */
  curated: manifestRef.optional(),
  /** The noisy set (required by every recipe but curated and pseudo). */
  noisy: manifestRef.optional(),
  /** Held-out test set: scored by every stage's fold models, never trained on. */
  test: manifestRef.optional(),
  /** k of the k-fold split of the curated and of the noisy set. */
  folds: z.number().int().min(2).default(3),
  /** Default: the train config's seed. */
  seed: z.number().int().min(0).optional(),
  /** Train each stage for at least this many optimiser steps (more epochs on small sets), so a stage on 40
   * curated clips is not compared after a tenth of the updates a stage on 200 noisy ones gets; null: epochs. */
  minSteps: z.number().int().min(1).nullable().default(null),
  /** Dotted train-config keys per stage name (`all`: every stage), e.g. { stage1: { train.epochs: 10 } }. */
  overrides: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
  warmup: z
    .strictObject({
      /** Stage 3 keeps noisy clips whose geometric mean of (lwlrap1, lwlrap2) ≥ 0.5, ≤ 5 per fold and label. */
      select3: selectionSchema.default({ minScore: 0.5, combine: 'geomean', capPerFoldLabel: 5 }),
      /** Stage 4 keeps noisy clips with lwlrap3 = 1. */
      select4: selectionSchema.default({ minScore: 1, combine: 'last', capPerFoldLabel: null }),
      /** Stages whose models make the final prediction. */
      ensemble: z.array(z.number().int().min(1).max(4)).min(1).default([2, 3, 4]),
    })
    .prefault({}),
  /** MixMatch-like mixing of curated batches with noisy ones (MixWithNoisy) in the stages trained on
   * curated data only (curated; warm-up stage 2; pretrain's fine-tuning); null: off. */
  mixNoisy: z
    .strictObject({
      p: z.number().min(0).max(1).default(0.5),
      alpha: z.number().positive().default(0.75),
      weight: z.number().gt(0).max(1).optional(),
    })
    .nullable()
    .default(null),
  /** distill: the student learns the teacher pipeline's soft predictions of the noisy set. */
  distill: z
    .strictObject({
      /** A pipeline output folder (its ensemble stages' noisy scores are averaged). */
      teacher: z.string().min(1),
      alpha: z.number().min(0).max(1).default(0.5),
      temperature: z.number().positive().default(2),
      /** The student's model, when it differs from the train config's (distillation across architectures). */
      model: z
        .strictObject({ name: z.string().min(1), config: z.record(z.string(), z.unknown()).default({}) })
        .optional(),
    })
    .nullable()
    .default(null),
  /** pseudo: the teacher pipeline's ensemble labels an unlabelled folder; confident clips join the curated set. */
  pseudo: z
    .strictObject({
      teacher: z.string().min(1),
      folder: z.string().min(1),
      /** Keep a clip when its top probability is at least this; its labels: every class at or above it. */
      threshold: z.number().gt(0).max(1).default(0.8),
    })
    .nullable()
    .default(null),
});

export type PipelineInput = z.input<typeof pipelineSchema>;
export type PipelineConfig = z.output<typeof pipelineSchema> & {
  /** The folder relative paths were resolved against. */
  baseDir: string;
};

function abs(base: string, p: string): string {
  return isAbsolute(p) ? p : resolve(base, p);
}

function resolveRef(base: string, r: ManifestRef | undefined): ManifestRef | undefined {
  if (r === undefined) return undefined;
  if (typeof r === 'string') return abs(base, r);
  return {
    ...r,
    manifest: abs(base, r.manifest),
    ...(r.audioDir ? { audioDir: abs(base, r.audioDir) } : {}),
  };
}

/** Reads and validates a pipeline config; `overrides` are dotted keys (paths in them relative to the cwd). */
export function loadPipelineConfig(
  file: string,
  overrides: readonly [string, unknown][] = [],
): PipelineConfig {
  let raw: Record<string, unknown> = {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([`cannot read the file: ${(e as Error).message}`], file);
  }
  try {
    const doc = YAML.parse(text) as unknown;
    if (doc !== null && doc !== undefined) {
      if (typeof doc !== 'object' || Array.isArray(doc))
        throw new ConfigError(['(config): expected a mapping of keys at the top level'], file);
      raw = doc as Record<string, unknown>;
    }
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError([`not valid YAML: ${(e as Error).message.split('\n')[0]}`], file);
  }
  const base = dirname(resolve(file));
  // Flag paths are relative to the current directory: make them absolute before merging.
  for (const [k, v] of overrides) {
    const isPath = [
      'curated',
      'noisy',
      'test',
      'train',
      'distill.teacher',
      'pseudo.teacher',
      'pseudo.folder',
    ].includes(k);
    setDotted(raw, k, isPath && typeof v === 'string' ? resolve(v) : v);
  }
  const parsed = pipelineSchema.safeParse(raw);
  if (!parsed.success)
    throw new ConfigError(formatSchemaIssues(parsed.error.issues, raw, { schema: pipelineSchema }), file);
  const c = parsed.data;
  return {
    ...c,
    train: typeof c.train === 'string' ? abs(base, c.train) : c.train,
    curated: resolveRef(base, c.curated),
    noisy: resolveRef(base, c.noisy),
    test: resolveRef(base, c.test),
    distill: c.distill ? { ...c.distill, teacher: abs(base, c.distill.teacher) } : null,
    pseudo: c.pseudo
      ? { ...c.pseudo, teacher: abs(base, c.pseudo.teacher), folder: abs(base, c.pseudo.folder) }
      : null,
    baseDir: base,
  };
}

/** Nested mappings as dotted keys ({ train: { epochs: 3 } } → train.epochs), so an override merges into
 * its section instead of replacing it; arrays and scalars are values. */
export function flattenKeys(obj: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(obj).flatMap(([k, v]): [string, unknown][] =>
    v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0
      ? flattenKeys(v as Record<string, unknown>, `${prefix}${k}.`)
      : [[`${prefix}${k}`, v]],
  );
}

/** The train config of a stage: the pipeline's train section with the stage's dotted overrides. */
export function stageTrainConfig(p: PipelineConfig, stage: string): ResolvedConfig {
  const stageOverrides: [string, unknown][] = [
    ...flattenKeys(p.overrides.all ?? {}),
    ...flattenKeys(p.overrides[stage] ?? {}),
  ];
  if (p.curated) {
    const r = typeof p.curated === 'string' ? { manifest: p.curated } : p.curated;
    stageOverrides.unshift(
      ['data.manifest', r.manifest],
      ['data.format', r.format],
      ['data.audioDir', r.audioDir],
      ['data.csv', r.csv],
    );
  }
  if (typeof p.train === 'string') return loadTrainConfig({ file: p.train, overrides: stageOverrides });
  return loadTrainConfig({ object: p.train, baseDir: p.baseDir, overrides: stageOverrides });
}

/** Problems a recipe has with the config (missing sections), one line each. */
export function recipeProblems(recipe: Recipe, p: PipelineConfig): string[] {
  const out: string[] = [];
  if (!['curated', 'pseudo'].includes(recipe) && !p.noisy)
    out.push(`noisy: the ${recipe} pipeline needs a noisy set`);
  if (recipe === 'distill' && !p.distill)
    out.push('distill: the distill pipeline needs distill.teacher (a pipeline folder)');
  if (recipe === 'pseudo' && !p.pseudo)
    out.push('pseudo: the pseudo pipeline needs pseudo.teacher and pseudo.folder');
  if (p.mixNoisy && !p.noisy) out.push('mixNoisy: needs a noisy set');
  for (const k of Object.keys(p.overrides))
    if (!STAGE_NAMES.includes(k))
      out.push(`overrides.${k}: not a stage name (expected one of ${STAGE_NAMES.join(', ')})`);
  return out;
}
