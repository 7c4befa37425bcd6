// Hand-written FFT: Stockham (self-sorting) mixed radix 8/4/2/3/5 plus Bluestein for sizes with other
// prime factors. Why not a library: it must run in the browser with no native code, accept any n_fft
// (2560 = 2^9·5 for fat2019, primes too) and be as fast as we can make plain JS (bench/features.ts
// compares it with torchaudio). Complex data is interleaved [re0, im0, re1, im1, …] in float64: JS
// numbers are doubles anyway, it keeps the STFT far inside the 1e-4 agreement budget, and one array per
// buffer measured ~10% faster than split re/im arrays in V8 (float32 storage was not faster).

/** Splits n into radices, odd ones first (5, 3, then 8s and 4s, a 2 only for n = 2·odd); null when
 * another prime remains. Radix 8 does fewer flops and fewer passes over the data than 4·2 or 2·2·2. */
function factorize(n: number): number[] | null {
  const out: number[] = [];
  let m = n;
  for (const p of [5, 3]) {
    while (m % p === 0) {
      out.push(p);
      m /= p;
    }
  }
  let e = 0;
  while (m % 2 === 0) {
    e++;
    m /= 2;
  }
  if (m !== 1) return null;
  // 2^e as 8s with the remainder as 4s (e mod 3 = 1 → two 4s instead of 8·2); e = 1 → a single 2.
  if (e === 1) out.push(2);
  else {
    let fours = e % 3 === 1 ? 2 : e % 3 === 2 ? 1 : 0;
    let eights = (e - 2 * fours) / 3;
    while (eights-- > 0) out.push(8);
    while (fours-- > 0) out.push(4);
  }
  // The first stage needs no twiddles, so the costliest butterflies (5, 3) go there.
  return out;
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
  /** Span of the sub-transforms already done (L), and the number of residue classes left (R = n/(L·p)). */
  l: number;
  r: number;
  /** Twiddles ω_{L·p}^{f·q} for f < L, q = 1..p-1, interleaved, laid out [f][q-1]. */
  tw: Float64Array;
}

/**
 * Forward complex DFT of size n on interleaved data: X[k] = Σ_t x[t]·e^{-2πi·kt/n}.
 * One plan per size; `forward` is not re-entrant (it owns scratch buffers).
 */
export class ComplexFFT {
  readonly n: number;
  private readonly stages: Stage[] = [];
  private readonly scratch: Float64Array;
  private readonly blue: Bluestein | null = null;

  constructor(n: number) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`FFT: size must be a positive integer, got ${n}`);
    this.n = n;
    this.scratch = new Float64Array(2 * n);
    const factors = factorize(n);
    if (factors === null) {
      this.blue = new Bluestein(n);
      return;
    }
    let l = 1;
    for (const p of factors) {
      const lp = l * p;
      const tw = new Float64Array(2 * l * (p - 1));
      for (let f = 0; f < l; f++) {
        for (let q = 1; q < p; q++) {
          const a = (-2 * Math.PI * f * q) / lp;
          tw[2 * (f * (p - 1) + q - 1)] = Math.cos(a);
          tw[2 * (f * (p - 1) + q - 1) + 1] = Math.sin(a);
        }
      }
      // |0 keeps the sizes small integers for V8 (a division result may be stored as a double and
      // turn every index computation into float arithmetic).
      this.stages.push({ p, l: l | 0, r: (n / lp) | 0, tw });
      l = lp;
    }
  }

  /** Transforms interleaved complex `x` (length 2n) in place. */
  forward(x: Float64Array): void {
    if (x.length < 2 * this.n) throw new Error(`FFT: need ${2 * this.n} interleaved values, got ${x.length}`);
    if (this.blue) {
      this.blue.forward(x);
      return;
    }
    // Stockham ping-pong: each stage reads one buffer and writes the other.
    let a = x;
    let b = this.scratch;
    for (const st of this.stages) {
      if (st.p === 8) radix8(st, a, b);
      else if (st.p === 4) radix4(st, a, b);
      else if (st.p === 2) radix2(st, a, b);
      else if (st.p === 3) radix3(st, a, b);
      else radix5(st, a, b);
      const t = a;
      a = b;
      b = t;
    }
    if (a !== x) x.set(a.subarray(0, 2 * this.n));
  }

  /**
   * The FFT of the packed real frame z_c = x[o+2c]·w[2c] + i·x[o+2c+1]·w[2c+1] (c < n), result in `out`.
   * When the first stage is radix 5 or 8 it reads the signal directly, saving the copy-and-window pass
   * (the STFT's hot path); otherwise it packs first.
   */
  forwardPackedReal(x: Float64Array, offset: number, win: Float64Array, out: Float64Array): void {
    const first = this.stages[0];
    if (this.blue || !first || (first.p !== 5 && first.p !== 8)) {
      const n2 = 2 * this.n;
      for (let i = 0; i < n2; i++) out[i] = x[offset + i]! * win[i]!;
      this.forward(out);
      return;
    }
    // Land the last stage in `out`: with k stages after the first, the first writes to `out` when k is even.
    const k = this.stages.length - 1;
    let a = k % 2 === 0 ? out : this.scratch;
    let b = a === out ? this.scratch : out;
    if (first.p === 5) radix5Real(first.r, x, offset, win, a);
    else radix8Real(first.r, x, offset, win, a);
    for (let i = 1; i < this.stages.length; i++) {
      const st = this.stages[i]!;
      if (st.p === 8) radix8(st, a, b);
      else if (st.p === 4) radix4(st, a, b);
      else if (st.p === 2) radix2(st, a, b);
      else if (st.p === 3) radix3(st, a, b);
      else radix5(st, a, b);
      const t = a;
      a = b;
      b = t;
    }
  }

  /** Inverse DFT with 1/n scaling, via conj(FFT(conj(x)))/n. */
  inverse(x: Float64Array): void {
    const n = this.n;
    for (let i = 1; i < 2 * n; i += 2) x[i] = -x[i]!;
    this.forward(x);
    const s = 1 / n;
    for (let i = 0; i < 2 * n; i += 2) {
      x[i] = x[i]! * s;
      x[i + 1] = -x[i + 1]! * s;
    }
  }
}

const SIN60 = Math.sqrt(3) / 2;
const C5_1 = Math.cos((2 * Math.PI) / 5);
const C5_2 = Math.cos((4 * Math.PI) / 5);
const S5_1 = -Math.sin((2 * Math.PI) / 5);
const S5_2 = -Math.sin((4 * Math.PI) / 5);

// One decimation-in-time Stockham stage (indices in complex elements; ×2 for the interleaved array).
// With L the finished sub-transform length and R = n/(L·p):
//   out[j·L·p + L·g + f] = Σ_q ω_p^{g·q} · ω_{L·p}^{f·q} · in[(j + R·q)·L + f]
// f runs innermost so both reads and writes are contiguous. L = 1 (the first stage) has no twiddles.

const SQRT1_2 = Math.SQRT1_2;

// Radix 8 as two radix-4 DFTs (even and odd legs) joined by ω_8^g: b_g = E_g + ω_8^g·O_g,
// b_{g+4} = E_g − ω_8^g·O_g, with ω_8 = (1 − i)/√2, ω_8² = −i, ω_8³ = −(1 + i)/√2.
function radix8(st: Stage, x: Float64Array, y: Float64Array): void {
  const { l, r, tw } = st;
  const s = 2 * r * l;
  const L = 2 * l;
  for (let j = 0; j < r; j++) {
    const ib = j * L;
    const ob = 8 * j * L;
    for (let f = 0, t = 0; f < L; f += 2, t += 14) {
      const i0 = ib + f;
      const a0r = x[i0]!;
      const a0i = x[i0 + 1]!;
      let a1r = x[i0 + s]!;
      let a1i = x[i0 + s + 1]!;
      let a2r = x[i0 + 2 * s]!;
      let a2i = x[i0 + 2 * s + 1]!;
      let a3r = x[i0 + 3 * s]!;
      let a3i = x[i0 + 3 * s + 1]!;
      let a4r = x[i0 + 4 * s]!;
      let a4i = x[i0 + 4 * s + 1]!;
      let a5r = x[i0 + 5 * s]!;
      let a5i = x[i0 + 5 * s + 1]!;
      let a6r = x[i0 + 6 * s]!;
      let a6i = x[i0 + 6 * s + 1]!;
      let a7r = x[i0 + 7 * s]!;
      let a7i = x[i0 + 7 * s + 1]!;
      if (l > 1) {
        let wr = tw[t]!;
        let wi = tw[t + 1]!;
        let tr = a1r * wr - a1i * wi;
        a1i = a1r * wi + a1i * wr;
        a1r = tr;
        wr = tw[t + 2]!;
        wi = tw[t + 3]!;
        tr = a2r * wr - a2i * wi;
        a2i = a2r * wi + a2i * wr;
        a2r = tr;
        wr = tw[t + 4]!;
        wi = tw[t + 5]!;
        tr = a3r * wr - a3i * wi;
        a3i = a3r * wi + a3i * wr;
        a3r = tr;
        wr = tw[t + 6]!;
        wi = tw[t + 7]!;
        tr = a4r * wr - a4i * wi;
        a4i = a4r * wi + a4i * wr;
        a4r = tr;
        wr = tw[t + 8]!;
        wi = tw[t + 9]!;
        tr = a5r * wr - a5i * wi;
        a5i = a5r * wi + a5i * wr;
        a5r = tr;
        wr = tw[t + 10]!;
        wi = tw[t + 11]!;
        tr = a6r * wr - a6i * wi;
        a6i = a6r * wi + a6i * wr;
        a6r = tr;
        wr = tw[t + 12]!;
        wi = tw[t + 13]!;
        tr = a7r * wr - a7i * wi;
        a7i = a7r * wi + a7i * wr;
        a7r = tr;
      }
      const o = ob + f;
      // E = DFT4(a0, a2, a4, a6)
      let t0r = a0r + a4r;
      let t0i = a0i + a4i;
      let t1r = a0r - a4r;
      let t1i = a0i - a4i;
      let t2r = a2r + a6r;
      let t2i = a2i + a6i;
      let t3r = a2r - a6r;
      let t3i = a2i - a6i;
      const e0r = t0r + t2r;
      const e0i = t0i + t2i;
      const e2r = t0r - t2r;
      const e2i = t0i - t2i;
      const e1r = t1r + t3i;
      const e1i = t1i - t3r;
      const e3r = t1r - t3i;
      const e3i = t1i + t3r;
      // O = DFT4(a1, a3, a5, a7)
      t0r = a1r + a5r;
      t0i = a1i + a5i;
      t1r = a1r - a5r;
      t1i = a1i - a5i;
      t2r = a3r + a7r;
      t2i = a3i + a7i;
      t3r = a3r - a7r;
      t3i = a3i - a7i;
      const o0r = t0r + t2r;
      const o0i = t0i + t2i;
      const o2r = t0r - t2r;
      const o2i = t0i - t2i;
      let o1r = t1r + t3i;
      let o1i = t1i - t3r;
      let o3r = t1r - t3i;
      let o3i = t1i + t3r;
      // ω_8·O_1 and ω_8³·O_3
      let u = SQRT1_2 * (o1r + o1i);
      o1i = SQRT1_2 * (o1i - o1r);
      o1r = u;
      u = SQRT1_2 * (o3i - o3r);
      o3i = -SQRT1_2 * (o3r + o3i);
      o3r = u;
      y[o] = e0r + o0r;
      y[o + 1] = e0i + o0i;
      y[o + 4 * L] = e0r - o0r;
      y[o + 4 * L + 1] = e0i - o0i;
      y[o + L] = e1r + o1r;
      y[o + L + 1] = e1i + o1i;
      y[o + 5 * L] = e1r - o1r;
      y[o + 5 * L + 1] = e1i - o1i;
      // ω_8²·O_2 = −i·O_2 = (o2i, −o2r)
      y[o + 2 * L] = e2r + o2i;
      y[o + 2 * L + 1] = e2i - o2r;
      y[o + 6 * L] = e2r - o2i;
      y[o + 6 * L + 1] = e2i + o2r;
      y[o + 3 * L] = e3r + o3r;
      y[o + 3 * L + 1] = e3i + o3i;
      y[o + 7 * L] = e3r - o3r;
      y[o + 7 * L + 1] = e3i - o3i;
    }
  }
}

function radix4(st: Stage, x: Float64Array, y: Float64Array): void {
  const { l, r, tw } = st;
  const s = 2 * r * l; // distance between the 4 legs
  const L = 2 * l;
  if (l === 1) {
    for (let j = 0; j < r; j++) {
      const i0 = 2 * j;
      const i1 = i0 + s;
      const i2 = i1 + s;
      const i3 = i2 + s;
      const a0r = x[i0]!;
      const a0i = x[i0 + 1]!;
      const a1r = x[i1]!;
      const a1i = x[i1 + 1]!;
      const a2r = x[i2]!;
      const a2i = x[i2 + 1]!;
      const a3r = x[i3]!;
      const a3i = x[i3 + 1]!;
      const t0r = a0r + a2r;
      const t0i = a0i + a2i;
      const t1r = a0r - a2r;
      const t1i = a0i - a2i;
      const t2r = a1r + a3r;
      const t2i = a1i + a3i;
      const t3r = a1r - a3r;
      const t3i = a1i - a3i;
      const o = 8 * j;
      y[o] = t0r + t2r;
      y[o + 1] = t0i + t2i;
      y[o + 2] = t1r + t3i;
      y[o + 3] = t1i - t3r;
      y[o + 4] = t0r - t2r;
      y[o + 5] = t0i - t2i;
      y[o + 6] = t1r - t3i;
      y[o + 7] = t1i + t3r;
    }
    return;
  }
  for (let j = 0; j < r; j++) {
    const ib = j * L;
    const ob = 4 * j * L;
    for (let f = 0, t = 0; f < L; f += 2, t += 6) {
      const i0 = ib + f;
      const i1 = i0 + s;
      const i2 = i1 + s;
      const i3 = i2 + s;
      let wr = tw[t]!;
      let wi = tw[t + 1]!;
      let xr = x[i1]!;
      let xi = x[i1 + 1]!;
      const a1r = xr * wr - xi * wi;
      const a1i = xr * wi + xi * wr;
      wr = tw[t + 2]!;
      wi = tw[t + 3]!;
      xr = x[i2]!;
      xi = x[i2 + 1]!;
      const a2r = xr * wr - xi * wi;
      const a2i = xr * wi + xi * wr;
      wr = tw[t + 4]!;
      wi = tw[t + 5]!;
      xr = x[i3]!;
      xi = x[i3 + 1]!;
      const a3r = xr * wr - xi * wi;
      const a3i = xr * wi + xi * wr;
      const a0r = x[i0]!;
      const a0i = x[i0 + 1]!;
      const t0r = a0r + a2r;
      const t0i = a0i + a2i;
      const t1r = a0r - a2r;
      const t1i = a0i - a2i;
      const t2r = a1r + a3r;
      const t2i = a1i + a3i;
      const t3r = a1r - a3r;
      const t3i = a1i - a3i;
      // ω_4 = −i: leg 1 of the output is t1 − i·t3, leg 3 is t1 + i·t3.
      const o = ob + f;
      y[o] = t0r + t2r;
      y[o + 1] = t0i + t2i;
      y[o + L] = t1r + t3i;
      y[o + L + 1] = t1i - t3r;
      y[o + 2 * L] = t0r - t2r;
      y[o + 2 * L + 1] = t0i - t2i;
      y[o + 3 * L] = t1r - t3i;
      y[o + 3 * L + 1] = t1i + t3r;
    }
  }
}

function radix2(st: Stage, x: Float64Array, y: Float64Array): void {
  const { l, r, tw } = st;
  const s = 2 * r * l;
  const L = 2 * l;
  for (let j = 0; j < r; j++) {
    const ib = j * L;
    const ob = 2 * j * L;
    for (let f = 0; f < L; f += 2) {
      const i0 = ib + f;
      const i1 = i0 + s;
      let a1r = x[i1]!;
      let a1i = x[i1 + 1]!;
      if (l > 1) {
        const wr = tw[f]!;
        const wi = tw[f + 1]!;
        const tr = a1r * wr - a1i * wi;
        a1i = a1r * wi + a1i * wr;
        a1r = tr;
      }
      const a0r = x[i0]!;
      const a0i = x[i0 + 1]!;
      const o = ob + f;
      y[o] = a0r + a1r;
      y[o + 1] = a0i + a1i;
      y[o + L] = a0r - a1r;
      y[o + L + 1] = a0i - a1i;
    }
  }
}

function radix3(st: Stage, x: Float64Array, y: Float64Array): void {
  const { l, r, tw } = st;
  const s = 2 * r * l;
  const L = 2 * l;
  for (let j = 0; j < r; j++) {
    const ib = j * L;
    const ob = 3 * j * L;
    for (let f = 0, t = 0; f < L; f += 2, t += 4) {
      const i0 = ib + f;
      const i1 = i0 + s;
      const i2 = i1 + s;
      let a1r = x[i1]!;
      let a1i = x[i1 + 1]!;
      let a2r = x[i2]!;
      let a2i = x[i2 + 1]!;
      if (l > 1) {
        let wr = tw[t]!;
        let wi = tw[t + 1]!;
        let tr = a1r * wr - a1i * wi;
        a1i = a1r * wi + a1i * wr;
        a1r = tr;
        wr = tw[t + 2]!;
        wi = tw[t + 3]!;
        tr = a2r * wr - a2i * wi;
        a2i = a2r * wi + a2i * wr;
        a2r = tr;
      }
      const a0r = x[i0]!;
      const a0i = x[i0 + 1]!;
      const sr = a1r + a2r;
      const si = a1i + a2i;
      const mr = a0r - 0.5 * sr;
      const mi = a0i - 0.5 * si;
      // ω_3 = −1/2 − i·√3/2: the difference leg is multiplied by −i·√3/2.
      const dr = SIN60 * (a1i - a2i);
      const di = -SIN60 * (a1r - a2r);
      const o = ob + f;
      y[o] = a0r + sr;
      y[o + 1] = a0i + si;
      y[o + L] = mr + dr;
      y[o + L + 1] = mi + di;
      y[o + 2 * L] = mr - dr;
      y[o + 2 * L + 1] = mi - di;
    }
  }
}

// First stages (L = 1, no twiddles) that read the windowed real signal as packed complex input:
// element c is (x[o+2c]·w[2c], x[o+2c+1]·w[2c+1]).
function radix5Real(r: number, x: Float64Array, o: number, w: Float64Array, y: Float64Array): void {
  const s = 2 * r;
  for (let j = 0; j < r; j++) {
    const i0 = 2 * j;
    const i1 = i0 + s;
    const i2 = i1 + s;
    const i3 = i2 + s;
    const i4 = i3 + s;
    const a0r = x[o + i0]! * w[i0]!;
    const a0i = x[o + i0 + 1]! * w[i0 + 1]!;
    const a1r = x[o + i1]! * w[i1]!;
    const a1i = x[o + i1 + 1]! * w[i1 + 1]!;
    const a2r = x[o + i2]! * w[i2]!;
    const a2i = x[o + i2 + 1]! * w[i2 + 1]!;
    const a3r = x[o + i3]! * w[i3]!;
    const a3i = x[o + i3 + 1]! * w[i3 + 1]!;
    const a4r = x[o + i4]! * w[i4]!;
    const a4i = x[o + i4 + 1]! * w[i4 + 1]!;
    const u1r = a1r + a4r;
    const u1i = a1i + a4i;
    const v1r = a1r - a4r;
    const v1i = a1i - a4i;
    const u2r = a2r + a3r;
    const u2i = a2i + a3i;
    const v2r = a2r - a3r;
    const v2i = a2i - a3i;
    const m1r = a0r + C5_1 * u1r + C5_2 * u2r;
    const m1i = a0i + C5_1 * u1i + C5_2 * u2i;
    const m2r = a0r + C5_2 * u1r + C5_1 * u2r;
    const m2i = a0i + C5_2 * u1i + C5_1 * u2i;
    const n1r = S5_1 * v1r + S5_2 * v2r;
    const n1i = S5_1 * v1i + S5_2 * v2i;
    const n2r = S5_2 * v1r - S5_1 * v2r;
    const n2i = S5_2 * v1i - S5_1 * v2i;
    const q = 10 * j;
    y[q] = a0r + u1r + u2r;
    y[q + 1] = a0i + u1i + u2i;
    y[q + 2] = m1r - n1i;
    y[q + 3] = m1i + n1r;
    y[q + 8] = m1r + n1i;
    y[q + 9] = m1i - n1r;
    y[q + 4] = m2r - n2i;
    y[q + 5] = m2i + n2r;
    y[q + 6] = m2r + n2i;
    y[q + 7] = m2i - n2r;
  }
}

function radix8Real(r: number, x: Float64Array, off: number, w: Float64Array, y: Float64Array): void {
  const s = 2 * r;
  for (let j = 0; j < r; j++) {
    const i0 = 2 * j;
    const a0r = x[off + i0]! * w[i0]!;
    const a0i = x[off + i0 + 1]! * w[i0 + 1]!;
    const a1r = x[off + i0 + s]! * w[i0 + s]!;
    const a1i = x[off + i0 + s + 1]! * w[i0 + s + 1]!;
    const a2r = x[off + i0 + 2 * s]! * w[i0 + 2 * s]!;
    const a2i = x[off + i0 + 2 * s + 1]! * w[i0 + 2 * s + 1]!;
    const a3r = x[off + i0 + 3 * s]! * w[i0 + 3 * s]!;
    const a3i = x[off + i0 + 3 * s + 1]! * w[i0 + 3 * s + 1]!;
    const a4r = x[off + i0 + 4 * s]! * w[i0 + 4 * s]!;
    const a4i = x[off + i0 + 4 * s + 1]! * w[i0 + 4 * s + 1]!;
    const a5r = x[off + i0 + 5 * s]! * w[i0 + 5 * s]!;
    const a5i = x[off + i0 + 5 * s + 1]! * w[i0 + 5 * s + 1]!;
    const a6r = x[off + i0 + 6 * s]! * w[i0 + 6 * s]!;
    const a6i = x[off + i0 + 6 * s + 1]! * w[i0 + 6 * s + 1]!;
    const a7r = x[off + i0 + 7 * s]! * w[i0 + 7 * s]!;
    const a7i = x[off + i0 + 7 * s + 1]! * w[i0 + 7 * s + 1]!;
    // The same butterfly as radix8 (inlined by hand: V8 does not inline a 19-argument helper).
    const o = 16 * j;
    const L = 2;
    // E = DFT4(a0, a2, a4, a6)
    let t0r = a0r + a4r;
    let t0i = a0i + a4i;
    let t1r = a0r - a4r;
    let t1i = a0i - a4i;
    let t2r = a2r + a6r;
    let t2i = a2i + a6i;
    let t3r = a2r - a6r;
    let t3i = a2i - a6i;
    const e0r = t0r + t2r;
    const e0i = t0i + t2i;
    const e2r = t0r - t2r;
    const e2i = t0i - t2i;
    const e1r = t1r + t3i;
    const e1i = t1i - t3r;
    const e3r = t1r - t3i;
    const e3i = t1i + t3r;
    // O = DFT4(a1, a3, a5, a7)
    t0r = a1r + a5r;
    t0i = a1i + a5i;
    t1r = a1r - a5r;
    t1i = a1i - a5i;
    t2r = a3r + a7r;
    t2i = a3i + a7i;
    t3r = a3r - a7r;
    t3i = a3i - a7i;
    const o0r = t0r + t2r;
    const o0i = t0i + t2i;
    const o2r = t0r - t2r;
    const o2i = t0i - t2i;
    let o1r = t1r + t3i;
    let o1i = t1i - t3r;
    let o3r = t1r - t3i;
    let o3i = t1i + t3r;
    // ω_8·O_1 and ω_8³·O_3
    let u = SQRT1_2 * (o1r + o1i);
    o1i = SQRT1_2 * (o1i - o1r);
    o1r = u;
    u = SQRT1_2 * (o3i - o3r);
    o3i = -SQRT1_2 * (o3r + o3i);
    o3r = u;
    y[o] = e0r + o0r;
    y[o + 1] = e0i + o0i;
    y[o + 4 * L] = e0r - o0r;
    y[o + 4 * L + 1] = e0i - o0i;
    y[o + L] = e1r + o1r;
    y[o + L + 1] = e1i + o1i;
    y[o + 5 * L] = e1r - o1r;
    y[o + 5 * L + 1] = e1i - o1i;
    // ω_8²·O_2 = −i·O_2 = (o2i, −o2r)
    y[o + 2 * L] = e2r + o2i;
    y[o + 2 * L + 1] = e2i - o2r;
    y[o + 6 * L] = e2r - o2i;
    y[o + 6 * L + 1] = e2i + o2r;
    y[o + 3 * L] = e3r + o3r;
    y[o + 3 * L + 1] = e3i + o3i;
    y[o + 7 * L] = e3r - o3r;
    y[o + 7 * L + 1] = e3i - o3i;
  }
}

function radix5(st: Stage, x: Float64Array, y: Float64Array): void {
  const { l, r, tw } = st;
  const s = 2 * r * l;
  const L = 2 * l;
  for (let j = 0; j < r; j++) {
    const ib = j * L;
    const ob = 5 * j * L;
    for (let f = 0, t = 0; f < L; f += 2, t += 8) {
      const i0 = ib + f;
      const i1 = i0 + s;
      const i2 = i1 + s;
      const i3 = i2 + s;
      const i4 = i3 + s;
      let a1r = x[i1]!;
      let a1i = x[i1 + 1]!;
      let a2r = x[i2]!;
      let a2i = x[i2 + 1]!;
      let a3r = x[i3]!;
      let a3i = x[i3 + 1]!;
      let a4r = x[i4]!;
      let a4i = x[i4 + 1]!;
      if (l > 1) {
        let wr = tw[t]!;
        let wi = tw[t + 1]!;
        let tr = a1r * wr - a1i * wi;
        a1i = a1r * wi + a1i * wr;
        a1r = tr;
        wr = tw[t + 2]!;
        wi = tw[t + 3]!;
        tr = a2r * wr - a2i * wi;
        a2i = a2r * wi + a2i * wr;
        a2r = tr;
        wr = tw[t + 4]!;
        wi = tw[t + 5]!;
        tr = a3r * wr - a3i * wi;
        a3i = a3r * wi + a3i * wr;
        a3r = tr;
        wr = tw[t + 6]!;
        wi = tw[t + 7]!;
        tr = a4r * wr - a4i * wi;
        a4i = a4r * wi + a4i * wr;
        a4r = tr;
      }
      const a0r = x[i0]!;
      const a0i = x[i0 + 1]!;
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
      const n1r = S5_1 * v1r + S5_2 * v2r;
      const n1i = S5_1 * v1i + S5_2 * v2i;
      const n2r = S5_2 * v1r - S5_1 * v2r;
      const n2i = S5_2 * v1i - S5_1 * v2i;
      const o = ob + f;
      y[o] = a0r + u1r + u2r;
      y[o + 1] = a0i + u1i + u2i;
      y[o + L] = m1r - n1i;
      y[o + L + 1] = m1i + n1r;
      y[o + 4 * L] = m1r + n1i;
      y[o + 4 * L + 1] = m1i - n1r;
      y[o + 2 * L] = m2r - n2i;
      y[o + 2 * L + 1] = m2i + n2r;
      y[o + 3 * L] = m2r + n2i;
      y[o + 3 * L + 1] = m2i - n2r;
    }
  }
}

// Bluestein's chirp-z: X[k] = w̄_k · Σ_t (x_t·w̄_t)·w_{k−t} with w_t = e^{iπt²/n}, a circular convolution
// done with a 5-smooth FFT of length M ≥ 2n−1.
class Bluestein {
  private readonly n: number;
  private readonly fft: ComplexFFT;
  private readonly chirp: Float64Array; // e^{-iπt²/n}, interleaved
  private readonly kernel: Float64Array; // FFT of the conjugate chirp, pre-divided by M
  private readonly work: Float64Array;

  constructor(n: number) {
    this.n = n;
    const m = nextSmooth(2 * n - 1);
    this.fft = new ComplexFFT(m);
    this.chirp = new Float64Array(2 * n);
    for (let t = 0; t < n; t++) {
      // t² mod 2n keeps the angle small, so it stays exact for large n.
      const a = (-Math.PI * ((t * t) % (2 * n))) / n;
      this.chirp[2 * t] = Math.cos(a);
      this.chirp[2 * t + 1] = Math.sin(a);
    }
    const b = new Float64Array(2 * m);
    b[0] = this.chirp[0]!;
    b[1] = -this.chirp[1]!;
    for (let t = 1; t < n; t++) {
      b[2 * t] = b[2 * (m - t)] = this.chirp[2 * t]!;
      b[2 * t + 1] = b[2 * (m - t) + 1] = -this.chirp[2 * t + 1]!;
    }
    this.fft.forward(b);
    for (let i = 0; i < 2 * m; i++) b[i] = b[i]! / m;
    this.kernel = b;
    this.work = new Float64Array(2 * m);
  }

  forward(x: Float64Array): void {
    const { n, work: w, chirp: c, kernel: b } = this;
    const m2 = w.length;
    for (let t = 0; t < 2 * n; t += 2) {
      const xr = x[t]!;
      const xi = x[t + 1]!;
      w[t] = xr * c[t]! - xi * c[t + 1]!;
      w[t + 1] = xr * c[t + 1]! + xi * c[t]!;
    }
    w.fill(0, 2 * n);
    this.fft.forward(w);
    // Multiply by the kernel and conjugate, so a forward FFT performs the inverse (1/M is in the kernel).
    for (let i = 0; i < m2; i += 2) {
      const ar = w[i]!;
      const ai = w[i + 1]!;
      const br = b[i]!;
      const bi = b[i + 1]!;
      w[i] = ar * br - ai * bi;
      w[i + 1] = -(ar * bi + ai * br);
    }
    this.fft.forward(w);
    for (let k = 0; k < 2 * n; k += 2) {
      const yr = w[k]!;
      const yi = -w[k + 1]!;
      x[k] = yr * c[k]! - yi * c[k + 1]!;
      x[k + 1] = yr * c[k + 1]! + yi * c[k]!;
    }
  }
}

/**
 * Forward DFT of a real signal of any length n, bins 0..⌊n/2⌋ (numpy.fft.rfft).
 * Even n packs the signal into a complex FFT of n/2 (z_t = x_{2t} + i·x_{2t+1}) and untangles:
 * X_k = E_k + W^k·O_k with E_k = (Z_k + Z̄_{h−k})/2, O_k = (Z_k − Z̄_{h−k})/(2i), W = e^{−2πi/n}, h = n/2;
 * bins k and h−k share E_k and W^k·O_k (X_{h−k} = conj(E_k − W^k·O_k)), so pairs are done together.
 */
export class RealFFT {
  readonly n: number;
  readonly bins: number;
  private readonly cfft: ComplexFFT;
  private readonly even: boolean;
  private readonly z: Float64Array;
  private readonly w: Float64Array; // W^k, interleaved, k = 0..h

  constructor(n: number) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`RealFFT: size must be a positive integer, got ${n}`);
    this.n = n;
    this.bins = Math.floor(n / 2) + 1;
    this.even = n % 2 === 0;
    const m = this.even ? n >> 1 : n;
    this.cfft = new ComplexFFT(m);
    this.z = new Float64Array(2 * m);
    this.w = new Float64Array(this.even ? 2 * (m + 1) : 0);
    if (this.even) {
      for (let k = 0; k <= m; k++) {
        this.w[2 * k] = Math.cos((-2 * Math.PI * k) / n);
        this.w[2 * k + 1] = Math.sin((-2 * Math.PI * k) / n);
      }
    }
  }

  /** z ← x[offset..offset+n)·win, as packed complex (even n) or with zero imaginary parts (odd n). */
  private load(x: ArrayLike<number>, offset: number, win: Float64Array | null): void {
    const { z, n } = this;
    if (offset < 0 || x.length < offset + n)
      throw new Error(`RealFFT: need ${n} samples from ${offset}, have ${x.length}`);
    if (this.even && win && x instanceof Float64Array) {
      this.cfft.forwardPackedReal(x, offset, win, z);
      return;
    }
    if (this.even) {
      // Interleaving makes the even/odd packing a plain contiguous copy.
      if (win) for (let i = 0; i < n; i++) z[i] = x[offset + i]! * win[i]!;
      else for (let i = 0; i < n; i++) z[i] = x[offset + i]!;
    } else {
      for (let i = 0; i < n; i++) {
        z[2 * i] = win ? x[offset + i]! * win[i]! : x[offset + i]!;
        z[2 * i + 1] = 0;
      }
    }
    this.cfft.forward(z);
  }

  /**
   * Bins 0..⌊n/2⌋ of the DFT of x[offset..offset+n) (times `win` when given), into outRe/outIm.
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
    const { z, w } = this;
    if (!this.even) {
      for (let k = 0; k < this.bins; k++) {
        outRe[k] = z[2 * k]!;
        outIm[k] = z[2 * k + 1]!;
      }
      return;
    }
    const h = this.n >> 1;
    outRe[0] = z[0]! + z[1]!;
    outIm[0] = 0;
    outRe[h] = z[0]! - z[1]!;
    outIm[h] = 0;
    for (let k = 1; 2 * k <= h; k++) {
      const a = 2 * k;
      const b = 2 * (h - k);
      const zr = z[a]!;
      const zi = z[a + 1]!;
      const cr = z[b]!;
      const ci = -z[b + 1]!; // conj Z_{h−k}
      const er = 0.5 * (zr + cr);
      const ei = 0.5 * (zi + ci);
      const or = 0.5 * (zi - ci);
      const oi = -0.5 * (zr - cr);
      const wr = w[a]!;
      const wi = w[a + 1]!;
      const pr = wr * or - wi * oi;
      const pi = wr * oi + wi * or;
      outRe[k] = er + pr;
      outIm[k] = ei + pi;
      outRe[h - k] = er - pr;
      outIm[h - k] = pi - ei;
    }
  }

  /** Like `forward` but writes |X_k|² only. */
  power(x: ArrayLike<number>, out: Float64Array, offset = 0, win: Float64Array | null = null): void {
    this.load(x, offset, win);
    const { z, w } = this;
    if (!this.even) {
      for (let k = 0; k < this.bins; k++) out[k] = z[2 * k]! * z[2 * k]! + z[2 * k + 1]! * z[2 * k + 1]!;
      return;
    }
    const h = this.n >> 1;
    const s0 = z[0]! + z[1]!;
    const d0 = z[0]! - z[1]!;
    out[0] = s0 * s0;
    out[h] = d0 * d0;
    for (let k = 1; 2 * k <= h; k++) {
      const a = 2 * k;
      const b = 2 * (h - k);
      const zr = z[a]!;
      const zi = z[a + 1]!;
      const cr = z[b]!;
      const ci = -z[b + 1]!;
      const er = 0.5 * (zr + cr);
      const ei = 0.5 * (zi + ci);
      const or = 0.5 * (zi - ci);
      const oi = -0.5 * (zr - cr);
      const wr = w[a]!;
      const wi = w[a + 1]!;
      const pr = wr * or - wi * oi;
      const pi = wr * oi + wi * or;
      const xr = er + pr;
      const xi = ei + pi;
      const yr = er - pr;
      const yi = ei - pi;
      out[k] = xr * xr + xi * xi;
      out[h - k] = yr * yr + yi * yi;
    }
  }
}

/** A direct O(n²) DFT of interleaved data, the reference the fast paths are tested against. */
export function naiveDft(x: ArrayLike<number>): Float64Array {
  const n = x.length / 2;
  const out = new Float64Array(2 * n);
  for (let k = 0; k < n; k++) {
    let sr = 0;
    let si = 0;
    for (let t = 0; t < n; t++) {
      const a = (-2 * Math.PI * ((k * t) % n)) / n;
      const c = Math.cos(a);
      const s = Math.sin(a);
      sr += x[2 * t]! * c - x[2 * t + 1]! * s;
      si += x[2 * t]! * s + x[2 * t + 1]! * c;
    }
    out[2 * k] = sr;
    out[2 * k + 1] = si;
  }
  return out;
}
