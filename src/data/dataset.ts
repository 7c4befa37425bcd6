// Small operations on Datasets: class re-ordering, merging sets, subsets, and the arrays metrics and
// folds take (class indices, target matrix).
import type { Dataset, Item } from './types.js';

/** Targets re-encoded for `classes` (e.g. a sample submission's column order). Labels outside
 * `classes` are an error naming the items, unless `dropUnknown` (then those labels are removed). */
export function withClasses(dataset: Dataset, classes: readonly string[], dropUnknown = false): Dataset {
  const index = new Map(classes.map((c, i) => [c, i]));
  const bad: string[] = [];
  const items = dataset.items.map((it): Item => {
    const targets = new Float32Array(classes.length);
    const labels: string[] = [];
    it.labels.forEach((l) => {
      const j = index.get(l);
      if (j === undefined) {
        if (!dropUnknown) bad.push(`${it.id} (${l})`);
        return;
      }
      labels.push(l);
      const old = it.targets?.[dataset.classes.indexOf(l)];
      targets[j] = old === undefined || old === 0 ? 1 : old;
    });
    return { ...it, labels, targets };
  });
  if (bad.length > 0) {
    const shown = bad.slice(0, 20).join(', ') + (bad.length > 20 ? `, ... ${bad.length - 20} more` : '');
    throw new Error(`${bad.length} item(s) have labels outside the given classes: ${shown}`);
  }
  return { items, classes: [...classes], multiLabel: dataset.multiLabel };
}

/** Concatenates datasets (e.g. FSD2019 curated + noisy) over the union of their classes (sorted) or
 * over `classes`. The same file listed twice is an error. */
export function mergeDatasets(datasets: readonly Dataset[], classes?: readonly string[]): Dataset {
  const order = classes ? [...classes] : [...new Set(datasets.flatMap((d) => d.classes))].sort();
  const seen = new Set<string>();
  const dup: string[] = [];
  const items: Item[] = [];
  for (const d of datasets) {
    for (const it of withClasses(d, order).items) {
      if (seen.has(it.path)) dup.push(it.path);
      seen.add(it.path);
      items.push(it);
    }
  }
  if (dup.length > 0)
    throw new Error(`files listed in more than one dataset: ${dup.slice(0, 20).join(', ')}`);
  return { items, classes: order, multiLabel: datasets.some((d) => d.multiLabel) };
}

/** The items at `indices` (shared, not copied), same classes. */
export function subset(dataset: Dataset, indices: ArrayLike<number>): Dataset {
  const items = Array.from(indices, (i) => {
    const it = dataset.items[i];
    if (it === undefined) throw new Error(`subset: index ${i} is outside 0..${dataset.items.length - 1}`);
    return it;
  });
  return { items, classes: dataset.classes, multiLabel: dataset.multiLabel };
}

/** Index of each item's first (primary) label in `classes`; -1 for unlabelled items. */
export function classIndices(dataset: Dataset): Int32Array {
  const index = new Map(dataset.classes.map((c, i) => [c, i]));
  return Int32Array.from(dataset.items, (it) =>
    it.labels.length === 0 ? -1 : (index.get(it.labels[0]!) ?? -1),
  );
}

/** Label indices of every item (all labels, primary first). */
export function labelIndexLists(dataset: Dataset): number[][] {
  const index = new Map(dataset.classes.map((c, i) => [c, i]));
  return dataset.items.map((it) =>
    it.labels.map((l) => index.get(l)).filter((i): i is number => i !== undefined),
  );
}

/** Row-major [items, classes] targets (from `targets`, else from labels). */
export function targetMatrix(dataset: Dataset): Float32Array {
  const c = dataset.classes.length;
  const out = new Float32Array(dataset.items.length * c);
  const lists = labelIndexLists(dataset);
  dataset.items.forEach((it, i) => {
    if (it.targets && it.targets.length === c) out.set(it.targets, i * c);
    else for (const j of lists[i]!) out[i * c + j] = 1;
  });
  return out;
}

/** Items per class (an item counts for each of its labels). */
export function classCounts(dataset: Dataset): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(dataset.classes.map((c) => [c, 0]));
  for (const it of dataset.items) for (const l of it.labels) if (l in counts) counts[l]!++;
  return counts;
}
