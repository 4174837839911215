// Hookflash admin UI: a small single-page app over the REST API (/api/v1).
// No build step, no inline script (the CSP is default-src 'self'). Pages
// are chosen by the URL hash; live pages poll the API every 2 s.

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

const pages = { login, dashboard, extensions, calls, history, registrations };

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
  const top = document.getElementById('top');
  top.hidden = name === 'login';
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
  main.append(title('Dashboard'),
    h('div', { class: 'stats' },
      h('div', { class: 'stat' }, calls, h('span', { class: 'l' }, 'calls now')),
      h('div', { class: 'stat' }, regs, h('span', { class: 'l' }, 'registrations now')),
      h('div', { class: 'stat' }, exts, h('span', { class: 'l' }, 'extensions')),
      h('div', { class: 'stat' }, total, h('span', { class: 'l' }, 'calls since start'))),
    info);
  poll(async () => {
    const s = await api('GET', '/status');
    calls.textContent = s.calls;
    regs.textContent = s.registrations;
    exts.textContent = s.extensions;
    total.textContent = `${s.calls_total} (${s.calls_answered} answered)`;
    info.textContent = `Version ${s.version}, up ${fmtDur(s.uptime_s)}.`;
  });
}

function extensions() {
  const secret = h('div', { id: 'secret-slot' });
  const search = h('input', { type: 'search', name: 'q', placeholder: 'number or name' });
  const tbody = h('tbody', { id: 'ext-rows' });
  let all = [];

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
    const f = h('form', { class: 'grid', novalidate: true },
      field(`${id}-name`, 'Name', nm),
      h('div', { class: 'field' }, h('label', { for: `${id}-enabled` }, 'Enabled'), en,
        h('span', { class: 'err', 'data-err-for': 'enabled' })),
      h('div', { class: 'field' },
        h('button', { type: 'submit' }, 'Save'),
        h('button', { type: 'button', class: 'secondary', onclick: () => load() }, 'Cancel'),
        h('span', { class: 'err', 'data-err-for': '_form', role: 'alert' })));
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await api('PATCH', `/extensions/${encodeURIComponent(x.number)}`, { name: nm.value, enabled: en.checked });
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

function calls() {
  const tbody = h('tbody', { id: 'call-rows' });
  main.append(title('Live calls'), h('p', { class: 'muted' }, 'Updated every 2 seconds.'),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Caller', 'Callee', 'State', 'Duration', 'Codec', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody)));
  const hangup = async (c, b) => {
    b.disabled = true;
    try {
      await api('DELETE', `/calls/${encodeURIComponent(c.id)}`);
      toast(`Call ${c.caller} → ${c.callee} hung up`);
    } catch (e) { toast(e.message); b.disabled = false; }
  };
  poll(async () => {
    const list = (await api('GET', '/calls')).calls;
    tbody.replaceChildren(...(list.length ? list.map((c) => {
      const b = h('button', { type: 'button', class: 'small danger', 'aria-label': `Hang up ${c.caller} to ${c.callee}` }, 'Hang up');
      b.addEventListener('click', () => hangup(c, b));
      return h('tr', { 'data-call-id': c.id, 'data-caller': c.caller, 'data-callee': c.callee },
        h('td', {}, c.caller), h('td', {}, c.callee),
        h('td', {}, h('span', { class: `badge ${c.state}` }, c.state)),
        h('td', {}, fmtDur(c.duration_s)), h('td', {}, c.codec || ''),
        h('td', { class: 'actions' }, state.session.role === 'admin' ? b : null));
    }) : [h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No calls in progress'))]));
  });
}

function registrations() {
  const tbody = h('tbody', { id: 'reg-rows' });
  main.append(title('Registrations'), h('p', { class: 'muted' }, 'Updated every 2 seconds.'),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Extension', 'Contact', 'Source', 'Expires in', 'User agent'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody)));
  poll(async () => {
    const list = (await api('GET', '/registrations')).registrations;
    tbody.replaceChildren(...(list.length ? list.map((r) => h('tr', { 'data-extension': r.extension },
      h('td', {}, r.extension), h('td', {}, r.contact), h('td', {}, r.source),
      h('td', {}, `${r.expires_in} s`), h('td', {}, r.user_agent || '')))
      : [h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No phone is registered'))]));
  });
}

function history() {
  const from = h('input', { name: 'from', type: 'date' });
  const to = h('input', { name: 'to', type: 'date' });
  const number = h('input', { name: 'number', inputmode: 'numeric', autocomplete: 'off' });
  const disp = h('select', { name: 'disposition' },
    h('option', { value: '' }, 'any'),
    ['ANSWERED', 'NO ANSWER', 'BUSY', 'FAILED', 'CANCELLED'].map((d) => h('option', { value: d }, d)));
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
        h('td', {}, c.hangup_side || ''), h('td', {}, c.codec || '')))
        : [h('tr', {}, h('td', { colspan: 8, class: 'empty' }, 'No calls match'))]));
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
      h('thead', {}, h('tr', {}, ['Start', 'Caller', 'Callee', 'Disposition', 'Duration', 'Talk', 'Hung up by', 'Codec'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody)),
    h('div', { class: 'pager' }, prev, where, next));
  load();
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
