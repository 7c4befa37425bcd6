import { describeFsError, isFsError, OptionError } from '../core/errors.js';

/** A bad flag value or combination on the command line: exit code 2, message names the flag. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The message for an error shown to the user: file-system errors in words, never errno text. */
export function errorMessage(err: unknown): string {
  if (isFsError(err)) return describeFsError(err);
  return err instanceof Error ? err.message : String(err);
}

/** Options whose flag is not their kebab-case name, in every command. */
const OPTION_FLAGS: Readonly<Record<string, string>> = {
  formats: 'format',
  'tagger.ttaAugment': 'tta-augment',
  url: 'queue',
};

/** The flag for an API option: `outDir` → `--out-dir`, unless `flags` names it (`{ folds: 'fold' }`). */
export function flagFor(option: string, flags: Readonly<Record<string, string>> = {}): string {
  const named = flags[option] ?? OPTION_FLAGS[option];
  return `--${named ?? option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * A library's OptionError as the usage error the user sees (`--window: must be …`, exit code 2); any other
 * error is returned as it is. `flags` maps the options whose flag is spelled differently.
 */
export function usageFromOptionError(err: unknown, flags?: Readonly<Record<string, string>>): unknown {
  if (!(err instanceof OptionError)) return err;
  return new UsageError(err.option ? `${flagFor(err.option, flags)}: ${err.problem}` : err.problem);
}
