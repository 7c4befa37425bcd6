// `audiotag dataset validate` on real clips and on a manifest broken in every way at once.
import assert from 'node:assert/strict';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkAudio, readManifest } from '../../src/data/index.js';
import { ESC10, FSDD, runCli, tempDir, wavBytes, writeTree } from './helpers.js';

describe('audiotag dataset validate', () => {
  it('passes real ESC-10 clips (FLAC through ffmpeg) and reports their length', async () => {
    const dir = tempDir();
    const lines = readFileSync(join(ESC10, 'meta.csv'), 'utf8').trim().split('\n');
    // Ten clips keep the test short; the full 400 are checked the same way (docs/data.md).
    writeTree(dir, { 'meta.csv': [lines[0], ...lines.slice(1, 11)].join('\n') });
    const r = await runCli([
      'dataset',
      'validate',
      join(dir, 'meta.csv'),
      '--audio-dir',
      join(ESC10, 'audio'),
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /esc50, 10 clip\(s\) checked, 10 good, \d+ class\(es\), 5\.00–5\.00 s per clip; 0 error\(s\), 0 warning\(s\)/,
    );
  });

  it('prints every problem of a broken manifest with its line and exits 1', async () => {
    const dir = tempDir();
    symlinkSync(join(FSDD, 'audio', '0_george_0.wav'), join(dir, 'zero.wav'));
    symlinkSync(join(FSDD, 'audio', '1_george_0.wav'), join(dir, 'one.wav'));
    symlinkSync(join(FSDD, 'audio', '2_george_0.wav'), join(dir, 'two.wav'));
    writeTree(dir, {
      'garbage.wav': 'this is not audio at all, just text pretending to be a wav',
      'empty.wav': wavBytes(0),
      'classes.txt': '0\n1\n2\n',
      'list.csv': [
        'fname,label,speaker',
        'zero.wav,0,george', // 2 ok
        'one.wav,1,george', // 3 ok
        'garbage.wav,1,george', // 4 decode
        'empty.wav,2,george', // 5 empty clip
        'gone.wav,2,george', // 6 missing file
        'two.wav,7,george', // 7 unknown label
        'two.wav,,george', // 8 duplicate (of line 7)
        'three.wav,', // 9 wrong column count
        'zero.wav,0,george', // 10 duplicate
      ].join('\n'),
    });
    const r = await runCli([
      'dataset',
      'validate',
      join(dir, 'list.csv'),
      '--path-col',
      'fname',
      '--label-col',
      'label',
      '--classes',
      join(dir, 'classes.txt'),
    ]);
    assert.equal(r.code, 1);
    const manifest = join(dir, 'list.csv');
    const problems = r.stdout
      .trim()
      .split('\n')
      .slice(0, -1)
      .map((l) => l.replace(`${manifest}:`, ''));
    assert.equal(problems.length, 7, r.stdout);
    const expected = [
      /^4: cannot decode .*garbage\.wav/,
      /^5: (empty\.wav: the clip is empty|cannot decode .*empty\.wav)/,
      /^6: gone\.wav: file not found/,
      /^7: two\.wav: unknown label "7"/,
      /^8: two\.wav is listed again \(first on line 7\)/,
      /^9: 2 fields, expected 3/,
      /^10: zero\.wav is listed again \(first on line 2\)/,
    ];
    expected.forEach((re, i) => {
      assert.match(problems[i]!, re);
    });
    assert.match(r.stdout, /csv, 4 clip\(s\) checked, 2 good, 3 class\(es\), .*; 7 error\(s\), 0 warning/);
    assert.match(r.stderr, /7 error\(s\), listed above/);
  });

  it('checks durations against --min-duration/--max-duration, on a class-folder dataset', async () => {
    const dir = tempDir();
    writeTree(dir, { 'a/.keep': '', 'b/.keep': '' });
    symlinkSync(join(FSDD, 'audio', '0_george_0.wav'), join(dir, 'a', 'x.wav'));
    symlinkSync(join(FSDD, 'audio', '0_jackson_0.wav'), join(dir, 'b', 'y.wav'));
    const r = await runCli(['dataset', 'validate', dir, '--max-duration', '0.1', '--json']);
    assert.equal(r.code, 1);
    const report = JSON.parse(r.stdout) as {
      summary: { format: string; items: number; errors: number };
      problems: { kind: string; message: string }[];
    };
    assert.deepEqual([report.summary.format, report.summary.items, report.summary.errors], ['folder', 2, 2]);
    assert.ok(report.problems.every((p) => p.kind === 'duration' && /longer than 0\.1 s/.test(p.message)));
    // Header-only reads give the same lengths as decoding.
    const { dataset, lines } = await readManifest({ path: dir });
    const quick = await checkAudio(dataset, dir, lines, { decode: false, minDuration: 0.05 });
    assert.deepEqual(quick.problems, []);
    assert.ok(
      quick.durations.every((d) => d > 0.2 && d < 1),
      String(quick.durations),
    );
  });

  it('reports a truncated WAV with the frames its header declares and the frames it holds', async () => {
    const dir = tempDir();
    const clip = readFileSync(join(FSDD, 'audio', '0_george_0.wav'));
    // 2384 frames declared; 2000 bytes hold (2000 − 44) / 2 = 978.
    writeTree(dir, { 'a/good.wav': clip, 'b/good.wav': clip, 'a/cut.wav': clip.subarray(0, 2000) });
    for (const decode of [[], ['--no-decode']]) {
      const r = await runCli(['dataset', 'validate', dir, '--json', ...decode]);
      assert.equal(r.code, 1, r.stderr);
      const { summary, problems } = JSON.parse(r.stdout);
      assert.deepEqual([summary.items, summary.good, summary.errors], [3, 2, 1]);
      assert.equal(problems[0].kind, 'truncated');
      assert.match(
        problems[0].message,
        /^a\/cut(\.wav)?: truncated WAV: the header says 2384 frames \(0\.298 s\), the file holds 978 \(0\.122 s\)/,
      );
    }
  });

  it('names a file whose name is not valid UTF-8 as such, not as missing', async () => {
    const dir = tempDir();
    const clip = readFileSync(join(FSDD, 'audio', '0_george_0.wav'));
    writeTree(dir, { 'a/good.wav': clip, 'b/good.wav': clip });
    writeFileSync(
      Buffer.concat([Buffer.from(`${dir}/a/caf`), Buffer.from([0xe9]), Buffer.from('.wav')]),
      clip,
    );
    const r = await runCli(['dataset', 'validate', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /caf\uFFFD\.wav: the file name is not valid UTF-8/);
    assert.doesNotMatch(r.stdout, /not found/);
  });

  it('a missing --audio-dir is one usage error, not one per row', async () => {
    const r = await runCli(['dataset', 'validate', join(ESC10, 'meta.csv'), '--audio-dir', '/no/such/dir']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'audiotag: --audio-dir /no/such/dir: no such folder\n');
  });

  it('rejects bad flags with exit code 2', async () => {
    const r = await runCli(['dataset', 'validate', FSDD, '--format', 'nope', '--max-duration', '-1']);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /--format must be one of fsd2018, fsd2019, birdclef, esc50, speech-commands, folder, csv, got "nope"/,
    );
  });
});
