// `audiotag augment`, in process through the CLI's main().
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PNG } from 'pngjs';
import { loadAudio } from '../../src/audio/index.js';
import { runMain, spawnCli } from '../cli/helpers.js';
import { near } from './helpers.js';

const root = join(import.meta.dirname, '../..');
const digit = join(root, '../shared/data/fsdd/audio/0_jackson_0.wav');
const speech = join(root, 'configs/augment/speech-waveform.yaml');
const fat = join(root, 'configs/augment/fat2019-8th.yaml');
const dir = mkdtempSync(join(tmpdir(), 'audiotag-augment-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `audiotag augment ...args` in process: its exit code and stderr. */
const run = (...args: string[]) => runMain('augment', ...args);

describe('audiotag augment', () => {
  it('writes the augmented clip of a waveform pipeline, the same for the same seed', async () => {
    const a = join(dir, 'a.wav');
    const b = join(dir, 'b.wav');
    const c = join(dir, 'c.wav');
    const r = await run(digit, '--config', speech, '--out', a, '--seed', '7');
    assert.equal(r.code, 0, r.err);
    assert.equal((await run(digit, '--config', speech, '--out', b, '--seed', '7')).code, 0);
    assert.equal((await run(digit, '--config', speech, '--out', c, '--seed', '8')).code, 0);
    const x = (await loadAudio(digit)).channels[0]!;
    const y = (await loadAudio(a)).channels[0]!;
    assert.equal(y.length, x.length);
    assert.notDeepEqual(y, x);
    assert.deepEqual(readFileSync(a), readFileSync(b));
    assert.notDeepEqual(readFileSync(a), readFileSync(c));
  });

  it('draws the spectrogram of a spectrogram pipeline to a PNG, the same for the same seed', async () => {
    const cfg = join(dir, 'masks.yaml');
    writeFileSync(
      cfg,
      '- { name: SpecFrequencyMask, count: 2, maxWidth: 20 }\n- { name: SpecTimeMask, maxWidth: 30 }\n',
    );
    const [a, b, c] = ['a.png', 'b.png', 'c.png'].map((f) => join(dir, f));
    for (const [png, seed] of [
      [a, '1'],
      [b, '1'],
      [c, '2'],
    ] as const) {
      const r = await run(digit, '--config', cfg, '--png', png!, '--seed', seed, '--compare');
      assert.equal(r.code, 0, r.err);
    }
    const img = PNG.sync.read(readFileSync(a));
    assert.ok(img.width > 0 && img.height > 2 * 128, 'original and augmented stacked');
    assert.deepEqual(readFileSync(a), readFileSync(b));
    assert.notDeepEqual(readFileSync(a), readFileSync(c));
  });

  it('mixes the clip with --mix-with clips and prints its target row', () => {
    const other = join(root, '../shared/data/fsdd/audio/1_jackson_0.wav');
    const png = join(dir, 'mix.png');
    const r = spawnCli([
      'augment',
      digit,
      '--config',
      fat,
      '--png',
      png,
      '--mix-with',
      other,
      digit,
      '--seed',
      '5',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.kind, 'batch');
    assert.equal(out.target.length, 3);
    near(
      out.target.reduce((s: number, v: number) => s + v, 0),
      1,
      1e-3,
      'target row sum',
    );
    assert.ok(existsSync(png));
  });

  it('bad or missing flags are usage errors (exit 2) naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [[digit, '--out', join(dir, 'x.wav')], /--config is required/],
      [[digit, '--config', speech, '--out', join(dir, 'x.wav'), '--seed', '-1'], /--seed must be an integer/],
      [
        [digit, '--config', speech, '--out', join(dir, 'x.wav'), '--seed', '1.5'],
        /--seed must be an integer/,
      ],
      [[digit, '--config', speech], /--out is required/],
      [[digit, '--config', speech, '--out', join(dir, 'x.mp3')], /--out must name a \.wav file/],
      [
        [digit, '--config', speech, '--out', join(dir, 'x.wav'), '--mix-with', digit],
        /--mix-with only applies/,
      ],
      [[digit, '--config', fat], /--png is required/],
      [
        [digit, '--config', fat, '--png', join(dir, 'x.png'), '--out', join(dir, 'x.wav')],
        /--out: a spectrogram pipeline writes no audio/,
      ],
      [[digit, '--config', fat, '--png', join(dir, 'x.jpg')], /--png must name a \.png file/],
      [
        [digit, '--config', fat, '--png', join(dir, 'x.png'), '--preset', 'nope'],
        /--preset must be one of fat2019/,
      ],
    ];
    for (const [args, re] of cases) {
      const r = await run(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, re);
    }
  });

  it('a bad config is an error naming the file and the key (a usage error: exit 2)', async () => {
    const cfg = join(dir, 'bad.yaml');
    writeFileSync(cfg, 'name: Gain\nminGainDb: loud\n');
    const r = await run(digit, '--config', cfg, '--out', join(dir, 'x.wav'));
    assert.equal(r.code, 2);
    assert.match(r.err, /bad\.yaml: Gain: minGainDb: expected a number, got "loud"/);
    assert.equal(existsSync(join(dir, 'x.wav')), false);
  });
});
