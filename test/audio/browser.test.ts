// src/audio/browser.ts must stay loadable in a browser: nothing it reaches may import a Node module.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { ROOT } from './helpers.js';

function reachable(entry: string, seen = new Map<string, string>()): Map<string, string> {
  if (seen.has(entry)) return seen;
  const text = readFileSync(entry, 'utf8');
  seen.set(entry, text);
  for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)) {
    const spec = m[1]!;
    if (spec.startsWith('.')) reachable(resolve(dirname(entry), spec.replace(/\.js$/, '.ts')), seen);
  }
  return seen;
}

test('browser.ts reaches no node: or bare-package import', () => {
  const files = reachable(join(ROOT, 'src', 'audio', 'browser.ts'));
  assert.ok(files.size >= 6, `only ${[...files.keys()].join(', ')}`);
  for (const [file, text] of files) {
    for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g))
      assert.ok(m[1]!.startsWith('.'), `${file} imports ${m[1]}`);
    assert.doesNotMatch(text, /\bprocess\.|\brequire\(|\bBuffer\b/, file);
  }
  // io.ts is the Node side and must not be reachable.
  assert.ok(![...files.keys()].some((f) => f.endsWith('io.ts')));
});
