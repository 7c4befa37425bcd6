// How library code tells the person running it something without writing anywhere itself: warnings go to
// the logger the application installed (the CLI installs one writing to stderr), progress goes to a
// callback the caller passes in. The default logger keeps quiet. Browser-safe.

export interface Logger {
  /** Something the user should know but that does not stop the work (a truncated file, an empty filter). */
  warn(message: string): void;
  /** A step of a long operation worth a line in a log. */
  info(message: string): void;
}

/** Called as work advances: `done` of `total` units (total 0 or NaN when unknown). */
export type ProgressCallback = (done: number, total: number) => void;

export const silentLogger: Logger = { warn() {}, info() {} };

let current: Logger = silentLogger;
const warnedOnce = new Set<string>();

/** Installs the logger warnings go to (returns the previous one, so a test can restore it). */
export function setLogger(logger: Logger): Logger {
  const before = current;
  current = logger;
  return before;
}

/** The logger in use. */
export function logger(): Logger {
  return current;
}

/** A warning through the installed logger. */
export function warn(message: string): void {
  current.warn(message);
}

/** A warning given once per `key` for the life of the process (the same empty mel filter for every clip). */
export function warnOnce(key: string, message: string): void {
  if (warnedOnce.has(key)) return;
  warnedOnce.add(key);
  current.warn(message);
}
