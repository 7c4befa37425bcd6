// `audiotag export RUN_DIR --out model.onnx`: a trained run (one fold, or several folds averaged in one
// graph) as an ONNX file that onnxruntime-node/-web run without libtorch. See docs/export.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError, usageFromOptionError } from '../errors.js';
import { parseFoldList } from './train.js';

interface ExportFlags {
  out: string;
  frontend?: boolean;
  quantize?: string;
  fold?: string;
  folds?: string;
  allFolds?: boolean;
  checkpoint?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('export')
    .description('export a trained run (or one checkpoint directory) to ONNX, opset 17, with its metadata')
    .argument('<run>', 'run directory written by audiotag train, or a checkpoint directory')
    .requiredOption('--out <file>', 'the .onnx file to write')
    .option('--frontend', 'put the feature front-end in the graph: the model takes the waveform')
    .option('--quantize <kind>', 'weight-only quantization: int8')
    .option('--fold <n>', 'the fold model to export (needed when the run has several)')
    .option('--folds <list>', 'several fold models in one graph (their probabilities averaged), e.g. 0,1,2')
    .option('--all-folds', 'every trained fold in one graph (probabilities averaged, as audiotag evaluate)')
    .option('--checkpoint <which>', 'best (default) or last', 'best')
    .option('--json', 'print the export summary as JSON')
    .action(async (run: string, flags: ExportFlags) => {
      if (flags.quantize !== undefined && flags.quantize !== 'int8')
        throw new UsageError(`--quantize must be "int8", got "${flags.quantize}"`);
      if (flags.checkpoint !== 'best' && flags.checkpoint !== 'last')
        throw new UsageError(`--checkpoint must be "best" or "last", got "${flags.checkpoint}"`);
      const given = [flags.fold, flags.folds, flags.allFolds].filter((v) => v !== undefined).length;
      if (given > 1) throw new UsageError('give only one of --fold, --folds and --all-folds');
      if (flags.fold !== undefined && !/^\d+$/.test(flags.fold))
        throw new UsageError(`--fold must be a fold index (e.g. 0), got "${flags.fold}"`);
      if (!flags.out.toLowerCase().endsWith('.onnx'))
        throw new UsageError(`--out must name a .onnx file, got "${flags.out}"`);
      const folds = flags.fold !== undefined ? [Number(flags.fold)] : parseFoldList('--folds', flags.folds);
      // Imported here: exporting reads the weights through the engine (libtorch).
      const { exportRun, ExportError } = await import('../../export/export.js');
      let r: ReturnType<typeof exportRun>;
      try {
        r = exportRun(run, {
          frontend: !!flags.frontend,
          quantize: flags.quantize === 'int8' ? 'int8' : null,
          folds,
          allFolds: !!flags.allFolds,
          checkpoint: flags.checkpoint,
        });
      } catch (e) {
        // Option errors name the option (`folds`); shown as the flag the user gave.
        if (e instanceof ExportError && e.option === 'folds' && flags.fold === undefined && !flags.folds)
          throw new UsageError(
            `--fold: ${e.problem.replace(/\(folds, or allFolds: true\)$/, '(--fold N or --all-folds)')}`,
          );
        if (e instanceof ExportError)
          throw usageFromOptionError(e, { folds: flags.folds !== undefined ? 'folds' : 'fold' });
        throw e;
      }
      const out = resolve(flags.out);
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, r.bytes);
      const m = r.meta;
      if (flags.frontend && !m.frontend)
        process.stderr.write(`note: ${m.model} takes the waveform itself; --frontend has nothing to add\n`);
      const summary = {
        out,
        bytes: r.bytes.length,
        model: m.model,
        folds: m.folds,
        frontend: m.frontend,
        quantize: m.quantize,
        input: { name: m.inputName, kind: m.inputKind, dims: m.inputDims },
        outputs: m.outputs,
        classes: m.classes.length,
        sample_rate: m.sampleRate,
        ...(r.quantized
          ? {
              quantized_tensors: r.quantized.tensors,
              weight_bytes: [r.quantized.floatBytes, r.quantized.int8Bytes],
            }
          : {}),
      };
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        return;
      }
      const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
      process.stdout.write(
        `${out}: ${mb(r.bytes.length)}, ${m.model}, fold${m.folds.length > 1 ? 's' : ''} ${m.folds.join(',')}` +
          `${m.frontend ? ', front-end in the graph' : ''}${m.quantize ? `, ${m.quantize} weights` : ''}\n` +
          `input ${m.inputName} [${m.inputDims.join(', ')}] (${m.inputKind} at ${m.sampleRate} Hz); outputs ${m.outputs.join(', ')}\n`,
      );
    });
}
