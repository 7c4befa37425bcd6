// `audiotag demo`: the toolkit's tour on data it makes itself, so it runs on a fresh machine with nothing
// beside the repository. The data (General-MIDI instruments rendered by FluidSynth, words spoken by
// espeak-ng, over noise; curated single-label clips, multi-label mixtures with noisy labels, a held-out
// test set) is generated from a seed into a cache folder (src/demo/generate.ts), then the tour's steps run
// (src/demo/tour.ts, steps.ts): inspect, train k-fold, evaluate, the warm-up pipeline on the noisy set,
// predict (test clips, a long recording), export ONNX and check it, serve; then a summary.
// `--fsdd DIR` and `--synthetic` keep the earlier demos (spoken digits from an FSDD folder; noise vs tone).
// The engine is imported when a step runs, so the rest of the CLI works without the native addon.

import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';

/** The FSDD demo's training config (`audiotag demo --fsdd DIR`): small enough for about a minute on 2 cores. */
export function demoConfig(fsdd: string, epochs: number, seed: number): Record<string, unknown> {
  return {
    seed,
    data: {
      manifest: join(fsdd, 'meta.csv'),
      format: 'csv',
      csv: { pathCol: 'fname', labelCol: 'label', groupCol: 'speaker' },
    },
    folds: { strategy: 'split' },
    features: {
      sampleRate: 8000,
      nFft: 512,
      winLength: 256,
      hopLength: 128,
      nMels: 48,
      fmin: 20,
      duration: 1,
      durationAlign: 'center',
      normalize: 'clip',
    },
    model: { name: 'small-cnn', config: { channels: [16, 32, 64, 96], convsPerBlock: 1, dropout: 0.2 } },
    augment: { spectrogram: { name: 'SpecTimeMask', p: 0.5, count: 1, maxWidth: 8 } },
    loader: { batchSize: 32, workers: 0 },
    train: {
      epochs,
      optimizer: { name: 'adamw', lr: 0.004 },
      schedule: { name: 'one-cycle', pctStart: 0.25 },
      loss: { labelSmoothing: 0.05 },
      metrics: ['accuracy', 'f1_macro'],
    },
  };
}

interface DemoFlags {
  quick?: boolean;
  dataDir?: string;
  out: string;
  seed: string;
  epochs?: string;
  jobs?: string;
  dataOnly?: boolean;
  regenerate?: boolean;
  fsdd?: string;
  synthetic?: boolean;
}

function positiveInt(flag: string, v: string | undefined, min = 1): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min)
    throw new UsageError(`${flag} must be an integer >= ${min}, got "${v}"`);
  return n;
}

async function fsddDemo(dir: string, epochs: number, seed: number, say: (s: string) => void): Promise<void> {
  const fsdd = resolve(dir);
  if (!existsSync(join(fsdd, 'meta.csv')))
    throw new UsageError(`--fsdd: ${fsdd} has no meta.csv (expected the FSDD folder)`);
  const { loadTrainConfig } = await import('../../train/config.js');
  const { runTraining } = await import('../../train/run.js');
  const { lineReporter } = await import('../../train/progress.js');
  const out = mkdtempSync(join(tmpdir(), 'audiotag-demo-fsdd-'));
  say(
    'FSDD spoken digits, official split: recordings 5-49 of each digit and speaker train a small CNN, 0-4 test it',
  );
  const config = loadTrainConfig({ object: demoConfig(fsdd, epochs, seed) });
  const m = await runTraining({
    config,
    out,
    force: true,
    reporter: lineReporter((s) => process.stdout.write(s)),
  });
  say(
    `\ntest accuracy ${((m.metrics.accuracy?.mean ?? Number.NaN) * 100).toFixed(1)} % on ${m.folds[0]?.val ?? '?'} clips; run directory: ${out}`,
  );
}

/** How the CLI was started, for the command lines the demo prints: the script's path when it lies under
 * the current directory (`bin/audiotag` in a clone), else `audiotag` (installed on the PATH). */
function invokedAs(): string {
  const script = process.argv[1];
  if (!script) return 'audiotag';
  const r = relative(process.cwd(), resolve(script));
  return r !== '' && !r.startsWith('..') && !isAbsolute(r) ? r : 'audiotag';
}

export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'generate a data set (FluidSynth instruments, espeak-ng words, noisy-label mixtures) and tour the toolkit on it',
    )
    .option('--quick', 'the small tour (a few minutes on 2 cores): fewer clips, folds and epochs')
    .option('--data-dir <dir>', 'cache folder of the generated data (default ~/.cache/audiotag/demo)')
    .option('--out <dir>', 'where the tour writes its runs, reports and summary.json', 'runs/demo')
    .option('--seed <n>', 'seed of the data and the training', '0')
    .option('--epochs <n>', "training epochs (default: the config's; 20 with --quick)")
    .option('--jobs <n>', 'parallel FluidSynth/espeak-ng processes (default: the core count)')
    .option('--data-only', 'generate (or check) the data set, print where it is, and stop')
    .option('--regenerate', 'generate the data again even when a valid cached copy exists')
    .option('--fsdd <dir>', 'instead: the earlier demo, a small CNN on an FSDD folder (meta.csv + audio/)')
    .option('--synthetic', 'instead: the no-data smoke test, a tiny CNN telling noise from noise + tone')
    .action(async (o: DemoFlags) => {
      const say = (s: string) => process.stdout.write(`${s}\n`);
      const seed = positiveInt('--seed', o.seed, 0)!;
      const epochs = positiveInt('--epochs', o.epochs);
      const jobs = positiveInt('--jobs', o.jobs);
      if (o.fsdd && o.synthetic)
        throw new UsageError('--fsdd and --synthetic are two different demos: give one');
      if (o.synthetic) {
        const { runDemo } = await import('../../models/demo.js');
        runDemo({ steps: 60, seed, log: say });
        return;
      }
      if (o.fsdd) return fsddDemo(o.fsdd, epochs ?? 8, seed, say);

      const { SIZES } = await import('../../demo/plan.js');
      const { defaultDataRoot } = await import('../../demo/generate.js');
      const { TOUR, runTour, summaryText } = await import('../../demo/tour.js');
      type Ctx = import('../../demo/tour.js').TourContext;
      const size = o.quick ? SIZES.quick : SIZES.full;
      const ctx: Ctx = {
        dataRoot: resolve(o.dataDir ?? defaultDataRoot()),
        size,
        seed,
        quick: o.quick === true,
        out: resolve(o.out),
        epochs,
        jobs,
        regenerate: o.regenerate,
        log: say,
        program: invokedAs(),
        results: new Map(),
      };
      if (o.dataOnly) {
        const t0 = performance.now();
        const r = await TOUR.find((s) => s.id === 'data')!.run!(ctx);
        say(`${r.result}\n${ctx.data!.dir} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
        return;
      }
      const commands = new Set(program.commands.map((c) => c.name()));
      const summary = await runTour(ctx, commands);
      say(summaryText(summary, ctx.out));
    });
}
