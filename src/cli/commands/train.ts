// `audiotag train`: trains a run from a YAML config (every key also settable as a dotted flag, e.g.
// `--train.epochs 5 --data.manifest other.csv`) into a run directory; see docs/train.md.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { SchemaError } from '../../core/errors.js';
import { rankLayoutFromEnv } from '../../distributed/env.js';
import { launchLocal, parseMaster, withoutFlags } from '../../distributed/launch.js';
import { ConfigError, loadTrainConfig, parseOverrideArgs } from '../../train/config.js';
import { recipeKindPath, recipeKinds } from '../../train/kinds.js';
import { UsageError } from '../errors.js';
import { parseFoldList, parseNumber, requireInputFile, requireOutputDir } from '../flags.js';
import { trainReporter } from '../progress.js';

interface TrainFlags {
  config?: string;
  out: string;
  folds?: string;
  quiet?: boolean;
  force?: boolean;
  nproc?: string;
  nnodes?: string;
  nodeRank?: string;
  master?: string;
}

const LAUNCH_FLAGS = ['--nproc', '--nnodes', '--node-rank', '--master'];

export { parseFoldList };

/**
 * A config error for the command line: a problem whose key came from a dotted flag names the flag
 * (`--train.epochs: expected …`), the others name the YAML file (`configs/x.yaml: model.name: …`).
 */
export function configUsageError(
  problems: readonly string[],
  file: string | undefined,
  overrides: readonly [string, unknown][],
): UsageError {
  const flagKeys = overrides.map(([k]) => k);
  const lines = problems.map((p) => {
    const key = p.slice(0, Math.max(0, p.indexOf(':')));
    const flag = flagKeys.find((k) => key === k || key.startsWith(`${k}.`) || k.startsWith(`${key}.`));
    return flag !== undefined ? `--${p}` : `${file ?? 'config'}: ${p}`;
  });
  return new UsageError(lines.length === 1 ? lines[0]! : `bad config:\n  ${lines.join('\n  ')}`);
}

export function register(program: Command): void {
  program
    .command('train')
    .description('train a model (k-fold or one split) from a YAML config; writes a run directory')
    .option(
      '--config <yaml>',
      'training config (configs/*.yaml; paths in it are relative to its folder), or the name of a recipe shipped in configs/kinds/ (speech, environmental, …)',
    )
    .requiredOption(
      '--out <dir>',
      'run directory (config.yaml, fold<i>/best|last, log.jsonl, oof.csv, metrics.json)',
    )
    .option('--folds <list>', 'train only these fold indices, e.g. 1,3 (the i of fold<i>)')
    .option('--quiet', 'no progress bar or epoch lines')
    .option('--force', 'replace a run with a different config in --out')
    .option('--nproc <n>', 'data-parallel training: processes on this machine (docs/distributed.md)')
    .option('--nnodes <n>', 'machines taking part (each runs the same command with its --node-rank)')
    .option('--node-rank <k>', 'this machine among --nnodes (0 hosts the rendezvous)')
    .option('--master <addr:port>', "node 0's address and a free port (default 127.0.0.1 and a free port)")
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .addHelpText(
      'after',
      '\nAny config key can be given as a dotted flag, after or between the options above:\n' +
        '  audiotag train --config configs/fsdd.yaml --out runs/fsdd --train.epochs 5 --loader.batchSize 64\n' +
        'Values are read as YAML scalars (5, 1e-3, true, null, [32, 64]). Re-running the same command\n' +
        'continues an interrupted run: finished folds are kept, the others resume from fold<i>/last.',
    )
    .action(async (flags: TrainFlags, cmd: Command) => {
      const folds = parseFoldList('--folds', flags.folds);
      if (flags.config !== undefined) flags.config = configFile(flags.config);
      requireOutputDir('--out', flags.out);
      const nproc =
        flags.nproc === undefined ? 1 : parseNumber('--nproc', flags.nproc, { int: true, min: 1 });
      const nnodes =
        flags.nnodes === undefined ? 1 : parseNumber('--nnodes', flags.nnodes, { int: true, min: 1 });
      const nodeRank =
        flags.nodeRank === undefined
          ? 0
          : parseNumber('--node-rank', flags.nodeRank, { int: true, min: 0, max: nnodes - 1 });
      let master = { addr: '127.0.0.1', port: 0 };
      if (flags.master !== undefined) {
        try {
          master = parseMaster('--master', flags.master);
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
      } else if (nnodes > 1) throw new UsageError('--nnodes above 1 needs --master ADDR:PORT (node 0)');
      let config: ReturnType<typeof loadTrainConfig>;
      let overrides: [string, unknown][] = [];
      try {
        overrides = parseOverrideArgs(cmd.args);
        config = loadTrainConfig({ file: flags.config, overrides });
      } catch (e) {
        if (e instanceof ConfigError) throw configUsageError(e.problems, flags.config, overrides);
        throw e;
      }
      if (nproc * nnodes > 1 && process.env.WORLD_SIZE === undefined) {
        // The launcher: this process only starts the ranks (each reruns this command) and waits.
        const code = await launchLocal({
          nproc,
          nnodes,
          nodeRank,
          masterAddr: master.addr,
          masterPort: master.port,
          argv: withoutFlags(process.argv.slice(1), LAUNCH_FLAGS),
        });
        if (code !== 0) throw new Error(`a training rank exited with code ${code}`);
        return;
      }
      // Imported here: it loads the engine (libtorch), which the rest of the CLI does not need.
      const { runTraining, RunExistsError } = await import('../../train/run.js');
      // A rank of a data-parallel run (torchrun's variables): rank 0 writes --out; the others keep their
      // own copy of the run state (for resume) in --out/rank<k>, quietly.
      const layout = rankLayoutFromEnv();
      const { ProcessGroup, rankPlacement } = await import('../../distributed/index.js');
      let dist: ReturnType<typeof ProcessGroup.init> | null = null;
      if (layout && layout.worldSize > 1) {
        // `cuda` becomes this rank's GPU (cuda:LOCAL_RANK), reduced over NCCL when the addon has it.
        const place = rankPlacement(config.train.device, layout);
        config.train.device = place.device;
        dist = ProcessGroup.init(layout, undefined, place);
      }
      const out = dist && dist.rank > 0 ? join(flags.out, `rank${dist.rank}`) : flags.out;
      let summary: Awaited<ReturnType<typeof runTraining>>;
      try {
        summary = await runTraining({
          config,
          out,
          folds,
          force: flags.force,
          reporter: trainReporter(flags.quiet || (dist !== null && dist.rank > 0)),
          dist,
        });
      } catch (e) {
        if (e instanceof RunExistsError)
          throw new UsageError(`--out ${e.message}; use another --out, or --force to replace it`);
        if (e instanceof RangeError && /^folds: /.test(e.message)) throw new UsageError(`--${e.message}`);
        // The model config is checked once the classes are known (numClasses): still a config error.
        if (e instanceof SchemaError && e.problems.every((p) => p.startsWith('model.')))
          throw configUsageError(e.problems, flags.config, overrides);
        throw e;
      } finally {
        dist?.destroy();
      }
      if (dist && dist.rank > 0) return;
      const main = Object.entries(summary.metrics)
        .map(([n, s]) => `${n} ${s.mean.toFixed(4)} ± ${s.std.toFixed(4)}`)
        .join(', ');
      process.stdout.write(`${flags.out}: ${summary.folds.length}/${summary.planned} folds, ${main}\n`);
    });
}

/** `--config`: a YAML file, or the name of a recipe shipped in configs/kinds/. */
function configFile(value: string): string {
  if (existsSync(value)) {
    requireInputFile('--config', value);
    return value;
  }
  const shipped = recipeKindPath(value);
  if (shipped !== null) return shipped;
  throw new UsageError(
    `--config ${value}: no such file, and not a shipped recipe (${recipeKinds().join(', ')})`,
  );
}
