// `audiotag info`: one JSON line per file; an unreadable file is an error naming it, the others are still
// read, and the exit code is 1; a truncated WAV is read with a warning; usage errors exit 2.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runMain, spawnCli } from '../cli/helpers.js';
import { ESC10_FLAC, FSDD_WAV, tempDir } from './helpers.js';

test('audiotag info prints duration, rate, channels, frames and codec as JSON lines', () => {
  const r = spawnCli(['info', FSDD_WAV, ESC10_FLAC]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(lines[0], {
    file: FSDD_WAV,
    sampleRate: 8000,
    channels: 1,
    frames: 2384,
    duration: 0.298,
    codec: 'pcm_s16le',
  });
  assert.deepEqual(
    [lines[1].sampleRate, lines[1].channels, lines[1].codec, Math.round(lines[1].duration)],
    [16000, 1, 'flac', 5],
  );
});

test('audiotag info on a missing file fails with a message naming it', async () => {
  const { code, err } = await runMain('info', '/no/such/clip.flac');
  assert.equal(code, 1);
  assert.equal(err, 'audiotag: /no/such/clip.flac: file not found\n');
});

test('audiotag info goes on past bad files, reports each, and exits 1 with a summary', (t) => {
  const dir = tempDir(t);
  const cut = join(dir, 'cut.wav');
  // The header says 2384 frames; 2000 bytes hold (2000 − 44) / 2 = 978 of them.
  writeFileSync(cut, readFileSync(FSDD_WAV).subarray(0, 2000));
  const r = spawnCli(['info', FSDD_WAV, join(dir, 'missing.wav'), cut, dir]);
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    lines.map((l) => [l.file, l.frames, l.declaredFrames]),
    [
      [FSDD_WAV, 2384, undefined],
      [cut, 978, 2384],
    ],
  );
  const err = r.stderr.trim().split('\n');
  assert.equal(err[0], `audiotag: ${join(dir, 'missing.wav')}: file not found`);
  assert.match(
    err[1]!,
    /warning: .*cut\.wav: truncated WAV: the header says 2384 frames \(0\.298 s\), the file holds 978/,
  );
  assert.match(err[2]!, /is a directory/);
  assert.equal(err[3], `audiotag: 2 of 4 file(s) failed, reasons above: ${join(dir, 'missing.wav')}, ${dir}`);
  assert.equal(err.length, 4);
});

test('usage errors exit 2: unknown flag, missing argument', () => {
  const unknown = spawnCli(['info', '--bogus-flag', FSDD_WAV]);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown option '--bogus-flag'/);
  const missing = spawnCli(['info']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /missing required argument 'files'/);
});
