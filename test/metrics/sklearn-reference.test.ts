// Every metric against scikit-learn 1.2 on the random cases of scripts/fixtures/metrics_ref.py
// (regenerate: /usr/bin/python3 scripts/fixtures/metrics_ref.py > test/fixtures/metrics/metrics_ref.json).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  accuracy,
  averagePrecision,
  averagePrecisionPerClass,
  confusionMatrix,
  labelRankingAveragePrecision,
  lwlrap,
  lwlrapPerClass,
  mapAtK,
  paddedCmap,
  precisionRecallF1,
  precisionRecallF1PerClass,
  rocAuc,
  rocAucPerClass,
  topKAccuracy,
} from '../../src/metrics/index.js';

interface PrfBlock {
  per_class: { precision: number[]; recall: number[]; f1: number[]; support: number[] };
  macro: { precision: number; recall: number; f1: number };
  micro: { precision: number; recall: number; f1: number };
}
interface MultiCase {
  name: string;
  scores: number[][];
  truth: number[][];
  lwlrap: number;
  lrap: number;
  lwlrap_per_class: (number | null)[];
  lwlrap_weights: number[];
  ap_per_class: number[];
  ap_macro: number;
  ap_micro: number;
  auc_per_class: (number | null)[];
  auc_macro: number | null;
  auc_macro_skip: number | null;
  auc_micro: number | null;
  cmap_5: number;
  cmap_1: number;
  prf: Record<string, PrfBlock>;
}
interface SingleCase {
  name: string;
  scores: number[][];
  truth: number[];
  accuracy: number;
  top_k: Record<string, number>;
  map3: number;
  prf_argmax: PrfBlock;
  confusion: number[][];
  ap_macro: number;
  lwlrap: number;
  auc_macro?: number;
}

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/metrics/metrics_ref.json', import.meta.url), 'utf8'),
) as { cases: (MultiCase | SingleCase)[] };
const multi = fixture.cases.filter((c): c is MultiCase => c.name.startsWith('multilabel'));
const single = fixture.cases.filter((c): c is SingleCase => c.name.startsWith('single'));

const TOL = 1e-12;
function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= TOL, `${what}: got ${actual}, sklearn ${expected}`);
}
function closeAll(actual: ArrayLike<number>, expected: readonly (number | null)[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  expected.forEach((e, j) => {
    if (e === null) assert.ok(Number.isNaN(actual[j]), `${what}[${j}]: expected NaN, got ${actual[j]}`);
    else close(actual[j]!, e, `${what}[${j}]`);
  });
}
function hasTies(scores: number[][]): boolean {
  return scores.some((r) => new Set(r).size < r.length);
}

describe('metrics vs scikit-learn (fixture)', () => {
  it('the fixture exercises ties, empty classes and empty rows', () => {
    assert.ok(multi.length >= 30 && single.length >= 20);
    assert.ok(multi.filter((c) => hasTies(c.scores)).length >= 20);
    assert.ok(single.filter((c) => hasTies(c.scores)).length >= 12);
    assert.ok(
      multi.some((c) => c.auc_per_class.includes(null)),
      'a class without positives',
    );
    assert.ok(
      multi.some((c) => c.truth.some((r) => r.every((v) => v === 0))),
      'a row without labels',
    );
    assert.ok(
      multi.some((c) => c.truth.some((r) => r.every((v) => v === 1))),
      'a row with every label',
    );
  });

  it('lwlrap = LRAP weighted by labels per row, with per-class values and weights', () => {
    for (const c of multi) {
      close(lwlrap(c.scores, c.truth), c.lwlrap, `${c.name} lwlrap`);
      const r = lwlrapPerClass(c.scores, c.truth);
      closeAll(r.perClass, c.lwlrap_per_class, `${c.name} per-class`);
      closeAll(r.weights, c.lwlrap_weights, `${c.name} weights`);
      close(labelRankingAveragePrecision(c.scores, c.truth), c.lrap, `${c.name} lrap`);
    }
    for (const c of single) close(lwlrap(c.scores, c.truth), c.lwlrap, `${c.name} lwlrap`);
  });

  it('average precision per class, macro and micro', () => {
    for (const c of multi) {
      closeAll(averagePrecisionPerClass(c.scores, c.truth), c.ap_per_class, `${c.name} AP`);
      close(averagePrecision(c.scores, c.truth, 'macro'), c.ap_macro, `${c.name} mAP macro`);
      close(averagePrecision(c.scores, c.truth, 'micro'), c.ap_micro, `${c.name} mAP micro`);
    }
    for (const c of single) close(averagePrecision(c.scores, c.truth), c.ap_macro, `${c.name} mAP`);
  });

  it('ROC-AUC per class, macro (throws like sklearn when undefined) and micro', () => {
    let threw = 0;
    for (const c of multi) {
      closeAll(rocAucPerClass(c.scores, c.truth), c.auc_per_class, `${c.name} AUC`);
      if (c.auc_macro === null) {
        assert.throws(() => rocAuc(c.scores, c.truth), /undefined for class/);
        threw++;
      } else close(rocAuc(c.scores, c.truth), c.auc_macro, `${c.name} AUC macro`);
      if (c.auc_macro_skip !== null)
        close(rocAuc(c.scores, c.truth, { skipUndefined: true }), c.auc_macro_skip, `${c.name} AUC skip`);
      if (c.auc_micro !== null)
        close(rocAuc(c.scores, c.truth, { average: 'micro' }), c.auc_micro, `${c.name} micro`);
    }
    assert.ok(threw > 0);
    for (const c of single)
      if (c.auc_macro !== undefined) close(rocAuc(c.scores, c.truth), c.auc_macro, `${c.name} AUC macro`);
  });

  it("padded cmAP equals BirdCLEF's formula", () => {
    for (const c of multi) {
      close(paddedCmap(c.scores, c.truth), c.cmap_5, `${c.name} cmAP 5`);
      close(paddedCmap(c.scores, c.truth, 1), c.cmap_1, `${c.name} cmAP 1`);
    }
  });

  it('precision / recall / F1 at a threshold (multi-label) and with argmax (single-label)', () => {
    for (const c of multi) {
      for (const [t, block] of Object.entries(c.prf)) {
        const threshold = Number(t);
        const per = precisionRecallF1PerClass(c.scores, c.truth, { threshold });
        for (const k of ['precision', 'recall', 'f1'] as const) {
          closeAll(per[k], block.per_class[k], `${c.name}@${t} ${k}`);
          for (const avg of ['macro', 'micro'] as const)
            close(
              precisionRecallF1(c.scores, c.truth, { threshold, average: avg })[k],
              block[avg][k],
              `${c.name} ${avg} ${k}`,
            );
        }
        assert.deepEqual([...per.support], block.per_class.support);
      }
    }
    for (const c of single) {
      const per = precisionRecallF1PerClass(c.scores, c.truth);
      for (const k of ['precision', 'recall', 'f1'] as const) {
        closeAll(per[k], c.prf_argmax.per_class[k], `${c.name} ${k}`);
        for (const avg of ['macro', 'micro'] as const)
          close(
            precisionRecallF1(c.scores, c.truth, { average: avg })[k],
            c.prf_argmax[avg][k],
            `${c.name} ${avg} ${k}`,
          );
      }
    }
  });

  it('accuracy, top-k (sklearn tie order), MAP@3 and the confusion matrix', () => {
    for (const c of single) {
      close(accuracy(c.scores, c.truth), c.accuracy, `${c.name} accuracy`);
      for (const [k, v] of Object.entries(c.top_k))
        close(topKAccuracy(c.scores, c.truth, Number(k)), v, `${c.name} top${k}`);
      close(mapAtK(c.scores, c.truth, 3), c.map3, `${c.name} map3`);
      assert.deepEqual(confusionMatrix(c.scores, c.truth), c.confusion, `${c.name} confusion`);
    }
  });
});
