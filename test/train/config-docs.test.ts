// The config reference in docs/train.md is generated from the schemas: it must match what they say now,
// and every key of the training config must carry a description.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { configReference, GENERATED_SECTIONS, withSection } from '../../src/train/config-docs.js';
import { ROOT } from './helpers.js';

describe('config references (docs/train.md, docs/features.md) and DEVELOPING.md', () => {
  for (const section of GENERATED_SECTIONS)
    test(`${section.file} holds the reference generated from the current schemas`, () => {
      const doc = readFileSync(join(ROOT, section.file), 'utf8');
      const want = withSection(doc, section).split('\n');
      const have = doc.split('\n');
      const at = want.findIndex((line, i) => line !== have[i]);
      assert.ok(
        at < 0 && want.length === have.length,
        `${section.file} is stale at line ${at + 1}:\n  docs:   ${have[at]}\n  schema: ${want[at]}\n` +
          'run `npx tsx scripts/gen-config-docs.ts` and commit the result',
      );
    });

  test('every training-config key has a row with a description; the table follows schema changes', () => {
    const table = configReference();
    const rows = table
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .map((l) => ({ key: l.slice(3, l.indexOf('` |')), doc: l.endsWith('|  |') ? '' : 'yes' }));
    const documented = new Set(rows.filter((r) => r.doc).map((r) => r.key));
    // A key is explained by its own text or by the text of the object it belongs to.
    const explained = (key: string) =>
      key.split('.').some((_, i, parts) => documented.has(parts.slice(0, parts.length - i).join('.')));
    assert.deepEqual(
      rows.filter((r) => !explained(r.key)).map((r) => r.key),
      [],
      'keys without .describe() text (on the key or its object) in the schema',
    );
    for (const key of ['`train.schedule.pctStart`', '`features`', '`crop.evalHop`', '`init.freezeEpochs`'])
      assert.ok(table.includes(`| ${key} |`), key);
    assert.match(table, /\| `waveform` \| 1 \| .*conv1d-raw/);
  });

  test('docs/DEVELOPING.md lists every folder of src/ and test/ as the tree is', () => {
    const doc = readFileSync(join(ROOT, 'docs/DEVELOPING.md'), 'utf8');
    const folders = (dir: string) =>
      readdirSync(join(ROOT, dir)).filter((d) => statSync(join(ROOT, dir, d)).isDirectory());
    const missing = folders('src')
      .map((d) => `src/${d}`)
      .filter((p) => !doc.includes(`\`${p}\``));
    assert.deepEqual(missing, [], 'src/ folders the layout table does not name');
    // Test folders follow src/ (fixtures, the package test and the recipes' end-to-end runs besides).
    const stray = folders('test').filter(
      (d) => !['fixtures', 'package', 'recipes'].includes(d) && !folders('src').includes(d),
    );
    assert.deepEqual(stray, [], 'test/ folders with no src/ folder of the same name');
    // Named files exist.
    for (const m of doc.matchAll(/`((?:src|scripts|configs)\/[\w./-]+\.(?:ts|mjs|yaml))`/g))
      assert.ok(
        statSync(join(ROOT, m[1]!), { throwIfNoEntry: false }),
        `${m[1]} (named in DEVELOPING.md) does not exist`,
      );
  });
});
