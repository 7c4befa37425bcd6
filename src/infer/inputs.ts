// What `audiotag predict` tags: audio files, folders (recursive, every supported extension), manifests
// (any format src/data reads, or a CSV with a file column) and Kaggle sample submissions (whose rows and
// columns the kaggle output then follows).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import {
  AUDIO_EXTENSIONS,
  type ManifestFormat,
  readCsv,
  readManifest,
  readSampleSubmission,
} from '../data/index.js';
import type { KaggleTemplate } from './formats.js';
import type { TagInput } from './pipeline.js';

export interface ResolvedInputs {
  items: TagInput[];
  template: KaggleTemplate | null;
}

export interface InputOptions {
  /** Folder of a manifest's or sample submission's files (default: guessed). */
  audioDir?: string;
  /** Manifest format (default: detected from the header). */
  manifestFormat?: ManifestFormat;
  /** The model's classes: a CSV whose other columns are all classes is a sample submission. */
  classes: readonly string[];
}

const isAudio = (p: string) => AUDIO_EXTENSIONS.includes(extname(p).toLowerCase());

/** Audio files under a folder, sorted, hidden entries skipped. */
export function listAudio(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((rel) => !rel.split(sep).some((part) => part.startsWith('.')))
    .map((rel) => join(dir, rel))
    .filter((p) => isAudio(p) && statSync(p).isFile())
    .sort();
}

/** A sample submission's id as a file: as is, or with an audio extension added. */
function findFile(path: string): string {
  if (existsSync(path)) return path;
  for (const e of AUDIO_EXTENSIONS) if (existsSync(path + e)) return path + e;
  return path;
}

async function isSampleSubmission(path: string, classes: readonly string[]): Promise<boolean> {
  if (/sample_submission/i.test(basename(path))) return true;
  const h = (await readCsv(path)).header;
  return h.length > 2 && h.slice(1).every((c) => classes.includes(c));
}

const FILE_COLUMNS = ['fname', 'filename', 'file', 'path', 'audio', 'row_id'];

async function fromCsv(path: string, o: InputOptions): Promise<ResolvedInputs> {
  if (await isSampleSubmission(path, o.classes)) {
    const t = await readSampleSubmission(path, { audioDir: o.audioDir, checkFiles: false });
    if (t.format === 'wide') {
      const unknown = t.dataset.classes.filter((c) => !o.classes.includes(c));
      if (unknown.length > 0)
        throw new Error(
          `${path}: the sample submission has columns the model does not predict: ${unknown.slice(0, 10).join(', ')} (model classes: ${o.classes.join(', ')})`,
        );
    }
    const items = t.dataset.items.map((it) => ({ id: it.id, path: findFile(it.path) }));
    return {
      items,
      template: {
        idColumn: t.idColumn,
        ids: items.map((i) => i.id),
        columns: t.format === 'wide' ? t.dataset.classes : null,
      },
    };
  }
  let format = o.manifestFormat;
  try {
    const r = await readManifest({ path, format, audioDir: o.audioDir, checkFiles: false });
    return { items: r.dataset.items.map((it) => ({ id: it.id, path: it.path })), template: null };
  } catch (e) {
    if (format) throw e;
    format = undefined;
  }
  // Any CSV with a file column.
  const table = await readCsv(path);
  const col = FILE_COLUMNS.map((c) => table.header.indexOf(c)).find((i) => i >= 0) ?? 0;
  const dir = o.audioDir ? resolve(o.audioDir) : dirname(resolve(path));
  return {
    items: table.rows.map((r) => {
      const id = r.fields[col]!.trim();
      return { id, path: findFile(resolve(dir, id)) };
    }),
    template: null,
  };
}

/** Expands the INPUT arguments; ids are unique (a repeated one is an error naming both paths). */
export async function resolveInputs(args: readonly string[], o: InputOptions): Promise<ResolvedInputs> {
  const items: TagInput[] = [];
  let template: KaggleTemplate | null = null;
  for (const a of args) {
    const p = resolve(a);
    if (existsSync(p) && statSync(p).isDirectory()) {
      const files = listAudio(p);
      if (files.length === 0)
        throw new Error(`${a}: the folder holds no audio files (${AUDIO_EXTENSIONS.join(', ')})`);
      const prefix = args.length > 1 ? `${basename(p)}/` : '';
      for (const f of files) items.push({ id: prefix + relative(p, f).split(sep).join('/'), path: f });
    } else if (['.csv', '.tsv'].includes(extname(p).toLowerCase()) && existsSync(p)) {
      const r = await fromCsv(p, o);
      if (r.template) {
        if (template) throw new Error(`${a}: only one sample submission can be given`);
        template = r.template;
      }
      items.push(...r.items);
    } else {
      // A file (a missing or unreadable one is reported and skipped like any bad file).
      items.push({ id: args.length > 1 || !existsSync(p) ? a : basename(p), path: p });
    }
  }
  const seen = new Map<string, string>();
  for (const it of items) {
    const prev = seen.get(it.id);
    if (prev !== undefined)
      throw new Error(
        `two inputs have the id "${it.id}": ${prev} and ${it.path}; give them from separate folders`,
      );
    seen.set(it.id, it.path!);
  }
  if (items.length === 0) throw new Error('no input to tag');
  return { items, template };
}
