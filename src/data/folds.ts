// Cross-validation folds. Every function returns a fold index in 0..k-1 per item; all random choices
// come from a seeded Random so a seed always gives the same folds.
import { Random } from '../core/random.js';
import { labelIndexLists } from './dataset.js';
import type { Dataset } from './types.js';

export type Seed = number | Random;

function rng(seed: Seed): Random {
  return seed instanceof Random ? seed : new Random(seed);
}

function checkK(k: number, n: number, what: string): void {
  if (!Number.isInteger(k) || k < 2) throw new Error(`folds: k must be an integer >= 2, got ${k}`);
  if (k > n) throw new Error(`folds: k = ${k} folds but only ${n} ${what}`);
}

/** Stratified k-fold for single-label data. Each class's items (shuffled) are dealt round-robin, the deal
 * continuing across classes, so every fold holds floor or ceil of n_c/k items of class c and floor or
 * ceil of n/k items overall. Negative class ids (unlabelled) form one more stratum. */
export function stratifiedKFold(classes: ArrayLike<number>, k: number, seed: Seed = 0): Int32Array {
  const n = classes.length;
  checkK(k, n, 'items');
  const random = rng(seed);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const c = classes[i]! < 0 ? -1 : classes[i]!;
    const list = byClass.get(c);
    if (list) list.push(i);
    else byClass.set(c, [i]);
  }
  const strata = [...byClass.keys()].sort((a, b) => a - b);
  random.shuffle(strata);
  // Which physical fold gets the first deal is random too, so fold 0 is not always the largest.
  const foldOf = random.permutation(k);
  const out = new Int32Array(n);
  let slot = 0;
  for (const c of strata) {
    for (const i of random.shuffle(byClass.get(c)!)) {
      out[i] = foldOf[slot]!;
      slot = (slot + 1) % k;
    }
  }
  return out;
}

/** Plain shuffled k-fold (sizes differ by at most one). */
export function kFold(n: number, k: number, seed: Seed = 0): Int32Array {
  checkK(k, n, 'items');
  const out = new Int32Array(n);
  rng(seed)
    .permutation(n)
    .forEach((i, r) => {
      out[i] = r % k;
    });
  return out;
}

/** Iterative stratification for multi-label data (Sechidis, Tsoumakas & Vlahavas, "On the Stratification
 * of Multi-Label Data", ECML PKDD 2011, algorithm 1) with equal fold proportions. `labels[i]` lists the
 * class indices of item i. Repeatedly takes the label with the fewest unassigned items and gives each
 * such item to the fold that most lacks that label (ties: the fold lacking most items, then random). */
export function iterativeStratification(
  labels: readonly (readonly number[])[],
  k: number,
  seed: Seed = 0,
): Int32Array {
  const n = labels.length;
  checkK(k, n, 'items');
  const random = rng(seed);
  const out = new Int32Array(n).fill(-1);
  const numClasses = labels.reduce((m, ls) => Math.max(m, ...ls.map((l) => l + 1)), 0);
  const itemsOf: number[][] = Array.from({ length: numClasses }, () => []);
  labels.forEach((ls, i) => {
    for (const l of new Set(ls)) if (l >= 0) itemsOf[l]!.push(i);
  });
  const remaining = itemsOf.map((xs) => xs.length);
  // desired[l][f]: how many more items with label l fold f should get; wanted[f]: items overall.
  const desired = itemsOf.map((xs) => new Float64Array(k).fill(xs.length / k));
  const wanted = new Float64Array(k).fill(n / k);
  const pick = (score: (f: number) => number[]): number => {
    let best: number[] = [];
    let bestKey: number[] | null = null;
    for (let f = 0; f < k; f++) {
      const key = score(f);
      let cmp = 0;
      if (bestKey) for (let j = 0; j < key.length && cmp === 0; j++) cmp = key[j]! - bestKey[j]!;
      if (!bestKey || cmp > 0) {
        best = [f];
        bestKey = key;
      } else if (cmp === 0) best.push(f);
    }
    return best.length === 1 ? best[0]! : random.choice(best);
  };
  const assign = (i: number, f: number) => {
    out[i] = f;
    wanted[f]!--;
    for (const l of new Set(labels[i]!)) {
      if (l < 0) continue;
      desired[l]![f]!--;
      remaining[l]!--;
    }
  };
  for (;;) {
    let fewest = Number.POSITIVE_INFINITY;
    let ties: number[] = [];
    for (let l = 0; l < numClasses; l++) {
      const r = remaining[l]!;
      if (r === 0) continue;
      if (r < fewest) {
        fewest = r;
        ties = [l];
      } else if (r === fewest) ties.push(l);
    }
    if (ties.length === 0) break;
    const l = ties.length === 1 ? ties[0]! : random.choice(ties);
    for (const i of random.shuffle(itemsOf[l]!.filter((i) => out[i] === -1))) {
      assign(
        i,
        pick((f) => [desired[l]![f]!, wanted[f]!]),
      );
    }
  }
  // Items without labels fill the folds that are furthest below their size.
  for (const i of random.permutation(n))
    if (out[i] === -1)
      assign(
        i,
        pick((f) => [wanted[f]!]),
      );
  return out;
}

/** Group k-fold: every group's items land in one fold. Groups go largest first (ties in random order)
 * to the fold with the fewest items so far, as scikit-learn's GroupKFold does, so sizes stay close. */
export function groupKFold(groups: readonly string[], k: number, seed: Seed = 0): Int32Array {
  const random = rng(seed);
  const members = groupMembers(groups);
  checkK(k, members.size, 'groups');
  const names = random.shuffle([...members.keys()]);
  // A stable sort after the shuffle keeps the random order among groups of equal size.
  names.sort((a, b) => members.get(b)!.length - members.get(a)!.length);
  const sizes = new Float64Array(k);
  const out = new Int32Array(groups.length);
  for (const g of names) {
    let f = 0;
    for (let j = 1; j < k; j++) if (sizes[j]! < sizes[f]!) f = j;
    for (const i of members.get(g)!) out[i] = f;
    sizes[f]! += members.get(g)!.length;
  }
  return out;
}

function groupMembers(groups: readonly string[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  groups.forEach((g, i) => {
    const list = m.get(g);
    if (list) list.push(i);
    else m.set(g, [i]);
  });
  return m;
}

/** Stratified group k-fold (the greedy of scikit-learn's StratifiedGroupKFold, shuffled): groups are
 * taken in order of how uneven their class counts are, each going to the fold that keeps the per-class
 * spread of fold shares smallest (ties: the smaller fold). Works for multi-label items too. */
export function stratifiedGroupKFold(
  labels: readonly (readonly number[])[],
  groups: readonly string[],
  k: number,
  seed: Seed = 0,
): Int32Array {
  if (labels.length !== groups.length)
    throw new Error(`folds: ${labels.length} label lists but ${groups.length} groups`);
  const random = rng(seed);
  const members = groupMembers(groups);
  checkK(k, members.size, 'groups');
  const c = labels.reduce((m, ls) => Math.max(m, ...ls.map((l) => l + 1)), 1);
  const names = random.shuffle([...members.keys()]);
  const counts = new Map<string, Float64Array>();
  const total = new Float64Array(c);
  for (const g of names) {
    const v = new Float64Array(c);
    for (const i of members.get(g)!) for (const l of labels[i]!) if (l >= 0) v[l]!++;
    for (let j = 0; j < c; j++) total[j]! += v[j]!;
    counts.set(g, v);
  }
  const std = (v: Float64Array) => {
    let m = 0;
    for (const x of v) m += x;
    m /= v.length;
    let s = 0;
    for (const x of v) s += (x - m) ** 2;
    return Math.sqrt(s / v.length);
  };
  const spread = new Map(names.map((g) => [g, std(counts.get(g)!)]));
  names.sort((a, b) => spread.get(b)! - spread.get(a)!);
  const perFold = Array.from({ length: k }, () => new Float64Array(c));
  const sizes = new Float64Array(k);
  const share = new Float64Array(k);
  const out = new Int32Array(groups.length);
  // Mean over classes of the std over folds of each fold's share of the class, with g put in fold f.
  const evaluate = (g: Float64Array, f: number) => {
    let sum = 0;
    for (let j = 0; j < c; j++) {
      if (total[j] === 0) continue;
      for (let q = 0; q < k; q++) share[q] = (perFold[q]![j]! + (q === f ? g[j]! : 0)) / total[j]!;
      sum += std(share);
    }
    return sum / c;
  };
  for (const name of names) {
    const g = counts.get(name)!;
    let best = -1;
    let bestEval = Number.POSITIVE_INFINITY;
    for (let f = 0; f < k; f++) {
      const e = evaluate(g, f);
      const close = Math.abs(e - bestEval) <= 1e-8 + 1e-5 * Math.abs(bestEval);
      if (best < 0 || (e < bestEval && !close) || (close && sizes[f]! < sizes[best]!)) {
        best = f;
        bestEval = e;
      }
    }
    for (let j = 0; j < c; j++) perFold[best]![j]! += g[j]!;
    sizes[best]! += members.get(name)!.length;
    for (const i of members.get(name)!) out[i] = best;
  }
  return out;
}

/** Folds given in the manifest (ESC-50's `fold`): fold indices follow the sorted distinct values. */
export function predefinedFolds(values: readonly (number | undefined)[]): {
  assignment: Int32Array;
  ids: number[];
} {
  const missing = values.flatMap((v, i) => (v === undefined ? [i] : []));
  if (missing.length > 0)
    throw new Error(`folds: ${missing.length} item(s) have no fold (first: item ${missing[0]})`);
  const ids = [...new Set(values as number[])].sort((a, b) => a - b);
  if (ids.length < 2) throw new Error(`folds: the manifest defines ${ids.length} fold(s), need at least 2`);
  const index = new Map(ids.map((v, i) => [v, i]));
  return { assignment: Int32Array.from(values as number[], (v) => index.get(v)!), ids };
}

export type FoldStrategy =
  | 'predefined'
  | 'stratified'
  | 'iterative'
  | 'group'
  | 'stratified-group'
  | 'random';
export const FOLD_STRATEGIES: readonly FoldStrategy[] = [
  'predefined',
  'stratified',
  'iterative',
  'group',
  'stratified-group',
  'random',
];

export interface FoldOptions {
  /** Default: predefined when every item has a fold, stratified-group when items have groups,
   * iterative for multi-label data, else stratified. */
  strategy?: FoldStrategy;
  /** Number of folds (default 5; ignored for predefined). */
  k?: number;
  seed?: number;
  /** Group key: `group` (default, the manifest's group column) or a meta column such as `speaker`. */
  groupBy?: string;
}

export interface FoldPlan {
  strategy: FoldStrategy;
  k: number;
  /** Fold index 0..k-1 of each item. */
  assignment: Int32Array;
  /** Fold id of each index: the manifest's values for predefined folds, else 0..k-1. */
  ids: number[];
}

function groupsOf(dataset: Dataset, groupBy: string): string[] {
  const out: string[] = [];
  const missing: string[] = [];
  for (const it of dataset.items) {
    const g = groupBy === 'group' ? it.group : it.meta[groupBy];
    if (g === undefined || g === '') missing.push(it.id);
    out.push(g ?? '');
  }
  if (missing.length > 0)
    throw new Error(`folds: ${missing.length} item(s) have no ${groupBy} (first: ${missing[0]})`);
  return out;
}

/** Folds for a dataset by the chosen (or default) strategy. */
export function makeFolds(dataset: Dataset, opts: FoldOptions = {}): FoldPlan {
  const k = opts.k ?? 5;
  const seed = opts.seed ?? 0;
  const groupBy = opts.groupBy ?? 'group';
  const items = dataset.items;
  const hasGroups =
    items.length > 0 && items.every((it) => (groupBy === 'group' ? it.group : it.meta[groupBy]));
  const strategy =
    opts.strategy ??
    (items.length > 0 && items.every((it) => it.fold !== undefined)
      ? 'predefined'
      : hasGroups
        ? 'stratified-group'
        : dataset.multiLabel
          ? 'iterative'
          : 'stratified');
  const lists = labelIndexLists(dataset);
  let assignment: Int32Array;
  switch (strategy) {
    case 'predefined': {
      const p = predefinedFolds(items.map((it) => it.fold));
      return { strategy, k: p.ids.length, assignment: p.assignment, ids: p.ids };
    }
    case 'stratified':
      assignment = stratifiedKFold(
        lists.map((ls) => ls[0] ?? -1),
        k,
        seed,
      );
      break;
    case 'iterative':
      assignment = iterativeStratification(lists, k, seed);
      break;
    case 'group':
      assignment = groupKFold(groupsOf(dataset, groupBy), k, seed);
      break;
    case 'stratified-group':
      assignment = stratifiedGroupKFold(lists, groupsOf(dataset, groupBy), k, seed);
      break;
    case 'random':
      assignment = kFold(items.length, k, seed);
      break;
    default:
      throw new Error(
        `folds: unknown strategy "${strategy as string}" (expected ${FOLD_STRATEGIES.join(', ')})`,
      );
  }
  return { strategy, k, assignment, ids: Array.from({ length: k }, (_, i) => i) };
}

export interface FoldSplit {
  /** Fold index 0..k-1. */
  fold: number;
  /** Fold id (see FoldPlan.ids). */
  id: number;
  train: Int32Array;
  val: Int32Array;
}

/** For each fold, the items it validates on and the items the others train on. */
export function foldSplits(plan: FoldPlan): FoldSplit[] {
  return plan.ids.map((id, fold) => {
    const train: number[] = [];
    const val: number[] = [];
    plan.assignment.forEach((f, i) => {
      (f === fold ? val : train).push(i);
    });
    return { fold, id, train: Int32Array.from(train), val: Int32Array.from(val) };
  });
}

/** A copy of the dataset with each item's `fold` set to its fold id. */
export function applyFolds(dataset: Dataset, plan: FoldPlan): Dataset {
  if (plan.assignment.length !== dataset.items.length)
    throw new Error(
      `folds: the plan covers ${plan.assignment.length} items, the dataset has ${dataset.items.length}`,
    );
  return {
    ...dataset,
    items: dataset.items.map((it, i) => ({ ...it, fold: plan.ids[plan.assignment[i]!]! })),
  };
}
