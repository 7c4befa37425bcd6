// Manifest readers: real ESC-10 and FSDD, and small broken manifests that must report every problem
// with its line.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  assertNoErrors,
  classIndices,
  detectFormat,
  formatProblem,
  ManifestError,
  mergeDatasets,
  type Problem,
  parseCsv,
  parsePythonList,
  readBirdclef,
  readCsvManifest,
  readEsc50,
  readFolder,
  readFsd2018,
  readFsd2019,
  readManifest,
  readSampleSubmission,
  targetMatrix,
  withClasses,
} from '../../src/data/index.js';
import { ESC10, FSDD, tempDir, writeTree } from './helpers.js';

/** "line kind" pairs, the shape most assertions below compare. */
function brief(problems: Problem[]): string[] {
  return problems.map((p) => `${p.line ?? '-'} ${p.severity === 'warning' ? 'W:' : ''}${p.kind}`);
}

describe('CSV parsing', () => {
  it('handles quotes, doubled quotes, CRLF and multi-line fields, keeping start lines', () => {
    const t = parseCsv('a,b\r\n1,"x, ""y"""\r\n\r\n"multi\nline",2\n3,4\n', 'm.csv');
    assert.deepEqual(t.header, ['a', 'b']);
    assert.deepEqual(
      t.rows.map((r) => [r.line, ...r.fields]),
      [
        [2, '1', 'x, "y"'],
        [4, 'multi\nline', '2'],
        [6, '3', '4'],
      ],
    );
    assert.deepEqual(t.problems, []);
  });

  it('reports wrong field counts and an unclosed quote with lines, keeping the good rows', () => {
    const t = parseCsv('a,b\n1,2\n3\n4,5,6\n7,8\n9,"open\n10,11\n', 'm.csv');
    assert.deepEqual(
      t.rows.map((r) => r.line),
      [2, 5],
    );
    assert.deepEqual(brief(t.problems), ['3 columns', '4 columns', '6 parse']);
    assert.match(t.problems[2]!.message, /never closed/);
  });

  it('strips a byte-order mark from the header', () => {
    assert.deepEqual(parseCsv('\ufefffname,label\nx,y\n', 'b.csv').header, ['fname', 'label']);
  });
});

describe('ESC-50 / ESC-10', () => {
  it('reads the real ESC-10 manifest: 400 clips, 10 classes in target order, folds and source groups', async () => {
    const r = await readEsc50(join(ESC10, 'meta.csv'));
    assert.deepEqual(r.problems, []);
    const ds = r.dataset;
    assert.equal(ds.items.length, 400);
    assert.deepEqual(ds.classes, [
      'dog',
      'rooster',
      'rain',
      'sea_waves',
      'crackling_fire',
      'crying_baby',
      'sneezing',
      'clock_tick',
      'helicopter',
      'chainsaw',
    ]);
    assert.equal(ds.multiLabel, false);
    const first = ds.items[0]!;
    assert.equal(first.path, join(ESC10, 'audio', '1-100032-A-0.flac'));
    assert.equal(first.group, '100032');
    assert.equal(first.fold, 1);
    assert.deepEqual([...first.targets!], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(first.meta.take, 'A');
    // 40 clips per class, 80 per fold.
    const perClass = new Array(10).fill(0);
    for (const c of classIndices(ds)) perClass[c]++;
    assert.deepEqual(perClass, new Array(10).fill(40));
    for (let f = 1; f <= 5; f++) assert.equal(ds.items.filter((it) => it.fold === f).length, 80);
    assert.equal(await detectFormat(join(ESC10, 'meta.csv')), 'esc50');
  });

  it('reports every bad row of a broken ESC-50 manifest at once', async () => {
    const dir = tempDir();
    writeTree(dir, {
      'audio/1-1-A-0.wav': 'x',
      'audio/1-2-A-1.wav': 'x',
      'audio/2-3-A-0.wav': 'x',
      'audio/2-4-A-0.wav': 'x',
      'audio/3-5-A-1.wav': 'x',
      'meta/esc50.csv': [
        'filename,fold,target,category,esc10,src_file,take',
        '1-1-A-0.wav,1,0,dog,True,1,A',
        '1-2-A-1.wav,1,1,rooster,True,2,A',
        '1-1-A-0.wav,1,0,dog,True,1,A', // 4: duplicate
        '2-3-A-0.wav,x,0,dog,True,3,A', // 5: bad fold
        '2-4-A-0.wav,2,1,dog,True,4,A', // 6: dog has target 0 on line 2
        '3-5-A-1.wav,3,1,,True,5,A', // 7: empty label
        'missing.wav,3,0,dog,True,6,A', // 8: missing file
        '3-6-A-0.wav,3,0,dog', // 9: wrong column count
      ].join('\n'),
    });
    const r = await readEsc50(join(dir, 'meta/esc50.csv'));
    assert.deepEqual(brief(r.problems), [
      '4 duplicate',
      '5 bad-value',
      '6 bad-value',
      '7 empty-label',
      '8 missing-file',
      '9 columns',
    ]);
    assert.match(r.problems[2]!.message, /category dog has target 1 here but 0 on line 2/);
    assert.match(r.problems[0]!.message, /first on line 2/);
    assert.deepEqual(
      r.dataset.items.map((it) => it.id),
      ['1-1-A-0.wav', '1-2-A-1.wav'],
    );
    assert.deepEqual(r.lines, [2, 3]);
    // The audio folder sits beside meta/ in the ESC-50 repository.
    assert.equal(r.dataset.items[0]!.path, join(dir, 'audio', '1-1-A-0.wav'));
    assert.throws(
      () => assertNoErrors(r),
      (e: unknown) => e instanceof ManifestError && e.problems.length === 6,
    );
  });

  it('checks labels against given classes', async () => {
    const r = await readEsc50(join(ESC10, 'meta.csv'), { classes: ['dog', 'rooster'], checkFiles: false });
    assert.equal(r.dataset.items.length, 80);
    assert.equal(r.problems.filter((p) => p.kind === 'unknown-label').length, 320);
  });
});

describe('generic CSV', () => {
  it("reads FSDD's meta.csv with speakers as groups", async () => {
    const r = await readCsvManifest(join(FSDD, 'meta.csv'), {
      pathCol: 'fname',
      labelCol: 'label',
      groupCol: 'speaker',
    });
    assert.deepEqual(r.problems, []);
    assert.equal(r.dataset.items.length, 3000);
    assert.deepEqual(r.dataset.classes, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    assert.equal(new Set(r.dataset.items.map((it) => it.group)).size, 6);
    assert.equal(r.dataset.items[0]!.meta.split, 'test');
    assert.equal(r.dataset.items[0]!.path, join(FSDD, 'audio', '0_george_0.wav'));
  });

  it('splits multi-labels, reads folds and weights, and reports bad values', async () => {
    const dir = tempDir();
    writeTree(dir, {
      'clips/a.wav': '',
      'clips/b.wav': '',
      'clips/c.wav': '',
      'clips/d.wav': '',
      'list.tsv': [
        'file\ttags\tfold\tw\tsrc',
        'a.wav\tx|y\t0\t1.5\ts1',
        'b.wav\ty\t1\t1\ts1',
        'c.wav\tz|\t1\t1\ts2', // 4: empty label
        'd.wav\tx\tone\t-2\ts3', // 5: bad fold and bad weight
      ].join('\n'),
    });
    const r = await readCsvManifest(join(dir, 'list.tsv'), {
      pathCol: 'file',
      labelCol: 'tags',
      labelSep: '|',
      foldCol: 'fold',
      weightCol: 'w',
      groupCol: 'src',
      delimiter: '\t',
      audioDir: join(dir, 'clips'),
    });
    assert.deepEqual(brief(r.problems), ['4 empty-label', '5 bad-value', '5 bad-value']);
    assert.equal(r.dataset.multiLabel, true);
    assert.deepEqual(r.dataset.classes, ['x', 'y']);
    const a = r.dataset.items[0]!;
    assert.deepEqual(
      [a.labels, a.fold, a.weight, a.group, [...a.targets!]],
      [['x', 'y'], 0, 1.5, 's1', [1, 1]],
    );
  });

  it('names missing columns', async () => {
    const dir = tempDir();
    writeTree(dir, { 'm.csv': 'name,class\na,b\n' });
    const r = await readCsvManifest(join(dir, 'm.csv'), { pathCol: 'fname', labelCol: 'label' });
    assert.equal(r.problems.length, 1);
    assert.match(r.problems[0]!.message, /missing columns fname, label \(header: name,class\)/);
  });
});

describe('Freesound 2018 and 2019', () => {
  it('2018: one label per clip, manually_verified checked, audio_train/ found', async () => {
    const dir = tempDir();
    writeTree(dir, {
      'audio_train/00044347.wav': '',
      'audio_train/001ca53d.wav': '',
      'audio_train/002d256b.wav': '',
      'train.csv': [
        'fname,label,manually_verified',
        '00044347.wav,Hi-hat,0',
        '001ca53d.wav,Saxophone,1',
        '002d256b.wav,Trumpet,yes', // 4
        '0033e230.wav,Glockenspiel,1', // 5: missing file
        '00044347.wav,Hi-hat,0', // 6: duplicate
      ].join('\n'),
    });
    const r = await readFsd2018(join(dir, 'train.csv'));
    assert.deepEqual(brief(r.problems), ['4 bad-value', '5 missing-file', '6 duplicate']);
    // A missing file does not change the class list.
    assert.deepEqual(r.dataset.classes, ['Glockenspiel', 'Hi-hat', 'Saxophone']);
    assert.equal(r.dataset.items[1]!.meta.manually_verified, '1');
    assert.equal(await detectFormat(join(dir, 'train.csv')), 'fsd2018');
  });

  it('2019: quoted comma-separated labels; curated + noisy merged, each item knowing its set', async () => {
    const dir = tempDir();
    writeTree(dir, {
      'train_curated/0006ae4e.wav': '',
      'train_curated/0019ef41.wav': '',
      'train_noisy/00097e21.wav': '',
      'train_noisy/000b6cfb.wav': '',
      'train_curated.csv': 'fname,labels\n0006ae4e.wav,Bark\n0019ef41.wav,"Raindrop,Walk_and_footsteps"\n',
      'train_noisy.csv':
        'fname,labels\n00097e21.wav,"Bathtub_(filling_or_washing),Bark"\n000b6cfb.wav,Gurgling\n',
      'sample_submission.csv':
        'fname,Bark,Bathtub_(filling_or_washing),Gurgling,Raindrop,Walk_and_footsteps\nt1.wav,0,0,0,0,0\nt2.wav,0,0,0,0,0\n',
    });
    const curated = await readFsd2019(join(dir, 'train_curated.csv'));
    const noisy = await readFsd2019(join(dir, 'train_noisy.csv'));
    assert.deepEqual([...curated.problems, ...noisy.problems], []);
    assert.deepEqual(curated.dataset.items[1]!.labels, ['Raindrop', 'Walk_and_footsteps']);
    const sub = await readSampleSubmission(join(dir, 'sample_submission.csv'));
    assert.equal(sub.format, 'wide');
    assert.deepEqual(
      sub.dataset.items.map((it) => it.id),
      ['t1.wav', 't2.wav'],
    );
    const all = mergeDatasets([curated.dataset, noisy.dataset], sub.dataset.classes);
    assert.deepEqual(all.classes, sub.dataset.classes);
    assert.deepEqual(
      all.items.map((it) => `${it.meta.set}:${it.id}`),
      ['curated:0006ae4e.wav', 'curated:0019ef41.wav', 'noisy:00097e21.wav', 'noisy:000b6cfb.wav'],
    );
    assert.deepEqual([...targetMatrix(all)], [1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0]);
    assert.throws(() => mergeDatasets([curated.dataset, curated.dataset]), /more than one dataset/);
    assert.throws(
      () => withClasses(curated.dataset, ['Bark']),
      /labels outside the given classes: 0019ef41.wav/,
    );
  });

  it('2019: empty labels and labels outside the sample submission are errors', async () => {
    const dir = tempDir();
    writeTree(dir, {
      'train_curated.csv': 'fname,labels\na.wav,"Bark,"\nb.wav,Meow\nc.wav,\n',
    });
    const r = await readFsd2019(join(dir, 'train_curated.csv'), { classes: ['Bark'], checkFiles: false });
    assert.deepEqual(brief(r.problems), ['2 empty-label', '3 unknown-label', '4 empty-label']);
  });
});

describe('BirdCLEF', () => {
  it('parses Python-list secondary labels', () => {
    assert.deepEqual(parsePythonList("['a', 'b']"), ['a', 'b']);
    assert.deepEqual(parsePythonList('["it\'s", "c"]'), ["it's", 'c']);
    assert.deepEqual(parsePythonList('[]'), []);
    assert.deepEqual(parsePythonList("['a',]"), ['a']);
    assert.equal(parsePythonList("['a' 'b']"), null);
    assert.equal(parsePythonList('a, b'), null);
  });

  it('primary + secondary labels, soft secondary targets, unknown secondaries dropped with a warning', async () => {
    const dir = tempDir();
    writeTree(dir, {
      'train_audio/abethr1/XC1.ogg': '',
      'train_audio/abhori1/XC2.ogg': '',
      'train_audio/abhori1/XC3.ogg': '',
      'train_metadata.csv': [
        'primary_label,secondary_labels,type,filename,rating',
        "abethr1,\"['abhori1', 'zzzzz1']\",['song'],abethr1/XC1.ogg,4.5",
        'abhori1,[],[],abhori1/XC2.ogg,3',
        'abhori1,"[\'abethr1\'",[],abhori1/XC3.ogg,3', // 4: malformed list
      ].join('\n'),
    });
    const r = await readBirdclef(join(dir, 'train_metadata.csv'), { secondaryTarget: 0.5 });
    assert.deepEqual(brief(r.problems), ['2 W:unknown-label', '4 bad-value']);
    assert.deepEqual(r.dataset.classes, ['abethr1', 'abhori1']);
    const x = r.dataset.items[0]!;
    assert.deepEqual([x.labels, [...x.targets!], x.meta.rating], [['abethr1', 'abhori1'], [1, 0.5], '4.5']);
    assert.equal(x.path, join(dir, 'train_audio', 'abethr1', 'XC1.ogg'));
    assert.equal(await detectFormat(join(dir, 'train_metadata.csv')), 'birdclef');
  });

  it('2021 layout: bare file names under a folder per primary label', async () => {
    const dir = tempDir();
    writeTree(dir, {
      'train_short_audio/acafly/XC1.ogg': '',
      'train_metadata.csv': 'primary_label,secondary_labels,filename\nacafly,[],XC1.ogg\n',
    });
    const r = await readBirdclef(join(dir, 'train_metadata.csv'));
    assert.deepEqual(r.problems, []);
    assert.equal(r.dataset.items[0]!.path, join(dir, 'train_short_audio', 'acafly', 'XC1.ogg'));
  });
});

describe('class folders and submissions', () => {
  it('one sub-folder per class; stray files and empty classes are warnings', async () => {
    const dir = tempDir();
    writeTree(dir, {
      'cat/a.wav': '',
      'cat/nested/b.flac': '',
      'cat/notes.txt': '',
      'dog/c.mp3': '',
      'empty/.keep': '',
      'README.md': '',
    });
    const r = await readManifest({ path: dir });
    assert.equal(r.format, 'folder');
    assert.deepEqual(
      r.dataset.items.map((it) => `${it.labels[0]}:${it.id}`),
      ['cat:cat/a.wav', 'cat:cat/nested/b.flac', 'dog:dog/c.mp3'],
    );
    assert.deepEqual(r.dataset.classes, ['cat', 'dog']);
    assert.deepEqual(
      r.problems.map((p) => `${p.kind}:${p.severity}`),
      ['stray-file:warning', 'stray-file:warning', 'empty-class:warning'],
    );
    assert.ok(r.problems.every((p) => formatProblem(p).startsWith(dir)));
    // With a class list, a folder outside it is an error per file.
    const known = await readFolder(dir, { classes: ['cat'] });
    assert.deepEqual(
      known.problems.filter((p) => p.severity === 'error').map((p) => p.message),
      ['dog/c.mp3: unknown label "dog"'],
    );
  });

  it('a 2018-style sample submission defines the test set but no class order', async () => {
    const dir = tempDir();
    writeTree(dir, {
      'sample_submission.csv':
        'fname,label\nx.wav,Laughter Hi-hat Flute\ny.wav,Laughter Hi-hat Flute\nx.wav,a\n',
    });
    const s = await readSampleSubmission(join(dir, 'sample_submission.csv'));
    assert.equal(s.format, 'labels');
    assert.deepEqual(s.dataset.classes, []);
    assert.deepEqual(brief(s.problems), ['4 duplicate']);
  });

  it('an unknown header needs a format', async () => {
    const dir = tempDir();
    writeTree(dir, { 'm.csv': 'path,class\n' });
    await assert.rejects(readManifest({ path: join(dir, 'm.csv') }), /cannot tell the format/);
    await assert.rejects(readManifest({ path: join(dir, 'nope.csv') }), /no such file/);
  });
});
