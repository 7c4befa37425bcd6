import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { loadSafetensors, saveSafetensors } from '../../src/nn/safetensors.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/nn/safetensors-format.js';
import { fixturePath } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'audiotag-st-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function u8(...xs: number[]) {
  return new Uint8Array(xs);
}

describe('safetensors format (bytes)', () => {
  test('encode puts an 8-aligned JSON header before the data, offsets relative to the data', () => {
    const bytes = encodeSafetensors(
      {
        a: { dtype: 'U8', shape: [3], data: u8(1, 2, 3) },
        b: { dtype: 'I32', shape: [1], data: u8(4, 0, 0, 0) },
      },
      { k: 'v' },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal((8 + n) % 8, 0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    assert.deepEqual(header.__metadata__, { k: 'v' });
    assert.deepEqual(header.a, { dtype: 'U8', shape: [3], data_offsets: [0, 3] });
    assert.deepEqual(header.b, { dtype: 'I32', shape: [1], data_offsets: [3, 7] });
    assert.deepEqual([...bytes.subarray(8 + n)], [1, 2, 3, 4, 0, 0, 0]);
    const back = decodeSafetensors(bytes);
    assert.deepEqual(back.metadata, { k: 'v' });
    assert.deepEqual([...back.tensors.b!.data], [4, 0, 0, 0]);
  });

  test('encode rejects data that does not fit the shape', () => {
    assert.throws(
      () => encodeSafetensors({ w: { dtype: 'F32', shape: [2], data: u8(1, 2, 3) } }),
      /"w" \(F32 \[2\]\) has 3 bytes, expected 8/,
    );
  });

  function withHeader(h: unknown, data: Uint8Array): Uint8Array {
    const j = new TextEncoder().encode(JSON.stringify(h));
    const out = new Uint8Array(8 + j.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(j.length), true);
    out.set(j, 8);
    out.set(data, 8 + j.length);
    return out;
  }

  test('decode names the problem: short file, bad JSON, bad dtype, bad offsets, holes, trailing bytes', () => {
    assert.throws(() => decodeSafetensors(u8(1, 2), 'x.st'), /x\.st: file is 2 bytes/);
    assert.throws(
      () => decodeSafetensors(u8(255, 0, 0, 0, 0, 0, 0, 0, 1), 'x.st'),
      /header length 255 does not fit/,
    );
    const bad = new TextEncoder().encode('{nope');
    const f = new Uint8Array(8 + bad.length);
    new DataView(f.buffer).setBigUint64(0, BigInt(bad.length), true);
    f.set(bad, 8);
    assert.throws(() => decodeSafetensors(f, 'x.st'), /x\.st: header is not valid JSON/);
    assert.throws(
      () =>
        decodeSafetensors(
          withHeader({ a: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)),
        ),
      /"a" has unsupported dtype C64/,
    );
    assert.throws(
      () =>
        decodeSafetensors(
          withHeader({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)),
        ),
      /"a" \(F32 \[3\]\) spans 8 bytes, expected 12/,
    );
    assert.throws(
      () =>
        decodeSafetensors(
          withHeader({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] } }, new Uint8Array(8)),
        ),
      /"a" ends at byte 12 past the data \(8 bytes\); truncated/,
    );
    assert.throws(
      () =>
        decodeSafetensors(
          withHeader(
            {
              a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] },
              b: { dtype: 'U8', shape: [2], data_offsets: [1, 3] },
            },
            new Uint8Array(3),
          ),
        ),
      /"b" starts at byte 1, expected 2/,
    );
    assert.throws(
      () =>
        decodeSafetensors(
          withHeader({ a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] } }, new Uint8Array(5)),
        ),
      /3 trailing bytes/,
    );
    assert.throws(
      () => decodeSafetensors(withHeader({ __metadata__: { n: 3 } }, new Uint8Array(0))),
      /metadata "n" is not a string/,
    );
  });
});

describe('safetensors files (engine tensors)', () => {
  test('reads every dtype of a file written by Python (json + numpy writer)', () => {
    const { tensors: t, metadata } = loadSafetensors(fixturePath('dtypes.safetensors'));
    try {
      assert.deepEqual(metadata, { written_by: 'nn_ref.py' });
      assert.equal(t.f32!.dtype, 'float32');
      assert.deepEqual(t.f32!.shape, [2, 2]);
      assert.deepEqual([...t.f32!.toFloat32Array()], [1.5, -2.25, 3, Math.fround(1e-8)]);
      assert.equal(t.f64!.dtype, 'float64');
      assert.deepEqual([...t.f64!.toFloat64Array()], [1 / 3, -1e300]);
      assert.equal(t.f16!.dtype, 'float16');
      const f16 = E.tidy(() => t.f16!.to('float32').toFloat32Array());
      assert.deepEqual([...f16.subarray(0, 2)], [0.5, -65504]);
      assert.ok(Math.abs(f16[2]! - 1e-4) < 1e-7, `f16 1e-4 read as ${f16[2]}`);
      assert.equal(t.bf16!.dtype, 'bfloat16');
      assert.deepEqual([...E.tidy(() => t.bf16!.to('float32').toFloat32Array())], [1, -3.140625, 256]);
      assert.equal(t.i64!.dtype, 'int64');
      assert.deepEqual([...t.i64!.toBigInt64Array()], [-(2n ** 40n), 7n]);
      assert.equal(t.i32!.dtype, 'int32');
      assert.deepEqual([...t.i32!.toInt32Array()], [-5, 2 ** 30]);
      assert.equal(t.u8!.dtype, 'uint8');
      assert.deepEqual(t.u8!.toArray(), [0, 255]);
      assert.equal(t.bool!.dtype, 'bool');
      assert.deepEqual(t.bool!.toArray().map(Boolean), [true, false, true]);
      assert.deepEqual(t.scalar!.shape, []);
      assert.equal(t.scalar!.item(), 2.5);
      assert.deepEqual(t.empty!.shape, [0, 3]);
    } finally {
      E.dispose(t);
    }
  });

  test('save then load gives back names, order, dtypes, shapes, values and metadata', () => {
    const p = join(dir, 'rt.safetensors');
    const src = {
      'layer.weight': E.randn([3, 4]),
      'layer.bias': E.randn([3], { dtype: 'float64' }),
      'bn.num_batches_tracked': E.tensor([7], [], { dtype: 'int64' }),
      mask: E.tensor(new Uint8Array([1, 0, 1]), [3], { dtype: 'bool' }),
      half: E.tensor([1.5, -2], [2], { dtype: 'float16' }),
    };
    try {
      saveSafetensors(p, src, { epoch: '3' });
      const { tensors, metadata } = loadSafetensors(p);
      try {
        assert.deepEqual(metadata, { epoch: '3' });
        assert.deepEqual(Object.keys(tensors), Object.keys(src));
        for (const [k, t] of Object.entries(src)) {
          assert.equal(tensors[k]!.dtype, t.dtype, k);
          assert.deepEqual(tensors[k]!.shape, t.shape, k);
          assert.deepEqual(E.toBytes(tensors[k]!), E.toBytes(t), k);
        }
      } finally {
        E.dispose(tensors);
      }
      // The bytes on disk follow the format: re-encoding what we decoded gives the same file.
      const bytes = readFileSync(p);
      const raw = decodeSafetensors(bytes);
      assert.deepEqual(encodeSafetensors(raw.tensors, raw.metadata), new Uint8Array(bytes));
    } finally {
      E.dispose(src);
    }
  });

  test('a non-contiguous view is saved as its logical (row-major) values', () => {
    const p = join(dir, 'view.safetensors');
    E.tidy(() => {
      const t = E.arange(6).reshape([2, 3]).t();
      saveSafetensors(p, { t });
      const { tensors } = loadSafetensors(p);
      assert.deepEqual(tensors.t!.shape, [3, 2]);
      assert.deepEqual(tensors.t!.toArray(), [0, 3, 1, 4, 2, 5]);
      E.dispose(tensors);
    });
  });

  test('load errors name the file', () => {
    assert.throws(
      () => loadSafetensors(join(dir, 'missing.safetensors')),
      /cannot read .*missing\.safetensors/,
    );
    const p = join(dir, 'garbage.safetensors');
    writeFileSync(p, 'this is not a safetensors file');
    assert.throws(() => loadSafetensors(p), /garbage\.safetensors: header length \d+ does not fit/);
  });
});
