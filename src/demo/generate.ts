// Builds the demo data set into a cache folder: renders the plan's sources, mixes the clips and writes
// them as 16-bit 16 kHz WAV files with their manifests. The folder is written under a temporary name and
// renamed when complete, and demo.json records a digest of every file, so a cached set is either whole and
// unchanged or rebuilt.
//
//   <dir>/audio/{curated,test,noisy,long}/*.wav
//   <dir>/curated.csv   fname,labels,fold                              single-label clips, stratified folds
//   <dir>/noisy.csv     fname,labels,fold,true_labels,corruption       1-3 sources, labels partly wrong
//   <dir>/test.csv      fname,labels                                   held out: single clips + 2-source mixtures
//   <dir>/long.csv      fname,onset,offset,label                       events of the long recording (seconds)
//   <dir>/classes.txt   one class per line
//   <dir>/demo.json     seed, size, tool versions, counts, digest
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { encodeWav } from '../audio/wav.js';
import { addBackground, composeClip, place } from './compose.js';
import { CLIP_SAMPLES, type DemoPlan, type DemoSize, makePlan, SAMPLE_RATE } from './plan.js';
import { renderSources, toolVersions } from './render.js';

/** Bumped whenever a change makes the same seed produce different files; older caches are rebuilt. */
export const GENERATOR_VERSION = 1;

/** The default cache folder: $XDG_CACHE_HOME/audiotag/demo or ~/.cache/audiotag/demo. */
export function defaultDataRoot(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'audiotag', 'demo');
}

/** The folder of one (size, seed) data set under a root. */
export function dataSetDir(root: string, size: DemoSize, seed: number): string {
  return resolve(root, `${size.name}-seed${seed}`);
}

export interface DemoData {
  dir: string;
  curated: string;
  noisy: string;
  test: string;
  long: string;
  classes: string[];
  info: DemoInfo;
}

export interface DemoInfo {
  generator: number;
  seed: number;
  size: DemoSize;
  classes: string[];
  tools: Record<string, string>;
  counts: Record<string, number>;
  /** sha256 over every file's name and sha256, in name order. */
  digest: string;
  /** Seconds the generation took (informative). */
  seconds: number;
}

function dataOf(dir: string, info: DemoInfo): DemoData {
  return {
    dir,
    curated: join(dir, 'curated.csv'),
    noisy: join(dir, 'noisy.csv'),
    test: join(dir, 'test.csv'),
    long: join(dir, 'long.csv'),
    classes: info.classes,
    info,
  };
}

const q = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const csv = (rows: (string | number)[][]): string =>
  `${rows.map((r) => r.map((v) => q(String(v))).join(',')).join('\n')}\n`;

/** The files of a data set (relative names, sorted) from its manifests. */
function fileList(clips: readonly string[]): string[] {
  return [
    'curated.csv',
    'noisy.csv',
    'test.csv',
    'long.csv',
    'classes.txt',
    'audio/long/scene.wav',
    ...clips.map((f) => `audio/${f}`),
  ].sort();
}

async function digestOf(dir: string, files: readonly string[]): Promise<string> {
  const h = createHash('sha256');
  for (const f of files) {
    const bytes = await readFile(join(dir, f));
    h.update(`${f}\0${createHash('sha256').update(bytes).digest('hex')}\n`);
  }
  return h.digest('hex');
}

/** Index of the last sample above 1/100 of the peak (-40 dB: where a source stops being heard). */
function soundEnd(x: Float32Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]!));
  for (let i = x.length - 1; i >= 0; i--) if (Math.abs(x[i]!) > m * 1e-2) return i + 1;
  return 0;
}

export interface GenerateOptions {
  /** The data set's folder (see dataSetDir). */
  dir: string;
  seed: number;
  size: DemoSize;
  /** Parallel subprocesses (default: the core count). */
  jobs?: number;
  log?: (s: string) => void;
}

/** Generates the data set into `dir` (replacing what is there). */
export async function generateDemoData(o: GenerateOptions): Promise<DemoData> {
  const log = o.log ?? (() => {});
  const t0 = performance.now();
  const dir = resolve(o.dir);
  const tools = await toolVersions();
  const plan: DemoPlan = makePlan(o.seed, o.size);
  const tmp = `${dir}.partial-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  for (const sub of ['curated', 'test', 'noisy', 'long'])
    await mkdir(join(tmp, 'audio', sub), { recursive: true });
  log(
    `rendering ${plan.sources.length} sources (${plan.sources.filter((s) => s.kind === 'midi').length} MIDI phrases with FluidSynth, ` +
      `${plan.sources.filter((s) => s.kind === 'speech').length} words with espeak-ng)`,
  );
  const sources = await renderSources(plan, { jobs: o.jobs });
  const t1 = performance.now();
  log(`rendered in ${((t1 - t0) / 1000).toFixed(1)} s`);
  const silent = plan.sources.filter((s) => soundEnd(sources[s.id]!) === 0);
  if (silent.length > 0)
    throw new Error(
      `demo: ${silent.length} source(s) rendered silent, e.g. ${JSON.stringify(silent[0])}: the soundfont or espeak-ng data may be incomplete`,
    );
  log(`mixing ${plan.clips.length} clips and a ${plan.long.seconds} s recording`);
  const wav = (x: Float32Array): Uint8Array => encodeWav({ sampleRate: SAMPLE_RATE, channels: [x] });
  for (const clip of plan.clips)
    await writeFile(join(tmp, 'audio', clip.fname), wav(composeClip(clip, sources, CLIP_SAMPLES)));
  const scene = new Float32Array(plan.long.seconds * SAMPLE_RATE);
  const events: (string | number)[][] = [['fname', 'onset', 'offset', 'label']];
  for (const e of plan.long.events) {
    place(scene, sources[e.source]!, e);
    const end = Math.min(scene.length, e.offset + soundEnd(sources[e.source]!));
    events.push([
      'long/scene.wav',
      (e.offset / SAMPLE_RATE).toFixed(3),
      (end / SAMPLE_RATE).toFixed(3),
      e.label,
    ]);
  }
  await writeFile(join(tmp, 'audio', 'long', 'scene.wav'), wav(addBackground(scene, plan.long.noise)));

  const of = (split: string) => plan.clips.filter((c) => c.split === split);
  const byName = <T extends { fname: string }>(xs: T[]): T[] =>
    [...xs].sort((a, b) => (a.fname < b.fname ? -1 : 1));
  await writeFile(
    join(tmp, 'curated.csv'),
    csv([
      ['fname', 'labels', 'fold'],
      ...byName(of('curated')).map((c) => [c.fname, c.given.join(','), c.fold]),
    ]),
  );
  await writeFile(
    join(tmp, 'noisy.csv'),
    csv([
      ['fname', 'labels', 'fold', 'true_labels', 'corruption'],
      ...byName(of('noisy')).map((c) => [
        c.fname,
        c.given.join(','),
        c.fold,
        c.labels.join(','),
        c.corruption,
      ]),
    ]),
  );
  await writeFile(
    join(tmp, 'test.csv'),
    csv([['fname', 'labels'], ...byName(of('test')).map((c) => [c.fname, c.labels.join(',')])]),
  );
  await writeFile(join(tmp, 'long.csv'), csv(events));
  await writeFile(join(tmp, 'classes.txt'), `${plan.classes.join('\n')}\n`);

  log(`mixed and written in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  const files = fileList(plan.clips.map((c) => c.fname));
  const info: DemoInfo = {
    generator: GENERATOR_VERSION,
    seed: o.seed,
    size: o.size,
    classes: plan.classes,
    tools,
    counts: {
      sources: plan.sources.length,
      curated: of('curated').length,
      test: of('test').length,
      noisy: of('noisy').length,
      noisy_corrupted: of('noisy').filter((c) => c.corruption !== '').length,
      long_events: plan.long.events.length,
    },
    digest: await digestOf(tmp, files),
    seconds: Math.round((performance.now() - t0) / 100) / 10,
  };
  await writeFile(join(tmp, 'demo.json'), `${JSON.stringify(info, null, 2)}\n`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dirname(dir), { recursive: true });
  await rename(tmp, dir);
  return dataOf(dir, info);
}

/** Why the data set in `dir` cannot be used for (seed, size), or null when it is complete and unchanged. */
export async function checkDemoData(dir: string, seed: number, size: DemoSize): Promise<string | null> {
  const path = join(dir, 'demo.json');
  if (!existsSync(path)) return `${path} does not exist`;
  let info: DemoInfo;
  try {
    info = JSON.parse(readFileSync(path, 'utf8')) as DemoInfo;
  } catch (e) {
    return `${path} is not valid JSON (${(e as Error).message})`;
  }
  if (info.generator !== GENERATOR_VERSION)
    return `made by generator version ${info.generator}, not ${GENERATOR_VERSION}`;
  if (info.seed !== seed) return `made with seed ${info.seed}, not ${seed}`;
  if (JSON.stringify(info.size) !== JSON.stringify(size)) return `made for another size (${info.size?.name})`;
  const plan = makePlan(seed, size);
  const files = fileList(plan.clips.map((c) => c.fname));
  const missing = files.filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) return `${missing.length} file(s) missing, e.g. ${missing[0]}`;
  if ((await digestOf(dir, files)) !== info.digest)
    return 'files changed since they were generated (digest differs)';
  return null;
}

/** The data set for (seed, size) under `root`: reused when cached and valid, else generated. */
export async function ensureDemoData(o: {
  root: string;
  seed: number;
  size: DemoSize;
  jobs?: number;
  force?: boolean;
  log?: (s: string) => void;
}): Promise<{ data: DemoData; cached: boolean }> {
  const dir = dataSetDir(o.root, o.size, o.seed);
  const log = o.log ?? (() => {});
  if (!o.force) {
    const problem = await checkDemoData(dir, o.seed, o.size);
    if (problem === null) {
      const info = JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8')) as DemoInfo;
      return { data: dataOf(dir, info), cached: true };
    }
    if (existsSync(dir)) log(`cached data in ${dir} not used: ${problem}`);
  }
  return {
    data: await generateDemoData({ dir, seed: o.seed, size: o.size, jobs: o.jobs, log }),
    cached: false,
  };
}
