// The Extensions page: the list with each extension's phones online or
// not (live, from the server's event stream of registrations), a search,
// and for an admin: create (then the phone setup card, phone.js), edit
// every field the CLI's `extension add/set` has (through the same
// PATCH /extensions/{n} and its one validation path: an error shows next
// to its field), reveal the SIP password, a new password after a
// confirmation that names what it breaks, and delete.

import { confirmDialog, phoneCard } from './phone.js';

export function extensionsPage(ctx) {
  const { h, api, field, toast, title, main, showError, clearErrors, fmtDur, state, live } = ctx;
  const secret = h('div', { id: 'secret-slot' });
  const search = h('input', { type: 'search', name: 'q', placeholder: 'number or name' });
  const tbody = h('tbody', { id: 'ext-rows' });
  const admin = state.session.role === 'admin';
  let all = [];
  let regs = null; // extension -> its registrations, from the event stream
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
      form.reset();
      await load();
      await showCard(x.number, x.vm_pin);
    } catch (e) {
      showError(form, e);
    }
  });

  // The setup card in the slot above the list, with a Done button.
  async function showCard(num, pin) {
    const close = h('button', { type: 'button', class: 'secondary', id: 'secret-dismiss' }, 'Done, hide it');
    let card;
    try {
      card = await phoneCard(ctx, num);
    } catch (e) { toast(e.message); return; }
    const panel = h('div', { id: 'secret', role: 'region', 'aria-label': `Phone setup of ${num}` }, card,
      pin ? h('p', { class: 'secret' }, 'Voicemail PIN: ', h('code', { id: 'new-pin' }, pin),
        ' — stored hashed, so it is shown only now: note it down (dial *97 to use it).') : null,
      h('div', { class: 'toolbar' }, close));
    close.addEventListener('click', () => panel.remove());
    secret.replaceChildren(panel);
    close.focus();
  }

  // "online · 2 phones · baresip 1.0 · renews in 4m 58s" or "offline".
  function onlineCell(num) {
    const list = regs ? regs.get(num) || [] : null;
    if (list === null) return h('td', { class: 'online', 'data-online': '' }, h('span', { class: 'muted' }, '…'));
    if (!list.length) return h('td', { class: 'online', 'data-online': 'no' }, h('span', { class: 'badge' }, 'offline'));
    const ua = [...new Set(list.map((r) => r.user_agent).filter(Boolean))].join(', ');
    const exp = Math.min(...list.map((r) => r.expires_in));
    return h('td', { class: 'online', 'data-online': 'yes', 'data-devices': list.length },
      h('span', { class: 'badge answered' }, 'online'),
      h('span', { class: 'hint' }, ` ${list.length} ${list.length === 1 ? 'phone' : 'phones'}`, ua ? ` · ${ua}` : '',
        ` · renews in ${fmtDur(exp)}`));
  }

  function row(x) {
    const tr = h('tr', { 'data-number': x.number },
      h('td', {}, x.number), h('td', {}, x.name), h('td', {}, x.enabled ? 'yes' : 'no'),
      onlineCell(x.number),
      h('td', {}, x.contact || h('span', { class: 'muted' }, 'by REGISTER')),
      h('td', { class: 'actions' }, admin ? [
        h('button', { type: 'button', class: 'small secondary', onclick: () => edit(tr, x), 'aria-label': `Edit ${x.number}` }, 'Edit'),
        h('button', { type: 'button', class: 'small secondary', onclick: () => showCard(x.number), 'aria-label': `Phone setup for ${x.number}` }, 'Phone setup'),
        revealButton(x),
        h('button', { type: 'button', class: 'small secondary', onclick: () => newPassword(x), 'aria-label': `New password for ${x.number}` }, 'New password'),
        delButton(x)] : null));
    return tr;
  }

  // Shows the current password in place of the button (as `extension
  // show --show-password`); a second click hides it.
  function revealButton(x) {
    const b = h('button', { type: 'button', class: 'small secondary', 'aria-label': `Reveal password of ${x.number}`, 'aria-expanded': 'false' }, 'Reveal');
    const out = h('code', { class: 'revealed', id: `pw-${x.number}` });
    b.addEventListener('click', async () => {
      if (b.getAttribute('aria-expanded') === 'true') {
        out.remove();
        b.textContent = 'Reveal';
        b.setAttribute('aria-expanded', 'false');
        return;
      }
      try {
        const r = await api('GET', `/extensions/${encodeURIComponent(x.number)}/secret`);
        out.textContent = r.password;
        b.after(out);
        b.textContent = 'Hide';
        b.setAttribute('aria-expanded', 'true');
      } catch (e) { toast(e.message); }
    });
    return b;
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
    const n = regs && regs.get(x.number) ? regs.get(x.number).length : 0;
    const ok = await confirmDialog(h, {
      id: 'newpw-dialog', title: `Replace the SIP password of ${x.number}?`, confirm: 'Replace the password', danger: true,
      text: `${n ? `${n} phone${n === 1 ? ' is' : 's are'} registered with the current password. ` : ''}`
        + 'A phone using the old password stops registering and cannot make or take calls until it is given the new one.',
    });
    if (!ok) return;
    try {
      await api('POST', `/extensions/${encodeURIComponent(x.number)}/password`);
      toast(`New password for ${x.number}`);
      await showCard(x.number);
    } catch (e) { toast(e.message); }
  }

  function edit(tr, x) {
    const id = `edit-${x.number}`;
    const text = (n, attrs) => h('input', { name: n, value: x[n] ?? '', autocomplete: 'off', ...attrs });
    const check = (n) => { const el = h('input', { name: n, type: 'checkbox', id: `${id}-${n}` }); el.checked = !!x[n]; return el; };
    const box = (n, label, el) => h('div', { class: 'field' }, h('label', { for: `${id}-${n}` }, label), el,
      h('span', { class: 'err', 'data-err-for': n }));
    const hint = (t) => h('span', { class: 'hint' }, t);
    const nm = text('name');
    const en = check('enabled');
    const cs = text('codecs', { placeholder: 'system default' });
    const csHint = h('span', { class: 'hint', id: `${id}-codecs-hint` }, 'empty: the system default');
    codecSyntax.then((sx) => { if (sx) csHint.textContent = `${sx}; empty: the system default`; });
    const sr = h('select', { name: 'srtp' }, ...['optional', 'required', 'off'].map((v) => h('option', { value: v }, v)));
    sr.value = x.srtp || 'optional';
    const mc = text('max_calls', { type: 'number', min: 0, max: 1000, inputmode: 'numeric', value: x.max_calls || '', placeholder: 'system default' });
    const ct = text('contact', { placeholder: 'sip:192.0.2.10:5060', spellcheck: 'false' });
    const tr_ = text('trust', { placeholder: '192.0.2.10/32', spellcheck: 'false' });
    const pin = h('input', { name: 'vm_pin', type: 'password', autocomplete: 'new-password', inputmode: 'numeric',
      placeholder: x.vm_pin_set ? '(set; type to replace)' : '(none)' });
    // call handling: '' and 0 are the defaults (the server's rules, db_ext_validate)
    const rt = text('ring_time', { type: 'number', min: 0, max: 300, value: x.ring_time || '', placeholder: '25 (default)' });
    const dest = (n) => text(n, { placeholder: 'voicemail (default)' });
    const fwd = (n) => text(n, { placeholder: 'off', inputmode: 'tel' });
    const na = dest('no_answer'), bz = dest('busy'), ua = dest('unavailable');
    const fa = fwd('forward_all'), fb = fwd('forward_busy'), fn = fwd('forward_no_answer');
    const dnd = check('dnd');
    const vme = check('vm_enabled');
    const vmm = text('vm_email', { type: 'email', placeholder: 'none' });
    const vmd = check('vm_email_delete');
    const vmn = text('vm_max_messages', { type: 'number', min: 0, inputmode: 'numeric', value: x.vm_max_messages || '', placeholder: '100 (default)' });
    const vms = text('vm_max_seconds', { type: 'number', min: 0, inputmode: 'numeric', value: x.vm_max_seconds || '', placeholder: '3600 (default)' });
    const destHint = 'kind:id (ext:1002, vm:1001) or hangup; empty: its voicemail';
    const num = (el) => (el.value.trim() === '' ? 0 : (Number.isInteger(Number(el.value)) ? Number(el.value) : el.value));
    const f = h('form', { class: 'grid', novalidate: true },
      h('h3', { class: 'span' }, 'Account'),
      field(`${id}-name`, 'Name', nm),
      box('enabled', 'Enabled', en),
      field(`${id}-max_calls`, 'Calls at once', mc, hint('empty: the system default')),
      field(`${id}-vm_pin`, 'Voicemail PIN', pin, hint('digits; empty: keep')),
      h('h3', { class: 'span' }, 'Devices that do not register'),
      field(`${id}-contact`, 'Static contact', ct, hint('a sip: URI calls go to; empty: where it registers')),
      field(`${id}-trust`, 'Trusted addresses', tr_, hint('CIDR list allowed without a password; empty: none')),
      h('h3', { class: 'span' }, 'Media'),
      field(`${id}-codecs`, 'Codecs', cs, csHint),
      field(`${id}-srtp`, 'SRTP', sr,
        hint('SDES keys travel in the SIP signalling: private only when the SIP is (TLS is not there yet)')),
      h('h3', { class: 'span' }, 'Call handling'),
      field(`${id}-ring_time`, 'Ring time (s)', rt, hint('5 to 300 seconds; empty: the default (25)')),
      field(`${id}-no_answer`, 'No answer goes to', na, hint(destHint)),
      field(`${id}-busy`, 'Busy goes to', bz, hint(destHint)),
      field(`${id}-unavailable`, 'Unavailable goes to', ua, hint('no phone registered; kind:id or hangup; empty: its voicemail')),
      field(`${id}-forward_all`, 'Forward all calls to', fa, hint('a number to dial (0-9 * # +); empty: off')),
      field(`${id}-forward_busy`, 'Forward when busy to', fb, hint('empty: off')),
      field(`${id}-forward_no_answer`, 'Forward when not answered to', fn, hint('empty: off')),
      box('dnd', 'Do not disturb', dnd),
      h('h3', { class: 'span' }, 'Voicemail'),
      box('vm_enabled', 'Voicemail on', vme),
      field(`${id}-vm_email`, 'E-mail messages to', vmm, hint('empty: no e-mail')),
      box('vm_email_delete', 'Delete once e-mailed', vmd),
      field(`${id}-vm_max_messages`, 'Most messages', vmn, hint('empty: the default')),
      field(`${id}-vm_max_seconds`, 'Longest message (s)', vms, hint('empty: the default')),
      h('div', { class: 'field span' },
        h('div', { class: 'toolbar' }, h('button', { type: 'submit' }, 'Save'),
          h('button', { type: 'button', class: 'secondary', onclick: () => load() }, 'Cancel')),
        h('span', { class: 'err', 'data-err-for': '_form', role: 'alert' })));
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = {
        name: nm.value, enabled: en.checked, codecs: cs.value.trim(), srtp: sr.value,
        max_calls: num(mc), contact: ct.value.trim(), trust: tr_.value.trim(),
        // a number that is not whole goes as typed: the server names the rule
        ring_time: num(rt),
        no_answer: na.value.trim(), busy: bz.value.trim(), unavailable: ua.value.trim(),
        forward_all: fa.value.trim(), forward_busy: fb.value.trim(), forward_no_answer: fn.value.trim(),
        dnd: dnd.checked, vm_enabled: vme.checked, vm_email: vmm.value.trim(), vm_email_delete: vmd.checked,
        vm_max_messages: num(vmn), vm_max_seconds: num(vms),
      };
      if (pin.value) body.vm_pin = pin.value; // empty keeps the PIN
      try {
        await api('PATCH', `/extensions/${encodeURIComponent(x.number)}`, body);
        toast(`Extension ${x.number} saved`);
        await load();
      } catch (e) { showError(f, e); }
    });
    tr.replaceChildren(h('td', {}, x.number), h('td', { colspan: 5 }, f));
    nm.focus();
  }

  function render() {
    const q = search.value.trim().toLowerCase();
    const rows = all.filter((x) => !q || x.number.includes(q) || (x.name || '').toLowerCase().includes(q));
    tbody.replaceChildren(...(rows.length ? rows.map(row)
      : [h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No extensions'))]));
  }

  async function load() {
    all = (await api('GET', '/extensions')).extensions;
    render();
  }

  // the online column follows registrations as they come and go, without
  // redrawing a row being edited
  live({
    registrations: (list) => {
      regs = new Map();
      for (const r of list) {
        if (!regs.has(r.extension)) regs.set(r.extension, []);
        regs.get(r.extension).push(r);
      }
      tbody.querySelectorAll('tr[data-number]').forEach((tr) => {
        const td = tr.querySelector('td.online');
        if (td) td.replaceWith(onlineCell(tr.dataset.number));
      });
    },
  });

  search.addEventListener('input', render);
  main.append(title('Extensions'), secret,
    admin ? h('section', { class: 'card', 'aria-labelledby': 'create-h' }, h('h2', { id: 'create-h' }, 'New extension'), form) : null,
    h('div', { class: 'toolbar' }, field('ext-search', 'Search', search)),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Number', 'Name', 'Enabled', 'Phones', 'Contact', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody)));
  load().catch((e) => toast(e.message));
}
