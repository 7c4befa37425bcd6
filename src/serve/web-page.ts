// The basic page served at `/` when the web app (web/, built into web/dist by Vite) is missing: drop or
// pick audio files, each is sent to POST /v1/tag and its top tags are listed with their scores (and, for
// long files, the detected events). One self-contained page (no build step, no external assets), so it
// ships inside dist/ with the server. Keyboard-usable, labelled controls. src/serve/web-app.ts serves it
// with a notice saying how to build the full app.
export const WEB_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>audiotag</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #111; background: #fff; }
  #drop { border: 2px dashed #555; border-radius: 8px; padding: 2rem; text-align: center; }
  #drop.over { background: #eef4ff; border-color: #1a56db; }
  table { border-collapse: collapse; margin: .5rem 0 1.5rem; }
  th, td { text-align: left; padding: .2rem .8rem .2rem 0; }
  .bar { display: inline-block; height: .7rem; background: #1a56db; vertical-align: middle; }
  .err { color: #a00; }
  label { font-weight: 600; }
  .notice { background: #fff4d6; border-left: 4px solid #8a5a00; padding: .6rem .9rem; }
</style>
</head>
<body>
<main>
<h1>audiotag</h1>
<!--NOTICE-->
<p id="model">Loading the model…</p>
<div id="drop">
  <p>Drop audio files here, or</p>
  <label for="files">choose audio files</label>
  <input id="files" type="file" accept="audio/*,.wav,.flac,.ogg,.opus,.mp3,.m4a" multiple>
</div>
<p><label for="key">API key (if the server needs one)</label> <input id="key" type="password" autocomplete="off"></p>
<section id="results" aria-live="polite"></section>
</main>
<script type="module">
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const headers = () => ($('key').value ? { 'x-api-key': $('key').value } : {});
fetch('/v1/models', { headers: headers() }).then((r) => r.json()).then((m) => {
  const x = m.models?.[0];
  $('model').textContent = x ? 'Model ' + x.name + ': ' + x.classes.length + ' classes (' + x.classes.slice(0, 12).join(', ') + (x.classes.length > 12 ? ', …' : '') + ')' : (m.error ?? 'no model');
}).catch((e) => { $('model').textContent = 'Could not reach the server: ' + e.message; });

async function tag(file) {
  const out = document.createElement('article');
  out.innerHTML = '<h2>' + esc(file.name) + '</h2><p>Tagging…</p>';
  $('results').prepend(out);
  const body = new FormData();
  body.append('file', file, file.name);
  try {
    const r = await fetch('/v1/tag?topK=5', { method: 'POST', body, headers: headers() });
    const j = await r.json();
    if (!r.ok) throw new Error(j.error ?? r.statusText);
    const rows = j.top.map((t) => '<tr><td class="tag">' + esc(t.label) + '</td><td>' + t.score.toFixed(3) +
      '</td><td><span class="bar" style="width:' + Math.round(t.score * 200) + 'px"></span></td></tr>').join('');
    const ev = j.events.length && j.windows.length
      ? '<p>Events: ' + j.events.map((e) => esc(e.label) + ' ' + e.start.toFixed(1) + '–' + e.end.toFixed(1) + ' s').join('; ') + '</p>' : '';
    out.innerHTML = '<h2>' + esc(file.name) + '</h2><p>' + j.duration.toFixed(2) + ' s</p>' +
      '<table><caption>Top tags</caption><thead><tr><th>Tag</th><th>Score</th><th></th></tr></thead><tbody>' + rows + '</tbody></table>' + ev;
  } catch (e) {
    out.innerHTML = '<h2>' + esc(file.name) + '</h2><p class="err">' + esc(e.message) + '</p>';
  }
}
$('files').addEventListener('change', (e) => { for (const f of e.target.files) tag(f); });
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); for (const f of e.dataTransfer.files) tag(f); });
</script>
</body>
</html>
`;

const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** The basic page, with `notice` (e.g. "the web app is not built") shown under its heading. */
export function webPage(notice?: string): string {
  return WEB_PAGE.replace(
    '<!--NOTICE-->',
    notice ? `<p class="notice" role="status">${escapeHtml(notice)}</p>` : '',
  );
}
