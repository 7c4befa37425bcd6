/** A bad flag value or combination on the command line: exit code 2, message names the flag. */
export class UsageError extends Error {
  override name = 'UsageError';
}
