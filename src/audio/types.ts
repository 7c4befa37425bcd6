// Shared audio types. Browser-safe: no Node imports.

/** Decoded audio: one Float32Array per channel, all the same length; PCM maps to [-1, 1). */
export interface Audio {
  sampleRate: number;
  channels: Float32Array[];
}

/**
 * Any failure to read audio: a missing, empty, truncated or non-audio file, bad samples (NaN/Inf),
 * a zero-length clip, or ffmpeg failing. `file` is the path (or the name given to `decodeWav`),
 * `problem` the reason alone; `message` is "<file>: <problem>" so a log line is enough to act on.
 */
export class AudioDecodeError extends Error {
  override name = 'AudioDecodeError';
  readonly file: string;
  readonly problem: string;

  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, options);
    this.file = file;
    this.problem = problem;
  }
}

/** Number of frames (samples per channel) of a clip; 0 when it has no channels. */
export function frameCount(audio: Audio): number {
  return audio.channels.length === 0 ? 0 : audio.channels[0]!.length;
}
