// src/features must run in the browser: no Node built-ins (node:*, fs, path, …), no Node globals
// (process, Buffer, require, __dirname), in any file outside src/features/node/, nor in anything those
// files import (followed transitively, e.g. into src/audio/browser.ts and src/core).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const FEATURES = join(SRC, 'features');
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const IMPORT =
  /(?:^|[^\w.])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;
const GLOBALS = /\b(process\.|Buffer\b|require\(|__dirname|__filename)/;

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return d.name === 'node' ? [] : walk(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** Problems in one file: Node imports or globals (comments stripped first). */
export function problems(file: string, code: string): { imports: string[]; bad: string[] } {
  const src = code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const imports: string[] = [];
  const bad: string[] = [];
  for (const m of src.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3]!;
    if (spec.startsWith('.')) imports.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
    else if (BUILTINS.has(spec) || spec.startsWith('node:')) bad.push(`imports ${spec}`);
  }
  const g = GLOBALS.exec(src);
  if (g) bad.push(`uses ${g[1]}`);
  return { imports, bad };
}

test('the scanner itself catches Node imports and globals', () => {
  assert.deepEqual(problems('/x/a.ts', "import { readFileSync } from 'node:fs';").bad, ['imports node:fs']);
  assert.deepEqual(problems('/x/a.ts', "import * as p from 'path';\n").bad, ['imports path']);
  assert.deepEqual(problems('/x/a.ts', "const w = await import('worker_threads');").bad, [
    'imports worker_threads',
  ]);
  assert.deepEqual(problems('/x/a.ts', 'const n = process.env.X;').bad, ['uses process.']);
  assert.deepEqual(problems('/x/a.ts', "// import x from 'node:fs'\nconst a = 1;").bad, []);
  assert.deepEqual(problems('/x/a.ts', "import { z } from 'zod';").bad, []);
});

test('src/features (outside node/) and everything it imports is browser-safe', () => {
  const files = walk(FEATURES);
  assert.ok(files.length >= 10, `only ${files.length} files found under ${FEATURES}`);
  const seen = new Set<string>();
  const queue = [...files];
  const errors: string[] = [];
  while (queue.length > 0) {
    const f = queue.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const rel = relative(SRC, f);
    if (rel.startsWith(`features${'/'}node`)) {
      errors.push(`${rel} is Node-only but is imported from the browser-safe code`);
      continue;
    }
    if (/^audio\/(index|io)\.ts$/.test(rel))
      errors.push(`${rel} (Node audio I/O) is imported; use audio/browser.ts`);
    const { imports, bad } = problems(f, readFileSync(f, 'utf8'));
    for (const b of bad) errors.push(`${rel} ${b}`);
    queue.push(...imports);
  }
  assert.deepEqual(errors, []);
  assert.ok(seen.has(join(SRC, 'audio', 'browser.ts')), 'computeFeatures should reach src/audio/browser.ts');
});
