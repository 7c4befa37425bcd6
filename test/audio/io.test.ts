import assert from 'node:assert/strict';
import { closeSync, mkdirSync, openSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { chirp } from '../../bench/resample-meter.js';
import {
  AudioDecodeError,
  audioAddon,
  audioInfo,
  encodeWav,
  loadAudio,
  resample,
  resampleAudio,
  writeWav,
} from '../../src/audio/index.js';
import {
  chunk,
  ESC10_FLAC,
  FSDD_WAV,
  f32,
  floatBytes,
  fmtBody,
  maxAbsDiff,
  PHIL_MP3,
  riff,
  run,
  soxDecode,
  tempDir,
  testSignal,
} from './helpers.js';

test('a real FSDD wav and an ESC-10 flac decode exactly as sox decodes them', async () => {
  const wav = await loadAudio(FSDD_WAV);
  assert.equal(wav.sampleRate, 8000);
  assert.equal(maxAbsDiff(wav.channels[0]!, soxDecode(FSDD_WAV, 1)[0]!), 0);
  assert.deepEqual(await audioInfo(FSDD_WAV), {
    sampleRate: 8000,
    channels: 1,
    frames: 2384,
    duration: 0.298,
    codec: 'pcm_s16le',
  });

  // ffmpeg's FLAC decoder against sox's libFLAC: lossless, so identical.
  const flac = await loadAudio(ESC10_FLAC);
  const ref = soxDecode(ESC10_FLAC, 1)[0]!;
  assert.equal(flac.sampleRate, 16000);
  assert.equal(flac.channels[0]!.length, ref.length);
  assert.equal(maxAbsDiff(flac.channels[0]!, ref), 0);
  const info = await audioInfo(ESC10_FLAC);
  assert.deepEqual([info.sampleRate, info.channels, info.frames, info.codec], [16000, 1, ref.length, 'flac']);
});

test('a Philharmonia mp3 decodes as the ffmpeg command line decodes it', async () => {
  const mp3 = await loadAudio(PHIL_MP3, { decoder: 'ffmpeg' });
  const ref = f32(run('ffmpeg', ['-v', 'error', '-i', PHIL_MP3, '-f', 'f32le', '-']));
  assert.equal(mp3.sampleRate, 44100);
  assert.equal(maxAbsDiff(mp3.channels[0]!, ref), 0);
  // libsndfile (mpg123) in process: the same length and alignment (encoder delay and padding removed
  // alike), samples within float rounding of ffmpeg's decoder (measured 6.9e-7).
  const inProcess = await loadAudio(PHIL_MP3);
  assert.equal(inProcess.channels[0]!.length, ref.length);
  assert.ok(maxAbsDiff(inProcess.channels[0]!, ref) < 2e-6);
  const info = await audioInfo(PHIL_MP3);
  assert.equal(info.codec, 'mp3');
  // ffprobe's length is the header's estimate (within a frame); the addon scans the frame headers (exact).
  assert.ok(Math.abs(info.frames - ref.length) < 1152, `${info.frames} vs ${ref.length}`);
  if (audioAddon() !== null) assert.equal(info.frames, ref.length);
});

test('time ranges read the same samples as slicing the whole clip (WAV, FLAC, MP3)', async (t) => {
  const dir = tempDir(t);
  const stereo = join(dir, 'stereo.wav');
  await writeWav(stereo, { sampleRate: 22050, channels: testSignal(22050, 2, 5) }, { format: 'float32' });
  const cases = [stereo, FSDD_WAV, ...[ESC10_FLAC, PHIL_MP3].flatMap((f) => [f, `${f}|ffmpeg`])];
  for (const name of cases) {
    const [file, how] = name.split('|') as [string, string | undefined];
    const decoder = how === 'ffmpeg' ? ('ffmpeg' as const) : ('auto' as const);
    const full = await loadAudio(file, { mono: false, decoder });
    const sr = full.sampleRate;
    const dur = full.channels[0]!.length / sr;
    for (const [offset, duration] of [
      [0, 0.1],
      [dur * 0.37, 0.05],
      [dur * 0.6, undefined],
      [0.0001, dur * 0.25],
    ] as const) {
      const part = await loadAudio(file, { mono: false, offset, duration, decoder });
      const start = Math.round(offset * sr);
      const n = duration === undefined ? full.channels[0]!.length - start : Math.round(duration * sr);
      assert.equal(part.channels.length, full.channels.length);
      // mpg123 after a seek re-primes its synthesis filter: the same samples within 1e-8 (measured 4e-9).
      const tol = file === PHIL_MP3 && decoder === 'auto' ? 1e-8 : 0;
      for (let c = 0; c < full.channels.length; c++) {
        const want = full.channels[c]!.subarray(start, start + n);
        assert.ok(maxAbsDiff(part.channels[c]!, want) <= tol, `${name} @${offset}+${duration} ch ${c}`);
      }
    }
    // A range past the end is an error, one that runs past the end is cut short.
    await assert.rejects(loadAudio(file, { offset: dur + 1, decoder }), /at or past the end of the clip/);
    const tail = await loadAudio(file, { offset: dur - 0.05, duration: 10, decoder });
    assert.ok(Math.abs(tail.channels[0]!.length - 0.05 * sr) <= 1);
  }
});

test('a WAV range is read without reading the file: 10 hours into a (sparse) 4 GB file', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'long.wav');
  const sr = 48000;
  const header = encodeWav({ sampleRate: sr, channels: [new Float32Array(0)] });
  const dataBytes = 0xfffff000;
  const v = new DataView(header.buffer);
  v.setUint32(4, header.length - 8 + dataBytes, true);
  v.setUint32(40, dataBytes, true);
  writeFileSync(path, header);
  truncateSync(path, header.length + dataBytes);
  const blocks = statSync(path).blocks * 512;
  if (blocks > 64 * 1024 * 1024) {
    t.skip('the temp file system does not keep sparse files');
    return;
  }
  const at = 36000 * sr; // 10 hours in
  const mark = Int16Array.from({ length: 480 }, (_, i) => (i * 97) % 20000);
  const fd = openSync(path, 'r+');
  writeSync(fd, new Uint8Array(mark.buffer), 0, mark.byteLength, header.length + 2 * at);
  closeSync(fd);

  const before = process.memoryUsage().arrayBuffers;
  const part = await loadAudio(path, { offset: 36000, duration: 0.01 });
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024, 'read much more than the range');
  assert.deepEqual(
    Array.from(part.channels[0]!),
    Array.from(mark, (x) => x / 32768),
  );
  const info = await audioInfo(path);
  assert.equal(info.frames, dataBytes / 2);
  assert.ok(info.duration > 44000);
});

test('lossy formats through ffmpeg (Vorbis, Opus, AAC, MP3): rate, channels, alignment and ranges', async (t) => {
  const dir = tempDir(t);
  // A chirp, not a steady tone, so a misaligned decode cannot line up by accident.
  const left = chirp(44100, 1.5, 0.5, 8000);
  const right = left.map((x) => -0.5 * x);
  const src = join(dir, 'src.wav');
  await writeWav(src, { sampleRate: 44100, channels: [left, right] }, { format: 'float32' });
  const encoders: Array<[string, string[], string, number]> = [
    ['ogg', ['-c:a', 'libvorbis'], 'vorbis', 44100],
    ['opus', ['-c:a', 'libopus', '-b:a', '96k'], 'opus', 48000],
    ['m4a', ['-c:a', 'aac', '-b:a', '128k'], 'aac', 44100],
    ['mp3', ['-c:a', 'libmp3lame', '-b:a', '128k'], 'mp3', 44100],
  ];
  for (const [ext, args, codec, rate] of encoders) {
    const file = join(dir, `x.${ext}`);
    run('ffmpeg', ['-v', 'error', '-y', '-i', src, ...args, file]);
    const info = await audioInfo(file);
    assert.deepEqual([info.codec, info.sampleRate, info.channels], [codec, rate, 2], ext);
    const a = await loadAudio(file, { mono: false });
    assert.equal(a.sampleRate, rate);
    assert.equal(a.channels.length, 2);
    // Compare with the source at 44.1 kHz (our resampler for Opus), at lag 0, away from the ends.
    const back = a.channels.map((x) => (rate === 44100 ? x : resample(x, rate, 44100)));
    for (let c = 0; c < 2; c++) {
      const want = c === 0 ? left : right;
      let s = 0;
      let e = 0;
      for (let i = 4410; i < 60000; i++) {
        s += want[i]! ** 2;
        e += (back[c]![i]! - want[i]!) ** 2;
      }
      const snr = 10 * Math.log10(s / e);
      assert.ok(snr > 20, `${ext} channel ${c}: SNR ${snr.toFixed(1)} dB at lag 0`);
    }
    // Mono is the mean of the two channels.
    const mono = await loadAudio(file);
    assert.ok(
      maxAbsDiff(
        mono.channels[0]!,
        a.channels[0]!.map((x, i) => (x + a.channels[1]![i]!) / 2),
      ) < 1e-7,
    );
    // A range equals the slice (the pre-roll hides the decoder's start-up after a seek).
    const part = await loadAudio(file, { mono: false, offset: 0.7, duration: 0.3 });
    const start = Math.round(0.7 * rate);
    for (let c = 0; c < 2; c++) {
      const d = maxAbsDiff(part.channels[c]!, a.channels[c]!.subarray(start, start + Math.round(0.3 * rate)));
      assert.ok(d < 1e-4, `${ext} range channel ${c}: ${d}`);
    }
  }
});

test('WAV odds through loadAudio: a header past the first 64 KiB, and an ADPCM WAV handed to ffmpeg', async (t) => {
  const dir = tempDir(t);
  // A 100 kB JUNK chunk before fmt/data: the header walk goes beyond the first block it reads.
  const samples = testSignal(300, 2, 11);
  const plain = encodeWav({ sampleRate: 16000, channels: samples }, { format: 'float32' });
  const big = riff([chunk('JUNK', new Uint8Array(100_001)), ...chunksOf(plain)]);
  const path = join(dir, 'big-junk.wav');
  writeFileSync(path, big);
  const a = await loadAudio(path, { mono: false, offset: 0.005, duration: 0.005 });
  assert.deepEqual(a.channels[1], samples[1]!.subarray(80, 160));
  // IMA ADPCM is not decoded natively: decodeWav says so, loadAudio goes through ffmpeg.
  const ima = join(dir, 'ima.wav');
  run('sox', ['-n', '-r', '8000', '-c', '1', '-e', 'ima-adpcm', ima, 'synth', '0.3', 'sine', '440']);
  const viaFfmpeg = await loadAudio(ima);
  const sox = soxDecode(ima, 1)[0]!;
  assert.equal(viaFfmpeg.channels[0]!.length, sox.length);
  // Two ADPCM decoders round differently by a few LSBs.
  assert.ok(maxAbsDiff(viaFfmpeg.channels[0]!, sox) < 1e-3);
  assert.equal((await audioInfo(ima)).codec, 'adpcm_ima_wav');
});

/** The chunks of a RIFF file made by encodeWav (to rebuild it with extra chunks). */
function chunksOf(wav: Uint8Array): ReturnType<typeof chunk>[] {
  const out: ReturnType<typeof chunk>[] = [];
  const v = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
  for (let p = 12; p + 8 <= wav.length; ) {
    const size = v.getUint32(p + 4, true);
    out.push(chunk(String.fromCharCode(...wav.subarray(p, p + 4)), wav.slice(p + 8, p + 8 + size)));
    p += 8 + size + (size & 1);
  }
  return out;
}

test('loadAudio resamples with resampleAudio (soxr, or src/audio/resample), never ffmpeg, the same for every format', async () => {
  const full = await loadAudio(ESC10_FLAC);
  for (const decoder of ['auto', 'ffmpeg'] as const) {
    const flac = await loadAudio(ESC10_FLAC, { sampleRate: 22050, decoder });
    assert.equal(flac.sampleRate, 22050);
    assert.deepEqual(flac.channels[0], resampleAudio(full.channels[0]!, 16000, 22050));
  }
  const js = await loadAudio(ESC10_FLAC, { sampleRate: 22050, resampler: 'js' });
  assert.deepEqual(js.channels[0], resample(full.channels[0]!, 16000, 22050));
  const wav = await loadAudio(FSDD_WAV, { sampleRate: 16000, quality: 'fast' });
  assert.deepEqual(
    wav.channels[0],
    resampleAudio((await loadAudio(FSDD_WAV)).channels[0]!, 8000, 16000, { quality: 'fast' }),
  );
  assert.equal((await loadAudio(FSDD_WAV, { sampleRate: 8000 })).channels[0]!.length, 2384);
});

test('writeWav PCM16 and float32 files read back with loadAudio and sox', async (t) => {
  const dir = tempDir(t);
  const audio = { sampleRate: 32000, channels: testSignal(3000, 2, 9) };
  for (const format of ['pcm16', 'float32'] as const) {
    const path = join(dir, `${format}.wav`);
    await writeWav(path, audio, { format });
    const back = await loadAudio(path, { mono: false });
    const tol = format === 'pcm16' ? 0.5 / 32768 : 0;
    for (let c = 0; c < 2; c++) assert.ok(maxAbsDiff(back.channels[c]!, audio.channels[c]!) <= tol, format);
    const sox = soxDecode(path, 2);
    assert.ok(maxAbsDiff(sox[1]!, back.channels[1]!) <= 2 ** -24, `sox reads ${format}`);
    assert.equal((await audioInfo(path)).codec, format === 'pcm16' ? 'pcm_s16le' : 'pcm_f32le');
  }
});

async function decodeError(p: Promise<unknown>, file: string, problem: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AudioDecodeError, `expected AudioDecodeError, got ${String(err)}`);
    assert.equal(err.file, file);
    assert.ok(err.message.startsWith(`${file}: `), err.message);
    assert.match(err.problem, problem);
    return true;
  });
}

test('bad input: each is an AudioDecodeError naming the file and the problem', async (t) => {
  const dir = tempDir(t);
  const p = (name: string, bytes?: Uint8Array | string): string => {
    const path = join(dir, name);
    if (bytes !== undefined) writeFileSync(path, bytes);
    return path;
  };
  const missing = p('missing.wav');
  await decodeError(loadAudio(missing), missing, /^file not found$/);
  await decodeError(audioInfo(missing), missing, /^file not found$/);
  const empty = p('empty.flac', '');
  await decodeError(loadAudio(empty), empty, /^empty file \(0 bytes\)$/);
  const good = encodeWav({ sampleRate: 8000, channels: [testSignal(100, 1)[0]!] });
  const truncated = p('truncated.wav', good.subarray(0, 20));
  await decodeError(loadAudio(truncated), truncated, /truncated header/);
  const tiny = p('tiny.wav', good.subarray(0, 6));
  await decodeError(loadAudio(tiny), tiny, /truncated header/);
  const text = p('notes.mp3', 'this is a text file, not audio\n'.repeat(20));
  await decodeError(loadAudio(text), text, /not an audio file.*ffprobe failed/);
  await decodeError(audioInfo(text), text, /not an audio file/);
  const nan = p(
    'nan.wav',
    riff([
      chunk('fmt ', fmtBody({ tag: 3, channels: 1, rate: 8000, bits: 32 })),
      chunk('data', floatBytes([0.1, Number.NaN])),
    ]),
  );
  await decodeError(loadAudio(nan), nan, /sample 1 .* is NaN/);
  const inf = p(
    'inf.wav',
    riff([
      chunk('fmt ', fmtBody({ tag: 3, channels: 2, rate: 8000, bits: 32 })),
      chunk('data', floatBytes([0, 0, 0, Number.POSITIVE_INFINITY])),
    ]),
  );
  await decodeError(loadAudio(inf, { offset: 0.0001 }), inf, /channel 1 is \+Inf/);
  const zero = p('zero.wav', encodeWav({ sampleRate: 8000, channels: [new Float32Array(0)] }));
  await decodeError(loadAudio(zero), zero, /zero-length clip/);
  const folder = join(dir, 'folder.wav');
  mkdirSync(folder);
  await decodeError(loadAudio(folder), folder, /is a directory/);
  // A damaged compressed file: ffprobe/ffmpeg's reason is passed on.
  const flacBytes = run('sox', [ESC10_FLAC, '-t', 'flac', '-']);
  const cut = p('cut.flac', flacBytes.subarray(0, 30));
  await decodeError(loadAudio(cut), cut, /damaged.*ffprobe failed/);
  // NaN/Inf coming out of ffmpeg are caught too (a float WAV in a format that goes through ffmpeg: CAF).
  const caf = join(dir, 'nan.caf');
  run('ffmpeg', ['-v', 'error', '-i', nan, '-c:a', 'pcm_f32le', caf]);
  await decodeError(loadAudio(caf), caf, /sample 1 .* is NaN/);
  // Options are programming errors, not decode errors.
  await assert.rejects(loadAudio(FSDD_WAV, { offset: -1 }), RangeError);
  await assert.rejects(loadAudio(FSDD_WAV, { sampleRate: 16000.5 }), RangeError);
  await assert.rejects(loadAudio(FSDD_WAV, { duration: 0 }), RangeError);
});

test('ffmpeg failing or missing is an AudioDecodeError naming the file', async (t) => {
  const saved = { ffmpeg: process.env.AUDIOTAG_FFMPEG, ffprobe: process.env.AUDIOTAG_FFPROBE };
  t.after(() => {
    for (const [k, v] of [
      ['AUDIOTAG_FFMPEG', saved.ffmpeg],
      ['AUDIOTAG_FFPROBE', saved.ffprobe],
    ] as const)
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });
  process.env.AUDIOTAG_FFMPEG = '/bin/false';
  const viaFfmpeg = { decoder: 'ffmpeg' } as const;
  await decodeError(
    loadAudio(ESC10_FLAC, viaFfmpeg),
    ESC10_FLAC,
    /\/bin\/false failed to decode it \(exit 1/,
  );
  // WAV never needs ffmpeg.
  assert.equal((await loadAudio(FSDD_WAV)).channels[0]!.length, 2384);
  process.env.AUDIOTAG_FFMPEG = join(tempDir(t), 'no-such-ffmpeg');
  await decodeError(loadAudio(PHIL_MP3, viaFfmpeg), PHIL_MP3, /no-such-ffmpeg not found: install ffmpeg/);
  delete process.env.AUDIOTAG_FFMPEG;
  process.env.AUDIOTAG_FFPROBE = '/bin/false';
  const m4a = join(tempDir(t), 'x.m4a');
  run('ffmpeg', ['-v', 'error', '-i', PHIL_MP3, '-t', '0.2', '-c:a', 'aac', m4a]);
  await decodeError(audioInfo(m4a), m4a, /\/bin\/false failed/);
});
