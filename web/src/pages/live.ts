// The live microphone page: the model choice and layout here; the pipeline (getUserMedia → AudioWorklet →
// Web Worker running the exported ONNX model in onnxruntime-web) is web/src/live/ (mountLive). The model
// comes from GET /v1/models/:id/model.onnx (exported with its front-end by the server), or, on the static
// site, from an exported model.onnx file picked here (audiotag export --frontend).
import { apiHeaders, apiUrl, getApiKey, serverState } from '../env.js';
import { mountLive } from '../live/index.js';
import { apiKeyNote, el } from '../ui.js';

/** The classes an exported model lists in its metadata (loaded only on the static site). */
async function classesOf(f: File): Promise<string[]> {
  const [{ decodeModel }, { metaFromProps }] = await Promise.all([
    import('../../../src/export/onnx-builder.js'),
    import('../../../src/export/meta.js'),
  ]);
  let props: Record<string, string>;
  try {
    props = Object.fromEntries(
      decodeModel(new Uint8Array(await f.arrayBuffer())).metadataProps.map((p) => [p.key, p.value]),
    );
  } catch (e) {
    throw new Error(`${f.name}: not an ONNX model (${(e as Error).message})`);
  }
  return metaFromProps(props, f.name).classes;
}

export async function showLive(root: HTMLElement): Promise<() => void> {
  root.append(el('h1', {}, 'Live microphone'));
  root.append(
    el(
      'p',
      {},
      'Everything runs in this browser: the microphone audio never leaves it. Press Start and allow the microphone; the current top tags and a scrolling spectrogram follow.',
    ),
  );
  const slot = el('section', { id: 'live-slot', class: 'live-slot', 'aria-label': 'Live tagging' });
  const s = await serverState();
  const stops: (() => void)[] = [];
  const urls: string[] = [];
  const mount = (modelUrl: string, classes: string[]) => {
    for (const stop of stops.splice(0)) stop();
    slot.replaceChildren();
    stops.push(mountLive(slot, { modelUrl, classes }));
  };

  if (s.kind === 'server' && s.models.length > 0) {
    const m = s.models[0]!;
    root.append(el('p', { id: 'live-model' }, `Model ${m.name}: ${m.classes.length} classes.`), slot);
    let modelUrl = apiUrl(m.onnxUrl ?? `v1/models/${encodeURIComponent(m.id)}/model.onnx`);
    if (getApiKey()) {
      // The worker fetches a URL without our headers: hand it the model as a blob URL instead.
      const r = await fetch(modelUrl, { headers: apiHeaders() });
      if (!r.ok) {
        slot.append(el('p', { class: 'err', role: 'alert' }, `Model download failed: HTTP ${r.status}`));
        return () => {};
      }
      modelUrl = URL.createObjectURL(await r.blob());
      urls.push(modelUrl);
    }
    mount(modelUrl, m.classes);
  } else if (s.kind === 'locked') {
    root.append(apiKeyNote());
  } else {
    // Static site: the user picks an exported model; its classes are in its metadata (the live code reads them).
    const input = el('input', { id: 'onnx-file', type: 'file', accept: '.onnx' });
    root.append(
      el(
        'p',
        { class: 'note' },
        'No tagging server here (static site). Pick a model exported with its front-end (audiotag export RUN_DIR --frontend --out model.onnx); it is loaded in this browser only.',
      ),
      el('p', {}, el('label', { for: 'onnx-file' }, 'Exported model (.onnx) '), input),
      slot,
    );
    input.addEventListener('change', async () => {
      const f = input.files?.[0];
      if (!f) return;
      let classes: string[];
      try {
        classes = await classesOf(f);
      } catch (e) {
        slot.replaceChildren(el('p', { class: 'err', role: 'alert' }, (e as Error).message));
        return;
      }
      const url = URL.createObjectURL(f);
      urls.push(url);
      mount(url, classes);
    });
  }
  return () => {
    for (const stop of stops) stop();
    for (const u of urls) URL.revokeObjectURL(u);
  };
}
