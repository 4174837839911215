// Hookflash admin UI: a small single-page app over the REST API (/api/v1).
// No build step, no inline script (the CSP is default-src 'self'). Pages
// are chosen by the URL hash; live pages follow the server's event stream
// (GET /api/v1/events, Server-Sent Events) and fall back to polling the
// API every 2 s when the stream cannot be had.

import { voicemailPage } from './voicemail.js';

const API = '/api/v1';
const POLL_MS = 2000;
const PAGE_SIZE = 25;

const state = { session: null, csrf: null, stop: [] };
const main = document.getElementById('main');

// --- DOM helpers -------------------------------------------------------------

// h('tag', {attr: value, onclick: fn}, child, ...): children are nodes or text.
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function field(id, label, input, hint) {
  input.id = id;
  input.setAttribute('aria-describedby', id + '-err');
  return h('div', { class: 'field' },
    h('label', { for: id }, label), input, hint || null,
    h('span', { class: 'err', id: id + '-err', 'data-err-for': input.name || id }));
}

function toast(msg) {
  const t = document.getElementById('toast');
  t.textContent = msg;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.textContent = ''; }, 4000);
}

function fmtTime(ms) {
  if (!ms) return '';
  const d = new Date(ms);
  return d.toLocaleString();
}

function fmtDur(s) {
  s = s | 0;
  const m = Math.floor(s / 60), ss = String(s % 60).padStart(2, '0');
  return m >= 60 ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

// --- API ---------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `HTTP ${status}`);
    this.status = status;
    this.field = body && body.field;
  }
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(API + path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  if (r.status !== 204) {
    try { data = await r.json(); } catch { data = null; }
  }
  if (r.status === 401 && path !== '/login') {
    state.session = null;
    state.csrf = null;
    go('login');
    throw new ApiError(401, data);
  }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

// Shows an API error next to its field in form (or in the form's general
// error slot when the field is unknown).
function showError(form, err) {
  clearErrors(form);
  let slot = err.field && form.querySelector(`[data-err-for="${CSS.escape(err.field)}"]`);
  if (slot) {
    const input = form.querySelector(`[name="${CSS.escape(err.field)}"]`);
    if (input) { input.setAttribute('aria-invalid', 'true'); input.focus(); }
  } else {
    slot = form.querySelector('[data-err-for="_form"]');
  }
  if (slot) slot.textContent = err.message;
  else toast(err.message);
}

function clearErrors(form) {
  form.querySelectorAll('.err').forEach((e) => { e.textContent = ''; });
  form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
}

// --- routing -----------------------------------------------------------------

const pages = { login, dashboard, extensions, numbers, calls, history, registrations, voicemail, settings, security, about };

function go(page) {
  if (location.hash !== '#/' + page) location.hash = '#/' + page;
  else route();
}

function stopTimers() {
  state.stop.forEach((f) => f());
  state.stop = [];
}

// Runs fn now and every POLL_MS until the page changes.
function poll(fn) {
  let alive = true, timer = null;
  const tick = async () => {
    try { await fn(); } catch (e) { if (e.status !== 401) console.warn(e); }
    if (alive) timer = setTimeout(tick, POLL_MS);
  };
  state.stop.push(() => { alive = false; clearTimeout(timer); });
  tick();
}

// Follows the live calls and registrations: handlers.calls(list) and
// handlers.registrations(list) run with each snapshot the server sends.
// EventSource reconnects by itself after a dropped connection; when the
// server refuses the stream (503: too many open, or an old proxy) it is
// given up and the lists are polled instead. main[data-live] says which.
function live(handlers) {
  const kinds = Object.keys(handlers);
  const fallback = () => {
    main.dataset.live = 'poll';
    poll(async () => {
      for (const k of kinds) handlers[k]((await api('GET', `/${k}`))[k]);
    });
  };
  if (!window.EventSource) { fallback(); return; }
  const es = new EventSource(`${API}/events`);
  let polling = false;
  main.dataset.live = 'connecting';
  for (const k of kinds) {
    es.addEventListener(k, (ev) => {
      main.dataset.live = 'sse';
      try { handlers[k](JSON.parse(ev.data)[k]); } catch (e) { console.warn(e); }
    });
  }
  es.addEventListener('error', () => {
    if (es.readyState === EventSource.CLOSED && !polling) {
      polling = true;
      fallback();
    }
  });
  state.stop.push(() => es.close());
}

// Calls fn every second until the page changes (counting clocks).
function every(fn) {
  const t = setInterval(fn, 1000);
  state.stop.push(() => clearInterval(t));
}

async function route() {
  stopTimers();
  let name = (location.hash.match(/^#\/([a-z]+)/) || [])[1] || 'dashboard';
  if (!pages[name]) name = 'dashboard';
  if (name !== 'login' && !state.session) {
    try {
      const s = await api('GET', '/session');
      setSession(s);
    } catch {
      name = 'login';
    }
  }
  const admin = state.session && state.session.role === 'admin';
  if ((name === 'settings' || name === 'security') && !admin) name = 'dashboard';
  const top = document.getElementById('top');
  top.hidden = name === 'login';
  document.querySelectorAll('.top [data-admin]').forEach((el) => { el.hidden = !admin; });
  document.querySelectorAll('.top a[data-page]').forEach((a) => {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  main.replaceChildren();
  main.dataset.page = name;
  pages[name]();
}

function setSession(s) {
  state.session = s;
  state.csrf = s.csrf_token;
  document.getElementById('who').textContent = `${s.username} (${s.role})`;
}

function title(text) {
  document.title = `${text} – Hookflash PBX`;
  return h('h1', {}, text);
}

// --- pages -------------------------------------------------------------------

function login() {
  const user = h('input', { name: 'username', autocomplete: 'username', required: true });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'card login', id: 'login-form', novalidate: true },
    title('Log in'),
    field('login-username', 'User name', user),
    field('login-password', 'Password', pass),
    h('p', { class: 'err', 'data-err-for': '_form', role: 'alert' }),
    h('button', { type: 'submit' }, 'Log in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      const s = await api('POST', '/login', { username: user.value, password: pass.value });
      setSession(s);
      go('dashboard');
    } catch (e) {
      showError(form, e);
    }
  });
  main.append(form);
  user.focus();
}

function dashboard() {
  const calls = h('span', { class: 'n', id: 'stat-calls' }, '–');
  const regs = h('span', { class: 'n', id: 'stat-registrations' }, '–');
  const exts = h('span', { class: 'n', id: 'stat-extensions' }, '–');
  const total = h('span', { class: 'n', id: 'stat-total' }, '–');
  const info = h('p', { class: 'muted' });
  const chart = h('div', { id: 'chart-slot' });
  const admin = state.session.role === 'admin';
  main.append(title('Dashboard'),
    h('div', { class: 'stats' },
      h('div', { class: 'stat' }, calls, h('span', { class: 'l' }, 'calls now')),
      h('div', { class: 'stat' }, regs, h('span', { class: 'l' }, 'registrations now')),
      admin ? h('div', { class: 'stat' }, exts, h('span', { class: 'l' }, 'extensions')) : null,
      admin ? h('div', { class: 'stat' }, total, h('span', { class: 'l' }, 'calls since start')) : null),
    h('section', { class: 'card', 'aria-labelledby': 'chart-h' },
      h('h2', { id: 'chart-h' }, 'Calls per hour, last 24 hours'), chart),
    info);

  let lastCalls = null;
  async function loadChart() {
    chart.replaceChildren(callsChart(await api('GET', '/stats/calls-per-hour?hours=24')));
  }
  async function loadStatus() {
    if (!admin) return;
    const s = await api('GET', '/status');
    exts.textContent = s.extensions;
    total.textContent = `${s.calls_total} (${s.calls_answered} answered)`;
    info.textContent = `Version ${s.version}, up ${fmtDur(s.uptime_s)}.`;
  }
  live({
    calls: (list) => {
      calls.textContent = list.length;
      // a call that ended is a new record: redraw the chart and totals
      if (lastCalls !== null && list.length < lastCalls) {
        setTimeout(() => { loadChart().catch(() => {}); loadStatus().catch(() => {}); }, 1000);
      }
      lastCalls = list.length;
    },
    registrations: (list) => { regs.textContent = list.length; },
  });
  loadChart().catch((e) => { chart.textContent = e.message; });
  // the slow-moving figures: at once, then every half minute
  let n = 0;
  loadStatus().catch(() => {});
  every(() => {
    n += 1;
    if (n % 30 === 0) { loadStatus().catch(() => {}); loadChart().catch(() => {}); }
  });
}

// A bar chart of calls per hour in SVG, drawn by hand (no library): a
// bar per hour, answered calls darker inside it, hour labels every 3 h.
// The numbers are also in a table for screen readers (the SVG is
// aria-hidden, the table visually hidden), and each bar has a tooltip.
const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function callsChart(data) {
  const W = 720, H = 200, L = 36, B = 24, T = 8;
  const hours = data.hours;
  const max = Math.max(1, ...hours.map((x) => x.calls));
  const step = max <= 5 ? 1 : Math.ceil(max / 5);
  const top = Math.ceil(max / step) * step;
  const bw = (W - L) / hours.length;
  const y = (v) => T + (H - T - B) * (1 - v / top);
  const hh = (ms) => new Date(ms).toTimeString().slice(0, 5);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', 'aria-hidden': 'true', focusable: 'false' });
  for (let v = 0; v <= top; v += step) {
    svg.append(s('line', { x1: L, x2: W, y1: y(v), y2: y(v), class: 'grid' }),
      s('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, v));
  }
  hours.forEach((x, i) => {
    const x0 = L + i * bw + 2, w = Math.max(1, bw - 4);
    const g = s('g', { class: 'bar', 'data-start': x.start_ms, 'data-calls': x.calls },
      s('title', {}, `${hh(x.start_ms)}: ${x.calls} calls, ${x.answered} answered`));
    if (x.calls) g.append(s('rect', { x: x0, y: y(x.calls), width: w, height: y(0) - y(x.calls), class: 'all' }));
    if (x.answered) g.append(s('rect', { x: x0, y: y(x.answered), width: w, height: y(0) - y(x.answered), class: 'ans' }));
    svg.append(g);
    if (i % 3 === 0 || i === hours.length - 1) {
      svg.append(s('text', { x: x0 + w / 2, y: H - 6, 'text-anchor': 'middle' }, i === hours.length - 1 ? 'now' : hh(x.start_ms)));
    }
  });
  const table = h('table', { class: 'sr-only', id: 'chart-table' },
    h('caption', {}, `Calls per hour over the last 24 hours: ${data.total} in all`),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Hour starting'), h('th', { scope: 'col' }, 'Calls'), h('th', { scope: 'col' }, 'Answered'))),
    h('tbody', {}, hours.map((x) => h('tr', { 'data-start': x.start_ms },
      h('th', { scope: 'row' }, hh(x.start_ms)), h('td', {}, x.calls), h('td', {}, x.answered)))));
  const legend = h('p', { class: 'legend muted' },
    h('span', { class: 'key all' }), ' all calls ', h('span', { class: 'key ans' }), ' answered',
    ` · ${data.total} calls in 24 hours`);
  return h('figure', { class: 'chart-fig', id: 'calls-chart', 'data-total': data.total }, svg, legend, table);
}

function extensions() {
  const secret = h('div', { id: 'secret-slot' });
  const search = h('input', { type: 'search', name: 'q', placeholder: 'number or name' });
  const tbody = h('tbody', { id: 'ext-rows' });
  let all = [];
  // what a codec list is, from the server's codec table (GET /codecs)
  const codecSyntax = api('GET', '/codecs').then((c) => c.syntax).catch(() => '');

  const number = h('input', { name: 'number', inputmode: 'numeric', required: true, autocomplete: 'off' });
  const name = h('input', { name: 'name', autocomplete: 'off' });
  const form = h('form', { class: 'grid', id: 'ext-create', novalidate: true },
    field('ext-number', 'Number', number),
    field('ext-name', 'Name', name),
    h('div', { class: 'field' }, h('button', { type: 'submit' }, 'Create extension'),
      h('span', { class: 'err', 'data-err-for': '_form', role: 'alert' })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = { number: number.value.trim() };
    if (name.value.trim()) body.name = name.value.trim();
    try {
      const x = await api('POST', '/extensions', body);
      showSecret(x.number, x.password);
      form.reset();
      await load();
    } catch (e) {
      showError(form, e);
    }
  });

  function showSecret(num, pw) {
    if (!pw) return;
    const close = h('button', { type: 'button', class: 'secondary', id: 'secret-dismiss' }, 'Done, hide it');
    const panel = h('div', { class: 'secret', role: 'region', 'aria-labelledby': 'secret-title', id: 'secret' },
      h('h2', { id: 'secret-title' }, `SIP password of extension ${num}`),
      h('p', {}, 'Copy it now: it is shown only this once. ',
        h('code', { id: 'new-password', 'data-number': num }, pw)),
      close);
    close.addEventListener('click', () => panel.remove());
    secret.replaceChildren(panel);
    close.focus();
  }

  function row(x) {
    const tr = h('tr', { 'data-number': x.number },
      h('td', {}, x.number), h('td', {}, x.name), h('td', {}, x.enabled ? 'yes' : 'no'),
      h('td', {}, x.contact || h('span', { class: 'muted' }, 'by REGISTER')),
      h('td', { class: 'actions' },
        h('button', { type: 'button', class: 'small secondary', onclick: () => edit(tr, x), 'aria-label': `Edit ${x.number}` }, 'Edit'),
        h('button', { type: 'button', class: 'small secondary', onclick: () => newPassword(x), 'aria-label': `New password for ${x.number}` }, 'New password'),
        delButton(x)));
    return tr;
  }

  function delButton(x) {
    const b = h('button', { type: 'button', class: 'small danger', 'aria-label': `Delete ${x.number}` }, 'Delete');
    b.addEventListener('click', async () => {
      if (!b.dataset.armed) { // two clicks: no blocking confirm() dialog
        b.dataset.armed = '1';
        b.textContent = 'Really delete?';
        return;
      }
      try {
        await api('DELETE', `/extensions/${encodeURIComponent(x.number)}`);
        toast(`Extension ${x.number} deleted`);
        await load();
      } catch (e) { toast(e.message); }
    });
    return b;
  }

  async function newPassword(x) {
    try {
      const r = await api('POST', `/extensions/${encodeURIComponent(x.number)}/password`);
      showSecret(x.number, r.password);
    } catch (e) { toast(e.message); }
  }

  function edit(tr, x) {
    const id = `edit-${x.number}`;
    const nm = h('input', { name: 'name', value: x.name || '' });
    const en = h('input', { name: 'enabled', type: 'checkbox', id: `${id}-enabled` });
    en.checked = !!x.enabled;
    const cs = h('input', { name: 'codecs', value: x.codecs || '', placeholder: 'system default' });
    const csHint = h('span', { class: 'hint', id: `${id}-codecs-hint` }, 'empty: the system default');
    codecSyntax.then((sx) => { if (sx) csHint.textContent = `${sx}; empty: the system default`; });
    const sr = h('select', { name: 'srtp' },
      ...['optional', 'required', 'off'].map((v) => h('option', { value: v }, v)));
    sr.value = x.srtp || 'optional';
    // call handling: '' and 0 are the defaults (the server's rules, db_ext_validate)
    const rt = h('input', { name: 'ring_time', type: 'number', min: 0, max: 300, value: x.ring_time || '', placeholder: '25 (default)' });
    const dest = (n) => h('input', { name: n, value: x[n] || '', placeholder: 'voicemail (default)', autocomplete: 'off' });
    const fwd = (n) => h('input', { name: n, value: x[n] || '', placeholder: 'off', inputmode: 'tel', autocomplete: 'off' });
    const na = dest('no_answer'), bz = dest('busy'), ua = dest('unavailable');
    const fa = fwd('forward_all'), fb = fwd('forward_busy'), fn = fwd('forward_no_answer');
    const dnd = h('input', { name: 'dnd', type: 'checkbox', id: `${id}-dnd` });
    dnd.checked = !!x.dnd;
    const destHint = h('span', { class: 'hint' }, 'kind:id (ext:1002, vm:1001) or hangup; empty: its voicemail');
    const f = h('form', { class: 'grid', novalidate: true },
      field(`${id}-name`, 'Name', nm),
      h('div', { class: 'field' }, h('label', { for: `${id}-enabled` }, 'Enabled'), en,
        h('span', { class: 'err', 'data-err-for': 'enabled' })),
      field(`${id}-codecs`, 'Codecs', cs, csHint),
      field(`${id}-srtp`, 'SRTP', sr,
        h('span', { class: 'hint' }, 'SDES keys travel in the SIP signalling: private only when the SIP is (TLS is not there yet)')),
      field(`${id}-ring_time`, 'Ring time (s)', rt, h('span', { class: 'hint' }, '5 to 300 seconds; empty: the default (25)')),
      field(`${id}-no_answer`, 'No answer goes to', na, destHint),
      field(`${id}-busy`, 'Busy goes to', bz, destHint.cloneNode(true)),
      field(`${id}-unavailable`, 'Unavailable goes to', ua,
        h('span', { class: 'hint' }, 'no phone registered; kind:id or hangup; empty: its voicemail')),
      field(`${id}-forward_all`, 'Forward all calls to', fa, h('span', { class: 'hint' }, 'a number to dial (0-9 * # +); empty: off')),
      field(`${id}-forward_busy`, 'Forward when busy to', fb, h('span', { class: 'hint' }, 'empty: off')),
      field(`${id}-forward_no_answer`, 'Forward when not answered to', fn, h('span', { class: 'hint' }, 'empty: off')),
      h('div', { class: 'field' }, h('label', { for: `${id}-dnd` }, 'Do not disturb'), dnd,
        h('span', { class: 'err', 'data-err-for': 'dnd' })),
      h('div', { class: 'field' },
        h('button', { type: 'submit' }, 'Save'),
        h('button', { type: 'button', class: 'secondary', onclick: () => load() }, 'Cancel'),
        h('span', { class: 'err', 'data-err-for': '_form', role: 'alert' })));
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await api('PATCH', `/extensions/${encodeURIComponent(x.number)}`,
          {
            name: nm.value, enabled: en.checked, codecs: cs.value.trim(), srtp: sr.value,
            // a ring time that is not a whole number goes as typed: the server names the rule
            ring_time: rt.value.trim() === '' ? 0 : (Number.isInteger(Number(rt.value)) ? Number(rt.value) : rt.value),
            no_answer: na.value.trim(), busy: bz.value.trim(), unavailable: ua.value.trim(),
            forward_all: fa.value.trim(), forward_busy: fb.value.trim(), forward_no_answer: fn.value.trim(),
            dnd: dnd.checked,
          });
        toast(`Extension ${x.number} saved`);
        await load();
      } catch (e) { showError(f, e); }
    });
    tr.replaceChildren(h('td', {}, x.number), h('td', { colspan: 4 }, f));
    nm.focus();
  }

  function render() {
    const q = search.value.trim().toLowerCase();
    const rows = all.filter((x) => !q || x.number.includes(q) || (x.name || '').toLowerCase().includes(q));
    tbody.replaceChildren(...(rows.length ? rows.map(row)
      : [h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No extensions'))]));
  }

  async function load() {
    all = (await api('GET', '/extensions')).extensions;
    render();
  }

  search.addEventListener('input', render);
  const admin = state.session.role === 'admin';
  main.append(title('Extensions'), secret,
    admin ? h('section', { class: 'card', 'aria-labelledby': 'create-h' }, h('h2', { id: 'create-h' }, 'New extension'), form) : null,
    h('div', { class: 'toolbar' }, field('ext-search', 'Search', search)),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Number', 'Name', 'Enabled', 'Contact', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody)));
  load().catch((e) => toast(e.message));
}

// The numbering plan, read-only: every dialable number and where it goes.
function numbers() {
  const tbody = h('tbody', { id: 'number-rows' });
  main.append(title('Numbers'),
    h('p', { class: 'muted' }, 'Every dialable number: extensions, feature codes. A number has one owner.'),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'sr-only' }, 'Numbering plan'),
      h('thead', {}, h('tr', {}, ['Number', 'Destination', 'What'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody)));
  api('GET', '/numbers').then((r) => {
    tbody.replaceChildren(...(r.numbers.length ? r.numbers.map((n) => h('tr', { 'data-number': n.number },
      h('td', {}, n.number), h('td', {}, n.dest), h('td', {}, n.what)))
      : [h('tr', {}, h('td', { colspan: 3, class: 'empty' }, 'No numbers'))]));
  }).catch((e) => { if (e.status !== 401) toast(e.message); });
}

function calls() {
  const tbody = h('tbody', { id: 'call-rows' });
  main.append(title('Live calls'), h('p', { class: 'muted' }, 'Updated as calls change.'),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'sr-only' }, 'Calls in progress'),
      h('thead', {}, h('tr', {}, ['Caller', 'Callee', 'State', 'Duration', 'Codec', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody)));
  const hangup = async (c, b) => {
    b.disabled = true;
    try {
      await api('DELETE', `/calls/${encodeURIComponent(c.id)}`);
      toast(`Call ${c.caller} → ${c.callee} hung up`);
    } catch (e) { toast(e.message); b.disabled = false; }
  };
  let since = Date.now();
  live({
    calls: (list) => {
      since = Date.now();
      tbody.replaceChildren(...(list.length ? list.map((c) => {
        const b = h('button', { type: 'button', class: 'small danger', 'aria-label': `Hang up ${c.caller} to ${c.callee}` }, 'Hang up');
        b.addEventListener('click', () => hangup(c, b));
        return h('tr', { 'data-call-id': c.id, 'data-caller': c.caller, 'data-callee': c.callee },
          h('td', {}, c.caller), h('td', {}, c.callee),
          h('td', {}, h('span', { class: `badge ${c.state}` }, c.state)),
          h('td', { class: 'dur', 'data-s': c.duration_s }, fmtDur(c.duration_s)), h('td', {}, c.codec || ''),
          h('td', { class: 'actions' }, state.session.role === 'admin' ? b : null));
      }) : [h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No calls in progress'))]));
    },
  });
  every(() => {
    const add = Math.floor((Date.now() - since) / 1000);
    tbody.querySelectorAll('td.dur').forEach((td) => { td.textContent = fmtDur(Number(td.dataset.s) + add); });
  });
}

function registrations() {
  const tbody = h('tbody', { id: 'reg-rows' });
  main.append(title('Registrations'), h('p', { class: 'muted' }, 'Updated as phones register and leave.'),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'sr-only' }, 'Registered phones'),
      h('thead', {}, h('tr', {}, ['Extension', 'Contact', 'Source', 'Expires in', 'User agent'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody)));
  let since = Date.now();
  live({
    registrations: (list) => {
      since = Date.now();
      tbody.replaceChildren(...(list.length ? list.map((r) => h('tr', { 'data-extension': r.extension },
        h('td', {}, r.extension), h('td', {}, r.contact), h('td', {}, r.source),
        h('td', { class: 'exp', 'data-s': r.expires_in }, `${r.expires_in} s`), h('td', {}, r.user_agent || '')))
        : [h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No phone is registered'))]));
    },
  });
  every(() => {
    const gone = Math.floor((Date.now() - since) / 1000);
    tbody.querySelectorAll('td.exp').forEach((td) => { td.textContent = `${Math.max(0, Number(td.dataset.s) - gone)} s`; });
  });
}

function history() {
  const from = h('input', { name: 'from', type: 'date' });
  const to = h('input', { name: 'to', type: 'date' });
  const number = h('input', { name: 'number', inputmode: 'numeric', autocomplete: 'off' });
  const disp = h('select', { name: 'disposition' },
    h('option', { value: '' }, 'any'),
    ['ANSWERED', 'VOICEMAIL', 'NO ANSWER', 'BUSY', 'FAILED', 'CANCELLED'].map((d) => h('option', { value: d }, d)));
  const csv = h('a', { id: 'cdr-csv', download: 'cdrs.csv' }, 'Download CSV');
  const form = h('form', { class: 'grid card', id: 'cdr-filter', novalidate: true },
    field('cdr-from', 'From (UTC date)', from), field('cdr-to', 'Before (UTC date)', to),
    field('cdr-number', 'Number', number), field('cdr-disposition', 'Disposition', disp),
    h('div', { class: 'field' }, h('button', { type: 'submit' }, 'Filter'),
      h('span', { class: 'err', 'data-err-for': '_form', role: 'alert' })));
  const tbody = h('tbody', { id: 'cdr-rows' });
  const prev = h('button', { type: 'button', class: 'secondary', id: 'cdr-prev' }, '← Newer');
  const next = h('button', { type: 'button', class: 'secondary', id: 'cdr-next' }, 'Older →');
  const where = h('span', { class: 'muted', id: 'cdr-where' });
  let offset = 0;

  function query(extra) {
    const p = new URLSearchParams();
    if (from.value) p.set('from', from.value);
    if (to.value) p.set('to', to.value);
    if (number.value.trim()) p.set('number', number.value.trim());
    if (disp.value) p.set('disposition', disp.value);
    for (const [k, v] of Object.entries(extra)) p.set(k, v);
    return p.toString();
  }

  async function load() {
    clearErrors(form);
    csv.href = `${API}/cdrs?${query({ format: 'csv' })}`;
    try {
      const r = await api('GET', `/cdrs?${query({ limit: PAGE_SIZE, offset })}`);
      tbody.replaceChildren(...(r.cdrs.length ? r.cdrs.map((c) => h('tr', { 'data-call-id': c.call_id, 'data-id': c.id },
        h('td', {}, fmtTime(c.start_ms)),
        h('td', {}, c.caller, c.caller_name ? h('span', { class: 'muted' }, ` ${c.caller_name}`) : null),
        h('td', {}, c.callee, c.callee_name ? h('span', { class: 'muted' }, ` ${c.callee_name}`) : null),
        h('td', {}, h('span', { class: 'badge' }, c.disposition)),
        h('td', {}, fmtDur(c.duration_s)), h('td', {}, fmtDur(c.billsec)),
        h('td', {}, c.hangup_side || ''), h('td', {}, c.codec || ''), h('td', { class: 'path' }, c.path || '')))
        : [h('tr', {}, h('td', { colspan: 9, class: 'empty' }, 'No calls match'))]));
      prev.disabled = offset === 0;
      next.disabled = r.cdrs.length < PAGE_SIZE;
      where.textContent = r.cdrs.length ? `${offset + 1}–${offset + r.cdrs.length}` : '';
    } catch (e) {
      if (e.status !== 401) showError(form, e);
    }
  }

  form.addEventListener('submit', (ev) => { ev.preventDefault(); offset = 0; load(); });
  prev.addEventListener('click', () => { offset = Math.max(0, offset - PAGE_SIZE); load(); });
  next.addEventListener('click', () => { offset += PAGE_SIZE; load(); });
  const refresh = h('button', { type: 'button', class: 'secondary', id: 'cdr-refresh' }, 'Refresh');
  refresh.addEventListener('click', load);
  main.append(title('Call history'), form,
    h('div', { class: 'toolbar' }, refresh, csv),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Start', 'Caller', 'Callee', 'Disposition', 'Duration', 'Talk', 'Hung up by', 'Codec', 'Path'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody)),
    h('div', { class: 'pager' }, prev, where, next));
  load();
}

function voicemail() {
  voicemailPage({ h, api, field, toast, fmtTime, fmtDur, title, main, state, poll, API, showError, clearErrors });
}

// The daemon's settings (admin): one labelled input per setting, grouped
// by section; only changed values are sent; an error shows next to its
// input; the answer says what applied now and what waits for a restart.
function settings() {
  const slot = h('div', { id: 'settings-slot' }, h('p', { class: 'muted' }, 'Loading…'));
  const status = h('p', { id: 'settings-status', role: 'status', 'aria-live': 'polite' });
  main.append(title('Settings'),
    h('p', { class: 'muted' }, 'Saved settings win over hookflash.conf and the command line. ',
      'Those marked “live” apply at once, without disturbing calls in progress; the others at the next start.'),
    status, slot);
  let current = {};

  const idOf = (name) => `set-${name.replace(/[^a-z0-9]+/g, '-')}`;

  function input(name, d, v) {
    if (d.type === 'boolean') {
      const el = h('input', { type: 'checkbox', name });
      el.checked = !!v;
      return el;
    }
    if (d.type === 'level' || d.type === 'choice') {
      return h('select', { name }, d.choices.map((c) => h('option', { value: c, selected: c === v }, c)));
    }
    if (d.secret) {
      // never filled in: the server does not send secrets back; empty keeps the saved one
      return h('input', { type: 'password', name, value: '', autocomplete: 'new-password',
        placeholder: d.is_set ? '(saved; type to replace)' : '(none)' });
    }
    if (d.type === 'integer') {
      return h('input', { type: 'number', name, value: v, min: d.min, max: d.max, step: 1, inputmode: 'numeric' });
    }
    return h('input', { type: 'text', name, value: v, autocomplete: 'off', spellcheck: 'false' });
  }

  function valueOf(el, d) {
    if (d.type === 'boolean') return el.checked;
    if (d.type === 'integer') return el.value.trim() === '' || !/^-?\d+$/.test(el.value.trim()) ? el.value : Number(el.value);
    return el.value;
  }

  function render(doc) {
    current = doc.settings;
    const form = h('form', { id: 'settings-form', novalidate: true });
    const sections = {};
    for (const [name, d] of Object.entries(doc.schema)) {
      const sec = name.split('.')[0];
      if (!sections[sec]) sections[sec] = h('fieldset', { class: 'grid card' }, h('legend', {}, sec));
      const id = idOf(name);
      const el = input(name, d, doc.settings[name]);
      const pend = (doc.pending_restart || []).includes(name);
      const hint = h('span', { class: 'hint', id: `${id}-hint` },
        d.description, d.type === 'integer' ? ` (${d.min}–${d.max})` : '',
        ' · ', h('span', { class: d.apply === 'live' ? 'tag live' : 'tag restart' }, d.apply === 'live' ? 'live' : 'at restart'),
        pend ? h('span', { class: 'tag pending' }, ` running: ${String(d.running)}`) : null);
      const f = field(id, name.split('.')[1].replace(/_/g, ' '), el, hint);
      el.setAttribute('aria-describedby', `${id}-err ${id}-hint`);
      f.dataset.setting = name;
      sections[sec].append(f);
    }
    if (sections.email) sections.email.append(mailTest());
    form.append(...Object.values(sections),
      h('div', { class: 'toolbar' }, h('button', { type: 'submit' }, 'Save settings'),
        h('span', { class: 'err', 'data-err-for': '_form', role: 'alert' })));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      const body = {};
      for (const [name, d] of Object.entries(doc.schema)) {
        const el = form.querySelector(`[name="${CSS.escape(name)}"]`);
        const v = valueOf(el, d);
        if (v !== current[name]) body[name] = v;
      }
      if (!Object.keys(body).length) { status.textContent = 'Nothing changed.'; return; }
      try {
        const r = await api('PUT', '/settings', body);
        const parts = [`Saved ${r.saved.join(', ')}.`];
        if (r.applied.length) parts.push(`In effect now: ${r.applied.join(', ')}.`);
        if (r.restart_required.length) parts.push(`After a restart: ${r.restart_required.join(', ')}.`);
        render(r);
        status.textContent = parts.join(' ');
      } catch (e) {
        status.textContent = '';
        showError(form, e);
      }
    });
    slot.replaceChildren(form);
  }

  // "Send a test e-mail" with the saved email settings: the answer is what
  // the SMTP server said (can take a while when it does not answer).
  function mailTest() {
    const to = h('input', { type: 'email', name: 'mail-test-to', autocomplete: 'email', placeholder: 'admin@example.com' });
    const out = h('span', { class: 'hint', id: 'mail-test-result', role: 'status', 'aria-live': 'polite' });
    const btn = h('button', { type: 'button', id: 'mail-test-send' }, 'Send test e-mail');
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      out.textContent = 'Sending…';
      try {
        await api('POST', '/email/test', { to: to.value.trim() });
        out.textContent = `Accepted by the SMTP server for ${to.value.trim()}.`;
      } catch (e) {
        out.textContent = e.message;
      } finally {
        btn.disabled = false;
      }
    });
    return h('div', { class: 'field' }, h('label', { for: 'mail-test-to' }, 'test address'),
      Object.assign(to, { id: 'mail-test-to' }), h('div', { class: 'toolbar' }, btn), out);
  }

  api('GET', '/settings').then(render).catch((e) => { slot.textContent = e.message; });
}

// The program, its licence, and the people whose recordings it plays
// (CC-BY-SA 3.0 asks for the credit wherever they are used).
// Security: who is banned (a whole address, or one user refused from an
// address that has working phones) with an Unban button, the recent
// authentication failures, and the trusted networks, which are a setting
// saved through PUT /settings like every other (one validation path).
function security() {
  const bans = h('tbody', { id: 'ban-rows' });
  const fails = h('tbody', { id: 'fail-rows' });
  const status = h('p', { id: 'security-status', role: 'status', 'aria-live': 'polite' });
  const nets = h('input', { type: 'text', name: 'security.trusted_networks', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'e.g. 192.168.1.0/24, 10.0.0.5' });
  const form = h('form', { id: 'trusted-form', class: 'card', novalidate: true },
    field('trusted-networks', 'Trusted networks (never banned)', nets,
      h('span', { class: 'hint', id: 'trusted-networks-hint' },
        'Addresses and networks, comma-separated, that failed logins never ban: your office LAN or VPN. ',
        'They still need passwords.')),
    h('div', { class: 'toolbar' }, h('button', { type: 'submit' }, 'Save trusted networks'),
      h('span', { class: 'err', 'data-err-for': '_form', role: 'alert' })));
  nets.setAttribute('aria-describedby', 'trusted-networks-err trusted-networks-hint');
  main.append(title('Security'), status,
    h('h2', {}, 'Banned'),
    h('p', { class: 'muted' }, 'An address is banned after repeated failed logins. An address that has working phones is never cut off: only the user who keeps failing is refused there.'),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'sr-only' }, 'Banned addresses and users'),
      h('thead', {}, h('tr', {}, ['Address', 'User', 'Reason', 'Since', 'Until', ''].map((t) => h('th', { scope: 'col' }, t)))),
      bans)),
    h('h2', {}, 'Trusted networks'), form,
    h('h2', {}, 'Recent failed logins'),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'sr-only' }, 'Recent authentication failures, newest first'),
      h('thead', {}, h('tr', {}, ['Time', 'Address', 'User', 'Reason'].map((t) => h('th', { scope: 'col' }, t)))),
      fails)));
  let saved = null;
  const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');

  async function load() {
    const d = await api('GET', '/security');
    bans.replaceChildren(...(d.bans.length ? d.bans.map((b) => {
      const btn = h('button', { type: 'button', class: 'secondary', 'data-unban': b.address }, 'Unban');
      btn.addEventListener('click', async () => {
        btn.disabled = true;
        try {
          await api('DELETE', `/bans/${encodeURIComponent(b.address.replace(/\/64$/, ''))}`);
          status.textContent = `Ban on ${b.address} lifted.`;
          await load();
        } catch (e) { btn.disabled = false; status.textContent = e.message; }
      });
      return h('tr', { 'data-address': b.address },
        h('td', {}, b.address), h('td', {}, b.user || ''), h('td', {}, b.reason),
        h('td', {}, when(b.since)), h('td', {}, when(b.until)), h('td', {}, btn));
    }) : [h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'Nobody is banned'))]));
    fails.replaceChildren(...(d.failures.length ? d.failures.map((f) => h('tr', {},
      h('td', {}, when(f.time)), h('td', {}, f.address), h('td', {}, f.user), h('td', {}, f.reason)))
      : [h('tr', {}, h('td', { colspan: 4, class: 'empty' }, 'No failed login lately'))]));
    if (saved === null || nets.value === saved) { // never over what is being typed
      saved = d.trusted_networks;
      nets.value = saved;
    }
  }
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      await api('PUT', '/settings', { 'security.trusted_networks': nets.value.trim() });
      saved = null;
      status.textContent = 'Trusted networks saved; in effect now.';
      await load();
    } catch (e) { showError(form, e); }
  });
  poll(load);
}

function about() {
  const link = (href, text) => h('a', { href, rel: 'noopener' }, text);
  main.append(title('About'),
    h('section', { class: 'card', 'aria-labelledby': 'about-h' },
      h('h2', { id: 'about-h' }, 'Hookflash PBX'),
      h('p', { id: 'about-version' }, `Version ${state.session.version || 'unknown'}.`),
      h('p', {}, 'Free software under the GNU General Public License, version 2 or (at your option) any later version (',
        link('https://spdx.org/licenses/GPL-2.0-or-later.html', 'GPL-2.0-or-later'), ').')),
    h('section', { class: 'card', 'aria-labelledby': 'sounds-h', id: 'about-sounds' },
      h('h2', { id: 'sounds-h' }, 'Sounds'),
      h('p', {}, 'The voice prompts are the Asterisk project\'s English core sounds, recorded by Allison Smith (',
        link('http://www.theivrvoice.com', 'theivrvoice.com'), '), with financial contributions by Digium, Inc., from Debian\'s asterisk-core-sounds-en-wav package.'),
      h('p', {}, 'The music on hold is from opsound.org, in Debian\'s asterisk-moh-opsound-wav package: ',
        '“Cold Day”, “Robot Dity” and “The Simplicity” by Paul Shuler (Macroform), ',
        '“Morning Coffee” by Manolo Camp, and “System” by Reno Project.'),
      h('p', {}, 'Both are licensed under the ',
        link('https://creativecommons.org/licenses/by-sa/3.0/', 'Creative Commons Attribution-ShareAlike 3.0'),
        ' licence. They are not part of Hookflash\'s source; Debian installs them and Hookflash converts the prompts it uses for 8 and 16 kHz calls.')));
}

// --- start -------------------------------------------------------------------

document.getElementById('logout').addEventListener('click', async () => {
  try { await api('POST', '/logout'); } catch { /* gone anyway */ }
  state.session = null;
  state.csrf = null;
  go('login');
});
window.addEventListener('hashchange', route);
document.getElementById('loading')?.remove();
route();
