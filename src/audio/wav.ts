// WAV (RIFF/RF64) decoding and encoding in plain TypeScript. Browser-safe: no Node imports.
//
// The header walker reads through a `ByteSource` rather than a whole buffer so that Node's io.ts can
// parse the header of an hours-long file with a few small reads and then fetch only the frames it needs.
import { type Audio, AudioDecodeError } from './types.js';
import { assertFiniteSamples } from './validate.js';

/** Random access to a file's bytes; `read` may return fewer bytes than asked at the end of the file. */
export interface ByteSource {
  size: number;
  read(offset: number, length: number): Uint8Array;
}

export type WavEncoding = 'pcm' | 'float' | 'alaw' | 'mulaw' | 'other';

export interface WavHeader {
  container: 'RIFF' | 'RF64' | 'BW64';
  /** 'other' is a codec this decoder does not handle (ADPCM, MP3-in-WAV...); io.ts hands those to ffmpeg. */
  encoding: WavEncoding;
  /** The format tag after resolving WAVE_FORMAT_EXTENSIBLE to its sub-format. */
  formatTag: number;
  extensible: boolean;
  /** ffmpeg's name for the codec (pcm_s16le, pcm_f32le...), so audioInfo reads alike for every format. */
  codec: string;
  channels: number;
  sampleRate: number;
  /** Bytes per sample in the container. */
  sampleBytes: number;
  /** Significant bits per sample (equal to 8 * sampleBytes unless the header says fewer). */
  validBits: number;
  /** Bytes from one frame to the next. */
  frameBytes: number;
  dataOffset: number;
  /** Bytes of whole frames actually present (the declared size clamped to the end of the file). */
  dataBytes: number;
  frames: number;
  /** Frames the data chunk declares (more than `frames` when the file is cut short). */
  declaredFrames: number;
  /** The data chunk declares more bytes than the file holds. */
  truncated: boolean;
}

const FORMAT_PCM = 0x0001;
const FORMAT_FLOAT = 0x0003;
const FORMAT_ALAW = 0x0006;
const FORMAT_MULAW = 0x0007;
const FORMAT_EXTENSIBLE = 0xfffe;
const UNKNOWN_SIZE = 0xffffffff;

const KNOWN_TAGS: Record<number, string> = {
  2: 'MS ADPCM',
  17: 'IMA ADPCM',
  49: 'GSM 6.10',
  80: 'MPEG audio',
  85: 'MPEG layer 3',
};

function ascii(b: Uint8Array, at: number, n = 4): string {
  let s = '';
  for (let i = 0; i < n && at + i < b.length; i++) s += String.fromCharCode(b[at + i]!);
  return s;
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?');
}

// A chunk id is four printable ASCII characters; used to spot writers that forget the pad byte.
function plausibleId(b: Uint8Array): boolean {
  if (b.length < 4) return false;
  for (let i = 0; i < 4; i++) if (b[i]! < 0x20 || b[i]! > 0x7e) return false;
  return true;
}

function u16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** A ByteSource over bytes already in memory. */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: (offset, length) => bytes.subarray(offset, Math.min(bytes.length, offset + length)),
  };
}

/** True when the first 12 bytes are a RIFF/RF64/BW64 WAVE header. */
export function looksLikeWav(head: Uint8Array): boolean {
  const id = ascii(head, 0);
  return (id === 'RIFF' || id === 'RF64' || id === 'BW64') && ascii(head, 8) === 'WAVE';
}

function codecName(encoding: WavEncoding, sampleBytes: number, tag: number): string {
  switch (encoding) {
    case 'pcm':
      return sampleBytes === 1 ? 'pcm_u8' : `pcm_s${8 * sampleBytes}le`;
    case 'float':
      return `pcm_f${8 * sampleBytes}le`;
    case 'alaw':
      return 'pcm_alaw';
    case 'mulaw':
      return 'pcm_mulaw';
    default:
      return `wav_format_0x${tag.toString(16).padStart(4, '0')}`;
  }
}

/**
 * Walks the RIFF chunks up to the data chunk and returns where the samples are and how to read them.
 * Tolerates LIST/fact/unknown chunks, odd-sized chunks with (or, when the writer forgot it, without) the
 * pad byte, a RIFF size that disagrees with the file, and a data size that runs past the end of the file
 * or is 0xFFFFFFFF (streamed output): the frames actually present are used.
 */
export function parseWavHeader(src: ByteSource, name: string): WavHeader {
  const size = src.size;
  if (size === 0) throw new AudioDecodeError(name, 'empty file (0 bytes)');
  const head = src.read(0, 12);
  const id = ascii(head, 0);
  const isRiffPrefix = ['RIFF', 'RF64', 'BW64'].some((p) => p.startsWith(id));
  if (head.length < 12) {
    if (isRiffPrefix) throw new AudioDecodeError(name, `truncated header: the file has only ${size} bytes`);
    throw new AudioDecodeError(name, `not a WAV file (${size} bytes, no RIFF header)`);
  }
  if (id === 'RIFX' || id === 'RIFZ')
    throw new AudioDecodeError(name, 'big-endian WAV (RIFX) is not supported; convert it with sox or ffmpeg');
  if (id !== 'RIFF' && id !== 'RF64' && id !== 'BW64')
    throw new AudioDecodeError(name, `not a WAV file (starts with "${printable(id)}", expected "RIFF")`);
  const form = ascii(head, 8);
  if (form !== 'WAVE') throw new AudioDecodeError(name, `not a WAV file (RIFF form "${printable(form)}")`);
  const container = id as WavHeader['container'];

  let fmt: Uint8Array | null = null;
  let fmtDeclared = 0;
  let dataOffset = -1;
  let dataDeclared = 0;
  let ds64DataSize: number | null = null;
  let endedInside: string | null = null;
  let pos = 12;
  // Every iteration moves pos forward by at least 8 bytes, so the walk ends within size / 8 steps.
  while (pos + 8 <= size) {
    const ch = src.read(pos, 8);
    if (ch.length < 8) break;
    const cid = ascii(ch, 0);
    const csize = u32(ch, 4);
    const body = pos + 8;
    if (cid === 'fmt ') {
      fmtDeclared = csize;
      fmt = src.read(body, Math.min(csize, 40)).slice();
      if (fmt.length < Math.min(csize, 16)) endedInside = 'fmt';
    } else if (cid === 'ds64') {
      const d = src.read(body, 28);
      if (d.length >= 16) ds64DataSize = u32(d, 8) + u32(d, 12) * 2 ** 32;
    } else if (cid === 'data') {
      dataOffset = body;
      dataDeclared = csize;
      // RF64 keeps the real size in ds64; a ds64 size of 0 is a streamed writer that never filled it in.
      if (container !== 'RIFF' && csize === UNKNOWN_SIZE && ds64DataSize) dataDeclared = ds64DataSize;
      // The samples are usually the last thing that matters; stop here rather than walk a huge chunk.
      if (fmt !== null) break;
      if (csize === UNKNOWN_SIZE) break;
    }
    let next = body + csize + (csize & 1);
    if (next > size) {
      if (cid !== 'data' && body + csize > size) endedInside ??= cid;
      break;
    }
    if (
      csize & 1 &&
      next + 4 <= size &&
      !plausibleId(src.read(next, 4)) &&
      plausibleId(src.read(next - 1, 4))
    )
      next -= 1;
    pos = next;
  }

  if (fmt === null) {
    if (endedInside !== null || dataOffset < 0)
      throw new AudioDecodeError(
        name,
        `truncated header: no fmt chunk before the end of the file (${size} bytes)`,
      );
    throw new AudioDecodeError(name, 'no fmt chunk (not a valid WAV file)');
  }
  if (fmt.length < 16)
    throw new AudioDecodeError(
      name,
      endedInside === 'fmt'
        ? `truncated header: the file ends inside the fmt chunk (${fmt.length} of ${Math.min(fmtDeclared, 16)} bytes)`
        : `fmt chunk too short (${fmtDeclared} bytes, expected at least 16)`,
    );
  if (dataOffset < 0)
    throw new AudioDecodeError(
      name,
      `truncated file: no data chunk before the end of the file (${size} bytes)`,
    );

  let tag = u16(fmt, 0);
  const channels = u16(fmt, 2);
  const sampleRate = u32(fmt, 4);
  const blockAlign = u16(fmt, 12);
  const bits = u16(fmt, 14);
  let validBits = bits;
  const extensible = tag === FORMAT_EXTENSIBLE;
  if (extensible) {
    if (fmt.length < 40)
      throw new AudioDecodeError(
        name,
        `WAVE_FORMAT_EXTENSIBLE fmt chunk too short (${fmt.length} of 40 bytes)`,
      );
    const vb = u16(fmt, 18);
    if (vb > 0 && vb <= bits) validBits = vb;
    tag = u16(fmt, 24);
  }
  if (channels === 0) throw new AudioDecodeError(name, 'the fmt chunk says 0 channels');
  if (sampleRate === 0) throw new AudioDecodeError(name, 'the fmt chunk says sample rate 0');

  let encoding: WavEncoding;
  let sampleBytes = Math.ceil(bits / 8);
  if (tag === FORMAT_PCM) {
    encoding = 'pcm';
    if (bits === 0 || bits > 32) throw new AudioDecodeError(name, `unsupported PCM bit depth ${bits}`);
    // Some writers put e.g. 20 or 24 significant bits in a wider container and say so only in blockAlign.
    const perChannel = blockAlign / channels;
    if (Number.isInteger(perChannel) && perChannel > sampleBytes && perChannel <= 4) sampleBytes = perChannel;
  } else if (tag === FORMAT_FLOAT) {
    encoding = 'float';
    if (bits !== 32 && bits !== 64) throw new AudioDecodeError(name, `unsupported float bit depth ${bits}`);
  } else if (tag === FORMAT_ALAW || tag === FORMAT_MULAW) {
    encoding = tag === FORMAT_ALAW ? 'alaw' : 'mulaw';
    if (bits !== 8) throw new AudioDecodeError(name, `unsupported G.711 bit depth ${bits} (expected 8)`);
  } else {
    encoding = 'other';
    sampleBytes = Math.max(1, sampleBytes);
  }
  if (encoding !== 'pcm') validBits = Math.min(validBits, 8 * sampleBytes);
  // A blockAlign smaller than the samples it must hold is a writer bug; step by the samples instead.
  const frameBytes = Math.max(blockAlign, channels * sampleBytes);

  const available = Math.max(0, size - dataOffset);
  const declared = dataDeclared === UNKNOWN_SIZE ? available : dataDeclared;
  const frames = Math.floor(Math.min(declared, available) / frameBytes);
  return {
    container,
    encoding,
    formatTag: tag,
    extensible,
    codec: codecName(encoding, sampleBytes, tag),
    channels,
    sampleRate,
    sampleBytes,
    validBits,
    frameBytes,
    dataOffset,
    dataBytes: frames * frameBytes,
    frames,
    declaredFrames: Math.floor(declared / frameBytes),
    truncated: declared > available,
  };
}

const g711Tables: { alaw?: Float32Array; mulaw?: Float32Array } = {};

function g711(law: 'alaw' | 'mulaw'): Float32Array {
  let t = g711Tables[law];
  if (t === undefined) {
    t = g711Table(law);
    g711Tables[law] = t;
  }
  return t;
}

// G.711 expansion to 16-bit linear (ITU-T G.711 segment formulas), then to [-1, 1) like PCM16.
function g711Table(law: 'alaw' | 'mulaw'): Float32Array {
  const t = new Float32Array(256);
  for (let b = 0; b < 256; b++) {
    let v: number;
    if (law === 'mulaw') {
      const u = ~b & 0xff;
      const exponent = (u >> 4) & 7;
      const magnitude = (((u & 0x0f) << 3) + 0x84) << exponent;
      v = u & 0x80 ? 0x84 - magnitude : magnitude - 0x84;
    } else {
      const a = b ^ 0x55;
      const exponent = (a >> 4) & 7;
      const mantissa = a & 0x0f;
      const magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
      v = a & 0x80 ? magnitude : -magnitude;
    }
    t[b] = v / 32768;
  }
  return t;
}

/**
 * Decodes `frames` frames from `data`, which starts at a frame boundary of the data chunk described by
 * `header`. Samples are de-interleaved into one Float32Array per channel.
 */
export function decodeWavFrames(
  data: Uint8Array,
  header: WavHeader,
  frames: number,
  name: string,
): Float32Array[] {
  const { channels, sampleBytes, frameBytes, encoding } = header;
  if (encoding === 'other')
    throw new AudioDecodeError(
      name,
      `unsupported WAV encoding: format tag 0x${header.formatTag.toString(16).padStart(4, '0')}` +
        `${KNOWN_TAGS[header.formatTag] ? ` (${KNOWN_TAGS[header.formatTag]})` : ''}; loadAudio decodes it with ffmpeg`,
    );
  const n = Math.max(0, Math.min(frames, Math.floor(data.length / frameBytes)));
  const out: Float32Array[] = [];
  for (let c = 0; c < channels; c++) out.push(new Float32Array(n));
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let c = 0; c < channels; c++) {
    const y = out[c]!;
    let o = c * sampleBytes;
    if (encoding === 'pcm') {
      switch (sampleBytes) {
        case 1:
          for (let i = 0; i < n; i++, o += frameBytes) y[i] = (data[o]! - 128) / 128;
          break;
        case 2:
          for (let i = 0; i < n; i++, o += frameBytes) y[i] = view.getInt16(o, true) / 32768;
          break;
        case 3:
          for (let i = 0; i < n; i++, o += frameBytes)
            y[i] = (((data[o]! | (data[o + 1]! << 8) | (data[o + 2]! << 16)) << 8) >> 8) / 8388608;
          break;
        default:
          for (let i = 0; i < n; i++, o += frameBytes) y[i] = view.getInt32(o, true) / 2147483648;
      }
    } else if (encoding === 'float') {
      if (sampleBytes === 4) for (let i = 0; i < n; i++, o += frameBytes) y[i] = view.getFloat32(o, true);
      else for (let i = 0; i < n; i++, o += frameBytes) y[i] = view.getFloat64(o, true);
    } else {
      const t = g711(encoding);
      for (let i = 0; i < n; i++, o += frameBytes) y[i] = t[data[o]!]!;
    }
  }
  return out;
}

/**
 * Decodes a whole WAV file held in memory: PCM 8/16/24/32-bit, IEEE float 32/64, A-law, µ-law, plain or
 * WAVE_FORMAT_EXTENSIBLE, RIFF or RF64, any channel count. `name` appears in error messages.
 * Throws AudioDecodeError for anything it cannot read, for NaN/Inf samples and for a clip with no frames.
 */
export function decodeWav(bytes: Uint8Array, name = '<wav bytes>'): Audio {
  const header = parseWavHeader(bytesSource(bytes), name);
  const data = bytes.subarray(header.dataOffset, header.dataOffset + header.dataBytes);
  const channels = decodeWavFrames(data, header, header.frames, name);
  if (header.frames === 0)
    throw new AudioDecodeError(
      name,
      header.truncated
        ? 'zero-length clip: the data chunk is cut off before its first frame'
        : 'zero-length clip (the data chunk holds no frames)',
    );
  if (header.encoding === 'float') assertFiniteSamples(channels, header.sampleRate, name);
  return { sampleRate: header.sampleRate, channels };
}

export interface EncodeWavOptions {
  /** 'pcm16' (default): 16-bit integer, values clipped to [-1, 1); 'float32': IEEE float, unclipped. */
  format?: 'pcm16' | 'float32';
}

// The GUID tail shared by the KSDATAFORMAT_SUBTYPE_* sub-formats (after the 2-byte format tag).
const SUBTYPE_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

/**
 * Encodes audio as a WAV file. PCM16 quantises with x * 32768 rounded and clipped, the exact inverse of
 * decodeWav's scaling, so decode(encode(decode(f))) is bit-exact. More than two channels use
 * WAVE_FORMAT_EXTENSIBLE, as the format's specification asks; float files carry the required fact chunk.
 */
export function encodeWav(audio: Audio, opts: EncodeWavOptions = {}): Uint8Array {
  const format = opts.format ?? 'pcm16';
  if (format !== 'pcm16' && format !== 'float32')
    throw new RangeError(`encodeWav: format must be 'pcm16' or 'float32', got ${String(format)}`);
  const { sampleRate, channels } = audio;
  const nch = channels.length;
  if (nch === 0 || nch > 65535) throw new RangeError(`encodeWav: need 1 to 65535 channels, got ${nch}`);
  if (!Number.isInteger(sampleRate) || sampleRate <= 0 || sampleRate > 0xffffffff)
    throw new RangeError(`encodeWav: sample rate must be a positive integer, got ${sampleRate}`);
  const frames = channels[0]!.length;
  for (let c = 1; c < nch; c++)
    if (channels[c]!.length !== frames)
      throw new RangeError(
        `encodeWav: channel ${c} has ${channels[c]!.length} samples, channel 0 has ${frames}`,
      );
  assertFiniteSamplesForEncode(channels);

  const isFloat = format === 'float32';
  const sampleBytes = isFloat ? 4 : 2;
  const extensible = nch > 2;
  const fmtSize = extensible ? 40 : isFloat ? 18 : 16;
  const frameBytes = nch * sampleBytes;
  const dataBytes = frames * frameBytes;
  const factBytes = isFloat ? 12 : 0;
  const total = 12 + 8 + fmtSize + factBytes + 8 + dataBytes + (dataBytes & 1);
  if (total - 8 > 0xffffffff)
    throw new RangeError(`encodeWav: ${dataBytes} bytes of samples exceed WAV's 4 GiB`);

  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  const putId = (at: number, s: string): void => {
    for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i);
  };
  const tag = isFloat ? FORMAT_FLOAT : FORMAT_PCM;
  putId(0, 'RIFF');
  v.setUint32(4, total - 8, true);
  putId(8, 'WAVE');
  putId(12, 'fmt ');
  v.setUint32(16, fmtSize, true);
  v.setUint16(20, extensible ? FORMAT_EXTENSIBLE : tag, true);
  v.setUint16(22, nch, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * frameBytes, true);
  v.setUint16(32, frameBytes, true);
  v.setUint16(34, 8 * sampleBytes, true);
  let p = 36;
  if (fmtSize >= 18) v.setUint16(p, fmtSize - 18, true);
  if (extensible) {
    v.setUint16(38, 8 * sampleBytes, true); // valid bits
    v.setUint32(40, 0, true); // channel mask: no speaker positions claimed
    v.setUint16(44, tag, true);
    out.set(SUBTYPE_TAIL, 46);
  }
  p = 20 + fmtSize;
  if (isFloat) {
    putId(p, 'fact');
    v.setUint32(p + 4, 4, true);
    v.setUint32(p + 8, frames, true);
    p += 12;
  }
  putId(p, 'data');
  v.setUint32(p + 4, dataBytes, true);
  p += 8;
  for (let c = 0; c < nch; c++) {
    const x = channels[c]!;
    let o = p + c * sampleBytes;
    if (isFloat) {
      for (let i = 0; i < frames; i++, o += frameBytes) v.setFloat32(o, x[i]!, true);
    } else {
      for (let i = 0; i < frames; i++, o += frameBytes) {
        const q = Math.round(x[i]! * 32768);
        v.setInt16(o, Math.min(32767, Math.max(q, -32768)), true);
      }
    }
  }
  return out;
}

function assertFiniteSamplesForEncode(channels: Float32Array[]): void {
  for (let c = 0; c < channels.length; c++) {
    const x = channels[c]!;
    for (let i = 0; i < x.length; i++)
      if (x[i]! - x[i]! !== 0) throw new RangeError(`encodeWav: sample ${i} of channel ${c} is ${x[i]}`);
  }
}

/** The warning for a WAV whose data chunk is shorter than its header says (a cut-off download). */
export function truncationMessage(
  header: Pick<WavHeader, 'frames' | 'declaredFrames' | 'sampleRate'>,
): string {
  const sec = (n: number) => (n / header.sampleRate).toFixed(3);
  return `truncated WAV: the header says ${header.declaredFrames} frames (${sec(header.declaredFrames)} s), the file holds ${header.frames} (${sec(header.frames)} s); read as far as it goes`;
}
