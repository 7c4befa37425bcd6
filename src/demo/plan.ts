// The demo data set's plan: every sound source (a General-MIDI phrase or a spoken word) and every clip
// (which sources, where, how loud, over which noise, with which labels), drawn from one seed. The plan is
// pure data: rendering (render.ts) and mixing (compose.ts) only follow it, so the same seed and size give
// the same files byte for byte, however many processes render them.
import { Random } from '../core/random.js';

/** A General-MIDI instrument class: its program (0-based) and a playable key range, or the drum kit. */
export interface InstrumentClass {
  label: string;
  program: number;
  low: number;
  high: number;
  drums?: boolean;
}

export const INSTRUMENTS: readonly InstrumentClass[] = [
  { label: 'piano', program: 0, low: 36, high: 96 },
  { label: 'marimba', program: 12, low: 48, high: 84 },
  { label: 'organ', program: 19, low: 36, high: 84 },
  { label: 'guitar', program: 24, low: 40, high: 76 },
  { label: 'bass', program: 33, low: 28, high: 55 },
  { label: 'violin', program: 40, low: 55, high: 96 },
  { label: 'cello', program: 42, low: 36, high: 72 },
  { label: 'trumpet', program: 56, low: 54, high: 84 },
  { label: 'saxophone', program: 65, low: 49, high: 81 },
  { label: 'flute', program: 73, low: 60, high: 96 },
  { label: 'drums', program: 0, low: 35, high: 81, drums: true },
];

/** Spoken command words (the Speech Commands set's core). */
export const WORDS: readonly string[] = ['yes', 'no', 'up', 'down', 'left', 'right', 'stop', 'go'];

/** Every class, instruments then words: the demo's label set. */
export const CLASSES: readonly string[] = [...INSTRUMENTS.map((i) => i.label), ...WORDS];

/** espeak-ng's English voices that ship in espeak-ng-data (not the mbrola ones, which need extra packages). */
export const ESPEAK_LANGUAGES: readonly string[] = [
  'en-us',
  'en-gb',
  'en-gb-scotland',
  'en-gb-x-rp',
  'en-gb-x-gbclan',
  'en-gb-x-gbcwmd',
  'en-029',
  'en-us-nyc',
];
/** espeak-ng voice variants (`-v LANG+VARIANT`): male, female and a few characters. */
export const ESPEAK_VARIANTS: readonly string[] = [
  'm1',
  'm2',
  'm3',
  'm4',
  'm5',
  'm6',
  'm7',
  'f1',
  'f2',
  'f3',
  'f4',
  'f5',
  'klatt',
  'croak',
  'whisper',
];

/** Drum-kit keys (GM percussion map) the drum patterns use: kicks, snares, toms, hats, cymbals. */
const DRUM_KEYS = [35, 36, 38, 40, 41, 42, 43, 45, 46, 47, 49, 51, 57];

export const SAMPLE_RATE = 16000;
/** Every clip's length (samples): 2 s. */
export const CLIP_SAMPLES = 2 * SAMPLE_RATE;
/** Rendered length of one source (s): a phrase is at most 1.6 s; the rest is its release and reverb. */
export const SOURCE_SECONDS = 2;

export type Split = 'curated' | 'test' | 'noisy' | 'long';

export interface MidiNote {
  /** ms from the source's start */
  at: number;
  key: number;
  velocity: number;
  duration: number;
}

export type SourceSpec =
  | {
      id: number;
      kind: 'midi';
      label: string;
      program: number;
      drums: boolean;
      notes: MidiNote[];
      /** CC91 reverb send and CC93 chorus send, 0..127 */
      reverb: number;
      chorus: number;
    }
  | {
      id: number;
      kind: 'speech';
      label: string;
      word: string;
      /** espeak-ng `-v` */
      voice: string;
      /** espeak-ng `-p` (0..99) and `-s` (words per minute) */
      pitch: number;
      speed: number;
    };

export type NoiseColor = 'white' | 'pink' | 'brown';

export interface Placement {
  source: number;
  /** Start in the clip (samples); the source is cut at the clip's end. */
  offset: number;
  /** Peak level of the source (dBFS) before the noise is added. */
  peakDb: number;
}

export interface ClipSpec {
  split: Exclude<Split, 'long'>;
  /** File name relative to the data set's audio/ folder, e.g. curated/c0007.wav */
  fname: string;
  placements: Placement[];
  noise: { color: NoiseColor; snrDb: number; hum: number; seed: number };
  /** The true labels (the union of the sources' classes), in class order. */
  labels: string[];
  /** What the manifest says: the true labels, or for noisy clips possibly corrupted ones. */
  given: string[];
  /** How the given labels were corrupted ('' when they are the truth). */
  corruption: '' | 'swap' | 'drop' | 'add';
  fold: number;
}

export interface LongEvent {
  source: number;
  label: string;
  /** Start (samples) in the long recording. */
  offset: number;
  peakDb: number;
}

export interface DemoSize {
  name: string;
  /** Single-label curated clips per class. */
  curatedPerClass: number;
  /** Single-label held-out test clips per class, plus two-source test mixtures. */
  testPerClass: number;
  testMixtures: number;
  /** Multi-label mixtures with noisy labels. */
  noisy: number;
  /** Folds of the curated (and noisy) set. */
  folds: number;
  /** Length of the long mixed recording (s). */
  longSeconds: number;
  /** Share of noisy clips whose labels are corrupted. */
  noiseRate: number;
  /** MIDI sources rendered by one FluidSynth process (each process loads the 148 MB soundfont); part of
   * the size, never the core count, so the output does not depend on how many processes run. */
  midiShard: number;
}

export const SIZES: Record<'tiny' | 'quick' | 'full', DemoSize> = {
  /** For tests: a few clips of every class. */
  tiny: {
    name: 'tiny',
    curatedPerClass: 2,
    testPerClass: 1,
    testMixtures: 2,
    noisy: 8,
    folds: 2,
    longSeconds: 6,
    noiseRate: 0.5,
    midiShard: 16,
  },
  quick: {
    name: 'quick',
    curatedPerClass: 12,
    testPerClass: 4,
    testMixtures: 12,
    noisy: 120,
    folds: 3,
    longSeconds: 20,
    noiseRate: 0.4,
    midiShard: 64,
  },
  // Sized so that `make demo` (set-up included) stays under 15 minutes on 2 cores (docs/demo.md).
  full: {
    name: 'full',
    curatedPerClass: 20,
    testPerClass: 6,
    testMixtures: 24,
    noisy: 200,
    folds: 3,
    longSeconds: 40,
    noiseRate: 0.4,
    midiShard: 64,
  },
};

export interface DemoPlan {
  seed: number;
  size: DemoSize;
  classes: string[];
  sources: SourceSpec[];
  clips: ClipSpec[];
  long: { seconds: number; events: LongEvent[]; noise: ClipSpec['noise'] };
  /** FluidSynth reverb room size of each shard of MIDI sources (see render.ts). */
  roomSizes: number[];
}

const pick = <T>(rng: Random, xs: readonly T[]): T => xs[rng.int(0, xs.length)]!;

function midiSource(id: number, cls: InstrumentClass, rng: Random): SourceSpec {
  const notes: MidiNote[] = [];
  if (cls.drums) {
    const hits = rng.int(2, 7);
    for (let i = 0; i < hits; i++)
      notes.push({
        at: 20 + rng.int(0, 1400),
        key: pick(rng, DRUM_KEYS),
        velocity: rng.int(50, 128),
        duration: 100,
      });
    notes.sort((a, b) => a.at - b.at || a.key - b.key);
  } else {
    // One held note, or a short phrase of 2-3 notes stepping within an octave.
    const count = rng.bernoulli(0.5) ? 1 : rng.int(2, 4);
    let key = rng.int(cls.low, cls.high + 1);
    let at = 20;
    const total = rng.uniform(300, 1600);
    for (let i = 0; i < count; i++) {
      const duration = Math.round(total / count);
      notes.push({ at, key, velocity: rng.int(40, 128), duration });
      at += duration;
      key = Math.min(cls.high, Math.max(cls.low, key + rng.int(-7, 8)));
    }
  }
  return {
    id,
    kind: 'midi',
    label: cls.label,
    program: cls.program,
    drums: cls.drums === true,
    notes,
    reverb: rng.int(0, 111),
    chorus: rng.int(0, 61),
  };
}

function speechSource(id: number, word: string, rng: Random): SourceSpec {
  return {
    id,
    kind: 'speech',
    label: word,
    word,
    voice: `${pick(rng, ESPEAK_LANGUAGES)}+${pick(rng, ESPEAK_VARIANTS)}`,
    pitch: rng.int(15, 86),
    speed: rng.int(110, 211),
  };
}

function noiseOf(rng: Random, snrLo: number, snrHi: number): ClipSpec['noise'] {
  return {
    color: pick(rng, ['white', 'pink', 'brown'] as const),
    snrDb: Math.round(rng.uniform(snrLo, snrHi) * 10) / 10,
    hum: rng.bernoulli(0.25) ? pick(rng, [50, 60]) : 0,
    seed: rng.nextUint32(),
  };
}

/** The plan of a data set: sources, clips, labels, folds. Pure: the same (seed, size) give the same plan. */
export function makePlan(seed: number, size: DemoSize): DemoPlan {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new RangeError(`demo: seed must be an integer 0..2^32-1, got ${seed}`);
  const rng = new Random(seed);
  const classes = [...CLASSES];
  const sources: SourceSpec[] = [];
  const newSource = (label: string): number => {
    const id = sources.length;
    const inst = INSTRUMENTS.find((c) => c.label === label);
    sources.push(inst ? midiSource(id, inst, rng) : speechSource(id, label, rng));
    return id;
  };
  const place = (source: number, maxOffset: number, peakLo: number, peakHi: number): Placement => ({
    source,
    offset: rng.int(0, Math.max(1, Math.round(maxOffset * SAMPLE_RATE))),
    peakDb: Math.round(rng.uniform(peakLo, peakHi) * 10) / 10,
  });
  const sortLabels = (ls: Iterable<string>): string[] =>
    [...new Set(ls)].sort((a, b) => classes.indexOf(a) - classes.indexOf(b));

  // Curated and test: one source per clip, clean-ish backgrounds (SNR 12-35 dB).
  const single = (split: 'curated' | 'test', label: string): ClipSpec => ({
    split,
    fname: '',
    placements: [place(newSource(label), 0.35, -9, -1)],
    noise: noiseOf(rng, 12, 35),
    labels: [label],
    given: [label],
    corruption: '',
    fold: -1,
  });
  const curated: ClipSpec[] = [];
  const test: ClipSpec[] = [];
  for (const label of classes) {
    for (let i = 0; i < size.curatedPerClass; i++) curated.push(single('curated', label));
    for (let i = 0; i < size.testPerClass; i++) test.push(single('test', label));
  }
  // Mixtures: 1-3 distinct classes at random relative levels over louder backgrounds (SNR 5-25 dB).
  const mixture = (split: 'test' | 'noisy', count: number): ClipSpec => {
    const labels = new Set<string>();
    while (labels.size < count) labels.add(pick(rng, classes));
    const placements = [...labels].map((l) => place(newSource(l), 0.6, -14, -2));
    const truth = sortLabels(labels);
    return {
      split,
      fname: '',
      placements,
      noise: noiseOf(rng, split === 'test' ? 10 : 5, 25),
      labels: truth,
      given: truth,
      corruption: '',
      fold: -1,
    };
  };
  for (let i = 0; i < size.testMixtures; i++) test.push(mixture('test', 2));
  const noisy: ClipSpec[] = [];
  for (let i = 0; i < size.noisy; i++) {
    const u = rng.random();
    const clip = mixture('noisy', u < 0.5 ? 1 : u < 0.85 ? 2 : 3);
    // Freesound 2019's noisy set: labels that are partly wrong. A corrupted clip gets one of: a true label
    // swapped for a wrong one, a true label dropped (only when another remains), a false label added.
    if (rng.bernoulli(size.noiseRate)) {
      const wrong = classes.filter((c) => !clip.labels.includes(c));
      const kind =
        clip.labels.length > 1
          ? pick(rng, ['swap', 'drop', 'add'] as const)
          : pick(rng, ['swap', 'add'] as const);
      const given = [...clip.labels];
      if (kind === 'swap') given[rng.int(0, given.length)] = pick(rng, wrong);
      else if (kind === 'drop') given.splice(rng.int(0, given.length), 1);
      else given.push(pick(rng, wrong));
      clip.given = sortLabels(given);
      clip.corruption = kind;
    }
    noisy.push(clip);
  }

  // Neutral file names in a shuffled order, so neither names nor order give the labels away.
  const name = (clips: ClipSpec[], prefix: string): void => {
    const order = rng.permutation(clips.length);
    order.forEach((slot, i) => {
      clips[i]!.fname = `${clips[i]!.split}/${prefix}${String(slot).padStart(4, '0')}.wav`;
    });
  };
  name(curated, 'c');
  name(test, 't');
  name(noisy, 'n');
  // Folds: curated stratified by class (each class dealt round the folds from a random start); noisy dealt
  // round the folds in a random order.
  for (const label of classes) {
    const own = curated.filter((c) => c.labels[0] === label);
    const order = rng.permutation(own.length);
    const start = rng.int(0, size.folds);
    order.forEach((j, i) => {
      own[j]!.fold = (start + i) % size.folds;
    });
  }
  rng.permutation(noisy.length).forEach((j, i) => {
    noisy[j]!.fold = i % size.folds;
  });

  // The long recording: events one after another with gaps, over one continuous background.
  const events: LongEvent[] = [];
  const longSamples = size.longSeconds * SAMPLE_RATE;
  let at = rng.int(0, SAMPLE_RATE);
  while (at + CLIP_SAMPLES <= longSamples) {
    const label = pick(rng, classes);
    events.push({
      source: newSource(label),
      label,
      offset: at,
      peakDb: Math.round(rng.uniform(-9, -2) * 10) / 10,
    });
    at += rng.int(Math.round(1.7 * SAMPLE_RATE), Math.round(3.5 * SAMPLE_RATE));
  }
  const long = { seconds: size.longSeconds, events, noise: noiseOf(rng, 12, 25) };

  const midiCount = sources.filter((s) => s.kind === 'midi').length;
  const roomSizes = Array.from(
    { length: Math.ceil(midiCount / size.midiShard) },
    () => Math.round(rng.uniform(0.2, 0.9) * 100) / 100,
  );
  return { seed, size, classes, sources, clips: [...curated, ...test, ...noisy], long, roomSizes };
}
