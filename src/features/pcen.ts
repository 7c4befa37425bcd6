// Per-channel energy normalisation (librosa.pcen, Wang et al. 2017, "Trainable frontend for robust
// and far-field keyword spotting"): an automatic gain control from a smoothed energy, then root
// compression. Only max_size=1 (no max-filtering across frequency), librosa's default.
import type { NDArray } from '../core/ndarray.js';

export interface PcenOptions {
  /** Used with hopLength to derive b from timeConstant. Default 22050. */
  sampleRate?: number;
  /** Default 512. */
  hopLength?: number;
  /** α, the gain exponent. Default 0.98. */
  gain?: number;
  /** δ. Default 2. */
  bias?: number;
  /** r, the compression exponent; 0 means log1p. Default 0.5. */
  power?: number;
  /** Smoothing time constant in seconds. Default 0.4. */
  timeConstant?: number;
  /** ε. Default 1e-6. */
  eps?: number;
  /** Smoothing coefficient; default derived from timeConstant. */
  b?: number | null;
}

/** b = (√(1 + 4T²) − 1)/(2T²), T = timeConstant·sr/hop: librosa's default smoothing coefficient. */
export function pcenSmoothing(timeConstant: number, sampleRate: number, hopLength: number): number {
  const t = (timeConstant * sampleRate) / hopLength;
  return (Math.sqrt(1 + 4 * t * t) - 1) / (2 * t * t);
}

/**
 * PCEN of a non-negative [bands, frames] spectrogram (librosa.pcen):
 *   M[t] = b·S[t] + (1 − b)·M[t−1], with M[−1] = 1 (scipy lfilter_zi's state, as librosa uses it)
 *   G = exp(−α·(ln ε + ln1p(M/ε)))  (= (ε + M)^−α)
 *   P = δ^r·expm1(r·ln1p(S·G/δ))     (= (S·G + δ)^r − δ^r); r = 0: ln1p(S·G); δ = 0: exp(r·(ln S + ln G))
 * librosa's example scales a magnitude mel spectrogram by 2³¹ first (integer-range audio).
 * @example pcen(melMagnitude.map(v => v * 2 ** 31), { sampleRate: 22050, hopLength: 512 })
 */
export function pcen(S: NDArray, options: PcenOptions = {}): NDArray {
  const sr = options.sampleRate ?? 22050;
  const hop = options.hopLength ?? 512;
  const gain = options.gain ?? 0.98;
  const bias = options.bias ?? 2;
  const power = options.power ?? 0.5;
  const tc = options.timeConstant ?? 0.4;
  const eps = options.eps ?? 1e-6;
  if (!(power >= 0)) throw new Error(`pcen: power must be ≥ 0, got ${power}`);
  if (!(gain >= 0)) throw new Error(`pcen: gain must be ≥ 0, got ${gain}`);
  if (!(bias >= 0)) throw new Error(`pcen: bias must be ≥ 0, got ${bias}`);
  if (!(eps > 0)) throw new Error(`pcen: eps must be > 0, got ${eps}`);
  if (!(tc > 0)) throw new Error(`pcen: timeConstant must be > 0, got ${tc}`);
  const b = options.b ?? pcenSmoothing(tc, sr, hop);
  if (!(b > 0 && b <= 1)) throw new Error(`pcen: b must be in (0, 1], got ${b}`);
  const frames = S.shape[S.shape.length - 1] ?? 0;
  const rows = frames === 0 ? 0 : S.data.length / frames;
  const out = new Float32Array(S.data.length);
  const logEps = Math.log(eps);
  const biasPow = bias ** power;
  for (let r = 0; r < rows; r++) {
    let m = 1;
    const base = r * frames;
    for (let t = 0; t < frames; t++) {
      const s = S.data[base + t]!;
      if (s < 0) throw new Error(`pcen: input must be non-negative, got ${s} at [${r}, ${t}]`);
      m = b * s + (1 - b) * m;
      const smooth = Math.exp(-gain * (logEps + Math.log1p(m / eps)));
      let v: number;
      if (power === 0) v = Math.log1p(s * smooth);
      else if (bias === 0) v = Math.exp(power * (Math.log(s) + Math.log(smooth)));
      else v = biasPow * Math.expm1(power * Math.log1p((s * smooth) / bias));
      out[base + t] = v;
    }
  }
  return { data: out, shape: [...S.shape] };
}
