// `audiotag score`: scores a Kaggle-format submission against the truth offline and prints JSON.
import type { Command } from 'commander';
import { readClassList } from '../../data/manifests.js';
import { combine, ENSEMBLE_METHODS, type EnsembleMethod } from '../../infer/ensemble.js';
import { METRIC_NAMES } from '../../metrics/compute.js';
import {
  alignPredictions,
  readPredictionFile,
  readTruthFile,
  type ScoreOptions,
  type ScoreResult,
  scoreFiles,
  scoreSubmission,
} from '../../metrics/node/submission.js';
import { UsageError } from '../errors.js';
import { optionalChoice, optionalNumber, parseList, requireInputFile } from '../flags.js';

interface ScoreFlags {
  truth: string;
  pred: string[];
  ensemble?: string;
  metric?: string;
  classes?: string;
  threshold?: string;
  paddingFactor?: string;
  idCol?: string;
  perClass?: boolean;
}

export function register(program: Command): void {
  program
    .command('score')
    .description('score a submission CSV against the truth and print the metrics as JSON')
    .requiredOption(
      '--truth <csv>',
      'truth: fname,labels (comma-separated), fname,label, or fname + one 0/1 column per class',
    )
    .requiredOption(
      '--pred <csv>',
      'prediction: fname + one score column per class, or fname,label with up to 3 space-separated labels; repeat to score an ensemble of score tables',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      '--ensemble <how>',
      `combine several --pred tables: ${ENSEMBLE_METHODS.join(', ')} (default mean)`,
    )
    .option(
      '--metric <names>',
      `comma-separated metrics (default: lwlrap,ap_macro for multi-label truth, accuracy,map3 otherwise): ${METRIC_NAMES.join(', ')}`,
    )
    .option(
      '--classes <file>',
      'the class list: one per line, or a sample_submission.csv whose header names them',
    )
    .option('--threshold <x>', 'score threshold for precision/recall/F1 on multi-label truth (default 0.5)')
    .option('--padding-factor <n>', 'padding rows for cmap (default 5)')
    .option(
      '--id-col <name>',
      'id column of both files (default: fname, row_id, filename or the first column)',
    )
    .option('--per-class', 'add per-class lwlrap, its weights and AP')
    .action(async (flags: ScoreFlags) => {
      const metrics = parseList('--metric', flags.metric);
      requireInputFile('--truth', flags.truth);
      for (const p of flags.pred) requireInputFile('--pred', p);
      const method = optionalChoice('--ensemble', flags.ensemble, ENSEMBLE_METHODS);
      if (method && flags.pred.length < 2) throw new UsageError('--ensemble: needs two or more --pred files');
      if (flags.classes !== undefined) requireInputFile('--classes', flags.classes);
      const opts: ScoreOptions & { idCol?: string } = {
        metrics,
        classes: flags.classes ? await readClassList(flags.classes) : undefined,
        threshold: optionalNumber('--threshold', flags.threshold),
        paddingFactor: optionalNumber('--padding-factor', flags.paddingFactor, { int: true, min: 0 }),
        idCol: flags.idCol,
        perClass: flags.perClass,
      };
      const result =
        flags.pred.length === 1
          ? await scoreFiles(flags.truth, flags.pred[0]!, opts)
          : await scoreEnsemble(flags.truth, flags.pred, method ?? 'mean', opts);
      process.stdout.write(`${JSON.stringify(result)}\n`);
    });
}

/** The metrics of the combined tables, then each table's own under `members` (so the gain shows). */
async function scoreEnsemble(
  truthPath: string,
  predPaths: readonly string[],
  method: EnsembleMethod,
  opts: ScoreOptions & { idCol?: string },
): Promise<ScoreResult> {
  const truth = await readTruthFile(truthPath, { idCol: opts.idCol });
  const named = await Promise.all(
    predPaths.map(async (path) => ({ path, pred: await readPredictionFile(path, { idCol: opts.idCol }) })),
  );
  const { ids, classes, mats } = alignPredictions(named);
  const scores = Float64Array.from(combine(method, mats, ids.length, classes.length));
  const result = scoreSubmission(truth, { ids, format: 'wide', classes, scores }, opts);
  const members: Record<string, Record<string, number | null>> = {};
  for (const { path, pred } of named) {
    const own = scoreSubmission(truth, pred, { ...opts, perClass: false });
    members[path] = own as Record<string, number>;
  }
  return { ...result, members };
}
