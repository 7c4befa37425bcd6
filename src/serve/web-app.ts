// The web app's side of the server (docs/serve.md, "Web app"): the built files of web/ (web/dist, Vite)
// at `/`, or the basic page with a notice when the build is missing; and per model the routes its pages
// use: the exported ONNX model with its feature front-end (live page, onnxruntime-web), and the training
// report's data, charts (SVG, drawn by src/report when the run trained) and page. Files are served only
// from lists made on the server (the build's files, the run's chart names): never a path from a request.
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Tagger } from '../infer/tagger.js';
import { webPage } from './web-page.js';

export interface WebAppOptions {
  /** The built web app (default: web/dist of the package). */
  webDir?: string;
  /** The --model argument: a run directory or an exported .onnx file. */
  modelPath?: string;
  /** Label of the model. */
  modelName?: string;
}

/** web/dist of this package, from src/serve (tsx) or dist/src/serve (compiled). */
export function defaultWebDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'web')))
      return join(dir, 'web', 'dist');
    dir = dirname(dir);
  }
  return resolve('web', 'dist');
}

/** A URL-safe id of the served model: the run directory's (or .onnx file's) name. */
export function modelId(modelPath: string | undefined, name: string): string {
  const base = modelPath ? basename(resolve(modelPath)).replace(/\.onnx$/i, '') : name;
  const id = base.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '');
  return id.slice(0, 64) || 'model';
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

/** Every file under dir, as URL path (`/assets/x.js`) → absolute file. */
function listFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.set(`/${relative(dir, p).split(sep).join('/')}`, p);
    }
  };
  walk(dir);
  return out;
}

/** Titles of the charts the training report draws (charts/<name>.svg); others keep their name. */
const CHART_TITLES: Record<string, string> = {
  confusion: 'Confusion matrix (counts; rows: true class, columns: predicted class)',
  'confusion-normalised': 'Confusion matrix normalised by the true class',
  pr: 'Precision-recall curves per class',
  roc: 'ROC curves per class',
  calibration: 'Calibration of the scores',
  loss: 'Loss per epoch (solid: train, dashed: validation)',
  metrics: 'Validation metrics per epoch',
  lr: 'Learning rate per epoch',
  embeddings: 'Validation embeddings of each fold (UMAP map, coloured by class)',
};
const CHART_ORDER = Object.keys(CHART_TITLES);

class NotFound extends Error {
  readonly statusCode = 404;
}
class Conflict extends Error {
  readonly statusCode = 409;
}

export function registerWebApp(app: FastifyInstance, tagger: Tagger, o: WebAppOptions): void {
  const webDir = o.webDir ?? defaultWebDir();
  const name = o.modelName ?? tagger.models[0]!.label;
  const id = modelId(o.modelPath, name);
  const modelPath = o.modelPath ? resolve(o.modelPath) : undefined;
  const isOnnx = modelPath !== undefined && extname(modelPath).toLowerCase() === '.onnx';
  const runDir = modelPath && !isOnnx && statSync(modelPath).isDirectory() ? modelPath : undefined;
  const base = `/v1/models/${id}`;

  // ---- the built app, or the basic page with a notice ----
  const index = join(webDir, 'index.html');
  if (existsSync(index)) {
    const files = listFiles(webDir);
    for (const [url, file] of files) {
      const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
      // Vite's hashed assets never change under one name; everything else is revalidated.
      const cache = url.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
      app.get(url, async (_req, reply) => {
        reply.type(type).header('cache-control', cache);
        return createReadStream(file);
      });
    }
    app.get('/', async (_req, reply) => {
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache');
      return createReadStream(index);
    });
  } else {
    const notice = `The web app is not built (${index} is missing): run "npm run build:web" or "make web" in the audiotag folder and restart the server. This basic page still tags files.`;
    app.get('/', async (_req, reply) => {
      reply.type('text/html; charset=utf-8');
      return webPage(notice);
    });
  }

  // ---- per-model routes ----
  const idParams = {
    type: 'object',
    additionalProperties: false,
    properties: { id: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' } },
    required: ['id'],
  } as const;
  const checkId = (given: string) => {
    if (given !== id)
      throw new NotFound(`no model "${given}": this server serves "${id}" (see GET /v1/models)`);
  };

  let onnx: Promise<Uint8Array> | undefined;
  /** The model as ONNX with the feature front-end in the graph, exported once and kept. */
  const onnxBytes = (): Promise<Uint8Array> => {
    onnx ??= (async () => {
      if (isOnnx) {
        const bytes = new Uint8Array(readFileSync(modelPath!));
        const { readExportMeta } = await import('../export/onnx-runtime.js');
        if (!readExportMeta(bytes, basename(modelPath!)).frontend)
          throw new Conflict(
            `${basename(modelPath!)} takes features, not audio: the live page needs a model exported with its feature front-end in the graph (docs/export.md)`,
          );
        return bytes;
      }
      if (!runDir)
        throw new Conflict('the server was started without a run directory or .onnx file to export');
      const { exportRun } = await import('../export/export.js');
      try {
        return exportRun(runDir, { allFolds: true, frontend: true }).bytes;
      } catch (e) {
        throw new Conflict(`${id} cannot be exported with its front-end: ${(e as Error).message}`);
      }
    })();
    onnx.catch(() => {
      onnx = undefined;
    });
    return onnx;
  };

  const chartsDir = runDir ? join(runDir, 'charts') : undefined;
  const chartNames = (): string[] => {
    if (!chartsDir || !existsSync(chartsDir)) return [];
    const names = readdirSync(chartsDir)
      .filter((f) => /^[a-z0-9-]+\.svg$/.test(f))
      .map((f) => f.slice(0, -4));
    const rank = (n: string) => (CHART_ORDER.includes(n) ? CHART_ORDER.indexOf(n) : CHART_ORDER.length);
    return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  };
  // Generated files, but served with scripts off all the same.
  const csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; media-src 'self'";

  app.get(`/v1/models/:id/model.onnx`, { schema: { params: idParams } }, async (req, reply) => {
    checkId((req.params as { id: string }).id);
    const bytes = await onnxBytes();
    reply
      .type('application/octet-stream')
      .header('content-disposition', `attachment; filename="${id}.onnx"`)
      .header('cache-control', 'no-cache');
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  });

  app.get(`/v1/models/:id/report`, { schema: { params: idParams } }, async (req) => {
    checkId((req.params as { id: string }).id);
    const metricsFile = runDir ? join(runDir, 'metrics.json') : undefined;
    const metrics =
      metricsFile && existsSync(metricsFile)
        ? (JSON.parse(readFileSync(metricsFile, 'utf8')) as unknown)
        : null;
    const hasReport = runDir !== undefined && existsSync(join(runDir, 'report.html'));
    return {
      id,
      name,
      classes: tagger.classes,
      source: isOnnx ? 'onnx' : runDir ? 'run' : 'unknown',
      metrics,
      charts: chartNames().map((c) => ({
        name: c,
        title: CHART_TITLES[c] ?? c,
        url: `${base}/charts/${c}.svg`,
      })),
      reportUrl: hasReport ? `${base}/report.html` : null,
      onnxUrl: `${base}/model.onnx`,
      note: runDir
        ? hasReport
          ? null
          : `${runDir} has no report.html: it was trained before reports were written`
        : 'an exported .onnx file carries no training report; serve the run directory to see one',
    };
  });

  app.get(
    `/v1/models/:id/charts/:chart`,
    {
      schema: {
        params: {
          type: 'object',
          additionalProperties: false,
          properties: {
            id: idParams.properties.id,
            chart: { type: 'string', pattern: '^[a-z0-9-]{1,64}\\.svg$' },
          },
          required: ['id', 'chart'],
        },
      },
    },
    async (req, reply) => {
      const p = req.params as { id: string; chart: string };
      checkId(p.id);
      const chart = p.chart.slice(0, -4);
      if (!chartNames().includes(chart))
        throw new NotFound(
          `no chart "${chart}" in the training report of ${id} (have: ${chartNames().join(', ') || 'none'})`,
        );
      reply.type('image/svg+xml').header('content-security-policy', csp).header('cache-control', 'no-cache');
      return readFileSync(join(chartsDir!, `${chart}.svg`));
    },
  );

  app.get(`/v1/models/:id/report.html`, { schema: { params: idParams } }, async (req, reply) => {
    checkId((req.params as { id: string }).id);
    const file = runDir ? join(runDir, 'report.html') : undefined;
    if (!file || !existsSync(file)) throw new NotFound(`${id} has no training report (report.html)`);
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', csp)
      .header('cache-control', 'no-cache');
    return readFileSync(file);
  });
}

/** The extra fields of a model in GET /v1/models: its id and the routes of the web app. */
export function modelLinks(
  tagger: Tagger,
  o: WebAppOptions,
): { id: string; onnxUrl: string; reportUrl: string } {
  const id = modelId(o.modelPath, o.modelName ?? tagger.models[0]!.label);
  return { id, onnxUrl: `/v1/models/${id}/model.onnx`, reportUrl: `/v1/models/${id}/report` };
}
