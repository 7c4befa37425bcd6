// Engine benchmark: CNN-model-1 training and inference steps, ours against PyTorch's on the same model,
// threads, batch and input size, alternating the two so machine load hits both alike. One JSON line per
// run, then a summary line per mode with the overhead in %.
//
//   npx tsx bench/engine.ts --size 64 --batch 32 --steps 10 --threads 2 --rounds 3 [--mode train|infer|both]
//
// The same measurement is `audiotag bench train|infer ... --peer torch`.

import { parseArgs } from 'node:util';
import { type BenchMode, benchModel, compareWithTorch } from '../src/models/bench.js';

const { values: a } = parseArgs({
  options: {
    mode: { type: 'string', default: 'both' },
    model: { type: 'string', default: 'cnn-model-1' },
    batch: { type: 'string', default: '32' },
    size: { type: 'string', default: '64' },
    steps: { type: 'string', default: '10' },
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    'no-peer': { type: 'boolean', default: false },
  },
});

const modes: BenchMode[] = a.mode === 'both' ? ['train', 'infer'] : [a.mode as BenchMode];
const common = {
  model: a.model,
  batch: Number(a.batch),
  size: Number(a.size),
  steps: Number(a.steps),
  threads: Number(a.threads),
};
const print = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
for (const mode of modes) {
  if (a['no-peer']) {
    print(benchModel({ ...common, mode }));
    continue;
  }
  const c = compareWithTorch({ ...common, mode }, Number(a.rounds), print);
  print({
    summary: mode,
    ...common,
    rounds: c.rounds,
    ours_ms_per_step: c.ours_ms_per_step,
    torch_ms_per_step: c.torch_ms_per_step,
    overhead_pct: c.overhead_pct,
    ours_cpu_ms_per_step: c.ours_cpu_ms_per_step,
    torch_cpu_ms_per_step: c.torch_cpu_ms_per_step,
    cpu_overhead_pct: c.cpu_overhead_pct,
  });
}
