// CSV reading for manifests and submissions: RFC 4180 via csv-parse, plus what manifests need on top —
// the 1-based line where each record starts, and row-level problems instead of a thrown error.
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import type { Problem } from './types.js';

export interface CsvRow {
  /** 1-based line where the record starts (a quoted field may span lines). */
  line: number;
  fields: string[];
}

export interface CsvTable {
  source: string;
  header: string[];
  /** Rows with exactly `header.length` fields; the others became problems. */
  rows: CsvRow[];
  problems: Problem[];
}

export interface CsvOptions {
  delimiter?: string;
}

interface Parsed {
  record: string[];
  info: { lines: number };
}

/** Parses CSV text; `source` names the file in problems. */
export function parseCsv(text: string, source: string, opts: CsvOptions = {}): CsvTable {
  const problems: Problem[] = [];
  let records: Parsed[];
  let lastEnd = 0;
  const onSkip = (err: (Error & { lines?: number }) | undefined) => {
    if (!err) return undefined;
    problems.push({
      severity: 'error',
      kind: 'parse',
      source,
      line: err.lines,
      message: `cannot parse the CSV here: ${err.message}`,
    });
    return undefined;
  };
  try {
    records = parse(text, {
      bom: true,
      delimiter: opts.delimiter ?? ',',
      info: true,
      // Files edited on several systems mix line endings; accept both.
      record_delimiter: ['\r\n', '\n'],
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_skip: onSkip,
    }) as unknown as Parsed[];
  } catch (err) {
    // Errors csv-parse cannot skip past (bad options) — report them as one problem at the top.
    problems.push({ severity: 'error', kind: 'parse', source, line: 1, message: String(err) });
    return { source, header: [], rows: [], problems };
  }
  const rows: CsvRow[] = [];
  for (const r of records) {
    // info.lines is where the record ends; step back over newlines inside quoted fields.
    let inner = 0;
    for (const f of r.record) for (let i = f.indexOf('\n'); i >= 0; i = f.indexOf('\n', i + 1)) inner++;
    rows.push({ line: r.info.lines - inner, fields: r.record });
    lastEnd = r.info.lines;
  }
  // An unclosed quote swallows the rest of the file; say where it starts, not only where it was noticed.
  for (const p of problems) {
    if (p.kind === 'parse' && /Quote Not Closed/i.test(p.message)) {
      p.message = `a quote opened on or after line ${lastEnd + 1} is never closed; the rest of the file could not be read`;
      p.line = lastEnd + 1;
    }
  }
  const headerRow = rows.shift();
  if (!headerRow) {
    problems.push({
      severity: 'error',
      kind: 'columns',
      source,
      line: 1,
      message: 'the file has no header row',
    });
    return { source, header: [], rows: [], problems };
  }
  const header = headerRow.fields.map((h) => h.trim());
  const good: CsvRow[] = [];
  for (const row of rows) {
    if (row.fields.length !== header.length) {
      problems.push({
        severity: 'error',
        kind: 'columns',
        source,
        line: row.line,
        message: `${row.fields.length} fields, expected ${header.length} (${header.join(',')})`,
      });
    } else {
      good.push(row);
    }
  }
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { source, header, rows: good, problems };
}

export async function readCsv(path: string, opts: CsvOptions = {}): Promise<CsvTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : String(err)}`);
  }
  return parseCsv(text, path, opts);
}

/** Index of each named column; missing required ones become one problem naming them all. */
export function columnIndex(
  table: CsvTable,
  required: readonly string[],
): { index: Map<string, number>; problem?: Problem } {
  const index = new Map<string, number>();
  table.header.forEach((h, i) => {
    if (!index.has(h)) index.set(h, i);
  });
  const missing = required.filter((c) => !index.has(c));
  if (missing.length === 0) return { index };
  return {
    index,
    problem: {
      severity: 'error',
      kind: 'columns',
      source: table.source,
      line: 1,
      message: `missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (header: ${table.header.join(',')})`,
    },
  };
}
