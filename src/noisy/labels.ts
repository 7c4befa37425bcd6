// Label-side tools for learning from noisy labels (docs/noisy.md): known-noise corruption of a label set,
// co-occurrence soft relabelling, distillation targets, sample weights by a manifest column, the per-clip
// label-ranking precision the warm-up pipeline scores noisy clips with, and its selection rule.
// Pure functions over plain arrays: browser-safe and engine-free.
import { mixSeed, Random } from '../core/random.js';
import type { Dataset, Item } from '../data/types.js';

// ---- corruption ---------------------------------------------------------------------------------

export const CORRUPTIONS = ['swap', 'drop', 'add'] as const;
export type Corruption = (typeof CORRUPTIONS)[number];

export interface CorruptOptions {
  /** Share of clips whose labels are corrupted, in [0, 1]. */
  rate: number;
  seed: number;
  /** Kinds drawn uniformly among those that apply (drop needs two labels): default all three. */
  kinds?: readonly Corruption[];
}

export interface CorruptedLabels {
  /** The labels a noisy manifest gives (sorted as in `classes`). */
  labels: string[];
  /** The original labels. */
  trueLabels: string[];
  /** '' when the labels are the truth. */
  corruption: Corruption | '';
}

/**
 * Corrupts label lists the way Freesound 2019's noisy set is wrong: `swap` replaces one true label by a
 * wrong class, `drop` removes one true label (only when another remains), `add` adds a false co-label.
 * Exactly round(rate · n) clips are corrupted, chosen by the seed; each clip's draw depends only on the
 * seed and its position, so the same seed gives the same manifest.
 */
export function corruptLabels(
  labels: readonly (readonly string[])[],
  classes: readonly string[],
  opts: CorruptOptions,
): CorruptedLabels[] {
  if (!(opts.rate >= 0 && opts.rate <= 1)) throw new RangeError(`rate must be in [0, 1], got ${opts.rate}`);
  const kinds = opts.kinds ?? CORRUPTIONS;
  if (kinds.length === 0) throw new RangeError('kinds: at least one corruption kind is needed');
  if (classes.length < 2) throw new RangeError('corruption needs at least 2 classes');
  const order = (ls: string[]) => ls.sort((a, b) => classes.indexOf(a) - classes.indexOf(b));
  const n = labels.length;
  const chosen = new Set(
    new Random(mixSeed(opts.seed, 1)).permutation(n).slice(0, Math.round(opts.rate * n)),
  );
  return labels.map((ls, i) => {
    const truth = order([...ls]);
    if (!chosen.has(i) || truth.length === 0) return { labels: truth, trueLabels: truth, corruption: '' };
    const rng = new Random(mixSeed(opts.seed, 2, i));
    const wrong = classes.filter((c) => !truth.includes(c));
    const can = kinds.filter((k) => (k === 'drop' ? truth.length > 1 : wrong.length > 0));
    if (can.length === 0) return { labels: truth, trueLabels: truth, corruption: '' };
    const kind = rng.choice(can);
    const given = [...truth];
    if (kind === 'swap') given[rng.int(0, given.length)] = rng.choice(wrong);
    else if (kind === 'drop') given.splice(rng.int(0, given.length), 1);
    else given.push(rng.choice(wrong));
    return { labels: order([...new Set(given)]), trueLabels: truth, corruption: kind };
  });
}

// ---- soft labels --------------------------------------------------------------------------------

/** P[i][j] = P(class j present | class i present) over the label lists; rows of absent classes are 0
 * (the diagonal of present classes is 1). Row-major [C, C]. */
export function cooccurrence(lists: readonly (readonly number[])[], numClasses: number): Float64Array {
  const c = numClasses;
  const both = new Float64Array(c * c);
  for (const ls of lists) {
    const set = [...new Set(ls)];
    for (const i of set) for (const j of set) both[i * c + j]!++;
  }
  const p = new Float64Array(c * c);
  for (let i = 0; i < c; i++) {
    const n = both[i * c + i]!;
    if (n > 0) for (let j = 0; j < c; j++) p[i * c + j] = both[i * c + j]! / n;
  }
  return p;
}

/**
 * Co-occurrence soft relabelling: the target of class j for a clip with labels L is
 * (1 − w)·y_j + w·mean_{i∈L} P(j | i), with y the multi-hot labels. A clip's own labels keep a high
 * target, classes that often come with them get some. Returns row-major [lists, C]; unlabelled rows are 0.
 */
export function softRelabel(
  lists: readonly (readonly number[])[],
  p: Float64Array,
  numClasses: number,
  weight: number,
): Float32Array {
  if (!(weight >= 0 && weight <= 1)) throw new RangeError(`weight must be in [0, 1], got ${weight}`);
  const c = numClasses;
  const out = new Float32Array(lists.length * c);
  lists.forEach((ls, r) => {
    const set = [...new Set(ls)];
    if (set.length === 0) return;
    for (let j = 0; j < c; j++) {
      let s = 0;
      for (const i of set) s += p[i * c + j]!;
      const y = set.includes(j) ? 1 : 0;
      out[r * c + j] = (1 - weight) * y + (weight * s) / set.length;
    }
  });
  return out;
}

/** Probabilities made softer (T > 1) or sharper (T < 1): sigmoid(logit(p) / T) per class, or for softmax
 * rows p^(1/T) renormalised. */
export function temper(
  probs: ArrayLike<number>,
  numClasses: number,
  temperature: number,
  activation: 'sigmoid' | 'softmax',
): Float32Array {
  if (!(temperature > 0)) throw new RangeError(`temperature must be > 0, got ${temperature}`);
  const out = new Float32Array(probs.length);
  const eps = 1e-7;
  for (let r = 0; r < probs.length / numClasses; r++) {
    let sum = 0;
    for (let j = 0; j < numClasses; j++) {
      const v = Math.min(1 - eps, Math.max(eps, probs[r * numClasses + j]!));
      const t =
        activation === 'sigmoid'
          ? 1 / (1 + Math.exp(-Math.log(v / (1 - v)) / temperature))
          : Math.exp(Math.log(v) / temperature);
      out[r * numClasses + j] = t;
      sum += t;
    }
    if (activation === 'softmax') for (let j = 0; j < numClasses; j++) out[r * numClasses + j]! /= sum;
  }
  return out;
}

/** Distillation targets: alpha · hard + (1 − alpha) · tempered teacher probabilities (row-major [n, C]). */
export function distillTargets(
  hard: ArrayLike<number>,
  teacher: ArrayLike<number>,
  numClasses: number,
  opts: { alpha: number; temperature: number; activation: 'sigmoid' | 'softmax' },
): Float32Array {
  if (hard.length !== teacher.length)
    throw new RangeError(
      `distill: ${hard.length / numClasses} label rows but ${teacher.length / numClasses} teacher rows`,
    );
  if (!(opts.alpha >= 0 && opts.alpha <= 1))
    throw new RangeError(`alpha must be in [0, 1], got ${opts.alpha}`);
  const soft = temper(teacher, numClasses, opts.temperature, opts.activation);
  return soft.map((s, i) => opts.alpha * hard[i]! + (1 - opts.alpha) * s);
}

// ---- dataset-level options ----------------------------------------------------------------------

/** Label options of the train config (`labels`), see docs/noisy.md. */
export interface LabelOptions {
  /** Co-occurrence soft relabelling over the (training) items; null: hard labels. */
  cooccurrence?: { weight: number } | null;
  /** Sample weights by a manifest column (`set`, `manually_verified`...); values not listed get `default`. */
  weights?: { column: string; values: Record<string, number>; default: number } | null;
  /** Teacher soft targets by clip id (a scores CSV: fname + one column per class). */
  distill?: { teacher: Map<string, Float32Array>; alpha: number; temperature: number } | null;
}

function hardRows(
  items: readonly Item[],
  classes: readonly string[],
): { lists: number[][]; hard: Float32Array } {
  const index = new Map(classes.map((c, i) => [c, i]));
  const lists = items.map((it) =>
    it.labels.map((l) => index.get(l)).filter((i): i is number => i !== undefined),
  );
  const hard = new Float32Array(items.length * classes.length);
  lists.forEach((ls, r) => {
    for (const j of ls) hard[r * classes.length + j] = 1;
  });
  return { lists, hard };
}

/**
 * The dataset with soft targets and sample weights set on (copies of) its items: co-occurrence computed
 * over these items, teacher targets for the items the teacher scored (others keep theirs), weights by column.
 */
export function applyLabelOptions(
  dataset: Dataset,
  opts: LabelOptions,
  activation: 'sigmoid' | 'softmax' = dataset.multiLabel ? 'sigmoid' : 'softmax',
): Dataset {
  const c = dataset.classes.length;
  const { lists, hard } = hardRows(dataset.items, dataset.classes);
  let targets: Float32Array | null = null;
  if (opts.cooccurrence && opts.cooccurrence.weight > 0) {
    const p = cooccurrence(lists, c);
    targets = softRelabel(lists, p, c, opts.cooccurrence.weight);
  }
  if (opts.distill) {
    const base = targets ?? hard;
    targets = base.slice();
    const d = opts.distill;
    dataset.items.forEach((it, r) => {
      const t = d.teacher.get(it.id);
      if (!t) return;
      if (t.length !== c)
        throw new RangeError(`distill: the teacher scores ${t.length} classes for ${it.id}, expected ${c}`);
      const row = distillTargets(base.subarray(r * c, (r + 1) * c), t, c, {
        alpha: d.alpha,
        temperature: d.temperature,
        activation,
      });
      targets!.set(row, r * c);
    });
  }
  const w = opts.weights;
  if (!targets && !w) return dataset;
  const items = dataset.items.map((it, r): Item => {
    const out: Item = { ...it };
    if (targets) out.targets = targets.slice(r * c, (r + 1) * c);
    if (w) {
      const v = w.column === 'set' ? (it.meta.set ?? '') : (it.meta[w.column] ?? '');
      out.weight = (it.weight ?? 1) * (w.values[v] ?? w.default);
    }
    return out;
  });
  return { ...dataset, items };
}

// ---- per-clip scores and the warm-up selection ----------------------------------------------------

/** Label-ranking average precision of one clip: over its labels j, the share of labels among the classes
 * scoring >= s_j (ties count against, as scikit-learn's LRAP); 1 when every label outranks every other
 * class. NaN for a clip without labels. */
export function clipLrap(scores: ArrayLike<number>, labels: readonly number[]): number {
  const set = new Set(labels);
  if (set.size === 0) return Number.NaN;
  let sum = 0;
  for (const j of set) {
    let rank = 0;
    let hits = 0;
    for (let q = 0; q < scores.length; q++)
      if (scores[q]! >= scores[j]!) {
        rank++;
        if (set.has(q)) hits++;
      }
    sum += hits / rank;
  }
  return sum / set.size;
}

export interface ScoredClip {
  id: string;
  /** The noisy set's fold of the clip. */
  fold: number;
  /** Class indices of its (noisy) labels. */
  labels: number[];
  /** One per-clip score per earlier stage used by the rule (e.g. lwlrap1, lwlrap2). */
  scores: number[];
}

export interface SelectionRule {
  /** Keep clips whose combined score is at least this. */
  minScore: number;
  /** How several scores combine: geometric mean (8th place), mean, min, or the last one. */
  combine: 'geomean' | 'mean' | 'min' | 'last';
  /** At most this many clips per (noisy fold, label), the highest combined scores first; null: no cap. */
  capPerFoldLabel: number | null;
}

export interface Selection {
  id: string;
  fold: number;
  score: number;
  kept: boolean;
  /** Why: the rule's verdict, in words (written to the stage's selection list). */
  reason: string;
}

export function combineScores(scores: readonly number[], how: SelectionRule['combine']): number {
  if (scores.length === 0) return Number.NaN;
  switch (how) {
    case 'geomean':
      return scores.some((s) => !(s > 0))
        ? 0
        : Math.exp(scores.reduce((a, s) => a + Math.log(s), 0) / scores.length);
    case 'mean':
      return scores.reduce((a, s) => a + s, 0) / scores.length;
    case 'min':
      return Math.min(...scores);
    case 'last':
      return scores[scores.length - 1]!;
  }
}

/**
 * The warm-up stages' selection: combined score ≥ minScore, then at most capPerFoldLabel clips per (fold,
 * label) — a clip counts towards each of its labels and is kept only when it is within the cap for all of
 * them; ties broken by id so the list is the same on every run.
 */
export function selectNoisy(
  clips: readonly ScoredClip[],
  rule: SelectionRule,
  classes: readonly string[],
): Selection[] {
  const out: Selection[] = clips.map((c) => {
    const score = combineScores(c.scores, rule.combine);
    const pass = score >= rule.minScore - 1e-12;
    const how =
      rule.combine === 'last'
        ? 'score'
        : `${rule.combine} of [${c.scores.map((s) => s.toFixed(4)).join(', ')}]`;
    return {
      id: c.id,
      fold: c.fold,
      score,
      kept: pass,
      reason: `${how} = ${score.toFixed(4)} ${pass ? '>=' : '<'} ${rule.minScore}`,
    };
  });
  if (rule.capPerFoldLabel === null) return out;
  const cap = rule.capPerFoldLabel;
  const order = out
    .map((_s, i) => i)
    .filter((i) => out[i]!.kept)
    .sort(
      (a, b) =>
        out[b]!.score - out[a]!.score || (out[a]!.id < out[b]!.id ? -1 : out[a]!.id > out[b]!.id ? 1 : 0),
    );
  const used = new Map<string, number>();
  for (const i of order) {
    const c = clips[i]!;
    const keys = c.labels.map((l) => `${c.fold}\u0000${l}`);
    const full = c.labels.find((_l, q) => (used.get(keys[q]!) ?? 0) >= cap);
    if (full !== undefined) {
      out[i]!.kept = false;
      out[i]!.reason += `; over the cap of ${cap} for fold ${c.fold}, label ${classes[full] ?? full}`;
      continue;
    }
    for (const k of keys) used.set(k, (used.get(k) ?? 0) + 1);
  }
  return out;
}
