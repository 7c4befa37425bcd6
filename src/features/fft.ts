// Hand-written FFT: mixed radix 2/3/4/5 (Stockham, self-sorting) plus Bluestein for sizes with other
// prime factors. Why not a library: it must run in the browser with no native code, handle any n_fft
// (2560 = 2^9·5 for fat2019, primes too), and be fast enough to beat torchaudio (see bench/features.ts).
// All arithmetic is float64: JS numbers are doubles anyway, and it keeps the STFT far inside the
// 1e-4 agreement budget.

/** Splits n into radices 4, 2, 3, 5 (in that order); returns null when another prime remains. */
function factorize(n: number): number[] | null {
  const out: number[] = [];
  let m = n;
  while (m % 4 === 0) {
    out.push(4);
    m /= 4;
  }
  if (m % 2 === 0) {
    out.push(2);
    m /= 2;
  }
  for (const p of [3, 5]) {
    while (m % p === 0) {
      out.push(p);
      m /= p;
    }
  }
  return m === 1 ? out : null;
}

/** Smallest 2^a·3^b·5^c ≥ n: the Bluestein convolution length (never a Bluestein size itself). */
function nextSmooth(n: number): number {
  for (let m = Math.max(1, n); ; m++) {
    let r = m;
    for (const p of [2, 3, 5]) while (r % p === 0) r /= p;
    if (r === 1) return m;
  }
}

interface Stage {
  p: number;
  /** Span of the sub-transforms already done (L), and the number of residue classes left (R' = n / (L·p)). */
  l: number;
  r: number;
  /** Twiddles ω_{L·p}^{f·q} for f < L, q = 1..p-1, laid out [f][q-1]. */
  twRe: Float64Array;
  twIm: Float64Array;
}

/**
 * In-place forward complex DFT of size n: X[k] = Σ_t x[t]·e^{-2πi·kt/n}.
 * One plan per size; `forward` is not re-entrant (it owns scratch buffers).
 */
export class ComplexFFT {
  readonly n: number;
  private readonly stages: Stage[] = [];
  private readonly sRe: Float64Array;
  private readonly sIm: Float64Array;
  private readonly blue: Bluestein | null = null;

  constructor(n: number) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`FFT: size must be a positive integer, got ${n}`);
    this.n = n;
    const factors = factorize(n);
    this.sRe = new Float64Array(n);
    this.sIm = new Float64Array(n);
    if (factors === null) {
      this.blue = new Bluestein(n);
      return;
    }
    let l = 1;
    for (const p of factors) {
      const lp = l * p;
      const twRe = new Float64Array(l * (p - 1));
      const twIm = new Float64Array(l * (p - 1));
      for (let f = 0; f < l; f++) {
        for (let q = 1; q < p; q++) {
          const a = (-2 * Math.PI * f * q) / lp;
          twRe[f * (p - 1) + q - 1] = Math.cos(a);
          twIm[f * (p - 1) + q - 1] = Math.sin(a);
        }
      }
      this.stages.push({ p, l, r: n / lp, twRe, twIm });
      l = lp;
    }
  }

  /** Transforms (re, im) in place. */
  forward(re: Float64Array, im: Float64Array): void {
    if (this.blue) {
      this.blue.forward(re, im);
      return;
    }
    // Stockham ping-pong: stage s reads one buffer and writes the other; the result may end in scratch.
    let aRe = re;
    let aIm = im;
    let bRe = this.sRe;
    let bIm = this.sIm;
    for (const st of this.stages) {
      runStage(st, aRe, aIm, bRe, bIm);
      const tr = aRe;
      const ti = aIm;
      aRe = bRe;
      aIm = bIm;
      bRe = tr;
      bIm = ti;
    }
    if (aRe !== re) {
      re.set(aRe);
      im.set(aIm);
    }
  }

  /** Inverse DFT with 1/n scaling, via conj(FFT(conj(x)))/n. */
  inverse(re: Float64Array, im: Float64Array): void {
    const n = this.n;
    for (let i = 0; i < n; i++) im[i] = -im[i]!;
    this.forward(re, im);
    const s = 1 / n;
    for (let i = 0; i < n; i++) {
      re[i] = re[i]! * s;
      im[i] = -im[i]! * s;
    }
  }
}

const SIN60 = Math.sqrt(3) / 2;
const C5_1 = Math.cos((2 * Math.PI) / 5);
const C5_2 = Math.cos((4 * Math.PI) / 5);
const S5_1 = -Math.sin((2 * Math.PI) / 5);
const S5_2 = -Math.sin((4 * Math.PI) / 5);

// One decimation-in-time Stockham stage. With L the finished sub-transform length and R' = n/(L·p):
//   out[r'·L·p + L·g + f] = Σ_q ω_p^{g·q} · ω_{L·p}^{f·q} · in[(r' + R'·q)·L + f]
// f runs innermost so both reads and writes are contiguous.
function runStage(st: Stage, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  const { p, l, r, twRe, twIm } = st;
  const lp = l * p;
  const rl = r * l; // input distance between the p legs
  if (p === 4) {
    for (let j = 0; j < r; j++) {
      const ib = j * l;
      const ob = j * lp;
      for (let f = 0; f < l; f++) {
        const i0 = ib + f;
        const i1 = i0 + rl;
        const i2 = i1 + rl;
        const i3 = i2 + rl;
        let a1r = xr[i1]!;
        let a1i = xi[i1]!;
        let a2r = xr[i2]!;
        let a2i = xi[i2]!;
        let a3r = xr[i3]!;
        let a3i = xi[i3]!;
        if (l > 1) {
          const t = f * 3;
          let wr = twRe[t]!;
          let wi = twIm[t]!;
          let tr = a1r * wr - a1i * wi;
          a1i = a1r * wi + a1i * wr;
          a1r = tr;
          wr = twRe[t + 1]!;
          wi = twIm[t + 1]!;
          tr = a2r * wr - a2i * wi;
          a2i = a2r * wi + a2i * wr;
          a2r = tr;
          wr = twRe[t + 2]!;
          wi = twIm[t + 2]!;
          tr = a3r * wr - a3i * wi;
          a3i = a3r * wi + a3i * wr;
          a3r = tr;
        }
        const a0r = xr[i0]!;
        const a0i = xi[i0]!;
        const t0r = a0r + a2r;
        const t0i = a0i + a2i;
        const t1r = a0r - a2r;
        const t1i = a0i - a2i;
        const t2r = a1r + a3r;
        const t2i = a1i + a3i;
        const t3r = a1r - a3r;
        const t3i = a1i - a3i;
        const o = ob + f;
        yr[o] = t0r + t2r;
        yi[o] = t0i + t2i;
        yr[o + l] = t1r + t3i;
        yi[o + l] = t1i - t3r;
        yr[o + 2 * l] = t0r - t2r;
        yi[o + 2 * l] = t0i - t2i;
        yr[o + 3 * l] = t1r - t3i;
        yi[o + 3 * l] = t1i + t3r;
      }
    }
  } else if (p === 2) {
    for (let j = 0; j < r; j++) {
      const ib = j * l;
      const ob = j * lp;
      for (let f = 0; f < l; f++) {
        const i0 = ib + f;
        const i1 = i0 + rl;
        let a1r = xr[i1]!;
        let a1i = xi[i1]!;
        if (l > 1) {
          const wr = twRe[f]!;
          const wi = twIm[f]!;
          const tr = a1r * wr - a1i * wi;
          a1i = a1r * wi + a1i * wr;
          a1r = tr;
        }
        const a0r = xr[i0]!;
        const a0i = xi[i0]!;
        const o = ob + f;
        yr[o] = a0r + a1r;
        yi[o] = a0i + a1i;
        yr[o + l] = a0r - a1r;
        yi[o + l] = a0i - a1i;
      }
    }
  } else if (p === 3) {
    for (let j = 0; j < r; j++) {
      const ib = j * l;
      const ob = j * lp;
      for (let f = 0; f < l; f++) {
        const i0 = ib + f;
        const i1 = i0 + rl;
        const i2 = i1 + rl;
        let a1r = xr[i1]!;
        let a1i = xi[i1]!;
        let a2r = xr[i2]!;
        let a2i = xi[i2]!;
        if (l > 1) {
          const t = f * 2;
          let wr = twRe[t]!;
          let wi = twIm[t]!;
          let tr = a1r * wr - a1i * wi;
          a1i = a1r * wi + a1i * wr;
          a1r = tr;
          wr = twRe[t + 1]!;
          wi = twIm[t + 1]!;
          tr = a2r * wr - a2i * wi;
          a2i = a2r * wi + a2i * wr;
          a2r = tr;
        }
        const a0r = xr[i0]!;
        const a0i = xi[i0]!;
        const sr = a1r + a2r;
        const si = a1i + a2i;
        const mr = a0r - 0.5 * sr;
        const mi = a0i - 0.5 * si;
        // ω_3 = -1/2 - i·√3/2: the difference leg is multiplied by -i·√3/2.
        const dr = SIN60 * (a1i - a2i);
        const di = -SIN60 * (a1r - a2r);
        const o = ob + f;
        yr[o] = a0r + sr;
        yi[o] = a0i + si;
        yr[o + l] = mr + dr;
        yi[o + l] = mi + di;
        yr[o + 2 * l] = mr - dr;
        yi[o + 2 * l] = mi - di;
      }
    }
  } else {
    // p === 5
    for (let j = 0; j < r; j++) {
      const ib = j * l;
      const ob = j * lp;
      for (let f = 0; f < l; f++) {
        const i0 = ib + f;
        const i1 = i0 + rl;
        const i2 = i1 + rl;
        const i3 = i2 + rl;
        const i4 = i3 + rl;
        let a1r = xr[i1]!;
        let a1i = xi[i1]!;
        let a2r = xr[i2]!;
        let a2i = xi[i2]!;
        let a3r = xr[i3]!;
        let a3i = xi[i3]!;
        let a4r = xr[i4]!;
        let a4i = xi[i4]!;
        if (l > 1) {
          const t = f * 4;
          let wr = twRe[t]!;
          let wi = twIm[t]!;
          let tr = a1r * wr - a1i * wi;
          a1i = a1r * wi + a1i * wr;
          a1r = tr;
          wr = twRe[t + 1]!;
          wi = twIm[t + 1]!;
          tr = a2r * wr - a2i * wi;
          a2i = a2r * wi + a2i * wr;
          a2r = tr;
          wr = twRe[t + 2]!;
          wi = twIm[t + 2]!;
          tr = a3r * wr - a3i * wi;
          a3i = a3r * wi + a3i * wr;
          a3r = tr;
          wr = twRe[t + 3]!;
          wi = twIm[t + 3]!;
          tr = a4r * wr - a4i * wi;
          a4i = a4r * wi + a4i * wr;
          a4r = tr;
        }
        const a0r = xr[i0]!;
        const a0i = xi[i0]!;
        const u1r = a1r + a4r;
        const u1i = a1i + a4i;
        const v1r = a1r - a4r;
        const v1i = a1i - a4i;
        const u2r = a2r + a3r;
        const u2i = a2i + a3i;
        const v2r = a2r - a3r;
        const v2i = a2i - a3i;
        // b1,b4 = a0 + c1·u1 + c2·u2 ± i(s1·v1 + s2·v2); b2,b3 = a0 + c2·u1 + c1·u2 ± i(s2·v1 − s1·v2)
        const m1r = a0r + C5_1 * u1r + C5_2 * u2r;
        const m1i = a0i + C5_1 * u1i + C5_2 * u2i;
        const m2r = a0r + C5_2 * u1r + C5_1 * u2r;
        const m2i = a0i + C5_2 * u1i + C5_1 * u2i;
        const n1r = S5_1 * v1r + S5_2 * v2r; // times i below
        const n1i = S5_1 * v1i + S5_2 * v2i;
        const n2r = S5_2 * v1r - S5_1 * v2r;
        const n2i = S5_2 * v1i - S5_1 * v2i;
        const o = ob + f;
        yr[o] = a0r + u1r + u2r;
        yi[o] = a0i + u1i + u2i;
        yr[o + l] = m1r - n1i;
        yi[o + l] = m1i + n1r;
        yr[o + 4 * l] = m1r + n1i;
        yi[o + 4 * l] = m1i - n1r;
        yr[o + 2 * l] = m2r - n2i;
        yi[o + 2 * l] = m2i + n2r;
        yr[o + 3 * l] = m2r + n2i;
        yi[o + 3 * l] = m2i - n2r;
      }
    }
  }
}

// Bluestein's chirp-z: X[k] = w̄_k · Σ_t (x_t·w̄_t)·w_{k−t} with w_t = e^{iπt²/n}, a circular convolution
// done with a 5-smooth FFT of length M ≥ 2n−1.
class Bluestein {
  private readonly n: number;
  private readonly fft: ComplexFFT;
  private readonly cRe: Float64Array; // chirp e^{-iπt²/n}
  private readonly cIm: Float64Array;
  private readonly bRe: Float64Array; // FFT of the conjugate chirp, pre-divided by M
  private readonly bIm: Float64Array;
  private readonly wRe: Float64Array;
  private readonly wIm: Float64Array;

  constructor(n: number) {
    this.n = n;
    const m = nextSmooth(2 * n - 1);
    this.fft = new ComplexFFT(m);
    this.cRe = new Float64Array(n);
    this.cIm = new Float64Array(n);
    for (let t = 0; t < n; t++) {
      // t² mod 2n keeps the angle small, so it stays exact for large n.
      const a = (-Math.PI * ((t * t) % (2 * n))) / n;
      this.cRe[t] = Math.cos(a);
      this.cIm[t] = Math.sin(a);
    }
    this.bRe = new Float64Array(m);
    this.bIm = new Float64Array(m);
    this.bRe[0] = this.cRe[0]!;
    this.bIm[0] = -this.cIm[0]!;
    for (let t = 1; t < n; t++) {
      this.bRe[t] = this.bRe[m - t] = this.cRe[t]!;
      this.bIm[t] = this.bIm[m - t] = -this.cIm[t]!;
    }
    this.fft.forward(this.bRe, this.bIm);
    for (let i = 0; i < m; i++) {
      this.bRe[i] = this.bRe[i]! / m;
      this.bIm[i] = this.bIm[i]! / m;
    }
    this.wRe = new Float64Array(m);
    this.wIm = new Float64Array(m);
  }

  forward(re: Float64Array, im: Float64Array): void {
    const { n, wRe, wIm, cRe, cIm, bRe, bIm } = this;
    const m = wRe.length;
    for (let t = 0; t < n; t++) {
      const xr = re[t]!;
      const xi = im[t]!;
      wRe[t] = xr * cRe[t]! - xi * cIm[t]!;
      wIm[t] = xr * cIm[t]! + xi * cRe[t]!;
    }
    wRe.fill(0, n);
    wIm.fill(0, n);
    this.fft.forward(wRe, wIm);
    // Multiply by B and conjugate, so a forward FFT performs the inverse (the 1/M is in B).
    for (let i = 0; i < m; i++) {
      const ar = wRe[i]!;
      const ai = wIm[i]!;
      const br = bRe[i]!;
      const bi = bIm[i]!;
      wRe[i] = ar * br - ai * bi;
      wIm[i] = -(ar * bi + ai * br);
    }
    this.fft.forward(wRe, wIm);
    for (let k = 0; k < n; k++) {
      const yr = wRe[k]!;
      const yi = -wIm[k]!;
      re[k] = yr * cRe[k]! - yi * cIm[k]!;
      im[k] = yr * cIm[k]! + yi * cRe[k]!;
    }
  }
}

/**
 * Forward DFT of a real signal of any length n, returning bins 0..⌊n/2⌋ (numpy.fft.rfft).
 * Even n packs the signal into a complex FFT of n/2 (z_t = x_{2t} + i·x_{2t+1}) and untangles:
 * X_k = E_k + e^{-2πik/n}·O_k with E_k = (Z_k + Z̄_{n/2−k})/2, O_k = (Z_k − Z̄_{n/2−k})/(2i).
 */
export class RealFFT {
  readonly n: number;
  readonly bins: number;
  private readonly half: ComplexFFT | null;
  private readonly full: ComplexFFT | null;
  private readonly zRe: Float64Array;
  private readonly zIm: Float64Array;
  private readonly wRe: Float64Array;
  private readonly wIm: Float64Array;

  constructor(n: number) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`RealFFT: size must be a positive integer, got ${n}`);
    this.n = n;
    this.bins = Math.floor(n / 2) + 1;
    if (n % 2 === 0) {
      const h = n / 2;
      this.half = new ComplexFFT(h);
      this.full = null;
      this.zRe = new Float64Array(h);
      this.zIm = new Float64Array(h);
      this.wRe = new Float64Array(h + 1);
      this.wIm = new Float64Array(h + 1);
      for (let k = 0; k <= h; k++) {
        this.wRe[k] = Math.cos((-2 * Math.PI * k) / n);
        this.wIm[k] = Math.sin((-2 * Math.PI * k) / n);
      }
    } else {
      this.half = null;
      this.full = new ComplexFFT(n);
      this.zRe = new Float64Array(n);
      this.zIm = new Float64Array(n);
      this.wRe = new Float64Array(0);
      this.wIm = new Float64Array(0);
    }
  }

  /**
   * Writes bins 0..⌊n/2⌋ of the DFT of x[offset..offset+n) (times `win` when given) into outRe/outIm.
   * The offset and window let the STFT transform frames in place, without copying them out first.
   */
  forward(
    x: ArrayLike<number>,
    outRe: Float64Array,
    outIm: Float64Array,
    offset = 0,
    win: Float64Array | null = null,
  ): void {
    this.load(x, offset, win);
    if (this.full) {
      this.full.forward(this.zRe, this.zIm);
      for (let k = 0; k < this.bins; k++) {
        outRe[k] = this.zRe[k]!;
        outIm[k] = this.zIm[k]!;
      }
      return;
    }
    this.half!.forward(this.zRe, this.zIm);
    this.untangle(outRe, outIm);
  }

  /** Like `forward` but writes |X_k|² only. */
  power(x: ArrayLike<number>, out: Float64Array, offset = 0, win: Float64Array | null = null): void {
    this.load(x, offset, win);
    const { zRe, zIm } = this;
    if (this.full) {
      this.full.forward(zRe, zIm);
      for (let k = 0; k < this.bins; k++) out[k] = zRe[k]! * zRe[k]! + zIm[k]! * zIm[k]!;
      return;
    }
    const { wRe, wIm } = this;
    const h = this.n / 2;
    this.half!.forward(zRe, zIm);
    const z0r = zRe[0]!;
    const z0i = zIm[0]!;
    out[0] = (z0r + z0i) * (z0r + z0i);
    out[h] = (z0r - z0i) * (z0r - z0i);
    for (let k = 1; k < h; k++) {
      const ar = zRe[k]!;
      const ai = zIm[k]!;
      const br = zRe[h - k]!;
      const bi = -zIm[h - k]!;
      const er = 0.5 * (ar + br);
      const ei = 0.5 * (ai + bi);
      // O = (Z_k − conj Z_{h−k}) / 2i
      const or = 0.5 * (ai - bi);
      const oi = -0.5 * (ar - br);
      const wr = wRe[k]!;
      const wi = wIm[k]!;
      const xr = er + wr * or - wi * oi;
      const xi = ei + wr * oi + wi * or;
      out[k] = xr * xr + xi * xi;
    }
  }

  private load(x: ArrayLike<number>, offset: number, win: Float64Array | null): void {
    const { zRe, zIm, n } = this;
    if (x.length < offset + n) throw new Error(`RealFFT: need ${n} samples from ${offset}, have ${x.length}`);
    if (this.full) {
      if (win) for (let t = 0; t < n; t++) zRe[t] = x[offset + t]! * win[t]!;
      else for (let t = 0; t < n; t++) zRe[t] = x[offset + t]!;
      zIm.fill(0);
      return;
    }
    const h = n / 2;
    if (win) {
      for (let t = 0, s = offset; t < h; t++, s += 2) {
        zRe[t] = x[s]! * win[2 * t]!;
        zIm[t] = x[s + 1]! * win[2 * t + 1]!;
      }
    } else {
      for (let t = 0, s = offset; t < h; t++, s += 2) {
        zRe[t] = x[s]!;
        zIm[t] = x[s + 1]!;
      }
    }
  }

  private untangle(outRe: Float64Array, outIm: Float64Array): void {
    const { zRe, zIm, wRe, wIm } = this;
    const h = this.n / 2;
    const z0r = zRe[0]!;
    const z0i = zIm[0]!;
    outRe[0] = z0r + z0i;
    outIm[0] = 0;
    outRe[h] = z0r - z0i;
    outIm[h] = 0;
    for (let k = 1; k < h; k++) {
      const ar = zRe[k]!;
      const ai = zIm[k]!;
      const br = zRe[h - k]!;
      const bi = -zIm[h - k]!;
      const er = 0.5 * (ar + br);
      const ei = 0.5 * (ai + bi);
      const or = 0.5 * (ai - bi);
      const oi = -0.5 * (ar - br);
      const wr = wRe[k]!;
      const wi = wIm[k]!;
      outRe[k] = er + wr * or - wi * oi;
      outIm[k] = ei + wr * oi + wi * or;
    }
  }
}

/** A direct O(n²) DFT, the reference the fast paths are tested against. */
export function naiveDft(re: ArrayLike<number>, im: ArrayLike<number>): { re: Float64Array; im: Float64Array } {
  const n = re.length;
  const oRe = new Float64Array(n);
  const oIm = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let sr = 0;
    let si = 0;
    for (let t = 0; t < n; t++) {
      const a = (-2 * Math.PI * ((k * t) % n)) / n;
      const c = Math.cos(a);
      const s = Math.sin(a);
      sr += re[t]! * c - im[t]! * s;
      si += re[t]! * s + im[t]! * c;
    }
    oRe[k] = sr;
    oIm[k] = si;
  }
  return { re: oRe, im: oIm };
}
