// Vite build of the web app (docs/serve.md, "Web app"): `npx vite build --config web/vite.config.ts` or
// `npm run build:web` writes web/dist/, which `audiotag serve` serves at `/` and which also works as a
// static site (relative base, hash routes). onnxruntime-web's wasm runtime is self-hosted under ort/
// (no CDN): the files are copied from node_modules at build time and served from there in dev.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** The onnxruntime-web files the app loads at run time (the CPU/wasm execution provider). */
export const ORT_FILES = ['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.mjs'];

function ortDist(): string {
  // The package's `require` entry is dist/ort.min.js (its exports hide package.json).
  return dirname(require.resolve('onnxruntime-web'));
}

/** Copies onnxruntime-web's wasm files into the build as ort/<file>, and serves them there in dev. */
function selfHostOrt(): Plugin {
  return {
    name: 'audiotag-self-host-ort',
    generateBundle() {
      for (const f of ORT_FILES)
        this.emitFile({ type: 'asset', fileName: `ort/${f}`, source: readFileSync(join(ortDist(), f)) });
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const m = /^\/ort\/([\w.-]+)$/.exec((req.url ?? '').split('?')[0]!);
        if (!m || !ORT_FILES.includes(m[1]!)) return next();
        res.setHeader('Content-Type', m[1]!.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
        res.end(readFileSync(join(ortDist(), m[1]!)));
      });
    },
  };
}

export default defineConfig({
  root: here,
  base: './',
  resolve: {
    // onnxruntime-web's builds without an embedded wasm URL: it loads ort/ (ort.env.wasm.wasmPaths), so
    // the 14 MB runtime is in the build once.
    conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions],
    // The toolkit's browser-safe code, straight from its TypeScript sources.
    alias: {
      'audiotag/features': join(here, '../src/features/index.ts'),
      'audiotag/audio': join(here, '../src/audio/browser.ts'),
    },
  },
  build: {
    outDir: join(here, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
  },
  // `npm run dev:web`: the API of a running `audiotag serve` (AUDIOTAG_API, default 127.0.0.1:8080).
  server: {
    proxy: { '/v1': process.env.AUDIOTAG_API ?? 'http://127.0.0.1:8080' },
  },
  worker: { format: 'es' },
  plugins: [selfHostOrt()],
});
