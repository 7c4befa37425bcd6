// A spectrogram as a figure for a paper: the image (one cell per band and frame, drawn pixelated), a
// frequency axis with ticks at round Hz values placed on the mel scale, a time axis in seconds at round
// steps, axis titles, a colour bar in dB, and a readable font (DejaVu Sans through resvg). Several
// channels become stacked panels with their own titles (`augment --png --compare`: original, augmented).
import type { NDArray } from '../core/ndarray.js';
import { hzToMel, type MelScale } from '../features/mel.js';
import { escapeHtml } from './html.js';
import { svgToPng } from './raster.js';
import { lut, renderSpectrogramPng, type SpectrogramPngOptions } from './spectrogram-png.js';

export interface SpectrogramFigureOptions extends Omit<SpectrogramPngOptions, 'axes' | 'scale'> {
  /** One title per channel (panel), e.g. ['original', 'augmented']. */
  panelTitles?: string[];
  /** Colour-bar title; default 'dB'. */
  unit?: string;
  /** Width of the image area in px (default: 2 px a frame, 480–900). */
  width?: number;
  /** Height of one panel's image in px (default: 2 px a band, 160–280). */
  panelHeight?: number;
}

/** A round step (1, 2, 5 × 10^k) that splits `span` into about `target` parts. */
export function niceStep(span: number, target: number): number {
  const raw = span / Math.max(1, target);
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** Decimals needed to print multiples of `step`. */
export function decimals(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

function hzLabel(f: number): string {
  return f >= 1000 ? `${Number((f / 1000).toFixed(1))}k` : String(Math.round(f));
}

/** Round Hz values (1, 2, 5 × 10^k, plus 0) inside [fmin, fmax]. */
function roundHz(fmin: number, fmax: number): number[] {
  const out = fmin <= 0 ? [0] : [];
  for (let d = 10; d <= 1e5; d *= 10)
    for (const m of [1, 2, 5]) if (m * d >= fmin && m * d <= fmax) out.push(m * d);
  return out;
}

/** The figure as SVG (the image inline as a PNG data URI). */
export function spectrogramFigureSvg(spec: NDArray, opts: SpectrogramFigureOptions = {}): string {
  const [channels, bands, frames] =
    spec.shape.length === 2 ? [1, spec.shape[0]!, spec.shape[1]!] : (spec.shape as [number, number, number]);
  if (spec.shape.length !== 2 && spec.shape.length !== 3)
    throw new Error(
      `spectrogramFigure: expected [bands, frames] or [channels, bands, frames], got [${spec.shape}]`,
    );
  let lo = opts.vmin ?? Number.POSITIVE_INFINITY;
  let hi = opts.vmax ?? Number.NEGATIVE_INFINITY;
  if (opts.vmin === undefined || opts.vmax === undefined)
    for (const v of spec.data) {
      if (!Number.isFinite(v)) continue;
      if (opts.vmin === undefined && v < lo) lo = v;
      if (opts.vmax === undefined && v > hi) hi = v;
    }
  if (!(hi > lo)) hi = lo + 1;
  const W = opts.width ?? Math.max(480, Math.min(900, 2 * frames));
  const H = opts.panelHeight ?? Math.max(160, Math.min(280, 2 * bands));
  const titled = (opts.panelTitles?.length ?? 0) > 0;
  const panelGap = titled ? 30 : 12;
  const left = 72;
  const top = titled ? 24 : 12;
  const barX = left + W + 18;
  const width = barX + 14 + 62;
  const plotH = channels * H + (channels - 1) * panelGap;
  const height = top + plotH + 50;
  const font = 'font-family="DejaVu Sans, Arial, sans-serif" font-size="12" fill="#222"';
  const parts: string[] = [];
  const n = bands * frames;
  const sr = opts.sampleRate;
  const fmin = opts.fmin ?? 0;
  const fmax = opts.fmax ?? (sr ? sr / 2 : 0);
  const scale: MelScale = opts.melScale ?? 'slaney';
  for (let c = 0; c < channels; c++) {
    const y0 = top + c * (H + panelGap);
    const png = renderSpectrogramPng(
      { data: spec.data.subarray(c * n, (c + 1) * n), shape: [bands, frames] },
      { colormap: opts.colormap, vmin: lo, vmax: hi, scale: 1 },
    );
    parts.push(
      `<image x="${left}" y="${y0}" width="${W}" height="${H}" preserveAspectRatio="none" image-rendering="optimizeSpeed" style="image-rendering:pixelated" href="data:image/png;base64,${Buffer.from(png).toString('base64')}"/>`,
      `<rect x="${left}" y="${y0}" width="${W}" height="${H}" fill="none" stroke="#444"/>`,
    );
    const title = opts.panelTitles?.[c];
    if (title)
      parts.push(`<text x="${left}" y="${y0 - 7}" ${font} font-weight="bold">${escapeHtml(title)}</text>`);
    // Frequency ticks: round Hz at their place on the mel axis (band b's centre is mel lo + (b+1)·Δ).
    const ticks: [number, string][] = [];
    if (fmax > fmin) {
      const mlo = hzToMel(fmin, scale);
      const mhi = hzToMel(fmax, scale);
      const step = (mhi - mlo) / (bands + 1);
      for (const f of roundHz(fmin, fmax)) {
        const b = (hzToMel(f, scale) - mlo) / step - 1;
        if (b < -0.5 || b > bands - 0.5) continue;
        ticks.push([y0 + H - ((b + 0.5) / bands) * H, hzLabel(f)]);
      }
    } else {
      const st = niceStep(bands, H / 40);
      for (let b = 0; b < bands; b += st) ticks.push([y0 + H - ((b + 0.5) / bands) * H, String(b)]);
    }
    let last = Number.POSITIVE_INFINITY;
    for (const [y, label] of ticks) {
      if (last - y < 16) continue;
      last = y;
      parts.push(
        `<line x1="${left - 5}" x2="${left}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#444"/>`,
        `<text x="${left - 8}" y="${(y + 4).toFixed(1)}" text-anchor="end" ${font}>${label}</text>`,
      );
    }
    const yTitle = fmax > fmin ? 'frequency (Hz)' : 'band';
    parts.push(
      `<text transform="translate(16 ${y0 + H / 2}) rotate(-90)" text-anchor="middle" ${font}>${yTitle}</text>`,
    );
  }
  // Time axis under the last panel.
  const yb = top + plotH;
  const sec = sr && opts.hopLength ? opts.hopLength / sr : null;
  const total = sec ? frames * sec : frames;
  const tStep = niceStep(total, W / 90);
  for (let v = 0; v <= total + 1e-9; v += tStep) {
    const x = left + (v / total) * W;
    parts.push(
      `<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${yb}" y2="${yb + 5}" stroke="#444"/>`,
      `<text x="${x.toFixed(1)}" y="${yb + 19}" text-anchor="middle" ${font}>${v.toFixed(sec ? decimals(tStep) : 0)}</text>`,
    );
  }
  parts.push(
    `<text x="${left + W / 2}" y="${yb + 40}" text-anchor="middle" ${font}>${sec ? 'time (s)' : 'frame'}</text>`,
  );
  // Colour bar over the whole plot height.
  const colors = lut(opts.colormap ?? 'magma');
  const stops = Array.from({ length: 17 }, (_, k) => {
    const i = Math.round((k / 16) * 255);
    const hex = [0, 1, 2].map((o) => colors[3 * i + o]!.toString(16).padStart(2, '0')).join('');
    return `<stop offset="${(k / 16).toFixed(4)}" stop-color="#${hex}"/>`;
  }).join('');
  parts.push(
    `<defs><linearGradient id="cbar" x1="0" y1="1" x2="0" y2="0">${stops}</linearGradient></defs>`,
    `<rect x="${barX}" y="${top}" width="14" height="${plotH}" fill="url(#cbar)" stroke="#444"/>`,
  );
  const vStep = niceStep(hi - lo, Math.max(3, plotH / 50));
  for (let v = Math.ceil(lo / vStep) * vStep; v <= hi + 1e-9; v += vStep) {
    const y = top + plotH - ((v - lo) / (hi - lo)) * plotH;
    parts.push(
      `<line x1="${barX + 14}" x2="${barX + 19}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#444"/>`,
      `<text x="${barX + 22}" y="${(y + 4).toFixed(1)}" ${font}>${v.toFixed(decimals(vStep))}</text>`,
    );
  }
  parts.push(
    `<text transform="translate(${width - 8} ${top + plotH / 2}) rotate(-90)" text-anchor="middle" ${font}>${escapeHtml(opts.unit ?? 'dB')}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><rect width="${width}" height="${height}" fill="white"/>${parts.join('')}</svg>`;
}

/** The figure as PNG bytes (`scale` 2 by default, for print). */
export function renderSpectrogramFigurePng(
  spec: NDArray,
  opts: SpectrogramFigureOptions = {},
  scale = 2,
): Uint8Array {
  return new Uint8Array(svgToPng(spectrogramFigureSvg(spec, opts), scale));
}
