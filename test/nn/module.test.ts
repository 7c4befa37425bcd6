import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Tensor } from '../../src/engine/index.js';
import * as E from '../../src/engine/index.js';
import {
  BatchNorm1d,
  BatchNorm2d,
  Conv2d,
  Dropout,
  Linear,
  Module,
  ModuleList,
  ReLU,
  Sequential,
} from '../../src/nn/index.js';

class Block extends Module {
  // Fields are discovered in declaration order, whatever the order of construction.
  readonly fc: Linear;
  readonly bn: BatchNorm1d;
  constructor() {
    super();
    this.bn = new BatchNorm1d(3);
    this.fc = new Linear(4, 3);
  }
  forward(x: Tensor): Tensor {
    return this.bn.call(this.fc.call(x));
  }
}

class Net extends Module {
  declare scale: Tensor;
  declare stats: Tensor;
  readonly blocks = new ModuleList([new Block(), new Block()]);
  readonly seq = new Sequential(new Linear(3, 2, { bias: false }), new ReLU());
  constructor() {
    super();
    this.registerParameter('scale', E.ones([1]));
    this.registerBuffer('stats', E.zeros([2]), { persistent: false });
  }
  forward(x: Tensor): Tensor {
    return E.tidy(() => this.seq.call(this.blocks.get(0).call(x)).mul(this.scale));
  }
}

function withNet(fn: (n: Net) => void) {
  const before = E.liveTensors();
  const n = new Net();
  try {
    fn(n);
  } finally {
    n.dispose();
  }
  assert.equal(E.liveTensors(), before, 'every tensor freed after dispose()');
}

describe('Module', () => {
  test('state dict keys follow PyTorch: own params, own buffers, then children in order', () => {
    withNet((n) => {
      assert.deepEqual(n.stateDictKeys(), [
        'scale',
        'blocks.0.fc.weight',
        'blocks.0.fc.bias',
        'blocks.0.bn.weight',
        'blocks.0.bn.bias',
        'blocks.0.bn.running_mean',
        'blocks.0.bn.running_var',
        'blocks.0.bn.num_batches_tracked',
        'blocks.1.fc.weight',
        'blocks.1.fc.bias',
        'blocks.1.bn.weight',
        'blocks.1.bn.bias',
        'blocks.1.bn.running_mean',
        'blocks.1.bn.running_var',
        'blocks.1.bn.num_batches_tracked',
        'seq.0.weight',
      ]);
      // Non-persistent buffers are buffers but not state.
      assert.ok(n.namedBuffers().some(([k]) => k === 'stats'));
      assert.equal(n.namedParameters().length, 10);
      assert.equal(n.numParameters(), 1 + 2 * (12 + 3 + 3 + 3) + 6);
      assert.deepEqual(
        n.namedChildren().map(([k]) => k),
        ['blocks', 'seq'],
      );
      assert.equal(n.namedModules().length, 1 + 1 + 2 * 3 + 3);
    });
  });

  test('stateDict returns detached handles the caller may dispose; num_batches_tracked is int64', () => {
    withNet((n) => {
      const sd = n.stateDict();
      assert.equal(sd['blocks.0.bn.num_batches_tracked']!.dtype, 'int64');
      assert.equal(sd['blocks.0.fc.weight']!.requiresGrad, false);
      assert.equal(n.blocks.get(0).fc.weight.requiresGrad, true);
      E.dispose(sd);
      assert.equal(n.blocks.get(0).fc.weight.disposed, false);
    });
  });

  test('loadStateDict copies values and reports missing and unexpected keys', () => {
    withNet((a) =>
      withNet((b) => {
        E.tidy(() => {
          const sd = a.stateDict();
          b.loadStateDict(sd);
          for (const [k, t] of Object.entries(b.stateDict()))
            assert.deepEqual(E.toBytes(t), E.toBytes(sd[k]!), k);
          // Copies, not aliases: changing a does not change b.
          E.noGrad(() => a.scale.fill_(5));
          assert.equal(b.scale.item(), 1);

          const partial = { ...sd };
          delete partial['seq.0.weight'];
          partial['extra.weight'] = E.zeros([1]);
          assert.throws(
            () => b.loadStateDict(partial),
            (e: Error) =>
              /cannot load into Net/.test(e.message) &&
              /missing keys: seq\.0\.weight/.test(e.message) &&
              /unexpected keys: extra\.weight/.test(e.message),
          );
          const r = b.loadStateDict(partial, { strict: false });
          assert.deepEqual(r, { missingKeys: ['seq.0.weight'], unexpectedKeys: ['extra.weight'] });
        });
      }),
    );
  });

  test('a shape mismatch fails even when not strict, and nothing is copied', () => {
    withNet((n) =>
      E.tidy(() => {
        const sd = n.stateDict();
        const before = n.blocks.get(0).fc.weight.toFloat32Array();
        const bad = { ...sd, 'blocks.0.fc.weight': E.zeros([3, 4]), 'seq.0.weight': E.zeros([2, 5]) };
        assert.throws(
          () => n.loadStateDict(bad, { strict: false }),
          /size mismatch for "seq\.0\.weight": the state dict has \[2, 5\], the model has \[2, 3\]/,
        );
        assert.deepEqual(n.blocks.get(0).fc.weight.toFloat32Array(), before);
      }),
    );
  });

  test('train()/eval() reach every module; freeze()/unfreeze() toggle requiresGrad', () => {
    withNet((n) => {
      n.eval();
      assert.ok(n.modules().every((m) => !m.training));
      n.train();
      assert.ok(n.modules().every((m) => m.training));
      n.blocks.get(0).freeze();
      assert.equal(n.numParameters({ trainableOnly: true }), n.numParameters() - 21);
      assert.equal(n.trainableParameters().length, 10 - 4);
      n.unfreeze();
      assert.equal(n.numParameters({ trainableOnly: true }), n.numParameters());
    });
  });

  test('to(dtype) casts floating tensors only and keeps requiresGrad', () => {
    withNet((n) => {
      n.to('float64');
      assert.equal(n.blocks.get(0).fc.weight.dtype, 'float64');
      assert.equal(n.blocks.get(0).fc.weight.requiresGrad, true);
      assert.equal(n.blocks.get(0).bn.running_mean!.dtype, 'float64');
      assert.equal(n.blocks.get(0).bn.num_batches_tracked!.dtype, 'int64');
      E.tidy(() => {
        const y = n.call(E.randn([5, 4], { dtype: 'float64' }));
        assert.equal(y.dtype, 'float64');
      });
      n.to('cpu'); // already there: nothing replaced
      assert.equal(n.device, 'cpu');
    });
  });

  test('gradients flow to every parameter used', () => {
    withNet((n) => {
      E.tidy(() => {
        n.call(E.randn([5, 4]))
          .sum()
          .backward();
        for (const [k, p] of n.namedParameters()) {
          const used = !k.startsWith('blocks.1');
          assert.equal(p.grad !== null, used, k);
        }
        n.zeroGrad();
        assert.ok(n.parameters().every((p) => p.grad === null));
      });
    });
  });

  test('registration errors name the problem', () => {
    class Bad extends Module {
      forward(x: Tensor) {
        return x;
      }
    }
    const m = new Bad();
    assert.throws(() => m.registerParameter('a.b', null), /"a\.b" must be non-empty and contain no "\."/);
    m.registerBuffer('x', null);
    assert.throws(() => m.registerParameter('x', null), /"x" is already registered as another kind/);
    assert.throws(() => {
      (m as unknown as { x: unknown }).x = 3;
    }, /Bad\.x: a buffer must be a Tensor or null/);
    m.dispose();
    assert.throws(() => m.call(E.zeros([1])), /module used after dispose/);
  });

  test('modules created inside tidy keep their parameters', () => {
    const m = E.tidy(() => new Conv2d(1, 2, 3));
    try {
      assert.equal(m.weight.disposed, false);
      assert.deepEqual(m.weight.shape, [2, 1, 3, 3]);
    } finally {
      m.dispose();
    }
  });

  test('toString shows the tree', () => {
    const s = new Sequential(new Linear(2, 3), new Dropout(0.1), new BatchNorm2d(3));
    try {
      assert.match(
        s.toString(),
        /Sequential\(\n {2}\(0\): Linear\(in=2, out=3, bias=true\)\n {2}\(1\): Dropout\(p=0\.1\)/,
      );
    } finally {
      s.dispose();
    }
  });

  test('a shared sub-module is one set of parameters but appears under both names in the state dict', () => {
    class Tied extends Module {
      readonly a = new Linear(2, 2, { bias: false });
      readonly b = this.a;
      forward(x: Tensor) {
        return this.b.call(this.a.call(x));
      }
    }
    const m = new Tied();
    try {
      assert.deepEqual(
        m.namedParameters().map(([k]) => k),
        ['a.weight'],
      );
      assert.deepEqual(m.stateDictKeys(), ['a.weight', 'b.weight']);
      assert.equal(m.numParameters(), 4);
    } finally {
      m.dispose();
    }
  });
});
