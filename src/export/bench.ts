// `audiotag bench infer --runtime onnx`: inference throughput of a registry model exported to ONNX and
// run by onnxruntime (node: native CPU provider; web: wasm), timed like `bench infer` times the engine,
// optionally alternated with the PyTorch peer (bench/peers/torch_cnn.py) on the same model, batch and
// threads.

import * as E from '../engine/index.js';
import { resolveFeatureConfig } from '../features/config.js';
import { benchTorchPeer, type ModelBenchOptions, type ModelBenchResult, median } from '../models/bench.js';
import { createModel, getModelDefinition, resolveModelConfig } from '../models/index.js';
import { exportModels } from './export.js';
import { type OnnxBackend, OnnxModel } from './onnx-runtime.js';

export interface OnnxBenchOptions extends Omit<ModelBenchOptions, 'mode' | 'device'> {
  backend?: OnnxBackend;
  quantize?: 'int8' | null;
  /** OnnxModel's parallel mode; default 'intra' (one session, intra-op threads). */
  parallel?: 'intra' | 'batch';
}

export interface OnnxBenchResult {
  samples_per_s: number;
  ms_per_step: number;
  threads: number;
  cpu_ms_per_step: number;
  max_rss_mb: number;
  impl: 'onnxruntime-node' | 'onnxruntime-web';
  runtime: 'onnx';
  mode: 'infer';
  model: string;
  batch: number;
  size: number;
  steps: number;
  quantize: 'int8' | null;
  parallel: 'intra' | 'batch';
  onnx_bytes: number;
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

/** Exports the model (seeded random weights) and builds one random batch of its input. */
function prepare(
  o: Required<Pick<OnnxBenchOptions, 'model' | 'batch' | 'size' | 'classes' | 'seed'>>,
  quantize: 'int8' | null,
) {
  E.manualSeed(o.seed);
  const config = resolveModelConfig(o.model, { numClasses: o.classes }) as Record<string, unknown>;
  const spec = getModelDefinition(o.model).input(config);
  const shape = [o.batch, ...spec.exampleShape];
  const spatialFrom = shape.length >= 4 ? shape.length - 2 : shape.length - 1;
  for (let i = spatialFrom; i < shape.length; i++) shape[i] = o.size;
  const model = createModel(o.model, config).eval();
  try {
    const channels = shape.length >= 4 ? shape[1]! : 1;
    // A feature config whose bands and channel count match the bench input (mel-delta3 has 3 channels).
    const featureConfig = resolveFeatureConfig({
      sampleRate: 16000,
      nFft: Math.max(512, 2 * o.size),
      hopLength: 160,
      nMels: o.size,
      fmax: 8000,
      format: channels === 3 ? 'mel-delta3' : 'mel',
    });
    const classes = Array.from({ length: o.classes }, (_, i) => `c${i}`);
    const crop = shape.length >= 4 ? { frames: o.size } : null;
    const info = { classes, activation: 'softmax' as const, featureConfig, crop };
    return { shape, bytes: exportModels([model], info, { quantize }).bytes };
  } finally {
    model.dispose();
  }
}

/** Times `steps` inference calls (after `warmup`) of the exported model; the median step is reported. */
export async function benchOnnx(opts: OnnxBenchOptions): Promise<OnnxBenchResult> {
  const o = {
    model: opts.model ?? 'cnn-model-1',
    batch: opts.batch ?? 32,
    size: opts.size ?? 128,
    steps: opts.steps ?? 10,
    warmup: opts.warmup ?? 2,
    threads: opts.threads ?? 1,
    classes: opts.classes ?? 80,
    seed: opts.seed ?? 0,
    backend: opts.backend ?? 'node',
    quantize: opts.quantize ?? null,
    parallel: opts.parallel,
  };
  // Intra-op threads by default: on an idle 2-core machine two batch-split sessions ran one at a time
  // (CPU time = wall time, 25 samples/s) while one 2-thread session ran at 49 samples/s.
  const parallel = o.parallel ?? 'intra';
  const { shape, bytes } = prepare(o, o.quantize);
  const m = await OnnxModel.load(bytes, { threads: o.threads, backend: o.backend, parallel });
  const n = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n);
  let s = o.seed + 1;
  for (let i = 0; i < n; i++) {
    // A small LCG: reproducible inputs without the engine's generator.
    s = (s * 1664525 + 1013904223) >>> 0;
    x[i] = s / 2 ** 31 - 1;
  }
  const times: number[] = [];
  const cpu: number[] = [];
  try {
    for (let i = 0; i < o.warmup + o.steps; i++) {
      const r0 = process.resourceUsage();
      const t0 = performance.now();
      await m.run(x, shape);
      const dt = performance.now() - t0;
      const r1 = process.resourceUsage();
      if (i >= o.warmup) {
        times.push(dt);
        cpu.push((r1.userCPUTime - r0.userCPUTime + r1.systemCPUTime - r0.systemCPUTime) / 1000);
      }
    }
  } finally {
    await m.close();
  }
  const ms = median(times);
  return {
    samples_per_s: round3((o.batch / ms) * 1000),
    ms_per_step: round3(ms),
    threads: o.threads,
    cpu_ms_per_step: round3(median(cpu)),
    max_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    impl: o.backend === 'node' ? 'onnxruntime-node' : 'onnxruntime-web',
    runtime: 'onnx',
    mode: 'infer',
    model: o.model,
    batch: o.batch,
    size: o.size,
    steps: o.steps,
    quantize: o.quantize,
    parallel,
    onnx_bytes: bytes.length,
  };
}

export interface OnnxComparison {
  summary: 'infer';
  runtime: 'onnx';
  rounds: number;
  /** Medians over rounds of each side's samples/s. */
  samples_per_s: number;
  torch_samples_per_s: number;
  /** ONNX samples/s ÷ PyTorch samples/s (the target is ≥ 2). */
  speedup_vs_torch: number;
  load_avg_1m: number;
}

/** Alternates ONNX and the PyTorch peer `rounds` times (who goes first alternates too). */
export async function compareOnnxWithTorch(
  opts: OnnxBenchOptions,
  rounds: number,
  onResult: (r: OnnxBenchResult | ModelBenchResult) => void,
): Promise<OnnxComparison> {
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    for (const who of i % 2 === 0 ? ['onnx', 'torch'] : ['torch', 'onnx']) {
      if (who === 'onnx') {
        const r = await benchOnnx(opts);
        ours.push(r.samples_per_s);
        onResult(r);
      } else {
        const r = benchTorchPeer({ ...opts, mode: 'infer', device: 'cpu' });
        theirs.push(r.samples_per_s);
        onResult(r);
      }
    }
  }
  const a = median(ours);
  const b = median(theirs);
  const { loadavg } = await import('node:os');
  return {
    summary: 'infer',
    runtime: 'onnx',
    rounds,
    samples_per_s: round3(a),
    torch_samples_per_s: round3(b),
    speedup_vs_torch: round3(a / b),
    load_avg_1m: round3(loadavg()[0]!),
  };
}
