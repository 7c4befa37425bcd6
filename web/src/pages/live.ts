// The live microphone page: layout and model choice here; the pipeline (getUserMedia → AudioWorklet →
// Web Worker running the exported ONNX model in onnxruntime-web) is web/src/live/ (mountLive).
import { serverState } from '../env.js';
import { mountLive } from '../live/index.js';
import { el } from '../ui.js';

export async function showLive(root: HTMLElement): Promise<() => void> {
  root.append(el('h1', {}, 'Live microphone'));
  const s = await serverState();
  const slot = el('section', { id: 'live-slot', 'aria-label': 'Live tagging' });
  if (s.kind !== 'server' || s.models.length === 0) {
    root.append(
      el(
        'p',
        { class: 'note' },
        'Live tagging runs in the browser, but it needs the exported model: open this app from `audiotag serve` (it serves the model at /v1/models/ID/model.onnx).',
      ),
    );
    return () => {};
  }
  const m = s.models[0]!;
  root.append(el('p', {}, `Model ${m.name}: ${m.classes.length} classes, scored in this browser.`), slot);
  const stop = await mountLive(slot, {
    modelUrl: new URL(m.onnxUrl ?? `v1/models/${encodeURIComponent(m.id)}/model.onnx`, document.baseURI).href,
    classes: m.classes,
  });
  return typeof stop === 'function' ? stop : () => {};
}
