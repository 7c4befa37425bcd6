// ONNX export: every registry architecture gives the engine's logits, frame-wise logits and embedding
// within 1e-4 in onnxruntime-node on features of real FSDD clips; the front-end graph gives the
// project's features and, end to end, the engine's scores; node and web backends agree; int8 weights
// shrink the file and stay close; fold ensembles average probabilities.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { loadAudio } from '../../src/audio/io.js';
import * as E from '../../src/engine/index.js';
import { exportModels } from '../../src/export/export.js';
import { emitFrontend } from '../../src/export/frontend.js';
import { decodeModel, GraphBuilder } from '../../src/export/onnx-builder.js';
import { OnnxModel } from '../../src/export/onnx-runtime.js';
import { featuresFromSignal, prepareSignal } from '../../src/features/compute.js';
import { type FeatureConfig, resolveFeatureConfig } from '../../src/features/config.js';
import type { AudioModel } from '../../src/models/index.js';
import {
  DATA,
  engineForward,
  FSDD_FEATURES as FSDD,
  fsddClip,
  maxAbsDiff,
  randomModel,
  softmax,
} from './helpers.js';

E.setNumThreads(1);

const CLASSES = Array.from({ length: 10 }, (_, i) => `digit${i}`);
const CLIPS = ['0_nicolas_2', '5_george_3', '9_jackson_7'];

/** A batch of real clips as the engine sees them: features [B, 1, 64, 63] (and the prepared waveforms). */
function batch(c: FeatureConfig): {
  feats: Float32Array;
  featDims: number[];
  wave: Float32Array;
  waveDims: number[];
} {
  const waves = CLIPS.map((n) => {
    const a = fsddClip(n);
    return prepareSignal(a.samples, a.sampleRate, c);
  });
  const f = waves.map((y) => featuresFromSignal(y, c));
  const per = f[0]!.data.length;
  const feats = new Float32Array(per * f.length);
  f.forEach((x, i) => {
    feats.set(x.data, i * per);
  });
  const wave = new Float32Array(waves[0]!.length * waves.length);
  waves.forEach((y, i) => {
    wave.set(y, i * y.length);
  });
  return {
    feats,
    featDims: [f.length, 1, ...f[0]!.shape],
    wave,
    waveDims: [waves.length, waves[0]!.length],
  };
}

const open: OnnxModel[] = [];
const models: AudioModel[] = [];
after(async () => {
  for (const m of open) await m.close();
  for (const m of models) m.dispose();
});

async function load(bytes: Uint8Array, backend: 'node' | 'web' = 'node'): Promise<OnnxModel> {
  const m = await OnnxModel.load(bytes, { backend, threads: 1 });
  open.push(m);
  return m;
}

describe('every registry architecture exports and matches the engine on real FSDD features', () => {
  const b = batch(FSDD);
  const cases: [string, Record<string, unknown>][] = [
    ['small-cnn', { channels: [8, 16, 16, 32], hidden: 16 }],
    ['cnn-model-1', { inChannels: 1, channels: [8, 16, 16, 32], hidden: 32 }],
    ['vgg16-bn', { widthMultiplier: 0.125, hidden: 16, pooling: 'avgmax' }],
    ['resnet18', { baseWidth: 8, pooling: 'avgmax' }],
    ['resnet34', { baseWidth: 4, stem: 'cifar' }],
    ['crnn', { channels: [8, 16, 16], rnnHidden: 16, rnnLayers: 2 }],
    ['sed', { channels: [8, 16, 16, 32] }],
    ['mobilenet-v2', { widthMultiplier: 0.35 }],
    ['efficientnet-b0', { widthMultiplier: 0.25, depthMultiplier: 0.5 }],
    ['mfcc-cnn', { pooledSize: [3, 2] }],
    ['spec-transformer', { dim: 32, depth: 2, heads: 2, inputSize: [64, 48] }],
  ];
  for (const [name, config] of cases) {
    test(name, async () => {
      const m = randomModel(name, { numClasses: 10, ...config });
      models.push(m);
      const ref = engineForward(m, b.feats, b.featDims);
      // The transformer and mfcc-cnn need a fixed length: give them the clip's frames as the window.
      const crop = name === 'spec-transformer' || name === 'mfcc-cnn' ? { frames: b.featDims[3]! } : null;
      const r = exportModels([m], { classes: CLASSES, activation: 'softmax', featureConfig: FSDD, crop });
      const om = await load(r.bytes);
      const o = await om.run(b.feats, b.featDims);
      assert.deepEqual(o.clipwise.length, ref.clipwise.length);
      const d = maxAbsDiff(o.clipwise, ref.clipwise);
      assert.ok(d < 1e-4, `${name}: clipwise logits differ by ${d}`);
      const dp = maxAbsDiff(softmax(o.clipwise, 10), softmax(ref.clipwise, 10));
      assert.ok(dp < 1e-5, `${name}: probabilities differ by ${dp}`);
      assert.ok(o.embedding, `${name}: no embedding output`);
      const de = maxAbsDiff(o.embedding!, ref.embedding);
      assert.ok(de < 1e-4, `${name}: embeddings differ by ${de}`);
      assert.equal(om.meta.embeddingSize, ref.embedding.length / CLIPS.length);
      if (ref.framewise) {
        assert.deepEqual(o.framewiseDims, [CLIPS.length, b.featDims[3]!, 10]);
        const df = maxAbsDiff(o.framewise!, ref.framewise);
        assert.ok(df < 1e-4, `${name}: framewise logits differ by ${df}`);
        assert.deepEqual(om.meta.outputs, ['clipwise', 'framewise', 'embedding']);
      } else assert.deepEqual(om.meta.outputs, ['clipwise', 'embedding']);
    });
  }

  test('conv1d-raw on the prepared waveforms', async () => {
    const m = randomModel('conv1d-raw', { numClasses: 10 });
    models.push(m);
    const dims = [b.waveDims[0]!, 1, b.waveDims[1]!];
    const ref = engineForward(m, b.wave, dims);
    const r = exportModels([m], { classes: CLASSES, activation: 'softmax', featureConfig: FSDD });
    const om = await load(r.bytes);
    assert.equal(om.meta.inputKind, 'waveform');
    assert.deepEqual(om.meta.inputDims, ['batch', 1, 'samples']);
    const o = await om.run(b.wave, dims);
    assert.ok(maxAbsDiff(o.clipwise, ref.clipwise) < 1e-4);
    assert.ok(maxAbsDiff(o.embedding!, ref.embedding) < 1e-4);
  });

  test('batch and time stay dynamic: one clip, and a shorter clip, run on the same file', async () => {
    const m = randomModel('crnn', { numClasses: 10, channels: [8, 8, 8], rnnHidden: 8 });
    models.push(m);
    const om = await load(
      exportModels([m], { classes: CLASSES, activation: 'sigmoid', featureConfig: FSDD }).bytes,
    );
    const frames = 40;
    const one = new Float32Array(64 * frames);
    for (let i = 0; i < 64; i++) one.set(b.feats.subarray(i * 63, i * 63 + frames), i * frames);
    const o = await om.run(one, [1, 1, 64, frames]);
    const ref = engineForward(m, one, [1, 1, 64, frames]);
    assert.deepEqual(o.framewiseDims, [1, frames, 10]);
    assert.ok(maxAbsDiff(o.clipwise, ref.clipwise) < 1e-4);
    assert.ok(maxAbsDiff(o.framewise!, ref.framewise!) < 1e-4);
    await assert.rejects(
      om.run(one, [1, 2, 64, frames / 2]),
      /input "features" must be \[batch, 1, 64, frames\]/,
    );
  });
});

describe('front-end in the graph', () => {
  const configs: [string, FeatureConfig][] = [
    ['fsdd (constant pad, win < nFft, clip norm)', FSDD],
    [
      'mel-delta3, ref max, reflect pad',
      resolveFeatureConfig({
        sampleRate: 8000,
        nFft: 256,
        hopLength: 64,
        nMels: 40,
        format: 'mel-delta3',
        ref: 'max',
        padMode: 'reflect',
        duration: 1,
      }),
    ],
    // Cropped from the start to 0.25 s, so the clip's ends are speech, not the zeros of centring.
    [
      'symmetric padding',
      resolveFeatureConfig({ ...FSDD, padMode: 'symmetric', duration: 0.25, durationAlign: 'start' }),
    ],
    [
      'wrap padding, Hamming',
      resolveFeatureConfig({
        ...FSDD,
        padMode: 'wrap',
        window: 'hamming',
        duration: 0.25,
        durationAlign: 'start',
      }),
    ],
    [
      'pcen (magnitude, scaled by 2^31)',
      resolveFeatureConfig({ ...FSDD, format: 'pcen', power: 1, normalize: 'none' }),
    ],
    [
      'mfcc with lifter, htk, magnitude, minmax',
      resolveFeatureConfig({
        sampleRate: 8000,
        nFft: 400,
        hopLength: 100,
        nMels: 40,
        format: 'mfcc',
        nMfcc: 20,
        lifter: 22,
        melScale: 'htk',
        power: 1,
        normalize: 'minmax',
        duration: 1,
      }),
    ],
  ];
  for (const [label, c] of configs) {
    test(`features equal the project's (${label})`, async () => {
      const b = batch(c);
      const g = new GraphBuilder();
      const w = g.input('waveform', ['batch', 'samples']);
      const f = emitFrontend(g, c, { name: w, shape: [1, b.waveDims[1]!] });
      g.output(f.name, 'clipwise');
      const ort = await import('onnxruntime-node');
      const s = await ort.InferenceSession.create(g.toBytes());
      const r = await s.run({ waveform: new ort.Tensor('float32', b.wave, b.waveDims) });
      const got = r.clipwise!.data as Float32Array;
      assert.deepEqual([...r.clipwise!.dims], [CLIPS.length, ...f.shape.slice(1)]);
      // Real clips: float32 STFT noise (onnxruntime) against float64 (ours) stays under 1e-3 of the range.
      let scale = 0;
      for (const v of b.feats) scale = Math.max(scale, Math.abs(v));
      const d = maxAbsDiff(got, b.feats);
      assert.ok(d < 1e-3 * Math.max(1, scale), `features differ by ${d} (scale ${scale})`);
      await s.release();
    });
  }

  test('waveform in, scores out: the engine on project features vs onnxruntime on waveforms, within 1e-4', async () => {
    const b = batch(FSDD);
    for (const [name, config] of [
      ['small-cnn', { channels: [16, 32, 64, 128], convsPerBlock: 1, dropout: 0.2 }],
      ['sed', { channels: [8, 16, 16, 32] }],
    ] as const) {
      const m = randomModel(name, { numClasses: 10, ...config });
      models.push(m);
      const ref = engineForward(m, b.feats, b.featDims);
      const r = exportModels(
        [m],
        { classes: CLASSES, activation: 'softmax', featureConfig: FSDD },
        { frontend: true },
      );
      const om = await load(r.bytes);
      assert.equal(om.meta.frontend, true);
      assert.deepEqual(om.meta.inputDims, ['batch', 'samples']);
      const o = await om.run(b.wave, b.waveDims);
      const d = maxAbsDiff(softmax(o.clipwise, 10), softmax(ref.clipwise, 10));
      assert.ok(d < 1e-4, `${name}: scores differ by ${d}`);
      // inputFor gives the same input from the raw file.
      const a = fsddClip(CLIPS[0]!);
      const x = om.inputFor(a.samples, a.sampleRate);
      assert.deepEqual(x.dims, [1, 8000]);
      assert.deepEqual(x.data, b.wave.subarray(0, 8000));
    }
  });

  test('ESC-10 windows (FLAC, 44.1 kHz resampled, trimmed): waveform windows score like the engine', async () => {
    const c = resolveFeatureConfig({
      sampleRate: 16000,
      nFft: 1024,
      hopLength: 320,
      nMels: 64,
      fmin: 20,
      fmax: 8000,
      trim: 60,
      normalize: 'clip',
    });
    const m = randomModel('small-cnn', { numClasses: 10, channels: [8, 16, 32, 64], convsPerBlock: 1 });
    models.push(m);
    const r = exportModels(
      [m],
      { classes: CLASSES, activation: 'softmax', featureConfig: c, crop: { frames: 128, evalHop: 32 } },
      { frontend: true },
    );
    const om = await load(r.bytes);
    const n = om.meta.window!.samples;
    assert.equal(n, 127 * 320);
    const a = await loadAudio(`${DATA}esc10/audio/1-116765-A-41.flac`);
    const y = prepareSignal(a.channels[0]!, a.sampleRate, c);
    assert.ok(y.length >= n + 32 * 320, `${y.length} samples`);
    // Two windows a hop apart, as one batch.
    const wave = new Float32Array(2 * n);
    wave.set(y.subarray(0, n));
    wave.set(y.subarray(32 * 320, 32 * 320 + n), n);
    const f = [0, 1].map((i) => featuresFromSignal(wave.subarray(i * n, (i + 1) * n), c));
    const feats = new Float32Array(2 * f[0]!.data.length);
    feats.set(f[0]!.data);
    feats.set(f[1]!.data, f[0]!.data.length);
    const ref = engineForward(m, feats, [2, 1, 64, 128]);
    const o = await om.run(wave, [2, n]);
    const d = maxAbsDiff(softmax(o.clipwise, 10), softmax(ref.clipwise, 10));
    assert.ok(d < 1e-4, `scores differ by ${d}`);
  });

  test('a waveform too short for reflect padding is refused by name', async () => {
    const c = resolveFeatureConfig({ ...FSDD, padMode: 'reflect' });
    const m = randomModel('small-cnn', { numClasses: 10, channels: [8] });
    models.push(m);
    const om = await load(
      exportModels([m], { classes: CLASSES, activation: 'softmax', featureConfig: c }, { frontend: true })
        .bytes,
    );
    await assert.rejects(
      om.run(new Float32Array(200), [1, 200]),
      /200 samples is too short for the front-end \(nFft 512, padMode reflect\): need at least 257/,
    );
    assert.equal((await om.run(new Float32Array(300).fill(0.1), [1, 300])).clipwise.length, 10);
  });

  test('configs the graph cannot express are refused, naming the key', () => {
    const m = randomModel('small-cnn', { numClasses: 10, channels: [8] });
    models.push(m);
    for (const [over, key] of [
      [{ background: { percentile: 50 } }, 'background'],
      [{ envelope: { target: new Array(64).fill(0), maxGainDb: 12 } }, 'envelope'],
      [{ format: 'apd' }, 'format'],
    ] as const) {
      const c = resolveFeatureConfig({ ...FSDD, ...over } as never);
      assert.throws(
        () =>
          exportModels(
            [m],
            { classes: CLASSES, activation: 'softmax', featureConfig: c },
            { frontend: true },
          ),
        new RegExp(`frontend: feature config key "${key}"`),
      );
    }
  });
});

describe('runtimes, quantization, ensembles', () => {
  const b = batch(FSDD);

  test('the same file runs in onnxruntime-node and onnxruntime-web (wasm) with the same scores', async () => {
    const m = randomModel('small-cnn', { numClasses: 10, channels: [8, 16, 16, 32] });
    models.push(m);
    const bytes = exportModels(
      [m],
      { classes: CLASSES, activation: 'softmax', featureConfig: FSDD },
      { frontend: true },
    ).bytes;
    const [n, w] = [await load(bytes, 'node'), await load(bytes, 'web')];
    assert.equal(w.backend, 'web');
    const [on, ow] = [await n.run(b.wave, b.waveDims), await w.run(b.wave, b.waveDims)];
    const d = maxAbsDiff(softmax(on.clipwise, 10), softmax(ow.clipwise, 10));
    assert.ok(d < 1e-4, `node and web differ by ${d}`);
    assert.ok(maxAbsDiff(on.embedding!, ow.embedding!) < 1e-3);
  });

  test("parallel 'batch' (one single-thread session per slice of the batch) gives the same outputs", async () => {
    const m = randomModel('crnn', { numClasses: 10, channels: [8, 8, 8], rnnHidden: 8 });
    models.push(m);
    const bytes = exportModels([m], { classes: CLASSES, activation: 'sigmoid', featureConfig: FSDD }).bytes;
    const one = await load(bytes);
    const split = await OnnxModel.load(bytes, { threads: 2, parallel: 'batch' });
    open.push(split);
    const [a, c] = [await one.run(b.feats, b.featDims), await split.run(b.feats, b.featDims)];
    assert.deepEqual(c.clipwiseDims, a.clipwiseDims);
    assert.deepEqual(c.framewiseDims, a.framewiseDims);
    assert.ok(maxAbsDiff(a.clipwise, c.clipwise) < 1e-6);
    assert.ok(maxAbsDiff(a.framewise!, c.framewise!) < 1e-6);
    assert.ok(maxAbsDiff(a.embedding!, c.embedding!) < 1e-6);
  });

  test('int8 weights: DequantizeLinear on int8 initialisers, ~4x smaller, scores close', async () => {
    const m = randomModel('small-cnn', { numClasses: 10, channels: [16, 32, 64, 128] });
    models.push(m);
    const info = { classes: CLASSES, activation: 'softmax' as const, featureConfig: FSDD };
    const f32 = exportModels([m], info);
    const q = exportModels([m], info, { quantize: 'int8' });
    assert.equal(q.meta.quantize, 'int8');
    assert.ok(q.bytes.length < f32.bytes.length / 3, `${q.bytes.length} vs ${f32.bytes.length} bytes`);
    const model = decodeModel(q.bytes);
    const graph = model.graph as NonNullable<typeof model.graph>;
    const dq = (graph.node ?? []).filter((n) => n.opType === 'DequantizeLinear');
    assert.equal(dq.length, q.quantized!.tensors);
    assert.ok(dq.length >= 4);
    const int8 = (graph.initializer ?? []).filter((t) => t.dataType === 3);
    assert.ok(int8.length >= dq.length);
    const [a, c] = [await load(f32.bytes), await load(q.bytes)];
    const [pa, pc] = [await a.run(b.feats, b.featDims), await c.run(b.feats, b.featDims)];
    const d = maxAbsDiff(softmax(pa.clipwise, 10), softmax(pc.clipwise, 10));
    assert.ok(d > 0 && d < 0.05, `int8 changed the scores by ${d}`);
  });

  test('several folds in one graph: scores are the mean of the fold models’ probabilities', async () => {
    const ms = [0, 1].map((s) => randomModel('small-cnn', { numClasses: 10, channels: [8, 16] }, s));
    models.push(...ms);
    const refs = ms.map((m) => softmax(engineForward(m, b.feats, b.featDims).clipwise, 10));
    const r = exportModels(ms, {
      classes: CLASSES,
      activation: 'softmax',
      featureConfig: FSDD,
      folds: [0, 1],
    });
    assert.deepEqual(r.meta.folds, [0, 1]);
    const om = await load(r.bytes);
    const o = await om.run(b.feats, b.featDims);
    const want = refs[0]!.map((v, i) => (v + refs[1]![i]!) / 2);
    const got = om.scores(o.clipwise);
    assert.ok(maxAbsDiff(got, want) < 1e-5, `ensemble ${maxAbsDiff(got, want)}`);
    // Hand check of one value: clip 0, class 3.
    assert.ok(Math.abs(got[3]! - (refs[0]![3]! + refs[1]![3]!) / 2) < 1e-5);
  });

  test('metadata round-trips; a file that is not an audiotag export is named', async () => {
    const m = randomModel('small-cnn', { numClasses: 10, channels: [8] });
    models.push(m);
    const r = exportModels([m], {
      classes: CLASSES,
      activation: 'sigmoid',
      featureConfig: FSDD,
      crop: { frames: 32, evalHop: 8 },
    });
    const om = await load(r.bytes);
    assert.deepEqual(om.meta.classes, CLASSES);
    assert.equal(om.meta.activation, 'sigmoid');
    assert.deepEqual(om.meta.featureConfig, FSDD);
    assert.deepEqual(om.meta.window, {
      frames: 32,
      evalMode: 'windows',
      hopFrames: 8,
      seconds: (32 * 128) / 8000,
      hopSeconds: (8 * 128) / 8000,
      samples: 31 * 128,
      pad: 'wrap',
      padValue: 0,
    });
    const g = new GraphBuilder();
    g.output(g.input('x', [1]), 'y');
    await assert.rejects(
      OnnxModel.load(g.toBytes()),
      /not an audiotag export \(metadata key "audiotag\.version" missing\)/,
    );
    await assert.rejects(OnnxModel.load(Uint8Array.of(1, 2, 3, 4)), /not an ONNX model/);
  });
});
