// The prediction report of one recording (`audiotag predict --format report`): a spectrogram of the whole
// recording with the detections as a timeline under it (one lane per detected class: a strip of the
// window scores and a bar per event), an <audio> player, and a small inline script so that a click
// anywhere on the figure plays from that time (a line follows the playback). The page stays light
// whatever the length: the spectrogram is computed streaming (30 s chunks) and pooled in time into at
// most `maxColumns` columns (mean power per column, so short events still show), the score strips the
// same way, and the player links the recording by its path relative to the page (no copy is embedded).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { PNG } from 'pngjs';
import { RealFFT } from '../features/fft.js';
import { applySparse, sparseMelFilterbank } from '../features/mel.js';
import { getWindow } from '../features/window.js';
import type { TagResult } from '../infer/tagger.js';
import { streamFile } from '../infer/windows.js';
import { chart } from './charts.js';
import { escapeHtml, type Section, writeReport } from './html.js';
import { svgToPng } from './raster.js';
import { decimals, niceStep, spectrogramFigureSvg } from './spectrogram-figure.js';

export interface PredictionReportOptions {
  /** Time columns of the spectrogram and score strips at most (default 1600). */
  maxColumns?: number;
  /** Rate the spectrogram is computed at (default 16000, or the file's when lower). */
  sampleRate?: number;
  /** Mel bands of the spectrogram (default 64). */
  nMels?: number;
  /** Width of the figure's time axis in px (default 1100). */
  width?: number;
  /** Rows of the events table at most (default 500; every event stays on the timeline). */
  maxTableRows?: number;
}

/** The colours of Vega's tableau10 scheme, so lanes match the charts. */
const PALETTE = [
  '#4c78a8',
  '#f58518',
  '#e45756',
  '#72b7b2',
  '#54a24b',
  '#eeca3b',
  '#b279a2',
  '#ff9da6',
  '#9d755d',
  '#bab0ac',
];

/** A recording's log-mel spectrogram (dB), pooled in time into at most `maxColumns` columns. */
export async function longSpectrogram(
  path: string,
  duration: number,
  opts: { sampleRate: number; nMels: number; maxColumns: number },
): Promise<{ data: Float32Array; bands: number; columns: number; secondsPerColumn: number }> {
  const sr = opts.sampleRate;
  const stream = await streamFile(path, sr);
  const total = Math.max(1, Math.round((stream.duration ?? duration) * sr));
  const nFft = 2 ** Math.ceil(Math.log2(sr / 25));
  const fineHop = Math.max(1, Math.round(sr / 100));
  const columns = Math.max(1, Math.min(opts.maxColumns, Math.ceil(total / fineHop)));
  const perColumn = total / columns;
  // Frames overlap for short recordings; for long ones they tile the signal (no sample is skipped).
  const hop = Math.max(1, Math.min(nFft, Math.floor(perColumn)));
  const fft = new RealFFT(nFft);
  const win = getWindow('hann', nFft);
  const re = new Float64Array(fft.bins);
  const im = new Float64Array(fft.bins);
  const pow = new Float64Array(fft.bins);
  const fb = sparseMelFilterbank({ sampleRate: sr, nFft, nMels: opts.nMels, fmin: 0, fmax: sr / 2 });
  const mel = new Float64Array(opts.nMels);
  const acc = new Float64Array(opts.nMels * columns);
  const count = new Int32Array(columns);
  let carry = new Float32Array(0);
  let carryStart = 0; // absolute sample index of carry[0]
  let next = 0; // absolute start of the next frame
  const frame = (x: Float32Array, off: number, at: number) => {
    fft.forward(x, re, im, off, win);
    for (let k = 0; k < fft.bins; k++) pow[k] = re[k]! * re[k]! + im[k]! * im[k]!;
    applySparse(fb, pow, mel);
    const c = Math.min(columns - 1, Math.floor((at + nFft / 2) / perColumn));
    for (let m = 0; m < opts.nMels; m++) acc[m * columns + c]! += mel[m]!;
    count[c]!++;
  };
  for await (const block of stream.blocks) {
    const buf = new Float32Array(carry.length + block.length);
    buf.set(carry);
    buf.set(block, carry.length);
    while (next - carryStart + nFft <= buf.length) {
      frame(buf, next - carryStart, next);
      next += hop;
    }
    const keep = Math.min(buf.length, next - carryStart);
    carry = buf.slice(keep);
    carryStart += keep;
  }
  // The tail shorter than one frame: zero-padded.
  if (carry.length > 0 && count.reduce((a, b) => a + b, 0) === 0) {
    const pad = new Float32Array(nFft);
    pad.set(carry.subarray(0, nFft));
    frame(pad, 0, carryStart);
  }
  const data = new Float32Array(opts.nMels * columns);
  let hi = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < columns; c++) {
    // A column no frame reached (only when the stream ended early) repeats its left neighbour.
    const src = count[c]! > 0 ? c : Math.max(0, c - 1);
    for (let m = 0; m < opts.nMels; m++) {
      const v =
        count[src]! > 0
          ? 10 * Math.log10(acc[m * columns + src]! / count[src]! + 1e-10)
          : (data[m * columns + src] ?? -100);
      data[m * columns + c] = v;
      if (v > hi) hi = v;
    }
  }
  for (let i = 0; i < data.length; i++) data[i] = Math.max(data[i]!, hi - 80);
  // Rows from the lowest band up (renderSpectrogramPng draws row 0 at the bottom).
  return { data, bands: opts.nMels, columns, secondsPerColumn: perColumn / sr };
}

/** "1:05:00", "12:30" or "42.5" for a tick at `t` seconds. */
function timeLabel(t: number, step: number, long: boolean): string {
  if (!long) return t.toFixed(decimals(step));
  const s = Math.round(t);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A tick step in seconds: round numbers, and whole minutes/hours for long recordings. */
function timeStep(duration: number, target: number): number {
  const raw = duration / Math.max(1, target);
  if (duration < 120) return niceStep(duration, target);
  for (const s of [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400])
    if (s >= raw) return s;
  return 3600 * Math.ceil(raw / 3600);
}

/** One lane's window scores, max-pooled into `columns`, as a 1-row PNG from white to `colour`. */
function stripPng(r: TagResult, j: number, columns: number, colour: string): Uint8Array {
  const v = new Float32Array(columns);
  const per = r.duration / columns;
  for (const w of r.windows) {
    const a = Math.max(0, Math.floor(w.start / per));
    const b = Math.min(columns - 1, Math.max(a, Math.ceil(w.end / per) - 1));
    const s = w.scores[j]!;
    for (let c = a; c <= b; c++) if (s > v[c]!) v[c] = s;
  }
  const rgb = [1, 3, 5].map((o) => Number.parseInt(colour.slice(o, o + 2), 16));
  const img = new PNG({ width: columns, height: 1 });
  for (let c = 0; c < columns; c++) {
    const x = Math.min(1, Math.max(0, v[c]!));
    img.data.set([...rgb.map((k) => Math.round(255 + (k! - 255) * x)), 255], 4 * c);
  }
  return new Uint8Array(PNG.sync.write(img));
}

const png64 = (b: Uint8Array) => `data:image/png;base64,${Buffer.from(b).toString('base64')}`;

/** The classes shown as lanes: every class with an event, by detected time (then the best clip scores). */
function laneClasses(r: TagResult): number[] {
  const time = new Float64Array(r.classes.length);
  for (const e of r.events) {
    const j = r.classes.indexOf(e.label);
    if (j >= 0) time[j]! += e.end - e.start;
  }
  const detected = r.classes.map((_, j) => j).filter((j) => time[j]! > 0);
  detected.sort((a, b) => time[b]! - time[a]!);
  if (detected.length > 0) return detected.slice(0, 30);
  return r.classes
    .map((_, j) => j)
    .sort((a, b) => r.clip[b]! - r.clip[a]!)
    .slice(0, 3);
}

/** The figure: the spectrogram above, one lane per class below, a shared time axis, a playhead. */
export function timelineSvg(
  r: TagResult,
  spec: Awaited<ReturnType<typeof longSpectrogram>>,
  sampleRate: number,
  width = 1100,
): string {
  const W = width;
  const x0 = 150; // left edge of the time axis (lane labels need the room)
  const nested = spectrogramFigureSvg(
    { data: spec.data, shape: [spec.bands, spec.columns] },
    {
      sampleRate,
      hopLength: spec.secondsPerColumn * sampleRate,
      fmin: 0,
      fmax: sampleRate / 2,
      colormap: 'magma',
      width: W,
      panelHeight: 160,
      panelTitles: ['log-mel spectrogram'],
    },
  );
  // spectrogramFigureSvg puts its image at x = 72, y = 24, 160 px tall, and is 24 + 160 + 50 px high.
  const dx = x0 - 72;
  const specTop = 24;
  const specH = 160;
  const nestedW = Number(/width="([\d.]+)"/.exec(nested)![1]);
  const lanesTop = specTop + specH + 72;
  const laneH = 26;
  const lanes = laneClasses(r);
  const lanesH = lanes.length * laneH;
  const axisY = lanesTop + lanesH + 4;
  const height = axisY + 50;
  const total = dx + nestedW;
  const dur = Math.max(r.duration, 1e-6);
  const X = (t: number) => x0 + (Math.min(Math.max(t, 0), dur) / dur) * W;
  const font = 'font-family="DejaVu Sans, Arial, sans-serif" font-size="12" fill="#222"';
  const parts: string[] = [
    `<svg x="${dx}" y="0" width="${nestedW}" height="${specTop + specH + 50}">${nested.replace(/^<svg [^>]*>/, '').replace(/<\/svg>$/, '')}</svg>`,
    `<text x="${x0}" y="${lanesTop - 8}" ${font} font-weight="bold">detections (strip: window scores, white 0 → full colour 1; bars: events, opacity ∝ confidence)</text>`,
  ];
  lanes.forEach((j, k) => {
    const y = lanesTop + k * laneH;
    const colour = PALETTE[k % PALETTE.length]!;
    const name = r.classes[j]!;
    const short = name.length > 20 ? `${name.slice(0, 19)}…` : name;
    parts.push(
      `<g class="lane" data-class="${escapeHtml(name)}">`,
      `<rect x="${x0}" y="${y}" width="${W}" height="${laneH - 4}" fill="#fafafa" stroke="#ddd"/>`,
      `<image class="strip" x="${x0}" y="${y}" width="${W}" height="7" preserveAspectRatio="none" style="image-rendering:pixelated" href="${png64(stripPng(r, j, spec.columns, colour))}"/>`,
      `<text x="${x0 - 8}" y="${y + 15}" text-anchor="end" ${font}><title>${escapeHtml(name)}</title>${escapeHtml(short)}</text>`,
    );
    for (const e of r.events) {
      if (e.label !== name) continue;
      const a = X(e.start);
      const w = Math.max(1, X(e.end) - a);
      parts.push(
        `<rect class="event" x="${a.toFixed(2)}" y="${y + 8}" width="${w.toFixed(2)}" height="${laneH - 13}" fill="${colour}" fill-opacity="${(0.35 + 0.65 * e.confidence).toFixed(3)}" data-start="${e.start}" data-end="${e.end}"><title>${escapeHtml(name)} ${e.start.toFixed(2)}–${e.end.toFixed(2)} s, confidence ${e.confidence.toFixed(3)}</title></rect>`,
      );
    }
    parts.push('</g>');
  });
  if (lanes.length > 0 && r.events.length === 0)
    parts.push(
      `<text x="${x0 + 4}" y="${lanesTop + 15}" ${font} fill="#888">no detections: the 3 best classes' scores</text>`,
    );
  // Time axis under the lanes.
  const long = dur >= 120;
  const step = timeStep(dur, W / 90);
  parts.push(`<line x1="${x0}" x2="${x0 + W}" y1="${axisY}" y2="${axisY}" stroke="#444"/>`);
  for (let t = 0; t <= dur + 1e-9; t += step) {
    const x = X(t).toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${axisY}" y2="${axisY + 5}" stroke="#444"/>`,
      `<text x="${x}" y="${axisY + 19}" text-anchor="middle" ${font}>${timeLabel(t, step, long)}</text>`,
    );
  }
  parts.push(
    `<text x="${x0 + W / 2}" y="${axisY + 40}" text-anchor="middle" ${font}>time (${long ? 'h:mm:ss' : 's'}) · click to play from there</text>`,
    `<line id="playhead" x1="${x0}" x2="${x0}" y1="${specTop}" y2="${axisY}" stroke="#00b0ff" stroke-width="2" visibility="hidden"/>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" id="timeline" width="${total}" height="${height}" viewBox="0 0 ${total} ${height}" data-x0="${x0}" data-width="${W}" data-duration="${dur}" style="cursor:pointer"><rect width="${total}" height="${height}" fill="white"/>${parts.join('')}</svg>`;
}

/** Click on the figure or a table row: seek the player there and play; the playhead follows playback. */
const SCRIPT = `(() => {
const svg = document.getElementById('timeline'), audio = document.getElementById('audio');
const head = document.getElementById('playhead');
const x0 = +svg.dataset.x0, w = +svg.dataset.width, dur = +svg.dataset.duration;
const seek = (t) => { if (!audio) return; audio.currentTime = Math.min(Math.max(t, 0), dur); const p = audio.play(); if (p) p.catch(() => {}); show(); };
const show = () => { const t = audio ? audio.currentTime : 0; const x = x0 + (Math.min(t, dur) / dur) * w; head.setAttribute('x1', x); head.setAttribute('x2', x); head.setAttribute('visibility', 'visible'); };
svg.addEventListener('click', (e) => { const p = svg.createSVGPoint(); p.x = e.clientX; p.y = e.clientY; const q = p.matrixTransform(svg.getScreenCTM().inverse()); if (q.x < x0 || q.x > x0 + w) return; seek(((q.x - x0) / w) * dur); });
for (const tr of document.querySelectorAll('tr[data-t]')) tr.addEventListener('click', () => seek(+tr.dataset.t));
if (audio) audio.addEventListener('timeupdate', show);
})();`;

/**
 * Writes the report of one tagged recording to `file` (charts beside it in `<name>.charts/`): the
 * timeline figure, the player, the clip scores and the events. `path` is the recording (the player links
 * it relative to the page; '' for none). Returns the page's path.
 */
export async function writePredictionReport(
  file: string,
  r: TagResult,
  path: string,
  opts: PredictionReportOptions = {},
): Promise<string> {
  const page = resolve(file);
  const dir = dirname(page);
  mkdirSync(dir, { recursive: true });
  const base = page.replace(/\.html?$/i, '');
  const chartsDir = `${base.slice(dir.length + 1)}.charts`;
  const sections: Section[] = [];
  const blocks: Section['blocks'] = [];
  if (path) {
    const info = await (await import('../audio/io.js')).audioInfo(path);
    const sr = Math.min(opts.sampleRate ?? 16000, info.sampleRate);
    const spec = await longSpectrogram(path, r.duration, {
      sampleRate: sr,
      nMels: opts.nMels ?? 64,
      maxColumns: opts.maxColumns ?? 1600,
    });
    const svg = timelineSvg(r, spec, sr, opts.width);
    mkdirSync(join(dir, chartsDir), { recursive: true });
    writeFileSync(join(dir, chartsDir, 'timeline.svg'), svg);
    writeFileSync(join(dir, chartsDir, 'timeline.png'), svgToPng(svg));
    const src = escapeHtml(encodeURI(relative(dir, resolve(path)).split('\\').join('/')));
    const at = escapeHtml(encodeURI(chartsDir));
    blocks.push({
      kind: 'html',
      html: `<div class="timeline-figure">${svg}<div class="dl" style="font-size:11px"><a href="${at}/timeline.svg">SVG</a> · <a href="${at}/timeline.png">PNG</a> · spectrogram: ${spec.columns} columns of ${spec.secondsPerColumn.toFixed(3)} s, ${sr} Hz</div></div>
<p><audio id="audio" controls preload="metadata" src="${src}" style="width:${(opts.width ?? 1100) + 150}px"></audio></p>`,
    });
  }
  sections.push({ title: 'Timeline (click to play from there)', blocks });
  const order = r.classes.map((_, j) => j).sort((a, b) => r.clip[b]! - r.clip[a]!);
  const top = order.slice(0, 15).map((j) => ({ class: r.classes[j]!, score: r.clip[j]! }));
  const maxRows = opts.maxTableRows ?? 500;
  const rows = r.events
    .slice(0, maxRows)
    .map(
      (e) =>
        `<tr data-t="${e.start}" style="cursor:pointer"><td>${escapeHtml(e.label)}</td><td>${e.start.toFixed(2)}</td><td>${e.end.toFixed(2)}</td><td>${e.confidence.toFixed(4)}</td></tr>`,
    )
    .join('');
  sections.push({
    title: 'Scores and events',
    blocks: [
      {
        kind: 'chart',
        chart: await chart('clip-scores', `Clip scores (the ${top.length} best classes)`, {
          data: { values: top },
          width: 360,
          height: Math.max(80, 18 * top.length),
          mark: 'bar',
          encoding: {
            y: { field: 'class', type: 'nominal', sort: '-x', title: null },
            x: { field: 'score', type: 'quantitative', title: 'score', scale: { domain: [0, 1] } },
          },
        }),
      },
      {
        kind: 'html',
        html: `<h3>Events (${r.events.length}${r.events.length > maxRows ? `, the first ${maxRows} listed` : ''}; click a row to play it)</h3><table><tr><th>label</th><th>start (s)</th><th>end (s)</th><th>confidence</th></tr>${rows}</table>`,
      },
    ],
  });
  writeReport(
    page,
    `Prediction report: ${r.id}`,
    sections,
    `${path || r.id} · ${r.duration.toFixed(2)} s · ${r.windows.length} windows · ${r.events.length} events · written ${new Date().toISOString()}`,
    { chartsDir, script: SCRIPT },
  );
  return page;
}
