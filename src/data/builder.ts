// What all manifest readers share: collecting problems instead of throwing, duplicate and label checks,
// class order, targets, and the file-existence pass.
import { stat } from 'node:fs/promises';
import type { Item, ManifestResult, Problem, ProblemKind, Severity } from './types.js';

export interface RowInput {
  line?: number;
  id: string;
  path: string;
  /** Labels that must be known classes (an unknown one drops the row with an error). */
  labels: string[];
  /** Labels dropped with a warning when unknown (BirdCLEF secondaries name species outside the task). */
  secondary?: string[];
  /** Target value for `secondary` labels (default 1). */
  secondaryTarget?: number;
  group?: string;
  fold?: number;
  weight?: number;
  meta: Record<string, string>;
}

export interface BuildOptions {
  multiLabel: boolean;
  /** Known classes in output order; without it the classes are the sorted union of the rows' labels. */
  classes?: readonly string[];
  /** Stat every file (default true). */
  checkFiles?: boolean;
  /** Rows may have no label (test sets, submissions). */
  unlabeled?: boolean;
}

export class ManifestBuilder {
  readonly problems: Problem[] = [];
  private readonly rows: RowInput[] = [];
  private readonly seen = new Map<string, number | undefined>();
  /** Rows already rejected: kept out of the dataset but still counted as seen. */
  private readonly rejected = new Set<RowInput>();

  constructor(
    readonly source: string,
    readonly opts: BuildOptions,
  ) {}

  report(
    severity: Severity,
    kind: ProblemKind,
    line: number | undefined,
    message: string,
    id?: string,
  ): void {
    this.problems.push({ severity, kind, source: this.source, line, id, message });
  }

  /** Reports an error the reader found in one of a row's fields; the reader then adds the row as rejected. */
  rowError(line: number | undefined, kind: ProblemKind, message: string, id?: string): void {
    this.report('error', kind, line, message, id);
  }

  /** Adds a row (`rejected` when the reader already reported an error in it); false when it is not usable. */
  add(row: RowInput, rejected = false): boolean {
    let ok = !rejected;
    if (row.id === '') {
      this.report('error', 'bad-value', row.line, 'empty file name');
      return false;
    }
    if (this.seen.has(row.id)) {
      const first = this.seen.get(row.id);
      this.report(
        'error',
        'duplicate',
        row.line,
        `${row.id} is listed again${first === undefined ? '' : ` (first on line ${first})`}`,
        row.id,
      );
      return false;
    }
    this.seen.set(row.id, row.line);
    const labels = row.labels.map((l) => l.trim());
    if (labels.some((l) => l === '') || (labels.length === 0 && !this.opts.unlabeled)) {
      this.report('error', 'empty-label', row.line, `${row.id} has an empty label`, row.id);
      ok = false;
    }
    const dedup = [...new Set(labels.filter((l) => l !== ''))];
    if (dedup.length < labels.filter((l) => l !== '').length) {
      this.report('warning', 'bad-value', row.line, `${row.id} lists a label twice`, row.id);
    }
    if (!this.opts.multiLabel && dedup.length > 1) {
      this.report(
        'error',
        'bad-value',
        row.line,
        `${row.id} has ${dedup.length} labels in a single-label set`,
        row.id,
      );
      ok = false;
    }
    const stored = { ...row, labels: dedup };
    this.rows.push(stored);
    if (!ok) this.rejected.add(stored);
    return ok;
  }

  /** Resolves classes and targets, checks files, and returns the dataset of good rows with all problems. */
  async finish(classes?: readonly string[]): Promise<ManifestResult> {
    const given = classes ?? this.opts.classes;
    let order: string[];
    if (given) {
      order = [...given];
    } else {
      const all = new Set<string>();
      for (const r of this.rows) if (!this.rejected.has(r)) for (const l of r.labels) all.add(l);
      order = [...all].sort();
    }
    const index = new Map(order.map((c, i) => [c, i]));
    const candidates: Item[] = [];
    const lines: (number | undefined)[] = [];
    for (const r of this.rows) {
      // Derived classes come from the good rows only, so a rejected row's label is not "unknown" then.
      if (this.rejected.has(r) && !given) continue;
      const unknown = r.labels.filter((l) => !index.has(l));
      if (unknown.length > 0) {
        this.report(
          'error',
          'unknown-label',
          r.line,
          `${r.id}: unknown label${unknown.length > 1 ? 's' : ''} ${unknown.map((l) => `"${l}"`).join(', ')}`,
          r.id,
        );
        continue;
      }
      if (this.rejected.has(r)) continue;
      const secondary = (r.secondary ?? []).filter((l) => !r.labels.includes(l));
      const unknownSecondary = secondary.filter((l) => !index.has(l));
      if (unknownSecondary.length > 0) {
        this.report(
          'warning',
          'unknown-label',
          r.line,
          `${r.id}: secondary label${unknownSecondary.length > 1 ? 's' : ''} ${unknownSecondary.join(', ')} not among the classes, ignored`,
          r.id,
        );
      }
      const known2 = secondary.filter((l) => index.has(l));
      const targets = new Float32Array(order.length);
      for (const l of r.labels) targets[index.get(l)!] = 1;
      for (const l of known2)
        targets[index.get(l)!] = Math.max(targets[index.get(l)!]!, r.secondaryTarget ?? 1);
      const item: Item = { path: r.path, id: r.id, labels: [...r.labels, ...known2], targets, meta: r.meta };
      if (r.group !== undefined) item.group = r.group;
      if (r.fold !== undefined) item.fold = r.fold;
      if (r.weight !== undefined) item.weight = r.weight;
      candidates.push(item);
      lines.push(r.line);
    }
    let items = candidates;
    let kept = lines;
    if (this.opts.checkFiles ?? true) {
      const missing = await missingFiles(candidates.map((it) => it.path));
      items = [];
      kept = [];
      candidates.forEach((it, i) => {
        const why = missing[i];
        if (why === undefined) {
          items.push(it);
          kept.push(lines[i]);
        } else this.report('error', 'missing-file', lines[i], `${it.id}: ${why} (${it.path})`, it.id);
      });
    }
    if (this.rows.length === 0 && !this.problems.some((p) => p.severity === 'error'))
      this.report('error', 'empty-dataset', undefined, 'no clips listed');
    this.problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    return {
      dataset: { items, classes: order, multiLabel: this.opts.multiLabel },
      problems: this.problems,
      lines: kept,
    };
  }
}

/** For each path, undefined when it is a readable file, else why not. Stats run a few at a time. */
export async function missingFiles(
  paths: readonly string[],
  concurrency = 32,
): Promise<(string | undefined)[]> {
  const out = new Array<string | undefined>(paths.length);
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const i = next++;
      try {
        const s = await stat(paths[i]!);
        out[i] = s.isFile() ? undefined : 'not a file';
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        out[i] = code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? String(err)})`;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, worker));
  return out;
}
