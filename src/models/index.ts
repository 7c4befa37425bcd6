// src/models: the registry, the architectures, and saving/loading registry models.

import type { Device } from '../engine/index.js';
import {
  type CheckpointInfo,
  loadCheckpoint,
  readCheckpointConfig,
  saveCheckpoint,
} from '../nn/checkpoint.js';
import { createModel, modelOrigin } from './registry.js';
import type { AudioModel } from './types.js';

export * from './cnn-model-1.js';
export * from './registry.js';
export * from './small-cnn.js';
export * from './types.js';
export * from './zoo.js';

/** Saves a registry model with its name and config, so `loadModel` can rebuild it. */
export function saveModel(dir: string, model: AudioModel, info: CheckpointInfo = {}) {
  const origin = modelOrigin(model);
  if (!origin && info.model === undefined)
    throw new Error('saveModel: the model was not made by createModel; pass info.model and info.config');
  return saveCheckpoint(dir, model, { model: origin?.name, config: origin?.config, ...info });
}

/** Rebuilds the model named in a checkpoint's config.json and loads its weights (eval mode). */
export function loadModel(dir: string, opts: { device?: Device; strict?: boolean } = {}) {
  const config = readCheckpointConfig(dir);
  if (typeof config.model !== 'string')
    throw new Error(`loadModel: ${dir}/config.json names no model ("model" key); use loadCheckpoint instead`);
  const model = createModel(config.model, config.config ?? {});
  try {
    if (opts.device) model.to(opts.device);
    loadCheckpoint(dir, { into: model, strict: opts.strict, device: opts.device });
  } catch (e) {
    model.dispose();
    throw e;
  }
  model.eval();
  return { model, config };
}
