// Node only. Starts a worker thread on a module that sits beside the caller, whether the caller runs
// compiled (dist/…/x.js) or from the TypeScript sources under tsx.
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A Worker running `<name>.js` (compiled) or `<name>.ts` (sources) from the folder of `callerUrl`
 * (pass `import.meta.url`). Sources go through a tiny bootstrap that registers tsx's ESM hooks inside
 * the worker first, because Node 20 workers do not inherit the parent's module hooks.
 */
export function startWorker(callerUrl: string, name: string, options: WorkerOptions = {}): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl), options);
  const api = import.meta.resolve('tsx/esm/api');
  const entry = new URL(`./${name}.ts`, callerUrl).href;
  const script = `import(${JSON.stringify(api)})
  .then((m) => { m.register(); return import(${JSON.stringify(entry)}); })
  .catch((e) => setImmediate(() => { throw e; }));`;
  return new Worker(script, { ...options, eval: true });
}
