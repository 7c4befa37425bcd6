// Shared by the registry-model tests (test/models/<model>.test.ts): the PyTorch reference (fixtures from
// scripts/fixtures/models_ref.py) and the checks every architecture must pass.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SchemaError } from '../../src/core/errors.js';
import * as E from '../../src/engine/index.js';
import { type AudioModel, createModel, resolveModelConfig } from '../../src/models/index.js';
import { Dropout } from '../../src/nn/dropout.js';
import { BatchNorm1d, BatchNorm2d } from '../../src/nn/norm.js';
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

// One intra-op thread: on a shared, oversubscribed machine libtorch's OpenMP threads spin against each
// other and small forwards get ~10× slower with two; one thread keeps these files within seconds.
E.setNumThreads(1);

export const ref = JSON.parse(readFileSync(fixturePath('models_ref.json'), 'utf8')) as Ref;

/** A fixture's tensors (caller disposes) and the `model.`-prefixed ones as a state dict. */
export function loadModelFixture(name: string): {
  t: Record<string, E.Tensor>;
  sd: Record<string, E.Tensor>;
} {
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
 * train/eval behaviour of BatchNorm and dropout, and config errors that name the key. The default model
 * is built once and shared by the tests (building and running the big ones dominates the time).
 */
export function standardModelTests(check: ModelCheck): void {
  const { name } = check;
  const cases = ref.cases.filter((c) => c.name === name);
  let model: AudioModel | undefined;
  const shared = () => {
    model ??= createModel(name);
    return model;
  };

  describe(`${name}: the registry's checks`, () => {
    after(() => model?.dispose());

    test('the defaults are the ones the PyTorch reference was built with', () => {
      assert.ok(cases.length >= 1, `no fixture case for ${name}`);
      assert.deepEqual(resolveModelConfig(name, {}), cases[0]!.config);
    });

    for (const [i, c] of cases.entries()) {
      const label = i === 0 ? 'defaults' : JSON.stringify(c.config);
      test(`parameter count, state-dict names and shapes equal PyTorch's (${label})`, () => {
        const m = i === 0 ? shared() : createModel(name, c.config);
        try {
          assert.equal(m.numParameters(), c.num_parameters);
          const tensors = new Map([...m.namedParameters(), ...m.namedBuffers()]);
          const mine = m.stateDictKeys().map((k) => [k, tensors.get(k)!.shape]);
          assert.deepEqual(mine, c.state_dict);
        } finally {
          if (i > 0) m.dispose();
        }
      });
    }

    test('eval: output shapes, finite, deterministic, running statistics untouched, no leaked tensors', () => {
      E.manualSeed(11);
      const m = shared().eval();
      const classes = (resolveModelConfig(name, {}) as { numClasses: number }).numClasses;
      const x = E.randn(check.input);
      const bn = firstBatchNorm(m);
      const s0 = bn ? bn.running_mean!.clone() : null;
      try {
        const before = E.liveTensors();
        const out = E.noGrad(() => m.call(x));
        assert.deepEqual(out.clipwise.shape, [check.input[0], classes]);
        if (check.framewise) assert.deepEqual(out.framewise?.shape, check.framewise);
        else assert.equal(out.framewise, undefined);
        const outs = out.framewise ? [out.clipwise, out.framewise] : [out.clipwise];
        for (const t of outs)
          assert.ok(
            E.tidy(() => t.isfinite().all().item()),
            'finite outputs',
          );
        E.dispose(outs);
        assert.equal(E.liveTensors(), before, 'a forward pass creates only its outputs');
        E.tidy(() => {
          const again = E.noGrad(() => m.call(x).clipwise);
          const first = E.noGrad(() => m.call(x).clipwise);
          assert.equal(maxAbsDiff(again, first), 0, 'eval mode is deterministic');
          if (bn && s0) assert.equal(maxAbsDiff(bn.running_mean!, s0), 0, 'eval leaves running stats alone');
        });
      } finally {
        E.dispose([x, ...(s0 ? [s0] : [])]);
      }
    });

    test('train: the first layer gets a non-zero gradient, every parameter one; BN and dropout act', () => {
      E.manualSeed(12);
      const m = shared();
      const bn = firstBatchNorm(m);
      E.tidy(() => {
        const x = E.randn(check.input).mul(2).add(0.5);
        const evalOut = E.noGrad(() => m.eval().call(x).clipwise);
        const s0 = bn ? bn.running_mean!.clone() : null;
        m.train();
        m.zeroGrad();
        const out = m.call(x);
        let loss = out.clipwise.square().mean();
        if (out.framewise) loss = loss.add(out.framewise.square().mean());
        loss.backward();
        const params = m.namedParameters();
        for (const [k, p] of params) assert.ok(p.grad !== null, `${k} has a gradient`);
        const [firstName, first] = params[0]!;
        assert.ok(first.grad!.abs().sum().item() > 0, `${firstName}: non-zero gradient`);
        m.zeroGrad();
        if (bn && s0) assert.ok(maxAbsDiff(bn.running_mean!, s0) > 0, 'training updates running stats');
        const t1 = out.clipwise.detach();
        assert.ok(maxAbsDiff(t1, evalOut) > 1e-6, 'training-mode output differs from eval');
        const t2 = E.noGrad(() => m.call(x).clipwise);
        if (hasDropout(m)) assert.ok(maxAbsDiff(t1, t2) > 1e-6, 'dropout draws new masks each call');
        else assert.ok(maxAbsDiff(t1, t2) < 1e-5, 'without dropout, training mode is deterministic');
      });
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
        (e: Error) => e instanceof SchemaError && e.problems.some((p) => p.startsWith(`${key}: `)),
        `${JSON.stringify(bad)} is rejected naming ${key}`,
      );
      const wrong = [...check.input];
      wrong[1] = wrong[1]! + 1; // one channel too many
      assert.throws(
        () => E.tidy(() => shared().call(E.zeros(wrong))),
        (e: Error) => e.message.startsWith(`${name}: expected input [B, ${check.input[1]}`),
      );
    });
  });
}
