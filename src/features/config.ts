// FeatureConfig: every parameter of the feature pipeline, named after librosa's arguments (camelCased),
// with librosa 0.10's defaults written out, so a JSON config states every parameter a notebook used. Presets are
// named after the solutions they come from.
import { z } from 'zod';
import { formatSchemaIssues } from '../core/errors.js';
import { FEATURE_FORMATS, type FeatureFormat, formatChannels } from './formats.js';
import { PAD_MODES } from './stft.js';
import { WINDOW_NAMES } from './window.js';

// The formats live in the registry of formats.ts; re-exported here, where they were first defined.
export { FEATURE_FORMATS, type FeatureFormat, formatChannels };

export const NORMALIZATIONS = ['none', 'clip', 'minmax', 'clip-minmax', 'dataset'] as const;

const posInt = z.number().int().positive();
const pcenSchema = z.strictObject({
  gain: z.number().min(0),
  bias: z.number().min(0),
  power: z.number().min(0),
  timeConstant: z.number().positive(),
  eps: z.number().positive(),
  /** Multiplies the mel spectrogram first (librosa's example uses 2³¹ for integer-range audio). */
  inputScale: z.number().positive(),
});

const statsSchema = z.strictObject({
  per: z.enum(['channel', 'band']),
  mean: z.array(z.number()),
  std: z.array(z.number().min(0)),
});

/** The complete, resolved configuration. */
export const featureConfigSchema = z.strictObject({
  sampleRate: posInt.describe('Target rate in Hz; other input rates are resampled (librosa `sr`).'),
  nFft: posInt.describe('FFT size, any positive integer (`n_fft`).'),
  hopLength: posInt.describe('Samples between frames (`hop_length`).'),
  winLength: posInt.describe('Window length ≤ nFft, zero-padded to nFft in the middle (`win_length`).'),
  window: z
    .enum(WINDOW_NAMES)
    .describe('Periodic windows as `scipy.signal.get_window(fftbins=True)`; `ones` is rectangular.'),
  center: z.boolean().describe('Frames centred on t·hop by padding ⌊nFft/2⌋ each side (`center`).'),
  padMode: z
    .enum(PAD_MODES)
    .describe(
      'Centre padding with numpy.pad semantics (pads longer than the clip included): `constant` is librosa ≥ 0.10, `reflect` librosa < 0.10 (`pad_mode`).',
    ),
  nMels: posInt.describe('Mel bands, also the number of gammatone bands (`n_mels`).'),
  fmin: z.number().min(0).describe('Lowest band edge in Hz (`fmin`).'),
  fmax: z.number().positive().describe('Highest band edge in Hz, at most the Nyquist frequency (`fmax`).'),
  power: z.number().positive().describe('Exponent of |X|: 2 power, 1 magnitude (`power`).'),
  melScale: z.enum(['slaney', 'htk']).describe('Mel formula: `slaney` or `htk` (`htk=False/True`).'),
  melNorm: z.enum(['slaney']).nullable().describe('`slaney` (unit-area triangles) or `null` (`norm`).'),
  scale: z
    .enum(['power', 'db'])
    .describe('`db`: power_to_db (amplitude_to_db when power is 1); `power`: the linear spectrogram.'),
  topDb: z.number().min(0).nullable().describe('dB clamp below the peak; `null` disables it (`top_db`).'),
  ref: z
    .union([z.number().positive(), z.literal('max')])
    .describe('dB reference value, or `max` (`ref=np.max`).'),
  amin: z
    .number()
    .positive()
    .describe("Floor before the log, in power units (amplitude: √amin = 1e-5, librosa's default) (`amin`)."),
  trim: z
    .number()
    .positive()
    .nullable()
    .describe(
      'Trim leading/trailing silence quieter than this many dB below the peak (librosa.effects.trim); `null`: off.',
    ),
  duration: z
    .number()
    .positive()
    .nullable()
    .describe('Crop or zero-pad the (trimmed) clip to this many seconds; `null` keeps its length.'),
  durationAlign: z
    .enum(['start', 'center'])
    .describe('Where the clip sits when cropped or padded to `duration`.'),
  format: z
    .enum(FEATURE_FORMATS)
    .describe('What the pipeline outputs: one of the registry in `src/features/formats.ts` (table below).'),
  nMfcc: posInt.describe('Coefficients for `mfcc` and `gtcc` (`n_mfcc`).'),
  lifter: z.number().min(0).describe('MFCC liftering; 0: off (`lifter`).'),
  deltaWidth: z
    .number()
    .int()
    .min(3)
    .refine((w) => w % 2 === 1, { message: 'expected an odd integer ≥ 3' })
    .describe('Savitzky-Golay window of the deltas, odd (`width`).'),
  pcen: pcenSchema.describe(
    "librosa.pcen's parameters; the mel spectrogram is multiplied by `inputScale` first (librosa's example).",
  ),
  background: z
    .strictObject({ percentile: z.number().min(0).max(100) })
    .nullable()
    .describe(
      'Background subtraction of the (log-)spectrogram at this percentile, before the format is built; `null`: off.',
    ),
  envelope: z
    .strictObject({ target: z.array(z.number()), maxGainDb: z.number().min(0) })
    .nullable()
    .describe(
      'Frequency-envelope transfer onto `target` (one value per band, same scale), gain at most `maxGainDb`; `null`: off.',
    ),
  normalize: z
    .enum(NORMALIZATIONS)
    .describe(
      '`clip`: per channel mean 0 / std 1; `minmax`: [0, 1]; `clip-minmax`: both; `dataset`: with `normStats`.',
    ),
  normStats: statsSchema
    .nullable()
    .describe(
      "`{ per: 'channel' | 'band', mean, std }` from `DatasetStats.finalize()`, for normalize `dataset`.",
    ),
});

export type FeatureConfig = z.infer<typeof featureConfigSchema>;

/** librosa 0.10's defaults (sr 22050, n_fft 2048, hop n_fft/4, 128 Slaney mels, power 2, 80 dB top_db). */
export const LIBROSA_DEFAULTS: FeatureConfig = Object.freeze({
  sampleRate: 22050,
  nFft: 2048,
  hopLength: 512,
  winLength: 2048,
  window: 'hann',
  center: true,
  padMode: 'constant',
  nMels: 128,
  fmin: 0,
  fmax: 11025,
  power: 2,
  melScale: 'slaney',
  melNorm: 'slaney',
  scale: 'db',
  topDb: 80,
  ref: 1,
  amin: 1e-10,
  trim: null,
  duration: null,
  durationAlign: 'start',
  format: 'mel',
  nMfcc: 20,
  lifter: 0,
  deltaWidth: 9,
  pcen: { gain: 0.98, bias: 2, power: 0.5, timeConstant: 0.4, eps: 1e-6, inputScale: 2 ** 31 },
  background: null,
  envelope: null,
  normalize: 'none',
  normStats: null,
}) as FeatureConfig;

/** Any subset of the keys; pcen may be partial too. */
export type Overrides = Partial<Omit<FeatureConfig, 'pcen'>> & { pcen?: Partial<FeatureConfig['pcen']> };

/** Presets; keys left out take librosa's defaults, fmax/winLength/hopLength derive as in librosa. */
export const PRESETS = {
  /** FAT2019 1st place (Akiyama & Sato) and daisukelab's kernels: 44.1 kHz, n_fft 2560, hop 347. */
  fat2019: {
    sampleRate: 44100,
    nFft: 2560,
    hopLength: 347,
    nMels: 128,
    fmin: 20,
    fmax: 22050,
    trim: 60,
  },
  /** FSDKaggle2018 beginner kernels: 16 kHz, 2 s, 20 MFCCs from 128 mels. */
  fsd2018: {
    sampleRate: 16000,
    nFft: 2048,
    hopLength: 512,
    nMels: 128,
    format: 'mfcc',
    nMfcc: 20,
    duration: 2,
  },
  /** The log-mel variant of fsd2018. */
  'fsd2018-logmel': { sampleRate: 16000, nFft: 2048, hopLength: 512, nMels: 128, duration: 2 },
  /** Keyword spotting: 16 kHz, 1 s, 25 ms windows every 10 ms, 64 mels. */
  speech: {
    sampleRate: 16000,
    nFft: 512,
    winLength: 400,
    hopLength: 160,
    nMels: 64,
    fmin: 20,
    fmax: 8000,
    duration: 1,
  },
  /** BirdCLEF baselines: 32 kHz, n_fft 2048, hop 512, 128 mels over 50–14000 Hz. */
  birdclef: { sampleRate: 32000, nFft: 2048, hopLength: 512, nMels: 128, fmin: 50, fmax: 14000 },
} satisfies Record<string, Overrides>;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/** What resolveFeatureConfig accepts: a preset name, or overrides with an optional base preset. */
export type FeatureConfigInput = PresetName | (Overrides & { preset?: PresetName });

/** A bad configuration; `key` is the offending key ('' for the whole object). */
export class FeatureConfigError extends Error {
  override name = 'FeatureConfigError';
  readonly key: string;
  /** Every problem found (the first is `key`); one entry when a check stopped at the first. */
  readonly problems: readonly { key: string; message: string }[];
  constructor(key: string, message: string, problems?: readonly { key: string; message: string }[]) {
    super(key ? `feature config: key "${key}": ${message}` : `feature config: ${message}`);
    this.key = key;
    this.problems = problems ?? [{ key, message }];
  }
}

const inputSchema = featureConfigSchema.partial().extend({
  preset: z.enum(PRESET_NAMES as [PresetName]).optional(),
  pcen: pcenSchema.partial().optional(),
});

// Every problem, worded by the project's one formatter (src/core/errors.ts); the error's key is the first's.
function firstIssue(error: z.ZodError, input: unknown): FeatureConfigError {
  const lines = formatSchemaIssues(error.issues, input, { schema: featureConfigSchema });
  const problems = lines.map((l) => {
    const at = l.indexOf(': ');
    return { key: l.slice(0, at), message: l.slice(at + 2) };
  });
  const [first, ...more] = problems;
  const rest = more.map((m) => `; key "${m.key}": ${m.message}`).join('');
  return new FeatureConfigError(first!.key, `${first!.message}${rest}`, problems);
}

const resolved = new WeakSet<object>();

/**
 * Resolves a preset name or a partial config (over librosa's defaults, or over `preset`) into a complete,
 * checked, frozen FeatureConfig. Derived defaults follow librosa: winLength = nFft, hopLength =
 * ⌊winLength/4⌋, fmax = sampleRate/2. Errors are FeatureConfigErrors naming the key and what was expected.
 * @example resolveFeatureConfig('fat2019'); resolveFeatureConfig({ preset: 'birdclef', nMels: 64 })
 */
export function resolveFeatureConfig(input: FeatureConfigInput | FeatureConfig = {}): FeatureConfig {
  if (typeof input === 'object' && input !== null && resolved.has(input)) return input as FeatureConfig;
  let overrides: Overrides & { preset?: PresetName };
  if (typeof input === 'string') {
    if (!(PRESET_NAMES as string[]).includes(input))
      throw new FeatureConfigError(
        'preset',
        `unknown preset "${input}" (expected one of ${PRESET_NAMES.join(', ')})`,
      );
    overrides = { preset: input };
  } else {
    const parsed = inputSchema.safeParse(input);
    if (!parsed.success) throw firstIssue(parsed.error, input);
    overrides = parsed.data as Overrides & { preset?: PresetName };
  }
  const { preset, ...rest } = overrides;
  const base: Overrides = preset ? PRESETS[preset] : {};
  const merged: Overrides = { ...base, ...rest };
  const sampleRate = merged.sampleRate ?? LIBROSA_DEFAULTS.sampleRate;
  const nFft = merged.nFft ?? LIBROSA_DEFAULTS.nFft;
  const winLength = merged.winLength ?? nFft;
  const full = {
    ...LIBROSA_DEFAULTS,
    ...merged,
    sampleRate,
    nFft,
    winLength,
    hopLength: merged.hopLength ?? Math.max(1, Math.floor(winLength / 4)),
    fmax: merged.fmax ?? sampleRate / 2,
    pcen: { ...LIBROSA_DEFAULTS.pcen, ...(merged.pcen ?? {}) },
  };
  const parsed = featureConfigSchema.safeParse(full);
  if (!parsed.success) throw firstIssue(parsed.error, full);
  const c = parsed.data;
  checkCrossKeys(c);
  const frozen = Object.freeze({ ...c, pcen: Object.freeze({ ...c.pcen }) }) as FeatureConfig;
  resolved.add(frozen);
  return frozen;
}

function checkCrossKeys(c: FeatureConfig): void {
  if (c.winLength > c.nFft)
    throw new FeatureConfigError('winLength', `expected at most nFft (${c.nFft}), got ${c.winLength}`);
  if (c.fmax > c.sampleRate / 2)
    throw new FeatureConfigError(
      'fmax',
      `expected at most the Nyquist frequency sampleRate/2 = ${c.sampleRate / 2}, got ${c.fmax}`,
    );
  if (c.fmin >= c.fmax)
    throw new FeatureConfigError('fmin', `expected below fmax (${c.fmax}), got ${c.fmin}`);
  const cepstral = c.format === 'mfcc' || c.format === 'gtcc';
  if (cepstral && c.nMfcc > c.nMels)
    throw new FeatureConfigError(
      'nMfcc',
      `expected at most nMels (${c.nMels}) for format ${c.format}, got ${c.nMfcc}`,
    );
  if (c.normalize === 'dataset' && c.normStats === null)
    throw new FeatureConfigError(
      'normStats',
      'normalize "dataset" needs normStats (from DatasetStats.finalize())',
    );
  if (c.envelope && c.envelope.target.length !== c.nMels)
    throw new FeatureConfigError(
      'envelope.target',
      `expected ${c.nMels} values (one per band), got ${c.envelope.target.length}`,
    );
}

/**
 * A stable string identifying a resolved config (sorted keys), the basis of the cache key.
 * FEATURES_VERSION is part of it, so changing the algorithms invalidates caches.
 */
export const FEATURES_VERSION = 1;
export function canonicalConfig(config: FeatureConfig): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object')
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    return v;
  };
  return JSON.stringify({ v: FEATURES_VERSION, config: sort(config) });
}
