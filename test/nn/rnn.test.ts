import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Tensor } from '../../src/engine/index.js';
import * as E from '../../src/engine/index.js';
import { GRU, LSTM } from '../../src/nn/index.js';
import { assertClose, loadFixture } from './helpers.js';

// torch.nn.GRU(5, 4, num_layers=2, bidirectional=True, batch_first=True) and LSTM(5, 4, 2 layers,
// bidirectional, time-major), their state dicts, inputs and outputs (scripts/fixtures/nn_ref.py, rnns()).
const ref = loadFixture('rnn.safetensors');
after(() => E.dispose(ref));

function sub(prefix: string): Record<string, Tensor> {
  return Object.fromEntries(
    Object.entries(ref)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v]),
  );
}

describe('recurrent layers against PyTorch', () => {
  test('GRU: parameter names, outputs and final states (with and without h0)', () => {
    const gru = new GRU(5, 4, { numLayers: 2, bidirectional: true, batchFirst: true });
    try {
      const names = gru.stateDictKeys();
      assert.deepEqual(names, Object.keys(sub('gru.')));
      assert.deepEqual(names.slice(0, 8), [
        'weight_ih_l0',
        'weight_hh_l0',
        'bias_ih_l0',
        'bias_hh_l0',
        'weight_ih_l0_reverse',
        'weight_hh_l0_reverse',
        'bias_ih_l0_reverse',
        'bias_hh_l0_reverse',
      ]);
      gru.loadStateDict(sub('gru.'));
      gru.eval();
      E.tidy(() => {
        const a = gru.call(ref.x_bf!);
        assert.deepEqual(a.output.shape, [2, 3, 8]);
        assertClose(a.output, ref.gru_out!, 1e-6, 1e-5, 'gru output');
        assertClose(a.h, ref.gru_h!, 1e-6, 1e-5, 'gru h');
        const b = gru.call(ref.x_bf!, ref.h0!);
        assertClose(b.output, ref.gru_h0_out!, 1e-6, 1e-5, 'gru output with h0');
        assertClose(b.h, ref.gru_h0_h!, 1e-6, 1e-5, 'gru h with h0');
      });
    } finally {
      gru.dispose();
    }
  });

  test('LSTM: outputs, h and c from a given (h0, c0), time-major', () => {
    const lstm = new LSTM(5, 4, { numLayers: 2, bidirectional: true });
    try {
      lstm.loadStateDict(sub('lstm.'));
      lstm.eval();
      E.tidy(() => {
        const r = lstm.call(ref.x_tm!, [ref.h0!, ref.c0!]);
        assert.deepEqual(r.output.shape, [3, 2, 8]);
        assertClose(r.output, ref.lstm_out!, 1e-6, 1e-5, 'lstm output');
        assertClose(r.h, ref.lstm_h!, 1e-6, 1e-5, 'lstm h');
        assertClose(r.c, ref.lstm_c!, 1e-6, 1e-5, 'lstm c');
      });
    } finally {
      lstm.dispose();
    }
  });

  test('gradients reach every RNN parameter; bad input is a clear error', () => {
    const lstm = new LSTM(3, 2, { batchFirst: true, bias: false });
    try {
      assert.deepEqual(lstm.stateDictKeys(), ['weight_ih_l0', 'weight_hh_l0']);
      E.tidy(() => {
        lstm
          .call(E.randn([2, 4, 3]))
          .output.sum()
          .backward();
        for (const [k, p] of lstm.namedParameters()) assert.ok(p.grad !== null, k);
        assert.throws(
          () => lstm.call(E.randn([2, 4, 5])),
          /LSTM: expected input \[B, T, 3\], got \[2, 4, 5\]/,
        );
      });
    } finally {
      lstm.dispose();
    }
  });
});
