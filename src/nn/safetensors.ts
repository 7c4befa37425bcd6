// Safetensors files from and to engine tensors. The byte format itself lives in safetensors-format.ts.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { fsReason } from '../core/errors.js';
import type { Device, DType, Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import {
  buildSafetensorsHeader,
  decodeSafetensors,
  type RawTensor,
  type SafetensorsDType,
} from './safetensors-format.js';

const TO_ST: Record<DType, SafetensorsDType> = {
  float32: 'F32',
  float64: 'F64',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  uint8: 'U8',
  bool: 'BOOL',
};

const FROM_ST: Partial<Record<SafetensorsDType, DType>> = Object.fromEntries(
  Object.entries(TO_ST).map(([k, v]) => [v, k as DType]),
);

/** The safetensors name of an engine dtype. */
export function toSafetensorsDType(d: DType): SafetensorsDType {
  const s = TO_ST[d];
  if (!s) throw new Error(`safetensors: no safetensors dtype for engine dtype ${d}`);
  return s;
}

/** The engine dtype of a safetensors dtype (I8 and I16 have none). */
export function fromSafetensorsDType(d: SafetensorsDType, name = '?'): DType {
  const e = FROM_ST[d];
  if (!e) throw new Error(`safetensors: tensor "${name}" has dtype ${d}, which the engine does not support`);
  return e;
}

/** A raw tensor (bytes) as an engine tensor (copied), optionally moved to a device. */
export function rawToTensor(name: string, raw: RawTensor, device?: Device): Tensor {
  const t = E.fromBytes(raw.data, raw.shape, fromSafetensorsDType(raw.dtype, name));
  if (!device || device === 'cpu') return t;
  const moved = t.to(device);
  t.dispose();
  return moved;
}

/**
 * Writes `tensors` (in insertion order) and string `metadata` to a safetensors file. The file appears
 * whole or not at all: it is written beside the target and renamed, so a crash mid-write (e.g. while a
 * trainer saves its last checkpoint) never leaves a truncated file under the real name.
 */
export function saveSafetensors(
  path: string,
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
): void {
  const bytes: Record<string, Uint8Array> = {};
  const infos: Record<string, { dtype: SafetensorsDType; shape: number[]; byteLength: number }> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (!(t instanceof E.Tensor)) throw new Error(`saveSafetensors: "${name}" is not a Tensor`);
    const b = E.toBytes(t);
    bytes[name] = b;
    infos[name] = { dtype: toSafetensorsDType(t.dtype), shape: [...t.shape], byteLength: b.length };
  }
  const { header, order } = buildSafetensorsHeader(infos, metadata);
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, header);
    for (const name of order) writeSync(fd, bytes[name]!);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

export interface LoadedSafetensors {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

/** Reads a safetensors file into engine tensors (the caller owns and disposes them). */
export function loadSafetensors(path: string, opts: { device?: Device } = {}): LoadedSafetensors {
  let buf: Uint8Array;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new Error(`loadSafetensors: cannot read ${path}: ${fsReason(e)}`);
  }
  const raw = decodeSafetensors(buf, path);
  const tensors: Record<string, Tensor> = {};
  try {
    for (const [name, r] of Object.entries(raw.tensors)) tensors[name] = rawToTensor(name, r, opts.device);
  } catch (e) {
    E.dispose(tensors);
    throw e;
  }
  return { tensors, metadata: raw.metadata };
}
