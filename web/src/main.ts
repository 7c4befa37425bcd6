// The web app: a hash router over three pages (tag files, models, live microphone). Hash routes keep the
// static build working from any folder without server rewrites.
import './style.css';
import { serverState } from './env.js';
import { showLive } from './pages/live.js';
import { showModel, showModels } from './pages/model.js';
import { showTag } from './pages/tag.js';

const main = document.getElementById('main')!;
let cleanup: (() => void) | undefined;

interface Route {
  page: 'tag' | 'models' | 'live';
  arg?: string;
}

function parse(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (parts[0] === 'models') return { page: 'models', arg: parts[1] || undefined };
  if (parts[0] === 'live') return { page: 'live' };
  return { page: 'tag' };
}

async function route(): Promise<void> {
  cleanup?.();
  cleanup = undefined;
  const r = parse(location.hash);
  for (const a of document.querySelectorAll<HTMLAnchorElement>('#nav a')) {
    if (a.dataset.page === r.page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  main.replaceChildren();
  const slot = document.createElement('div');
  main.append(slot);
  if (r.page === 'models') cleanup = r.arg ? await showModel(slot, r.arg) : await showModels(slot);
  else if (r.page === 'live') cleanup = await showLive(slot);
  else cleanup = await showTag(slot);
  const h1 = main.querySelector('h1');
  document.title = h1 ? `${h1.textContent} · audiotag` : 'audiotag';
}

async function showServer(): Promise<void> {
  const el = document.getElementById('server-state')!;
  const s = await serverState();
  el.textContent =
    s.kind === 'server'
      ? `Server: ${s.models.length} model${s.models.length === 1 ? '' : 's'}`
      : s.kind === 'locked'
        ? 'Server: needs an API key'
        : 'Static site: no API';
  el.dataset.kind = s.kind;
}

// The skip link moves the focus without touching the hash (the hash is the route).
document.querySelector<HTMLAnchorElement>('a.skip')?.addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', () => {
  void route().then(() => main.focus());
});
window.addEventListener('audiotag:api-key', () => {
  void serverState(true).then(() => Promise.all([showServer(), route()]));
});
void showServer();
void route();
