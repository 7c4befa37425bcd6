import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { createSchedule } from '../../src/train/schedules.js';

// Made by scripts/fixtures/schedules_ref.py with torch 1.13's lr_scheduler.
const ref = JSON.parse(
  readFileSync(new URL('../fixtures/train/schedules_ref.json', import.meta.url), 'utf8'),
) as Record<'one_cycle_cos' | 'one_cycle_linear' | 'plateau_metrics' | 'plateau_max', number[]>;

const close = (a: number[], b: number[], tol = 1e-9) => {
  assert.equal(a.length, b.length);
  a.forEach((v, i) => {
    assert.ok(Math.abs(v - b[i]!) <= tol * Math.max(1, Math.abs(b[i]!)), `step ${i}: ${v} vs ${b[i]}`);
  });
};
const run = (s: { lrAt(step: number): number }, n: number) => Array.from({ length: n }, (_, i) => s.lrAt(i));

describe('learning-rate schedules', () => {
  test('one-cycle equals torch.optim.lr_scheduler.OneCycleLR (torch 1.13)', () => {
    // OneCycleLR(SGD(lr=0.1), max_lr=0.1, total_steps=20, pct_start=0.3), lr read before each step.
    close(
      run(
        createSchedule({ name: 'one-cycle', pctStart: 0.3 }, { baseLr: 0.1, stepsPerEpoch: 4, epochs: 5 }),
        20,
      ),
      ref.one_cycle_cos,
      1e-12,
    );
    // pct_start=0.25, anneal_strategy='linear', div_factor=10, final_div_factor=100.
    const lin = createSchedule(
      { name: 'one-cycle', pctStart: 0.25, anneal: 'linear', divFactor: 10, finalDivFactor: 100 },
      { baseLr: 0.1, stepsPerEpoch: 10, epochs: 2 },
    );
    close(run(lin, 20), ref.one_cycle_linear, 1e-12);
    // Past the end it stays at the final rate instead of wrapping.
    assert.ok(Math.abs(lin.lrAt(25) - 0.0001) < 1e-12);
  });

  test('reduce-on-plateau equals torch ReduceLROnPlateau (mode max, factor 0.5, patience 2, cooldown 1)', () => {
    const s = createSchedule(
      { name: 'plateau', factor: 0.5, patience: 2, cooldown: 1 },
      { baseLr: 1, stepsPerEpoch: 3, epochs: 13, mode: 'max' },
    );
    const lrs = ref.plateau_metrics.map((m) => {
      s.endEpoch(m);
      return s.lrAt(0);
    });
    assert.deepEqual(lrs, ref.plateau_max);
    // Its state survives a save/load (resume).
    const copy = createSchedule(
      { name: 'plateau', factor: 0.5, patience: 2, cooldown: 1 },
      { baseLr: 1, stepsPerEpoch: 3, epochs: 13 },
    );
    copy.loadState(JSON.parse(JSON.stringify(s.state())));
    s.endEpoch(0.3);
    copy.endEpoch(0.3);
    assert.equal(copy.lrAt(0), s.lrAt(0));
    assert.deepEqual(copy.state(), s.state());
  });

  test('warm-up then cosine / linear decay', () => {
    const ctx = { baseLr: 1, stepsPerEpoch: 10, epochs: 3 };
    const cos = createSchedule({ name: 'cosine', warmupSteps: 4, minLr: 0.1 }, ctx);
    // Warm-up counts the step being taken: 1/4, 2/4, 3/4, 4/4 of the base rate.
    close(run(cos, 4), [0.25, 0.5, 0.75, 1]);
    // Then a half cosine from 1 (step 4) to minLr (the last step, 29).
    assert.equal(cos.lrAt(4), 1);
    assert.ok(Math.abs(cos.lrAt(29) - 0.1) < 1e-12);
    const mid = 4 + (29 - 4) / 2;
    assert.ok(Math.abs((cos.lrAt(Math.floor(mid)) + cos.lrAt(Math.ceil(mid))) / 2 - 0.55) < 0.01);
    const lin = createSchedule({ name: 'linear', warmupEpochs: 1 }, ctx);
    close(run(lin, 10), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    // Linear from 1 at step 10 to 0 at step 29: equal decrements.
    close([lin.lrAt(10), lin.lrAt(19), lin.lrAt(29)], [1, 1 - 9 / 19, 0]);
    const cst = createSchedule({ name: 'constant', warmupEpochs: 0.5 }, ctx);
    close(run(cst, 7), [0.2, 0.4, 0.6, 0.8, 1, 1, 1]);
    assert.equal(createSchedule({ name: 'constant' }, ctx).lrAt(0), 1);
  });

  test('bad schedule configs are rejected', () => {
    const ctx = { baseLr: 1, stepsPerEpoch: 10, epochs: 3 };
    assert.throws(
      () => createSchedule({ name: 'one-cycle', pctStart: 1.5 } as never, ctx),
      /pctStart|too big|1/,
    );
    assert.throws(() => createSchedule({ name: 'exponential' } as never, ctx), /discriminator|name/i);
  });
});
