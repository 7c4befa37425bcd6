import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  AudioDecodeError,
  bytesSource,
  decodeWav,
  encodeWav,
  parseWavHeader,
} from '../../src/audio/browser.js';
import {
  chunk,
  FSDD_WAV,
  floatBytes,
  fmtBody,
  interleave,
  maxAbsDiff,
  pcm16,
  riff,
  run,
  soxDecode,
  tempDir,
  testSignal,
} from './helpers.js';

const RATE = 22050;

interface SoxFormat {
  name: string;
  args: string[];
  channels: number;
  codec: string;
  extensible: boolean;
  /** Largest error against the float signal written (quantisation). */
  step: number;
  /** Allowed difference from sox's decode: 0, except where sox's float32 output rounds 32-bit samples. */
  soxTol?: number;
}

const FORMATS: SoxFormat[] = [
  {
    name: 'u8',
    args: ['-e', 'unsigned-integer', '-b', '8'],
    channels: 2,
    codec: 'pcm_u8',
    extensible: false,
    step: 1 / 128,
  },
  {
    name: 's16',
    args: ['-e', 'signed-integer', '-b', '16'],
    channels: 2,
    codec: 'pcm_s16le',
    extensible: false,
    step: 2 ** -15,
  },
  {
    name: 's24 extensible',
    args: ['-e', 'signed-integer', '-b', '24'],
    channels: 1,
    codec: 'pcm_s24le',
    extensible: true,
    step: 2 ** -23,
  },
  {
    name: 's24 plain',
    args: ['-e', 'signed-integer', '-b', '24', '-t', 'wavpcm'],
    channels: 2,
    codec: 'pcm_s24le',
    extensible: false,
    step: 2 ** -23,
  },
  {
    name: 's32',
    args: ['-e', 'signed-integer', '-b', '32'],
    channels: 2,
    codec: 'pcm_s32le',
    extensible: true,
    step: 2 ** -24,
    soxTol: 2 ** -24,
  },
  {
    name: 'f32',
    args: ['-e', 'floating-point', '-b', '32'],
    channels: 2,
    codec: 'pcm_f32le',
    extensible: false,
    step: 2 ** -24, // sox passes float input through 32-bit integers before writing it
    soxTol: 2 ** -24,
  },
  {
    name: 'f64',
    args: ['-e', 'floating-point', '-b', '64'],
    channels: 1,
    codec: 'pcm_f64le',
    extensible: false,
    step: 2 ** -24, // sox passes float input through 32-bit integers before writing it
    soxTol: 2 ** -24,
  },
  {
    name: 'a-law',
    args: ['-e', 'a-law', '-b', '8'],
    channels: 1,
    codec: 'pcm_alaw',
    extensible: false,
    step: 0.04,
  },
  {
    name: 'u-law',
    args: ['-e', 'u-law', '-b', '8'],
    channels: 1,
    codec: 'pcm_mulaw',
    extensible: false,
    step: 0.04,
  },
  {
    name: 's16 5 channels (extensible)',
    args: ['-e', 'signed-integer', '-b', '16'],
    channels: 5,
    codec: 'pcm_s16le',
    extensible: true,
    step: 2 ** -15,
  },
];

test('decodes every WAV encoding sox writes, sample for sample as sox reads it', (t) => {
  const dir = tempDir(t);
  for (const f of FORMATS) {
    const signal = testSignal(700, f.channels, 7);
    const raw = join(dir, 'in.f32');
    writeFileSync(raw, interleave(signal));
    const path = join(dir, `${f.name.replace(/\W+/g, '_')}.wav`);
    run('sox', [
      '-D',
      '-t',
      'f32',
      '-r',
      String(RATE),
      '-c',
      String(f.channels),
      raw,
      ...f.args.filter((a) => a !== '-t' && a !== 'wavpcm'),
      ...(f.args.includes('wavpcm') ? ['-t', 'wavpcm'] : []),
      path,
    ]);
    const bytes = new Uint8Array(readFileSync(path));
    const header = parseWavHeader(bytesSource(bytes), path);
    assert.equal(header.codec, f.codec, f.name);
    assert.equal(header.extensible, f.extensible, `${f.name}: extensible`);
    const audio = decodeWav(bytes, path);
    assert.equal(audio.sampleRate, RATE);
    assert.equal(audio.channels.length, f.channels);
    // sox keeps samples as 32-bit integers, so for 8/16/24-bit encodings its decode must equal ours exactly.
    const ref = soxDecode(path, f.channels);
    for (let c = 0; c < f.channels; c++)
      assert.ok(maxAbsDiff(audio.channels[c]!, ref[c]!) <= (f.soxTol ?? 0), `${f.name} ch ${c}`);
    // And ours is the written signal up to the encoding's quantisation.
    for (let c = 0; c < f.channels; c++) {
      const err = maxAbsDiff(audio.channels[c]!, signal[c]!);
      assert.ok(err <= f.step, `${f.name} ch ${c}: error ${err} > ${f.step}`);
    }
  }
});

test('a real FSDD clip decodes exactly as sox decodes it', () => {
  const audio = decodeWav(new Uint8Array(readFileSync(FSDD_WAV)), FSDD_WAV);
  const ref = soxDecode(FSDD_WAV, 1);
  assert.equal(audio.sampleRate, 8000);
  assert.equal(audio.channels[0]!.length, 2384);
  assert.equal(maxAbsDiff(audio.channels[0]!, ref[0]!), 0);
});

test('encodeWav PCM16 and float32 round-trip and are valid files for sox', (t) => {
  const dir = tempDir(t);
  // Exactly representable PCM16 values survive bit-exact, including both extremes.
  const exact = Float32Array.from([-1, -0.5, 0, 1 / 32768, 32767 / 32768, -32767 / 32768]);
  assert.deepEqual(decodeWav(encodeWav({ sampleRate: 8000, channels: [exact] })).channels[0], exact);
  // Out-of-range values clip in PCM16 and stay as they are in float32.
  const loud = Float32Array.from([1.5, -2, 0.25]);
  assert.deepEqual(Array.from(decodeWav(encodeWav({ sampleRate: 8000, channels: [loud] })).channels[0]!), [
    32767 / 32768,
    -1,
    0.25,
  ]);
  assert.deepEqual(
    decodeWav(encodeWav({ sampleRate: 8000, channels: [loud] }, { format: 'float32' })).channels[0],
    loud,
  );

  for (const channels of [1, 2, 3]) {
    const signal = testSignal(500, channels, channels);
    for (const format of ['pcm16', 'float32'] as const) {
      const bytes = encodeWav({ sampleRate: 16000, channels: signal }, { format });
      const back = decodeWav(bytes);
      const h = parseWavHeader(bytesSource(bytes), 'x');
      assert.equal(h.extensible, channels > 2);
      assert.equal(h.codec, format === 'pcm16' ? 'pcm_s16le' : 'pcm_f32le');
      for (let c = 0; c < channels; c++) {
        const err = maxAbsDiff(back.channels[c]!, signal[c]!);
        assert.ok(format === 'float32' ? err === 0 : err <= 0.5 / 32768, `${format} ${channels} ch: ${err}`);
      }
      const path = join(dir, `enc_${channels}_${format}.wav`);
      writeFileSync(path, bytes);
      const info = run('soxi', [path]).toString();
      assert.match(info, new RegExp(`Channels\\s*: ${channels}`));
      const ref = soxDecode(path, channels);
      // sox's float path goes through 32-bit integers and back to float32: allow one float32 rounding there.
      for (let c = 0; c < channels; c++) {
        const d = maxAbsDiff(ref[c]!, back.channels[c]!);
        assert.ok(format === 'pcm16' ? d === 0 : d <= 2 ** -24, `sox reads ${format} ${channels} ch: ${d}`);
      }
    }
  }
  assert.throws(() => encodeWav({ sampleRate: 8000, channels: [Float32Array.from([0, Number.NaN])] }), /NaN/);
  assert.throws(() => encodeWav({ sampleRate: 0, channels: [new Float32Array(1)] }), /sample rate/);
  assert.throws(
    () => encodeWav({ sampleRate: 8000, channels: [new Float32Array(2), new Float32Array(3)] }),
    /channel 1 has 3 samples/,
  );
});

const FMT16 = fmtBody({ tag: 1, channels: 1, rate: 8000, bits: 16 });
const SAMPLES = [0, 1000, -1000, 32767, -32768, 7];
const EXPECTED = SAMPLES.map((v) => v / 32768);

function decodeValues(bytes: Uint8Array): number[] {
  return Array.from(decodeWav(bytes, 'hand-made.wav').channels[0]!);
}

test('odd chunk layouts: LIST/fact/unknown chunks, pad bytes, data before fmt, RIFF size wrong', () => {
  const data = pcm16(SAMPLES);
  const list = new TextEncoder().encode('INFOISFT\x05\x00\x00\x00abcde');
  const layouts: Record<string, Uint8Array> = {
    plain: riff([chunk('fmt ', FMT16), chunk('data', data)]),
    'LIST + fact + junk before data, chunk after': riff([
      chunk('JUNK', new Uint8Array(28)),
      chunk('fmt ', FMT16),
      chunk('fact', Uint8Array.of(6, 0, 0, 0)),
      chunk('LIST', list),
      chunk('data', data),
      chunk('id3 ', new Uint8Array(10)),
    ]),
    'odd-sized chunk with its pad byte': riff([
      chunk('fmt ', FMT16),
      chunk('odd ', Uint8Array.of(1, 2, 3)),
      chunk('data', data),
    ]),
    'odd-sized chunk without the pad byte': riff([
      chunk('fmt ', FMT16),
      chunk('odd ', Uint8Array.of(1, 2, 3), { pad: false }),
      chunk('data', data),
    ]),
    'data before fmt': riff([chunk('data', data), chunk('fmt ', FMT16)]),
    'RIFF size too small': riff([chunk('fmt ', FMT16), chunk('data', data)], { riffSize: 4 }),
    'fmt with cbSize (18 bytes)': riff([chunk('fmt ', Uint8Array.of(...FMT16, 0, 0)), chunk('data', data)]),
    'blockAlign 0 (writer bug)': riff([
      chunk('fmt ', fmtBody({ tag: 1, channels: 1, rate: 8000, bits: 16, blockAlign: 0 })),
      chunk('data', data),
    ]),
  };
  for (const [name, bytes] of Object.entries(layouts)) assert.deepEqual(decodeValues(bytes), EXPECTED, name);
});

test('a data chunk whose size runs past the end of the file gives the whole frames present', () => {
  const stereo = fmtBody({ tag: 1, channels: 2, rate: 8000, bits: 16 });
  const full = riff([chunk('fmt ', stereo), chunk('data', pcm16(SAMPLES), { size: 4000 })]);
  const h = parseWavHeader(bytesSource(full), 'x');
  assert.equal(h.truncated, true);
  assert.equal(h.frames, 3);
  const a = decodeWav(full);
  assert.deepEqual(
    Array.from(a.channels[1]!),
    [1000, 32767, 7].map((v) => v / 32768),
  );
  // Cut in the middle of a frame: the partial frame is dropped.
  const cut = decodeWav(full.subarray(0, full.length - 3));
  assert.equal(cut.channels[0]!.length, 2);
  // 0xFFFFFFFF means "unknown" (a streamed writer): read to the end.
  const streamed = riff([chunk('fmt ', FMT16), chunk('data', pcm16(SAMPLES), { size: 0xffffffff })]);
  assert.deepEqual(decodeValues(streamed), EXPECTED);
});

test('RF64 with a ds64 chunk, and sub-formats in wider containers', () => {
  const ds64 = new Uint8Array(28);
  new DataView(ds64.buffer).setUint32(8, 12, true); // data size, low 32 bits
  const rf64 = riff(
    [chunk('ds64', ds64), chunk('fmt ', FMT16), chunk('data', pcm16(SAMPLES), { size: 0xffffffff })],
    {
      container: 'RF64',
      riffSize: 0xffffffff,
    },
  );
  assert.deepEqual(decodeValues(rf64), EXPECTED);

  // 24 valid bits left-justified in 32-bit containers (WAVE_FORMAT_EXTENSIBLE).
  const vals = [0x7fffff00, -0x80000000, 0x00000100, -256];
  const body = new Uint8Array(16);
  for (let i = 0; i < vals.length; i++) new DataView(body.buffer).setInt32(4 * i, vals[i]!, true);
  const ext = riff([
    chunk('fmt ', fmtBody({ tag: 1, channels: 1, rate: 48000, bits: 32, ext: { validBits: 24, subTag: 1 } })),
    chunk('data', body),
  ]);
  assert.equal(parseWavHeader(bytesSource(ext), 'x').validBits, 24);
  assert.deepEqual(
    decodeValues(ext),
    vals.map((v) => v / 2 ** 31),
  );

  // Extensible IEEE float, 64-bit.
  const f64 = riff([
    chunk('fmt ', fmtBody({ tag: 3, channels: 1, rate: 48000, bits: 64, ext: { validBits: 64, subTag: 3 } })),
    chunk('data', floatBytes([0.5, -0.25, 1e-3], 64)),
  ]);
  assert.deepEqual(decodeValues(f64), [0.5, -0.25, Math.fround(1e-3)]);
});

function decodeError(bytes: Uint8Array, name = 'clip.wav'): AudioDecodeError {
  try {
    decodeWav(bytes, name);
  } catch (err) {
    assert.ok(err instanceof AudioDecodeError, `expected AudioDecodeError, got ${err}`);
    assert.equal(err.file, name);
    assert.ok(err.message.startsWith(`${name}: `), err.message);
    return err;
  }
  assert.fail('decodeWav did not throw');
}

test('bad WAV input: each problem is an AudioDecodeError naming the file and the problem', () => {
  const good = riff([chunk('fmt ', FMT16), chunk('data', pcm16(SAMPLES))]);
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['empty', new Uint8Array(0), /empty file/],
    ['8 bytes of header', good.subarray(0, 8), /truncated header/],
    ['cut inside fmt', good.subarray(0, 24), /truncated header: the file ends inside the fmt chunk/],
    ['header without data chunk', good.subarray(0, 36), /no data chunk/],
    [
      'text',
      new TextEncoder().encode('hello, this is not audio at all'),
      /not a WAV file \(starts with "hell"/,
    ],
    ['AVI', riff([], { form: 'AVI ' }), /not a WAV file \(RIFF form "AVI "\)/],
    ['big-endian', riff([], { container: 'RIFX' }), /big-endian/],
    ['no samples', riff([chunk('fmt ', FMT16), chunk('data', new Uint8Array(0))]), /zero-length clip/],
    [
      'half a frame',
      riff([chunk('fmt ', FMT16), chunk('data', Uint8Array.of(1), { size: 2, pad: false })]),
      /zero-length clip/,
    ],
    [
      'NaN',
      riff([
        chunk('fmt ', fmtBody({ tag: 3, channels: 1, rate: 8000, bits: 32 })),
        chunk('data', floatBytes([0, 0.5, Number.NaN])),
      ]),
      /sample 2 \(0\.000 s\) of channel 0 is NaN/,
    ],
    [
      'Inf',
      riff([
        chunk('fmt ', fmtBody({ tag: 3, channels: 1, rate: 8000, bits: 64 })),
        chunk('data', floatBytes([Number.NEGATIVE_INFINITY], 64)),
      ]),
      /is -Inf/,
    ],
    [
      '0 channels',
      riff([
        chunk('fmt ', fmtBody({ tag: 1, channels: 0, rate: 8000, bits: 16 })),
        chunk('data', pcm16(SAMPLES)),
      ]),
      /0 channels/,
    ],
    [
      'rate 0',
      riff([
        chunk('fmt ', fmtBody({ tag: 1, channels: 1, rate: 0, bits: 16 })),
        chunk('data', pcm16(SAMPLES)),
      ]),
      /sample rate 0/,
    ],
    [
      'MP3 in WAV',
      riff([
        chunk('fmt ', fmtBody({ tag: 0x55, channels: 1, rate: 8000, bits: 0, blockAlign: 1 })),
        chunk('data', pcm16(SAMPLES)),
      ]),
      /unsupported WAV encoding: format tag 0x0055 \(MPEG layer 3\)/,
    ],
    [
      'float16',
      riff([
        chunk('fmt ', fmtBody({ tag: 3, channels: 1, rate: 8000, bits: 16 })),
        chunk('data', pcm16(SAMPLES)),
      ]),
      /unsupported float bit depth 16/,
    ],
  ];
  for (const [name, bytes, re] of cases) assert.match(decodeError(bytes).problem, re, name);
});
