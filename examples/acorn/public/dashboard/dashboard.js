// Acorn's dashboard: one snapshot from /api/stats, then one a second from /api/stats/stream (Server-Sent
// Events). Rates and CPU use are differences between consecutive snapshots; charts are inline SVG.
const $ = (id) => document.getElementById(id);
const HISTORY = 60;
const series = { cpu: [], heap: [], rps: [], net: [] };
let previous;
let filter = '';

const escapeHtml = (value) =>
  String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function bytes(n) {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? Math.round(n) : n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}

function duration(ms) {
  const s = Math.floor(ms / 1000);
  const parts = [
    [Math.floor(s / 86400), 'd'],
    [Math.floor(s / 3600) % 24, 'h'],
    [Math.floor(s / 60) % 60, 'm'],
    [s % 60, 's'],
  ];
  const first = parts.findIndex(([v]) => v > 0);
  return parts
    .slice(first < 0 ? 3 : first)
    .map(([v, u]) => `${v}${u}`)
    .join(' ');
}

const hex = (n) => `0x${n.toString(16).padStart(8, '0')}`;
const count = (n) => Math.round(n).toLocaleString('en-US');

function push(name, value) {
  const list = series[name];
  list.push(value);
  if (list.length > HISTORY) list.shift();
}

/** An area chart of the last values, scaled to their maximum (or `ceiling`). */
function spark(id, values, ceiling) {
  const svg = $(id);
  if (values.length < 2) return;
  const max = Math.max(ceiling ?? 0, ...values, 1e-9);
  const step = 120 / (HISTORY - 1);
  const offset = (HISTORY - values.length) * step;
  const points = values.map((v, i) => [offset + i * step, 44 - (v / max) * 40]);
  const line = points.map(([x, y], i) => `${i ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`).join('');
  const area = `${line}L${points[points.length - 1][0].toFixed(1)},46L${points[0][0].toFixed(1)},46Z`;
  const title = svg.querySelector('title')?.outerHTML ?? '';
  svg.innerHTML = `${title}<path d="${area}" fill="var(--chart)" opacity="0.14"/><path d="${line}" fill="none" stroke="var(--chart)" stroke-width="1.6" vector-effect="non-scaling-stroke"/>`;
}

function rows(tbody, html, columns, empty) {
  tbody.innerHTML = html || `<tr><td colspan="${columns}" class="empty">${empty}</td></tr>`;
}

function render(s) {
  // Events after the first leave out what does not change (build, memory map), send the statistics that
  // changed and the log only when it did: merge them into what came before.
  if (!s.build && previous) s.build = previous.build;
  if (previous) s.memory = { ...previous.memory, ...s.memory, map: s.memory.map ?? previous.memory.map };
  if (!s.log && previous) s.log = previous.log;
  if (s.statsDelta && previous) {
    const merged = { ...previous.stats };
    for (const [name, value] of Object.entries(s.stats)) {
      if (value === null) delete merged[name];
      else merged[name] = value;
    }
    s.stats = merged;
  }
  const dt = previous ? (s.uptimeMs - previous.uptimeMs) / 1000 : 0;
  $('uptime').textContent = duration(s.uptimeMs);
  $('service').textContent = s.build.service;
  $('platform').textContent = `uOS ${s.build.platform}`;
  $('engine').textContent = s.build.engine || '–';
  $('boot').textContent = s.build.boot;
  $('timer').textContent = s.cpu.timer;
  const ready = s.build.timeline?.find(([stage]) => stage === 'listening');
  if (ready && ready[1] >= 0) {
    $('ready').textContent = `${ready[1]} ms`;
    $('ready').parentElement.title = s.build.timeline.map(([stage, ms]) => `${stage}: ${ms} ms`).join('\n');
  }

  // CPU: the share of cycles not halted since the last snapshot.
  if (previous && dt > 0) {
    const total = s.cpu.totalCycles - previous.cpu.totalCycles;
    const halted = s.cpu.haltedCycles - previous.cpu.haltedCycles;
    const busy = total > 0 ? Math.min(1, Math.max(0, 1 - halted / total)) : 0;
    push('cpu', busy * 100);
    $('cpu').textContent = `${(busy * 100).toFixed(busy < 0.1 ? 2 : 1)} %`;
    $('cpu-sub').textContent = `${count((s.cpu.wakeups - previous.cpu.wakeups) / dt)} wakeups/s`;
    const requests = s.http && previous.http ? (s.http.requests - previous.http.requests) / dt : 0;
    push('rps', requests);
    $('rps').textContent = `${requests.toFixed(requests < 10 ? 1 : 0)} req/s`;
    const sum = (snapshot, key) => snapshot.nics.reduce((n, nic) => n + nic[key], 0);
    const rx = (sum(s, 'rxBytes') - sum(previous, 'rxBytes')) / dt;
    const tx = (sum(s, 'txBytes') - sum(previous, 'txBytes')) / dt;
    push('net', rx + tx);
    $('net').textContent = `${bytes(rx + tx)}/s`;
    $('net-sub').textContent = `↓ ${bytes(rx)}/s · ↑ ${bytes(tx)}/s`;
  }
  push('heap', s.memory.heapUsedBytes);
  $('heap').textContent = bytes(s.memory.heapUsedBytes);
  $('heap-sub').textContent = `peak ${bytes(s.memory.heapPeakBytes)} · ${bytes(s.memory.totalBytes)} of RAM`;
  if (s.http) $('rps-sub').textContent = `${count(s.http.requests)} requests · ${s.http.connections} open`;
  spark('cpu-spark', series.cpu, 100);
  spark('heap-spark', series.heap, s.memory.totalBytes / 4);
  spark('rps-spark', series.rps);
  spark('net-spark', series.net);

  $('conn-count').textContent = `${s.connections.length} open`;
  rows(
    $('connections').tBodies[0],
    s.connections
      .map(
        (c) =>
          `<tr data-remote="${escapeHtml(c.remote)}"><td class="mono hide-sm">${escapeHtml(c.local)}</td><td class="mono">${escapeHtml(c.remote)}</td><td><span class="pill ${c.state === 'established' ? 'leaf' : ''}">${escapeHtml(c.state)}</span></td><td class="num">${bytes(c.bytesIn)}</td><td class="num">${bytes(c.bytesOut)}</td></tr>`,
      )
      .join(''),
    5,
    'no connections',
  );
  rows(
    $('nics').tBodies[0],
    s.nics
      .map(
        (n) =>
          `<tr><td><b>${escapeHtml(n.name)}</b> <span class="muted">${escapeHtml(n.driver)}</span></td><td class="mono">${escapeHtml(n.address ?? '—')}</td><td class="mono">${escapeHtml(n.mac)}</td><td class="num">${bytes(n.rxBytes)}<br><span class="muted">${count(n.rxPackets)} pkts</span></td><td class="num">${bytes(n.txBytes)}<br><span class="muted">${count(n.txPackets)} pkts</span></td></tr>`,
      )
      .join(''),
    5,
    'no NICs',
  );

  const log = $('log');
  const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
  log.textContent = s.log.join('\n');
  if (atBottom) log.scrollTop = log.scrollHeight;

  const hottest = $('hottest');
  if (!s.hottest || s.hottest.length === 0) {
    hottest.innerHTML = '<p class="empty">No samples yet.</p>';
  } else {
    hottest.innerHTML = s.hottest
      .map(
        (h) =>
          `<div style="margin-bottom:8px"><div style="display:flex;justify-content:space-between;gap:8px"><span class="mono" style="overflow:hidden;text-overflow:ellipsis;white-space:nowrap" title="${escapeHtml(h.name)}">${escapeHtml(h.name.replace(/\.lto_priv\.\d+$/, ''))}</span><span>${(h.share * 100).toFixed(1)} %</span></div><div class="muted" style="font-size:12px">${escapeHtml(h.where || h.kind)}</div><div class="bar"><span style="width:${(h.share * 100).toFixed(1)}%"></span></div></div>`,
      )
      .join('');
  }

  const used = s.memory.totalBytes - s.memory.freeBytes;
  $('memory-total').textContent = `${bytes(used)} of ${bytes(s.memory.totalBytes)} in use`;
  $('memory-bar').style.width = `${((used / s.memory.totalBytes) * 100).toFixed(1)}%`;
  rows(
    $('memory-map').tBodies[0],
    s.memory.map
      .map(
        (r) =>
          `<tr><td>${escapeHtml(r.name)}</td><td class="mono">${hex(r.start)}</td><td class="mono">${hex(r.end)}</td><td class="num">${bytes(r.end - r.start)}</td><td class="mono">${escapeHtml(r.access)}</td></tr>`,
      )
      .join(''),
    5,
    'no map',
  );

  $('squirrels').textContent = `${s.squirrels} squirrels`;
  $('packages').innerHTML = s.build.packages.map((p) => `<span class="pill">${escapeHtml(p)}</span>`).join('');
  renderStats(s.stats);
  previous = s;
}

let lastStats = {};
function renderStats(stats) {
  lastStats = stats;
  const entries = Object.entries(stats).filter(([name]) => !filter || name.includes(filter));
  $('stats').innerHTML =
    entries
      .map(([name, value]) => `<div><span title="${escapeHtml(name)}">${escapeHtml(name)}</span><span>${count(value)}</span></div>`)
      .join('') || '<p class="empty">no statistic matches</p>';
}

$('filter').addEventListener('input', (event) => {
  filter = event.target.value.trim();
  renderStats(lastStats);
});

function setStatus(text, live) {
  const status = $('status');
  status.textContent = text;
  status.classList.toggle('live', live);
}

fetch('/api/stats')
  .then((response) => response.json())
  .then(render)
  .catch(() => {});

const source = new EventSource('/api/stats/stream');
source.addEventListener('stats', (event) => {
  setStatus('live', true);
  render(JSON.parse(event.data));
});
source.addEventListener('error', () => setStatus('reconnecting…', false));
