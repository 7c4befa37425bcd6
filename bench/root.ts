import { fileURLToPath } from 'node:url';

/** The repository root, from bench/*.ts (sources through tsx) and from dist/bench/*.js (compiled) alike. */
export const REPO_ROOT = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '..' : '../..', import.meta.url),
);
