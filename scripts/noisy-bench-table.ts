// The table of the noisy-label benchmark (docs/noisy.md) from the results scripts/noisy-bench.sh wrote:
// dataset × noise rate × method → test lwlrap, mean ± std over the folds (each fold's model, or its ensemble
// of stages), the per-fold values and the lwlrap of all folds' models averaged. Missing runs are listed.
// Usage: npx tsx scripts/noisy-bench-table.ts [out=runs/noisy-bench]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PipelineResult } from '../src/pipelines/recipes.js';

const out = process.argv[2] ?? 'runs/noisy-bench';
const METHODS: [string, string][] = [
  ['curated', 'curated only'],
  ['union', 'curated + noisy as is'],
  ['warmup', 'warm-up pipeline (ensemble of stages 2-4)'],
  ['warmup:stage2', 'noisy pre-training → curated fine-tuning (warm-up stage 2)'],
  ['warmup:stage3', 'warm-up stage 3 alone (curated + selected noisy)'],
  ['warmup:stage4', 'warm-up stage 4 alone'],
  ['soft', 'curated + noisy, co-occurrence soft labels (weight 0.3)'],
  ['weights', 'curated + noisy, noisy sample weight 0.3'],
  ['mix', 'curated mixed with noisy (MixWithNoisy p 0.5)'],
  ['distill', 'curated + noisy, distilled from the warm-up ensemble (alpha 0.5, T 2)'],
];
const f4 = (v: number) => v.toFixed(4);
const lines = [
  '| dataset | noise | method | test lwlrap (mean ± std, 3 folds) | per fold | all folds averaged |',
  '|---|---|---|---|---|---|',
];
const missing: string[] = [];
const notes: string[] = [];
for (const d of ['esc10', 'fsdd'])
  for (const r of ['30', '50'])
    for (const [m, label] of METHODS) {
      const [name, stage] = m.split(':') as [string, string | undefined];
      const dir = name === 'curated' ? join(out, d, 'curated') : join(out, d, `${name}-${r}`);
      const p = join(dir, 'results.json');
      if (!existsSync(p)) {
        missing.push(`${d} ${r} % ${m}`);
        continue;
      }
      const res = JSON.parse(readFileSync(p, 'utf8')) as PipelineResult;
      const s = stage ? res.stages.find((x) => x.stage === stage)?.test?.lwlrap : res.test?.lwlrap;
      if (!s) continue;
      const all = stage ? '–' : f4(res.testAllFolds?.lwlrap ?? Number.NaN);
      lines.push(
        `| ${d} | ${r} % | ${label} | ${f4(s.mean)} ± ${f4(s.std)} | ${s.per_fold.map(f4).join(', ')} | ${all} |`,
      );
      if (name === 'warmup' && !stage)
        for (const [st, v] of Object.entries(res.selections))
          notes.push(
            `- ${d}, ${r} %: ${st} kept ${v.kept} of ${v.noisy} noisy clips` +
              (v.correct !== null
                ? `, ${v.correct} of them with exactly the true labels (${((100 * v.correct) / Math.max(1, v.kept)).toFixed(1)} %)`
                : ''),
          );
    }
process.stdout.write(`${lines.join('\n')}\n`);
if (notes.length > 0) process.stdout.write(`\nWarm-up selections:\n${notes.join('\n')}\n`);
if (missing.length > 0) process.stdout.write(`\nNot finished: ${missing.join('; ')}\n`);
