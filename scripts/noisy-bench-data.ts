// Splits of the noisy-label benchmark (docs/noisy.md), deterministic: for ESC-10 and FSDD, a held-out test
// set (ESC-10's official fold 5; FSDD's official test split), a small curated set (N per class from the rest)
// and the pool the noisy sets are corrupted from (all other training clips). Writes <out>/<name>/{curated,
// pool,test}.csv in the fsd2019 layout. The noisy sets come from `audiotag dataset corrupt` (scripts/noisy-bench.sh).
// Usage: npx tsx scripts/noisy-bench-data.ts <out> [curatedPerClass=6] [poolPerClass=30]
import { resolve } from 'node:path';
import { Random } from '../src/core/random.js';
import { type Dataset, loadManifest } from '../src/data/index.js';
import { writeFsd2019Manifest } from '../src/noisy/manifest.js';

const out = resolve(process.argv[2] ?? 'runs/noisy-bench/data');
const perClass = Number(process.argv[3] ?? 6);
const poolPerClass = Number(process.argv[4] ?? 30);
const data = resolve('../shared/data');

function write(dir: string, name: string, d: Dataset, idx: number[]): void {
  writeFsd2019Manifest(
    `${dir}/${name}.csv`,
    idx.map((i) => ({ path: d.items[i]!.path, labels: d.items[i]!.labels })),
  );
}

function split(name: string, d: Dataset, isTest: (i: number) => boolean, seed: number): void {
  const rng = new Random(seed);
  const test: number[] = [];
  const curated: number[] = [];
  const pool: number[] = [];
  const byClass = new Map<string, number[]>();
  d.items.forEach((it, i) => {
    if (isTest(i)) test.push(i);
    else byClass.set(it.labels[0]!, [...(byClass.get(it.labels[0]!) ?? []), i]);
  });
  for (const c of d.classes) {
    const idx = rng.shuffle([...(byClass.get(c) ?? [])]);
    curated.push(...idx.slice(0, perClass));
    pool.push(...idx.slice(perClass, perClass + poolPerClass));
  }
  const dir = `${out}/${name}`;
  write(
    dir,
    'curated',
    d,
    curated.sort((a, b) => a - b),
  );
  write(
    dir,
    'pool',
    d,
    pool.sort((a, b) => a - b),
  );
  write(dir, 'test', d, test);
  process.stdout.write(`${dir}: curated ${curated.length}, pool ${pool.length}, test ${test.length}\n`);
}

const esc = (await loadManifest({ path: `${data}/esc10/meta.csv`, format: 'esc50' })).dataset;
split('esc10', esc, (i) => esc.items[i]!.fold === 5, 1);
const fsdd = (
  await loadManifest({
    path: `${data}/fsdd/meta.csv`,
    format: 'csv',
    csv: { pathCol: 'fname', labelCol: 'label' },
  })
).dataset;
split('fsdd', fsdd, (i) => fsdd.items[i]!.meta.split === 'test', 2);
