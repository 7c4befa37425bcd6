// Shared by the registry-model tests (test/models/<model>.test.ts): the PyTorch reference (fixtures from
// scripts/fixtures/models_ref.py) and the checks every architecture must pass.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { type AudioModel, createModel, resolveModelConfig } from '../../src/models/index.js';
import { BatchNorm1d, BatchNorm2d } from '../../src/nn/norm.js';
import { Dropout } from '../../src/nn/pooling.js';
import { loadSafetensors } from '../../src/nn/safetensors.js';

export interface RefCase {
  name: string;
  config: Record<string, unknown>;
  num_parameters: number;
  state_dict: [string, number[]][];
}

export interface Ref {
  published: Record<string, number>;
  vgg16_bn_features: number;
  cases: RefCase[];
  resnet18_small_config: Record<string, unknown>;
  spec_transformer_small_config: Record<string, unknown>;
  sed_small_config: Record<string, unknown>;
}

export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../fixtures/models/${name}`, import.meta.url));
}

export const ref = JSON.parse(readFileSync(fixturePath('models_ref.json'), 'utf8')) as Ref;

/** A fixture's tensors (caller disposes) and the `model.`-prefixed ones as a state dict. */
export function loadModelFixture(name: string): { t: Record<string, E.Tensor>; sd: Record<string, E.Tensor> } {
  const t = loadSafetensors(fixturePath(name)).tensors;
  const sd = Object.fromEntries(
    Object.entries(t)
      .filter(([k]) => k.startsWith('model.'))
      .map(([k, v]) => [k.slice(6), v]),
  );
  return { t, sd };
}

export function maxAbsDiff(a: E.Tensor, b: E.Tensor): number {
  return E.tidy(() => a.sub(b).abs().max().item());
}

function firstBatchNorm(m: AudioModel): BatchNorm1d | BatchNorm2d | undefined {
  return m.modules().find((x) => x instanceof BatchNorm2d || x instanceof BatchNorm1d) as
    | BatchNorm1d
    | BatchNorm2d
    | undefined;
}

function hasDropout(m: AudioModel): boolean {
  // Dropout modules, or a dropout rate in the config for models that call F.dropout directly (sed).
  if (m.modules().some((x) => x instanceof Dropout && x.p > 0)) return true;
  const c = (m as unknown as { config?: Record<string, unknown> }).config ?? {};
  return ['dropout', 'blockDropout'].some((k) => {
    const v = c[k];
    return (typeof v === 'number' && v > 0) || (Array.isArray(v) && v.some((p) => p > 0));
  });
}

export interface ModelCheck {
  name: string;
  /** A small batch for the forward/backward checks: [B, C, ...]. */
  input: number[];
  /** Expected frame-wise shape for that input, or undefined for clip-only models. */
  framewise?: number[];
  /** A config value that must be rejected, and the key its error must name. */
  badValue: [Record<string, unknown>, string];
}

/**
 * The checks of issue 6 for one registry model at its defaults: PyTorch's parameter count, names and
 * shapes (for every fixture case of that name), output shapes, a backward pass reaching the first layer,
 * train/eval behaviour of BatchNorm and dropout, and config errors that name the key.
 */
export function standardModelTests(check: ModelCheck): void {
  const { name } = check;
  const cases = ref.cases.filter((c) => c.name === name);

  describe(`${name}: PyTorch reference`, () => {
    test('the defaults are the ones the PyTorch reference was built with', () => {
      assert.ok(cases.length >= 1, `no fixture case for ${name}`);
      assert.deepEqual(resolveModelConfig(name, {}), cases[0]!.config);
    });
    for (const [i, c] of cases.entries()) {
      const label = i === 0 ? 'defaults' : JSON.stringify(c.config);
      test(`parameter count, state-dict names and shapes equal PyTorch's (${label})`, () => {
        const m = createModel(name, c.config);
        try {
          assert.equal(m.numParameters(), c.num_parameters);
          const tensors = new Map([...m.namedParameters(), ...m.namedBuffers()]);
          const mine = m.stateDictKeys().map((k) => [k, tensors.get(k)!.shape]);
          assert.deepEqual(mine, c.state_dict);
        } finally {
          m.dispose();
        }
      });
    }
  });

  describe(`${name}: behaviour at the defaults`, () => {
    test('forward on a small batch: shapes, finite values, no leaked tensors', () => {
      const m = createModel(name);
      try {
        m.eval();
        const classes = resolveModelConfig(name, {}) as { numClasses: number };
        const x = E.randn(check.input);
        const before = E.liveTensors();
        const out = E.noGrad(() => m.call(x));
        assert.deepEqual(out.clipwise.shape, [check.input[0], classes.numClasses]);
        if (check.framewise) assert.deepEqual(out.framewise?.shape, check.framewise);
        else assert.equal(out.framewise, undefined);
        for (const t of [out.clipwise, out.framewise].filter((t) => t !== undefined))
          assert.ok(E.tidy(() => t.isfinite().all().item()), 'finite outputs');
        E.dispose([out.clipwise, ...(out.framewise ? [out.framewise] : [])]);
        assert.equal(E.liveTensors(), before, 'only the outputs are created by a forward pass');
        x.dispose();
      } finally {
        m.dispose();
      }
    });

    test('backward: every parameter gets a gradient, the first layer a non-zero one', () => {
      E.manualSeed(11);
      const m = createModel(name);
      try {
        m.train();
        E.tidy(() => {
          const out = m.call(E.randn(check.input));
          let loss = out.clipwise.square().mean();
          if (out.framewise) loss = loss.add(out.framewise.square().mean());
          loss.backward();
          const params = m.namedParameters();
          for (const [k, p] of params) assert.ok(p.grad !== null, `${k} has a gradient`);
          const [firstName, first] = params[0]!;
          assert.ok(first.grad!.abs().sum().item() > 0, `${firstName}: non-zero gradient`);
        });
      } finally {
        m.dispose();
      }
    });

    test('train/eval: BatchNorm statistics and dropout act only in training', () => {
      E.manualSeed(12);
      const m = createModel(name);
      try {
        const x = E.tidy(() => E.randn(check.input).mul(2).add(0.5));
        const bn = firstBatchNorm(m);
        const stats = () => E.tidy(() => (bn ? bn.running_mean!.clone() : E.zeros([1])));
        E.tidy(() =>
          E.noGrad(() => {
            m.eval();
            const s0 = stats();
            const e1 = m.call(x).clipwise;
            const e2 = m.call(x).clipwise;
            assert.equal(maxAbsDiff(e1, e2), 0, 'eval mode is deterministic');
            assert.equal(maxAbsDiff(stats(), s0), 0, 'eval mode leaves the running statistics alone');
            m.train();
            const t1 = m.call(x).clipwise;
            if (bn) assert.ok(maxAbsDiff(stats(), s0) > 0, 'training updates the running statistics');
            assert.ok(maxAbsDiff(t1, e1) > 1e-6, 'training-mode output differs from eval');
            const t2 = m.call(x).clipwise;
            if (hasDropout(m)) assert.ok(maxAbsDiff(t1, t2) > 1e-6, 'dropout draws new masks each call');
            else assert.ok(maxAbsDiff(t1, t2) < 1e-5, 'without dropout, training mode is deterministic');
          }),
        );
        x.dispose();
      } finally {
        m.dispose();
      }
    });

    test('config errors name the key; bad input names the expected layout', () => {
      assert.throws(
        () => createModel(name, { nClasses: 10 }),
        (e: Error) => e.message.includes(`model "${name}": invalid config`) && e.message.includes('nClasses'),
      );
      assert.throws(() => createModel(name, { numClasses: 0 }), /numClasses: /);
      const [bad, key] = check.badValue;
      assert.throws(
        () => createModel(name, bad),
        (e: Error) => new RegExp(`\\n  ${key.replace('.', '\\.')}: `).test(e.message),
        `${JSON.stringify(bad)} is rejected naming ${key}`,
      );
      const m = createModel(name);
      try {
        const wrong = [...check.input];
        wrong[1] = wrong[1]! + 1; // one channel too many
        assert.throws(
          () => E.tidy(() => m.call(E.zeros(wrong))),
          (e: Error) => e.message.startsWith(`${name}: expected input [B, ${check.input[1]}`),
        );
      } finally {
        m.dispose();
      }
    });
  });
}
