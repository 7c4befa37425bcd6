// The `labels` section of the train config (src/train/config.ts): co-occurrence soft relabelling,
// distillation targets and sample weights, applied to the training items (src/noisy/labels.ts).
// Kept engine-free so reading a config needs no libtorch.
import { z } from 'zod';

export const labelsSchema = z.strictObject({
  cooccurrence: z
    .strictObject({ weight: z.number().min(0).max(1) })
    .nullable()
    .default(null)
    .describe(
      'Soft targets (1 − weight)·y + weight·mean over the clip labels i of P(class | i), P counted over the training items; null: hard labels.',
    ),
  distill: z
    .strictObject({
      teacher: z.string().min(1),
      alpha: z.number().min(0).max(1).default(0.5),
      temperature: z.number().positive().default(1),
    })
    .nullable()
    .default(null)
    .describe(
      'Teacher soft predictions: a scores CSV (fname + one column per class, e.g. a run oof.csv); items it lists get alpha·labels + (1 − alpha)·teacher tempered by temperature.',
    ),
  weights: z
    .strictObject({
      column: z.string().min(1),
      values: z.record(z.string(), z.number().min(0)),
      default: z.number().min(0).default(1),
    })
    .nullable()
    .default(null)
    .describe(
      'Sample weights by a manifest column: set (curated / noisy), manually_verified (Freesound 2018)...',
    ),
});

export type LabelsConfig = z.output<typeof labelsSchema>;
