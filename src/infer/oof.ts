// A run's out-of-fold predictions with their truth: what per-class ensemble weights (each model's OOF
// per-class lwlrap) and tuned thresholds (best F1 per class) are computed from. Reads the run's oof.csv
// and its manifest (as config.yaml says); no engine needed.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { parseCsv } from '../data/csv.js';
import { loadManifest } from '../data/index.js';
import { lwlrapPerClass } from '../metrics/index.js';
import type { ResolvedConfig } from '../train/config.js';
import { filterDataset, manifestSpec } from '../train/data.js';

export interface OofScores {
  run: string;
  /** Clip ids in file order. */
  ids: string[];
  /** [rows, C] in the order of `classes`. */
  scores: Float32Array;
  /** [rows, C] 0/1 truth. */
  hot: Uint8Array;
  classes: string[];
}

const cache = new Map<string, Promise<OofScores>>();

/** The OOF scores and truth of a run, in the class order given. */
export function readOof(run: string, classes: readonly string[]): Promise<OofScores> {
  const key = `${run}\0${classes.join('\0')}`;
  let p = cache.get(key);
  if (!p) {
    p = load(run, classes);
    cache.set(key, p);
  }
  return p;
}

async function load(run: string, classes: readonly string[]): Promise<OofScores> {
  const oofPath = join(run, 'oof.csv');
  const cfgPath = join(run, 'config.yaml');
  if (!existsSync(oofPath) || !existsSync(cfgPath))
    throw new Error(`${run}: no oof.csv or config.yaml, so no out-of-fold scores to weigh or tune with`);
  const table = parseCsv(readFileSync(oofPath, 'utf8'), oofPath);
  const cols = table.header.slice(1);
  const idx = classes.map((c) => {
    const i = cols.indexOf(c);
    if (i < 0) throw new Error(`${oofPath}: no column for class "${c}"`);
    return i + 1;
  });
  const config = YAML.parse(readFileSync(cfgPath, 'utf8')) as ResolvedConfig;
  const { dataset } = await loadManifest({ ...manifestSpec(config.data), checkFiles: false });
  const data = filterDataset(dataset, config.data.filter, true);
  const labels = new Map(data.items.map((it) => [it.id, it.labels]));
  const c = classes.length;
  const ids: string[] = [];
  const scores: number[] = [];
  const hot: number[] = [];
  for (const row of table.rows) {
    const id = row.fields[0]!;
    const ls = labels.get(id);
    if (!ls) continue;
    ids.push(id);
    for (let j = 0; j < c; j++) {
      scores.push(Number(row.fields[idx[j]!]));
      hot.push(ls.includes(classes[j]!) ? 1 : 0);
    }
  }
  if (ids.length === 0) throw new Error(`${oofPath}: none of its ids is in the run's manifest`);
  return { run, ids, scores: Float32Array.from(scores), hot: Uint8Array.from(hot), classes: [...classes] };
}

/** Per-class lwlrap of a run's OOF scores (classes without positives: 0). */
export async function oofClassWeights(run: string, classes: readonly string[]): Promise<number[]> {
  const o = await readOof(run, classes);
  const shape = [o.ids.length, classes.length];
  const { perClass } = lwlrapPerClass({ data: o.scores, shape }, { data: Float32Array.from(o.hot), shape });
  return Array.from(perClass, (v) => (Number.isFinite(v) ? v : 0));
}
