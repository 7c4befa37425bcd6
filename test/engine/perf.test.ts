// Speed controls: the allocator keeps freed memory (no page faults on reuse), OpenMP waits passively,
// channels-last layouts, and bfloat16 autocast.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import * as F from '../../src/engine/functional.js';
import * as E from '../../src/engine/index.js';

E.setNumThreads(1);

// Allocates and frees a 64 MiB tensor `n` times (each filled, so its pages are touched) and prints the
// minor page faults of the last n-1 rounds: glibc's defaults unmap each one on free and fault it in again.
const FAULTS_SCRIPT = `
import * as E from './src/engine/index.js';
E.setNumThreads(1);
const round = () => { const t = E.full([16 * 1024 * 1024], 1); t.dispose(); };
round();
const f0 = process.resourceUsage().minorPageFault;
for (let i = 0; i < 5; i++) round();
const faults = (process.resourceUsage().minorPageFault - f0) / 5;
console.log(JSON.stringify({ faults, malloc: E.buildInfo().malloc, cache: E.cpuCacheStats() }));
`;

function faultsPerRound(env: Record<string, string>): {
  faults: number;
  malloc: string;
  cache: E.CpuCacheStats;
} {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', FAULTS_SCRIPT],
    {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    },
  );
  return JSON.parse(out.trim().split('\n').pop()!);
}

test('freed tensor memory is reused without page faults; AUDIOTAG_MALLOC=default restores glibc', () => {
  const kept = faultsPerRound({});
  const plain = faultsPerRound({ AUDIOTAG_MALLOC: 'default' });
  assert.equal(kept.malloc, 'caching+glibc-tuned');
  assert.equal(plain.malloc, 'glibc-default');
  assert.equal(plain.cache.installed, false);
  // the same block served all 5 rounds, and stays cached (mapped once) after the last dispose
  assert.ok(kept.cache.hits >= 5, JSON.stringify(kept.cache));
  assert.ok(kept.cache.cachedBytes >= 64 * 1024 * 1024, JSON.stringify(kept.cache));
  // 64 MiB = 16384 pages of 4 KiB: the control faults them (nearly) all in every round.
  assert.ok(plain.faults > 8000, `control run: ${plain.faults} faults per round`);
  assert.ok(kept.faults < 200, `${kept.faults} faults per round with the engine's settings`);
});

test("the user's MALLOC_* settings win over the engine's glibc tuning; the cache is bounded", () => {
  const r = faultsPerRound({ MALLOC_TRIM_THRESHOLD_: '131072', AUDIOTAG_CPU_CACHE_MB: '32' });
  assert.equal(r.malloc, 'caching+glibc-environment');
  // a 64 MiB block does not fit a 32 MiB cache: it is unmapped on free, so every round faults again
  assert.equal(r.cache.limitBytes, 32 * 1024 * 1024);
  assert.equal(r.cache.cachedBytes, 0);
  assert.ok(r.faults > 8000, `${r.faults} faults per round`);
});

test('the cache evicts the least recently freed blocks past its limit, and empties on demand', () => {
  E.tidy(() => {
    E.emptyCpuCache();
    E.setCpuCacheLimit(10);
    const sizes = [1, 2, 3, 4].map((mib) => E.zeros([mib * 262144]));
    E.dispose(sizes); // 1+2+3+4 MiB (+ rounding) freed into a 10 MiB cache: the oldest goes
    const s = E.cpuCacheStats();
    assert.ok(s.cachedBytes <= 10 * 1048576 && s.cachedBytes >= 9 * 1048576, JSON.stringify(s));
    assert.ok(s.evictions >= 1);
    const again = E.zeros([4 * 262144]); // served from the cache
    assert.equal(E.cpuCacheStats().hits, s.hits + 1);
    again.dispose();
    E.emptyCpuCache();
    assert.equal(E.cpuCacheStats().cachedBytes, 0);
    E.setCpuCacheLimit(4096);
    assert.throws(() => E.setCpuCacheLimit(-1), /setCpuCacheLimit: expected a non-negative number/);
  });
});

test('OpenMP waits passively unless the user chose a policy', () => {
  assert.equal(process.env.OMP_WAIT_POLICY ?? 'passive', 'passive');
  const s = 'import("./src/engine/index.js").then(() => console.log(process.env.OMP_WAIT_POLICY))';
  const run = (env: Record<string, string | undefined>) =>
    execFileSync(process.execPath, ['--import', 'tsx', '-e', s], {
      env: { ...process.env, OMP_WAIT_POLICY: undefined, ...env } as NodeJS.ProcessEnv,
      encoding: 'utf8',
    }).trim();
  assert.equal(run({}), 'passive');
  assert.equal(run({ OMP_WAIT_POLICY: 'active' }), 'active');
  assert.equal(run({ AUDIOTAG_OMP_WAIT: 'default' }), 'undefined');
});

test('channels-last keeps shape and values, and convolutions keep the layout', () => {
  E.tidy(() => {
    E.manualSeed(1);
    const x = E.randn([2, 3, 5, 7]);
    const cl = x.contiguous('channels-last');
    assert.deepEqual(cl.shape, [2, 3, 5, 7]);
    assert.equal(cl.isContiguous(), false);
    assert.equal(cl.isContiguous('channels-last'), true);
    assert.deepEqual(cl.toArray(), x.toArray());
    const w = E.randn([4, 3, 3, 3]);
    const a = F.conv2d(x, w, null, { padding: 1 });
    const b = F.conv2d(cl, w, null, { padding: 1 });
    assert.equal(b.isContiguous('channels-last'), true);
    assert.ok(a.sub(b).abs().max().item() < 1e-5);
    assert.throws(() => x.contiguous('nhwc' as E.MemoryFormat), /contiguous: unknown memory format "nhwc"/);
  });
});

test('autocast runs convolutions in bfloat16 and restores the previous state, also on a throw', () => {
  E.tidy(() => {
    E.manualSeed(2);
    const x = E.randn([2, 3, 8, 8]);
    const w = E.randn([4, 3, 3, 3]);
    const ref = F.conv2d(x, w);
    const y = E.autocast({}, () => {
      assert.equal(E.isAutocastEnabled(), true);
      // nested regions restore the outer one
      E.autocast({ enabled: true }, () => {});
      assert.equal(E.isAutocastEnabled(), true);
      return F.conv2d(x, w);
    });
    assert.equal(y.dtype, 'bfloat16');
    assert.equal(E.isAutocastEnabled(), false);
    // bfloat16 keeps 8 bits of mantissa: relative error ~1e-2, not 1e-6
    const rel = y.to('float32').sub(ref).abs().max().item() / ref.abs().max().item();
    assert.ok(rel < 0.03 && rel > 0, `relative error ${rel}`);
    assert.equal(E.autocast({ enabled: false }, () => F.conv2d(x, w)).dtype, 'float32');
    assert.throws(() =>
      E.autocast({}, () => {
        throw new Error('boom');
      }),
    );
    assert.equal(E.isAutocastEnabled(), false);
    assert.throws(
      () => E.autocast({ dtype: 'float64' as E.AutocastDType }, () => 0),
      /autocast: dtype must be/,
    );
  });
});

test('mallocStats reports the heap, and mallocTrim gives free memory back', () => {
  const s = E.mallocStats();
  assert.ok(s.heapBytes > 0 && s.inUseBytes > 0, JSON.stringify(s));
  assert.equal(typeof E.mallocTrim(), 'boolean');
});

test('setMemoryFormat_ re-lays out 4-D parameters in place; convolutions then run channels-last', () => {
  E.tidy(() => {
    E.manualSeed(3);
    const w = E.randn([4, 2, 3, 3]);
    w.requiresGrad = true;
    const b = E.zeros([4]);
    b.requiresGrad = true;
    const before = w.toArray();
    assert.equal(E.setMemoryFormat_([w, b], 'channels-last'), 1);
    assert.equal(w.isContiguous('channels-last'), true);
    assert.equal(w.requiresGrad && w.isLeaf, true);
    assert.deepEqual(w.toArray(), before);
    const x = E.randn([2, 2, 6, 6]); // a row-major input: the weight's layout decides
    const y = F.conv2d(x, w, b, { padding: 1 });
    assert.equal(y.isContiguous('channels-last'), true);
    y.sum().backward();
    assert.deepEqual(w.grad?.shape, [4, 2, 3, 3]);
    assert.equal(E.setMemoryFormat_([w], 'contiguous'), 1);
    assert.equal(w.isContiguous(), true);
    assert.throws(
      () => E.setMemoryFormat_([w], 'nchw' as E.MemoryFormat),
      /setMemoryFormat_: unknown memory format/,
    );
  });
});
