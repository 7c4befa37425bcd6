// `audiotag dataset convert`: lays any labelled dataset out the way a competition laid out its data, so a
// recipe (configs/recipes/, docs/recipes.md) runs on it unchanged:
//   fat2019  — train_curated.csv / train_noisy.csv (fname,labels), train_curated/, train_noisy/, test/,
//              sample_submission.csv (fname + one column per class); the noisy set's labels corrupted at a
//              known rate (the truth in train_noisy_truth.csv);
//   fsd2018  — train.csv (fname,label,manually_verified), audio_train/, audio_test/, sample_submission.csv
//              (fname,label);
//   speech30 — Speech Commands: <word>/<speaker>_nohash_<n>.ext, validation_list.txt, testing_list.txt,
//              _background_noise_/ (when noise files are given), sample_submission.csv (fname,label);
//   birdclef — train_metadata.csv (primary_label,secondary_labels,filename,...) over train_audio/<label>/,
//              train_soundscapes/ (held-out clips concatenated), train_soundscapes_labels.csv (one row per
//              5-s window: row_id,site,audio_id,seconds,birds), sample_submission.csv (row_id + classes).
// Every layout also gets test_labels.csv (the held-out truth, for `audiotag score`; not part of the
// competition's files) and convert.json (what was done). Deterministic from the seed.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, extname, join, relative, resolve } from 'node:path';
import { loadAudio, writeWav } from '../audio/io.js';
import { OptionError } from '../core/errors.js';
import { concatFloat32 } from '../core/ndarray.js';
import { mixSeed, Random, STREAM } from '../core/random.js';
import { corruptLabels } from '../noisy/labels.js';
import { makeFolds } from './folds.js';
import { loadManifest, type ManifestSpec } from './manifests.js';
import type { Dataset, Item } from './types.js';

export const CONVERT_TARGETS = ['fat2019', 'fsd2018', 'speech30', 'birdclef'] as const;
export type ConvertTarget = (typeof CONVERT_TARGETS)[number];

export interface ConvertOptions {
  to: ConvertTarget;
  /** Output folder (created; must be empty or absent unless `force`). */
  out: string;
  seed?: number;
  /** Copy the audio instead of linking it (default: symbolic links). */
  copy?: boolean;
  force?: boolean;
  /** Share of clips held out as the test set when the source has no folds (default 0.2). */
  testFraction?: number;
  /** The source's fold value to hold out (default: its last fold, when every item has one). */
  testFold?: number;
  /** Keep at most this many clips per class (seeded choice), for quick runs. */
  perClass?: number;
  /** fat2019: share of the training clips in the noisy set (default 0.5). */
  noisyFraction?: number;
  /** fat2019: share of noisy clips whose labels are corrupted (default 0.3). */
  noisyRate?: number;
  /** fsd2018: share of training clips marked manually_verified = 1 (default 0.6). */
  verifiedFraction?: number;
  /** speech30: share of the training speakers/clips in validation_list.txt (default 0.1). */
  validFraction?: number;
  /** speech30: noise files (or folders) linked into _background_noise_/. */
  backgroundNoise?: string[];
  /** birdclef: held-out clips per soundscape (default 12). */
  clipsPerSoundscape?: number;
  /** birdclef: soundscape sample rate (default 32000). */
  soundscapeRate?: number;
}

export interface ConvertSummary {
  to: ConvertTarget;
  out: string;
  source: string;
  seed: number;
  classes: string[];
  /** How the test set was chosen. */
  testSplit: string;
  /** Clips per part (curated, noisy, train, validation, test, soundscapes...). */
  counts: Record<string, number>;
  /** Files written, relative to out. */
  files: string[];
}

/** Independent random streams of a conversion (mixSeed(seed, STREAM.order, CONVERT_STREAM.x)). */
const CONVERT_STREAM = { perClass: 1, test: 2, noisy: 3, corrupt: 4, verified: 5, valid: 6, soundscape: 7 };

function rngFor(seed: number, stream: number): Random {
  return new Random(mixSeed(seed, STREAM.order, stream));
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function writeCsv(path: string, header: string[], rows: (string | number)[][]): void {
  const lines = [
    header.map(csvField).join(','),
    ...rows.map((r) => r.map((v) => csvField(String(v))).join(',')),
  ];
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/** Class names become folder names and CSV cells: reject what would break either. */
function checkClassNames(classes: readonly string[], to: ConvertTarget): void {
  const bad = classes.filter(
    (c) =>
      c.trim() !== c ||
      c === '' ||
      /[/\\\0]/.test(c) ||
      c === '.' ||
      c === '..' ||
      (to === 'fat2019' && c.includes(',')) ||
      ((to === 'fsd2018' || to === 'birdclef') && /\s/.test(c)) ||
      (to === 'speech30' && c.startsWith('_')),
  );
  if (bad.length > 0)
    throw new Error(
      `the ${to} layout: class name${bad.length > 1 ? 's' : ''} ${bad.map((c) => JSON.stringify(c)).join(', ')} cannot be used in this layout (no slashes${to === 'fat2019' ? ', commas' : ''}${to === 'fsd2018' || to === 'birdclef' ? ', spaces' : ''}${to === 'speech30' ? ', leading underscore' : ''}; rename the classes first)`,
    );
}

/** At most `n` items per (primary) class, chosen by the seed, in the dataset's order. */
function keepPerClass(items: Item[], n: number, seed: number): Item[] {
  const rng = rngFor(seed, CONVERT_STREAM.perClass);
  const byClass = new Map<string, number[]>();
  items.forEach((it, i) => {
    const c = it.labels[0] ?? '';
    byClass.set(c, [...(byClass.get(c) ?? []), i]);
  });
  const keep = new Set<number>();
  for (const idx of byClass.values()) for (const i of rng.shuffle([...idx]).slice(0, n)) keep.add(i);
  return items.filter((_, i) => keep.has(i));
}

/** Test items: the source's chosen (or last) fold when every item has one, else a seeded stratified (and,
 * with groups, group-aware) share. */
function splitTest(
  ds: Dataset,
  seed: number,
  testFraction: number,
  testFold: number | undefined,
): { test: Set<number>; how: string } {
  const items = ds.items;
  if (items.length > 0 && items.every((it) => it.fold !== undefined)) {
    const folds = [...new Set(items.map((it) => it.fold!))].sort((a, b) => a - b);
    const f = testFold ?? folds[folds.length - 1]!;
    if (!folds.includes(f))
      throw new OptionError('testFold', `${f} is not one of the source's folds (${folds.join(', ')})`);
    const test = new Set(items.flatMap((it, i) => (it.fold === f ? [i] : [])));
    return { test, how: `the source's fold ${f} (${test.size} clips)` };
  }
  if (testFold !== undefined) throw new OptionError('testFold', 'needs a source whose items all have folds');
  const groups = new Set(items.map((it) => it.group ?? it.id)).size;
  const k = Math.max(2, Math.min(Math.round(1 / testFraction), groups));
  const plan = makeFolds(ds, { k, seed: mixSeed(seed, STREAM.order, CONVERT_STREAM.test) });
  const test = new Set(items.flatMap((_, i) => (plan.assignment[i] === 0 ? [i] : [])));
  return { test, how: `fold 0 of ${k} (${plan.strategy}, seed ${seed}; ${test.size} clips)` };
}

/** Flat, unique output names for items (a source's sub-folders flattened). */
function flatNames(items: readonly Item[]): string[] {
  const used = new Set<string>();
  return items.map((it) => {
    const base = basename(it.id).replace(/[,"\s]+/g, '_');
    let name = base;
    const ext = extname(base);
    for (let n = 1; used.has(name); n++) name = `${base.slice(0, base.length - ext.length)}-${n}${ext}`;
    used.add(name);
    return name;
  });
}

class AudioPlacer {
  readonly files: string[] = [];
  constructor(
    readonly out: string,
    readonly copy: boolean,
  ) {}
  place(src: string, rel: string): void {
    const dst = join(this.out, rel);
    mkdirSync(join(dst, '..'), { recursive: true });
    if (this.copy) copyFileSync(src, dst);
    else symlinkSync(resolve(src), dst);
  }
}

function prepareOut(out: string, force: boolean | undefined): void {
  if (existsSync(out) && readdirSync(out).length > 0) {
    if (!force) throw new OptionError('out', `${out} is not empty (force replaces its content)`);
    rmSync(out, { recursive: true, force: true });
  }
  mkdirSync(out, { recursive: true });
}

/** Converts the dataset `source` reads into the `to` layout under `out`. */
export async function convertDataset(source: ManifestSpec, opts: ConvertOptions): Promise<ConvertSummary> {
  const seed = opts.seed ?? 0;
  const frac = (name: string, v: number | undefined, dflt: number, lo = 0, hi = 1) => {
    const x = v ?? dflt;
    if (!(x >= lo && x <= hi)) throw new OptionError(name, `must be in [${lo}, ${hi}], got ${x}`);
    return x;
  };
  const testFraction = frac('testFraction', opts.testFraction, 0.2, 0.01, 0.9);
  const { dataset: loaded } = await loadManifest(source);
  let items = loaded.items.filter((it) => it.labels.length > 0);
  if (items.length === 0) throw new Error(`dataset convert: ${source.path} has no labelled clips`);
  if (opts.perClass !== undefined) items = keepPerClass(items, opts.perClass, seed);
  const ds: Dataset = { ...loaded, items };
  const classes = loaded.classes.filter((c) => items.some((it) => it.labels.includes(c)));
  checkClassNames(classes, opts.to);
  if (opts.to !== 'fat2019' && items.some((it) => it.labels.length > 1))
    throw new Error(
      `the ${opts.to} layout is single-label, but ${items.filter((it) => it.labels.length > 1).length} clip(s) have several labels (first: ${items.find((it) => it.labels.length > 1)!.id})`,
    );
  const { test, how } = splitTest(ds, seed, testFraction, opts.testFold);
  const trainIdx = items.map((_, i) => i).filter((i) => !test.has(i));
  const testIdx = items.map((_, i) => i).filter((i) => test.has(i));
  if (trainIdx.length === 0 || testIdx.length === 0)
    throw new Error(
      `dataset convert: the split left ${trainIdx.length} training and ${testIdx.length} test clips`,
    );
  const out = resolve(opts.out);
  prepareOut(out, opts.force);
  const placer = new AudioPlacer(out, opts.copy === true);
  const summary: ConvertSummary = {
    to: opts.to,
    out,
    source: resolve(source.path),
    seed,
    classes,
    testSplit: how,
    counts: {},
    files: [],
  };
  const names = flatNames(items);
  switch (opts.to) {
    case 'fat2019': {
      const noisyFraction = frac('noisyFraction', opts.noisyFraction, 0.5);
      const noisyRate = frac('noisyRate', opts.noisyRate, 0.3);
      // Per class, a seeded share of the training clips goes to the noisy set (at least one stays curated).
      const rng = rngFor(seed, CONVERT_STREAM.noisy);
      const byClass = new Map<string, number[]>();
      for (const i of trainIdx)
        byClass.set(items[i]!.labels[0]!, [...(byClass.get(items[i]!.labels[0]!) ?? []), i]);
      const noisy = new Set<number>();
      for (const idx of byClass.values()) {
        const n = Math.min(idx.length - 1, Math.round(idx.length * noisyFraction));
        for (const i of rng.shuffle([...idx]).slice(0, n)) noisy.add(i);
      }
      const curatedIdx = trainIdx.filter((i) => !noisy.has(i));
      const noisyIdx = trainIdx.filter((i) => noisy.has(i));
      const corrupted = corruptLabels(
        noisyIdx.map((i) => items[i]!.labels),
        classes,
        { rate: noisyRate, seed: mixSeed(seed, STREAM.order, CONVERT_STREAM.corrupt) },
      );
      for (const i of curatedIdx) placer.place(items[i]!.path, `train_curated/${names[i]}`);
      for (const i of noisyIdx) placer.place(items[i]!.path, `train_noisy/${names[i]}`);
      for (const i of testIdx) placer.place(items[i]!.path, `test/${names[i]}`);
      writeCsv(
        join(out, 'train_curated.csv'),
        ['fname', 'labels'],
        curatedIdx.map((i) => [names[i]!, items[i]!.labels.join(',')]),
      );
      writeCsv(
        join(out, 'train_noisy.csv'),
        ['fname', 'labels'],
        noisyIdx.map((i, j) => [names[i]!, corrupted[j]!.labels.join(',')]),
      );
      writeCsv(
        join(out, 'train_noisy_truth.csv'),
        ['fname', 'labels', 'corruption'],
        noisyIdx.map((i, j) => [names[i]!, corrupted[j]!.trueLabels.join(','), corrupted[j]!.corruption]),
      );
      writeCsv(
        join(out, 'sample_submission.csv'),
        ['fname', ...classes],
        testIdx.map((i) => [names[i]!, ...classes.map(() => 0)]),
      );
      writeCsv(
        join(out, 'test_labels.csv'),
        ['fname', 'labels'],
        testIdx.map((i) => [names[i]!, items[i]!.labels.join(',')]),
      );
      summary.counts = {
        curated: curatedIdx.length,
        noisy: noisyIdx.length,
        noisyCorrupted: corrupted.filter((c) => c.corruption !== '').length,
        test: testIdx.length,
      };
      summary.files = [
        'train_curated.csv',
        'train_noisy.csv',
        'train_noisy_truth.csv',
        'sample_submission.csv',
        'test_labels.csv',
        'train_curated/',
        'train_noisy/',
        'test/',
      ];
      break;
    }
    case 'fsd2018': {
      const verifiedFraction = frac('verifiedFraction', opts.verifiedFraction, 0.6);
      const rng = rngFor(seed, CONVERT_STREAM.verified);
      const order = rng.permutation(trainIdx.length);
      const nVerified = Math.round(trainIdx.length * verifiedFraction);
      const verified = new Set(order.slice(0, nVerified).map((j) => trainIdx[j]!));
      for (const i of trainIdx) placer.place(items[i]!.path, `audio_train/${names[i]}`);
      for (const i of testIdx) placer.place(items[i]!.path, `audio_test/${names[i]}`);
      writeCsv(
        join(out, 'train.csv'),
        ['fname', 'label', 'manually_verified'],
        trainIdx.map((i) => [names[i]!, items[i]!.labels[0]!, verified.has(i) ? 1 : 0]),
      );
      // The 2018 sample submission: every row the same three labels.
      const guess = classes.slice(0, 3).join(' ');
      writeCsv(
        join(out, 'sample_submission.csv'),
        ['fname', 'label'],
        testIdx.map((i) => [names[i]!, guess]),
      );
      writeCsv(
        join(out, 'test_labels.csv'),
        ['fname', 'label'],
        testIdx.map((i) => [names[i]!, items[i]!.labels[0]!]),
      );
      summary.counts = { train: trainIdx.length, verified: nVerified, test: testIdx.length };
      summary.files = [
        'train.csv',
        'sample_submission.csv',
        'test_labels.csv',
        'audio_train/',
        'audio_test/',
      ];
      break;
    }
    case 'speech30': {
      const validFraction = frac('validFraction', opts.validFraction, 0.1, 0, 0.9);
      // File names keep the speaker (the group) before _nohash_, as Speech Commands does.
      const counter = new Map<string, number>();
      const rel = items.map((it, i) => {
        const speaker = (it.group ?? basename(it.id, extname(it.id))).replace(/[^A-Za-z0-9-]+/g, '-');
        const key = `${it.labels[0]}/${speaker}`;
        const n = counter.get(key) ?? 0;
        counter.set(key, n + 1);
        return `${it.labels[0]}/${speaker}_nohash_${n}${extname(names[i]!).toLowerCase()}`;
      });
      let validIdx: number[] = [];
      if (validFraction > 0) {
        const trainDs: Dataset = { ...ds, items: trainIdx.map((i) => items[i]!) };
        // Whole speakers go to validation (as Speech Commands' hash split does): at most one fold per speaker.
        const groups = new Set(trainDs.items.map((it) => it.group ?? it.id)).size;
        const k = Math.max(2, Math.min(Math.round(1 / validFraction), groups));
        const plan = makeFolds(trainDs, { k, seed: mixSeed(seed, STREAM.order, CONVERT_STREAM.valid) });
        validIdx = trainIdx.filter((_, j) => plan.assignment[j] === 0);
      }
      items.forEach((it, i) => {
        placer.place(it.path, rel[i]!);
      });
      writeFileSync(join(out, 'validation_list.txt'), validIdx.map((i) => `${rel[i]}\n`).join(''));
      writeFileSync(join(out, 'testing_list.txt'), testIdx.map((i) => `${rel[i]}\n`).join(''));
      writeCsv(
        join(out, 'sample_submission.csv'),
        ['fname', 'label'],
        testIdx.map((i) => [rel[i]!, classes[0]!]),
      );
      writeCsv(
        join(out, 'test_labels.csv'),
        ['fname', 'label'],
        testIdx.map((i) => [rel[i]!, items[i]!.labels[0]!]),
      );
      let noise = 0;
      for (const p of opts.backgroundNoise ?? []) {
        const files = existsSync(p) && !extname(p) ? readdirSync(p).map((f) => join(p, f)) : [p];
        for (const f of files.sort()) {
          if (!existsSync(f)) throw new OptionError('backgroundNoise', `${f}: no such file`);
          placer.place(f, `_background_noise_/${basename(f)}`);
          noise++;
        }
      }
      summary.counts = {
        train: trainIdx.length - validIdx.length,
        validation: validIdx.length,
        test: testIdx.length,
        backgroundNoise: noise,
      };
      summary.files = [
        'validation_list.txt',
        'testing_list.txt',
        'sample_submission.csv',
        'test_labels.csv',
        ...classes.map((c) => `${c}/`),
        ...(noise > 0 ? ['_background_noise_/'] : []),
      ];
      break;
    }
    case 'birdclef': {
      const per = opts.clipsPerSoundscape ?? 12;
      if (!Number.isInteger(per) || per < 1)
        throw new OptionError('clipsPerSoundscape', `must be an integer ≥ 1, got ${per}`);
      const rate = opts.soundscapeRate ?? 32000;
      for (const i of trainIdx)
        placer.place(items[i]!.path, `train_audio/${items[i]!.labels[0]}/${names[i]}`);
      writeCsv(
        join(out, 'train_metadata.csv'),
        ['primary_label', 'secondary_labels', 'filename', 'type', 'rating'],
        trainIdx.map((i) => [
          items[i]!.labels[0]!,
          '[]',
          `${items[i]!.labels[0]}/${names[i]}`,
          "['call']",
          4,
        ]),
      );
      // Soundscapes: the held-out clips in a seeded order, `per` at a time, each clip padded (or cut) to
      // whole 5-s windows so every window has one clip's label (or none, for padding).
      const order = rngFor(seed, CONVERT_STREAM.soundscape).shuffle([...testIdx]);
      const rows: (string | number)[][] = [];
      const solution: (string | number)[][] = [];
      const sub: (string | number)[][] = [];
      mkdirSync(join(out, 'train_soundscapes'), { recursive: true });
      const win = 5 * rate;
      let nScapes = 0;
      for (let s = 0; s * per < order.length; s++) {
        const members = order.slice(s * per, (s + 1) * per);
        const audioId = `${10000 + s}`;
        const site = 'SSW';
        const parts: Float32Array[] = [];
        const labelsPerWindow: string[] = [];
        for (const i of members) {
          const x = (await loadAudio(items[i]!.path, { sampleRate: rate })).channels[0]!;
          // Whole 5-s windows (at most two per clip); a tail under half a second is cut.
          const nWin = Math.max(1, Math.min(2, Math.ceil((x.length - rate / 2) / win)));
          const padded = new Float32Array(nWin * win);
          padded.set(x.subarray(0, padded.length));
          parts.push(padded);
          for (let w = 0; w < nWin; w++) {
            // A later window the clip barely reaches (under 1 s of it) is labelled nocall.
            const inside = Math.min(win, Math.max(0, x.length - w * win));
            labelsPerWindow.push(w === 0 || inside >= rate ? items[i]!.labels[0]! : 'nocall');
          }
        }
        const y = concatFloat32(parts);
        const file = `${audioId}_${site}_20210101.wav`;
        await writeWav(join(out, 'train_soundscapes', file), { sampleRate: rate, channels: [y] });
        labelsPerWindow.forEach((birds, w) => {
          const seconds = (w + 1) * 5;
          const rowId = `${audioId}_${site}_${seconds}`;
          rows.push([rowId, site, audioId, seconds, birds]);
          solution.push([rowId, ...classes.map((c) => (c === birds ? 1 : 0))]);
          sub.push([rowId, ...classes.map(() => 0)]);
        });
        nScapes++;
      }
      writeCsv(
        join(out, 'train_soundscapes_labels.csv'),
        ['row_id', 'site', 'audio_id', 'seconds', 'birds'],
        rows,
      );
      writeCsv(join(out, 'sample_submission.csv'), ['row_id', ...classes], sub);
      writeCsv(join(out, 'test_labels.csv'), ['row_id', ...classes], solution);
      summary.counts = {
        train: trainIdx.length,
        test: testIdx.length,
        soundscapes: nScapes,
        windows: rows.length,
      };
      summary.files = [
        'train_metadata.csv',
        'train_soundscapes_labels.csv',
        'sample_submission.csv',
        'test_labels.csv',
        'train_audio/',
        'train_soundscapes/',
      ];
      break;
    }
  }
  summary.files.push('convert.json');
  writeFileSync(
    join(out, 'convert.json'),
    `${JSON.stringify({ ...summary, out: relative(out, out) || '.' }, null, 2)}\n`,
  );
  return summary;
}

/**
 * A BirdCLEF submission from `audiotag predict --format windows` over the soundscapes (5-s windows from
 * 0 s): row `<audio_id>_<site>_<end seconds>` of the sample submission gets the scores of the window of
 * file `<audio_id>_<site>_*.ext` ending at that second. Rows without a window are an error naming them.
 */
export async function soundscapeSubmission(
  windowsCsv: string,
  template: string,
  out: string,
): Promise<{ rows: number; files: number }> {
  const { readCsv } = await import('./csv.js');
  const w = await readCsv(windowsCsv);
  const t = await readCsv(template);
  const classes = t.header.slice(1);
  const missingCols = ['file', 'start', 'end', ...classes].filter((c) => !w.header.includes(c));
  if (missingCols.length > 0)
    throw new Error(
      `${windowsCsv}: expected the columns file,start,end and one per class of ${template}; missing ${missingCols.slice(0, 5).join(', ')}${missingCols.length > 5 ? '...' : ''}`,
    );
  const fi = w.header.indexOf('file');
  const ei = w.header.indexOf('end');
  const si = w.header.indexOf('start');
  const ci = classes.map((c) => w.header.indexOf(c));
  const scores = new Map<string, string[]>();
  const files = new Set<string>();
  for (const r of w.rows) {
    const file = basename(r.fields[fi]!);
    files.add(file);
    const [audioId, site] = file.split('_');
    // The window [start, start + 5) ends at start + 5 even when the file ends earlier (the last window).
    const seconds = Math.round(Number(r.fields[si]) + 5);
    if (!Number.isFinite(seconds) || Number(r.fields[ei]) <= Number(r.fields[si])) continue;
    scores.set(
      `${audioId}_${site}_${seconds}`,
      ci.map((j) => r.fields[j]!),
    );
  }
  const missing: string[] = [];
  const lines = [t.header.map(csvField).join(',')];
  for (const r of t.rows) {
    const id = r.fields[0]!;
    const s = scores.get(id);
    if (!s) missing.push(id);
    lines.push([csvField(id), ...(s ?? classes.map(() => '0'))].join(','));
  }
  if (missing.length > 0)
    throw new Error(
      `${windowsCsv}: no 5-s window for ${missing.length} row(s) of ${template} (first: ${missing.slice(0, 3).join(', ')}); predict 5-s windows with a 5-s hop over train_soundscapes/`,
    );
  writeFileSync(out, `${lines.join('\n')}\n`);
  return { rows: t.rows.length, files: files.size };
}
