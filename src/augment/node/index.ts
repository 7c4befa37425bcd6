// Node-only helpers: read a YAML/JSON pipeline from a file (relative noise/IR paths resolved against the
// file's folder) and load the files a pipeline needs through src/audio. Browser code uses src/augment
// alone and passes in-memory clips.
import { readdir, readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { loadAudio } from '../../audio/index.js';
import { fsReason } from '../../core/errors.js';
import { type Augmentation, AugmentationError, type PrepareContext } from '../base.js';
import type { AnyAugmentation } from '../compose.js';
import { type FromSpecOptions, parseAugmentationConfig } from '../registry.js';

/** Decodes a file to mono at the given rate (src/audio's loadAudio). */
export async function loadClipMono(path: string, sampleRate: number): Promise<Float32Array> {
  const audio = await loadAudio(path, { sampleRate, mono: true });
  return audio.channels[0] ?? new Float32Array(0);
}

/** The audio files directly inside a folder, sorted by name (so a seed picks the same file everywhere). */
export async function listAudioFiles(folder: string, extensions: readonly string[]): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (err) {
    throw new AugmentationError(
      `cannot list folder "${folder}": ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const exts = new Set(extensions.map((e) => e.replace(/^\./, '').toLowerCase()));
  return names
    .filter((n) => exts.has(extname(n).slice(1).toLowerCase()))
    .sort()
    .map((n) => join(folder, n));
}

/** Loads every file the pipeline's transforms need (noise clips, impulse responses) at sampleRate. */
export async function prepareAugmentation(
  pipeline: Augmentation,
  sampleRate: number,
  options: { baseDir?: string } = {},
): Promise<void> {
  const ctx: PrepareContext = {
    sampleRate,
    loadClip: loadClipMono,
    listFolder: listAudioFiles,
    baseDir: options.baseDir,
  };
  await pipeline.prepare(ctx);
}

/** Makes the `paths` and `folder` of file-backed transforms absolute, relative to baseDir. */
export function resolveSpecPaths(spec: unknown, baseDir: string): unknown {
  if (Array.isArray(spec)) return spec.map((s) => resolveSpecPaths(s, baseDir));
  if (typeof spec !== 'object' || spec === null) return spec;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec)) {
    if (k === 'folder' && typeof v === 'string') out[k] = abs(v, baseDir);
    else if (k === 'paths' && Array.isArray(v))
      out[k] = v.map((p) => (typeof p === 'string' ? abs(p, baseDir) : p));
    else out[k] = resolveSpecPaths(v, baseDir);
  }
  return out;
}

function abs(p: string, baseDir: string): string {
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

/**
 * Reads a pipeline from a YAML or JSON file. Relative `paths`/`folder` are taken relative to the file.
 * Errors start with the file's path.
 */
export async function loadAugmentationConfig(
  path: string,
  options: FromSpecOptions = {},
): Promise<AnyAugmentation> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new AugmentationError(`${path}: cannot read: ${fsReason(err)}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new AugmentationError(
      `${path}: not valid YAML: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const resolved = resolveSpecPaths(doc, dirname(resolve(path)));
  return parseAugmentationConfig(JSON.stringify(resolved), { ...options, source: path });
}
