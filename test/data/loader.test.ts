// The batch loader on real clips (small subsets of ESC-10 and FSDD): shapes, targets, crops, samplers,
// determinism across worker counts, the feature cache, broken files and shutting the workers down.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadAudio } from '../../src/audio/index.js';
import { type Dataset, readCsvManifest, readEsc50, subset } from '../../src/data/index.js';
import {
  type Batch,
  createLoader,
  type LoaderOptions,
  resolveAugment,
  type SkippedItem,
} from '../../src/data/loader.js';
import { type FeatureConfig, resolveFeatureConfig } from '../../src/features/config.js';
import { FEATURE_FORMATS, FORMATS } from '../../src/features/formats.js';
import { FeatureCache } from '../../src/features/node/cache.js';
import { encodeNpy } from '../../src/features/npy.js';
import { ESC10, FSDD, tempDir } from './helpers.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const FAT8 = join(ROOT, 'configs/augment/fat2019-8th.yaml');
// Small, fast features: the loader is under test, not the features.
const ESC_FEATURES = resolveFeatureConfig({
  sampleRate: 16000,
  nFft: 512,
  hopLength: 256,
  nMels: 32,
  normalize: 'clip',
});
const FSDD_FEATURES = resolveFeatureConfig({
  sampleRate: 8000,
  nFft: 256,
  hopLength: 128,
  nMels: 32,
  format: 'mel-delta3',
  normalize: 'clip',
});
const CACHE = tempDir('audiotag-loader-');

async function esc10(perClass: number, classes: string[]): Promise<Dataset> {
  const ds = (await readEsc50(join(ESC10, 'meta.csv'))).dataset;
  const picked: number[] = [];
  for (const c of classes)
    picked.push(...ds.items.flatMap((it, i) => (it.labels[0] === c ? [i] : [])).slice(0, perClass));
  return subset(ds, picked);
}

let fsddAll: Dataset | null = null;
/** FSDD clips of the given digits, `perDigit` each (george's recordings first, then others). */
async function fsdd(perDigit: number | number[], digits = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]): Promise<Dataset> {
  fsddAll ??= (
    await readCsvManifest(join(FSDD, 'meta.csv'), {
      pathCol: 'fname',
      labelCol: 'label',
      groupCol: 'speaker',
      audioDir: join(FSDD, 'audio'),
    })
  ).dataset;
  const all = fsddAll;
  const picked: number[] = [];
  digits.forEach((d, k) => {
    const n = Array.isArray(perDigit) ? perDigit[k]! : perDigit;
    picked.push(...all.items.flatMap((it, i) => (it.labels[0] === String(d) ? [i] : [])).slice(0, n));
  });
  return subset(all, picked);
}

async function collect(opts: LoaderOptions, ds: Dataset, epochs: number[] = [0]) {
  const loader = await createLoader(ds, { cacheDir: CACHE, ...opts });
  try {
    const out: Batch[][] = [];
    for (const e of epochs) {
      const batches: Batch[] = [];
      for await (const b of loader.epoch(e)) batches.push(b);
      out.push(batches);
    }
    return { loader, out };
  } finally {
    await loader.close();
  }
}

/** Features of a clip as the cache holds them, [C, M, T]. */
async function cached(features: FeatureConfig, path: string) {
  const f = (await (await FeatureCache.open(CACHE, features)).get(path))!;
  assert.ok(f, `${path} is not in the cache`);
  return f.shape.length === 2 ? { data: f.data, shape: [1, ...f.shape] } : f;
}

/** Row r of a batch as [C·M][frames]. */
function row(b: Batch, r: number): Float32Array {
  const n = b.inputs.data.length / b.inputs.shape[0]!;
  return b.inputs.data.subarray(r * n, (r + 1) * n);
}

/** The frames [start, start+frames) of [C, M, T] features, padding by wrapping. */
function window(f: { data: Float32Array; shape: number[] }, start: number, frames: number): Float32Array {
  const t = f.shape.at(-1)!;
  const rows = f.data.length / t;
  const out = new Float32Array(rows * frames);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < frames; j++) out[r * frames + j] = f.data[r * t + ((((start + j) % t) + t) % t)]!;
  return out;
}

function sameBatches(a: Batch[], b: Batch[], what: string): void {
  assert.equal(a.length, b.length, `${what}: batch count`);
  a.forEach((x, i) => {
    const y = b[i]!;
    assert.deepEqual(x.ids, y.ids, `${what}: ids of batch ${i}`);
    assert.deepEqual(x.inputs.shape, y.inputs.shape);
    assert.ok(
      Buffer.from(x.inputs.data.buffer).equals(Buffer.from(y.inputs.data.buffer)),
      `${what}: inputs of batch ${i}`,
    );
    assert.ok(
      Buffer.from(x.targets.data.buffer).equals(Buffer.from(y.targets.data.buffer)),
      `${what}: targets of batch ${i}`,
    );
    assert.deepEqual(x.offsets, y.offsets, `${what}: offsets of batch ${i}`);
  });
}

describe('loader: batches', () => {
  it('ESC-10 evaluation: shapes, ids in dataset order, one-hot targets, centred crops of the cached features', async () => {
    const ds = await esc10(2, ['dog', 'rain', 'rooster']);
    let progress = 0;
    const { loader, out } = await collect(
      {
        features: ESC_FEATURES,
        batchSize: 4,
        training: false,
        crop: { frames: 64 },
        workers: 0,
        onProgress: (done, total) => {
          assert.equal(total, 6);
          progress = done;
        },
      },
      ds,
    );
    assert.equal(progress, 6);
    assert.equal(loader.size, 6);
    assert.equal(loader.batchesPerEpoch, 2);
    assert.deepEqual(loader.inputShape, [1, 32, 64]);
    const batches = out[0]!;
    assert.deepEqual(
      batches.map((b) => b.inputs.shape),
      [
        [4, 1, 32, 64],
        [2, 1, 32, 64],
      ],
    );
    assert.deepEqual(
      batches.flatMap((b) => b.ids),
      ds.items.map((it) => it.id),
    );
    for (const b of batches) {
      assert.deepEqual(b.targets.shape, [b.ids.length, ds.classes.length]);
      assert.equal(b.weights, undefined);
      for (let r = 0; r < b.ids.length; r++) {
        const item = ds.items[b.clipIndex[r]!]!;
        assert.equal(item.id, b.ids[r]);
        assert.deepEqual(
          [...b.targets.data.subarray(r * ds.classes.length, (r + 1) * ds.classes.length)],
          [...item.targets!],
        );
        const f = await cached(ESC_FEATURES, item.path);
        const t = f.shape[2]!;
        assert.equal(b.offsets[r], Math.floor((t - 64) / 2));
        assert.deepEqual(row(b, r), window(f, b.offsets[r]!, 64));
      }
    }
  });

  it('FSDD training: 3-channel crops, fat2019-8th augmentation with mixing gives soft targets summing to 1', async () => {
    const ds = await fsdd(2);
    const { loader, out } = await collect(
      {
        features: FSDD_FEATURES,
        batchSize: 8,
        training: true,
        crop: { frames: 24 },
        augment: { batch: FAT8 },
        workers: 0,
        seed: 3,
      },
      ds,
    );
    assert.deepEqual(loader.inputShape, [3, 32, 24]);
    const batches = out[0]!;
    assert.deepEqual(
      batches.map((b) => b.inputs.shape),
      [
        [8, 3, 32, 24],
        [8, 3, 32, 24],
        [4, 3, 32, 24],
      ],
    );
    let soft = 0;
    for (const b of batches) {
      assert.ok(b.inputs.data.every(Number.isFinite));
      for (let r = 0; r < b.ids.length; r++) {
        const y = b.targets.data.subarray(r * 10, (r + 1) * 10);
        assert.ok(Math.abs(y.reduce((s, v) => s + v, 0) - 1) < 1e-5, `row ${r} targets ${[...y]}`);
        if (y.some((v) => v > 0 && v < 1)) soft++;
      }
    }
    assert.ok(soft > 5, `only ${soft} of 20 rows were mixed`);
  });

  it('short clips are padded: wrap repeats the clip, constant writes padValue', async () => {
    const ds = await fsdd(1, [0, 1]);
    for (const pad of ['wrap', 'constant'] as const) {
      const { out } = await collect(
        {
          features: FSDD_FEATURES,
          batchSize: 2,
          training: false,
          crop: { frames: 200, pad, padValue: -7, evalMode: 'start' },
          workers: 0,
        },
        ds,
      );
      const b = out[0]![0]!;
      for (let r = 0; r < 2; r++) {
        const f = await cached(FSDD_FEATURES, ds.items[r]!.path);
        const t = f.shape[2]!;
        assert.ok(t < 200);
        assert.equal(b.offsets[r], 0);
        const got = row(b, r);
        const want = window(f, 0, 200);
        if (pad === 'constant') for (let i = 0; i < want.length; i++) if (i % 200 >= t) want[i] = -7;
        assert.deepEqual(got, want);
      }
    }
  });

  it('waveform items (format "waveform"): [B, 1, samples] crops of the decoded clip', async () => {
    const ds = await fsdd(1, [3, 4]);
    const features = resolveFeatureConfig({ sampleRate: 8000, format: 'waveform' });
    const { loader, out } = await collect(
      { features, batchSize: 2, training: false, crop: { frames: 1000, evalMode: 'start' }, workers: 0 },
      ds,
    );
    assert.deepEqual(loader.inputShape, [1, 1000]);
    const b = out[0]![0]!;
    assert.deepEqual(b.inputs.shape, [2, 1, 1000]);
    for (let r = 0; r < 2; r++) {
      const audio = await loadAudio(ds.items[r]!.path);
      assert.deepEqual(row(b, r), audio.channels[0]!.subarray(0, 1000));
    }
  });

  it('every format of the registry gives rows of its channel count', async () => {
    const ds = await fsdd(1, [5, 6]);
    for (const format of FEATURE_FORMATS) {
      const features = resolveFeatureConfig({
        sampleRate: 8000,
        nFft: 256,
        hopLength: 128,
        nMels: 32,
        nMfcc: 13,
        format,
      });
      const frames = format === 'waveform' ? 2000 : 16;
      const { loader, out } = await collect(
        { features, batchSize: 2, training: false, crop: { frames, evalMode: 'start' }, workers: 0 },
        ds,
      );
      const shape = out[0]![0]!.inputs.shape;
      assert.equal(shape[1], FORMATS[format].channels, `${format}: rows ${JSON.stringify(shape)}`);
      assert.equal(shape.length, format === 'waveform' ? 3 : 4, `${format}: rows ${JSON.stringify(shape)}`);
      assert.deepEqual(loader.inputShape, shape.slice(1));
    }
  });
});

describe('loader: epochs and sampling', () => {
  it('the same seed and epoch give bit-identical batches with 0, 1 or 2 workers', async () => {
    const ds = await fsdd(2);
    const opts: LoaderOptions = {
      features: FSDD_FEATURES,
      batchSize: 6,
      training: true,
      crop: { frames: 24 },
      augment: { batch: FAT8, spectrogram: [{ name: 'SpecTimeMask', p: 0.5, maxWidth: 6 }] },
      seed: 11,
      prefetch: 2,
    };
    const runs = [];
    for (const workers of [0, 1, 2]) runs.push((await collect({ ...opts, workers }, ds, [1, 2, 1])).out);
    const [base, ...rest] = runs;
    rest.forEach((r, i) => {
      sameBatches(base![0]!, r[0]!, `epoch 1, workers ${i + 1} vs 0`);
      sameBatches(base![1]!, r[1]!, `epoch 2, workers ${i + 1} vs 0`);
    });
    sameBatches(base![0]!, base![2]!, 'epoch 1 iterated twice');
    assert.notDeepEqual(
      base![0]!.flatMap((b) => b.ids),
      base![1]!.flatMap((b) => b.ids),
      'epochs 1 and 2 have the same order',
    );
  });

  it('shuffle serves every clip exactly once per epoch; dropLast drops the last partial batch', async () => {
    const ds = await fsdd(2);
    const { out } = await collect(
      { features: FSDD_FEATURES, batchSize: 6, training: true, crop: { frames: 24 }, workers: 0 },
      ds,
      [0, 1],
    );
    for (const epoch of out) {
      assert.deepEqual(
        epoch.map((b) => b.ids.length),
        [6, 6, 6, 2],
      );
      const seen = epoch.flatMap((b) => [...b.clipIndex]).sort((a, b) => a - b);
      assert.deepEqual(
        seen,
        ds.items.map((_, i) => i),
      );
    }
    assert.notDeepEqual(out[0]![0]!.ids, out[1]![0]!.ids);
    const dropped = await collect(
      {
        features: FSDD_FEATURES,
        batchSize: 6,
        training: true,
        crop: { frames: 24 },
        workers: 0,
        dropLast: true,
      },
      ds,
    );
    assert.equal(dropped.loader.batchesPerEpoch, 3);
    const rows = dropped.out[0]!.flatMap((b) => [...b.clipIndex]);
    assert.equal(rows.length, 18);
    assert.equal(new Set(rows).size, 18);
  });

  it('balanced sampling draws every class about equally from a skewed set', async () => {
    // 12 clips of "0", 2 of "1", 2 of "2".
    const ds = await fsdd([12, 2, 2], [0, 1, 2]);
    const { out } = await collect(
      {
        features: FSDD_FEATURES,
        batchSize: 16,
        training: true,
        crop: { frames: 24 },
        workers: 0,
        sampler: 'balanced',
      },
      ds,
      Array.from({ length: 20 }, (_, e) => e),
    );
    const counts = new Map<string, number>();
    let n = 0;
    for (const epoch of out)
      for (const b of epoch)
        for (const c of b.clipIndex) {
          const l = ds.items[c]!.labels[0]!;
          counts.set(l, (counts.get(l) ?? 0) + 1);
          n++;
        }
    assert.equal(n, 320);
    for (const l of ['0', '1', '2'])
      assert.ok(Math.abs((counts.get(l) ?? 0) / n - 1 / 3) < 0.09, `class shares ${[...counts]}`);
  });

  it('item weights: passed per row with shuffle, used for drawing (and not passed) with weighted', async () => {
    const base = await fsdd(1, [0, 1, 2, 3]);
    const ds: Dataset = { ...base, items: base.items.map((it, i) => ({ ...it, weight: [0, 1, 0, 3][i]! })) };
    const opts = {
      features: FSDD_FEATURES,
      batchSize: 4,
      training: true,
      crop: { frames: 24 },
      workers: 0,
    } as const;
    const shuffled = (await collect(opts, ds)).out[0]![0]!;
    assert.deepEqual(
      [...shuffled.weights!],
      [...shuffled.clipIndex].map((c) => [0, 1, 0, 3][c]!),
    );
    const weighted = (await collect({ ...opts, sampler: 'weighted' }, ds, [0, 1, 2, 3, 4])).out;
    const drawn = weighted.flatMap((e) => e.flatMap((b) => [...b.clipIndex]));
    assert.equal(weighted[0]![0]!.weights, undefined);
    assert.ok(
      drawn.every((c) => c === 1 || c === 3),
      `weight-0 items drawn: ${drawn}`,
    );
    assert.ok(drawn.filter((c) => c === 3).length > drawn.filter((c) => c === 1).length);
  });

  it('evaluation windows cover every frame of every clip and are the cached features', async () => {
    const ds = await esc10(1, ['dog', 'rain', 'rooster']);
    const frames = 100;
    const { loader, out } = await collect(
      {
        features: ESC_FEATURES,
        batchSize: 7,
        training: false,
        crop: { frames, evalMode: 'windows', evalHop: 60 },
        workers: 0,
      },
      ds,
    );
    const rows = out[0]!.flatMap((b) => Array.from(b.clipIndex, (c, r) => ({ b, r, c })));
    assert.equal(loader.batchesPerEpoch, Math.ceil(rows.length / 7));
    for (let c = 0; c < ds.items.length; c++) {
      const f = await cached(ESC_FEATURES, ds.items[c]!.path);
      const t = f.shape[2]!;
      const covered = new Uint8Array(t);
      const mine = rows.filter((x) => x.c === c);
      assert.ok(mine.length >= Math.ceil(t / frames), `clip ${c}: ${mine.length} windows for ${t} frames`);
      for (const { b, r } of mine) {
        const s = b.offsets[r]!;
        assert.ok(s >= 0 && s + frames <= t);
        covered.fill(1, s, s + frames);
        assert.deepEqual(row(b, r), window(f, s, frames));
      }
      assert.ok(
        covered.every((v) => v === 1),
        `clip ${c} has frames in no window`,
      );
    }
  });
});

describe('loader: cache, broken files, waveform augmentation, shutdown', () => {
  it('a second loader over the same clips reads the cache instead of recomputing', async () => {
    const cacheDir = tempDir('audiotag-loader-cache-');
    const ds = await fsdd(1, [5, 6, 7]);
    const opts = {
      features: FSDD_FEATURES,
      cacheDir,
      batchSize: 3,
      training: false,
      crop: { frames: 8, evalMode: 'start' },
      workers: 1,
    } as const;
    const first = await collect(opts, ds);
    assert.deepEqual(
      { cached: first.loader.stats.cached, computed: first.loader.stats.computed },
      { cached: 0, computed: 3 },
    );
    // Doctor one cache entry: if the second loader recomputed, it could not serve these values.
    const cache = await FeatureCache.open(cacheDir, FSDD_FEATURES);
    const entries = readdirSync(cache.dir).filter((f) => f.endsWith('.npy'));
    assert.equal(entries.length, 3);
    const target = (await cache.get(ds.items[1]!.path))!;
    const hash = await cache.contentHash(ds.items[1]!.path);
    const file = join(cache.dir, entries.find((e) => hash.startsWith(e.slice(0, -4)))!);
    writeFileSync(
      file,
      encodeNpy({ data: new Float32Array(target.data.length).fill(7), shape: target.shape }),
    );
    const second = await collect(opts, ds);
    assert.deepEqual(
      { cached: second.loader.stats.cached, computed: second.loader.stats.computed },
      { cached: 3, computed: 0 },
    );
    const [a, b] = [first.out[0]![0]!, second.out[0]![0]!];
    assert.deepEqual(row(a, 0), row(b, 0));
    assert.ok(row(b, 1).every((v) => v === 7));
    assert.ok(readFileSync(file).length > 0);
  });

  it('clips that fail to decode are reported once each, skipped, and never served', async () => {
    const dir = tempDir('audiotag-loader-bad-');
    writeFileSync(join(dir, 'garbage.wav'), 'this is not audio at all');
    writeFileSync(join(dir, 'empty.wav'), '');
    const good = await fsdd(1, [0, 1, 2, 3]);
    const bad = ['garbage.wav', 'empty.wav', 'missing.wav'].map((f) => ({
      path: join(dir, f),
      id: f,
      labels: ['0'],
      targets: Float32Array.from({ length: 10 }, (_, i) => (i === 0 ? 1 : 0)),
      meta: {},
    }));
    const ds: Dataset = {
      ...good,
      items: [good.items[0]!, bad[0]!, good.items[1]!, bad[1]!, bad[2]!, ...good.items.slice(2)],
    };
    const reported: SkippedItem[] = [];
    const { loader, out } = await collect(
      {
        features: FSDD_FEATURES,
        batchSize: 2,
        training: true,
        crop: { frames: 16 },
        workers: 1,
        onSkip: (s) => reported.push(s),
      },
      ds,
      [0, 1],
    );
    assert.deepEqual(reported.map((s) => s.id).sort(), ['empty.wav', 'garbage.wav', 'missing.wav']);
    assert.deepEqual(
      loader.skipped.map((s) => [s.index, s.id]),
      [
        [1, 'garbage.wav'],
        [3, 'empty.wav'],
        [4, 'missing.wav'],
      ],
    );
    for (const s of loader.skipped) {
      assert.ok(s.path.startsWith(dir));
      assert.ok(s.error.length > 0);
    }
    assert.equal(loader.stats.skipped, 3);
    assert.equal(loader.size, 4);
    for (const epoch of out) assert.deepEqual(epoch.flatMap((b) => [...b.clipIndex]).sort(), [0, 2, 5, 6]);
  });

  it('waveform augmentation: features computed per row in the workers, deterministic, and augmented', async () => {
    // Unnormalised dB features: a gain of g dB shifts every value by g (no top_db clamp), so the rows
    // must be the cached features' crops plus one constant in [-6, 6] per row.
    const features = resolveFeatureConfig({
      sampleRate: 8000,
      nFft: 256,
      hopLength: 128,
      nMels: 32,
      topDb: null,
    });
    const ds = await fsdd(1, [0, 1, 2, 3]);
    const opts: LoaderOptions = {
      features,
      batchSize: 4,
      training: true,
      crop: { frames: 12 },
      augment: { waveform: { name: 'Gain', minGainDb: -6, maxGainDb: 6 } },
      seed: 5,
    };
    const one = await collect({ ...opts, workers: 1 }, ds);
    const zero = await collect({ ...opts, workers: 0 }, ds);
    sameBatches(one.out[0]!, zero.out[0]!, 'waveform augmentation, 1 vs 0 workers');
    const b = one.out[0]![0]!;
    const shifts: number[] = [];
    for (let r = 0; r < 4; r++) {
      const f = await cached(features, ds.items[b.clipIndex[r]!]!.path);
      const want = window(f, b.offsets[r]!, 12);
      const got = row(b, r);
      const d = got[0]! - want[0]!;
      for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i]! - want[i]! - d) < 1e-3);
      assert.ok(Math.abs(d) <= 6 + 1e-3 && Math.abs(d) > 1e-3, `gain ${d} dB`);
      shifts.push(d);
    }
    assert.ok(new Set(shifts.map((s) => s.toFixed(3))).size > 1, 'every row got the same gain');
  });

  it('waveform augmentation without a crop: clips of one fixed duration batch at their full length', async () => {
    // The speaker-independent speech recipe's shape: features.duration fixes every clip's length, no crop.
    const features = resolveFeatureConfig({
      sampleRate: 8000,
      nFft: 256,
      hopLength: 128,
      nMels: 32,
      duration: 1,
    });
    const ds = await fsdd(1, [0, 1, 2, 3]);
    const { out } = await collect(
      {
        features,
        batchSize: 4,
        training: true,
        augment: { waveform: { name: 'SpeedPerturb', p: 1 } },
        seed: 3,
        workers: 0,
      },
      ds,
    );
    const b = out[0]![0]!;
    assert.deepEqual(b.inputs.shape, [4, 1, 32, 63]);
  });

  it('close() stops every worker thread; an abandoned epoch does not hang', async () => {
    const threads = () => readdirSync('/proc/self/task').length;
    const ds = await fsdd(1, [0, 1, 2, 3]);
    await collect(
      { features: FSDD_FEATURES, batchSize: 2, training: false, crop: { frames: 8 }, workers: 0 },
      ds,
    );
    const before = threads();
    const loader = await createLoader(ds, {
      features: FSDD_FEATURES,
      cacheDir: CACHE,
      batchSize: 1,
      training: true,
      crop: { frames: 8 },
      workers: 2,
      prefetch: 3,
    });
    assert.equal(loader.workers, 2);
    assert.equal(loader.liveWorkers, 2);
    assert.ok(threads() >= before + 2, `${threads()} threads with 2 workers, ${before} before`);
    for await (const _ of loader.epoch(0)) break;
    await loader.close();
    assert.equal(loader.liveWorkers, 0);
    assert.ok(threads() <= before, `${threads()} threads after close(), ${before} before`);
    await assert.rejects(async () => {
      for await (const _ of loader.epoch(1)) break;
    }, /after close/);
  });

  it("fat2019-8th's per-item transforms run per row, its mixers per batch; waveform items refuse spectrogram ones", async () => {
    const names = (spec: unknown): string[] => {
      const s = spec as { name: string; transforms?: unknown[] } | null;
      if (!s) return [];
      return s.name === 'Compose' ? s.transforms!.flatMap(names) : [s.name];
    };
    const r = await resolveAugment(
      { batch: FAT8, spectrogram: { name: 'SpecTimeMask' }, waveform: [{ name: 'Gain' }] },
      false,
    );
    assert.deepEqual(names(r.spectrogram), ['SpecTimeMask', 'RandomZoomCrop', 'Lighting']);
    assert.deepEqual(names(r.batch), ['Mixup', 'SpecMix']);
    assert.deepEqual(names(r.waveform), ['Gain']);
    // A shuffled Compose keeps its order random, so nothing can be moved out of it.
    const shuffled = await resolveAugment(
      { batch: { name: 'Compose', shuffle: true, transforms: [{ name: 'Lighting' }, { name: 'Mixup' }] } },
      false,
    );
    assert.deepEqual(names(shuffled.spectrogram), []);
    assert.deepEqual(names(shuffled.batch), ['Lighting', 'Mixup']);
    await assert.rejects(
      resolveAugment({ batch: FAT8 }, true),
      /holds spectrogram transforms, but the items are waveforms/,
    );
    assert.deepEqual(names((await resolveAugment({ batch: { name: 'Mixup' } }, true)).batch), ['Mixup']);
  });

  it('bad options are errors that name the option', async () => {
    const ds = await fsdd(1, [0]);
    const base = {
      features: FSDD_FEATURES,
      cacheDir: CACHE,
      batchSize: 2,
      training: true,
      workers: 0,
    } as const;
    await assert.rejects(
      createLoader(ds, { ...base, batchSize: 0 }),
      /batchSize must be an integer ≥ 1, got 0/,
    );
    await assert.rejects(createLoader(ds, { ...base, crop: { frames: -1 } }), /crop\.frames/);
    await assert.rejects(
      createLoader(ds, { ...base, crop: { frames: 8, evalHop: 9 } }),
      /crop\.evalHop \(9\)/,
    );
    await assert.rejects(createLoader(ds, { ...base, sampler: 'often' as 'shuffle' }), /sampler must be/);
    await assert.rejects(createLoader(ds, { ...base, workers: -1 }), /workers must be/);
    await assert.rejects(
      createLoader(ds, { ...base, augment: { waveform: { name: 'SpecTimeMask' } } }),
      /augment\.waveform: SpecTimeMask is a spectrogram augmentation/,
    );
    await assert.rejects(
      createLoader(ds, { ...base, augment: { batch: { name: 'Gainn' } } }),
      /augment\.batch: .*unknown augmentation "Gainn"/,
    );
    await assert.rejects(createLoader({ ...ds, items: [] }, base), /no items/);
  });
});
