// The admin UI in headless Chromium (playwright-core). Started by run.py,
// which gives the URL and credentials in the environment and plays the SIP
// phones when asked: this script prints "NEED <what> [args]" and waits for
// "GO" (or "ERR <message>") on stdin. Prints "PASS <step>" / "FAIL <step>:
// <why>" per step; a failed step makes the steps after it fail as skipped.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const URL = process.env.HF_URL;
const USER = process.env.HF_USER || 'admin';
const PASSWORD = process.env.HF_PASSWORD; // the generated one: must be changed at once
const NEW_PASSWORD = process.env.HF_NEW_PASSWORD;
const OUT = process.env.HF_OUT || 'output';
const EXT = '2101';
const VM_PASSWORD = 'vm-browser-pw-1';
const T = 10000; // the longest any single wait may take

mkdirSync(OUT, { recursive: true });
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

async function need(...what) {
  console.log(`NEED ${what.join(' ')}`);
  const { value, done } = await lines.next();
  if (done) throw new Error(`no answer to NEED ${what[0]}`);
  if (value !== 'GO') throw new Error(`phones: ${value.replace(/^ERR /, '')}`);
}

const profile = mkdtempSync(join(tmpdir(), 'hf-chromium-'));
// a fresh profile each run (user-data-dir), deleted at the end
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.HF_CHROMIUM || '/usr/bin/chromium',
  // the voicemail step plays a message from a script (no click on the player)
  args: ['--headless', '--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  ignoreHTTPSErrors: true,
  viewport: { width: 1200, height: 800 },
  timeout: 20000,
});
const page = context.pages()[0] || await context.newPage();
page.setDefaultTimeout(T);
const problems = [];
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
page.on('console', (m) => {
  if (m.type() !== 'error') return;
  const at = m.location().url || '';
  // API errors (401 before login, 400 for the bad number) are expected and
  // shown by the page; the browser also asks for a favicon there is none of
  if (/^Failed to load resource/.test(m.text()) && (at.includes('/api/v1/') || at.endsWith('/favicon.ico'))) return;
  problems.push(`console: ${m.text()}`);
});

// GETs of the live lists: with the event stream working there are none
const polled = [];
page.on('request', (rq) => {
  if (rq.method() === 'GET' && /\/api\/v1\/(calls|registrations)(\?|$)/.test(rq.url())) polled.push(rq.url());
});

let shot = 0;
async function screenshot(name) {
  shot += 1;
  await page.screenshot({ path: join(OUT, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
}

async function text(sel) {
  return (await page.locator(sel).first().textContent()).trim();
}

function expect(cond, msg) {
  if (!cond) throw new Error(msg);
}

let password = null;
let card = null;

const steps = [
  ['login page loads (module script, stylesheet, no CSP errors)', async () => {
    const r = await page.goto(URL);
    expect(r.status() === 200, `GET / -> ${r.status()}`);
    await page.locator('#login-form').waitFor();
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg === 'rgb(244, 245, 247)', `style.css not applied (body background ${bg})`);
    await screenshot('login');
  }],
  ['the login page shows no menu and no Log out', async () => {
    expect(!(await page.locator('#top').isVisible()), 'the menu bar is visible before login');
    expect(!(await page.locator('#logout').isVisible()), 'a Log out button is visible before login');
    expect(!(await page.locator('a[data-page=extensions]').isVisible()), 'the Extensions link is visible before login');
  }],
  ['a wrong password shows the API error on the form', async () => {
    await page.fill('#login-username', USER);
    await page.fill('#login-password', 'wrong-password');
    await page.click('#login-form button[type=submit]');
    await page.locator('#login-form [data-err-for=_form]:not(:empty)').waitFor();
    expect(await page.locator('#login-form').isVisible(), 'left the login page');
  }],
  ['the first login with the generated password shows only the change form', async () => {
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-form button[type=submit]');
    await page.locator('#password-form').waitFor();
    expect(await page.locator('#password-forced').isVisible(), 'no word on why');
    expect(await page.evaluate(() => document.getElementById('top').hidden), 'the menu is shown before the change');
    await page.goto(URL + '#/extensions');
    await page.locator('#password-form').waitFor();
    expect(await page.locator('#ext-rows').count() === 0, 'another page is reachable before the change');
    await page.fill('#pw-current', PASSWORD);
    await page.fill('#pw-new', NEW_PASSWORD);
    await page.fill('#pw-repeat', NEW_PASSWORD + 'x');
    await page.click('#password-form button[type=submit]');
    await page.locator('#pw-repeat-err:not(:empty)').waitFor();
    await page.fill('#pw-new', 'short');
    await page.fill('#pw-repeat', 'short');
    await page.click('#password-form button[type=submit]');
    await page.locator('#pw-new-err:not(:empty)').waitFor();
    expect(/at least 8/.test(await text('#pw-new-err')), `policy message: ${await text('#pw-new-err')}`);
    await screenshot('forced-password-change');
  }],
  ['after the change the dashboard shows live status', async () => {
    await page.fill('#pw-new', NEW_PASSWORD);
    await page.fill('#pw-repeat', NEW_PASSWORD);
    await page.click('#password-form button[type=submit]');
    await page.waitForFunction(() => /^\d+$/.test(document.getElementById('stat-registrations')?.textContent || ''));
    expect(await text('#stat-calls') === '0', `calls now: ${await text('#stat-calls')}`);
    expect(await text('#stat-extensions') === '5', `extensions: ${await text('#stat-extensions')}`);
    expect(await page.locator('#top').isVisible() && await page.locator('#logout').isVisible(), 'no menu after login');
    // the system's time zone is named in the header
    await page.locator('#tz', { hasText: /^times in \S+/ }).waitFor();
    // no tile wraps: every figure is one line, as high as "calls now"
    await page.locator('#stat-answered', { hasText: 'answered' }).waitFor();
    const heights = await page.evaluate(() => [...document.querySelectorAll('.stat .n')].map((e) => e.getBoundingClientRect().height));
    expect(heights.every((x) => x === heights[0]), `tile heights ${heights.join(', ')}`);
    await page.setViewportSize({ width: 700, height: 800 });
    const narrow = await page.evaluate(() => [...document.querySelectorAll('.stat .n')].map((e) => e.getBoundingClientRect().height));
    await page.setViewportSize({ width: 1200, height: 800 });
    expect(narrow.every((x) => x === narrow[0]), `tile heights at 700 px ${narrow.join(', ')}`);
    expect(!(await page.evaluate(() => document.getElementById('top').hidden)), 'no menu after the change');
    await screenshot('dashboard');
  }],
  ['a bad extension number is reported next to the number field', async () => {
    await page.click('a[data-page=extensions]');
    await page.locator('#ext-rows tr[data-number="1001"]').waitFor();
    await page.fill('#ext-number', 'ab');
    await page.click('#ext-create button[type=submit]');
    await page.locator('#ext-number-err:not(:empty)').waitFor();
    expect(/digits/.test(await text('#ext-number-err')), `error: ${await text('#ext-number-err')}`);
    expect(await page.getAttribute('#ext-number', 'aria-invalid') === 'true', 'field not marked invalid');
    await screenshot('extension-error');
  }],
  ['create an extension: the phone card shows server, port, user, password and a QR code', async () => {
    await page.fill('#ext-number', EXT);
    await page.fill('#ext-name', 'Browser softphone');
    await page.click('#ext-create button[type=submit]');
    await page.locator('#phone-card').waitFor();
    password = await text('#phone-password');
    card = { server: await text('#phone-server'), port: await text('#phone-port'), user: await text('#phone-user'),
      transport: await text('#phone-transport') };
    expect(/^\S{8,}$/.test(password), `password shown: ${password}`);
    expect(card.server === new globalThis.URL(URL).hostname && /^\d+$/.test(card.port) && card.user === EXT && card.transport === 'UDP',
      `card: ${JSON.stringify(card)}`);
    await page.waitForFunction(() => document.getElementById('phone-qr').complete && document.getElementById('phone-qr').naturalWidth > 100);
    expect(/QR code/.test(await page.getAttribute('#phone-qr', 'alt')), 'the QR image has no text alternative');
    await page.locator(`#ext-rows tr[data-number="${EXT}"]`).waitFor();
    expect(await text('#ext-number-err') === '', 'the old error is still shown');
    expect(!(await page.content()).includes('shown only this once'), 'the false "shown only once" wording is back');
    await screenshot('extension-created');
    await page.click('#secret-dismiss');
    await page.locator('#secret').waitFor({ state: 'detached' });
  }],
  ['search filters the extension list', async () => {
    await page.fill('#ext-search', 'softphone');
    await page.waitForFunction(() => document.querySelectorAll('#ext-rows tr[data-number]').length === 1);
    expect(await page.locator(`#ext-rows tr[data-number="${EXT}"]`).count() === 1, 'wrong row left');
    await page.fill('#ext-search', '');
    await page.waitForFunction(() => document.querySelectorAll('#ext-rows tr[data-number]').length === 6);
  }],
  ['edit (name, codecs, SRTP, call handling, trust, contact, max calls, voicemail) and delete an extension', async () => {
    await page.fill('#ext-number', '2199');
    await page.click('#ext-create button[type=submit]');
    await page.locator('#secret-dismiss').click();
    const row = page.locator('#ext-rows tr[data-number="2199"]');
    await row.getByRole('button', { name: 'Edit 2199' }).click();
    // the codec hint is the server's codec table (GET /api/v1/codecs), not a list of the UI's
    const table = await page.evaluate(async () => (await fetch('/api/v1/codecs')).json());
    await page.waitForFunction(() => / of /.test(document.getElementById('edit-2199-codecs-hint').textContent));
    const hint = await text('#edit-2199-codecs-hint');
    expect(table.codecs.length > 0 && table.codecs.every((c) => hint.includes(c.name)),
      `hint ${JSON.stringify(hint)} vs codecs ${JSON.stringify(table.codecs.map((c) => c.name))}`);
    await page.fill('#edit-2199-name', 'Renamed by the browser');
    await page.fill('#edit-2199-codecs', 'G729');
    await row.getByRole('button', { name: 'Save' }).click();
    await page.locator('#edit-2199-codecs-err:not(:empty)').waitFor();
    expect(/unknown codec/.test(await text('#edit-2199-codecs-err')), `error: ${await text('#edit-2199-codecs-err')}`);
    await page.fill('#edit-2199-codecs', 'opus,PCMU');
    await page.fill('#edit-2199-forward_all', '2199');
    await row.getByRole('button', { name: 'Save' }).click();
    await page.locator('#edit-2199-forward_all-err:not(:empty)').waitFor();
    expect(/to itself/.test(await text('#edit-2199-forward_all-err')), `error: ${await text('#edit-2199-forward_all-err')}`);
    await page.fill('#edit-2199-forward_all', '');
    await page.fill('#edit-2199-ring_time', '40');
    await page.fill('#edit-2199-no_answer', 'hangup');
    await page.fill('#edit-2199-forward_busy', '*97');
    await page.check('#edit-2199-dnd');
    await page.selectOption('#edit-2199-srtp', 'required');
    // the CLI's other fields, through the same validation (an error next to its field)
    await page.fill('#edit-2199-trust', 'not-an-address');
    await row.getByRole('button', { name: 'Save' }).click();
    await page.locator('#edit-2199-trust-err:not(:empty)').waitFor();
    await page.fill('#edit-2199-trust', '192.0.2.0/24');
    await page.fill('#edit-2199-max_calls', '3');
    await page.fill('#edit-2199-contact', 'sip:192.0.2.10:5060');
    await page.fill('#edit-2199-vm_email', 'frontdesk@example.com');
    await page.fill('#edit-2199-vm_max_messages', '50');
    await screenshot('extension-edit');
    await row.getByRole('button', { name: 'Save' }).click();
    await page.locator('#ext-rows tr[data-number="2199"] td', { hasText: 'Renamed by the browser' }).waitFor();
    const saved = await page.evaluate(async () => (await fetch('/api/v1/extensions/2199')).json());
    expect(saved.codecs === 'opus,PCMU' && saved.srtp === 'required', `stored: ${JSON.stringify(saved)}`);
    expect(saved.ring_time === 40 && saved.no_answer === 'hangup' && saved.busy === '' && saved.forward_all === '' &&
      saved.forward_busy === '*97' && saved.dnd === true, `call handling stored: ${JSON.stringify(saved)}`);
    expect(saved.trust === '192.0.2.0/24' && saved.max_calls === 3 && saved.contact === 'sip:192.0.2.10:5060' &&
      saved.vm_email === 'frontdesk@example.com' && saved.vm_max_messages === 50, `other fields stored: ${JSON.stringify(saved)}`);
    await row.getByRole('button', { name: 'Delete 2199' }).click();
    await row.getByRole('button', { name: 'Delete 2199' }).click(); // confirm
    await row.waitFor({ state: 'detached' });
  }],
  ['a softphone (baresip) registering with the shown password appears without a reload', async () => {
    await page.click('a[data-page=registrations]');
    await page.locator('#reg-rows').waitFor();
    await page.waitForFunction(() => document.getElementById('main').dataset.live === 'sse');
    await page.evaluate(() => { window.hfNoReload = 1; });
    // the softphone gets exactly what the card said
    await need('register', card.user, password, card.server, card.port);
    const row = page.locator(`#reg-rows tr[data-extension="${EXT}"]`);
    await row.waitFor();
    expect(/baresip/i.test(await row.locator('td').nth(4).textContent()), `user agent: ${await row.locator('td').nth(4).textContent()}`);
    expect(await page.evaluate(() => window.hfNoReload) === 1, 'the page was reloaded');
    await screenshot('registrations');
  }],
  ['the extensions page shows the registered softphone online', async () => {
    await page.click('a[data-page=extensions]');
    const cell = page.locator(`#ext-rows tr[data-number="${EXT}"] td.online[data-online=yes]`);
    await cell.waitFor();
    expect(/baresip/i.test(await cell.textContent()), `online cell: ${await cell.textContent()}`);
    expect(await page.locator('#ext-rows tr[data-number="1003"] td.online[data-online=no]').count() === 1, '1003 is not offline');
    await screenshot('extensions-online');
  }],
  ['a call appears on the live calls page', async () => {
    await page.click('a[data-page=calls]');
    await page.locator('#call-rows').waitFor();
    await need('call');
    const row = page.locator(`#call-rows tr[data-caller="${EXT}"][data-callee="1002"]`);
    await row.locator('.badge.answered').waitFor();
    await screenshot('live-call');
  }],
  ['hang the call up from the page', async () => {
    const row = page.locator(`#call-rows tr[data-caller="${EXT}"]`);
    await row.getByRole('button', { name: /^Hang up/ }).click();
    await row.waitFor({ state: 'detached' });
    await need('hungup');
    await screenshot('call-hung-up');
  }],
  ['the live pages followed the event stream, not polling', async () => {
    expect(await page.evaluate(() => document.getElementById('main').dataset.live) === 'sse', 'not on the event stream');
    expect(polled.length === 0, `polled: ${polled.slice(0, 3).join(', ')}`);
  }],
  ['the call is in the call history, CSV download works', async () => {
    await page.click('a[data-page=history]');
    await page.fill('#cdr-number', EXT);
    await page.click('#cdr-filter button[type=submit]');
    const row = page.locator('#cdr-rows tr[data-id]');
    const deadline = Date.now() + T;
    while (await row.count() === 0 && Date.now() < deadline) { // the record is written as the call ends
      await page.waitForTimeout(250);
      await page.click('#cdr-refresh');
    }
    expect(await row.count() === 1, `${await row.count()} records for ${EXT}`);
    const cells = await row.locator('td').allTextContents();
    expect(cells[1].startsWith(EXT) && cells[2].startsWith('1002') && cells[3] === 'ANSWERED',
      `record: ${cells.join(' | ')}`);
    const href = await page.getAttribute('#cdr-csv', 'href');
    expect(href.includes('format=csv') && href.includes(`number=${EXT}`), `CSV link ${href}`);
    const csv = await context.request.get(new globalThis.URL(href, URL).href);
    const body = await csv.text();
    expect(csv.status() === 200 && body.includes(EXT) && body.includes('ANSWERED'), `CSV ${csv.status()}: ${body.slice(0, 200)}`);
    await screenshot('history');
  }],
  ['history: times in the system zone, durations as the CLI writes them, date filters in that zone', async () => {
    const cells = await page.locator('#cdr-rows tr[data-id] td').allTextContents();
    expect(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(cells[0]), `start: ${cells[0]}`);
    expect(/^(\d+s|\d+m \d{2}s)$/.test(cells[4]) && /^(\d+s|\d+m \d{2}s)$/.test(cells[5]), `durations: ${cells[4]} / ${cells[5]}`);
    // the row's own date, in the zone it is shown in, as From and To: still there
    const day = cells[0].slice(0, 10);
    await page.fill('#cdr-from', day);
    await page.fill('#cdr-to', day);
    await page.click('#cdr-filter button[type=submit]');
    await page.waitForFunction(() => document.querySelectorAll('#cdr-rows tr[data-id]').length === 1);
    // the day after it: gone
    const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86400000).toISOString().slice(0, 10);
    await page.fill('#cdr-from', next);
    await page.fill('#cdr-to', next);
    await page.click('#cdr-filter button[type=submit]');
    await page.locator('#cdr-rows td.empty').waitFor();
    await page.fill('#cdr-from', '');
    await page.fill('#cdr-to', '');
  }],
  ['the dashboard chart shows the call in the current hour', async () => {
    await page.click('a[data-page=dashboard]');
    await page.locator('#calls-chart').waitFor();
    const last = page.locator('#chart-table tbody tr').last();
    const n = Number(await last.locator('td').first().textContent());
    expect(n >= 1, `calls this hour in the chart: ${n}`);
    expect(await page.locator('#chart-table tbody tr').count() === 24, 'not 24 hours');
    expect(/Calls per hour/.test(await text('#chart-table caption')), 'the chart has no text alternative');
    const bar = page.locator('#calls-chart svg g.bar').last();
    expect(Number(await bar.getAttribute('data-calls')) === n && await bar.locator('rect.all').count() === 1,
      'the bar of this hour is not drawn');
    await page.waitForFunction(() => /^\d+$/.test(document.getElementById('stat-registrations')?.textContent || '')
      && Number(document.getElementById('stat-registrations').textContent) >= 2);
    await screenshot('dashboard-chart');
  }],
  ['settings: a bad value is shown next to its field, nothing saved', async () => {
    await page.click('a[data-page=settings]');
    await page.locator('#settings-form').waitFor();
    await page.click('#settings-tab-advanced');
    await page.fill('#set-registrar-min-expires', '0');
    await page.click('#settings-form button[type=submit]');
    await page.locator('#set-registrar-min-expires-err:not(:empty)').waitFor();
    expect(/registrar\.min_expires/.test(await text('#set-registrar-min-expires-err')), `error: ${await text('#set-registrar-min-expires-err')}`);
    expect(await page.getAttribute('#set-registrar-min-expires', 'aria-invalid') === 'true', 'field not marked invalid');
    await screenshot('settings-error');
  }],
  ['settings: a live change is saved and applied', async () => {
    await page.fill('#set-registrar-min-expires', '60');
    await page.fill('#set-registrar-max-expires', '3000');
    await page.selectOption('#set-general-log-level', 'info');
    await page.click('#settings-form button[type=submit]');
    await page.locator('#settings-status', { hasText: 'In effect now' }).waitFor();
    expect(/registrar\.max_expires/.test(await text('#settings-status')), `status: ${await text('#settings-status')}`);
    await page.click('a[data-page=dashboard]');
    await page.click('a[data-page=settings]');
    await page.locator('#settings-form').waitFor();
    await page.click('#settings-tab-advanced');
    expect(await page.inputValue('#set-registrar-max-expires') === '3000', 'not saved');
    expect(await text('#set-registrar-max-expires-source') === 'saved here', `source: ${await text('#set-registrar-max-expires-source')}`);
    expect(await text('#set-registrar-default-expires-source') === 'default', `source: ${await text('#set-registrar-default-expires-source')}`);
    await screenshot('settings-saved');
  }],
  ['settings: Basic and Advanced tabs, plain labels, sources; a lock-out change asks first', async () => {
    await page.click('#settings-tab-basic');
    expect(await page.locator('#set-sip-udp-port').isVisible(), 'the SIP port is not on the Basic tab');
    expect(!(await page.locator('#set-registrar-max-expires').isVisible()), 'a tuning key is on the Basic tab');
    expect(await page.locator('label[for=set-sip-external-address]').textContent() === 'Public address (behind NAT)', 'label of sip.external_address');
    // the test daemon gets its ports as flags
    expect(await text('#set-sip-udp-port-source') === 'hookflash.conf or command line', `source: ${await text('#set-sip-udp-port-source')}`);
    await page.locator('#set-timezone', { hasText: /\S/ }).waitFor();
    const was = await page.inputValue('#set-http-https-port');
    await page.fill('#set-http-https-port', '8999');
    await page.click('#settings-form button[type=submit]');
    await page.locator('#lockout-dialog').waitFor();
    expect(/lock you out/.test(await text('#lockout-dialog-title')) && /8999/.test(await text('#lockout-dialog-text')),
      `dialog: ${await text('#lockout-dialog')}`);
    await screenshot('settings-lockout');
    await page.click('#lockout-dialog-no');
    await page.locator('#settings-status', { hasText: 'Not saved' }).waitFor();
    const saved = await page.evaluate(async () => (await fetch('/api/v1/settings')).json());
    expect(String(saved.settings['http.https_port']) === was, `saved anyway: ${saved.settings['http.https_port']}`);
    await page.fill('#set-http-https-port', was);
  }],
  ['settings: the e-mail password is never shown back; the test e-mail says why it cannot go', async () => {
    await page.fill('#set-email-password', 'browser-secret-1');
    await page.selectOption('#set-email-tls', 'require');
    await page.click('#settings-form button[type=submit]');
    await page.locator('#settings-status', { hasText: 'email.password' }).waitFor();
    await page.click('a[data-page=dashboard]');
    await page.click('a[data-page=settings]');
    await page.locator('#settings-form').waitFor();
    await page.click('#settings-tab-basic');
    expect(await page.getAttribute('#set-email-password', 'type') === 'password', 'the password input is not type=password');
    expect(await page.inputValue('#set-email-password') === '', 'the saved password was put back in its input');
    expect(/saved/.test(await page.getAttribute('#set-email-password', 'placeholder')), 'no hint that a password is saved');
    expect(await page.inputValue('#set-email-tls') === 'require', 'tls not saved');
    expect(!(await page.content()).includes('browser-secret-1'), 'the password is in the page');
    await page.fill('#mail-test-to', 'admin@example.com');
    await page.click('#mail-test-send');
    await page.locator('#mail-test-result', { hasText: 'no SMTP server set' }).waitFor();
    await screenshot('settings-email');
  }],
  ['security: a banned address is listed with its user, and Unban lifts it', async () => {
    await need('ban', '127.0.0.9', '1003', '10');
    await page.click('a[data-page=security]');
    const row = page.locator('#ban-rows tr[data-address="127.0.0.9"]');
    await row.waitFor({ timeout: T });
    expect((await row.textContent()).includes('1003'), `ban row does not name 1003: ${await row.textContent()}`);
    await page.locator('#fail-rows td', { hasText: '127.0.0.9' }).first().waitFor({ timeout: T });
    await screenshot('security-banned');
    await page.click('[data-unban="127.0.0.9"]');
    await row.waitFor({ state: 'detached', timeout: T });
    await page.locator('#security-status', { hasText: 'lifted' }).waitFor({ timeout: T });
    await screenshot('security-unbanned');
  }],
  ['the numbering plan lists *43 and the extensions', async () => {
    await page.click('a[data-page=numbers]');
    await page.locator('#number-rows tr[data-number="*43"]').waitFor();
    expect((await page.textContent('#number-rows tr[data-number="*43"]')).includes('app:echo'), 'no app:echo for *43');
    await page.locator(`#number-rows tr[data-number="${EXT}"]`).waitFor();
    await screenshot('numbers');
  }],
  ['About shows the version, the licence and the sound credits', async () => {
    await page.click('a[data-page=about]');
    await page.locator('#about-sounds').waitFor();
    expect(/^Version \d+\.\d+\.\d+\.$/.test(await text('#about-version')), `version: ${await text('#about-version')}`);
    const body = await text('main');
    for (const want of ['GPL-2.0-or-later', 'Allison Smith', 'asterisk-moh-opsound-wav', 'Attribution-ShareAlike 3.0']) {
      expect(body.includes(want), `About does not say ${want}`);
    }
    await screenshot('about');
  }],
  ['extensions: Reveal shows the password; New password asks first and Cancel keeps it', async () => {
    await page.click('a[data-page=extensions]');
    const row = page.locator(`#ext-rows tr[data-number="${EXT}"]`);
    await row.getByRole('button', { name: `Reveal password of ${EXT}` }).click();
    await page.locator(`#pw-${EXT}`).waitFor();
    expect(await text(`#pw-${EXT}`) === password, 'Reveal shows another password');
    await row.getByRole('button', { name: `New password for ${EXT}` }).click();
    await page.locator('#newpw-dialog').waitFor();
    expect(/stops registering/.test(await text('#newpw-dialog-text')), `dialog: ${await text('#newpw-dialog-text')}`);
    expect(/1 phone is registered/.test(await text('#newpw-dialog-text')), `dialog does not say a phone uses it: ${await text('#newpw-dialog-text')}`);
    await screenshot('new-password-confirm');
    await page.click('#newpw-dialog-no');
    await page.locator('#newpw-dialog').waitFor({ state: 'detached' });
    let now = await page.evaluate(async (n) => (await fetch(`/api/v1/extensions/${n}/secret`)).json(), EXT);
    expect(now.password === password, 'Cancel replaced the password');
    await row.getByRole('button', { name: `New password for ${EXT}` }).click();
    await page.click('#newpw-dialog-yes');
    await page.locator('#phone-card').waitFor();
    const fresh = await text('#phone-password');
    now = await page.evaluate(async (n) => (await fetch(`/api/v1/extensions/${n}/secret`)).json(), EXT);
    expect(fresh !== password && now.password === fresh, 'the card does not show the new password');
    await page.click('#secret-dismiss');
  }],
  ['users: create, change role, delete (with a confirmation)', async () => {
    await page.click('a[data-page=users]');
    await page.locator('#user-rows tr[data-username=admin]').waitFor();
    await page.fill('#user-name', 'browserclerk');
    await page.fill('#user-password', 'browser-clerk-pw-1');
    await page.fill('#user-extension', '1003');
    await page.click('#user-create button[type=submit]');
    const row = page.locator('#user-rows tr[data-username=browserclerk]');
    await row.waitFor();
    expect((await row.textContent()).includes('1003'), `row: ${await row.textContent()}`);
    await row.getByRole('combobox', { name: 'Role of browserclerk' }).selectOption('admin');
    await page.waitForFunction(async () => (await (await fetch('/api/v1/users')).json()).users
      .some((u) => u.username === 'browserclerk' && u.role === 'admin'));
    await screenshot('users');
    await page.locator('#user-rows tr[data-username=browserclerk]').getByRole('button', { name: 'Delete user browserclerk' }).click();
    await page.click('#user-delete-dialog-yes');
    await page.locator('#user-rows tr[data-username=browserclerk]').waitFor({ state: 'detached' });
    expect(await page.locator('#user-rows tr[data-username=admin] button[disabled]').count() === 1, 'admin may delete itself');
  }],
  ['API tokens: the secret is shown once with a copy button, it works, delete revokes it', async () => {
    await page.click('a[data-page=tokens]');
    await page.locator('#token-rows').waitFor();
    await page.fill('#token-name', 'browser-script');
    await page.click('#token-create button[type=submit]');
    await page.locator('#new-token').waitFor();
    const tok = await text('#new-token');
    expect(/^\S{20,}$/.test(tok) && await page.locator('#token-copy').isVisible(), `token shown: ${tok}`);
    const row = page.locator('#token-rows tr[data-name=browser-script]');
    await row.waitFor();
    expect(!(await row.textContent()).includes(tok), 'the token is in the list');
    const use = () => context.request.get(new globalThis.URL('/api/v1/extensions', URL).href,
      { headers: { Authorization: `Bearer ${tok}`, Cookie: '' } });
    expect((await use()).status() === 200, 'the new token is refused');
    await screenshot('tokens');
    await page.click('#token-dismiss');
    await row.getByRole('button', { name: 'Delete token browser-script' }).click();
    await page.click('#token-delete-dialog-yes');
    await row.waitFor({ state: 'detached' });
    expect((await use()).status() === 401, 'the deleted token still works');
  }],
  ['every input has a label', async () => {
    for (const where of ['settings', 'security', 'extensions', 'history', 'voicemail', 'users', 'tokens']) {
      await page.click(`a[data-page=${where}]`);
      await page.locator('main input, main select').first().waitFor();
      const bare = await page.evaluate(() => [...document.querySelectorAll('main input, main select')]
        .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map((el) => el.name || el.id));
      expect(bare.length === 0, `${where}: inputs without a label: ${bare.join(', ')}`);
    }
  }],
  ['keyboard focus is visible', async () => {
    await page.click('a[data-page=history]');
    await page.locator('#cdr-number').focus();
    await page.keyboard.press('Tab');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    expect(outline !== 'none', `focused ${await page.evaluate(() => document.activeElement.id)} has no outline`);
  }],
  ['status and logs: figures, threads, the bans link', async () => {
    await page.click('a[data-page=status]');
    await page.waitForFunction(() => /\d/.test(document.getElementById('st-uptime')?.textContent || ''));
    await page.locator('#st-threads tr', { hasText: 'signalling loop' }).waitFor();
    await page.locator('#st-threads tr', { hasText: 'media worker' }).first().waitFor();
    expect(/%/.test(await text('#st-cpu')), `CPU: ${await text('#st-cpu')}`);
    expect(/iB/.test(await text('#st-mem')) && /of/.test(await text('#st-disk')), 'memory or disk missing');
    expect(await page.getAttribute('#st-bans-link', 'href') === '#/security', 'no link to the Security page');
    const bare = await page.evaluate(() => [...document.querySelectorAll('main input, main select')]
      .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map((el) => el.name || el.id));
    expect(bare.length === 0, `inputs without a label: ${bare.join(', ')}`);
    await page.locator('#log-lines li').first().waitFor();
  }],
  ['status and logs: a new log line appears live after an action', async () => {
    await page.locator('#log-live', { hasText: 'live' }).waitFor();
    const st = await page.evaluate(async () => {
      const s = await (await fetch('/api/v1/session')).json();
      const r = await fetch('/api/v1/extensions', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token },
        body: JSON.stringify({ number: '2177', name: 'Log test' }) });
      return r.status;
    });
    expect(st === 201, `create extension 2177: ${st}`);
    await page.locator('#log-lines li', { hasText: 'extension 2177 created by' }).waitFor();
    await screenshot('status-logs');
  }],
  ['status and logs: the level filter hides debug lines', async () => {
    await page.selectOption('#log-level', 'debug');
    await page.locator('#log-lines li[data-level=debug]').first().waitFor();
    await page.selectOption('#log-level', 'info');
    await page.locator('#log-lines li').first().waitFor();
    await page.locator('#log-lines li', { hasText: 'extension 2177 created by' }).waitFor();
    const debug = await page.locator('#log-lines li[data-level=debug]').count();
    expect(debug === 0, `${debug} debug lines shown at level info`);
  }],
  ['backup: the download is a backup archive; a bad upload is refused with why', async () => {
    await page.click('a[data-page=backup]');
    await page.locator('#bk-sched').waitFor();
    const bare = await page.evaluate(() => [...document.querySelectorAll('main input, main select')]
      .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map((el) => el.name || el.id));
    expect(bare.length === 0, `inputs without a label: ${bare.join(', ')}`);
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#bk-download')]);
    expect(/^hookflash-backup-\d{8}-\d{6}\.tar$/.test(dl.suggestedFilename()), `file name ${dl.suggestedFilename()}`);
    const path = await dl.path();
    const { readFileSync } = await import('node:fs');
    const b = readFileSync(path);
    expect(b.length > 10000 && b.subarray(257, 262).toString() === 'ustar', `not a tar (${b.length} bytes)`);
    expect(b.includes(Buffer.from('hookflash-backup 1\n')), 'no MANIFEST in the download');
    await page.setInputFiles('#bk-file', { name: 'notes.tar', mimeType: 'application/x-tar', buffer: Buffer.from('not a backup\n'.repeat(100)) });
    await page.click('#bk-upload');
    await page.locator('#bk-restore-error').waitFor();
    expect(/Refused: .*(tar|backup)/.test(await text('#bk-restore-error')), `error: ${await text('#bk-restore-error')}`);
    await screenshot('backup');
  }],
  ['no script or CSP errors', async () => {
    expect(problems.length === 0, problems.join('; '));
  }],
  ['log out', async () => {
    await page.click('#logout');
    await page.locator('#login-form').waitFor();
    expect(!(await page.locator('#top').isVisible()), 'the menu is shown on the login page after logging out');
    const r = await context.request.get(new globalThis.URL('/api/v1/session', URL).href);
    expect(r.status() === 401, `session after logout: ${r.status()}`);
  }],
  ['voicemail: the extension\'s user sees its message', async () => {
    await need('voicemail', '1001', 'vmbrowser', VM_PASSWORD);
    await page.fill('#login-username', 'vmbrowser');
    await page.fill('#login-password', VM_PASSWORD);
    await page.click('#login-form button[type=submit]');
    await page.waitForFunction(() => /^\d+$/.test(document.getElementById('stat-registrations')?.textContent || ''));
    await page.locator('a[data-page=voicemail]').click();
    const row = page.locator('#vm-rows tr[data-id]');
    await row.waitFor();
    expect(await row.count() === 1, `${await row.count()} messages`);
    expect((await row.textContent()).includes('Browser softphone'), `row: ${await row.textContent()}`);
    expect(await page.locator('#vm-mailbox').count() === 0, 'a user is offered other mailboxes');
    await page.locator('#vm-counts', { hasText: '1 new, 0 old' }).waitFor();
    await screenshot('voicemail');
  }],
  ['voicemail: the message plays in the page', async () => {
    const audio = page.locator('#vm-rows tr[data-id] audio');
    await page.waitForFunction(() => document.querySelector('#vm-rows audio').readyState >= 1);
    const dur = await audio.evaluate((a) => a.duration);
    expect(Math.abs(dur - 2.0) < 0.05, `duration ${dur} s, the file has 2 s`);
    await audio.evaluate((a) => a.play());
    await page.waitForFunction(() => document.querySelector('#vm-rows audio').currentTime > 0.3);
    await audio.evaluate((a) => a.pause());
  }],
  ['voicemail: mark listened, then delete; the counts follow', async () => {
    const row = page.locator('#vm-rows tr[data-id]');
    await row.getByRole('button', { name: /^Mark listened/ }).click();
    await page.locator('#vm-counts', { hasText: '0 new, 1 old' }).waitFor();
    await page.locator('#vm-rows tr[data-folder="old"]').waitFor();
    const del = page.locator('#vm-rows tr[data-id]').getByRole('button', { name: /^Delete message/ });
    await del.click();
    await del.click(); // confirm
    await page.locator('#vm-counts', { hasText: '0 new, 0 old' }).waitFor();
    await page.locator('#vm-rows tr[data-id]').waitFor({ state: 'detached' });
    const left = await page.evaluate(async () => (await fetch('/api/v1/voicemail')).json());
    expect(left.mailboxes.length === 1 && left.mailboxes[0].new === 0 && left.mailboxes[0].old === 0,
      `API after delete: ${JSON.stringify(left)}`);
    await screenshot('voicemail-deleted');
  }],
  ['voicemail: a greeting uploaded from the page', async () => {
    // 0.5 s of 16 kHz 16-bit mono silence: the server makes it 8 kHz
    const n = 8000, wav = Buffer.alloc(44 + 2 * n);
    wav.write('RIFF', 0); wav.writeUInt32LE(36 + 2 * n, 4); wav.write('WAVEfmt ', 8);
    wav.writeUInt32LE(16, 16); wav.writeUInt16LE(1, 20); wav.writeUInt16LE(1, 22);
    wav.writeUInt32LE(16000, 24); wav.writeUInt32LE(32000, 28); wav.writeUInt16LE(2, 32);
    wav.writeUInt16LE(16, 34); wav.write('data', 36); wav.writeUInt32LE(2 * n, 40);
    await page.setInputFiles('#vm-greet-busy-file', { name: 'busy.wav', mimeType: 'audio/wav', buffer: wav });
    await page.locator('#vm-greet-busy button[type=submit]').click();
    await page.locator('#vm-greet-busy-state', { hasText: /^ ?recorded/ }).waitFor();
    await page.setInputFiles('#vm-greet-name-file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not audio\n'.repeat(50)) });
    await page.locator('#vm-greet-name button[type=submit]').click();
    await page.locator('#vm-greet-name .err:not(:empty)').waitFor();
    expect(/WAV/.test(await text('#vm-greet-name .err:not(:empty)')), `error: ${await text('#vm-greet-name .err:not(:empty)')}`);
    await screenshot('voicemail-greeting');
  }],
  ['no script or CSP errors on the voicemail page', async () => {
    expect(problems.length === 0, problems.join('; '));
  }],
];

let failedBefore = null;
for (const [name, fn] of steps) {
  if (failedBefore) {
    console.log(`FAIL ${name}: skipped after "${failedBefore}" failed`);
    continue;
  }
  const t0 = Date.now();
  try {
    await fn();
    console.log(`PASS ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    console.log(`FAIL ${name}: ${String(e.message).split('\n')[0]}`);
    failedBefore = name;
    await screenshot('failure').catch(() => {});
  }
}
await context.close();
rmSync(profile, { recursive: true, force: true });
process.exit(0);
