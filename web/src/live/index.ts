// STUB written by the web-app scaffold so the live page builds; the live helper replaces this file with
// the real pipeline (getUserMedia → AudioWorklet ring buffer → Worker running onnxruntime-web).
// Contract: mountLive(container, { modelUrl, classes }) draws into `container` and may return a function
// that stops everything (called when the user leaves the page). onnxruntime-web's wasm files are
// self-hosted: use ortWasmBase() from ../env.js for ort.env.wasm.wasmPaths.
export interface LiveOptions {
  /** Absolute URL of the exported ONNX model with its front-end in the graph. */
  modelUrl: string;
  classes: string[];
}

export async function mountLive(container: HTMLElement, opts: LiveOptions): Promise<() => void> {
  const p = document.createElement('p');
  p.textContent = `Live tagging is not built yet (model ${opts.modelUrl}, ${opts.classes.length} classes).`;
  container.append(p);
  return () => {};
}
