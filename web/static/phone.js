// What the Extensions page shows an admin about a phone's account: the
// setup card after an extension is made (server, SIP port, transport,
// user, password, a copy button and a QR code from the server,
// GET /api/v1/extensions/{n}/phone and .../qr.svg), the current password
// on request (GET .../secret, as `hookflash extension show
// --show-password`), and a confirmation dialog before anything that would
// cut a working phone off. The QR code holds the SIP URI
// sip:USER:PASSWORD@SERVER:PORT;transport=udp (see web/api_qr.c why).

// A modal <dialog> asking yes or no; resolves true only on the confirm
// button (Escape and Cancel are no).
export function confirmDialog(h, { id, title, text, confirm, danger }) {
  return new Promise((resolve) => {
    const yes = h('button', { type: 'button', class: danger ? 'danger' : '', id: `${id}-yes` }, confirm);
    const no = h('button', { type: 'button', class: 'secondary', id: `${id}-no` }, 'Cancel');
    const d = h('dialog', { id, 'aria-labelledby': `${id}-title`, 'aria-describedby': `${id}-text`, class: 'confirm' },
      h('h2', { id: `${id}-title` }, title),
      h('p', { id: `${id}-text` }, text),
      h('div', { class: 'toolbar' }, yes, no));
    const done = (v) => { d.close(); d.remove(); resolve(v); };
    yes.addEventListener('click', () => done(true));
    no.addEventListener('click', () => done(false));
    d.addEventListener('cancel', (ev) => { ev.preventDefault(); done(false); });
    document.body.append(d);
    d.showModal();
    no.focus(); // the safe choice has the focus
  });
}

// Copies text to the clipboard; falls back to selecting it in a field
// when the browser refuses (no permission): the user presses Ctrl+C.
export async function copyText(text, fallbackEl) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (fallbackEl) {
      const r = document.createRange();
      r.selectNodeContents(fallbackEl);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(r);
    }
    return false;
  }
}

// The phone setup card of extension num (admin): resolves to a <section>.
export async function phoneCard({ h, api, toast }, num) {
  const c = await api('GET', `/extensions/${encodeURIComponent(num)}/phone`);
  const row = (label, key, value) => [h('dt', {}, label), h('dd', {}, h('code', { id: `phone-${key}` }, String(value)))];
  const text = `Server: ${c.server}\nPort: ${c.port}\nTransport: ${c.transport.toUpperCase()}\nUser: ${c.user}\nPassword: ${c.password}`;
  const copy = h('button', { type: 'button', class: 'secondary', id: 'phone-copy' }, 'Copy settings');
  const all = h('pre', { class: 'sr-only', id: 'phone-text' }, text);
  copy.addEventListener('click', async () => {
    toast(await copyText(text, all) ? 'Phone settings copied' : 'Selected: press Ctrl+C to copy');
  });
  const img = h('img', { id: 'phone-qr', src: c.qr, width: 200, height: 200,
    alt: `QR code of the SIP account ${c.user}@${c.server}:${c.port}` });
  return h('section', { class: 'secret phone-card', id: 'phone-card', 'aria-labelledby': 'phone-title', 'data-number': num },
    h('h2', { id: 'phone-title' }, `Set up a phone for extension ${num}`),
    h('div', { class: 'phone-grid' },
      h('dl', { class: 'phone-dl' },
        row('Server', 'server', c.server), row('SIP port', 'port', c.port),
        row('Transport', 'transport', c.transport.toUpperCase()), row('User name', 'user', c.user),
        row('Auth user', 'auth', c.user), row('Password', 'password', c.password)),
      h('figure', { class: 'phone-qr' }, img,
        h('figcaption', { class: 'hint' }, 'Scan with the softphone\'s QR reader: a SIP address with user, password, server and port (',
          h('code', {}, `sip:${c.user}:…@${c.server}:${c.port}`), ').'))),
    h('p', { class: 'hint' }, 'An admin can show this password again later (Reveal). ',
      'Server: the “Public address (behind NAT)” of Settings when set, else the address this browser used.'),
    h('div', { class: 'toolbar' }, copy), all);
}
