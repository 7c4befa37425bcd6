// The tag-files page: drop or pick audio files; each gets a card with an audio player, its waveform and
// mel spectrogram (computed in this browser), its tags with scores (POST /v1/tag on the server) and, for
// files longer than one model window, a timeline of detections under the spectrogram: click anywhere on
// the pictures, or on a detection, to play from there.
import { computeSpectrogram, decodeFile, drawSpectrogram, drawWaveform, sizeCanvas } from '../audio.js';
import { apiHeaders, apiUrl, getApiKey, type ServerState, serverState, setApiKey } from '../env.js';
import { el, fmt } from '../ui.js';

interface TagJson {
  duration: number;
  classes: string[];
  clip: Record<string, number>;
  top: { label: string; score: number }[];
  windows: { start: number; end: number; scores: number[] }[];
  events: { start: number; end: number; label: string; confidence: number }[];
}

const ACCEPT = 'audio/*,.wav,.flac,.ogg,.opus,.mp3,.m4a,.aac,.aif,.aiff';

/** Thrown for a 413 on a recording over the server's duration limit: it can go to the job queue. */
class TooLong extends Error {}

async function postTag(file: File): Promise<TagJson> {
  const body = new FormData();
  body.append('file', file, file.name);
  const r = await fetch(apiUrl('v1/tag?topK=5'), { method: 'POST', body, headers: apiHeaders() });
  const j = (await r.json().catch(() => ({ error: r.statusText }))) as TagJson & { error?: string };
  if (r.status === 413 && /POST \/v1\/jobs/.test(j.error ?? '')) throw new TooLong(j.error);
  if (!r.ok) throw new Error(j.error ?? `HTTP ${r.status}`);
  return j;
}

/** Long recordings: POST /v1/jobs, then poll GET /v1/jobs/:id, reporting progress, until done or failed. */
async function tagAsJob(file: File, progress: (p: number, state: string) => void): Promise<TagJson> {
  const body = new FormData();
  body.append('file', file, file.name);
  const r = await fetch(apiUrl('v1/jobs?topK=5'), { method: 'POST', body, headers: apiHeaders() });
  const j = (await r.json().catch(() => ({ error: r.statusText }))) as { id?: string; error?: string };
  if (r.status === 404) throw new Error('too long for /v1/tag, and this server has no job queue (--jobs-db)');
  if (!r.ok || !j.id) throw new Error(j.error ?? `HTTP ${r.status}`);
  for (;;) {
    await new Promise((res) => setTimeout(res, 1000));
    const s = await fetch(apiUrl(`v1/jobs/${j.id}`), { headers: apiHeaders() });
    const job = (await s.json()) as {
      state: string;
      progress: number;
      result?: TagJson;
      error?: string;
    };
    if (!s.ok) throw new Error(job.error ?? `HTTP ${s.status}`);
    if (job.state === 'done' && job.result) return job.result;
    if (job.state === 'failed') throw new Error(job.error ?? 'the job failed');
    progress(job.progress, job.state);
  }
}

function tagsTable(j: TagJson): HTMLTableElement {
  const body = el('tbody');
  for (const t of j.top) {
    const bar = el('span', { class: 'bar', 'aria-hidden': 'true' });
    bar.style.width = `${Math.round(t.score * 100)}%`;
    body.append(
      el(
        'tr',
        {},
        el('th', { scope: 'row', class: 'tag' }, t.label),
        el('td', { class: 'score' }, fmt(t.score)),
        el('td', { class: 'barcell' }, bar),
      ),
    );
  }
  return el(
    'table',
    { class: 'tags' },
    el('caption', {}, 'Top tags (clip scores)'),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', { scope: 'col' }, 'Tag'),
        el('th', { scope: 'col' }, 'Score'),
        el('th', { scope: 'col' }, el('span', { class: 'sr-only' }, 'Bar')),
      ),
    ),
    body,
  );
}

/** Rows: the classes that top a window or an event (best clip score first, at most 8); cells: window scores. */
function drawTimeline(canvas: HTMLCanvasElement, j: TagJson, rows: string[], duration: number): void {
  const rowCss = 18;
  const { w, h } = sizeCanvas(canvas, rows.length * rowCss);
  const g = canvas.getContext('2d')!;
  const rh = h / rows.length;
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, w, h);
  const x = (t: number) => (t / duration) * w;
  rows.forEach((label, r) => {
    const c = j.classes.indexOf(label);
    g.fillStyle = r % 2 ? '#f4f6fa' : '#ffffff';
    g.fillRect(0, r * rh, w, rh);
    for (const win of j.windows) {
      const s = win.scores[c] ?? 0;
      g.fillStyle = `rgba(26, 79, 196, ${s.toFixed(3)})`;
      g.fillRect(x(win.start), r * rh + 1, Math.max(1, x(win.end) - x(win.start)), rh - 2);
    }
    for (const e of j.events.filter((ev) => ev.label === label)) {
      g.strokeStyle = '#b00020';
      g.lineWidth = Math.max(1, rh / 8);
      g.strokeRect(x(e.start), r * rh + 1, Math.max(2, x(e.end) - x(e.start)), rh - 2);
    }
  });
}

function card(
  file: File,
  state: ServerState,
): { article: HTMLElement; done: Promise<void>; dispose: () => void } {
  const article = el('article', { class: 'clip', 'aria-busy': 'true' });
  const status = el('p', { class: 'status' }, 'Decoding…');
  article.append(el('h2', {}, file.name), status);
  const url = URL.createObjectURL(file);
  const audio = el('audio', {
    controls: '',
    preload: 'metadata',
    src: url,
    'aria-label': `Play ${file.name}`,
  });
  // Tracks in a grid: a gutter with their name (or the timeline's row labels) and the canvas with a playhead.
  const views = el('div', { class: 'views' });
  const results = el('div', { class: 'results' });
  article.append(audio, views, results);
  const playheads: HTMLElement[] = [];
  const addTrack = (gutter: HTMLElement, canvas: HTMLCanvasElement) => {
    const head = el('div', { class: 'playhead', 'aria-hidden': 'true' });
    playheads.push(head);
    views.append(gutter, el('div', { class: 'track' }, canvas, head));
  };

  let duration = 0;
  const seek = (t: number) => {
    audio.currentTime = Math.max(0, Math.min(duration, t));
    void audio.play().catch(() => {});
  };
  const clickable = (c: HTMLCanvasElement) =>
    c.addEventListener('click', (e) => {
      const r = c.getBoundingClientRect();
      seek(((e.clientX - r.left) / r.width) * duration);
    });
  let raf = 0;
  let slider: HTMLCanvasElement | undefined;
  const tick = () => {
    if (duration > 0) for (const p of playheads) p.style.left = `${(audio.currentTime / duration) * 100}%`;
    slider?.setAttribute('aria-valuenow', audio.currentTime.toFixed(2));
    slider?.setAttribute('aria-valuetext', `${fmt(audio.currentTime, 1)} s of ${fmt(duration, 1)} s`);
    raf = audio.paused ? 0 : requestAnimationFrame(tick);
  };
  audio.addEventListener('play', () => {
    if (!raf) raf = requestAnimationFrame(tick);
  });
  audio.addEventListener('seeked', tick);

  const pictures = (async () => {
    const d = await decodeFile(file);
    duration = d.duration;
    status.textContent = `${fmt(d.duration, 2)} s · ${d.sampleRate} Hz · ${d.channels} channel${d.channels > 1 ? 's' : ''}`;
    const wave = el('canvas', {
      class: 'waveform',
      role: 'img',
      'aria-label': `Waveform of ${file.name} (${fmt(d.duration, 2)} s); click to play from a point`,
    });
    // The spectrogram is also the keyboard's way to the pictures: a slider over the play position.
    const spec = el('canvas', {
      class: 'spectrogram',
      role: 'slider',
      tabindex: '0',
      'aria-label': `Play position on the mel spectrogram of ${file.name} (64 bands up to ${d.sampleRate / 2} Hz, computed in the browser); arrow keys move 1 s, Shift 5 s, Enter plays or pauses`,
      'aria-valuemin': '0',
      'aria-valuemax': d.duration.toFixed(2),
      'aria-valuenow': '0',
      'aria-valuetext': `0.0 s of ${fmt(d.duration, 1)} s`,
    });
    spec.addEventListener('keydown', (e) => {
      const step = e.shiftKey ? 5 : 1;
      const at: Record<string, number> = {
        ArrowRight: audio.currentTime + step,
        ArrowUp: audio.currentTime + step,
        ArrowLeft: audio.currentTime - step,
        ArrowDown: audio.currentTime - step,
        Home: 0,
        End: Math.max(0, duration - 0.05),
      };
      if (e.key in at) {
        e.preventDefault();
        audio.currentTime = Math.max(0, Math.min(duration, at[e.key]!));
      } else if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        if (audio.paused) void audio.play().catch(() => {});
        else audio.pause();
      }
    });
    slider = spec;
    addTrack(el('div', { class: 'gutter' }, 'Waveform'), wave);
    addTrack(el('div', { class: 'gutter' }, `Mel 0–${(d.sampleRate / 2000).toFixed(1)} kHz`), spec);
    drawWaveform(wave, d.mono);
    await new Promise((r) => setTimeout(r, 0));
    drawSpectrogram(spec, computeSpectrogram(d.mono, d.sampleRate));
    clickable(wave);
    clickable(spec);
  })();

  const tags = (async () => {
    if (state.kind !== 'server') {
      results.append(
        el(
          'p',
          { class: 'note' },
          state.kind === 'locked'
            ? 'Tags need the API key of the server: enter it under "Server settings".'
            : 'Tags need the tagging API (open this app from audiotag serve); the waveform and spectrogram above are computed in this browser.',
        ),
      );
      return;
    }
    const busy = el('p', { class: 'status' }, 'Tagging on the server…');
    results.append(busy);
    const j = await postTag(file).catch((e: Error) => {
      if (!(e instanceof TooLong)) throw e;
      busy.textContent = 'Longer than the server tags at once: queued as a job…';
      return tagAsJob(file, (p, state) => {
        busy.textContent = `Job ${state}: ${Math.round(p * 100)} %`;
      });
    });
    results.replaceChildren(tagsTable(j));
    if (duration === 0) duration = j.duration;
    if (j.windows.length > 1) {
      const order = j.classes.map((c, i) => [c, j.clip[c] ?? 0, i] as const).sort((a, b) => b[1] - a[1]);
      const wanted = new Set<string>([
        ...j.windows.map((w) => j.classes[w.scores.indexOf(Math.max(...w.scores))]!),
        ...j.events.map((e) => e.label),
      ]);
      const rows = order
        .filter(([c]) => wanted.has(c))
        .slice(0, 8)
        .map(([c]) => c);
      const tl = el('canvas', {
        class: 'timeline',
        role: 'img',
        'aria-label': `Timeline of detections: window scores of ${rows.join(', ')} over ${fmt(j.duration, 1)} s, events outlined; click to play from a point`,
      });
      const legend = el('div', { class: 'gutter timeline-rows', 'aria-hidden': 'true' });
      for (const r of rows) legend.append(el('span', {}, r));
      await pictures.catch(() => {});
      addTrack(legend, tl);
      drawTimeline(tl, j, rows, duration);
      views.after(
        el(
          'p',
          { class: 'legend' },
          'Detections: blue cells are window scores (darker = higher), red outlines are events.',
        ),
      );
      clickable(tl);
      const list = el('ul', { class: 'events' });
      for (const e of j.events) {
        const b = el(
          'button',
          { type: 'button' },
          `▶ ${fmt(e.start, 1)}–${fmt(e.end, 1)} s: ${e.label} (${fmt(e.confidence, 2)})`,
        );
        b.addEventListener('click', () => seek(e.start));
        list.append(el('li', {}, b));
      }
      results.append(
        el('h3', {}, `Detections (${j.events.length})`),
        j.events.length ? list : el('p', {}, 'No event above the threshold (0.5).'),
      );
    }
  })().catch((e: Error) => {
    results.replaceChildren(el('p', { class: 'err', role: 'alert' }, `Tagging failed: ${e.message}`));
  });

  const done = Promise.all([
    pictures.catch((e: Error) => {
      status.textContent = '';
      status.append(el('span', { class: 'err', role: 'alert' }, e.message));
    }),
    tags,
  ]).then(() => {
    article.setAttribute('aria-busy', 'false');
  });
  return {
    article,
    done,
    dispose: () => {
      cancelAnimationFrame(raf);
      URL.revokeObjectURL(url);
    },
  };
}

export async function showTag(root: HTMLElement): Promise<() => void> {
  const state = await serverState();
  const disposers: (() => void)[] = [];
  root.append(el('h1', {}, 'Tag audio files'));
  const model = state.kind === 'server' ? state.models[0] : undefined;
  root.append(
    el(
      'p',
      { id: 'model-line' },
      model
        ? `Model ${model.name}: ${model.classes.length} classes (${model.classes.slice(0, 12).join(', ')}${model.classes.length > 12 ? ', …' : ''}). The waveform and spectrogram are computed in this browser; the tags come from the server.`
        : state.kind === 'locked'
          ? 'The server needs an API key (Server settings below).'
          : 'Static site: waveform and spectrogram work here; tags need the API of audiotag serve.',
    ),
  );
  const input = el('input', { id: 'files', type: 'file', accept: ACCEPT, multiple: '', class: 'sr-only' });
  const drop = el(
    'div',
    { class: 'drop', id: 'drop' },
    el('p', {}, 'Drop audio files here, or'),
    el('label', { for: 'files', class: 'button' }, 'Choose audio files'),
    input,
  );
  const key = el('input', { id: 'api-key', type: 'password', autocomplete: 'off' });
  key.value = getApiKey();
  key.addEventListener('change', () => {
    setApiKey(key.value);
    // main.ts asks the server again and redraws the page and the header.
    window.dispatchEvent(new Event('audiotag:api-key'));
  });
  const settings = el(
    'details',
    { class: 'settings' },
    el('summary', {}, 'Server settings'),
    el('p', {}, el('label', { for: 'api-key' }, 'API key (if the server needs one) '), key),
  );
  const results = el('section', { id: 'results', 'aria-live': 'polite', 'aria-label': 'Tagged files' });
  root.append(drop, settings, results);

  const add = async (files: FileList | null) => {
    const s = await serverState();
    for (const f of Array.from(files ?? [])) {
      const c = card(f, s);
      disposers.push(c.dispose);
      results.prepend(c.article);
    }
  };
  input.addEventListener('change', () => void add(input.files));
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    void add(e.dataTransfer?.files ?? null);
  });
  return () => {
    for (const d of disposers) d();
  };
}
