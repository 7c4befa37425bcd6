// What int8 weights cost: exports one fold of a trained run as float32 and as int8 ONNX, scores the fold's
// validation clips with both in onnxruntime-node (windows of the run's crop every evalHop frames, their
// probabilities averaged, as `audiotag evaluate` does) and prints file sizes and accuracies as JSON.
//
//   node --import tsx bench/onnx-quantize.ts --run runs/esc10-short --fold 0
//
// The validation clips are the rows of the run's oof.csv (ids = file names in ../shared/data/esc10/audio),
// labelled from the manifest's `category` column.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadAudio } from '../src/audio/io.js';
import { windowStarts } from '../src/data/loader-plan.js';
import { exportRun } from '../src/export/export.js';
import { OnnxModel } from '../src/export/onnx-runtime.js';
import { computeFeatures } from '../src/features/compute.js';
import { REPO_ROOT } from './root.js';

const { values } = parseArgs({
  options: {
    run: { type: 'string' },
    fold: { type: 'string', default: '0' },
    data: { type: 'string', default: '../shared/data/esc10' },
    threads: { type: 'string', default: '1' },
  },
});
if (!values.run) throw new Error('--run <dir> is required');
const run = resolve(values.run);
const fold = Number(values.fold);
const dataDir = resolve(REPO_ROOT, values.data!);

const meta = readFileSync(join(dataDir, 'meta.csv'), 'utf8').trim().split('\n').slice(1);
const labelOf = new Map(meta.map((l) => [l.split(',')[0]!, l.split(',')[3]!]));
const oof = readFileSync(join(run, `fold${fold}`, 'oof.csv'), 'utf8')
  .trim()
  .split('\n');
const classes = oof[0]!.split(',').slice(1);
const ids = oof.slice(1).map((l) => l.split(',')[0]!);
// The engine's own validation accuracy (from the run's out-of-fold scores).
const engineCorrect = oof.slice(1).filter((l) => {
  const f = l.split(',');
  const p = f.slice(1).map(Number);
  return classes[p.indexOf(Math.max(...p))] === labelOf.get(f[0]!);
}).length;

async function accuracy(bytes: Uint8Array): Promise<number> {
  const m = await OnnxModel.load(bytes, { threads: Number(values.threads) });
  const w = m.meta.window!;
  let correct = 0;
  for (const id of ids) {
    const a = await loadAudio(join(dataDir, 'audio', id));
    const f = computeFeatures(a.channels[0]!, a.sampleRate, m.meta.featureConfig);
    const [bands, frames] = f.shape as [number, number];
    const starts = windowStarts(frames, w.frames, w.hopFrames);
    const x = new Float32Array(starts.length * bands * w.frames);
    starts.forEach((s, r) => {
      for (let b = 0; b < bands; b++)
        for (let t = 0; t < w.frames; t++)
          x[(r * bands + b) * w.frames + t] = f.data[b * frames + ((s + t) % frames)]!;
    });
    const o = await m.run(x, [starts.length, 1, bands, w.frames]);
    const p = m.scores(o.clipwise);
    const mean = classes.map((_, c) => starts.reduce((acc, _s, r) => acc + p[r * classes.length + c]!, 0));
    if (classes[mean.indexOf(Math.max(...mean))] === labelOf.get(id)) correct++;
  }
  await m.close();
  return correct / ids.length;
}

const f32 = exportRun(run, { folds: [fold] });
const q = exportRun(run, { folds: [fold], quantize: 'int8' });
const [accF, accQ] = [await accuracy(f32.bytes), await accuracy(q.bytes)];
console.log(
  JSON.stringify({
    run,
    fold,
    clips: ids.length,
    float32_bytes: f32.bytes.length,
    int8_bytes: q.bytes.length,
    size_ratio: Math.round((q.bytes.length / f32.bytes.length) * 1000) / 1000,
    quantized_tensors: q.quantized?.tensors,
    engine_accuracy: engineCorrect / ids.length,
    onnx_float32_accuracy: accF,
    onnx_int8_accuracy: accQ,
  }),
);
