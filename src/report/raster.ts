// SVG to PNG through @resvg/resvg-js (system fonts, DejaVu Sans by default). Kept apart from charts.ts so
// the spectrogram figures of `features`/`augment` do not load vega.
import { Resvg } from '@resvg/resvg-js';

/** Rasterises an SVG to PNG bytes; `scale` multiplies its size (2 for print). */
export function svgToPng(svg: string, scale = 2): Buffer {
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    background: 'white',
  });
  return r.render().asPng();
}
