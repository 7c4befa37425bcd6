// `audiotag info`: one JSON line per file; an unreadable file is an error naming it (exit 1).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { ESC10_FLAC, FSDD_WAV, ROOT } from './helpers.js';

test('audiotag info prints duration, rate, channels, frames and codec as JSON lines', () => {
  const r = spawnSync(join(ROOT, 'bin', 'audiotag'), ['info', FSDD_WAV, ESC10_FLAC], {
    encoding: 'utf8',
    env: { ...process.env, AUDIOTAG_FROM_SOURCE: '1' },
  });
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
  let err = '';
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => {
    err += s;
    return true;
  }) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(['info', '/no/such/clip.flac']);
  } finally {
    process.stderr.write = write;
  }
  assert.equal(code, 1);
  assert.equal(err, 'audiotag: /no/such/clip.flac: file not found\n');
});
