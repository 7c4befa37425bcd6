// A small log-mel figure of an audio file (first `seconds`), for the example and worst-clip tables.
import { loadAudio } from '../audio/index.js';
import { computeFeatures } from '../features/index.js';
import { spectrogramFigureSvg } from './spectrogram-figure.js';

/** The figure's SVG, or null when the file cannot be read (the caller shows the row without it). */
export async function clipFigureSvg(path: string, title: string, seconds = 10): Promise<string | null> {
  try {
    const a = await loadAudio(path, { duration: seconds });
    const sr = a.sampleRate;
    const hop = Math.max(1, Math.round(sr / 100));
    const nFft = 2 ** Math.ceil(Math.log2(sr / 25));
    const f = computeFeatures(a.channels[0]!, sr, {
      format: 'mel',
      sampleRate: sr,
      nFft,
      hopLength: hop,
      nMels: 64,
      fmin: 0,
      fmax: sr / 2,
    });
    return spectrogramFigureSvg(f, {
      sampleRate: sr,
      hopLength: hop,
      fmin: 0,
      fmax: sr / 2,
      panelTitles: [title],
      width: 360,
      panelHeight: 120,
    });
  } catch {
    return null;
  }
}
