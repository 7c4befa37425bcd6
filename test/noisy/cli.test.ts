// `audiotag dataset corrupt`, `audiotag dataset mix` and `audiotag pipeline` through the CLI's main():
// deterministic outputs with the truth recorded, and usage errors (exit 2) naming the flag.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadAudio } from '../../src/audio/index.js';
import { loadManifest } from '../../src/data/index.js';
import { runMain } from '../cli/helpers.js';

const root = join(import.meta.dirname, '../..');
const esc = join(root, '../shared/data/esc10/meta.csv');
const fsdd = join(root, '../shared/data/fsdd/meta.csv');
const dir = mkdtempSync(join(tmpdir(), 'audiotag-noisy-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('audiotag dataset corrupt', () => {
  it('writes a readable noisy manifest with the truth beside, the same for the same seed', async () => {
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.csv');
    const c = join(dir, 'c.csv');
    assert.equal(
      (await runMain('dataset', 'corrupt', esc, '--rate', '0.5', '--seed', '3', '--out', a)).code,
      0,
    );
    assert.equal(
      (await runMain('dataset', 'corrupt', esc, '--rate', '0.5', '--seed', '3', '--out', b)).code,
      0,
    );
    assert.equal(
      (await runMain('dataset', 'corrupt', esc, '--rate', '0.5', '--seed', '4', '--out', c)).code,
      0,
    );
    assert.equal(readFileSync(a, 'utf8'), readFileSync(b, 'utf8'));
    assert.notEqual(readFileSync(a, 'utf8'), readFileSync(c, 'utf8'));
    const { dataset: noisy } = await loadManifest({ path: a });
    const { dataset: orig } = await loadManifest({ path: esc, format: 'esc50' });
    assert.equal(noisy.items.length, 400);
    let wrong = 0;
    noisy.items.forEach((it, i) => {
      assert.equal(it.path, orig.items[i]!.path, 'the noisy manifest points at the same files');
      assert.equal(it.meta.true_labels, orig.items[i]!.labels.join(','));
      const same = it.labels.join(',') === it.meta.true_labels;
      assert.equal(same, it.meta.corruption === '', `${it.id}: corruption "${it.meta.corruption}"`);
      if (!same) wrong++;
    });
    assert.equal(wrong, 200);
  });

  it('reads csv manifests by column (FSDD)', async () => {
    const out = join(dir, 'fsdd.csv');
    const r = await runMain(
      'dataset',
      'corrupt',
      fsdd,
      '--path-col',
      'fname',
      '--label-col',
      'label',
      '--rate',
      '0.1',
      '--kinds',
      'swap',
      '--out',
      out,
    );
    assert.equal(r.code, 0, r.err);
    const { dataset } = await loadManifest({ path: out });
    assert.equal(dataset.items.length, 3000);
    assert.equal(dataset.items.filter((it) => it.meta.corruption === 'swap').length, 300);
    assert.equal(
      dataset.items.filter((it) => it.meta.corruption !== '' && it.meta.corruption !== 'swap').length,
      0,
    );
  });

  it('usage errors exit 2 and name the flag', async () => {
    const bad: [string[], RegExp][] = [
      [['--rate', '1.5', '--out', join(dir, 'x.csv')], /--rate must be a number from 0 to 1, got "1.5"/],
      [
        ['--rate', '0.3', '--out', join(dir, 'x.csv'), '--kinds', 'flip'],
        /--kinds: each kind must be one of swap, drop, add, got "flip"/,
      ],
      [['--rate', '0.3', '--out', join(dir, 'no/such/x.csv')], /--out .*does not exist/],
      [['--rate', '0.3', '--out', join(dir, 'x.csv'), '--seed', '-1'], /--seed must be/],
    ];
    for (const [args, msg] of bad) {
      const r = await runMain('dataset', 'corrupt', esc, ...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.err, msg);
    }
  });
});

describe('audiotag dataset mix', () => {
  it('overlays 1-3 clips, labels = union, the same files for the same seed', async () => {
    const a = join(dir, 'mixA');
    const b = join(dir, 'mixB');
    const args = [
      '--path-col',
      'fname',
      '--label-col',
      'label',
      '--count',
      '6',
      '--seed',
      '5',
      '--sample-rate',
      '8000',
    ];
    assert.equal((await runMain('dataset', 'mix', fsdd, '--out', a, ...args)).code, 0);
    assert.equal((await runMain('dataset', 'mix', fsdd, '--out', b, ...args)).code, 0);
    assert.equal(readFileSync(join(a, 'mix.csv'), 'utf8'), readFileSync(join(b, 'mix.csv'), 'utf8'));
    const { dataset } = await loadManifest({ path: join(a, 'mix.csv') });
    assert.equal(dataset.items.length, 6);
    const { dataset: src } = await loadManifest({
      path: fsdd,
      format: 'csv',
      csv: { pathCol: 'fname', labelCol: 'label' },
    });
    const labelOf = new Map(src.items.map((it) => [it.id, it.labels[0]!]));
    for (const it of dataset.items) {
      const sources = it.meta.sources!.split(' ').map((s) => s.slice(0, s.indexOf('@')));
      assert.ok(sources.length >= 1 && sources.length <= 3);
      assert.deepEqual([...it.labels].sort(), [...new Set(sources.map((s) => labelOf.get(s)!))].sort());
      const x = (await loadAudio(it.path)).channels[0]!;
      const y = (await loadAudio(join(b, 'audio', it.id))).channels[0]!;
      assert.deepEqual(x, y);
      assert.ok(
        x.some((v) => Math.abs(v) > 0.01),
        `${it.id} is not silent`,
      );
    }
  });

  it('usage errors exit 2', async () => {
    for (const [args, msg] of [
      [['--count', '0'], /--count must be an integer ≥ 1, got "0"/],
      [['--count', '2', '--sources', '3-1'], /--sources must satisfy 1 <= MIN <= MAX/],
      [['--count', '2', '--gain-db', '-3'], /--gain-db must be MIN,MAX/],
    ] as [string[], RegExp][]) {
      const r = await runMain(
        'dataset',
        'mix',
        fsdd,
        '--path-col',
        'fname',
        '--label-col',
        'label',
        '--out',
        join(dir, 'm'),
        ...args,
      );
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.err, msg);
    }
  });
});

describe('audiotag pipeline usage errors', () => {
  it('exit 2 naming the flag or key', async () => {
    const cfg = join(root, 'configs/noisy/warmup.yaml');
    const cases: [string[], RegExp][] = [
      [
        ['pipeline', 'warmup', '--config', join(dir, 'none.yaml'), '--out', join(dir, 'p')],
        /--config .*no such file/,
      ],
      [
        ['pipeline', 'warmup', '--config', cfg, '--out', join(dir, 'p')],
        /noisy: the warmup pipeline needs a noisy set/,
      ],
      [
        ['pipeline', 'warmup', '--config', cfg, '--out', join(dir, 'p'), '--folds', '1', '--noisy', esc],
        /folds/,
      ],
      [
        [
          'pipeline',
          'warmup',
          '--config',
          cfg,
          '--out',
          join(dir, 'p'),
          '--warmup.select3.minScore',
          '2',
          '--noisy',
          esc,
        ],
        /warmup\.select3\.minScore/,
      ],
      [['pipeline', 'distill', '--config', cfg, '--out', join(dir, 'p'), '--noisy', esc], /distill\.teacher/],
      [
        [
          'pipeline',
          'warmup',
          '--config',
          cfg,
          '--out',
          join(dir, 'p'),
          '--noisy',
          esc,
          '--overrides.stage5.train.epochs',
          '2',
        ],
        /overrides\.stage5: not a stage name/,
      ],
    ];
    for (const [args, msg] of cases) {
      const r = await runMain(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, msg);
    }
  });
});
