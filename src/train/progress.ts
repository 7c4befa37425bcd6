// What the trainer tells the person watching: a cli-progress bar (steps/s, ETA, running loss, last
// validation metric) for a terminal, one summary line per epoch and a step line every few seconds otherwise
// (logs of nohup runs stay readable). Nothing here picks a stream: the caller (the CLI) passes it.
import cliProgress from 'cli-progress';

export interface EpochSummary {
  label: string;
  epoch: number;
  epochs: number;
  lr: number;
  trainLoss: number;
  valLoss?: number;
  metrics: Record<string, number>;
  monitor?: string;
  improved: boolean;
  seconds: number;
}

export interface Reporter {
  /** A new epoch of `steps` optimiser steps begins. */
  epochStart(label: string, epoch: number, epochs: number, steps: number): void;
  /** `done` steps of this epoch are finished; `loss` is the running mean. */
  step(done: number, loss: number): void;
  /** Validation is running (the bar stays, showing it). */
  validating(): void;
  epochEnd(s: EpochSummary): void;
  message(text: string): void;
  /** A step before training (features computed or read from the cache): `done` of `total` clips. */
  progress?(label: string, done: number, total: number): void;
  close(): void;
}

export const silentReporter: Reporter = {
  epochStart() {},
  step() {},
  validating() {},
  epochEnd() {},
  message() {},
  close() {},
};

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(4);
}

export function summaryLine(s: EpochSummary): string {
  const parts = [
    `${s.label} epoch ${s.epoch}/${s.epochs}`,
    `lr ${s.lr.toExponential(2)}`,
    `loss ${fmt(s.trainLoss)}`,
  ];
  if (s.valLoss !== undefined) parts.push(`val_loss ${fmt(s.valLoss)}`);
  for (const [k, v] of Object.entries(s.metrics)) parts.push(`${k} ${fmt(v)}`);
  parts.push(`${s.seconds.toFixed(1)} s`);
  if (s.improved) parts.push('*');
  return parts.join('  ');
}

/**
 * Plain lines (no bar): epoch summaries, messages, and while an epoch runs a step line with rate and ETA
 * every `everySeconds` (default 10; 0: at every step; Infinity: none).
 */
export function lineReporter(write: (s: string) => void, everySeconds = 10): Reporter {
  let head = '';
  let steps = 0;
  let started = 0;
  let last = 0;
  return {
    ...silentReporter,
    epochStart(label, epoch, epochs, n) {
      head = `${label} epoch ${epoch}/${epochs}`;
      steps = n;
      started = performance.now();
      last = started;
    },
    step(done, loss) {
      const now = performance.now();
      if (!(now - last >= everySeconds * 1000)) return;
      last = now;
      const rate = done / ((now - started) / 1000);
      const eta = rate > 0 ? ` ETA ${Math.round((steps - done) / rate)} s` : '';
      write(`${head}: step ${done}/${steps}, ${rate.toFixed(2)} steps/s${eta}, loss ${fmt(loss)}\n`);
    },
    epochEnd: (s) => write(`${summaryLine(s)}\n`),
    message: (t) => write(`${t}\n`),
    progress(label, done, total) {
      const now = performance.now();
      if (done <= 1) {
        started = now;
        last = now;
      }
      const every = everySeconds * 1000;
      // A line every interval, and a last one when the step took longer than one interval.
      if (now - last < every && !(done === total && now - started >= every)) return;
      last = now;
      const secs = (now - started) / 1000;
      const rate = secs > 0.001 ? done / secs : 0;
      const eta = done < total && rate > 0 ? `, ETA ${Math.round((total - done) / rate)} s` : '';
      write(`${label}: ${done}/${total} clips, ${rate > 0 ? rate.toFixed(1) : '-'} clips/s${eta}\n`);
    },
  };
}

/** A progress bar per epoch on `stream`, then the summary line. */
export function barReporter(stream: NodeJS.WriteStream): Reporter {
  let bar: cliProgress.SingleBar | null = null;
  let started = 0;
  let lastMetric = '';
  const stop = () => {
    bar?.stop();
    bar = null;
  };
  return {
    epochStart(label, epoch, epochs, steps) {
      stop();
      started = performance.now();
      bar = new cliProgress.SingleBar(
        {
          stream,
          format: `${label} epoch ${epoch}/${epochs} |{bar}| {value}/{total} {rate} steps/s ETA {eta_formatted} loss {loss}{metric}`,
          barsize: 24,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(steps, 0, { loss: '-', rate: '-', metric: lastMetric });
    },
    step(done, loss) {
      const secs = (performance.now() - started) / 1000;
      bar?.update(done, {
        loss: fmt(loss),
        rate: secs > 0 ? (done / secs).toFixed(2) : '-',
        metric: lastMetric,
      });
    },
    validating() {
      bar?.update({ metric: `${lastMetric} (validating)` });
    },
    epochEnd(s) {
      stop();
      const m = s.monitor && s.metrics[s.monitor] !== undefined ? s.monitor : Object.keys(s.metrics)[0];
      lastMetric = m ? `  ${m} ${fmt(s.metrics[m]!)}` : '';
      stream.write(`${summaryLine(s)}\n`);
    },
    message(t) {
      stop();
      stream.write(`${t}\n`);
    },
    progress(label, done, total) {
      if (done <= 1 || bar === null) {
        stop();
        started = performance.now();
        bar = new cliProgress.SingleBar(
          {
            stream,
            format: `${label} |{bar}| {value}/{total} {rate} clips/s ETA {eta_formatted}`,
            barsize: 24,
            hideCursor: true,
            clearOnComplete: true,
            etaBuffer: 50,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0, { rate: '-' });
      }
      const secs = (performance.now() - started) / 1000;
      bar.update(done, { rate: secs > 0 ? (done / secs).toFixed(1) : '-' });
      if (done >= total) stop();
    },
    close: stop,
  };
}
