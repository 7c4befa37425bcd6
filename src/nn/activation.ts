// Activation layers. PReLU has a learnt slope; the others wrap the engine's ops so they can sit in a
// Sequential.

import * as F from '../engine/functional.js';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import type { DeviceOptions } from './linear.js';
import { Module } from './module.js';

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}

export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.leakyRelu(this.negativeSlope);
  }
  protected override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}

export class GELU extends Module {
  forward(x: Tensor): Tensor {
    return x.gelu();
  }
}

export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return x.silu();
  }
}

export class ELU extends Module {
  constructor(readonly alpha = 1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.elu(this.alpha);
  }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return x.tanh();
  }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}

export class Softmax extends Module {
  constructor(readonly dim = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.softmax(this.dim);
  }
}

/**
 * max(0, x) + a·min(0, x) with a learnt `a`: one shared slope (numSlopes = 1) or one per channel (dim 1),
 * as torch.nn.PReLU.
 */
export class PReLU extends Module {
  declare weight: Tensor;
  constructor(
    readonly numSlopes = 1,
    init = 0.25,
    opts: DeviceOptions = {},
  ) {
    super();
    this.registerParameter('weight', E.full([numSlopes], init, { device: opts.device }));
  }
  forward(x: Tensor): Tensor {
    if (this.numSlopes > 1 && (x.ndim < 2 || x.shape[1] !== this.numSlopes))
      throw new Error(
        `PReLU(${this.numSlopes}): expected ${this.numSlopes} channels in dim 1, got [${x.shape.join(', ')}]`,
      );
    return F.prelu(x, this.weight);
  }
  protected override extraRepr(): string {
    return `numSlopes=${this.numSlopes}`;
  }
}
