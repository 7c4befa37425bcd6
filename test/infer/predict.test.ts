// Tagger and `audiotag predict` on real FSDD clips with tiny runs trained here: scores against the
// training feature pipeline and the model run by hand, ensemble arithmetic against hand computations,
// every output format (header, columns, rows checked against the scores), bad files skipped, and a
// killed job resumed without redoing its finished files.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { loadAudio, writeWav } from '../../src/audio/index.js';
import { augmentationFromSpec } from '../../src/augment/index.js';
import { concatFloat32 } from '../../src/core/ndarray.js';
import { parseCsv } from '../../src/data/csv.js';
import * as E from '../../src/engine/index.js';
import { exportRun } from '../../src/export/export.js';
import { computeFeatures } from '../../src/features/compute.js';
import { decodeNpy } from '../../src/features/npy.js';
import { poolWindows } from '../../src/infer/ensemble.js';
import { RAVEN_COLUMNS } from '../../src/infer/formats.js';
import { predict } from '../../src/infer/job.js';
import { Tagger } from '../../src/infer/tagger.js';
import { lwlrapPerClass } from '../../src/metrics/index.js';
import { createModel, loadModel, saveModel } from '../../src/models/index.js';
import { readCheckpointConfig } from '../../src/nn/checkpoint.js';
import { FSDD, FSDD_AUDIO, ROOT, runCli, tempDir, tinyRun } from './helpers.js';

const dir = tempDir();
const clips = ['2_theo_0.wav', '0_george_5.wav', '1_theo_7.wav', '2_george_9.wav'];
const input = join(dir, 'in');
let runA = '';
let runB = '';
let longSamples: Float32Array;

const near = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};
const csv = (path: string) => parseCsv(readFileSync(path, 'utf8'), path);

before(async () => {
  runA = await tinyRun(dir, 'a', 3);
  runB = await tinyRun(dir, 'b', 4);
  mkdirSync(input);
  for (const c of clips) copyFileSync(join(FSDD_AUDIO, c), join(input, c));
  writeFileSync(join(input, 'bad.wav'), 'not audio');
  // A 2.6 s recording: five digits one after the other.
  const parts = await Promise.all(
    ['0_jackson_0.wav', '1_jackson_0.wav', '2_jackson_0.wav', '1_george_0.wav', '0_theo_2.wav'].map((n) =>
      loadAudio(join(FSDD_AUDIO, n)),
    ),
  );
  longSamples = concatFloat32(parts.map((p) => p.channels[0]!));
  await writeWav(
    join(input, 'long.wav'),
    { sampleRate: 8000, channels: [longSamples] },
    { format: 'float32' },
  );
});

/** The fold model run by hand on features computed with the training pipeline. */
function byHand(ckpt: string, samples: Float32Array): Float32Array {
  const { model, config } = loadModel(ckpt);
  try {
    const x = computeFeatures(samples, 8000, config.featureConfig as never);
    return E.noGrad(() =>
      E.tidy(() =>
        model
          .call(E.fromNDArray({ data: x.data as Float32Array, shape: [1, 1, ...x.shape] }))
          .clipwise.softmax(1)
          .toFloat32Array(),
      ),
    );
  } finally {
    model.dispose();
  }
}

describe('Tagger', () => {
  test('scores, windows, events and embeddings come from the checkpoint as training computed them', async () => {
    const ckpt = join(runA, 'fold0', 'best');
    const t = await Tagger.load(ckpt);
    try {
      assert.deepEqual(t.classes, readCheckpointConfig(ckpt).classes);
      const a = await loadAudio(join(input, clips[0]!));
      const r = await t.tag(join(input, clips[0]!), { embeddings: true, threshold: 0.2 });
      assert.equal(r.windows.length, 1, 'a clip shorter than the 1 s window is one window');
      assert.equal(r.windows[0]!.start, 0);
      assert.equal(r.windows[0]!.end, a.channels[0]!.length / 8000);
      near(r.clip, byHand(ckpt, a.channels[0]!), 1e-5, 'clip vs hand');
      assert.equal(r.embeddings!.dim, 16, 'the 16 pooled channels feeding the classifier');
      assert.equal(r.embeddings!.data.length, 16);
      assert.deepEqual(
        r.events.map((e) => e.label).sort(),
        t.classes.filter((_, j) => r.clip[j]! >= 0.2).sort(),
      );
      // The long recording: 1 s windows every 0.5 s; window 2 is samples [8000, 16000).
      const long = await t.tag({ samples: longSamples, sampleRate: 8000 }, { id: 'long' });
      assert.equal(long.duration, longSamples.length / 8000);
      assert.deepEqual(
        long.windows.map((w) => w.start),
        Array.from({ length: Math.ceil((longSamples.length - 8000) / 4000) + 1 }, (_, i) => i * 0.5),
      );
      near(long.windows[2]!.scores, byHand(ckpt, longSamples.slice(8000, 16000)), 1e-5, 'window 2 vs hand');
      const mean = t.classes.map(
        (_, j) => long.windows.reduce((s, w) => s + w.scores[j]!, 0) / long.windows.length,
      );
      near(long.clip, mean, 1e-6, 'clip = mean of windows (the run aggregated by mean)');
      // From a file, the same numbers.
      const fromFile = await t.tag(join(input, 'long.wav'));
      near(fromFile.windows[2]!.scores, long.windows[2]!.scores, 1e-6, 'file vs samples');
      await assert.rejects(t.tag(join(input, 'bad.wav')), /bad\.wav.*not an audio file/);
    } finally {
      await t.dispose();
    }
  });

  test('TTA: shifted copies averaged (by hand), augmented copies seeded', async () => {
    const ckpt = join(runA, 'fold0', 'best');
    const x = { samples: longSamples, sampleRate: 8000 };
    const tag = async (o: Parameters<typeof Tagger.load>[1]) => {
      const t = await Tagger.load(ckpt, o);
      try {
        return await t.tag(x, { id: 'long' });
      } finally {
        await t.dispose();
      }
    };
    const two = await tag({ tta: 2 });
    // Window 2 starts at sample 8000; its second copy is shifted back by hop/2 = 2000 samples.
    const p0 = byHand(ckpt, longSamples.slice(8000, 16000));
    const p1 = byHand(ckpt, longSamples.slice(6000, 14000));
    near(
      two.windows[2]!.scores,
      Array.from(p0, (v, j) => (v + p1[j]!) / 2),
      1e-5,
      'tta 2 vs hand',
    );
    const off = { name: 'SpecTimeMask', p: 0, count: 2, maxWidth: 20 };
    const on = { ...off, p: 1 };
    near(
      (await tag({ tta: 2, ttaAugment: augmentationFromSpec(off) as never })).clip,
      two.clip,
      1e-7,
      'p = 0 is no augmentation',
    );
    const masked = await tag({ tta: 2, ttaAugment: augmentationFromSpec(on) as never });
    assert.ok(
      masked.clip.some((v, j) => Math.abs(v - two.clip[j]!) > 1e-4),
      'masks change the scores',
    );
    near(
      (await tag({ tta: 2, ttaAugment: augmentationFromSpec(on) as never })).clip,
      masked.clip,
      0,
      'seeded',
    );
  });

  test('frame-wise scores and attention pooling for a SED model', async () => {
    const ckpt = join(dir, 'sed');
    const classes = ['a', 'b', 'c'];
    const config = { numClasses: 3, melBins: 32, channels: [8, 16], dropout: 0 };
    E.manualSeed(1);
    const model = createModel('sed', config);
    const featureConfig = readCheckpointConfig(join(runA, 'fold0', 'best')).featureConfig;
    saveModel(ckpt, model, { classes, activation: 'sigmoid', featureConfig, crop: null, aggregate: 'mean' });
    model.dispose();
    const t = await Tagger.load(ckpt);
    try {
      assert.equal(t.defaultPooling(), 'attention');
      const r = await t.tag({ samples: longSamples, sampleRate: 8000 }, { frames: true, embeddings: true });
      assert.equal(r.frames!.length, r.windows.length);
      // 1 s windows of 8000 samples at hop 128: 63 frames, frame-wise output at the input's frame rate.
      assert.equal(r.frames![0]!.scores.length, 63 * 3);
      assert.equal(r.frames![1]!.start, 0.5);
      assert.ok(Math.abs(r.frames![0]!.hopSeconds - 1 / 63) < 1e-9);
      assert.ok(
        r.frames!.every((f) => f.scores.every((v) => v > 0 && v < 1)),
        'sigmoid scores',
      );
      assert.equal(r.embeddings!.dim, 16);
      const c = 3;
      const n = r.windows.length;
      const flat = new Float32Array(n * c);
      r.windows.forEach((w, i) => {
        flat.set(w.scores, i * c);
      });
      near(r.clip, poolWindows(flat, n, c, 'attention'), 1e-7, 'attention pooling');
    } finally {
      await t.dispose();
    }
  });

  test('ensembles: mean, geometric, weights by hand and from out-of-fold lwlrap, rank', async () => {
    const path = join(input, clips[1]!);
    const single = async (run: string, f: number) => {
      const t = await Tagger.load(join(run, `fold${f}`, 'best'));
      try {
        return await t.tag({ samples: longSamples, sampleRate: 8000 });
      } finally {
        await t.dispose();
      }
    };
    const [a0, a1, b0, b1] = [
      await single(runA, 0),
      await single(runA, 1),
      await single(runB, 0),
      await single(runB, 1),
    ];
    const c = a0.classes.length;
    const flat = (r: typeof a0) => {
      const out = new Float32Array(r.windows.length * c);
      r.windows.forEach((w, i) => {
        out.set(w.scores, i * c);
      });
      return out;
    };
    const [A0, A1, B0, B1] = [flat(a0), flat(a1), flat(b0), flat(b1)];
    const check = async (
      model: string | string[],
      opts: Parameters<typeof Tagger.load>[1],
      want: (i: number) => number,
      what: string,
    ) => {
      const t = await Tagger.load(model, opts);
      try {
        const r = await t.tag({ samples: longSamples, sampleRate: 8000 });
        near(
          flat(r),
          Array.from(A0, (_, i) => want(i)),
          2e-6,
          what,
        );
      } finally {
        await t.dispose();
      }
    };
    await check(runA, {}, (i) => (A0[i]! + A1[i]!) / 2, 'mean of the folds');
    await check(runA, { ensemble: 'geometric' }, (i) => Math.sqrt(A0[i]! * A1[i]!), 'geometric');
    await check(
      [runA, runB],
      { weights: [1, 3] },
      (i) => (A0[i]! + A1[i]! + 3 * B0[i]! + 3 * B1[i]!) / 8,
      'weights 1, 3',
    );
    // Out-of-fold per-class lwlrap of each run, from its oof.csv and the manifest's labels.
    const truth = new Map(csv(join(FSDD, 'meta.csv')).rows.map((r) => [r.fields[0]!, r.fields[1]!]));
    const lw = (run: string) => {
      const oof = csv(join(run, 'oof.csv'));
      const classes = oof.header.slice(1);
      const rows = oof.rows.length;
      const scores = Float32Array.from(oof.rows.flatMap((r) => r.fields.slice(1).map(Number)));
      const hot = Float32Array.from(
        oof.rows.flatMap((r) => classes.map((k) => (truth.get(r.fields[0]!) === k ? 1 : 0))),
      );
      return Array.from(
        lwlrapPerClass({ data: scores, shape: [rows, c] }, { data: hot, shape: [rows, c] }).perClass,
      );
    };
    const [wa, wb] = [lw(runA), lw(runB)];
    assert.notDeepEqual(wa, wb);
    await check(
      [runA, runB],
      { weights: 'oof' },
      (i) => {
        const j = i % c;
        return (wa[j]! * (A0[i]! + A1[i]!) + wb[j]! * (B0[i]! + B1[i]!)) / (2 * wa[j]! + 2 * wb[j]!);
      },
      'oof lwlrap weights',
    );
    // Rank: each model's scores ranked per class over the windows (ties averaged), ranks averaged.
    const rank = (m: Float32Array, i: number) => {
      const j = i % c;
      const col = Array.from({ length: m.length / c }, (_, r) => m[r * c + j]!);
      const v = m[i]!;
      const below = col.filter((x) => x < v).length;
      const equal = col.filter((x) => x === v).length;
      return (below + (equal + 1) / 2) / col.length;
    };
    await check(
      [join(runA, 'fold0', 'best'), join(runB, 'fold0', 'best')],
      { ensemble: 'rank' },
      (i) => (rank(A0, i) + rank(B0, i)) / 2,
      'rank average',
    );
    assert.ok(existsSync(path));
  });
});

describe('thresholds tuned on out-of-fold scores', () => {
  test("per class, the best-F1 threshold of the run's oof.csv against the manifest's labels", async () => {
    const t = await Tagger.load(runA);
    try {
      const tuned = await t.tunedThresholds();
      const truth = new Map(csv(join(FSDD, 'meta.csv')).rows.map((r) => [r.fields[0]!, r.fields[1]!]));
      const oof = csv(join(runA, 'oof.csv'));
      assert.equal(tuned.clips, oof.rows.length);
      t.classes.forEach((k, j) => {
        const col = oof.header.indexOf(k);
        const f1 = (th: number) => {
          let tp = 0;
          let fp = 0;
          let fn = 0;
          for (const r of oof.rows) {
            const p = Number(r.fields[col]) >= th;
            const y = truth.get(r.fields[0]!) === k;
            if (p && y) tp++;
            else if (p) fp++;
            else if (y) fn++;
          }
          return (2 * tp) / (2 * tp + fp + fn);
        };
        const grid = Array.from({ length: 99 }, (_, i) => (i + 1) / 100);
        const best = Math.max(...grid.map(f1));
        assert.equal(
          tuned.thresholds[j],
          grid.find((th) => f1(th) === best),
          `class ${k}`,
        );
        assert.ok(Math.abs(tuned.f1[j]! - best) < 1e-12);
      });
    } finally {
      await t.dispose();
    }
  });
});

describe('audiotag predict', () => {
  test('every output format on a folder; the bad file is reported and skipped', async () => {
    const out = join(dir, 'out');
    const r = await runCli([
      'predict',
      '--model',
      runA,
      input,
      '--out',
      out,
      '--threshold',
      '0.4',
      '--workers',
      '1',
      '--format',
      'kaggle,top3,windows,events,raven,audacity,jsonl,embeddings',
    ]);
    assert.equal(r.code, 1, `exit 1 when a file was skipped: ${r.stderr}`);
    assert.match(r.stderr, /skipped 1 file\(s\)[\s\S]*bad\.wav: not an audio file/);
    assert.match(r.stdout, /5 file\(s\) tagged/);
    assert.deepEqual(
      csv(join(out, 'skipped.csv')).rows.map((x) => x.fields[0]),
      ['bad.wav'],
    );
    // The ensemble of runA's two folds, in-process.
    const t = await Tagger.load(runA);
    const expected = new Map<string, Awaited<ReturnType<Tagger['tag']>>>();
    try {
      for (const f of [...clips, 'long.wav'])
        expected.set(f, await t.tag(join(input, f), { threshold: 0.4 }));
    } finally {
      await t.dispose();
    }
    const classes = ['0', '1', '2'];
    // windows.csv: file,start,end,<classes>; one row per window.
    const win = csv(join(out, 'windows.csv'));
    assert.deepEqual(win.header, ['file', 'start', 'end', ...classes]);
    const long = expected.get('long.wav')!;
    const longRows = win.rows.filter((x) => x.fields[0] === 'long.wav');
    assert.equal(longRows.length, long.windows.length);
    assert.deepEqual(longRows[3]!.fields.slice(1, 3), ['1.5', '2.5']);
    near(longRows[3]!.fields.slice(3).map(Number), long.windows[3]!.scores, 1e-5, 'windows.csv row');
    assert.equal(win.rows.length, 4 + long.windows.length, 'the 4 clips have one window each');
    // submission.csv (kaggle): fname,<classes>; the clip score is the mean of the windows.
    const sub = csv(join(out, 'submission.csv'));
    assert.deepEqual(sub.header, ['fname', ...classes]);
    assert.deepEqual(
      sub.rows.map((x) => x.fields[0]),
      [...clips].sort().concat('long.wav').sort(),
    );
    const subLong = sub.rows
      .find((x) => x.fields[0] === 'long.wav')!
      .fields.slice(1)
      .map(Number);
    near(
      subLong,
      classes.map((_, j) => longRows.reduce((s, x) => s + Number(x.fields[3 + j]), 0) / longRows.length),
      2e-5,
      'kaggle row',
    );
    // top3.csv: the classes of the kaggle row, best first.
    const top = csv(join(out, 'top3.csv'));
    assert.deepEqual(top.header, ['fname', 'label']);
    const byScore = classes
      .map((k, j) => [k, subLong[j]!] as const)
      .sort((x, y) => y[1] - x[1])
      .map((x) => x[0]);
    assert.equal(top.rows.find((x) => x.fields[0] === 'long.wav')!.fields[1], byScore.join(' '));
    // events.csv: file,start,end,label,confidence; for a one-window clip, one event per class ≥ 0.4.
    const ev = csv(join(out, 'events.csv'));
    assert.deepEqual(ev.header, ['file', 'start', 'end', 'label', 'confidence']);
    const clip = expected.get(clips[0]!)!;
    assert.deepEqual(
      ev.rows.filter((x) => x.fields[0] === clips[0]).map((x) => [x.fields[3], Number(x.fields[4])]),
      classes.flatMap((k, j) => (clip.clip[j]! >= 0.4 ? [[k, Number(clip.clip[j]!.toPrecision(6))]] : [])),
    );
    const longEvents = ev.rows.filter((x) => x.fields[0] === 'long.wav');
    assert.deepEqual(
      longEvents.map((x) => x.fields.slice(1, 4).join(' ')),
      long.events.map(
        (e) => `${Math.round(e.start * 1e4) / 1e4} ${Math.round(e.end * 1e4) / 1e4} ${e.label}`,
      ),
    );
    // Raven: BirdNET-Analyzer's columns; one table per file; the rows are the events.
    const raven = readFileSync(join(out, 'raven', 'long.selections.txt'), 'utf8')
      .trimEnd()
      .split('\n');
    assert.equal(raven[0], RAVEN_COLUMNS.join('\t'));
    assert.equal(raven.length, 1 + long.events.length);
    if (long.events.length > 0) {
      const f = raven[1]!.split('\t');
      assert.deepEqual(f.slice(0, 3), ['1', 'Spectrogram 1', '1']);
      assert.deepEqual(f.slice(5, 8), ['0', '4000', long.events[0]!.label]);
      assert.equal(f[9], join(input, 'long.wav'));
    }
    // Audacity: start<TAB>end<TAB>label per event.
    const aud = readFileSync(join(out, 'audacity', 'long.txt'), 'utf8');
    assert.equal(
      aud,
      long.events
        .map((e) => `${Math.round(e.start * 1e4) / 1e4}\t${Math.round(e.end * 1e4) / 1e4}\t${e.label}\n`)
        .join(''),
    );
    // jsonl: {file, start, end, scores: {class: score}} per window.
    const jl = readFileSync(join(out, 'windows.jsonl'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(jl.length, win.rows.length);
    const j3 = jl.filter((x) => x.file === 'long.wav')[3];
    assert.deepEqual(Object.keys(j3.scores), classes);
    near(
      classes.map((k) => j3.scores[k]),
      long.windows[3]!.scores,
      1e-6,
      'jsonl row',
    );
    // embeddings.npy [windows, 16] + embeddings.csv.
    const npy = decodeNpy(new Uint8Array(readFileSync(join(out, 'embeddings.npy'))));
    assert.deepEqual(npy.shape, [win.rows.length, 16]);
    const idx = csv(join(out, 'embeddings.csv'));
    assert.deepEqual(idx.header, ['row', 'file', 'start', 'end']);
    assert.deepEqual(
      idx.rows.map((x) => x.fields[1]),
      win.rows.map((x) => x.fields[0]),
    );
  });

  test('a Kaggle sample submission sets the rows and the column order', async () => {
    const sample = join(dir, 'sample_submission.csv');
    writeFileSync(sample, `fname,2,0,1\n${clips[2]},0,0,0\n${clips[0]},0,0,0\n`);
    const out = join(dir, 'out-kaggle');
    const r = await runCli([
      'predict',
      '--model',
      join(runA, 'fold0', 'best'),
      sample,
      '--audio-dir',
      input,
      '--out',
      out,
      '--format',
      'kaggle',
      '--workers',
      '0',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const sub = csv(join(out, 'submission.csv'));
    assert.deepEqual(sub.header, ['fname', '2', '0', '1']);
    assert.deepEqual(
      sub.rows.map((x) => x.fields[0]),
      [clips[2], clips[0]],
    );
    const t = await Tagger.load(join(runA, 'fold0', 'best'));
    try {
      const p = (await t.tag(join(input, clips[0]!))).clip;
      near(sub.rows[1]!.fields.slice(1).map(Number), [p[2]!, p[0]!, p[1]!], 1e-5, 'reordered row');
    } finally {
      await t.dispose();
    }
  });

  test('an ONNX export tags like the engine, with libtorch hidden', async () => {
    const onnx = join(dir, 'a0.onnx');
    writeFileSync(onnx, exportRun(join(runA, 'fold0', 'best'), { frontend: true }).bytes);
    const a = join(dir, 'out-engine');
    const b = join(dir, 'out-onnx');
    const common = [input, '--format', 'jsonl,kaggle', '--workers', '0'];
    const re = await runCli(['predict', '--model', join(runA, 'fold0', 'best'), ...common, '--out', a]);
    const ro = await runCli(['predict', '--model', onnx, ...common, '--out', b], ROOT, {
      AUDIOTAG_NATIVE: join(dir, 'no-such-addon.node'),
    });
    assert.equal(re.code, 1, re.stderr);
    assert.equal(ro.code, 1, `only bad.wav is skipped without libtorch: ${ro.stderr}`);
    assert.match(ro.stderr, /bad\.wav/);
    assert.match(ro.stdout, /5 file\(s\) tagged/);
    const rows = (d: string) =>
      readFileSync(join(d, 'windows.jsonl'), 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as { file: string; start: number; scores: Record<string, number> });
    const [x, y] = [rows(a), rows(b)];
    assert.deepEqual(
      y.map((r) => [r.file, r.start]),
      x.map((r) => [r.file, r.start]),
    );
    x.forEach((r, i) => {
      near(Object.values(y[i]!.scores), Object.values(r.scores), 1e-4, `${r.file}@${r.start}`);
    });
  });

  test('a killed job resumes without redoing finished files', async () => {
    // Three files, then a FIFO (opening it blocks until a writer comes: the job is caught mid-way every
    // time, however fast the machine), then 21 more.
    const first3 = join(dir, 'first3');
    const rest = join(dir, 'rest');
    mkdirSync(first3);
    mkdirSync(rest);
    const names = ['george', 'theo'].flatMap((s) =>
      [0, 1, 2].flatMap((d) => [10, 11, 12, 13].map((k) => `${d}_${s}_${k}.wav`)),
    );
    names.forEach((n, i) => {
      copyFileSync(join(FSDD_AUDIO, n), join(i < 3 ? first3 : rest, n));
    });
    const fifo = join(dir, 'blocking.wav');
    execFileSync('mkfifo', [fifo]);
    const total = names.length + 1;
    const out = join(dir, 'out-resume');
    const done = join(out, '.predict', 'done.jsonl');
    const args = [
      'predict',
      '--model',
      runA,
      first3,
      fifo,
      rest,
      '--format',
      'windows,kaggle',
      '--batch-size',
      '1',
      '--workers',
      '0',
    ];
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args, '--out', out],
      { cwd: ROOT, stdio: 'ignore' },
    );
    const exited = new Promise((r) => child.on('exit', r));
    const lines = () =>
      existsSync(done)
        ? readFileSync(done, 'utf8')
            .split('\n')
            .filter((l) => l !== '').length
        : 0;
    while (lines() < 3) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await exited;
    const before = lines();
    assert.equal(before, 3, 'killed while it waited on the FIFO, after the first three files');
    // The blocking input becomes a real recording for the rest of the test.
    rmSync(fifo);
    copyFileSync(join(FSDD_AUDIO, '9_theo_10.wav'), fifo);
    assert.ok(!existsSync(join(out, 'windows.csv')), 'no table before the job finished');
    const first = JSON.parse(readFileSync(done, 'utf8').split('\n')[0]!) as { file: string };
    const mtime = statSync(join(out, '.predict', 'results', first.file)).mtimeMs;
    const r = await runCli([...args, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${total - before} file\\(s\\) tagged .*, ${before} already done`));
    assert.equal(
      statSync(join(out, '.predict', 'results', first.file)).mtimeMs,
      mtime,
      'a finished file is not redone',
    );
    const ids = readFileSync(done, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l).id);
    assert.equal(new Set(ids).size, total);
    assert.equal(ids.length, total, 'each file done once');
    // Same tables as an uninterrupted job.
    const fresh = join(dir, 'out-fresh');
    assert.equal((await runCli([...args, '--out', fresh])).code, 0);
    assert.equal(
      readFileSync(join(out, 'windows.csv'), 'utf8'),
      readFileSync(join(fresh, 'windows.csv'), 'utf8'),
    );
    assert.equal(
      readFileSync(join(out, 'submission.csv'), 'utf8'),
      readFileSync(join(fresh, 'submission.csv'), 'utf8'),
    );
    // Another model in the same --out is refused.
    await assert.rejects(
      predict({
        models: [runB],
        inputs: [first3, fifo, rest],
        out,
        formats: ['windows'],
        tagger: { workers: 0 },
      }),
      /holds results of another job.*force: true/,
    );
  });
});
