// netlab dashboard: draws the page the URL names from the server's event
// stream. A snapshot carries everything the page shows, with history; an
// update carries the newest values, which are appended. Nothing is loaded
// from anywhere but this server.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const SPARK_POINTS = 120;

// el builds an element: el('div', {class: 'x', dataset: {k: v}}, child...).
function el(tag, attrs, ...children) {
  const e = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// ---- formatting ----
function fmtNum(v, digits = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e3 || a < 0.01) {
    const units = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
    for (const [f, u] of units) if (a >= f) return (v / f).toPrecision(digits) + ' ' + u;
    return v.toExponential(1);
  }
  return String(Number(v.toPrecision(digits)));
}
function fmtBytes(v, suffix) {
  if (v === null || v === undefined) return '—';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let x = Math.abs(v);
  while (x >= 1000 && i < units.length - 1) { x /= 1000; i++; }
  return (v < 0 ? '-' : '') + (i === 0 ? String(Math.round(x)) : x.toPrecision(3)) + ' ' + units[i] + suffix;
}
function fmtSeconds(v) {
  if (v === null || v === undefined) return '—';
  const a = Math.abs(v);
  if (a === 0) return '0 s';
  if (a < 1e-3) return (v * 1e6).toPrecision(3) + ' µs';
  if (a < 1) return (v * 1e3).toPrecision(3) + ' ms';
  return v.toPrecision(3) + ' s';
}
function fmtValue(v, unit) {
  switch (unit) {
    case 'B/s': return fmtBytes(v, '/s');
    case 'B': return fmtBytes(v, '');
    case 's': return fmtSeconds(v);
    case '/s': return v === null ? '—' : fmtNum(v) + '/s';
    case 's/s': return v === null ? '—' : fmtNum(v) + ' s/s';
    default: return fmtNum(v);
  }
}
function fmtDuration(s) {
  if (s === null || s === undefined) return '—';
  s = Math.max(0, Math.floor(s));
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s % 60}s`;
  return `${s}s`;
}
function fmtClock(ms) { return new Date(ms).toLocaleTimeString([], {hour12: false}); }
function stateText(state) { return {up: 'up', not_ready: 'not ready', down: 'down'}[state] || state; }

// ---- small charts ----
// pathOf draws values (nulls are gaps) into a w × h box scaled to [lo, hi].
function pathOf(values, w, h, lo, hi) {
  const n = values.length;
  if (n === 0) return '';
  const span = hi - lo || 1;
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null || v === undefined) { pen = false; return; }
    const x = n === 1 ? w : (i / (n - 1)) * w;
    const y = h - ((v - lo) / span) * h;
    d += (pen ? 'L' : 'M') + x.toFixed(1) + ' ' + y.toFixed(1);
    pen = true;
  });
  return d;
}
function range(lists) {
  let lo = 0, hi = 0;
  for (const vs of lists) for (const v of vs) if (v !== null && v !== undefined) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  return [lo, hi];
}
function sparkline(points) {
  const [lo, hi] = range([points]);
  const line = pathOf(points, 100, 24, lo, hi);
  return el('svg:svg', {class: 'spark', viewBox: '0 0 100 26', preserveAspectRatio: 'none', 'aria-hidden': 'true'},
    el('svg:path', {d: line, transform: 'translate(0 1)'}));
}

// ---- state ----
const page = routeOf(location);
let view = null;       // the page's data: last snapshot with updates applied
let source = null;
const main = document.getElementById('main');

function routeOf(loc) {
  if (loc.pathname === '/swarm') return {kind: 'swarm'};
  const m = loc.pathname.match(/^\/service\/([^/]+)$/);
  if (m) return {kind: 'service', service: decodeURIComponent(m[1]), replica: new URLSearchParams(loc.search).get('replica') || ''};
  return {kind: 'overview'};
}

function connect() {
  const q = new URLSearchParams({page: page.kind});
  if (page.service) q.set('service', page.service);
  if (page.replica) q.set('replica', page.replica);
  source = new EventSource('/events?' + q);
  source.addEventListener('snapshot', e => receive(JSON.parse(e.data), true));
  source.addEventListener('update', e => receive(JSON.parse(e.data), false));
  source.onopen = () => setConn('live', 'ok');
  source.onerror = () => setConn('reconnecting…', 'bad');
}

function setConn(text, cls) {
  const c = document.getElementById('conn');
  c.textContent = text;
  c.className = 'conn ' + cls;
}

// receive applies a message and draws the page.
function receive(msg, snapshot) {
  if (!snapshot && (!view || msg.t <= view.t)) return;
  if (snapshot || msg.page === 'swarm') view = msg;
  else apply(view, msg);
  document.body.dataset.updated = String(msg.t);
  document.body.dataset.interval = String(msg.interval_ms);
  drawNotes(msg.notes);
  if (page.kind === 'overview') (snapshot ? drawOverview : patchOverview)(view);
  else if (page.kind === 'service') (snapshot ? drawService : patchService)(view);
  else drawSwarm(view);
  document.body.dataset.drawn = String(Date.now());
  freshness();
}

// apply appends an update's values to the snapshot it fits.
function apply(v, u) {
  const limit = page.kind === 'overview' ? SPARK_POINTS : Infinity;
  v.t = u.t; v.took_ms = u.took_ms; v.notes = u.notes;
  if (v.times) { v.times.push(u.t); trim(v.times, limit); }
  if (page.kind === 'overview') {
    v.untracked = u.untracked;
    u.services.forEach((s, i) => {
      const vs = v.services[i];
      Object.assign(vs, {error: s.error, since: s.since});
      s.replicas.forEach((r, j) => {
        const vr = vs.replicas[j];
        const figs = vr.figures;
        Object.assign(vr, r, {figures: figs});
        r.figures.forEach((f, k) => {
          const p = figs[k].p || (figs[k].p = []);
          Object.assign(figs[k], f, {p});
          p.push(f.v);
          trim(p, limit);
        });
      });
    });
  } else {
    v.replicas = u.replicas;
    u.charts.forEach((c, i) => {
      const vc = v.charts[i];
      vc.dist = c.dist;
      c.lines.forEach((l, j) => {
        const vl = vc.lines[j];
        vl.v = l.v;
        (vl.p || (vl.p = [])).push(l.v);
      });
    });
    // Keep the history's window: drop points older than it.
    while (v.times.length > 2 && u.t - v.times[0] > v.window_ms) {
      v.times.shift();
      for (const c of v.charts) for (const l of c.lines) l.p.shift();
    }
  }
}
function trim(a, n) { while (a.length > n) a.shift(); }

function drawNotes(notes) {
  const n = document.getElementById('notes');
  n.hidden = !notes || notes.length === 0;
  n.textContent = (notes || []).join(' · ');
}

// freshness marks the page stale when no update came for three intervals,
// so an old value is never shown as current.
function freshness() {
  if (!view) return;
  const age = Date.now() - view.t;
  const stale = age > 3 * (view.interval_ms || 1000) + 1000;
  main.classList.toggle('stale', stale);
  let b = document.getElementById('stale');
  if (stale && !b) {
    b = el('div', {id: 'stale', class: 'stale-banner', role: 'alert'});
    main.prepend(b);
  }
  if (stale) b.textContent = `No update from the dashboard for ${fmtDuration(age / 1000)}: the values below are from ${fmtClock(view.t)}.`;
  else if (b) b.remove();
  document.getElementById('conn').title = `last update ${fmtClock(view.t)}, round took ${fmtNum(view.took_ms)} ms`;
}

// ---- overview ----
function replicaState(r) {
  const since = r.since ? ` since ${fmtClock(r.since)} (${fmtDuration((Date.now() - r.since) / 1000)})` : '';
  return el('span', {class: `badge state-${r.state}`, dataset: {role: 'state'}}, stateText(r.state) + (r.state === 'up' ? '' : since));
}

function drawOverview(v) {
  const nav = document.getElementById('service-nav');
  nav.replaceChildren(...v.services.map(s => el('a', {href: '/service/' + encodeURIComponent(s.name)}, s.name)));
  const grid = el('div', {class: 'grid'});
  for (const s of v.services) {
    const card = el('section', {class: 'card', dataset: {service: s.name}},
      el('h2', {}, el('a', {href: '/service/' + encodeURIComponent(s.name)}, s.name),
        el('span', {class: 'muted', dataset: {role: 'count'}}, countText(s))),
      el('div', {class: 'error', dataset: {role: 'svc-error'}}, svcError(s)));
    for (const r of s.replicas) card.append(replicaBlock(r, s.name));
    if (s.replicas.length === 0) card.append(el('p', {class: 'muted'}, 'no replica found'));
    grid.append(card);
  }
  main.replaceChildren(grid);
}
function countText(s) {
  const up = s.replicas.filter(r => r.state === 'up').length;
  return `${up}/${s.replicas.length} up`;
}
function svcError(s) { return s.error ? `${s.error} (since ${fmtClock(s.since)})` : ''; }

function replicaBlock(r, service) {
  const figs = el('div', {class: 'figs'});
  for (const f of r.figures) {
    figs.append(el('div', {class: 'fig', dataset: {fig: f.k}},
      el('div', {class: 'label', title: f.l}, f.l),
      el('div', {class: 'value', dataset: {value: f.v === null ? '' : String(f.v)}}, fmtValue(f.v, f.u)),
      sparkline(f.p || []),
      el('div', {class: 'parts'}, partsText(f))));
  }
  return el('div', {class: 'replica', dataset: {key: r.key, state: r.state}},
    el('div', {class: 'rhead'}, el('h3', {title: r.name}, shortName(r.name, service)), replicaState(r)),
    el('div', {class: 'rmeta'}, metaItems(r)),
    el('div', {class: 'error', dataset: {role: 'error'}}, r.error || ''),
    figs);
}
function metaItems(r) {
  return [
    el('span', {dataset: {role: 'version'}}, 'version ' + (r.version || '?')),
    el('span', {dataset: {role: 'uptime'}}, 'uptime ' + fmtDuration(r.uptime_s)),
    r.addr !== r.name ? el('span', {class: 'mono'}, r.addr) : null,
    r.in_dns ? null : el('span', {}, 'not in DNS'),
  ];
}
function partsText(f) {
  return (f.parts || []).map(p => `${p.l}: ${fmtValue(p.v, f.u)}`).join(' · ');
}

function patchOverview(v) {
  for (const s of v.services) {
    const card = main.querySelector(`section[data-service="${CSS.escape(s.name)}"]`);
    if (!card) continue;
    card.querySelector('[data-role=count]').textContent = countText(s);
    card.querySelector('[data-role=svc-error]').textContent = svcError(s);
    for (const r of s.replicas) {
      const block = card.querySelector(`.replica[data-key="${CSS.escape(r.key)}"]`);
      if (!block) continue;
      block.dataset.state = r.state;
      block.querySelector('[data-role=state]').replaceWith(replicaState(r));
      block.querySelector('.rmeta').replaceChildren(...metaItems(r).filter(Boolean));
      block.querySelector('[data-role=error]').textContent = r.error || '';
      for (const f of r.figures) {
        const fe = block.querySelector(`.fig[data-fig="${CSS.escape(f.k)}"]`);
        if (!fe) continue;
        const val = fe.querySelector('.value');
        val.textContent = fmtValue(f.v, f.u);
        val.dataset.value = f.v === null ? '' : String(f.v);
        fe.querySelector('svg.spark').replaceWith(sparkline(f.p || []));
        fe.querySelector('.parts').textContent = partsText(f);
      }
    }
  }
}

// ---- service page ----
function drawService(v) {
  const sel = el('select', {id: 'replica', 'aria-label': 'replica', onchange: e => {
    const q = e.target.value ? '?replica=' + encodeURIComponent(e.target.value) : '';
    location.assign('/service/' + encodeURIComponent(v.service) + q);
  }}, el('option', {value: ''}, 'all replicas (summed)'),
  v.replicas.map(r => el('option', {value: r.key, selected: r.key === v.replica}, `${shortName(r.name, v.service)} (${stateText(r.state)})`)));
  const states = el('div', {class: 'rmeta', id: 'replica-states'}, replicaStates(v));
  const grid = el('div', {class: 'grid'});
  for (const c of v.charts) grid.append(chartCard(c, v.times));
  main.replaceChildren(el('h1', {class: 'page-title'}, v.service), el('div', {class: 'toolbar'}, sel, states),
    v.charts.length ? grid : el('p', {class: 'muted'}, 'No metrics read yet.'));
}
function replicaStates(v) {
  return v.replicas.map(r => el('span', {dataset: {key: r.key, state: r.state}, title: r.name}, `${shortName(r.name, v.service)}: `, replicaState(r),
    r.error ? el('span', {class: 'error'}, ' ' + r.error) : null));
}
function chartCard(c, times) {
  const card = el('section', {class: 'card chart', dataset: {chart: c.id}},
    el('h2', {}, el('span', {class: 'mono'}, c.id), el('span', {class: 'badge muted'}, c.type === 'counter' ? 'rate' : c.type)),
    c.help ? el('p', {class: 'help'}, c.help) : null);
  card.append(lineChart(c, times));
  if (c.dist) card.append(distChart(c));
  return card;
}
function lineChart(c, times) {
  const [lo, hi] = range(c.lines.map(l => l.p || []));
  const svg = el('svg:svg', {viewBox: '0 0 600 150', preserveAspectRatio: 'none', role: 'img', 'aria-label': c.id});
  svg.append(el('svg:line', {class: 'base', x1: 0, y1: 149.5, x2: 600, y2: 149.5}));
  c.lines.forEach((l, i) => svg.append(el('svg:path', {class: `line s${i % 8}`, d: pathOf(l.p || [], 600, 146, lo, hi), transform: 'translate(0 2)'})));
  const span = times && times.length > 1 ? (times[times.length - 1] - times[0]) / 1000 : 0;
  const legend = el('div', {class: 'legend'}, c.lines.map((l, i) =>
    el('span', {dataset: {line: l.l}}, el('i', {class: `b${i % 8}`}), `${l.l}: `, el('b', {class: 'value'}, fmtValue(l.v, c.u)))));
  return el('div', {class: 'plot'},
    el('div', {class: 'axis'}, el('span', {}, 'max ' + fmtValue(hi, c.u)), el('span', {}, '')),
    svg,
    el('div', {class: 'axis'}, el('span', {}, '−' + fmtDuration(span)), el('span', {}, 'now')),
    legend);
}
function distChart(c) {
  const max = Math.max(1, ...c.dist.map(b => b.v || 0));
  const w = 600 / c.dist.length;
  const svg = el('svg:svg', {viewBox: '0 0 600 90', preserveAspectRatio: 'none', role: 'img', 'aria-label': c.id + ' distribution'});
  c.dist.forEach((b, i) => {
    const h = ((b.v || 0) / max) * 88;
    svg.append(el('svg:rect', {x: i * w + 1, y: 90 - h, width: Math.max(1, w - 2), height: h}, el('svg:title', {}, `≤ ${b.le}: ${fmtNum(b.v)}`)));
  });
  return el('div', {class: 'dist'}, el('p', {class: 'help'}, 'observations per bucket, last minute (upper bound)'), svg,
    el('div', {class: 'axis'}, c.dist.map(b => el('span', {title: b.le}, c.u === 's' && b.le !== '+Inf' ? fmtSeconds(Number(b.le)) : b.le))));
}
function patchService(v) {
  document.getElementById('replica-states').replaceChildren(...replicaStates(v));
  for (const c of v.charts) {
    const card = main.querySelector(`section[data-chart="${CSS.escape(c.id)}"]`);
    if (!card) continue;
    card.querySelector('.plot').replaceWith(lineChart(c, v.times));
    const d = card.querySelector('.dist');
    if (d && c.dist) d.replaceWith(distChart(c));
  }
}

// ---- swarm ----
let fetchMsg = '';
// shortName drops a compose project's prefix from a container name:
// "netlab-peer-2" is "peer-2" (the full name is in its title).
function shortName(name, service) {
  const re = service ? new RegExp('(' + service.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '[-_]\\d+)$') : /([a-z]+[-_]\d+)$/i;
  const m = name.match(re);
  return m ? m[1] : name;
}
function drawSwarm(v) {
  let tools = document.getElementById('fetch-tools');
  if (!tools) {
    tools = el('div', {class: 'toolbar', id: 'fetch-tools'},
      el('label', {for: 'fetch-file'}, 'Fetch'), el('select', {id: 'fetch-file', 'aria-label': 'file'}),
      el('label', {for: 'fetch-node'}, 'on'), el('select', {id: 'fetch-node', 'aria-label': 'node'}),
      el('button', {class: 'act', id: 'fetch-go', type: 'button', onclick: fetchFile}, 'Fetch'),
      el('span', {class: 'fetch-msg', id: 'fetch-msg', role: 'status'}));
    main.replaceChildren(tools, el('div', {id: 'swarm-body'}));
  }
  fillSelect('fetch-file', v.files.map(f => [f.id, `${f.name} (${fmtBytes(f.size, '')})`]));
  fillSelect('fetch-node', v.nodes.filter(n => n.state !== 'down').map(n => [n.key, shortName(n.name)]));
  document.getElementById('fetch-go').disabled = v.files.length === 0 || v.nodes.length === 0;
  document.getElementById('fetch-msg').textContent = fetchMsg;
  const body = el('div', {class: 'grid'},
    el('section', {class: 'card swarm-graph'}, el('h2', {}, 'Nodes and links'), graph(v), linkTable(v)),
    el('section', {class: 'card'}, el('h2', {}, 'Files'), v.files.length ? v.files.map(f => fileBlock(v, f)) : el('p', {class: 'muted'}, 'No file in the swarm yet.'),
      v.more_files ? el('p', {class: 'muted'}, `${v.more_files} more files not shown`) : null));
  document.getElementById('swarm-body').replaceChildren(body);
}
function fillSelect(id, options) {
  const s = document.getElementById(id);
  const want = options.map(o => o.join('\u0000')).join('\u0001');
  if (s.dataset.options === want) return;
  const keep = s.value;
  s.replaceChildren(...options.map(([value, text]) => el('option', {value}, text)));
  if (options.some(o => o[0] === keep)) s.value = keep;
  s.dataset.options = want;
}
function graph(v) {
  const n = v.nodes.length;
  const size = 400, c = size / 2, rad = n > 1 ? size / 2 - 50 : 0;
  const pos = v.nodes.map((_, i) => [c + rad * Math.cos(2 * Math.PI * i / n - Math.PI / 2), c + rad * Math.sin(2 * Math.PI * i / n - Math.PI / 2)]);
  const svg = el('svg:svg', {viewBox: `0 0 ${size} ${size}`, role: 'img', 'aria-label': 'peer nodes and links'});
  const maxRate = Math.max(1, ...v.links.map(l => (l.ab || 0) + (l.ba || 0)));
  for (const l of v.links) {
    const rate = (l.ab || 0) + (l.ba || 0);
    const [a, b] = [pos[l.a], pos[l.b]];
    svg.append(el('svg:line', {x1: a[0], y1: a[1], x2: b[0], y2: b[1], class: rate > 0 ? 'busy' : '',
      'stroke-width': rate > 0 ? 1.5 + 5 * Math.sqrt(rate / maxRate) : 1, dataset: {a: l.a, b: l.b}}));
    if (rate > 0 && n <= 12) {
      svg.append(el('svg:text', {class: 'rate', x: (a[0] + b[0]) / 2, y: (a[1] + b[1]) / 2 - 3, 'text-anchor': 'middle'}, fmtBytes(rate, '/s')));
    }
  }
  v.nodes.forEach((node, i) => {
    const [x, y] = pos[i];
    svg.append(el('svg:circle', {cx: x, cy: y, r: n > 12 ? 7 : 11, class: `node-${node.state}`},
      el('svg:title', {}, `${node.name} ${node.id || ''}: ${node.files} files, ${node.peers} peers, ↑ ${fmtBytes(node.up, '/s')} ↓ ${fmtBytes(node.down, '/s')}`)));
    if (n <= 16) {
      const below = y > c;
      svg.append(el('svg:text', {x, y: below ? y + 24 : y - 16, 'text-anchor': 'middle'}, shortName(node.name)));
    }
  });
  return svg;
}
function linkTable(v) {
  const rows = v.links.map(l => ({l, rate: (l.ab || 0) + (l.ba || 0)})).sort((x, y) => y.rate - x.rate);
  const shown = rows.slice(0, 12);
  const name = i => shortName(v.nodes[i].name);
  return el('div', {},
    el('table', {class: 'links'},
      el('thead', {}, el('tr', {}, el('th', {}, 'link'), el('th', {}, '→'), el('th', {}, '←'))),
      el('tbody', {}, shown.map(({l}) => el('tr', {}, el('td', {}, `${name(l.a)} ↔ ${name(l.b)}`),
        el('td', {}, fmtBytes(l.ab, '/s')), el('td', {}, fmtBytes(l.ba, '/s')))))),
    rows.length > shown.length ? el('p', {class: 'muted'}, `${rows.length - shown.length} more links, idle or slower`) : null,
    el('p', {class: 'muted'}, `${v.nodes.length} nodes, ${v.links.length} links`));
}
// shortID is a file id's first 12 hex digits, as the peer's logs print
// it: after the algorithm of a "blake3:<hex>" id, or from the start of a
// bare SHA-256 one.
function shortID(id) {
  const i = id.indexOf(':');
  return id.slice(i + 1, i + 13);
}
function fileBlock(v, f) {
  return el('div', {class: 'replica', dataset: {file: f.id}},
    el('div', {class: 'rhead'}, el('h3', {}, f.name), el('span', {class: 'muted'}, `${fmtBytes(f.size, '')}, ${f.pieces} pieces`),
      el('span', {class: 'mono muted', title: f.id}, shortID(f.id))),
    f.maps.map(m => pieceMapRow(v, f, m)));
}
function pieceMapRow(v, f, m) {
  const node = v.nodes[m.node];
  const cells = m.map ? m.map.length : 1;
  const svg = el('svg:svg', {viewBox: `0 0 ${cells} 1`, preserveAspectRatio: 'none', 'aria-hidden': 'true'});
  if (!m.map) {
    if (m.held >= f.pieces && f.pieces > 0) svg.append(el('svg:rect', {x: 0, y: 0, width: 1, height: 1}));
  } else {
    // One rect per run of equal cells; opacity says how much of it is held.
    for (let i = 0; i < cells;) {
      let j = i;
      while (j < cells && m.map[j] === m.map[i]) j++;
      const level = Number(m.map[i]);
      if (level > 0) svg.append(el('svg:rect', {x: i, y: 0, width: j - i, height: 1, opacity: level === 9 ? 1 : 0.25 + level / 12}));
      i = j;
    }
  }
  const pct = f.pieces ? Math.floor(100 * m.held / f.pieces) : 0;
  return el('div', {class: 'pmap', dataset: {node: node.key, held: m.held, pieces: f.pieces, state: m.state}},
    el('span', {class: 'who', title: node.name}, shortName(node.name)), svg,
    el('span', {class: 'st'}, `${m.state} ${m.held}/${f.pieces} (${pct}%)`));
}
async function fetchFile() {
  const ref = document.getElementById('fetch-file').value;
  const node = document.getElementById('fetch-node').value;
  fetchMsg = 'asking…';
  document.getElementById('fetch-msg').textContent = fetchMsg;
  try {
    const resp = await fetch('/api/fetch', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({node, ref})});
    const body = await resp.json().catch(() => ({}));
    fetchMsg = resp.ok ? `${shortName(node)}: ${body.state || 'asked'} (${resp.status})` : `${shortName(node)}: ${body.error || resp.statusText} (${resp.status})`;
  } catch (e) {
    fetchMsg = 'failed: ' + e.message;
  }
  document.getElementById('fetch-msg').textContent = fetchMsg;
}

// ---- theme ----
function setupTheme() {
  const root = document.documentElement;
  const saved = localStorage.getItem('netlab-theme');
  if (saved === 'light' || saved === 'dark') root.dataset.theme = saved;
  document.getElementById('theme').addEventListener('click', () => {
    const dark = root.dataset.theme ? root.dataset.theme === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
    root.dataset.theme = dark ? 'light' : 'dark';
    localStorage.setItem('netlab-theme', root.dataset.theme);
  });
}

function start() {
  setupTheme();
  for (const a of document.querySelectorAll('nav a[data-nav]')) a.classList.toggle('here', a.dataset.nav === page.kind);
  document.body.dataset.page = page.kind;
  connect();
  setInterval(freshness, 500);
}
start();
