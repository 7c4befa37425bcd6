// The demo data generator (FluidSynth + espeak-ng, src/demo/) and the `audiotag demo` tour. The last test
// is the END-TO-END test: `audiotag demo --quick` from generation to the summary (about 3 minutes
// on 2 idle cores).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeWav } from '../../src/audio/wav.js';
import { parseCsv } from '../../src/data/csv.js';
import { checkDemoData, ensureDemoData, generateDemoData } from '../../src/demo/generate.js';
import { encodeMidi, varLen } from '../../src/demo/midi.js';
import { CLASSES, INSTRUMENTS, makePlan, SIZES, WORDS } from '../../src/demo/plan.js';
import { lwlrapBySplit, matchEvents, runTour, type TourContext, type TourStep } from '../../src/demo/tour.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'audiotag');
const tmp = mkdtempSync(join(tmpdir(), 'audiotag-demo-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();
}

function table(path: string): Record<string, string>[] {
  const t = parseCsv(readFileSync(path, 'utf8'), path);
  return t.rows.map((r) => Object.fromEntries(t.header.map((h, i) => [h, r.fields[i]!])));
}

describe('MIDI writer', () => {
  test('variable-length quantities and the file layout follow the SMF specification', () => {
    assert.deepEqual(varLen(0), [0x00]);
    assert.deepEqual(varLen(0x7f), [0x7f]);
    assert.deepEqual(varLen(0x80), [0x81, 0x00]);
    assert.deepEqual(varLen(0x3fff), [0xff, 0x7f]);
    assert.deepEqual(varLen(0x0fffffff), [0xff, 0xff, 0xff, 0x7f]);
    const b = encodeMidi(
      [
        { at: 0, type: 'program', channel: 0, program: 40 },
        { at: 0, type: 'note', channel: 0, key: 60, velocity: 100, duration: 200 },
      ],
      1000,
    );
    const hex = Buffer.from(b).toString('hex');
    // MThd, length 6, format 0, 1 track, 500 ticks per quarter
    assert.ok(hex.startsWith('4d546864000000060000000101f4'), hex);
    // MTrk body: tempo 500000 µs, program change, note on, note off after 200 ticks (0x81 0x48), end after 1000 (0x87 0x68)
    assert.ok(hex.endsWith('00ff510307a12000c02800903c648148803c008768ff2f00'), hex);
    assert.equal(new DataView(b.buffer).getUint32(18), b.length - 22);
    assert.throws(
      () => encodeMidi([{ at: 0, type: 'note', channel: 0, key: 60, velocity: 0, duration: 10 }]),
      /velocity must be 1\.\.127/,
    );
    assert.throws(
      () => encodeMidi([{ at: 0, type: 'program', channel: 16, program: 1 }]),
      /channel must be an integer 0\.\.15, got 16/,
    );
  });
});

describe('demo data', () => {
  const a = join(tmp, 'a');
  const b = join(tmp, 'b');

  test('the plan is a pure function of the seed: test sources never appear in training', () => {
    const p = makePlan(3, SIZES.quick);
    assert.deepEqual(makePlan(3, SIZES.quick), p);
    assert.notDeepEqual(makePlan(4, SIZES.quick).sources, p.sources);
    const used = new Map<number, string>();
    for (const c of p.clips)
      for (const pl of c.placements) {
        assert.ok(!used.has(pl.source), `source ${pl.source} used twice`);
        used.set(pl.source, c.split);
      }
    for (const e of p.long.events) assert.ok(!used.has(e.source));
    assert.deepEqual(CLASSES, [...INSTRUMENTS.map((i) => i.label), ...WORDS]);
    assert.throws(() => makePlan(-1, SIZES.tiny), /seed must be an integer/);
  });

  test('same seed → byte-identical WAVs and manifests, whatever the number of processes', async () => {
    const da = await generateDemoData({ dir: a, seed: 7, size: SIZES.tiny, jobs: 2 });
    const db = await generateDemoData({ dir: b, seed: 7, size: SIZES.tiny, jobs: 1 });
    assert.equal(da.info.digest, db.info.digest);
    const fa = files(a);
    assert.deepEqual(fa, files(b));
    for (const f of fa.filter((x) => x !== 'demo.json'))
      assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), `${f} differs`);
    const other = await generateDemoData({ dir: join(tmp, 'c'), seed: 8, size: SIZES.tiny });
    assert.notEqual(other.info.digest, da.info.digest);
  });

  test('manifests: labels, folds, noisy labels with their truth, audio files', () => {
    const size = SIZES.tiny;
    const curated = table(join(a, 'curated.csv'));
    const noisy = table(join(a, 'noisy.csv'));
    const testSet = table(join(a, 'test.csv'));
    assert.deepEqual(readFileSync(join(a, 'classes.txt'), 'utf8').trim().split('\n'), CLASSES);
    assert.equal(curated.length, CLASSES.length * size.curatedPerClass);
    assert.equal(testSet.length, CLASSES.length * size.testPerClass + size.testMixtures);
    assert.equal(noisy.length, size.noisy);
    // Curated: one label each, every class equally often, stratified over the folds.
    for (const c of CLASSES) {
      const rows = curated.filter((r) => r.labels === c);
      assert.equal(rows.length, size.curatedPerClass, c);
      assert.equal(new Set(rows.map((r) => r.fold)).size, Math.min(size.folds, size.curatedPerClass), c);
    }
    for (const r of curated) assert.ok(Number(r.fold) >= 0 && Number(r.fold) < size.folds);
    // Noisy: the manifest's labels differ from the truth exactly where a corruption is recorded.
    let corrupted = 0;
    for (const r of noisy) {
      for (const l of [...r.labels!.split(','), ...r.true_labels!.split(',')])
        assert.ok(CLASSES.includes(l), l);
      assert.equal(r.labels !== r.true_labels, r.corruption !== '', JSON.stringify(r));
      if (r.corruption !== '') corrupted++;
    }
    assert.ok(corrupted > 0 && corrupted < noisy.length, `${corrupted} corrupted`);
    assert.equal(testSet.filter((r) => r.labels!.includes(',')).length, size.testMixtures);
    // Audio: 16 kHz mono, 2 s, not silent, all different; names give nothing away.
    const names = [...curated, ...noisy, ...testSet].map((r) => r.fname!);
    const seen = new Set<string>();
    for (const n of names) {
      assert.match(n, /^(curated\/c|noisy\/n|test\/t)\d{4}\.wav$/);
      const bytes = readFileSync(join(a, 'audio', n));
      const au = decodeWav(bytes, n);
      assert.equal(au.sampleRate, 16000);
      assert.equal(au.channels.length, 1);
      assert.equal(au.channels[0]!.length, 32000);
      const peak = au.channels[0]!.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      assert.ok(peak > 0.05 && peak < 1, `${n} peak ${peak}`);
      seen.add(bytes.toString('base64'));
    }
    assert.equal(seen.size, names.length);
    const long = table(join(a, 'long.csv'));
    assert.ok(long.length >= 1);
    for (const e of long) assert.ok(Number(e.offset) > Number(e.onset) && CLASSES.includes(e.label!));
  });

  test('a word clip holds speech and an instrument clip holds a tone: their spectra differ as expected', () => {
    // A held note concentrates its energy in a few harmonics; speech and noise spread it. Measured as the
    // share of the spectrum's energy in its 20 strongest bins (of 1024), over the loudest 0.25 s.
    const curated = table(join(a, 'curated.csv'));
    const peakiness = (fname: string): number => {
      const x = decodeWav(readFileSync(join(a, 'audio', fname)), fname).channels[0]!;
      let best = 0;
      let at = 0;
      for (let i = 0; i + 4000 <= x.length; i += 1000) {
        let e = 0;
        for (let j = i; j < i + 4000; j++) e += x[j]! * x[j]!;
        if (e > best) [best, at] = [e, i];
      }
      const n = 2048;
      const mags: number[] = [];
      for (let k = 0; k < n / 2; k++) {
        let re = 0;
        let im = 0;
        for (let j = 0; j < n; j++) {
          const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * j) / n);
          re += x[at + j]! * w * Math.cos((2 * Math.PI * k * j) / n);
          im -= x[at + j]! * w * Math.sin((2 * Math.PI * k * j) / n);
        }
        mags.push(re * re + im * im);
      }
      const total = mags.reduce((s, v) => s + v, 0);
      return (
        mags
          .sort((p, q) => q - p)
          .slice(0, 20)
          .reduce((s, v) => s + v, 0) / total
      );
    };
    const of = (label: string) => curated.filter((r) => r.labels === label).map((r) => peakiness(r.fname!));
    const flute = Math.max(...of('flute'));
    const organ = Math.max(...of('organ'));
    const words = Math.max(...of('yes'), ...of('stop'));
    assert.ok(flute > 0.5 && organ > 0.5, `flute ${flute.toFixed(2)}, organ ${organ.toFixed(2)}`);
    assert.ok(words < Math.min(flute, organ), `words ${words.toFixed(2)}`);
  });

  test('a cached set is reused while intact and rebuilt when a file changed', async () => {
    assert.equal(await checkDemoData(a, 7, SIZES.tiny), null);
    assert.match((await checkDemoData(a, 8, SIZES.tiny))!, /seed 7, not 8/);
    const r1 = await ensureDemoData({ root: join(tmp, 'root'), seed: 7, size: SIZES.tiny });
    assert.equal(r1.cached, false);
    const r2 = await ensureDemoData({ root: join(tmp, 'root'), seed: 7, size: SIZES.tiny });
    assert.equal(r2.cached, true);
    const clip = join(r2.data.dir, 'audio', table(r2.data.curated)[0]!.fname!);
    const bytes = readFileSync(clip);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(clip, bytes);
    assert.match((await checkDemoData(r2.data.dir, 7, SIZES.tiny))!, /digest differs/);
    const log: string[] = [];
    const r3 = await ensureDemoData({
      root: join(tmp, 'root'),
      seed: 7,
      size: SIZES.tiny,
      log: (s) => log.push(s),
    });
    assert.equal(r3.cached, false);
    assert.equal(r3.data.info.digest, r1.data.info.digest);
    assert.ok(
      log.some((l) => /not used: files changed/.test(l)),
      log.join('\n'),
    );
  });
});

describe('tour', () => {
  test('steps without a command or a run are listed, not run; summary.json is written', async () => {
    const ran: string[] = [];
    const step = (id: string, command: string, run?: boolean): TourStep => ({
      id,
      title: id,
      command,
      commandLine: () => `audiotag ${command}`,
      run: run
        ? async () => {
            ran.push(id);
            return { result: `${id} ok`, scores: { x: 1 } };
          }
        : undefined,
    });
    const ctx: TourContext = {
      dataRoot: tmp,
      size: SIZES.tiny,
      seed: 0,
      quick: true,
      out: join(tmp, 'tour'),
      log: () => {},
      results: new Map(),
    };
    const s = await runTour(ctx, new Set(['train', 'predict']), [
      step('train', 'train', true),
      step('predict', 'predict', false),
      step('serve', 'serve', true),
    ]);
    assert.deepEqual(ran, ['train']);
    assert.deepEqual(
      s.steps.map((r) => r.status),
      ['done', 'not in the demo yet', 'not yet available'],
    );
    const saved = JSON.parse(readFileSync(join(tmp, 'tour', 'summary.json'), 'utf8'));
    assert.equal(saved.steps[0].scores.x, 1);
  });

  test('test lwlrap is split into single-label clips and mixtures', async () => {
    const pred = join(tmp, 'pred.csv');
    const man = join(tmp, 'man.csv');
    writeFileSync(pred, 'fname,a,b,c\nx.wav,0.9,0.05,0.05\ny.wav,0.1,0.2,0.7\nz.wav,0.5,0.1,0.4\n');
    writeFileSync(man, 'fname,labels\nx.wav,a\ny.wav,b\nz.wav,"a,c"\n');
    const r = await lwlrapBySplit(pred, man);
    // singles: x ranks a first (1), y ranks b second (1/2): label-weighted mean 0.75; the mixture z ranks
    // a and c first and second: 1.
    assert.equal(r.single, 0.75);
    assert.equal(r.mixtures, 1);
    writeFileSync(man, 'fname,labels\nx.wav,a\n');
    await assert.rejects(lwlrapBySplit(pred, man), /y\.wav is not in/);
  });

  test('events of the long recording are matched to the truth by label and overlap', () => {
    const truth = [
      { start: 1, end: 2, label: 'flute' },
      { start: 3, end: 4, label: 'yes' },
      { start: 6, end: 7, label: 'drums' },
    ];
    const found = [
      { start: 0.5, end: 1.5, label: 'flute' }, // overlaps the flute: right, finds it
      { start: 2.5, end: 3.5, label: 'no' }, // overlaps "yes" in time, wrong label
      { start: 4, end: 5, label: 'yes' }, // touches "yes" at its end only: no overlap
      { start: 6.5, end: 8, label: 'drums' },
    ];
    assert.deepEqual(matchEvents(truth, found), { recall: 2 / 3, precision: 2 / 4 });
    assert.ok(Number.isNaN(matchEvents(truth, []).precision));
    assert.equal(matchEvents(truth, []).recall, 0);
  });

  test('usage errors name the flag and exit 2', () => {
    for (const [args, re] of [
      [['--seed', 'x'], /--seed must be an integer >= 0, got "x"/],
      [['--epochs', '0'], /--epochs must be an integer >= 1, got "0"/],
      [['--fsdd', join(tmp, 'none')], /--fsdd: .* has no meta\.csv/],
    ] as const) {
      const r = spawnSync(process.execPath, [BIN, 'demo', ...args], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, re);
    }
  });

  // END-TO-END (issue 18): the whole quick tour from an empty cache: generation, the dataset reports,
  // k-fold training, evaluation with its report, the warm-up pipeline on the noisy set, predict on the test
  // clips and the long recording, ONNX export checked against the engine, the web service; the summary.
  test('END-TO-END: audiotag demo --quick runs every step from an empty cache to the summary', {
    timeout: 1_500_000,
  }, () => {
    const out = join(tmp, 'e2e-out');
    const r = spawnSync(
      process.execPath,
      [BIN, 'demo', '--quick', '--data-dir', join(tmp, 'e2e-data'), '--out', out],
      { encoding: 'utf8', timeout: 1_500_000, cwd: ROOT },
    );
    assert.equal(r.status, 0, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    type Step = { id: string; status: string; commandLine: string; scores: Record<string, number> };
    const by: Record<string, Step> = Object.fromEntries(s.steps.map((x: Step) => [x.id, x]));
    assert.deepEqual(
      s.steps.map((x: Step) => `${x.id}: ${x.status}`),
      ['data', 'inspect', 'train', 'evaluate', 'warmup', 'predict', 'export', 'serve'].map(
        (id) => `${id}: done`,
      ),
    );
    for (const st of s.steps as Step[]) assert.match(st.commandLine, /^bin\/audiotag /);
    const sc = (id: string, k: string) => {
      const v = by[id]!.scores[k];
      assert.equal(typeof v, 'number', `${id}.${k} missing`);
      return v!;
    };
    // 19 classes: chance lwlrap is about 0.2 (one label among 19 ranked at random); the quick models
    // must be well above it on held-out clips.
    assert.equal(sc('inspect', 'curated_clips'), 228);
    assert.equal(sc('inspect', 'curated_classes'), 19);
    assert.ok(sc('train', 'cv_lwlrap') > 0.6, `cv lwlrap ${sc('train', 'cv_lwlrap')}`);
    assert.ok(sc('evaluate', 'test_lwlrap') > 0.6, `test lwlrap ${sc('evaluate', 'test_lwlrap')}`);
    assert.ok(
      sc('warmup', 'warmup_test_lwlrap') > 0.4,
      `warm-up lwlrap ${sc('warmup', 'warmup_test_lwlrap')}`,
    );
    // predict scores the test clips as evaluate did (one 2 s window per 2 s clip).
    assert.ok(Math.abs(sc('predict', 'predict_lwlrap_single') - sc('evaluate', 'test_lwlrap_single')) < 1e-3);
    assert.ok(sc('predict', 'predict_top1_single') > 0.6, `top-1 ${sc('predict', 'predict_top1_single')}`);
    assert.ok(sc('predict', 'long_recall') > 0.3, `long recording recall ${sc('predict', 'long_recall')}`);
    assert.ok(sc('export', 'onnx_max_diff') < 1e-3);
    assert.ok(sc('serve', 'serve_top_score') > 0);
    for (const f of [
      'inspect/curated/report.html',
      'inspect/noisy/report.html',
      'train/report.html',
      'train/metrics.json',
      'test/report/report.html',
      'warmup/results.json',
      'warmup/test-predictions.csv',
      'predict/test/submission.csv',
      'predict/long/events.csv',
      'model.onnx',
      'serve-response.json',
    ])
      assert.ok(statSync(join(out, f)).size > 0, `${f} is empty`);
    const raven = readdirSync(join(out, 'predict', 'long', 'raven'));
    assert.equal(raven.length, 1);
    assert.match(
      readFileSync(join(out, 'predict', 'long', 'raven', raven[0]!), 'utf8'),
      /^Selection\tView\tChannel/,
    );
    assert.match(
      r.stdout,
      /demo finished in .*: test lwlrap 0\.\d{3} \(warm-up pipeline 0\.\d{3}\); 8\/8 steps ran/,
    );
    assert.match(r.stdout, /the web app on the trained model: bin\/audiotag serve --model /);
  });
});
