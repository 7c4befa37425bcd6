// `audiotag pipeline` on tiny real data (FSDD digits): the warm-up runs its four stages end to end, writes
// checkpoints, per-clip noisy scores and selection lists, and a crash in stage 3 resumes at that stage and
// fold with the same result as an uninterrupted run; other recipes run from the same config.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadManifest } from '../../src/data/index.js';
import { corruptLabels } from '../../src/noisy/labels.js';
import { writeFsd2019Manifest } from '../../src/noisy/manifest.js';
import { loadPipelineConfig } from '../../src/pipelines/config.js';
import { runPipeline } from '../../src/pipelines/recipes.js';

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'audiotag-noisy-pipeline-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG = `
train:
  seed: 0
  data: { manifest: curated.csv }
  features: { sampleRate: 8000, nFft: 256, hopLength: 128, nMels: 32, duration: 0.5, normalize: clip }
  model: { name: small-cnn, config: { channels: [8, 16], convsPerBlock: 1, dropout: 0 } }
  loader: { batchSize: 8, workers: 0, cacheDir: cache }
  train: { epochs: 2, optimizer: { lr: 0.01 }, metrics: [lwlrap], threads: 1, monitor: last }
noisy: noisy.csv
test: test.csv
folds: 2
warmup:
  select3: { minScore: 0.5, combine: geomean, capPerFoldLabel: 2 }
`;

before(async () => {
  const { dataset } = await loadManifest({
    path: join(root, '../shared/data/fsdd/meta.csv'),
    format: 'csv',
    csv: { pathCol: 'fname', labelCol: 'label', groupCol: 'speaker' },
  });
  const pick = (speaker: string, digits: string[], from: number, n: number) =>
    dataset.items.filter(
      (it) =>
        it.group === speaker &&
        digits.includes(it.labels[0]!) &&
        Number(it.meta.index) >= from &&
        Number(it.meta.index) < from + n,
    );
  const digits = ['0', '1', '2'];
  const curated = pick('jackson', digits, 0, 4);
  const noisy = pick('jackson', digits, 10, 6);
  const test = pick('theo', digits, 0, 3);
  const rows = (items: typeof curated) => items.map((it) => ({ path: it.path, labels: it.labels }));
  writeFsd2019Manifest(join(dir, 'curated.csv'), rows(curated));
  writeFsd2019Manifest(join(dir, 'test.csv'), rows(test));
  const bad = corruptLabels(
    noisy.map((it) => it.labels),
    digits,
    { rate: 0.3, seed: 1 },
  );
  writeFsd2019Manifest(
    join(dir, 'noisy.csv'),
    noisy.map((it, i) => ({
      path: it.path,
      labels: bad[i]!.labels,
      columns: { true_labels: bad[i]!.trueLabels.join(','), corruption: bad[i]!.corruption },
    })),
  );
  writeFileSync(join(dir, 'pipeline.yaml'), CONFIG);
});

const STAGES = ['stage1', 'stage2', 'stage3', 'stage4'];

describe('warm-up pipeline', () => {
  it('runs four stages, writes what a user inspects, and resumes after a crash with the same result', async () => {
    const config = loadPipelineConfig(join(dir, 'pipeline.yaml'));
    const straight = join(dir, 'straight');
    const r1 = await runPipeline('warmup', { config, out: straight });
    for (const s of STAGES)
      for (const f of [0, 1]) {
        for (const file of [
          'best/model.safetensors',
          'last/trainer.json',
          'done.json',
          'noisy-scores.csv',
          'test-probs.csv',
        ])
          assert.ok(existsSync(join(straight, s, `fold${f}`, file)), `${s}/fold${f}/${file}`);
      }
    const sel = readFileSync(join(straight, 'stage3', 'selection.csv'), 'utf8')
      .trim()
      .split('\n');
    assert.equal(sel[0], 'fname,fold,labels,true_labels,score,kept,reason');
    assert.equal(sel.length, 1 + 18);
    assert.ok(sel.slice(1).every((l) => /geomean of \[/.test(l)));
    // At most 2 per (fold, label): 2 folds × 3 labels.
    assert.ok(r1.selections.stage3!.kept <= 12);
    assert.deepEqual(r1.ensemble, ['stage2', 'stage3', 'stage4']);
    assert.equal(r1.test!.lwlrap!.per_fold.length, 2);
    const scores = readFileSync(join(straight, 'stage1', 'noisy-scores.csv'), 'utf8')
      .trim()
      .split('\n');
    assert.equal(scores.length, 1 + 18);
    assert.match(scores[0]!, /^fname,fold,labels,lwlrap,0,1,2$/);

    // Crash in stage 3, fold 1, after its first epoch; then the same command again.
    const resumed = join(dir, 'resumed');
    await assert.rejects(
      runPipeline('warmup', {
        config,
        out: resumed,
        onEpoch: (stage, fold, rec) => {
          if (stage === 'stage3' && fold === 1 && rec.epoch === 1) throw new Error('simulated crash');
        },
      }),
      /simulated crash/,
    );
    assert.ok(!existsSync(join(resumed, 'stage3', 'fold1', 'done.json')));
    const trained: string[] = [];
    const r2 = await runPipeline('warmup', {
      config,
      out: resumed,
      onEpoch: (stage, fold, rec) => trained.push(`${stage}/${fold}/${rec.epoch}`),
    });
    assert.deepEqual(trained, ['stage3/1/2', 'stage4/0/1', 'stage4/0/2', 'stage4/1/1', 'stage4/1/2']);
    assert.deepEqual(r2.test, r1.test);
    assert.deepEqual(r2.selections, r1.selections);
    for (const s of STAGES)
      assert.equal(
        readFileSync(join(resumed, s, 'noisy-scores.csv'), 'utf8'),
        readFileSync(join(straight, s, 'noisy-scores.csv'), 'utf8'),
        `${s} noisy scores`,
      );
  });

  it('a SIGKILLed `audiotag pipeline warmup` resumes to the same result', async () => {
    const out = join(dir, 'killed');
    const args = ['pipeline', 'warmup', '--config', join(dir, 'pipeline.yaml'), '--out', out, '--quiet'];
    const env = { ...process.env, AUDIOTAG_FROM_SOURCE: '1' };
    const child = spawn(join(root, 'bin/audiotag'), args, { env, stdio: 'ignore' });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    // Kill it once stage 2 has a finished fold: somewhere in stage 2 or 3.
    const marker = join(out, 'stage2', 'fold0', 'done.json');
    const t0 = Date.now();
    while (!existsSync(marker) && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await exited;
    assert.ok(!existsSync(join(out, 'results.json')), 'killed before the end');
    const r = spawnSync(join(root, 'bin/audiotag'), args, { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const straight = JSON.parse(readFileSync(join(dir, 'straight', 'results.json'), 'utf8'));
    const resumed = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    assert.deepEqual(resumed.test, straight.test);
    assert.equal(
      readFileSync(join(out, 'stage4', 'noisy-scores.csv'), 'utf8'),
      readFileSync(join(dir, 'straight', 'stage4', 'noisy-scores.csv'), 'utf8'),
    );
  });

  it('runs the other recipes from the same config: union with soft labels, distill from the warm-up', async () => {
    const soft = loadPipelineConfig(join(dir, 'pipeline.yaml'), [
      ['overrides.all.labels.cooccurrence.weight', 0.5],
    ]);
    const u = await runPipeline('union', { config: soft, out: join(dir, 'union') });
    assert.equal(u.stages[0]!.folds[0]!.train, 6 + 9);
    // Distillation across architectures: a cnn-model-1 student of the small-cnn warm-up ensemble.
    const d = loadPipelineConfig(join(dir, 'pipeline.yaml'), [
      ['distill.teacher', join(dir, 'straight')],
      ['distill.model', { name: 'cnn-model-1', config: { channels: [8, 16], hidden: 16 } }],
    ]);
    const r = await runPipeline('distill', { config: d, out: join(dir, 'distill') });
    assert.deepEqual(r.ensemble, ['student']);
    const ckpt = JSON.parse(
      readFileSync(join(dir, 'distill', 'student', 'fold0', 'best', 'config.json'), 'utf8'),
    );
    assert.equal(ckpt.model, 'cnn-model-1');
    assert.ok(r.test!.lwlrap!.mean > 0);
    // Pseudo-labels: the warm-up ensemble labels an unlabelled folder (4 digits of another speaker).
    const folder = join(dir, 'unlabelled');
    mkdirSync(folder);
    for (const f of ['0_lucas_20.wav', '1_lucas_20.wav', '2_lucas_20.wav', '2_lucas_21.wav'])
      copyFileSync(join(root, '../shared/data/fsdd/audio', f), join(folder, f));
    const pc = loadPipelineConfig(join(dir, 'pipeline.yaml'), [
      ['pseudo', { teacher: join(dir, 'straight'), folder, threshold: 0.3 }],
    ]);
    const ps = await runPipeline('pseudo', { config: pc, out: join(dir, 'pseudo') });
    const list = readFileSync(join(dir, 'pseudo', 'pseudo-labels.csv'), 'utf8')
      .trim()
      .split('\n');
    assert.equal(list[0], 'fname,labels,top,probability,kept');
    assert.equal(list.length, 5);
    const kept = list.slice(1).filter((l) => l.endsWith(',1')).length;
    assert.equal(ps.selections.pseudo!.kept, kept);
    assert.equal(ps.stages[0]!.folds[0]!.train, 6 + kept);
  });
});
