// The training config: one YAML file (or none) plus dotted command-line overrides, validated with zod.
// Every error names the dotted key and what was expected. Paths in a YAML file are relative to that
// file's folder; paths given as flags are relative to the current directory. The resolved config
// (defaults filled in, paths absolute, features and model config resolved) is what a run records.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { formatSchemaIssues } from '../core/errors.js';
import { FOLD_STRATEGIES, MANIFEST_FORMATS } from '../data/index.js';
import { type FeatureConfig, FeatureConfigError, resolveFeatureConfig } from '../features/config.js';
import { isMetricName, METRIC_NAMES } from '../metrics/index.js';
import { scheduleSchema } from './schedules.js';

const posInt = z.number().int().positive();
const specOrPath = z.unknown().optional();

// The loss by name; kept here, beside the rest of the schema, so reading a config needs no engine.
export const LOSS_NAMES = ['auto', 'cross-entropy', 'bce', 'focal', 'ohem'] as const;

export const lossSchema = z.strictObject({
  /** auto: cross-entropy for single-label data, bce for multi-label. */
  name: z.enum(LOSS_NAMES).default('auto'),
  /** Cross entropy: mixes targets with the uniform distribution; bce: pulls them towards 0.5. */
  labelSmoothing: z.number().min(0).max(1).default(0),
  /** Focal loss exponent. */
  gamma: z.number().min(0).default(2),
  /** Focal loss class balance (binary: weight of positives); null = none. */
  alpha: z.number().min(0).max(1).nullable().default(null),
  /** OHEM: fraction of the hardest rows kept. */
  keepFraction: z.number().gt(0).max(1).default(0.7),
  /** OHEM: the per-row loss it ranks (auto as above). */
  base: z.enum(['auto', 'cross-entropy', 'bce', 'focal']).default('auto'),
});

export type LossConfig = z.output<typeof lossSchema>;

export const trainConfigSchema = z.strictObject({
  /** Seeds weights, data order, crops, augmentation and dropout: the same seed repeats a run. */
  seed: z.number().int().min(0).default(0),
  data: z.strictObject({
    /** Manifest file (or a folder with one sub-folder per class). */
    manifest: z.string().min(1),
    /** Detected from the header when absent (csv needs `csv`). */
    format: z.enum(MANIFEST_FORMATS).optional(),
    audioDir: z.string().min(1).optional(),
    /** Column names for format csv. */
    csv: z
      .strictObject({
        pathCol: z.string().min(1),
        labelCol: z.union([z.string(), z.array(z.string())]).optional(),
        labelSep: z.string().optional(),
        groupCol: z.string().optional(),
        foldCol: z.string().optional(),
        weightCol: z.string().optional(),
        delimiter: z.string().optional(),
        multiLabel: z.boolean().optional(),
      })
      .optional(),
    /** Output class order; default: the manifest's. */
    classes: z.array(z.string().min(1)).min(2).optional(),
    /** Keep only items whose column (a manifest column, or `label`) holds one of the values. */
    filter: z.record(z.string(), z.array(z.union([z.string(), z.number()]))).optional(),
    checkFiles: z.boolean().default(true),
  }),
  folds: z
    .strictObject({
      /** auto: predefined when the manifest has folds, stratified-group with groups, else stratified
       * (iterative for multi-label). split: one fold, train/validation from a column (FSDD's split). */
      strategy: z.enum(['auto', 'split', ...FOLD_STRATEGIES]).default('auto'),
      k: z.number().int().min(2).default(5),
      /** Fold seed; default: the run's seed. */
      seed: z.number().int().min(0).optional(),
      /** Group column for group folds (`group` = the manifest's group column, or any manifest column). */
      groupBy: z.string().min(1).optional(),
      /** split: the column, and its values for training and validation. */
      column: z.string().min(1).default('split'),
      trainValue: z.string().default('train'),
      valValue: z.string().default('test'),
    })
    .prefault({}),
  /** A FeatureConfig: a preset name, or keys (with an optional `preset`). */
  features: z.union([z.string(), z.record(z.string(), z.unknown())]),
  model: z.strictObject({
    name: z.string().min(1),
    /** The registry config; numClasses and inChannels are filled in from the data. */
    config: z.record(z.string(), z.unknown()).prefault({}),
  }),
  /** Fixed-length crops in frames (random in training); null: whole clips (set features.duration). */
  crop: z
    .strictObject({
      frames: posInt,
      evalMode: z.enum(['center', 'start', 'windows']).default('windows'),
      evalHop: posInt.optional(),
      pad: z.enum(['wrap', 'constant']).optional(),
      padValue: z.number().optional(),
    })
    .nullable()
    .default(null),
  /** Augmentation specs (see docs/augment.md) or YAML/JSON file paths. */
  augment: z.strictObject({ waveform: specOrPath, spectrogram: specOrPath, batch: specOrPath }).prefault({}),
  loader: z
    .strictObject({
      batchSize: posInt.default(32),
      /** Evaluation batch size; default: batchSize. */
      evalBatchSize: posInt.optional(),
      sampler: z.enum(['shuffle', 'balanced', 'weighted']).default('shuffle'),
      dropLast: z.boolean().default(true),
      /** Loader worker threads; default: cores − 1. 0 builds batches on the main thread. */
      workers: z.number().int().min(0).optional(),
      prefetch: posInt.optional(),
      /** Feature cache; default ~/.cache/audiotag/features. */
      cacheDir: z.string().min(1).optional(),
    })
    .prefault({}),
  train: z.strictObject({
    epochs: posInt,
    optimizer: z
      .strictObject({
        name: z.enum(['sgd', 'adam', 'adamw']).default('adamw'),
        lr: z.number().positive().default(1e-3),
        /** Default: 0 (sgd, adam), 0.01 (adamw). */
        weightDecay: z.number().min(0).optional(),
        momentum: z.number().min(0).max(1).default(0.9),
        nesterov: z.boolean().default(false),
        betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).optional(),
        eps: z.number().positive().optional(),
      })
      .prefault({}),
    schedule: scheduleSchema.prefault({ name: 'constant' }),
    loss: lossSchema.prefault({}),
    /** Clip the gradients' global 2-norm to this; null: off. */
    clipGradNorm: z.number().positive().nullable().default(null),
    /** Weight EMA (validated and checkpointed instead of the raw weights); null: off. */
    ema: z
      .strictObject({ decay: z.number().min(0).lt(1).default(0.999), warmup: z.boolean().default(true) })
      .nullable()
      .default(null),
    /** Validation metrics (src/metrics names); default accuracy + map3, or lwlrap + ap_macro. */
    metrics: z.array(z.string().min(1)).min(1).optional(),
    /** Metric that picks the best epoch (and drives early stopping and plateau); default: the first
     * metric. `val_loss` (lower is better) is also accepted; `last` selects nothing: the last epoch's
     * model is the best (honest figures when the validation fold is the test fold). */
    monitor: z.string().min(1).optional(),
    earlyStopping: z
      .strictObject({ patience: posInt, minDelta: z.number().min(0).default(0) })
      .nullable()
      .default(null),
    /** How window predictions of one clip are combined in evaluation. */
    aggregate: z.enum(['mean', 'max']).default('mean'),
    /** Engine threads; default: libtorch's (every core). */
    threads: posInt.optional(),
    device: z.string().min(1).default('cpu'),
  }),
  /** Fine-tuning: start from another run's checkpoint. */
  init: z
    .strictObject({
      /** A checkpoint directory, e.g. runs/esc10/fold0/best. */
      from: z.string().min(1),
      /** Prefix of the head to re-initialise (e.g. `classifier`, `head.6`); default: the last Linear. */
      head: z.string().min(1).optional(),
      /** auto: a new head when the class lists differ (or shapes do not fit); always; never. */
      newHead: z.enum(['auto', 'always', 'never']).default('auto'),
      /** Train only the head for this many epochs, then everything. */
      freezeEpochs: z.number().int().min(0).default(0),
    })
    .nullable()
    .default(null),
});

export type TrainConfigInput = z.input<typeof trainConfigSchema>;
export type TrainConfig = z.output<typeof trainConfigSchema>;

/** A validated config with the features resolved (the model config is resolved once classes are known). */
export interface ResolvedConfig extends Omit<TrainConfig, 'features'> {
  features: FeatureConfig;
}

/** One or more problems with a config; each line names a dotted key. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly problems: string[],
    source = 'config',
  ) {
    super(`${source}: ${problems.length === 1 ? problems[0] : `\n  ${problems.join('\n  ')}`}`);
  }
}

// ---- error messages -----------------------------------------------------------------------------

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(v);
  }
}

function valueAt(obj: unknown, path: readonly PropertyKey[]): unknown {
  let v = obj;
  for (const k of path)
    v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** One line per zod issue, `dotted.key: expected …, got …` (the project's one formatter, src/core/errors.ts). */
export function formatIssues(
  error: z.ZodError,
  input: unknown,
  schema: z.ZodType = trainConfigSchema,
): string[] {
  return formatSchemaIssues(error.issues, input, { schema });
}

// ---- overrides ------------------------------------------------------------------------------------

/** A flag's value as a YAML scalar (or flow collection): 5 → number, true → boolean, [1, 2] → array. */
export function parseFlagValue(text: string): unknown {
  try {
    return YAML.parse(text);
  } catch {
    return text;
  }
}

/** Sets `value` at a dotted key of a plain object, creating objects on the way. */
export function setDotted(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  if (parts.some((p) => p === '')) throw new ConfigError([`${key}: not a dotted key name`]);
  let obj: Record<string, unknown> = target;
  for (const [i, p] of parts.slice(0, -1).entries()) {
    const next = obj[p];
    if (next === undefined || next === null) obj[p] = {};
    else if (typeof next !== 'object' || Array.isArray(next))
      throw new ConfigError([
        `${key}: ${parts.slice(0, i + 1).join('.')} is ${describe(next)}, not a mapping`,
      ]);
    obj = obj[p] as Record<string, unknown>;
  }
  obj[parts[parts.length - 1]!] = value;
}

/**
 * Splits `--a.b value` / `--a.b=value` pairs out of an argument list. Returns the overrides in order;
 * anything else is an error naming it (the CLI's own options are parsed before this).
 */
export function parseOverrideArgs(args: readonly string[]): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--') || a.length <= 2)
      throw new ConfigError(
        [`unexpected argument ${describe(a)} (config keys are given as --key value)`],
        'command line',
      );
    const eq = a.indexOf('=');
    let key: string;
    let text: string;
    if (eq > 0) {
      key = a.slice(2, eq);
      text = a.slice(eq + 1);
    } else {
      key = a.slice(2);
      const next = args[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2))
        throw new ConfigError([`--${key} needs a value`], 'command line');
      text = next;
      i++;
    }
    out.push([key, parseFlagValue(text)]);
  }
  return out;
}

// ---- loading ------------------------------------------------------------------------------------

/** Keys holding file paths (resolved against the YAML file's folder, or the current directory). */
const PATH_KEYS = ['data.manifest', 'data.audioDir', 'init.from', 'loader.cacheDir'];
const AUGMENT_KEYS = ['augment.waveform', 'augment.spectrogram', 'augment.batch'];

function resolvePaths(raw: Record<string, unknown>, base: string, only?: ReadonlySet<string>): void {
  for (const key of [...PATH_KEYS, ...AUGMENT_KEYS]) {
    if (only && !only.has(key)) continue;
    const parts = key.split('.');
    const parent = valueAt(raw, parts.slice(0, -1)) as Record<string, unknown> | undefined;
    const v = parent?.[parts[parts.length - 1]!];
    // Augment entries are specs unless given as a file name.
    if (typeof v === 'string' && v !== '' && !isAbsolute(v))
      parent![parts[parts.length - 1]!] = resolve(base, v);
  }
}

export interface LoadOptions {
  /** The YAML file; absent: the config comes from overrides alone. */
  file?: string;
  /** A config object instead of a file (paths relative to `baseDir`). */
  object?: Record<string, unknown>;
  baseDir?: string;
  /** Dotted overrides, applied in order after the file. */
  overrides?: readonly [string, unknown][];
}

/** Reads, merges, validates and resolves a training config; throws a ConfigError listing every problem. */
export function loadTrainConfig(opts: LoadOptions): ResolvedConfig {
  let raw: Record<string, unknown> = {};
  const source = opts.file ?? 'config';
  if (opts.file) {
    let text: string;
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (e) {
      throw new ConfigError([`cannot read the file: ${(e as Error).message}`], opts.file);
    }
    let doc: unknown;
    try {
      doc = YAML.parse(text);
    } catch (e) {
      throw new ConfigError([`not valid YAML: ${(e as Error).message.split('\n')[0]}`], opts.file);
    }
    if (doc !== null && doc !== undefined) {
      if (typeof doc !== 'object' || Array.isArray(doc))
        throw new ConfigError(['(config): expected a mapping of keys at the top level'], opts.file);
      raw = doc as Record<string, unknown>;
    }
    resolvePaths(raw, dirname(resolve(opts.file)));
  } else if (opts.object) {
    raw = structuredClone(opts.object);
    resolvePaths(raw, resolve(opts.baseDir ?? '.'));
  }
  const fromFlags = new Set<string>();
  for (const [key, value] of opts.overrides ?? []) {
    setDotted(raw, key, value);
    fromFlags.add(key);
  }
  resolvePaths(raw, process.cwd(), fromFlags);
  return validateConfig(raw, source);
}

/** Validates a raw config object (paths already resolved). */
export function validateConfig(raw: unknown, source = 'config'): ResolvedConfig {
  const parsed = trainConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error, raw), source);
  const c = parsed.data;
  let features: FeatureConfig;
  try {
    features = resolveFeatureConfig(c.features as Parameters<typeof resolveFeatureConfig>[0]);
  } catch (e) {
    if (e instanceof FeatureConfigError)
      throw new ConfigError(
        [
          `features${e.key ? `.${e.key}` : ''}: ${e.message.replace(/^feature config: (key "[^"]*": )?/, '')}`,
        ],
        source,
      );
    throw e;
  }
  const problems: string[] = [];
  c.train.metrics?.forEach((m, i) => {
    if (!isMetricName(m))
      problems.push(`train.metrics.${i}: unknown metric ${describe(m)} (known: ${METRIC_NAMES.join(', ')})`);
  });
  if (c.init && c.init.freezeEpochs > c.train.epochs)
    problems.push(`init.freezeEpochs: at most train.epochs (${c.train.epochs}), got ${c.init.freezeEpochs}`);
  const monitorNames = ['val_loss', 'last', ...(c.train.metrics ?? [])];
  if (c.train.monitor && c.train.metrics && !monitorNames.includes(c.train.monitor))
    problems.push(
      `train.monitor: expected one of ${monitorNames.join(', ')}, got ${describe(c.train.monitor)}`,
    );
  if (c.train.monitor === 'last' && c.train.earlyStopping)
    problems.push('train.earlyStopping: needs train.monitor to name a metric, not last');
  if (problems.length > 0) throw new ConfigError(problems, source);
  return { ...c, features };
}

/** The resolved config as YAML (what a run directory records). */
export function configToYaml(config: unknown): string {
  return YAML.stringify(config, { lineWidth: 0 });
}
