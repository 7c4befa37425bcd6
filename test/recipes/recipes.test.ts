// The seed recipes (configs/recipes/, docs/recipes.md) end to end on real clips laid out in each
// competition's format by `audiotag dataset convert`: ESC-10 as Freesound 2019, Freesound 2018 and
// BirdCLEF, FSDD as Speech Commands. Each recipe runs its documented command sequence (convert → train or
// pipeline → predict → the submission) with overrides for a tiny run: 1 epoch, 2 folds, a few clips per
// class, narrow models and short crops. The checks are on the files a competition expects: the
// submission's header, its rows in the sample submission's order, scores that are probabilities.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseCsv } from '../../src/data/csv.js';
import { loadManifest, readSampleSubmission } from '../../src/data/index.js';
import { scoreFiles } from '../../src/metrics/node/submission.js';
import { loadPipelineConfig, stageTrainConfig } from '../../src/pipelines/config.js';
import { loadTrainConfig } from '../../src/train/config.js';
import { runMain as run } from '../cli/helpers.js';

const ROOT = join(import.meta.dirname, '../..');
const ESC = join(ROOT, '../shared/data/esc10/meta.csv');
const FSDD = join(ROOT, '../shared/data/fsdd/meta.csv');
const RECIPES = join(ROOT, 'configs/recipes');
const tmp = mkdtempSync(join(tmpdir(), 'audiotag-recipes-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function ok(...args: string[]): Promise<void> {
  const r = await run(...args);
  assert.equal(r.code, 0, `audiotag ${args.join(' ')}\n${r.err.slice(-2000)}`);
}

/** `audiotag score` through its library function (its CLI prints to stdout). */
async function score(truth: string, pred: string, metrics?: string[]): Promise<Record<string, number>> {
  const r = await scoreFiles(truth, pred, metrics ? { metrics } : {});
  return r as unknown as Record<string, number>;
}

function table(path: string): { header: string[]; rows: string[][] } {
  const t = parseCsv(readFileSync(path, 'utf8'), path);
  return { header: t.header, rows: t.rows.map((r) => r.fields) };
}

/** A wide submission: the template's header and ids in order, every score a probability. */
function checkWide(sub: string, template: string): void {
  const s = table(sub);
  const t = table(template);
  assert.deepEqual(s.header, t.header, 'the sample submission header');
  assert.deepEqual(
    s.rows.map((r) => r[0]),
    t.rows.map((r) => r[0]),
    'the sample submission rows, in order',
  );
  for (const r of s.rows) {
    assert.equal(r.length, t.header.length);
    for (const v of r.slice(1)) assert.ok(Number(v) >= 0 && Number(v) <= 1, `score ${v} of ${r[0]}`);
  }
  // Not a constant table: the model tells clips apart.
  assert.ok(new Set(s.rows.map((r) => r.slice(1).join(','))).size > 1, 'every row has the same scores');
}

/** A `fname,label` submission of top-3 lists over the known classes. */
function checkTop3(sub: string, template: string, classes: readonly string[]): void {
  const s = table(sub);
  const t = table(template);
  assert.deepEqual(s.header, ['fname', 'label']);
  assert.deepEqual(
    s.rows.map((r) => r[0]),
    t.rows.map((r) => r[0]),
  );
  for (const r of s.rows) {
    const labels = r[1]!.split(' ');
    assert.equal(labels.length, 3, `${r[0]}: ${r[1]}`);
    for (const l of labels) assert.ok(classes.includes(l), `${r[0]}: unknown class ${l}`);
  }
}

// One conversion per layout, shared by the recipes that read it.
const DATA = {
  fat2019: join(tmp, 'fat2019'),
  fsd2018: join(tmp, 'fsd2018'),
  birdclef: join(tmp, 'birdclef'),
  speech30: join(tmp, 'speech30'),
};
/** A tiny run: 1 epoch, 2 folds, in-process loading. */
const TINY = [
  '--train.epochs',
  '1',
  '--folds.k',
  '2',
  '--loader.workers',
  '0',
  '--loader.batchSize',
  '8',
  '--quiet',
];

/** `audiotag train` of a recipe on `manifest`, tiny; `extra` flags last. */
const train = (recipe: string, out: string, manifest: string, ...extra: string[]) =>
  ok(
    ...['train', '--config', join(RECIPES, recipe), '--out', out, '--data.manifest', manifest],
    ...TINY,
    ...extra,
  );

/** A tiny pipeline run on the fat2019 layout `d`: 2 folds, 1 epoch, in-process loading, 64-frame crops. */
const tinyPipeline = (d: string) => [
  ...['--curated', join(d, 'train_curated.csv'), '--noisy', join(d, 'train_noisy.csv'), '--folds', '2'],
  ...['--minSteps', 'null', '--overrides.all.train.epochs', '1', '--overrides.all.loader.workers', '0'],
  ...['--overrides.all.loader.batchSize', '8', '--overrides.all.crop.frames', '64'],
  ...['--overrides.all.crop.evalHop', '64', '--quiet'],
];

/** `audiotag predict --format kaggle` of `models` over `d`'s sample submission; the submission's path. */
async function kaggle(models: string[], d: string, name: string, ...extra: string[]): Promise<string> {
  const out = join(tmp, name);
  await ok(
    'predict',
    ...models.flatMap((m) => ['--model', m]),
    join(d, 'sample_submission.csv'),
    ...['--out', out, '--format', 'kaggle', ...extra, '--workers', '0', '--quiet'],
  );
  return join(out, 'submission.csv');
}

// The conversions, once for the whole file (every recipe below reads one).
before(async () => {
  for (const to of ['fat2019', 'fsd2018', 'birdclef'] as const)
    await ok(
      'dataset',
      'convert',
      ESC,
      '--to',
      to,
      '--out',
      DATA[to],
      '--per-class',
      '4',
      '--clips-per-soundscape',
      '3',
    );
  await ok(
    ...['dataset', 'convert', FSDD, '--path-col', 'fname', '--label-col', 'label', '--group-col', 'speaker'],
    ...['--to', 'speech30', '--out', DATA.speech30, '--per-class', '6'],
  );
});

describe('audiotag dataset convert: every layout is read back by the toolkit', () => {
  test('fat2019: curated, noisy (labels corrupted at the rate, truth beside) and test never share a clip', async () => {
    const curated = (await loadManifest({ path: join(DATA.fat2019, 'train_curated.csv') })).dataset;
    const noisy = (await loadManifest({ path: join(DATA.fat2019, 'train_noisy.csv') })).dataset;
    const sub = await readSampleSubmission(join(DATA.fat2019, 'sample_submission.csv'), { checkFiles: true });
    assert.equal(sub.format, 'wide');
    assert.equal(sub.dataset.classes.length, 10);
    // ESC-10's fold 5 is the test set: 4 per class kept, fold 5 holds about a fifth of them.
    const n = curated.items.length + noisy.items.length + sub.dataset.items.length;
    assert.equal(n, 40);
    const ids = [...curated.items, ...noisy.items, ...sub.dataset.items].map((it) => it.id);
    assert.equal(new Set(ids).size, n);
    assert.ok(
      sub.dataset.items.every((it) => it.id.startsWith('5-')),
      'the test set is fold 5',
    );
    assert.ok(curated.items.every((it) => it.meta.set === 'curated'));
    const truth = table(join(DATA.fat2019, 'train_noisy_truth.csv'));
    const wrong = truth.rows.filter((r) => r[2] !== '').length;
    assert.equal(wrong, Math.round(0.3 * noisy.items.length));
  });

  test('fsd2018, birdclef and speech30 read back with the detected format', async () => {
    const f = await loadManifest({ path: join(DATA.fsd2018, 'train.csv') });
    assert.equal(f.dataset.items.length + table(join(DATA.fsd2018, 'sample_submission.csv')).rows.length, 40);
    assert.ok(f.dataset.items.some((it) => it.meta.manually_verified === '0'));
    const b = await loadManifest({ path: join(DATA.birdclef, 'train_metadata.csv') });
    assert.ok(b.dataset.items.every((it) => it.path.includes(`/train_audio/${it.labels[0]}/`)));
    // Soundscapes: one 5-s window per 5-s ESC-10 clip, labelled with the clip's class.
    const windows = table(join(DATA.birdclef, 'train_soundscapes_labels.csv'));
    assert.deepEqual(windows.header, ['row_id', 'site', 'audio_id', 'seconds', 'birds']);
    assert.equal(windows.rows.length, 40 - b.dataset.items.length);
    assert.equal(
      readdirSync(join(DATA.birdclef, 'train_soundscapes')).length,
      Math.ceil(windows.rows.length / 3),
    );
    const s = await loadManifest({ path: DATA.speech30 });
    assert.equal(s.dataset.items.length, 60);
    const splits = (v: string) => s.dataset.items.filter((it) => it.meta.split === v);
    assert.ok(splits('test').length > 0 && splits('validation').length > 0 && splits('train').length > 0);
    // Speakers (the group) survive the conversion and never straddle the test split.
    const testSpeakers = new Set(splits('test').map((it) => it.group));
    assert.ok(s.dataset.items.every((it) => it.group !== undefined));
    assert.ok(splits('train').every((it) => !testSpeakers.has(it.group)));
  });

  test('the same seed lays out the same files; bad input is named', async () => {
    const again = join(tmp, 'fat2019-again');
    await ok('dataset', 'convert', ESC, '--to', 'fat2019', '--out', again, '--per-class', '4');
    for (const f of ['train_curated.csv', 'train_noisy.csv', 'sample_submission.csv'])
      assert.equal(readFileSync(join(again, f), 'utf8'), readFileSync(join(DATA.fat2019, f), 'utf8'));
    const r = await run('dataset', 'convert', ESC, '--to', 'kaggle2030', '--out', join(tmp, 'x'));
    assert.equal(r.code, 2);
    assert.match(r.err, /--to must be one of fat2019, fsd2018, speech30, birdclef/);
    const full = await run('dataset', 'convert', ESC, '--to', 'fsd2018', '--out', DATA.fat2019);
    assert.equal(full.code, 2);
    assert.match(full.err, /not empty/);
  });
});

describe('the recipes, end to end on the converted data (tiny runs)', () => {
  test('fsd2018-starter: conv1d + MFCC CNN, geometric fold ensemble, top-3 submission', async () => {
    const d = DATA.fsd2018;
    const runs = ['conv1d', 'mfcc'].map((m) => join(tmp, `fsd2018-${m}`));
    await train(
      'fsd2018-starter-conv1d.yaml',
      runs[0]!,
      join(d, 'train.csv'),
      '--model.config.channels',
      '[8,8,8,16]',
    );
    await train('fsd2018-starter-mfcc.yaml', runs[1]!, join(d, 'train.csv'));
    const sub = await kaggle(runs, d, 'fsd2018-sub', '--ensemble', 'geometric');
    const classes = (await loadManifest({ path: join(d, 'train.csv') })).dataset.classes;
    checkTop3(sub, join(d, 'sample_submission.csv'), classes);
    const s = await score(join(d, 'test_labels.csv'), sub);
    assert.ok(s.map3! >= 0 && s.map3! <= 1);
  });

  test('speech30: ResNet with OHEM + label smoothing + EMA, TTA, submission over testing_list.txt', async () => {
    const d = DATA.speech30;
    const run1 = join(tmp, 'speech30-resnet');
    await train('speech30-resnet.yaml', run1, d, '--model.config.baseWidth', '4');
    // The second model's config is valid as shipped (trained in the documented runs, not here).
    loadTrainConfig({ file: join(RECIPES, 'speech30-efficientnet.yaml'), overrides: [['data.manifest', d]] });
    const metrics = JSON.parse(readFileSync(join(run1, 'metrics.json'), 'utf8'));
    assert.equal(metrics.complete, true);
    assert.equal(metrics.metrics.accuracy.per_fold.length, 2);
    const sub = await kaggle([run1], d, 'speech30-sub', '--audio-dir', d, '--tta', '2');
    const classes = (await loadManifest({ path: d })).dataset.classes;
    checkTop3(sub, join(d, 'sample_submission.csv'), classes);
    // The test list is what gets predicted, and it never trained.
    const testList = readFileSync(join(d, 'testing_list.txt'), 'utf8').trim().split('\n');
    assert.deepEqual(
      table(sub).rows.map((r) => r[0]),
      testList,
    );
    const oof = table(join(run1, 'oof.csv')).rows.map((r) => r[0]);
    assert.ok(
      oof.every((id) => !testList.includes(id!)),
      'a testing_list.txt clip was trained on',
    );
  });

  test('fat2019-8th: the warm-up pipeline, stages 2-4 ensembled over 2-s windows into the Kaggle submission', async () => {
    const d = DATA.fat2019;
    const out = join(tmp, 'fat2019-8th');
    await ok(
      ...[
        'pipeline',
        'warmup',
        '--config',
        join(RECIPES, 'fat2019-8th.yaml'),
        '--out',
        out,
        ...tinyPipeline(d),
      ],
      ...['--overrides.all.model.config.channels', '[4,8,8,16]', '--overrides.all.model.config.hidden', '16'],
    );
    // The VGG16-BN pipeline reads the same data with the same keys.
    const vgg = loadPipelineConfig(join(RECIPES, 'fat2019-8th-vgg-pipeline.yaml'), [
      ['curated', join(d, 'train_curated.csv')],
    ]);
    assert.equal(stageTrainConfig(vgg, 'stage1').model.name, 'vgg16-bn');
    assert.equal(vgg.folds, 10);
    const stages = ['stage2', 'stage3', 'stage4'].map((s) => join(out, s));
    const sub = await kaggle(stages, d, 'fat2019-8th-sub');
    checkWide(sub, join(d, 'sample_submission.csv'));
    const s = await score(join(d, 'test_labels.csv'), sub);
    assert.ok(s.lwlrap! > 0 && s.lwlrap! <= 1);
  });

  test('fat2019-daisukelab: APD, co-occurrence labels, noisy pre-training, MixWithNoisy, TTA', async () => {
    const d = DATA.fat2019;
    const out = join(tmp, 'fat2019-daisukelab');
    await ok(
      ...['pipeline', 'pretrain', '--config', join(RECIPES, 'fat2019-daisukelab.yaml'), '--out', out],
      ...[...tinyPipeline(d), '--overrides.all.model.config.baseWidth', '4'],
    );
    const cfg = stageTrainConfig(
      loadPipelineConfig(join(RECIPES, 'fat2019-daisukelab.yaml'), [
        ['curated', join(d, 'train_curated.csv')],
      ]),
      'stage2',
    );
    assert.equal(cfg.labels?.cooccurrence?.weight, 0.2);
    // The fine-tuned models were trained on APD features.
    const ckpt = JSON.parse(readFileSync(join(out, 'stage2', 'fold0', 'best', 'config.json'), 'utf8'));
    assert.equal(ckpt.featureConfig.format, 'apd');
    const sub = await kaggle([join(out, 'stage2')], d, 'fat2019-daisukelab-sub', '--tta', '2');
    checkWide(sub, join(d, 'sample_submission.csv'));
  });

  test('birdclef: SED teacher → distilled student → ONNX → soundscapes with smoothing and boost → submission', async () => {
    const d = DATA.birdclef;
    const small = ['--model.config.channels', '[4,8,8,16]', '--crop.frames', '64', '--crop.evalHop', '64'];
    const teacher = join(tmp, 'birdclef');
    const student = join(tmp, 'birdclef-student');
    await train('birdclef.yaml', teacher, join(d, 'train_metadata.csv'), ...small);
    const distill = ['--labels.distill.teacher', join(teacher, 'oof.csv')];
    await train('birdclef-student.yaml', student, join(d, 'train_metadata.csv'), ...distill, ...small);
    const onnx = join(tmp, 'birdclef.onnx');
    await ok('export', student, '--all-folds', '--frontend', '--out', onnx);
    const out = join(tmp, 'birdclef-sub');
    await ok(
      'predict',
      '--model',
      onnx,
      join(d, 'train_soundscapes'),
      '--out',
      out,
      '--format',
      'windows',
      '--window',
      '5',
      '--hop',
      '5',
      '--smooth',
      '1',
      '--boost',
      '1.5',
      '--boost-conf',
      '0.5',
      '--workers',
      '0',
      '--quiet',
    );
    const sub = join(out, 'submission.csv');
    await ok(
      'dataset',
      'soundscape-submission',
      '--windows',
      join(out, 'windows.csv'),
      '--template',
      join(d, 'sample_submission.csv'),
      '--out',
      sub,
    );
    checkWide(sub, join(d, 'sample_submission.csv'));
    const s = await score(join(d, 'test_labels.csv'), sub, ['cmap']);
    assert.ok(s.cmap! > 0 && s.cmap! <= 1);
    assert.ok(existsSync(join(student, 'fold1', 'best', 'model.safetensors')));
  });
});
