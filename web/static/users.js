// The Users and API tokens pages (admin): web accounts with their role
// (admin: everything; user: its own extension's calls, history and
// voicemail) over /api/v1/users, and the API tokens scripts use over
// /api/v1/tokens. A token's secret is shown once, when it is made (the
// server keeps only its hash), with a copy button. When the server knows
// token expiry (a list field "expires_at", a create field
// "expires_in_days") the pages show and offer it.

import { confirmDialog, copyText } from './phone.js';

function when(fmtTime, t) {
  if (!t) return '';
  return fmtTime(t < 1e12 ? t * 1000 : t); // the API counts seconds
}

export function usersPage(ctx) {
  const { h, api, field, toast, title, main, showError, clearErrors, fmtTime, state } = ctx;
  const tbody = h('tbody', { id: 'user-rows' });
  const name = h('input', { name: 'username', autocomplete: 'off', required: true });
  const pw = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true });
  const role = h('select', { name: 'role' }, h('option', { value: 'user' }, 'user'), h('option', { value: 'admin' }, 'admin'));
  const ext = h('input', { name: 'extension', inputmode: 'numeric', autocomplete: 'off', placeholder: 'none' });
  const form = h('form', { class: 'grid', id: 'user-create', novalidate: true },
    field('user-name', 'User name', name), field('user-password', 'Password', pw, h('span', { class: 'hint' }, 'at least 8 characters')),
    field('user-role', 'Role', role), field('user-extension', 'Extension (role user)', ext),
    h('div', { class: 'field' }, h('button', { type: 'submit' }, 'Create user'),
      h('span', { class: 'err', 'data-err-for': '_form', role: 'alert' })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = { username: name.value.trim(), password: pw.value, role: role.value };
    if (ext.value.trim()) body.extension = ext.value.trim();
    try {
      await api('POST', '/users', body);
      toast(`User ${body.username} created`);
      form.reset();
      await load();
    } catch (e) { showError(form, e); }
  });

  function row(u) {
    const me = u.username === state.session.username;
    const sel = h('select', { name: 'role', 'aria-label': `Role of ${u.username}`, disabled: me },
      ['user', 'admin'].map((r) => h('option', { value: r, selected: r === u.role }, r)));
    sel.addEventListener('change', async () => {
      try {
        await api('PATCH', `/users/${encodeURIComponent(u.username)}`, { role: sel.value });
        toast(`${u.username} is now ${sel.value}`);
        await load();
      } catch (e) { toast(e.message); sel.value = u.role; }
    });
    const del = h('button', { type: 'button', class: 'small danger', 'aria-label': `Delete user ${u.username}`, disabled: me }, 'Delete');
    del.addEventListener('click', async () => {
      const ok = await confirmDialog(h, { id: 'user-delete-dialog', title: `Delete user ${u.username}?`,
        text: 'The account and its API tokens go; its sessions end at once.', confirm: 'Delete', danger: true });
      if (!ok) return;
      try {
        await api('DELETE', `/users/${encodeURIComponent(u.username)}`);
        toast(`User ${u.username} deleted`);
        await load();
      } catch (e) { toast(e.message); }
    });
    return h('tr', { 'data-username': u.username },
      h('td', {}, u.username, me ? h('span', { class: 'muted' }, ' (you)') : null), h('td', {}, sel),
      h('td', {}, u.extension || h('span', { class: 'muted' }, '–')), h('td', {}, when(fmtTime, u.created_at)),
      h('td', { class: 'actions' }, del));
  }

  async function load() {
    const r = await api('GET', '/users');
    tbody.replaceChildren(...r.users.map(row));
  }

  main.append(title('Users'),
    h('p', { class: 'muted' }, 'Web accounts. An admin runs everything; a user sees its own extension\'s calls, history and voicemail.'),
    h('section', { class: 'card', 'aria-labelledby': 'user-create-h' }, h('h2', { id: 'user-create-h' }, 'New user'), form),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'sr-only' }, 'Web users'),
      h('thead', {}, h('tr', {}, ['User', 'Role', 'Extension', 'Created', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody)));
  load().catch((e) => toast(e.message));
}

export function tokensPage(ctx) {
  const { h, api, field, toast, title, main, showError, clearErrors, fmtTime } = ctx;
  const slot = h('div', { id: 'token-secret-slot' });
  const tbody = h('tbody', { id: 'token-rows' });
  const head = h('tr', {});
  const name = h('input', { name: 'name', autocomplete: 'off', required: true, placeholder: 'backup script' });
  const days = h('input', { name: 'expires_in_days', type: 'number', min: 1, max: 3650, inputmode: 'numeric', placeholder: 'never' });
  // the expiry input only when this server takes it (its OpenAPI document says)
  const expiryField = field('token-expires', 'Expires after (days)', days, h('span', { class: 'hint' }, 'empty: does not expire'));
  expiryField.hidden = true;
  api('GET', '/openapi.json').then((d) => {
    const p = d.paths['/api/v1/tokens'].post.requestBody.content['application/json'].schema.properties;
    expiryField.hidden = !p.expires_in_days;
  }).catch(() => {});
  const form = h('form', { class: 'grid', id: 'token-create', novalidate: true },
    field('token-name', 'Name', name), expiryField,
    h('div', { class: 'field' }, h('button', { type: 'submit' }, 'Create token'),
      h('span', { class: 'err', 'data-err-for': '_form', role: 'alert' })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = { name: name.value.trim() };
    if (!expiryField.hidden && days.value.trim()) body.expires_in_days = Number(days.value);
    try {
      const t = await api('POST', '/tokens', body);
      showToken(t);
      form.reset();
      await load();
    } catch (e) { showError(form, e); }
  });

  function showToken(t) {
    const code = h('code', { id: 'new-token' }, t.token);
    const copy = h('button', { type: 'button', class: 'secondary', id: 'token-copy' }, 'Copy');
    copy.addEventListener('click', async () => { toast(await copyText(t.token, code) ? 'Token copied' : 'Selected: press Ctrl+C to copy'); });
    const close = h('button', { type: 'button', class: 'secondary', id: 'token-dismiss' }, 'Done, hide it');
    const panel = h('div', { class: 'secret', role: 'region', 'aria-labelledby': 'token-title', id: 'token-secret' },
      h('h2', { id: 'token-title' }, `API token “${t.name}”`),
      h('p', {}, 'Copy it now: only its hash is kept, so it is shown this once. Send it as ',
        h('code', {}, 'Authorization: Bearer …'), '.'),
      h('p', {}, code), h('div', { class: 'toolbar' }, copy, close));
    close.addEventListener('click', () => panel.remove());
    slot.replaceChildren(panel);
    copy.focus();
  }

  function row(t, expiry) {
    const del = h('button', { type: 'button', class: 'small danger', 'aria-label': `Delete token ${t.name}` }, 'Delete');
    del.addEventListener('click', async () => {
      const ok = await confirmDialog(h, { id: 'token-delete-dialog', title: `Delete token “${t.name}”?`,
        text: 'Scripts that use it are refused from now on.', confirm: 'Delete', danger: true });
      if (!ok) return;
      try {
        await api('DELETE', `/tokens/${encodeURIComponent(t.id)}`);
        toast(`Token ${t.name} deleted`);
        await load();
      } catch (e) { toast(e.message); }
    });
    return h('tr', { 'data-id': t.id, 'data-name': t.name },
      h('td', {}, t.name), h('td', {}, t.username), h('td', {}, when(fmtTime, t.created_at)),
      h('td', {}, t.last_used_at ? when(fmtTime, t.last_used_at) : h('span', { class: 'muted' }, 'never')),
      expiry ? h('td', { class: 'expires' }, t.expires_at ? when(fmtTime, t.expires_at) : h('span', { class: 'muted' }, 'never')) : null,
      h('td', { class: 'actions' }, del));
  }

  async function load() {
    const r = await api('GET', '/tokens');
    const expiry = r.tokens.some((t) => 'expires_at' in t);
    head.replaceChildren(...['Name', 'User', 'Created', 'Last used', expiry ? 'Expires' : null, 'Actions']
      .filter(Boolean).map((x) => h('th', { scope: 'col' }, x)));
    tbody.replaceChildren(...(r.tokens.length ? r.tokens.map((t) => row(t, expiry))
      : [h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No API tokens'))]));
  }

  main.append(title('API tokens'),
    h('p', { class: 'muted' }, 'Tokens let scripts use the REST API (/api/v1) with the rights of the user who made them.'),
    slot,
    h('section', { class: 'card', 'aria-labelledby': 'token-create-h' }, h('h2', { id: 'token-create-h' }, 'New token'), form),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'sr-only' }, 'API tokens'), h('thead', {}, head), tbody)));
  load().catch((e) => toast(e.message));
}
