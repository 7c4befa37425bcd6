// `audiotag score`: scores a Kaggle-format submission against the truth offline and prints JSON.
import type { Command } from 'commander';
import { readClassList } from '../../data/manifests.js';
import { METRIC_NAMES } from '../../metrics/compute.js';
import { scoreFiles } from '../../metrics/node/submission.js';
import { UsageError } from '../errors.js';

interface ScoreFlags {
  truth: string;
  pred: string;
  metric?: string;
  classes?: string;
  threshold?: string;
  paddingFactor?: string;
  idCol?: string;
  perClass?: boolean;
}

function number(flag: string, text: string | undefined, check: (v: number) => boolean, expected: string) {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || !check(v))
    throw new UsageError(`${flag} must be ${expected}, got "${text}"`);
  return v;
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
      'prediction: fname + one score column per class, or fname,label with up to 3 space-separated labels',
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
      const metrics = flags.metric
        ?.split(',')
        .map((m) => m.trim())
        .filter((m) => m !== '');
      if (metrics !== undefined && metrics.length === 0) throw new UsageError('--metric names no metric');
      const result = await scoreFiles(flags.truth, flags.pred, {
        metrics,
        classes: flags.classes ? await readClassList(flags.classes) : undefined,
        threshold: number('--threshold', flags.threshold, () => true, 'a number'),
        paddingFactor: number(
          '--padding-factor',
          flags.paddingFactor,
          (v) => Number.isInteger(v) && v >= 0,
          'an integer >= 0',
        ),
        idCol: flags.idCol,
        perClass: flags.perClass,
      });
      process.stdout.write(`${JSON.stringify(result)}\n`);
    });
}
