// Node-only helpers: the on-disk cache and worker-thread extraction (run from the .ts sources under tsx,
// which exercises the worker bootstrap).
import assert from 'node:assert/strict';
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { encodeWav } from '../../src/audio/browser.js';
import { loadAudio } from '../../src/audio/index.js';
import { computeFeatures, resolveFeatureConfig } from '../../src/features/index.js';
import {
  configHash,
  extractMany,
  extractSamples,
  FeatureCache,
  FeatureWorkerPool,
} from '../../src/features/node/index.js';
import { decodeNpy, encodeNpy } from '../../src/features/npy.js';
import { maxAbs, SHARED, testSignal } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'audiotag-features-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const FSDD = join(SHARED, 'fsdd', 'audio');
const clips = readdirSync(FSDD)
  .sort()
  .slice(0, 6)
  .map((f) => join(FSDD, f));

describe('worker extraction', () => {
  test('two workers give the same features as in-process, in order', async () => {
    const inProcess = await extractMany(clips, 'speech', { workers: 1 });
    let ticks = 0;
    const pooled = await extractMany(clips, 'speech', { workers: 2, onProgress: () => ticks++ });
    assert.equal(ticks, clips.length);
    assert.equal(pooled.length, clips.length);
    for (let i = 0; i < clips.length; i++) {
      assert.deepEqual(pooled[i]!.shape, inProcess[i]!.shape);
      assert.equal(maxAbs(pooled[i]!, inProcess[i]!), 0, clips[i]);
    }
    // Files are decoded at the config's rate by loadAudio (soxr when the audio addon is built).
    const a = await loadAudio(clips[0]!, { sampleRate: 16000 });
    const direct = computeFeatures(a.channels[0]!, a.sampleRate, 'speech');
    assert.equal(maxAbs(inProcess[0]!, direct), 0);
  });

  test('errors name the file, and the pool keeps working after one', async () => {
    const pool = new FeatureWorkerPool('speech', 1);
    try {
      await assert.rejects(pool.run({ kind: 'path', path: join(tmp, 'missing.wav') }), /missing\.wav/);
      const y = testSignal(8000, 8000);
      const r = await pool.run({ kind: 'samples', samples: y, sampleRate: 8000 });
      assert.deepEqual(r.shape, [64, 101]);
      assert.equal(y.length, 8000, 'the caller keeps its samples');
    } finally {
      await pool.close();
    }
    const many = await extractSamples([{ samples: testSignal(4000, 16000), sampleRate: 16000 }], 'speech');
    assert.deepEqual(many[0]!.shape, [64, 101]);
  });
});

describe('FeatureCache', () => {
  test('computes once, then loads; keys follow the content and the config', async () => {
    const dir = join(tmp, 'cache');
    const wav = join(tmp, 'clip.wav');
    copyFileSync(clips[0]!, wav);
    const cache = await FeatureCache.open(dir, 'speech');
    assert.equal(await cache.get(wav), null);
    const first = await cache.getOrCompute(wav);
    const sub = readdirSync(cache.dir);
    assert.ok(sub.includes('config.json') && sub.includes('hashes.json'));
    const entries = sub.filter((f) => f.endsWith('.npy'));
    assert.equal(entries.length, 1);
    // The entry is a plain .npy of the features.
    const npy = decodeNpy(readFileSync(join(cache.dir, entries[0]!)));
    assert.deepEqual(npy.shape, first.shape);
    // A second cache object (as in a new process) reads the entry instead of recomputing: overwrite the
    // entry with zeros and the zeros come back.
    const entry = join(cache.dir, entries[0]!);
    writeFileSync(entry, encodeNpy({ data: new Float32Array(first.data.length), shape: first.shape }));
    const again = await FeatureCache.open(dir, 'speech');
    const hit = await again.get(wav);
    assert.ok(hit?.data.every((v) => v === 0));
    writeFileSync(entry, encodeNpy(first));

    // Same path, new content → a miss, then a second entry.
    const other = await loadAudio(clips[1]!);
    writeFileSync(wav, encodeWav(other, { format: 'pcm16' }));
    utimesSync(wav, new Date(), new Date(Date.now() + 5000));
    assert.equal(await again.get(wav), null);
    const second = await again.getOrCompute(wav);
    assert.notDeepEqual(
      second.shape.concat(Array.from(second.data.slice(0, 5))),
      first.shape.concat(Array.from(first.data.slice(0, 5))),
    );
    assert.equal(readdirSync(again.dir).filter((f) => f.endsWith('.npy')).length, 2);

    // Another config → another folder.
    const mfcc = await FeatureCache.open(dir, { preset: 'speech', format: 'mfcc' });
    assert.notEqual(mfcc.dir, again.dir);
    assert.equal(await mfcc.get(wav), null);
    assert.equal(mfcc.configKey, configHash(resolveFeatureConfig({ preset: 'speech', format: 'mfcc' })));
  });

  test('getOrComputeMany fills the misses with workers and keeps the order', async () => {
    const cache = await FeatureCache.open(join(tmp, 'many'), 'speech');
    await cache.getOrCompute(clips[2]!);
    const all = await cache.getOrComputeMany(clips, { workers: 2 });
    const direct = await extractMany(clips, 'speech', { workers: 1 });
    all.forEach((a, i) => {
      assert.equal(maxAbs(a, direct[i]!), 0);
    });
    assert.equal(readdirSync(cache.dir).filter((f) => f.endsWith('.npy')).length, clips.length);
  });
});
