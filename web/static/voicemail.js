// The Voicemail page of the admin UI (imported by app.js, which hands it
// its helpers). An admin picks a mailbox, a user sees its own. Each
// message has an <audio> player whose src is the API's audio URL (the
// session cookie authenticates it, and the server answers byte ranges,
// so the player can seek), a button to mark it listened and one to
// delete it; greetings are uploaded from a file input. The list is
// re-read when the event stream says the counts changed (a message left,
// listened to, deleted; polled instead when there is no stream) and
// re-drawn only when it changed, so a message being played is not cut.

const KINDS = [['unavail', 'Unavailable'], ['busy', 'Busy'], ['name', 'Name']];
const UPLOAD_MAX = 10 * 1024 * 1024; // the server's limit, checked here first

export function voicemailPage(ui) {
  const { h, api, field, toast, fmtTime, fmtDur, title, main, state, poll, API, showError, clearErrors } = ui;
  const admin = state.session.role === 'admin';
  const pick = h('select', { name: 'mailbox' });
  const counts = h('p', { id: 'vm-counts', class: 'muted', role: 'status', 'aria-live': 'polite' });
  const tbody = h('tbody', { id: 'vm-rows' });
  const greetings = h('div', { id: 'vm-greetings', class: 'grid' });
  let mailbox = null, drawn = null, drawnGreet = null, boxesKey = null;

  async function boxes() {
    const r = await api('GET', '/voicemail');
    const keep = mailbox;
    const key = JSON.stringify(r.mailboxes);
    if (key !== boxesKey) { // an open drop-down is left alone when nothing changed
      boxesKey = key;
      pick.replaceChildren(...r.mailboxes.map((b) => h('option', { value: b.mailbox },
        `${b.mailbox}${b.name ? ' ' + b.name : ''} (${b.new} new)`)));
    }
    if (r.mailboxes.some((b) => b.mailbox === keep)) pick.value = keep;
    mailbox = pick.value || null;
    return r.mailboxes;
  }

  function row(m) {
    const who = m.caller_name ? `${m.caller_name} <${m.caller}>` : (m.caller || 'unknown');
    const player = h('audio', { controls: true, preload: 'metadata', src: m.audio_url,
      'aria-label': `Message from ${who}` });
    const listened = h('button', { type: 'button', class: 'secondary',
      'aria-label': `${m.folder === 'new' ? 'Mark listened' : 'Mark new'} ${m.id}` },
    m.folder === 'new' ? 'Mark listened' : 'Mark new');
    listened.addEventListener('click', () => act(() => api('PATCH', `/voicemail/${mailbox}/messages/${m.id}`,
      { folder: m.folder === 'new' ? 'old' : 'new' })));
    const del = h('button', { type: 'button', class: 'danger', 'aria-label': `Delete message ${m.id}` }, 'Delete');
    del.addEventListener('click', () => {
      if (del.dataset.confirm) {
        act(() => api('DELETE', `/voicemail/${mailbox}/messages/${m.id}`));
      } else {
        del.dataset.confirm = '1';
        del.textContent = 'Really delete?';
      }
    });
    return h('tr', { 'data-id': m.id, 'data-folder': m.folder },
      h('td', {}, h('span', { class: `badge ${m.folder === 'new' ? 'answered' : ''}` }, m.folder)),
      h('td', {}, who), h('td', {}, fmtTime(m.received_at * 1000)),
      h('td', { class: 'vm-dur' }, fmtDur(m.duration_ms / 1000)),
      h('td', {}, player), h('td', { class: 'actions' }, listened, del));
  }

  function greetingForm(kind, label, has) {
    const id = `vm-greet-${kind}`;
    const input = h('input', { type: 'file', name: 'file', accept: 'audio/*,.wav,.mp3,.ogg,.flac' });
    const form = h('form', { class: 'card', id, novalidate: true },
      h('h3', {}, `${label} greeting`, h('span', { class: 'muted', id: `${id}-state` }, has ? ' recorded' : ' not recorded')),
      field(`${id}-file`, `Upload the ${label.toLowerCase()} greeting (WAV, MP3, Ogg or FLAC, up to 10 MB and 5 minutes)`, input),
      h('button', { type: 'submit' }, 'Upload'),
      has ? h('button', { type: 'button', class: 'secondary', id: `${id}-delete` }, 'Remove') : null,
      h('span', { class: 'err', 'data-err-for': '_form', role: 'alert' }));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      const f = input.files[0];
      const fail = (message, status) => showError(form, Object.assign(new Error(message), { status, field: 'file' }));
      if (!f) { fail('choose a file first'); return; }
      if (f.size > UPLOAD_MAX) { fail('the file is larger than 10 MB', 413); return; }
      const r = await fetch(`${API}/voicemail/${mailbox}/greetings/${kind}`, {
        method: 'POST', credentials: 'same-origin', body: f,
        headers: { 'X-CSRF-Token': state.csrf, 'Content-Type': f.type || 'application/octet-stream' },
      });
      if (!r.ok) {
        let msg = `HTTP ${r.status}`;
        try { msg = (await r.json()).error || msg; } catch { /* not JSON */ }
        fail(msg, r.status);
        return;
      }
      toast(`${label} greeting saved`);
      drawnGreet = null;
      load();
    });
    const delBtn = form.querySelector(`#${id}-delete`);
    if (delBtn) delBtn.addEventListener('click', () => act(() => api('DELETE', `/voicemail/${mailbox}/greetings/${kind}`)));
    return form;
  }

  async function act(fn) {
    try {
      await fn();
    } catch (e) {
      if (e.status !== 401) toast(e.message);
    }
    drawnGreet = null;
    await load();
  }

  async function load() {
    if (!mailbox) {
      counts.textContent = 'No mailbox: this login is not linked to an extension.';
      return;
    }
    const r = await api('GET', `/voicemail/${mailbox}/messages`);
    counts.textContent = `${r.new} new, ${r.old} old`;
    counts.dataset.new = r.new;
    counts.dataset.old = r.old;
    const key = r.messages.map((m) => `${m.id}:${m.folder}`).join(',') + '@' + mailbox;
    if (key !== drawn) {
      drawn = key;
      tbody.replaceChildren(...(r.messages.length ? r.messages.map(row)
        : [h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No messages'))]));
    }
    const gkey = JSON.stringify(r.greetings) + mailbox;
    if (gkey !== drawnGreet) {
      drawnGreet = gkey;
      greetings.replaceChildren(...KINDS.map(([k, l]) => greetingForm(k, l, r.greetings[k])));
    }
    if (admin) await boxes();
  }

  pick.addEventListener('change', () => { mailbox = pick.value; drawn = drawnGreet = null; load(); });
  main.append(...[title('Voicemail'),
    admin ? h('div', { class: 'card' }, field('vm-mailbox', 'Mailbox', pick)) : null,
    counts,
    h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['', 'From', 'Received', 'Length', 'Listen', ''].map((t) => h('th', { scope: 'col' }, t)))),
      tbody)),
    h('h2', {}, 'Greetings'), greetings].filter(Boolean));
  const reload = () => load().catch((e) => { if (e.status !== 401) console.warn(e); });
  (async () => {
    try {
      await boxes();
    } catch (e) {
      if (e.status !== 401) toast(e.message);
      return;
    }
    if (!window.EventSource) { poll(load); return; }
    const es = new EventSource(`${API}/events`);
    let polling = false;
    es.addEventListener('voicemail', () => { main.dataset.live = 'sse'; reload(); });
    es.addEventListener('error', () => {
      if (es.readyState === EventSource.CLOSED && !polling) {
        polling = true;
        main.dataset.live = 'poll';
        poll(load);
      }
    });
    state.stop.push(() => es.close());
    reload();
  })();
}
