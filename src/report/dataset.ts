// `audiotag dataset inspect`: what a dataset holds, as numbers (JSON) and as one HTML page — class
// counts stacked by subset (curated / noisy, manually verified or not), label cardinality and
// co-occurrence for multi-label sets, duration distributions per class and overall, the sample-rate /
// channel / codec table, unusual lengths, and silent or clipped clips.
import { dirname, relative, resolve } from 'node:path';
import { audioInfo, loadAudio } from '../audio/index.js';
import type { ProgressCallback } from '../core/log.js';
import type { Dataset } from '../data/types.js';
import { computeFeatures } from '../features/index.js';
import { chart } from './charts.js';
import { escapeHtml, type Section, writeReport } from './html.js';
import { spectrogramFigureSvg } from './spectrogram-figure.js';

export interface ClipFacts {
  id: string;
  path: string;
  labels: string[];
  /** curated / noisy (FSDKaggle2019), verified / unverified (FSDKaggle2018's manually_verified), or all. */
  subset: string;
  /** train / test (a `split` column, or folds with `testFold`), `fold <k>` (a fold column), or 'all'. */
  split: string;
  duration: number;
  sampleRate: number;
  channels: number;
  codec: string;
  /** Largest absolute sample, 0..1 (full scale). */
  peak: number;
  /** Root mean square over all channels. */
  rms: number;
  silent: boolean;
  clipped: boolean;
  /** Why the clip could not be read (the other facts are then NaN / empty). */
  error?: string;
}

export interface DatasetInspection {
  clips: ClipFacts[];
  classes: string[];
  multiLabel: boolean;
  summary: {
    clips: number;
    unreadable: number;
    classes: number;
    multiLabel: boolean;
    totalHours: number;
    duration: { min: number; median: number; max: number; mean: number };
    /** Clips per "<rate> Hz, <channels> ch, <codec>". */
    formats: Record<string, number>;
    /** Durations outside these bounds are flagged as unusual. */
    usualDuration: [number, number];
    /** Readable clips and their durations per split (see ClipFacts.split). */
    splits: Record<string, { clips: number; min: number; median: number; max: number }>;
  };
  unusualLength: string[];
  silent: string[];
  clipped: string[];
}

/** Peak below -80 dBFS: silent. */
export const SILENT_PEAK = 1e-4;
/** At least 0.1 % of the samples (and 3) at full scale: clipped. */
export const CLIPPED_SHARE = 0.001;

function subsetOf(meta: Record<string, string>): string {
  if (meta.set) return meta.set;
  const mv = meta.manually_verified;
  if (mv !== undefined) return mv === '1' || mv.toLowerCase() === 'true' ? 'verified' : 'unverified';
  return 'all';
}

/** The split of a clip: the manifest's split column, else its fold (train/test when `testFold` is given). */
export function splitOf(item: { meta: Record<string, string>; fold?: number }, testFold?: string): string {
  const split = item.meta.split ?? item.meta.Split;
  if (split) return split;
  const fold = item.fold !== undefined ? String(item.fold) : (item.meta.fold ?? item.meta.Fold);
  if (fold !== undefined && fold !== '')
    return testFold === undefined ? `fold ${fold}` : fold === testFold ? 'test' : 'train';
  return 'all';
}

async function clipFacts(item: Dataset['items'][number], testFold?: string): Promise<ClipFacts> {
  const base = {
    id: item.id,
    path: item.path,
    labels: item.labels,
    subset: subsetOf(item.meta),
    split: splitOf(item, testFold),
  };
  try {
    const info = await audioInfo(item.path);
    const audio = await loadAudio(item.path, { mono: false });
    let peak = 0;
    let sq = 0;
    let full = 0;
    let n = 0;
    for (const ch of audio.channels)
      for (let i = 0; i < ch.length; i++) {
        const a = Math.abs(ch[i]!);
        if (a > peak) peak = a;
        if (a >= 0.999) full++;
        sq += a * a;
      }
    for (const ch of audio.channels) n += ch.length;
    return {
      ...base,
      duration: audio.channels[0]!.length / audio.sampleRate,
      sampleRate: audio.sampleRate,
      channels: audio.channels.length,
      codec: info.codec,
      peak,
      rms: Math.sqrt(sq / Math.max(1, n)),
      silent: peak < SILENT_PEAK,
      clipped: full >= 3 && full >= CLIPPED_SHARE * n,
    };
  } catch (e) {
    return {
      ...base,
      duration: Number.NaN,
      sampleRate: Number.NaN,
      channels: Number.NaN,
      codec: '',
      peak: Number.NaN,
      rms: Number.NaN,
      silent: false,
      clipped: false,
      error: (e as Error).message,
    };
  }
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Decodes every clip (`concurrency` at a time) and gathers the facts of the report. */
export async function inspectDataset(
  dataset: Dataset,
  opts: { concurrency?: number; onProgress?: ProgressCallback; testFold?: string } = {},
): Promise<DatasetInspection> {
  const items = dataset.items;
  const clips: ClipFacts[] = new Array(items.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      clips[i] = await clipFacts(items[i]!, opts.testFold);
      opts.onProgress?.(++done, items.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 2) }, worker));
  const ok = clips.filter((c) => !c.error);
  const durs = ok.map((c) => c.duration).sort((a, b) => a - b);
  const q1 = quantile(durs, 0.25);
  const q3 = quantile(durs, 0.75);
  const med = quantile(durs, 0.5);
  // Tukey's far fences; a set of equal lengths (IQR 0) tolerates 1 % around the median.
  const slack = Math.max(3 * (q3 - q1), 0.01 * med);
  const usual: [number, number] = [Math.max(0, q1 - slack), q3 + slack];
  const formats: Record<string, number> = {};
  for (const c of ok) {
    const k = `${c.sampleRate} Hz, ${c.channels} ch, ${c.codec}`;
    formats[k] = (formats[k] ?? 0) + 1;
  }
  const total = durs.reduce((a, b) => a + b, 0);
  const splits: DatasetInspection['summary']['splits'] = {};
  const rank = (x: string) =>
    ['train', 'training', 'val', 'validation', 'dev', 'test'].indexOf(x.toLowerCase());
  const names = [...new Set(ok.map((c) => c.split))].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  for (const name of names) {
    const d = ok
      .filter((c) => c.split === name)
      .map((c) => c.duration)
      .sort((a, b) => a - b);
    splits[name] = { clips: d.length, min: d[0]!, median: quantile(d, 0.5), max: d[d.length - 1]! };
  }
  return {
    clips,
    classes: dataset.classes,
    multiLabel: dataset.multiLabel,
    summary: {
      clips: clips.length,
      unreadable: clips.length - ok.length,
      classes: dataset.classes.length,
      multiLabel: dataset.multiLabel,
      totalHours: total / 3600,
      duration: {
        min: durs[0] ?? Number.NaN,
        median: med,
        max: durs[durs.length - 1] ?? Number.NaN,
        mean: total / Math.max(1, durs.length),
      },
      formats,
      usualDuration: usual,
      splits,
    },
    unusualLength: ok.filter((c) => c.duration < usual[0] || c.duration > usual[1]).map((c) => c.id),
    silent: ok.filter((c) => c.silent).map((c) => c.id),
    clipped: ok.filter((c) => c.clipped).map((c) => c.id),
  };
}

const q = (field: string, title: string, extra: object = {}) => ({
  field,
  type: 'quantitative' as const,
  title,
  ...extra,
});
const n = (field: string, title: string, extra: object = {}) => ({
  field,
  type: 'nominal' as const,
  title,
  ...extra,
});

function flaggedTable(title: string, ids: string[], r: DatasetInspection, dir: string): string {
  if (ids.length === 0) return `<h3>${escapeHtml(title)}</h3><p>none</p>`;
  const byId = new Map(r.clips.map((c) => [c.id, c]));
  const rows = ids
    .slice(0, 200)
    .map((id) => {
      const c = byId.get(id)!;
      return `<tr><td>${escapeHtml(id)}</td><td>${escapeHtml(c.labels.join(', '))}</td><td>${c.duration.toFixed(3)}</td><td>${(20 * Math.log10(Math.max(c.peak, 1e-10))).toFixed(1)}</td><td><audio controls preload="none" src="${escapeHtml(encodeURI(relative(dir, c.path)))}"></audio></td></tr>`;
    })
    .join('');
  const more = ids.length > 200 ? `<p>… and ${ids.length - 200} more (see --json)</p>` : '';
  return `<h3>${escapeHtml(title)} (${ids.length})</h3><table><tr><th>clip</th><th>labels</th><th>seconds</th><th>peak dBFS</th><th>audio</th></tr>${rows}</table>${more}`;
}

/** One example per class (its first readable clip, up to 10 s): a log-mel figure and an audio player. */
async function examplesHtml(r: DatasetInspection, dir: string, maxClasses = 40): Promise<string> {
  const cells: string[] = [];
  for (const cls of r.classes.slice(0, maxClasses)) {
    const c = r.clips.find((x) => !x.error && x.labels[0] === cls);
    if (!c) continue;
    try {
      const a = await loadAudio(c.path, { duration: 10 });
      const sr = a.sampleRate;
      const hop = Math.max(1, Math.round(sr / 100));
      const cfg = {
        format: 'mel' as const,
        sampleRate: sr,
        nFft: 2 ** Math.ceil(Math.log2(sr / 25)),
        hopLength: hop,
        nMels: 64,
        fmin: 0,
        fmax: sr / 2,
      };
      const f = computeFeatures(a.channels[0]!, sr, cfg);
      const svg = spectrogramFigureSvg(f, {
        sampleRate: sr,
        hopLength: hop,
        fmin: 0,
        fmax: sr / 2,
        panelTitles: [`${cls}: ${c.id}`],
        width: 360,
        panelHeight: 120,
      });
      cells.push(
        `<div class="example"><div>${svg}</div><audio controls preload="none" src="${escapeHtml(encodeURI(relative(dir, c.path)))}"></audio></div>`,
      );
    } catch {
      // An example that cannot be drawn is left out; the clip is listed among the unreadable ones if it is.
    }
  }
  return cells.length ? `<h3>Examples, one per class (log-mel, first 10 s)</h3>${cells.join('\n')}` : '';
}

/** Duration histograms per split (train vs test, or per fold), one row each, as shares of the split's
 * clips so splits of different sizes compare; shared bins. */
async function splitDurations(
  r: DatasetInspection,
  durData: { split: string }[],
): Promise<Section['blocks'][number]> {
  const names = Object.keys(r.summary.splits);
  const folds = names.every((s) => s.startsWith('fold '));
  return {
    kind: 'chart',
    chart: await chart(
      'durations-by-split',
      `Clip durations, ${folds ? 'per fold' : names.join(' vs ')} (share of each ${folds ? 'fold' : 'split'}'s clips)`,
      {
        data: { values: durData },
        transform: [
          { joinaggregate: [{ op: 'count', as: 'splitClips' }], groupby: ['split'] },
          { calculate: '1 / datum.splitClips', as: 'share' },
        ],
        facet: { row: n('split', folds ? 'fold' : 'split', { sort: names }) },
        spec: {
          width: 360,
          height: 90,
          mark: 'bar',
          encoding: {
            x: q('seconds', 'duration (s)', { bin: { maxbins: 40 } }),
            y: {
              aggregate: 'sum',
              field: 'share',
              type: 'quantitative',
              title: 'share',
              axis: { format: '.0%' },
            },
            color: n('split', folds ? 'fold' : 'split', { legend: null }),
          },
        },
      } as Parameters<typeof chart>[2],
    ),
  };
}

/** Writes the dataset report to `file` (charts in charts/ beside it). */
export async function writeDatasetReport(file: string, r: DatasetInspection, source: string): Promise<void> {
  const dir = dirname(resolve(file));
  const ok = r.clips.filter((c) => !c.error);
  const counts = new Map<string, number>();
  const stacked: { class: string; subset: string; clips: number }[] = [];
  const key = new Map<string, number>();
  for (const c of r.clips)
    for (const l of c.labels) {
      counts.set(l, (counts.get(l) ?? 0) + 1);
      const k = `${l}\u0000${c.subset}`;
      key.set(k, (key.get(k) ?? 0) + 1);
    }
  for (const [k, v] of key) {
    const [cls, subset] = k.split('\u0000') as [string, string];
    stacked.push({ class: cls, subset, clips: v });
  }
  const order = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([c]) => c);
  const tall = Math.max(200, 14 * order.length);
  const durData = ok.map((c) => ({
    class: c.labels[0] ?? '(none)',
    subset: c.subset,
    split: c.split,
    seconds: c.duration,
    peak: 20 * Math.log10(Math.max(c.peak, 1e-10)),
  }));
  const fmtRows = Object.entries(r.summary.formats).sort((a, b) => b[1] - a[1]);
  const blocks: Section['blocks'] = [
    {
      kind: 'table',
      head: [
        'clips',
        'unreadable',
        'classes',
        'task',
        'hours',
        'min s',
        'median s',
        'max s',
        'unusual lengths',
        'silent',
        'clipped',
      ],
      rows: [
        [
          r.summary.clips,
          r.summary.unreadable,
          r.summary.classes,
          r.multiLabel ? 'multi-label' : 'single-label',
          r.summary.totalHours,
          r.summary.duration.min,
          r.summary.duration.median,
          r.summary.duration.max,
          r.unusualLength.length,
          r.silent.length,
          r.clipped.length,
        ],
      ],
    },
    {
      kind: 'chart',
      chart: await chart('class-counts', 'Clips per class (stacked by subset)', {
        data: { values: stacked },
        width: 360,
        height: tall,
        mark: 'bar',
        encoding: {
          y: n('class', 'class', { sort: order }),
          x: q('clips', 'clips', { stack: 'zero' }),
          color: n('subset', 'subset'),
        },
      }),
    },
    {
      kind: 'chart',
      chart: await chart('durations', 'Clip durations (all classes)', {
        data: { values: durData },
        width: 360,
        height: 240,
        mark: 'bar',
        encoding: {
          x: q('seconds', 'duration (s)', { bin: { maxbins: 40 } }),
          y: { aggregate: 'count', type: 'quantitative', title: 'clips' },
          color: n('subset', 'subset'),
        },
      }),
    },
    ...(Object.keys(r.summary.splits).length > 1 ? [await splitDurations(r, durData)] : []),
    {
      kind: 'chart',
      chart: await chart('durations-per-class', 'Duration per class (box: quartiles, whiskers: 1.5 IQR)', {
        data: { values: durData },
        width: 360,
        height: tall,
        mark: { type: 'boxplot', extent: 1.5 },
        encoding: { y: n('class', 'class', { sort: order }), x: q('seconds', 'duration (s)') },
      }),
    },
    {
      kind: 'chart',
      chart: await chart(
        'peak-levels',
        `Peak level per clip (silent below ${20 * Math.log10(SILENT_PEAK)} dBFS, clipped at 0)`,
        {
          data: { values: durData },
          width: 360,
          height: 240,
          mark: 'bar',
          encoding: {
            x: q('peak', 'peak level (dBFS)', { bin: { maxbins: 40 } }),
            y: { aggregate: 'count', type: 'quantitative', title: 'clips' },
          },
        },
      ),
    },
    {
      kind: 'chart',
      chart: await chart('formats', 'Sample rate, channels and codec', {
        data: { values: fmtRows.map(([format, clips]) => ({ format, clips })) },
        width: 300,
        height: Math.max(60, 24 * fmtRows.length),
        mark: 'bar',
        encoding: { y: n('format', 'format', { sort: '-x' }), x: q('clips', 'clips') },
      }),
    },
    { kind: 'table', title: 'Formats', head: ['sample rate, channels, codec', 'clips'], rows: fmtRows },
  ];
  if (r.multiLabel) {
    const card = new Map<number, number>();
    for (const c of r.clips) card.set(c.labels.length, (card.get(c.labels.length) ?? 0) + 1);
    blocks.push({
      kind: 'chart',
      chart: await chart('label-cardinality', 'Labels per clip', {
        data: { values: [...card].map(([labels, clips]) => ({ labels, clips })) },
        width: 300,
        height: 200,
        mark: 'bar',
        encoding: { x: n('labels', 'labels per clip'), y: q('clips', 'clips') },
      }),
    });
    const co = new Map<string, number>();
    for (const c of r.clips)
      for (const a of c.labels)
        for (const b of c.labels) if (a !== b) co.set(`${a}\u0000${b}`, (co.get(`${a}\u0000${b}`) ?? 0) + 1);
    const coData = [...co].map(([k, v]) => {
      const [a, b] = k.split('\u0000');
      return { a, b, clips: v };
    });
    blocks.push({
      kind: 'chart',
      chart: await chart('co-occurrence', 'Label co-occurrence (clips holding both)', {
        data: { values: coData.length ? coData : [{ a: order[0], b: order[0], clips: 0 }] },
        width: Math.max(200, 12 * order.length),
        height: Math.max(200, 12 * order.length),
        mark: 'rect',
        encoding: {
          x: n('a', 'label', { sort: order }),
          y: n('b', 'label', { sort: order }),
          color: q('clips', 'clips', { scale: { scheme: 'viridis' } }),
        },
      }),
    });
  }
  const fromTo = `${r.summary.usualDuration[0].toFixed(3)}–${r.summary.usualDuration[1].toFixed(3)} s`;
  blocks.push({
    kind: 'html',
    html:
      flaggedTable(`Unusual lengths (outside ${fromTo})`, r.unusualLength, r, dir) +
      flaggedTable(`Silent clips (peak below ${20 * Math.log10(SILENT_PEAK)} dBFS)`, r.silent, r, dir) +
      flaggedTable(`Clipped clips (≥ ${CLIPPED_SHARE * 100} % of samples at full scale)`, r.clipped, r, dir) +
      (await examplesHtml(r, dir)) +
      flaggedTable(
        'Unreadable clips',
        r.clips.filter((c) => c.error).map((c) => c.id),
        r,
        dir,
      ),
  });
  writeReport(
    file,
    `Dataset report: ${source}`,
    [{ title: 'Overview', blocks }],
    `${source} · written ${new Date().toISOString()}`,
  );
}
