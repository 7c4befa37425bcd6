// Only commands that train or run models need libtorch: the rest of the CLI must start without the
// native addon (a checkout whose build failed, a machine without libtorch-dev).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, spawnCli } from './helpers.js';

const WAV = join(ROOT, '..', 'shared', 'data', 'fsdd', 'audio', '0_george_0.wav');

/** bin/audiotag from the sources with the native addon pointed at a file that does not exist. */
function run(args: string[]) {
  return spawnCli(args, { AUDIOTAG_NATIVE: join(ROOT, 'no-such-addon.node') }, 60_000);
}

test('--version and train --help work without the native addon', () => {
  const v = run(['--version']);
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stdout, /^\d+\.\d+\.\d+/);
  const h = run(['train', '--help']);
  assert.equal(h.status, 0, h.stderr);
  assert.match(h.stdout, /--config/);
});

test('info reads a clip without the native addon', { skip: !existsSync(WAV) && `${WAV} is missing` }, () => {
  const r = run(['info', WAV]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).sampleRate, 8000);
});

test('a command that needs the engine says how to build it', () => {
  const r = run([
    'bench',
    'infer',
    '--model',
    'small-cnn',
    '--batch',
    '1',
    '--size',
    '16',
    '--steps',
    '1',
    '--warmup',
    '0',
  ]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /native addon .* is missing; run `make setup`/);
});
