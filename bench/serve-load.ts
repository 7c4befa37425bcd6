// Load test of `audiotag serve` on 127.0.0.1: starts the server (a child process, so its memory is
// measured alone), then for each concurrency sends `--requests` POST /v1/tag requests of a 5-s clip (a
// real FSDD recording repeated, as raw float32 PCM) with autocannon, and prints one JSON object:
// throughput, p50/p99 latency, errors and non-2xx per concurrency, and the server's RSS: before and after
// each phase, its lowest and highest, and after every tenth of the phase's requests (also printed on
// stderr as the phase goes), so a leak shows as a climb over the 10,000 requests rather than one number.
//
//   node --import tsx bench/serve-load.ts --model RUN_DIR|model.onnx [--requests 500] [--concurrency 1,8,32]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { loadAudio } from '../src/audio/index.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    requests: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '1,8,32' },
    'server-concurrency': { type: 'string', default: '2' },
    clip: { type: 'string', default: '../shared/data/fsdd/audio/3_jackson_0.wav' },
    seconds: { type: 'string', default: '5' },
  },
});
if (!values.model) {
  process.stderr.write('bench/serve-load.ts: --model RUN_DIR|model.onnx is required\n');
  process.exit(2);
}
const root = new URL('../', import.meta.url).pathname;
const a = await loadAudio(values.clip!);
const src = a.channels[0]!;
const pcm = new Float32Array(Math.round(a.sampleRate * Number(values.seconds)));
for (let i = 0; i < pcm.length; i++) pcm[i] = src[i % src.length]!;
const body = Buffer.from(pcm.buffer);

const server = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    join(root, 'src/cli/main.ts'),
    'serve',
    '--model',
    values.model,
    '--port',
    '0',
    '--concurrency',
    values['server-concurrency']!,
    '--max-waiting',
    '64',
  ],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
const url = await new Promise<string>((res, rej) => {
  let err = '';
  server.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    const m = /listening on (http:\/\/\S+)/.exec(err);
    if (m) res(m[1]!);
  });
  server.on('exit', (c) => rej(new Error(`server exited ${c}: ${err}`)));
});
const rssMb = () => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : Number.NaN;
};

const phases = [];
try {
  for (const c of values.concurrency!.split(',').map(Number)) {
    const before = rssMb();
    const samples: number[] = [];
    const amount = Number(values.requests);
    const tenth = Math.max(1, Math.floor(amount / 10));
    const t0 = Date.now();
    let done = 0;
    const job = autocannon({
      url: `${url}/v1/tag?rate=${a.sampleRate}&topK=3`,
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body,
      connections: c,
      amount,
      timeout: 60,
    });
    job.on('response', () => {
      if (++done % tenth !== 0) return;
      samples.push(rssMb());
      process.stderr.write(
        `c=${c}: ${done}/${amount} requests, ${((Date.now() - t0) / 1000).toFixed(0)} s, server RSS ${samples.at(-1)} MB\n`,
      );
    });
    const r = await job;
    const after = rssMb();
    const all = [before, ...samples, after];
    phases.push({
      concurrency: c,
      requests: r.requests.total,
      seconds: r.duration,
      throughputPerSec: Number((r.requests.total / r.duration).toFixed(1)),
      latencyMs: { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max },
      errors: r.errors,
      timeouts: r.timeouts,
      non2xx: r.non2xx,
      rssMb: {
        before,
        after,
        min: Math.min(...all),
        max: Math.max(...all),
        everyTenth: samples,
      },
    });
  }
} finally {
  server.kill('SIGTERM');
}
process.stdout.write(
  `${JSON.stringify({ model: values.model, clipSeconds: Number(values.seconds), sampleRate: a.sampleRate, phases }, null, 2)}\n`,
);
