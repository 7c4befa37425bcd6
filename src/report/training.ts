// The training report of a run directory (<run>/report.html, charts in <run>/charts/): loss, metric and
// learning-rate curves per fold from log.jsonl, and the evaluation section on the out-of-fold scores
// (the run's oof.csv, or the folds' best-epoch oof.csv while the first folds train). `audiotag train`
// rewrites it after every epoch, so it can be opened while training runs.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { warnOnce } from '../core/log.js';
import { concatFloat32 } from '../core/ndarray.js';
import { chart, type VegaLiteSpec } from './charts.js';
import { embeddingMapChart, foldMaps, MAP_SEED } from './embedding-map.js';
import { type EvaluationInput, evaluationSections } from './evaluation.js';
import { type Section, writeReport } from './html.js';

export interface TrainingReportInfo {
  classes: string[];
  multiLabel: boolean;
  /** True class indices of every clip the run knows, by clip name. */
  labelsById: Map<string, number[]>;
  /** Audio file of each clip, for the players of the worst clips. */
  pathById?: Map<string, string>;
  title?: string;
  /** Draw the UMAP map of finished folds' validation embeddings (default true; needs pathById). */
  embeddingMap?: boolean;
}

/** Reads an oof.csv / predictions.csv (fname then one column per class): ids and row-major scores. */
export function readScoresFile(file: string, nClasses: number): { ids: string[]; scores: Float32Array } {
  const lines = readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.length > 0);
  const ids: string[] = [];
  const scores = new Float32Array((lines.length - 1) * nClasses);
  for (let r = 1; r < lines.length; r++) {
    const parts = lines[r]!.split(',');
    const nums = parts.slice(-nClasses).map(Number);
    if (nums.length !== nClasses || nums.some((v) => !Number.isFinite(v)))
      throw new Error(`${file}: line ${r + 1}: expected a clip name and ${nClasses} scores`);
    let id = parts.slice(0, -nClasses).join(',');
    if (id.startsWith('"') && id.endsWith('"')) id = id.slice(1, -1).replace(/""/g, '"');
    ids.push(id);
    scores.set(nums, (r - 1) * nClasses);
  }
  return { ids, scores };
}

/** The out-of-fold scores so far: the run's oof.csv, else every fold's oof.csv together. */
function readOof(runDir: string, nClasses: number): { ids: string[]; scores: Float32Array } | null {
  const run = join(runDir, 'oof.csv');
  const files = existsSync(run)
    ? [run]
    : readdirSync(runDir)
        .filter((d) => /^fold\d+$/.test(d))
        .map((d) => join(runDir, d, 'oof.csv'))
        .filter(existsSync);
  if (files.length === 0) return null;
  const parts = files.map((f) => readScoresFile(f, nClasses));
  return { ids: parts.flatMap((p) => p.ids), scores: concatFloat32(parts.map((p) => p.scores)) };
}

export type LogRecord = Record<string, number | boolean> & { fold: number; epoch: number };

export function readLog(runDir: string): LogRecord[] {
  const p = join(runDir, 'log.jsonl');
  if (!existsSync(p)) return [];
  return readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as LogRecord);
}

const NOT_METRICS = new Set(['fold', 'epoch', 'lr', 'train_loss', 'val_loss', 'improved', 'seconds']);

/** Curves from log.jsonl: loss (train and validation per fold), each validation metric, learning rate. */
export async function curveSection(log: readonly LogRecord[]): Promise<Section> {
  const loss = log.flatMap((r) => [
    { fold: `fold ${r.fold}`, epoch: r.epoch, split: 'train', loss: r.train_loss },
    ...(typeof r.val_loss === 'number'
      ? [{ fold: `fold ${r.fold}`, epoch: r.epoch, split: 'validation', loss: r.val_loss }]
      : []),
  ]);
  const metricNames = [
    ...new Set(
      log.flatMap((r) => Object.keys(r).filter((k) => !NOT_METRICS.has(k) && typeof r[k] === 'number')),
    ),
  ];
  const metrics = log.flatMap((r) =>
    metricNames
      .filter((m) => typeof r[m] === 'number')
      .map((m) => ({ fold: `fold ${r.fold}`, epoch: r.epoch, metric: m, value: r[m] })),
  );
  const lr = log.map((r) => ({ fold: `fold ${r.fold}`, epoch: r.epoch, lr: r.lr }));
  const x = { field: 'epoch', type: 'quantitative' as const, title: 'epoch', axis: { tickMinStep: 1 } };
  const color = { field: 'fold', type: 'nominal' as const, title: 'fold' };
  /** One per-epoch line chart: `field` of `values` against the epoch, plus extra encodings. */
  const perEpoch = (
    name: string,
    title: string,
    values: object[],
    field: string,
    yTitle: string,
    encoding: Record<string, unknown>,
    axis?: object,
  ) =>
    chart(name, title, {
      data: { values },
      width: 360,
      height: 260,
      mark: { type: 'line', point: true },
      encoding: {
        x,
        y: { field, type: 'quantitative', title: yTitle, ...(axis ? { axis } : {}) },
        ...encoding,
      },
    } as VegaLiteSpec);
  return {
    title: 'Training curves',
    blocks: [
      {
        kind: 'chart',
        chart: await perEpoch(
          'loss',
          'Loss per epoch (solid: train, dashed: validation)',
          loss,
          'loss',
          'loss',
          {
            color,
            strokeDash: { field: 'split', type: 'nominal', title: 'split' },
          },
        ),
      },
      {
        kind: 'chart',
        chart: await perEpoch('metrics', 'Validation metrics per epoch', metrics, 'value', 'value', {
          color: { field: 'metric', type: 'nominal', title: 'metric' },
          strokeDash: color,
        }),
      },
      {
        kind: 'chart',
        chart: await perEpoch('lr', 'Learning rate', lr, 'lr', 'learning rate', { color }, { format: '.1e' }),
      },
    ],
  };
}

/** The UMAP map of the finished folds' validation clips (null when no fold is finished or has paths). */
async function embeddingSection(runDir: string, info: TrainingReportInfo): Promise<Section | null> {
  const pathById = info.pathById;
  if (!pathById || info.embeddingMap === false) return null;
  try {
    const maps = await foldMaps(
      runDir,
      (id) => pathById.get(id),
      (id) => {
        const l = info.labelsById.get(id);
        return l && l.length > 0 ? info.classes[l[0]!]! : null;
      },
      (oof) => readScoresFile(oof, info.classes.length).ids,
    );
    const c = await embeddingMapChart(maps);
    if (!c) return null;
    const n = maps.reduce((a, m) => a + m.points.length, 0);
    return {
      title: `Embedding map (${n} validation clips)`,
      blocks: [
        {
          kind: 'text',
          text: `Each finished fold's best model embeds its validation clips (the input of its last Linear layer, averaged over the clip's windows); UMAP places them on a plane (seed ${MAP_SEED}; axes have no units). Multi-label clips are coloured by their first label.`,
        },
        { kind: 'chart', chart: c },
      ],
    };
  } catch (e) {
    warnOnce(
      `report-map:${runDir}`,
      `${runDir}: the embedding map could not be drawn: ${(e as Error).message}`,
    );
    return null;
  }
}

/** Writes <runDir>/report.html from what the run directory holds now; returns its path. */
export async function writeTrainingReport(runDir: string, info: TrainingReportInfo): Promise<string> {
  const log = readLog(runDir);
  const sections: Section[] = [];
  if (log.length > 0) sections.push(await curveSection(log));
  const oof = readOof(runDir, info.classes.length);
  if (oof) {
    const keep = oof.ids.map((id, i) => (info.labelsById.has(id) ? i : -1)).filter((i) => i >= 0);
    const c = info.classes.length;
    const scores = new Float32Array(keep.length * c);
    keep.forEach((i, r) => {
      scores.set(oof.scores.subarray(i * c, (i + 1) * c), r * c);
    });
    const ids = keep.map((i) => oof.ids[i]!);
    const e: EvaluationInput = {
      classes: info.classes,
      ids,
      scores,
      labels: ids.map((id) => info.labelsById.get(id)!),
      multiLabel: info.multiLabel,
      paths: ids.map((id) => info.pathById?.get(id)),
    };
    if (ids.length > 0) {
      const ev = await evaluationSections(e, runDir);
      ev[0]!.title = `Out-of-fold evaluation, best epoch of each fold (${ids.length} clips)`;
      sections.push(...ev);
    }
  }
  const map = await embeddingSection(runDir, info);
  if (map) sections.push(map);
  const file = join(runDir, 'report.html');
  const last = log[log.length - 1];
  writeReport(
    file,
    info.title ?? 'Training report',
    sections,
    `${runDir} · ${log.length} epoch record(s)${last ? `, last: fold ${last.fold} epoch ${last.epoch}` : ''} · written ${new Date().toISOString()}`,
  );
  return file;
}

/** Keeps <runDir>/report.html current while a run trains: `update()` after each epoch marks it stale and
 * rewrites it unless a rewrite started less than `minIntervalMs` ago (short epochs would otherwise spend
 * their time drawing); the next update or `flush()` catches up. `flush()` waits for a running rewrite and
 * writes once more if anything is still stale. A report that cannot be written is a warning through the
 * logger, never a failed run. */
export function liveTrainingReport(
  runDir: string,
  info: TrainingReportInfo,
  minIntervalMs = 5000,
): { update(): void; flush(): Promise<void> } {
  let running: Promise<void> | null = null;
  let stale = false;
  let lastStart = Number.NEGATIVE_INFINITY;
  const write = async (): Promise<void> => {
    stale = false;
    lastStart = Date.now();
    try {
      await writeTrainingReport(runDir, info);
    } catch (e) {
      warnOnce(
        `report:${runDir}`,
        `${join(runDir, 'report.html')}: the training report could not be written: ${(e as Error).message}`,
      );
    } finally {
      running = null;
    }
  };
  return {
    update() {
      stale = true;
      if (!running && Date.now() - lastStart >= minIntervalMs) running = write();
    },
    async flush() {
      while (running) await running;
      if (stale) {
        running = write();
        await running;
      }
    },
  };
}
