// Shared helpers for the audio tests: temp dirs, running sox/ffmpeg, and hand-built RIFF files.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Random } from '../../src/core/random.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED = join(ROOT, '..', 'shared', 'data');
export const FSDD_WAV = join(SHARED, 'fsdd', 'audio', '0_george_0.wav');
export const ESC10_FLAC = join(SHARED, 'esc10', 'audio', '2-77945-B-41.flac');
export const PHIL_MP3 = join(SHARED, 'philharmonia', 'audio', 'banjo_E5_very-long_forte_normal.mp3');

export function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'audiotag-audio-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs a tool and returns stdout as bytes (throws with its stderr on failure). */
export function run(bin: string, args: string[]): Buffer {
  return execFileSync(bin, args, { maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Float32 samples from a little-endian byte buffer (copied, so alignment does not matter). */
export function f32(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(Math.floor(bytes.length / 4));
  new Uint8Array(out.buffer).set(bytes.subarray(0, out.byteLength));
  return out;
}

/** Splits interleaved samples into channels. */
export function deinterleave(x: Float32Array, channels: number): Float32Array[] {
  const n = Math.floor(x.length / channels);
  return Array.from({ length: channels }, (_, c) => {
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) y[i] = x[i * channels + c]!;
    return y;
  });
}

export function interleave(channels: Float32Array[]): Float32Array {
  const n = channels[0]!.length;
  const out = new Float32Array(n * channels.length);
  for (let c = 0; c < channels.length; c++)
    for (let i = 0; i < n; i++) out[i * channels.length + c] = channels[c]![i]!;
  return out;
}

/** Decodes any file with sox into float32 channels (sox's own decoders, independent of ffmpeg and ours). */
export function soxDecode(path: string, channels: number): Float32Array[] {
  return deinterleave(f32(run('sox', [path, '-t', 'f32', '-'])), channels);
}

/** A deterministic test signal: a few sines plus seeded noise, within (-0.9, 0.9). */
export function testSignal(frames: number, channels: number, seed = 1): Float32Array[] {
  const rng = new Random(seed);
  return Array.from({ length: channels }, (_, c) => {
    const y = new Float32Array(frames);
    for (let i = 0; i < frames; i++)
      y[i] = 0.5 * Math.sin(0.01 * (c + 1) * i) + 0.3 * Math.sin(0.37 * i + c) + 0.1 * (2 * rng.random() - 1);
    return y;
  });
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

// ---- hand-built RIFF files for the odd layouts sox and ffmpeg never write ------------------------

export interface Chunk {
  id: string;
  body: Uint8Array;
  /** Declared size (default body.length). */
  size?: number;
  /** Write the pad byte after an odd-sized body (default true). */
  pad?: boolean;
}

export function chunk(id: string, body: Uint8Array, extra: Partial<Chunk> = {}): Chunk {
  return { id, body, ...extra };
}

export function riff(
  chunks: Chunk[],
  opts: { container?: string; form?: string; riffSize?: number } = {},
): Uint8Array {
  const parts: number[] = [];
  const put32 = (v: number): void => {
    parts.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  };
  const putId = (s: string): void => {
    for (let i = 0; i < 4; i++) parts.push(s.charCodeAt(i));
  };
  putId(opts.container ?? 'RIFF');
  put32(0);
  putId(opts.form ?? 'WAVE');
  for (const c of chunks) {
    putId(c.id);
    put32(c.size ?? c.body.length);
    parts.push(...c.body);
    if (c.body.length & 1 && c.pad !== false) parts.push(0);
  }
  const out = Uint8Array.from(parts);
  new DataView(out.buffer).setUint32(4, opts.riffSize ?? out.length - 8, true);
  return out;
}

export function fmtBody(o: {
  tag: number;
  channels: number;
  rate: number;
  bits: number;
  blockAlign?: number;
  ext?: { validBits: number; subTag: number };
}): Uint8Array {
  const size = o.ext ? 40 : 16;
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  const blockAlign = o.blockAlign ?? o.channels * Math.ceil(o.bits / 8);
  v.setUint16(0, o.ext ? 0xfffe : o.tag, true);
  v.setUint16(2, o.channels, true);
  v.setUint32(4, o.rate, true);
  v.setUint32(8, o.rate * blockAlign, true);
  v.setUint16(12, blockAlign, true);
  v.setUint16(14, o.bits, true);
  if (o.ext) {
    v.setUint16(16, 22, true);
    v.setUint16(18, o.ext.validBits, true);
    v.setUint16(24, o.ext.subTag, true);
    b.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 26);
  }
  return b;
}

/** Interleaved int16 PCM bytes for the given integer samples. */
export function pcm16(values: number[]): Uint8Array {
  const b = new Uint8Array(values.length * 2);
  const v = new DataView(b.buffer);
  for (let i = 0; i < values.length; i++) v.setInt16(2 * i, values[i]!, true);
  return b;
}

export function floatBytes(values: number[], bits: 32 | 64 = 32): Uint8Array {
  const b = new Uint8Array(values.length * (bits / 8));
  const v = new DataView(b.buffer);
  for (let i = 0; i < values.length; i++) {
    if (bits === 32) v.setFloat32(4 * i, values[i]!, true);
    else v.setFloat64(8 * i, values[i]!, true);
  }
  return b;
}
