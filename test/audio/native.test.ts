// The audio addon (libsndfile + libsoxr, native/audio/): every format it decodes, on real clips, against
// the ffmpeg path and sox; time ranges; header-only info; the fallback when it is missing; soxr quality
// and streaming.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { chirp, measureSweep } from '../../bench/resample-meter.js';
import { audioAddon, audioInfo, loadAudio, resampleAudio } from '../../src/audio/index.js';
import { concatFloat32 } from '../../src/core/ndarray.js';
import { ESC10_FLAC, maxAbsDiff, PHIL_MP3, ROOT, run, SHARED, soxDecode, tempDir } from './helpers.js';

const addon = audioAddon();
const skip = addon === null ? 'the audio addon is not built (make -C native audio)' : false;

// A second ESC-10 clip, 44.1 kHz-free (all of ESC-10 here is 16 kHz): converted to Ogg Vorbis and Opus.
const ESC10_DOG = join(SHARED, 'esc10', 'audio', '1-100032-A-0.flac');

/** Decodes through loadAudio with libsndfile and with ffmpeg; returns both (all channels). */
async function both(file: string) {
  const native = await loadAudio(file, { mono: false });
  const ffmpeg = await loadAudio(file, { mono: false, decoder: 'ffmpeg' });
  return { native, ffmpeg };
}

test('FLAC (ESC-10) in process: exactly sox and ffmpeg, header-only info, ranges exact', {
  skip,
}, async () => {
  const { native, ffmpeg } = await both(ESC10_FLAC);
  const sox = soxDecode(ESC10_FLAC, 1)[0]!;
  assert.equal(native.sampleRate, 16000);
  assert.equal(maxAbsDiff(native.channels[0]!, sox), 0);
  assert.equal(maxAbsDiff(native.channels[0]!, ffmpeg.channels[0]!), 0);
  assert.deepEqual(addon!.info(ESC10_FLAC), {
    sampleRate: 16000,
    channels: 1,
    frames: sox.length,
    codec: 'flac',
    seekable: true,
  });
  for (const [offset, duration] of [
    [1.2345, 0.5],
    [4.99, undefined],
    [0, 0.001],
  ] as const) {
    const part = await loadAudio(ESC10_FLAC, { offset, ...(duration ? { duration } : {}) });
    const s = Math.round(offset * 16000);
    const n = duration === undefined ? sox.length - s : Math.round(duration * 16000);
    assert.equal(maxAbsDiff(part.channels[0]!, sox.subarray(s, s + n)), 0, `${offset}+${duration}`);
  }
});

test('MP3 (Philharmonia) in process: ffmpeg within float rounding, exact length, ranges', {
  skip,
}, async () => {
  const { native, ffmpeg } = await both(PHIL_MP3);
  assert.equal(native.channels[0]!.length, ffmpeg.channels[0]!.length);
  const d = maxAbsDiff(native.channels[0]!, ffmpeg.channels[0]!);
  assert.ok(d < 2e-6, `libsndfile vs ffmpeg: ${d}`);
  const info = await audioInfo(PHIL_MP3);
  assert.deepEqual(
    [info.codec, info.sampleRate, info.channels, info.frames],
    ['mp3', 44100, 1, native.channels[0]!.length],
  );
  const part = await loadAudio(PHIL_MP3, { offset: 1.5, duration: 0.25 });
  const s = Math.round(1.5 * 44100);
  // mpg123 re-primes its synthesis filter after a seek: the same samples within 1e-8 (measured 3.7e-9).
  const d2 = maxAbsDiff(part.channels[0]!, native.channels[0]!.subarray(s, s + Math.round(0.25 * 44100)));
  assert.ok(d2 < 1e-8, `range vs slice: ${d2}`);
});

test('Ogg Vorbis and Opus made from a real clip: in process = ffmpeg path, ranges = slices', {
  skip,
}, async (t) => {
  const dir = tempDir(t);
  // Stereo, so channel order is checked too: left the dog, right the same clip inverted and halved.
  const src = join(dir, 'src.wav');
  run('sox', [ESC10_DOG, '-c', '2', src, 'remix', '1', '1v-0.5']);
  for (const [ext, args, codec, rate, minSnr] of [
    ['ogg', ['-c:a', 'libvorbis', '-q:a', '5'], 'vorbis', 16000, 90],
    ['opus', ['-c:a', 'libopus', '-b:a', '64k'], 'opus', 48000, 30],
  ] as const) {
    const file = join(dir, `dog.${ext}`);
    run('ffmpeg', ['-v', 'error', '-y', '-i', src, ...args, file]);
    const info = await audioInfo(file);
    assert.deepEqual([info.codec, info.channels], [codec, 2], ext);
    const { native, ffmpeg } = await both(file);
    assert.equal(native.channels.length, 2);
    // libsndfile decodes Opus at the rate closest to the source's (16 kHz here); ffmpeg always at 48 kHz.
    if (codec === 'vorbis') assert.equal(native.sampleRate, rate);
    const ref = ffmpeg.channels.map((x) =>
      ffmpeg.sampleRate === native.sampleRate ? x : resampleAudio(x, ffmpeg.sampleRate, native.sampleRate),
    );
    for (let c = 0; c < 2; c++) {
      // Two decoders at lag 0, away from the ends: libvorbis on both sides (equal to float rounding);
      // libopus decoding at 16 kHz against ffmpeg's own Opus decoder at 48 kHz resampled (a lossy codec's
      // two decodes: same signal, same alignment, not the same rounding).
      const n = Math.min(native.channels[c]!.length, ref[c]!.length) - 2000;
      let sig = 0;
      let err = 0;
      for (let i = 2000; i < n; i++) {
        sig += ref[c]![i]! ** 2;
        err += (native.channels[c]![i]! - ref[c]![i]!) ** 2;
      }
      const snr = 10 * Math.log10(sig / err);
      assert.ok(snr > minSnr, `${ext} ch ${c}: libsndfile vs ffmpeg ${snr.toFixed(1)} dB`);
    }
    assert.ok(Math.abs(native.channels[0]!.length / native.sampleRate - 5) < 0.03, `${ext} length`);
    assert.ok(Math.abs(info.duration - 5) < 0.03, `${ext} info duration ${info.duration}`);
    const sr = native.sampleRate;
    const part = await loadAudio(file, { mono: false, offset: 2.2, duration: 0.4 });
    const s = Math.round(2.2 * sr);
    for (let c = 0; c < 2; c++) {
      const d = maxAbsDiff(part.channels[c]!, native.channels[c]!.subarray(s, s + Math.round(0.4 * sr)));
      assert.ok(d < 1e-6, `${ext} range ch ${c}: ${d}`);
    }
  }
});

test('without the addon (AUDIOTAG_AUDIO_ADDON=0) FLAC/MP3 go through ffmpeg and give the same clip', {
  skip,
}, () => {
  const script = `
    import { loadAudio, audioAddon } from './src/audio/index.js';
    const a = await loadAudio(${JSON.stringify(ESC10_FLAC)}, { sampleRate: 22050 });
    console.log(JSON.stringify({ addon: audioAddon() !== null, n: a.channels[0].length, s: Array.from(a.channels[0].subarray(1000, 1004)) }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { ...process.env, AUDIOTAG_AUDIO_ADDON: '0' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { addon: boolean; n: number; s: number[] };
  assert.equal(out.addon, false);
  assert.equal(out.n, Math.ceil((80001 * 22050) / 16000));
  return loadAudio(ESC10_FLAC, { sampleRate: 22050, resampler: 'js' }).then((js) => {
    // The fallback resamples with src/audio/resample.ts.
    assert.deepEqual(out.s, Array.from(js.channels[0]!.subarray(1000, 1004)));
  });
});

test('soxr: aliasing and pass-band residual under -100 dB; streaming = one shot; lengths as resample', {
  skip,
}, () => {
  for (const [from, to] of [
    [44100, 16000],
    [16000, 44100],
    [48000, 44100],
  ] as const) {
    const r = measureSweep((x, a, b) => resampleAudio(x, a, b), { fromRate: from, toRate: to });
    assert.ok(r.aliasMaxDb < -105, `${from}->${to}: ${r.aliasMaxDb.toFixed(1)} dB at ${r.aliasMaxAtHz} Hz`);
    assert.ok(r.passbandMaxDeviationDb < 0.01, `${from}->${to}: pass band ${r.passbandMaxDeviationDb} dB`);
  }
  const x = chirp(16000, 3, 0.5, 8000);
  const once = resampleAudio(x, 16000, 44100);
  assert.equal(once.length, Math.ceil((x.length * 44100) / 16000));
  const s = new addon!.Resampler(16000, 44100, 'hq');
  const parts: Float32Array[] = [];
  for (let i = 0; i < x.length; i += 7777) parts.push(s.process(x.subarray(i, i + 7777)));
  parts.push(s.flush());
  const streamed = concatFloat32(parts);
  assert.equal(maxAbsDiff(streamed.subarray(0, once.length), once), 0);
  assert.throws(() => resampleAudio(x, 16000, 0), RangeError);
});

test('damaged FLAC/MP3/Ogg files (truncations, byte flips) never crash the process: a clip or an error', {
  skip,
}, (t) => {
  const dir = tempDir(t);
  const ogg = join(dir, 'x.ogg');
  run('ffmpeg', ['-v', 'error', '-i', ESC10_FLAC, '-c:a', 'libvorbis', ogg]);
  // In a child process, so a crash in a C decoder shows as a signal here instead of killing the runner.
  const script = `
    import { readFileSync, writeFileSync } from 'node:fs';
    import { audioAddon } from './src/audio/native.js';
    const a = audioAddon();
    const srcs = ${JSON.stringify([ESC10_FLAC, PHIL_MP3, ogg])};
    let seed = 7;
    const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
    let decoded = 0, errors = 0;
    for (let it = 0; it < 120; it++) {
      const b = Buffer.from(readFileSync(srcs[it % 3]));
      let m = b;
      if (it % 2 === 0) m = b.subarray(0, Math.floor(rnd() * b.length));
      else for (let k = 0; k < 1 + Math.floor(rnd() * 20); k++) m[Math.floor(rnd() * Math.min(m.length, 4096))] = Math.floor(rnd() * 256);
      const f = ${JSON.stringify(join(dir, 'fuzz.bin'))};
      writeFileSync(f, m);
      try {
        a.info(f);
        const d = a.decodeSync(f, { mono: true, rate: 22050, offset: rnd(), duration: rnd() * 2 + 0.01 });
        if (!d.channels.every((c) => c.every(Number.isFinite))) throw new Error('non-finite sample returned');
        decoded++;
      } catch (e) {
        if (String(e.message).includes('non-finite')) throw e;
        errors++;
      }
    }
    console.log(JSON.stringify({ decoded, errors }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(r.signal, null, `the decoder crashed: ${r.signal}`);
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { decoded: number; errors: number };
  assert.equal(out.decoded + out.errors, 120);
  assert.ok(out.decoded > 10 && out.errors > 10, JSON.stringify(out));
});
