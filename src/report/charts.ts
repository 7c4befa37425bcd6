// Charts for the reports: a Vega-Lite spec is compiled to Vega and rendered in Node by a headless vega
// View (renderer 'none', then toSVG), so no browser or canvas is needed; PNGs come from the SVG through
// @resvg/resvg-js. Every chart of a report is also saved as SVG and PNG for papers.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export type VegaLiteSpec = TopLevelSpec;

/** The look shared by every chart: a readable sans-serif font at 12 px, white background. */
const CONFIG = {
  font: 'DejaVu Sans, Arial, sans-serif',
  background: 'white',
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14 },
};

/** Renders a Vega-Lite spec to an SVG string (offline: data must be inline `values`). */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const withConfig = {
    ...spec,
    config: { ...CONFIG, ...(spec as { config?: object }).config },
  } as TopLevelSpec;
  const vg = compile(withConfig).spec;
  const view = new vega.View(vega.parse(vg), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export { svgToPng } from './raster.js';

/** A chart of a report: its file stem (`loss`, `confusion`), title, spec and rendered SVG. */
export interface Chart {
  name: string;
  title: string;
  svg: string;
}

export async function chart(name: string, title: string, spec: VegaLiteSpec): Promise<Chart> {
  return { name, title, svg: await renderSvg(spec) };
}
