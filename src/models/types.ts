// What every model of the registry is: a Module from a batch of inputs to clip-wise logits, optionally
// with frame-wise logits (PANNs-style sound event detection models).

import type { z } from 'zod';
import type { Tensor } from '../engine/index.js';
import type { Module } from '../nn/module.js';

export interface ModelOutput {
  /** Logits [B, C], one row per clip: what the trainer's loss and the metrics use. */
  clipwise: Tensor;
  /** Per-frame logits [B, T, C] for models that localise events in time. */
  framewise?: Tensor;
}

export type AudioModel = Module<[Tensor], ModelOutput>;

/** The input a model expects, for docs, benches and checks: channels first, no batch dim. */
export interface InputSpec {
  /** e.g. [3, 128, 128] for an image-like spectrogram model, [1, 16000] for a waveform model. */
  exampleShape: number[];
  /** What the dims mean, e.g. 'channels × mel bins × frames'. */
  layout: string;
}

/** An architecture of the registry: its name, validated config and builder. */
export interface ModelDefinition<S extends z.ZodType = z.ZodType> {
  /** Registry name, kebab-case (e.g. 'cnn-model-1'). */
  name: string;
  /** One line for `listModels()` and the CLI. */
  description: string;
  /** Validates the config and fills in defaults. */
  configSchema: S;
  create(config: z.output<S>): AudioModel;
  input(config: z.output<S>): InputSpec;
}

/** Helps TypeScript infer `S` when a model file declares its definition. */
export function defineModel<S extends z.ZodType>(def: ModelDefinition<S>): ModelDefinition<S> {
  return def;
}
