// Fine-tuning: initialise a model from another run's checkpoint. When the class list differs (or the
// head's shapes do not fit) the head — by default the last Linear layer — keeps its fresh initialisation
// and everything else is loaded; the trainer can then freeze the rest for a few epochs.
import { join } from 'node:path';
import * as E from '../engine/index.js';
import type { AudioModel } from '../models/types.js';
import { CHECKPOINT_WEIGHTS, readCheckpointConfig } from '../nn/checkpoint.js';
import { Linear } from '../nn/linear.js';
import { loadSafetensors } from '../nn/safetensors.js';

export interface InitOptions {
  from: string;
  head?: string;
  newHead?: 'auto' | 'always' | 'never';
}

export interface InitResult {
  /** Prefix of the head (the part trained while the rest is frozen). */
  headPrefix: string;
  /** Whether the head was re-initialised instead of loaded. */
  newHead: boolean;
  /** State-dict entries loaded from the checkpoint. */
  loaded: number;
  /** The checkpoint's class list, when it records one. */
  sourceClasses: string[] | null;
}

/** The dotted name of the last Linear module (the classifier of every registry model). */
export function lastLinear(model: AudioModel): string {
  let name: string | null = null;
  for (const [n, m] of model.namedModules()) if (m instanceof Linear) name = n;
  if (name === null || name === '')
    throw new Error('init: the model has no Linear layer to use as the head; set init.head');
  return name;
}

const under = (key: string, prefix: string) => key === prefix || key.startsWith(`${prefix}.`);

/** Loads `opts.from` into `model` (see the file comment). `classes` is the new run's class list. */
export function initFromCheckpoint(
  model: AudioModel,
  opts: InitOptions,
  classes: readonly string[],
): InitResult {
  const config = readCheckpointConfig(opts.from);
  const headPrefix = opts.head ?? lastLinear(model);
  const own = new Map<string, number[]>();
  E.tidy(() => {
    for (const [k, t] of Object.entries(model.stateDict())) own.set(k, t.shape);
  });
  const headKeys = [...own.keys()].filter((k) => under(k, headPrefix));
  if (headKeys.length === 0)
    throw new Error(
      `init.head: the model has no parameters under "${headPrefix}" (e.g. ${[...own.keys()].slice(-2).join(', ')})`,
    );
  const { tensors } = loadSafetensors(join(opts.from, CHECKPOINT_WEIGHTS));
  try {
    const sourceClasses = Array.isArray(config.classes) ? (config.classes as string[]) : null;
    const sameClasses =
      sourceClasses !== null &&
      sourceClasses.length === classes.length &&
      sourceClasses.every((c, i) => c === classes[i]);
    const fits = (k: string) => {
      const t = tensors[k];
      const s = own.get(k);
      return !!t && !!s && t.shape.length === s.length && t.shape.every((d, i) => d === s[i]);
    };
    const mode = opts.newHead ?? 'auto';
    const newHead = mode === 'always' || (mode === 'auto' && (!sameClasses || !headKeys.every(fits)));
    const problems: string[] = [];
    for (const k of own.keys()) {
      if (newHead && under(k, headPrefix)) continue;
      if (!tensors[k]) problems.push(`missing "${k}"`);
      else if (!fits(k))
        problems.push(
          `"${k}" has shape [${tensors[k]!.shape.join(', ')}] there, [${own.get(k)!.join(', ')}] here`,
        );
    }
    for (const k of Object.keys(tensors))
      if (!own.has(k) && !(newHead && under(k, headPrefix))) problems.push(`unexpected "${k}"`);
    if (problems.length > 0)
      throw new Error(
        `init.from: ${opts.from} does not fit this model${mode === 'never' ? ' (init.newHead is never)' : ''}:\n  ${problems.slice(0, 20).join('\n  ')}`,
      );
    const sd = Object.fromEntries(
      Object.entries(tensors).filter(([k]) => own.has(k) && !(newHead && under(k, headPrefix))),
    );
    model.loadStateDict(sd, { strict: false });
    return { headPrefix, newHead, loaded: Object.keys(sd).length, sourceClasses };
  } finally {
    E.dispose(tensors);
  }
}
