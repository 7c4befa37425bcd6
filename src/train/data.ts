// From the config's data and folds sections to a Dataset and its train/validation splits.
import {
  type FoldSplit,
  foldSplits,
  loadManifest,
  type ManifestSpec,
  makeFolds,
  withClasses,
} from '../data/index.js';
import type { Dataset } from '../data/types.js';
import { applyLabelsConfig } from '../noisy/apply.js';
import type { ResolvedConfig } from './config.js';

export interface PreparedData {
  dataset: Dataset;
  splits: FoldSplit[];
  /** How the folds were made, for logs and metrics.json. */
  strategy: string;
  warnings: string[];
}

/** The manifest spec of a config's data section, for another manifest path (evaluate uses it too). */
export function manifestSpec(
  data: ResolvedConfig['data'],
  path = data.manifest,
  audioDir = data.audioDir,
): ManifestSpec {
  return {
    path,
    format: data.format ?? (data.csv ? 'csv' : undefined),
    audioDir,
    csv: data.csv,
    classes: data.classes,
    checkFiles: data.checkFiles,
  };
}

/** Keeps the items matching every filter column (a manifest column, or `label` for the primary label). */
export function filterDataset(
  dataset: Dataset,
  filter: Record<string, (string | number)[]> | undefined,
  keepClasses: boolean,
): Dataset {
  if (!filter || Object.keys(filter).length === 0) return dataset;
  const wanted = Object.entries(filter).map(([col, values]) => [col, new Set(values.map(String))] as const);
  for (const [col] of wanted) {
    const it = dataset.items[0];
    if (it && col !== 'label' && !(col in it.meta))
      throw new Error(
        `data.filter.${col}: the manifest has no column "${col}" (columns: label, ${Object.keys(it.meta).join(', ')})`,
      );
  }
  const items = dataset.items.filter((it) =>
    wanted.every(([col, set]) =>
      col === 'label' ? it.labels.some((l) => set.has(l)) : set.has(it.meta[col] ?? ''),
    ),
  );
  if (items.length === 0) throw new Error('data.filter: no item matches the filter');
  const filtered = { ...dataset, items };
  if (keepClasses) return filtered;
  // Classes that no longer occur would be outputs that can never be right; drop them, keeping the order.
  const present = new Set(items.flatMap((it) => it.labels));
  return withClasses(
    filtered,
    dataset.classes.filter((c) => present.has(c)),
    true,
  );
}

/** Train/validation indices from a column's values (FSDD's official split). */
export function splitByColumn(
  dataset: Dataset,
  column: string,
  trainValue: string,
  valValue: string,
): FoldSplit {
  const train: number[] = [];
  const val: number[] = [];
  const other: string[] = [];
  dataset.items.forEach((it, i) => {
    const v = it.meta[column];
    if (v === trainValue) train.push(i);
    else if (v === valValue) val.push(i);
    else other.push(`${it.id} (${v === undefined ? 'no column' : JSON.stringify(v)})`);
  });
  if (other.length > 0)
    throw new Error(
      `folds: split column "${column}" must be "${trainValue}" or "${valValue}"; ${other.length} item(s) are neither: ${other.slice(0, 5).join(', ')}`,
    );
  if (train.length === 0 || val.length === 0)
    throw new Error(
      `folds: split column "${column}" gives ${train.length} training and ${val.length} validation items`,
    );
  return { fold: 0, id: 0, train: Int32Array.from(train), val: Int32Array.from(val) };
}

export async function prepareData(config: ResolvedConfig): Promise<PreparedData> {
  const { dataset: loaded, warnings } = await loadManifest(manifestSpec(config.data));
  // The labels section (soft targets, sample weights) changes targets and weights, never the labels or folds.
  const dataset = applyLabelsConfig(
    filterDataset(loaded, config.data.filter, config.data.classes !== undefined),
    config.labels,
  );
  const f = config.folds;
  if (f.strategy === 'split') {
    return {
      dataset,
      splits: [splitByColumn(dataset, f.column, f.trainValue, f.valValue)],
      strategy: `split by column ${f.column} (${f.trainValue} / ${f.valValue})`,
      warnings: warnings.map((w) => w.message),
    };
  }
  const plan = makeFolds(dataset, {
    strategy: f.strategy === 'auto' ? undefined : f.strategy,
    k: f.k,
    seed: f.seed ?? config.seed,
    groupBy: f.groupBy,
  });
  return {
    dataset,
    splits: foldSplits(plan),
    strategy: plan.strategy,
    warnings: warnings.map((w) => w.message),
  };
}
