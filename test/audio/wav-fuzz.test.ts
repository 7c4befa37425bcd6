// Fuzzes the WAV parser with damaged copies of valid files: it must return a sane Audio or throw an
// AudioDecodeError, never hang, crash, throw anything else or return garbage (NaN, ragged channels).
// The loop runs in a worker thread: a hang is stopped after HANG_MS and fails the test.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { AudioDecodeError, decodeWav, encodeWav } from '../../src/audio/browser.js';
import { Random } from '../../src/core/random.js';
import { startWorker } from '../../src/core/worker-thread.js';
import { chunk, FSDD_WAV, floatBytes, fmtBody, pcm16, riff, testSignal } from './helpers.js';

function seeds(): Uint8Array[] {
  const sig = testSignal(40, 3, 3);
  const vals = Array.from({ length: 30 }, (_, i) => ((i * 2311) % 65536) - 32768);
  return [
    encodeWav({ sampleRate: 8000, channels: [sig[0]!] }),
    encodeWav({ sampleRate: 44100, channels: sig.slice(0, 2) }, { format: 'float32' }),
    encodeWav({ sampleRate: 48000, channels: sig }, { format: 'pcm16' }),
    riff([
      chunk('JUNK', new Uint8Array(5)),
      chunk(
        'fmt ',
        fmtBody({ tag: 1, channels: 2, rate: 96000, bits: 32, ext: { validBits: 24, subTag: 1 } }),
      ),
      chunk('LIST', new TextEncoder().encode('INFOabc')),
      chunk('data', pcm16(vals)),
    ]),
    riff([
      chunk('fmt ', fmtBody({ tag: 3, channels: 1, rate: 8000, bits: 64 })),
      chunk('data', floatBytes([0.1, -0.2, 0.3], 64)),
    ]),
    riff([
      chunk('fmt ', fmtBody({ tag: 1, channels: 1, rate: 8000, bits: 24 })),
      chunk('data', new Uint8Array(33)),
    ]),
    riff([
      chunk('fmt ', fmtBody({ tag: 6, channels: 1, rate: 8000, bits: 8 })),
      chunk('data', new Uint8Array(17).fill(0x55)),
    ]),
    riff([
      chunk('fmt ', fmtBody({ tag: 1, channels: 1, rate: 8000, bits: 8 })),
      chunk('data', new Uint8Array(9).fill(200)),
    ]),
    riff(
      [
        chunk('ds64', new Uint8Array(28)),
        chunk('fmt ', fmtBody({ tag: 1, channels: 1, rate: 8000, bits: 16 })),
        chunk('data', pcm16(vals), { size: 0xffffffff }),
      ],
      { container: 'RF64' },
    ),
    new Uint8Array(readFileSync(FSDD_WAV)).subarray(0, 600),
  ];
}

const EXTREMES = [0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0x10000, 0xffff];

function mutate(src: Uint8Array, rng: Random): Uint8Array {
  let b = src.slice();
  const kind = rng.int(0, 5);
  if (kind === 0 || kind === 4) {
    const flips = rng.int(1, 9);
    for (let i = 0; i < flips; i++) b[rng.int(0, b.length)] = rng.int(0, 256);
  }
  if (kind === 1 || kind === 4) b = b.slice(0, rng.int(0, b.length + 1));
  if (kind === 2) {
    // An extreme value in one of the header's size/count fields.
    const at = 4 * rng.int(0, Math.min(b.length, 80) >> 2);
    const v = rng.choice(EXTREMES);
    const view = new DataView(b.buffer);
    if (at + 4 <= b.length) view.setUint32(at, v, true);
  }
  if (kind === 3) {
    // Random bytes inserted (shifts every chunk after them).
    const at = rng.int(0, b.length + 1);
    const junk = Uint8Array.from({ length: rng.int(1, 12) }, () => rng.int(0, 256));
    const out = new Uint8Array(b.length + junk.length);
    out.set(b.subarray(0, at));
    out.set(junk, at);
    out.set(b.subarray(at), at + junk.length);
    b = out;
  }
  return b;
}

const ITERATIONS = 4000;
const SEED = 20240503;
/** A hang fails the test after this long (the whole loop takes about a second). */
const HANG_MS = 60_000;

/** The fuzz loop; posts the iteration it is on, so a hang can be named. */
function fuzz(iterations: number, onIteration: (it: number) => void): { decoded: number; rejected: number } {
  const rng = new Random(SEED);
  const base = seeds();
  for (const s of base) decodeWav(s, 'seed'); // every seed is valid to begin with
  let decoded = 0;
  let rejected = 0;
  for (let it = 0; it < iterations; it++) {
    const bytes = mutate(rng.choice(base), rng);
    onIteration(it);
    let audio: ReturnType<typeof decodeWav>;
    try {
      audio = decodeWav(bytes, `fuzz#${it}`);
    } catch (err) {
      if (!(err instanceof AudioDecodeError))
        assert.fail(`iteration ${it}: threw ${String(err)} (bytes ${Buffer.from(bytes).toString('hex')})`);
      assert.ok(err.message.startsWith(`fuzz#${it}: `) && err.problem.length > 0, err.message);
      rejected++;
      continue;
    }
    decoded++;
    assert.ok(
      audio.sampleRate > 0 && Number.isInteger(audio.sampleRate),
      `iteration ${it}: rate ${audio.sampleRate}`,
    );
    assert.ok(audio.channels.length >= 1, `iteration ${it}: no channels`);
    const n = audio.channels[0]!.length;
    assert.ok(n >= 1 && n <= bytes.length, `iteration ${it}: ${n} frames from ${bytes.length} bytes`);
    for (const ch of audio.channels) {
      assert.equal(ch.length, n, `iteration ${it}: ragged channels`);
      for (const v of ch) if (!Number.isFinite(v)) assert.fail(`iteration ${it}: non-finite sample ${v}`);
    }
  }
  return { decoded, rejected };
}

type FromFuzz = { type: 'at'; it: number } | { type: 'done'; decoded: number; rejected: number };

if (!isMainThread && workerData?.fuzz) {
  // The loop runs in a worker so that a parser stuck in an endless loop can be stopped and reported.
  const r = fuzz(ITERATIONS, (it) => {
    if (it % 50 === 0) parentPort!.postMessage({ type: 'at', it } satisfies FromFuzz);
  });
  parentPort!.postMessage({ type: 'done', ...r } satisfies FromFuzz);
} else {
  test('fuzz: damaged WAV files decode sanely or throw AudioDecodeError', async () => {
    const worker = startWorker(import.meta.url, 'wav-fuzz.test', { workerData: { fuzz: true } });
    let at = -1;
    try {
      const r = await new Promise<{ decoded: number; rejected: number }>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `the parser did not finish within ${HANG_MS / 1000} s: stuck after iteration ${at} ` +
                  `(the mutations follow Random(${SEED}); iterations are reported every 50)`,
              ),
            ),
          HANG_MS,
        );
        worker.on('message', (m: FromFuzz) => {
          if (m.type === 'at') at = m.it;
          else {
            clearTimeout(timer);
            resolve(m);
          }
        });
        worker.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
        worker.on('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`fuzz worker exited with code ${code}`));
        });
      });
      // Both outcomes must be common, or the mutations are not exercising the parser.
      assert.ok(
        r.decoded > ITERATIONS / 10 && r.rejected > ITERATIONS / 10,
        `decoded ${r.decoded}, rejected ${r.rejected}`,
      );
    } finally {
      await worker.terminate();
    }
  });
}
