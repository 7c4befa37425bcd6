// The per-kind recipes shipped in configs/kinds/ (docs/accuracy.md): `audiotag train --config speech`
// reads configs/kinds/speech.yaml of the installed package, so a user needs no copy of the repository.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../core/package-root.js';

function kindsDir(): string | null {
  const root = packageRoot();
  return root === null ? null : join(root, 'configs', 'kinds');
}

/** The recipe kinds shipped with the package (speech, environmental, instruments, general). */
export function recipeKinds(): string[] {
  const dir = kindsDir();
  if (dir === null || !existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/** The shipped recipe file of a kind, or null when `name` is not one. */
export function recipeKindPath(name: string): string | null {
  const dir = kindsDir();
  return dir !== null && recipeKinds().includes(name) ? join(dir, `${name}.yaml`) : null;
}
