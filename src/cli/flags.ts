// The one place command-line values are parsed and checked: every helper names the flag and says what was
// expected, and throws a UsageError (exit code 2). Output locations are checked before any work starts.
import { existsSync, statSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { UsageError } from './errors.js';

export interface NumberRule {
  /** Whole numbers only. */
  int?: boolean;
  /** Smallest allowed value (inclusive). */
  min?: number;
  /** Values must be strictly greater than this. */
  above?: number;
  /** Largest allowed value (inclusive). */
  max?: number;
  /** What the value is, for the message (e.g. "a number of seconds"); default "a number"/"an integer". */
  what?: string;
}

function ruleText(r: NumberRule): string {
  const parts = [r.what ?? (r.int ? 'an integer' : 'a number')];
  if (r.min !== undefined && r.max !== undefined) parts.push(`from ${r.min} to ${r.max}`);
  else if (r.min !== undefined) parts.push(`≥ ${r.min}`);
  else if (r.max !== undefined) parts.push(`≤ ${r.max}`);
  if (r.above !== undefined) parts.push(`> ${r.above}`);
  return parts.join(' ');
}

/** `text` as a number obeying `rule`; the error names `flag`. */
export function parseNumber(flag: string, text: string, rule: NumberRule = {}): number {
  const v = Number(text);
  const ok =
    text.trim() !== '' &&
    Number.isFinite(v) &&
    (!rule.int || Number.isInteger(v)) &&
    (rule.min === undefined || v >= rule.min) &&
    (rule.max === undefined || v <= rule.max) &&
    (rule.above === undefined || v > rule.above);
  if (!ok) throw new UsageError(`${flag} must be ${ruleText(rule)}, got "${text}"`);
  return v;
}

/**
 * parseNumber as a commander option parser, so the action gets a checked number:
 * `.option('--port <n>', 'TCP port', numberArg('--port', { int: true, min: 0 }), 8080)`
 * (the default is not parsed; a bad value is a UsageError naming the flag).
 */
export function numberArg(flag: string, rule: NumberRule = {}): (text: string) => number {
  return (text) => parseNumber(flag, text, rule);
}

/** parseNumber, or undefined when the flag was not given. */
export function optionalNumber(
  flag: string,
  text: string | undefined,
  rule: NumberRule = {},
): number | undefined {
  return text === undefined ? undefined : parseNumber(flag, text, rule);
}

/** An integer ≥ min (the common case for counts), or undefined when not given. */
export function optionalInt(flag: string, text: string | undefined, min: number): number | undefined {
  return optionalNumber(flag, text, { int: true, min });
}

/** `text` if it is one of `allowed`. */
export function parseChoice<T extends string>(flag: string, text: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(text))
    throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got "${text}"`);
  return text as T;
}

/** parseChoice, or undefined when the flag was not given. */
export function optionalChoice<T extends string>(
  flag: string,
  text: string | undefined,
  allowed: readonly T[],
): T | undefined {
  return text === undefined ? undefined : parseChoice(flag, text, allowed);
}

/** A comma-separated list (`a, b,c` → ['a', 'b', 'c']); empty parts are dropped. */
export function parseList(flag: string, text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new UsageError(`${flag} must be a comma-separated list, got "${text}"`);
  return items;
}

/** `1,3` → [1, 3] (sorted, unique); names the flag when a part is not a fold index. */
export function parseFoldList(flag: string, text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(',').map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p)))
    throw new UsageError(`${flag} must be fold indices separated by commas (e.g. 0,2), got "${text}"`);
  return [...new Set(parts.map(Number))].sort((a, b) => a - b);
}

/** A seed: an integer from 0 to 2^32 − 1 (default when not given). */
export function parseSeed(flag: string, text: string | undefined, fallback = 0): number {
  return text === undefined ? fallback : parseNumber(flag, text, { int: true, min: 0, max: 0xffffffff });
}

/** Checks that `path` (given by `flag`) ends in `ext` (e.g. ".png"). */
export function requireExt(flag: string, path: string, ext: string): void {
  if (extname(path).toLowerCase() !== ext)
    throw new UsageError(`${flag} must name a ${ext} file, got "${path}"`);
}

/** Checks an input file exists and is a file, before any work. */
export function requireInputFile(flag: string, path: string): void {
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(path);
  } catch {
    throw new UsageError(`${flag} ${path}: no such file`);
  }
  if (st.isDirectory()) throw new UsageError(`${flag} ${path}: is a folder, expected a file`);
}

/** Checks an input folder exists and is a folder, before any work. */
export function requireInputDir(flag: string, path: string): void {
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(path);
  } catch {
    throw new UsageError(`${flag} ${path}: no such folder`);
  }
  if (!st.isDirectory()) throw new UsageError(`${flag} ${path}: is a file, expected a folder`);
}

/**
 * Checks a file can be written at `path` before any work starts: its folder exists (and is a folder) and
 * `path` is not itself a folder. The write itself goes through a temporary file and a rename.
 */
export function requireOutputFile(flag: string, path: string): void {
  const dir = dirname(resolve(path));
  if (!existsSync(dir)) throw new UsageError(`${flag} ${path}: the folder ${dir} does not exist`);
  if (!statSync(dir).isDirectory())
    throw new UsageError(`${flag} ${path}: ${dir} is a file, expected a folder`);
  if (existsSync(path) && statSync(path).isDirectory())
    throw new UsageError(`${flag} ${path}: is a folder, expected a file name`);
}

/** Checks an output folder can be created at `path`: it is a folder or absent with an existing parent. */
export function requireOutputDir(flag: string, path: string): void {
  if (existsSync(path)) {
    if (!statSync(path).isDirectory()) throw new UsageError(`${flag} ${path}: is a file, expected a folder`);
    return;
  }
  let up = dirname(resolve(path));
  while (!existsSync(up)) up = dirname(up);
  if (!statSync(up).isDirectory())
    throw new UsageError(`${flag} ${path}: ${up} is a file, expected a folder`);
}

/** A Redis URL flag (`--queue`) checked before any work: a malformed one is a usage error naming the flag.
 * BullMQ's module loads only here, so commands without the flag never load it. */
export async function requireQueueUrl(flag: string, url: string): Promise<void> {
  const { redisConnection } = await import('../distributed/bullmq-predict.js');
  try {
    redisConnection(flag, url);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
