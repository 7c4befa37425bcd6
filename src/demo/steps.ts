// The tour's steps after training: the dataset reports (inspect), the warm-up pipeline on the noisy set,
// predict on the held-out clips and on the long recording, ONNX export with a parity check, and the web
// service. Each calls the library code its CLI command calls (imported when the step runs, so the CLI
// starts without the engine) and measures what it made against the generated truth.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cli,
  dataPath,
  demoConfigPath,
  fmt,
  shown,
  type TourContext,
  type TourStep,
  trainDir,
} from './context.js';

const inspectDir = (ctx: TourContext, set: string): string => join(ctx.out, 'inspect', set);

export const inspectStep: TourStep = {
  id: 'inspect',
  title: 'inspect (dataset reports)',
  command: 'dataset',
  commandLine: (ctx) =>
    ['curated', 'noisy']
      .map(
        (s) =>
          `${cli(ctx)} dataset inspect ${shown(dataPath(ctx, `${s}.csv`))} --out ${shown(join(inspectDir(ctx, s), 'report.html'))}`,
      )
      .join(' && '),
  run: async (ctx) => {
    const { readManifest } = await import('../data/index.js');
    const { inspectDataset, writeDatasetReport } = await import('../report/dataset.js');
    const outputs: Record<string, string> = {};
    const scores: Record<string, number> = {};
    const parts: string[] = [];
    for (const set of ['curated', 'noisy']) {
      const manifest = dataPath(ctx, `${set}.csv`);
      const { dataset } = await readManifest({ path: manifest });
      const r = await inspectDataset(dataset, { concurrency: 2 });
      const file = join(inspectDir(ctx, set), 'report.html');
      await writeDatasetReport(file, r, manifest);
      const s = r.summary;
      const flagged = r.silent.length + r.clipped.length + r.unusualLength.length + s.unreadable;
      const several = r.clips.filter((c) => c.labels.length > 1).length;
      parts.push(
        `${set}: ${s.clips} clips, ${s.classes} classes${several > 0 ? `, ${several} with 2-3 labels` : ''}, ${flagged} flagged`,
      );
      outputs[`${set} dataset report`] = file;
      scores[`${set}_clips`] = s.clips;
      scores[`${set}_classes`] = s.classes;
      scores[`${set}_flagged`] = flagged;
    }
    return { result: parts.join('; '), outputs, scores, reports: outputs };
  },
};

/** The warm-up pipeline's config (configs/demo/warmup.yaml) and the quick tour's lighter settings. */
function warmupOverrides(ctx: TourContext): [string, unknown][] {
  return ctx.quick ? QUICK_WARMUP : [];
}

/** The quick tour's warm-up: fewer epochs per stage (the full tour uses the config's). */
export const QUICK_WARMUP: [string, unknown][] = [['overrides.all.train.epochs', 6]];

const warmupDir = (ctx: TourContext): string => join(ctx.out, 'warmup');

export const warmupStep: TourStep = {
  id: 'warmup',
  title: 'warm-up pipeline (noisy)',
  command: 'pipeline',
  commandLine: (ctx) =>
    `${cli(ctx)} pipeline warmup --config ${shown(demoConfigPath('warmup.yaml'))} --curated ${shown(dataPath(ctx, 'curated.csv'))} ` +
    `--noisy ${shown(dataPath(ctx, 'noisy.csv'))} --test ${shown(dataPath(ctx, 'test.csv'))} --out ${shown(warmupDir(ctx))}` +
    [...warmupOverrides(ctx), ...(ctx.seed ? [['seed', ctx.seed]] : [])]
      .map(([k, v]) => ` --${k} ${v}`)
      .join(''),
  run: async (ctx) => {
    const { loadPipelineConfig } = await import('../pipelines/config.js');
    const { runPipeline } = await import('../pipelines/index.js');
    const { lineReporter } = await import('../train/progress.js');
    const config = loadPipelineConfig(demoConfigPath('warmup.yaml'), [
      ...warmupOverrides(ctx),
      ['curated', dataPath(ctx, 'curated.csv')],
      ['noisy', dataPath(ctx, 'noisy.csv')],
      ['test', dataPath(ctx, 'test.csv')],
      ['seed', ctx.seed],
    ]);
    const out = warmupDir(ctx);
    // force: the same config resumes (finished folds are kept); another one (quick vs full) starts over.
    const r = await runPipeline('warmup', {
      config,
      out,
      force: true,
      reporter: lineReporter((s) => ctx.log(s.replace(/\n$/, ''))),
    });
    // The final prediction: every fold's models of the ensemble stages, averaged, on the test set.
    const { readCsv } = await import('../data/csv.js');
    const tables = await Promise.all(
      r.ensemble.flatMap((stage) =>
        Array.from({ length: config.folds }, (_, f) =>
          readCsv(join(out, stage, `fold${f}`, 'test-probs.csv')),
        ),
      ),
    );
    const head = tables[0]!.header;
    const sum = new Map<string, number[]>();
    for (const t of tables)
      for (const row of t.rows) {
        const acc = sum.get(row.fields[0]!) ?? new Array<number>(head.length - 1).fill(0);
        row.fields.slice(1).forEach((v, j) => {
          acc[j]! += Number(v) / tables.length;
        });
        sum.set(row.fields[0]!, acc);
      }
    const predictions = join(out, 'test-predictions.csv');
    writeFileSync(
      predictions,
      `${[head.join(','), ...[...sum].map(([id, s]) => `${id},${s.map((x) => x.toPrecision(6)).join(',')}`)].join('\n')}\n`,
    );
    const split = await lwlrapBySplit(predictions, dataPath(ctx, 'test.csv'));
    const all = r.testAllFolds?.lwlrap;
    const sel = r.selections.stage3;
    const curatedOnly = ctx.results.get('evaluate')?.scores?.test_lwlrap;
    return {
      result:
        `${r.stages.length} stages × ${config.folds} folds; test lwlrap ${fmt(all)} (single ${fmt(split.single)}, ` +
        `mixtures ${fmt(split.mixtures)})${curatedOnly === undefined ? '' : ` vs ${fmt(curatedOnly)} curated only`}` +
        (sel
          ? `; stage 3 kept ${sel.kept} noisy clips${sel.correct === null ? '' : `, ${sel.correct} with exactly the true labels`}`
          : ''),
      outputs: {
        'warm-up pipeline': out,
        'warm-up results': join(out, 'results.json'),
        'warm-up test predictions': predictions,
      },
      scores: {
        warmup_test_lwlrap: all ?? Number.NaN,
        warmup_test_lwlrap_single: split.single,
        warmup_test_lwlrap_mixtures: split.mixtures,
        ...(sel
          ? { stage3_kept: sel.kept, ...(sel.correct === null ? {} : { stage3_correct: sel.correct }) }
          : {}),
      },
    };
  },
};

/** lwlrap of a predictions CSV (fname + one column per class) over a fname,labels manifest's single-label
 * rows and over its mixtures. */
export async function lwlrapBySplit(
  predictions: string,
  manifest: string,
): Promise<{ single: number; mixtures: number }> {
  const { readCsv } = await import('../data/csv.js');
  const { lwlrap } = await import('../metrics/index.js');
  const pred = await readCsv(predictions);
  const classes = pred.header.slice(1);
  const truth = new Map((await readCsv(manifest)).rows.map((r) => [r.fields[0]!, r.fields[1]!.split(',')]));
  type Group = { s: number[][]; t: number[][] };
  const single: Group = { s: [], t: [] };
  const mixtures: Group = { s: [], t: [] };
  for (const row of pred.rows) {
    const labels = truth.get(row.fields[0]!);
    if (!labels) throw new Error(`${predictions}: ${row.fields[0]} is not in ${manifest}`);
    const g = labels.length > 1 ? mixtures : single;
    g.s.push(row.fields.slice(1).map(Number));
    g.t.push(classes.map((c) => (labels.includes(c) ? 1 : 0)));
  }
  const score = (g: Group) => (g.s.length > 0 ? lwlrap(g.s, g.t) : Number.NaN);
  return { single: score(single), mixtures: score(mixtures) };
}

export interface TimedEvent {
  start: number;
  end: number;
  label: string;
}

/** Event-level matching of detections against the truth: a true event is found when a detection of its
 * label overlaps it in time; a detection is correct when it overlaps a true event of its label. */
export function matchEvents(
  truth: readonly TimedEvent[],
  found: readonly TimedEvent[],
): { recall: number; precision: number } {
  const overlaps = (a: TimedEvent, b: TimedEvent) =>
    a.label === b.label && a.start < b.end && b.start < a.end;
  const hit = truth.filter((t) => found.some((f) => overlaps(t, f))).length;
  const good = found.filter((f) => truth.some((t) => overlaps(t, f))).length;
  return {
    recall: truth.length > 0 ? hit / truth.length : Number.NaN,
    precision: found.length > 0 ? good / found.length : Number.NaN,
  };
}

const predictDir = (ctx: TourContext, what: string): string => join(ctx.out, 'predict', what);

/** Detection threshold on the long recording's windows: below predict's default 0.5 because the model is
 * a softmax one and a 2 s window often holds parts of two events, which split its probability mass. */
export const LONG_THRESHOLD = 0.3;

export const predictStep: TourStep = {
  id: 'predict',
  title: 'predict (test clips, long recording)',
  command: 'predict',
  commandLine: (ctx) =>
    `${cli(ctx)} predict --model ${shown(trainDir(ctx))} ${shown(dataPath(ctx, 'test.csv'))} --out ${shown(predictDir(ctx, 'test'))} --format kaggle,top3 && ` +
    `${cli(ctx)} predict --model ${shown(trainDir(ctx))} ${shown(dataPath(ctx, 'audio/long/scene.wav'))} --out ${shown(predictDir(ctx, 'long'))} --format windows,events,raven --threshold ${LONG_THRESHOLD}`,
  run: async (ctx) => {
    const { predict } = await import('../infer/job.js');
    const { readCsv } = await import('../data/csv.js');
    const workers = 1;
    const common = { models: [trainDir(ctx)], force: true, tagger: { workers }, onMessage: ctx.log };
    // The held-out clips: clip scores (kaggle) and top-3 lists, scored against the test labels.
    const testOut = predictDir(ctx, 'test');
    await predict({
      ...common,
      inputs: [dataPath(ctx, 'test.csv')],
      out: testOut,
      formats: ['kaggle', 'top3'],
    });
    const submission = join(testOut, 'submission.csv');
    const split = await lwlrapBySplit(submission, dataPath(ctx, 'test.csv'));
    const truth = new Map(
      (await readCsv(dataPath(ctx, 'test.csv'))).rows.map((r) => [r.fields[0]!, r.fields[1]!.split(',')]),
    );
    const top3 = await readCsv(join(testOut, 'top3.csv'));
    let top1 = 0;
    let singles = 0;
    for (const r of top3.rows) {
      const labels = truth.get(r.fields[0]!);
      if (!labels) throw new Error(`${testOut}/top3.csv: ${r.fields[0]} is not a test clip`);
      if (labels.length !== 1) continue;
      singles++;
      if (r.fields[1]!.split(' ')[0] === labels[0]) top1++;
    }
    // The long recording: window scores, events and a Raven selection table, events matched to the truth.
    const longOut = predictDir(ctx, 'long');
    await predict({
      ...common,
      inputs: [dataPath(ctx, 'audio/long/scene.wav')],
      out: longOut,
      formats: ['windows', 'events', 'raven'],
      post: { threshold: LONG_THRESHOLD },
    });
    const ev = (await readCsv(join(longOut, 'events.csv'))).rows.map((r) => ({
      start: Number(r.fields[1]),
      end: Number(r.fields[2]),
      label: r.fields[3]!,
    }));
    const truthEvents = (await readCsv(dataPath(ctx, 'long.csv'))).rows.map((r) => ({
      start: Number(r.fields[1]),
      end: Number(r.fields[2]),
      label: r.fields[3]!,
    }));
    const m = matchEvents(truthEvents, ev);
    return {
      result:
        `test clips: top-1 ${top1}/${singles} single-label clips right, lwlrap ${fmt(split.single)} / mixtures ${fmt(split.mixtures)}; ` +
        `long recording: ${ev.length} events, ${fmt(m.recall)} of the ${truthEvents.length} true events found, ${fmt(m.precision)} of the events right`,
      outputs: {
        'test clip scores': submission,
        'test top-3': join(testOut, 'top3.csv'),
        'long recording events': join(longOut, 'events.csv'),
        'Raven selection table': join(longOut, 'raven'),
      },
      scores: {
        predict_top1_single: singles > 0 ? top1 / singles : Number.NaN,
        predict_lwlrap_single: split.single,
        predict_lwlrap_mixtures: split.mixtures,
        long_events: ev.length,
        long_true_events: truthEvents.length,
        long_recall: m.recall,
        long_precision: m.precision,
      },
    };
  },
};

const onnxPath = (ctx: TourContext): string => join(ctx.out, 'model.onnx');

/** Clips the ONNX file and the engine both score in the export check. */
export const PARITY_CLIPS = 6;
/** Largest clip-score difference accepted between the ONNX file and the engine. */
export const PARITY_TOLERANCE = 1e-3;

/** The label of a test clip (by its path). */
async function clipLabel(ctx: TourContext, path: string): Promise<string> {
  const { readCsv } = await import('../data/csv.js');
  const row = (await readCsv(dataPath(ctx, 'test.csv'))).rows.find(
    (r) => join(dataPath(ctx, 'audio'), r.fields[0]!) === path,
  );
  return row?.fields[1] ?? '?';
}

/** The paths of the first `n` test clips (only single-label ones with `single`). */
async function testClips(ctx: TourContext, n: number, single = false): Promise<string[]> {
  const { readCsv } = await import('../data/csv.js');
  return (await readCsv(dataPath(ctx, 'test.csv'))).rows
    .filter((r) => !single || !r.fields[1]!.includes(','))
    .slice(0, n)
    .map((r) => join(dataPath(ctx, 'audio'), r.fields[0]!));
}

export const exportStep: TourStep = {
  id: 'export',
  title: 'export ONNX and check it',
  command: 'export',
  commandLine: (ctx) =>
    `${cli(ctx)} export ${shown(trainDir(ctx))} --all-folds --frontend --out ${shown(onnxPath(ctx))}`,
  run: async (ctx) => {
    const { exportRun } = await import('../export/export.js');
    const { Tagger } = await import('../infer/tagger.js');
    const r = exportRun(trainDir(ctx), {
      allFolds: true,
      frontend: true,
      quantize: null,
      checkpoint: 'best',
    });
    const file = onnxPath(ctx);
    mkdirSync(ctx.out, { recursive: true });
    writeFileSync(file, r.bytes);
    // Parity: the ONNX file (onnxruntime, front-end in the graph) against the engine (every fold of the
    // run, src/features) on a few held-out clips.
    const clips = await testClips(ctx, PARITY_CLIPS);
    const engine = await Tagger.load(trainDir(ctx));
    const onnx = await Tagger.load(file);
    let worst = 0;
    let sameTop = 0;
    const top = (s: Float32Array) => s.indexOf(Math.max(...s));
    try {
      for (const clip of clips) {
        const a = (await engine.tag(clip)).clip;
        const b = (await onnx.tag(clip)).clip;
        for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
        if (top(a) === top(b)) sameTop++;
      }
    } finally {
      await engine.dispose();
      await onnx.dispose();
    }
    if (!(worst <= PARITY_TOLERANCE))
      throw new Error(
        `export check: ${file} and the engine differ by ${worst.toExponential(2)} on ${clips.length} test clips (tolerance ${PARITY_TOLERANCE})`,
      );
    return {
      result:
        `${(r.bytes.length / 1e6).toFixed(2)} MB, ${r.meta.folds.length} folds in one graph, waveform in; ` +
        `on ${clips.length} test clips max |score difference| to the engine ${worst.toExponential(1)}, top-1 the same on ${sameTop}/${clips.length}`,
      outputs: { 'ONNX model': file },
      scores: {
        onnx_bytes: r.bytes.length,
        onnx_max_diff: worst,
        onnx_same_top1: sameTop,
        onnx_clips: clips.length,
      },
    };
  },
};

/** The command that opens the web app on the tour's model. */
export const serveCommand = (ctx: TourContext): string => `${cli(ctx)} serve --model ${shown(trainDir(ctx))}`;

export const serveStep: TourStep = {
  id: 'serve',
  title: 'serve (web app, HTTP API)',
  command: 'serve',
  commandLine: serveCommand,
  run: async (ctx) => {
    const { Tagger } = await import('../infer/tagger.js');
    const { createServer } = await import('../serve/server.js');
    const { loadAudio } = await import('../audio/io.js');
    const tagger = await Tagger.load(trainDir(ctx));
    const app = await createServer(tagger, { modelPath: trainDir(ctx) });
    try {
      // The server's own routes, in-process (no port): the web page, and one held-out clip as raw PCM.
      const page = await app.inject({ method: 'GET', url: '/' });
      if (page.statusCode !== 200 || !/<html/i.test(page.body))
        throw new Error(`serve check: GET / answered ${page.statusCode}, not the web page`);
      const [clip] = await testClips(ctx, 1, true);
      const audio = await loadAudio(clip!);
      const pcm = Buffer.from(
        audio.channels[0]!.buffer,
        audio.channels[0]!.byteOffset,
        audio.channels[0]!.byteLength,
      );
      const res = await app.inject({
        method: 'POST',
        url: `/v1/tag?rate=${audio.sampleRate}&topK=3`,
        headers: { 'content-type': 'application/octet-stream' },
        payload: pcm,
      });
      if (res.statusCode !== 200)
        throw new Error(`serve check: POST /v1/tag answered ${res.statusCode}: ${res.body}`);
      const body = JSON.parse(res.body) as { top: { label: string; score: number }[] };
      const best = body.top[0]!;
      const truth = await clipLabel(ctx, clip!);
      const saved = join(ctx.out, 'serve-response.json');
      writeFileSync(saved, `${JSON.stringify(body, null, 2)}\n`);
      return {
        result:
          `GET / (web app) and POST /v1/tag answered (${shown(clip!)}, a ${truth} clip → ${best.label} ${best.score.toFixed(2)}); ` +
          `open the app: ${serveCommand(ctx)}, then http://127.0.0.1:8080/`,
        outputs: { 'a /v1/tag answer': saved },
        scores: { serve_top_score: best.score, serve_top_right: best.label === truth ? 1 : 0 },
      };
    } finally {
      await app.close();
      await tagger.dispose();
    }
  },
};
