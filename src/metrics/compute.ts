// Metrics by name, for the trainer's validation loop and `audiotag score`.
import { accuracy, mapAtK, type PrfOptions, precisionRecallF1, topKAccuracy } from './classification.js';
import { prepare, type Scores, type Truth } from './input.js';
import { averagePrecision, labelRankingAveragePrecision, lwlrap, paddedCmap, rocAuc } from './ranking.js';

/** Names `computeMetrics` understands; `top<k>`, `map<k>` and `cmap<p>` take any k / padding. */
export const METRIC_NAMES = [
  'accuracy',
  'top<k> (e.g. top5)',
  'map<k> (map3 = MAP@3)',
  'lwlrap',
  'lrap',
  'ap_macro (alias mAP)',
  'ap_micro',
  'auc_macro (alias roc_auc)',
  'auc_micro',
  'cmap (padded cmAP, padding 5; cmap<p> for padding p)',
  'f1_macro (alias f1)',
  'f1_micro',
  'precision_macro',
  'precision_micro',
  'recall_macro',
  'recall_micro',
] as const;

export interface ComputeOptions extends PrfOptions {
  /** Padding rows for `cmap` (default 5). */
  paddingFactor?: number;
}

type MetricFn = (scores: Scores, truth: Truth, opts: ComputeOptions) => number;

function resolveMetric(name: string): MetricFn | null {
  const fixed: Record<string, MetricFn> = {
    accuracy: (s, t) => accuracy(s, t),
    lwlrap: (s, t) => lwlrap(s, t),
    lrap: (s, t) => labelRankingAveragePrecision(s, t),
    ap_macro: (s, t) => averagePrecision(s, t, 'macro'),
    map: (s, t) => averagePrecision(s, t, 'macro'),
    ap_micro: (s, t) => averagePrecision(s, t, 'micro'),
    // Inside training a validation fold may lack a class; its AUC is undefined and left out.
    auc_macro: (s, t) => rocAuc(s, t, { average: 'macro', skipUndefined: true }),
    roc_auc: (s, t) => rocAuc(s, t, { average: 'macro', skipUndefined: true }),
    auc_micro: (s, t) => rocAuc(s, t, { average: 'micro' }),
    cmap: (s, t, o) => paddedCmap(s, t, o.paddingFactor ?? 5),
    padded_cmap: (s, t, o) => paddedCmap(s, t, o.paddingFactor ?? 5),
  };
  const key = name.toLowerCase();
  if (key in fixed) return fixed[key]!;
  let m = /^top-?(\d+)$/.exec(key);
  if (m) return (s, t) => topKAccuracy(s, t, Number(m![1]));
  m = /^map@?(\d+)$/.exec(key);
  if (m) return (s, t) => mapAtK(s, t, Number(m![1]));
  m = /^cmap(\d+)$/.exec(key);
  if (m) return (s, t) => paddedCmap(s, t, Number(m![1]));
  m = /^(f1|precision|recall)(?:_(macro|micro))?$/.exec(key);
  if (m) {
    const which = m[1] as 'f1' | 'precision' | 'recall';
    const average = (m[2] ?? 'macro') as 'macro' | 'micro';
    return (s, t, o) => precisionRecallF1(s, t, { ...o, average })[which];
  }
  return null;
}

/** True when `name` is a metric computeMetrics knows. */
export function isMetricName(name: string): boolean {
  return resolveMetric(name) !== null;
}

/** The usual metrics for a task: lwlrap and mAP for multi-label, accuracy and MAP@3 for single-label. */
export function defaultMetrics(multiLabel: boolean): string[] {
  return multiLabel ? ['lwlrap', 'ap_macro'] : ['accuracy', 'map3'];
}

/** Every named metric in one record, keyed by the names as given. Unknown names are all reported at once. */
export function computeMetrics(
  names: readonly string[],
  scores: Scores,
  truth: Truth,
  opts: ComputeOptions = {},
): Record<string, number> {
  const fns = names.map((n) => [n, resolveMetric(n)] as const);
  const unknown = fns.filter(([, f]) => f === null).map(([n]) => n);
  if (unknown.length > 0)
    throw new Error(
      `unknown metric${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${METRIC_NAMES.join(', ')})`,
    );
  // Check shapes once up front so a mistake reads the same whatever metric comes first.
  prepare(scores, truth);
  const out: Record<string, number> = {};
  for (const [name, fn] of fns) out[name] = fn!(scores, truth, opts);
  return out;
}
