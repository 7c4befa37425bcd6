// Scores a Kaggle-style submission file against a truth file (`audiotag score`). Node-only: reads files.
// Every problem in either file is collected and reported at once.
import { type CsvTable, readCsv } from '../../data/csv.js';
import { formatProblem } from '../../data/types.js';
import { mapAtKFromLists } from '../classification.js';
import { computeMetrics, defaultMetrics, isMetricName } from '../compute.js';
import { averagePrecisionPerClass, lwlrapPerClass } from '../ranking.js';

export class SubmissionError extends Error {
  override name = 'SubmissionError';
  constructor(readonly problems: string[]) {
    super(
      `${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
  }
}

export interface TruthFile {
  ids: string[];
  /** Labels per row. */
  labels: string[][];
  /** `labels` (2019, comma-separated), `label` (one class) or `wide` (id + one 0/1 column per class). */
  format: 'labels' | 'label' | 'wide';
  /** Wide truth: its class columns. */
  classes?: string[];
}

export interface PredictionFile {
  ids: string[];
  /** `wide`: id + one score column per class; `labels`: id + up to 3 space-separated classes. */
  format: 'wide' | 'labels';
  classes?: string[];
  /** Wide: row-major [ids, classes]. */
  scores?: Float64Array;
  lists?: string[][];
}

function idColumn(table: CsvTable, given?: string): number {
  if (given) return table.header.indexOf(given);
  for (const name of ['fname', 'row_id', 'filename', 'id'])
    if (table.header.includes(name)) return table.header.indexOf(name);
  return 0;
}

function list<T>(xs: readonly T[], limit = 20): string {
  return xs.slice(0, limit).join(', ') + (xs.length > limit ? `, ... (${xs.length - limit} more)` : '');
}

function checkHeader(table: CsvTable, problems: string[], idCol?: string): number {
  problems.push(...table.problems.map(formatProblem));
  const id = idColumn(table, idCol);
  if (id < 0) problems.push(`${table.source}:1: no id column ${idCol} (header: ${table.header.join(',')})`);
  return id;
}

function duplicates(table: CsvTable, id: number, problems: string[]): void {
  const seen = new Map<string, number>();
  for (const row of table.rows) {
    const v = row.fields[id]!.trim();
    if (seen.has(v))
      problems.push(`${table.source}:${row.line}: ${v} is listed again (first on line ${seen.get(v)})`);
    else seen.set(v, row.line);
  }
}

/** Reads a truth file; throws a SubmissionError listing every problem in it. */
export async function readTruthFile(path: string, opts: { idCol?: string } = {}): Promise<TruthFile> {
  const [truth, problems] = await parseTruthFile(path, opts);
  if (!truth || problems.length > 0) throw new SubmissionError(problems);
  return truth;
}

async function parseTruthFile(path: string, opts: { idCol?: string }): Promise<[TruthFile | null, string[]]> {
  const table = await readCsv(path);
  const problems: string[] = [];
  const id = checkHeader(table, problems, opts.idCol);
  if (id < 0) return [null, problems];
  duplicates(table, id, problems);
  const ids = table.rows.map((r) => r.fields[id]!.trim());
  const li = table.header.indexOf('labels');
  const si = table.header.indexOf('label');
  let result: TruthFile;
  if (li >= 0 || si >= 0) {
    const col = li >= 0 ? li : si;
    const labels = table.rows.map((row) => {
      const parts = li >= 0 ? row.fields[col]!.split(',').map((l) => l.trim()) : [row.fields[col]!.trim()];
      if (parts.some((p) => p === ''))
        problems.push(`${path}:${row.line}: ${row.fields[id]} has an empty label ("${row.fields[col]}")`);
      return parts.filter((p) => p !== '');
    });
    result = { ids, labels, format: li >= 0 ? 'labels' : 'label' };
  } else {
    // No label column: a wide 0/1 table, like BirdCLEF's solution files.
    const classCols = table.header.map((_, j) => j).filter((j) => j !== id);
    const classes = classCols.map((j) => table.header[j]!);
    const labels = table.rows.map((row) =>
      classCols.flatMap((j) => {
        const v = row.fields[j]!.trim();
        if (v !== '0' && v !== '1' && v !== '1.0' && v !== '0.0') {
          problems.push(`${path}:${row.line}: column ${table.header[j]} is "${v}", expected 0 or 1`);
          return [];
        }
        return Number(v) === 1 ? [table.header[j]!] : [];
      }),
    );
    result = { ids, labels, format: 'wide', classes };
  }
  if (table.rows.length === 0) problems.push(`${path}: no rows`);
  return [result, problems];
}

/** Reads a prediction file; throws a SubmissionError listing every problem in it. */
export async function readPredictionFile(
  path: string,
  opts: { idCol?: string } = {},
): Promise<PredictionFile> {
  const [pred, problems] = await parsePredictionFile(path, opts);
  if (!pred || problems.length > 0) throw new SubmissionError(problems);
  return pred;
}

async function parsePredictionFile(
  path: string,
  opts: { idCol?: string },
): Promise<[PredictionFile | null, string[]]> {
  const table = await readCsv(path);
  const problems: string[] = [];
  const id = checkHeader(table, problems, opts.idCol);
  if (id < 0) return [null, problems];
  duplicates(table, id, problems);
  const ids = table.rows.map((r) => r.fields[id]!.trim());
  let result: PredictionFile;
  if (table.header.length === 2 && table.header[1 - id] === 'label') {
    const col = 1 - id;
    const lists = table.rows.map((row) => {
      const parts = row.fields[col]!.trim()
        .split(/\s+/)
        .filter((p) => p !== '');
      if (parts.length > 3)
        problems.push(
          `${path}:${row.line}: ${parts.length} labels, the format allows at most 3 ("${row.fields[col]}")`,
        );
      return parts;
    });
    result = { ids, format: 'labels', lists };
  } else {
    const classCols = table.header.map((_, j) => j).filter((j) => j !== id);
    const classes = classCols.map((j) => table.header[j]!);
    const seen = new Set<string>();
    classes.forEach((c, k) => {
      if (c === '') problems.push(`${path}:1: column ${classCols[k]! + 1} has no class name`);
      else if (seen.has(c)) problems.push(`${path}:1: class column ${c} appears twice`);
      seen.add(c);
    });
    const scores = new Float64Array(table.rows.length * classes.length);
    table.rows.forEach((row, i) => {
      classCols.forEach((j, k) => {
        const text = row.fields[j]!.trim();
        const v = Number(text);
        if (text === '' || !Number.isFinite(v))
          problems.push(
            `${path}:${row.line}: ${ids[i]}, column ${table.header[j]}: "${text}" is not a number`,
          );
        scores[i * classes.length + k] = v;
      });
    });
    result = { ids, format: 'wide', classes, scores };
  }
  if (table.rows.length === 0) problems.push(`${path}: no rows`);
  return [result, problems];
}

export interface ScoreOptions {
  /** Metric names (see computeMetrics); default: lwlrap + ap_macro for multi-label truth, accuracy + map3 otherwise. */
  metrics?: string[];
  /** The task's classes; prediction columns or labels outside them are errors. */
  classes?: string[];
  threshold?: number;
  paddingFactor?: number;
  /** Add per-class lwlrap and AP (score-table predictions only). */
  perClass?: boolean;
}

export type ScoreResult = Record<string, number | Record<string, Record<string, number | null>>>;

/** Scores a prediction against the truth. Throws a SubmissionError listing every mismatch, after
 * `earlier` problems (from reading the files). */
export function scoreSubmission(
  truth: TruthFile,
  pred: PredictionFile,
  opts: ScoreOptions = {},
  earlier: readonly string[] = [],
): ScoreResult {
  const problems: string[] = [...earlier];
  const metrics = opts.metrics ?? defaultMetrics(truth.format !== 'label');
  const unknownMetrics = metrics.filter((m) => !isMetricName(m));
  if (unknownMetrics.length > 0) problems.push(`unknown metric ${unknownMetrics.join(', ')}`);
  const predRow = new Map(pred.ids.map((id, i) => [id, i]));
  const truthIds = new Set(truth.ids);
  const missing = truth.ids.filter((id) => !predRow.has(id));
  const extra = pred.ids.filter((id) => !truthIds.has(id));
  if (missing.length > 0)
    problems.push(`${missing.length} truth row(s) missing from the prediction: ${list(missing)}`);
  if (extra.length > 0) problems.push(`${extra.length} prediction row(s) not in the truth: ${list(extra)}`);
  const known = opts.classes ?? truth.classes;
  const truthLabels = [...new Set(truth.labels.flat())];

  if (pred.format === 'labels') {
    const needScores = metrics.filter((m) => isMetricName(m) && !/^(accuracy|top-?\d+|map@?\d+)$/i.test(m));
    if (needScores.length > 0)
      problems.push(
        `${needScores.join(', ')} need a score for every class; the prediction lists labels (only accuracy, top<k>, map<k> work)`,
      );
    if (truth.format !== 'label' && truth.labels.some((l) => l.length !== 1))
      problems.push('a label-list prediction needs one true label per row');
    const classes = known ?? [...new Set([...truthLabels, ...(pred.lists ?? []).flat()])].sort();
    const index = new Map(classes.map((c, i) => [c, i]));
    if (known) {
      const bad = [...new Set((pred.lists ?? []).flat())].filter((l) => !index.has(l));
      if (bad.length > 0) problems.push(`predicted labels not among the classes: ${list(bad)}`);
      const badTruth = truthLabels.filter((l) => !index.has(l));
      if (badTruth.length > 0) problems.push(`truth labels not among the classes: ${list(badTruth)}`);
    }
    if (problems.length > 0) throw new SubmissionError(problems);
    const y = truth.labels.map((l) => index.get(l[0]!)!);
    const lists = truth.ids.map((id) => pred.lists![predRow.get(id)!]!.map((l) => index.get(l) ?? -1));
    const out: ScoreResult = {};
    for (const m of metrics) {
      const key = m.toLowerCase();
      const k = key === 'accuracy' ? 1 : Number(/\d+/.exec(key)![0]);
      out[m] = key.startsWith('map')
        ? mapAtKFromLists(lists, y, k)
        : lists.reduce((a, l, i) => a + (l.slice(0, k).includes(y[i]!) ? 1 : 0), 0) / y.length;
    }
    return out;
  }

  const classes = pred.classes!;
  const index = new Map(classes.map((c, i) => [c, i]));
  if (known) {
    const knownSet = new Set(known);
    const bad = classes.filter((c) => !knownSet.has(c));
    if (bad.length > 0) problems.push(`unknown class column(s) in the prediction: ${list(bad)}`);
    const absent = known.filter((c) => !index.has(c));
    if (absent.length > 0) problems.push(`class column(s) missing from the prediction: ${list(absent)}`);
  }
  const noColumn = truthLabels.filter((l) => !index.has(l));
  if (noColumn.length > 0)
    problems.push(`truth label(s) with no column in the prediction: ${list(noColumn)}`);
  if (problems.length > 0) throw new SubmissionError(problems);

  const c = classes.length;
  const n = truth.ids.length;
  const scores = new Float64Array(n * c);
  const hot = truth.ids.map((id, i) => {
    scores.set(pred.scores!.subarray(predRow.get(id)! * c, (predRow.get(id)! + 1) * c), i * c);
    const row = new Array<number>(c).fill(0);
    for (const l of truth.labels[i]!) row[index.get(l)!] = 1;
    return row;
  });
  const truthInput = truth.format === 'label' ? truth.labels.map((l) => index.get(l[0]!)!) : hot;
  const out: ScoreResult = computeMetrics(metrics, scores, truthInput, {
    threshold: opts.threshold,
    paddingFactor: opts.paddingFactor,
  });
  if (opts.perClass) {
    const lw = lwlrapPerClass(scores, hot);
    const ap = averagePrecisionPerClass(scores, hot);
    const byClass = (v: ArrayLike<number>) =>
      Object.fromEntries(classes.map((name, j) => [name, Number.isNaN(v[j]!) ? null : v[j]!]));
    out.per_class = { lwlrap: byClass(lw.perClass), lwlrap_weight: byClass(lw.weights), ap: byClass(ap) };
  }
  return out;
}

/** Reads both files and scores them; problems in either file and between them are reported together. */
export async function scoreFiles(
  truthPath: string,
  predPath: string,
  opts: ScoreOptions & { idCol?: string } = {},
): Promise<ScoreResult> {
  const [[truth, truthProblems], [pred, predProblems]] = await Promise.all([
    parseTruthFile(truthPath, { idCol: opts.idCol }),
    parsePredictionFile(predPath, { idCol: opts.idCol }),
  ]);
  const problems = [...truthProblems, ...predProblems];
  if (!truth || !pred) throw new SubmissionError(problems);
  return scoreSubmission(truth, pred, opts, problems);
}

/** Wide prediction tables laid on one grid for an ensemble: the first table's rows and class columns. */
export interface AlignedPredictions {
  ids: string[];
  classes: string[];
  /** One row-major [ids, classes] matrix per table. */
  mats: Float32Array[];
}

/**
 * Lays several wide prediction tables (e.g. the `oof.csv` of runs trained with different seeds) on the
 * first one's rows and class columns, in any row or column order. Throws a SubmissionError listing every
 * table that is a label list or whose ids or classes differ from the first's.
 */
export function alignPredictions(
  named: readonly { path: string; pred: PredictionFile }[],
): AlignedPredictions {
  const problems: string[] = [];
  const first = named[0]!.pred;
  const ids = first.ids;
  const classes = first.classes ?? [];
  const firstIds = new Set(ids);
  for (const { path, pred } of named) {
    if (pred.format !== 'wide') {
      problems.push(`${path}: an ensemble needs score tables (id + one column per class), not label lists`);
      continue;
    }
    const rows = new Set(pred.ids);
    const missing = ids.filter((id) => !rows.has(id));
    const extra = pred.ids.filter((id) => !firstIds.has(id));
    if (missing.length > 0 || extra.length > 0)
      problems.push(
        `${path}: rows differ from ${named[0]!.path}: missing ${list(missing)}; extra ${list(extra)}`,
      );
    const cols = new Set(pred.classes);
    const absent = classes.filter((c) => !cols.has(c));
    const more = pred.classes!.filter((c) => !classes.includes(c));
    if (absent.length > 0 || more.length > 0)
      problems.push(
        `${path}: class columns differ from ${named[0]!.path}: missing ${list(absent)}; extra ${list(more)}`,
      );
  }
  if (problems.length > 0) throw new SubmissionError(problems);
  const c = classes.length;
  const mats = named.map(({ pred }) => {
    const row = new Map(pred.ids.map((id, i) => [id, i]));
    const col = classes.map((name) => pred.classes!.indexOf(name));
    const m = new Float32Array(ids.length * c);
    ids.forEach((id, i) => {
      const r = row.get(id)! * pred.classes!.length;
      for (let j = 0; j < c; j++) m[i * c + j] = pred.scores![r + col[j]!]!;
    });
    return m;
  });
  return { ids, classes, mats };
}
