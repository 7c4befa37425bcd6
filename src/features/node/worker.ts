// Worker-thread entry for bulk extraction (see extract.ts). Receives tasks, returns features with their
// buffers transferred (no copy back).
import { parentPort, workerData } from 'node:worker_threads';
import { loadAudio } from '../../audio/index.js';
import { computeFeatures } from '../compute.js';
import { type FeatureConfig, resolveFeatureConfig } from '../config.js';
import type { WorkerReply, WorkerTask } from './protocol.js';

const config: FeatureConfig = resolveFeatureConfig((workerData as { config: FeatureConfig }).config);
const port = parentPort!;

port.on('message', async (task: WorkerTask) => {
  try {
    let samples: Float32Array;
    let sampleRate: number;
    if (task.kind === 'path') {
      const audio = await loadAudio(task.path, { mono: true, ...task.load });
      samples = audio.channels[0]!;
      sampleRate = audio.sampleRate;
    } else {
      samples = task.samples;
      sampleRate = task.sampleRate;
    }
    const out = computeFeatures(samples, sampleRate, config);
    const reply: WorkerReply = { id: task.id, data: out.data, shape: out.shape };
    port.postMessage(reply, [out.data.buffer as ArrayBuffer]);
  } catch (err) {
    const reply: WorkerReply = { id: task.id, error: err instanceof Error ? err.message : String(err) };
    port.postMessage(reply);
  }
});
