// What every step of the demo's tour shares: the context a step gets, what it returns, and the paths of
// the data set, the tour's runs and the shipped configs (src/demo/tour.ts runs the steps).
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot as findPackageRoot } from '../core/package-root.js';
import type { DemoData } from './generate.js';
import type { DemoSize } from './plan.js';

export interface TourContext {
  /** Root of the data cache (the data set goes in a (size, seed) folder under it). */
  dataRoot: string;
  size: DemoSize;
  seed: number;
  quick: boolean;
  /** The tour's output folder (runs/demo by default). */
  out: string;
  /** Training epochs (default: the config's, or the quick value). */
  epochs?: number;
  jobs?: number;
  /** Regenerate the data even when a valid cached copy exists. */
  regenerate?: boolean;
  log: (s: string) => void;
  /** How the user calls the CLI, for the command lines shown (default \`audiotag\`; \`bin/audiotag\` in a clone). */
  program?: string;
  /** Set by the data step. */
  data?: DemoData;
  /** Every finished step's result, by step id. */
  results: Map<string, StepResult>;
}

export interface StepResult {
  /** One line for the summary table. */
  result: string;
  /** Files and folders the step wrote, by name. */
  outputs?: Record<string, string>;
  /** Figures for summary.json. */
  scores?: Record<string, number>;
  /** The HTML reports among the outputs, listed on their own in the summary. */
  reports?: Record<string, string>;
}

export interface TourStep {
  id: string;
  title: string;
  /** The audiotag sub-command the step stands for; the step is unavailable while the CLI lacks it. */
  command: string;
  /** The command line that does this step alone. */
  commandLine: (ctx: TourContext) => string;
  run?: (ctx: TourContext) => Promise<StepResult>;
}

export type StepStatus = 'done' | 'not yet available' | 'not in the demo yet';

export interface StepReport {
  id: string;
  title: string;
  status: StepStatus;
  commandLine: string;
  seconds: number;
  result: string;
  outputs: Record<string, string>;
  scores: Record<string, number>;
  reports: Record<string, string>;
  /** CPU seconds of this process (all its threads) during the step; child processes not included. */
  cpuSeconds: number;
}

/** The package root (holds package.json), from src/demo and dist/src/demo alike. */
export function packageRoot(): string {
  const root = findPackageRoot();
  if (root === null) throw new Error(`demo: no package.json above ${fileURLToPath(import.meta.url)}`);
  return root;
}

/** A config shipped in configs/demo/. */
export function demoConfigPath(name: string): string {
  return join(packageRoot(), 'configs', 'demo', name);
}

/** The demo's training config (shipped in configs/demo/). */
export function demoTrainConfigPath(): string {
  return demoConfigPath('curated.yaml');
}

/** Epochs of the quick tour (the full one uses the config's). */
export const QUICK_EPOCHS = 15;

/** The CLI as the user calls it, to begin the command lines shown. */
export const cli = (ctx: TourContext): string => ctx.program ?? 'audiotag';

/** A path as short as it reads well: relative to the current directory when below it. */
export function shown(p: string): string {
  const r = relative(process.cwd(), p);
  return r !== '' && !r.startsWith('..') ? r : p;
}

/** The k-fold training run of the tour. */
export const trainDir = (ctx: TourContext): string => join(ctx.out, 'train');
/** A file of the generated data set (its folder is known before the data step runs). */
export const dataPath = (ctx: TourContext, f: string): string =>
  ctx.data ? join(ctx.data.dir, f) : join(ctx.dataRoot, `${ctx.size.name}-seed${ctx.seed}`, f);
/** A score with 3 decimals, or – when missing. */
export const fmt = (x: number | undefined): string =>
  x === undefined || Number.isNaN(x) ? '–' : x.toFixed(3);

/** The training epochs of the tour's runs (undefined: the config's). */
export function epochsOf(ctx: TourContext): number | undefined {
  return ctx.epochs ?? (ctx.quick ? QUICK_EPOCHS : undefined);
}
