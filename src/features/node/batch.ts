// Batch extraction to a folder: `audiotag features <folder|manifest> --out-dir DIR`. One .npy per clip
// (the clip's path relative to the input folder, or its manifest id, with .npy for the extension), plus
// DIR/index.csv (file, npy, shape, frames, error) and DIR/config.json. Runs on the worker pool like
// prepareCache; resumable: a clip whose .npy exists (written atomically, so it is whole) is not redone while
// config.json matches; bad clips are reported once and listed in the index with their reason.
import type { Dirent } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { AUDIO_EXTENSIONS, readManifest } from '../../data/index.js';
import { canonicalConfig, type FeatureConfig } from '../config.js';
import { decodeNpy } from '../npy.js';
import { type FeatureBackend, FeatureWorkerPool, resolveBackend } from './extract.js';
import { clipProgress, exists, failureReason, type PrepareProgress } from './prepare.js';

export interface BatchInput {
  /** Absolute path of the audio file. */
  path: string;
  /** Output name relative to the out dir, without extension ('/'-separated). */
  name: string;
}

async function walk(dir: string, exts: Set<string>, out: string[]): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new Error(`cannot read the folder ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    const isDir = e.isDirectory() || (e.isSymbolicLink() && (await stat(p).catch(() => null))?.isDirectory());
    if (isDir) await walk(p, exts, out);
    else if (exts.has(extname(e.name).toLowerCase())) out.push(p);
  }
}

function stripExt(rel: string): string {
  const e = extname(rel);
  return (e ? rel.slice(0, -e.length) : rel).split(sep).join('/');
}

/**
 * The clips of a folder (every audio file below it, by extension, sorted) or of a manifest (any format
 * readManifest reads: its items in order). Throws naming the input when it has no clip.
 */
export async function listBatchInputs(input: string): Promise<BatchInput[]> {
  const abs = resolve(input);
  const st = await stat(abs).catch(() => null);
  if (st === null)
    throw new Error(`${input}: no such file or folder (expected an audio folder or a manifest)`);
  let out: BatchInput[];
  if (st.isDirectory()) {
    const files: string[] = [];
    await walk(abs, new Set(AUDIO_EXTENSIONS), files);
    out = files.map((p) => ({ path: p, name: stripExt(relative(abs, p)) }));
  } else {
    const m = await readManifest({ path: abs });
    const base = dirname(abs);
    out = m.dataset.items.map((it) => {
      const rel = relative(base, it.path);
      return { path: it.path, name: stripExt(rel.startsWith('..') ? it.id : rel) };
    });
  }
  if (out.length === 0)
    throw new Error(`${input}: no audio clips found (extensions ${AUDIO_EXTENSIONS.join(' ')})`);
  return out;
}

export interface BatchOptions {
  threads?: number;
  /** 'js' (default), 'engine' or 'auto', as PrepareOptions.backend. */
  backend?: FeatureBackend;
  onProgress?: (p: PrepareProgress) => void;
  onBad?: (path: string, reason: string) => void;
  /** Computes a clip elsewhere (a job queue: src/distributed/bullmq-features.ts) instead of on the worker
   * pool; writes `out` atomically and resolves with the shape, as FeatureWorkerPool.runToFile. */
  runToFile?: (path: string, out: string) => Promise<number[]>;
}

export interface BatchResult {
  total: number;
  computed: number;
  skipped: number;
  failed: number;
  index: string;
  seconds: number;
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Writes one .npy per input into outDir, plus index.csv and config.json (see the file comment). */
export async function extractToDir(
  inputs: readonly BatchInput[],
  outDir: string,
  config: FeatureConfig,
  opts: BatchOptions = {},
): Promise<BatchResult> {
  const t0 = performance.now();
  const dir = resolve(outDir);
  await mkdir(dir, { recursive: true });
  const cfgFile = join(dir, 'config.json');
  const canon = `${canonicalConfig(config)}\n`;
  const existing = await readFile(cfgFile, 'utf8').catch(() => null);
  if (existing !== null && existing !== canon)
    throw new Error(
      `${cfgFile} holds another feature config: its .npy files were made with different settings; use another output folder or remove it`,
    );
  if (existing === null) await writeFile(cfgFile, canon);
  const total = inputs.length;
  const { p, report } = clipProgress(total, t0, opts.onProgress);
  const rows: string[] = new Array(total);
  const threads = Math.max(1, Math.min(opts.threads ?? availableParallelism(), total));
  let pool: FeatureWorkerPool | null = null;
  const backend = await resolveBackend(opts.backend ?? 'js', Number.POSITIVE_INFINITY);
  let next = 0;
  const lane = async () => {
    while (next < total) {
      const i = next++;
      const it = inputs[i]!;
      const rel = `${it.name}.npy`;
      const out = join(dir, rel);
      let shape = '';
      let error = '';
      try {
        if (await exists(out)) {
          p.cached++;
          shape = decodeNpy(await readFile(out), out).shape.join('x');
        } else {
          await mkdir(dirname(out), { recursive: true });
          if (opts.runToFile) shape = (await opts.runToFile(it.path, out)).join('x');
          else {
            pool ??= new FeatureWorkerPool(config, threads, { backend });
            shape = (await pool.runToFile(it.path, out)).join('x');
          }
          p.computed++;
        }
      } catch (e) {
        error = failureReason(it.path, e);
        p.failed++;
        opts.onBad?.(it.path, error);
      }
      rows[i] = [it.path, error ? '' : rel, shape, error].map(csvField).join(',');
      p.done++;
      report();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(2 * threads, total) }, lane));
  } finally {
    await (pool as FeatureWorkerPool | null)?.close();
  }
  const index = join(dir, 'index.csv');
  const tmp = `${index}.${process.pid}.tmp`;
  await writeFile(tmp, `file,npy,shape,error\n${rows.join('\n')}\n`);
  await rename(tmp, index);
  return {
    total,
    computed: p.computed,
    skipped: p.cached,
    failed: p.failed,
    index,
    seconds: (performance.now() - t0) / 1000,
  };
}
