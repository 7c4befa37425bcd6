// `audiotag dataset prepare --config train.yaml`: builds the feature cache a training config will read,
// ahead of `audiotag train` — the same cache (loader.cacheDir or the default one, keyed by the config's
// resolved features), so train then finds every clip computed. Work goes through prepareCache
// (src/features/node/prepare.ts): worker threads on every core, resumable, bad clips reported once.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { optionalInt, parseChoice, requireInputFile } from '../flags.js';

interface PrepareFlags {
  config: string;
  threads?: string;
  cacheDir?: string;
  backend: string;
  json?: boolean;
  quiet?: boolean;
  queue?: string;
}

export function addDatasetPrepare(dataset: Command): void {
  dataset
    .command('prepare')
    .description("build a training config's feature cache ahead of `audiotag train` (the cache train reads)")
    .requiredOption('--config <train.yaml>', 'the training config (data and features sections are used)')
    .option('--threads <n>', 'worker threads (default: one per core)')
    .option('--cache-dir <dir>', "cache folder (default: the config's loader.cacheDir, else the user cache)")
    .option(
      '--backend <name>',
      'spectrograms: auto (libtorch in each worker when it loads, else TypeScript), engine or js',
      'auto',
    )
    .option(
      '--queue <url>',
      'compute the clips on `audiotag worker` processes through BullMQ on Redis (redis://HOST:PORT)',
    )
    .option('--json', 'print the summary as JSON')
    .option('-q, --quiet', 'no progress, no summary')
    .action(async (f: PrepareFlags) => {
      const threads = optionalInt('--threads', f.threads, 1);
      parseChoice('--backend', f.backend, ['js', 'engine', 'auto'] as const);
      requireInputFile('--config', f.config);
      const { preferOneOpenMpThread, prepareCache } = await import('../../features/node/prepare.js');
      // One OpenMP thread per worker, set before anything loads libtorch; else the TypeScript backend.
      const backend = f.backend === 'auto' && !preferOneOpenMpThread() ? 'js' : f.backend;
      if (f.backend === 'engine') preferOneOpenMpThread();
      const { loadTrainConfig, ConfigError } = await import('../../train/config.js');
      const { prepareData } = await import('../../train/data.js');
      let config: ReturnType<typeof loadTrainConfig>;
      try {
        config = loadTrainConfig({ file: f.config });
      } catch (e) {
        if (e instanceof ConfigError) throw new UsageError(e.message);
        throw e;
      }
      const { isWaveformFormat } = await import('../../features/formats.js');
      if (isWaveformFormat(config.features.format)) {
        if (!f.quiet)
          process.stdout.write(
            `${f.config}: features.format is waveform: the loader reads audio, there is no feature cache\n`,
          );
        return;
      }
      const data = await prepareData(config);
      const paths = data.dataset.items.map((it) => it.path);
      const { defaultCacheDir } = await import('../../data/loader.js');
      const { FeatureCache } = await import('../../features/node/cache.js');
      const cache = await FeatureCache.open(
        f.cacheDir ?? config.loader.cacheDir ?? defaultCacheDir(),
        config.features,
      );
      const { runClipBatch } = await import('./features.js');
      const r = await runClipBatch(
        {
          what: 'prepare',
          total: paths.length,
          queue: f.queue,
          quiet: !!(f.quiet || f.json),
          threads,
          config: cache.config,
          backend: backend as 'js' | 'engine' | 'auto',
        },
        (o) => prepareCache(cache, paths, o),
      );
      if (f.quiet) return;
      const summary = {
        config: f.config,
        cache: cache.dir,
        clips: r.total,
        computed: r.computed,
        cached: r.cached,
        failed: r.failed,
        seconds: Math.round(r.seconds * 100) / 100,
        clipsPerS: Math.round((r.computed / Math.max(1e-9, r.seconds)) * 10) / 10,
        threads: r.threads,
        backend: r.backend,
        failures: r.failures,
      };
      process.stdout.write(
        f.json
          ? `${JSON.stringify(summary)}\n`
          : `${f.config}: ${r.total} clips, ${r.computed} computed, ${r.cached} already cached, ${r.failed} skipped (bad) in ${summary.seconds} s on ${r.threads} thread(s); cache ${cache.dir}\n`,
      );
      if (r.failed === r.total && r.total > 0) throw new Error(`${f.config}: no clip could be prepared`);
    });
}
