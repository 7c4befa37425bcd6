import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { demoConfig } from '../../src/cli/commands/demo.js';
import {
  ConfigError,
  loadTrainConfig,
  parseFlagValue,
  parseOverrideArgs,
  setDotted,
  validateConfig,
} from '../../src/train/config.js';
import { resolveRunModel } from '../../src/train/plan.js';
import { ROOT, runCli, tempDir } from './helpers.js';

const minimal = () => ({
  data: { manifest: '/data/meta.csv' },
  features: { sampleRate: 8000, nMels: 32 },
  model: { name: 'small-cnn' },
  train: { epochs: 3 },
});

/** The problems of a config that must fail, as lines. */
function problems(raw: unknown): string[] {
  try {
    validateConfig(raw);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems.flatMap((p) => p.split('\n').map((l) => l.trim()));
  }
  assert.fail('the config was accepted');
}

describe('training config', () => {
  test('defaults are filled in and features resolved', () => {
    const c = validateConfig(minimal());
    assert.equal(c.seed, 0);
    assert.equal(c.folds.strategy, 'auto');
    assert.equal(c.loader.batchSize, 32);
    assert.equal(c.train.optimizer.name, 'adamw');
    assert.deepEqual(c.train.schedule, { name: 'constant', warmupEpochs: 0, warmupSteps: 0 });
    assert.equal(c.train.loss.name, 'auto');
    assert.equal(c.features.fmax, 4000, 'fmax derives from the sample rate');
    assert.equal(c.crop, null);
    assert.equal(c.init, null);
  });

  test('every error names its dotted key and what was expected', () => {
    const raw = minimal() as Record<string, Record<string, unknown>>;
    raw.train = { epochs: 'many', optimizer: { lr: -1, name: 'adagrad' }, schedul: {} };
    raw.loader = { batchSize: 0 };
    const p = problems(raw);
    const find = (key: string) =>
      p.find((l) => l.startsWith(`${key}:`)) ?? assert.fail(`no line for ${key} in\n${p.join('\n')}`);
    assert.match(find('train.epochs'), /expected a number, got "many"/);
    assert.match(find('train.optimizer.lr'), /-1/);
    assert.match(find('train.optimizer.name'), /sgd.*adam.*adamw.*got "adagrad"/);
    assert.match(find('train.schedul'), /unknown key \(expected one of .*schedule/);
    assert.match(find('loader.batchSize'), /got 0/);
  });

  test('a missing required key and a wrong discriminator are named', () => {
    const raw = minimal() as Record<string, Record<string, unknown>>;
    delete raw.model;
    raw.train.schedule = { name: 'exponential' };
    const p = problems(raw);
    assert.ok(
      p.some((l) => /^model: missing/.test(l)),
      p.join('\n'),
    );
    assert.ok(
      p.some((l) => /^train\.schedule\.name: .*constant.*got "exponential"/.test(l)),
      p.join('\n'),
    );
  });

  test('feature, metric and model-config errors carry their full key', () => {
    assert.match(problems({ ...minimal(), features: { nMelz: 3 } })[0]!, /^features\.nMelz: unknown key/);
    assert.match(problems({ ...minimal(), features: { nMels: -3 } })[0]!, /^features\.nMels: .*got -3/);
    const m = minimal() as Record<string, Record<string, unknown>>;
    m.train.metrics = ['accuracy', 'acuracy'];
    assert.match(problems(m)[0]!, /^train\.metrics\.1: unknown metric "acuracy"/);
    const n = minimal() as Record<string, Record<string, unknown>>;
    n.train.metrics = ['accuracy'];
    n.train.monitor = 'f1';
    assert.match(problems(n)[0]!, /^train\.monitor: expected one of val_loss, last, accuracy, got "f1"/);
    n.train.monitor = 'last';
    n.train.earlyStopping = { patience: 3 };
    assert.match(problems(n)[0]!, /^train\.earlyStopping: needs train\.monitor to name a metric/);
    const bad = validateConfig({ ...minimal(), model: { name: 'small-cnn', config: { channels: 'wide' } } });
    assert.throws(() => resolveRunModel(bad, ['a', 'b']), /model\.config\.channels:/);
    const wrongCount = validateConfig({
      ...minimal(),
      model: { name: 'small-cnn', config: { numClasses: 5 } },
    });
    assert.throws(
      () => resolveRunModel(wrongCount, ['a', 'b']),
      /model\.config\.numClasses: the data has 2 classes, got 5/,
    );
    const ok = resolveRunModel(validateConfig(minimal()), ['a', 'b', 'c']) as {
      config: { numClasses: number; inChannels: number };
    };
    assert.equal(ok.config.numClasses, 3);
    assert.equal(ok.config.inChannels, 1);
  });

  test('dotted overrides: YAML scalars, nested keys, and unknown keys rejected by name', () => {
    assert.equal(parseFlagValue('5'), 5);
    assert.equal(parseFlagValue('1e-3'), 0.001);
    assert.equal(parseFlagValue('true'), true);
    assert.equal(parseFlagValue('null'), null);
    assert.deepEqual(parseFlagValue('[32, 64]'), [32, 64]);
    assert.equal(parseFlagValue('other.csv'), 'other.csv');
    assert.deepEqual(
      parseOverrideArgs([
        '--train.epochs',
        '5',
        '--data.manifest=x.csv',
        '--model.config.channels',
        '[8,16]',
      ]),
      [
        ['train.epochs', 5],
        ['data.manifest', 'x.csv'],
        ['model.config.channels', [8, 16]],
      ],
    );
    assert.throws(() => parseOverrideArgs(['--train.epochs']), /--train\.epochs needs a value/);
    assert.throws(() => parseOverrideArgs(['stray']), /unexpected argument "stray"/);
    const o: Record<string, unknown> = { train: { epochs: 1 } };
    setDotted(o, 'train.optimizer.lr', 0.1);
    assert.deepEqual(o, { train: { epochs: 1, optimizer: { lr: 0.1 } } });
    assert.throws(() => setDotted(o, 'train.epochs.x', 1), /train\.epochs is 1, not a mapping/);

    const dir = tempDir();
    const file = join(dir, 'cfg.yaml');
    writeFileSync(
      file,
      'data: { manifest: meta.csv }\nfeatures: { sampleRate: 8000 }\nmodel: { name: small-cnn }\ntrain: { epochs: 3 }\n',
    );
    const c = loadTrainConfig({
      file,
      overrides: [
        ['train.epochs', 7],
        ['train.optimizer.lr', 0.01],
        ['data.audioDir', 'sounds'],
      ],
    });
    assert.equal(c.train.epochs, 7);
    assert.equal(c.train.optimizer.lr, 0.01);
    // A path in the file is relative to the file; one from a flag to the current directory.
    assert.equal(c.data.manifest, join(dir, 'meta.csv'));
    assert.equal(c.data.audioDir, join(process.cwd(), 'sounds'));
    assert.throws(
      () => loadTrainConfig({ file, overrides: [['train.epoch', 7]] }),
      (e: Error) =>
        e instanceof ConfigError && /train\.epoch: unknown key \(expected one of epochs,/.test(e.message),
    );
    assert.throws(
      () => loadTrainConfig({ file: join(dir, 'none.yaml') }),
      /none\.yaml: cannot read the file/,
    );
  });

  test('the CLI rejects a bad key with exit code 2 and names it', async () => {
    const dir = tempDir();
    const file = join(dir, 'cfg.yaml');
    writeFileSync(
      file,
      'data: { manifest: meta.csv }\nfeatures: speech\nmodel: { name: small-cnn }\ntrain: { epochs: 3 }\n',
    );
    const r = await runCli(['train', '--config', file, '--out', join(dir, 'run'), '--train.epochz', '5']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /train\.epochz: unknown key/);
    const r2 = await runCli(['train', '--config', file, '--out', join(dir, 'run'), '--folds', 'one']);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /--folds must be fold indices/);
  });

  test('the shipped configs and the demo config validate', () => {
    for (const f of ['fsdd', 'fsdd-loso', 'esc10', 'philharmonia', 'philharmonia-from-esc10']) {
      const c = loadTrainConfig({ file: join(ROOT, 'configs', `${f}.yaml`) });
      assert.ok(c.data.manifest.endsWith('meta.csv'), f);
      resolveRunModel(c, ['a', 'b']);
    }
    const d = loadTrainConfig({ object: demoConfig('/data/fsdd', 2, 0) });
    assert.equal(d.train.epochs, 2);
    assert.equal(d.folds.strategy, 'split');
  });
});
