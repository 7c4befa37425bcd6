// Regenerates the config references in docs/train.md and docs/features.md (between their markers) from
// the zod schemas. Run: npx tsx scripts/gen-config-docs.ts   (test/train/config-docs.test.ts fails while
// a file is stale)
import { readFileSync, writeFileSync } from 'node:fs';
import { GENERATED_SECTIONS, withSection } from '../src/train/config-docs.js';

for (const section of GENERATED_SECTIONS) {
  const path = new URL(`../${section.file}`, import.meta.url);
  const before = readFileSync(path, 'utf8');
  const after = withSection(before, section);
  if (after === before) console.log(`${section.file}: up to date`);
  else {
    writeFileSync(path, after);
    console.log(`${section.file}: reference rewritten`);
  }
}
