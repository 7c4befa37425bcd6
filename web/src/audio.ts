// Audio in the browser: decode a picked file (WAV with the toolkit's own decoder at its own rate, other
// formats with the browser's decoder), and the pictures of it: waveform and mel spectrogram, computed
// here with the toolkit's browser-safe feature code (audiotag/features), no server needed.
import { decodeWav, looksLikeWav } from 'audiotag/audio';
import { melSpectrogram, powerToDb } from 'audiotag/features';

export interface Decoded {
  sampleRate: number;
  channels: number;
  /** Mono mix (mean of the channels). */
  mono: Float32Array;
  duration: number;
}

function mix(channels: Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0]!;
  const out = new Float32Array(channels[0]!.length);
  for (const c of channels) for (let i = 0; i < out.length; i++) out[i]! += c[i]! / channels.length;
  return out;
}

/** Decodes a file: WAV natively (its own rate), anything the browser knows through Web Audio. */
export async function decodeFile(file: File): Promise<Decoded> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let channels: Float32Array[];
  let sampleRate: number;
  if (looksLikeWav(bytes.subarray(0, 12))) {
    const a = decodeWav(bytes, file.name);
    channels = a.channels;
    sampleRate = a.sampleRate;
  } else {
    // The decoder resamples to the context's rate; 48 kHz keeps everything up to 24 kHz.
    const ctx = new OfflineAudioContext(1, 1, 48000);
    let buf: AudioBuffer;
    try {
      buf = await ctx.decodeAudioData(bytes.buffer.slice(0) as ArrayBuffer);
    } catch {
      throw new Error(`${file.name}: this browser cannot decode it (try WAV, FLAC, Ogg or MP3)`);
    }
    channels = Array.from({ length: buf.numberOfChannels }, (_, c) => buf.getChannelData(c));
    sampleRate = buf.sampleRate;
  }
  const mono = mix(channels);
  return { sampleRate, channels: channels.length, mono, duration: mono.length / sampleRate };
}

/** Canvas backing size for a CSS width (device pixels, at most 2400). */
export function sizeCanvas(canvas: HTMLCanvasElement, cssHeight: number): { w: number; h: number } {
  const dpr = Math.min(2, window.devicePixelRatio || 1);
  const cssWidth = canvas.clientWidth || canvas.parentElement?.clientWidth || 800;
  canvas.width = Math.min(2400, Math.round(cssWidth * dpr));
  canvas.height = Math.round(cssHeight * dpr);
  canvas.style.height = `${cssHeight}px`;
  return { w: canvas.width, h: canvas.height };
}

/** Min/max envelope of the samples per pixel column, drawn around the centre line. */
export function drawWaveform(canvas: HTMLCanvasElement, x: Float32Array, cssHeight = 96): void {
  const { w, h } = sizeCanvas(canvas, cssHeight);
  const g = canvas.getContext('2d')!;
  g.fillStyle = '#f4f6fa';
  g.fillRect(0, 0, w, h);
  g.fillStyle = '#1a4fc4';
  const per = x.length / w;
  let peak = 1e-9;
  for (let i = 0; i < x.length; i++) peak = Math.max(peak, Math.abs(x[i]!));
  const mid = h / 2;
  const amp = (h / 2 - 2) / peak;
  for (let px = 0; px < w; px++) {
    const a = Math.floor(px * per);
    const b = Math.max(a + 1, Math.floor((px + 1) * per));
    let lo = 0;
    let hi = 0;
    for (let i = a; i < b && i < x.length; i++) {
      const v = x[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    g.fillRect(px, mid - hi * amp, 1, Math.max(1, (hi - lo) * amp));
  }
}

export interface Spectrogram {
  /** dB, [bands, frames] row-major, 0 dB at the loudest cell. */
  db: Float32Array;
  bands: number;
  frames: number;
  hopSeconds: number;
}

/** Log-mel spectrogram for display: ~32 ms frames, at most ~4000 frames, 64 bands up to Nyquist. */
export function computeSpectrogram(x: Float32Array, sampleRate: number): Spectrogram {
  const nFft = 2 ** Math.round(Math.log2(sampleRate * 0.032));
  const hopLength = Math.max(nFft / 4, Math.ceil(x.length / 4000));
  const nMels = 64;
  const mel = melSpectrogram(x, { sampleRate, nFft, hopLength, nMels, fmin: 0, fmax: sampleRate / 2 });
  const db = powerToDb(mel, { ref: 'max', topDb: 80 });
  return {
    db: db.data as Float32Array,
    bands: db.shape[0]!,
    frames: db.shape[1]!,
    hopSeconds: hopLength / sampleRate,
  };
}

/** Colour stops from quiet to loud: black, violet, red, orange, pale yellow (an "inferno"-like ramp). */
const STOPS: [number, number, number][] = [
  [0, 0, 4],
  [60, 12, 100],
  [170, 40, 90],
  [245, 125, 20],
  [252, 250, 165],
];

/** Colour of a level from 0 (quiet) to 1 (loud), linear between the stops. */
export function levelColour(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const a = STOPS[i]!;
  const b = STOPS[i + 1]!;
  return [0, 1, 2].map((k) => Math.round(a[k]! + (b[k]! - a[k]!) * f)) as [number, number, number];
}

/** Draws the spectrogram (low frequencies at the bottom) over the full canvas width. */
export function drawSpectrogram(canvas: HTMLCanvasElement, s: Spectrogram, cssHeight = 160): void {
  const { w, h } = sizeCanvas(canvas, cssHeight);
  const img = new ImageData(s.frames, s.bands);
  for (let b = 0; b < s.bands; b++)
    for (let f = 0; f < s.frames; f++) {
      const [r, g, bl] = levelColour((s.db[b * s.frames + f]! + 80) / 80);
      const o = 4 * ((s.bands - 1 - b) * s.frames + f);
      img.data[o] = r;
      img.data[o + 1] = g;
      img.data[o + 2] = bl;
      img.data[o + 3] = 255;
    }
  const off = document.createElement('canvas');
  off.width = s.frames;
  off.height = s.bands;
  off.getContext('2d')!.putImageData(img, 0, 0);
  const g = canvas.getContext('2d')!;
  g.imageSmoothingEnabled = s.frames < w;
  g.drawImage(off, 0, 0, w, h);
}
