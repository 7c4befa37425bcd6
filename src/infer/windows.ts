// Cutting recordings into the windows a model scores, streamed: a file is read in chunks of CHUNK_SECONDS
// (WAV: only those bytes; other formats: ffmpeg seeks), each chunk resampled to the model's rate with a
// margin on both sides so the result equals resampling the whole file, and windows are cut as the samples
// arrive. Memory stays bounded by one chunk plus one window, however long the recording.
import { type Audio, AudioDecodeError, cropOrPad, resample } from '../audio/browser.js';
import { audioInfo, loadAudio } from '../audio/io.js';
import { OptionError } from '../core/errors.js';
import type { ModelInfo } from './backend.js';

/** How windows are cut, in samples at `sampleRate`. */
export interface WindowPlan {
  sampleRate: number;
  /** Samples per window. */
  length: number;
  /** Samples between window starts. */
  hop: number;
  /** A last window that runs past the end: zero-padded ('pad') or left out ('drop', unless it is the only one);
   * it is scored only when it covers more than MIN_TAIL of a window that no other window covers. */
  last: 'pad' | 'drop';
  /** A recording shorter than one window: where it sits and how the rest is filled. */
  short: { align: 'start' | 'center'; pad: 'constant' | 'wrap' };
  /** Test-time augmentation: copies of each window shifted back by k·hop/tta samples, k = 0..tta-1. */
  tta: number;
}

export interface WindowOptions {
  /** Window length in seconds (default: the model's). */
  window?: number;
  /** Seconds between window starts (default: half a window). */
  hop?: number;
  /** Seconds of overlap between windows (hop = window − overlap). */
  overlap?: number;
  last?: 'pad' | 'drop';
  tta?: number;
}

/** Default window of a model whose run scored whole clips of any length. */
export const WHOLE_CLIP_WINDOW_S = 10;

/** The window a model was trained on, in samples: its crop, its features.duration, or WHOLE_CLIP_WINDOW_S. */
export function modelWindowSamples(info: ModelInfo): number {
  const f = info.featureConfig;
  if (info.crop) {
    if (info.input === 'waveform') return info.crop.frames;
    // Exactly `frames` STFT frames: 1 + ⌊(n − nFft)/hop⌋ without centring, 1 + ⌊n/hop⌋ with it.
    return (info.crop.frames - 1) * f.hopLength + (f.center ? 0 : f.nFft);
  }
  if (f.duration !== null) return Math.round(f.duration * f.sampleRate);
  return Math.round(WHOLE_CLIP_WINDOW_S * f.sampleRate);
}

function positive(name: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isFinite(v) && v > 0))
    throw new OptionError(name, `must be a number of seconds > 0, got ${v}`);
}

export function windowPlan(info: ModelInfo, o: WindowOptions = {}): WindowPlan {
  const sr = info.featureConfig.sampleRate;
  positive('window', o.window);
  positive('hop', o.hop);
  if (o.hop !== undefined && o.overlap !== undefined)
    throw new OptionError('overlap', 'give hop or overlap, not both');
  const length = o.window !== undefined ? Math.round(o.window * sr) : modelWindowSamples(info);
  if (length < 1) throw new OptionError('window', `${o.window} s is shorter than one sample at ${sr} Hz`);
  let hop: number;
  if (o.overlap !== undefined) {
    if (!(Number.isFinite(o.overlap) && o.overlap >= 0 && o.overlap * sr < length))
      throw new OptionError(
        'overlap',
        `must be ≥ 0 and shorter than the window (${(length / sr).toFixed(3)} s), got ${o.overlap}`,
      );
    hop = length - Math.round(o.overlap * sr);
  } else hop = o.hop !== undefined ? Math.round(o.hop * sr) : Math.max(1, Math.floor(length / 2));
  if (hop < 1) throw new OptionError('hop', `${o.hop} s is shorter than one sample at ${sr} Hz`);
  const tta = o.tta ?? 1;
  if (!Number.isInteger(tta) || tta < 1) throw new OptionError('tta', `must be an integer ≥ 1, got ${tta}`);
  const f = info.featureConfig;
  return {
    sampleRate: sr,
    length,
    hop,
    last: o.last ?? 'pad',
    short: {
      align: !info.crop && f.duration !== null ? f.durationAlign : 'start',
      pad: info.crop?.pad === 'wrap' ? 'wrap' : 'constant',
    },
    tta,
  };
}

/** One window (or one TTA copy of it) ready to score. */
export interface Window {
  /** Index of the window in its file. */
  index: number;
  /** TTA copy, 0..tta-1. */
  copy: number;
  /** First sample (at plan.sampleRate) in the file; negative when it starts before the file. */
  start: number;
  samples: Float32Array;
}

/** A padded last window is scored only when the tail it adds is longer than this fraction of a window. */
export const MIN_TAIL = 0.05;

/** Seconds of audio read per chunk. */
export const CHUNK_SECONDS = 30;
/** Extra input read on each side of a chunk so resampling it equals resampling the whole file. */
const MARGIN_SECONDS = 0.1;

/** A recording as blocks of consecutive samples at `sampleRate`, and its duration in seconds. */
export interface SampleStream {
  /** Seconds, when known before reading. */
  duration: number | null;
  /** The file's own sample rate (null for samples given in memory at the target rate). */
  nativeRate: number | null;
  blocks: AsyncIterable<Float32Array>;
}

/** Streams a file (any supported format) at `sampleRate`, mono. */
export async function streamFile(
  path: string,
  sampleRate: number,
  chunkSeconds = CHUNK_SECONDS,
): Promise<SampleStream> {
  const info = await audioInfo(path);
  const sr = info.sampleRate;
  const total = info.frames;
  // Unknown length, or short enough: one read.
  if (!Number.isFinite(total) || total <= 2 * chunkSeconds * sr) {
    return {
      duration: Number.isFinite(info.duration) ? info.duration : null,
      nativeRate: sr,
      blocks: (async function* () {
        const a = await loadAudio(path, { mono: true });
        const x = a.channels[0]!;
        yield a.sampleRate === sampleRate ? x : resample(x, a.sampleRate, sampleRate);
      })(),
    };
  }
  const same = sr === sampleRate;
  const chunk = chunkSeconds * sr;
  const margin = same ? 0 : Math.round(MARGIN_SECONDS * sr);
  return {
    duration: total / sr,
    nativeRate: sr,
    blocks: (async function* () {
      for (let a = 0; a < total; a += chunk) {
        const b = Math.min(total, a + chunk);
        const from = Math.max(0, a - margin);
        const to = Math.min(total, b + margin);
        // The last chunk reads to the end: a compressed file's stated length can be short of the truth.
        const last = b === total;
        let audio: Audio;
        try {
          audio = await loadAudio(path, {
            mono: true,
            offset: from / sr,
            duration: last ? undefined : (to - from) / sr,
          });
        } catch (e) {
          // ...or beyond it: the stream simply ends there.
          if (a > 0 && e instanceof AudioDecodeError && /past the end|no samples|decoded no/.test(e.message))
            return;
          throw e;
        }
        const x = audio.channels[0]!;
        if (same) {
          yield x;
          continue;
        }
        const y = resample(x, sr, sampleRate);
        // Output sample k is at input time k·sr/sampleRate: the chunk [a, b) is output [a', b') of the piece.
        const lo = Math.round(((a - from) * sampleRate) / sr);
        const hi = last ? y.length : Math.round(((b - from) * sampleRate) / sr);
        yield y.slice(lo, Math.min(hi, y.length));
      }
    })(),
  };
}

/** Samples already in memory, at `sampleRate` (resampled when given at another rate). */
export function streamSamples(samples: Float32Array, rate: number, sampleRate: number): SampleStream {
  const x = rate === sampleRate ? samples : resample(samples, rate, sampleRate);
  return {
    duration: samples.length / rate,
    nativeRate: rate,
    blocks: (async function* () {
      yield x;
    })(),
  };
}

/**
 * The windows of a stream, in order, with their TTA copies. Holds one window plus one block of samples.
 * `onEnd` receives the number of samples seen.
 */
export async function* cutWindows(
  stream: AsyncIterable<Float32Array>,
  plan: WindowPlan,
  onEnd?: (samples: number) => void,
): AsyncGenerator<Window> {
  const W = plan.length;
  const shifts = Array.from({ length: plan.tta }, (_, k) => Math.round((k * plan.hop) / plan.tta));
  const back = shifts[shifts.length - 1]!;
  // buf holds samples [bufStart, bufStart + len) of the file.
  let buf = new Float32Array(0);
  let bufStart = 0;
  let len = 0;
  let seen = 0;
  let index = 0;
  const take = (from: number): Float32Array => {
    const out = new Float32Array(W);
    const lo = Math.max(from, bufStart);
    const hi = Math.min(from + W, bufStart + len);
    if (hi > lo) out.set(buf.subarray(lo - bufStart, hi - bufStart), lo - from);
    return out;
  };
  for await (const block of stream) {
    // Keep what the next window (and its shifted copies) still needs, then append.
    const keepFrom = Math.min(Math.max(bufStart, index * plan.hop - back), seen);
    const drop = keepFrom - bufStart;
    const kept = len - drop;
    if (kept + block.length > buf.length) {
      const nb = new Float32Array(kept + block.length);
      nb.set(buf.subarray(drop, len));
      buf = nb;
    } else if (drop > 0) buf.copyWithin(0, drop, len);
    buf.set(block, kept);
    len = kept + block.length;
    bufStart = keepFrom;
    seen += block.length;
    while (index * plan.hop + W <= seen) {
      const s = index * plan.hop;
      for (let k = 0; k < plan.tta; k++)
        yield { index, copy: k, start: s - shifts[k]!, samples: take(s - shifts[k]!) };
      index++;
    }
  }
  onEnd?.(seen);
  if (seen === 0) return;
  if (index === 0) {
    // Shorter than one window: the whole recording, placed and padded as the run padded short clips.
    const x = buf.subarray(0, len);
    const base = cropOrPad(x, W, { mode: plan.short.align, padMode: plan.short.pad });
    for (let k = 0; k < plan.tta; k++) {
      const s = shifts[k]!;
      const y = s === 0 ? base : new Float32Array(W);
      if (s !== 0) for (let i = 0; i < W; i++) y[i] = base[(((i - s) % W) + W) % W]!;
      yield { index: 0, copy: k, start: 0, samples: y };
    }
    return;
  }
  // A last window reaching past the end, when the previous one left more than MIN_TAIL of the window
  // uncovered (a few samples of rounding do not make a window of padding).
  const s = index * plan.hop;
  if (plan.last === 'pad' && s < seen && seen - ((index - 1) * plan.hop + W) > MIN_TAIL * W)
    for (let k = 0; k < plan.tta; k++)
      yield { index, copy: k, start: s - shifts[k]!, samples: take(s - shifts[k]!) };
}
