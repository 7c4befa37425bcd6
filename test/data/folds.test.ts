// Fold properties on random data (fast-check) and on the real ESC-10 and FSDD manifests.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type Dataset,
  type FoldPlan,
  foldSplits,
  groupKFold,
  iterativeStratification,
  kFold,
  labelIndexLists,
  makeFolds,
  predefinedFolds,
  readCsvManifest,
  readEsc50,
  stratifiedGroupKFold,
  stratifiedKFold,
} from '../../src/data/index.js';
import { ESC10, FSDD } from './helpers.js';

const RUNS = { numRuns: 150, seed: 42 };

/** Every item is in exactly one validation fold, and trains in all the others. */
function assertPartition(assignment: Int32Array, k: number): void {
  const plan: FoldPlan = { strategy: 'random', k, assignment, ids: Array.from({ length: k }, (_, i) => i) };
  const seen = new Int32Array(assignment.length);
  for (const s of foldSplits(plan)) {
    for (const i of s.val) seen[i]!++;
    assert.equal(s.train.length + s.val.length, assignment.length);
    const val = new Set(s.val);
    for (const i of s.train) assert.ok(!val.has(i), `item ${i} both trains and validates in fold ${s.fold}`);
  }
  assert.ok(
    seen.every((v) => v === 1),
    'an item is not in exactly one validation fold',
  );
}

/** Every class's count in every fold is within one clip of n_c / k. */
function assertStratified(classes: readonly number[], assignment: Int32Array, k: number): void {
  const counts = new Map<number, number[]>();
  classes.forEach((c, i) => {
    if (!counts.has(c)) counts.set(c, new Array(k).fill(0));
    counts.get(c)![assignment[i]!]!++;
  });
  for (const [c, perFold] of counts) {
    const ideal = perFold.reduce((a, b) => a + b, 0) / k;
    for (const v of perFold) assert.ok(Math.abs(v - ideal) < 1, `class ${c}: ${perFold} vs ideal ${ideal}`);
  }
}

function assertGroupsWhole(groups: readonly string[], assignment: Int32Array): void {
  const foldOf = new Map<string, number>();
  groups.forEach((g, i) => {
    const f = foldOf.get(g);
    if (f === undefined) foldOf.set(g, assignment[i]!);
    else assert.equal(assignment[i], f, `group ${g} is split across folds ${f} and ${assignment[i]}`);
  });
}

const singleLabel = fc
  .record({ k: fc.integer({ min: 2, max: 6 }), c: fc.integer({ min: 1, max: 8 }), seed: fc.nat() })
  .chain(({ k, c, seed }) =>
    fc.record({
      k: fc.constant(k),
      seed: fc.constant(seed),
      classes: fc.array(fc.integer({ min: 0, max: c - 1 }), { minLength: k, maxLength: 150 }),
    }),
  );

const grouped = fc
  .record({ k: fc.integer({ min: 2, max: 5 }), groups: fc.integer({ min: 5, max: 30 }), seed: fc.nat() })
  .chain(({ k, groups, seed }) =>
    fc.record({
      k: fc.constant(k),
      seed: fc.constant(seed),
      items: fc
        .array(fc.tuple(fc.integer({ min: 0, max: groups - 1 }), fc.integer({ min: 0, max: 4 })), {
          minLength: groups,
          maxLength: 150,
        })
        .filter((xs) => new Set(xs.map(([g]) => g)).size >= k),
    }),
  );

describe('folds: properties', () => {
  it('stratified k-fold: a partition, classes within one clip of ideal, fold sizes too', () => {
    fc.assert(
      fc.property(singleLabel, ({ k, seed, classes }) => {
        const a = stratifiedKFold(classes, k, seed);
        assertPartition(a, k);
        assertStratified(classes, a, k);
        assertStratified(new Array(classes.length).fill(0), a, k);
      }),
      RUNS,
    );
  });

  it('iterative stratification: a partition; on single-label data as balanced as stratified k-fold', () => {
    fc.assert(
      fc.property(singleLabel, ({ k, seed, classes }) => {
        const a = iterativeStratification(
          classes.map((c) => [c]),
          k,
          seed,
        );
        assertPartition(a, k);
        assertStratified(classes, a, k);
      }),
      RUNS,
    );
  });

  it('iterative stratification: a partition for multi-label items, unlabelled ones included', () => {
    const multi = fc.record({
      k: fc.integer({ min: 2, max: 5 }),
      seed: fc.nat(),
      labels: fc.array(fc.uniqueArray(fc.integer({ min: 0, max: 9 }), { maxLength: 4 }), {
        minLength: 5,
        maxLength: 120,
      }),
    });
    fc.assert(
      fc.property(multi, ({ k, seed, labels }) =>
        assertPartition(iterativeStratification(labels, k, seed), k),
      ),
      RUNS,
    );
  });

  it('group k-fold and stratified group k-fold never split a group', () => {
    fc.assert(
      fc.property(grouped, ({ k, seed, items }) => {
        const groups = items.map(([g]) => `g${g}`);
        const a = groupKFold(groups, k, seed);
        assertPartition(a, k);
        assertGroupsWhole(groups, a);
        const b = stratifiedGroupKFold(
          items.map(([, c]) => [c]),
          groups,
          k,
          seed,
        );
        assertPartition(b, k);
        assertGroupsWhole(groups, b);
      }),
      RUNS,
    );
  });

  it('the same seed gives the same folds, another seed others', () => {
    const classes = Array.from({ length: 200 }, (_, i) => i % 7);
    assert.deepEqual(stratifiedKFold(classes, 5, 3), stratifiedKFold(classes, 5, 3));
    assert.notDeepEqual(stratifiedKFold(classes, 5, 3), stratifiedKFold(classes, 5, 4));
    const lists = classes.map((c) => [c, (c * 3) % 7]);
    assert.deepEqual(iterativeStratification(lists, 5, 9), iterativeStratification(lists, 5, 9));
    assert.notDeepEqual(iterativeStratification(lists, 5, 9), iterativeStratification(lists, 5, 10));
    assert.notDeepEqual(kFold(200, 5, 1), kFold(200, 5, 2));
  });

  it('iterative stratification balances multi-label data better than a random split', () => {
    // Label deviation from the ideal per-fold count, summed; iterative should roughly halve it or better.
    const deviation = (labels: number[][], a: Int32Array, k: number) => {
      const counts = Array.from({ length: 12 }, () => new Array(k).fill(0));
      labels.forEach((ls, i) => {
        for (const l of ls) counts[l]![a[i]!]++;
      });
      return counts.reduce((s, perFold) => {
        const ideal = perFold.reduce((x, y) => x + y, 0) / k;
        return s + perFold.reduce((x, v) => x + Math.abs(v - ideal), 0);
      }, 0);
    };
    let iterative = 0;
    let random = 0;
    for (let seed = 0; seed < 10; seed++) {
      const rng = fc.sample(
        fc.array(fc.uniqueArray(fc.integer({ min: 0, max: 11 }), { minLength: 1, maxLength: 4 }), {
          minLength: 300,
          maxLength: 300,
        }),
        { seed, numRuns: 1 },
      )[0]!;
      iterative += deviation(rng, iterativeStratification(rng, 5, seed), 5);
      random += deviation(rng, kFold(rng.length, 5, seed), 5);
    }
    assert.ok(iterative < random / 2, `iterative ${iterative} vs random ${random}`);
  });

  it('refuses more folds than items or groups', () => {
    assert.throws(() => stratifiedKFold([0, 1], 3), /k = 3 folds but only 2 items/);
    assert.throws(() => groupKFold(['a', 'a', 'b'], 3), /only 2 groups/);
    assert.throws(() => stratifiedKFold([0, 1, 2], 1), /k must be an integer >= 2/);
    assert.throws(() => predefinedFolds([1, undefined, 2]), /1 item\(s\) have no fold/);
  });
});

describe('folds: real manifests', () => {
  it("ESC-10: the official folds by default; generated folds keep each src_file's clips together", async () => {
    const ds = (await readEsc50(join(ESC10, 'meta.csv'), { checkFiles: false })).dataset;
    const official = makeFolds(ds);
    assert.equal(official.strategy, 'predefined');
    assert.deepEqual(official.ids, [1, 2, 3, 4, 5]);
    assert.deepEqual(
      foldSplits(official).map((s) => s.val.length),
      [80, 80, 80, 80, 80],
    );
    assert.equal(ds.items[official.assignment[0]!]!.fold, 1);
    const groups = ds.items.map((it) => it.group!);
    // The official folds themselves never split a source recording.
    assertGroupsWhole(groups, official.assignment);
    const sg = makeFolds(ds, { strategy: 'stratified-group', seed: 1 });
    assertGroupsWhole(groups, sg.assignment);
    assertPartition(sg.assignment, 5);
    // Every class shows up in every fold, and folds stay within 10 % of the ideal size.
    const lists = labelIndexLists(ds);
    for (const s of foldSplits(sg)) {
      assert.equal(new Set([...s.val].map((i) => lists[i]![0])).size, 10);
      assert.ok(Math.abs(s.val.length - 80) <= 8, `fold ${s.fold} has ${s.val.length} clips`);
    }
  });

  it('FSDD: leave-speakers-out folds from a meta column', async () => {
    const ds: Dataset = (
      await readCsvManifest(join(FSDD, 'meta.csv'), {
        pathCol: 'fname',
        labelCol: 'label',
        checkFiles: false,
      })
    ).dataset;
    const plan = makeFolds(ds, { strategy: 'group', groupBy: 'speaker', k: 3, seed: 5 });
    assertGroupsWhole(
      ds.items.map((it) => it.meta.speaker!),
      plan.assignment,
    );
    assert.deepEqual(
      foldSplits(plan).map((s) => s.val.length),
      [1000, 1000, 1000],
    );
    assert.throws(() => makeFolds(ds, { strategy: 'group' }), /3000 item\(s\) have no group/);
    assert.equal(makeFolds(ds).strategy, 'stratified');
  });
});
