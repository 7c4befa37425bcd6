// The loader's pure parts: seeds, samplers, evaluation windows and the crop copy.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { mixSeed } from '../../src/core/random.js';
import {
  batchCount,
  evalRows,
  evalStart,
  makeSampler,
  type SamplingInput,
  windowStarts,
} from '../../src/data/loader-plan.js';
import { cropInto } from '../../src/data/worker-core.js';

function input(labels: number[][], weights?: number[]): SamplingInput {
  const n = labels.length;
  return {
    usable: Int32Array.from({ length: n }, (_, i) => i),
    labels,
    weights: Float64Array.from(weights ?? labels.map(() => 1)),
    ids: labels.map((_, i) => `item${i}`),
  };
}

describe('mixSeed', () => {
  it('is a function of its parts, and neighbouring parts give different seeds', () => {
    assert.equal(mixSeed(1, 2, 3), mixSeed(1, 2, 3));
    const seen = new Set<number>();
    for (let e = 0; e < 50; e++) for (let s = 0; s < 200; s++) seen.add(mixSeed(7, e, 2, s));
    assert.equal(seen.size, 50 * 200, 'collisions among 10,000 neighbouring (epoch, slot) seeds');
    assert.notEqual(mixSeed(0, 1), mixSeed(1, 0));
    assert.notEqual(mixSeed(2 ** 40), mixSeed(0), 'high bits must count');
  });
});

describe('samplers', () => {
  it('shuffle: a permutation of the usable items, different per epoch, same for the same epoch', () => {
    const s = makeSampler('shuffle', input(Array.from({ length: 50 }, (_, i) => [i % 3])));
    const a = s.draw(1, 0);
    assert.deepEqual(
      [...a].sort((x, y) => x - y),
      Array.from({ length: 50 }, (_, i) => i),
    );
    assert.deepEqual(s.draw(1, 0), a);
    assert.notDeepEqual(s.draw(1, 1), a);
    assert.notDeepEqual(s.draw(2, 0), a);
  });

  it('balanced: every class about equally often, however skewed the data', () => {
    // 90 items of class 0, 9 of class 1, 1 of class 2.
    const labels = [...Array(90).fill([0]), ...Array(9).fill([1]), [2]] as number[][];
    const s = makeSampler('balanced', input(labels));
    const counts = [0, 0, 0];
    let draws = 0;
    for (let e = 0; e < 60; e++)
      for (const i of s.draw(3, e)) {
        counts[labels[i]![0]!]!++;
        draws++;
      }
    assert.equal(draws, 6000);
    for (const c of counts) assert.ok(Math.abs(c / draws - 1 / 3) < 0.03, `class shares ${counts}`);
  });

  it('balanced: unlabelled items are never drawn; none labelled is an error', () => {
    const s = makeSampler('balanced', input([[0], [], [1], []]));
    for (const i of s.draw(0, 0)) assert.ok(i === 0 || i === 2);
    assert.throws(() => makeSampler('balanced', input([[], []])), /needs labelled items/);
  });

  it('weighted: frequencies follow the weights, weight 0 never drawn, bad weights rejected', () => {
    const s = makeSampler('weighted', input([[0], [0], [0], [0]], [1, 3, 0, 4]));
    const counts = [0, 0, 0, 0];
    for (let e = 0; e < 2000; e++) for (const i of s.draw(5, e)) counts[i]!++;
    assert.equal(counts[2], 0);
    const total = 8000;
    [1 / 8, 3 / 8, 0, 4 / 8].forEach((p, i) => {
      assert.ok(Math.abs(counts[i]! / total - p) < 0.02, `shares ${counts}`);
    });
    assert.throws(() => makeSampler('weighted', input([[0], [0]], [1, Number.NaN])), /item1 has weight NaN/);
    assert.throws(() => makeSampler('weighted', input([[0]], [0])), /positive total/);
  });

  it('an unknown sampler is an error naming it', () => {
    assert.throws(() => makeSampler('random' as 'shuffle', input([[0]])), /sampler must be .* got "random"/);
  });
});

describe('evaluation crops', () => {
  it('windows cover every frame, start at 0, end flush with the clip, step by hop', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 80 }),
        (len, frames, hop) => {
          const starts = windowStarts(len, frames, hop);
          const covered = new Uint8Array(len);
          for (const s of starts) for (let t = s; t < Math.min(len, s + frames); t++) covered[t] = 1;
          assert.ok(covered.every((v) => v === 1));
          assert.equal(starts[0], 0);
          if (len > frames) {
            assert.equal(starts.at(-1), len - frames);
            for (let i = 1; i < starts.length - 1; i++)
              assert.equal(starts[i]! - starts[i - 1]!, Math.min(hop, frames));
            assert.ok(new Set(starts).size === starts.length, 'duplicate windows');
          } else assert.deepEqual(starts, [0]);
        },
      ),
      { numRuns: 300, seed: 1 },
    );
  });

  it('center and start crops (negative start = padded in front, as cropOrPad centres)', () => {
    assert.equal(evalStart(100, 40, 'center'), 30);
    assert.equal(evalStart(101, 40, 'center'), 30);
    assert.equal(evalStart(10, 40, 'center'), -15);
    assert.equal(evalStart(11, 40, 'center'), -14);
    assert.equal(evalStart(100, 40, 'start'), 0);
    const rows = evalRows(Int32Array.from([0, 2]), (c) => [100, 0, 50][c]!, {
      frames: 40,
      evalMode: 'windows',
      evalHop: 20,
    });
    assert.deepEqual(rows, [
      { clip: 0, start: 0 },
      { clip: 0, start: 20 },
      { clip: 0, start: 40 },
      { clip: 0, start: 60 },
      { clip: 2, start: 0 },
      { clip: 2, start: 10 },
    ]);
  });

  it('batch counts with and without dropLast', () => {
    assert.equal(batchCount(10, 4, false), 3);
    assert.equal(batchCount(10, 4, true), 2);
    assert.equal(batchCount(8, 4, true), 2);
  });
});

describe('cropInto', () => {
  const x = { data: Float32Array.from([0, 1, 2, 3, 4, 10, 11, 12, 13, 14]), shape: [2, 5] };
  const crop = (start: number, frames: number, pad: 'wrap' | 'constant') => {
    const out = new Float32Array(2 * frames);
    cropInto(x, start, frames, pad, -9, out, 0);
    return [...out];
  };
  it('copies a window inside the clip', () => {
    assert.deepEqual(crop(1, 3, 'constant'), [1, 2, 3, 11, 12, 13]);
  });
  it('pads short clips: wrap repeats the clip around it, constant writes the value', () => {
    assert.deepEqual(crop(-2, 8, 'wrap'), [3, 4, 0, 1, 2, 3, 4, 0, 13, 14, 10, 11, 12, 13, 14, 10]);
    assert.deepEqual(crop(-2, 8, 'constant'), [-9, -9, 0, 1, 2, 3, 4, -9, -9, -9, 10, 11, 12, 13, 14, -9]);
    assert.deepEqual(crop(4, 3, 'constant'), [4, -9, -9, 14, -9, -9]);
    assert.deepEqual(crop(7, 2, 'wrap'), [2, 3, 12, 13]);
  });
});
