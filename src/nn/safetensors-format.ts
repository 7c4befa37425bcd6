// The safetensors file format, engine-free: bytes in, bytes out.
//
//   [8 bytes: little-endian u64 N][N bytes: JSON header][data]
//
// The header maps each tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets relative to the
// start of the data section) plus an optional "__metadata__" of string → string. We pad the header with
// spaces so the data starts 8-byte aligned, as the reference implementation does, which lets readers map
// the file and view the data in place.
//
// No npm package for the format is available from the registry here, so this is written from the
// format's description; it is small, and the tests check it against files written by Python.

/** The safetensors dtype names this project reads and writes. */
export type SafetensorsDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** Bytes per element of each safetensors dtype. */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<SafetensorsDType, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** One tensor as raw little-endian bytes. */
export interface RawTensor {
  dtype: SafetensorsDType;
  shape: number[];
  /** Exactly numel × bytes-per-element bytes, little-endian, row-major. */
  data: Uint8Array;
}

export interface RawSafetensors {
  tensors: Record<string, RawTensor>;
  metadata: Record<string, string>;
}

const MAX_HEADER_BYTES = 100 * 1024 * 1024; // the reference implementation's limit; guards against garbage

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function isDType(s: unknown): s is SafetensorsDType {
  return typeof s === 'string' && Object.hasOwn(SAFETENSORS_DTYPE_BYTES, s);
}

/** Builds the header JSON and the offsets; shared by `encodeSafetensors` and the streaming writer. */
export function buildSafetensorsHeader(
  tensors: Record<string, { dtype: SafetensorsDType; shape: readonly number[]; byteLength: number }>,
  metadata?: Record<string, string>,
): { header: Uint8Array; order: string[]; dataBytes: number } {
  const json: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string')
        throw new Error(`safetensors: metadata "${k}" must be a string, got ${typeof v}`);
    }
    json.__metadata__ = metadata;
  }
  const order = Object.keys(tensors);
  let offset = 0;
  for (const name of order) {
    if (name === '__metadata__') throw new Error('safetensors: "__metadata__" cannot name a tensor');
    const t = tensors[name]!;
    if (!isDType(t.dtype)) throw new Error(`safetensors: tensor "${name}" has unknown dtype ${t.dtype}`);
    const want = numel(t.shape) * SAFETENSORS_DTYPE_BYTES[t.dtype];
    if (t.byteLength !== want) {
      throw new Error(
        `safetensors: tensor "${name}" (${t.dtype} [${t.shape.join(', ')}]) has ${t.byteLength} bytes, expected ${want}`,
      );
    }
    json[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + want] };
    offset += want;
  }
  const raw = new TextEncoder().encode(JSON.stringify(json));
  // Pad with spaces (valid JSON whitespace) so that 8 + header length is a multiple of 8.
  const padded = Math.ceil(raw.length / 8) * 8;
  const header = new Uint8Array(8 + padded).fill(0x20);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(raw, 8);
  return { header, order, dataBytes: offset };
}

/** Serialises tensors (in insertion order) and metadata into one safetensors byte buffer. */
export function encodeSafetensors(
  tensors: Record<string, RawTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const sizes = Object.fromEntries(
    Object.entries(tensors).map(([k, t]) => [
      k,
      { dtype: t.dtype, shape: t.shape, byteLength: t.data.length },
    ]),
  );
  const { header, order, dataBytes } = buildSafetensorsHeader(sizes, metadata);
  const out = new Uint8Array(header.length + dataBytes);
  out.set(header, 0);
  let at = header.length;
  for (const name of order) {
    const d = tensors[name]!.data;
    out.set(d, at);
    at += d.length;
  }
  return out;
}

/**
 * Parses a safetensors buffer. Tensor data are views into `bytes` (no copy). Every structural problem
 * (truncated file, bad JSON, overlapping or out-of-range offsets, unknown dtype) throws with the tensor's
 * name; `source` (a file name) prefixes the messages.
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors'): RawSafetensors {
  if (bytes.length < 8) throw new Error(`${source}: file is ${bytes.length} bytes, too short for a header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(Math.min(MAX_HEADER_BYTES, bytes.length - 8))) {
    throw new Error(
      `${source}: header length ${n64} does not fit in the file (${bytes.length} bytes); not a safetensors file?`,
    );
  }
  const n = Number(n64);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new Error(`${source}: header is not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new Error(`${source}: header must be a JSON object`);
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors: Record<string, RawTensor> = {};
  const spans: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
        throw new Error(`${source}: "__metadata__" must be an object of strings`);
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new Error(`${source}: metadata "${k}" is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!isDType(e?.dtype))
      throw new Error(`${source}: tensor "${name}" has unsupported dtype ${String(e?.dtype)}`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0))
      throw new Error(`${source}: tensor "${name}" has a bad shape ${JSON.stringify(e.shape)}`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isInteger(o) && o >= 0))
      throw new Error(`${source}: tensor "${name}" has bad data_offsets ${JSON.stringify(off)}`);
    const [b, end] = off as [number, number];
    const shape = e.shape as number[];
    const want = numel(shape) * SAFETENSORS_DTYPE_BYTES[e.dtype];
    if (end < b || end - b !== want)
      throw new Error(
        `${source}: tensor "${name}" (${e.dtype} [${shape.join(', ')}]) spans ${end - b} bytes, expected ${want}`,
      );
    if (end > dataLen)
      throw new Error(
        `${source}: tensor "${name}" ends at byte ${end} past the data (${dataLen} bytes); truncated?`,
      );
    spans.push([b, end, name]);
    tensors[name] = { dtype: e.dtype, shape, data: bytes.subarray(dataStart + b, dataStart + end) };
  }
  // The format forbids holes and overlaps; a file that has them was not written by a conforming writer.
  spans.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let at = 0;
  for (const [b, end, name] of spans) {
    if (b !== at)
      throw new Error(
        `${source}: tensor "${name}" starts at byte ${b}, expected ${at} (overlap or hole in data)`,
      );
    at = end;
  }
  if (at !== dataLen) throw new Error(`${source}: ${dataLen - at} trailing bytes after the last tensor`);
  return { tensors, metadata };
}
