// docs/augment.md keeps in step with the registry: every registered transform has a row in the tables,
// and every option key of its schema (besides p) is named in that row (or in the rows of the transforms it
// says it takes its options from, as "Mixup's and SpecMix's options").
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { z } from 'zod';
import { augmentationNames, registryEntry } from '../../src/augment/index.js';

const DOC = new URL('../../docs/augment.md', import.meta.url);

function optionKeys(schema: z.ZodType): string[] {
  // biome-ignore lint/suspicious/noExplicitAny: zod's internal definition is read for its shape
  let def = (schema as any)._zod.def;
  while (!def.shape && (def.in || def.innerType)) def = (def.in ?? def.innerType)._zod.def;
  return Object.keys(def.shape ?? {}).filter((k) => k !== 'p');
}

test('docs/augment.md has a row for every registered transform naming each of its options', () => {
  const lines = readFileSync(DOC, 'utf8').split('\n');
  const rowOf = (name: string) => lines.find((l) => l.startsWith(`| \`${name}\` `));
  const problems: string[] = [];
  for (const name of augmentationNames()) {
    const entry = registryEntry(name);
    if (!entry) continue; // Compose, OneOf, SomeOf: documented under Composition
    const row = rowOf(name);
    if (!row) {
      problems.push(`${name}: no row`);
      continue;
    }
    const borrowed = [...row.matchAll(/(\w+)'s\b/g)].map((m) => rowOf(m[1]!) ?? '').join(' ');
    const missing = optionKeys(entry.schema).filter((k) => !`${row} ${borrowed}`.includes(`\`${k}\``));
    if (missing.length > 0) problems.push(`${name}: ${missing.join(', ')} not in its row`);
  }
  assert.deepEqual(problems, [], 'update the tables of docs/augment.md');
});
