#!/usr/bin/env python3
"""
Integration tests: drive the real hookflashd (the ASan+UBSan build) with
real peers (SIPp, baresip, a small python SIP client) on 127.0.0.1, on
ports picked free at run time. A test that cannot run here raises
hf.Skip and is counted apart. Ends with the line
"N passed, N failed, N skipped".

    python3 tests/integration/run.py [-v] [-k SUBSTRING]

Each test gets a name and a function; a failure is an AssertionError (or
any exception) with a message that says what the daemon did. Daemons are
stopped with SIGTERM and must exit 0 with no sanitizer report.
"""
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import string
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hf  # noqa: E402
import sipclient  # noqa: E402
import torture  # noqa: E402
import calls  # noqa: E402
import audio  # noqa: E402
import media  # noqa: E402
import web  # noqa: E402
import web_limits  # noqa: E402
import webvm  # noqa: E402
import nego  # noqa: E402
import apps  # noqa: E402
import vmstore  # noqa: E402
import voicemail  # noqa: E402
import ext_calls  # noqa: E402
import prompts  # noqa: E402
import mail  # noqa: E402
import mwi  # noqa: E402
import web_pages  # noqa: E402
import transport_limits  # noqa: E402
import startup  # noqa: E402
import walkthrough  # noqa: E402
import backup  # noqa: E402
import security  # noqa: E402
import rtpsec  # noqa: E402
from hf import check, Failure  # noqa: E402
from sipclient import Client  # noqa: E402

VERBOSE = '-v' in sys.argv
TORTURE_DIR = os.path.join(hf.ROOT, 'tests', 'unit', 'data', 'torture')
PER_TEST_TIMEOUT = 90


def secret(n=16):
    a = string.ascii_letters + string.digits
    return ''.join(random.SystemRandom().choice(a) for _ in range(n))


class Ctx:
    """The shared daemon most tests use, and extension bookkeeping."""

    def __init__(self):
        self.main = None
        self.next_ext = 2001
        self.daemons = []

    def daemon(self):
        if self.main is None:
            self.main = hf.Daemon(extra=['--min-expires', '30', '--max-expires', '3600',
                                         '--auth-fail-limit', '200', '--auth-fail-window', '60',
                                         '--ban-time', '5'])
            self.daemons.append(self.main)
            self.main.start()
        check(self.main.alive(), 'the shared hookflashd died earlier:\n%s' % self.main.log_tail())
        return self.main

    def ext(self, d=None, name=None):
        """A new extension with a random password on daemon d (added with
        the CLI while the daemon runs, which tells it to reload)."""
        d = d or self.daemon()
        number = str(self.next_ext)
        self.next_ext += 1
        pw = secret()
        hf.add_extension(d.data_dir, number, pw, name or 'Test %s' % number)
        return number, pw


def wait_registered(d, ext, want=1, timeout=5.0):
    """Registrations of ext as the CLI lists them, once there are `want`."""
    last = {}

    def probe():
        rows, out = hf.registrations(d.data_dir)
        last['rows'], last['out'] = rows, out
        mine = [r for r in rows if r['ext'] == ext]
        return (mine,) if len(mine) == want else None
    got = hf.wait_for(probe, timeout)
    return (got[0] if got else None), last.get('rows', []), last.get('out', '')


def wait_db(d, ext, want, timeout=5.0):
    got = hf.wait_for(lambda: (lambda r: (r,) if len(r) == want else None)(
        hf.db_registrations(d.data_dir, ext)), timeout)
    return got[0] if got else hf.db_registrations(d.data_dir, ext)


def show(msg):
    return msg.raw.decode('utf-8', 'replace') if msg is not None else '(no answer)'


def expect_final(res, code, what):
    f = res['final']
    check(f is not None, '%s: no answer; sent:\n%s' % (what, res['sent'][-1].decode()))
    check(f.status == code, '%s: got %s, want %d\nsent:\n%s\ngot:\n%s' % (
        what, f.start, code, res['sent'][-1].decode(), show(f)))
    return f


def register_ok(d, ext, pw, algorithm=None, client=None, **kw):
    c = client or Client(d.sip_port)
    try:
        res = c.register(ext, pw, algorithm=algorithm, **kw)
        expect_final(res, 200, 'REGISTER %s (%s)' % (ext, algorithm or 'first challenge'))
        return res
    finally:
        if client is None:
            c.close()


# --- tests: OPTIONS, methods, robustness ------------------------------------

def test_options(ctx):
    d = ctx.daemon()
    c = Client(d.sip_port)
    r = c.options()
    c.close()
    check(r is not None, 'OPTIONS: no answer')
    check(r.status == 200, 'OPTIONS: %s\n%s' % (r.start, show(r)))
    allow = ','.join(r.all('allow')).upper()
    for m in ('REGISTER', 'OPTIONS'):
        check(m in allow, 'OPTIONS 200 Allow lacks %s: %r' % (m, allow))
    check(r.all('accept'), 'OPTIONS 200 has no Accept:\n%s' % show(r))
    check(r.all('supported'), 'OPTIONS 200 has no Supported:\n%s' % show(r))


def test_unknown_method_501(ctx):
    d = ctx.daemon()
    c = Client(d.sip_port)
    r = c.options(method='FOO')
    c.close()
    check(r is not None and r.status == 501, 'FOO: want 501, got:\n%s' % show(r))


def test_invalid_message_400(ctx):
    """A request with a broken CSeq (answerable: Via, From, To, Call-ID are
    fine) gets 400."""
    d = ctx.daemon()
    c = Client(d.sip_port)
    data, branch = c.build('OPTIONS', 'sip:%s:%d' % (hf.LOCAL, d.sip_port), [
        'From: <sip:probe@127.0.0.1>;tag=%s' % sipclient.rand_hex(8),
        'To: <sip:%s:%d>' % (hf.LOCAL, d.sip_port),
        'Call-ID: %s@hf-it' % sipclient.rand_hex(16),
        'CSeq: notanumber OPTIONS'])
    r, _ = c.transaction(data, branch, 3.0)
    c.close()
    check(r is not None and r.status == 400, 'broken CSeq: want 400, got:\n%s' % show(r))


def test_garbage_and_huge_datagrams(ctx):
    """Garbage datagrams, a maximum-size (65507 byte) UDP datagram and a
    70 KB message over TCP do not kill the daemon; it answers OPTIONS
    afterwards. (A 70 KB datagram cannot exist over IPv4 UDP: the largest
    payload is 65507 bytes, so the 70 KB one goes over TCP.)"""
    d = ctx.daemon()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((hf.LOCAL, 0))
    target = (hf.LOCAL, d.sip_port)
    rnd = random.Random(4475)
    garbage = [b'', b'\x00', b'\r\n\r\n', b'\xff' * 300, b'SIP/2.0\r\n\r\n',
               b'INVITE\r\n\r\n', b'OPTIONS sip:x SIP/2.0\r\n' + b'A' * 4000,
               bytes(rnd.randrange(256) for _ in range(1400)),
               b'REGISTER sip:127.0.0.1 SIP/2.0\r\nContent-Length: 99999999999999999999\r\n\r\n']
    for g in garbage:
        u.sendto(g, target)
    big = (b'OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKbig\r\n'
           b'X-Pad: ')
    big += b'x' * (65507 - len(big) - 4) + b'\r\n\r\n'
    check(len(big) == 65507, 'built %d bytes' % len(big))
    u.sendto(big, target)
    u.close()
    # 70 KB over TCP, then close
    t = socket.create_connection(target, timeout=3)
    msg = (b'OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKbig70\r\n'
           b'From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: big70@hf-it\r\n'
           b'CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nX-Pad: ' + b'y' * 70000 + b'\r\nContent-Length: 0\r\n\r\n')
    try:
        t.sendall(msg)
        t.settimeout(2)
        try:
            t.recv(65536)
        except (socket.timeout, ConnectionResetError):
            pass
    except (BrokenPipeError, ConnectionResetError):
        pass  # the daemon may close an oversized stream
    t.close()
    # a TCP connection that sends garbage and goes away
    t = socket.create_connection(target, timeout=3)
    t.sendall(b'\x16\x03\x01\x02\x00' + bytes(rnd.randrange(256) for _ in range(500)))
    t.close()
    # the signalling loop reads its UDP socket in order: an answer to an
    # OPTIONS sent after the datagrams means it has been through them (and
    # the TCP ones, read on the same loop, were accepted before)
    c = Client(d.sip_port)
    r = c.options()
    c.close()
    check(r is not None and r.status == 200, 'OPTIONS after garbage: %s\n%s' % (show(r), d.log_tail()))
    c = Client(d.sip_port, transport='tcp')
    r = c.options()
    c.close()
    check(r is not None and r.status == 200, 'OPTIONS over TCP after garbage: %s\n%s' % (show(r), d.log_tail()))
    check(d.alive(), 'hookflashd died after garbage/huge messages:\n%s' % d.log_tail())


# --- tests: registrar --------------------------------------------------------

def test_register_md5_sipp(ctx):
    """SIPp (3.6: MD5 digest through [authentication]) registers; the
    binding shows in `hookflash registrations` and in the database."""
    d = ctx.daemon()
    ext, pw = ctx.ext()
    port = hf.free_port()
    r = hf.sipp('register.xml', d.sip_port, service=ext, user=ext, password=pw,
                transport='u1', local_port=port, timeout=15)
    check(r.rc == 0 and r.successful == 1, 'SIPp REGISTER with MD5 digest failed: ' + r.describe())
    got, rows, out = wait_registered(d, ext)
    check(got, 'ext %s not in `hookflash registrations`:\n%s' % (ext, out))
    check(str(port) in got[0]['contact'], 'contact %r lacks the SIPp port %d' % (got[0]['contact'], port))
    db = wait_db(d, ext, 1)
    check(len(db) == 1, 'DB registrations of %s: %r' % (ext, db))


def test_register_md5_python(ctx):
    """The same with the python client answering the MD5 challenge (the
    daemon's MD5 path, independent of SIPp)."""
    d = ctx.daemon()
    ext, pw = ctx.ext()
    res = register_ok(d, ext, pw, 'MD5', expires=120)
    c = sipclient.contact_expires(res['final'])
    check(c and all(v is not None for v in c.values()),
          '200 lacks Contact with ;expires=:\n%s' % show(res['final']))
    got, rows, out = wait_registered(d, ext)
    check(got, 'ext %s not listed:\n%s' % (ext, out))
    check(len(wait_db(d, ext, 1)) == 1, 'no DB row for %s' % ext)


def test_register_sha256(ctx):
    """With --digest-algorithms SHA-256,MD5 the challenge offers SHA-256
    first, then MD5, both qop="auth" (RFC 8760); answering with SHA-256
    gets 200, and so does answering the MD5 one."""
    d = hf.Daemon(extra=['--digest-algorithms', 'SHA-256,MD5'])
    ctx.daemons.append(d)
    d.start()
    for alg in ('SHA-256', 'MD5'):
        ext, pw = ctx.ext(d)
        c = Client(d.sip_port)
        res = c.register(ext, pw, algorithm=alg, expires=120)
        c.close()
        first = res['first']
        check(first is not None and first.status == 401, 'first REGISTER: want 401, got %s' % show(first))
        chs = Client.challenges(first)
        algs = [ch.get('algorithm', 'MD5').upper() for ch in chs]
        check(algs == ['SHA-256', 'MD5'], 'challenge algorithms %r, want SHA-256 then MD5:\n%s'
              % (algs, show(first)))
        for ch in chs:
            check('auth' in [q.strip() for q in ch.get('qop', '').split(',')],
                  'challenge without qop="auth": %r' % ch)
            check(ch.get('realm') and ch.get('nonce'), 'challenge without realm/nonce: %r' % ch)
        check(('algorithm=%s' % alg).encode() in res['sent'][-1], 'did not answer with %s' % alg)
        expect_final(res, 200, 'REGISTER with %s' % alg)
        got, rows, out = wait_registered(d, ext)
        check(got, 'ext %s not listed:\n%s' % (ext, out))
    d.stop_clean()


def test_unoffered_algorithm_refused(ctx):
    """The shared daemon runs with the default digest algorithms; a client
    answering with an algorithm the challenge did not offer is refused
    (401), exactly as a wrong password."""
    d = ctx.daemon()
    ext, pw = ctx.ext()
    c = Client(d.sip_port)
    res = c.register(ext, None, expires=120)
    first = res['first']
    check(first is not None and first.status == 401, 'first REGISTER: %s' % show(first))
    offered = [ch.get('algorithm', 'MD5').upper() for ch in Client.challenges(first)]
    other = [a for a in sipclient.HASHES if a not in offered]
    if not other:
        c.close()
        raise hf.Skip('the challenge offers every algorithm the test client knows (%s): '
                      'none is left to answer with' % ', '.join(offered))
    ch = dict(Client.challenges(first)[0])
    ch['algorithm'] = other[0]
    ruri = 'sip:%s:%d' % c.server
    req = res['sent'][0].decode()
    tag = re.search(r'(?m)^From: .*;tag=(\w+)', req).group(1)
    headers = ['From: <sip:%s@%s:%d>;tag=%s' % (ext, hf.LOCAL, d.sip_port, tag),
               'To: <sip:%s@%s:%d>' % (ext, hf.LOCAL, d.sip_port),
               'Call-ID: %s' % res['call_id'], 'CSeq: 2 REGISTER',
               'Contact: <%s>' % c.contact_uri(ext), 'Expires: 120',
               sipclient.authorization(ch, ext, pw, 'REGISTER', ruri, nc=1)]
    data, branch = c.build('REGISTER', ruri, headers)
    r, _ = c.transaction(data, branch)
    c.close()
    check(r is not None and r.status == 401, 'a %s answer to a challenge offering %s: want 401, got:\n%s'
          % (other[0], offered, show(r)))
    # the registrar adds a binding before it answers: one look after the 401
    got, _, out = wait_registered(d, ext, 0, timeout=0)
    check(got is not None, 'registered with an algorithm that was not offered:\n%s' % out)


def test_reregister_refreshes(ctx):
    """Re-REGISTER with the same Call-ID and CSeq+1 (reusing the nonce with
    nc=2, as phones do) -> 200, still one binding, expiry refreshed."""
    d = ctx.daemon()
    ext, pw = ctx.ext()
    c = Client(d.sip_port)
    res = register_ok(d, ext, pw, client=c, expires=60)
    db1 = wait_db(d, ext, 1)
    check(len(db1) == 1, 'DB rows after first REGISTER: %r' % db1)
    # expires_at counts whole seconds: let two pass, so that the refresh
    # must move it (the wait is the test's content, not a guess at timing)
    time.sleep(2.1)
    # same Call-ID, CSeq+1, Authorization with the same nonce and nc=2
    ruri = 'sip:%s:%d' % c.server
    ch = res['challenge']
    cseq = res['cseq'] + 1
    first_req = res['sent'][-1].decode()
    from_tag = re.search(r'(?m)^From: .*;tag=(\w+)', first_req).group(1)
    headers = ['From: <sip:%s@%s:%d>;tag=%s' % (ext, hf.LOCAL, d.sip_port, from_tag),
               'To: <sip:%s@%s:%d>' % (ext, hf.LOCAL, d.sip_port),
               'Call-ID: %s' % res['call_id'], 'CSeq: %d REGISTER' % cseq,
               'Contact: <%s>' % c.contact_uri(ext), 'Expires: 60',
               sipclient.authorization(ch, ext, pw, 'REGISTER', ruri, nc=2)]
    data, branch = c.build('REGISTER', ruri, headers)
    r, _ = c.transaction(data, branch)
    note = ''
    if r is not None and r.status == 401:
        # allowed: the server may refuse a reused nonce (stale) and challenge again
        ch2 = Client.pick_challenge(r, ch.get('algorithm'))
        check(ch2 is not None, 'no challenge in 401:\n%s' % show(r))
        note = ' (reused nonce refused, re-challenged%s)' % (
            ', stale=true' if ch2.get('stale', '').lower() == 'true' else '')
        cseq += 1
        headers[3] = 'CSeq: %d REGISTER' % cseq
        headers[-1] = sipclient.authorization(ch2, ext, pw, 'REGISTER', ruri, nc=1)
        data, branch = c.build('REGISTER', ruri, headers)
        r, _ = c.transaction(data, branch)
    c.close()
    check(r is not None and r.status == 200, 're-REGISTER%s: %s\nsent:\n%s' % (note, show(r), data.decode()))
    exp = sipclient.contact_expires(r)
    check(len(exp) == 1, 're-REGISTER 200 lists %d contacts, want 1:\n%s' % (len(exp), show(r)))
    v = list(exp.values())[0]
    check(v is not None and 55 <= v <= 60, 're-REGISTER 200 expires=%s, want ~60' % v)
    got, rows, out = wait_registered(d, ext, 1)
    check(got, 'want exactly one binding for %s:\n%s' % (ext, out))
    db2 = hf.wait_for(lambda: (lambda r2: r2 if len(r2) == 1 and r2[0]['expires_at'] > db1[0]['expires_at']
                               else None)(hf.db_registrations(d.data_dir, ext)), 5)
    check(db2, 'DB expires_at not refreshed: before %r, after %r' % (
        db1, hf.db_registrations(d.data_dir, ext)))
    if ctx and VERBOSE and note:
        print('    note:' + note)


def test_unregister(ctx):
    """Expires: 0 removes the binding; Contact: * with Expires: 0 removes
    every binding of the extension."""
    d = ctx.daemon()
    ext, pw = ctx.ext()
    c = Client(d.sip_port)
    register_ok(d, ext, pw, client=c, expires=120)
    got, _, out = wait_registered(d, ext, 1)
    check(got, 'not registered:\n%s' % out)
    res = c.register(ext, pw, expires=0)
    expect_final(res, 200, 'REGISTER Expires: 0')
    check(not sipclient.contact_expires(res['final']),
          '200 to the un-REGISTER still lists contacts:\n%s' % show(res['final']))
    got, _, out = wait_registered(d, ext, 0)
    check(got is not None, 'binding still listed after Expires: 0:\n%s' % out)
    check(not wait_db(d, ext, 0), 'DB still has the binding after Expires: 0')
    c.close()
    # two devices, then the wildcard from a third
    a, b = Client(d.sip_port), Client(d.sip_port)
    register_ok(d, ext, pw, client=a, expires=120)
    register_ok(d, ext, pw, client=b, expires=120)
    got, _, out = wait_registered(d, ext, 2)
    check(got, 'want two bindings:\n%s' % out)
    w = Client(d.sip_port)
    res = w.register(ext, pw, contacts=['*'], expires=0)
    expect_final(res, 200, 'REGISTER Contact: * Expires: 0')
    for x in (a, b, w):
        x.close()
    got, _, out = wait_registered(d, ext, 0)
    check(got is not None, 'bindings left after the wildcard un-REGISTER:\n%s' % out)
    check(not wait_db(d, ext, 0), 'DB rows left after the wildcard: %r' % hf.db_registrations(d.data_dir, ext))


def test_two_contacts(ctx):
    """Two devices on one extension are both listed, and the 200 to the
    second REGISTER carries both contacts."""
    d = ctx.daemon()
    ext, pw = ctx.ext()
    a, b = Client(d.sip_port), Client(d.sip_port, transport='tcp')
    register_ok(d, ext, pw, client=a, expires=120)
    res = register_ok(d, ext, pw, client=b, expires=120)
    exp = sipclient.contact_expires(res['final'])
    for x in (a, b):
        uri = x.contact_uri(ext)
        check(any(uri in k or k in uri for k in exp), '200 lacks %s: %r\n%s' % (uri, exp, show(res['final'])))
    got, _, out = wait_registered(d, ext, 2)
    check(got, 'want 2 bindings listed for %s:\n%s' % (ext, out))
    ports = sorted(str(x.local_port) for x in (a, b))
    listed = ' '.join(r['contact'] for r in got)
    for p in ports:
        check(p in listed, 'contact with port %s not listed: %s' % (p, listed))
    check(len(wait_db(d, ext, 2)) == 2, 'DB rows: %r' % hf.db_registrations(d.data_dir, ext))
    a.close()
    b.close()


def test_expires_too_short_423(ctx):
    """Expires below --min-expires (30 here) -> 423 with Min-Expires."""
    d = ctx.daemon()
    ext, pw = ctx.ext()
    c = Client(d.sip_port)
    res = c.register(ext, pw, expires=5)
    c.close()
    f = expect_final(res, 423, 'REGISTER Expires: 5')
    check(f.get('min-expires', '').strip() == '30', '423 Min-Expires %r, want 30:\n%s'
          % (f.get('min-expires'), show(f)))
    # the registrar adds a binding before it answers: one look after the 423
    got, _, out = wait_registered(d, ext, 0, timeout=0)
    check(got is not None, 'a 423 REGISTER left a binding:\n%s' % out)


def normalise(msg, user):
    """Status line and headers of a 401 with what must differ blanked out:
    the echoed Via/From/To/Call-ID/CSeq (they name the user), nonces."""
    out = [msg.start]
    for name, orig, value in msg.headers:
        if name in ('via', 'from', 'to', 'call-id', 'cseq', 'date'):
            if name == 'to':
                out.append('to-has-tag: %s' % (';tag=' in value))
            continue
        value = re.sub(r'nonce="[^"]*"', 'nonce="N"', value)
        value = value.replace(user, 'USER')
        out.append('%s: %s' % (orig.lower(), value))
    return out


def test_wrong_password_like_unknown_user(ctx):
    """Wrong password -> 401; unknown user -> 401; the two final responses
    are the same once nonces, tags and the echoed headers are set aside
    (for every algorithm the challenge offers)."""
    d = ctx.daemon()
    ext, pw = ctx.ext()
    c = Client(d.sip_port)
    probe = c.register(ext, None, expires=120)['first']
    check(probe is not None and probe.status == 401, 'REGISTER without credentials: %s' % show(probe))
    algs = [ch.get('algorithm', 'MD5').upper() for ch in Client.challenges(probe)]
    check(algs, 'no Digest challenge:\n%s' % show(probe))
    unknown_user = str(2900 + random.randrange(99))
    for alg in algs:
        wrong = c.register(ext, pw + 'x', algorithm=alg, expires=120)
        unknown = c.register(unknown_user, 'whatever-password', algorithm=alg, expires=120)
        for what, res in (('wrong password (%s)' % alg, wrong), ('unknown user (%s)' % alg, unknown)):
            check(len(res['sent']) == 2, '%s: the authenticated request was not sent' % what)
            expect_final(res, 401, what)
        na = normalise(wrong['final'], ext)
        nb = normalise(unknown['final'], unknown_user)
        check(na == nb, '401 for a wrong password and for an unknown user differ (%s):\n'
              'wrong password:\n  %s\nunknown user:\n  %s' % (alg, '\n  '.join(na), '\n  '.join(nb)))
    c.close()
    # the registrar adds a binding before it answers: one look after the 401s
    got, _, out = wait_registered(d, ext, 0, timeout=0)
    check(got is not None, 'a failed REGISTER left a binding:\n%s' % out)


def test_register_tcp_sipp(ctx):
    """SIPp over TCP (-t t1): REGISTER with digest -> 200, listed as tcp."""
    d = ctx.daemon()
    ext, pw = ctx.ext()
    r = hf.sipp('register.xml', d.sip_port, service=ext, user=ext, password=pw,
                transport='t1', timeout=15)
    check(r.rc == 0 and r.successful == 1, 'SIPp REGISTER over TCP failed: ' + r.describe())
    got, _, out = wait_registered(d, ext)
    check(got, 'ext %s not listed:\n%s' % (ext, out))
    check('tcp' in got[0]['source'].lower() or 'tcp' in got[0]['contact'].lower(),
          'TCP registration not shown as tcp: %s' % got[0]['line'])


def test_register_tcp_python(ctx):
    """The python client over TCP (SHA-256): 200, source shown as tcp."""
    d = ctx.daemon()
    ext, pw = ctx.ext()
    c = Client(d.sip_port, transport='tcp')
    register_ok(d, ext, pw, client=c, expires=120)
    c.close()
    got, _, out = wait_registered(d, ext)
    check(got, 'ext %s not listed:\n%s' % (ext, out))
    check(got[0]['source'].lower().startswith('tcp'), 'source %r, want tcp:...' % got[0]['source'])


# --- torture corpus -----------------------------------------------------------

def top_via_port(data):
    m = re.search(rb'(?im)^(?:via|v)\s*:\s*SIP\s*/\s*2\.0\s*/\s*\w+\s+([^;,\s]+)', data)
    if not m:
        return None
    host = m.group(1).decode('latin-1')
    pm = re.search(r'\]:(\d+)$', host) or (re.search(r':(\d+)$', host) if host.count(':') == 1 else None)
    return int(pm.group(1)) if pm else 5060


def is_final_or_any(msgs):
    codes = [m.status for m in msgs if m.status is not None]
    finals = [c for c in codes if c >= 200]
    return codes, finals


def torture_files():
    if not os.path.isdir(TORTURE_DIR):
        return []
    return sorted(f for f in os.listdir(TORTURE_DIR) if f.endswith('.dat'))


def send_torture_udp(d, data, wait):
    """Sends one datagram; collects what comes back on the sending socket and
    on the top Via's port on 127.0.0.1 when that port can be bound (RFC 3261
    18.2.2 sends responses without rport there). Returns (messages,
    via_port_observed)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((hf.LOCAL, 0))
    socks = [s]
    vp = top_via_port(data)
    observed = True
    if vp and vp != s.getsockname()[1]:
        v = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            v.bind((hf.LOCAL, vp))
            socks.append(v)
        except OSError:
            observed = False
            v.close()
    s.sendto(data, (hf.LOCAL, d.sip_port))
    import select
    out = []
    deadline = time.time() + wait
    while True:
        left = deadline - time.time()
        if left <= 0:
            break
        r, _, _ = select.select(socks, [], [], left)
        for x in r:
            try:
                pkt, _ = x.recvfrom(70000)
            except OSError:
                continue
            out.append(sipclient.Message(pkt))
        if any(m.status is not None and m.status >= 200 for m in out):
            # a final response: wait a little for a surprise second one
            deadline = min(deadline, time.time() + 0.1)
    for x in socks:
        x.close()
    return out, observed


def send_torture_tcp(d, data, wait):
    tp = sipclient.Transport((hf.LOCAL, d.sip_port), 'tcp')
    out = []
    try:
        tp.send(data)
        deadline = time.time() + wait
        while time.time() < deadline:
            raw = tp.recv(deadline - time.time())
            if raw is None:
                break
            out.append(sipclient.Message(raw))
            if any(m.status is not None and m.status >= 200 for m in out):
                deadline = min(deadline, time.time() + 0.1)
    except (BrokenPipeError, ConnectionResetError):
        pass
    closed = tp.closed
    tp.close()
    return out, closed


def tsx_key(data):
    """RFC 3261 17.2.3 server transaction key (branch, sent-by, method) of a
    request, or None (responses, no branch)."""
    if data.startswith(b'SIP/'):
        return None
    m = re.search(rb'(?im)^(?:via|v)\s*:\s*SIP\s*/\s*2\.0\s*/\s*\w+\s+([^;,\s]+)[^\r\n]*?;\s*branch\s*=\s*([^;,\s]+)', data)
    if not m:
        return None
    return (m.group(2).lower(), m.group(1).lower(), data.split(b' ', 1)[0])


def torture_groups(files):
    """Splits the corpus so that no two messages in a group share a server
    transaction key: the RFC 4475/5118 messages reuse branches (cparam01 and
    cparam02, the RFC 5118 REGISTERs, ...), and a daemon that matches
    transactions as RFC 3261 17.2.3 says rightly treats the second as a
    retransmission of the first. Each group goes to a fresh daemon."""
    groups = []
    for f in files:
        with open(os.path.join(TORTURE_DIR, f), 'rb') as fh:
            k = tsx_key(fh.read())
        for g in groups:
            if k is None or k not in g[0]:
                break
        else:
            g = (set(), [])
            groups.append(g)
        if k is not None:
            g[0].add(k)
        g[1].append(f)
    return [g[1] for g in groups]


def run_torture(ctx, transport):
    files = torture_files()
    check(files, 'no torture corpus in %s (tests/unit/data/torture/*.dat)' % TORTURE_DIR)
    problems, notes, table = [], [], []
    for group in torture_groups(files):
        d = hf.Daemon()
        ctx.daemons.append(d)
        d.start()
        torture_group(d, group, transport, problems, notes, table)
        if d.alive():
            c = Client(d.sip_port, transport=transport)
            r = c.options()
            c.close()
            if r is None or r.status != 200:
                problems.append('OPTIONS over %s after the corpus: %s' % (transport, show(r)))
            d.stop_clean()
        else:
            problems.append('hookflashd died during the %s torture run:\n%s' % (transport, d.log_tail()))
            break
    if VERBOSE:
        print('    ' + '\n    '.join(table))
    for n in notes:
        print('    note: ' + n)
    check(not problems, '%d torture problem(s) over %s:\n  %s' % (
        len(problems), transport.upper(), '\n  '.join(problems)))


def torture_group(d, files, transport, problems, notes, table):
    for f in files:
        exp = torture.expectation(f, transport)
        if exp is None:
            problems.append('%s: no expectation in tests/integration/torture.py' % f)
            continue
        cls, codes, why = exp
        with open(os.path.join(TORTURE_DIR, f), 'rb') as fh:
            data = fh.read()
        if transport == 'udp' and len(data) > 65507:
            notes.append('%s: %d bytes, too big for a datagram; skipped' % (f, len(data)))
            continue
        wait = 0.6 if cls in (torture.NONE, torture.ANY) else 1.5
        if transport == 'udp':
            msgs, observed = send_torture_udp(d, data, wait)
            closed = False
        else:
            msgs, closed = send_torture_tcp(d, data, wait)
            observed = True
        codes_got, finals = is_final_or_any(msgs)
        got = finals[0] if finals else None
        table.append('%-32s %-4s got %-14s (%s)' % (f, cls, codes_got or '-', why))
        if not d.alive():
            problems.append('%s: hookflashd died' % f)
            break
        if cls == torture.OK:
            if got is None:
                if observed:
                    problems.append('%s: valid request (%s) got no final answer (%s)' % (f, why, codes_got or 'nothing'))
                else:
                    notes.append('%s: no answer on our socket and the Via port is taken; not judged' % f)
            elif got == 400:
                problems.append('%s: valid request (%s) answered 400' % (f, why))
        elif cls == torture.BAD:
            allowed = codes or (400,)
            if got is None and None in allowed:
                pass
            elif got is None and 'close' in allowed and closed:
                pass
            elif got is None:
                if observed:
                    problems.append('%s: invalid request (%s) got no answer%s, want %s' % (
                        f, why, '' if closed else ' and the connection stayed open',
                        '/'.join(str(x) for x in allowed if x)))
                else:
                    notes.append('%s: no answer on our socket and the Via port is taken; not judged' % f)
            elif got not in allowed:
                problems.append('%s: invalid request (%s) answered %d, want %s' % (
                    f, why, got, '/'.join(str(x) for x in allowed if x)))
        elif cls == torture.NONE:
            if codes_got or any(m.method for m in msgs):
                problems.append('%s: a response/ACK (%s) was answered: %s' % (f, why, [m.start for m in msgs]))


def test_torture_udp(ctx):
    run_torture(ctx, 'udp')


def test_torture_tcp(ctx):
    run_torture(ctx, 'tcp')


# --- a real softphone ----------------------------------------------------------

def test_baresip_registers(ctx):
    """baresip (headless, stdio UI, no audio device) registers with an
    extension's credentials and is listed with its user agent."""
    d = ctx.daemon()
    ext, pw = ctx.ext(name='Baresip')
    b = hf.Baresip(ext, pw, d.sip_port, regint=60).start()
    try:
        def probe():
            rows, _ = hf.registrations(d.data_dir)
            return [r for r in rows if r['ext'] == ext and 'baresip' in r['line'].lower()]
        got = hf.wait_for(probe, 10.0, 0.25)
        _, out, _ = hf.cli(d.data_dir, 'registrations')
        check(got, 'baresip did not show up registered as %s:\n%s\nbaresip log:\n%s'
              % (ext, out, b.log()[-2000:]))
    finally:
        b.stop()


# --- tests with their own daemon -------------------------------------------------

def test_restart_keeps_registrations(ctx):
    """Stop the daemon, start it on the same data dir: the registration is
    still listed."""
    d = hf.Daemon()
    ctx.daemons.append(d)
    d.start()
    ext, pw = ctx.ext(d)
    c = Client(d.sip_port)
    register_ok(d, ext, pw, client=c, expires=600)
    c.close()
    got, _, out = wait_registered(d, ext)
    check(got, 'not registered before the restart:\n%s' % out)
    contact = got[0]['contact']
    check(len(wait_db(d, ext, 1)) == 1, 'no DB row before the restart')
    d.stop_clean()
    d.start()
    got, _, out = wait_registered(d, ext)
    check(got, 'registration of %s lost across a restart:\n%s' % (ext, out))
    check(got[0]['contact'] == contact, 'contact changed across the restart: %r -> %r'
          % (contact, got[0]['contact']))
    check(len(hf.db_registrations(d.data_dir, ext)) == 1, 'DB row lost across the restart')
    d.stop_clean()


def ban_lines(log):
    return [l for l in log.splitlines()
            if re.search(r'(?i)\bban(ned|ning|s)?\b', l) and '127.0.0.1' in l]


def test_brute_force_ban(ctx):
    """--auth-fail-limit 5 --auth-fail-window 60 --ban-time 30: eight
    REGISTERs with a wrong password from one source: the first are answered
    401, then nothing comes back at all; `hookflash bans` lists 127.0.0.1;
    the daemon logs the ban exactly once (default log level)."""
    d = hf.Daemon(log_level=None, extra=['--auth-fail-limit', '5', '--auth-fail-window', '60',
                                         '--ban-time', '30'])
    ctx.daemons.append(d)
    d.start()
    ext, pw = ctx.ext(d)
    c = Client(d.sip_port)
    outcomes = []
    for i in range(8):
        res = c.register(ext, 'wrong-' + pw, expires=120, timeout=1.2)
        f = res['final']
        if f is None:
            outcomes.append(None if res['first'] is None else 'challenged, then silence')
        else:
            outcomes.append(f.status)
    opt = c.options(timeout=1.0)
    c.close()
    desc = 'outcomes of 8 wrong-password REGISTERs: %r' % outcomes
    if VERBOSE:
        print('    ' + desc)
    check(outcomes[0] == 401, desc)
    n401 = 0
    while n401 < len(outcomes) and outcomes[n401] == 401:
        n401 += 1
    check(all(o != 401 for o in outcomes[n401:]), 'answered again after going silent; ' + desc)
    check(not any(isinstance(o, int) for o in outcomes[n401:]), desc)
    check(4 <= n401 <= 6, 'want the ban to start at the 5th/6th failure; ' + desc)
    check(outcomes[-1] is None and outcomes[-2] is None, 'the last REGISTERs were not silently dropped; ' + desc)
    _, out, _ = hf.cli(d.data_dir, 'bans')
    check('127.0.0.1' in out, '`hookflash bans` does not list 127.0.0.1:\n%s' % out)
    # the ban is logged when it starts, seconds before the REGISTERs that
    # went unanswered: the first line is there by now, a second one would be
    lines = hf.wait_for(lambda: ban_lines(d.log()), 3.0, 0.05) or []
    check(len(lines) == 1, 'want the ban logged exactly once, found %d line(s):\n%s\nlog tail:\n%s'
          % (len(lines), '\n'.join(lines[:20]), d.log_tail(30)))
    check(opt is None, 'a banned source still gets answers to OPTIONS (the ban must drop all '
          'its requests):\n%s' % show(opt))
    d.stop_clean()


def db_write(data_dir, sql):
    """One statement straight into the database, behind the tool's back."""
    con = sqlite3.connect(os.path.join(data_dir, 'hookflash.db'), timeout=10)
    try:
        con.execute(sql)
        con.commit()
    finally:
        con.close()


def plan_rows(out):
    """`hookflash number list` as (number, destination, what) tuples."""
    lines = out.splitlines()
    check(lines and lines[0].split() == ['NUMBER', 'DESTINATION', 'WHAT'], 'number list header:\n%s' % out)
    return [tuple(re.split(r'\s{2,}', l.strip(), maxsplit=2)) for l in lines[1:] if l.strip()]


def test_cli_numbering_plan(ctx):
    """One namespace: `hookflash number list` shows the extensions and the
    *43 feature code; adding an extension whose number is taken (by an
    extension, or by another kind of destination) fails with exit 1 and
    says by what, and leaves nothing behind; removing an extension frees
    its number."""
    d = ctx.daemon()
    number, pw = ctx.ext(d)
    _, out, _ = hf.cli(d.data_dir, 'number', 'list')
    rows = plan_rows(out)
    check(('*43', 'app:echo', 'feature code: echo test') in rows, 'no *43 in:\n%s' % out)
    check((number, 'ext:' + number, 'extension ' + number) in rows, 'no %s in:\n%s' % (number, out))
    _, out2, _ = hf.cli(d.data_dir, 'numbers')
    check(out2 == out, '`numbers` differs from `number list`:\n%s\n%s' % (out2, out))

    rc, out, err = hf.cli(d.data_dir, 'extension', 'add', number, '--password', secret(), check_rc=False)
    want = 'hookflash: cannot add extension %s: number %s is taken by extension %s\n' % (number, number, number)
    check(rc == 1 and err == want, 'duplicate extension: rc %d, stderr %r, want %r' % (rc, err, want))

    # a number some other feature holds (a conference room, written the
    # way its own code will: a row in the plan)
    db_write(d.data_dir, "INSERT INTO numbers (number, dest, what) VALUES ('4999', 'conf:4999', 'conference room 4999')")
    try:
        rc, out, err = hf.cli(d.data_dir, 'extension', 'add', '4999', '--password', secret(), check_rc=False)
        want = 'hookflash: cannot add extension 4999: number 4999 is taken by conference room 4999\n'
        check(rc == 1 and err == want, 'taken by a room: rc %d, stderr %r, want %r' % (rc, err, want))
        _, out, _ = hf.cli(d.data_dir, 'extension', 'show', '4999', check_rc=False)
        check('4999' not in out, 'a refused extension was stored:\n%s' % out)
        _, out, _ = hf.cli(d.data_dir, 'number', 'list')
        check(('4999', 'conf:4999', 'conference room 4999') in plan_rows(out), 'the room lost its number:\n%s' % out)
    finally:
        db_write(d.data_dir, "DELETE FROM numbers WHERE number = '4999'")
    rc, out, err = hf.cli(d.data_dir, 'extension', 'add', '*43', '--password', secret(), check_rc=False)
    check(rc == 1 and 'digits' in err, 'extension *43: rc %d, stderr %r' % (rc, err))

    hf.cli(d.data_dir, 'extension', 'remove', number)
    _, out, _ = hf.cli(d.data_dir, 'number', 'list')
    check(number not in [r[0] for r in plan_rows(out)], '%s still in the plan after remove:\n%s' % (number, out))


def test_shared_daemon_clean_exit(ctx):
    """The shared daemon, after everything above, ends on SIGTERM with exit
    status 0 and no AddressSanitizer/UBSan report."""
    d = ctx.daemon()
    d.stop_clean()
    ctx.main = None


def test_register_ipv6(ctx):
    """REGISTER over IPv6 (UDP and TCP) to a daemon bound to 127.0.0.1
    and ::1: the binding keeps the IPv6 source (RFC 5118 addresses in
    brackets) and the 200 lists the contact."""
    probe = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        probe.bind(('::1', 0))
    except OSError as err:
        raise hf.Skip('no IPv6 loopback here (binding [::1] failed: %s)' % err)
    finally:
        probe.close()
    d = hf.Daemon(extra=['--bind', '127.0.0.1,::1'])
    ctx.daemons.append(d)
    d.start()
    try:
        number, pw = ctx.ext(d)
        for tp in ('udp', 'tcp'):
            c = Client(d.sip_port, transport=tp, server_ip='::1', local_ip='::1')
            try:
                r = c.register(number, pw, algorithm='MD5', domain='[::1]:%d' % d.sip_port)
            finally:
                c.close()
            check(r['final'] is not None and r['final'].status == 200,
                  'REGISTER over IPv6/%s: %r\n%s' % (tp, r['final'], d.log_tail()))
            check('[::1]' in (r['final'].get('contact') or ''),
                  'the 200 does not list the IPv6 contact: %s' % r['final'].raw)
        rows, out = hf.registrations(d.data_dir)
        mine = [x for x in rows if x['ext'] == number]
        check(len(mine) == 2 and all('[::1]' in x['source'] for x in mine),
              'bindings should keep the IPv6 sources:\n%s' % out)
    finally:
        d.stop_clean()


TESTS = [
    test_options,
    test_register_ipv6,
    test_unknown_method_501,
    test_invalid_message_400,
    test_register_md5_sipp,
    test_register_md5_python,
    test_register_sha256,
    test_unoffered_algorithm_refused,
    test_reregister_refreshes,
    test_unregister,
    test_two_contacts,
    test_expires_too_short_423,
    test_wrong_password_like_unknown_user,
    test_register_tcp_sipp,
    test_register_tcp_python,
    test_baresip_registers,
    test_torture_udp,
    test_torture_tcp,
    test_garbage_and_huge_datagrams,
    test_cli_numbering_plan,
    test_shared_daemon_clean_exit,
    test_restart_keeps_registrations,
    test_brute_force_ban,
]
# ext_calls shares web's daemon, which web's last test stops
TESTS += calls.TESTS + audio.TESTS + nego.TESTS + media.TESTS + apps.TESTS + ext_calls.TESTS + web.TESTS + vmstore.TESTS + voicemail.TESTS + mail.TESTS + webvm.TESTS
TESTS += web_limits.TESTS
TESTS += prompts.TESTS
TESTS += mwi.TESTS
TESTS += web_pages.TESTS
TESTS += transport_limits.TESTS
TESTS += startup.TESTS
TESTS += walkthrough.TESTS
TESTS += backup.TESTS
TESTS += security.TESTS
TESTS += rtpsec.TESTS


class TestTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise TestTimeout('test took longer than %ds' % PER_TEST_TIMEOUT)


def main(ctx_holder):
    only = None
    if '-k' in sys.argv:
        only = sys.argv[sys.argv.index('-k') + 1]
    missing = hf.ensure_built([hf.SAN_DAEMON, hf.CLI])
    ctx = Ctx()
    ctx_holder.append(ctx)
    passed = failed = skipped = 0
    skips = []
    t_start = time.time()
    signal.signal(signal.SIGALRM, _alarm)
    for t in TESTS:
        name = t.__name__[5:]
        if only and only not in name:
            continue
        if missing:
            print('FAIL %s: not built: %s (make build/san/bin/hookflashd build/san/bin/hookflash)'
                  % (name, ' '.join(missing)))
            failed += 1
            continue
        t0 = time.time()
        signal.alarm(PER_TEST_TIMEOUT)
        try:
            t(ctx)
            signal.alarm(0)
            passed += 1
            print('PASS %-40s %5.1fs' % (name, time.time() - t0))
        except hf.Skip as e:
            signal.alarm(0)
            skipped += 1
            skips.append('%s: %s' % (name, e))
            print('SKIP %-40s %5.1fs  %s' % (name, time.time() - t0, e))
        except Exception as e:
            signal.alarm(0)
            failed += 1
            msg = str(e) if isinstance(e, AssertionError) else traceback.format_exc()
            print('FAIL %-40s %5.1fs\n    %s' % (name, time.time() - t0, msg.replace('\n', '\n    ')))
            # a test's own daemon may be left running: stop it
            for d in ctx.daemons:
                if d is not ctx.main and d.alive():
                    d.kill()
            if ctx.main is not None and not ctx.main.alive():
                print('    shared daemon log (%s):\n    %s' % (
                    ctx.main.log_path, ctx.main.log_tail(40).replace('\n', '\n    ')))
        sys.stdout.flush()
    for d in ctx.daemons:
        if d.alive():
            d.kill()
    if failed == 0:
        for d in ctx.daemons:
            shutil.rmtree(d.workdir, ignore_errors=True)
        for t in hf.TEMP_DIRS:
            shutil.rmtree(t, ignore_errors=True)
    else:
        print('daemon logs kept in: %s' % ' '.join(sorted({d.workdir for d in ctx.daemons})))
    print('integration run took %.1fs' % (time.time() - t_start))
    if skips:
        print('Skipped:')
        for s in skips:
            print('  ' + s)
    print('%d passed, %d failed, %d skipped' % (passed, failed, skipped))
    return 0 if failed == 0 else 1


def guarded():
    ctx_holder = []

    def on_signal(signum, frame):
        raise KeyboardInterrupt('signal %d' % signum)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        return main(ctx_holder)
    finally:
        # never leave a daemon behind, whatever happened
        for ctx in ctx_holder:
            for d in ctx.daemons:
                if d.alive():
                    d.kill()


if __name__ == '__main__':
    sys.exit(guarded())
