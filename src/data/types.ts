// The shapes every manifest reader produces and the folds, validator and (later) batch loader consume.
// Plain data only (strings, numbers, typed arrays), so a Dataset can be posted to worker threads as is.

/** One clip. */
export interface Item {
  /** Absolute path of the audio file. */
  path: string;
  /** The clip's name as written in the manifest (fname / filename / path relative to the folder). */
  id: string;
  /** Class names, first one primary (BirdCLEF) — empty only for unlabelled test items. */
  labels: string[];
  /** One-hot / multi-hot over `Dataset.classes` (may hold soft values, e.g. BirdCLEF secondaries). */
  targets?: Float32Array;
  /** Clips of one group (speaker, source recording) must stay in one fold. */
  group?: string;
  /** Fold id from the manifest (ESC-50's 1..5) or from `applyFolds`. */
  fold?: number;
  /** Sample weight for losses / sampling; absent means 1. */
  weight?: number;
  /** Every other column of the manifest, plus reader facts such as `set` (curated / noisy). */
  meta: Record<string, string>;
}

export interface Dataset {
  items: Item[];
  /** Output class order: targets, score columns and submissions follow it. */
  classes: string[];
  multiLabel: boolean;
}

export type Severity = 'error' | 'warning';

export type ProblemKind =
  | 'parse' // the CSV itself cannot be read at this point
  | 'columns' // header lacks a column, or a row has the wrong number of fields
  | 'missing-file'
  | 'empty-label'
  | 'unknown-label'
  | 'duplicate'
  | 'bad-value' // a field that does not parse (fold, target, flag, list)
  | 'stray-file' // folder datasets: a file outside any class folder
  | 'empty-class'
  | 'empty-dataset' // nothing listed at all
  | 'decode'
  | 'truncated' // a WAV whose data chunk is shorter than its header says
  | 'duration';

/** One thing wrong with a manifest or a clip; readers collect all of them instead of stopping at the first. */
export interface Problem {
  severity: Severity;
  kind: ProblemKind;
  /** The manifest (or folder) the problem was found in. */
  source: string;
  /** 1-based line of the manifest, when the problem belongs to a row. */
  line?: number;
  /** The clip's id, when known. */
  id?: string;
  message: string;
}

export interface ManifestResult {
  dataset: Dataset;
  /** Every problem found, in line order; the dataset holds only the rows without errors. */
  problems: Problem[];
  /** Manifest line of each dataset item (undefined for folder datasets), for later per-file problems. */
  lines: (number | undefined)[];
}

/** `file:line: message`, the way compilers print, so editors can jump to it. */
export function formatProblem(p: Problem): string {
  const where = p.line === undefined ? p.source : `${p.source}:${p.line}`;
  return `${where}: ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}`;
}

/** Thrown by `assertNoErrors` / `loadManifest`: carries every problem, the message lists them. */
export class ManifestError extends Error {
  override name = 'ManifestError';
  constructor(
    readonly problems: Problem[],
    limit = 50,
  ) {
    const errors = problems.filter((p) => p.severity === 'error');
    const shown = errors.slice(0, limit).map(formatProblem);
    if (errors.length > limit) shown.push(`... and ${errors.length - limit} more`);
    super(`${errors.length} problem${errors.length === 1 ? '' : 's'} in the manifest:\n${shown.join('\n')}`);
  }
}

/** The dataset when no problem is an error; otherwise throws a ManifestError listing all of them. */
export function assertNoErrors(result: ManifestResult): Dataset {
  if (result.problems.some((p) => p.severity === 'error')) throw new ManifestError(result.problems);
  return result.dataset;
}
