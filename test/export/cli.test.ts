// `audiotag export` on a checkpoint/run directory, its usage errors, and the exported file scored by
// OnnxModel in a process where the native addon (libtorch) cannot load.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import * as E from '../../src/engine/index.js';
import { exportRun } from '../../src/export/export.js';
import { featuresFromSignal, prepareSignal } from '../../src/features/compute.js';
import { saveModel } from '../../src/models/index.js';
import { ROOT, spawnCli } from '../cli/helpers.js';
import { engineForward, FSDD_FEATURES, fsddClip, maxAbsDiff, randomModel, softmax } from './helpers.js';

E.setNumThreads(1);

const tmp = mkdtempSync(join(tmpdir(), 'audiotag-export-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const CLASSES = Array.from({ length: 10 }, (_, i) => String(i));

/** A run directory like audiotag train writes (fold<i>/best), with random-init small-cnn folds. */
function fakeRun(folds: number[]): string {
  const run = join(tmp, `run${folds.join('')}`);
  for (const f of folds) {
    const m = randomModel('small-cnn', { numClasses: 10, channels: [8, 16, 32] }, f);
    const dir = join(run, `fold${f}`, 'best');
    mkdirSync(dirname(dir), { recursive: true });
    saveModel(dir, m, {
      classes: CLASSES,
      activation: 'softmax',
      featureConfig: FSDD_FEATURES,
      crop: null,
      aggregate: 'mean',
      fold: f,
    } as never);
    m.dispose();
  }
  return run;
}

test('export writes an ONNX file with a front-end; libtorch-free OnnxModel scores a real clip like the engine', () => {
  const run = fakeRun([0]);
  const out = join(tmp, 'm.onnx');
  const r = spawnCli(['export', run, '--out', out, '--frontend', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.model, 'small-cnn');
  assert.deepEqual(s.folds, [0]);
  assert.equal(s.frontend, true);
  assert.deepEqual(s.input, { name: 'waveform', kind: 'waveform', dims: ['batch', 'samples'] });
  assert.equal(s.bytes, readFileSync(out).length);

  // The engine's scores for the clip.
  const wav = join(ROOT, '..', 'shared', 'data', 'fsdd', 'audio', '3_theo_4.wav');
  const a = fsddClip('3_theo_4');
  const f = featuresFromSignal(prepareSignal(a.samples, a.sampleRate, FSDD_FEATURES), FSDD_FEATURES);
  const m = randomModel('small-cnn', { numClasses: 10, channels: [8, 16, 32] }, 0);
  const want = softmax(engineForward(m, f.data, [1, 1, ...f.shape]).clipwise, 10);
  m.dispose();

  // The same clip through OnnxModel in a process whose native addon path is broken.
  const script = join(tmp, 'score.mts');
  const src = (p: string) => pathToFileURL(resolve(ROOT, p)).href;
  writeFileSync(
    script,
    `import { readFileSync } from 'node:fs';
import { decodeWav } from '${src('src/audio/wav.ts')}';
import { OnnxModel } from '${src('src/export/onnx-runtime.ts')}';
const a = decodeWav(new Uint8Array(readFileSync(${JSON.stringify(wav)})));
const m = await OnnxModel.load(${JSON.stringify(out)}, { threads: 1 });
const x = m.inputFor(a.channels[0], a.sampleRate);
const o = await m.run(x.data, x.dims);
let engine = 'not loaded';
try { await import('${src('src/engine/index.ts')}').then((E) => E.zeros([1])); engine = 'loaded'; } catch (e) { engine = 'missing: ' + e.message; }
console.log(JSON.stringify({ scores: Array.from(m.scores(o.clipwise)), engine }));
await m.close();
`,
  );
  const child = spawnSync(process.execPath, ['--import', 'tsx', script], {
    encoding: 'utf8',
    cwd: ROOT,
    env: { ...process.env, AUDIOTAG_NATIVE: join(tmp, 'no-such-addon.node') },
    timeout: 60_000,
  });
  assert.equal(child.status, 0, child.stderr);
  const got = JSON.parse(child.stdout.trim().split('\n').pop()!);
  // The addon really was unavailable in that process.
  assert.match(got.engine, /^missing: .*native addon/);
  const d = maxAbsDiff(got.scores, want);
  assert.ok(d < 1e-4, `scores differ by ${d}`);
});

test('usage errors name the flag; a run with several folds needs --fold or --all-folds', () => {
  const run = fakeRun([0, 1]);
  const out = join(tmp, 'x.onnx');
  const bad = spawnCli(['export', run, '--out', out, '--quantize', 'int4']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--quantize must be "int8", got "int4"/);
  // The library names its options (folds, allFolds); the command line names the flags.
  assert.throws(
    () => exportRun(run),
    /folds: .*has 2 trained folds \(0, 1\); choose which \(folds, or allFolds: true\)/,
  );
  assert.throws(
    () => exportRun(run, { folds: [3] }),
    /folds: .*fold3\/best holds no checkpoint \(trained: 0, 1\)/,
  );
  const which = spawnCli(['export', run, '--out', out]);
  assert.equal(which.status, 2);
  assert.match(
    which.stderr,
    /--fold: .*has 2 trained folds \(0, 1\); choose which \(--fold N or --all-folds\)/,
  );
  const missing = spawnCli(['export', run, '--out', out, '--fold', '3']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--fold: .*fold3\/best holds no checkpoint/);
  assert.throws(() => exportRun(join(tmp, 'nowhere')), /nowhere: no such directory/);
  const all = spawnCli(['export', run, '--out', out, '--all-folds', '--quantize', 'int8', '--json']);
  assert.equal(all.status, 0, all.stderr);
  const s = JSON.parse(all.stdout);
  assert.deepEqual(s.folds, [0, 1]);
  assert.equal(s.quantize, 'int8');
  assert.ok(s.quantized_tensors >= 4);
});

test('OnnxModel and what it imports never reach src/engine', () => {
  const SRC = join(ROOT, 'src');
  const seen = new Set<string>();
  const queue = [join(SRC, 'export', 'onnx-runtime.ts')];
  const IMPORT = /(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;
  while (queue.length > 0) {
    const f = queue.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const code = readFileSync(f, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    for (const m of code.matchAll(IMPORT))
      queue.push(resolve(dirname(f), (m[1] ?? m[2]!).replace(/\.js$/, '.ts')));
  }
  const reached = [...seen].map((f) => relative(SRC, f));
  assert.ok(reached.includes('features/compute.ts'), reached.join(', '));
  assert.deepEqual(
    reached.filter((f) => f.startsWith('engine/') || f.startsWith('nn/') || f.startsWith('models/')),
    [],
  );
});
