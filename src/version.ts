import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// package.json is one folder up from src/ and two from dist/src/.
const candidates = ['../package.json', '../../package.json'].map((p) =>
  fileURLToPath(new URL(p, import.meta.url)),
);
const pkgPath = candidates.find(
  (p) => existsSync(p) && JSON.parse(readFileSync(p, 'utf8')).name === 'audiotag',
);

/** The package version, read from package.json so there is one source of truth. */
export const VERSION: string = pkgPath
  ? (JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string }).version
  : '0.0.0';
