// The exported model (front-end in the graph) against the engine on the same waveforms: one fold of a
// trained run is exported with --frontend, and for each of the fold's validation clips (the rows of its
// oof.csv) the engine scores src/features' features of each window while onnxruntime-node scores the
// window's waveform. Prints the largest score difference as JSON.
//
//   node --import tsx bench/onnx-parity.ts --run /tmp/h12a/fsdd8 --audio-dir ../shared/data/fsdd/audio
//   node --import tsx bench/onnx-parity.ts --run /tmp/h12a/esc10 --audio-dir ../shared/data/esc10/audio
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadAudio } from '../src/audio/io.js';
import * as E from '../src/engine/index.js';
import { exportRun } from '../src/export/export.js';
import { OnnxModel } from '../src/export/onnx-runtime.js';
import { featuresFromSignal, prepareSignal } from '../src/features/compute.js';
import { loadModel } from '../src/models/index.js';

const { values } = parseArgs({
  options: {
    run: { type: 'string' },
    fold: { type: 'string', default: '0' },
    'audio-dir': { type: 'string' },
  },
});
if (!values.run || !values['audio-dir']) throw new Error('--run <dir> and --audio-dir <dir> are required');
const run = resolve(values.run);
const fold = Number(values.fold);
E.setNumThreads(1);

const { model } = loadModel(join(run, `fold${fold}`, 'best'));
const om = await OnnxModel.load(exportRun(run, { folds: [fold], frontend: true }).bytes, { threads: 1 });
const fc = om.meta.featureConfig;
const w = om.meta.window;
const ids = readFileSync(join(run, `fold${fold}`, 'oof.csv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split(',')[0]!);
let worst = 0;
let windows = 0;
let sameTop = 0;
const top = (p: Float32Array) => p.indexOf(Math.max(...p));
for (const id of ids) {
  const a = await loadAudio(join(resolve(values['audio-dir']), id));
  const y = prepareSignal(a.channels[0]!, a.sampleRate, fc);
  // Windows of the run's crop (their waveform: window.samples samples, wrapped when the clip is shorter).
  const len = w ? w.samples : y.length;
  const hop = w ? w.hopFrames * fc.hopLength : len;
  for (let s = 0; ; s += hop) {
    const seg = len === y.length ? y : Float32Array.from({ length: len }, (_, i) => y[(s + i) % y.length]!);
    const f = featuresFromSignal(seg, fc);
    const pe = E.noGrad(() =>
      E.tidy(() =>
        model
          .call(E.tensor(f.data, [1, 1, ...f.shape]))
          .clipwise.softmax(1)
          .toFloat32Array(),
      ),
    );
    const po = om.scores((await om.run(seg, [1, len])).clipwise);
    for (let i = 0; i < po.length; i++) worst = Math.max(worst, Math.abs(po[i]! - pe[i]!));
    if (top(po) === top(pe)) sameTop++;
    windows++;
    if (s + hop + len > y.length) break;
  }
}
await om.close();
model.dispose();
console.log(
  JSON.stringify({ run, fold, clips: ids.length, windows, max_score_diff: worst, same_top1: sameTop }),
);
