// What `audiotag predict` reads as inputs: folders (recursive), manifests, CSVs with a file column,
// sample submissions, single files; ids unique.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { resolveInputs } from '../../src/infer/inputs.js';
import { FSDD_AUDIO, SHARED, tempDir } from './helpers.js';

const dir = tempDir();
const classes = ['0', '1', '2'];

describe('predict inputs', () => {
  test('a folder is searched recursively for audio files; others and hidden ones are left out', async () => {
    const f = join(dir, 'folder');
    mkdirSync(join(f, 'sub', 'deeper'), { recursive: true });
    mkdirSync(join(f, '.hidden'));
    copyFileSync(join(FSDD_AUDIO, '0_theo_0.wav'), join(f, 'a.wav'));
    copyFileSync(join(FSDD_AUDIO, '1_theo_0.wav'), join(f, 'sub', 'deeper', 'b.WAV'));
    copyFileSync(join(FSDD_AUDIO, '2_theo_0.wav'), join(f, '.hidden', 'c.wav'));
    writeFileSync(join(f, 'notes.txt'), 'x');
    const r = await resolveInputs([f], { classes });
    assert.deepEqual(
      r.items.map((i) => i.id),
      ['a.wav', 'sub/deeper/b.WAV'],
    );
    assert.equal(r.items[1]!.path, join(f, 'sub', 'deeper', 'b.WAV'));
    assert.equal(r.template, null);
    // Two inputs: ids get the folder name, so they cannot collide.
    const two = await resolveInputs([f, join(FSDD_AUDIO, '3_theo_0.wav')], { classes });
    assert.deepEqual(two.items.map((i) => i.id).slice(0, 2), ['folder/a.wav', 'folder/sub/deeper/b.WAV']);
    await assert.rejects(resolveInputs([f, f], { classes }), /two inputs have the id "folder\/a\.wav"/);
  });

  test('manifests (detected format), CSVs with a file column, sample submissions', async () => {
    const esc = await resolveInputs([join(SHARED, 'esc10', 'meta.csv')], { classes });
    assert.equal(esc.items.length, 400);
    assert.ok(esc.items[0]!.path!.startsWith(join(SHARED, 'esc10')));
    const list = join(dir, 'list.csv');
    writeFileSync(list, 'fname,comment\n0_theo_1.wav,x\n1_george_2.wav,y\n');
    const l = await resolveInputs([list], { classes, audioDir: FSDD_AUDIO });
    assert.deepEqual(
      l.items.map((i) => i.path),
      [join(FSDD_AUDIO, '0_theo_1.wav'), join(FSDD_AUDIO, '1_george_2.wav')],
    );
    // A CSV whose other columns are all classes is a sample submission; ids without an extension find theirs.
    const sub = join(dir, 'test.csv');
    writeFileSync(sub, 'fname,1,0,2\n0_theo_1,0,0,0\n');
    const s = await resolveInputs([sub], { classes, audioDir: FSDD_AUDIO });
    assert.deepEqual(s.template, { idColumn: 'fname', ids: ['0_theo_1'], columns: ['1', '0', '2'] });
    assert.equal(s.items[0]!.path, join(FSDD_AUDIO, '0_theo_1.wav'));
    const named = join(dir, 'sample_submission.csv');
    writeFileSync(named, 'fname,1,0,7\n0_theo_1,0,0,0\n');
    await assert.rejects(
      resolveInputs([named], { classes, audioDir: FSDD_AUDIO }),
      /columns the model does not predict: 7/,
    );
  });
});
