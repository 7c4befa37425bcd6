// The model registry: every architecture is known by name, with a zod schema for its config, so a
// YAML/CLI config names a model and its options and gets a clear error for a wrong key or value.

import type { z } from 'zod';
import { formatSchemaIssues, SchemaError } from '../core/errors.js';
import { cnnModel1Definition } from './cnn-model-1.js';
import { smallCnnDefinition } from './small-cnn.js';
import type { AudioModel, InputSpec, ModelDefinition } from './types.js';
import { zooDefinitions } from './zoo.js';

// The built-in architectures. Each model file exports its definition; listing them here (rather than
// registering from each file as a side effect) means importing the registry is enough to find them.
const BUILTIN: ModelDefinition[] = [
  cnnModel1Definition as unknown as ModelDefinition,
  smallCnnDefinition as unknown as ModelDefinition,
  // vgg16-bn, resnet18/34, conv1d-raw, mfcc-cnn, crnn, mobilenet-v2, efficientnet-b0, spec-transformer, sed.
  ...zooDefinitions,
];

export interface ModelInfo {
  name: string;
  description: string;
  /** The config with every default filled in. */
  defaults: unknown;
  input: InputSpec;
}

const registry = new Map<string, ModelDefinition>();
// What each built model was made from, so checkpoints can record it without the model carrying it.
const origins = new WeakMap<AudioModel, { name: string; config: unknown }>();

/** Adds an architecture to the registry (a duplicate name is an error). */
export function registerModel<S extends z.ZodType>(def: ModelDefinition<S>): void {
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(def.name))
    throw new Error(`registerModel: name "${def.name}" must be kebab-case`);
  if (registry.has(def.name)) throw new Error(`registerModel: "${def.name}" is already registered`);
  registry.set(def.name, def as unknown as ModelDefinition);
}

for (const def of BUILTIN) registerModel(def);

export function getModelDefinition(name: string): ModelDefinition {
  const def = registry.get(name);
  if (!def)
    throw new Error(`unknown model "${name}"; known models: ${[...registry.keys()].sort().join(', ')}`);
  return def;
}

/** Validates `config` (unknown keys rejected, defaults filled in) and returns it. */
export function resolveModelConfig(name: string, config: unknown = {}): unknown {
  const def = getModelDefinition(name);
  const r = def.configSchema.safeParse(config ?? {});
  if (!r.success)
    throw new SchemaError(
      `model "${name}": invalid config`,
      formatSchemaIssues(r.error.issues, config ?? {}, { schema: def.configSchema }),
    );
  return r.data;
}

/** Builds a model by registry name, with freshly initialised weights (seed with `manualSeed` first). */
export function createModel(name: string, config: unknown = {}): AudioModel {
  const def = getModelDefinition(name);
  const resolved = resolveModelConfig(name, config);
  const model = def.create(resolved);
  origins.set(model, { name, config: resolved });
  return model;
}

/** The registry name and resolved config a model was created with (undefined if not from createModel). */
export function modelOrigin(model: AudioModel): { name: string; config: unknown } | undefined {
  return origins.get(model);
}

export function listModels(): ModelInfo[] {
  return [...registry.values()]
    .map((d) => {
      const defaults = d.configSchema.parse({});
      return { name: d.name, description: d.description, defaults, input: d.input(defaults) };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}
