// Reading and writing audio files. Node-only: WAV is parsed here in TypeScript (reading only the byte range
// asked for); FLAC, Ogg Vorbis, Ogg Opus and MP3 are decoded in process by libsndfile through the audio
// addon (./native.ts) when it is built; everything else (M4A/AAC, video containers, WAV codecs such as
// ADPCM), and every format when the addon is missing, goes through ffmpeg as a subprocess writing raw
// float32 samples, with -ss/-t so a range of a long file is not decoded whole. Resampling never uses
// ffmpeg's: libsoxr through the addon when it is loaded, else src/audio/resample.ts, the same for every
// format.
import { spawn } from 'node:child_process';
import { readSync } from 'node:fs';
import { type FileHandle, open, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fsReason } from '../core/errors.js';
import { warn } from '../core/log.js';
import { toMono } from './effects.js';
import { addonFormat, audioAddon } from './native.js';
import { type ResampleQuality, resample } from './resample.js';
import { type Audio, AudioDecodeError } from './types.js';
import { assertFiniteSamples } from './validate.js';
import {
  type ByteSource,
  decodeWavFrames,
  type EncodeWavOptions,
  encodeWav,
  looksLikeWav,
  parseWavHeader,
  truncationMessage,
  type WavHeader,
} from './wav.js';

export interface LoadAudioOptions {
  /** Resample to this rate (Hz) with `resample`; default: keep the file's rate. */
  sampleRate?: number;
  /** Downmix to one channel by the mean (default true); false keeps every channel. */
  mono?: boolean;
  /** Start of the range to read, in seconds from the start of the file (default 0). */
  offset?: number;
  /** Length of the range, in seconds (default: to the end). */
  duration?: number;
  /** Resampler quality (default 'hq'). */
  quality?: ResampleQuality;
  /**
   * 'auto' (default): libsndfile in process for FLAC/Ogg/MP3 when the audio addon is built, ffmpeg for
   * the rest; 'ffmpeg': ffmpeg for every non-WAV file (the reference the tests compare with).
   */
  decoder?: AudioDecoder;
  /** 'auto' (default): libsoxr when the audio addon is built, else 'js' (src/audio/resample.ts). */
  resampler?: Resampler;
  /** Receives warnings (a truncated WAV read as far as it goes); default: the installed logger (core/log). */
  onWarning?: (message: string) => void;
}

export type AudioDecoder = 'auto' | 'ffmpeg';
export type Resampler = 'auto' | 'soxr' | 'js';

/**
 * Resamples one channel with libsoxr (the audio addon) or, when the addon is missing or `resampler` is
 * 'js', with src/audio/resample.ts. Both are zero-phase and return ceil(n · to / from) samples; soxr's
 * 'hq' keeps aliasing and pass-band error under −107 dB, the TypeScript one under −111 dB (docs/audio.md).
 */
export function resampleAudio(
  x: Float32Array,
  fromRate: number,
  toRate: number,
  opts: { quality?: ResampleQuality; resampler?: Resampler } = {},
): Float32Array {
  const which = opts.resampler ?? 'auto';
  const addon = which === 'js' ? null : audioAddon();
  if (which === 'soxr' && addon === null)
    throw new Error('resampleAudio: resampler "soxr" needs the audio addon (make -C native audio)');
  if (addon === null || fromRate === toRate) return resample(x, fromRate, toRate, { quality: opts.quality });
  // The TypeScript resampler validates the arguments and gives the output length.
  resample(new Float32Array(0), fromRate, toRate, { quality: opts.quality });
  return addon.resample(x, fromRate, toRate, opts.quality ?? 'hq');
}

export interface AudioInfo {
  sampleRate: number;
  channels: number;
  /**
   * Frames (samples per channel). Exact for WAV, FLAC and (with the audio addon) MP3; for Vorbis/Opus/AAC
   * what the container states.
   */
  frames: number;
  /** Seconds. */
  duration: number;
  /** ffmpeg's codec name: pcm_s16le, pcm_f32le, flac, mp3, vorbis, opus, aac... */
  codec: string;
  /** Only for a truncated WAV: the frames its header declares (more than `frames`, what the file holds). */
  declaredFrames?: number;
}

const HEAD_BYTES = 64 * 1024;

function ffmpegBin(): string {
  return process.env.AUDIOTAG_FFMPEG || 'ffmpeg';
}

function ffprobeBin(): string {
  return process.env.AUDIOTAG_FFPROBE || 'ffprobe';
}

interface OpenFile {
  fh: FileHandle;
  size: number;
  /** Identifies this version of the file for the probe cache. */
  key: string;
}

async function openAudioFile(path: string): Promise<OpenFile> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem =
      code === 'ENOENT'
        ? path.includes('\uFFFD')
          ? 'the file name is not valid UTF-8 (the bytes shown as \uFFFD), so it cannot be opened by this name; rename the file'
          : 'file not found'
        : code === 'EACCES'
          ? 'permission denied'
          : `cannot open (${fsReason(err)})`;
    throw new AudioDecodeError(path, problem, { cause: err });
  }
  const st = await fh.stat();
  if (st.isDirectory()) {
    await fh.close();
    throw new AudioDecodeError(path, 'is a directory, not an audio file');
  }
  if (st.size === 0) {
    await fh.close();
    throw new AudioDecodeError(path, 'empty file (0 bytes)');
  }
  return { fh, size: st.size, key: `${path}\0${st.size}\0${st.mtimeMs}\0${st.ino}` };
}

// The first 64 KiB are read asynchronously; the rare header that reaches further (a large LIST or id3
// chunk before the samples) is walked with small synchronous reads, which keeps one chunk walker for Node
// and the browser.
function fileSource(fh: FileHandle, size: number, head: Uint8Array): ByteSource {
  return {
    size,
    read(offset, length) {
      const end = Math.min(size, offset + length);
      if (end <= head.length) return head.subarray(offset, end);
      const buf = new Uint8Array(Math.max(0, end - offset));
      const got = buf.length > 0 ? readSync(fh.fd, buf, 0, buf.length, offset) : 0;
      return buf.subarray(0, got);
    },
  };
}

async function readHead(fh: FileHandle, size: number): Promise<Uint8Array> {
  const head = new Uint8Array(Math.min(size, HEAD_BYTES));
  const { bytesRead } = await fh.read(head, 0, head.length, 0);
  return head.subarray(0, bytesRead);
}

// RIFF-like start: parse natively (an error then says what is wrong with the WAV, not what ffmpeg thinks).
function isRiffStart(head: Uint8Array): boolean {
  if (head.length >= 12) return looksLikeWav(head);
  const id = String.fromCharCode(...head.subarray(0, 4));
  return ['RIFF', 'RF64', 'BW64'].some((p) => p.startsWith(id));
}

function checkOptions(path: string, opts: LoadAudioOptions): void {
  const { offset, duration, sampleRate } = opts;
  if (offset !== undefined && !(Number.isFinite(offset) && offset >= 0))
    throw new RangeError(`loadAudio ${path}: offset must be a number of seconds >= 0, got ${offset}`);
  if (duration !== undefined && !(Number.isFinite(duration) && duration > 0))
    throw new RangeError(`loadAudio ${path}: duration must be a number of seconds > 0, got ${duration}`);
  if (sampleRate !== undefined && !(Number.isInteger(sampleRate) && sampleRate > 0))
    throw new RangeError(`loadAudio ${path}: sampleRate must be a positive integer, got ${sampleRate}`);
}

async function readWavRange(
  fh: FileHandle,
  header: WavHeader,
  path: string,
  offset: number,
  duration: number | undefined,
): Promise<Audio> {
  const sr = header.sampleRate;
  if (header.frames === 0)
    throw new AudioDecodeError(
      path,
      header.truncated
        ? 'zero-length clip: the data chunk is cut off before its first frame'
        : 'zero-length clip (the data chunk holds no frames)',
    );
  const start = Math.round(offset * sr);
  if (start >= header.frames)
    throw new AudioDecodeError(
      path,
      `offset ${offset} s is at or past the end of the clip (${(header.frames / sr).toFixed(3)} s)`,
    );
  const count =
    duration === undefined
      ? header.frames - start
      : Math.min(Math.round(duration * sr), header.frames - start);
  if (count <= 0)
    throw new AudioDecodeError(path, `the range ${offset} s + ${duration} s holds no whole sample`);
  const bytes = new Uint8Array(count * header.frameBytes);
  const { bytesRead } = await fh.read(bytes, 0, bytes.length, header.dataOffset + start * header.frameBytes);
  const channels = decodeWavFrames(bytes.subarray(0, bytesRead), header, count, path);
  if (header.encoding === 'float') assertFiniteSamples(channels, sr, path);
  return { sampleRate: sr, channels };
}

interface Ran {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

function runTool(bin: string, args: string[], path: string): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      // Keep the tail only: a damaged file can make ffmpeg print a line per frame.
      err = (err + b.toString('utf8')).slice(-8192);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      const problem =
        e.code === 'ENOENT'
          ? `${bin} not found: install ffmpeg (apt-get install ffmpeg) or set AUDIOTAG_FFMPEG/AUDIOTAG_FFPROBE; it decodes ${extname(path) || 'non-WAV'} files`
          : `cannot run ${bin}: ${e.message}`;
      reject(new AudioDecodeError(path, problem, { cause: e }));
    });
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
  });
}

function lastLines(s: string, n = 2): string {
  const lines = s
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  return lines.slice(-n).join(' | ') || 'no message';
}

// "file:" stops ffmpeg from reading a path with a colon as a protocol, or one starting with "-" as an option.
function ffmpegInput(path: string): string {
  return `file:${path}`;
}

// Training reads many random windows of the same long recordings: remember what ffprobe said about each
// file version (path, size, mtime, inode), so a repeated range read costs one ffmpeg run.
const probeCache = new Map<string, AudioInfo>();
const PROBE_CACHE_SIZE = 512;

async function cachedProbe(path: string, fileKey: string): Promise<AudioInfo> {
  const key = `${fileKey}\0${ffprobeBin()}`;
  const hit = probeCache.get(key);
  if (hit !== undefined) return { ...hit };
  const info = await probe(path);
  if (probeCache.size >= PROBE_CACHE_SIZE) probeCache.delete(probeCache.keys().next().value!);
  probeCache.set(key, info);
  return { ...info };
}

async function probe(path: string): Promise<AudioInfo> {
  const bin = ffprobeBin();
  const args = [
    '-v',
    'error',
    '-select_streams',
    'a:0',
    '-show_entries',
    'stream=codec_name,sample_rate,channels,duration,duration_ts,time_base:format=duration',
    '-of',
    'json',
    ffmpegInput(path),
  ];
  const r = await runTool(bin, args, path);
  if (r.code !== 0)
    throw new AudioDecodeError(
      path,
      `not an audio file, or a damaged one: ${bin} failed (exit ${r.code}: ${lastLines(r.stderr)})`,
    );
  let json: {
    streams?: Array<Record<string, string | number | undefined>>;
    format?: { duration?: string };
  };
  try {
    json = JSON.parse(r.stdout.toString('utf8'));
  } catch {
    throw new AudioDecodeError(path, `${bin} printed something that is not JSON`);
  }
  const s = json.streams?.[0];
  if (s === undefined) throw new AudioDecodeError(path, 'no audio stream in the file');
  const sampleRate = Number(s.sample_rate);
  const channels = Number(s.channels);
  if (!(sampleRate > 0) || !(channels > 0))
    throw new AudioDecodeError(
      path,
      `${bin} reports sample rate ${s.sample_rate} and ${s.channels} channels`,
    );
  let duration = Number(s.duration ?? json.format?.duration);
  let frames = Math.round(duration * sampleRate);
  const [tbNum, tbDen] = String(s.time_base ?? '')
    .split('/')
    .map(Number);
  const ts = Number(s.duration_ts);
  // duration_ts in the stream's time base is exact where the container knows the length (FLAC, WAV, Ogg).
  if (Number.isFinite(ts) && tbNum! > 0 && tbDen! > 0) {
    frames = Math.round((ts * tbNum! * sampleRate) / tbDen!);
    duration = frames / sampleRate;
  }
  if (!Number.isFinite(duration)) {
    duration = Number.NaN;
    frames = Number.NaN;
  }
  return { sampleRate, channels, frames, duration, codec: String(s.codec_name ?? 'unknown') };
}

// Lossy decoders (MP3's bit reservoir, AAC/Vorbis/Opus overlap) produce wrong samples for the first frames
// after a seek. Decoding starts this much earlier and the extra samples are dropped, so a range read gives
// the same samples as slicing a full decode (checked by test/audio/io.test.ts).
const PREROLL_S = 0.2;

async function decodeWithFfmpeg(
  path: string,
  key: string,
  offset: number,
  duration: number | undefined,
): Promise<Audio> {
  const bin = ffmpegBin();
  // -ss/-t before -i are input options: ffmpeg seeks in the file instead of decoding up to the offset.
  // Times go as fixed-point microseconds (ffmpeg's own resolution; it does not parse exponents).
  const seekTo = Math.max(0, offset - PREROLL_S);
  const seekArg = seekTo.toFixed(6);
  const args = ['-nostdin', '-hide_banner', '-v', 'error'];
  if (seekTo > 0) args.push('-ss', seekArg);
  if (duration !== undefined) args.push('-t', (offset - Number(seekArg) + duration).toFixed(6));
  args.push('-i', ffmpegInput(path), '-map', '0:a:0', '-vn', '-f', 'f32le', '-acodec', 'pcm_f32le', '-');
  // Probe and decode at once: the probe (rate, channels) is only needed to interpret the samples.
  const [info, r] = await Promise.all([cachedProbe(path, key), runTool(bin, args, path)]);
  if (r.code !== 0)
    throw new AudioDecodeError(path, `${bin} failed to decode it (exit ${r.code}: ${lastLines(r.stderr)})`);
  const nch = info.channels;
  const sr = info.sampleRate;
  const skip = Math.round(offset * sr) - Math.round(Number(seekArg) * sr);
  const decoded = Math.floor(r.stdout.length / (4 * nch));
  const wanted = duration === undefined ? Number.POSITIVE_INFINITY : Math.round(duration * sr);
  const frames = Math.max(0, Math.min(decoded - skip, wanted));
  if (frames === 0) {
    if (offset > 0)
      throw new AudioDecodeError(
        path,
        `offset ${offset} s is at or past the end of the clip (${Number.isFinite(info.duration) ? `${info.duration.toFixed(3)} s` : 'length unknown'})`,
      );
    throw new AudioDecodeError(path, 'zero-length clip (ffmpeg decoded no samples)');
  }
  // Copy into an aligned buffer: Buffer.concat's result may start at an odd offset of a shared pool.
  const interleaved = new Float32Array(frames * nch);
  new Uint8Array(interleaved.buffer).set(r.stdout.subarray(4 * nch * skip, 4 * nch * (skip + frames)));
  const channels: Float32Array[] = [];
  for (let c = 0; c < nch; c++) {
    const y = new Float32Array(frames);
    for (let i = 0, o = c; i < frames; i++, o += nch) y[i] = interleaved[o]!;
    channels.push(y);
  }
  assertFiniteSamples(channels, sr, path);
  return { sampleRate: sr, channels };
}

/**
 * Reads an audio file: WAV natively, any other format through ffmpeg. Default: mono (mean of channels),
 * the file's own sample rate, the whole file. `offset`/`duration` (seconds) select a range; for WAV only
 * those bytes are read, for other formats ffmpeg seeks. Every failure is an AudioDecodeError naming the file.
 */
export async function loadAudio(path: string, opts: LoadAudioOptions = {}): Promise<Audio> {
  checkOptions(path, opts);
  const offset = opts.offset ?? 0;
  const mono = opts.mono ?? true;
  const target = opts.sampleRate;
  let audio: Audio | null = null;
  let native = false;
  const { fh, size, key } = await openAudioFile(path);
  try {
    const head = await readHead(fh, size);
    if (isRiffStart(head)) {
      const header = parseWavHeader(fileSource(fh, size, head), path);
      if (header.truncated && header.frames > 0)
        (opts.onWarning ?? warn)(`${path}: ${truncationMessage(header)}`);
      if (header.encoding !== 'other') audio = await readWavRange(fh, header, path, offset, opts.duration);
    } else native = opts.decoder !== 'ffmpeg' && addonFormat(head) !== null && audioAddon() !== null;
  } finally {
    await fh.close();
  }
  if (native) audio = await decodeWithAddon(path, offset, opts, mono);
  audio ??= await decodeWithFfmpeg(path, key, offset, opts.duration);
  if (mono && audio.channels.length > 1) audio = { sampleRate: audio.sampleRate, channels: [toMono(audio)] };
  if (target !== undefined && target !== audio.sampleRate) {
    const from = audio.sampleRate;
    audio = {
      sampleRate: target,
      channels: audio.channels.map((x) =>
        resampleAudio(x, from, target, { quality: opts.quality, resampler: opts.resampler }),
      ),
    };
  }
  return audio;
}

/**
 * libsndfile in the thread pool (mono and soxr resampling there too). Returns null when libsndfile
 * cannot read the file, so ffmpeg gets a try and words the error as before.
 */
async function decodeWithAddon(
  path: string,
  offset: number,
  opts: LoadAudioOptions,
  mono: boolean,
): Promise<Audio | null> {
  const addon = audioAddon()!;
  const soxr = opts.resampler !== 'js';
  let d: Awaited<ReturnType<typeof addon.decode>>;
  try {
    d = await addon.decode(path, {
      offset,
      ...(opts.duration !== undefined ? { duration: opts.duration } : {}),
      mono,
      ...(soxr && opts.sampleRate !== undefined
        ? { rate: opts.sampleRate, quality: opts.quality ?? 'hq' }
        : {}),
    });
  } catch (e) {
    const problem = (e as Error).message;
    if (/^sample \d+ .* is (NaN|[+-]Inf)$/.test(problem)) throw new AudioDecodeError(path, problem);
    return null;
  }
  if (d.channels.length === 0 || d.channels[0]!.length === 0) {
    if (offset > 0)
      throw new AudioDecodeError(
        path,
        `offset ${offset} s is at or past the end of the clip (${d.fileFrames > 0 ? `${(d.fileFrames / d.fileRate).toFixed(3)} s` : 'length unknown'})`,
      );
    throw new AudioDecodeError(path, 'zero-length clip (libsndfile decoded no samples)');
  }
  return { sampleRate: d.sampleRate, channels: d.channels };
}

/**
 * Sample rate, channels, length and codec of a file without decoding it: WAV natively, FLAC/Ogg/MP3 from
 * libsndfile's header read (an MP3's length from a scan of its frame headers), else ffprobe.
 */
export async function audioInfo(path: string): Promise<AudioInfo> {
  const { fh, size, key } = await openAudioFile(path);
  try {
    const head = await readHead(fh, size);
    const addon = addonFormat(head) !== null ? audioAddon() : null;
    if (addon !== null) {
      try {
        const i = addon.info(path);
        if (i.frames > 0)
          return {
            sampleRate: i.sampleRate,
            channels: i.channels,
            frames: i.frames,
            duration: i.frames / i.sampleRate,
            codec: i.codec,
          };
      } catch {
        // libsndfile cannot read it: ffprobe gets a try and words the error.
      }
    }
    if (isRiffStart(head)) {
      const h = parseWavHeader(fileSource(fh, size, head), path);
      if (h.encoding !== 'other')
        return {
          sampleRate: h.sampleRate,
          channels: h.channels,
          frames: h.frames,
          duration: h.frames / h.sampleRate,
          codec: h.codec,
          ...(h.truncated ? { declaredFrames: h.declaredFrames } : {}),
        };
    }
  } finally {
    await fh.close();
  }
  return cachedProbe(path, key);
}

/** Writes a WAV file (PCM16 by default, or float32); see encodeWav. */
export async function writeWav(path: string, audio: Audio, opts: EncodeWavOptions = {}): Promise<void> {
  await writeFile(path, encodeWav(audio, opts));
}
