// What the trainer tells the person watching: a cli-progress bar on stderr (steps/s, ETA, running loss,
// last validation metric) when stderr is a terminal, one summary line per epoch otherwise (logs of nohup
// runs stay readable), nothing at all with --quiet.
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

/** Plain lines on a stream (no bar): epoch summaries and messages. */
export function lineReporter(write: (s: string) => void = (s) => process.stderr.write(s)): Reporter {
  return {
    ...silentReporter,
    epochEnd: (s) => write(`${summaryLine(s)}\n`),
    message: (t) => write(`${t}\n`),
  };
}

/** A progress bar per epoch on stderr, then the summary line. */
export function barReporter(stream: NodeJS.WriteStream = process.stderr): Reporter {
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
    close: stop,
  };
}

/** The reporter for a command: bar on a TTY, lines otherwise, none when quiet. */
export function defaultReporter(quiet: boolean): Reporter {
  if (quiet) return silentReporter;
  return process.stderr.isTTY ? barReporter() : lineReporter();
}
