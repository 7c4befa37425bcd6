import { describeFsError, isFsError } from '../core/errors.js';

/** A bad flag value or combination on the command line: exit code 2, message names the flag. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The message for an error shown to the user: file-system errors in words, never errno text. */
export function errorMessage(err: unknown): string {
  if (isFsError(err)) return describeFsError(err);
  return err instanceof Error ? err.message : String(err);
}
