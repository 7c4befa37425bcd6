// Pooling and Flatten: layers without parameters, so they can sit in a Sequential (dropout is in dropout.ts).

import * as F from '../engine/functional.js';
import type { Tensor } from '../engine/index.js';
import { Module } from './module.js';

type Size = number | [number, number];

export interface PoolOptions<S> {
  /** Defaults to the kernel size, as in PyTorch. */
  stride?: S;
  padding?: S;
  ceilMode?: boolean;
}

abstract class PoolBase<S extends Size> extends Module {
  constructor(
    readonly kernelSize: S,
    readonly opts: PoolOptions<S> = {},
  ) {
    super();
  }
  protected args() {
    return {
      kernelSize: this.kernelSize,
      stride: this.opts.stride ?? this.kernelSize,
      padding: this.opts.padding ?? 0,
      ceilMode: this.opts.ceilMode ?? false,
    };
  }
  protected override extraRepr(): string {
    const a = this.args();
    return `kernel=${JSON.stringify(a.kernelSize)}, stride=${JSON.stringify(a.stride)}, padding=${JSON.stringify(a.padding)}`;
  }
}

export class MaxPool1d extends PoolBase<number> {
  forward(x: Tensor): Tensor {
    return F.maxPool1d(x, this.args());
  }
}

export class MaxPool2d extends PoolBase<Size> {
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.args());
  }
}

export class AvgPool1d extends PoolBase<number> {
  forward(x: Tensor): Tensor {
    return F.avgPool1d(x, this.args());
  }
}

export class AvgPool2d extends PoolBase<Size> {
  forward(x: Tensor): Tensor {
    return F.avgPool2d(x, this.args());
  }
}

abstract class AdaptiveBase<S> extends Module {
  constructor(readonly outputSize: S) {
    super();
  }
  protected override extraRepr(): string {
    return `outputSize=${JSON.stringify(this.outputSize)}`;
  }
}

export class AdaptiveAvgPool1d extends AdaptiveBase<number> {
  forward(x: Tensor): Tensor {
    return F.adaptiveAvgPool1d(x, this.outputSize);
  }
}

export class AdaptiveAvgPool2d extends AdaptiveBase<Size> {
  forward(x: Tensor): Tensor {
    return F.adaptiveAvgPool2d(x, this.outputSize);
  }
}

export class AdaptiveMaxPool1d extends AdaptiveBase<number> {
  forward(x: Tensor): Tensor {
    return F.adaptiveMaxPool1d(x, this.outputSize);
  }
}

export class AdaptiveMaxPool2d extends AdaptiveBase<Size> {
  forward(x: Tensor): Tensor {
    return F.adaptiveMaxPool2d(x, this.outputSize);
  }
}

/** Flattens dims startDim..endDim into one (default: everything but the batch). */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
}
