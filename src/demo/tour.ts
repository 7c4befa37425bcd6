// The demo's tour: an ordered list of steps (generate the data → inspect → train k-fold → evaluate on the
// held-out test set → warm-up pipeline on the noisy set → predict → export → serve), each with the command
// line a user would type to do it alone. A step runs when it has a `run` and its CLI command exists; the
// others are listed in the summary as "not yet available", never faked. The steps after evaluation are in
// steps.ts; later work adds or replaces a step with `setTourStep`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  cli,
  dataPath,
  demoTrainConfigPath,
  epochsOf,
  fmt,
  type StepReport,
  shown,
  type TourContext,
  type TourStep,
  trainDir,
} from './context.js';
import { ensureDemoData } from './generate.js';
import {
  exportStep,
  inspectStep,
  lwlrapBySplit,
  predictStep,
  serveCommand,
  serveStep,
  warmupStep,
} from './steps.js';

export * from './context.js';
export { lwlrapBySplit, matchEvents } from './steps.js';

const dataStep: TourStep = {
  id: 'data',
  title: 'generate the data',
  command: 'demo',
  commandLine: (ctx) =>
    `${cli(ctx)} demo --data-only${ctx.quick ? ' --quick' : ''} --data-dir ${shown(ctx.dataRoot)} --seed ${ctx.seed}`,
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
      `${cli(ctx)} train --config ${shown(demoTrainConfigPath())} --data.manifest ${shown(dataPath(ctx, 'curated.csv'))}` +
      `${e ? ` --train.epochs ${e}` : ''}${ctx.seed ? ` --seed ${ctx.seed}` : ''} --out ${shown(trainDir(ctx))}`
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
      outputs: {
        'training run': trainDir(ctx),
        'cv metrics': join(trainDir(ctx), 'metrics.json'),
        'training report': join(trainDir(ctx), 'report.html'),
      },
      reports: { 'training report (k-fold, out of fold)': join(trainDir(ctx), 'report.html') },
      scores,
    };
  },
};

const testDir = (ctx: TourContext): string => join(ctx.out, 'test');

const evaluateStep: TourStep = {
  id: 'evaluate',
  title: 'evaluate (held-out test)',
  command: 'evaluate',
  commandLine: (ctx) =>
    `${cli(ctx)} evaluate --run ${shown(trainDir(ctx))} --manifest ${shown(dataPath(ctx, 'test.csv'))} --out ${shown(testDir(ctx))} ` +
    `--report-dir ${shown(join(testDir(ctx), 'report'))}`,
  run: async (ctx) => {
    const { evaluateRun } = await import('../train/evaluate.js');
    const r = await evaluateRun({
      run: trainDir(ctx),
      manifest: dataPath(ctx, 'test.csv'),
      out: testDir(ctx),
      reportDir: join(testDir(ctx), 'report'),
      onMessage: ctx.log,
    });
    const m = r.metrics ?? {};
    const split = await lwlrapBySplit(join(r.out, 'predictions.csv'), dataPath(ctx, 'test.csv'));
    const report = join(testDir(ctx), 'report', 'report.html');
    return {
      result:
        `${r.clips} clips, ensemble of ${r.folds.length} folds: lwlrap ${fmt(m.lwlrap)} (single ${fmt(split.single)}, ` +
        `two-class mixtures ${fmt(split.mixtures)}), mAP ${fmt(m.ap_macro)}`,
      outputs: {
        'test predictions': join(r.out, 'predictions.csv'),
        'test metrics': join(r.out, 'metrics.json'),
        'evaluation report': report,
      },
      reports: { 'evaluation report (test set)': report },
      scores: {
        ...Object.fromEntries(Object.entries(m).map(([k, v]) => [`test_${k}`, v])),
        test_lwlrap_single: split.single,
        test_lwlrap_mixtures: split.mixtures,
      },
    };
  },
};

/** The tour, in order. A step without `run` would be listed with its command line, not run. */
export const TOUR: TourStep[] = [
  dataStep,
  inspectStep,
  trainStep,
  evaluateStep,
  warmupStep,
  predictStep,
  exportStep,
  serveStep,
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
  /** CPU seconds of the demo's process (child processes such as FluidSynth not included). */
  cpuSeconds: number;
  data: string | null;
  /** The command that opens the web app on the tour's model. */
  serve: string;
  steps: StepReport[];
}

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

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
  const c0 = cpuNow();
  const reports: StepReport[] = [];
  for (const step of steps) {
    const base = {
      id: step.id,
      title: step.title,
      seconds: 0,
      cpuSeconds: 0,
      outputs: {},
      scores: {},
      reports: {},
      commandLine: step.commandLine(ctx),
    };
    if (!commands.has(step.command)) {
      reports.push({
        ...base,
        status: 'not yet available',
        result: `${step.command} is not a command of this build`,
      });
      continue;
    }
    if (!step.run) {
      reports.push({ ...base, status: 'not in the demo yet', result: 'run the command above yourself' });
      continue;
    }
    ctx.log(`\n== ${step.title}: ${step.commandLine(ctx)}`);
    const s0 = performance.now();
    const sc = cpuNow();
    const r = await step.run(ctx);
    ctx.results.set(step.id, r);
    reports.push({
      ...base,
      status: 'done',
      commandLine: step.commandLine(ctx),
      seconds: (performance.now() - s0) / 1000,
      cpuSeconds: cpuNow() - sc,
      result: r.result,
      outputs: r.outputs ?? {},
      scores: r.scores ?? {},
      reports: r.reports ?? {},
    });
  }
  const summary: TourSummary = {
    quick: ctx.quick,
    seed: ctx.seed,
    seconds: (performance.now() - t0) / 1000,
    cpuSeconds: cpuNow() - c0,
    data: ctx.data?.dir ?? null,
    serve: serveCommand(ctx),
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

/** The summary printed at the end: one row per step, the reports, the outputs, the commands, and the
 * command that opens the web app on the trained model. */
export function summaryText(s: TourSummary, out: string): string {
  const w = Math.max(...s.steps.map((r) => r.title.length));
  const sw = Math.max(...s.steps.map((r) => r.status.length));
  const lines = [`\naudiotag demo${s.quick ? ' --quick' : ''} (seed ${s.seed}): summary`];
  for (const r of s.steps)
    lines.push(
      `  ${r.title.padEnd(w)}  ${r.status.padEnd(sw)}  ${(r.status === 'done' ? duration(r.seconds) : '').padStart(9)}  ${r.result}`,
    );
  const reports = s.steps.flatMap((r) => Object.entries(r.reports));
  const kw = Math.max(
    w,
    ...s.steps.flatMap((r) => [...Object.keys(r.outputs), ...Object.keys(r.reports)].map((k) => k.length)),
  );
  if (reports.length > 0) {
    lines.push('', 'reports (open in a browser):');
    for (const [k, v] of reports) lines.push(`  ${k.padEnd(kw)}  ${shown(v)}`);
  }
  lines.push('', 'outputs:');
  for (const r of s.steps)
    for (const [k, v] of Object.entries(r.outputs)) lines.push(`  ${k.padEnd(kw)}  ${shown(v)}`);
  lines.push(
    `  ${'summary'.padEnd(kw)}  ${shown(join(resolve(out), 'summary.json'))}`,
    '',
    'each step alone:',
  );
  for (const r of s.steps) {
    const cmds = r.commandLine.split(' && ');
    cmds.forEach((c, i) => {
      lines.push(`  ${c}${r.status !== 'done' && i === cmds.length - 1 ? `   # ${r.status}` : ''}`);
    });
  }
  lines.push('', `the web app on the trained model: ${s.serve}   (then open http://127.0.0.1:8080/)`);
  const score = (id: string, k: string) => s.steps.find((r) => r.id === id)?.scores[k];
  const test = score('evaluate', 'test_lwlrap');
  const warm = score('warmup', 'warmup_test_lwlrap');
  lines.push(
    '',
    `demo finished in ${duration(s.seconds)}: ${test === undefined ? 'no test score' : `test lwlrap ${test.toFixed(3)}`}` +
      `${warm === undefined ? '' : ` (warm-up pipeline ${warm.toFixed(3)})`}; ` +
      `${s.steps.filter((r) => r.status === 'done').length}/${s.steps.length} steps ran (summary ${shown(join(resolve(out), 'summary.json'))})`,
  );
  return lines.join('\n');
}
