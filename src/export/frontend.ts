// The feature front-end as ONNX ops, so an exported model takes the waveform: centre padding (Pad:
// constant, reflect or edge; Slice + Concat for symmetric and wrap), STFT (opset 17) with the project's
// window zero-padded to nFft, |X|^power, the project's own mel (or gammatone) filterbank as a MatMul
// initialiser, dB as librosa's power_to_db (ref value or max, amin, top_db per clip), the format (mel,
// mel-delta3 with Savitzky-Golay deltas, aaa, mfcc/gtcc with the DCT as a MatMul, gammatone) and the
// normalisation (clip, minmax, clip-minmax, dataset). It mirrors `featuresFromSignal`
// (src/features/compute.ts); resampling, trimming and the duration crop stay outside (OnnxModel.inputFor
// does them, like the engine path).
//
// Not expressible here (the exporter refuses them with --frontend and names the key): formats apd/apx
// (need atan2 of the STFT), background subtraction (a percentile) and envelope transfer. PCEN's
// recursive smoother is a Scan over frames.

import type { FeatureConfig } from '../features/config.js';
import { savgolWeights } from '../features/delta.js';
import { gammatoneFilterbank } from '../features/gammatone.js';
import { melFilterbank } from '../features/mel.js';
import { dctMatrix } from '../features/mfcc.js';
import { pcenSmoothing } from '../features/pcen.js';
import { getWindow, padCenter } from '../features/window.js';
import { GraphBuilder } from './onnx-builder.js';
import { ExportError, type V } from './ops/layers.js';

const DB_PER_NEPER = 10 / Math.LN10;

/** Why a feature config cannot be put in the graph, or null when it can. */
export function frontendProblem(c: FeatureConfig): string | null {
  if (c.format === 'apd' || c.format === 'apx')
    return `key "format": "${c.format}" needs the STFT phase (atan2), which the front-end does not build`;
  if (c.background) return 'key "background": percentile background subtraction is not exported';
  if (c.envelope) return 'key "envelope": envelope transfer is not exported';
  return null;
}

/** Whether the front-end needs at least `width` frames (deltas in 'interp' mode). */
export function minFrames(c: FeatureConfig): number {
  return c.format === 'mel-delta3' ? c.deltaWidth : 1;
}

function dense(fb: { data: Float32Array; shape: number[] }): {
  wt: Float32Array;
  rows: number;
  bins: number;
} {
  const [rows, bins] = fb.shape as [number, number];
  // Transposed [bins, rows] so a [.., bins] row vector times it gives [.., rows].
  const wt = new Float32Array(bins * rows);
  for (let r = 0; r < rows; r++) for (let k = 0; k < bins; k++) wt[k * rows + r] = fb.data[r * bins + k]!;
  return { wt, rows, bins };
}

/** [B, samples] waveform → the features the model takes: [B, C, bands, frames]. */
export function emitFrontend(g: GraphBuilder, c: FeatureConfig, wave: V): V {
  const problem = frontendProblem(c);
  if (problem) throw new ExportError(`feature config ${problem}`, 'frontend');
  const b = wave.shape[0]!;
  const samples = wave.shape[1]!;
  // 1. Centre padding.
  let y = wave.name;
  let padded = samples;
  if (c.center) {
    const p = Math.floor(c.nFft / 2);
    if (c.padMode === 'symmetric' || c.padMode === 'wrap') {
      // No such Pad mode at opset 17: the two ends sliced off the signal (reversed for symmetric) and
      // concatenated, as numpy.pad does for pads up to the signal's length.
      const cut = (start: number, end: number, step: number) =>
        g.op('Slice', [y, g.ints([start]), g.ints([end]), g.ints([1]), g.ints([step])]);
      const big = 2 ** 62;
      const [left, right] =
        c.padMode === 'wrap' ? [cut(-p, big, 1), cut(0, p, 1)] : [cut(p - 1, -big, -1), cut(-1, -p - 1, -1)];
      y = g.op('Concat', [left, y, right], { axis: 1 });
    } else {
      const mode = c.padMode;
      y = g.op('Pad', [y, g.ints([0, p, 0, p]), ...(mode === 'constant' ? [g.scalar(0)] : [])], { mode });
    }
    padded += 2 * p;
  }
  const frames = 1 + Math.floor((padded - c.nFft) / c.hopLength);
  // 2. STFT: [B, S, 1] → [B, frames, bins, 2].
  const win = padCenter(getWindow(c.window, c.winLength), c.nFft);
  const sig = g.op('Unsqueeze', [y, g.ints([2])]);
  const stft = g.op(
    'STFT',
    [sig, g.intScalar(c.hopLength), g.weight('window', Float32Array.from(win), [c.nFft]), ''],
    {
      onesided: 1,
    },
  );
  // 3. |X|^power: re² + im², then ^(power/2).
  let spec = g.op('ReduceSum', [g.op('Mul', [stft, stft]), g.ints([3])], { keepdims: 0 });
  if (c.power !== 2) spec = g.op('Pow', [spec, g.scalar(c.power / 2)]);
  // 4. Filterbank: [B, frames, bins] · Wᵀ → [B, frames, bands] → [B, bands, frames].
  const gamma = c.format === 'gammatone' || c.format === 'gtcc';
  const fb = gamma
    ? gammatoneFilterbank({
        sampleRate: c.sampleRate,
        nFft: c.nFft,
        nBands: c.nMels,
        fmin: c.fmin,
        fmax: c.fmax,
      })
    : melFilterbank({
        sampleRate: c.sampleRate,
        nFft: c.nFft,
        nMels: c.nMels,
        fmin: c.fmin,
        fmax: c.fmax,
        melScale: c.melScale,
        melNorm: c.melNorm,
      });
  const { wt, rows, bins } = dense(fb);
  const bands = g.op('Transpose', [g.op('MatMul', [spec, g.weight('filterbank', wt, [bins, rows])])], {
    perm: [0, 2, 1],
  });
  // 5. Scale (PCEN replaces it).
  const cepstral = c.format === 'mfcc' || c.format === 'gtcc';
  let x =
    c.format === 'pcen' ? pcen(g, bands, c, rows) : c.scale === 'db' || cepstral ? toDb(g, bands, c) : bands;
  // 6. Format → [B, C, rows, frames].
  let channels = 1;
  let height = rows;
  if (cepstral) {
    const k = c.nMfcc;
    const d = dctMatrix(rows, k); // [k, rows], row-major
    const dm = new Float32Array(k * rows);
    const lift = (i: number) =>
      c.format === 'mfcc' && c.lifter > 0 ? 1 + (c.lifter / 2) * Math.sin((Math.PI * (i + 1)) / c.lifter) : 1;
    for (let i = 0; i < k; i++) for (let j = 0; j < rows; j++) dm[i * rows + j] = d[i * rows + j]! * lift(i);
    x = g.op('MatMul', [g.weight('dct', dm, [k, rows]), x]); // [k, rows]·[B, rows, T] → [B, k, T]
    height = k;
  }
  if (c.format === 'mel-delta3') {
    const d1 = delta(g, x, rows, c.deltaWidth, 1);
    const d2 = delta(g, x, rows, c.deltaWidth, 2);
    x = g.op(
      'Concat',
      [x, d1, d2].map((v) => g.op('Unsqueeze', [v, g.ints([1])])),
      { axis: 1 },
    );
    channels = 3;
  } else if (c.format === 'aaa') {
    const u = g.op('Unsqueeze', [x, g.ints([1])]);
    x = g.op('Concat', [u, u, u], { axis: 1 });
    channels = 3;
  } else {
    x = g.op('Unsqueeze', [x, g.ints([1])]);
  }
  // 7. Normalisation over each channel's [bands, frames] (per clip), or with dataset statistics.
  x = normalize(g, x, c, channels, height);
  return { name: x, shape: [b, channels, height, frames] };
}

/** power_to_db (amplitude spectra first squared, as scaleToDb does), per clip for ref 'max' and top_db. */
function toDb(g: GraphBuilder, s: string, c: FeatureConfig): string {
  let p = s;
  let ref = c.ref;
  if (c.power !== 2) {
    const e = 2 / c.power;
    p = g.op('Pow', [s, g.scalar(e)]);
    if (ref !== 'max') ref = ref ** e;
  }
  const db = (v: string) =>
    g.op('Mul', [g.op('Log', [g.op('Max', [v, g.scalar(c.amin)])]), g.scalar(DB_PER_NEPER)]);
  let x = db(p);
  if (ref === 'max') {
    const peak = g.op('ReduceMax', [p], { axes: [1, 2], keepdims: 1 });
    x = g.op('Sub', [x, db(peak)]);
  } else {
    const offset = 10 * Math.log10(Math.max(c.amin, Math.abs(ref)));
    if (offset !== 0) x = g.op('Sub', [x, g.scalar(offset)]);
  }
  if (c.topDb !== null) {
    const peak = g.op('ReduceMax', [x], { axes: [1, 2], keepdims: 1 });
    x = g.op('Max', [x, g.op('Sub', [peak, g.scalar(c.topDb)])]);
  }
  return x;
}

/**
 * librosa.pcen (max_size 1) of [B, rows, T] band energies: the smoother M[t] = b·S[t] + (1 − b)·M[t−1]
 * (M[−1] = 1) as a Scan over frames, then (S·(ε + M)^−α + δ)^r − δ^r (log1p(S·G) for r = 0).
 */
function pcen(g: GraphBuilder, bands: string, c: FeatureConfig, rows: number): string {
  const p = c.pcen;
  const s = p.inputScale === 1 ? bands : g.op('Mul', [bands, g.scalar(p.inputScale)]);
  const b = pcenSmoothing(p.timeConstant, c.sampleRate, c.hopLength);
  // The body's value names must not repeat the outer graph's (one SSA namespace): its own scope.
  const body = new GraphBuilder('pcen_smoother');
  body.scope = `${g.scope}/pcen_body`;
  const m = body.input(`${body.scope}/m`, ['batch', rows]);
  const st = body.input(`${body.scope}/s`, ['batch', rows]);
  const next = body.op('Add', [
    body.op('Mul', [st, body.scalar(b)]),
    body.op('Mul', [m, body.scalar(1 - b)]),
  ]);
  body.output(next, `${body.scope}/m_next`, ['batch', rows]);
  body.output(body.op('Identity', [next]), `${body.scope}/m_t`, ['batch', rows]);
  const first = g.op('Gather', [s, g.ints([0])], { axis: 2 }); // [B, rows, 1]
  const ones = g.op('Add', [g.op('Mul', [g.op('Squeeze', [first, g.ints([2])]), g.scalar(0)]), g.scalar(1)]);
  const [, smooth] = g.opN('Scan', [ones, s], 2, {
    body: { graph: body.toGraph() },
    num_scan_inputs: 1,
    scan_input_axes: [2],
    scan_output_axes: [2],
  });
  const gain = g.op('Pow', [g.op('Add', [smooth!, g.scalar(p.eps)]), g.scalar(-p.gain)]);
  const sg = g.op('Mul', [s, gain]);
  if (p.power === 0) return g.op('Log', [g.op('Add', [sg, g.scalar(1)])]);
  if (p.bias === 0) return g.op('Pow', [sg, g.scalar(p.power)]);
  return g.op('Sub', [
    g.op('Pow', [g.op('Add', [sg, g.scalar(p.bias)]), g.scalar(p.power)]),
    g.scalar(p.bias ** p.power),
  ]);
}

/**
 * librosa.feature.delta (Savitzky-Golay, mode 'interp') over the last axis of [B, rows, T]: a Conv with
 * the centre weights for the interior frames, and the first/last `width` frames times the edge fits.
 */
function delta(g: GraphBuilder, x: string, rows: number, width: number, order: number): string {
  const half = (width - 1) / 2;
  const flat = g.op('Reshape', [x, g.ints([-1, 1, 0])]); // [B·rows, 1, T]
  const centre = Float32Array.from(savgolWeights(width, order, order, half));
  const inner = g.op('Conv', [flat, g.weight('savgol', centre, [1, 1, width])], { kernel_shape: [width] });
  const edge = (positions: number[]) => {
    const w = new Float32Array(width * positions.length);
    positions.forEach((pos, col) => {
      const e = savgolWeights(width, order, order, pos);
      for (let j = 0; j < width; j++) w[j * positions.length + col] = e[j]!;
    });
    return g.weight('savgol_edge', w, [width, positions.length]);
  };
  const firstPos = Array.from({ length: half }, (_, i) => i);
  const lastPos = Array.from({ length: half }, (_, i) => half + 1 + i);
  const head = g.op('Slice', [flat, g.ints([0]), g.ints([width]), g.ints([2])]);
  const tail = g.op('Slice', [flat, g.ints([-width]), g.ints([2 ** 62]), g.ints([2])]);
  const first = g.op('MatMul', [head, edge(firstPos)]);
  const last = g.op('MatMul', [tail, edge(lastPos)]);
  const all = g.op('Concat', [first, inner, last], { axis: 2 });
  return g.op('Reshape', [all, g.ints([-1, rows, 0])]);
}

function normalize(g: GraphBuilder, x: string, c: FeatureConfig, channels: number, height: number): string {
  const eps = 1e-12;
  const clip = (v: string) => {
    const mean = g.op('ReduceMean', [v], { axes: [2, 3], keepdims: 1 });
    const centred = g.op('Sub', [v, mean]);
    const std = g.op('Sqrt', [
      g.op('ReduceMean', [g.op('Mul', [centred, centred])], { axes: [2, 3], keepdims: 1 }),
    ]);
    return g.op('Div', [centred, g.op('Add', [std, g.scalar(eps)])]);
  };
  const minmax = (v: string) => {
    const lo = g.op('ReduceMin', [v], { axes: [2, 3], keepdims: 1 });
    const hi = g.op('ReduceMax', [v], { axes: [2, 3], keepdims: 1 });
    const span = g.op('Sub', [hi, lo]);
    const ok = g.op('Greater', [span, g.scalar(eps)]);
    // A constant channel becomes 0 (Where picks before the division can matter).
    const safe = g.op('Where', [ok, span, g.scalar(1)]);
    return g.op('Where', [ok, g.op('Div', [g.op('Sub', [v, lo]), safe]), g.scalar(0)]);
  };
  switch (c.normalize) {
    case 'none':
      return x;
    case 'clip':
      return clip(x);
    case 'minmax':
      return minmax(x);
    case 'clip-minmax':
      return minmax(clip(x));
    case 'dataset': {
      const s = c.normStats;
      if (!s) throw new ExportError('feature config normalize "dataset" without normStats', 'frontend');
      const dims = s.per === 'channel' ? [channels, 1, 1] : [channels, height, 1];
      const want = dims[0]! * dims[1]!;
      if (s.mean.length !== want)
        throw new ExportError(
          `normStats has ${s.mean.length} ${s.per} entries, the features need ${want}`,
          'frontend',
        );
      const mean = g.weight('norm_mean', Float32Array.from(s.mean), dims);
      const std = g.weight(
        'norm_std',
        Float32Array.from(s.std as number[], (v: number) => v + eps),
        dims,
      );
      return g.op('Div', [g.op('Sub', [x, mean]), std]);
    }
    default:
      throw new ExportError(
        `feature config key "normalize": "${String(c.normalize)}" is not exported`,
        'frontend',
      );
  }
}
