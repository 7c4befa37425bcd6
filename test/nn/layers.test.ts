import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import {
  AdaptiveAvgPool2d,
  AdaptiveMaxPool1d,
  AvgPool1d,
  BatchNorm1d,
  BatchNorm2d,
  Conv1d,
  Conv2d,
  Dropout,
  Dropout2d,
  Embedding,
  Flatten,
  LayerNorm,
  Linear,
  MaxPool2d,
  PReLU,
  pipe,
  Sequential,
} from '../../src/nn/index.js';
import { assertClose } from './helpers.js';

describe('BatchNorm', () => {
  test('training uses batch stats and updates running stats with momentum; eval uses running stats', () => {
    const bn = new BatchNorm1d(2, { momentum: 0.5 });
    try {
      E.tidy(() => {
        const x = E.tensor([1, 10, 3, 20, 5, 30], [3, 2]);
        const y = bn.call(x);
        // Batch mean [3, 20], biased var [8/3, 200/3]: normalised column 0 = (x − 3)/√(8/3 + eps).
        assert.ok(Math.abs(y.toArray()[0]! - -2 / Math.sqrt(8 / 3 + 1e-5)) < 1e-5);
        // running = (1 − m)·running + m·batch, with the UNBIASED variance [4, 100].
        assertClose(bn.running_mean!, E.tensor([1.5, 10]), 1e-6);
        assertClose(bn.running_var!, E.tensor([0.5 * 1 + 0.5 * 4, 0.5 * 1 + 0.5 * 100]), 1e-5);
        assert.equal(bn.num_batches_tracked!.item(), 1);
        bn.eval();
        const z = bn.call(x);
        assertClose(
          z.select(1, 0),
          E.tensor([1, 3, 5])
            .sub(1.5)
            .div(Math.sqrt(2.5 + 1e-5)),
          1e-5,
        );
        assert.equal(bn.num_batches_tracked!.item(), 1, 'eval does not count batches');
      });
    } finally {
      bn.dispose();
    }
  });

  test('momentum null gives the cumulative average of batch statistics', () => {
    const bn = new BatchNorm2d(1, { momentum: null });
    try {
      E.tidy(() => {
        bn.call(E.full([2, 1, 2, 2], 4));
        bn.call(E.full([2, 1, 2, 2], 8));
        assert.equal(bn.num_batches_tracked!.item(), 2);
        assert.ok(Math.abs(bn.running_mean!.item() - 6) < 1e-6);
      });
    } finally {
      bn.dispose();
    }
  });

  test('trackRunningStats false keeps no buffers and always uses batch stats', () => {
    const bn = new BatchNorm1d(2, { trackRunningStats: false, affine: false });
    try {
      assert.deepEqual(bn.stateDictKeys(), []);
      bn.eval();
      E.tidy(() => {
        const y = bn.call(E.tensor([1, 2, 3, 4], [2, 2]));
        assertClose(y, E.tensor([-1, -1, 1, 1], [2, 2]), 1e-4);
      });
    } finally {
      bn.dispose();
    }
  });

  test('wrong input rank or channels is a clear error', () => {
    const bn = new BatchNorm2d(3);
    try {
      assert.throws(
        () => E.tidy(() => bn.call(E.zeros([2, 4, 5, 5]))),
        /BatchNorm2d\(3\): expected input of 4 dims with 3 channels in dim 1, got \[2, 4, 5, 5\]/,
      );
    } finally {
      bn.dispose();
    }
  });
});

describe('Dropout', () => {
  test('training zeroes about p and scales the rest by 1/(1−p); eval is the identity', () => {
    const d = new Dropout(0.25);
    try {
      E.tidy(() => {
        E.manualSeed(0);
        const y = d.call(E.ones([20000])).toFloat32Array();
        const zeros = y.filter((v) => v === 0).length / y.length;
        assert.ok(Math.abs(zeros - 0.25) < 0.02, `zero fraction ${zeros}`);
        assert.ok(y.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6));
        d.eval();
        assert.ok(
          d
            .call(E.ones([100]))
            .toFloat32Array()
            .every((v) => v === 1),
        );
      });
    } finally {
      d.dispose();
    }
  });

  test('Dropout2d zeroes whole channels', () => {
    const d = new Dropout2d(0.5);
    try {
      E.tidy(() => {
        E.manualSeed(1);
        const y = d.call(E.ones([4, 16, 3, 3]));
        const perChannel = y.sum([2, 3]).toFloat32Array();
        assert.ok(perChannel.every((v) => v === 0 || Math.abs(v - 18) < 1e-4));
        assert.ok(perChannel.some((v) => v === 0) && perChannel.some((v) => v !== 0));
      });
    } finally {
      d.dispose();
    }
  });
});

describe('layers', () => {
  test('output shapes of conv, pooling, flatten, linear', () => {
    const net = new Sequential(
      new Conv2d(3, 8, [3, 5], { stride: [1, 2], padding: [1, 2] }),
      new MaxPool2d(2),
      new AdaptiveAvgPool2d([2, 3]),
      new Flatten(),
      new Linear(48, 5),
    );
    const c1 = new Conv1d(2, 6, 5, { padding: 'same', groups: 2 });
    try {
      E.tidy(() => {
        assert.deepEqual(net.call(E.randn([4, 3, 16, 20])).shape, [4, 5]);
        assert.deepEqual(c1.weight.shape, [6, 1, 5]);
        assert.deepEqual(c1.call(E.randn([2, 2, 11])).shape, [2, 6, 11]);
        assert.deepEqual(new AvgPool1d(3, { stride: 2 }).call(E.randn([1, 1, 9])).shape, [1, 1, 4]);
        assert.deepEqual(new AdaptiveMaxPool1d(1).call(E.randn([1, 2, 9])).shape, [1, 2, 1]);
      });
      assert.throws(
        () => new Conv2d(3, 4, 4, { padding: 'same', dilation: 1 }),
        /'same' needs dilation·\(kernel−1\) even/,
      );
      assert.throws(() => new Conv1d(3, 4, 3, { groups: 2 }), /groups 2 must divide in_channels 3/);
    } finally {
      net.dispose();
      c1.dispose();
    }
  });

  test('Linear computes x Wᵀ + b', () => {
    const l = new Linear(2, 1);
    try {
      E.tidy(() =>
        E.noGrad(() => {
          l.weight.copy_(E.tensor([2, -1], [1, 2]));
          l.bias!.fill_(0.5);
        }),
      );
      E.tidy(() => assert.deepEqual(l.call(E.tensor([1, 3, 4, 1], [2, 2])).toArray(), [-0.5, 7.5]));
    } finally {
      l.dispose();
    }
  });

  test('PReLU: per-channel slopes on negatives, and gradients for the slopes', () => {
    const p = new PReLU(2, 0.1);
    try {
      E.tidy(() => {
        E.noGrad(() => p.weight.copy_(E.tensor([0.1, 0.5])));
        const x = E.tensor([-2, -2, 3, -4], [1, 2, 2]);
        const y = p.call(x);
        assert.deepEqual(
          [...y.toFloat32Array()].map((v) => Math.round(v * 1e6) / 1e6),
          [-0.2, -0.2, 3, -2],
        );
        y.sum().backward();
        // d/da = sum of the negative inputs of each channel.
        assert.deepEqual(p.weight.grad!.toArray(), [-4, -4]);
      });
    } finally {
      p.dispose();
    }
  });

  test('LayerNorm normalises the last dims', () => {
    const ln = new LayerNorm(4);
    try {
      E.tidy(() => {
        const y = ln.call(E.tensor([1, 2, 3, 4, 10, 10, 10, 10], [2, 4]));
        assert.ok(Math.abs(y.mean(1).toArray()[0]!) < 1e-6);
        assert.ok(Math.abs(y.var(1, { unbiased: false }).toArray()[0]! - 1) < 1e-4);
        assert.deepEqual(y.select(0, 1).toArray(), [0, 0, 0, 0]);
      });
    } finally {
      ln.dispose();
    }
  });

  test('Embedding looks rows up and starts its padding row at zero', () => {
    const e = new Embedding(5, 3, { paddingIdx: -1 });
    try {
      E.tidy(() => {
        assert.equal(e.paddingIdx, 4);
        assert.deepEqual(e.weight.select(0, 4).toArray(), [0, 0, 0]);
        const out = e.call(E.tensor([4, 1], [2], { dtype: 'int64' }));
        assert.deepEqual(out.shape, [2, 3]);
        assertClose(out.select(0, 1), e.weight.select(0, 1), 0);
      });
    } finally {
      e.dispose();
    }
  });

  test('pipe and Sequential drop intermediates: no handle survives but the output', () => {
    const net = new Sequential(new Linear(4, 4), new Linear(4, 4), new Linear(4, 2));
    try {
      const x = E.randn([3, 4]);
      const before = E.liveTensors();
      const y = E.noGrad(() => net.call(x));
      assert.equal(E.liveTensors(), before + 1);
      const z = pipe(
        y,
        (t) => t.mul(2),
        (t) => t.add(1),
      );
      assert.equal(E.liveTensors(), before + 2);
      E.dispose([x, y, z]);
    } finally {
      net.dispose();
    }
  });
});
