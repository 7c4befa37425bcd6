// `audiotag dataset mix`: multi-label clips made by overlaying 1–3 clips of a (single-label) dataset at
// random gains and offsets; the labels are the union of the sources'. The plan (which clips, gains,
// offsets) is a pure function of the seed; rendering follows it, so the same seed writes the same files.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadAudio, writeWav } from '../audio/io.js';
import { mixSeed, Random } from '../core/random.js';
import type { Item } from '../data/types.js';

export interface MixOptions {
  /** Mixtures to make. */
  count: number;
  seed: number;
  /** Sources per mixture, drawn uniformly in [minSources, maxSources]. */
  minSources?: number;
  maxSources?: number;
  /** Peak level of each source in dB relative to full scale, drawn uniformly in [min, max]. */
  gainDb?: [number, number];
}

export interface MixSource {
  /** Index into the items given to planMixtures. */
  index: number;
  id: string;
  /** Peak level of this source in the mixture (dBFS). */
  gainDb: number;
  /** Where it starts: this fraction of (mixture length − source length), 0 for the longest source. */
  offset: number;
}

export interface MixtureSpec {
  /** File name of the mixture, e.g. mix00042.wav. */
  name: string;
  sources: MixSource[];
  /** Union of the sources' labels, in first-seen order. */
  labels: string[];
}

/**
 * Draws the mixtures: the first source uniformly, each further one among the clips that add a label not
 * yet in the mixture (any clip when none does). Distinct clips within a mixture.
 */
export function planMixtures(items: readonly Pick<Item, 'id' | 'labels'>[], opts: MixOptions): MixtureSpec[] {
  const lo = opts.minSources ?? 1;
  const hi = opts.maxSources ?? 3;
  const [gLo, gHi] = opts.gainDb ?? [-12, 0];
  if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 1 && hi >= lo))
    throw new RangeError(`sources: expected 1 <= min <= max, got ${lo}..${hi}`);
  if (!(gLo <= gHi)) throw new RangeError(`gainDb: expected min <= max, got ${gLo}..${gHi}`);
  if (items.length < hi)
    throw new RangeError(`mix: ${items.length} clip(s) cannot give ${hi} distinct sources`);
  if (!(Number.isInteger(opts.count) && opts.count >= 1))
    throw new RangeError(`count: expected an integer >= 1, got ${opts.count}`);
  const width = String(opts.count - 1).length;
  const out: MixtureSpec[] = [];
  for (let m = 0; m < opts.count; m++) {
    const rng = new Random(mixSeed(opts.seed, m));
    const k = rng.int(lo, hi + 1);
    const chosen: number[] = [];
    const labels: string[] = [];
    for (let s = 0; s < k; s++) {
      const fresh: number[] = [];
      const any: number[] = [];
      items.forEach((it, i) => {
        if (chosen.includes(i)) return;
        any.push(i);
        if (it.labels.some((l) => !labels.includes(l))) fresh.push(i);
      });
      const i = rng.choice(fresh.length > 0 ? fresh : any);
      chosen.push(i);
      for (const l of items[i]!.labels) if (!labels.includes(l)) labels.push(l);
    }
    out.push({
      name: `mix${String(m).padStart(width, '0')}.wav`,
      labels,
      sources: chosen.map((i) => ({
        index: i,
        id: items[i]!.id,
        gainDb: rng.uniform(gLo, gHi),
        offset: rng.random(),
      })),
    });
  }
  return out;
}

function peak(x: Float32Array): number {
  let m = 0;
  for (const v of x) m = Math.max(m, Math.abs(v));
  return m;
}

/** Sums the sources as planned: each peak-normalised to its gain, placed at its offset in a mixture as
 * long as the longest source; the sum is scaled down when it would clip. */
export function renderMixture(sources: readonly Float32Array[], spec: MixtureSpec): Float32Array {
  const len = Math.max(...sources.map((s) => s.length));
  const y = new Float32Array(len);
  sources.forEach((x, q) => {
    const s = spec.sources[q]!;
    const p = peak(x);
    if (p === 0) return;
    const g = 10 ** (s.gainDb / 20) / p;
    const at = Math.floor(s.offset * (len - x.length));
    for (let i = 0; i < x.length; i++) y[at + i]! += x[i]! * g;
  });
  const p = peak(y);
  if (p > 0.98) for (let i = 0; i < y.length; i++) y[i]! *= 0.98 / p;
  return y;
}

/** Renders every planned mixture into `audioDir` as 16-bit WAV at `sampleRate`. */
export async function writeMixtures(
  items: readonly Item[],
  plan: readonly MixtureSpec[],
  audioDir: string,
  sampleRate: number,
  onProgress?: (done: number) => void,
): Promise<void> {
  await mkdir(audioDir, { recursive: true });
  const cache = new Map<number, Float32Array>();
  const load = async (i: number) => {
    let x = cache.get(i);
    if (!x) {
      x = (await loadAudio(items[i]!.path, { sampleRate })).channels[0]!;
      if (cache.size > 256) cache.clear();
      cache.set(i, x);
    }
    return x;
  };
  let done = 0;
  for (const spec of plan) {
    const sources = [];
    for (const s of spec.sources) sources.push(await load(s.index));
    await writeWav(join(audioDir, spec.name), { sampleRate, channels: [renderMixture(sources, spec)] });
    onProgress?.(++done);
  }
}
