// Dataset-scale preparation: prepareCache (worker threads, resumable, bad clips skipped), batch extraction
// to a folder, and chunked features of long recordings (identical to the whole-clip result).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { audioAddon, loadAudio } from '../../src/audio/index.js';
import { computeFeatures } from '../../src/features/index.js';
import { extractToDir, FeatureCache, listBatchInputs, prepareCache } from '../../src/features/node/index.js';
import { longFeatures } from '../../src/features/node/long.js';
import { decodeNpy } from '../../src/features/npy.js';
import { maxAbs, SHARED } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'audiotag-prepare-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const esc = (name: string) => join(SHARED, 'esc10', 'audio', name);
const CLIPS = readdirSync(join(SHARED, 'esc10', 'audio'))
  .sort()
  .slice(0, 4)
  .map(esc);
const MP3 = join(SHARED, 'philharmonia', 'audio', 'banjo_E5_very-long_forte_normal.mp3');

test('prepareCache: every clip computed on 2 workers = computeFeatures; bad clips once; a rerun computes nothing', async () => {
  const bad = join(tmp, 'bad.flac');
  writeFileSync(bad, 'not audio at all\n'.repeat(10));
  const paths = [...CLIPS.slice(0, 3), bad, MP3];
  const cache = await FeatureCache.open(join(tmp, 'cache'), 'fsd2018-logmel');
  const badSeen: string[] = [];
  let last = 0;
  const r = await prepareCache(cache, paths, {
    threads: 2,
    onBad: (p, why) => badSeen.push(`${p}|${why}`),
    onProgress: (p) => {
      assert.ok(p.done > last && p.done <= p.total);
      last = p.done;
    },
  });
  assert.deepEqual([r.computed, r.cached, r.failed, r.done], [4, 0, 1, 5], JSON.stringify(r.failures));
  assert.equal(badSeen.length, 1);
  // libsndfile rejects it, then ffprobe words the problem.
  assert.match(badSeen[0]!, /^.*bad\.flac\|(not an audio file|ffprobe reports)/);
  for (const p of [CLIPS[1]!, MP3]) {
    const got = await cache.get(p);
    const a = await loadAudio(p, { sampleRate: 16000 });
    assert.equal(maxAbs(got!, computeFeatures(a.channels[0]!, 16000, 'fsd2018-logmel')), 0, p);
  }
  // Resume: the finished clips are found; only the new one is computed.
  const again = await prepareCache(cache, [...paths, CLIPS[3]!], { threads: 2 });
  assert.deepEqual([again.computed, again.cached, again.failed], [1, 4, 1]);
});

test('features --out-dir: one .npy per clip (sub-folders kept), index.csv with the bad clip, resumable', async () => {
  const input = join(tmp, 'in');
  mkdirSync(join(input, 'sub'), { recursive: true });
  copyFileSync(CLIPS[0]!, join(input, 'a.flac'));
  copyFileSync(MP3, join(input, 'sub', 'b.mp3'));
  writeFileSync(join(input, 'sub', 'c.wav'), 'RIFF....WAVEjunk');
  writeFileSync(join(input, 'notes.txt'), 'not listed');
  const inputs = await listBatchInputs(input);
  assert.deepEqual(
    inputs.map((i) => i.name),
    ['a', 'sub/b', 'sub/c'],
  );
  const out = join(tmp, 'out');
  const { resolveFeatureConfig } = await import('../../src/features/index.js');
  const config = resolveFeatureConfig('speech');
  const r = await extractToDir(inputs, out, config, { threads: 2 });
  assert.deepEqual([r.computed, r.skipped, r.failed], [2, 0, 1]);
  const b = decodeNpy(readFileSync(join(out, 'sub', 'b.npy')));
  const a = await loadAudio(MP3, { sampleRate: 16000 });
  assert.equal(
    maxAbs({ data: b.data as Float32Array, shape: b.shape }, computeFeatures(a.channels[0]!, 16000, config)),
    0,
  );
  const index = readFileSync(join(out, 'index.csv'), 'utf8').trim().split('\n');
  assert.equal(index[0], 'file,npy,shape,error');
  assert.match(index[2]!, /b\.mp3,sub\/b\.npy,64x101,$/);
  assert.match(index[3]!, /c\.wav,,,.+/);
  const again = await extractToDir(inputs, out, config, { threads: 2 });
  assert.deepEqual([again.computed, again.skipped, again.failed], [0, 2, 1]);
  await assert.rejects(
    extractToDir(inputs, out, resolveFeatureConfig('birdclef')),
    /holds another feature config/,
  );
  assert.deepEqual(readdirSync(out).sort(), ['a.npy', 'config.json', 'index.csv', 'sub']);
});

test('long recordings in chunks = the whole-clip features, exactly (trim, resampling, dB clamp)', {
  skip: audioAddon() === null ? 'needs the audio addon' : false,
}, async () => {
  // About 62 s: ten ESC-10 clips with silence around (trim has work to do), 16 kHz FLAC.
  const long = join(tmp, 'long.flac');
  const ten = readdirSync(join(SHARED, 'esc10', 'audio'))
    .sort()
    .slice(0, 12)
    .map(esc);
  execFileSync('sox', [...ten, long, 'pad', '1.5', '0.7']);
  for (const [config, rate] of [
    ['fat2019', 44100],
    [{ preset: 'speech', duration: null, padMode: 'reflect' }, 16000],
  ] as const) {
    const a = await loadAudio(long, { sampleRate: rate });
    const whole = computeFeatures(a.channels[0]!, rate, config as never);
    const chunked = (await longFeatures(long, config as never, { chunkSeconds: 6.1, blockFrames: 700 })) as {
      data: Float32Array;
      shape: number[];
    };
    assert.deepEqual(chunked.shape, whole.shape);
    assert.equal(maxAbs(chunked, whole), 0, JSON.stringify(config));
    // Streamed into a .npy: the same numbers.
    const file = join(tmp, 'long.npy');
    assert.deepEqual(await longFeatures(long, config as never, { chunkSeconds: 9, out: file }), whole.shape);
    const back = decodeNpy(readFileSync(file));
    assert.equal(maxAbs({ data: back.data as Float32Array, shape: back.shape }, whole), 0);
  }
  await assert.rejects(longFeatures(long, { preset: 'fat2019', format: 'mfcc' }), /key "format"/);
});
