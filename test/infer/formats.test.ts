// Output writers on hand-made results: the combined Raven table counts time across files, per-file
// tables and Audacity labels keep sub-folders, tables appear only when closed.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { openWriters, RAVEN_COLUMNS } from '../../src/infer/formats.js';
import type { TagResult } from '../../src/infer/tagger.js';
import { tempDir } from './helpers.js';

const dir = tempDir();
const result = (id: string, duration: number, events: TagResult['events']): TagResult => ({
  id,
  duration,
  classes: ['a', 'b'],
  clip: Float32Array.from([0.2, 0.8]),
  windows: [{ start: 0, end: duration, scores: Float32Array.from([0.2, 0.8]) }],
  events,
});

describe('output writers', () => {
  test('combined Raven table: Begin Time counts across files, File Offset within each', () => {
    const ctx = {
      out: dir,
      classes: ['a', 'b'],
      template: null,
      band: [20, 8000] as [number, number],
      raven: 'combined' as const,
    };
    const [w] = openWriters(['raven'], ctx);
    w!.add({
      result: result('x.wav', 10, [{ start: 1, end: 3.5, label: 'b', confidence: 0.91 }]),
      path: '/data/x.wav',
    });
    w!.add({
      result: result('sub/y.wav', 5, [{ start: 2, end: 4, label: 'a', confidence: 0.6 }]),
      path: '/data/sub/y.wav',
    });
    assert.ok(!existsSync(join(dir, 'raven.selections.txt')), 'written under a temporary name until closed');
    w!.close();
    const lines = readFileSync(join(dir, 'raven.selections.txt'), 'utf8').trimEnd().split('\n');
    assert.deepEqual(lines, [
      RAVEN_COLUMNS.join('\t'),
      ['1', 'Spectrogram 1', '1', '1', '3.5', '20', '8000', 'b', '0.91', '/data/x.wav', '1'].join('\t'),
      ['2', 'Spectrogram 1', '1', '12', '14', '20', '8000', 'a', '0.6', '/data/sub/y.wav', '2'].join('\t'),
    ]);
  });
  test('per-file Raven tables and Audacity labels keep sub-folders', () => {
    const out = join(dir, 'per');
    const ctx = {
      out,
      classes: ['a', 'b'],
      template: null,
      band: [0, 4000] as [number, number],
      raven: 'per-file' as const,
    };
    const ws = openWriters(['raven', 'audacity'], ctx);
    for (const w of ws)
      w.add({
        result: result('sub/y.wav', 5, [{ start: 2, end: 4.25, label: 'a', confidence: 0.6 }]),
        path: '/d/y.wav',
      });
    for (const w of ws) w.close();
    assert.equal(
      readFileSync(join(out, 'raven', 'sub', 'y.selections.txt'), 'utf8')
        .split('\n')[1]!
        .split('\t')[3],
      '2',
    );
    assert.equal(readFileSync(join(out, 'audacity', 'sub', 'y.txt'), 'utf8'), '2\t4.25\ta\n');
  });
});
