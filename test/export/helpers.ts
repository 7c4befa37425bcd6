// Shared by the export tests: real clips, engine reference outputs (with the embedding tap the Tagger's
// engine backend uses: the input of the last Linear layer, averaged over time when it runs per frame),
// and models with non-trivial BatchNorm statistics.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeWav } from '../../src/audio/wav.js';
import * as E from '../../src/engine/index.js';
import { resolveFeatureConfig } from '../../src/features/config.js';
import type { AudioModel } from '../../src/models/index.js';
import { createModel } from '../../src/models/index.js';
import { Linear } from '../../src/nn/index.js';

export const DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));

/** An FSDD recording (8 kHz mono WAV), decoded without the engine. */
export function fsddClip(name: string): { samples: Float32Array; sampleRate: number } {
  const a = decodeWav(new Uint8Array(readFileSync(`${DATA}fsdd/audio/${name}.wav`)), name);
  return { samples: a.channels[0]!, sampleRate: a.sampleRate };
}

/** The features the export tests run FSDD clips through: 64 mels of 1 s at 8 kHz ([1, 64, 63]), clip-normalised. */
export const FSDD_FEATURES = resolveFeatureConfig({
  sampleRate: 8000,
  nFft: 512,
  winLength: 256,
  hopLength: 128,
  nMels: 64,
  fmin: 20,
  fmax: 4000,
  duration: 1,
  durationAlign: 'center',
  normalize: 'clip',
});

/** A registry model, seeded, with random BatchNorm running statistics (so BN is not the identity), in eval mode. */
export function randomModel(name: string, config: Record<string, unknown>, seed = 0): AudioModel {
  E.manualSeed(seed);
  const m = createModel(name, config);
  E.noGrad(() => {
    for (const [k, b] of m.namedBuffers()) {
      if (k.endsWith('running_mean')) b.copy_(E.tidy(() => E.randn(b.shape).mul(0.2)));
      if (k.endsWith('running_var')) b.copy_(E.tidy(() => E.rand(b.shape).add(0.5)));
    }
  });
  return m.eval();
}

export interface EngineOut {
  clipwise: Float32Array;
  framewise?: Float32Array;
  embedding: Float32Array;
}

/** The engine's logits and embedding for a batch. */
export function engineForward(m: AudioModel, x: Float32Array, dims: number[]): EngineOut {
  let head: Linear | null = null;
  for (const [, mod] of m.namedModules()) if (mod instanceof Linear) head = mod;
  if (!head) throw new Error('no Linear layer');
  const inner = head.call.bind(head);
  let tap: Float32Array | null = null;
  (head as { call: (t: E.Tensor) => E.Tensor }).call = (t: E.Tensor) => {
    tap = E.tidy(() => (t.ndim > 2 ? t.mean(1) : t).toFloat32Array());
    return inner(t);
  };
  try {
    return E.noGrad(() =>
      E.tidy(() => {
        const o = m.call(E.tensor(x, dims));
        return {
          clipwise: o.clipwise.toFloat32Array(),
          framewise: o.framewise?.toFloat32Array(),
          embedding: tap!,
        };
      }),
    );
  } finally {
    (head as { call: unknown }).call = inner;
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

/** Row-wise softmax. */
export function softmax(x: Float32Array, classes: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / classes; r++) {
    let m = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < classes; c++) m = Math.max(m, x[r * classes + c]!);
    let s = 0;
    for (let c = 0; c < classes; c++) s += Math.exp(x[r * classes + c]! - m);
    for (let c = 0; c < classes; c++) out[r * classes + c] = Math.exp(x[r * classes + c]! - m) / s;
  }
  return out;
}
