// `audiotag dataset inspect <manifest|folder> --out report.html [--json]`: the dataset report
// (src/report/dataset.ts). Every clip is decoded once.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { MANIFEST_FORMATS, type ManifestFormat, readManifest } from '../../data/index.js';
import { UsageError } from '../errors.js';
import { optionalChoice, parseNumber, requireExt, requireInputDir, requireOutputFile } from '../flags.js';
import { createProgress } from '../progress.js';

interface InspectFlags {
  format?: string;
  audioDir?: string;
  out?: string;
  json?: boolean;
  jobs: string;
  quiet?: boolean;
  testFold?: string;
  pathCol?: string;
  labelCol?: string;
}

export function addDatasetInspect(dataset: Command): void {
  dataset
    .command('inspect <manifest>')
    .description(
      'class counts, durations, formats, unusual lengths, silent and clipped clips: an HTML report and/or JSON',
    )
    .option('--out <file.html>', 'write the HTML report here (charts also as SVG/PNG in charts/ beside it)')
    .option('--json', 'print the facts (summary, flagged clips) as JSON on stdout')
    .option('--format <format>', `${MANIFEST_FORMATS.join('|')} (default: from the header, or folder)`)
    .option('--audio-dir <dir>', "folder the manifest's file names are relative to")
    .option('--path-col <name>', 'csv: column with the file name (implies --format csv)')
    .option('--label-col <names>', 'csv: label column(s), comma-separated')
    .option('--jobs <n>', 'files decoded at once', '2')
    .option(
      '--test-fold <k>',
      'with a fold column: fold k is the test split in the train-vs-test durations (default: one histogram per fold)',
    )
    .option('--quiet', 'no progress')
    .action(async (manifest: string, flags: InspectFlags) => {
      optionalChoice('--format', flags.format, MANIFEST_FORMATS);
      const jobs = parseNumber('--jobs', flags.jobs, { int: true, min: 1 });
      if (!flags.out && !flags.json)
        throw new UsageError('dataset inspect needs --out <file.html>, --json or both');
      if (flags.out) {
        requireExt('--out', flags.out, '.html');
        requireOutputFile('--out', flags.out);
      }
      if (flags.audioDir !== undefined) requireInputDir('--audio-dir', flags.audioDir);
      if (!existsSync(manifest)) throw new UsageError(`${manifest}: no such manifest file or folder`);
      // Imported here: vega and resvg are needed by this command only (CLI start-up stays quick).
      const { inspectDataset, writeDatasetReport } = await import('../../report/dataset.js');
      if (flags.labelCol !== undefined && flags.pathCol === undefined)
        throw new UsageError('--label-col needs --path-col (the csv column with the file name)');
      if (flags.pathCol !== undefined && flags.format !== undefined && flags.format !== 'csv')
        throw new UsageError(`--path-col: only for --format csv, got --format ${flags.format}`);
      const result = await readManifest({
        path: manifest,
        format: (flags.pathCol !== undefined ? 'csv' : flags.format) as ManifestFormat | undefined,
        audioDir: flags.audioDir,
        csv:
          flags.pathCol !== undefined
            ? { pathCol: flags.pathCol, labelCol: flags.labelCol?.split(',').map((c) => c.trim()) }
            : undefined,
      });
      if (flags.testFold !== undefined) {
        const folds = [
          ...new Set(
            result.dataset.items
              .map((it) => (it.fold !== undefined ? String(it.fold) : (it.meta.fold ?? it.meta.Fold)))
              .filter((f) => f),
          ),
        ].sort();
        if (folds.length === 0)
          throw new UsageError(`--test-fold ${flags.testFold}: ${manifest} has no fold column`);
        if (!folds.includes(flags.testFold))
          throw new UsageError(
            `--test-fold ${flags.testFold}: expected one of the manifest's folds (${folds.join(', ')})`,
          );
      }
      const total = result.dataset.items.length;
      const bar = createProgress('inspecting', total, { unit: 'clips', minTotal: 50, quiet: flags.quiet });
      const r = await inspectDataset(result.dataset, {
        concurrency: jobs,
        onProgress: (done) => bar.update(done),
        testFold: flags.testFold,
      });
      bar.stop();
      if (flags.out) await writeDatasetReport(flags.out, r, manifest);
      if (flags.json) {
        const { clips, ...rest } = r;
        const unreadable = clips.filter((c) => c.error).map((c) => ({ id: c.id, error: c.error }));
        process.stdout.write(`${JSON.stringify({ ...rest, unreadable }, null, 2)}\n`);
      } else {
        const s = r.summary;
        process.stdout.write(
          `${manifest}: ${s.clips} clip(s), ${s.classes} class(es), ${s.totalHours.toFixed(2)} h; ${r.unusualLength.length} unusual length(s), ${r.silent.length} silent, ${r.clipped.length} clipped, ${s.unreadable} unreadable; report: ${flags.out}\n`,
        );
      }
    });
}
