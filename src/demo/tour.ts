// The demo's tour: an ordered list of steps (generate the data → inspect → train k-fold → evaluate on the
// held-out test set → warm-up pipeline on the noisy set → predict → export → serve), each with the command
// line a user would type to do it alone. A step runs when it has a `run` and its CLI command exists; the
// others are listed in the summary as "not yet available", never faked. Later work adds a step's `run`
// (or a new step) with `setTourStep`.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DemoData, ensureDemoData } from './generate.js';
import type { DemoSize } from './plan.js';

export interface TourContext {
  /** Root of the data cache (the data set goes in a (size, seed) folder under it). */
  dataRoot: string;
  size: DemoSize;
  seed: number;
  quick: boolean;
  /** The tour's output folder (runs/demo by default). */
  out: string;
  /** Training epochs (default: the config's, or the quick value). */
  epochs?: number;
  jobs?: number;
  /** Regenerate the data even when a valid cached copy exists. */
  regenerate?: boolean;
  log: (s: string) => void;
  /** Set by the data step. */
  data?: DemoData;
  /** Every finished step's result, by step id. */
  results: Map<string, StepResult>;
}

export interface StepResult {
  /** One line for the summary table. */
  result: string;
  /** Files and folders the step wrote, by name. */
  outputs?: Record<string, string>;
  /** Figures for summary.json. */
  scores?: Record<string, number>;
}

export interface TourStep {
  id: string;
  title: string;
  /** The audiotag sub-command the step stands for; the step is unavailable while the CLI lacks it. */
  command: string;
  /** The command line that does this step alone. */
  commandLine: (ctx: TourContext) => string;
  run?: (ctx: TourContext) => Promise<StepResult>;
}

export type StepStatus = 'done' | 'not yet available' | 'not in the demo yet';

export interface StepReport {
  id: string;
  title: string;
  status: StepStatus;
  commandLine: string;
  seconds: number;
  result: string;
  outputs: Record<string, string>;
  scores: Record<string, number>;
}

/** The package root (holds package.json), from src/demo and dist/src/demo alike. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`demo: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** The demo's training config (shipped in configs/demo/). */
export function demoTrainConfigPath(): string {
  return join(packageRoot(), 'configs', 'demo', 'curated.yaml');
}

/** Epochs of the quick tour (the full one uses the config's). */
export const QUICK_EPOCHS = 20;

/** A path as short as it reads well: relative to the current directory when below it. */
export function shown(p: string): string {
  const r = relative(process.cwd(), p);
  return r !== '' && !r.startsWith('..') ? r : p;
}

const trainDir = (ctx: TourContext): string => join(ctx.out, 'train');
const dataPath = (ctx: TourContext, f: string): string =>
  ctx.data ? join(ctx.data.dir, f) : join(ctx.dataRoot, `${ctx.size.name}-seed${ctx.seed}`, f);
const fmt = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(3));

function epochsOf(ctx: TourContext): number | undefined {
  return ctx.epochs ?? (ctx.quick ? QUICK_EPOCHS : undefined);
}

const dataStep: TourStep = {
  id: 'data',
  title: 'generate the data',
  command: 'demo',
  commandLine: (ctx) =>
    `audiotag demo --data-only${ctx.quick ? ' --quick' : ''} --data-dir ${shown(ctx.dataRoot)} --seed ${ctx.seed}`,
  run: async (ctx) => {
    const { data, cached } = await ensureDemoData({
      root: ctx.dataRoot,
      seed: ctx.seed,
      size: ctx.size,
      jobs: ctx.jobs,
      force: ctx.regenerate,
      log: ctx.log,
    });
    ctx.data = data;
    const c = data.info.counts;
    return {
      result:
        `${c.curated} curated, ${c.test} test, ${c.noisy} noisy clips (${c.noisy_corrupted} with wrong labels), ` +
        `a ${ctx.size.longSeconds} s recording${cached ? ' (cached)' : ''}`,
      outputs: { 'data set': data.dir },
      scores: { ...c },
    };
  },
};

const trainStep: TourStep = {
  id: 'train',
  title: 'train k-fold (curated)',
  command: 'train',
  commandLine: (ctx) => {
    const e = epochsOf(ctx);
    return (
      `audiotag train --config ${shown(demoTrainConfigPath())} --data.manifest ${shown(dataPath(ctx, 'curated.csv'))}` +
      `${e ? ` --train.epochs ${e}` : ''} --out ${shown(trainDir(ctx))}`
    );
  },
  run: async (ctx) => {
    const { loadTrainConfig } = await import('../train/config.js');
    const { runTraining } = await import('../train/run.js');
    const { lineReporter } = await import('../train/progress.js');
    const overrides: [string, unknown][] = [['data.manifest', dataPath(ctx, 'curated.csv')]];
    const e = epochsOf(ctx);
    if (e) overrides.push(['train.epochs', e]);
    overrides.push(['seed', ctx.seed]);
    const config = loadTrainConfig({ file: demoTrainConfigPath(), overrides });
    // force: the same config resumes (finished folds are kept); another one (quick vs full) starts over.
    const m = await runTraining({
      config,
      out: trainDir(ctx),
      force: true,
      reporter: lineReporter((s) => ctx.log(s.replace(/\n$/, ''))),
    });
    const l = m.metrics.lwlrap;
    const scores: Record<string, number> = {};
    for (const [k, v] of Object.entries(m.metrics)) {
      scores[`cv_${k}`] = v.mean;
      scores[`cv_${k}_std`] = v.std;
    }
    return {
      result: `${m.folds.length} folds: lwlrap ${fmt(l?.mean)} ± ${fmt(l?.std)} (out of fold), ${m.classes.length} classes`,
      outputs: { 'training run': trainDir(ctx), 'cv metrics': join(trainDir(ctx), 'metrics.json') },
      scores,
    };
  },
};

const evaluateStep: TourStep = {
  id: 'evaluate',
  title: 'evaluate (held-out test)',
  command: 'evaluate',
  commandLine: (ctx) =>
    `audiotag evaluate --run ${shown(trainDir(ctx))} --manifest ${shown(dataPath(ctx, 'test.csv'))} --format fsd2019 --out ${shown(join(ctx.out, 'test'))}`,
  run: async (ctx) => {
    const { evaluateRun } = await import('../train/evaluate.js');
    const r = await evaluateRun({
      run: trainDir(ctx),
      manifest: dataPath(ctx, 'test.csv'),
      // test.csv is Freesound 2019's layout (fname, labels); read as the run's csv it would need the
      // fold column the training manifest has.
      format: 'fsd2019',
      out: join(ctx.out, 'test'),
      onMessage: ctx.log,
    });
    const m = r.metrics ?? {};
    const split = await lwlrapBySplit(join(r.out, 'predictions.csv'), dataPath(ctx, 'test.csv'));
    return {
      result:
        `${r.clips} clips, ensemble of ${r.folds.length} folds: lwlrap ${fmt(m.lwlrap)} (single ${fmt(split.single)}, ` +
        `two-class mixtures ${fmt(split.mixtures)}), mAP ${fmt(m.ap_macro)}`,
      outputs: {
        'test predictions': join(r.out, 'predictions.csv'),
        'test metrics': join(r.out, 'metrics.json'),
      },
      scores: {
        ...Object.fromEntries(Object.entries(m).map(([k, v]) => [`test_${k}`, v])),
        test_lwlrap_single: split.single,
        test_lwlrap_mixtures: split.mixtures,
      },
    };
  },
};

/** lwlrap of a predictions.csv over the single-label rows and over the mixtures of a fname,labels manifest. */
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

/** The tour, in order. Steps without `run` are placeholders for work that has not landed. */
export const TOUR: TourStep[] = [
  dataStep,
  {
    id: 'inspect',
    title: 'inspect (EDA report)',
    command: 'inspect',
    commandLine: (ctx) =>
      `audiotag inspect ${shown(dataPath(ctx, 'curated.csv'))} --out ${shown(join(ctx.out, 'inspect'))}`,
  },
  trainStep,
  evaluateStep,
  {
    id: 'warmup',
    title: 'warm-up pipeline (noisy)',
    command: 'pipeline',
    commandLine: (ctx) =>
      `audiotag pipeline warmup --curated ${shown(dataPath(ctx, 'curated.csv'))} --noisy ${shown(dataPath(ctx, 'noisy.csv'))} --out ${shown(join(ctx.out, 'warmup'))}`,
  },
  {
    id: 'predict',
    title: 'predict (test clips, long recording)',
    command: 'predict',
    commandLine: (ctx) =>
      `audiotag predict --run ${shown(trainDir(ctx))} ${shown(dataPath(ctx, 'audio/long/scene.wav'))} --format raven --out ${shown(join(ctx.out, 'predict'))}`,
  },
  {
    id: 'export',
    title: 'export ONNX and check it',
    command: 'export',
    commandLine: (ctx) =>
      `audiotag export --run ${shown(trainDir(ctx))} --out ${shown(join(ctx.out, 'model.onnx'))}`,
  },
  {
    id: 'serve',
    title: 'serve (web app)',
    command: 'serve',
    commandLine: (ctx) => `audiotag serve --run ${shown(trainDir(ctx))}`,
  },
];

/** Adds a step, or replaces the one with the same id; a new step goes after `after` (default: the end). */
export function setTourStep(step: TourStep, after?: string): void {
  const at = TOUR.findIndex((s) => s.id === step.id);
  if (at >= 0) {
    TOUR[at] = step;
    return;
  }
  const i = after === undefined ? -1 : TOUR.findIndex((s) => s.id === after);
  if (after !== undefined && i < 0)
    throw new Error(`setTourStep: no step "${after}" to put "${step.id}" after`);
  TOUR.splice(i < 0 ? TOUR.length : i + 1, 0, step);
}

export interface TourSummary {
  quick: boolean;
  seed: number;
  seconds: number;
  data: string | null;
  steps: StepReport[];
}

/**
 * Runs every available step in order; `commands` are the CLI's sub-command names (a step whose command is
 * missing is reported as not yet available). A failing step stops the tour with its error.
 */
export async function runTour(
  ctx: TourContext,
  commands: ReadonlySet<string>,
  steps: readonly TourStep[] = TOUR,
): Promise<TourSummary> {
  const t0 = performance.now();
  const reports: StepReport[] = [];
  for (const step of steps) {
    const base = { id: step.id, title: step.title, seconds: 0, outputs: {}, scores: {} };
    if (!commands.has(step.command)) {
      reports.push({
        ...base,
        status: 'not yet available',
        commandLine: step.commandLine(ctx),
        result: `audiotag ${step.command} has not landed`,
      });
      continue;
    }
    if (!step.run) {
      reports.push({
        ...base,
        status: 'not in the demo yet',
        commandLine: step.commandLine(ctx),
        result: 'run the command above yourself',
      });
      continue;
    }
    ctx.log(`\n== ${step.title}: ${step.commandLine(ctx)}`);
    const s0 = performance.now();
    const r = await step.run(ctx);
    ctx.results.set(step.id, r);
    reports.push({
      ...base,
      status: 'done',
      commandLine: step.commandLine(ctx),
      seconds: (performance.now() - s0) / 1000,
      result: r.result,
      outputs: r.outputs ?? {},
      scores: r.scores ?? {},
    });
  }
  const summary: TourSummary = {
    quick: ctx.quick,
    seed: ctx.seed,
    seconds: (performance.now() - t0) / 1000,
    data: ctx.data?.dir ?? null,
    steps: reports,
  };
  mkdirSync(ctx.out, { recursive: true });
  writeFileSync(join(ctx.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

function duration(s: number): string {
  return s < 60
    ? `${s.toFixed(0)} s`
    : `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
}

/** The summary printed at the end: one row per step, where the outputs are, the commands. */
export function summaryText(s: TourSummary, out: string): string {
  const w = Math.max(...s.steps.map((r) => r.title.length));
  const sw = Math.max(...s.steps.map((r) => r.status.length));
  const lines = [`\naudiotag demo${s.quick ? ' --quick' : ''} (seed ${s.seed}): summary`];
  for (const r of s.steps)
    lines.push(
      `  ${r.title.padEnd(w)}  ${r.status.padEnd(sw)}  ${(r.status === 'done' ? duration(r.seconds) : '').padStart(9)}  ${r.result}`,
    );
  lines.push('', 'outputs:');
  for (const r of s.steps)
    for (const [k, v] of Object.entries(r.outputs)) lines.push(`  ${k.padEnd(w)}  ${shown(v)}`);
  lines.push(
    `  ${'summary'.padEnd(w)}  ${shown(join(resolve(out), 'summary.json'))}`,
    '',
    'each step alone:',
  );
  for (const r of s.steps) lines.push(`  ${r.commandLine}${r.status === 'done' ? '' : `   # ${r.status}`}`);
  const test = s.steps.find((r) => r.id === 'evaluate')?.scores.test_lwlrap;
  lines.push(
    '',
    `demo finished in ${duration(s.seconds)}: ${test === undefined ? 'no test score' : `test lwlrap ${test.toFixed(3)}`}; ` +
      `${s.steps.filter((r) => r.status === 'done').length}/${s.steps.length} steps ran (summary ${shown(join(resolve(out), 'summary.json'))})`,
  );
  return lines.join('\n');
}
