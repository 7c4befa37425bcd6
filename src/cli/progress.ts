// What the CLI shows while work runs (library code reports through callbacks; this file turns them into
// output): a cli-progress bar with rate and ETA when stderr is a terminal, and otherwise (logs, CI, nohup) a
// plain line at least every 10 s. Warnings from library code go to stderr through the installed logger.
import cliProgress from 'cli-progress';
import { type Logger, setLogger } from '../core/log.js';
import type { Reporter } from '../train/progress.js';
import { barReporter, lineReporter, silentReporter } from '../train/progress.js';

/** Seconds between plain progress lines when stderr is not a terminal (AUDIOTAG_PROGRESS_EVERY overrides). */
export function lineInterval(): number {
  const s = Number(process.env.AUDIOTAG_PROGRESS_EVERY);
  return Number.isFinite(s) && s >= 0 ? s : 10;
}

/** The logger the CLI installs: `audiotag: warning: …` lines on stderr. */
export function stderrLogger(quiet = false): Logger {
  return {
    warn: (m) => process.stderr.write(`audiotag: warning: ${m}\n`),
    info: (m) => {
      if (!quiet) process.stderr.write(`audiotag: ${m}\n`);
    },
  };
}

export function installCliLogger(): void {
  setLogger(stderrLogger());
}

export interface Progress {
  /** `done` units finished (of `total`, which may change). */
  update(done: number, total?: number): void;
  /** Ends the bar (or prints the last line when any line was printed). */
  stop(): void;
}

export interface ProgressOptions {
  /** Unit for the rate: "clips", "files", "steps"… */
  unit?: string;
  /** No output at all. */
  quiet?: boolean;
  /** Only show anything when there are at least this many units (default 1). */
  minTotal?: number;
  /** The stream (default process.stderr). */
  stream?: NodeJS.WriteStream;
}

function seconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** A progress display for `total` units of work called `label`. */
export function createProgress(label: string, total: number, opts: ProgressOptions = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet || total < (opts.minTotal ?? 1)) return { update() {}, stop() {} };
  const unit = opts.unit ?? 'items';
  const t0 = performance.now();
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label} |{bar}| {value}/{total} {speed} ${unit}/s ETA {eta_formatted}`,
        barsize: 24,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { speed: '-' });
    return {
      update(done, newTotal) {
        if (newTotal !== undefined && newTotal !== total) {
          total = newTotal;
          bar.setTotal(total);
        }
        const secs = (performance.now() - t0) / 1000;
        bar.update(done, { speed: secs > 0 ? (done / secs).toFixed(1) : '-' });
      },
      stop: () => bar.stop(),
    };
  }
  const every = lineInterval() * 1000;
  let last = t0;
  let printed = -1;
  let doneNow = 0;
  const line = (done: number) => {
    const secs = (performance.now() - t0) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    const pct = total > 0 ? ` (${((100 * done) / total).toFixed(0)} %)` : '';
    const eta = rate > 0 && total > done ? `, ETA ${seconds((total - done) / rate)}` : '';
    stream.write(`${label}: ${done}/${total} ${unit}${pct}, ${rate.toFixed(1)} ${unit}/s${eta}\n`);
    printed = done;
  };
  return {
    update(done, newTotal) {
      if (newTotal !== undefined) total = newTotal;
      doneNow = done;
      const now = performance.now();
      if (now - last >= every) {
        last = now;
        line(done);
      }
    },
    stop() {
      // The last count, when any line was printed and it is not the last one already.
      if (printed >= 0 && printed !== doneNow) line(doneNow);
    },
  };
}

/** The training reporter for a command: bar on a TTY, epoch lines (and a step line every 10 s) otherwise. */
export function trainReporter(quiet = false): Reporter {
  if (quiet) return silentReporter;
  return process.stderr.isTTY
    ? barReporter(process.stderr)
    : lineReporter((s) => process.stderr.write(s), lineInterval());
}
