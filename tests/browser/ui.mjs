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
const PASSWORD = process.env.HF_PASSWORD;
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

const steps = [
  ['login page loads (module script, stylesheet, no CSP errors)', async () => {
    const r = await page.goto(URL);
    expect(r.status() === 200, `GET / -> ${r.status()}`);
    await page.locator('#login-form').waitFor();
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg === 'rgb(244, 245, 247)', `style.css not applied (body background ${bg})`);
    await screenshot('login');
  }],
  ['a wrong password shows the API error on the form', async () => {
    await page.fill('#login-username', USER);
    await page.fill('#login-password', 'wrong-password');
    await page.click('#login-form button[type=submit]');
    await page.locator('#login-form [data-err-for=_form]:not(:empty)').waitFor();
    expect(await page.locator('#login-form').isVisible(), 'left the login page');
  }],
  ['log in, dashboard shows live status', async () => {
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-form button[type=submit]');
    await page.waitForFunction(() => /^\d+$/.test(document.getElementById('stat-registrations')?.textContent || ''));
    expect(await text('#stat-calls') === '0', `calls now: ${await text('#stat-calls')}`);
    expect(await text('#stat-extensions') === '5', `extensions: ${await text('#stat-extensions')}`);
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
  ['create an extension, its SIP password is shown once', async () => {
    await page.fill('#ext-number', EXT);
    await page.fill('#ext-name', 'Browser softphone');
    await page.click('#ext-create button[type=submit]');
    await page.locator('#new-password').waitFor();
    password = await text('#new-password');
    expect(/^\S{8,}$/.test(password), `password shown: ${password}`);
    await page.locator(`#ext-rows tr[data-number="${EXT}"]`).waitFor();
    expect(await text('#ext-number-err') === '', 'the old error is still shown');
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
  ['edit (name, codecs, SRTP, call handling) and delete an extension', async () => {
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
    await screenshot('extension-edit');
    await row.getByRole('button', { name: 'Save' }).click();
    await page.locator('#ext-rows tr[data-number="2199"] td', { hasText: 'Renamed by the browser' }).waitFor();
    const saved = await page.evaluate(async () => (await fetch('/api/v1/extensions/2199')).json());
    expect(saved.codecs === 'opus,PCMU' && saved.srtp === 'required', `stored: ${JSON.stringify(saved)}`);
    expect(saved.ring_time === 40 && saved.no_answer === 'hangup' && saved.busy === '' && saved.forward_all === '' &&
      saved.forward_busy === '*97' && saved.dnd === true, `call handling stored: ${JSON.stringify(saved)}`);
    await row.getByRole('button', { name: 'Delete 2199' }).click();
    await row.getByRole('button', { name: 'Delete 2199' }).click(); // confirm
    await row.waitFor({ state: 'detached' });
  }],
  ['a softphone (baresip) registering with the shown password appears without a reload', async () => {
    await page.click('a[data-page=registrations]');
    await page.locator('#reg-rows').waitFor();
    await page.waitForFunction(() => document.getElementById('main').dataset.live === 'sse');
    await page.evaluate(() => { window.hfNoReload = 1; });
    await need('register', EXT, password);
    const row = page.locator(`#reg-rows tr[data-extension="${EXT}"]`);
    await row.waitFor();
    expect(/baresip/i.test(await row.locator('td').nth(4).textContent()), `user agent: ${await row.locator('td').nth(4).textContent()}`);
    expect(await page.evaluate(() => window.hfNoReload) === 1, 'the page was reloaded');
    await screenshot('registrations');
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
    expect(await page.inputValue('#set-registrar-max-expires') === '3000', 'not saved');
    await screenshot('settings-saved');
  }],
  ['settings: the e-mail password is never shown back; the test e-mail says why it cannot go', async () => {
    await page.fill('#set-email-password', 'browser-secret-1');
    await page.selectOption('#set-email-tls', 'require');
    await page.click('#settings-form button[type=submit]');
    await page.locator('#settings-status', { hasText: 'email.password' }).waitFor();
    await page.click('a[data-page=dashboard]');
    await page.click('a[data-page=settings]');
    await page.locator('#settings-form').waitFor();
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
  ['every input has a label', async () => {
    for (const where of ['settings', 'security', 'extensions', 'history', 'voicemail']) {
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
  ['no script or CSP errors', async () => {
    expect(problems.length === 0, problems.join('; '));
  }],
  ['log out', async () => {
    await page.click('#logout');
    await page.locator('#login-form').waitFor();
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
