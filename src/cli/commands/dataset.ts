// `audiotag dataset validate`: reads a manifest (or class folders), checks every row and every file,
// and prints all problems at once; exit code 1 when any is an error.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { checkAudio, formatProblem, type Problem, readClassList, readManifest } from '../../data/index.js';
import { UsageError } from '../errors.js';
import { optionalNumber, parseNumber, requireInputFile } from '../flags.js';
import { type ManifestFlags, manifestSpec, withManifestFlags } from '../manifest-flags.js';
import { createProgress } from '../progress.js';
import { addDatasetConvert } from './dataset-convert.js';
import { addDatasetInspect } from './dataset-inspect.js';
import { addDatasetNoisy } from './dataset-noisy.js';
import { addDatasetPrepare } from './dataset-prepare.js';

interface ValidateFlags extends ManifestFlags {
  classes?: string;
  minDuration?: string;
  maxDuration?: string;
  decode: boolean;
  jobs: string;
  json?: boolean;
}

function seconds(flag: string, text: string | undefined): number | undefined {
  return optionalNumber(flag, text, { min: 0, what: 'a number of seconds' });
}

export function register(program: Command): void {
  const dataset = program.command('dataset').description('inspect and check datasets');
  addDatasetPrepare(dataset);
  addDatasetNoisy(dataset);
  addDatasetInspect(dataset);
  addDatasetConvert(dataset);
  withManifestFlags(
    dataset
      .command('validate <manifest>')
      .description(
        'check every row and audio file of a manifest or class-folder dataset; exit code 1 on any error',
      ),
    { groups: true },
  )
    .option('--delimiter <c>', 'csv: field separator (default ",")')
    .option('--classes <file>', 'known classes: one per line, or a sample_submission.csv header')
    .option('--min-duration <s>', 'clips shorter than this are errors')
    .option('--max-duration <s>', 'clips longer than this are errors')
    .option('--no-decode', 'read only file headers instead of decoding every clip')
    .option('--jobs <n>', 'files decoded at once', '2')
    .option('--json', 'print {summary, problems} as JSON instead of lines')
    .action(async (manifest: string, flags: ValidateFlags) => {
      // Inputs are checked once, before any row: a missing --audio-dir is one error, not one per row.
      const spec = manifestSpec(manifest, flags);
      const jobs = parseNumber('--jobs', flags.jobs, { int: true, min: 1 });
      if (flags.classes !== undefined) requireInputFile('--classes', flags.classes);
      if (!existsSync(manifest)) throw new UsageError(`${manifest}: no such manifest file or folder`);
      const minDuration = seconds('--min-duration', flags.minDuration);
      const maxDuration = seconds('--max-duration', flags.maxDuration);

      const result = await readManifest({
        ...spec,
        classes: flags.classes ? await readClassList(flags.classes) : undefined,
      });
      // A bar on a terminal, a line every 10 s in logs (src/cli/progress.ts).
      const total = result.dataset.items.length;
      const bar = createProgress('checking audio', total, { unit: 'clips', minTotal: 50 });
      const audio = await checkAudio(result.dataset, manifest, result.lines, {
        decode: flags.decode,
        minDuration,
        maxDuration,
        concurrency: jobs,
        onProgress: (done) => bar.update(done),
      });
      bar.stop();
      // Manifest problems and per-file ones, in line order.
      const problems: Problem[] = [...result.problems, ...audio.problems].sort(
        (a, b) => (a.line ?? 0) - (b.line ?? 0),
      );
      const errors = problems.filter((p) => p.severity === 'error').length;
      const durations = [...audio.durations].filter((d) => Number.isFinite(d));
      const summary = {
        manifest,
        format: result.format,
        items: total,
        good: total - new Set(audio.problems.map((p) => p.id)).size,
        classes: result.dataset.classes.length,
        multiLabel: result.dataset.multiLabel,
        errors,
        warnings: problems.length - errors,
        ...(durations.length > 0
          ? {
              minDuration: Math.min(...durations),
              maxDuration: Math.max(...durations),
              totalHours: durations.reduce((a, b) => a + b, 0) / 3600,
            }
          : {}),
      };
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ summary, problems }, null, 2)}\n`);
      } else {
        for (const p of problems) process.stdout.write(`${formatProblem(p)}\n`);
        const dur =
          durations.length > 0
            ? `, ${summary.minDuration?.toFixed(2)}–${summary.maxDuration?.toFixed(2)} s per clip`
            : '';
        process.stdout.write(
          `${manifest}: ${result.format}, ${total} clip(s) checked, ${summary.good} good, ${summary.classes} class(es)${dur}; ${errors} error(s), ${summary.warnings} warning(s)\n`,
        );
      }
      // main() turns a thrown error into exit code 1 (it would overwrite process.exitCode with 0).
      if (errors > 0) throw new Error(`${manifest}: ${errors} error(s), listed above`);
    });
}
