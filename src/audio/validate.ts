// Checks shared by the WAV decoder and the ffmpeg path. Browser-safe.
import { AudioDecodeError } from './types.js';

/** Throws an AudioDecodeError naming the first NaN or infinite sample (channel, frame and time). */
export function assertFiniteSamples(channels: Float32Array[], sampleRate: number, file: string): void {
  for (let c = 0; c < channels.length; c++) {
    const x = channels[c]!;
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      // v - v is 0 for finite v and NaN for NaN/±Inf: one comparison per sample in the common case.
      if (v - v !== 0) {
        const what = Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
        const at = sampleRate > 0 ? ` (${(i / sampleRate).toFixed(3)} s)` : '';
        throw new AudioDecodeError(file, `sample ${i}${at} of channel ${c} is ${what}`);
      }
    }
  }
}
