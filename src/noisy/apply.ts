// The train config's `labels` section applied to a dataset (Node: reads the teacher's scores CSV).
import { readFileSync } from 'node:fs';
import { parseCsv } from '../data/csv.js';
import type { Dataset } from '../data/types.js';
import { applyLabelOptions } from './labels.js';
import type { LabelsConfig } from './schema.js';

/** A scores CSV (fname + one column per class, in any order) as probabilities by clip id, in `classes`
 * order; a class the file lacks is an error naming the file. */
export function readTeacherScores(path: string, classes: readonly string[]): Map<string, Float32Array> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`labels.distill.teacher: cannot read ${path}: ${(e as Error).message}`);
  }
  const { header, rows } = parseCsv(text, path);
  const cols = classes.map((c) => header.indexOf(c));
  const missing = classes.filter((_, i) => cols[i]! < 0);
  if (missing.length > 0)
    throw new Error(`labels.distill.teacher: ${path} has no column for class(es) ${missing.join(', ')}`);
  const idCol = header.indexOf('fname') >= 0 ? header.indexOf('fname') : 0;
  const out = new Map<string, Float32Array>();
  for (const { fields, line } of rows) {
    const v = Float32Array.from(cols, (c) => Number(fields[c]));
    if (v.some((x) => !Number.isFinite(x) || x < 0 || x > 1))
      throw new Error(`${path}:${line}: teacher scores must be probabilities in [0, 1]`);
    out.set(fields[idCol]!, v);
  }
  return out;
}

/** The dataset with the `labels` options applied (unchanged when none is set). */
export function applyLabelsConfig(dataset: Dataset, labels: LabelsConfig | undefined): Dataset {
  if (!labels || (!labels.cooccurrence && !labels.distill && !labels.weights)) return dataset;
  return applyLabelOptions(dataset, {
    cooccurrence: labels.cooccurrence,
    weights: labels.weights,
    distill: labels.distill
      ? {
          teacher: readTeacherScores(labels.distill.teacher, dataset.classes),
          alpha: labels.distill.alpha,
          temperature: labels.distill.temperature,
        }
      : null,
  });
}
