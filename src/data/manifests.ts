// Readers for each competition's manifest format and a generic CSV. Each returns the good rows as a
// Dataset plus every problem found (with its line), so one run shows everything wrong with a file.
import { type Dirent, existsSync, statSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { ManifestBuilder, type RowInput } from './builder.js';
import { type CsvTable, columnIndex, readCsv } from './csv.js';
import { isSpeechCommandsFolder, readSpeechCommands } from './speech-commands.js';
import { assertNoErrors, type Dataset, type ManifestResult, type Problem } from './types.js';

export interface ReaderOptions {
  /** Folder the manifest's file names are relative to; guessed from the format's usual layout if absent. */
  audioDir?: string;
  /** Known classes in output order (e.g. from a sample submission); labels outside them are errors. */
  classes?: readonly string[];
  /** Check that every file exists (default true). */
  checkFiles?: boolean;
}

/** The first of `candidates` (relative to the manifest's folder) that is a directory, else that folder. */
export function guessAudioDir(manifest: string, candidates: readonly string[]): string {
  const base = dirname(resolve(manifest));
  for (const c of candidates) {
    const d = resolve(base, c);
    if (existsSync(d) && statSync(d).isDirectory()) return d;
  }
  return base;
}

function stem(path: string): string {
  return basename(path, extname(path));
}

/** The columns not consumed by the reader, kept as item metadata. */
function metaOf(table: CsvTable, fields: string[], used: ReadonlySet<string>): Record<string, string> {
  const meta: Record<string, string> = {};
  table.header.forEach((h, i) => {
    if (!used.has(h)) meta[h] = fields[i] ?? '';
  });
  return meta;
}

function startBuilder(
  table: CsvTable,
  builder: ManifestBuilder,
  required: string[],
): Map<string, number> | null {
  builder.problems.push(...table.problems);
  const { index, problem } = columnIndex(table, required);
  if (problem) {
    builder.problems.push(problem);
    return null;
  }
  return index;
}

function parseIntField(value: string): number | null {
  const t = value.trim();
  return /^[+-]?\d+$/.test(t) ? Number(t) : null;
}

/** Freesound 2018: `fname,label,manually_verified` (the test manifest may lack the flag). */
export async function readFsd2018(path: string, opts: ReaderOptions = {}): Promise<ManifestResult> {
  const table = await readCsv(path);
  const builder = new ManifestBuilder(path, {
    multiLabel: false,
    classes: opts.classes,
    checkFiles: opts.checkFiles,
  });
  const audioDir = opts.audioDir
    ? resolve(opts.audioDir)
    : guessAudioDir(path, [/test/i.test(stem(path)) ? 'audio_test' : 'audio_train', 'audio']);
  const col = startBuilder(table, builder, ['fname', 'label']);
  if (col) {
    const used = new Set(['fname', 'label']);
    const fi = col.get('fname')!;
    const li = col.get('label')!;
    const vi = col.get('manually_verified');
    for (const row of table.rows) {
      const f = row.fields;
      const id = f[fi]!.trim();
      let bad = false;
      if (vi !== undefined && !/^[01]$/.test(f[vi]!.trim())) {
        builder.rowError(
          row.line,
          'bad-value',
          `${id}: manually_verified is "${f[vi]}", expected 0 or 1`,
          id,
        );
        bad = true;
      }
      builder.add(
        { line: row.line, id, path: join(audioDir, id), labels: [f[li]!], meta: metaOf(table, f, used) },
        bad,
      );
    }
  }
  return builder.finish();
}

/** Freesound 2019: `fname,labels`, labels comma-separated in one quoted field. `set` defaults to the
 * manifest's name without `train_` (train_curated.csv → curated) and is stored in `meta.set`. */
export async function readFsd2019(
  path: string,
  opts: ReaderOptions & { set?: string } = {},
): Promise<ManifestResult> {
  const table = await readCsv(path);
  const builder = new ManifestBuilder(path, {
    multiLabel: true,
    classes: opts.classes,
    checkFiles: opts.checkFiles,
  });
  const audioDir = opts.audioDir ? resolve(opts.audioDir) : guessAudioDir(path, [stem(path), 'audio']);
  const set = opts.set ?? stem(path).replace(/^train_/, '');
  const col = startBuilder(table, builder, ['fname', 'labels']);
  if (col) {
    const used = new Set(['fname', 'labels']);
    const fi = col.get('fname')!;
    const li = col.get('labels')!;
    for (const row of table.rows) {
      const f = row.fields;
      const id = f[fi]!.trim();
      builder.add({
        line: row.line,
        id,
        path: join(audioDir, id),
        labels: f[li]!.split(','),
        meta: { ...metaOf(table, f, used), set },
      });
    }
  }
  return builder.finish();
}

/** Parses a Python list literal of strings, "['a', 'b']" or "[]"; null when it is not one. */
export function parsePythonList(text: string): string[] | null {
  const t = text.trim();
  if (t === '') return [];
  if (!t.startsWith('[') || !t.endsWith(']')) return null;
  const inner = t.slice(1, -1);
  const out: string[] = [];
  const re = /\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*(,|$)/y;
  let pos = 0;
  if (inner.trim() === '') return [];
  while (pos < inner.length) {
    re.lastIndex = pos;
    const m = re.exec(inner);
    if (!m) return null;
    out.push((m[1] ?? m[2] ?? '').replace(/\\(.)/g, '$1'));
    pos = re.lastIndex;
    // A trailing comma ("['a',]") is valid Python.
    if (m[3] === ',' && inner.slice(pos).trim() === '') break;
  }
  return out;
}

/** BirdCLEF: `primary_label,secondary_labels,filename` (+ metadata). `filename` is either
 * `species/XC1.ogg` (2022 on) or `XC1.ogg` under a folder named after the primary label (2021).
 * Classes default to the primary labels; unknown secondary labels are dropped with a warning. */
export async function readBirdclef(
  path: string,
  opts: ReaderOptions & { secondaryTarget?: number } = {},
): Promise<ManifestResult> {
  const table = await readCsv(path);
  const builder = new ManifestBuilder(path, {
    multiLabel: true,
    classes: opts.classes,
    checkFiles: opts.checkFiles,
  });
  const audioDir = opts.audioDir
    ? resolve(opts.audioDir)
    : guessAudioDir(path, ['train_audio', 'train_short_audio', 'audio']);
  const col = startBuilder(table, builder, ['primary_label', 'secondary_labels', 'filename']);
  if (col) {
    const used = new Set(['filename', 'secondary_labels']);
    const pi = col.get('primary_label')!;
    const si = col.get('secondary_labels')!;
    const fi = col.get('filename')!;
    for (const row of table.rows) {
      const f = row.fields;
      const id = f[fi]!.trim();
      const primary = f[pi]!.trim();
      const secondary = parsePythonList(f[si]!);
      if (secondary === null) {
        builder.rowError(
          row.line,
          'bad-value',
          `${id}: secondary_labels "${f[si]}" is not a list like ['a', 'b']`,
          id,
        );
      }
      const rel = id.includes('/') ? id : join(primary, id);
      builder.add(
        {
          line: row.line,
          id,
          path: join(audioDir, rel),
          labels: [primary],
          secondary: secondary ?? [],
          secondaryTarget: opts.secondaryTarget,
          meta: metaOf(table, f, used),
        },
        secondary === null,
      );
    }
  }
  return builder.finish();
}

/** ESC-50 (`filename,fold,target,category`, and ESC-10's extra src_file,take). Classes are ordered by
 * `target`; `group` is the source recording (src_file, else the second part of the file name) and
 * `fold` the official fold. */
export async function readEsc50(path: string, opts: ReaderOptions = {}): Promise<ManifestResult> {
  const table = await readCsv(path);
  const builder = new ManifestBuilder(path, {
    multiLabel: false,
    classes: opts.classes,
    checkFiles: opts.checkFiles,
  });
  const audioDir = opts.audioDir ? resolve(opts.audioDir) : guessAudioDir(path, ['audio', '../audio']);
  const col = startBuilder(table, builder, ['filename', 'fold', 'target', 'category']);
  const targetOf = new Map<string, { target: number; line: number }>();
  const categoryOf = new Map<number, { category: string; line: number }>();
  if (col) {
    const used = new Set(['filename', 'fold', 'category']);
    const [fi, foi, ti, ci] = ['filename', 'fold', 'target', 'category'].map((c) => col.get(c)!) as [
      number,
      number,
      number,
      number,
    ];
    const srcI = col.get('src_file');
    for (const row of table.rows) {
      const f = row.fields;
      const id = f[fi]!.trim();
      const category = f[ci]!.trim();
      let bad = false;
      const fold = parseIntField(f[foi]!);
      if (fold === null || fold < 1) {
        builder.rowError(row.line, 'bad-value', `${id}: fold "${f[foi]}" is not a positive integer`, id);
        bad = true;
      }
      const target = parseIntField(f[ti]!);
      if (target === null || target < 0) {
        builder.rowError(row.line, 'bad-value', `${id}: target "${f[ti]}" is not a non-negative integer`, id);
        bad = true;
      } else if (category !== '') {
        // target and category name the same class twice; they must agree across the file.
        const t = targetOf.get(category);
        const c = categoryOf.get(target);
        if (t && t.target !== target) {
          builder.rowError(
            row.line,
            'bad-value',
            `${id}: category ${category} has target ${target} here but ${t.target} on line ${t.line}`,
            id,
          );
          bad = true;
        } else if (c && c.category !== category) {
          builder.rowError(
            row.line,
            'bad-value',
            `${id}: target ${target} is ${category} here but ${c.category} on line ${c.line}`,
            id,
          );
          bad = true;
        } else if (!t) {
          targetOf.set(category, { target, line: row.line });
          categoryOf.set(target, { category, line: row.line });
        }
      }
      const src = srcI !== undefined ? f[srcI]!.trim() : (id.split('-')[1] ?? '');
      const item: RowInput = {
        line: row.line,
        id,
        path: join(audioDir, id),
        labels: [category],
        meta: metaOf(table, f, used),
      };
      if (fold !== null) item.fold = fold;
      if (src !== '') item.group = src;
      builder.add(item, bad);
    }
  }
  const byTarget = [...targetOf.entries()].sort((a, b) => a[1].target - b[1].target).map(([c]) => c);
  return builder.finish(opts.classes ?? byTarget);
}

export interface CsvManifestConfig extends ReaderOptions {
  /** Column holding the file name (relative to audioDir) or path. */
  pathCol: string;
  /** Column(s) holding labels; several columns are united (e.g. primary and secondary). */
  labelCol?: string | string[];
  /** Splits a label field into several labels (multi-label), e.g. "," or " ". */
  labelSep?: string;
  groupCol?: string;
  foldCol?: string;
  weightCol?: string;
  /** Field separator of the file (default ","). */
  delimiter?: string;
  /** Force multi-label even when every row has one label (default: true when labelSep or several label columns). */
  multiLabel?: boolean;
  /** Rows without labels are allowed (test sets). */
  unlabeled?: boolean;
}

/** Any CSV whose columns are named in `config`; FSDD's meta.csv is
 * `{ pathCol: 'fname', labelCol: 'label', groupCol: 'speaker' }`. */
export async function readCsvManifest(path: string, config: CsvManifestConfig): Promise<ManifestResult> {
  const table = await readCsv(path, { delimiter: config.delimiter });
  const labelCols =
    config.labelCol === undefined ? [] : Array.isArray(config.labelCol) ? config.labelCol : [config.labelCol];
  const multiLabel = config.multiLabel ?? (config.labelSep !== undefined || labelCols.length > 1);
  const builder = new ManifestBuilder(path, {
    multiLabel,
    classes: config.classes,
    checkFiles: config.checkFiles,
    unlabeled: config.unlabeled || labelCols.length === 0,
  });
  const audioDir = config.audioDir ? resolve(config.audioDir) : guessAudioDir(path, ['audio']);
  const named = [config.pathCol, ...labelCols, config.groupCol, config.foldCol, config.weightCol].filter(
    (c): c is string => c !== undefined,
  );
  const col = startBuilder(table, builder, named);
  if (col) {
    const used = new Set([config.pathCol, ...labelCols]);
    for (const row of table.rows) {
      const f = row.fields;
      const get = (c: string | undefined) => (c === undefined ? undefined : f[col.get(c)!]!.trim());
      const id = get(config.pathCol)!;
      let bad = false;
      const labels: string[] = [];
      for (const c of labelCols) {
        const v = get(c)!;
        if (v === '' && (config.unlabeled || labelCols.length > 1)) continue;
        labels.push(...(config.labelSep ? v.split(config.labelSep) : [v]));
      }
      const item: RowInput = {
        line: row.line,
        id,
        path: resolve(audioDir, id),
        labels,
        meta: metaOf(table, f, used),
      };
      const group = get(config.groupCol);
      if (group !== undefined && group !== '') item.group = group;
      const foldText = get(config.foldCol);
      if (foldText !== undefined) {
        const fold = parseIntField(foldText);
        if (fold === null) {
          builder.rowError(
            row.line,
            'bad-value',
            `${id}: ${config.foldCol} "${foldText}" is not an integer`,
            id,
          );
          bad = true;
        } else item.fold = fold;
      }
      const weightText = get(config.weightCol);
      if (weightText !== undefined) {
        const w = Number(weightText);
        if (weightText === '' || !Number.isFinite(w) || w < 0) {
          builder.rowError(
            row.line,
            'bad-value',
            `${id}: ${config.weightCol} "${weightText}" is not a number >= 0`,
            id,
          );
          bad = true;
        } else item.weight = w;
      }
      builder.add(item, bad);
    }
  }
  return builder.finish();
}

async function isDir(path: string, e: Dirent): Promise<boolean> {
  if (e.isDirectory()) return true;
  // Datasets are often assembled from symbolic links; follow them.
  return e.isSymbolicLink() && (await stat(path).catch(() => null))?.isDirectory() === true;
}

/** Files under `dir` (links followed), hidden names skipped. */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (await isDir(p, e)) out.push(...(await listFiles(p)));
    else if (e.isFile() || (e.isSymbolicLink() && (await stat(p).catch(() => null))?.isFile())) out.push(p);
  }
  return out;
}

export const AUDIO_EXTENSIONS = [
  '.wav',
  '.flac',
  '.mp3',
  '.ogg',
  '.opus',
  '.m4a',
  '.aac',
  '.aif',
  '.aiff',
  '.webm',
];

/** A folder with one sub-folder per class (nested folders below a class belong to it). */
export async function readFolder(
  root: string,
  opts: ReaderOptions & { extensions?: readonly string[] } = {},
): Promise<ManifestResult> {
  const top = resolve(root);
  const exts = new Set((opts.extensions ?? AUDIO_EXTENSIONS).map((e) => e.toLowerCase()));
  const builder = new ManifestBuilder(top, { multiLabel: false, classes: opts.classes, checkFiles: false });
  let entries: Dirent[];
  try {
    entries = await readdir(top, { withFileTypes: true });
  } catch (err) {
    throw new Error(`cannot read the folder ${top}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    if (!(await isDir(join(top, e.name), e))) {
      builder.report(
        'warning',
        'stray-file',
        undefined,
        `${e.name} is not inside a class folder, ignored`,
        e.name,
      );
      continue;
    }
    const files = (await listFiles(join(top, e.name))).sort();
    let count = 0;
    for (const file of files) {
      const id = relative(top, file).split(sep).join('/');
      if (!exts.has(extname(file).toLowerCase())) {
        builder.report(
          'warning',
          'stray-file',
          undefined,
          `${id} is not an audio file (by extension), ignored`,
          id,
        );
        continue;
      }
      count++;
      builder.add({ id, path: file, labels: [e.name], meta: {} });
    }
    if (count === 0)
      builder.report('warning', 'empty-class', undefined, `class folder ${e.name}/ holds no audio files`);
  }
  return builder.finish();
}

export interface SubmissionTemplate extends ManifestResult {
  /** `wide`: id column then one score column per class; `labels`: `fname,label` (2018 top-3 lists). */
  format: 'wide' | 'labels';
  /** Name of the id column (fname, row_id...). */
  idColumn: string;
}

/** A sample_submission.csv: its rows are the test set (unlabelled items) and, in the wide format, its
 * columns are the output class order. Files are not checked by default (BirdCLEF row ids are not files). */
export async function readSampleSubmission(
  path: string,
  opts: ReaderOptions = {},
): Promise<SubmissionTemplate> {
  const table = await readCsv(path);
  const idColumn = table.header[0] ?? 'fname';
  const wide = !(table.header.length === 2 && table.header[1] === 'label');
  const classes = wide ? table.header.slice(1) : opts.classes;
  const builder = new ManifestBuilder(path, {
    multiLabel: true,
    classes,
    checkFiles: opts.checkFiles ?? false,
    unlabeled: true,
  });
  builder.problems.push(...table.problems);
  if (wide) {
    const seen = new Map<string, number>();
    table.header.slice(1).forEach((c, i) => {
      if (c === '') builder.report('error', 'columns', 1, `column ${i + 2} has no class name`);
      else if (seen.has(c)) builder.report('error', 'duplicate', 1, `class column ${c} appears twice`);
      seen.set(c, i);
    });
  }
  const audioDir = opts.audioDir
    ? resolve(opts.audioDir)
    : guessAudioDir(path, ['test', 'audio_test', 'audio']);
  for (const row of table.rows) {
    const id = row.fields[0]!.trim();
    builder.add({ line: row.line, id, path: join(audioDir, id), labels: [], meta: {} });
  }
  const result = await builder.finish(classes ?? []);
  return { ...result, format: wide ? 'wide' : 'labels', idColumn };
}

/** Class names from a file: a CSV's header after the id column (sample_submission.csv), else one per line. */
export async function readClassList(path: string): Promise<string[]> {
  if (extname(path).toLowerCase() === '.csv') {
    const table = await readCsv(path);
    if (table.header.length < 2) throw new Error(`${path}: expected an id column followed by class columns`);
    return table.header.slice(1);
  }
  const text = await readFile(path, 'utf8');
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

export type ManifestFormat =
  | 'fsd2018'
  | 'fsd2019'
  | 'birdclef'
  | 'esc50'
  | 'speech-commands'
  | 'folder'
  | 'csv';
export const MANIFEST_FORMATS: readonly ManifestFormat[] = [
  'fsd2018',
  'fsd2019',
  'birdclef',
  'esc50',
  'speech-commands',
  'folder',
  'csv',
];

/** Guesses the format from a folder or the CSV header; null when only a `csv` config can read it. */
export async function detectFormat(path: string): Promise<ManifestFormat | null> {
  if (existsSync(path) && statSync(path).isDirectory())
    return isSpeechCommandsFolder(path) ? 'speech-commands' : 'folder';
  const header = new Set((await readCsv(path)).header);
  const has = (...cols: string[]) => cols.every((c) => header.has(c));
  if (has('filename', 'fold', 'target', 'category')) return 'esc50';
  if (has('primary_label', 'secondary_labels', 'filename')) return 'birdclef';
  if (has('fname', 'labels')) return 'fsd2019';
  if (has('fname', 'label', 'manually_verified')) return 'fsd2018';
  return null;
}

export interface ManifestSpec extends ReaderOptions {
  /** Manifest file, or the folder for `folder`. */
  path: string;
  /** Detected from the header when absent. */
  format?: ManifestFormat;
  /** Column names for `csv`. */
  csv?: Omit<CsvManifestConfig, keyof ReaderOptions>;
  /** fsd2019: name of the set (curated / noisy). */
  set?: string;
  /** birdclef: target value of secondary labels. */
  secondaryTarget?: number;
}

/** Reads any supported manifest; problems are returned, not thrown. */
export async function readManifest(spec: ManifestSpec): Promise<ManifestResult & { format: ManifestFormat }> {
  const format = spec.format ?? (await detectFormat(spec.path));
  if (format === null) {
    throw new Error(
      `cannot tell the format of ${spec.path} from its header; give the format, or the column names for a csv`,
    );
  }
  const common: ReaderOptions = {
    audioDir: spec.audioDir,
    classes: spec.classes,
    checkFiles: spec.checkFiles,
  };
  let result: ManifestResult;
  switch (format) {
    case 'fsd2018':
      result = await readFsd2018(spec.path, common);
      break;
    case 'fsd2019':
      result = await readFsd2019(spec.path, { ...common, set: spec.set });
      break;
    case 'birdclef':
      result = await readBirdclef(spec.path, { ...common, secondaryTarget: spec.secondaryTarget });
      break;
    case 'esc50':
      result = await readEsc50(spec.path, common);
      break;
    case 'folder':
      result = await readFolder(spec.path, common);
      break;
    case 'speech-commands':
      result = await readSpeechCommands(spec.path, { classes: spec.classes });
      break;
    case 'csv':
      if (!spec.csv?.pathCol)
        throw new Error(`a csv manifest needs at least the path column (pathCol) for ${spec.path}`);
      result = await readCsvManifest(spec.path, { ...spec.csv, ...common });
      break;
  }
  return { ...result, format };
}

/** readManifest, throwing a ManifestError that lists every error; warnings are returned. */
export async function loadManifest(spec: ManifestSpec): Promise<{ dataset: Dataset; warnings: Problem[] }> {
  const result = await readManifest(spec);
  return {
    dataset: assertNoErrors(result),
    warnings: result.problems.filter((p) => p.severity === 'warning'),
  };
}
