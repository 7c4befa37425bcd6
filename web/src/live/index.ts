// Live microphone tagging, entirely in the browser:
//   getUserMedia → AudioWorklet (worklet.ts: ring buffer of the last window at the AudioContext's rate,
//   which is the model's rate when the browser allows it) → Web Worker (worker.ts: the exported ONNX model
//   with its front-end, in onnxruntime-web's wasm backend) → the current top tags, every `hopSeconds`;
//   an AnalyserNode feeds a scrolling spectrogram on a canvas.
//
//   const live = mountLive(container, { modelUrl, classes });   // the Start button drives it; or:
//   await live.start(); …; await live.stop(); live();            // calling it removes everything
import './live.css';
import { ortWasmBase } from '../env.js';
import type { LiveModelInfo, WorkerIn, WorkerOut } from './worker.js';
import workletUrl from './worklet.ts?worker&url';

export interface LiveOptions {
  /** URL of the model exported with its front-end (`audiotag export --frontend`). */
  modelUrl: string;
  /** The model's classes (shown before the model has loaded; checked against its metadata). */
  classes: string[];
  /** Seconds between scored windows (default 0.5). */
  hopSeconds?: number;
  /** Tags listed (default 3). */
  topK?: number;
  /** "Hearing" shows the class with the best mean score over this many seconds of windows (default 3). */
  smoothSeconds?: number;
  /**
   * 'model' (default): run the AudioContext at the model's sample rate when the browser allows it
   * (the worker then needs no resampling); 'device': the browser's own rate, resampled in the worker.
   * Default: 'device' when the page's URL has `?live-rate=device`, else 'model'.
   */
  contextRate?: 'model' | 'device';
}

export interface LiveTag {
  label: string;
  score: number;
}

/** Calling it stops the microphone and removes the section and its worker (the page's cleanup). */
export interface LiveController {
  (): void;
  /** Asks for the microphone and starts tagging (resolves when audio flows). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The latest top tags (empty before the first window). */
  top(): LiveTag[];
}

/** Colour of a spectrogram cell from 0 (quiet) to 1 (loud): dark blue → teal → yellow. */
function heat(v: number): [number, number, number] {
  const t = Math.min(1, Math.max(0, v));
  const stops: [number, number, number][] = [
    [13, 8, 60],
    [33, 110, 140],
    [60, 180, 110],
    [250, 230, 60],
  ];
  const x = t * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [stops[i]!, stops[i + 1]!];
  return [0, 1, 2].map((k) => Math.round(a[k]! + (b[k]! - a[k]!) * f)) as [number, number, number];
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

let ids = 0;

/** Spectrogram columns per second (the canvas is 600 wide: 10 s). */
const COLUMNS_PER_SECOND = 60;

export function mountLive(container: HTMLElement, opts: LiveOptions): LiveController {
  if (!opts || typeof opts.modelUrl !== 'string' || opts.modelUrl === '')
    throw new Error('mountLive: opts.modelUrl must be the URL of an exported model (a non-empty string)');
  if (!Array.isArray(opts.classes))
    throw new Error('mountLive: opts.classes must be the array of the model’s class names');
  const hopSeconds = opts.hopSeconds ?? 0.5;
  if (!(hopSeconds > 0)) throw new Error(`mountLive: opts.hopSeconds must be > 0, got ${hopSeconds}`);
  const topK = opts.topK ?? 3;
  const smoothSeconds = opts.smoothSeconds ?? 3;
  if (!(smoothSeconds > 0))
    throw new Error(`mountLive: opts.smoothSeconds must be > 0, got ${smoothSeconds}`);
  const smoothWindows = Math.max(1, Math.round(smoothSeconds / hopSeconds));
  const id = `live-${++ids}`;
  // `?live-rate=device` in the page's URL does the same as contextRate: 'device' (to try the resampling path).
  const contextRate =
    opts.contextRate ??
    (new URLSearchParams(location.search).get('live-rate') === 'device' ? 'device' : 'model');

  // ---- elements
  const root = el('section', { class: 'live', 'aria-labelledby': `${id}-h` });
  const heading = el('h2', { id: `${id}-h` }, 'Listen');
  const intro = el(
    'p',
    { class: 'live-intro' },
    `Every ${hopSeconds} s the model scores the last window of sound. Classes: ${opts.classes.join(', ')}.`,
  );
  const button = el('button', { type: 'button', class: 'live-toggle', 'aria-pressed': 'false' }, 'Start');
  button.disabled = true;
  const status = el('p', { class: 'live-status', role: 'status' }, 'Loading the model…');
  // The aria-live region says only the smoothed tag, and only when it changes (not every window).
  const now = el('p', { class: 'live-now' });
  const nowLabel = el('span', { class: 'live-now-label', 'aria-live': 'polite', 'aria-atomic': 'true' }, '–');
  const nowScore = el('span', { class: 'live-now-score' });
  now.append('Hearing: ', nowLabel, ' ', nowScore);
  const topHeading = el('h3', { id: `${id}-top` }, 'Last window');
  const topList = el('ol', { class: 'live-top', 'aria-labelledby': `${id}-top` });
  const canvas = el('canvas', {
    class: 'live-spec',
    width: '600',
    height: '160',
    role: 'img',
    'aria-label':
      'Scrolling spectrogram of the microphone input (newest on the right, low pitches at the bottom)',
  });
  const caption = el(
    'p',
    { class: 'live-meta' },
    `Spectrogram: the last ${(canvas.width / COLUMNS_PER_SECOND).toFixed(0)} s (newest on the right), ` +
      'from 0 Hz at the bottom to half the audio rate at the top.',
  );
  const meta = el('p', { class: 'live-meta' });
  const controls = el('div', { class: 'live-controls' });
  controls.append(button, status);
  root.append(heading, intro, controls, now, topHeading, topList, canvas, caption, meta);
  container.append(root);
  const g = canvas.getContext('2d', { willReadFrequently: false })!;
  g.fillStyle = 'rgb(13, 8, 60)';
  g.fillRect(0, 0, canvas.width, canvas.height);

  // ---- state
  let info: LiveModelInfo | null = null;
  let top: LiveTag[] = [];
  let windows = 0;
  /** Scores of the latest windows (at most smoothWindows), for the "Hearing" line. */
  let recent: Float32Array[] = [];
  let ctx: AudioContext | null = null;
  let stream: MediaStream | null = null;
  let node: AudioWorkletNode | null = null;
  let analyser: AnalyserNode | null = null;
  let frame = 0;
  let running = false;
  let destroyed = false;

  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  const send = (m: WorkerIn, transfer: Transferable[] = []) => worker.postMessage(m, transfer);

  const showError = (message: string) => {
    status.textContent = `Error: ${message}`;
    status.classList.add('live-error');
    root.dataset.error = message;
  };

  function showTop(scores: Float32Array, at: number, ms: number, level: number) {
    if (!info) return;
    top = info.classes
      .map((label, i) => ({ label, score: scores[i]! }))
      .sort((a, b) => b.score - a.score)
      .slice(0, topK);
    windows++;
    topList.replaceChildren(
      ...top.map((t) => {
        const li = el('li', { 'data-label': t.label });
        const name = el('span', { class: 'live-label' }, t.label);
        const bar = el('span', { class: 'live-bar', 'aria-hidden': 'true' });
        bar.style.setProperty('--score', String(t.score));
        const value = el('span', { class: 'live-score' }, t.score.toFixed(2));
        li.append(name, bar, value);
        return li;
      }),
    );
    root.dataset.top = top[0]?.label ?? '';
    recent = [...recent.slice(1 - smoothWindows), scores];
    const mean = info.classes.map((_, i) => recent.reduce((a, r) => a + r[i]!, 0) / recent.length);
    const best = mean.indexOf(Math.max(...mean));
    const label = info.classes[best]!;
    if (nowLabel.textContent !== label) nowLabel.textContent = label;
    const span = (recent.length * hopSeconds).toFixed(1);
    nowScore.textContent = `(mean score ${mean[best]!.toFixed(2)} over the last ${span} s)`;
    root.dataset.hearing = label;
    root.dataset.windows = String(windows);
    root.dataset.level = level.toFixed(1);
    meta.textContent =
      `Window ${windows}: ${at.toFixed(1)} s after start, input level ${level.toFixed(0)} dBFS, ` +
      `scored in ${ms.toFixed(0)} ms.`;
  }

  worker.onmessage = (e: MessageEvent<WorkerOut>) => {
    const m = e.data;
    if (m.type === 'ready') {
      info = m.info;
      const same =
        info.classes.length === opts.classes.length && info.classes.every((c, i) => c === opts.classes[i]);
      if (!same)
        return showError(
          `the model at ${opts.modelUrl} has the classes ${info.classes.join(', ')}, ` +
            `not ${opts.classes.join(', ')}`,
        );
      button.disabled = false;
      root.dataset.state = 'ready';
      status.textContent = `Ready: ${info.model}, ${info.sampleRate} Hz, ${info.seconds} s windows.`;
    } else if (m.type === 'scores') {
      if (running) showTop(m.scores, m.at, m.ms, m.level);
    } else {
      showError(m.message);
    }
  };
  worker.onerror = (e) => showError(`the inference worker failed: ${e.message || 'could not load'}`);
  send({ type: 'load', modelUrl: opts.modelUrl, wasmBase: ortWasmBase() });

  // ---- spectrogram: the analyser's spectrum, COLUMNS_PER_SECOND columns a second (as many as the time since
  // the last animation frame calls for), scrolled left
  let drawn = 0;
  const drawColumns = (now: number) => {
    if (!analyser || !running) return;
    const due = Math.min(canvas.width, Math.floor(((now - drawn) / 1000) * COLUMNS_PER_SECOND));
    if (due > 0) {
      drawn += (due * 1000) / COLUMNS_PER_SECOND;
      const bins = new Float32Array(analyser.frequencyBinCount);
      analyser.getFloatFrequencyData(bins);
      const { width: w, height: h } = canvas;
      g.drawImage(canvas, -due, 0);
      const img = g.createImageData(due, h);
      const [lo, hi] = [analyser.minDecibels, analyser.maxDecibels];
      for (let y = 0; y < h; y++) {
        const bin = Math.min(bins.length - 1, Math.floor(((h - 1 - y) / h) * bins.length));
        const [r, gg, b] = heat((bins[bin]! - lo) / (hi - lo));
        for (let x = 0; x < due; x++) img.data.set([r, gg, b, 255], (y * due + x) * 4);
      }
      g.putImageData(img, w - due, 0);
    }
    frame = requestAnimationFrame(drawColumns);
  };

  async function openContext(rate: number): Promise<AudioContext> {
    if (contextRate !== 'device') {
      try {
        return new AudioContext({ sampleRate: rate, latencyHint: 'interactive' });
      } catch {
        // this browser cannot run a context at the model's rate: use its own, resampled in the worker
      }
    }
    return new AudioContext({ latencyHint: 'interactive' });
  }

  async function start(): Promise<void> {
    if (running || destroyed) return;
    if (!info) throw new Error('mountLive: the model has not loaded yet');
    button.disabled = true;
    status.textContent = 'Asking for the microphone…';
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      });
      ctx = await openContext(info.sampleRate);
      let source: MediaStreamAudioSourceNode;
      try {
        source = ctx.createMediaStreamSource(stream);
      } catch {
        // Some browsers refuse a microphone in a context at another rate than the device's.
        await ctx.close();
        ctx = new AudioContext({ latencyHint: 'interactive' });
        source = ctx.createMediaStreamSource(stream);
      }
      await ctx.audioWorklet.addModule(workletUrl);
      node = new AudioWorkletNode(ctx, 'audiotag-ring', {
        numberOfInputs: 1,
        numberOfOutputs: 0,
        processorOptions: { seconds: info.seconds, hopSeconds },
      });
      const channel = new MessageChannel();
      node.port.postMessage({ port: channel.port1 }, [channel.port1]);
      send({ type: 'audio', port: channel.port2 }, [channel.port2]);
      analyser = ctx.createAnalyser();
      analyser.fftSize = 512;
      analyser.smoothingTimeConstant = 0;
      analyser.minDecibels = -110;
      analyser.maxDecibels = -20;
      source.connect(node);
      source.connect(analyser);
      await ctx.resume();
      running = true;
      root.dataset.state = 'running';
      root.dataset.contextRate = String(ctx.sampleRate);
      button.textContent = 'Stop';
      button.setAttribute('aria-pressed', 'true');
      status.textContent =
        `Listening (audio at ${ctx.sampleRate} Hz${ctx.sampleRate === info.sampleRate ? '' : `, resampled to ${info.sampleRate} Hz`}); ` +
        `tags every ${hopSeconds} s over the last ${info.seconds} s.`;
      drawn = performance.now();
      frame = requestAnimationFrame(drawColumns);
    } catch (e) {
      await release();
      const name = e instanceof DOMException ? e.name : '';
      showError(
        name === 'NotAllowedError'
          ? 'microphone access was refused'
          : name === 'NotFoundError'
            ? 'no microphone found'
            : e instanceof Error
              ? e.message
              : String(e),
      );
      throw e;
    } finally {
      button.disabled = destroyed;
    }
  }

  async function release(): Promise<void> {
    running = false;
    recent = [];
    cancelAnimationFrame(frame);
    node?.port.postMessage({ stop: true });
    node?.disconnect();
    for (const t of stream?.getTracks() ?? []) t.stop();
    if (ctx && ctx.state !== 'closed') await ctx.close();
    [node, analyser, stream, ctx] = [null, null, null, null];
  }

  async function stop(): Promise<void> {
    if (!running) return;
    await release();
    root.dataset.state = 'ready';
    button.textContent = 'Start';
    button.setAttribute('aria-pressed', 'false');
    status.textContent = 'Stopped.';
  }

  button.addEventListener('click', () => {
    (running ? stop() : start()).catch(() => {
      /* shown in the status line */
    });
  });

  const destroy = () => {
    destroyed = true;
    void release();
    worker.terminate();
    root.remove();
  };
  return Object.assign(destroy, { start, stop, top: () => top });
}
