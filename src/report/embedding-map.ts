// The 2-D map of a run's validation clips for the training report: each finished fold's best model
// embeds its own validation clips (Tagger's embeddings: the input of the model's last Linear layer,
// averaged over a clip's windows), UMAP (umap-js, seeded from src/core/random) places them on a plane,
// and the chart colours them by class, one panel per fold (fold models' embedding spaces differ, so
// folds are not mixed). Each fold is computed once: fold<i>/embedding-map.json caches its points, keyed
// by the checkpoint's modification time and the clips.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../core/atomic-file.js';
import { Random } from '../core/random.js';
import { type Chart, chart } from './charts.js';

/** Seed of the UMAP layout (fixed: the same embeddings always give the same map). */
export const MAP_SEED = 15;
/** At most this many clips per fold are mapped (an evenly spaced subset beyond it). */
export const MAP_MAX_CLIPS = 3000;

export interface MapPoint {
  id: string;
  label: string;
  x: number;
  y: number;
}

/**
 * UMAP of `n` row vectors of width `dim` onto 2-D, seeded (same input and seed, same output). Fewer than
 * 4 rows give an empty layout (there are no neighbours to keep).
 */
export async function umap2d(
  data: Float32Array,
  n: number,
  dim: number,
  seed = MAP_SEED,
): Promise<number[][]> {
  if (n < 4) return [];
  const { UMAP } = await import('umap-js');
  const rng = new Random(seed);
  const rows = Array.from({ length: n }, (_, i) => Array.from(data.subarray(i * dim, (i + 1) * dim)));
  const u = new UMAP({
    nComponents: 2,
    nNeighbors: Math.min(15, n - 1),
    minDist: 0.1,
    nEpochs: 200,
    random: () => rng.random(),
  });
  return u.fit(rows);
}

interface FoldMap {
  model: number;
  ids: string[];
  points: MapPoint[];
}

/** The embeddings of clips (one mean vector per clip) by the model in `checkpointDir`. */
async function embedClips(
  checkpointDir: string,
  clips: { id: string; path: string }[],
): Promise<{ ids: string[]; data: Float32Array; dim: number }> {
  // Imported here: loading a model loads the engine, which a report without a map does not need.
  const { Tagger } = await import('../infer/tagger.js');
  const tagger = await Tagger.load(checkpointDir, { workers: 0 });
  const byId = new Map<string, Float32Array>();
  let dim = 0;
  try {
    await tagger.run(clips, {
      embeddings: true,
      onResult: (r) => {
        const e = r.embeddings;
        if (!e || e.dim === 0) return;
        dim = e.dim;
        const rows = e.data.length / e.dim;
        const mean = new Float32Array(e.dim);
        for (let w = 0; w < rows; w++)
          for (let k = 0; k < e.dim; k++) mean[k]! += e.data[w * e.dim + k]! / rows;
        byId.set(r.input.id, mean);
      },
      onError: () => {},
    });
  } finally {
    await tagger.dispose();
  }
  const ids = clips.map((c) => c.id).filter((id) => byId.has(id));
  const data = new Float32Array(ids.length * dim);
  ids.forEach((id, i) => {
    data.set(byId.get(id)!, i * dim);
  });
  return { ids, data, dim };
}

/** Evenly spaced subset of at most `max` items, in order. */
function spread<T>(xs: T[], max: number): T[] {
  if (xs.length <= max) return xs;
  return Array.from({ length: max }, (_, i) => xs[Math.floor((i * xs.length) / max)]!);
}

/**
 * The map of every finished fold (fold<i>/result.json written) whose validation clips are known, from
 * the cache or computed now. `label` names a clip's class (null: the clip is left out).
 */
export async function foldMaps(
  runDir: string,
  pathOf: (id: string) => string | undefined,
  label: (id: string) => string | null,
  readIds: (oofCsv: string) => string[],
): Promise<{ fold: number; points: MapPoint[] }[]> {
  if (!existsSync(runDir)) return [];
  const folds = readdirSync(runDir)
    .map((d) => /^fold(\d+)$/.exec(d))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  const out: { fold: number; points: MapPoint[] }[] = [];
  for (const f of folds) {
    const dir = join(runDir, `fold${f}`);
    const model = join(dir, 'best', 'model.safetensors');
    const oof = join(dir, 'oof.csv');
    if (!existsSync(join(dir, 'result.json')) || !existsSync(model) || !existsSync(oof)) continue;
    const clips = spread(
      readIds(oof)
        .map((id) => ({ id, path: pathOf(id) }))
        .filter((c): c is { id: string; path: string } => c.path !== undefined && label(c.id) !== null),
      MAP_MAX_CLIPS,
    );
    const mtime = statSync(model).mtimeMs;
    const cache = join(dir, 'embedding-map.json');
    const ids = clips.map((c) => c.id);
    if (existsSync(cache)) {
      try {
        const c = JSON.parse(readFileSync(cache, 'utf8')) as FoldMap;
        if (c.model === mtime && c.ids.length === ids.length && c.ids.every((id, i) => id === ids[i])) {
          out.push({ fold: f, points: c.points });
          continue;
        }
      } catch {
        // A damaged cache is computed again.
      }
    }
    const e = await embedClips(join(dir, 'best'), clips);
    const xy = await umap2d(e.data, e.ids.length, e.dim);
    const points = xy.map(([x, y], i) => ({
      id: e.ids[i]!,
      label: label(e.ids[i]!)!,
      x: Number(x!.toFixed(4)),
      y: Number(y!.toFixed(4)),
    }));
    writeJsonAtomic(cache, { model: mtime, ids, points } satisfies FoldMap);
    out.push({ fold: f, points });
  }
  return out;
}

/** The chart: one scatter panel per fold, points coloured by class, the clip name as tooltip. */
export async function embeddingMapChart(maps: { fold: number; points: MapPoint[] }[]): Promise<Chart | null> {
  const values = maps.flatMap((m) => m.points.map((p) => ({ ...p, fold: `fold ${m.fold}` })));
  if (values.length === 0) return null;
  const inner = {
    width: 300,
    height: 260,
    mark: { type: 'point', filled: true, size: 30, opacity: 0.8 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: 'UMAP 1', axis: { labels: false, ticks: false } },
      y: { field: 'y', type: 'quantitative', title: 'UMAP 2', axis: { labels: false, ticks: false } },
      color: { field: 'label', type: 'nominal', title: 'class' },
      tooltip: [{ field: 'id' }, { field: 'label' }],
    },
  };
  const spec =
    maps.length === 1
      ? { data: { values }, ...inner }
      : {
          data: { values },
          facet: { field: 'fold', type: 'nominal', title: null },
          columns: 3,
          spec: inner,
          resolve: { scale: { x: 'independent', y: 'independent' } },
        };
  return chart(
    'embeddings',
    `Validation clips' embeddings (UMAP, seed ${MAP_SEED}), coloured by class${maps.length > 1 ? ', one panel per fold' : ''}`,
    spec as Parameters<typeof chart>[2],
  );
}
