// Regenerates the config reference in docs/train.md (between its markers) from the zod schemas.
// Run: npx tsx scripts/gen-config-docs.ts   (test/train/config-docs.test.ts fails while the file is stale)
import { readFileSync, writeFileSync } from 'node:fs';
import { withConfigReference } from '../src/train/config-docs.js';

const path = new URL('../docs/train.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = withConfigReference(before);
if (after === before) console.log('docs/train.md: up to date');
else {
  writeFileSync(path, after);
  console.log('docs/train.md: config reference rewritten');
}
