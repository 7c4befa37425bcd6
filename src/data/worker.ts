// Worker-thread entry of the batch loader (loader.ts starts it). Messages are handled one at a time, in
// arrival order, so a worker never holds more than one batch in the making; finished batches go back
// with their buffers transferred (no copy on the main thread).
import { parentPort, workerData } from 'node:worker_threads';
import { type CoreInit, LoaderCore } from './worker-core.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

const port = parentPort!;
const core = new LoaderCore((workerData as { init: CoreInit }).init, true);

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

let chain: Promise<void> = core.prepare().then(
  () => port.postMessage({ type: 'ready' } satisfies FromWorker),
  (e) => port.postMessage({ type: 'init-error', message: message(e) } satisfies FromWorker),
);

async function handle(m: ToWorker): Promise<void> {
  if (m.type === 'store') {
    core.setStore(m.store);
    return;
  }
  try {
    if (m.type === 'compute') {
      const r = await core.compute(m.clip);
      // The data lives in a SharedArrayBuffer: posting shares it, nothing is copied.
      port.postMessage({ type: 'computed', id: m.id, data: r.data, shape: r.shape } satisfies FromWorker);
    } else {
      const r = await core.build(m.task);
      const reply: FromWorker = { type: 'batch', id: m.id, result: r };
      port.postMessage(reply, [
        r.inputs.buffer as ArrayBuffer,
        r.targets.buffer as ArrayBuffer,
        r.offsets.buffer as ArrayBuffer,
      ]);
    }
  } catch (e) {
    port.postMessage({ type: 'failed', id: m.id, message: message(e) } satisfies FromWorker);
  }
}

port.on('message', (m: ToWorker) => {
  chain = chain.then(() => handle(m));
});
