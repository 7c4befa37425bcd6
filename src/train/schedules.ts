// Learning-rate schedules. Step-based schedules are pure functions of the optimiser step (so a resumed
// run recomputes the same rate from the step count alone); reduce-on-plateau is driven by the
// validation metric once per epoch and carries a little state, saved with the checkpoint.
import { z } from 'zod';
import { parseSchema } from '../core/errors.js';

const warmup = {
  warmupEpochs: z
    .number()
    .min(0)
    .default(0)
    .describe('Linear warm-up from ~0 to the base rate over this many epochs (fractions allowed)…'),
  warmupSteps: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('…or this many optimiser steps (added to warmupEpochs).'),
};

export const scheduleSchema = z.discriminatedUnion('name', [
  z.strictObject({ name: z.literal('constant'), ...warmup }),
  z.strictObject({
    name: z.literal('linear'),
    ...warmup,
    minLr: z.number().min(0).default(0).describe('Rate reached at the last step.'),
  }),
  z.strictObject({ name: z.literal('cosine'), ...warmup, minLr: z.number().min(0).default(0) }),
  z.strictObject({
    name: z.literal('one-cycle'),
    pctStart: z
      .number()
      .gt(0)
      .lt(1)
      .default(0.3)
      .describe("Fraction of the steps spent rising to the peak (torch's pct_start)."),
    divFactor: z.number().positive().default(25).describe('Start rate = lr / divFactor.'),
    finalDivFactor: z.number().positive().default(1e4).describe('End rate = start rate / finalDivFactor.'),
    anneal: z.enum(['cos', 'linear']).default('cos'),
  }),
  z.strictObject({
    name: z.literal('plateau'),
    factor: z
      .number()
      .gt(0)
      .lt(1)
      .default(0.1)
      .describe(
        'New rate = rate × factor after `patience` epochs without improvement of the monitored metric.',
      ),
    patience: z.number().int().min(0).default(10),
    threshold: z
      .number()
      .min(0)
      .default(1e-4)
      .describe("Relative improvement needed to count (torch's threshold, mode rel)."),
    cooldown: z.number().int().min(0).default(0),
    minLr: z.number().min(0).default(0),
  }),
]);

export type ScheduleConfig = z.output<typeof scheduleSchema>;
export type ScheduleInput = z.input<typeof scheduleSchema>;

export interface ScheduleContext {
  /** The optimiser's configured (peak) learning rate. */
  baseLr: number;
  stepsPerEpoch: number;
  epochs: number;
  /** 'max' when a larger monitored value is better (accuracy), 'min' for losses. */
  mode?: 'max' | 'min';
}

export interface PlateauState {
  lr: number;
  best: number | null;
  badEpochs: number;
  cooldownLeft: number;
}

export interface LrSchedule {
  readonly config: ScheduleConfig;
  /** The rate for optimiser step `step` (0-based, counted over the whole run). */
  lrAt(step: number): number;
  /** Called after each epoch's validation; only reduce-on-plateau uses it. */
  endEpoch(metric: number): void;
  /** JSON state for resume (null when the schedule is a pure function of the step). */
  state(): PlateauState | null;
  loadState(s: PlateauState | null): void;
}

function annealCos(start: number, end: number, pct: number): number {
  return end + ((start - end) / 2) * (1 + Math.cos(Math.PI * pct));
}

function annealLinear(start: number, end: number, pct: number): number {
  return start + (end - start) * pct;
}

type Config<N extends ScheduleConfig['name']> = Extract<ScheduleConfig, { name: N }>;

/** A schedule that is a pure function of the step (no state to save). */
function pure(config: ScheduleConfig, fn: (step: number) => number): LrSchedule {
  return {
    config,
    lrAt: (step) => fn(Math.max(0, step)),
    endEpoch: () => {},
    state: () => null,
    loadState: () => {},
  };
}

/** constant, linear, cosine: linear warm-up, then the rate held or decayed to minLr at the last step. */
function warmupThenDecay(config: Config<'constant' | 'linear' | 'cosine'>, ctx: ScheduleContext): LrSchedule {
  const { baseLr, stepsPerEpoch } = ctx;
  const total = Math.max(1, stepsPerEpoch * ctx.epochs);
  const warm = Math.min(total, Math.round(config.warmupEpochs * stepsPerEpoch) + config.warmupSteps);
  const minLr = config.name === 'constant' ? baseLr : config.minLr;
  return pure(config, (step) => {
    // Warm-up counts the step being taken, so the first step already moves the weights.
    if (step < warm) return (baseLr * (step + 1)) / warm;
    if (config.name === 'constant') return baseLr;
    const span = total - warm;
    const pct = span <= 1 ? 1 : Math.min(1, (step - warm) / (span - 1));
    return config.name === 'linear' ? annealLinear(baseLr, minLr, pct) : annealCos(baseLr, minLr, pct);
  });
}

/** torch.optim.lr_scheduler.OneCycleLR with three_phase=False: the peak is reached at step
 * pctStart·total − 1 and the last step (total − 1) ends at initial / finalDivFactor. */
function oneCycle(config: Config<'one-cycle'>, ctx: ScheduleContext): LrSchedule {
  const total = Math.max(1, ctx.stepsPerEpoch * ctx.epochs);
  const initial = ctx.baseLr / config.divFactor;
  const final = initial / config.finalDivFactor;
  const peakStep = config.pctStart * total - 1;
  const lastStep = total - 1;
  const anneal = config.anneal === 'cos' ? annealCos : annealLinear;
  return pure(config, (step) => {
    const s = Math.min(step, lastStep);
    if (s <= peakStep) return anneal(initial, ctx.baseLr, peakStep <= 0 ? 1 : s / peakStep);
    return anneal(ctx.baseLr, final, (s - peakStep) / (lastStep - peakStep));
  });
}

/** Reduce-on-plateau, torch's ReduceLROnPlateau (threshold_mode 'rel'), stepped once per epoch. */
function plateau(c: Config<'plateau'>, ctx: ScheduleContext): LrSchedule {
  const mode = ctx.mode ?? 'max';
  let st: PlateauState = { lr: ctx.baseLr, best: null, badEpochs: 0, cooldownLeft: 0 };
  // As torch: relative to |best| only through its sign-blind product, so keep metrics positive (accuracy, loss).
  const better = (a: number, best: number) =>
    mode === 'max' ? a > best * (1 + c.threshold) : a < best * (1 - c.threshold);
  return {
    config: c,
    lrAt: () => st.lr,
    endEpoch(metric: number) {
      if (!Number.isFinite(metric)) return;
      if (st.best === null || better(metric, st.best)) {
        st.best = metric;
        st.badEpochs = 0;
      } else st.badEpochs++;
      if (st.cooldownLeft > 0) {
        st.cooldownLeft--;
        st.badEpochs = 0;
      }
      if (st.badEpochs > c.patience) {
        st.lr = Math.max(c.minLr, st.lr * c.factor);
        st.cooldownLeft = c.cooldown;
        st.badEpochs = 0;
      }
    },
    state: () => ({ ...st }),
    loadState(s) {
      if (s) st = { ...s };
    },
  };
}

/** Builds a schedule from its (validated) config. */
export function createSchedule(input: ScheduleInput | ScheduleConfig, ctx: ScheduleContext): LrSchedule {
  const config = parseSchema(scheduleSchema, input, 'train.schedule');
  switch (config.name) {
    case 'constant':
    case 'linear':
    case 'cosine':
      return warmupThenDecay(config, ctx);
    case 'one-cycle':
      return oneCycle(config, ctx);
    case 'plateau':
      return plateau(config, ctx);
  }
}
