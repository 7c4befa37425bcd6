// The one error type of the engine: libtorch exceptions (converted by native/), bad arguments caught
// in TypeScript, and use of disposed tensors all throw it, with the op name first in the message.

export class EngineError extends Error {
  /** libtorch's full message (without its C++ backtrace) when the error came from libtorch. */
  readonly details: string | undefined;

  constructor(message: string, details?: string) {
    super(message);
    this.name = 'EngineError';
    this.details = details;
  }
}

/** Throws `EngineError("<op>: <message>")`. */
export function fail(op: string, message: string): never {
  throw new EngineError(`${op}: ${message}`);
}
