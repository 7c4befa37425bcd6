// A spectrogram as a PNG: one pixel (times `scale`) per band and frame, low frequencies at the bottom,
// a colour map, and optional axes with tick labels in Hz/kHz and seconds (drawn with a tiny built-in
// bitmap font, so no canvas or font files are needed). Used by `audiotag features --png` and
// `audiotag augment --png`.
import { PNG } from 'pngjs';
import type { NDArray } from '../core/ndarray.js';
import { hzToMel, type MelScale, melToHz } from '../features/mel.js';

export type Colormap = 'magma' | 'viridis' | 'gray';

export interface SpectrogramPngOptions {
  /** Default 'magma'. */
  colormap?: Colormap;
  /** Draw tick marks and labels (Hz on the left, time below). Default false. */
  axes?: boolean;
  /** With hopLength: time labels in seconds; with fmin/fmax: band labels in Hz. */
  sampleRate?: number;
  hopLength?: number;
  /** Frequency range of the bands (mel-spaced) for the Hz labels; default 0 … sampleRate/2. */
  fmin?: number;
  fmax?: number;
  melScale?: MelScale;
  /** Value range mapped onto the colour map; default each channel's min and max. */
  vmin?: number;
  vmax?: number;
  /** Integer pixel size of one cell; default: enough to make the image ≈ 256 px tall (1–4). */
  scale?: number;
}

// Nine evenly spaced samples (0, 1/8, …, 1) of matplotlib's perceptually uniform maps, interpolated
// linearly in RGB: close to the originals without carrying their 256-entry tables.
const ANCHORS: Record<Exclude<Colormap, 'gray'>, string[]> = {
  viridis: ['440154', '472d7b', '3b528b', '2c728e', '21918c', '28ae80', '5ec962', 'addc30', 'fde725'],
  magma: ['000004', '1d1147', '51127c', '822681', 'b63679', 'e65164', 'fb8861', 'fec287', 'fcfdbf'],
};

export function lut(name: Colormap): Uint8Array {
  const out = new Uint8Array(256 * 3);
  if (name === 'gray') {
    for (let i = 0; i < 256; i++) out.set([i, i, i], 3 * i);
    return out;
  }
  const anchors = ANCHORS[name];
  if (!anchors)
    throw new Error(`renderSpectrogramPng: unknown colormap "${name}" (expected magma, viridis or gray)`);
  const rgb = anchors.map((h) => [0, 2, 4].map((o) => Number.parseInt(h.slice(o, o + 2), 16)));
  for (let i = 0; i < 256; i++) {
    const pos = (i / 255) * (anchors.length - 1);
    const k = Math.min(Math.floor(pos), anchors.length - 2);
    const f = pos - k;
    for (let c = 0; c < 3; c++) out[3 * i + c] = Math.round(rgb[k]![c]! * (1 - f) + rgb[k + 1]![c]! * f);
  }
  return out;
}

// 3×5 glyphs, one string of 15 bits per character, row by row.
const GLYPHS: Record<string, string> = {
  '0': '111101101101111',
  '1': '010110010010111',
  '2': '111001111100111',
  '3': '111001111001111',
  '4': '101101111001001',
  '5': '111100111001111',
  '6': '111100111101111',
  '7': '111001001001001',
  '8': '111101111101111',
  '9': '111101111001111',
  '.': '000000000000010',
  k: '100101110101101',
  s: '011100010001110',
  H: '101101111101101',
  z: '111001010100111',
  '-': '000000111000000',
};
const GLYPH_SCALE = 2;
const CHAR_W = 4 * GLYPH_SCALE; // 3 columns + 1 space

function drawText(img: PNG, text: string, x: number, y: number): void {
  for (const [i, ch] of [...text].entries()) {
    const g = GLYPHS[ch];
    if (!g) continue;
    for (let r = 0; r < 5; r++)
      for (let c = 0; c < 3; c++)
        if (g[r * 3 + c] === '1')
          for (let dy = 0; dy < GLYPH_SCALE; dy++)
            for (let dx = 0; dx < GLYPH_SCALE; dx++)
              setPixel(img, x + i * CHAR_W + c * GLYPH_SCALE + dx, y + r * GLYPH_SCALE + dy, 230, 230, 230);
  }
}

function setPixel(img: PNG, x: number, y: number, r: number, g: number, b: number): void {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  const o = 4 * (y * img.width + x);
  img.data[o] = r;
  img.data[o + 1] = g;
  img.data[o + 2] = b;
  img.data[o + 3] = 255;
}

function formatHz(f: number): string {
  if (f >= 1000) return `${Number((f / 1000).toFixed(f >= 10000 ? 0 : 1))}k`;
  return String(Math.round(f));
}

function niceStep(span: number, target: number): number {
  const raw = span / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/**
 * Renders [bands, frames] (or [channels, bands, frames], channels stacked top to bottom) as a PNG.
 * @example writeFileSync('x.png', renderSpectrogramPng(logMel, { colormap: 'viridis', axes: true, sampleRate: 44100, hopLength: 347 }))
 */
export function renderSpectrogramPng(spec: NDArray, opts: SpectrogramPngOptions = {}): Uint8Array {
  let channels: number;
  let bands: number;
  let frames: number;
  if (spec.shape.length === 2) [channels, bands, frames] = [1, spec.shape[0]!, spec.shape[1]!];
  else if (spec.shape.length === 3) [channels, bands, frames] = spec.shape as [number, number, number];
  else
    throw new Error(
      `renderSpectrogramPng: expected [bands, frames] or [channels, bands, frames], got [${spec.shape}]`,
    );
  if (bands === 0 || frames === 0)
    throw new Error(`renderSpectrogramPng: the spectrogram is empty [${spec.shape}]`);
  const colors = lut(opts.colormap ?? 'magma');
  const s = opts.scale ?? Math.max(1, Math.min(4, Math.floor(256 / bands)));
  if (!Number.isInteger(s) || s < 1)
    throw new Error(`renderSpectrogramPng: scale must be a positive integer, got ${s}`);
  const axes = opts.axes ?? false;
  const gap = 2;
  const left = axes ? 7 * CHAR_W : 0;
  const bottom = axes ? 8 + 5 * GLYPH_SCALE + 4 : 0;
  const top = axes ? 6 : 0;
  const right = axes ? 3 * CHAR_W : 0;
  const plotH = channels * bands * s + (channels - 1) * gap;
  const img = new PNG({ width: left + frames * s + right, height: top + plotH + bottom });
  for (let i = 0; i < img.data.length; i += 4) img.data.set([24, 24, 24, 255], i);

  const n = bands * frames;
  for (let c = 0; c < channels; c++) {
    let lo = opts.vmin ?? Number.POSITIVE_INFINITY;
    let hi = opts.vmax ?? Number.NEGATIVE_INFINITY;
    if (opts.vmin === undefined || opts.vmax === undefined) {
      for (let i = 0; i < n; i++) {
        const v = spec.data[c * n + i]!;
        if (!Number.isFinite(v)) continue;
        if (opts.vmin === undefined && v < lo) lo = v;
        if (opts.vmax === undefined && v > hi) hi = v;
      }
    }
    const span = hi > lo ? hi - lo : 1;
    const y0 = top + c * (bands * s + gap);
    for (let b = 0; b < bands; b++) {
      const yTop = y0 + (bands - 1 - b) * s; // low bands at the bottom
      for (let t = 0; t < frames; t++) {
        const v = spec.data[c * n + b * frames + t]!;
        const idx = Number.isFinite(v) ? Math.max(0, Math.min(255, Math.round(((v - lo) / span) * 255))) : 0;
        const r = colors[3 * idx]!;
        const g = colors[3 * idx + 1]!;
        const bl = colors[3 * idx + 2]!;
        for (let dy = 0; dy < s; dy++)
          for (let dx = 0; dx < s; dx++) setPixel(img, left + t * s + dx, yTop + dy, r, g, bl);
      }
    }
  }

  if (axes) {
    const yBase = top + plotH; // first row below the plot
    // Time axis.
    const sec = opts.sampleRate && opts.hopLength ? opts.hopLength / opts.sampleRate : null;
    const total = sec ? frames * sec : frames;
    const step = niceStep(total, Math.max(2, Math.floor((frames * s) / 80)));
    for (let v = 0; v <= total + 1e-9; v += step) {
      const x = left + Math.round((sec ? v / sec : v) * s);
      for (let d = 0; d < 4; d++) setPixel(img, x, yBase + d, 230, 230, 230);
      const label = sec
        ? `${Number(v.toFixed(step < 1 ? (step < 0.1 ? 2 : 1) : 0))}${v === 0 ? 's' : ''}`
        : String(v);
      drawText(img, label, Math.max(0, x - (label.length * CHAR_W) / 2), yBase + 6);
    }
    // Band axis (first channel's position; every channel has the same bands).
    const sr = opts.sampleRate;
    const scale: MelScale = opts.melScale ?? 'slaney';
    const fmin = opts.fmin ?? 0;
    const fmax = opts.fmax ?? (sr ? sr / 2 : 0);
    const ticks = Math.max(2, Math.floor((bands * s) / 40));
    for (let c = 0; c < channels; c++) {
      const y0 = top + c * (bands * s + gap);
      // Channels below the first skip their top tick: it would collide with the bottom label above.
      for (let k = 0; k <= (c === 0 ? ticks : ticks - 1); k++) {
        const b = ((bands - 1) * k) / ticks;
        const y = y0 + Math.round((bands - 1 - b) * s + s / 2);
        for (let d = 1; d <= 4; d++) setPixel(img, left - d, y, 230, 230, 230);
        let label: string;
        if (fmax > fmin) {
          // Band centres are mel-spaced: band b sits at mel_lo + (b+1)·Δ, like librosa's mel_frequencies.
          const lo = hzToMel(fmin, scale);
          const hi = hzToMel(fmax, scale);
          label = formatHz(melToHz(lo + ((b + 1) * (hi - lo)) / (bands + 1), scale));
        } else label = String(Math.round(b));
        drawText(img, label, Math.max(0, left - 6 - label.length * CHAR_W), y - GLYPH_SCALE * 2);
      }
    }
  }
  return new Uint8Array(PNG.sync.write(img));
}
