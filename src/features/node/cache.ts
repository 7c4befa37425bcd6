// On-disk feature cache: one .npy per clip under a folder per config.
//
//   <dir>/<config hash>/config.json        the resolved config (for people, and to detect collisions)
//   <dir>/<config hash>/<content hash>.npy the features of one clip, readable by numpy.load
//   <dir>/<config hash>/hashes.json        path → {size, mtimeMs, hash}, so unchanged files are not re-hashed
//
// Why one file per clip rather than one packed file per dataset: extraction runs in several workers or
// processes at once, and each result is written atomically (tmp + rename) with no shared index to lock;
// an interrupted run keeps what it finished; adding clips to a dataset adds files instead of rewriting a
// pack; and a clip shared by two datasets (same content) is stored once. Keys are the SHA-256 of the
// file's bytes and of the canonical config (with FEATURES_VERSION), so an edited file or a changed config
// misses the cache instead of returning stale features.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { NDArray } from '../../core/ndarray.js';
import {
  canonicalConfig,
  type FeatureConfig,
  type FeatureConfigInput,
  resolveFeatureConfig,
} from '../config.js';
import { decodeNpy, encodeNpy } from '../npy.js';
import { type ExtractOptions, extractMany } from './extract.js';

interface HashEntry {
  size: number;
  mtimeMs: number;
  hash: string;
}

/** SHA-256 (hex) of a file's content, streamed (long recordings need not fit in memory). */
export function hashFile(path: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('error', (e) => rej(new Error(`${path}: cannot read for hashing (${e.message})`)))
      .on('data', (chunk) => h.update(chunk))
      .on('end', () => res(h.digest('hex')));
  });
}

/** SHA-256 (hex) of the canonical form of a resolved config. */
export function configHash(config: FeatureConfig): string {
  return createHash('sha256').update(canonicalConfig(config)).digest('hex');
}

/** Promise.all over items with at most `limit` in flight (thousands of clips would exhaust file handles). */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

let tmpCounter = 0;
async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.${process.pid}.${tmpCounter++}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/**
 * Features computed once per (file content, config) and kept on disk.
 * @example
 *   const cache = await FeatureCache.open('.cache/features', 'fat2019');
 *   const feats = await cache.getOrComputeMany(paths, { workers: 2 });
 */
export class FeatureCache {
  readonly config: FeatureConfig;
  /** The folder of this config's entries. */
  readonly dir: string;
  readonly configKey: string;
  private readonly hashes: Map<string, HashEntry>;
  private dirty = false;

  private constructor(config: FeatureConfig, dir: string, key: string, hashes: Map<string, HashEntry>) {
    this.config = config;
    this.dir = dir;
    this.configKey = key;
    this.hashes = hashes;
  }

  static async open(root: string, config: FeatureConfigInput | FeatureConfig): Promise<FeatureCache> {
    const c = resolveFeatureConfig(config);
    const key = configHash(c);
    const dir = join(resolve(root), key.slice(0, 16));
    await mkdir(dir, { recursive: true });
    const cfgPath = join(dir, 'config.json');
    const canon = canonicalConfig(c);
    const existing = await readFile(cfgPath, 'utf8').catch(() => null);
    if (existing === null) await writeAtomic(cfgPath, `${canon}\n`);
    else if (existing.trim() !== canon)
      throw new Error(
        `FeatureCache: ${cfgPath} holds another config under the same hash prefix; remove ${dir}`,
      );
    const hashes = new Map<string, HashEntry>();
    const memo = await readFile(join(dir, 'hashes.json'), 'utf8').catch(() => null);
    if (memo !== null) {
      try {
        for (const [p, e] of Object.entries(JSON.parse(memo) as Record<string, HashEntry>)) hashes.set(p, e);
      } catch {
        // A damaged memo only costs re-hashing.
      }
    }
    return new FeatureCache(c, dir, key, hashes);
  }

  /** Content hash of a file, re-used while its size and mtime are unchanged. */
  async contentHash(path: string): Promise<string> {
    const abs = resolve(path);
    const st = await stat(abs).catch((e: Error) => {
      throw new Error(`${path}: cannot stat (${e.message})`);
    });
    const memo = this.hashes.get(abs);
    if (memo && memo.size === st.size && memo.mtimeMs === st.mtimeMs) return memo.hash;
    const hash = await hashFile(abs);
    this.hashes.set(abs, { size: st.size, mtimeMs: st.mtimeMs, hash });
    this.dirty = true;
    return hash;
  }

  private entryPath(hash: string): string {
    return join(this.dir, `${hash.slice(0, 40)}.npy`);
  }

  /** The .npy file that holds (or will hold) the features of content with this hash. */
  entryFile(contentHash: string): string {
    return this.entryPath(contentHash);
  }

  /** Cached features of a file, or null when this content has not been computed with this config. */
  async get(path: string): Promise<NDArray | null> {
    const file = this.entryPath(await this.contentHash(path));
    const bytes = await readFile(file).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    });
    if (bytes === null) return null;
    const npy = decodeNpy(bytes, file);
    if (!(npy.data instanceof Float32Array)) throw new Error(`${file}: expected float32, got ${npy.dtype}`);
    return { data: npy.data, shape: npy.shape };
  }

  /** Stores features for a file's current content. */
  async put(path: string, features: NDArray): Promise<void> {
    await writeAtomic(this.entryPath(await this.contentHash(path)), encodeNpy(features));
  }

  /** Cached features, computed (in-process) and stored on a miss. */
  async getOrCompute(path: string): Promise<NDArray> {
    return (await this.getOrComputeMany([path], { workers: 1 }))[0]!;
  }

  /** Cached features of many files, in order; misses are computed by extractMany (opts) and stored. */
  async getOrComputeMany(paths: readonly string[], opts: ExtractOptions = {}): Promise<NDArray[]> {
    const out = await mapLimit(paths, 32, (p) => this.get(p));
    const missing = paths.filter((_, i) => out[i] === null);
    if (missing.length > 0) {
      const computed = await extractMany(missing, this.config, opts);
      let j = 0;
      for (let i = 0; i < out.length; i++) {
        if (out[i] === null) {
          out[i] = computed[j++]!;
          await this.put(paths[i]!, out[i]!);
        }
      }
    }
    await this.flush();
    return out as NDArray[];
  }

  /** Writes the content-hash memo (done by getOrComputeMany; call after get/put loops). */
  async flush(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    await writeAtomic(join(this.dir, 'hashes.json'), JSON.stringify(Object.fromEntries(this.hashes)));
  }
}
