// The `audiotag predict` job: resolves the inputs, scores every file not already done (one pipeline,
// batches across files), keeps each file's raw scores in OUT/.predict/ (written atomically, then its id
// appended to done.jsonl), and renders the output formats from them at the end. A killed job run again
// with the same --out skips the files in done.jsonl; post-processing options may change between runs
// (only the models, windows, TTA and embeddings must stay the same: they are what the stored scores are).
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../core/atomic-file.js';
import { concatFloat32 } from '../core/ndarray.js';
import type { ManifestFormat } from '../data/index.js';
import { resolveModelSources } from './backend.js';
import { combine, poolWindows } from './ensemble.js';
import { type OutputFormat, openWriters } from './formats.js';
import { resolveInputs } from './inputs.js';
import type { RawResult, TagInput } from './pipeline.js';
import { type PostOptions, Tagger, type TaggerOptions } from './tagger.js';

export interface PredictJobOptions {
  models: string[];
  inputs: string[];
  out: string;
  formats: OutputFormat[];
  tagger?: TaggerOptions;
  post?: PostOptions;
  /** Per-class thresholds tuned for F1 on the runs' out-of-fold scores (overrides post.threshold). */
  tuneThresholds?: boolean;
  audioDir?: string;
  manifestFormat?: ManifestFormat;
  raven?: 'per-file' | 'combined';
  /** Start over when OUT/.predict holds another job. */
  force?: boolean;
  onProgress?: (p: Progress) => void;
  onMessage?: (s: string) => void;
  /** Scores the files elsewhere (a job queue: src/distributed/bullmq-predict.ts) instead of in-process;
   * the results come back through the same handlers, so the outputs are those of a local run. */
  runner?: ScoreRunner;
}

/** What a remote scorer needs to score files as this job would. */
export interface ScoreSpec {
  models: string[];
  tagger: TaggerOptions;
  embeddings: boolean;
}
export type ScoreRunner = (
  todo: TagInput[],
  spec: ScoreSpec,
  handlers: { onResult: (r: RawResult) => void; onError: (input: TagInput, e: Error) => void },
) => Promise<void>;

export interface Progress {
  files: number;
  total: number;
  skipped: number;
  /** Seconds of audio scored in this run. */
  audio: number;
  /** Wall seconds of this run. */
  seconds: number;
  windows: number;
  done: boolean;
}

export interface Skipped {
  id: string;
  path: string;
  reason: string;
}

export interface PredictSummary {
  out: string;
  files: number;
  /** Files scored by this run. */
  scored: number;
  /** Files found done by an earlier run. */
  resumed: number;
  skipped: Skipped[];
  /** Seconds of audio scored by this run, and the wall time it took. */
  audio: number;
  seconds: number;
  thresholds?: number[];
}

const STATE = '.predict';

function b64(x: Float32Array): string {
  return Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
}
function fromB64(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** A file's raw scores as JSON (the files in OUT/.predict/results, and a queue job's result). */
export interface Stored {
  id: string;
  path: string;
  duration: number;
  windows: [number, number][];
  perModel: string[];
  embeddings?: { dim: number; data: string };
}

export function toStored(r: RawResult): Stored {
  const s: Stored = {
    id: r.input.id,
    path: r.input.path ?? '',
    duration: r.duration,
    windows: r.windows.map((w) => [w.start, w.end]),
    perModel: r.perModel.map(b64),
  };
  if (r.embeddings) s.embeddings = { dim: r.embeddings.dim, data: b64(r.embeddings.data) };
  return s;
}

export function fromStored(s: Stored): RawResult {
  const r: RawResult = {
    input: { id: s.id, path: s.path },
    duration: s.duration,
    windows: s.windows.map(([start, end]) => ({ start, end })),
    perModel: s.perModel.map(fromB64),
  };
  if (s.embeddings) r.embeddings = { dim: s.embeddings.dim, data: fromB64(s.embeddings.data) };
  return r;
}

/** Runs the job; see the file comment. */
export async function predict(o: PredictJobOptions): Promise<PredictSummary> {
  const log = o.onMessage ?? (() => {});
  const out = resolve(o.out);
  const state = join(out, STATE);
  const wantEmb = o.formats.includes('embeddings');
  // Embeddings come from the first model alone: an embeddings-only job loads and runs just that one.
  let models = o.models;
  let taggerOpts = o.tagger ?? {};
  if (o.formats.length === 1 && wantEmb) {
    const first = resolveModelSources(o.models[0]!, taggerOpts)[0]!;
    models = [first.kind === 'onnx' ? first.path : first.dir];
    taggerOpts = { ...taggerOpts, folds: undefined, weights: undefined };
  }
  const tagger = await Tagger.load(models, taggerOpts);
  try {
    const { items, template } = await resolveInputs(o.inputs, {
      audioDir: o.audioDir,
      manifestFormat: o.manifestFormat,
      classes: tagger.classes,
    });
    // What the stored scores depend on.
    const sources = models.flatMap((m) =>
      resolveModelSources(m, taggerOpts).map((s) => {
        const p = s.kind === 'onnx' ? s.path : join(s.dir, 'model.safetensors');
        return { path: p, mtime: statSync(p).mtimeMs };
      }),
    );
    const key = {
      sources,
      plan: tagger.plan,
      models: tagger.models.length,
      embeddings: wantEmb,
      ttaAugment: tagger.ttaAugment?.toSpec() ?? null,
    };
    const keyPath = join(state, 'job.json');
    if (existsSync(keyPath)) {
      const old = readFileSync(keyPath, 'utf8');
      if (old !== `${JSON.stringify(key, null, 2)}\n`) {
        if (!o.force)
          throw new Error(
            `${out} holds results of another job (other models, windows or embeddings: ${keyPath}); use another out folder, or force: true to start over`,
          );
        rmSync(state, { recursive: true, force: true });
      }
    }
    mkdirSync(join(state, 'results'), { recursive: true });
    writeJsonAtomic(keyPath, key);

    // Files finished by an earlier run.
    const donePath = join(state, 'done.jsonl');
    const done = new Map<string, string>();
    if (existsSync(donePath))
      for (const line of readFileSync(donePath, 'utf8').split('\n')) {
        try {
          const d = JSON.parse(line) as { id: string; file: string };
          if (existsSync(join(state, 'results', d.file))) done.set(d.id, d.file);
        } catch {
          // A line cut short by a kill: that file is done again.
        }
      }
    let seq = done.size;
    const todo = items.filter((it) => !done.has(it.id));
    const resumed = items.length - todo.length;
    if (resumed > 0) log(`resuming: ${resumed} of ${items.length} files already done in ${out}`);

    const skipped: Skipped[] = [];
    const t0 = performance.now();
    let audio = 0;
    let files = 0;
    let windows = 0;
    const progress = (finished: boolean) =>
      o.onProgress?.({
        files,
        total: todo.length,
        skipped: skipped.length,
        audio,
        seconds: (performance.now() - t0) / 1000,
        windows,
        done: finished,
      });
    const handlers = {
      onResult: (r: RawResult) => {
        const file = `${seq++}.json`;
        writeFileAtomic(join(state, 'results', file), JSON.stringify(toStored(r)));
        appendFileSync(donePath, `${JSON.stringify({ id: r.input.id, file })}\n`);
        done.set(r.input.id, file);
        audio += r.duration;
        files++;
        progress(false);
      },
      onError: (input: TagInput, e: Error) => {
        const reason = e.message.startsWith(`${input.path}: `)
          ? e.message.slice(input.path!.length + 2)
          : e.message;
        skipped.push({ id: input.id, path: input.path ?? '', reason });
        files++;
        progress(false);
      },
    };
    if (o.runner) await o.runner(todo, { models, tagger: taggerOpts, embeddings: wantEmb }, handlers);
    else
      await tagger.run(todo, {
        embeddings: wantEmb,
        ...handlers,
        onBatch: (w) => {
          windows = w;
        },
      });
    progress(true);
    const seconds = (performance.now() - t0) / 1000;

    // Rendering, from the stored scores, in input order.
    const post = { ...(o.post ?? {}) };
    let thresholds: number[] | undefined;
    if (o.tuneThresholds) {
      const t = await tagger.tunedThresholds();
      thresholds = t.thresholds;
      post.threshold = t.thresholds;
      log(
        `thresholds tuned for F1 on ${t.clips} out-of-fold clips: ${tagger.classes.map((c, j) => `${c} ${t.thresholds[j]}`).join(', ')}`,
      );
    }
    const finished = items.filter((it) => done.has(it.id));
    const load = (id: string) =>
      fromStored(JSON.parse(readFileSync(join(state, 'results', done.get(id)!), 'utf8')) as Stored);
    const c = tagger.classes.length;
    // Rank averaging ranks each model's scores over every window (and every clip) of the job.
    let ranked: { windows: Map<string, Float32Array>; clips: Map<string, Float32Array> } | null = null;
    if (tagger.method === 'rank' && tagger.models.length > 1) {
      const raws = finished.map((it) => load(it.id));
      const rows = raws.reduce((a, r) => a + r.windows.length, 0);
      const mats = tagger.models.map((_, m) => concatFloat32(raws.map((r) => r.perModel[m]!)));
      const all = combine('rank', mats, rows, c, tagger.weights);
      const pooling = post.pooling ?? tagger.defaultPooling();
      const clipMats = tagger.models.map((_, m) => {
        const x = new Float32Array(raws.length * c);
        raws.forEach((r, i) => {
          x.set(poolWindows(r.perModel[m]!, r.windows.length, c, pooling), i * c);
        });
        return x;
      });
      const clips = combine('rank', clipMats, raws.length, c, tagger.weights);
      ranked = { windows: new Map(), clips: new Map() };
      let at = 0;
      raws.forEach((r, i) => {
        const n = r.windows.length * c;
        ranked!.windows.set(r.input.id, all.slice(at, at + n));
        ranked!.clips.set(r.input.id, clips.slice(i * c, (i + 1) * c));
        at += n;
      });
    }
    let embRows = 0;
    let embDim = 0;
    if (wantEmb)
      for (const it of finished) {
        const r = load(it.id);
        embRows += r.windows.length;
        embDim = r.embeddings?.dim ?? embDim;
      }
    const info = tagger.models[0]!.featureConfig;
    const writers = openWriters(
      o.formats,
      { out, classes: tagger.classes, template, band: [info.fmin, info.fmax], raven: o.raven ?? 'per-file' },
      embRows,
      embDim,
    );
    for (const it of finished) {
      const raw = load(it.id);
      const combined = ranked?.windows.get(it.id);
      const result = tagger.postprocess(raw, post, combined);
      if (ranked) result.clip = ranked.clips.get(it.id)!;
      const path = it.path ?? '';
      for (const w of writers) w.add({ result, path });
    }
    for (const w of writers) await w.close();
    if (skipped.length > 0)
      writeFileAtomic(
        join(out, 'skipped.csv'),
        `file,reason\n${skipped.map((s) => `"${s.id.replace(/"/g, '""')}","${s.reason.replace(/"/g, '""')}"`).join('\n')}\n`,
      );
    else rmSync(join(out, 'skipped.csv'), { force: true });
    return {
      out,
      files: items.length,
      scored: files - skipped.length,
      resumed,
      skipped,
      audio,
      seconds,
      thresholds,
    };
  } finally {
    await tagger.dispose();
  }
}
