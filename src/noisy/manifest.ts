// Writing the manifests of the noisy-label tools in Freesound 2019's layout (`fname,labels,...`, labels
// comma-separated in one field), readable by the fsd2019 reader and so by `audiotag train` and the
// pipelines. File names are written relative to the folder that reader will take as the audio folder:
// the manifest's `<stem>/` or `audio/` sub-folder when one exists, else the manifest's own folder.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { guessAudioDir } from '../data/index.js';

export interface ManifestRow {
  /** Absolute path of the audio file. */
  path: string;
  labels: readonly string[];
  /** Further columns, in the order of the first row's keys. */
  columns?: Record<string, string>;
}

export function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Writes `rows` to `out` as fname,labels,<columns...>; returns the audio folder the names are relative to. */
export function writeFsd2019Manifest(out: string, rows: readonly ManifestRow[]): string {
  mkdirSync(dirname(out), { recursive: true });
  const base = guessAudioDir(out, [out.replace(/^.*[/\\]/, '').replace(/\.[^.]*$/, ''), 'audio']);
  const extra = Object.keys(rows[0]?.columns ?? {}).filter((c) => c !== 'fname' && c !== 'labels');
  const lines = [['fname', 'labels', ...extra].map(csvField).join(',')];
  for (const r of rows) {
    const fname = relative(base, r.path).split('\\').join('/');
    lines.push(
      [fname, r.labels.join(','), ...extra.map((c) => r.columns?.[c] ?? '')].map(csvField).join(','),
    );
  }
  writeFileSync(out, `${lines.join('\n')}\n`);
  return base;
}
