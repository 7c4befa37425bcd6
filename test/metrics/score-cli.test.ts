// `audiotag score` and the submission scoring behind it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { lwlrap } from '../../src/metrics/index.js';
import { SubmissionError, scoreFiles } from '../../src/metrics/node/submission.js';
import { runCli, tempDir, writeTree } from '../data/helpers.js';

const CLASSES = ['Bark', 'Meow', 'Purr'];

describe('scoring submission files', () => {
  it('2019 format: lwlrap of a wide score table equals lwlrap on the arrays, rows matched by fname', async () => {
    const dir = tempDir();
    writeTree(dir, {
      'truth.csv': 'fname,labels\na.wav,Bark\nb.wav,"Meow,Purr"\nc.wav,Purr\n',
      // Rows in another order than the truth, and a quoted header cell.
      'pred.csv': 'fname,Bark,"Meow",Purr\nc.wav,0.1,0.5,0.4\na.wav,0.9,0.2,0.3\nb.wav,0.3,0.3,0.8\n',
    });
    const expected = lwlrap(
      [
        [0.9, 0.2, 0.3],
        [0.3, 0.3, 0.8],
        [0.1, 0.5, 0.4],
      ],
      [
        [1, 0, 0],
        [0, 1, 1],
        [0, 0, 1],
      ],
    );
    const r = await runCli([
      'score',
      '--truth',
      join(dir, 'truth.csv'),
      '--pred',
      join(dir, 'pred.csv'),
      '--metric',
      'lwlrap,ap_micro',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, number>;
    assert.deepEqual(Object.keys(out), ['lwlrap', 'ap_micro']);
    assert.equal(out.lwlrap, expected);
    // Default metrics for multi-label truth, and per-class values on request.
    const d = await scoreFiles(join(dir, 'truth.csv'), join(dir, 'pred.csv'), { perClass: true });
    assert.deepEqual(Object.keys(d), ['lwlrap', 'ap_macro', 'per_class']);
    assert.deepEqual(Object.keys((d.per_class as Record<string, unknown>).lwlrap as object), CLASSES);
  });

  it('2018 format: MAP@3 from space-separated label lists', async () => {
    const dir = tempDir();
    writeTree(dir, {
      'truth.csv': 'fname,label,manually_verified\na.wav,Bark,1\nb.wav,Meow,0\nc.wav,Purr,1\nd.wav,Bark,1\n',
      'pred.csv': 'fname,label\na.wav,Bark Meow Purr\nb.wav,Bark Meow\nc.wav,Bark Meow Purr\nd.wav,Meow\n',
    });
    assert.deepEqual(await scoreFiles(join(dir, 'truth.csv'), join(dir, 'pred.csv')), {
      accuracy: 0.25,
      map3: (1 + 1 / 2 + 1 / 3 + 0) / 4,
    });
  });

  it('single-label truth with a wide score table: accuracy and MAP@3 by default', async () => {
    const dir = tempDir();
    writeTree(dir, {
      'truth.csv': 'fname,label\na.wav,Bark\nb.wav,Meow\n',
      'pred.csv': 'fname,Bark,Meow,Purr\na.wav,0.9,0.05,0.05\nb.wav,0.5,0.2,0.3\n',
    });
    assert.deepEqual(await scoreFiles(join(dir, 'truth.csv'), join(dir, 'pred.csv')), {
      accuracy: 0.5,
      map3: (1 + 1 / 3) / 2,
    });
  });

  it('lists every mismatch at once: missing and extra rows, bad scores, unknown columns', async () => {
    const dir = tempDir();
    writeTree(dir, {
      'classes.txt': 'Bark\nMeow\nPurr\n',
      'truth.csv': 'fname,labels\na.wav,Bark\nb.wav,Meow\nc.wav,Purr\nd.wav,Bark\n',
      'pred.csv': 'fname,Bark,Meow,Purr,Hiss\na.wav,0.9,x,0.1,0\nb.wav,0.1,0.8,,0\nz.wav,1,0,0,0\n',
    });
    const r = await runCli([
      'score',
      '--truth',
      join(dir, 'truth.csv'),
      '--pred',
      join(dir, 'pred.csv'),
      '--classes',
      join(dir, 'classes.txt'),
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /pred\.csv:2: a\.wav, column Meow: "x" is not a number/);
    assert.match(r.stderr, /pred\.csv:3: b\.wav, column Purr: "" is not a number/);
    await assert.rejects(
      scoreFiles(join(dir, 'truth.csv'), join(dir, 'pred.csv'), { classes: CLASSES }),
      (e: unknown) => {
        assert.ok(e instanceof SubmissionError);
        assert.deepEqual(e.problems, [
          `${join(dir, 'pred.csv')}:2: a.wav, column Meow: "x" is not a number`,
          `${join(dir, 'pred.csv')}:3: b.wav, column Purr: "" is not a number`,
          '2 truth row(s) missing from the prediction: c.wav, d.wav',
          '1 prediction row(s) not in the truth: z.wav',
          'unknown class column(s) in the prediction: Hiss',
        ]);
        return true;
      },
    );
  });

  it('refuses score-based metrics on label lists, unknown metrics, and truth labels without a column', async () => {
    const dir = tempDir();
    writeTree(dir, {
      'truth.csv': 'fname,label\na.wav,Bark\nb.wav,Meow\n',
      'lists.csv': 'fname,label\na.wav,Bark Meow Purr Hiss\nb.wav,Meow\n',
      'wide.csv': 'fname,Bark,Purr\na.wav,1,0\nb.wav,0,1\n',
    });
    await assert.rejects(
      scoreFiles(join(dir, 'truth.csv'), join(dir, 'lists.csv'), { metrics: ['map3'] }),
      /lists\.csv:2: 4 labels, the format allows at most 3/,
    );
    writeTree(dir, { 'lists.csv': 'fname,label\na.wav,Bark\nb.wav,Meow\n' });
    await assert.rejects(
      scoreFiles(join(dir, 'truth.csv'), join(dir, 'lists.csv'), { metrics: ['lwlrap', 'bogus'] }),
      /unknown metric bogus[\s\S]*lwlrap need a score for every class/,
    );
    await assert.rejects(
      scoreFiles(join(dir, 'truth.csv'), join(dir, 'wide.csv')),
      /truth label\(s\) with no column in the prediction: Meow/,
    );
    const r = await runCli([
      'score',
      '--truth',
      join(dir, 'truth.csv'),
      '--pred',
      join(dir, 'lists.csv'),
      '--threshold',
      'high',
    ]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--threshold must be a number, got "high"/);
  });

  it("an ensemble of score tables: the mean (or rank mean) on the first table's grid, each member beside it", async () => {
    const dir = tempDir();
    // a.wav is right only in the mean: A says Meow by a hair, B says Bark clearly.
    writeTree(dir, {
      'truth.csv': 'fname,label\na.wav,Bark\nb.wav,Meow\nc.wav,Purr\n',
      'a.csv': 'fname,Bark,Meow,Purr\na.wav,0.4,0.5,0.1\nb.wav,0.1,0.8,0.1\nc.wav,0.5,0.1,0.4\n',
      // Other row and column order than a.csv.
      'b.csv': 'fname,Purr,Bark,Meow\nc.wav,0.7,0.2,0.1\nb.wav,0.2,0.5,0.3\na.wav,0.1,0.8,0.1\n',
      'c.csv': 'fname,Bark,Meow\na.wav,1,0\nb.wav,0,1\nc.wav,1,0\n',
      'd.csv': 'fname,Bark,Meow,Purr\na.wav,1,0,0\nb.wav,0,1,0\n',
    });
    const args = ['score', '--truth', join(dir, 'truth.csv'), '--metric', 'accuracy'];
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.csv');
    const r = await runCli([...args, '--pred', a, '--pred', b]);
    assert.equal(r.code, 0, r.stderr);
    // mean: a = (0.6, 0.3, 0.1) Bark, b = (0.3, 0.55, 0.15) Meow, c = (0.35, 0.1, 0.55) Purr.
    assert.deepEqual(JSON.parse(r.stdout), {
      accuracy: 1,
      members: { [a]: { accuracy: 1 / 3 }, [b]: { accuracy: 2 / 3 } },
    });
    const rank = await runCli([...args, '--pred', a, '--pred', b, '--ensemble', 'rank']);
    assert.equal(rank.code, 0, rank.stderr);
    assert.equal(typeof JSON.parse(rank.stdout).accuracy, 'number');
    const bad = await runCli([
      ...args,
      '--pred',
      a,
      '--pred',
      join(dir, 'c.csv'),
      '--pred',
      join(dir, 'd.csv'),
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /c\.csv: class columns differ from .*a\.csv: missing Purr/);
    assert.match(bad.stderr, /d\.csv: rows differ from .*a\.csv: missing c\.wav/);
    const one = await runCli([...args, '--pred', a, '--ensemble', 'mean']);
    assert.equal(one.code, 2);
    assert.match(one.stderr, /--ensemble: needs two or more --pred files/);
    const how = await runCli([...args, '--pred', a, '--pred', b, '--ensemble', 'median']);
    assert.equal(how.code, 2);
    assert.match(how.stderr, /--ensemble/);
  });
});
