// BackgroundNoise and ImpulseResponse backed by files: folder listing, relative paths in configs, the
// shared cache, and errors that name the file.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { writeWav } from '../../src/audio/index.js';
import {
  applyWaveform,
  augmentationFromSpec,
  BackgroundNoise,
  ImpulseResponse,
} from '../../src/augment/index.js';
import { listAudioFiles, loadAugmentationConfig, prepareAugmentation } from '../../src/augment/node/index.js';
import { Random } from '../../src/core/random.js';
import { assertFinite, gaussian, near } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'audiotag-augment-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function snr(x: Float32Array, y: Float32Array): number {
  let ps = 0;
  let pn = 0;
  for (let i = 0; i < x.length; i++) {
    ps += x[i]! ** 2;
    pn += (y[i]! - x[i]!) ** 2;
  }
  return 10 * Math.log10(ps / pn);
}

describe('file-backed transforms', () => {
  it('lists a folder (sorted, by extension), loads it in prepare, and mixes at the asked SNR', async () => {
    const noise = join(dir, 'noise');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(noise);
    await writeWav(join(noise, 'b.wav'), { sampleRate: 16000, channels: [gaussian(16000, 1, 0.1)] });
    await writeWav(join(noise, 'a.wav'), { sampleRate: 8000, channels: [gaussian(8000, 2, 0.1)] });
    writeFileSync(join(noise, 'notes.txt'), 'not audio');
    assert.deepEqual(await listAudioFiles(noise, ['wav']), [join(noise, 'a.wav'), join(noise, 'b.wav')]);

    const t = new BackgroundNoise({ folder: noise, minSnrDb: 6, maxSnrDb: 6 });
    const x = gaussian(8000, 3);
    assert.throws(() => t.apply(x, 8000, new Random(1)), /not loaded for 8000 Hz/);
    await prepareAugmentation(t, 8000);
    for (let s = 0; s < 5; s++) {
      const y = t.apply(x, 8000, new Random(s));
      assertFinite(y);
      near(snr(x, y), 6, 0.1, 'SNR');
    }
  });

  it('resolves relative paths against the config file and names a file it cannot load', async () => {
    await writeWav(join(dir, 'ir.wav'), { sampleRate: 16000, channels: [Float32Array.of(0.5, 0.25, 0.125)] });
    const cfg = join(dir, 'room.yaml');
    writeFileSync(cfg, 'name: ImpulseResponse\npaths: [ir.wav]\ngain: none\n');
    const t = await loadAugmentationConfig(cfg);
    assert.deepEqual(t.toSpec().paths, [join(dir, 'ir.wav')]);
    await prepareAugmentation(t, 16000);
    const y = applyWaveform(t, Float32Array.of(1, 0, 0, 0), 16000, new Random(1));
    assert.deepEqual(Array.from(y), [0.5, 0.25, 0.125, 0]);

    const missing = augmentationFromSpec({ name: 'BackgroundNoise', paths: [join(dir, 'nope.wav')] });
    await assert.rejects(prepareAugmentation(missing, 16000), /BackgroundNoise: cannot load ".*nope\.wav"/);
    const empty = augmentationFromSpec({
      name: 'BackgroundNoise',
      folder: join(dir, 'noise'),
      extensions: ['flac'],
    });
    await assert.rejects(
      prepareAugmentation(empty, 16000),
      /BackgroundNoise: folder ".*noise" holds no audio files \(flac\)/,
    );
  });

  it('in-memory variants need no prepare and cannot be written as a spec', () => {
    const t = new ImpulseResponse({}, { clips: [Float32Array.of(1)], sampleRate: 8000 });
    assert.throws(() => t.toSpec(), /ImpulseResponse: a transform built on in-memory clips has no file spec/);
  });
});
