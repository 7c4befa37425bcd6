// Where a training step's time goes: forward, backward and optimiser step of a registry model profiled
// apart (libtorch's op profiler through E.profileOps), after warm-up steps. One JSON line per model:
// per phase the wall ms and the top ops by self time (ms and % of the step).
//
//   npx tsx bench/engine-profile.ts --models cnn-model-1,small-cnn,resnet18 --batch 32 --size 64 --threads 1 \
//     [--memory-format channels-last] [--precision bf16] [--top 6] [--mode infer: eval forward under noGrad]
//     [--conv-algorithm direct: libtorch's convolutions; default winograd, as the trainer]
//
// Wall time: on a loaded machine a phase includes time descheduled, so read the shares, and profile with
// one thread (with two, one op's time includes waiting for the other thread).

import { parseArgs } from 'node:util';
import * as E from '../src/engine/index.js';
import { Adam } from '../src/engine/optim.js';
import { createModel, getModelDefinition, resolveModelConfig } from '../src/models/index.js';
import { crossEntropy } from '../src/nn/losses.js';

const { values: a } = parseArgs({
  options: {
    models: { type: 'string', default: 'cnn-model-1,small-cnn,resnet18' },
    batch: { type: 'string', default: '32' },
    size: { type: 'string', default: '64' },
    threads: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '2' },
    'memory-format': { type: 'string', default: 'contiguous' },
    precision: { type: 'string', default: 'fp32' },
    top: { type: 'string', default: '6' },
    mode: { type: 'string', default: 'train' },
    'conv-algorithm': { type: 'string', default: 'winograd' },
  },
});

E.setNumThreads(Number(a.threads));
E.setConvAlgorithm(a['conv-algorithm'] as E.ConvAlgorithm);
const top = Number(a.top);
const bf16 = a.precision === 'bf16';
const cl = a['memory-format'] === 'channels-last';

for (const name of a.models!.split(',')) {
  E.manualSeed(0);
  const config = resolveModelConfig(name, { numClasses: 80 }) as Record<string, unknown>;
  const shape = [Number(a.batch), ...getModelDefinition(name).input(config).exampleShape];
  for (let i = Math.max(shape.length - 2, 2); i < shape.length; i++) shape[i] = Number(a.size);
  const model = createModel(name, config);
  const infer = a.mode === 'infer';
  if (infer) model.eval();
  else model.train();
  if (cl) E.setMemoryFormat_(model.parameters(), 'channels-last');
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const x0 = E.randn(shape);
  const x = cl && shape.length === 4 ? x0.contiguous('channels-last') : x0;
  const y = E.randint(0, 80, [Number(a.batch)], { dtype: 'int64' });
  const phases = { forward: [] as E.OpProfile[], backward: [] as E.OpProfile[], step: [] as E.OpProfile[] };
  const ms = { forward: 0, backward: 0, step: 0 };
  const timed = (k: keyof typeof ms, profile: boolean, fn: () => void) => {
    const t0 = performance.now();
    if (profile) phases[k] = E.profileOps(fn);
    else fn();
    ms[k] = performance.now() - t0;
  };
  for (let i = 0; i <= Number(a.warmup); i++) {
    const last = i === Number(a.warmup);
    E.tidy(() => {
      opt.zeroGrad();
      let loss: E.Tensor | null = null;
      if (infer) {
        timed('forward', last, () => E.noGrad(() => E.autocast({ enabled: bf16 }, () => void model.call(x))));
        return;
      }
      timed('forward', last, () => {
        const out = E.autocast({ enabled: bf16 }, () => model.call(x).clipwise);
        loss = crossEntropy(bf16 ? out.to('float32') : out, y);
      });
      timed('backward', last, () => loss!.backward());
      timed('step', last, () => opt.step());
    });
  }
  const stepMs = ms.forward + ms.backward + ms.step;
  const pct = (v: number) => Math.round((1000 * v) / stepMs) / 10;
  // Every op's self time, by kind, over the whole step; what the ops do not account for is time outside
  // libtorch's ops: JS, N-API calls, handle bookkeeping, autograd's engine between nodes.
  const kinds: Record<string, number> = {};
  let opsMs = 0;
  let calls = 0;
  for (const o of [...phases.forward, ...phases.backward, ...phases.step]) {
    const n = o.name;
    const kind = /conv/.test(n)
      ? 'conv'
      : /batch_norm/.test(n)
        ? 'batch_norm'
        : /pool/.test(n)
          ? 'pool'
          : /relu|threshold/.test(n)
            ? 'relu'
            : /addmm|mm$|linear/.test(n)
              ? 'linear'
              : /_foreach|adam|sqrt|addcdiv|addcmul|lerp|mul_|add_|div_/.test(n)
                ? 'elementwise'
                : 'other';
    kinds[kind] = (kinds[kind] ?? 0) + o.selfMs;
    opsMs += o.selfMs;
    calls += o.calls;
  }
  const byKind = Object.fromEntries(
    Object.entries(kinds)
      .sort((p, q) => q[1] - p[1])
      .map(([k, v]) => [k, { ms: Math.round(v), pct: pct(v) }]),
  );
  const outside = { ms: Math.round(stepMs - opsMs), pct: pct(stepMs - opsMs), op_calls: calls };
  const summary = Object.fromEntries(
    (Object.keys(phases) as (keyof typeof phases)[]).map((k) => [
      k,
      {
        ms: Math.round(ms[k]),
        pct: pct(ms[k]),
        top: phases[k]
          .slice(0, top)
          .map((o) => ({ op: o.name, calls: o.calls, ms: Math.round(o.selfMs), pct: pct(o.selfMs) })),
      },
    ]),
  );
  process.stdout.write(
    `${JSON.stringify({ model: name, shape, threads: E.getNumThreads(), memory_format: a['memory-format'], precision: a.precision, step_ms: Math.round(stepMs), by_kind: byKind, outside_ops: outside, ...summary })}\n`,
  );
  E.dispose([x, y]);
  if (x !== x0) x0.dispose();
  model.dispose();
  opt.dispose();
}
