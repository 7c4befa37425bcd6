// Dropout and Dropout2d (torch.nn.modules.dropout): identity in eval, random zeroing in training.

import * as F from '../engine/functional.js';
import type { Tensor } from '../engine/index.js';
import { Module } from './module.js';

function checkP(p: number, name: string): number {
  if (!(p >= 0 && p <= 1)) throw new Error(`${name}: p must be in [0, 1], got ${p}`);
  return p;
}

/** Zeroes elements with probability p in training and scales the rest by 1/(1−p); identity in eval. */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    checkP(p, 'Dropout');
  }
  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training);
  }
  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/** Zeroes whole channels ([B, C, H, W] → per (b, c)) with probability p in training. */
export class Dropout2d extends Module {
  constructor(readonly p = 0.5) {
    super();
    checkP(p, 'Dropout2d');
  }
  forward(x: Tensor): Tensor {
    return F.dropout2d(x, this.p, this.training);
  }
  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}
