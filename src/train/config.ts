// The training config: one YAML file (or none) plus dotted command-line overrides, validated with zod.
// Every error names the dotted key and what was expected. Paths in a YAML file are relative to that
// file's folder; paths given as flags are relative to the current directory. The resolved config
// (defaults filled in, paths absolute, features and model config resolved) is what a run records.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { formatSchemaIssues, fsReason } from '../core/errors.js';
import { FOLD_STRATEGIES, MANIFEST_FORMATS } from '../data/index.js';
import { type FeatureConfig, FeatureConfigError, resolveFeatureConfig } from '../features/config.js';
import { isMetricName, METRIC_NAMES } from '../metrics/index.js';
import { labelsSchema } from '../noisy/schema.js';
import { scheduleSchema } from './schedules.js';

const posInt = z.number().int().positive();
const specOrPath = z.unknown().optional();

// The loss by name; kept here, beside the rest of the schema, so reading a config needs no engine.
export const LOSS_NAMES = ['auto', 'cross-entropy', 'bce', 'focal', 'ohem'] as const;

export const lossSchema = z.strictObject({
  name: z
    .enum(LOSS_NAMES)
    .default('auto')
    .describe('auto: cross-entropy for single-label data, bce for multi-label.'),
  labelSmoothing: z
    .number()
    .min(0)
    .max(1)
    .default(0)
    .describe('Cross entropy: mixes targets with the uniform distribution; bce: pulls them towards 0.5.'),
  gamma: z.number().min(0).default(2).describe('Focal loss exponent.'),
  alpha: z
    .number()
    .min(0)
    .max(1)
    .nullable()
    .default(null)
    .describe('Focal loss class balance (binary: weight of positives); null = none.'),
  keepFraction: z.number().gt(0).max(1).default(0.7).describe('OHEM: fraction of the hardest rows kept.'),
  base: z
    .enum(['auto', 'cross-entropy', 'bce', 'focal'])
    .default('auto')
    .describe('OHEM: the per-row loss it ranks (auto as above).'),
});

export type LossConfig = z.output<typeof lossSchema>;

export const trainConfigSchema = z.strictObject({
  seed: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('Seeds weights, data order, crops, augmentation and dropout: the same seed repeats a run.'),
  data: z.strictObject({
    manifest: z.string().min(1).describe('Manifest file (or a folder with one sub-folder per class).'),
    format: z
      .enum(MANIFEST_FORMATS)
      .optional()
      .describe('Detected from the header when absent (csv needs `csv`).'),
    audioDir: z
      .string()
      .min(1)
      .optional()
      .describe('Folder of the audio files; default: guessed from the manifest.'),
    csv: z
      .strictObject({
        pathCol: z.string().min(1).describe('Column of the file names.'),
        labelCol: z
          .union([z.string(), z.array(z.string())])
          .optional()
          .describe('Label column, or one 0/1 column per class.'),
        labelSep: z.string().optional().describe('Separator of several labels in one cell (multi-label).'),
        groupCol: z.string().optional().describe('Group column (speaker, source recording) for group folds.'),
        foldCol: z.string().optional().describe('Predefined fold column.'),
        weightCol: z.string().optional().describe('Per-item weight column.'),
        delimiter: z.string().optional(),
        multiLabel: z.boolean().optional().describe('Default: multi-label when any item has several labels.'),
      })
      .optional()
      .describe('Column names for format csv.'),
    classes: z
      .array(z.string().min(1))
      .min(2)
      .optional()
      .describe("Output class order; default: the manifest's."),
    filter: z
      .record(z.string(), z.array(z.union([z.string(), z.number()])))
      .optional()
      .describe('Keep only items whose column (a manifest column, or `label`) holds one of the values.'),
    checkFiles: z.boolean().default(true).describe('Check that every audio file exists before training.'),
  }),
  folds: z
    .strictObject({
      strategy: z
        .enum(['auto', 'split', ...FOLD_STRATEGIES])
        .default('auto')
        .describe(
          "auto: predefined when the manifest has folds, stratified-group with groups, else stratified (iterative for multi-label). split: one fold, train/validation from a column (FSDD's split).",
        ),
      k: z.number().int().min(2).default(5).describe('Number of folds.'),
      seed: z.number().int().min(0).optional().describe("Fold seed; default: the run's seed."),
      groupBy: z
        .string()
        .min(1)
        .optional()
        .describe(
          "Group column for group folds (`group` = the manifest's group column, or any manifest column).",
        ),
      column: z
        .string()
        .min(1)
        .default('split')
        .describe('split: the column, and its values for training and validation.'),
      trainValue: z.string().default('train').describe('split: the value of the training items.'),
      valValue: z.string().default('test').describe('split: the value of the validation items.'),
    })
    .prefault({}),
  features: z
    .union([z.string(), z.record(z.string(), z.unknown())])
    .describe('A FeatureConfig: a preset name, or keys (with an optional `preset`).'),
  model: z.strictObject({
    name: z.string().min(1).describe('A registry model (docs/models.md).'),
    config: z
      .record(z.string(), z.unknown())
      .prefault({})
      .describe('The registry config; numClasses and inChannels are filled in from the data.'),
  }),
  crop: z
    .strictObject({
      frames: posInt.describe('Frames per crop (samples for waveform formats).'),
      evalMode: z
        .enum(['center', 'start', 'windows'])
        .default('windows')
        .describe(
          'Evaluation: every window (scores combined by train.aggregate), the centred crop, or the first.',
        ),
      evalHop: posInt.optional().describe('Frames between evaluation windows; default frames / 2.'),
      pad: z
        .enum(['wrap', 'constant'])
        .optional()
        .describe('Clips shorter than a crop: repeated (wrap, default) or padded with padValue.'),
      padValue: z.number().optional().describe('The constant padding value (default 0).'),
    })
    .nullable()
    .default(null)
    .describe(
      'Fixed-length crops in frames (random in training); null: whole clips (set features.duration).',
    ),
  augment: z
    .strictObject({ waveform: specOrPath, spectrogram: specOrPath, batch: specOrPath })
    .prefault({})
    .describe('Augmentation specs (see docs/augment.md) or YAML/JSON file paths.'),
  loader: z
    .strictObject({
      batchSize: posInt.default(32).describe('Training batch size.'),
      evalBatchSize: posInt.optional().describe('Evaluation batch size; default: batchSize.'),
      sampler: z
        .enum(['shuffle', 'balanced', 'weighted'])
        .default('shuffle')
        .describe('balanced: classes equally likely per draw; weighted: by item weight.'),
      dropLast: z.boolean().default(true).describe('Drop the last incomplete training batch.'),
      workers: z
        .number()
        .int()
        .min(0)
        .optional()
        .describe('Loader worker threads; default: cores − 1. 0 builds batches on the main thread.'),
      prefetch: posInt.optional().describe('Batches built ahead of the trainer; default 4.'),
      cacheDir: z.string().min(1).optional().describe('Feature cache; default ~/.cache/audiotag/features.'),
    })
    .prefault({}),
  train: z.strictObject({
    epochs: posInt.describe('Epochs to train (a resumed run trains the remaining ones).'),
    optimizer: z
      .strictObject({
        name: z.enum(['sgd', 'adam', 'adamw']).default('adamw'),
        lr: z.number().positive().default(1e-3),
        weightDecay: z.number().min(0).optional().describe('Default: 0 (sgd, adam), 0.01 (adamw).'),
        momentum: z.number().min(0).max(1).default(0.9),
        nesterov: z.boolean().default(false),
        betas: z
          .tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)])
          .optional()
          .describe('Adam/AdamW betas; default [0.9, 0.999].'),
        eps: z.number().positive().optional().describe('Adam/AdamW eps; default 1e-8.'),
      })
      .prefault({})
      .describe(
        'The optimiser: name, lr, weightDecay, momentum and nesterov (sgd), betas and eps (adam, adamw).',
      ),
    schedule: scheduleSchema
      .prefault({ name: 'constant' })
      .describe('Learning-rate schedule (see Schedules below); the other keys depend on the name.'),
    loss: lossSchema.prefault({}),
    clipGradNorm: z
      .number()
      .positive()
      .nullable()
      .default(null)
      .describe("Clip the gradients' global 2-norm to this; null: off."),
    memoryFormat: z
      .enum(['contiguous', 'channels-last'])
      .default('channels-last')
      .describe(
        'Layout of conv weights and 4-D batches: channels-last (the default) runs oneDNN convolutions without reorders; same results up to summation order (docs/engine.md, Speed).',
      ),
    convAlgorithm: z
      .enum(['winograd', 'direct'])
      .default('winograd')
      .describe(
        "3×3 stride-1 convolutions: winograd (oneDNN's Winograd kernels, about half the arithmetic; results equal up to rounding) or direct (libtorch's, PyTorch-exact). docs/engine.md, Convolution algorithm.",
      ),
    precision: z
      .enum(['fp32', 'bf16'])
      .default('fp32')
      .describe(
        'bf16: the training forward pass under bfloat16 autocast (loss, weights, optimiser stay float32); fast on CPUs with AVX-512 BF16/AMX.',
      ),
    ema: z
      .strictObject({
        decay: z.number().min(0).lt(1).default(0.999),
        warmup: z
          .boolean()
          .default(true)
          .describe('Ramp the decay as (1 + n) / (10 + n) over the first updates.'),
      })
      .nullable()
      .default(null)
      .describe('Weight EMA (validated and checkpointed instead of the raw weights); null: off.'),
    metrics: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Validation metrics (src/metrics names); default accuracy + map3, or lwlrap + ap_macro.'),
    monitor: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Metric that picks the best epoch (and drives early stopping and plateau); default: the first metric. `val_loss` (lower is better) is also accepted; `last` selects nothing: the last epoch's model is the best (honest figures when the validation fold is the test fold).",
      ),
    earlyStopping: z
      .strictObject({
        patience: posInt.describe('Epochs without improvement before stopping.'),
        minDelta: z.number().min(0).default(0).describe('Smallest change that counts as an improvement.'),
      })
      .nullable()
      .default(null)
      .describe('Stop when the monitored metric has not improved for patience epochs; null: off.'),
    aggregate: z
      .enum(['mean', 'max'])
      .default('mean')
      .describe('How window predictions of one clip are combined in evaluation.'),
    threads: posInt.optional().describe("Engine threads; default: libtorch's (every core)."),
    device: z
      .string()
      .min(1)
      .default('cpu')
      .describe('`cpu`, or `cuda` / `cuda:N` when the addon is built with CUDA.'),
  }),
  labels: labelsSchema.prefault({}).describe('Learning from noisy labels (docs/noisy.md).'),
  init: z
    .strictObject({
      from: z.string().min(1).describe('A checkpoint directory, e.g. runs/esc10/fold0/best.'),
      head: z
        .string()
        .min(1)
        .optional()
        .describe(
          'Prefix of the head to re-initialise (e.g. `classifier`, `head.6`); default: the last Linear.',
        ),
      newHead: z
        .enum(['auto', 'always', 'never'])
        .default('auto')
        .describe('auto: a new head when the class lists differ (or shapes do not fit); always; never.'),
      freezeEpochs: z
        .number()
        .int()
        .min(0)
        .default(0)
        .describe('Train only the head for this many epochs, then everything.'),
    })
    .nullable()
    .default(null)
    .describe("Fine-tuning: start from another run's checkpoint."),
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
const PATH_KEYS = [
  'data.manifest',
  'data.audioDir',
  'init.from',
  'loader.cacheDir',
  'labels.distill.teacher',
];
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
      throw new ConfigError([`cannot read the file: ${fsReason(e)}`], opts.file);
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
