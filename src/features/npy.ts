// NumPy .npy files (format versions 1–3), written and read without Node APIs so the browser can export
// features too. Layout: "\x93NUMPY", major, minor, header length (u16 LE for v1, u32 LE for v2/3), a
// Python-dict header padded with spaces to a multiple of 64 bytes ending in "\n", then the raw data.
import type { NDArray } from '../core/ndarray.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Encodes a float32 NDArray as a version-1.0 .npy file (C order, little-endian '<f4'). */
export function encodeNpy(a: NDArray): Uint8Array {
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = 10 + header.length + 1;
  header += `${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  if (header.length > 0xffff) throw new Error('encodeNpy: header too long');
  const out = new Uint8Array(10 + header.length + a.data.length * 4);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const view = new DataView(out.buffer, out.byteOffset + 10 + header.length);
  for (let i = 0; i < a.data.length; i++) view.setFloat32(i * 4, a.data[i]!, true);
  return out;
}

export type NpyData = Float32Array | Float64Array | Int16Array | Int32Array | Uint8Array | Int8Array;

/** A decoded .npy: its dtype string (e.g. '<f4'), shape and typed data (C order). */
export interface Npy {
  dtype: string;
  shape: number[];
  data: NpyData;
}

/** Decodes a little-endian, C-order .npy of f4, f8, i1, u1, i2 or i4. Errors say what is wrong. */
export function decodeNpy(bytes: Uint8Array, name = 'npy'): Npy {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error(`${name}: not a .npy file`);
  const major = bytes[6]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + hlen > bytes.length) throw new Error(`${name}: truncated header`);
  let header = '';
  for (let i = 0; i < hlen; i++) header += String.fromCharCode(bytes[start + i]!);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined)
    throw new Error(`${name}: unreadable header ${header.trim()}`);
  if (fortran === 'True') throw new Error(`${name}: Fortran-order arrays are not supported`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const off = start + hlen;
  const types: Record<string, [number, (o: number) => number, new (n: number) => NpyData]> = {
    '<f4': [4, (o) => dv.getFloat32(o, true), Float32Array],
    '<f8': [8, (o) => dv.getFloat64(o, true), Float64Array],
    '<i2': [2, (o) => dv.getInt16(o, true), Int16Array],
    '<i4': [4, (o) => dv.getInt32(o, true), Int32Array],
    '|i1': [1, (o) => dv.getInt8(o), Int8Array],
    '|u1': [1, (o) => dv.getUint8(o), Uint8Array],
  };
  const t = types[descr];
  if (!t)
    throw new Error(
      `${name}: dtype ${descr} is not supported (expected one of ${Object.keys(types).join(', ')})`,
    );
  const [size, get, Ctor] = t;
  if (off + count * size > bytes.length)
    throw new Error(
      `${name}: ${count} values of ${descr} need ${count * size} bytes, have ${bytes.length - off}`,
    );
  const data = new Ctor(count);
  for (let i = 0; i < count; i++) data[i] = get(off + i * size);
  return { dtype: descr, shape, data };
}

/** Decodes a .npy into a float32 NDArray (any supported dtype, converted). */
export function decodeNpyFloat32(bytes: Uint8Array, name = 'npy'): NDArray {
  const n = decodeNpy(bytes, name);
  return { data: n.data instanceof Float32Array ? n.data : Float32Array.from(n.data), shape: n.shape };
}
