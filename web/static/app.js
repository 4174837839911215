// Hookflash admin UI: a small single-page app over the REST API (/api/v1).
// No build step, no inline script (the CSP is default-src 'self'). Pages
// are chosen by the URL hash; live pages follow the server's event stream
// (GET /api/v1/events, Server-Sent Events) and fall back to polling the
// API every 2 s when the stream cannot be had.

import { voicemailPage } from './voicemail.js';
import { confirmDialog } from './phone.js';
import { extensionsPage } from './extensions.js';
import { usersPage, tokensPage } from './users.js';
import { statusPage, backupPage } from './ops.js';

const API = '/api/v1';
const POLL_MS = 2000;
const PAGE_SIZE = 25;

const state = { session: null, csrf: null, stop: [], tz: null };
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

// Times are shown in the system's time zone (GET /timezone, named in the
// header), not the browser's, as "2025-03-01 14:05:09" like the CLI.
function zoneFmt(opts) {
  try {
    return new Intl.DateTimeFormat('sv-SE', { ...opts, timeZone: state.tz || undefined });
  } catch {
    return new Intl.DateTimeFormat('sv-SE', opts); // a zone this browser does not know
  }
}

function fmtTime(ms) {
  if (!ms) return '';
  return zoneFmt({ year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    second: '2-digit', hourCycle: 'h23' }).format(new Date(ms));
}

// The system zone's offset from UTC at ms, in ms.
function zoneOffset(ms) {
  const p = Object.fromEntries(zoneFmt({ year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit',
    minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - Math.floor(ms / 1000) * 1000;
}

// Midnight starting "YYYY-MM-DD" (plus days) in the system's zone, as unix ms.
function zoneMidnight(date, days = 0) {
  const [y, m, d] = date.split('-').map(Number);
  const guess = Date.UTC(y, m - 1, d + days);
  const first = guess - zoneOffset(guess);
  return guess - zoneOffset(first); // again at the instant itself: a DST change that day
}

// One duration format everywhere, the CLI's (core/base/duration.c):
// "45s", "4m 58s", "1h 02m", "2d 03h".
function fmtDur(s) {
  s = Math.max(0, Math.floor(Number(s) || 0));
  const p = (n) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${p(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${p(Math.floor(s % 3600 / 60))}m`;
  return `${Math.floor(s / 86400)}d ${p(Math.floor(s % 86400 / 3600))}h`;
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

const pages = { login, dashboard, extensions, numbers, calls, history, registrations, voicemail, settings, security, users, tokens, about };
const ADMIN_PAGES = ['settings', 'security', 'users', 'tokens'];

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
  if (ADMIN_PAGES.includes(name) && !admin) name = 'dashboard';
  if (name !== 'login' && !state.tz) {
    try {
      state.tz = (await api('GET', '/timezone')).timezone;
      document.getElementById('tz').textContent = `times in ${state.tz}`;
    } catch { /* the browser's zone then */ }
  }
  // a generated password must be replaced before anything else (the
  // server answers 403 to the rest until then)
  const forced = !!(state.session && state.session.must_change_password);
  if (forced && name !== 'login') name = 'password';
  const top = document.getElementById('top');
  top.hidden = name === 'login' || forced;
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
  const answered = h('span', { id: 'stat-answered' });
  const info = h('p', { class: 'muted' });
  const chart = h('div', { id: 'chart-slot' });
  const admin = state.session.role === 'admin';
  main.append(title('Dashboard'),
    h('div', { class: 'stats' },
      h('div', { class: 'stat' }, calls, h('span', { class: 'l' }, 'calls now')),
      h('div', { class: 'stat' }, regs, h('span', { class: 'l' }, 'registrations now')),
      admin ? h('div', { class: 'stat' }, exts, h('span', { class: 'l' }, 'extensions')) : null,
      admin ? h('div', { class: 'stat' }, total, h('span', { class: 'l' }, 'calls since start ', answered)) : null),
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
    total.textContent = s.calls_total; // the number alone: the tile never wraps
    answered.textContent = `(${s.calls_answered} answered)`;
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
  extensionsPage({ h, api, field, toast, title, main, showError, clearErrors, fmtDur, state, live });
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
        h('td', { class: 'exp', 'data-s': r.expires_in }, fmtDur(r.expires_in)), h('td', {}, r.user_agent || '')))
        : [h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No phone is registered'))]));
    },
  });
  every(() => {
    const gone = Math.floor((Date.now() - since) / 1000);
    tbody.querySelectorAll('td.exp').forEach((td) => { td.textContent = fmtDur(Number(td.dataset.s) - gone); });
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
    field('cdr-from', 'From (date)', from), field('cdr-to', 'To (date, included)', to),
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
    // whole days in the system's zone, as the CLI's --from/--to
    if (from.value) p.set('from', zoneMidnight(from.value));
    if (to.value) p.set('to', zoneMidnight(to.value, 1));
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

function users() {
  usersPage({ h, api, field, toast, title, main, showError, clearErrors, fmtTime, state });
}

function tokens() {
  tokensPage({ h, api, field, toast, title, main, showError, clearErrors, fmtTime, state });
}

function voicemail() {
  voicemailPage({ h, api, field, toast, fmtTime, fmtDur, title, main, state, poll, API, showError, clearErrors });
}

// The daemon's settings (admin), on two tabs: Basic (what an office sets
// up: network, public address, SIP port, codecs, e-mail, the time zone
// shown) and Advanced (tuning), each setting with a plain label, its
// section.key, where its value comes from (hookflash.conf or a flag, this
// page, the built-in default) and when it applies. Only changed values are
// sent; an error shows next to its input; a change that can cut the admin
// off (web ports, listen addresses) asks first.
const LOCKOUT = ['http.port', 'http.https_port', 'sip.bind'];
const SOURCE = { web: 'saved here', file: 'hookflash.conf or command line', default: 'default' };

function settings() {
  const slot = h('div', { id: 'settings-slot' }, h('p', { class: 'muted' }, 'Loading…'));
  const status = h('p', { id: 'settings-status', role: 'status', 'aria-live': 'polite' });
  main.append(title('Settings'),
    h('p', { class: 'muted' }, 'Saved settings win over hookflash.conf and the command line. ',
      'Those marked “live” apply at once, without disturbing calls in progress; the others at the next start.'),
    status, slot);
  let current = {};
  let tab = 'basic';

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
    const groups = { basic: {}, advanced: {} };
    for (const [name, d] of Object.entries(doc.schema)) {
      const sec = name.split('.')[0];
      const g = groups[d.group === 'basic' ? 'basic' : 'advanced'];
      if (!g[sec]) g[sec] = h('fieldset', { class: 'grid card' }, h('legend', {}, sec));
      const id = idOf(name);
      const el = input(name, d, doc.settings[name]);
      const pend = (doc.pending_restart || []).includes(name);
      const hint = h('span', { class: 'hint', id: `${id}-hint` },
        d.description, d.type === 'integer' ? ` (${d.min}–${d.max})` : '', ' · ', h('code', {}, name),
        ' · ', h('span', { class: d.apply === 'live' ? 'tag live' : 'tag restart' }, d.apply === 'live' ? 'live' : 'at restart'),
        ' ', h('span', { class: `tag source ${d.source}`, 'data-source': d.source, id: `${id}-source` }, SOURCE[d.source] || d.source),
        pend ? h('span', { class: 'tag pending' }, ` running: ${String(d.running)}`) : null);
      const f = field(id, d.label || name, el, hint);
      el.setAttribute('aria-describedby', `${id}-err ${id}-hint`);
      f.dataset.setting = name;
      g[sec].append(f);
    }
    if (groups.basic.email) groups.basic.email.append(mailTest());
    const zone = h('fieldset', { class: 'grid card', id: 'settings-zone' }, h('legend', {}, 'time'),
      h('div', { class: 'field' }, h('span', { class: 'label' }, 'Time zone'),
        h('span', { id: 'set-timezone' }, state.tz || 'unknown'),
        h('span', { class: 'hint' }, 'the system\'s: every page, the CLI and the logs use it. Change it on the server (timedatectl set-timezone) and restart.')));
    const panes = {
      basic: h('div', { id: 'settings-basic', role: 'tabpanel', 'aria-labelledby': 'settings-tab-basic' }, ...Object.values(groups.basic), zone),
      advanced: h('div', { id: 'settings-advanced', role: 'tabpanel', 'aria-labelledby': 'settings-tab-advanced' }, ...Object.values(groups.advanced)),
    };
    const tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Settings groups' });
    const show = (which) => {
      tab = which;
      for (const [k, pane] of Object.entries(panes)) {
        pane.hidden = k !== which;
        const b = tabs.querySelector(`#settings-tab-${k}`);
        b.setAttribute('aria-selected', String(k === which));
        b.tabIndex = k === which ? 0 : -1;
      }
    };
    for (const [k, label] of [['basic', 'Basic'], ['advanced', 'Advanced']]) {
      tabs.append(h('button', { type: 'button', role: 'tab', id: `settings-tab-${k}`, 'aria-controls': `settings-${k}`,
        onclick: () => show(k) }, label));
    }
    form.append(tabs, panes.basic, panes.advanced,
      h('div', { class: 'toolbar' }, h('button', { type: 'submit' }, 'Save settings'),
        h('span', { class: 'err', 'data-err-for': '_form', role: 'alert' })));
    show(tab);
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
      const risky = Object.keys(body).filter((k) => LOCKOUT.includes(k));
      if (risky.length) {
        const ok = await confirmDialog(h, {
          id: 'lockout-dialog', title: 'This change can lock you out', confirm: 'Save anyway', danger: true,
          text: `${risky.map((k) => `${doc.schema[k].label} (${k}) → ${body[k] === '' ? 'default' : body[k]}`).join('; ')}. `
            + 'After the next start the web UI and the phones are reached there: check the firewall and the address '
            + 'you use, or only hookflash.conf and the command line (hookflash) can undo it.',
        });
        if (!ok) { status.textContent = 'Not saved.'; return; }
      }
      try {
        const r = await api('PUT', '/settings', body);
        const parts = [`Saved ${r.saved.join(', ')}.`];
        if (r.applied.length) parts.push(`In effect now: ${r.applied.join(', ')}.`);
        if (r.restart_required.length) parts.push(`After a restart: ${r.restart_required.join(', ')}.`);
        render(r);
        status.textContent = parts.join(' ');
      } catch (e) {
        status.textContent = '';
        const pane = e.field && doc.schema[e.field] ? (doc.schema[e.field].group === 'basic' ? 'basic' : 'advanced') : null;
        if (pane) show(pane); // the field in error must be visible to get focus
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

// Status and logs, Backup and restore (admin): web/static/ops.js
const opsUi = () => ({ h, api, field, toast, fmtTime, fmtDur, title, main, state, every, go, API, ApiError, showError, clearErrors });
Object.assign(pages, { status: () => statusPage(opsUi()), backup: () => backupPage(opsUi()) });
// Changing one's own password (and the forced change at the first login
// with a generated password). The policy is the server's: its message is
// shown next to the field it names. The server ends every session of the
// account on a change, so the page logs in again with the new password.
function password() {
  const forced = !!state.session.must_change_password;
  const cur = h('input', { name: 'current_password', type: 'password', autocomplete: 'current-password', required: true });
  const pw = h('input', { name: 'new_password', type: 'password', autocomplete: 'new-password', required: true, minlength: 8, maxlength: 128 });
  const again = h('input', { name: 'repeat', type: 'password', autocomplete: 'new-password', required: true });
  const form = h('form', { class: 'card login', id: 'password-form', novalidate: true },
    title(forced ? 'Choose your password' : 'Change password'),
    forced ? h('p', { id: 'password-forced' }, 'You logged in with the password generated at the first start. Choose your own to continue.') : null,
    field('pw-current', 'Current password', cur),
    field('pw-new', 'New password', pw, 'At least 8 characters, not your user name.'),
    field('pw-repeat', 'New password again', again),
    h('p', { class: 'err', 'data-err-for': '_form', role: 'alert' }),
    h('button', { type: 'submit' }, 'Change password'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    if (pw.value !== again.value) {
      showError(form, { field: 'repeat', message: 'The two new passwords differ.' });
      return;
    }
    const username = state.session.username;
    try {
      await api('POST', '/password', { current_password: cur.value, new_password: pw.value });
    } catch (e) {
      showError(form, e);
      return;
    }
    state.session = null;
    state.csrf = null;
    try {
      setSession(await api('POST', '/login', { username, password: pw.value }));
      toast('Password changed.');
      go('dashboard');
    } catch {
      go('login');
    }
  });
  main.append(form);
  cur.focus();
}
pages.password = password;

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
