#!/usr/bin/env python3
"""
E-mail end to end: the real hookflashd (sanitised build) sends through a
local SMTP sink (smtpsink.py) what the administrator's "send a test
e-mail" asks for, with `hookflash email test` and with POST
/api/v1/email/test. What is checked is what a user would see: the message
that arrived (envelope, From/To/Subject, the login used, a WAV attached
byte for byte), what the tool and the API said when the server refused
the login or was not there, how fast that came, that the daemon kept
answering while a server hung, that a hung send does not hold up
shutdown, and that the SMTP password shows up nowhere (log, settings API,
error messages).

    python3 tests/integration/mail.py [-v] [-k SUBSTRING]
"""
import os
import secrets
import socket
import sys
import threading
import time
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hf  # noqa: E402
from hf import check, LOCAL  # noqa: E402
from sipclient import Client  # noqa: E402
from smtpsink import SmtpSink  # noqa: E402
from wire import say  # noqa: E402
from webkit import Api, admin_password, expect, expect_error  # noqa: E402

FROM = 'Hookflash PBX <pbx@example.com>'
USER = 'pbx-mailer'


class MailEnv:
    """One daemon whose [email] settings (in hookflash.conf) point at a
    sink that wants a login; an admin web session on it."""

    def __init__(self, ctx):
        self.password = 'pw-' + secrets.token_hex(12)
        self.sink = SmtpSink(username=USER, password=self.password).start()
        self.d = hf.Daemon()
        with open(os.path.join(self.d.data_dir, 'hookflash.conf'), 'w') as f:
            f.write('[email]\nsmtp_url = %s\nfrom = %s\nusername = %s\npassword = %s\ntls = off\n'
                    % (self.sink.url, FROM, USER, self.password))
        ctx.daemons.append(self.d)
        self.d.start()
        self.admin = Api(self.d)
        expect(self.admin.login('admin', admin_password(self.d)), 200, 'admin login')

    def put(self, settings, what):
        return expect(self.admin.req('PUT', '/api/v1/settings', settings), 200, what)

    def email_test(self, to, *extra, check_rc=False):
        t0 = time.time()
        rc, out, err = hf.cli(self.d.data_dir, 'email', 'test', to, *extra, timeout=120,
                              check_rc=check_rc)
        return rc, out, err, time.time() - t0


def env(ctx):
    e = getattr(ctx, 'mail_env', None)
    if e is None or not e.d.alive():
        e = ctx.mail_env = MailEnv(ctx)
    return e


def closed_port():
    """A TCP port on 127.0.0.1 nobody listens on."""
    return hf.free_port(udp=False)


def test_mail_cli_test_delivers(ctx):
    """`hookflash email test ADDR` answers once the server took the
    message; the sink has it, sent after a login with the configured
    username, from the configured sender to ADDR, with the test subject."""
    e = env(ctx)
    n = len(e.sink.messages)
    rc, out, err, took = e.email_test('admin@example.com')
    check(rc == 0, 'email test failed (exit %d): %s %s\n%s' % (rc, out, err, e.d.log_tail(20)))
    check('accepted' in out, 'the tool did not say the server took it: %r' % out)
    m = e.sink.wait_message(10, n + 1)
    check(m is not None, 'no message reached the sink:\n%s\n%s' % ('\n'.join(e.sink.transcript[-20:]), e.d.log_tail(20)))
    check(m.login == USER, 'the message was sent without the login (as %r)' % m.login)
    check(m.mail_from == 'pbx@example.com', 'MAIL FROM %r' % m.mail_from)
    check(m.rcpts == ['admin@example.com'], 'RCPT TO %r' % m.rcpts)
    check(m.header('From') == FROM, 'From: %r, want %r' % (m.header('From'), FROM))
    check(m.header('To') == 'admin@example.com', 'To: %r' % m.header('To'))
    check(m.header('Subject') == 'Hookflash test e-mail', 'Subject: %r' % m.header('Subject'))
    check(m.header('Date') and m.header('Message-ID'), 'no Date or Message-ID: %r' % m.data[:400])
    check('test message from the Hookflash PBX' in m.text(), 'body: %r' % m.text())
    say('test e-mail delivered in %.2fs, logged in as %s' % (took, m.login))


def test_mail_attachment_byte_identical(ctx):
    """--attach FILE: the sink receives the WAV as an audio/wav attachment
    named after the file, byte for byte the file."""
    e = env(ctx)
    path = os.path.join(e.d.workdir, 'greeting.wav')
    with wave.open(path, 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(secrets.token_bytes(8000 * 2))   # one second of noise: every byte value
    with open(path, 'rb') as f:
        want = f.read()
    n = len(e.sink.messages)
    rc, out, err, _ = e.email_test('vm@example.com', '--attach', path)
    check(rc == 0, 'email test with an attachment failed: %s %s\n%s' % (out, err, e.d.log_tail(20)))
    m = e.sink.wait_message(10, n + 1)
    check(m is not None, 'no message reached the sink')
    att = m.attachments()
    check(len(att) == 1, 'want one attachment, got %r' % [(a[0], a[1]) for a in att])
    name, ctype, data = att[0]
    check(name == 'greeting.wav' and ctype == 'audio/wav', 'attachment %r %r' % (name, ctype))
    check(data == want, 'the attachment differs from the file (%d bytes, want %d)' % (len(data), len(want)))


def test_mail_wrong_password_refused(ctx):
    """A password the server refuses: the tool fails and says the login was
    refused (without the password); nothing is delivered; with the right
    one back (a live setting, through the API) mail flows again."""
    e = env(ctx)
    wrong = 'wrong-' + secrets.token_hex(8)
    e.put({'email.password': wrong}, 'set a wrong password')
    n = len(e.sink.messages)
    try:
        rc, out, err, took = e.email_test('admin@example.com')
        check(rc == 1, 'a refused login gave exit %d: %s %s' % (rc, out, err))
        check('refused the username or password' in err, 'the tool did not say why: %r' % err)
        check(wrong not in err and wrong not in out, 'the password is in the message: %r' % err)
        check(len(e.sink.messages) == n, 'a message arrived despite the refused login')
        check(any(u == USER and p == wrong for u, p in e.sink.auth_attempts),
              'the new password was not the one tried: the setting did not apply live')
    finally:
        e.put({'email.password': e.password}, 'restore the password')
    rc, out, err, _ = e.email_test('admin@example.com')
    check(rc == 0, 'after restoring the password: %s %s' % (out, err))
    log = e.d.log(all_runs=True)
    check(wrong not in log and e.password not in log, 'an SMTP password is in the daemon log')


def test_mail_dead_server_fails_fast(ctx):
    """email.smtp_url at a closed port: the tool reports the failure in
    seconds, the daemon keeps answering, and the failure is in the log and
    GET /api/v1/email (without the password)."""
    e = env(ctx)
    e.put({'email.smtp_url': 'smtp://%s:%d' % (LOCAL, closed_port())}, 'point at a closed port')
    try:
        rc, out, err, took = e.email_test('admin@example.com')
        check(rc == 1, 'a dead server gave exit %d: %s %s' % (rc, out, err))
        check('cannot connect' in err, 'the tool did not say why: %r' % err)
        check(took < 10, 'the failure took %.1fs to report' % took)
        rc, out, _ = hf.cli(e.d.data_dir, 'status')
        check('uptime_s' in out, 'status after the failure: %r' % out)
        st = expect(e.admin.req('GET', '/api/v1/email'), 200, 'mail status').json()
        check(st['configured'] and 'cannot connect' in st['last_error'] and st['last_error_at'],
              'GET /api/v1/email: %r' % st)
        check(e.password not in str(st), 'the password is in the mail status')
        check('not sent' in e.d.log(), 'the failure is not logged:\n%s' % e.d.log_tail(20))
    finally:
        e.put({'email.smtp_url': e.sink.url}, 'restore the server')


def test_mail_tls_require_refuses_plain_server(ctx):
    """email.tls = require against a server without STARTTLS: nothing is
    sent in the clear (no AUTH, no MAIL reaches the sink) and the tool says
    the server offers no STARTTLS."""
    e = env(ctx)
    n, auths = len(e.sink.messages), len(e.sink.auth_attempts)
    e.put({'email.tls': 'require'}, 'require STARTTLS')
    try:
        rc, out, err, _ = e.email_test('admin@example.com')
        check(rc == 1 and 'STARTTLS' in err, 'tls=require on a plain server: exit %d %r %r' % (rc, out, err))
        check(len(e.sink.messages) == n and len(e.sink.auth_attempts) == auths,
              'credentials or mail went to a server without TLS')
    finally:
        e.put({'email.tls': 'off'}, 'back to plain SMTP')


def test_mail_web_test(ctx):
    """POST /api/v1/email/test: 200 once delivered; 400 naming "to" for a
    bad address; 502 with the reason for a dead server; admin only."""
    e = env(ctx)
    n = len(e.sink.messages)
    r = expect(e.admin.req('POST', '/api/v1/email/test', {'to': 'web@example.com'}), 200, 'web test e-mail')
    check(r.json() == {'sent': True, 'to': 'web@example.com'}, 'answer %r' % r.json())
    m = e.sink.wait_message(10, n + 1)
    check(m is not None and m.rcpts == ['web@example.com'], 'the web test e-mail did not arrive')
    expect_error(e.admin.req('POST', '/api/v1/email/test', {'to': 'not an address'}), 400, 'to', 'bad address')
    expect_error(e.admin.req('POST', '/api/v1/email/test', {}), 400, 'to', 'no address')
    e.put({'email.smtp_url': 'smtp://%s:%d' % (LOCAL, closed_port())}, 'point at a closed port')
    try:
        j = expect_error(e.admin.req('POST', '/api/v1/email/test', {'to': 'web@example.com'}), 502, None, 'dead server')
        check('cannot connect' in j['error'], 'error %r' % j)
    finally:
        e.put({'email.smtp_url': e.sink.url}, 'restore the server')
    e.put({'email.smtp_url': ''}, 'no server')
    try:
        expect_error(e.admin.req('POST', '/api/v1/email/test', {'to': 'web@example.com'}), 409, 'email.smtp_url', 'no server')
    finally:
        e.put({'email.smtp_url': e.sink.url}, 'restore the server')
    anon = Api(e.d)
    expect(anon.req('POST', '/api/v1/email/test', {'to': 'web@example.com'}), 401, 'anonymous test e-mail')


def test_mail_password_never_shown(ctx):
    """The settings API shows the [email] section, the password as "" with
    is_set; an empty PUT keeps it, a new one replaces it; neither value is
    in any answer nor in the log; bad values are refused by name."""
    e = env(ctx)
    r = expect(e.admin.req('GET', '/api/v1/settings'), 200, 'settings')
    j = r.json()
    check(e.password.encode() not in r.body, 'GET /api/v1/settings returns the SMTP password')
    check(j['settings'].get('email.password') == '', 'email.password shown as %r' % j['settings'].get('email.password'))
    check(j['schema']['email.password'].get('secret') is True and j['schema']['email.password'].get('is_set') is True,
          'schema of email.password: %r' % j['schema']['email.password'])
    check(j['settings'].get('email.smtp_url') == e.sink.url and j['settings'].get('email.tls') == 'off',
          'email settings: %r' % {k: v for k, v in j['settings'].items() if k.startswith('email.')})
    check(j['schema']['email.tls'].get('choices') == ['off', 'try', 'require'], 'tls choices: %r' % j['schema']['email.tls'])
    r = e.put({'email.password': ''}, 'empty password keeps it')
    check(e.password.encode() not in r.body, 'the PUT answer returns the password')
    rc, out, err, _ = e.email_test('keep@example.com')
    check(rc == 0, 'an empty PUT lost the password: %s %s' % (out, err))
    for bad, field in (({'email.smtp_url': 'http://x.example'}, 'email.smtp_url'),
                       ({'email.smtp_url': 'smtp://user:pw@x.example'}, 'email.smtp_url'),
                       ({'email.tls': 'maybe'}, 'email.tls'),
                       ({'email.from': 'nobody'}, 'email.from')):
        expect_error(e.admin.req('PUT', '/api/v1/settings', bad), 400, field, 'bad %r' % bad)
    check(e.password not in e.d.log(all_runs=True), 'the SMTP password is in the daemon log')


def test_mail_hung_server_does_not_block(ctx):
    """A server that accepts and never speaks: while the test e-mail waits
    on it, `hookflash status` and SIP still answer at once; SIGTERM then
    stops the daemon in seconds (the send is cancelled, not waited for),
    with a clean sanitizer log."""
    lsn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsn.bind((LOCAL, 0))
    lsn.listen(8)
    held = []
    stop = threading.Event()

    def accept():
        lsn.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(lsn.accept()[0])
            except OSError:
                pass
    t = threading.Thread(target=accept, daemon=True)
    t.start()
    d = hf.Daemon()
    with open(os.path.join(d.data_dir, 'hookflash.conf'), 'w') as f:
        f.write('[email]\nsmtp_url = smtp://%s:%d\nfrom = pbx@example.com\ntls = off\n'
                % (LOCAL, lsn.getsockname()[1]))
    ctx.daemons.append(d)
    d.start()
    result = {}

    def send():
        result['r'] = hf.cli(d.data_dir, 'email', 'test', 'a@example.com', timeout=120, check_rc=False)
    s = threading.Thread(target=send, daemon=True)
    try:
        s.start()
        check(hf.wait_for(lambda: held, 10, 0.05), 'the daemon never connected to the hung server')
        t0 = time.time()
        rc, out, _ = hf.cli(d.data_dir, 'status')
        took = time.time() - t0
        check('uptime_s' in out and took < 3, 'status took %.1fs while a mail hung: %r' % (took, out))
        check(s.is_alive(), 'the test e-mail finished although the server never spoke: %r' % result)
        c = Client(d.sip_port)
        try:
            r = c.options()
            check(r is not None and r.status == 200, 'OPTIONS while a mail hung: %r' % (r and r.start))
        finally:
            c.close()
        t0 = time.time()
        d.stop_clean()
        took = time.time() - t0
        check(took < 8, 'shutdown took %.1fs with a mail hanging' % took)
        s.join(10)
        rc, out, err = result.get('r', (None, '', ''))
        check(rc == 1, 'the tool did not fail when the daemon stopped: %r' % (result,))
    finally:
        stop.set()
        for c in held:
            c.close()
        lsn.close()


TESTS = [
    test_mail_cli_test_delivers,
    test_mail_attachment_byte_identical,
    test_mail_wrong_password_refused,
    test_mail_dead_server_fails_fast,
    test_mail_tls_require_refuses_plain_server,
    test_mail_web_test,
    test_mail_password_never_shown,
    test_mail_hung_server_does_not_block,
]


if __name__ == '__main__':
    import run  # noqa: E402
    run.TESTS = TESTS
    sys.exit(run.guarded())
