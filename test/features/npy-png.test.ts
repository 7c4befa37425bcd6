// The .npy codec and the spectrogram PNG renderer.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { PNG } from 'pngjs';
import { decodeNpy, decodeNpyFloat32, encodeNpy } from '../../src/features/npy.js';
import { renderSpectrogramPng } from '../../src/report/spectrogram-png.js';
import { FIXTURES } from './helpers.js';

describe('.npy', () => {
  test('float32 round trip; numpy’s header layout (64-byte aligned, newline-terminated)', () => {
    const a = { data: Float32Array.from({ length: 24 }, (_, i) => i * 0.5 - 3), shape: [2, 3, 4] };
    const bytes = encodeNpy(a);
    const hlen = bytes[8]! | (bytes[9]! << 8);
    assert.equal((10 + hlen) % 64, 0);
    assert.equal(bytes[10 + hlen - 1], 0x0a);
    const header = new TextDecoder().decode(bytes.subarray(10, 10 + hlen));
    assert.match(header, /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3, 4\), \}/);
    const back = decodeNpy(bytes);
    assert.equal(back.dtype, '<f4');
    assert.deepEqual(back.shape, [2, 3, 4]);
    assert.deepEqual(Array.from(back.data), Array.from(a.data));
    assert.match(
      new TextDecoder().decode(encodeNpy({ data: new Float32Array(3), shape: [3] }).subarray(10, 80)),
      /\(3,\)/,
    );
  });

  test('reads files numpy wrote (fixtures), int16 included; rejects what it cannot read', () => {
    const f = decodeNpyFloat32(readFileSync(join(FIXTURES, 'synth_htk_reflect.mel.npy')));
    assert.deepEqual(f.shape, [40, 17]);
    const i = decodeNpy(readFileSync(join(FIXTURES, 'synth_htk_reflect.input.npy')));
    assert.equal(i.dtype, '<i2');
    assert.ok(i.data instanceof Int16Array && i.data.length === 4000);
    assert.throws(() => decodeNpy(new Uint8Array([1, 2, 3])), /not a \.npy file/);
    const trunc = encodeNpy({ data: new Float32Array(100), shape: [100] }).subarray(0, 200);
    assert.throws(() => decodeNpy(trunc, 'cut.npy'), /cut\.npy: 100 values of <f4 need 400 bytes/);
  });
});

describe('renderSpectrogramPng', () => {
  const bands = 8;
  const frames = 20;
  const spec = { data: new Float32Array(bands * frames), shape: [bands, frames] };
  for (let t = 0; t < frames; t++) spec.data[t] = 1; // band 0 (lowest) loud, the rest 0

  test('one cell per band×frame (scaled), low bands at the bottom, colour-map ends', () => {
    const img = PNG.sync.read(Buffer.from(renderSpectrogramPng(spec, { colormap: 'gray', scale: 2 })));
    assert.equal(img.width, frames * 2);
    assert.equal(img.height, bands * 2);
    const px = (x: number, y: number) =>
      Array.from(img.data.subarray(4 * (y * img.width + x), 4 * (y * img.width + x) + 3));
    assert.deepEqual(px(5, img.height - 1), [255, 255, 255]); // band 0 is the bottom row
    assert.deepEqual(px(5, 0), [0, 0, 0]);
    const mag = PNG.sync.read(Buffer.from(renderSpectrogramPng(spec, { scale: 1 })));
    const top = Array.from(mag.data.subarray(0, 3));
    assert.deepEqual(top, [0, 0, 4]); // magma's dark end
  });

  test('axes add margins; stacked channels are drawn one above the other; bad input fails', () => {
    const plain = PNG.sync.read(Buffer.from(renderSpectrogramPng(spec, { scale: 1 })));
    const axes = PNG.sync.read(
      Buffer.from(renderSpectrogramPng(spec, { scale: 1, axes: true, sampleRate: 16000, hopLength: 160 })),
    );
    assert.ok(axes.width > plain.width && axes.height > plain.height);
    const three = { data: new Float32Array(3 * bands * frames), shape: [3, bands, frames] };
    const img3 = PNG.sync.read(Buffer.from(renderSpectrogramPng(three, { scale: 1 })));
    assert.equal(img3.height, 3 * bands + 2 * 2);
    assert.throws(
      () => renderSpectrogramPng({ data: new Float32Array(4), shape: [4] }),
      /expected \[bands, frames\]/,
    );
    assert.throws(() => renderSpectrogramPng(spec, { colormap: 'jet' as never }), /unknown colormap "jet"/);
  });
});
