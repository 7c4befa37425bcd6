// The recipes of `audiotag pipeline` as stage lists over the runner (docs/noisy.md):
//   warmup   — Freesound 2019's 8th-place warm-up: 1 noisy only (scores lwlrap1), 2 curated from 1 (lwlrap2),
//              3 curated + noisy selected by geomean(lwlrap1, lwlrap2) ≥ 0.5, ≤ 5 per fold and label, from 2
//              (lwlrap3), 4 curated + noisy with lwlrap3 = 1, from 3; the prediction: the ensemble of 2–4.
//   pretrain — noisy pre-training (stage1), curated fine-tuning (stage2).
//   curated  — curated only (with mixNoisy: curated batches mixed with noisy ones, MixMatch-like).
//   union    — curated + noisy as is (with the train config's labels options: soft labels, weights).
//   distill  — curated + noisy, the noisy targets mixed with a teacher pipeline's soft predictions.
//   pseudo   — curated + an unlabelled folder labelled by a teacher pipeline where it is confident.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { subset } from '../data/index.js';
import type { Dataset } from '../data/types.js';
import * as E from '../engine/index.js';
import { loadModel } from '../models/index.js';
import { type ScoredClip, type SelectionRule, selectNoisy } from '../noisy/labels.js';
import { csvField } from '../noisy/manifest.js';
import { openFoldLoaders, planLoaders } from '../train/plan.js';
import { predictClips } from '../train/predict.js';
import { type MetricSummary, summarise } from '../train/run.js';
import { readScoresCsv } from '../train/trainer.js';
import { type PipelineConfig, type Recipe, recipeProblems, stageTrainConfig } from './config.js';
import {
  averageProbs,
  concat,
  foldIndices,
  listUnlabelled,
  loadPipelineData,
  type PipelineData,
  PipelineRunner,
  prepareOut,
  type RunnerOptions,
  type StageSpec,
  type StageSummary,
  testMetrics,
} from './runner.js';

export interface PipelineResult {
  recipe: Recipe;
  stages: StageSummary[];
  /** The final prediction's stages (their fold models averaged). */
  ensemble: string[];
  /** Test metrics of the ensemble per fold (the fold's models of the ensemble stages averaged), mean ± std. */
  test: Record<string, MetricSummary> | null;
  /** Test metrics of all folds' ensemble models averaged together. */
  testAllFolds: Record<string, number> | null;
  /** Per selection stage: clips kept, and (with known noise) how many of them have exactly the true labels. */
  selections: Record<string, { kept: number; correct: number | null; noisy: number }>;
  seconds: number;
}

/** Where a recipe's final predictions come from. */
function ensembleOf(recipe: Recipe, p: PipelineConfig): string[] {
  switch (recipe) {
    case 'warmup':
      return [...new Set(p.warmup.ensemble)].sort().map((s) => `stage${s}`);
    case 'pretrain':
      return ['stage2'];
    case 'curated':
      return ['curated'];
    case 'union':
      return ['union'];
    case 'distill':
      return ['student'];
    case 'pseudo':
      return ['pseudo'];
  }
}

function sameLabels(a: readonly string[], b: string): boolean | null {
  if (b === '') return null;
  const t = b.split(',');
  return a.length === t.length && a.every((l) => t.includes(l));
}

/** The teacher pipeline's final stages, from its results.json. */
function teacherStages(dir: string): string[] {
  const p = join(dir, 'results.json');
  if (!existsSync(p)) throw new Error(`${dir}: no results.json; run the teacher pipeline to the end first`);
  return (JSON.parse(readFileSync(p, 'utf8')) as PipelineResult).ensemble;
}

/** Runs a recipe end to end (resuming what a previous run of the same command finished). */
export async function runPipeline(
  recipe: Recipe,
  opts: RunnerOptions & { force?: boolean },
): Promise<PipelineResult> {
  const t0 = performance.now();
  const p = opts.config;
  const problems = recipeProblems(recipe, p);
  if (problems.length > 0) throw new Error(problems.join('\n'));
  const base = stageTrainConfig(p, 'base');
  if (base.train.threads) E.setNumThreads(base.train.threads);
  const data = await loadPipelineData(p, base);
  const out = resolve(opts.out);
  prepareOut(out, { recipe, ...p }, opts.force ?? false);
  const runner = new PipelineRunner(opts, data);
  const log = opts.reporter?.message.bind(opts.reporter) ?? (() => {});
  for (const w of data.warnings) log(`warning: ${w}`);
  log(
    `${recipe}: ${data.curated.items.length} curated, ${data.noisy?.items.length ?? 0} noisy, ${data.test?.items.length ?? 0} test clips; ${data.classes.length} classes (${data.multiLabel ? 'multi-label' : 'single-label'}); ${data.k} folds`,
  );
  const curatedTrain = (f: number) => subset(data.curated, foldIndices(data.curatedFolds, f, false));
  const noisyTrain = (f: number) => subset(data.noisy!, foldIndices(data.noisyFolds, f, false));
  const cat = (...parts: Dataset[]) => concat(data.classes, data.multiLabel, ...parts);

  const stages: StageSummary[] = [];
  const selections: PipelineResult['selections'] = {};
  const run = async (spec: StageSpec) => {
    stages.push(await runner.runStage(spec, stages.length + 1));
  };
  const select = (stage: string, rule: SelectionRule, from: string[]) => {
    const scores = from.map((s) => runner.noisyScores(s));
    const clips: ScoredClip[] = data.noisy!.items.map((it, i) => ({
      id: it.id,
      fold: data.noisyFolds[i]!,
      labels: it.labels.map((l) => data.classes.indexOf(l)),
      scores: scores.map((m) => m.get(it.id) ?? 0),
    }));
    const sel = selectNoisy(clips, rule, data.classes);
    runner.writeSelection(stage, sel);
    const kept = new Set(sel.filter((s) => s.kept).map((s) => s.id));
    const items = data.noisy!.items.filter((it) => kept.has(it.id));
    const known = items.map((it) => sameLabels(it.labels, it.meta.true_labels ?? ''));
    selections[stage] = {
      kept: kept.size,
      correct: known.every((k) => k !== null) ? known.filter((k) => k).length : null,
      noisy: data.noisy!.items.length,
    };
    log(
      `${stage}: ${kept.size} of ${data.noisy!.items.length} noisy clips selected (${join(runner.stageDir(stage), 'selection.csv')})`,
    );
    return (f: number) =>
      subset(
        data.noisy!,
        foldIndices(data.noisyFolds, f, false).filter((i) => kept.has(data.noisy!.items[i]!.id)),
      );
  };

  switch (recipe) {
    case 'warmup': {
      const w = p.warmup;
      await run({ name: 'stage1', trainSet: noisyTrain, initFrom: null });
      await run({
        name: 'stage2',
        trainSet: curatedTrain,
        initFrom: 'stage1',
        mixNoisy: true,
      });
      const sel3 = select('stage3', w.select3, ['stage1', 'stage2']);
      await run({
        name: 'stage3',
        trainSet: (f) => cat(curatedTrain(f), sel3(f)),
        initFrom: 'stage2',
      });
      const sel4 = select('stage4', w.select4, ['stage3']);
      await run({
        name: 'stage4',
        trainSet: (f) => cat(curatedTrain(f), sel4(f)),
        initFrom: 'stage3',
      });
      break;
    }
    case 'pretrain':
      await run({ name: 'stage1', trainSet: noisyTrain, initFrom: null });
      await run({
        name: 'stage2',
        trainSet: curatedTrain,
        initFrom: 'stage1',
        mixNoisy: true,
      });
      break;
    case 'curated':
      await run({
        name: 'curated',
        trainSet: curatedTrain,
        initFrom: null,
        mixNoisy: true,
      });
      break;
    case 'union':
      await run({
        name: 'union',
        trainSet: (f) => cat(curatedTrain(f), noisyTrain(f)),
        initFrom: null,
      });
      break;
    case 'distill': {
      const d = p.distill!;
      const teacher = teacherStages(d.teacher);
      const probs = averageTeacher(d.teacher, teacher, data.classes.length);
      const missing = data.noisy!.items.filter((it) => !probs.has(it.id)).length;
      if (missing > 0)
        log(
          `warning: the teacher scored ${data.noisy!.items.length - missing} of the noisy clips; the others keep their labels`,
        );
      await run({
        name: 'student',
        trainSet: (f) => cat(curatedTrain(f), noisyTrain(f)),
        initFrom: null,
        model: d.model,
        distill: { teacher: probs, alpha: d.alpha, temperature: d.temperature },
      });
      break;
    }
    case 'pseudo': {
      const ps = p.pseudo!;
      const items = await pseudoLabel(
        p,
        data,
        ps.teacher,
        ps.folder,
        ps.threshold,
        join(out, 'pseudo-labels.csv'),
      );
      selections.pseudo = {
        kept: items.items.length,
        correct: null,
        noisy: listUnlabelled(ps.folder).length,
      };
      log(`pseudo: ${items.items.length} unlabelled clips labelled at threshold ${ps.threshold}`);
      await run({
        name: 'pseudo',
        trainSet: (f) => cat(curatedTrain(f), items),
        initFrom: null,
      });
      break;
    }
  }

  const ensemble = ensembleOf(recipe, p);
  let test: PipelineResult['test'] = null;
  let testAllFolds: PipelineResult['testAllFolds'] = null;
  if (data.test) {
    const c = data.classes.length;
    const n = data.test.items.length;
    const all = new Float32Array(n * c);
    const perFold: Record<string, number>[] = [];
    for (let f = 0; f < data.k; f++) {
      const avg = new Float32Array(n * c);
      for (const s of ensemble) {
        const probs = readScoresCsv(join(runner.stageDir(s), `fold${f}`, 'test-probs.csv'), c);
        for (let i = 0; i < avg.length; i++) avg[i]! += probs[i]! / ensemble.length;
      }
      for (let i = 0; i < all.length; i++) all[i]! += avg[i]! / data.k;
      perFold.push(testMetrics(avg, data.test, data.classes));
    }
    test = Object.fromEntries(Object.keys(perFold[0]!).map((m) => [m, summarise(perFold.map((r) => r[m]!))]));
    testAllFolds = testMetrics(all, data.test, data.classes);
  }
  const result: PipelineResult = {
    recipe,
    stages,
    ensemble,
    test,
    testAllFolds,
    selections,
    seconds: (performance.now() - t0) / 1000,
  };
  writeFileSync(join(out, 'results.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

function averageTeacher(dir: string, stages: string[], classes: number): Map<string, Float32Array> {
  const paths = stages.map((s) => join(dir, s, 'noisy-scores.csv'));
  for (const p of paths)
    if (!existsSync(p))
      throw new Error(`distill.teacher: ${p} is missing (a teacher stage without noisy scores)`);
  return averageProbs(paths, classes);
}

/** Labels the unlabelled folder with the teacher pipeline's ensemble (every fold model of its final stages,
 * averaged); keeps the clips whose top probability reaches the threshold, labelled with every class at or
 * above it; writes the list with each clip's top class and probability. */
async function pseudoLabel(
  p: PipelineConfig,
  data: PipelineData,
  teacherDir: string,
  folder: string,
  threshold: number,
  outCsv: string,
): Promise<Dataset> {
  const stages = teacherStages(teacherDir);
  const items = listUnlabelled(folder);
  if (items.length === 0) throw new Error(`pseudo.folder: ${folder} holds no audio file`);
  const set: Dataset = { items, classes: data.classes, multiLabel: data.multiLabel };
  const cfg = stageTrainConfig(p, 'base');
  const plans = await planLoaders(cfg, false);
  const c = data.classes.length;
  const avg = new Float32Array(items.length * c);
  const models = stages.flatMap((s) =>
    Array.from({ length: data.k }, (_, f) => join(teacherDir, s, `fold${f}`, 'best')).filter((d) =>
      existsSync(d),
    ),
  );
  if (models.length === 0) throw new Error(`pseudo.teacher: ${teacherDir} has no fold checkpoint`);
  for (const dir of models) {
    const { model, config } = loadModel(dir);
    const { val } = await openFoldLoaders(plans, null, set, 0);
    try {
      const activation = (config as { activation?: string }).activation === 'softmax' ? 'softmax' : 'sigmoid';
      const r = await predictClips(model, val!, items.length, c, {
        activation,
        aggregate: cfg.train.aggregate,
      });
      for (let i = 0; i < avg.length; i++) avg[i]! += r.scores[i]! / models.length;
    } finally {
      model.dispose();
      await val!.close();
    }
  }
  const kept: Dataset['items'] = [];
  const lines = ['fname,labels,top,probability,kept'];
  items.forEach((it, i) => {
    const row = avg.subarray(i * c, (i + 1) * c);
    let top = 0;
    for (let j = 1; j < c; j++) if (row[j]! > row[top]!) top = j;
    const labels = data.classes.filter((_, j) => row[j]! >= threshold);
    const keep = row[top]! >= threshold;
    if (keep) kept.push({ ...it, labels, meta: { ...it.meta, set: 'pseudo' } });
    lines.push(
      [it.id, labels.join(','), data.classes[top]!, row[top]!.toFixed(4), keep ? '1' : '0']
        .map(csvField)
        .join(','),
    );
  });
  writeFileSync(outCsv, `${lines.join('\n')}\n`);
  return { items: kept, classes: data.classes, multiLabel: data.multiLabel };
}
