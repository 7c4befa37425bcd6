// The output formats of `audiotag predict`. Each writer gets the files' results in input order and writes
// under a temporary name, renamed into place when it closes, so a killed job never leaves a half table.
import { closeSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { OptionError } from '../core/errors.js';
import { encodeNpy } from '../features/npy.js';
import { topK } from './ensemble.js';
import type { TagResult } from './tagger.js';

export const OUTPUT_FORMATS = [
  'kaggle',
  'top3',
  'windows',
  'events',
  'raven',
  'audacity',
  'jsonl',
  'embeddings',
  'report',
] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Where each format writes, relative to --out. */
export const OUTPUT_FILES: Record<OutputFormat, string> = {
  kaggle: 'submission.csv',
  top3: 'top3.csv',
  windows: 'windows.csv',
  events: 'events.csv',
  raven: 'raven/<file>.selections.txt (or raven.selections.txt with --raven-table combined)',
  audacity: 'audacity/<file>.txt',
  jsonl: 'windows.jsonl',
  embeddings: 'embeddings.npy + embeddings.csv',
  report: 'report/<file>.html',
};

/** A Kaggle sample submission: its id column and rows, and its columns (wide) or a label column (top-3). */
export interface KaggleTemplate {
  idColumn: string;
  ids: string[];
  /** Class columns in order (wide format), or null for `fname,label` (top-3 lists). */
  columns: string[] | null;
}

export interface OutputContext {
  out: string;
  classes: string[];
  template: KaggleTemplate | null;
  /** Low/High Freq (Hz) of Raven selections. */
  band: [number, number];
  raven: 'per-file' | 'combined';
}

export interface FileOutput {
  result: TagResult;
  /** Absolute path of the recording (Raven's Begin Path); '' for samples. */
  path: string;
}

export interface FormatWriter {
  add(f: FileOutput): void;
  /** Writes what needs every file (Kaggle rows in template order) and renames into place. */
  close(): void | Promise<void>;
}

/** A text file written under a temporary name and renamed on close. */
class AtomicText {
  private readonly tmp: string;
  private readonly fd: number;
  private buf: string[] = [];
  private size = 0;
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.tmp = `${path}.tmp-${process.pid}`;
    this.fd = openSync(this.tmp, 'w');
  }
  write(s: string | Uint8Array): void {
    if (typeof s !== 'string') {
      this.flush();
      writeSync(this.fd, s);
      return;
    }
    this.buf.push(s);
    this.size += s.length;
    if (this.size > 1 << 16) this.flush();
  }
  private flush(): void {
    if (this.buf.length > 0) writeSync(this.fd, this.buf.join(''));
    this.buf = [];
    this.size = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
  }
}

const csvField = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
/** Seconds with at most 4 decimals. */
export const sec = (x: number) => String(Math.round(x * 1e4) / 1e4);
const score = (x: number) => String(Number(x.toPrecision(6)));
/** A file name for per-file tables: the id without its extension (sub-folders kept). */
const stem = (id: string) => id.slice(0, id.length - extname(id).length).replace(/^(\.\.\/)+|^\/+/g, '');

function kaggleWriter(ctx: OutputContext): FormatWriter {
  const clips = new Map<string, Float32Array>();
  const order: string[] = [];
  return {
    add({ result }) {
      clips.set(result.id, result.clip);
      order.push(result.id);
    },
    close() {
      const t = ctx.template;
      const f = new AtomicText(join(ctx.out, OUTPUT_FILES.kaggle));
      if (t?.columns === null) {
        // A top-3 template (fname,label).
        f.write(`${csvField(t.idColumn)},label\n`);
        for (const id of t.ids) {
          const s = clips.get(id);
          f.write(
            `${csvField(id)},${
              s
                ? topK(s, 3)
                    .map((j) => ctx.classes[j])
                    .join(' ')
                : ''
            }\n`,
          );
        }
      } else {
        const cols = t?.columns ?? ctx.classes;
        const at = cols.map((c) => ctx.classes.indexOf(c));
        f.write(`${[t?.idColumn ?? 'fname', ...cols].map(csvField).join(',')}\n`);
        for (const id of t?.ids ?? order) {
          const s = clips.get(id);
          f.write(`${[csvField(id), ...at.map((j) => (s ? score(s[j]!) : '0'))].join(',')}\n`);
        }
      }
      f.close();
    },
  };
}

function top3Writer(ctx: OutputContext): FormatWriter {
  const f = new AtomicText(join(ctx.out, OUTPUT_FILES.top3));
  f.write(`${csvField(ctx.template?.idColumn ?? 'fname')},label\n`);
  return {
    add({ result }) {
      f.write(
        `${csvField(result.id)},${topK(result.clip, 3)
          .map((j) => ctx.classes[j])
          .join(' ')}\n`,
      );
    },
    close: () => f.close(),
  };
}

function windowsWriter(ctx: OutputContext): FormatWriter {
  const f = new AtomicText(join(ctx.out, OUTPUT_FILES.windows));
  f.write(`${['file', 'start', 'end', ...ctx.classes].map(csvField).join(',')}\n`);
  return {
    add({ result }) {
      const id = csvField(result.id);
      for (const w of result.windows)
        f.write(`${id},${sec(w.start)},${sec(w.end)},${Array.from(w.scores, score).join(',')}\n`);
    },
    close: () => f.close(),
  };
}

function eventsWriter(ctx: OutputContext): FormatWriter {
  const f = new AtomicText(join(ctx.out, OUTPUT_FILES.events));
  f.write('file,start,end,label,confidence\n');
  return {
    add({ result }) {
      for (const e of result.events)
        f.write(
          `${csvField(result.id)},${sec(e.start)},${sec(e.end)},${csvField(e.label)},${score(e.confidence)}\n`,
        );
    },
    close: () => f.close(),
  };
}

/** The columns of BirdNET-Analyzer's Raven selection tables (the label column named `label`). */
export const RAVEN_COLUMNS = [
  'Selection',
  'View',
  'Channel',
  'Begin Time (s)',
  'End Time (s)',
  'Low Freq (Hz)',
  'High Freq (Hz)',
  'label',
  'Confidence',
  'Begin Path',
  'File Offset (s)',
];

function ravenWriter(ctx: OutputContext): FormatWriter {
  const head = `${RAVEN_COLUMNS.join('\t')}\n`;
  const row = (
    sel: number,
    begin: number,
    end: number,
    label: string,
    conf: number,
    path: string,
    off: number,
  ) =>
    `${[sel, 'Spectrogram 1', 1, sec(begin), sec(end), sec(ctx.band[0]), sec(ctx.band[1]), label, score(conf), path, sec(off)].join('\t')}\n`;
  if (ctx.raven === 'combined') {
    const f = new AtomicText(join(ctx.out, 'raven.selections.txt'));
    f.write(head);
    let sel = 0;
    let offset = 0;
    return {
      add({ result, path }) {
        for (const e of result.events)
          f.write(row(++sel, offset + e.start, offset + e.end, e.label, e.confidence, path, e.start));
        offset += result.duration;
      },
      close: () => f.close(),
    };
  }
  return {
    add({ result, path }) {
      const f = new AtomicText(join(ctx.out, 'raven', `${stem(result.id)}.selections.txt`));
      f.write(head);
      result.events.forEach((e, i) => {
        f.write(row(i + 1, e.start, e.end, e.label, e.confidence, path, e.start));
      });
      f.close();
    },
    close() {},
  };
}

function audacityWriter(ctx: OutputContext): FormatWriter {
  return {
    add({ result }) {
      const f = new AtomicText(join(ctx.out, 'audacity', `${stem(result.id)}.txt`));
      for (const e of result.events) f.write(`${sec(e.start)}\t${sec(e.end)}\t${e.label}\n`);
      f.close();
    },
    close() {},
  };
}

function jsonlWriter(ctx: OutputContext): FormatWriter {
  const f = new AtomicText(join(ctx.out, OUTPUT_FILES.jsonl));
  return {
    add({ result }) {
      for (const w of result.windows) {
        const scores: Record<string, number> = {};
        ctx.classes.forEach((c, j) => {
          scores[c] = w.scores[j]!;
        });
        f.write(`${JSON.stringify({ file: result.id, start: w.start, end: w.end, scores })}\n`);
      }
    },
    close: () => f.close(),
  };
}

/** embeddings.npy [rows, dim] (one row per window) and embeddings.csv (row, file, start, end). */
function embeddingsWriter(ctx: OutputContext, rows: number, dim: number): FormatWriter {
  const npy = new AtomicText(join(ctx.out, 'embeddings.npy'));
  npy.write(encodeNpy({ data: new Float32Array(0), shape: [rows, dim] }));
  const idx = new AtomicText(join(ctx.out, 'embeddings.csv'));
  idx.write('row,file,start,end\n');
  let row = 0;
  return {
    add({ result }) {
      const e = result.embeddings;
      if (!e) return;
      if (e.dim !== dim) throw new Error(`embeddings: ${result.id} has width ${e.dim}, the others ${dim}`);
      npy.write(new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength));
      result.windows.forEach((w) => {
        idx.write(`${row++},${csvField(result.id)},${sec(w.start)},${sec(w.end)}\n`);
      });
    },
    close() {
      if (row !== rows) throw new Error(`embeddings: expected ${rows} rows, wrote ${row}`);
      npy.close();
      idx.close();
    },
  };
}

/** report/<file>.html per recording: spectrogram, detection timeline, click to play (src/report/prediction.ts). */
function reportWriter(ctx: OutputContext): FormatWriter {
  const files: FileOutput[] = [];
  return {
    add(f) {
      files.push(f);
    },
    async close() {
      // Imported here: only this format draws (vega, resvg).
      const { writePredictionReport } = await import('../report/prediction.js');
      for (const { result, path } of files)
        await writePredictionReport(join(ctx.out, 'report', `${stem(result.id)}.html`), result, path);
    },
  };
}

/** The writers of the formats asked for; `embeddingRows`/`embeddingDim` size the .npy header. */
export function openWriters(
  formats: readonly OutputFormat[],
  ctx: OutputContext,
  embeddingRows = 0,
  embeddingDim = 0,
): FormatWriter[] {
  return formats.map((f) => {
    switch (f) {
      case 'kaggle':
        return kaggleWriter(ctx);
      case 'top3':
        return top3Writer(ctx);
      case 'windows':
        return windowsWriter(ctx);
      case 'events':
        return eventsWriter(ctx);
      case 'raven':
        return ravenWriter(ctx);
      case 'audacity':
        return audacityWriter(ctx);
      case 'jsonl':
        return jsonlWriter(ctx);
      case 'embeddings':
        return embeddingsWriter(ctx, embeddingRows, embeddingDim);
      case 'report':
        return reportWriter(ctx);
      default:
        throw new OptionError(
          'formats',
          `unknown format "${String(f)}" (expected one of ${OUTPUT_FORMATS.join(', ')})`,
        );
    }
  });
}
