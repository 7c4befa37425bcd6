// Tagger: the library entry for using trained models.
//
//   const tagger = await Tagger.load('runs/esc10');              // every fold of a run, or 'model.onnx'
//   const r = await tagger.tag('field.wav', { embeddings: true });
//   r.clip            // Float32Array of class scores for the whole recording
//   r.windows         // [{ start, end, scores }] per window (seconds)
//   r.events          // [{ start, end, label, confidence }] merged detections
//   r.frames          // frame-wise scores of SED/CRNN models
//   r.embeddings      // [windows, dim], the input of the classifier
//   await tagger.dispose();
//
// Activation, class order, feature config and window come from the checkpoint (or the ONNX metadata);
// the engine is imported only for checkpoints, so an ONNX file never loads libtorch.
import { availableParallelism } from 'node:os';
import { loadAugmentationConfig, prepareAugmentation } from '../augment/node/index.js';
import { OptionError } from '../core/errors.js';
import {
  type LoadOptions,
  loadBackend,
  type ModelInfo,
  resolveModelSources,
  type ScoringBackend,
} from './backend.js';
import {
  type ClipPooling,
  combine,
  type Detection,
  type EnsembleMethod,
  fileBoost,
  mergeEvents,
  poolWindows,
  smoothNeighbours,
  tuneThresholds,
} from './ensemble.js';
import { oofClassWeights, readOof } from './oof.js';
import {
  closeGroups,
  type Group,
  type Member,
  makeGroups,
  type RawResult,
  runPipeline,
  type TagInput,
  type TtaAugment,
} from './pipeline.js';
import { type WindowOptions, type WindowPlan, windowPlan } from './windows.js';

export interface TaggerOptions extends LoadOptions, WindowOptions {
  /** How the models' window scores are combined (default 'mean'). */
  ensemble?: EnsembleMethod;
  /** Per --model argument: a number each, or 'oof' (each run's out-of-fold per-class lwlrap). */
  weights?: number[] | 'oof';
  /** Feature worker threads (default 0: in-process; `audiotag predict` uses cores − 1). */
  workers?: number;
  /** Windows per model call (default 32). */
  batchSize?: number;
  /** Augmentation of TTA copies 1..tta-1: a waveform or spectrogram augmentation (src/augment), or the
   * path of its spec file (YAML/JSON). */
  ttaAugment?: TtaAugment | string | null;
}

export interface PostOptions {
  /** Clip score from window scores (default: 'attention' for SED models, else the run's aggregate). */
  pooling?: ClipPooling;
  /** Detection threshold: one for all classes, one per class (array or by name). Default 0.5. */
  threshold?: number | readonly number[] | Readonly<Record<string, number>>;
  /** Only the k best classes of a window can be detected. */
  topK?: number;
  /** Events shorter than this (seconds) are dropped (default 0). */
  minDuration?: number;
  /** Centred moving average over 2k+1 windows before anything else (default 0: off). */
  smooth?: number;
  /** BirdCLEF file-level boost: × factor for a class that has a window above conf. */
  boost?: { factor: number; conf: number };
}

export interface TagOptions extends PostOptions {
  /** Name used in results (default: the path, or 'samples'). */
  id?: string;
  embeddings?: boolean;
  frames?: boolean;
}

export interface WindowResult {
  start: number;
  end: number;
  scores: Float32Array;
}

export interface TagResult {
  id: string;
  path?: string;
  /** Seconds. */
  duration: number;
  classes: string[];
  clip: Float32Array;
  windows: WindowResult[];
  events: Detection[];
  /** Frame-wise scores (SED/CRNN): per window [frames, C], frames `hopSeconds` apart from the window start. */
  frames?: { start: number; hopSeconds: number; scores: Float32Array }[];
  embeddings?: { data: Float32Array; dim: number };
}

/** Turns a threshold option into one value per class. */
export function classThresholds(t: PostOptions['threshold'], classes: readonly string[]): number[] {
  if (t === undefined) return classes.map(() => 0.5);
  if (typeof t === 'number') return classes.map(() => t);
  if (Array.isArray(t)) {
    if (t.length !== classes.length)
      throw new Error(`thresholds: expected ${classes.length} values (one per class), got ${t.length}`);
    return [...t];
  }
  const byName = t as Readonly<Record<string, number>>;
  for (const k of Object.keys(byName))
    if (!classes.includes(k))
      throw new Error(`thresholds: "${k}" is not a class of the model (${classes.join(', ')})`);
  return classes.map((c) => byName[c] ?? 0.5);
}

/** Scores [windows, C] after ensembling one file's per-model scores and the window post-processing. */
export function postWindows(
  raw: RawResult,
  c: number,
  method: EnsembleMethod,
  weights: number[][] | undefined,
  o: PostOptions,
  combined?: Float32Array,
): Float32Array {
  const n = raw.windows.length;
  let s = combined ?? combine(method, raw.perModel, n, c, weights);
  if (o.smooth) s = smoothNeighbours(s, n, c, o.smooth);
  if (o.boost) s = fileBoost(s, n, c, o.boost.factor, o.boost.conf);
  return s;
}

export class Tagger {
  private constructor(
    readonly classes: string[],
    readonly models: ModelInfo[],
    private readonly members: Member[],
    private readonly groups: Group[],
    /** Per model: which --model argument it came from, and its run directory. */
    private readonly origin: { arg: number; run: string | null }[],
    readonly method: EnsembleMethod,
    readonly weights: number[][] | undefined,
    readonly batchSize: number,
    readonly ttaAugment: TtaAugment | null,
  ) {}

  /** The window plan of the first model (all models share window times). */
  get plan(): WindowPlan {
    return this.groups[0]!.plan;
  }

  /** Whether the first model is a SED model (clip scores default to attention pooling). */
  get sed(): boolean {
    return this.models[0]!.sed;
  }

  static async load(model: string | readonly string[], opts: TaggerOptions = {}): Promise<Tagger> {
    const args = typeof model === 'string' ? [model] : [...model];
    if (args.length === 0) throw new Error('Tagger.load: no model given');
    const sources = args.flatMap((a, arg) => resolveModelSources(a, opts).map((s) => ({ s, arg })));
    const backends: ScoringBackend[] = [];
    let groups: Group[] = [];
    try {
      for (const { s } of sources) backends.push(await loadBackend(s, opts));
      const classes = backends[0]!.info.classes;
      const members: Member[] = backends.map((b) => {
        const have = b.info.classes;
        const missing = classes.filter((c) => !have.includes(c));
        if (missing.length > 0 || have.length !== classes.length)
          throw new Error(
            `ensemble: ${b.info.label} has classes [${have.join(', ')}], ${backends[0]!.info.label} has [${classes.join(', ')}]; the models of an ensemble need the same classes`,
          );
        return { backend: b, map: Int32Array.from(classes, (c) => have.indexOf(c)) };
      });
      // Every model uses the first model's window times (in seconds).
      const first = windowPlan(backends[0]!.info, opts);
      const plans = backends.map((b) =>
        windowPlan(b.info, {
          ...opts,
          window: first.length / first.sampleRate,
          hop: first.hop / first.sampleRate,
          overlap: undefined,
        }),
      );
      const origin = sources.map(({ s, arg }) => ({ arg, run: s.kind === 'checkpoint' ? s.run : null }));
      let weights: number[][] | undefined;
      if (opts.weights === 'oof') {
        weights = [];
        for (let m = 0; m < backends.length; m++) {
          const run = origin[m]!.run;
          if (!run)
            throw new OptionError(
              'weights',
              `oof: ${backends[m]!.info.label} is not part of a run directory, so it has no out-of-fold scores`,
            );
          weights.push(await oofClassWeights(run, classes));
        }
      } else if (opts.weights) {
        if (opts.weights.length !== args.length)
          throw new OptionError(
            'weights',
            `expected ${args.length} numbers (one per model), got ${opts.weights.length}`,
          );
        weights = origin.map((o) => classes.map(() => (opts.weights as number[])[o.arg]!));
      }
      let tta: TtaAugment | null = null;
      if (opts.ttaAugment) {
        const a =
          typeof opts.ttaAugment === 'string'
            ? await loadAugmentationConfig(opts.ttaAugment)
            : opts.ttaAugment;
        if (a.kind !== 'waveform' && a.kind !== 'spectrogram')
          throw new Error(
            `TTA augmentation: expected a waveform or spectrogram augmentation, got a ${a.kind} one`,
          );
        await prepareAugmentation(a, first.sampleRate);
        tta = a as TtaAugment;
      }
      const workers = opts.workers ?? 0;
      groups = makeGroups(members, plans, Math.min(workers, availableParallelism()));
      return new Tagger(
        [...classes],
        backends.map((b) => b.info),
        members,
        groups,
        origin,
        opts.ensemble ?? 'mean',
        weights,
        opts.batchSize ?? 32,
        tta,
      );
    } catch (e) {
      await closeGroups(groups);
      for (const b of backends) await b.dispose();
      throw e;
    }
  }

  /**
   * Per-class thresholds that maximise F1 on the out-of-fold scores of the runs (their OOF scores
   * averaged over the runs, on the clips every run scored).
   */
  async tunedThresholds(): Promise<{ thresholds: number[]; f1: number[]; clips: number }> {
    const runs = [...new Set(this.origin.map((o) => o.run))];
    if (runs.some((r) => r === null))
      throw new Error('tuned thresholds need out-of-fold scores: every model must come from a run directory');
    const oofs = await Promise.all(runs.map((r) => readOof(r!, this.classes)));
    const c = this.classes.length;
    const ids = oofs[0]!.ids.filter((id) => oofs.every((o) => o.ids.includes(id)));
    const rows = (o: (typeof oofs)[number]) => {
      const at = new Map(o.ids.map((id, i) => [id, i]));
      const out = new Float32Array(ids.length * c);
      ids.forEach((id, i) => {
        out.set(o.scores.subarray(at.get(id)! * c, (at.get(id)! + 1) * c), i * c);
      });
      return out;
    };
    const mats = oofs.map(rows);
    const scores = combine(this.method === 'rank' ? 'mean' : this.method, mats, ids.length, c);
    const at0 = new Map(oofs[0]!.ids.map((id, i) => [id, i]));
    const hot = new Uint8Array(ids.length * c);
    ids.forEach((id, i) => {
      hot.set(oofs[0]!.hot.subarray(at0.get(id)! * c, (at0.get(id)! + 1) * c), i * c);
    });
    return { ...tuneThresholds(scores, hot, ids.length, c), clips: ids.length };
  }

  /** Scores many inputs through one pipeline (batches span files); results come raw (see postprocess). */
  run(
    inputs: AsyncIterable<TagInput> | Iterable<TagInput>,
    o: {
      onResult: (r: RawResult) => Promise<void> | void;
      onError: (input: TagInput, e: Error) => Promise<void> | void;
      onBatch?: (windows: number) => void;
      embeddings?: boolean;
      frames?: boolean;
    },
  ): Promise<void> {
    return runPipeline(this.groups, inputs, {
      classes: this.classes.length,
      batchSize: this.batchSize,
      ttaAugment: this.ttaAugment,
      ...o,
    });
  }

  /** The default clip pooling: the SED model's attention, else how the run aggregated windows. */
  defaultPooling(): ClipPooling {
    return this.sed ? 'attention' : this.models[0]!.aggregate;
  }

  /** Ensembling and post-processing of one file's raw scores. */
  postprocess(raw: RawResult, o: PostOptions = {}, combined?: Float32Array): TagResult {
    const c = this.classes.length;
    const s = postWindows(raw, c, this.method, this.weights, o, combined);
    const n = raw.windows.length;
    const windows = raw.windows.map((w, i) => ({ ...w, scores: s.slice(i * c, (i + 1) * c) }));
    const r: TagResult = {
      id: raw.input.id,
      duration: raw.duration,
      classes: this.classes,
      clip: poolWindows(s, n, c, o.pooling ?? this.defaultPooling()),
      windows,
      events: mergeEvents(raw.windows, s, this.classes, {
        thresholds: classThresholds(o.threshold, this.classes),
        topK: o.topK,
        minDuration: o.minDuration,
      }),
    };
    if (raw.input.path) r.path = raw.input.path;
    if (raw.frames)
      r.frames = raw.frames.perWindow.map((f, i) => ({
        start: raw.windows[i]!.start,
        hopSeconds: raw.frames!.hopSeconds,
        scores: f,
      }));
    if (raw.embeddings) r.embeddings = raw.embeddings;
    return r;
  }

  /** Tags one recording: a file path, or samples with their rate. */
  async tag(
    input: string | { samples: Float32Array; sampleRate: number },
    o: TagOptions = {},
  ): Promise<TagResult> {
    const ti: TagInput =
      typeof input === 'string'
        ? { id: o.id ?? input, path: input }
        : { id: o.id ?? 'samples', samples: input.samples, sampleRate: input.sampleRate };
    let raw: RawResult | null = null;
    let err: Error | null = null;
    await this.run([ti], {
      onResult: (r) => {
        raw = r;
      },
      onError: (_, e) => {
        err = e;
      },
      embeddings: o.embeddings,
      frames: o.frames,
    });
    if (err) throw err;
    if (!raw) throw new Error(`${ti.id}: nothing was scored`);
    return this.postprocess(raw, o);
  }

  async dispose(): Promise<void> {
    await closeGroups(this.groups);
    for (const m of this.members) await m.backend.dispose();
  }
}
