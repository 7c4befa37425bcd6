// The models list and the page per model: classes, metrics (the run's metrics.json), and the charts of
// its training report (confusion matrices, precision-recall/ROC/calibration curves, training curves),
// drawn by src/report when the run trained and served by GET /v1/models/:id/charts/:name.svg.
import { apiHeaders, apiUrl, serverState } from '../env.js';
import { apiKeyNote, el, fmt } from '../ui.js';

interface ReportJson {
  id: string;
  name: string;
  classes: string[];
  source: 'run' | 'onnx' | 'unknown';
  metrics: {
    task?: string;
    strategy?: string;
    folds?: { fold: number; train: number; val: number; best_epoch: number; epochs: number }[];
    metrics?: Record<string, { mean: number; std: number; per_fold: number[] }>;
    oof?: Record<string, number>;
  } | null;
  charts: { name: string; title: string; url: string }[];
  reportUrl: string | null;
  onnxUrl: string;
  note: string | null;
}

function needsServer(root: HTMLElement, reason: string): () => void {
  if (/API key/.test(reason)) {
    root.append(apiKeyNote());
    return () => {};
  }
  root.append(
    el(
      'p',
      { class: 'note' },
      `Model pages need the API of audiotag serve (${reason}). Open this app from the server: audiotag serve --model RUN_DIR, then http://127.0.0.1:8080/.`,
    ),
  );
  return () => {};
}

export async function showModels(root: HTMLElement): Promise<() => void> {
  root.append(el('h1', {}, 'Models'));
  const s = await serverState();
  if (s.kind !== 'server') return needsServer(root, s.reason);
  const list = el('ul', { class: 'model-list' });
  for (const m of s.models)
    list.append(
      el(
        'li',
        {},
        el('a', { href: `#/models/${encodeURIComponent(m.id)}` }, m.name),
        ` — ${m.classes.length} classes, ${m.sampleRate} Hz, ${m.windowSeconds} s windows every ${m.hopSeconds} s, ${m.members.length} member${m.members.length > 1 ? 's' : ''}`,
      ),
    );
  root.append(list);
  return () => {};
}

/** An SVG chart fetched with the API headers (an <img src> could not send the key) as a blob URL. */
async function chartFigure(c: ReportJson['charts'][number], urls: string[]): Promise<HTMLElement> {
  const fig = el('figure', { class: 'chart', id: `chart-${c.name}` });
  const r = await fetch(apiUrl(c.url), { headers: apiHeaders() });
  if (!r.ok) {
    fig.append(el('p', { class: 'err' }, `${c.title}: HTTP ${r.status}`));
    return fig;
  }
  const url = URL.createObjectURL(await r.blob());
  urls.push(url);
  fig.append(el('img', { src: url, alt: c.title }), el('figcaption', {}, c.title));
  return fig;
}

function metricsTable(r: ReportJson): HTMLElement | null {
  const m = r.metrics?.metrics;
  if (!m) return null;
  const folds = r.metrics?.folds?.length ?? 0;
  const head = el(
    'tr',
    {},
    el('th', { scope: 'col' }, 'Metric'),
    el('th', { scope: 'col' }, 'Mean over folds'),
    el('th', { scope: 'col' }, 'Std'),
    el('th', { scope: 'col' }, 'Per fold'),
    el('th', { scope: 'col' }, 'Out-of-fold'),
  );
  const body = el('tbody');
  for (const [name, v] of Object.entries(m))
    body.append(
      el(
        'tr',
        {},
        el('th', { scope: 'row' }, name),
        el('td', {}, fmt(v.mean)),
        el('td', {}, fmt(v.std)),
        el('td', {}, v.per_fold.map((x) => fmt(x)).join(', ')),
        el('td', {}, r.metrics?.oof?.[name] !== undefined ? fmt(r.metrics.oof[name]!) : '—'),
      ),
    );
  return el(
    'table',
    { class: 'metrics' },
    el(
      'caption',
      {},
      `Validation metrics (${r.metrics?.task ?? 'task'}, ${folds} fold${folds === 1 ? '' : 's'}, best epoch of each)`,
    ),
    el('thead', {}, head),
    body,
  );
}

export async function showModel(root: HTMLElement, id: string): Promise<() => void> {
  const h1 = el('h1', {}, `Model ${id}`);
  root.append(el('p', { class: 'crumbs' }, el('a', { href: '#/models' }, 'Models'), ` / ${id}`), h1);
  const s = await serverState();
  if (s.kind !== 'server') return needsServer(root, s.reason);
  const r = await fetch(apiUrl(`v1/models/${encodeURIComponent(id)}/report`), { headers: apiHeaders() });
  const j = (await r.json()) as ReportJson & { error?: string };
  if (!r.ok) {
    root.append(el('p', { class: 'err', role: 'alert' }, j.error ?? `HTTP ${r.status}`));
    return () => {};
  }
  h1.textContent = `Model ${j.name}`;
  const info = s.models.find((m) => m.id === id);
  if (info)
    root.append(
      el(
        'p',
        {},
        `${info.sampleRate} Hz input, ${info.windowSeconds} s windows every ${info.hopSeconds} s; ${info.members.length} member model${info.members.length > 1 ? 's' : ''} (${info.members.map((m) => m.label).join(', ')}).`,
      ),
    );
  const classes = el('ul', { class: 'classes' });
  for (const c of j.classes) classes.append(el('li', {}, c));
  root.append(el('h2', {}, `Classes (${j.classes.length})`), classes);
  const table = metricsTable(j);
  root.append(el('h2', {}, 'Metrics'), table ?? el('p', {}, 'No metrics.json in the run directory.'));
  if (j.note) root.append(el('p', { class: 'note' }, j.note));
  const urls: string[] = [];
  if (j.charts.length > 0) {
    const grid = el('div', { class: 'charts' });
    root.append(el('h2', {}, 'Training report charts'), grid);
    for (const c of j.charts) grid.append(await chartFigure(c, urls));
  }
  const links = el('ul', { class: 'links' });
  if (j.reportUrl)
    links.append(
      el(
        'li',
        {},
        el(
          'a',
          { href: apiUrl(j.reportUrl), target: '_blank', rel: 'noopener' },
          'The full training report (HTML, new tab)',
        ),
      ),
    );
  links.append(
    el(
      'li',
      {},
      el('a', { href: apiUrl(j.onnxUrl) }, 'Download the model as ONNX with its feature front-end'),
    ),
  );
  root.append(el('h2', {}, 'Files'), links);
  return () => {
    for (const u of urls) URL.revokeObjectURL(u);
  };
}
