// Exponential moving average of a model's weights (Polyak averaging, as timm's ModelEmaV2): a second copy
// of the model whose floating-point state follows the trained one, e ← d·e + (1 − d)·w after each
// optimiser step. It usually validates better than the raw weights late in training, so when enabled
// the trainer validates and checkpoints the EMA copy.
import * as E from '../engine/index.js';
import type { AnyModule } from '../nn/module.js';

export interface EmaOptions {
  /** Decay per update (0.999 typical; smaller follows faster). */
  decay: number;
  /** Ramp the decay as min(decay, (1 + n) / (10 + n)) over the first updates, so early weights fade fast. */
  warmup?: boolean;
}

export class ModelEma {
  readonly decay: number;
  readonly warmup: boolean;
  /** Updates applied so far (part of the resume state). */
  updates = 0;
  private readonly pairs: [E.Tensor, E.Tensor][];

  /**
   * `copy` must be a model of the same architecture as `model` (e.g. a second createModel); it is
   * overwritten with `model`'s state now and owned by the caller (dispose it when done).
   */
  constructor(
    readonly model: AnyModule,
    readonly copy: AnyModule,
    opts: EmaOptions,
  ) {
    if (!(opts.decay >= 0 && opts.decay < 1))
      throw new Error(`ema: decay must be in [0, 1), got ${opts.decay}`);
    this.decay = opts.decay;
    this.warmup = opts.warmup ?? false;
    E.tidy(() => copy.loadStateDict(model.stateDict()));
    copy.eval();
    for (const p of copy.parameters()) p.requiresGrad = false;
    const src = new Map([...model.namedParameters(), ...model.namedBuffers()]);
    this.pairs = [...copy.namedParameters(), ...copy.namedBuffers()].map(([k, t]) => {
      const s = src.get(k);
      if (!s) throw new Error(`ema: the copy has "${k}", the model does not`);
      return [t, s];
    });
  }

  /** The decay the next update will use. */
  currentDecay(): number {
    return this.warmup ? Math.min(this.decay, (1 + this.updates) / (10 + this.updates)) : this.decay;
  }

  /** One update after an optimiser step. Integer buffers (BatchNorm's step counter) are copied. */
  update(): void {
    const d = this.currentDecay();
    E.noGrad(() =>
      E.tidy(() => {
        for (const [e, w] of this.pairs) {
          if (
            w.dtype === 'float32' ||
            w.dtype === 'float64' ||
            w.dtype === 'float16' ||
            w.dtype === 'bfloat16'
          )
            e.mul_(d).add_(w, 1 - d);
          else e.copy_(w);
        }
      }),
    );
    this.updates++;
  }
}
