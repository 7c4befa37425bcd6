// Activation layers. PReLU has a learnt slope; the others wrap the engine's ops so they can sit in a
// Sequential.

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
 * max(0, x) + a·min(0, x) with a learnt `a`: one shared slope (numSlopes = 1) or one per channel
 * (dim 1). Composed from relu and clamp, which gives the same values and gradients as torch's prelu.
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
    return E.tidy(() => {
      let a = this.weight;
      if (this.numSlopes > 1) {
        if (x.ndim < 2 || x.shape[1] !== this.numSlopes)
          throw new Error(
            `PReLU(${this.numSlopes}): expected ${this.numSlopes} channels in dim 1, got [${x.shape.join(', ')}]`,
          );
        const shape = x.shape.map((d, i) => (i === 1 ? d : 1));
        a = a.reshape(shape);
      }
      return x.relu().add(x.clamp(null, 0).mul(a));
    });
  }
  protected override extraRepr(): string {
    return `numSlopes=${this.numSlopes}`;
  }
}
