// The optional audio addon (build/Release/audiotag_audio.node, built from native/audio/ by
// `make -C native audio`): FLAC, Ogg Vorbis, Ogg Opus and MP3 decoded in process by libsndfile, and
// resampling by libsoxr. It does not link libtorch. When it is missing (or AUDIOTAG_AUDIO_ADDON=0), io.ts
// falls back to ffmpeg subprocesses and src/audio/resample.ts. Node-only.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../core/package-root.js';
import type { ResampleQuality } from './resample.js';

export interface NativeDecodeOptions {
  /** Range in seconds; frames are round(offset · rate) and round(duration · rate), as the WAV reader. */
  offset?: number;
  duration?: number;
  /** Mean of the channels (in double per sample, like toMono). */
  mono?: boolean;
  /** Resample to this rate with soxr (in the same thread-pool job). */
  rate?: number;
  quality?: ResampleQuality;
}

export interface NativeDecoded {
  sampleRate: number;
  channels: Float32Array[];
  /** The file's own rate, libsndfile's frame count (an estimate for MP3), and the first frame read. */
  fileRate: number;
  fileFrames: number;
  start: number;
}

export interface NativeInfo {
  sampleRate: number;
  channels: number;
  frames: number;
  /** ffmpeg's codec names: flac, vorbis, opus, mp3 (mp2, mp1). */
  codec: string;
  seekable: boolean;
}

export interface NativeResampler {
  process(x: Float32Array): Float32Array;
  flush(): Float32Array;
}

export interface AudioAddon {
  info(path: string): NativeInfo;
  decode(path: string, opts: NativeDecodeOptions): Promise<NativeDecoded>;
  decodeSync(path: string, opts: NativeDecodeOptions): NativeDecoded;
  resample(x: Float32Array, fromRate: number, toRate: number, quality: ResampleQuality): Float32Array;
  Resampler: new (fromRate: number, toRate: number, quality: ResampleQuality) => NativeResampler;
  sndfileVersion: string;
  soxrVersion: string;
}

let loaded: { addon: AudioAddon | null; why: string } | null = null;

function load(): { addon: AudioAddon | null; why: string } {
  if (process.env.AUDIOTAG_AUDIO_ADDON === '0')
    return { addon: null, why: 'disabled by AUDIOTAG_AUDIO_ADDON=0' };
  const root = packageRoot();
  const path =
    process.env.AUDIOTAG_AUDIO_ADDON ||
    (root === null ? '' : join(root, 'build', 'Release', 'audiotag_audio.node'));
  if (path === '' || !existsSync(path))
    return {
      addon: null,
      why: `${path || 'build/Release/audiotag_audio.node'} is missing (build it with \`make -C native audio\`; needs libsndfile1-dev and libsoxr-dev)`,
    };
  try {
    return { addon: createRequire(import.meta.url)(path) as AudioAddon, why: '' };
  } catch (e) {
    return { addon: null, why: `cannot load ${path}: ${(e as Error).message}` };
  }
}

/** The audio addon, or null when it is missing or disabled (then `audioAddonProblem()` says why). */
export function audioAddon(): AudioAddon | null {
  loaded ??= load();
  return loaded.addon;
}

/** Why audioAddon() is null ('' when it loaded). */
export function audioAddonProblem(): string {
  loaded ??= load();
  return loaded.why;
}

/** For tests: forget the loaded state so AUDIOTAG_AUDIO_ADDON is read again. */
export function resetAudioAddon(): void {
  loaded = null;
}

/**
 * File starts the addon decodes: "fLaC", "OggS" (Vorbis or Opus inside), an ID3 tag, or an MPEG audio
 * frame sync. Everything else (M4A/AAC, video containers, WAV codecs) goes to ffmpeg.
 */
export function addonFormat(head: Uint8Array): 'flac' | 'ogg' | 'mp3' | null {
  if (head.length < 4) return null;
  const id = String.fromCharCode(head[0]!, head[1]!, head[2]!, head[3]!);
  if (id === 'fLaC') return 'flac';
  if (id === 'OggS') return 'ogg';
  if (id.startsWith('ID3')) {
    // An ID3v2 tag can sit in front of FLAC too; look behind it.
    if (head.length >= 10) {
      const size =
        ((head[6]! & 0x7f) << 21) | ((head[7]! & 0x7f) << 14) | ((head[8]! & 0x7f) << 7) | (head[9]! & 0x7f);
      const at = 10 + size + (head[5]! & 0x10 ? 10 : 0);
      if (at + 4 <= head.length && String.fromCharCode(...head.subarray(at, at + 4)) === 'fLaC')
        return 'flac';
    }
    return 'mp3';
  }
  // MPEG-1/2 layer III frame sync (11 set bits, layer bits 01).
  if (head[0] === 0xff && (head[1]! & 0xe0) === 0xe0 && (head[1]! & 0x06) === 0x02) return 'mp3';
  return null;
}
