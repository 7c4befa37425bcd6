// Registry benchmark: for every model at its defaults, the parameter count and the time of one
// inference forward (eval, no grad) on a batch of its example input (`listModels()[i].input`), the
// median of `steps` timed calls after `warmup`. One JSON line per model; docs/models.md quotes them.
//
//   npx tsx bench/models.ts --batch 8 --steps 5 --threads 1 [--models resnet18,sed]
//
// Unlike `audiotag bench` (square inputs, one model) this keeps each model's own input layout, so 1-D
// waveform and MFCC models are measured on the inputs they were designed for.

import { parseArgs } from 'node:util';
import * as E from '../src/engine/index.js';
import { median } from '../src/models/bench.js';
import { createModel, listModels } from '../src/models/index.js';

const { values: a } = parseArgs({
  options: {
    batch: { type: 'string', default: '8' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    threads: { type: 'string', default: '1' },
    models: { type: 'string', default: '' },
  },
});

const batch = Number(a.batch);
const steps = Number(a.steps);
const warmup = Number(a.warmup);
E.setNumThreads(Number(a.threads));
const wanted = a.models ? new Set(a.models.split(',')) : null;

for (const info of listModels()) {
  if (wanted && !wanted.has(info.name)) continue;
  E.manualSeed(0);
  const model = createModel(info.name);
  model.eval();
  const x = E.randn([batch, ...info.input.exampleShape]);
  const times: number[] = [];
  try {
    for (let i = 0; i < warmup + steps; i++) {
      const t0 = performance.now();
      E.tidy(() => E.noGrad(() => void model.call(x)));
      if (i >= warmup) times.push(performance.now() - t0);
    }
    const ms = median(times);
    const line = {
      model: info.name,
      params: model.numParameters(),
      input: [batch, ...info.input.exampleShape],
      ms_per_forward: Math.round(ms * 10) / 10,
      samples_per_s: Math.round((batch / ms) * 1000 * 10) / 10,
      threads: E.getNumThreads(),
      steps,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  } finally {
    x.dispose();
    model.dispose();
  }
}
