// Error messages shared by every module: one formatter for zod validation problems (every schema: models,
// augmentations, features, training…) and plain words for Node's file-system errors, so no message shows
// zod's own wording ("Too small: expected number to be >0") or raw errno text ("ENOENT: no such file…").
// Browser-safe: zod is used through the shape of its issues only.

/** The parts of a zod (v4) issue the formatter reads. */
export interface SchemaIssue {
  code: string;
  path: readonly PropertyKey[];
  message: string;
  expected?: string;
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
  keys?: readonly string[];
  values?: readonly unknown[];
  format?: string;
  divisor?: number;
  /** invalid_union: a discriminated union's accepted tags, or each branch's own issues. */
  options?: readonly unknown[];
  errors?: readonly (readonly SchemaIssue[])[];
}

/** A zod schema as far as the formatter walks it (to list the keys an object accepts). */
// biome-ignore lint/suspicious/noExplicitAny: zod's internal definition is untyped here on purpose
type SchemaLike = { _zod?: { def: Record<string, any> } };

/** A value as a short literal: strings quoted, long values cut, `nothing` for undefined. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (typeof v === 'bigint') return String(v);
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(v);
  }
}

/** What a value is, in a word (for type errors): a string, a number, a list, a mapping, null… */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number' && Number.isNaN(v)) return 'NaN';
  return `${typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' ? 'a ' : ''}${typeof v}`;
}

function valueAt(obj: unknown, path: readonly PropertyKey[]): unknown {
  let v = obj;
  for (const k of path)
    v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** The keys an object schema at `path` accepts (through optional/default/nullable/union/pipe wrappers). */
export function schemaKeysAt(schema: unknown, path: readonly PropertyKey[] = []): string[] {
  const unwrap = (s: SchemaLike | undefined): SchemaLike[] => {
    const def = s?._zod?.def;
    if (!def) return [];
    switch (def.type) {
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'readonly':
      case 'catch':
      case 'nonoptional':
        return unwrap(def.innerType);
      case 'pipe':
        return unwrap(def.in);
      case 'lazy':
        return unwrap(def.getter?.());
      case 'union':
        return (def.options as SchemaLike[]).flatMap(unwrap);
      case 'intersection':
        return [...unwrap(def.left), ...unwrap(def.right)];
      case 'array':
        return unwrap(def.element);
      case 'record':
        return unwrap(def.valueType);
      default:
        return [s as SchemaLike];
    }
  };
  let level = unwrap(schema as SchemaLike);
  for (const k of path) {
    level = level.flatMap((s) => {
      const def = s._zod!.def;
      if (def.type === 'array' || def.type === 'record') return unwrap(s);
      const shape = def.shape as Record<string, SchemaLike> | undefined;
      const child = shape && typeof k === 'string' ? shape[k] : undefined;
      return child ? unwrap(child) : [];
    });
  }
  const keys = new Set<string>();
  for (const s of level) for (const k of Object.keys(s._zod!.def.shape ?? {})) keys.add(k);
  return [...keys];
}

function bound(issue: SchemaIssue, small: boolean): string {
  const n = small ? issue.minimum : issue.maximum;
  const incl = issue.inclusive !== false;
  const op = small ? (incl ? '≥' : '>') : incl ? '≤' : '<';
  switch (issue.origin) {
    case 'string':
      return `a string of ${small ? 'at least' : 'at most'} ${n} character(s)`;
    case 'array':
    case 'set':
      return `a list of ${small ? 'at least' : 'at most'} ${n} item(s)`;
    case 'int':
      return `an integer ${op} ${n}`;
    default:
      return `a number ${op} ${n}`;
  }
}

const ARTICLE: Record<string, string> = {
  number: 'a number',
  int: 'an integer',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
  tuple: 'a list',
  bigint: 'an integer',
  null: 'null',
  date: 'a date',
};

/** What the schema expected, in words, for one issue. */
function expectation(issue: SchemaIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return ARTICLE[issue.expected ?? ''] ?? `${issue.expected}`;
    case 'too_small':
      return bound(issue, true);
    case 'too_big':
      return bound(issue, false);
    case 'invalid_value':
      return issue.values && issue.values.length === 1
        ? describeValue(issue.values[0])
        : `one of ${(issue.values ?? []).map(describeValue).join(', ')}`;
    case 'not_multiple_of':
      return `a multiple of ${issue.divisor}`;
    case 'invalid_format':
      return `a ${issue.format ?? 'well-formed'} string`;
    case 'invalid_union': {
      if (issue.options?.length) return `one of ${issue.options.map(describeValue).join(', ')}`;
      // Each branch's complaint about the value itself ("a string", "a mapping"), de-duplicated.
      const forms = new Set(
        (issue.errors ?? []).flatMap((branch) =>
          branch.filter((i) => i.path.length === 0).map((i) => expectation(i)),
        ),
      );
      forms.delete('');
      return forms.size > 0 ? [...forms].join(' or ') : 'one of the accepted forms';
    }
    default:
      return '';
  }
}

/** A key path as `a.b.0.c`; `root` when the problem is the whole value. */
export function dottedKey(path: readonly PropertyKey[], root = '(config)'): string {
  return path.length > 0 ? path.map(String).join('.') : root;
}

export interface FormatIssuesOptions {
  /** The schema, to list the valid keys next to an unknown one. */
  schema?: unknown;
  /** Prefix for every key (e.g. `features` when the schema is a sub-object). */
  prefix?: string;
  /** What to call the whole value when an issue has an empty path (default `(config)`). */
  root?: string;
}

/**
 * Every problem of a failed `safeParse`, one line each: `dotted.key: expected …, got …`; an unknown key
 * lists the keys accepted there. Custom (refinement) messages are kept as written.
 * @example formatSchemaIssues(r.error.issues, input, { schema }) // ["nMels: expected an integer ≥ 1, got 0"]
 */
export function formatSchemaIssues(
  issues: readonly SchemaIssue[],
  input: unknown,
  opts: FormatIssuesOptions = {},
): string[] {
  const pre = (path: readonly PropertyKey[]) =>
    opts.prefix ? [...opts.prefix.split('.'), ...path] : [...path];
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const valid = opts.schema ? schemaKeysAt(opts.schema, issue.path) : [];
      return (issue.keys ?? []).map(
        (k) =>
          `${dottedKey(pre([...issue.path, k]))}: unknown key${valid.length ? ` (expected one of ${valid.join(', ')})` : ''}`,
      );
    }
    const key = dottedKey(pre(issue.path), opts.root);
    const got = valueAt(input, issue.path);
    if (issue.code === 'custom') return [`${key}: ${issue.message}`];
    const want = expectation(issue);
    if (!want) return [`${key}: ${issue.message}`];
    if (got === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_union'))
      return [`${key}: missing (expected ${want})`];
    const shown =
      got !== null && typeof got === 'object' ? `${kindOf(got)} ${describeValue(got)}` : describeValue(got);
    return [`${key}: expected ${want}, got ${shown}`];
  });
}

/** An error listing every problem of a config or options object (thrown by the schema call sites). */
export class SchemaError extends Error {
  override name = 'SchemaError';
  constructor(
    readonly what: string,
    readonly problems: readonly string[],
  ) {
    super(`${what}:${problems.length === 1 ? ` ${problems[0]}` : `\n  ${problems.join('\n  ')}`}`);
  }
}

// ---- file-system errors -------------------------------------------------------------------------------

const FS_WORDS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EEXIST: 'already exists',
  EISDIR: 'is a folder, expected a file',
  ENOTDIR: 'a part of the path is a file, expected a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EROFS: 'on a read-only file system',
  ENOTEMPTY: 'folder is not empty',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the name is too long',
  EXDEV: 'cannot move across devices',
  ELOOP: 'too many symbolic links',
  EBUSY: 'busy',
};

/** Node's error for a failed file-system call (it carries `code` and usually `path`). */
export function isFsError(e: unknown): e is NodeJS.ErrnoException & { code: string } {
  return (
    e instanceof Error &&
    typeof (e as NodeJS.ErrnoException).code === 'string' &&
    /^E[A-Z]+$/.test((e as NodeJS.ErrnoException).code!)
  );
}

/**
 * A file-system error in words, naming the path: `runs/x/config.yaml: no such file or folder`. `doing`
 * says what was being done ("cannot write", "cannot read"); the errno code itself is never shown.
 */
export function describeFsError(e: NodeJS.ErrnoException, doing?: string): string {
  const words = FS_WORDS[e.code ?? ''] ?? `failed (${e.syscall ?? 'file system'} error)`;
  const dest = (e as { dest?: string }).dest;
  const path = e.path ?? dest ?? '';
  const target = e.code === 'EXDEV' || e.code === 'EEXIST' ? (dest ?? path) : path;
  return `${target ? `${target}: ` : ''}${doing ? `${doing}: ` : ''}${words}`;
}

/** Why a file operation failed, in words and without the path (for "cannot read X: <reason>"). */
export function fsReason(e: unknown): string {
  if (isFsError(e)) return FS_WORDS[e.code] ?? `failed (${e.syscall ?? 'file system'} error)`;
  return e instanceof Error ? e.message : String(e);
}

/** A schema as far as parseSchema uses it (any zod schema). */
interface ParsingSchema<T> {
  safeParse(
    input: unknown,
  ): { success: true; data: T } | { success: false; error: { issues: SchemaIssue[] } };
}

/**
 * `schema.parse(input)` with the project's messages: throws a SchemaError naming `what` and listing every
 * problem (`dotted.key: expected …, got …`) instead of a ZodError in zod's own words.
 */
export function parseSchema<T>(schema: ParsingSchema<T>, input: unknown, what: string): T {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw new SchemaError(what, formatSchemaIssues(r.error.issues, input, { schema }));
}

// ---- option errors ------------------------------------------------------------------------------------

/**
 * A bad value (or combination) of one API option: the message names the option (`window: must be > 0 s,
 * got -1`), never a command-line flag. The CLI turns it into a usage error naming its own flag
 * (`--window: …`, exit code 2) with `usageFromOptionError` in src/cli/errors.ts.
 */
export class OptionError extends Error {
  override name = 'OptionError';
  constructor(
    /** The option, as the API spells it (`window`, `outDir`, `folds`). */
    readonly option: string,
    /** What is wrong with it, without the option's name. */
    readonly problem: string,
  ) {
    super(option ? `${option}: ${problem}` : problem);
  }
}
