// `audiotag features`, in process through its own register() on a fresh commander program (the full
// CLI also loads the engine's native addon, which these tests do not need), with main()'s exit codes:
// 2 for a UsageError, 1 for other errors. Plus one run of bin/audiotag for the JSON summary.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Command, CommanderError } from 'commander';
import { PNG } from 'pngjs';
import { loadAudio } from '../../src/audio/index.js';
import { register } from '../../src/cli/commands/features.js';
import { UsageError } from '../../src/cli/errors.js';
import { computeFeatures } from '../../src/features/index.js';
import { decodeNpy } from '../../src/features/npy.js';
import { captureStderr, type InProcess, ROOT, spawnCli } from '../cli/helpers.js';
import { maxAbs, SHARED } from './helpers.js';

const digit = join(SHARED, 'fsdd', 'audio', '0_george_0.wav');
const dir = mkdtempSync(join(tmpdir(), 'audiotag-features-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `audiotag features ...args --quiet` in process with main()'s exit codes, and its stderr. */
function run(...args: string[]): Promise<InProcess> {
  return captureStderr(async () => {
    const program = new Command('audiotag').exitOverride();
    register(program);
    try {
      // --quiet: stdout carries the test runner's own events.
      await program.parseAsync(['features', ...args, '--quiet'], { from: 'user' });
      return 0;
    } catch (x) {
      if (x instanceof CommanderError) return x.exitCode;
      process.stderr.write(x instanceof Error ? x.message : String(x));
      return x instanceof UsageError ? 2 : 1;
    }
  });
}

describe('audiotag features', () => {
  test('writes the same features as computeFeatures to a .npy, and a PNG', async () => {
    const out = join(dir, 'x.npy');
    const png = join(dir, 'x.png');
    const r = await run(digit, '--preset', 'speech', '--n-mels', '40', '--out', out, '--png', png, '--axes');
    assert.equal(r.code, 0, r.err);
    const npy = decodeNpy(readFileSync(out));
    assert.equal(npy.dtype, '<f4');
    const a = await loadAudio(digit);
    const ref = computeFeatures(a.channels[0]!, a.sampleRate, { preset: 'speech', nMels: 40 });
    assert.deepEqual(npy.shape, ref.shape);
    assert.equal(maxAbs({ data: npy.data as Float32Array, shape: npy.shape }, ref), 0);
    const img = PNG.sync.read(readFileSync(png));
    assert.ok(img.width > ref.shape[1]! && img.height > ref.shape[0]!);
  });

  test('librosa-named overrides reach the config; stacked formats are 3-D', async () => {
    const out = join(dir, 'y.npy');
    const r = await run(
      digit,
      '--sr',
      '16000',
      '--n-fft',
      '1000',
      '--hop-length',
      '250',
      '--win-length',
      '800',
      '--window',
      'hamming',
      '--n-mels',
      '32',
      '--fmin',
      '50',
      '--fmax',
      '7000',
      '--format',
      'mel-delta3',
      '--no-trim',
      '--top-db',
      'none',
      '--pad-mode',
      'reflect',
      '--out',
      out,
    );
    assert.equal(r.code, 0, r.err);
    const npy = decodeNpy(readFileSync(out));
    const a = await loadAudio(digit);
    const ref = computeFeatures(a.channels[0]!, a.sampleRate, {
      sampleRate: 16000,
      nFft: 1000,
      hopLength: 250,
      winLength: 800,
      window: 'hamming',
      nMels: 32,
      fmin: 50,
      fmax: 7000,
      format: 'mel-delta3',
      topDb: null,
      padMode: 'reflect',
    });
    assert.deepEqual(npy.shape, [3, 32, ref.shape[2]]);
    assert.equal(maxAbs({ data: npy.data as Float32Array, shape: npy.shape }, ref), 0);
  });

  test('bad flags are usage errors (exit 2) naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['--n-fft', 'abc'], /--n-fft must be an integer ≥ 1, got "abc"/],
      [['--hop-length', '0'], /--hop-length must be an integer ≥ 1/],
      [['--window', 'kaiser'], /--window must be one of hann, hamming, blackman/],
      [['--scale', 'log'], /--scale must be one of power, db/],
      [['--format', 'xyz'], /--format must be one of mel, mfcc/],
      [['--preset', 'nope'], /--preset must be one of fat2019/],
      [['--win-length', '4096'], /--win-length: expected at most nFft \(2048\)/],
      [['--preset', 'fat2019', '--sr', '16000'], /key "fmax".*--preset fat2019.*set --fmax/],
      [['--colormap', 'jet'], /--colormap must be one of magma, viridis, gray/],
      [['--config', join(dir, 'none.json')], /--config .*none\.json: no such file/],
    ];
    for (const [args, re] of cases) {
      const r = await run(digit, ...args);
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code} ${r.err}`);
      assert.match(r.err, re);
    }
    const missing = await run(join(dir, 'missing.wav'));
    assert.equal(missing.code, 1);
    assert.match(missing.err, /missing\.wav/);
  });

  // The full CLI loads the engine's native addon (built by `make setup`); without it bin/audiotag cannot
  // start at all, which is not this command's concern.
  const addon = join(ROOT, 'build', 'Release', 'audiotag_native.node');
  test('bin/audiotag prints a JSON summary with the resolved config', {
    skip: !existsSync(addon) && `no ${addon}`,
  }, () => {
    const out = join(dir, 'z.npy');
    const r = spawnCli(['features', digit, '--preset', 'fsd2018', '--out', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout.trim());
    assert.deepEqual(s.shape, [20, 63]);
    assert.equal(s.config.format, 'mfcc');
    assert.ok(existsSync(out));
  });
});
