// One self-contained HTML page: inline SVG charts, inline tables, no scripts or styles from the network.
// Each chart is also written next to it as charts/<name>.svg and charts/<name>.png.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';
import type { Chart } from './charts.js';
import { svgToPng } from './raster.js';

export type Block =
  | { kind: 'chart'; chart: Chart }
  | { kind: 'table'; title?: string; head: string[]; rows: (string | number)[][] }
  | { kind: 'text'; text: string }
  | { kind: 'html'; html: string };

export interface Section {
  title: string;
  blocks: Block[];
}

export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** A number for a table cell: 4 significant decimals, integers as they are, NaN as "–". */
export function fmt(v: number | string): string {
  if (typeof v === 'string') return escapeHtml(v);
  if (Number.isNaN(v)) return '–';
  return Number.isInteger(v) ? String(v) : v.toFixed(4);
}

const STYLE = `body{font-family:"DejaVu Sans",Arial,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:32px}
.chart{display:inline-block;vertical-align:top;margin:8px 16px 16px 0}.chart h3{font-size:14px;margin:4px 0}
.chart .dl{font-size:11px}table{border-collapse:collapse;font-size:12px;margin:8px 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.meta{color:#666;font-size:12px}.example{display:inline-block;vertical-align:top;margin:8px 16px 16px 0}`;

/** Page options: where the chart files go (a folder relative to the page, default `charts`) and an
 * inline script (the prediction report's click-to-play; the other reports have none). */
export interface PageOptions {
  chartsDir?: string;
  script?: string;
}

function blockHtml(b: Block, charts: string): string {
  switch (b.kind) {
    case 'chart': {
      const at = escapeHtml(encodeURI(`${charts}/${b.chart.name}`));
      return `<div class="chart" id="chart-${escapeHtml(b.chart.name)}"><h3>${escapeHtml(b.chart.title)}</h3>${b.chart.svg}<div class="dl"><a href="${at}.svg">SVG</a> · <a href="${at}.png">PNG</a></div></div>`;
    }
    case 'table': {
      const head = `<tr>${b.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
      const rows = b.rows.map((r) => `<tr>${r.map((c) => `<td>${fmt(c)}</td>`).join('')}</tr>`).join('');
      return `${b.title ? `<h3>${escapeHtml(b.title)}</h3>` : ''}<table>${head}${rows}</table>`;
    }
    case 'text':
      return `<p>${escapeHtml(b.text)}</p>`;
    case 'html':
      return b.html;
  }
}

export function pageHtml(
  title: string,
  sections: readonly Section[],
  meta = '',
  opts: PageOptions = {},
): string {
  const charts = opts.chartsDir ?? 'charts';
  const body = sections
    .map(
      (s) =>
        `<section><h2>${escapeHtml(s.title)}</h2>\n${s.blocks.map((b) => blockHtml(b, charts)).join('\n')}</section>`,
    )
    .join('\n');
  const script = opts.script ? `\n<script>${opts.script}</script>` : '';
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>\n<body><h1>${escapeHtml(title)}</h1><p class="meta">${escapeHtml(meta)}</p>\n${body}${script}\n</body></html>\n`;
}

/** Writes the page to `file` and every chart to <dir of file>/charts/<name>.svg and .png (or the
 * `chartsDir` of `opts`). */
export function writeReport(
  file: string,
  title: string,
  sections: readonly Section[],
  meta = '',
  opts: PageOptions = {},
): void {
  const dir = join(dirname(file), opts.chartsDir ?? 'charts');
  mkdirSync(dir, { recursive: true });
  for (const s of sections)
    for (const b of s.blocks)
      if (b.kind === 'chart') {
        writeFileSync(join(dir, `${b.chart.name}.svg`), b.chart.svg);
        writeFileSync(join(dir, `${b.chart.name}.png`), svgToPng(b.chart.svg));
      }
  writeFileAtomic(file, pageHtml(title, sections, meta, opts));
}
