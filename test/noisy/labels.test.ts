// src/noisy/labels.ts: corruption with known truth, co-occurrence soft labels against a hand computation,
// distillation targets, per-clip lwlrap and the warm-up selection rule on hand-made scores.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadManifest } from '../../src/data/index.js';
import {
  applyLabelOptions,
  clipLrap,
  cooccurrence,
  corruptLabels,
  distillTargets,
  type ScoredClip,
  selectNoisy,
  softRelabel,
  temper,
} from '../../src/noisy/labels.js';

const root = join(import.meta.dirname, '../..');
const near = (a: number, b: number, eps = 1e-6) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

describe('corruptLabels on ESC-10', async () => {
  const { dataset } = await loadManifest({
    path: join(root, '../shared/data/esc10/meta.csv'),
    format: 'esc50',
  });
  const labels = dataset.items.map((it) => it.labels);

  it('corrupts exactly round(rate·n) clips, keeps the truth, and repeats for a seed', () => {
    const a = corruptLabels(labels, dataset.classes, { rate: 0.3, seed: 7 });
    const b = corruptLabels(labels, dataset.classes, { rate: 0.3, seed: 7 });
    const c = corruptLabels(labels, dataset.classes, { rate: 0.3, seed: 8 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.equal(a.filter((x) => x.corruption !== '').length, 120);
    a.forEach((x, i) => {
      assert.deepEqual(x.trueLabels, labels[i]);
      if (x.corruption === '') assert.deepEqual(x.labels, x.trueLabels);
      else assert.notDeepEqual(x.labels, x.trueLabels, `clip ${i} marked ${x.corruption} but unchanged`);
      if (x.corruption === 'swap') {
        assert.equal(x.labels.length, 1);
        assert.ok(!x.trueLabels.includes(x.labels[0]!));
      }
      if (x.corruption === 'add') {
        assert.equal(x.labels.length, 2);
        assert.ok(x.labels.includes(x.trueLabels[0]!));
      }
    });
    // Single-label clips cannot lose their only label.
    assert.equal(a.filter((x) => x.corruption === 'drop').length, 0);
    assert.equal(
      corruptLabels(labels, dataset.classes, { rate: 0, seed: 1 }).filter((x) => x.corruption).length,
      0,
    );
  });

  it('drops a label only from multi-label clips, and honours the kinds', () => {
    const multi = [['a', 'b'], ['b', 'c'], ['a'], ['c', 'a']];
    const out = corruptLabels(multi, ['a', 'b', 'c'], { rate: 1, seed: 3, kinds: ['drop'] });
    assert.deepEqual(
      out.map((x) => x.corruption),
      ['drop', 'drop', '', 'drop'],
    );
    out.forEach((x, i) => {
      if (x.corruption) assert.equal(x.labels.length, multi[i]!.length - 1);
    });
    assert.throws(
      () => corruptLabels(multi, ['a', 'b', 'c'], { rate: 1.5, seed: 0 }),
      /rate must be in \[0, 1\]/,
    );
  });
});

describe('co-occurrence soft labels', () => {
  // Classes 0..2; clips {0,1}, {0}, {0,1}, {2}, {1,2}.
  const lists = [[0, 1], [0], [0, 1], [2], [1, 2]];
  it('P(j | i) counted by hand', () => {
    const p = cooccurrence(lists, 3);
    // class 0 in 3 clips: with 1 twice; class 1 in 3 clips: with 0 twice, with 2 once; class 2 in 2 clips: with 1 once.
    const expected = [1, 2 / 3, 0, 2 / 3, 1, 1 / 3, 0, 1 / 2, 1];
    for (const [i, v] of expected.entries()) near(p[i]!, v);
  });
  it('(1 − w)·y + w·mean_i P(j | i), by hand', () => {
    const p = cooccurrence(lists, 3);
    const t = softRelabel([[0], [1, 2]], p, 3, 0.5);
    // clip {0}: 0.5·[1,0,0] + 0.5·[1, 2/3, 0]
    near(t[0]!, 1);
    near(t[1]!, 1 / 3);
    near(t[2]!, 0);
    // clip {1,2}: 0.5·[0,1,1] + 0.5·mean([2/3,1,1/3], [0,1/2,1]) = [1/6, 0.5 + 0.375, 0.5 + 1/3]
    near(t[3]!, 1 / 6);
    near(t[4]!, 0.875);
    near(t[5]!, 0.5 + 1 / 3);
    assert.deepEqual(Array.from(softRelabel([[0]], p, 3, 0)), [1, 0, 0]);
  });
  it('applyLabelOptions sets targets and weights on copies', () => {
    const d = {
      classes: ['a', 'b', 'c'],
      multiLabel: true,
      items: lists.map((ls, i) => ({
        path: `/x/${i}.wav`,
        id: `${i}.wav`,
        labels: ls.map((j) => 'abc'[j]!),
        meta: { set: i < 2 ? 'curated' : 'noisy' },
      })),
    };
    const out = applyLabelOptions(d, {
      cooccurrence: { weight: 0.5 },
      weights: { column: 'set', values: { noisy: 0.25 }, default: 1 },
    });
    near(out.items[1]!.targets![1]!, 1 / 3);
    assert.deepEqual(
      out.items.map((it) => it.weight),
      [1, 1, 0.25, 0.25, 0.25],
    );
    assert.equal(Object.hasOwn(d.items[0]!, 'targets'), false);
  });
});

describe('distillation targets', () => {
  it('alpha·hard + (1 − alpha)·teacher tempered', () => {
    const t = distillTargets([1, 0], [0.8, 0.2], 2, { alpha: 0.25, temperature: 1, activation: 'softmax' });
    near(t[0]!, 0.25 + 0.75 * 0.8);
    near(t[1]!, 0.75 * 0.2);
    // T = 2 on softmax rows: p^(1/2) renormalised.
    const s = temper([0.8, 0.2], 2, 2, 'softmax');
    near(s[0]!, Math.sqrt(0.8) / (Math.sqrt(0.8) + Math.sqrt(0.2)));
    // Sigmoid: logit halved.
    near(temper([0.9], 1, 2, 'sigmoid')[0]!, 1 / (1 + Math.exp(-Math.log(9) / 2)));
  });
});

describe('per-clip lwlrap and the warm-up selection', () => {
  it('clipLrap by hand', () => {
    near(clipLrap([0.9, 0.1, 0.5], [0]), 1);
    near(clipLrap([0.9, 0.1, 0.5], [2]), 1 / 2);
    // labels {1, 2}: 2 ranks 2nd (1 of 2 above are labels), 1 ranks 3rd (2 of 3).
    near(clipLrap([0.9, 0.1, 0.5], [1, 2]), (1 / 2 + 2 / 3) / 2);
    near(clipLrap([0.5, 0.5, 0.1], [0]), 1 / 2); // ties count against
  });

  it('geomean ≥ 0.5, at most 2 per fold and label, best first; reasons say why', () => {
    const clip = (id: string, fold: number, labels: number[], s1: number, s2: number): ScoredClip => ({
      id,
      fold,
      labels,
      scores: [s1, s2],
    });
    const clips = [
      clip('a', 0, [0], 1, 1), // kept (1.0)
      clip('b', 0, [0], 0.5, 0.5), // 0.5: passes, 3rd in fold 0 label 0 → over the cap
      clip('c', 0, [0], 0.8, 0.8), // kept
      clip('d', 1, [0], 0.5, 0.5), // fold 1: own cap, kept
      clip('e', 0, [1], 1, 0.2), // geomean 0.447 < 0.5
      clip('f', 0, [1], 0.25, 1), // geomean 0.5 kept
      clip('g', 0, [0, 1], 0, 1), // 0 → dropped
    ];
    const sel = selectNoisy(clips, { minScore: 0.5, combine: 'geomean', capPerFoldLabel: 2 }, ['x', 'y']);
    assert.deepEqual(
      sel.map((s) => [s.id, s.kept]),
      [
        ['a', true],
        ['b', false],
        ['c', true],
        ['d', true],
        ['e', false],
        ['f', true],
        ['g', false],
      ],
    );
    assert.match(sel[1]!.reason, /over the cap of 2 for fold 0, label x/);
    assert.match(sel[4]!.reason, /geomean of \[1\.0000, 0\.2000\] = 0\.4472 < 0\.5/);
    near(sel[5]!.score, 0.5);
    // Stage 4's rule: the last score equal to 1.
    const s4 = selectNoisy(
      [clip('a', 0, [0], 0, 1), clip('b', 0, [0], 1, 0.99)],
      { minScore: 1, combine: 'last', capPerFoldLabel: null },
      ['x'],
    );
    assert.deepEqual(
      s4.map((s) => s.kept),
      [true, false],
    );
  });
});

describe('the train config labels section', () => {
  it('audiotag train reads it: weights by a manifest column, co-occurrence targets, bad keys named', async () => {
    const { loadTrainConfig, ConfigError } = await import('../../src/train/config.js');
    const { prepareData } = await import('../../src/train/data.js');
    const base = {
      data: {
        manifest: join(root, '../shared/data/fsdd/meta.csv'),
        format: 'csv',
        csv: { pathCol: 'fname', labelCol: 'label' },
      },
      features: 'fat2019',
      model: { name: 'small-cnn' },
      train: { epochs: 1 },
      labels: { weights: { column: 'speaker', values: { george: 0.5 } }, cooccurrence: { weight: 0.2 } },
    };
    const config = loadTrainConfig({ object: base });
    const { dataset } = await prepareData(config);
    const george = dataset.items.filter((it) => it.meta.speaker === 'george');
    assert.equal(george.length, 500);
    assert.ok(george.every((it) => it.weight === 0.5));
    assert.ok(dataset.items.filter((it) => it.meta.speaker !== 'george').every((it) => it.weight === 1));
    // Single-label data: P(j | i) is the identity, so the soft targets are the hard ones.
    const it0 = dataset.items[0]!;
    assert.deepEqual(
      Array.from(it0.targets!),
      dataset.classes.map((c) => (it0.labels.includes(c) ? 1 : 0)),
    );
    assert.throws(
      () => loadTrainConfig({ object: { ...base, labels: { cooccurrence: { weight: 2 } } } }),
      (e: Error) => e instanceof ConfigError && /labels\.cooccurrence\.weight/.test(e.message),
    );
  });
});
