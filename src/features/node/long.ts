// Features of long recordings (hours) in bounded memory: the file is decoded in chunks (range reads),
// resampled by a streaming soxr resampler, trimmed by a first pass that finds librosa.effects.trim's range
// from chunked frame RMS, and the log-mel is computed a block of frames at a time; the dB clamp (top_db
// below the global peak) is applied once the peak is known. Every step does the same arithmetic, in the
// same order, as the whole-clip path (loadAudio with sampleRate + computeFeatures), so the result is
// identical to it (test/features/node-long.test.ts checks equality).
//
// Output: in memory ([bands, frames] float32), or streamed into a .npy file (then only a chunk of the
// output is ever in memory, which is what keeps a 2-hour fat2019 log-mel — 470 MB of output — under
// 500 MB of RSS).
//
// Supported configs: format 'mel', normalize 'none', no background/envelope transforms, a numeric `ref`,
// no `duration` crop, any pad mode but 'wrap' (it needs the far end of the signal at the start). Anything
// else is an Error naming the key.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { audioInfo, loadAudio } from '../../audio/index.js';
import { audioAddon } from '../../audio/native.js';
import type { NDArray } from '../../core/ndarray.js';
import { scaleToDb } from '../compute.js';
import { type FeatureConfig, type FeatureConfigInput, resolveFeatureConfig } from '../config.js';
import { melSpectrogram } from '../mel.js';
import { encodeNpy } from '../npy.js';
import { padSignal } from '../stft.js';

export interface LongFeatureOptions {
  /** Seconds of source audio decoded at a time (default 30). */
  chunkSeconds?: number;
  /** Frames per spectrogram block (default 2048). */
  blockFrames?: number;
  /** Write the features to this .npy (atomically) instead of returning them; only the shape comes back. */
  out?: string;
}

/** Throws naming the first key of `config` that the chunked path cannot reproduce exactly. */
export function checkChunkable(c: FeatureConfig): void {
  const bad = (key: string, why: string) => {
    throw new Error(
      `long-recording features: key "${key}": ${why} (compute short clips with computeFeatures)`,
    );
  };
  if (c.format !== 'mel') bad('format', `only "mel" is computed in chunks, got "${c.format}"`);
  if (c.normalize !== 'none') bad('normalize', `only "none" is computed in chunks, got "${c.normalize}"`);
  if (c.background !== null) bad('background', 'background subtraction needs the whole clip');
  if (c.envelope !== null) bad('envelope', 'envelope transfer is not computed in chunks');
  if (c.ref === 'max') bad('ref', '"max" needs the whole clip; give a number');
  if (c.duration !== null) bad('duration', 'a cropped clip is short: use computeFeatures');
  if (c.center && c.padMode === 'wrap') bad('padMode', '"wrap" needs the end of the signal at its start');
}

/** Where output blocks go: [rows, k] blocks at frame t0, then a clamp pass. */
interface Sink {
  write(t0: number, block: Float32Array, k: number): void;
  clamp(floor: number): void;
  finish(): Promise<NDArray | number[]>;
}

function memorySink(rows: number, frames: number): Sink {
  const data = new Float32Array(rows * frames);
  return {
    write(t0, block, k) {
      for (let r = 0; r < rows; r++) data.set(block.subarray(r * k, (r + 1) * k), r * frames + t0);
    },
    clamp(floor) {
      for (let i = 0; i < data.length; i++) if (data[i]! < floor) data[i] = floor;
    },
    finish: async () => ({ data, shape: [rows, frames] }),
  };
}

function fileSink(path: string, rows: number, frames: number): Sink {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w+');
  // encodeNpy of no data: the header alone, for the full shape.
  const header = encodeNpy({ data: new Float32Array(0), shape: [rows, frames] });
  writeSync(fd, header, 0, header.length, 0);
  const base = header.length;
  return {
    write(t0, block, k) {
      const bytes = new Uint8Array(block.buffer, block.byteOffset, block.byteLength);
      for (let r = 0; r < rows; r++) writeSync(fd, bytes, r * k * 4, k * 4, base + (r * frames + t0) * 4);
    },
    clamp(floor) {
      const n = rows * frames;
      const buf = new Float32Array(1 << 20);
      const bytes = new Uint8Array(buf.buffer);
      for (let i = 0; i < n; i += buf.length) {
        const m = Math.min(buf.length, n - i);
        readSync(fd, bytes, 0, m * 4, base + i * 4);
        let changed = false;
        for (let j = 0; j < m; j++)
          if (buf[j]! < floor) {
            buf[j] = floor;
            changed = true;
          }
        if (changed) writeSync(fd, bytes, 0, m * 4, base + i * 4);
      }
    },
    async finish() {
      closeSync(fd);
      await rename(tmp, path);
      return [rows, frames];
    },
  };
}

/**
 * Streams the mono signal of `path` at `rate` in pieces: range reads of the source, a streaming soxr
 * resampler (the one-shot resampler's output exactly, cut to ceil(n · to / from)).
 */
async function* samplesAt(
  path: string,
  rate: number,
  sourceRate: number,
  sourceFrames: number,
  chunkFrames: number,
): AsyncGenerator<Float32Array> {
  const addon = sourceRate === rate ? null : audioAddon();
  if (sourceRate !== rate && addon === null)
    throw new Error(
      `${path}: resampling a long recording in chunks needs the audio addon (make -C native audio); it is ${sourceRate} Hz, the config wants ${rate} Hz`,
    );
  const r = addon === null ? null : new addon.Resampler(sourceRate, rate, 'hq');
  const want = r === null ? sourceFrames : Math.ceil((sourceFrames * rate) / sourceRate - 1e-9);
  let given = 0;
  const emit = function* (y: Float32Array) {
    const k = Math.min(y.length, want - given);
    if (k > 0) {
      given += k;
      yield y.subarray(0, k);
    }
  };
  let read = 0;
  for (let s = 0; s < sourceFrames; s += chunkFrames) {
    const n = Math.min(chunkFrames, sourceFrames - s);
    const a = await loadAudio(path, { mono: true, offset: s / sourceRate, duration: n / sourceRate });
    const x = a.channels[0]!;
    if (x.length !== n)
      throw new Error(
        `${path}: expected ${n} frames at ${s}, the decoder gave ${x.length} (the length is not exact)`,
      );
    read += n;
    yield* emit(r === null ? x : r.process(x));
  }
  if (r !== null) yield* emit(r.flush());
  if (given < want) {
    // soxr ends within a sample of ceil(n · to / from): the one-shot path pads the rest with zeros too.
    yield new Float32Array(want - given);
  }
  if (read !== sourceFrames) throw new Error(`${path}: read ${read} of ${sourceFrames} frames`);
}

/** Frame-RMS trim range of the whole stream (librosa.effects.trim, as src/audio/effects.ts#trim). */
async function trimRange(
  chunks: AsyncIterable<Float32Array>,
  topDb: number,
): Promise<[number, number, number]> {
  const frameLength = 2048;
  const hop = 512;
  const pad = frameLength / 2;
  const rms: number[] = [];
  let buf = new Float32Array(0);
  let bufStart = 0; // absolute index of buf[0]
  let total = 0;
  const frameAt = (f: number, n: number) => {
    const lo = Math.max(0, f * hop - pad);
    const hi = Math.min(n, f * hop - pad + frameLength);
    let energy = 0;
    for (let i = lo; i < hi; i++) energy += buf[i - bufStart]! * buf[i - bufStart]!;
    rms.push(Math.sqrt(energy / frameLength));
  };
  let f = 0;
  for await (const x of chunks) {
    const nb = new Float32Array(buf.length + x.length);
    nb.set(buf);
    nb.set(x, buf.length);
    buf = nb;
    total += x.length;
    // Frames whose samples are all here (the end of the signal is not known yet).
    while (f * hop - pad + frameLength <= total) frameAt(f++, total);
    const keep = Math.max(0, f * hop - pad) - bufStart;
    if (keep > 0) {
      buf = buf.slice(keep);
      bufStart += keep;
    }
  }
  const frames = total + 2 * pad >= frameLength ? 1 + Math.floor((total + 2 * pad - frameLength) / hop) : 0;
  while (f < frames) frameAt(f++, total);
  let ref = 0;
  for (const v of rms) ref = Math.max(ref, v);
  const amin = 1e-5;
  const refDb = 20 * Math.log10(Math.max(amin, ref));
  let first = -1;
  let last = -1;
  for (let i = 0; i < rms.length; i++) {
    if (20 * Math.log10(Math.max(amin, rms[i]!)) - refDb > -topDb) {
      if (first < 0) first = i;
      last = i;
    }
  }
  // An all-quiet clip keeps everything (as prepareSignal does).
  if (first < 0) return [0, total, total];
  return [Math.min(total, first * hop), Math.min(total, (last + 1) * hop), total];
}

/**
 * Log-mel (or linear mel) of a long recording, computed in chunks with bounded memory; identical to
 * computeFeatures on the whole decoded clip. See the file comment for the configs it accepts.
 * @example await longFeatures('10h-soundscape.flac', 'birdclef', { out: 'soundscape.npy' })
 */
export async function longFeatures(
  path: string,
  configInput: FeatureConfigInput | FeatureConfig,
  opts: LongFeatureOptions = {},
): Promise<NDArray | number[]> {
  const c = resolveFeatureConfig(configInput);
  checkChunkable(c);
  const info = await audioInfo(path);
  if (!(info.frames > 0))
    throw new Error(`${path}: the length of the file is unknown; cannot read it in chunks`);
  const chunkFrames = Math.max(1, Math.round((opts.chunkSeconds ?? 30) * info.sampleRate));
  const stream = () => samplesAt(path, c.sampleRate, info.sampleRate, info.frames, chunkFrames);

  // Pass 1 (only with trim): the kept range [lo, hi) of the resampled signal.
  let lo = 0;
  let hi = -1;
  if (c.trim !== null) [lo, hi] = await trimRange(stream(), c.trim);
  else hi = Math.ceil((info.frames * c.sampleRate) / info.sampleRate - 1e-9);
  const n = hi - lo;
  if (n <= 0) throw new Error(`${path}: the clip has no samples`);
  const nFft = c.nFft;
  const hop = c.hopLength;
  const half = c.center ? Math.floor(nFft / 2) : 0;
  const padded = n + 2 * half;
  if (padded < nFft + 2 || n < nFft + 1)
    throw new Error(`${path}: too short for chunked features (${n} samples); use computeFeatures`);
  const frames = 1 + Math.floor((padded - nFft) / hop);
  const rows = c.nMels;
  const sink = opts.out !== undefined ? fileSink(opts.out, rows, frames) : memorySink(rows, frames);
  const blockFrames = Math.max(1, opts.blockFrames ?? 2048);
  const melOpts = {
    sampleRate: c.sampleRate,
    nFft,
    hopLength: hop,
    winLength: c.winLength,
    window: c.window,
    center: false,
    padMode: c.padMode,
    nMels: c.nMels,
    fmin: c.fmin,
    fmax: c.fmax,
    melScale: c.melScale,
    melNorm: c.melNorm,
    power: c.power,
  };
  const inDb = c.scale === 'db';
  const noClamp = { ...c, topDb: null };
  let peak = Number.NEGATIVE_INFINITY;

  // Pass 2: the padded signal P (left pad, y = resampled[lo, hi), right pad) as a stream of samples, and
  // blocks of frames t: P[t·hop, t·hop + nFft).
  let buf = new Float64Array(0);
  let bufStart = 0; // absolute index in P of buf[0]
  let have = 0; // samples of P received
  let t = 0;
  const push = (x: ArrayLike<number>) => {
    const nb = new Float64Array(buf.length + x.length);
    nb.set(buf);
    nb.set(x, buf.length);
    buf = nb;
    have += x.length;
  };
  const drain = (final: boolean) => {
    for (;;) {
      const avail = Math.floor((have - nFft) / hop) + 1 - t; // frames whose samples are all here
      const k = Math.min(blockFrames, frames - t, Math.max(0, avail));
      if (k <= 0 || (!final && k < blockFrames && t + k < frames)) return;
      const from = t * hop - bufStart;
      const seg = buf.subarray(from, from + (k - 1) * hop + nFft);
      let block = melSpectrogram(seg, melOpts);
      if (inDb) block = scaleToDb(block, c.power, noClamp);
      for (const v of block.data) if (v > peak) peak = v;
      sink.write(t, block.data, k);
      t += k;
      const drop = t * hop - bufStart;
      if (drop > 0) {
        buf = buf.slice(drop);
        bufStart += drop;
      }
    }
  };
  const headLen = Math.min(n, nFft + 1);
  const head = new Float32Array(headLen);
  let headGot = 0;
  const tail = new Float32Array(Math.min(n, nFft + 1));
  let pos = 0; // absolute index in the resampled signal
  let started = false;
  const pending: Float32Array[] = [];
  for await (const x of stream()) {
    const a = Math.max(lo, pos);
    const b = Math.min(hi, pos + x.length);
    if (b > a) {
      const y = x.subarray(a - pos, b - pos);
      // Keep the last nFft + 1 samples for the right pad.
      const keepTail = Math.min(tail.length, y.length);
      tail.copyWithin(0, keepTail);
      tail.set(y.subarray(y.length - keepTail), tail.length - keepTail);
      if (!started) {
        const m = Math.min(headLen - headGot, y.length);
        head.set(y.subarray(0, m), headGot);
        headGot += m;
        pending.push(y.slice());
        if (headGot === headLen) {
          if (half > 0) push(padSignal(head, half, 0, c.padMode).subarray(0, half));
          for (const p of pending.splice(0)) push(p);
          started = true;
          drain(false);
        }
      } else {
        push(y);
        drain(false);
      }
    }
    pos += x.length;
  }
  if (!started) throw new Error(`${path}: fewer samples than expected`);
  if (half > 0) push(padSignal(tail, 0, half, c.padMode).subarray(tail.length));
  drain(true);
  if (t !== frames) throw new Error(`${path}: computed ${t} of ${frames} frames`);
  // top_db below the peak of the float32 dB values, as powerToDb clamps.
  if (inDb && c.topDb !== null) sink.clamp(peak - c.topDb);
  return sink.finish();
}
