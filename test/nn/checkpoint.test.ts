import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import {
  BatchNorm1d,
  CHECKPOINT_CONFIG,
  CHECKPOINT_WEIGHTS,
  Linear,
  loadCheckpoint,
  readCheckpointConfig,
  Sequential,
  saveCheckpoint,
} from '../../src/nn/index.js';
import { assertClose } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'audiotag-ckpt-'));
after(() => rmSync(root, { recursive: true, force: true }));

const make = () => new Sequential(new Linear(4, 8), new BatchNorm1d(8), new Linear(8, 3));

describe('checkpoints', () => {
  test('save → load into a fresh model gives identical state and outputs', () => {
    const dir = join(root, 'rt');
    E.manualSeed(1);
    const a = make();
    E.manualSeed(2);
    const b = make();
    try {
      E.tidy(() => a.call(E.randn([6, 4]))); // moves BN stats and num_batches_tracked
      const info = {
        classes: ['dog', 'rain', 'siren'],
        featureConfig: { sampleRate: 32000, nMels: 64 },
        epoch: 3,
      };
      const paths = saveCheckpoint(dir, a, info);
      assert.deepEqual(
        readdirSync(dir).sort(),
        [CHECKPOINT_CONFIG, CHECKPOINT_WEIGHTS].sort(),
        'no temp files left',
      );
      assert.equal(paths.weights, join(dir, CHECKPOINT_WEIGHTS));
      const { config, metadata, tensors } = loadCheckpoint(dir, { into: b });
      assert.deepEqual(tensors, {});
      assert.equal(metadata.format, 'pt');
      assert.deepEqual(config.classes, info.classes);
      assert.deepEqual(config.featureConfig, info.featureConfig);
      assert.equal(config.epoch, 3);
      assert.equal(config.format_version, 1);
      E.tidy(() => {
        const sa = a.stateDict();
        const sb = b.stateDict();
        assert.deepEqual(Object.keys(sb), Object.keys(sa));
        for (const k of Object.keys(sa)) assert.deepEqual(E.toBytes(sb[k]!), E.toBytes(sa[k]!), k);
        a.eval();
        b.eval();
        const x = E.randn([5, 4]);
        assertClose(b.call(x), a.call(x), 0, 0);
      });
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  test('loadCheckpoint without a target returns the tensors under their names', () => {
    const dir = join(root, 'raw');
    const a = make();
    try {
      saveCheckpoint(dir, a);
      const { tensors } = loadCheckpoint(dir);
      assert.deepEqual(Object.keys(tensors), a.stateDictKeys());
      assert.equal(tensors['1.num_batches_tracked']!.dtype, 'int64');
      E.dispose(tensors);
    } finally {
      a.dispose();
    }
  });

  test('loading into a different architecture names the bad keys and leaves the model unchanged', () => {
    const dir = join(root, 'other');
    const a = make();
    const other = new Sequential(new Linear(4, 8), new BatchNorm1d(8), new Linear(8, 5));
    const before = E.tidy(() =>
      other
        .get(2)
        .call(E.ones([1, 8]))
        .toFloat32Array(),
    );
    try {
      saveCheckpoint(dir, a);
      assert.throws(
        () => loadCheckpoint(dir, { into: other }),
        /size mismatch for "2\.weight": the state dict has \[3, 8\], the model has \[5, 8\]/,
      );
      assert.deepEqual(
        E.tidy(() =>
          other
            .get(2)
            .call(E.ones([1, 8]))
            .toFloat32Array(),
        ),
        before,
      );
      const smaller = new Sequential(new Linear(4, 8));
      assert.throws(() => loadCheckpoint(dir, { into: smaller }), /unexpected keys: 1\.weight, 1\.bias/);
      const r = loadCheckpoint(dir, { into: smaller, strict: false });
      assert.deepEqual(r.tensors, {});
      smaller.dispose();
    } finally {
      a.dispose();
      other.dispose();
    }
  });

  test('missing or broken files are errors naming the file', () => {
    assert.throws(() => loadCheckpoint(join(root, 'nope')), /cannot read .*nope\/config\.json/);
    const dir = join(root, 'broken');
    const a = make();
    try {
      saveCheckpoint(dir, a);
    } finally {
      a.dispose();
    }
    writeFileSync(join(dir, CHECKPOINT_CONFIG), '{"format_version": 99}');
    assert.throws(() => readCheckpointConfig(dir), /format_version 99; this audiotag reads up to 1/);
    writeFileSync(join(dir, CHECKPOINT_CONFIG), '[1, 2]');
    assert.throws(() => readCheckpointConfig(dir), /must hold a JSON object/);
    writeFileSync(join(dir, CHECKPOINT_CONFIG), '{}');
    const w = readFileSync(join(dir, CHECKPOINT_WEIGHTS));
    writeFileSync(join(dir, CHECKPOINT_WEIGHTS), w.subarray(0, w.length - 10));
    assert.throws(() => loadCheckpoint(dir), /model\.safetensors: .*(past the data|trailing)/);
  });
});
