// `audiotag evaluate`: scores a held-out manifest with a trained run. Every fold's best checkpoint
// predicts clip probabilities (windows combined as in training); the fold models' probabilities are
// averaged into an ensemble, and metrics are reported for the ensemble and for each fold model.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { OptionError } from '../core/errors.js';
import { loadManifest, type ManifestFormat, withClasses } from '../data/index.js';
import type { Dataset } from '../data/types.js';
import * as E from '../engine/index.js';
import { computeMetrics, defaultMetrics } from '../metrics/index.js';
import { loadModel } from '../models/index.js';
import { readCheckpointConfig } from '../nn/checkpoint.js';
import { writeEvaluationReport } from '../report/evaluation.js';
import type { ResolvedConfig } from './config.js';
import { manifestSpec } from './data.js';
import { openFoldLoaders, planLoaders } from './plan.js';
import { predictClips, selectRows, truthOf } from './predict.js';
import { readRunConfig } from './run.js';
import { scoresCsv } from './trainer.js';

export interface EvaluateOptions {
  run: string;
  manifest: string;
  /** Manifest format; default: the run's data.format (or detected). */
  format?: ManifestFormat;
  /** Audio folder; default: the run's data.audioDir, else guessed from the manifest's location. */
  audioDir?: string;
  /** Fold indices to use (default: every fold with a best checkpoint). */
  folds?: number[];
  /** Folder for the HTML evaluation report (report.html, charts/); none when absent. */
  reportDir?: string;
  /** Output folder for metrics.json and predictions.csv (default <run>/eval-<manifest name>). */
  out?: string;
  metrics?: string[];
  onMessage?: (s: string) => void;
  /** Feature precompute progress: `done` of `total` clips. */
  onProgress?: (done: number, total: number) => void;
}

export interface EvaluateResult {
  out: string;
  /** Folds whose models were averaged. */
  folds: number[];
  clips: number;
  /** Ensemble metrics (null when the manifest has no labels). */
  metrics: Record<string, number> | null;
  perFold: Record<string, Record<string, number>>;
}

/** The folds to average: those asked for, or every fold with a best checkpoint. */
function chooseFolds(runDir: string, asked: number[] | undefined): number[] {
  const trained = readdirSync(runDir)
    .map((d) => /^fold(\d+)$/.exec(d))
    .filter(
      (m): m is RegExpExecArray => m !== null && existsSync(join(runDir, m[0], 'best', 'model.safetensors')),
    )
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  const folds = asked ?? trained;
  for (const f of folds)
    if (!trained.includes(f))
      throw new OptionError(
        'folds',
        `${runDir}/fold${f}/best holds no checkpoint (trained folds: ${trained.join(', ') || 'none'})`,
      );
  if (folds.length === 0) throw new Error(`${runDir} has no trained fold (no fold*/best/model.safetensors)`);
  return folds;
}

/** The manifest to score, read with the run's data section (format and audio folder overridable), in the
 * run's class order. `labelled`: every item has a label, so metrics can be computed. */
async function loadEvalSet(
  o: EvaluateOptions,
  config: ResolvedConfig,
  classes: string[],
): Promise<{ dataset: Dataset; labelled: boolean }> {
  const spec = manifestSpec(
    config.data,
    resolve(o.manifest),
    o.audioDir ? resolve(o.audioDir) : config.data.audioDir,
  );
  if (o.format) {
    spec.format = o.format;
    if (o.format !== 'csv') spec.csv = undefined;
  }
  spec.classes = undefined;
  // Folds, groups and weights organise training; a held-out manifest need not carry those columns.
  if (spec.csv) spec.csv = { ...spec.csv, foldCol: undefined, groupCol: undefined, weightCol: undefined };
  const { dataset: raw } = await loadManifest(spec);
  const labelled = raw.items.every((it) => it.labels.length > 0);
  // The run's class order; a label the run never saw cannot be scored, and is named.
  return { dataset: labelled ? withClasses(raw, classes) : { ...raw, classes }, labelled };
}

/** Every fold model's clip probabilities, averaged into `ensemble`, with per-fold metrics when labelled. */
async function scoreFolds(
  runDir: string,
  folds: number[],
  config: ResolvedConfig,
  set: { dataset: Dataset; labelled: boolean },
  metricNames: string[],
  log: (s: string) => void,
  onProgress?: (done: number, total: number) => void,
): Promise<{ ensemble: Float32Array; counts: Int32Array; perFold: Record<string, Record<string, number>> }> {
  const { dataset, labelled } = set;
  const n = dataset.items.length;
  const c = dataset.classes.length;
  const plans = await planLoaders(config, false);
  const { val: loader } = await openFoldLoaders(plans, null, dataset, config.seed, onProgress);
  const ensemble = new Float32Array(n * c);
  const perFold: Record<string, Record<string, number>> = {};
  let counts: Int32Array = new Int32Array(n);
  try {
    for (const f of folds) {
      const { model, config: ck } = loadModel(join(runDir, `fold${f}`, 'best'), {
        device: config.train.device,
      });
      try {
        const p = await predictClips(model, loader!, n, c, {
          activation: ck.activation === 'sigmoid' ? 'sigmoid' : 'softmax',
          aggregate: config.train.aggregate,
          device: config.train.device,
        });
        counts = p.counts;
        for (let i = 0; i < ensemble.length; i++) ensemble[i]! += p.scores[i]! / folds.length;
        if (labelled) {
          const served = Array.from(p.counts.keys()).filter((i) => p.counts[i]! > 0);
          perFold[`fold${f}`] = computeMetrics(
            metricNames,
            selectRows(p.scores, c, served),
            truthOf(dataset, served),
          );
        }
        log(`fold${f}: scored ${n} clips`);
      } finally {
        model.dispose();
      }
    }
  } finally {
    await loader?.close();
  }
  return { ensemble, counts, perFold };
}

export async function evaluateRun(o: EvaluateOptions): Promise<EvaluateResult> {
  const log = o.onMessage ?? (() => {});
  const runDir = resolve(o.run);
  const config = readRunConfig(runDir);
  if (config.train.threads) E.setNumThreads(config.train.threads);
  const folds = chooseFolds(runDir, o.folds);
  const classes = readCheckpointConfig(join(runDir, `fold${folds[0]}`, 'best')).classes as string[];
  const set = await loadEvalSet(o, config, classes);
  const { dataset, labelled } = set;
  const metricNames = o.metrics ?? config.train.metrics ?? defaultMetrics(dataset.multiLabel);
  const { ensemble, counts, perFold } = await scoreFolds(
    runDir,
    folds,
    config,
    set,
    metricNames,
    log,
    o.onProgress,
  );
  const served = Array.from(counts.keys()).filter((i) => counts[i]! > 0);
  const metrics = labelled
    ? computeMetrics(metricNames, selectRows(ensemble, classes.length, served), truthOf(dataset, served))
    : null;
  const out = resolve(o.out ?? join(runDir, `eval-${basename(o.manifest, extname(o.manifest))}`));
  mkdirSync(out, { recursive: true });
  const ids = dataset.items.map((it) => it.id);
  writeFileSync(join(out, 'predictions.csv'), scoresCsv(ids, classes, ensemble));
  const record = {
    run: runDir,
    manifest: resolve(o.manifest),
    clips: dataset.items.length,
    scored: served.length,
    folds,
    ensemble: folds.length > 1 ? "mean of the fold models' probabilities" : 'single model',
    metrics,
    per_fold: perFold,
  };
  writeFileSync(join(out, 'metrics.json'), `${JSON.stringify(record, null, 2)}\n`);
  if (o.reportDir && labelled) {
    const index = new Map(classes.map((c, j) => [c, j]));
    const items = served.map((i) => dataset.items[i]!);
    await writeEvaluationReport(
      resolve(o.reportDir),
      {
        classes,
        ids: items.map((it) => it.id),
        scores: selectRows(ensemble, classes.length, served),
        labels: items.map((it) =>
          it.labels.map((l) => index.get(l)).filter((j): j is number => j !== undefined),
        ),
        multiLabel: dataset.multiLabel,
        paths: items.map((it) => it.path),
      },
      `Evaluation: ${basename(o.manifest)}`,
      `run ${runDir} · manifest ${resolve(o.manifest)} · folds ${folds.join(', ')}`,
    );
  }
  return { out, folds, clips: dataset.items.length, metrics, perFold };
}

/** A fixed-width table: one row per metric, the ensemble then each fold. */
export function evaluateTable(r: EvaluateResult): string {
  const cols = ['ensemble', ...Object.keys(r.perFold)];
  const names = Object.keys(r.metrics ?? {});
  const w = Math.max(8, ...names.map((x) => x.length));
  const head = `${'metric'.padEnd(w)}  ${cols.map((x) => x.padStart(9)).join(' ')}`;
  const rows = names.map(
    (m) =>
      `${m.padEnd(w)}  ${[r.metrics![m]!, ...Object.values(r.perFold).map((f) => f[m]!)].map((v) => v.toFixed(4).padStart(9)).join(' ')}`,
  );
  return [head, ...rows].join('\n');
}
