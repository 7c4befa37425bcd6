// `audiotag pipeline <recipe> --config pipeline.yaml --out runs/NAME`: multi-stage recipes for learning
// from noisy labels (the Freesound 2019 warm-up, noisy pre-training, distillation, pseudo-labels...);
// see docs/noisy.md. Running the same command again resumes at the stage and fold it stopped in.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { requireInputFile, requireOutputDir } from '../flags.js';
import { trainReporter } from '../progress.js';

interface PipelineFlags {
  config: string;
  out: string;
  curated?: string;
  noisy?: string;
  test?: string;
  force?: boolean;
  quiet?: boolean;
}

const RECIPE_HELP: Record<string, string> = {
  warmup:
    'Freesound 2019 8th place: noisy only → curated → curated + selected noisy (twice); ensemble of stages 2-4',
  pretrain: 'pre-train on the noisy set, fine-tune on the curated set',
  curated: 'curated only (with mixNoisy: curated batches mixed with noisy ones)',
  union: 'curated + noisy as is (with the train config labels options: soft labels, weights)',
  distill: "curated + noisy, noisy targets mixed with a teacher pipeline's soft predictions",
  pseudo: 'curated + an unlabelled folder labelled where a teacher pipeline is confident',
};

export function register(program: Command): void {
  const pipeline = program
    .command('pipeline')
    .description(
      'multi-stage training recipes for noisy labels (warm-up, pre-training, distillation, pseudo-labels)',
    );
  for (const [recipe, help] of Object.entries(RECIPE_HELP)) {
    pipeline
      .command(recipe)
      .description(help)
      .requiredOption(
        '--config <yaml>',
        'pipeline config (configs/noisy/*.yaml): train config, noisy/test sets, keys',
      )
      .requiredOption('--out <dir>', 'output folder: <stage>/fold<i>/, selection lists, results.json')
      .option('--curated <manifest>', "the curated set (replaces the train config's data section)")
      .option('--noisy <manifest>', 'the noisy set (replaces the config key noisy)')
      .option('--test <manifest>', 'held-out test set (replaces the config key test)')
      .option('--force', 'replace a pipeline with a different config in --out')
      .option('--quiet', 'no progress output')
      .allowUnknownOption(true)
      .allowExcessArguments(true)
      .addHelpText(
        'after',
        '\nAny pipeline config key can be given as a dotted flag: --folds 5 --warmup.select3.minScore 0.6\n' +
          'Re-running the same command resumes: finished folds are kept, an interrupted one continues.',
      )
      .action(async (flags: PipelineFlags, cmd: Command) => {
        requireInputFile('--config', flags.config);
        requireOutputDir('--out', flags.out);
        for (const [flag, v] of [
          ['--curated', flags.curated],
          ['--noisy', flags.noisy],
          ['--test', flags.test],
        ] as const)
          if (v !== undefined) requireInputFile(flag, v);
        const { ConfigError, parseOverrideArgs } = await import('../../train/config.js');
        const { loadPipelineConfig } = await import('../../pipelines/config.js');
        let config: ReturnType<typeof loadPipelineConfig>;
        try {
          const overrides = parseOverrideArgs(cmd.args);
          if (flags.curated) overrides.push(['curated', flags.curated]);
          if (flags.noisy) overrides.push(['noisy', flags.noisy]);
          if (flags.test) overrides.push(['test', flags.test]);
          config = loadPipelineConfig(flags.config, overrides);
          const { recipeProblems } = await import('../../pipelines/config.js');
          const problems = recipeProblems(recipe as never, config);
          if (problems.length > 0) throw new ConfigError(problems, flags.config);
        } catch (e) {
          if (e instanceof ConfigError) throw new UsageError(e.message);
          throw e;
        }
        const { runPipeline, PipelineExistsError } = await import('../../pipelines/index.js');
        let result: Awaited<ReturnType<typeof runPipeline>>;
        try {
          result = await runPipeline(recipe as never, {
            config,
            out: flags.out,
            force: flags.force,
            reporter: trainReporter(flags.quiet),
          });
        } catch (e) {
          if (e instanceof PipelineExistsError)
            throw new UsageError(`--out ${e.message}; use another --out, or --force to replace it`);
          throw e;
        }
        const t = result.test
          ? `; test ${Object.entries(result.test)
              .map(([m, s]) => `${m} ${s.mean.toFixed(4)} ± ${s.std.toFixed(4)}`)
              .join(', ')} (ensemble of ${result.ensemble.join(', ')}, mean ± std over folds)`
          : '';
        process.stdout.write(`${flags.out}: ${recipe} finished${t}\n`);
      });
  }
}
