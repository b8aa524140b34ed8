// Acorn's single-page app: Home, the squirrels (list, add, edit, delete through /api/squirrels), client-side
// routes that the server answers with this page (its SPA fallback), so deep links and reloads work.
const view = document.getElementById('view');
const SPECIES = ['red', 'grey', 'fox', 'flying', 'ground'];

const escapeHtml = (value) =>
  String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

async function api(path, options = {}) {
  const response = await fetch(`/api/squirrels${path}`, {
    ...options,
    headers: options.body ? { 'content-type': 'application/json' } : {},
  });
  const body = response.status === 204 ? null : await response.json();
  return { ok: response.ok, status: response.status, body };
}

const ACORN_ART = `<svg viewBox="0 0 200 200" aria-hidden="true">
  <circle cx="100" cy="104" r="92" fill="var(--accent-soft)"/>
  <path d="M100 30c-6 0-9 6-9 12v14" stroke="#5b3a1e" stroke-width="9" stroke-linecap="round" fill="none"/>
  <path d="M38 90c0-24 28-36 62-36s62 12 62 36v6H38z" fill="#7a4a24"/>
  <path d="M48 86c8-14 28-20 52-20s44 6 52 20" stroke="#a06a3c" stroke-width="6" fill="none" stroke-linecap="round"/>
  <path d="M44 96h112c0 48-24 82-56 86-32-4-56-38-56-86z" fill="#c8782f"/>
  <path d="M72 112c3 24 12 42 27 52" stroke="#e8a365" stroke-width="8" fill="none" stroke-linecap="round"/>
</svg>`;

function home() {
  view.innerHTML = `
    <section class="hero">
      <div>
        <span class="pill leaf">one image · no Linux underneath</span>
        <h1>A web service that is its own operating system.</h1>
        <p>Acorn is a TypeScript service on uOS. This page, its REST API and the live dashboard of the VM it runs in
        all come from one small image: the files are embedded in it, compressed at build time.</p>
        <div class="actions">
          <a class="button" href="/dashboard">Open the dashboard</a>
          <a class="button secondary" href="/squirrels" data-link>Meet the squirrels</a>
        </div>
        <p class="muted" id="uptime-line" style="margin-top:18px;font-size:14px"></p>
      </div>
      <div class="hero-art">${ACORN_ART}</div>
    </section>
    <section class="features">
      <div class="card"><h3>Files from the image</h3><p>ETags, 304s, brotli and gzip made at build time, byte ranges: <code>@uos/assets</code>.</p></div>
      <div class="card"><h3>A REST API</h3><p><code>/api/squirrels</code> on Hono, validated with valibot, JSON errors that name the field.</p></div>
      <div class="card"><h3>A live dashboard</h3><p>CPU, heap, memory map, NICs, TCP connections and the log, streamed once a second.</p></div>
      <div class="card"><h3>Metrics</h3><p><code>/metrics</code> speaks Prometheus: every statistic the OS keeps.</p></div>
    </section>`;
  fetch('/api/stats')
    .then((r) => r.json())
    .then((s) => {
      const line = document.getElementById('uptime-line');
      if (line)
        line.textContent = `${s.build.service} has been up ${Math.round(s.uptimeMs / 1000)} s, with ${s.build.packages.length} packages in its image.`;
    })
    .catch(() => {});
}

function squirrelCard(s) {
  return `<a class="card squirrel" href="/squirrels/${s.id}" data-link>
    <h3>${escapeHtml(s.name)}</h3>
    <div><span class="pill">${escapeHtml(s.species)}</span> <span class="muted">${s.nuts.toLocaleString()} nuts</span></div>
    <p class="muted" style="margin:8px 0 0">${escapeHtml(s.notes || '—')}</p></a>`;
}

function form(s = {}) {
  return `
    <label for="name">Name</label><input id="name" name="name" value="${escapeHtml(s.name ?? '')}" maxlength="60" required>
    <div class="field-error" data-error="name"></div>
    <label for="species">Species</label>
    <select id="species" name="species">${SPECIES.map((x) => `<option ${x === s.species ? 'selected' : ''}>${x}</option>`).join('')}</select>
    <div class="field-error" data-error="species"></div>
    <label for="nuts">Nuts</label><input id="nuts" name="nuts" type="number" min="0" value="${s.nuts ?? 0}">
    <div class="field-error" data-error="nuts"></div>
    <label for="notes">Notes</label><textarea id="notes" name="notes" rows="2">${escapeHtml(s.notes ?? '')}</textarea>
    <div class="field-error" data-error="notes"></div>`;
}

function readForm(element) {
  const data = new FormData(element);
  return { name: data.get('name'), species: data.get('species'), nuts: Number(data.get('nuts')), notes: data.get('notes') };
}

function showErrors(element, result) {
  for (const slot of element.querySelectorAll('[data-error]')) slot.textContent = '';
  for (const issue of result.body?.issues ?? []) {
    const slot = element.querySelector(`[data-error="${issue.field}"]`);
    if (slot) slot.textContent = issue.message;
  }
  if (!result.body?.issues) element.querySelector('[data-error="name"]').textContent = result.body?.message ?? `error ${result.status}`;
}

async function squirrels() {
  const { body } = await api('');
  view.innerHTML = `
    <div class="two">
      <section><h1 style="margin-top:0">Squirrels <span class="muted">(${body.count})</span></h1>
        <div class="squirrels">${body.squirrels.map(squirrelCard).join('') || '<p class="empty">No squirrels yet.</p>'}</div></section>
      <form class="card" id="add"><h2>Add a squirrel</h2>${form()}<p><button class="button" type="submit">Add</button></p></form>
    </div>`;
  const add = document.getElementById('add');
  add.addEventListener('submit', async (event) => {
    event.preventDefault();
    const result = await api('', { method: 'POST', body: JSON.stringify(readForm(add)) });
    if (result.ok) navigate(`/squirrels/${result.body.id}`);
    else showErrors(add, result);
  });
}

async function squirrel(id) {
  const result = await api(`/${encodeURIComponent(id)}`);
  if (!result.ok) return notFound();
  const s = result.body;
  view.innerHTML = `
    <p><a href="/squirrels" data-link>← All squirrels</a></p>
    <div class="two">
      <section class="card"><h1 style="margin:0 0 6px">${escapeHtml(s.name)}</h1>
        <p><span class="pill">${escapeHtml(s.species)}</span> <b>${s.nuts.toLocaleString()}</b> nuts</p>
        <p>${escapeHtml(s.notes || '')}</p>
        <p class="muted" style="font-size:13px">#${s.id} · added ${new Date(s.createdAt).toLocaleString()} · changed ${new Date(s.updatedAt).toLocaleString()}</p></section>
      <form class="card" id="edit"><h2>Edit</h2>${form(s)}
        <p style="display:flex;gap:8px"><button class="button" type="submit">Save</button>
        <button class="button danger" type="button" id="delete">Delete</button></p></form>
    </div>`;
  const edit = document.getElementById('edit');
  edit.addEventListener('submit', async (event) => {
    event.preventDefault();
    const saved = await api(`/${s.id}`, { method: 'PUT', body: JSON.stringify(readForm(edit)) });
    if (saved.ok) squirrel(s.id);
    else showErrors(edit, saved);
  });
  document.getElementById('delete').addEventListener('click', async () => {
    if ((await api(`/${s.id}`, { method: 'DELETE' })).ok) navigate('/squirrels');
  });
}

function notFound() {
  view.innerHTML =
    '<div class="card" style="max-width:520px;margin:8vh auto;text-align:center"><h1>Not found</h1><p class="muted">No page here.</p><p><a class="button" href="/" data-link>Home</a></p></div>';
}

function route() {
  const path = location.pathname.replace(/\/+$/, '') || '/';
  for (const link of document.querySelectorAll('.nav a')) {
    const target = link.getAttribute('href');
    link.toggleAttribute('aria-current', target === '/' ? path === '/' : path.startsWith(target));
    if (link.hasAttribute('aria-current')) link.setAttribute('aria-current', 'page');
  }
  const match = /^\/squirrels\/([^/]+)$/.exec(path);
  if (path === '/') home();
  else if (path === '/squirrels') squirrels();
  else if (match) squirrel(decodeURIComponent(match[1]));
  else notFound();
}

function navigate(path) {
  history.pushState(null, '', path);
  route();
  window.scrollTo(0, 0);
}

document.addEventListener('click', (event) => {
  const link = event.target.closest('a[data-link]');
  if (!link || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  navigate(link.getAttribute('href'));
});
window.addEventListener('popstate', route);
route();
