// The Speech Commands layout (Warden 2018; the TensorFlow speech recognition challenge): one folder per
// word, `validation_list.txt` and `testing_list.txt` naming `word/file.wav` paths of the held-out splits,
// and `_background_noise_/` (or any folder starting with `_`) holding noise, not a class. File names are
// `<speaker>_nohash_<n>.wav`: the speaker becomes the item's group, so folds never split a speaker.
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { ManifestBuilder } from './builder.js';
import type { ManifestResult } from './types.js';

export interface SpeechCommandsOptions {
  /** Known classes in output order; words outside them are errors. */
  classes?: readonly string[];
  extensions?: readonly string[];
}

/** The split lists of a Speech Commands folder. */
export const SPEECH_LISTS = { validation: 'validation_list.txt', test: 'testing_list.txt' } as const;

/** Files of `dir` (sorted, hidden names skipped), recursively, as paths relative to `dir` with `/`. */
async function filesUnder(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    const st = e.isSymbolicLink() ? await stat(p).catch(() => null) : null;
    if (e.isDirectory() || st?.isDirectory()) out.push(...(await filesUnder(p, `${prefix}${e.name}/`)));
    else if (e.isFile() || st?.isFile()) out.push(`${prefix}${e.name}`);
  }
  return out;
}

/** The speaker of a Speech Commands file name (`3bfd30e6_nohash_0.wav` → 3bfd30e6), else undefined. */
export function speakerOf(file: string): string | undefined {
  const base = file.slice(file.lastIndexOf('/') + 1);
  const i = base.indexOf('_nohash_');
  return i > 0 ? base.slice(0, i) : undefined;
}

/** Reads a Speech Commands folder; `meta.split` is train, validation or test (from the two lists). */
export async function readSpeechCommands(
  root: string,
  opts: SpeechCommandsOptions = {},
): Promise<ManifestResult> {
  const top = resolve(root);
  const exts = new Set(
    (opts.extensions ?? ['.wav', '.flac', '.ogg', '.mp3', '.opus', '.m4a']).map((e) => e.toLowerCase()),
  );
  const builder = new ManifestBuilder(top, { multiLabel: false, classes: opts.classes, checkFiles: false });
  let entries: string[];
  try {
    entries = (await readdir(top)).sort();
  } catch (err) {
    throw new Error(
      `speech-commands: cannot read the folder ${top}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  // Which split each listed file is in; a file in both lists is an error.
  const splitOf = new Map<string, { split: string; list: string; line: number }>();
  for (const [split, list] of Object.entries(SPEECH_LISTS)) {
    const path = join(top, list);
    if (!existsSync(path)) continue;
    const lines = (await readFile(path, 'utf8')).split(/\r?\n/);
    lines.forEach((raw, i) => {
      const rel = raw.trim();
      if (rel === '') return;
      const prev = splitOf.get(rel);
      if (prev) {
        builder.problems.push({
          severity: 'error',
          kind: 'duplicate',
          source: path,
          line: i + 1,
          id: rel,
          message: `${rel} is also in ${prev.list} (line ${prev.line}); a clip belongs to one split`,
        });
        return;
      }
      splitOf.set(rel, { split, list, line: i + 1 });
    });
  }
  const seen = new Set<string>();
  let words = 0;
  for (const name of entries) {
    if (name.startsWith('.') || name.startsWith('_')) continue;
    const dir = join(top, name);
    const st = await stat(dir).catch(() => null);
    if (!st?.isDirectory()) continue; // the split lists, README, LICENSE...
    words++;
    let count = 0;
    for (const rel of await filesUnder(dir, `${name}/`)) {
      if (!exts.has(extname(rel).toLowerCase())) continue;
      count++;
      seen.add(rel);
      const group = speakerOf(rel);
      builder.add({
        id: rel,
        path: join(top, rel),
        labels: [name],
        ...(group ? { group } : {}),
        meta: { split: splitOf.get(rel)?.split ?? 'train' },
      });
    }
    if (count === 0)
      builder.report('warning', 'empty-class', undefined, `word folder ${name}/ holds no audio`);
  }
  if (words === 0)
    builder.report(
      'error',
      'empty-dataset',
      undefined,
      `no word folders in ${top} (expected <word>/<speaker>_nohash_<n>.wav and the two split lists)`,
    );
  for (const [rel, where] of splitOf)
    if (!seen.has(rel))
      builder.problems.push({
        severity: 'error',
        kind: 'missing-file',
        source: join(top, where.list),
        line: where.line,
        id: rel,
        message: `${rel}: listed but not found under ${top}`,
      });
  return builder.finish();
}

/** True when `dir` looks like a Speech Commands folder (it has one of the split lists). */
export function isSpeechCommandsFolder(dir: string): boolean {
  return Object.values(SPEECH_LISTS).some((l) => existsSync(join(dir, l)));
}
