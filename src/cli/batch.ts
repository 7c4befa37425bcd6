// Commands that take several inputs (`info a b c`, `features *.wav`) go on past a bad one: each failure is
// reported on stderr with its reason as it happens, and at the end a summary error makes the exit code 1.
// A usage error (a bad flag) stops at once: it would fail every input the same way.
import { errorMessage, UsageError } from './errors.js';

/** Thrown after a batch in which some inputs failed (main prints it and exits 1). */
export class BatchError extends Error {
  override name = 'BatchError';
  constructor(
    readonly failed: string[],
    readonly total: number,
    noun: string,
  ) {
    const list = failed.length <= 5 ? failed.join(', ') : `${failed.slice(0, 5).join(', ')}, …`;
    super(`${failed.length} of ${total} ${noun}(s) failed, reasons above: ${list}`);
  }
}

/** Runs `fn` on every input in order; see the file comment. Returns the inputs that succeeded. */
export async function forEachInput(
  inputs: readonly string[],
  noun: string,
  fn: (input: string, index: number) => Promise<void>,
): Promise<string[]> {
  const failed: string[] = [];
  const ok: string[] = [];
  for (const [i, input] of inputs.entries()) {
    try {
      await fn(input, i);
      ok.push(input);
    } catch (e) {
      // A usage error fails every input alike; one input needs no summary.
      if (e instanceof UsageError || inputs.length === 1) throw e;
      failed.push(input);
      process.stderr.write(`audiotag: ${errorMessage(e)}\n`);
    }
  }
  if (failed.length > 0) throw new BatchError(failed, inputs.length, noun);
  return ok;
}
