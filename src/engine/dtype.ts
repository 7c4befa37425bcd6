// dtype and device names, and their checks (done here so a bad name never reaches libtorch).
import { fail } from './errors.js';

export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool' | 'uint8' | 'float16' | 'bfloat16';
export type Device = string;
export type Shape = readonly number[];

/** In native/src/common.cc order: the index is the code the addon uses. */
export const DTYPES: readonly DType[] = [
  'float32',
  'float64',
  'int64',
  'int32',
  'bool',
  'uint8',
  'float16',
  'bfloat16',
];
const CODES = new Map<string, number>(DTYPES.map((d, i) => [d, i]));

/** Bytes per element. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  float32: 4,
  float64: 8,
  int64: 8,
  int32: 4,
  bool: 1,
  uint8: 1,
  float16: 2,
  bfloat16: 2,
};

export function isDType(s: unknown): s is DType {
  return typeof s === 'string' && CODES.has(s);
}

export function dtypeCode(op: string, d: unknown): number {
  const c = typeof d === 'string' ? CODES.get(d) : undefined;
  if (c === undefined) fail(op, `unknown dtype ${JSON.stringify(d)} (expected one of ${DTYPES.join(', ')})`);
  return c;
}

export function dtypeFromCode(c: number | string): DType {
  // A dtype without a code (complex, inside libtorch only) comes back as libtorch's name.
  return typeof c === 'number' ? DTYPES[c]! : (c as DType);
}

export function isFloating(d: DType): boolean {
  return d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';
}

const DEVICE_RE = /^(cpu|cuda(:\d+)?)$/;

export function isDevice(s: unknown): s is Device {
  return typeof s === 'string' && DEVICE_RE.test(s);
}

export function checkDevice(op: string, d: unknown): string {
  if (!isDevice(d)) fail(op, `unknown device ${JSON.stringify(d)} (expected 'cpu', 'cuda' or 'cuda:N')`);
  return d;
}

/** A shape of non-negative integers (creation). */
export function checkShape(op: string, shape: unknown): number[] {
  if (!Array.isArray(shape) && !ArrayBuffer.isView(shape))
    fail(op, `shape must be an array, got ${String(shape)}`);
  const s = Array.from(shape as ArrayLike<number>);
  for (const d of s) {
    if (!Number.isInteger(d) || d < 0) fail(op, `shape [${s.join(', ')}] has a bad dimension ${d}`);
  }
  return s;
}

/** A target shape where -1 means "infer" (reshape, view, expand). */
export function checkTargetShape(op: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) fail(op, `shape must be an array, got ${String(shape)}`);
  for (const d of shape as unknown[]) {
    if (!Number.isInteger(d) || (d as number) < -1)
      fail(op, `shape [${shape.join(', ')}] has a bad dimension ${d}`);
  }
  return shape as number[];
}

export function checkInt(op: string, name: string, v: unknown): number {
  if (!Number.isInteger(v)) fail(op, `${name} must be an integer, got ${String(v)}`);
  return v as number;
}

export function checkInts(op: string, name: string, v: unknown): number[] {
  if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x))) {
    fail(op, `${name} must be a list of integers, got ${JSON.stringify(v)}`);
  }
  return v as number[];
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Memory layouts of a tensor's elements; the codes are native/src/perf.cc's. */
export type MemoryFormat = 'contiguous' | 'channels-last' | 'channels-last-3d';
export const MEMORY_FORMATS: readonly MemoryFormat[] = ['contiguous', 'channels-last', 'channels-last-3d'];

export function memoryFormatCode(op: string, f: unknown): number {
  const c = MEMORY_FORMATS.indexOf(f as MemoryFormat);
  if (c < 0)
    fail(op, `unknown memory format ${JSON.stringify(f)} (expected one of ${MEMORY_FORMATS.join(', ')})`);
  return c;
}
