// The heavy part of feature extraction (STFT → |X|^power → filterbank) through the engine (libtorch's
// torch.stft, pocketfft inside, and BLAS), for bulk extraction in Node. Everything around it — the
// window, padding, the filterbanks themselves, dB, deltas, formats, normalisation — is the pure-TS
// code of src/features, so both backends share one definition and differ only by float32 rounding in
// the STFT (checked against the JS path and the librosa fixtures by test/features/engine-backend.test.ts).
//
// Node-only: importing this file loads the native addon (it throws when the addon is missing; extract.ts
// imports it lazily and falls back to JS).
import type { NDArray } from '../../core/ndarray.js';
import * as F from '../../engine/functional.js';
import * as E from '../../engine/index.js';
import {
  type BandSpectra,
  bandSpectra,
  featuresFromBands,
  featuresFromSignal,
  gammatoneOptionsOf,
  melOptionsOf,
  needsPhase,
  prepareSignal,
  usesGammatone,
} from '../compute.js';
import { type FeatureConfig, type FeatureConfigInput, resolveFeatureConfig } from '../config.js';
import { formatSpec } from '../formats.js';
import { gammatoneFilterbank } from '../gammatone.js';
import { melFilterbank } from '../mel.js';
import { padIndex, resolveStftOptions } from '../stft.js';
import { getWindow, padCenter } from '../window.js';

export interface EngineFeatureOptions {
  /**
   * Clips of equal length per torch.stft call. Default 1: batching saves no arithmetic, and on the
   * 2-core dev machine one 5 s fat2019 clip (6.5 MB of frames) stays in cache where a batch does not
   * (bench/features.ts --engine-batch measures it).
   */
  batchSize?: number;
  /** libtorch intra-op threads for this call (restored afterwards); default: leave them as they are. */
  threads?: number;
  /** Names of the clips for error messages (file paths), same order as the clips. */
  labels?: readonly string[];
  /**
   * Arithmetic of the STFT and filterbank. Default: float32 for power spectra (≤ 2e-5 relative error
   * per element on the fixtures, like torchaudio), float64 otherwise: a magnitude spectrogram keeps
   * values down to 1e-6 of its peak (1e-12 in power), below float32's STFT noise (4e-3 error there),
   * and the mel phase of apd/apx takes the angle of near-zero bins, which float32 noise turns anywhere.
   */
  dtype?: 'float32' | 'float64';
}

function dtypeOf(c: FeatureConfig, opts: EngineFeatureOptions): 'float32' | 'float64' {
  const d = opts.dtype ?? (c.power === 2 && !needsPhase(c) ? 'float32' : 'float64');
  if (d !== 'float32' && d !== 'float64')
    throw new Error(`engine features: dtype must be "float32" or "float64", got "${d as string}"`);
  return d;
}

/** Filterbank rows per matmul block (see EnginePlan). */
const ROWS_PER_BLOCK = 16;

interface Block {
  /** Bins [k0, k1) that rows [m0, m1) touch. */
  k0: number;
  k1: number;
  m0: number;
  m1: number;
  /** Weights [k1 − k0, m1 − m0] (transposed: frames × bins · bins × rows). */
  w: E.Tensor;
  /** w with every bin row doubled, for the interleaved (re², im²) layout: [2(k1 − k0), m1 − m0]. */
  w2: E.Tensor | null;
}

/**
 * Window and filterbank tensors for one config. The filterbank is applied in row blocks, each over only
 * the bins its triangles touch: a dense 128 × 1281 matmul (what torchaudio does) spends ~15× more
 * multiply-adds than the triangles need; 16-row blocks need ~13 % of them.
 */
class EnginePlan {
  readonly nFft: number;
  readonly hopLength: number;
  readonly half: number;
  readonly padMode: FeatureConfig['padMode'];
  readonly rows: number;
  readonly bins: number;
  readonly window: E.Tensor;
  readonly blocks: Block[];
  readonly dtype: 'float32' | 'float64';

  constructor(c: FeatureConfig, dtype: 'float32' | 'float64') {
    const s = resolveStftOptions(c);
    this.nFft = s.nFft;
    this.hopLength = s.hopLength;
    this.half = s.center ? Math.floor(s.nFft / 2) : 0;
    this.padMode = s.padMode;
    this.dtype = dtype;
    // win_length < n_fft: the window zero-padded to n_fft in the middle, as librosa and torch.stft do.
    this.window = E.keep(E.tensor(padCenter(getWindow(s.window, s.winLength), s.nFft), undefined, { dtype }));
    const fb = usesGammatone(c)
      ? gammatoneFilterbank({ ...gammatoneOptionsOf(c), nFft: s.nFft })
      : melFilterbank({ ...melOptionsOf(c), nFft: s.nFft });
    const [rows, bins] = fb.shape as [number, number];
    this.rows = rows;
    this.bins = bins;
    this.blocks = [];
    for (let m0 = 0; m0 < rows; m0 += ROWS_PER_BLOCK) {
      const m1 = Math.min(rows, m0 + ROWS_PER_BLOCK);
      let k0 = bins;
      let k1 = 0;
      for (let m = m0; m < m1; m++)
        for (let k = 0; k < bins; k++)
          if (fb.data[m * bins + k] !== 0) {
            k0 = Math.min(k0, k);
            k1 = Math.max(k1, k + 1);
          }
      if (k1 <= k0) {
        // Rows with no weight at all (many mels on a small FFT): one zero bin keeps the shapes simple.
        k0 = 0;
        k1 = 1;
      }
      const g = m1 - m0;
      const span = k1 - k0;
      const w = new Float32Array(span * g);
      const w2 = c.power === 2 ? new Float32Array(2 * span * g) : null;
      for (let k = k0; k < k1; k++)
        for (let m = m0; m < m1; m++) {
          const v = fb.data[m * bins + k]!;
          w[(k - k0) * g + (m - m0)] = v;
          if (w2) {
            w2[2 * (k - k0) * g + (m - m0)] = v;
            w2[(2 * (k - k0) + 1) * g + (m - m0)] = v;
          }
        }
      this.blocks.push({
        k0,
        k1,
        m0,
        m1,
        w: E.keep(E.tensor(w, [span, g], { dtype })),
        w2: w2 ? E.keep(E.tensor(w2, [2 * span, g], { dtype })) : null,
      });
    }
  }

  /** Frames of a prepared signal of `length` samples (0 when it is shorter than one frame). */
  frames(length: number): number {
    const padded = length + 2 * this.half;
    return padded < this.nFft ? 0 : 1 + Math.floor((padded - this.nFft) / this.hopLength);
  }

  /** x [B, frames, bins] (or, with interleaved, [B, frames, 2·bins]) → [B, frames, rows]. */
  project(x: E.Tensor, interleaved: boolean): E.Tensor {
    const parts = this.blocks.map((b) =>
      interleaved ? x.slice(-1, 2 * b.k0, 2 * b.k1).matmul(b.w2!) : x.slice(-1, b.k0, b.k1).matmul(b.w),
    );
    return parts.length === 1 ? parts[0]! : E.cat(parts, -1);
  }

  dispose(): void {
    E.dispose([this.window, ...this.blocks.flatMap((b) => (b.w2 ? [b.w, b.w2] : [b.w]))]);
  }
}

// A few plans stay alive (a dataset uses one config; tensors are freed when a plan is evicted).
const plans = new Map<string, EnginePlan>();

function planFor(c: FeatureConfig, dtype: 'float32' | 'float64'): EnginePlan {
  const key = JSON.stringify([
    dtype,
    c.nFft,
    c.hopLength,
    c.winLength,
    c.window,
    c.center,
    c.padMode,
    c.sampleRate,
    c.nMels,
    c.fmin,
    c.fmax,
    c.melScale,
    c.melNorm,
    c.power === 2,
    usesGammatone(c),
  ]);
  let p = plans.get(key);
  if (!p) {
    p = new EnginePlan(c, dtype);
    if (plans.size >= 4) {
      const [oldKey, old] = plans.entries().next().value!;
      old.dispose();
      plans.delete(oldKey);
    }
    plans.set(key, p);
  }
  return p;
}

// One staging buffer for the padded batch (E.tensor copies it), grown as needed.
let staging = new Float32Array(0);

/** numpy.pad of each signal by `half` on both sides into one [B, len + 2·half] float32 buffer. */
function padBatch(signals: readonly ArrayLike<number>[], half: number, mode: FeatureConfig['padMode']) {
  const n = signals[0]!.length;
  const row = n + 2 * half;
  if (staging.length < row * signals.length) staging = new Float32Array(row * signals.length);
  const out = staging.subarray(0, row * signals.length);
  signals.forEach((y, b) => {
    const base = b * row;
    if (y instanceof Float32Array) out.set(y, base + half);
    else for (let i = 0; i < n; i++) out[base + half + i] = y[i]!;
    for (let i = -half; i < 0; i++) {
      const j = padIndex(i, n, mode);
      out[base + half + i] = j >= 0 ? y[j]! : 0;
    }
    for (let i = n; i < n + half; i++) {
      const j = padIndex(i, n, mode);
      out[base + half + i] = j >= 0 ? y[j]! : 0;
    }
  });
  return { data: out, row };
}

/** Band spectra of prepared signals of one length, one torch.stft call. */
function batchSpectra(
  signals: readonly ArrayLike<number>[],
  plan: EnginePlan,
  c: FeatureConfig,
): BandSpectra[] {
  const B = signals.length;
  const frames = plan.frames(signals[0]!.length);
  const { rows } = plan;
  const phaseWanted = needsPhase(c);
  const { bands, phase } = E.tidy(() => {
    const { data, row } = padBatch(signals, plan.half, plan.padMode);
    const x = E.tensor(data, [B, row], { dtype: plan.dtype });
    // Padding is done above (numpy.pad's modes, which torch's reflect/replicate only partly match).
    // torch.stft returns [B, bins, frames] as a transposed view of [B, frames, bins]: permuting back
    // gives a contiguous [B, frames, bins, 2] (no copy), whose bin slices feed BLAS directly.
    const S = F.stft(x, {
      nFft: plan.nFft,
      hopLength: plan.hopLength,
      winLength: plan.nFft,
      window: plan.window,
      center: false,
      onesided: true,
    }).permute([0, 2, 1, 3]);
    let ph: E.Tensor | null = null;
    if (phaseWanted) ph = plan.project(S.select(-1, 1).atan2(S.select(-1, 0)).contiguous(), false);
    let out: E.Tensor;
    if (c.power === 2) {
      // W·(re² + im²) = W₂·(re², im² interleaved): squaring in place and doubling the weight rows skips
      // a strided add pass over the whole spectrum (cheaper than the extra multiply-adds of the blocks).
      S.mul_(S);
      out = plan.project(S.reshape([B, frames, 2 * plan.bins]), true);
    } else {
      const q = S.square();
      const p2 = q.select(-1, 0).add(q.select(-1, 1));
      out = plan.project(c.power === 1 ? p2.sqrt() : p2.pow(c.power / 2), false);
    }
    const toRows = (t: E.Tensor) => t.transpose(1, 2).contiguous().toFloat32Array();
    return { bands: toRows(out), phase: ph ? toRows(ph) : null };
  });
  const n = rows * frames;
  const clip = (a: Float32Array, b: number): NDArray => ({
    data: B === 1 ? a : a.slice(b * n, (b + 1) * n),
    shape: [rows, frames],
  });
  return Array.from({ length: B }, (_, b) => ({
    bands: clip(bands, b),
    phase: phase ? clip(phase, b) : null,
  }));
}

/** Runs fn with libtorch's intra-op threads set to `threads` (when given), restoring them after. */
function withThreads<T>(threads: number | undefined, fn: () => T): T {
  if (threads === undefined) return fn();
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error(`engine features: threads must be a positive integer, got ${threads}`);
  const before = E.getNumThreads();
  if (before === threads) return fn();
  E.setNumThreads(threads);
  try {
    return fn();
  } finally {
    E.setNumThreads(before);
  }
}

/**
 * Band spectra (see BandSpectra in src/features/compute.ts) of already prepared signals, through
 * the engine. Signals of equal length share stft calls (up to opts.batchSize per call).
 */
export function bandSpectraEngine(
  signals: readonly ArrayLike<number>[],
  config: FeatureConfig,
  opts: EngineFeatureOptions = {},
): BandSpectra[] {
  const batchSize = opts.batchSize ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`engine features: batchSize must be a positive integer, got ${batchSize}`);
  const plan = planFor(config, dtypeOf(config, opts));
  const out = new Array<BandSpectra>(signals.length);
  const byLength = new Map<number, number[]>();
  signals.forEach((y, i) => {
    const same = byLength.get(y.length);
    if (same) same.push(i);
    else byLength.set(y.length, [i]);
  });
  withThreads(opts.threads, () => {
    for (const [length, idx] of byLength) {
      if (plan.frames(length) === 0) {
        // Shorter than one frame: the JS path throws the error that explains it (name the clip too).
        for (const i of idx) {
          try {
            out[i] = bandSpectra(signals[i]!, config);
          } catch (e) {
            const label = opts.labels?.[i];
            throw label ? new Error(`${label}: ${e instanceof Error ? e.message : String(e)}`) : e;
          }
        }
        continue;
      }
      for (let s = 0; s < idx.length; s += batchSize) {
        const part = idx.slice(s, s + batchSize);
        const res = batchSpectra(
          part.map((i) => signals[i]!),
          plan,
          config,
        );
        part.forEach((i, j) => {
          out[i] = res[j]!;
        });
      }
    }
  });
  return out;
}

/** Features of already prepared signals (see prepareSignal) through the engine, in order. */
export function featuresFromSignalsEngine(
  signals: readonly ArrayLike<number>[],
  config: FeatureConfig,
  opts: EngineFeatureOptions = {},
): NDArray[] {
  // Formats without a filterbank (waveform) have no spectra to compute.
  if (formatSpec(config.format).filterbank === null) return signals.map((y) => featuresFromSignal(y, config));
  return bandSpectraEngine(signals, config, opts).map((s) => featuresFromBands(s, config));
}

/**
 * Features of clips at one sample rate through the engine, in order: the same pipeline as
 * computeFeatures (resample, trim, crop/pad, then the format), with the STFT and filterbank in libtorch.
 * @example computeFeaturesEngineBatch(clips, 44100, 'fat2019', { threads: 2 })
 */
export function computeFeaturesEngineBatch(
  clips: readonly Float32Array[],
  sampleRate: number,
  config: FeatureConfigInput | FeatureConfig,
  opts: EngineFeatureOptions = {},
): NDArray[] {
  const c = resolveFeatureConfig(config);
  const prepared = clips.map((x, i) => {
    try {
      return prepareSignal(x, sampleRate, c);
    } catch (e) {
      const label = opts.labels?.[i];
      throw label ? new Error(`${label}: ${e instanceof Error ? e.message : String(e)}`) : e;
    }
  });
  return featuresFromSignalsEngine(prepared, c, opts);
}

/** One clip through the engine (computeFeatures' counterpart). */
export function computeFeaturesEngine(
  samples: Float32Array,
  sampleRate: number,
  config: FeatureConfigInput | FeatureConfig,
  opts: EngineFeatureOptions = {},
): NDArray {
  return computeFeaturesEngineBatch([samples], sampleRate, config, opts)[0]!;
}
