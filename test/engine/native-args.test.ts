// The addon's own guard: every exported function, called with wrong or missing arguments (bypassing
// the TypeScript checks), throws an EngineError naming itself — it never aborts the process.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { N } from '../../src/engine/native.js';

E.setNumThreads(1);

// Process-wide switches would leak into later tests; their argument checks are covered elsewhere.
const SKIP = new Set(['setErrorClass', 'setNumThreads', 'setGradEnabled', 'manualSeed']);

test('every native function turns bad arguments into an EngineError', () => {
  const t = E.ones([2, 2]);
  const h = (N as unknown as Record<string, unknown>).zeros;
  assert.equal(typeof h, 'function');
  const handle = N.ones([2, 2], 0, 'cpu');
  const disposedHandle = N.ones([1], 0, 'cpu');
  N.dispose(disposedHandle);
  const patterns: unknown[][] = [
    [],
    [undefined, undefined, undefined, undefined],
    [1, 2, 3, 4, 5],
    ['x', 'y'],
    [{}, [], null],
    [[1, 2], [3], 'cpu'],
    [handle, 'x', {}, [], 1.5],
    [handle, handle, handle, 'nope', -1, 1e300, true, true, true],
    [disposedHandle, disposedHandle],
    [t, t],
  ];
  const names = Object.keys(N).filter(
    (k) => typeof (N as unknown as Record<string, unknown>)[k] === 'function',
  );
  assert.ok(names.length > 150, `only ${names.length} native functions`);
  let refused = 0;
  for (const name of names) {
    if (SKIP.has(name)) continue;
    const fn = (N as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!;
    for (const args of patterns) {
      try {
        fn(...args);
      } catch (e) {
        refused++;
        assert.ok(e instanceof E.EngineError, `${name}(${args.length} args) threw ${String(e)}`);
        assert.ok((e as Error).message.startsWith(`${name}: `), `${name}: message "${(e as Error).message}"`);
      }
    }
  }
  assert.ok(refused > names.length * 5, `only ${refused} calls were refused`);
  N.dispose(handle);
  t.dispose();
});
