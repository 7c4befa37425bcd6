// Node only. Starts a worker thread on a module that sits beside the caller, whether the caller runs
// compiled (dist/…/x.js) or from the TypeScript sources under tsx. Warnings the worker's code gives through
// core/log reach the parent's logger (a worker has its own module instances, so its own silent logger).
import { MessageChannel, Worker, type WorkerOptions } from 'node:worker_threads';
import { warnOnce } from './log.js';

/**
 * A Worker running `<name>.js` (compiled) or `<name>.ts` (sources) from the folder of `callerUrl`
 * (pass `import.meta.url`). A tiny bootstrap first points the worker's logger at the parent's (the same
 * warning from several workers is shown once) and, for sources, registers tsx's ESM hooks, because
 * Node 20 workers do not inherit the parent's module hooks.
 */
export function startWorker(callerUrl: string, name: string, options: WorkerOptions = {}): Worker {
  const fromSource = callerUrl.endsWith('.ts');
  const entry = new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, callerUrl).href;
  const log = new URL(`./log.${fromSource ? 'ts' : 'js'}`, import.meta.url).href;
  const { port1, port2 } = new MessageChannel();
  port1.on('message', (m: { warn?: string }) => {
    if (typeof m.warn === 'string') warnOnce(m.warn, m.warn);
  });
  port1.unref();
  const hooks = fromSource
    ? `const m = await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}); m.register();`
    : '';
  const script = `(async () => {
    ${hooks}
    const { workerData } = await import('node:worker_threads');
    const log = await import(${JSON.stringify(log)});
    const port = workerData.__logPort;
    log.setLogger({ warn: (m) => port.postMessage({ warn: m }), info() {} });
    await import(${JSON.stringify(entry)});
  })().catch((e) => setImmediate(() => { throw e; }));`;
  const workerData = { ...(options.workerData as object | undefined), __logPort: port2 };
  return new Worker(script, {
    ...options,
    eval: true,
    workerData,
    transferList: [...(options.transferList ?? []), port2],
  });
}
