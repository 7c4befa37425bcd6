// `audiotag score`: scores a Kaggle-format submission against the truth offline and prints JSON.
import type { Command } from 'commander';
import { readClassList } from '../../data/manifests.js';
import { METRIC_NAMES } from '../../metrics/compute.js';
import { scoreFiles } from '../../metrics/node/submission.js';
import { optionalNumber, parseList, requireInputFile } from '../flags.js';

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
      const metrics = parseList('--metric', flags.metric);
      requireInputFile('--truth', flags.truth);
      requireInputFile('--pred', flags.pred);
      if (flags.classes !== undefined) requireInputFile('--classes', flags.classes);
      const result = await scoreFiles(flags.truth, flags.pred, {
        metrics,
        classes: flags.classes ? await readClassList(flags.classes) : undefined,
        threshold: optionalNumber('--threshold', flags.threshold),
        paddingFactor: optionalNumber('--padding-factor', flags.paddingFactor, { int: true, min: 0 }),
        idCol: flags.idCol,
        perClass: flags.perClass,
      });
      process.stdout.write(`${JSON.stringify(result)}\n`);
    });
}
