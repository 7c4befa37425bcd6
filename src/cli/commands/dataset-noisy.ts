// `audiotag dataset corrupt` and `audiotag dataset mix`: benchmarks with known label noise from any
// (single-label) dataset, deterministic from a seed (docs/noisy.md). Logic in src/noisy/.
import type { Command } from 'commander';
import { CORRUPTIONS, type Corruption } from '../../noisy/labels.js';
import { UsageError } from '../errors.js';
import { parseList, parseNumber, parseSeed, requireOutputDir, requireOutputFile } from '../flags.js';
import { type ManifestFlags, manifestSpec, withManifestFlags } from '../manifest-flags.js';

interface CorruptFlags extends ManifestFlags {
  rate: string;
  seed?: string;
  out: string;
  kinds?: string;
}

interface MixFlags extends ManifestFlags {
  out: string;
  count: string;
  seed?: string;
  sources: string;
  gainDb: string;
  sampleRate: string;
}

export function addDatasetNoisy(dataset: Command): void {
  withManifestFlags(
    dataset
      .command('corrupt <manifest>')
      .description(
        "corrupt a manifest's labels at a known rate (swaps, dropped labels, false co-labels); the truth is kept beside",
      )
      .requiredOption('--rate <r>', 'share of clips whose labels are corrupted, 0..1')
      .requiredOption(
        '--out <csv>',
        'the noisy manifest: fname,labels,true_labels,corruption,<other columns>',
      )
      .option('--seed <n>', 'seed (the same seed writes the same manifest)', '0')
      .option('--kinds <list>', `corruption kinds drawn among (default all): ${CORRUPTIONS.join(',')}`),
  ).action(async (manifest: string, f: CorruptFlags) => {
    const rate = parseNumber('--rate', f.rate, { min: 0, max: 1 });
    const seed = parseSeed('--seed', f.seed);
    const kinds = parseList('--kinds', f.kinds)?.map((k) => {
      if (!(CORRUPTIONS as readonly string[]).includes(k))
        throw new UsageError(`--kinds: each kind must be one of ${CORRUPTIONS.join(', ')}, got "${k}"`);
      return k as Corruption;
    });
    requireOutputFile('--out', f.out);
    const spec = manifestSpec(manifest, f);
    const { loadManifest } = await import('../../data/index.js');
    const { corruptLabels } = await import('../../noisy/labels.js');
    const { writeFsd2019Manifest } = await import('../../noisy/manifest.js');
    const { dataset } = await loadManifest(spec);
    const out = corruptLabels(
      dataset.items.map((it) => it.labels),
      dataset.classes,
      { rate, seed, kinds },
    );
    writeFsd2019Manifest(
      f.out,
      dataset.items.map((it, i) => ({
        path: it.path,
        labels: out[i]!.labels,
        columns: {
          true_labels: out[i]!.trueLabels.join(','),
          corruption: out[i]!.corruption,
          ...Object.fromEntries(
            Object.entries(it.meta).filter(([k]) => !['true_labels', 'corruption', 'set'].includes(k)),
          ),
        },
      })),
    );
    const counts = Object.fromEntries(
      CORRUPTIONS.map((k) => [k, out.filter((o) => o.corruption === k).length]),
    );
    process.stdout.write(
      `${f.out}: ${out.length} clips, ${out.filter((o) => o.corruption !== '').length} corrupted (swap ${counts.swap}, drop ${counts.drop}, add ${counts.add}); seed ${seed}\n`,
    );
  });

  withManifestFlags(
    dataset
      .command('mix <manifest>')
      .description(
        'make multi-label clips by overlaying 1-3 clips at random gains and offsets (labels = union)',
      )
      .requiredOption(
        '--out <dir>',
        'output folder: <dir>/audio/mixNNN.wav and <dir>/mix.csv (fname,labels,sources)',
      )
      .requiredOption('--count <n>', 'number of mixtures')
      .option('--seed <n>', 'seed (the same seed writes the same files)', '0')
      .option('--sources <min-max>', 'sources per mixture', '1-3')
      .option('--gain-db <min,max>', 'peak level of each source, dBFS', '-12,0')
      .option('--sample-rate <hz>', 'sample rate of the mixtures', '16000'),
  ).action(async (manifest: string, f: MixFlags) => {
    const count = parseNumber('--count', f.count, { int: true, min: 1 });
    const seed = parseSeed('--seed', f.seed);
    const m = /^(\d+)(?:-(\d+))?$/.exec(f.sources.trim());
    if (!m) throw new UsageError(`--sources must be N or MIN-MAX (e.g. 1-3), got "${f.sources}"`);
    const minSources = Number(m[1]);
    const maxSources = Number(m[2] ?? m[1]);
    if (minSources < 1 || maxSources < minSources)
      throw new UsageError(`--sources must satisfy 1 <= MIN <= MAX, got "${f.sources}"`);
    const g = f.gainDb.split(',').map((s) => s.trim());
    if (g.length !== 2)
      throw new UsageError(`--gain-db must be MIN,MAX in dB (e.g. -12,0), got "${f.gainDb}"`);
    const gainDb: [number, number] = [parseNumber('--gain-db', g[0]!), parseNumber('--gain-db', g[1]!)];
    if (gainDb[0] > gainDb[1]) throw new UsageError(`--gain-db must have MIN <= MAX, got "${f.gainDb}"`);
    const sampleRate = parseNumber('--sample-rate', f.sampleRate, { int: true, min: 1000 });
    requireOutputDir('--out', f.out);
    const spec = manifestSpec(manifest, f);
    const { join } = await import('node:path');
    const { loadManifest } = await import('../../data/index.js');
    const { planMixtures, writeMixtures } = await import('../../noisy/mix.js');
    const { writeFsd2019Manifest } = await import('../../noisy/manifest.js');
    const { dataset } = await loadManifest(spec);
    if (dataset.items.length < maxSources)
      throw new UsageError(
        `${manifest}: ${dataset.items.length} clip(s), fewer than --sources max ${maxSources}`,
      );
    const plan = planMixtures(dataset.items, { count, seed, minSources, maxSources, gainDb });
    const audioDir = join(f.out, 'audio');
    await writeMixtures(dataset.items, plan, audioDir, sampleRate);
    const csv = join(f.out, 'mix.csv');
    writeFsd2019Manifest(
      csv,
      plan.map((p) => ({
        path: join(audioDir, p.name),
        labels: p.labels,
        columns: {
          sources: p.sources.map((s) => `${s.id}@${s.gainDb.toFixed(1)}dB+${s.offset.toFixed(3)}`).join(' '),
        },
      })),
    );
    process.stdout.write(
      `${csv}: ${plan.length} mixtures of ${minSources}-${maxSources} clips from ${manifest}; seed ${seed}\n`,
    );
  });
}
