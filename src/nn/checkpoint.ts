// A checkpoint is a directory: `model.safetensors` (the state dict under PyTorch's names) and
// `config.json` (what is needed to rebuild the model and use it: model name and config, class list,
// feature config, anything else the trainer wants to keep). Python reads both with stock tools.

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../core/atomic-file.js';
import { fsReason } from '../core/errors.js';
import type { Device, Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { VERSION } from '../version.js';
import type { AnyModule } from './module.js';
import { loadSafetensors, saveSafetensors } from './safetensors.js';

export const CHECKPOINT_WEIGHTS = 'model.safetensors';
export const CHECKPOINT_CONFIG = 'config.json';
export const CHECKPOINT_FORMAT_VERSION = 1;

export interface CheckpointInfo {
  /** The registry name of the model, when it came from `src/models` (lets `loadModel` rebuild it). */
  model?: string;
  /** The model's config as given to the registry. */
  config?: unknown;
  /** Class names, in output order. */
  classes?: string[];
  /** The feature extraction config the model was trained on. */
  featureConfig?: unknown;
  /** Anything else JSON-serialisable (epoch, metrics, …). */
  [key: string]: unknown;
}

export interface CheckpointConfig extends CheckpointInfo {
  format_version: number;
  audiotag_version: string;
  saved_at: string;
}

/**
 * Writes `module`'s state dict and `info` into `dir` (created if needed). Each file is replaced
 * atomically. Returns the paths written.
 */
export function saveCheckpoint(
  dir: string,
  module: AnyModule,
  info: CheckpointInfo = {},
): { weights: string; config: string } {
  mkdirSync(dir, { recursive: true });
  const weights = join(dir, CHECKPOINT_WEIGHTS);
  const configPath = join(dir, CHECKPOINT_CONFIG);
  E.tidy(() => {
    const sd = module.stateDict();
    // "format: pt" is what Python tools (transformers, timm) look for in a torch state dict.
    const meta: Record<string, string> = { format: 'pt', audiotag_version: VERSION };
    if (info.model) meta.model = info.model;
    saveSafetensors(weights, sd, meta);
  });
  const config: CheckpointConfig = {
    format_version: CHECKPOINT_FORMAT_VERSION,
    audiotag_version: VERSION,
    saved_at: new Date().toISOString(),
    ...info,
  };
  writeJsonAtomic(configPath, config);
  return { weights, config: configPath };
}

export interface LoadedCheckpoint {
  /** The state dict (caller owns the tensors). */
  tensors: Record<string, Tensor>;
  /** The safetensors file's metadata. */
  metadata: Record<string, string>;
  config: CheckpointConfig;
}

/** Reads a checkpoint directory written by `saveCheckpoint` (or by Python with the same two files). */
export function readCheckpointConfig(dir: string): CheckpointConfig {
  const p = join(dir, CHECKPOINT_CONFIG);
  let text: string;
  try {
    text = readFileSync(p, 'utf8');
  } catch (e) {
    throw new Error(`loadCheckpoint: cannot read ${p}: ${fsReason(e)}`);
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (e) {
    throw new Error(`loadCheckpoint: ${p} is not valid JSON (${(e as Error).message})`);
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config))
    throw new Error(`loadCheckpoint: ${p} must hold a JSON object`);
  const c = config as CheckpointConfig;
  if (c.format_version !== undefined && c.format_version > CHECKPOINT_FORMAT_VERSION)
    throw new Error(
      `loadCheckpoint: ${p} has format_version ${c.format_version}; this audiotag reads up to ${CHECKPOINT_FORMAT_VERSION}`,
    );
  return c;
}

/**
 * Loads a checkpoint. With `into`, the weights are also copied into that module (strict by default) and
 * the loaded tensors disposed, leaving `tensors` empty.
 */
export function loadCheckpoint(
  dir: string,
  opts: { device?: Device; into?: AnyModule; strict?: boolean } = {},
): LoadedCheckpoint {
  const config = readCheckpointConfig(dir);
  const { tensors, metadata } = loadSafetensors(join(dir, CHECKPOINT_WEIGHTS), { device: opts.device });
  if (!opts.into) return { tensors, metadata, config };
  try {
    opts.into.loadStateDict(tensors, { strict: opts.strict ?? true });
  } finally {
    E.dispose(tensors);
  }
  return { tensors: {}, metadata, config };
}
