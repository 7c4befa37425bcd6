// `audiotag dataset convert <manifest|folder> --to fat2019|fsd2018|speech30|birdclef --out DIR`: lays any
// labelled dataset out the way each competition did (src/data/convert.ts, docs/recipes.md), and
// `audiotag dataset soundscape-submission`: a BirdCLEF submission from predict's 5-s windows.
import type { Command } from 'commander';
import { UsageError, usageFromOptionError } from '../errors.js';
import {
  optionalInt,
  optionalNumber,
  parseChoice,
  parseSeed,
  requireInputFile,
  requireOutputDir,
  requireOutputFile,
} from '../flags.js';
import { type ManifestFlags, manifestSpec, withManifestFlags } from '../manifest-flags.js';

const TARGETS = ['fat2019', 'fsd2018', 'speech30', 'birdclef'] as const;

interface ConvertFlags extends ManifestFlags {
  to: string;
  out: string;
  seed?: string;
  copy?: boolean;
  force?: boolean;
  testFraction?: string;
  testFold?: string;
  perClass?: string;
  noisyFraction?: string;
  noisyRate?: string;
  verifiedFraction?: string;
  validFraction?: string;
  backgroundNoise?: string[];
  clipsPerSoundscape?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];
const share = (flag: string, v: string | undefined) => optionalNumber(flag, v, { min: 0, max: 1 });

export function addDatasetConvert(dataset: Command): void {
  withManifestFlags(
    dataset
      .command('convert <manifest>')
      .description(
        "lay a labelled manifest or class folders out in a competition's format (train CSVs, curated/noisy split, held-out test, sample_submission.csv, soundscapes)",
      )
      .requiredOption('--to <layout>', `${TARGETS.join('|')}`)
      .requiredOption('--out <dir>', 'output folder (must be empty, or --force)')
      .option('--seed <n>', 'seed of every split (the same seed lays out the same files)', '0')
      .option('--copy', 'copy the audio files (default: symbolic links)')
      .option('--force', 'empty a non-empty --out first')
      .option('--test-fraction <x>', 'held-out share when the source has no folds (default 0.2)')
      .option('--test-fold <n>', "the source's fold held out as the test set (default: its last fold)")
      .option('--per-class <n>', 'keep at most n clips per class (seeded), for quick runs')
      .option('--noisy-fraction <x>', 'fat2019: share of training clips in train_noisy (default 0.5)')
      .option('--noisy-rate <x>', 'fat2019: share of noisy clips whose labels are corrupted (default 0.3)')
      .option('--verified-fraction <x>', 'fsd2018: share of training clips manually_verified (default 0.6)')
      .option(
        '--valid-fraction <x>',
        'speech30: share of training clips in validation_list.txt (default 0.1)',
      )
      .option(
        '--background-noise <path>',
        'speech30: noise file or folder for _background_noise_/ (repeat)',
        collect,
      )
      .option('--clips-per-soundscape <n>', 'birdclef: held-out clips per soundscape (default 12)'),
    { groups: true },
  ).action(async (manifest: string, f: ConvertFlags) => {
    const to = parseChoice('--to', f.to, TARGETS);
    const spec = manifestSpec(manifest, f);
    const { existsSync } = await import('node:fs');
    if (!existsSync(manifest)) throw new UsageError(`${manifest}: no such manifest file or folder`);
    for (const p of f.backgroundNoise ?? [])
      if (!existsSync(p)) throw new UsageError(`--background-noise ${p}: no such file or folder`);
    const opts = {
      to,
      out: f.out,
      seed: parseSeed('--seed', f.seed),
      copy: f.copy === true,
      force: f.force === true,
      testFraction: optionalNumber('--test-fraction', f.testFraction, { min: 0.01, max: 0.9 }),
      testFold: optionalNumber('--test-fold', f.testFold, { int: true }),
      perClass: optionalInt('--per-class', f.perClass, 1),
      noisyFraction: share('--noisy-fraction', f.noisyFraction),
      noisyRate: share('--noisy-rate', f.noisyRate),
      verifiedFraction: share('--verified-fraction', f.verifiedFraction),
      validFraction: optionalNumber('--valid-fraction', f.validFraction, { min: 0, max: 0.9 }),
      backgroundNoise: f.backgroundNoise,
      clipsPerSoundscape: optionalInt('--clips-per-soundscape', f.clipsPerSoundscape, 1),
    };
    requireOutputDir('--out', f.out);
    const { readdirSync } = await import('node:fs');
    if (existsSync(f.out) && readdirSync(f.out).length > 0 && !opts.force)
      throw new UsageError(
        `--out ${f.out}: not empty; use another folder, or --force to replace its content`,
      );
    const { convertDataset } = await import('../../data/convert.js');
    let s: Awaited<ReturnType<typeof convertDataset>>;
    try {
      s = await convertDataset(spec, opts);
    } catch (e) {
      throw usageFromOptionError(e);
    }
    const counts = Object.entries(s.counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    process.stdout.write(
      `${f.out}: ${to} layout of ${manifest}, ${s.classes.length} classes; ${counts}; test = ${s.testSplit}; seed ${s.seed}\n`,
    );
  });

  dataset
    .command('soundscape-submission')
    .description(
      'a BirdCLEF submission (row_id + one column per class) from `predict --format windows --window 5 --hop 5` over the soundscapes',
    )
    .requiredOption('--windows <csv>', "predict's windows.csv")
    .requiredOption('--template <csv>', 'the sample_submission.csv (row_id,<classes...>)')
    .requiredOption('--out <csv>', 'the submission to write')
    .action(async (f: { windows: string; template: string; out: string }) => {
      requireInputFile('--windows', f.windows);
      requireInputFile('--template', f.template);
      requireOutputFile('--out', f.out);
      const { soundscapeSubmission } = await import('../../data/convert.js');
      const r = await soundscapeSubmission(f.windows, f.template, f.out);
      process.stdout.write(`${f.out}: ${r.rows} rows from ${r.files} soundscape(s)\n`);
    });
}
