// Worker-thread entry for bulk extraction (see extract.ts and prepare.ts). Receives tasks, returns features
// with their buffers transferred (no copy back), or writes them to the task's .npy and returns the shape.
// Files are decoded at the config's rate in one step (libsndfile + libsoxr in the thread pool when the
// audio addon is built), so prepareSignal finds the rate already right.
import { rename, writeFile } from 'node:fs/promises';
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { type Audio, loadAudio } from '../../audio/index.js';
import { audioAddon } from '../../audio/native.js';
import type { NDArray } from '../../core/ndarray.js';
import { computeFeatures } from '../compute.js';
import { type FeatureConfig, resolveFeatureConfig } from '../config.js';
import { encodeNpy } from '../npy.js';
import type { WorkerReply, WorkerSetup, WorkerTask } from './protocol.js';

const setup = workerData as WorkerSetup;
const config: FeatureConfig = resolveFeatureConfig(setup.config as FeatureConfig);
const port = parentPort!;

type Compute = (samples: Float32Array, sampleRate: number) => NDArray;
let compute: Compute = (x, sr) => computeFeatures(x, sr, config);
if (setup.backend === 'engine') {
  try {
    const engine = await import('./engine.js');
    compute = (x, sr) => engine.computeFeaturesEngine(x, sr, config, { threads: 1 });
  } catch {
    // No libtorch here: the TypeScript path gives the same features within float32 rounding.
  }
}

let tmpCounter = 0;

const addon = audioAddon();
const ADDON_EXT = /\.(flac|ogg|oga|opus|mp3)$/i;

/**
 * FLAC/Ogg/MP3 straight through the addon, synchronously: the same call and result as loadAudio's
 * (mono, soxr to the config's rate), without its file open, 64 KiB header read and thread-pool hop — a
 * worker has nothing else to do meanwhile. null sends the file to loadAudio (another format behind the
 * extension, a damaged file, an empty range), which decides and words any error as usual.
 */
function decodeDirect(path: string, load?: { offset?: number; duration?: number }): Audio | null {
  if (addon === null || !ADDON_EXT.test(path)) return null;
  try {
    const d = addon.decodeSync(path, { mono: true, rate: config.sampleRate, quality: 'hq', ...load });
    return d.channels.length === 1 && d.channels[0]!.length > 0 ? d : null;
  } catch {
    return null;
  }
}

port.on('message', async (task: WorkerTask) => {
  try {
    let samples: Float32Array;
    let sampleRate: number;
    if (task.kind === 'path') {
      const audio =
        decodeDirect(task.path, task.load) ??
        (await loadAudio(task.path, { mono: true, sampleRate: config.sampleRate, ...task.load }));
      samples = audio.channels[0]!;
      sampleRate = audio.sampleRate;
    } else {
      samples = task.samples;
      sampleRate = task.sampleRate;
    }
    const out = compute(samples, sampleRate);
    if (task.kind === 'path' && task.out !== undefined) {
      const tmp = `${task.out}.${process.pid}.${threadId}.${tmpCounter++}.tmp`;
      await writeFile(tmp, encodeNpy(out));
      await rename(tmp, task.out);
      const reply: WorkerReply = { id: task.id, data: null, shape: out.shape };
      port.postMessage(reply);
      return;
    }
    const reply: WorkerReply = { id: task.id, data: out.data, shape: out.shape };
    port.postMessage(reply, [out.data.buffer as ArrayBuffer]);
  } catch (err) {
    const reply: WorkerReply = { id: task.id, error: err instanceof Error ? err.message : String(err) };
    port.postMessage(reply);
  }
});
// Tell the pool the worker is ready (the engine import above can take a second).
port.postMessage({ ready: true });
