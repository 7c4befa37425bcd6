// `audiotag evaluate`: scores a held-out manifest with a trained run (the fold models' probabilities
// averaged) and prints a table of metrics; writes metrics.json and predictions.csv.
import { join } from 'node:path';
import type { Command } from 'commander';
import { warn } from '../../core/log.js';
import { MANIFEST_FORMATS, type ManifestFormat } from '../../data/index.js';
import {
  optionalChoice,
  parseFoldList,
  parseList,
  requireInputDir,
  requireInputFile,
  requireOutputDir,
} from '../flags.js';
import { createProgress, type Progress } from '../progress.js';

interface EvaluateFlags {
  run: string;
  manifest: string;
  format?: string;
  audioDir?: string;
  folds?: string;
  out?: string;
  reportDir?: string;
  metric?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('evaluate')
    .description("score a labelled manifest with a run's fold models (ensemble: mean of their probabilities)")
    .requiredOption('--run <dir>', 'run directory written by audiotag train')
    .requiredOption('--manifest <file>', "manifest of the clips to score (read like the run's data.manifest)")
    .option('--format <name>', `manifest format (${MANIFEST_FORMATS.join(', ')}); default: the run's`)
    .option(
      '--audio-dir <dir>',
      "folder of the manifest's files; default: the run's data.audioDir, else guessed",
    )
    .option('--folds <list>', 'fold models to use, e.g. 0,2 (default: every trained fold)')
    .option('--out <dir>', 'where metrics.json and predictions.csv go (default <run>/eval-<manifest name>)')
    .option(
      '--report-dir <dir>',
      'write an HTML report there: per-class table, confusion matrix, PR/ROC, calibration, worst clips',
    )
    .option('--metric <names>', "comma-separated metrics (default: the run's train.metrics)")
    .option('--json', 'print metrics.json instead of the table')
    .action(async (flags: EvaluateFlags) => {
      optionalChoice('--format', flags.format, MANIFEST_FORMATS);
      const metrics = parseList('--metric', flags.metric);
      requireInputDir('--run', flags.run);
      requireInputFile('--manifest', flags.manifest);
      if (flags.audioDir !== undefined) requireInputDir('--audio-dir', flags.audioDir);
      if (flags.out !== undefined) requireOutputDir('--out', flags.out);
      if (flags.reportDir !== undefined) requireOutputDir('--report-dir', flags.reportDir);
      // Imported here: it loads the engine (libtorch), which the rest of the CLI does not need.
      const { evaluateRun, evaluateTable } = await import('../../train/evaluate.js');
      let bar: Progress | undefined;
      const r = await evaluateRun({
        run: flags.run,
        manifest: flags.manifest,
        format: flags.format as ManifestFormat | undefined,
        audioDir: flags.audioDir,
        folds: parseFoldList('--folds', flags.folds),
        out: flags.out,
        reportDir: flags.reportDir,
        metrics,
        onProgress: (done, total) => {
          bar ??= createProgress('features', total, { unit: 'clips', minTotal: 50 });
          bar.update(done);
          if (done >= total) bar.stop();
        },
      });
      if (flags.reportDir !== undefined && !r.metrics)
        warn(
          `--report-dir ${flags.reportDir}: the manifest has no labels, so no evaluation report was written`,
        );
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({ folds: r.folds, clips: r.clips, metrics: r.metrics, per_fold: r.perFold }, null, 2)}\n`,
        );
        return;
      }
      const what =
        r.folds.length > 1
          ? `ensemble of ${r.folds.length} fold models (mean of their probabilities)`
          : `fold${r.folds[0]} model`;
      const report =
        flags.reportDir !== undefined && r.metrics ? `; report: ${join(flags.reportDir, 'report.html')}` : '';
      process.stdout.write(`${r.clips} clips scored by the ${what}; written to ${r.out}${report}\n`);
      process.stdout.write(
        r.metrics ? `${evaluateTable(r)}\n` : 'the manifest has no labels: predictions only\n',
      );
    });
}
