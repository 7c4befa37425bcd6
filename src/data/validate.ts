// Checks that every clip of a dataset decodes and has a sensible length; used by `audiotag dataset
// validate`. Decoding goes through src/audio (native WAV, ffmpeg for the rest).
import { audioInfo, loadAudio } from '../audio/index.js';
import { truncationMessage } from '../audio/wav.js';
import type { Dataset, Problem } from './types.js';

export interface AudioCheckOptions {
  /** Decode every clip fully (default true); false only reads headers (audioInfo), much faster. */
  decode?: boolean;
  /** Seconds; shorter clips are errors. Clips must always be longer than 0. */
  minDuration?: number;
  /** Seconds; longer clips are errors. */
  maxDuration?: number;
  /** Files in flight at once (default 2). */
  concurrency?: number;
  /** Called after each clip with the number done. */
  onProgress?: (done: number, total: number) => void;
}

export interface AudioCheckResult {
  problems: Problem[];
  /** Seconds per item (NaN where it could not be read). */
  durations: Float64Array;
}

/** Reads every item's audio; each failure becomes a problem at the item's manifest line. */
export async function checkAudio(
  dataset: Dataset,
  source: string,
  lines: readonly (number | undefined)[],
  opts: AudioCheckOptions = {},
): Promise<AudioCheckResult> {
  const items = dataset.items;
  const durations = new Float64Array(items.length).fill(Number.NaN);
  const found: { i: number; problem: Problem }[] = [];
  const decode = opts.decode ?? true;
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      const it = items[i]!;
      const at = { source, line: lines[i], id: it.id };
      const truncated = (message: string) =>
        found.push({ i, problem: { ...at, severity: 'error', kind: 'truncated', message } });
      try {
        let seconds: number;
        if (decode) {
          // The warning reads "<file>: truncated WAV: the header says N frames …, the file holds M …".
          const audio = await loadAudio(it.path, {
            onWarning: (w) => truncated(`${it.id}: ${w.slice(w.indexOf('truncated'))}`),
          });
          seconds = (audio.channels[0]?.length ?? 0) / audio.sampleRate;
        } else {
          const info = await audioInfo(it.path);
          seconds = info.duration;
          if (info.declaredFrames !== undefined)
            truncated(`${it.id}: ${truncationMessage({ ...info, declaredFrames: info.declaredFrames })}`);
        }
        durations[i] = seconds;
        const s = seconds.toFixed(3);
        if (!(seconds > 0)) {
          found.push({
            i,
            problem: {
              ...at,
              severity: 'error',
              kind: 'duration',
              message: `${it.id}: the clip is empty (0 s)`,
            },
          });
        } else if (opts.minDuration !== undefined && seconds < opts.minDuration) {
          found.push({
            i,
            problem: {
              ...at,
              severity: 'error',
              kind: 'duration',
              message: `${it.id}: ${s} s, shorter than ${opts.minDuration} s`,
            },
          });
        } else if (opts.maxDuration !== undefined && seconds > opts.maxDuration) {
          found.push({
            i,
            problem: {
              ...at,
              severity: 'error',
              kind: 'duration',
              message: `${it.id}: ${s} s, longer than ${opts.maxDuration} s`,
            },
          });
        }
      } catch (err) {
        // AudioDecodeError messages already read "<file>: <problem>".
        const why = err instanceof Error ? err.message : String(err);
        found.push({
          i,
          problem: { ...at, severity: 'error', kind: 'decode', message: `cannot decode ${why}` },
        });
      }
      opts.onProgress?.(++done, items.length);
    }
  };
  const n = Math.max(1, Math.min(opts.concurrency ?? 2, items.length));
  await Promise.all(Array.from({ length: n }, worker));
  found.sort((a, b) => a.i - b.i);
  return { problems: found.map((f) => f.problem), durations };
}
