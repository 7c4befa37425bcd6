// The manifest options the dataset commands share (validate, convert, corrupt, mix): the format, the audio
// folder and, for a plain CSV, the columns holding the file name, the labels, groups and folds.
import type { Command } from 'commander';
import { MANIFEST_FORMATS, type ManifestFormat, type ManifestSpec } from '../data/index.js';
import { UsageError } from './errors.js';
import { optionalChoice, requireInputDir } from './flags.js';

export interface ManifestFlags {
  format?: string;
  audioDir?: string;
  pathCol?: string;
  labelCol?: string;
  labelSep?: string;
  groupCol?: string;
  foldCol?: string;
  /** csv field separator, where the command adds `--delimiter` itself. */
  delimiter?: string;
}

/** Adds --format, --audio-dir, --path-col, --label-col, --label-sep (and with `groups`, --group-col, --fold-col). */
export function withManifestFlags(cmd: Command, o: { groups?: boolean } = {}): Command {
  cmd
    .option('--format <format>', `${MANIFEST_FORMATS.join('|')} (default: from the header, or folder)`)
    .option(
      '--audio-dir <dir>',
      "folder the manifest's file names are relative to (default: the format's usual layout)",
    )
    .option('--path-col <name>', 'csv: column with the file name')
    .option('--label-col <names>', 'csv: label column(s), comma-separated')
    .option('--label-sep <sep>', 'csv: separator of several labels in one field (multi-label)');
  if (o.groups)
    cmd
      .option('--group-col <name>', 'csv: group column (speaker, source recording)')
      .option('--fold-col <name>', 'csv: predefined fold column');
  return cmd;
}

/**
 * The manifest of `path` as the flags describe it. A csv column flag implies `--format csv`, which needs
 * --path-col; --format must be one of MANIFEST_FORMATS; --audio-dir must be a folder.
 */
export function manifestSpec(path: string, f: ManifestFlags): ManifestSpec {
  const csvFlag = f.pathCol ?? f.labelCol ?? f.labelSep ?? f.groupCol ?? f.foldCol;
  const format =
    optionalChoice('--format', f.format, MANIFEST_FORMATS) ?? (csvFlag !== undefined ? 'csv' : undefined);
  if (format === 'csv' && !f.pathCol) throw new UsageError('--format csv needs --path-col');
  if (f.audioDir !== undefined) requireInputDir('--audio-dir', f.audioDir);
  const labelCols = f.labelCol?.split(',').map((c) => c.trim());
  return {
    path,
    format: format as ManifestFormat | undefined,
    audioDir: f.audioDir,
    csv: f.pathCol
      ? {
          pathCol: f.pathCol,
          labelCol: labelCols && labelCols.length === 1 ? labelCols[0] : labelCols,
          labelSep: f.labelSep,
          groupCol: f.groupCol,
          foldCol: f.foldCol,
          delimiter: f.delimiter,
        }
      : undefined,
  };
}
