// Where the app runs: under `audiotag serve` (the API answers) or as a static site (no API; only the
// in-browser parts work). Also the API key field's value and the self-hosted onnxruntime-web path.

let apiKey = sessionStorage.getItem('audiotag.apiKey') ?? '';

export function setApiKey(k: string): void {
  apiKey = k;
  sessionStorage.setItem('audiotag.apiKey', k);
}
export function getApiKey(): string {
  return apiKey;
}

/** Headers for /v1 requests (the API key when one is set). */
export function apiHeaders(): Record<string, string> {
  return apiKey ? { 'x-api-key': apiKey } : {};
}

/** A URL of the API, relative to the page (works when the app is served at `/` or below). */
export function apiUrl(path: string): string {
  return new URL(path.replace(/^\//, ''), document.baseURI).href;
}

/**
 * Absolute URL of the folder holding onnxruntime-web's wasm files in this build (`ort/`, copied by
 * web/vite.config.ts). Set `ort.env.wasm.wasmPaths` to it (pass it to a worker as a string: workers have
 * no document).
 */
export function ortWasmBase(): string {
  return new URL('ort/', document.baseURI).href;
}

export interface ModelInfo {
  id: string;
  name: string;
  classes: string[];
  sampleRate: number;
  windowSeconds: number;
  hopSeconds: number;
  members: { label: string; sed: boolean }[];
  /** Routes of this model (present when the server has them). */
  onnxUrl?: string;
  reportUrl?: string;
}

export type ServerState =
  | { kind: 'server'; models: ModelInfo[] }
  | { kind: 'static'; reason: string }
  | { kind: 'locked'; reason: string };

let cached: Promise<ServerState> | undefined;

/** Asks /v1/models once: a server with models, a static site (no API), or an API that wants a key. */
export function serverState(refresh = false): Promise<ServerState> {
  if (!cached || refresh)
    cached = (async (): Promise<ServerState> => {
      try {
        const r = await fetch(apiUrl('v1/models'), { headers: apiHeaders() });
        if (r.status === 401) return { kind: 'locked', reason: 'the server needs an API key' };
        const type = r.headers.get('content-type') ?? '';
        if (!r.ok || !type.includes('json'))
          return { kind: 'static', reason: `no API at ${apiUrl('v1/models')} (HTTP ${r.status})` };
        const j = (await r.json()) as { models: ModelInfo[] };
        return { kind: 'server', models: j.models };
      } catch (e) {
        return { kind: 'static', reason: `no API reachable (${(e as Error).message})` };
      }
    })();
  return cached;
}
