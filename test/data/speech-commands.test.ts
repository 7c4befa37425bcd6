// The Speech Commands reader (src/data/speech-commands.ts) and the converter's refusals
// (src/data/convert.ts), on FSDD clips laid out by hand.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { convertDataset, soundscapeSubmission } from '../../src/data/convert.js';
import { detectFormat, formatProblem, readManifest } from '../../src/data/index.js';

const FSDD = join(import.meta.dirname, '../../../shared/data/fsdd/audio');
const tmp = mkdtempSync(join(tmpdir(), 'audiotag-speech-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function layout(name: string, lists: { validation?: string[]; testing?: string[] }): string {
  const root = join(tmp, name);
  for (const [word, speaker, n] of [
    ['zero', 'jackson', 0],
    ['zero', 'george', 0],
    ['one', 'jackson', 1],
    ['one', 'theo', 1],
  ] as const) {
    mkdirSync(join(root, word), { recursive: true });
    symlinkSync(join(FSDD, `${n}_${speaker}_0.wav`), join(root, word, `${speaker}_nohash_0.wav`));
  }
  mkdirSync(join(root, '_background_noise_'));
  symlinkSync(join(FSDD, '2_theo_0.wav'), join(root, '_background_noise_', 'noise.wav'));
  writeFileSync(join(root, 'validation_list.txt'), (lists.validation ?? []).map((l) => `${l}\n`).join(''));
  writeFileSync(join(root, 'testing_list.txt'), (lists.testing ?? []).map((l) => `${l}\n`).join(''));
  return root;
}

describe('speech-commands reader', () => {
  test('words are classes, the lists give the split, speakers the groups, noise is no class', async () => {
    const root = layout('ok', {
      validation: ['zero/george_nohash_0.wav'],
      testing: ['one/theo_nohash_0.wav'],
    });
    assert.equal(await detectFormat(root), 'speech-commands');
    const r = await readManifest({ path: root });
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.dataset.classes, ['one', 'zero']);
    const by = Object.fromEntries(r.dataset.items.map((it) => [it.id, [it.meta.split, it.group]]));
    assert.deepEqual(by, {
      'one/jackson_nohash_0.wav': ['train', 'jackson'],
      'one/theo_nohash_0.wav': ['test', 'theo'],
      'zero/george_nohash_0.wav': ['validation', 'george'],
      'zero/jackson_nohash_0.wav': ['train', 'jackson'],
    });
  });

  test('a listed file that is missing, or listed twice, is an error naming the list and line', async () => {
    const root = layout('bad', {
      validation: ['zero/george_nohash_0.wav', 'two/nobody_nohash_0.wav'],
      testing: ['zero/george_nohash_0.wav'],
    });
    const r = await readManifest({ path: root, format: 'speech-commands' });
    const lines = r.problems.map(formatProblem);
    assert.ok(
      lines.some((l) => /validation_list\.txt:2: two\/nobody_nohash_0\.wav: listed but not found/.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) =>
        /testing_list\.txt:1: zero\/george_nohash_0\.wav is also in validation_list\.txt \(line 1\)/.test(l),
      ),
      lines.join('\n'),
    );
  });
});

describe('dataset convert refusals', () => {
  test('a multi-label source for a single-label layout, and a non-empty --out, are named', async () => {
    const csv = join(tmp, 'multi.csv');
    writeFileSync(csv, `fname,labels\n0_jackson_0.wav,"zero,one"\n1_jackson_0.wav,one\n`);
    await assert.rejects(
      convertDataset({ path: csv, audioDir: FSDD }, { to: 'fsd2018', out: join(tmp, 'o1') }),
      /single-label, but 1 clip\(s\) have several labels \(first: 0_jackson_0\.wav\)/,
    );
    const out = layout('busy', {});
    await assert.rejects(convertDataset({ path: out }, { to: 'fsd2018', out }), /out: .* is not empty/);
  });

  test('soundscape-submission names the rows no window covers', async () => {
    const w = join(tmp, 'windows.csv');
    const t = join(tmp, 'template.csv');
    writeFileSync(w, 'file,start,end,a,b\n10000_SSW_x.wav,0,5,0.1,0.9\n');
    writeFileSync(t, 'row_id,a,b\n10000_SSW_5,0,0\n10000_SSW_10,0,0\n');
    await assert.rejects(
      soundscapeSubmission(w, t, join(tmp, 's.csv')),
      /no 5-s window for 1 row\(s\).*10000_SSW_10/,
    );
  });
});
