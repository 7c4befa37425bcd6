// The built web app (web/dist) for the browser tests: built with Vite when it is missing or older than a
// file under web/ (`make setup` builds it; this keeps a test run after an edit honest). A build goes to a
// folder of its own and is then renamed into place, so two test files building at once never see a
// half-emptied web/dist.
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const WEB = new URL('../../web/', import.meta.url).pathname;
export const WEB_DIST = join(WEB, 'dist');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'dist' || e.name.startsWith('.dist-') || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** web/dist, built now if missing or stale. */
export async function ensureWebBuild(): Promise<string> {
  const index = join(WEB_DIST, 'index.html');
  if (!existsSync(index) || statSync(index).mtimeMs < newest(WEB)) {
    const { build } = await import('vite');
    const tmp = join(WEB, `.dist-${process.pid}`);
    await build({ configFile: join(WEB, 'vite.config.ts'), logLevel: 'warn', build: { outDir: tmp } });
    const old = join(WEB, `.dist-old-${process.pid}`);
    try {
      renameSync(WEB_DIST, old);
    } catch {
      // none yet, or another build just moved it
    }
    renameSync(tmp, WEB_DIST);
    rmSync(old, { recursive: true, force: true });
  }
  return WEB_DIST;
}
