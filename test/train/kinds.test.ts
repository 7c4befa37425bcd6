// The per-kind recipes in configs/kinds/ (docs/accuracy.md): each file validates with the training config
// loader as shipped, points at its example dataset in ../shared/data, reports the last epoch, and trains
// one epoch of one fold on a few clips of that dataset with the recipe's own features, augmentation and
// model (only the data filter, folds and epochs are overridden).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadTrainConfig } from '../../src/train/config.js';
import { recipeKindPath, recipeKinds } from '../../src/train/kinds.js';
import { runTraining } from '../../src/train/run.js';
import { ROOT, runCli, SHARED, tempDir } from './helpers.js';

const KINDS = join(ROOT, 'configs/kinds');
const dir = tempDir('audiotag-kinds-');

/** Each recipe, its example dataset, and a tiny two-class subset of it with two folds. */
const CASES: Record<string, { dataset: string; tiny: [string, unknown][] }> = {
  'speech.yaml': {
    dataset: 'fsdd',
    tiny: [
      ['data.filter', { label: [0, 1], speaker: ['george', 'jackson'] }],
      ['folds.k', 2],
    ],
  },
  'environmental.yaml': {
    dataset: 'esc10',
    tiny: [['data.filter', { label: ['dog', 'rooster'], take: ['A'] }]],
  },
  'instruments.yaml': {
    dataset: 'philharmonia',
    tiny: [
      ['data.filter', { label: ['banjo', 'cello'], dynamic: ['forte'] }],
      ['folds.k', 2],
    ],
  },
  'general.yaml': {
    dataset: 'esc10',
    tiny: [['data.filter', { label: ['dog', 'rooster'], take: ['A'] }]],
  },
};

describe('configs/kinds: one recipe per kind of sound', () => {
  test('the folder holds exactly the four recipes', () => {
    assert.deepEqual(readdirSync(KINDS).sort(), Object.keys(CASES).sort());
  });

  for (const [file, c] of Object.entries(CASES)) {
    test(`${file} validates, points at ${c.dataset}, reports the last epoch and says what to change`, () => {
      const path = join(KINDS, file);
      const config = loadTrainConfig({ file: path });
      assert.equal(config.data.manifest, join(SHARED, c.dataset, 'meta.csv'));
      assert.ok(existsSync(config.data.manifest));
      assert.equal(config.train.monitor, 'last', 'no epoch is chosen on the held-out fold');
      assert.equal(config.train.threads, 1);
      assert.ok(config.train.ema, 'weight EMA on');
      const text = readFileSync(path, 'utf8');
      assert.match(text, /^# .*\n/, 'a header comment');
      assert.match(text, /For your own data change only: data\.manifest/);
      assert.match(text, /docs\/accuracy\.md/);
    });

    test(`${file} trains one epoch of one fold on a few ${c.dataset} clips`, async () => {
      const config = loadTrainConfig({
        file: join(KINDS, file),
        overrides: [
          ...c.tiny,
          ['train.epochs', 1],
          ['loader.workers', 0],
          ['loader.cacheDir', join(dir, 'cache')],
        ],
      });
      const out = join(dir, file.replace('.yaml', ''));
      const m = await runTraining({ config, out, folds: [0], quiet: true });
      assert.equal(m.classes.length, 2);
      const acc = m.metrics.accuracy!.per_fold;
      assert.equal(acc.length, 1);
      assert.ok(acc[0]! >= 0 && acc[0]! <= 1);
      assert.ok(existsSync(join(out, 'fold0', 'last', 'model.safetensors')));
    });
  }

  test('`train --config KIND` trains the shipped recipe of that kind; an unknown name is a usage error', async () => {
    assert.deepEqual(recipeKinds(), ['environmental', 'general', 'instruments', 'speech']);
    assert.equal(recipeKindPath('speech'), join(KINDS, 'speech.yaml'));
    assert.equal(recipeKindPath('speech.yaml'), null);
    const out = join(dir, 'by-name');
    const r = await runCli([
      'train',
      '--config',
      'general',
      '--out',
      out,
      '--folds',
      '0',
      '--quiet',
      '--train.epochs',
      '1',
      '--loader.workers',
      '0',
      '--loader.cacheDir',
      join(dir, 'cache'),
      '--data.filter',
      '{label: [dog, rooster], take: [A]}',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const recorded = readFileSync(join(out, 'config.yaml'), 'utf8');
    assert.match(recorded, /RandomEQ/);
    assert.doesNotMatch(recorded, /FrequencyShift/, "general.yaml's augmentation, not environmental.yaml's");
    assert.ok(recorded.includes(join(SHARED, 'esc10', 'meta.csv')), 'paths resolved against configs/kinds');
    const bad = await runCli(['train', '--config', 'birdsong', '--out', join(dir, 'none')]);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /--config birdsong: no such file, and not a shipped recipe \(environmental, general, instruments, speech\)/,
    );
  });
});
