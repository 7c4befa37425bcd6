import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { EXPORTABLE } from '../../src/export/models.js';
import { createModel, listModels, loadModel, saveModel } from '../../src/models/index.js';
import { maxAbsDiff } from './zoo-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'audiotag-zoo-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('every architecture is registered with a description, and its documented example input runs', () => {
  const infos = new Map(listModels().map((i) => [i.name, i]));
  for (const name of EXPORTABLE) {
    const info = infos.get(name);
    assert.ok(info, `${name} is registered`);
    assert.ok(info.description.length > 20 && info.input.layout.length > 5, `${name} is described`);
    const m = createModel(name);
    try {
      m.eval();
      E.tidy(() => {
        const out = E.noGrad(() => m.call(E.randn([1, ...info.input.exampleShape])));
        const classes = (info.defaults as { numClasses: number }).numClasses;
        assert.deepEqual(out.clipwise.shape, [1, classes], name);
      });
    } finally {
      m.dispose();
    }
  }
});

test('saveModel → loadModel rebuilds a frame-wise model (crnn) with its config and weights', () => {
  const dir = join(root, 'crnn');
  const m = createModel('crnn', {
    numClasses: 3,
    channels: [8, 16],
    pools: [
      [2, 2],
      [2, 1],
    ],
    rnnHidden: 8,
  });
  try {
    saveModel(dir, m, { classes: ['a', 'b', 'c'] });
    const { model, config } = loadModel(dir);
    try {
      assert.equal(config.model, 'crnn');
      m.eval();
      E.tidy(() => {
        const x = E.randn([2, 1, 8, 12]);
        const a = m.call(x);
        const b = model.call(x);
        assert.equal(maxAbsDiff(a.clipwise, b.clipwise), 0);
        assert.equal(maxAbsDiff(a.framewise!, b.framewise!), 0);
      });
    } finally {
      model.dispose();
    }
  } finally {
    m.dispose();
  }
});
