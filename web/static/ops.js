// The Status and logs page and the Backup and restore page of the admin UI
// (admin only; imported by app.js, which hands them its helpers).
//
// Status: the figures of GET /api/v1/status every 5 s (uptime, CPU over the
// last interval, memory, disk, calls, registrations, bans with a link to
// the Security page, threads, the mailer, recent failed registrations and
// calls), and the daemon's log: the kept lines at the chosen level (GET
// /api/v1/logs), then new ones as they are written (the
// /api/v1/logs/stream event stream). At most LOG_KEEP lines stay.
//
// Backup: a download link (GET /api/v1/backup streams the file); an upload
// that the server checks and stages but never applies while hookflashd
// runs (the page shows the command that applies it); the [backup]
// schedule and retention.

const LOG_KEEP = 1000;

function fmtBytes(n) {
  if (n === undefined || n === null) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i += 1; }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

export function statusPage(ui) {
  const { h, api, toast, fmtTime, fmtDur, title, main, state, every, go, API } = ui;
  if (state.session.role !== 'admin') { go('dashboard'); return; }
  const stat = (id, label) => {
    const n = h('span', { class: 'n', id }, '–');
    return [n, h('div', { class: 'stat' }, n, h('span', { class: 'l' }, label))];
  };
  const [uptime, uptimeBox] = stat('st-uptime', 'up');
  const [cpu, cpuBox] = stat('st-cpu', 'CPU (of one core)');
  const [mem, memBox] = stat('st-mem', 'memory (RSS)');
  const [disk, diskBox] = stat('st-disk', 'disk free');
  const [callsNow, callsBox] = stat('st-calls', 'calls now');
  const [regsNow, regsBox] = stat('st-regs', 'registrations now');
  const [bans, bansBox] = stat('st-bans', 'banned addresses');
  bansBox.append(h('span', { class: 'l' }, h('a', { href: '#/security', id: 'st-bans-link' }, 'see the Security page')));
  const threads = h('tbody', { id: 'st-threads' });
  const services = h('ul', { id: 'st-services' });
  const failedRegs = h('ul', { id: 'st-failed-regs' });
  const failedCalls = h('tbody', { id: 'st-failed-calls' });
  const level = h('select', { id: 'log-level', name: 'level' },
    ['error', 'warn', 'info', 'debug'].map((l) => h('option', { value: l, selected: l === 'info' }, l)));
  const follow = h('input', { type: 'checkbox', id: 'log-follow', checked: true });
  const lines = h('ol', { id: 'log-lines', class: 'log', 'aria-live': 'off' });
  const liveTag = h('span', { id: 'log-live', class: 'muted' });
  main.append(title('Status and logs'),
    h('div', { class: 'stats' }, uptimeBox, cpuBox, memBox, diskBox, callsBox, regsBox, bansBox),
    h('section', { class: 'card', 'aria-labelledby': 'st-svc-h' },
      h('h2', { id: 'st-svc-h' }, 'Services and threads'), services,
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Thread'), h('th', {}, 'Name'), h('th', {}, 'Id'), h('th', {}, 'CPU time'))), threads)),
    h('section', { class: 'card', 'aria-labelledby': 'st-fr-h' },
      h('h2', { id: 'st-fr-h' }, 'Recent failed registrations'), failedRegs),
    h('section', { class: 'card', 'aria-labelledby': 'st-fc-h' },
      h('h2', { id: 'st-fc-h' }, 'Recent failed calls'),
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Time'), h('th', {}, 'From'), h('th', {}, 'To'), h('th', {}, 'Result'), h('th', {}, 'Why'))), failedCalls)),
    h('section', { class: 'card', 'aria-labelledby': 'log-h' },
      h('h2', { id: 'log-h' }, 'Daemon log'),
      h('div', { class: 'toolbar' }, h('label', { for: 'log-level' }, 'Level '), level,
        h('label', { for: 'log-follow' }, follow, ' follow new lines'), liveTag),
      lines));

  async function loadStatus() {
    const s = await api('GET', '/status');
    uptime.textContent = fmtDur(s.uptime_s);
    const pct = s.process.cpu_percent;
    cpu.textContent = pct === null || pct === undefined ? '–' : `${pct.toFixed(1)} %`;
    mem.textContent = fmtBytes(s.process.rss_bytes);
    disk.textContent = s.disk.free_bytes === undefined ? '–'
      : `${fmtBytes(s.disk.free_bytes)} of ${fmtBytes(s.disk.total_bytes)}`;
    callsNow.textContent = s.calls;
    regsNow.textContent = s.registrations;
    bans.textContent = s.bans;
    const roles = {};
    for (const t of s.threads) roles[t.role] = (roles[t.role] || 0) + 1;
    const mail = s.mailer || {};
    services.replaceChildren(
      ...Object.entries(roles).map(([r, n]) => h('li', {}, `${r}: running${n > 1 ? ` (${n} threads)` : ''}`)),
      h('li', {}, `mailer: ${mail.configured ? `configured, ${mail.pending} waiting` : 'no SMTP server set'}${mail.last_error ? ` – last error: ${mail.last_error}` : ''}`));
    threads.replaceChildren(...s.threads.map((t) => h('tr', {},
      h('td', {}, t.role), h('td', {}, t.name), h('td', {}, t.tid), h('td', {}, `${t.cpu_seconds.toFixed(2)} s`))));
    failedRegs.replaceChildren(...(s.failed_registrations.length ? s.failed_registrations.map((x) =>
      h('li', {}, `${fmtTime(x.time)} – ${x.text}`)) : [h('li', { class: 'muted' }, 'None kept.')]));
    failedCalls.replaceChildren(...s.failed_calls.map((c) => h('tr', {},
      h('td', {}, fmtTime(c.start_ms)), h('td', {}, c.caller), h('td', {}, c.callee),
      h('td', {}, `${c.disposition} (${c.hangup_status})`), h('td', {}, c.hangup_cause))));
  }
  loadStatus().catch((e) => toast(e.message));
  let n = 0;
  every(() => { n += 1; if (n % 5 === 0) loadStatus().catch(() => {}); });

  // the log
  let es = null, next = 0, gen = 0;
  const addLines = (list) => {
    for (const l of list) {
      // an EventSource that reconnected asks again from where it began
      if (l.seq <= next) continue;
      lines.append(h('li', { class: `lvl-${l.level}`, 'data-level': l.level, 'data-seq': l.seq },
        h('time', {}, new Date(l.time).toLocaleTimeString()), ` ${l.level} [${l.tag}] ${l.text}`));
      next = Math.max(next, l.seq);
    }
    while (lines.childElementCount > LOG_KEEP) lines.firstElementChild.remove();
    if (follow.checked && lines.lastElementChild) lines.lastElementChild.scrollIntoView({ block: 'nearest' });
  };
  async function startLog() {
    const my = ++gen;
    if (es) { es.close(); es = null; }
    lines.replaceChildren();
    next = 0;
    const r = await api('GET', `/logs?level=${level.value}&limit=500`);
    if (my !== gen) return;
    addLines(r.lines);
    next = Math.max(next, r.next);
    if (!window.EventSource) { liveTag.textContent = 'not live (no EventSource)'; return; }
    es = new EventSource(`${API}/logs/stream?level=${level.value}&since=${next}`);
    es.addEventListener('open', () => { liveTag.textContent = 'live'; });
    es.addEventListener('log', (ev) => {
      if (my !== gen) return; // a stream of the level before
      liveTag.textContent = 'live';
      try { addLines(JSON.parse(ev.data).lines); } catch (e) { console.warn(e); }
    });
    es.addEventListener('error', () => { liveTag.textContent = es && es.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting'; });
  }
  level.addEventListener('change', () => { startLog().catch((e) => toast(e.message)); });
  state.stop.push(() => { gen += 1; if (es) es.close(); });
  startLog().catch((e) => toast(e.message));
}

export function backupPage(ui) {
  const { h, api, field, toast, fmtTime, title, main, state, go, API, ApiError, showError, clearErrors } = ui;
  if (state.session.role !== 'admin') { go('dashboard'); return; }
  const vm = h('input', { type: 'checkbox', id: 'bk-voicemail' });
  const pr = h('input', { type: 'checkbox', id: 'bk-prompts' });
  const link = h('a', { id: 'bk-download', class: 'button', href: `${API}/backup`, download: '' }, 'Download backup');
  const upd = () => {
    const q = [vm.checked ? 'voicemail=1' : '', pr.checked ? 'prompts=1' : ''].filter(Boolean).join('&');
    link.href = `${API}/backup${q ? `?${q}` : ''}`;
  };
  vm.addEventListener('change', upd);
  pr.addEventListener('change', upd);
  const file = h('input', { type: 'file', id: 'bk-file', name: 'file', accept: '.tar,application/x-tar' });
  const result = h('div', { id: 'bk-restore-result', role: 'status', 'aria-live': 'polite' });
  const up = h('button', { type: 'button', id: 'bk-upload' }, 'Upload and check');
  const sched = h('div', { id: 'bk-schedule' }, h('p', { class: 'muted' }, 'Loading…'));
  const showHow = (j) => result.replaceChildren(
    h('p', {}, j.how), h('pre', { id: 'bk-command' }, h('code', {}, j.command)));
  up.addEventListener('click', async () => {
    if (!file.files.length) { result.textContent = 'Choose a backup file first.'; return; }
    up.disabled = true;
    result.textContent = 'Uploading and checking…';
    try {
      const r = await fetch(`${API}/restore`, { method: 'POST', credentials: 'same-origin',
        headers: { 'X-CSRF-Token': state.csrf, 'Content-Type': 'application/x-tar' }, body: file.files[0] });
      const j = await r.json().catch(() => ({}));
      if (!r.ok) throw new ApiError(r.status, j);
      showHow(j);
    } catch (e) {
      result.replaceChildren(h('p', { class: 'err', id: 'bk-restore-error' }, `Refused: ${e.message}`));
    } finally {
      up.disabled = false;
    }
  });
  main.append(title('Backup and restore'),
    h('section', { class: 'card', 'aria-labelledby': 'bk-dl-h' },
      h('h2', { id: 'bk-dl-h' }, 'Download a backup'),
      h('p', {}, 'One file with the database (taken while calls go on), the settings, and the web certificate and key.'),
      h('p', {}, h('label', {}, vm, ' with voicemail'), ' ', h('label', {}, pr, ' with prompts')),
      link),
    h('section', { class: 'card', 'aria-labelledby': 'bk-rs-h' },
      h('h2', { id: 'bk-rs-h' }, 'Restore'),
      h('p', {}, 'The file is checked here and kept ready; it is applied with hookflashd stopped, so nothing changes under running calls. The current data is kept aside.'),
      field('bk-file', 'Backup file', file), h('div', { class: 'toolbar' }, up), result),
    h('section', { class: 'card', 'aria-labelledby': 'bk-sc-h' },
      h('h2', { id: 'bk-sc-h' }, 'Scheduled backups'), sched));

  async function loadSchedule() {
    const b = await api('GET', '/backups');
    if (b.restore) showHow(b.restore);
    const every_ = h('select', { name: 'backup.schedule', id: 'bk-sched' },
      ['off', 'hourly', 'daily', 'weekly'].map((v) => h('option', { value: v, selected: v === b.schedule }, v)));
    if (!['off', 'hourly', 'daily', 'weekly'].includes(b.schedule)) every_.append(h('option', { value: b.schedule, selected: true }, b.schedule));
    const keep = h('input', { type: 'number', name: 'backup.keep', min: 1, max: 1000, value: b.keep });
    const form = h('form', { id: 'bk-sched-form', novalidate: true },
      field('bk-sched', 'Take a backup', every_),
      field('bk-keep', 'Keep the newest', keep),
      h('p', { class: 'muted' }, `In ${b.dir}${b.newest ? `; the newest from ${fmtTime(b.newest * 1000)}` : '; none yet'}.`),
      h('div', { class: 'toolbar' }, h('button', { type: 'submit' }, 'Save'),
        h('span', { class: 'err', 'data-err-for': '_form', role: 'alert' })));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      try {
        await api('PUT', '/settings', { 'backup.schedule': every_.value, 'backup.keep': Number(keep.value) });
        toast('Backup schedule saved.');
        loadSchedule().catch(() => {});
      } catch (e) { showError(form, e); }
    });
    sched.replaceChildren(form);
  }
  loadSchedule().catch((e) => { sched.textContent = e.message; });
}

