// Training/inference speed of the engine against PyTorch eager, in several settings at once: each
// variant runs in its own process (allocator settings are fixed when a process starts), and the
// variants rotate in every round so that load from other processes on the machine hits all alike.
// One JSON line per run (with the 1-minute load average when it started), then one summary line per
// variant: the median over rounds of the median step, and samples/s relative to the first torch variant.
//
//   npx tsx bench/engine-speed.ts --mode train --size 64 --batch 32 --steps 4 --threads 2 --rounds 3 \
//     --variants ours,ours:malloc=default,torch,torch:malloc=keep
//
// Variants: `ours` (audiotag bench <mode>) or `torch` (bench/peers/torch_cnn.py, Debian's python3), then
// `:`-separated settings:
//   malloc=default   ours: AUDIOTAG_MALLOC=default (libtorch's allocator, glibc defaults);
//                    glibc-keep: only glibc's thresholds raised (no caching allocator)
//   malloc=keep      torch: MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_/MALLOC_TOP_PAD_ set high (as the check)
//   omp=default      ours: libgomp's default spin-waiting (AUDIOTAG_OMP_WAIT=default)
//   omp=passive      torch: OMP_WAIT_POLICY=passive
//   cl               channels-last weights and input (ours trains channels-last by default; infer does not)
//   contig           ours: contiguous (NCHW) weights and input, the trainer's layout before channels-last
//   bf16             forward under bfloat16 autocast
//   direct           ours: libtorch's direct convolutions (--conv-algorithm direct; Winograd is ours' default)
//   threads=N        this variant with N intra-op threads instead of --threads

import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './root.js';

const { values: a } = parseArgs({
  options: {
    mode: { type: 'string', default: 'train' },
    model: { type: 'string', default: 'cnn-model-1' },
    batch: { type: 'string', default: '32' },
    size: { type: 'string', default: '64' },
    steps: { type: 'string', default: '4' },
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    variants: { type: 'string', default: 'ours,ours:malloc=default,torch,torch:malloc=keep' },
  },
});

interface Run {
  variant: string;
  load_1m: number;
  threads: number;
  samples_per_s: number;
  ms_per_step: number;
  cpu_ms_per_step: number;
  sys_ms_per_step?: number;
  minflt_per_step?: number;
  max_rss_mb?: number;
}

const KEEP = {
  MALLOC_MMAP_THRESHOLD_: '4294967296',
  MALLOC_TRIM_THRESHOLD_: '4294967296',
  MALLOC_TOP_PAD_: '1073741824',
};

function runVariant(v: string): Run {
  const [who, ...settings] = v.split(':');
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Neither side inherits this process's engine defaults (tsx loaded no engine here, but be explicit).
  delete env.OMP_WAIT_POLICY;
  const extra: string[] = [];
  let threads = a.threads!;
  for (const s of settings) {
    const [k, val] = s.split('=');
    if (k === 'malloc' && who === 'ours') env.AUDIOTAG_MALLOC = val;
    else if (k === 'malloc' && val === 'keep') Object.assign(env, KEEP);
    else if (k === 'omp' && who === 'ours' && val === 'default') env.AUDIOTAG_OMP_WAIT = 'default';
    else if (k === 'omp') env.OMP_WAIT_POLICY = val;
    else if (k === 'cl') extra.push('--memory-format', 'channels-last');
    else if (k === 'contig') extra.push('--memory-format', 'contiguous');
    else if (k === 'threads') threads = val!;
    else if (k === 'bf16') extra.push('--precision', 'bf16');
    else if (k === 'direct' && who === 'ours') extra.push('--conv-algorithm', 'direct');
    else throw new Error(`engine-speed: unknown setting "${s}" in variant "${v}"`);
  }
  const common = ['--batch', a.batch!, '--size', a.size!, '--steps', a.steps!, '--threads', threads];
  let cmd: string;
  let args: string[];
  if (who === 'ours') {
    cmd = join(REPO_ROOT, 'bin', 'audiotag');
    args = ['bench', a.mode!, '--model', a.model!, ...common, ...extra, '--json'];
  } else if (who === 'torch') {
    cmd = process.env.AUDIOTAG_PYTHON ?? '/usr/bin/python3';
    args = [join(REPO_ROOT, 'bench', 'peers', 'torch_cnn.py'), '--mode', a.mode!, ...common, ...extra];
  } else throw new Error(`engine-speed: a variant starts with ours or torch, got "${v}"`);
  const load = loadavg()[0]!;
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', cwd: REPO_ROOT });
  if (r.status !== 0)
    throw new Error(`engine-speed: ${v} failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const o = JSON.parse(r.stdout.trim().split('\n').pop()!) as Run;
  return { ...o, variant: v, load_1m: Math.round(load * 10) / 10 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const variants = a.variants!.split(',').map((s) => s.trim());
const runs = new Map<string, Run[]>(variants.map((v) => [v, []]));
for (let i = 0; i < Number(a.rounds); i++) {
  // rotate the order each round
  const order = variants.map((_, j) => variants[(j + i) % variants.length]!);
  for (const v of order) {
    const r = runVariant(v);
    runs.get(v)!.push(r);
    process.stdout.write(`${JSON.stringify(r)}\n`);
  }
}
const ref = variants.find((v) => v.startsWith('torch'));
const refMs = ref ? median(runs.get(ref)!.map((r) => r.ms_per_step)) : undefined;
for (const v of variants) {
  const rs = runs.get(v)!;
  const ms = median(rs.map((r) => r.ms_per_step));
  process.stdout.write(
    `${JSON.stringify({
      summary: v,
      mode: a.mode,
      size: Number(a.size),
      batch: Number(a.batch),
      threads: rs[0]?.threads ?? Number(a.threads),
      rounds: rs.length,
      ms_per_step: ms,
      cpu_ms_per_step: median(rs.map((r) => r.cpu_ms_per_step)),
      sys_ms_per_step: median(rs.map((r) => r.sys_ms_per_step ?? 0)),
      minflt_per_step: median(rs.map((r) => r.minflt_per_step ?? 0)),
      max_rss_mb: Math.max(...rs.map((r) => r.max_rss_mb ?? 0)),
      speed_vs_ref: refMs ? Math.round((refMs / ms) * 100) / 100 : null,
      ref,
      load_1m: rs.map((r) => r.load_1m),
    })}\n`,
  );
}
