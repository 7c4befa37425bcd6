// The evaluation section shared by the training report (out-of-fold scores) and `audiotag evaluate`:
// per-class table, confusion matrix (counts and normalised), precision-recall and ROC curves per class,
// a calibration curve and the worst-predicted clips.
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  binaryAveragePrecision,
  binaryRocAuc,
  lwlrapPerClass,
  precisionRecallF1PerClass,
} from '../metrics/index.js';
import { chart } from './charts.js';
import { clipFigureSvg } from './clip-figure.js';
import { escapeHtml, type Section, writeReport } from './html.js';

export interface EvaluationInput {
  classes: string[];
  /** Clip names, one per row of `scores`. */
  ids: string[];
  /** [rows, classes] scores, row-major. */
  scores: Float32Array;
  /** True class indices of each row (one for single-label sets). */
  labels: number[][];
  multiLabel: boolean;
  /** Audio file of each row, for players in the worst-clips table (linked relative to the report). */
  paths?: (string | undefined)[];
}

export interface PerClassRow {
  class: string;
  ap: number;
  lwlrap: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

function column(e: EvaluationInput, j: number): { y: Float64Array; s: Float64Array } {
  const n = e.ids.length;
  const c = e.classes.length;
  const y = new Float64Array(n);
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s[i] = e.scores[i * c + j]!;
    y[i] = e.labels[i]!.includes(j) ? 1 : 0;
  }
  return { y, s };
}

function truthRows(e: EvaluationInput): Float32Array[] {
  const c = e.classes.length;
  return e.labels.map((ls) => {
    const r = new Float32Array(c);
    for (const j of ls) r[j] = 1;
    return r;
  });
}

function argmaxRow(e: EvaluationInput, i: number): number {
  const c = e.classes.length;
  let best = 0;
  for (let j = 1; j < c; j++) if (e.scores[i * c + j]! > e.scores[i * c + best]!) best = j;
  return best;
}

/** Per class: AP, lwlrap, binary accuracy, precision, recall, F1 (argmax for single-label sets,
 * threshold 0.5 for multi-label ones) and support. */
export function perClassTable(e: EvaluationInput): PerClassRow[] {
  const truth = truthRows(e);
  const rows = e.ids.map((_, i) => e.scores.subarray(i * e.classes.length, (i + 1) * e.classes.length));
  const prf = precisionRecallF1PerClass(rows, truth, { prediction: e.multiLabel ? 'threshold' : 'argmax' });
  const lw = lwlrapPerClass(rows, truth);
  const n = e.ids.length;
  return e.classes.map((name, j) => {
    const { y, s } = column(e, j);
    const tp = prf.tp[j]!;
    const fp = prf.fp[j]!;
    const fn = prf.fn[j]!;
    return {
      class: name,
      ap: binaryAveragePrecision(y, s),
      lwlrap: lw.perClass[j]!,
      accuracy: n > 0 ? (n - fp - fn) / n : Number.NaN,
      precision: prf.precision[j]!,
      recall: prf.recall[j]!,
      f1: prf.f1[j]!,
      support: tp + fn,
    };
  });
}

/** Points of the PR and ROC curves of one class (at most ~100 of each, thinned evenly). */
export function curves(
  y: Float64Array,
  s: Float64Array,
): { pr: [number, number][]; roc: [number, number][] } {
  const order = Array.from(s.keys()).sort((a, b) => s[b]! - s[a]!);
  const pos = y.reduce((a, v) => a + v, 0);
  const neg = y.length - pos;
  const pr: [number, number][] = [];
  const roc: [number, number][] = [[0, 0]];
  let tp = 0;
  let fp = 0;
  for (let r = 0; r < order.length; ) {
    const v = s[order[r]!]!;
    while (r < order.length && s[order[r]!] === v) {
      if (y[order[r]!]! > 0) tp++;
      else fp++;
      r++;
    }
    if (pos > 0) pr.push([tp / pos, tp / (tp + fp)]);
    roc.push([neg > 0 ? fp / neg : 0, pos > 0 ? tp / pos : 0]);
  }
  const thin = (a: [number, number][]) => {
    if (a.length <= 100) return a;
    const step = a.length / 100;
    const out = Array.from({ length: 100 }, (_, k) => a[Math.floor(k * step)]!);
    out.push(a[a.length - 1]!);
    return out;
  };
  return { pr: thin(pr), roc: thin(roc) };
}

/** Reliability: scores binned in tenths against the share of them that are right. Single-label: the top
 * class's score and whether it is the true class; multi-label: every (clip, class) score and its label. */
export function calibration(
  e: EvaluationInput,
): { bin: number; confidence: number; accuracy: number; count: number }[] {
  const c = e.classes.length;
  const sum = new Float64Array(10);
  const hit = new Float64Array(10);
  const cnt = new Float64Array(10);
  const add = (p: number, ok: boolean) => {
    const b = Math.min(9, Math.max(0, Math.floor(p * 10)));
    sum[b] += p;
    hit[b] += ok ? 1 : 0;
    cnt[b]++;
  };
  for (let i = 0; i < e.ids.length; i++) {
    if (e.multiLabel) for (let j = 0; j < c; j++) add(e.scores[i * c + j]!, e.labels[i]!.includes(j));
    else {
      const j = argmaxRow(e, i);
      add(e.scores[i * c + j]!, e.labels[i]!.includes(j));
    }
  }
  const out = [];
  for (let b = 0; b < 10; b++)
    if (cnt[b]! > 0)
      out.push({
        bin: b / 10 + 0.05,
        confidence: sum[b]! / cnt[b]!,
        accuracy: hit[b]! / cnt[b]!,
        count: cnt[b]!,
      });
  return out;
}

/** Confusion of the first true label against the top-scoring class: counts[truth][predicted]. */
export function confusion(e: EvaluationInput): number[][] {
  const c = e.classes.length;
  const m = Array.from({ length: c }, () => new Array<number>(c).fill(0));
  e.ids.forEach((_, i) => {
    const t = e.labels[i]![0];
    if (t !== undefined) m[t]![argmaxRow(e, i)]!++;
  });
  return m;
}

/** Clips whose true classes scored lowest (mean score over their true classes), worst first. */
export function worstClips(e: EvaluationInput, k = 12): { row: number; score: number; predicted: string }[] {
  const c = e.classes.length;
  const rows = e.ids
    .map((_, i) => {
      const ls = e.labels[i]!;
      const score = ls.length ? ls.reduce((a, j) => a + e.scores[i * c + j]!, 0) / ls.length : Number.NaN;
      return { row: i, score, predicted: e.classes[argmaxRow(e, i)]! };
    })
    .filter((r) => !Number.isNaN(r.score));
  return rows.sort((a, b) => a.score - b.score).slice(0, k);
}

const q = (field: string, title: string, extra: object = {}) => ({
  field,
  type: 'quantitative' as const,
  title,
  ...extra,
});
const nominal = (field: string, title: string, extra: object = {}) => ({
  field,
  type: 'nominal' as const,
  title,
  ...extra,
});

/** The section's charts and tables; `reportDir` makes audio links relative to the page. */
export async function evaluationSections(
  e: EvaluationInput,
  reportDir: string,
  prefix = '',
): Promise<Section[]> {
  const table = perClassTable(e);
  const cm = confusion(e);
  const cmData = cm.flatMap((row, t) => {
    const total = row.reduce((a, v) => a + v, 0);
    return row.map((v, p) => ({
      truth: e.classes[t],
      predicted: e.classes[p],
      count: v,
      share: total ? v / total : 0,
    }));
  });
  const heat = (field: 'count' | 'share', title: string) => ({
    data: { values: cmData },
    width: Math.max(200, 22 * e.classes.length),
    height: Math.max(200, 22 * e.classes.length),
    layer: [
      {
        mark: 'rect' as const,
        encoding: {
          x: nominal('predicted', 'predicted class', { sort: e.classes }),
          y: nominal('truth', 'true class', { sort: e.classes }),
          color: q(field, title, { scale: { scheme: 'viridis' } }),
        },
      },
      // Numbers in the cells while they fit (up to 30 classes); empty cells stay blank.
      ...(e.classes.length > 30
        ? []
        : [
            {
              transform: [{ filter: `datum.${field} > 0` }],
              mark: { type: 'text' as const, fontSize: 9 },
              encoding: {
                x: nominal('predicted', 'predicted class', { sort: e.classes }),
                y: nominal('truth', 'true class', { sort: e.classes }),
                text: field === 'count' ? q('count', 'count') : q('share', 'share', { format: '.2f' }),
                color: {
                  condition: {
                    test: `datum.${field} > 0.5 * ${field === 'count' ? Math.max(1, ...cm.flat()) : 1}`,
                    value: 'black',
                  },
                  value: 'white',
                },
              },
            },
          ]),
    ],
  });
  const prData: object[] = [];
  const rocData: object[] = [];
  e.classes.forEach((name, j) => {
    const { y, s } = column(e, j);
    const cv = curves(y, s);
    for (const [recall, precision] of cv.pr) prData.push({ class: name, recall, precision });
    for (const [fpr, tpr] of cv.roc) rocData.push({ class: name, fpr, tpr });
  });
  const rocAucs = e.classes.map((_, j) => {
    const { y, s } = column(e, j);
    return binaryRocAuc(y, s);
  });
  const line = (values: object[], x: [string, string], y: [string, string]) => ({
    data: { values },
    width: 320,
    height: 280,
    mark: { type: 'line' as const, interpolate: 'step-after' as const },
    encoding: {
      x: q(x[0], x[1], { scale: { domain: [0, 1] } }),
      y: q(y[0], y[1], { scale: { domain: [0, 1] } }),
      color: nominal('class', 'class', { sort: e.classes }),
    },
  });
  const cal = calibration(e);
  const worst = worstClips(e);
  const rowsHtml: string[] = [];
  for (const w of worst) {
    const p = e.paths?.[w.row];
    const audio = p
      ? `<audio controls preload="none" src="${escapeHtml(encodeURI(relative(reportDir, p)))}"></audio>`
      : '';
    const fig = p ? await clipFigureSvg(p, e.ids[w.row]!) : null;
    rowsHtml.push(
      `<tr><td>${escapeHtml(e.ids[w.row]!)}</td><td>${escapeHtml(e.labels[w.row]!.map((j) => e.classes[j]).join(', '))}</td><td>${escapeHtml(w.predicted)}</td><td>${w.score.toFixed(4)}</td><td>${audio}</td><td class="spec">${fig ?? ''}</td></tr>`,
    );
  }
  const worstHtml = `<h3>Worst-predicted clips</h3><table><tr><th>clip</th><th>true</th><th>predicted</th><th>score of the true class</th><th>audio</th><th>log-mel (first 10 s)</th></tr>${rowsHtml.join('')}</table>`;
  return [
    {
      title: `Evaluation (${e.ids.length} clips)`,
      blocks: [
        {
          kind: 'table',
          title: 'Per class',
          head: ['class', 'AP', 'lwlrap', 'ROC-AUC', 'accuracy', 'precision', 'recall', 'F1', 'support'],
          rows: table.map((r, j) => [
            r.class,
            r.ap,
            r.lwlrap,
            rocAucs[j]!,
            r.accuracy,
            r.precision,
            r.recall,
            r.f1,
            r.support,
          ]),
        },
        {
          kind: 'chart',
          chart: await chart(`${prefix}confusion`, 'Confusion matrix (counts)', heat('count', 'clips')),
        },
        {
          kind: 'chart',
          chart: await chart(
            `${prefix}confusion-normalised`,
            'Confusion matrix (normalised by true class)',
            heat('share', 'share'),
          ),
        },
        {
          kind: 'chart',
          chart: await chart(
            `${prefix}pr`,
            'Precision-recall per class',
            line(prData, ['recall', 'recall'], ['precision', 'precision']),
          ),
        },
        {
          kind: 'chart',
          chart: await chart(
            `${prefix}roc`,
            'ROC per class',
            line(rocData, ['fpr', 'false positive rate'], ['tpr', 'true positive rate']),
          ),
        },
        {
          kind: 'chart',
          chart: await chart(
            `${prefix}calibration`,
            e.multiLabel ? 'Calibration (every clip × class score)' : 'Calibration (top-class score)',
            {
              width: 300,
              height: 280,
              layer: [
                {
                  data: { values: [{ a: 0 }, { a: 1 }] },
                  mark: { type: 'line', strokeDash: [4, 4], color: 'gray' },
                  encoding: {
                    x: q('a', 'mean score', { scale: { domain: [0, 1] } }),
                    y: q('a', 'share right'),
                  },
                },
                {
                  data: { values: cal },
                  mark: { type: 'line', point: true },
                  encoding: {
                    x: q('confidence', 'mean score'),
                    y: q('accuracy', 'share right', { scale: { domain: [0, 1] } }),
                    tooltip: [q('count', 'clips')],
                  },
                },
              ],
            },
          ),
        },
        { kind: 'html', html: worstHtml },
      ],
    },
  ];
}

/** Writes <dir>/report.html (charts in <dir>/charts/) with the evaluation section; returns its path. */
export async function writeEvaluationReport(
  dir: string,
  e: EvaluationInput,
  title = 'Evaluation report',
  meta = '',
): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'report.html');
  writeReport(
    file,
    title,
    await evaluationSections(e, dir),
    `${meta}${meta ? ' · ' : ''}written ${new Date().toISOString()}`,
  );
  return file;
}
