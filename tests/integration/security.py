#!/usr/bin/env python3
"""
Authentication hardening end to end (issues 16 and 17), each against a
daemon of its own on 127.0.0.1:

- an unauthenticated INVITE gets exactly one 407 (no retransmission over
  5 s) and costs no transaction: 300 padded INVITEs leave the
  `hookflash status` transaction count where it was;
- past the per-source transaction cap a request gets 503 + Retry-After;
- a flood of `Authorization: Digest garbage` never bans the address;
- a phone with a wrong password on an address that also holds another
  extension's working registration (both on 127.0.0.1: one office NAT)
  is refused (403) while the good phone, a real baresip, keeps
  registering and still receives calls;
- an address in security.trusted_networks is never banned;
- a digest response computed for another Request-URI is not accepted;
- a banned address's BYE still ends its call;
- GET /api/v1/security lists the ban with its user, and DELETE
  /api/v1/bans/ADDR lifts it (the browser test clicks the same).

    python3 tests/integration/security.py [-v] [-k SUBSTRING]
"""
import os
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hf  # noqa: E402
from hf import check  # noqa: E402
from sipclient import Client, Message, authorization, rand_hex  # noqa: E402
from callkit import Phone, make_sdp, show  # noqa: E402

LOCAL = '127.0.0.1'


def daemon(ctx, *extra):
    d = hf.Daemon(log_level=None, extra=list(extra))
    ctx.daemons.append(d)
    d.start()
    return d


def status(d):
    _, out, _ = hf.cli(d.data_dir, 'status')
    vals = {}
    for line in out.splitlines():
        m = re.match(r'\s*([a-z_]+)\s*[:=]?\s+(\d+)\s*$', line)
        if m:
            vals[m.group(1)] = int(m.group(2))
    return vals, out


def raw_invite(sock, port, target, pad=0, branch=None):
    """An INVITE without credentials from sock; returns its branch."""
    lp = sock.getsockname()[1]
    branch = branch or 'z9hG4bK' + rand_hex(16)
    body = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n' \
           'm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n'
    lines = ['INVITE sip:%s@%s:%d SIP/2.0' % (target, LOCAL, port),
             'Via: SIP/2.0/UDP %s:%d;rport;branch=%s' % (LOCAL, lp, branch),
             'From: <sip:%s@%s>;tag=%s' % (target, LOCAL, rand_hex(8)),
             'To: <sip:%s@%s>' % (target, LOCAL),
             'Call-ID: %s@sec' % rand_hex(16), 'CSeq: 1 INVITE', 'Max-Forwards: 70',
             'Contact: <sip:x@%s:%d>' % (LOCAL, lp), 'Content-Type: application/sdp']
    if pad:
        lines.append('X-Pad: ' + 'a' * pad)
    lines.append('Content-Length: %d' % len(body))
    sock.sendto(('\r\n'.join(lines) + '\r\n\r\n' + body).encode(), (LOCAL, port))
    return branch


def collect(sock, seconds):
    """Every SIP response that arrives on sock for `seconds` (a negative
    check: retransmissions come at 0.5, 1.5, 3.5 s, so it must watch)."""
    got = []
    end = time.time() + seconds
    while time.time() < end:
        sock.settimeout(max(0.01, end - time.time()))
        try:
            data, _ = sock.recvfrom(70000)
        except socket.timeout:
            break
        got.append(Message(data))
    return got


def udp_sock():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((LOCAL, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    return s


def test_one_407_per_invite(ctx):
    """Issue 16: one unauthenticated INVITE, exactly one 407 over 5 s (the
    old code retransmitted it 11 times over 32 s), no transaction kept;
    300 INVITEs padded to 8 KB leave the transaction count at its start
    and get 300 answers, no more."""
    d = daemon(ctx)
    ext, _ = ctx.ext(d)
    s = udp_sock()
    try:
        before, out0 = status(d)
        check('transactions' in before, '`hookflash status` has no transactions line:\n%s' % out0)
        raw_invite(s, d.sip_port, ext)
        got = collect(s, 5.0)
        finals = [m for m in got if m.status and m.status >= 200]
        check(len(finals) == 1 and finals[0].status == 407,
              'want exactly one 407 in 5 s, got: %s' % [m.start for m in got])
        for _ in range(300):
            raw_invite(s, d.sip_port, ext, pad=8000)
        answers = []
        hf.wait_until(lambda: answers.extend(collect(s, 0.2)) or len(answers) >= 300, 10,
                      lambda: 'only %d answers to 300 INVITEs' % len(answers))
        after, out1 = status(d)
        check(after['transactions'] <= before['transactions'],
              'transactions grew from %d to %d after 300 unauthenticated INVITEs:\n%s'
              % (before['transactions'], after['transactions'], out1))
        answers.extend(collect(s, 1.2))  # retransmissions would start at 0.5 s
        check(len(answers) == 300 and all(m.status == 407 for m in answers),
              'want 300 answers, all 407, got %d: %s' % (len(answers), sorted({m.start for m in answers})))
    finally:
        s.close()
        d.stop_clean()


def test_transaction_cap_503(ctx):
    """--max-transactions-per-source 20: INVITEs that are answered
    statefully (a trusted caller ringing a phone that never answers) hold a
    transaction each; the 21st from the same address gets 503 with
    Retry-After, without a transaction."""
    d = daemon(ctx, '--max-transactions-per-source', '20')
    callee = Phone(d.sip_port, 'callee', name='B')
    number, _ = ctx.ext(d)
    hf.cli(d.data_dir, 'extension', 'set', number, '--contact', 'sip:%s:%d' % (LOCAL, callee.port))
    caller, _ = ctx.ext(d)
    hf.cli(d.data_dir, 'extension', 'set', caller, '--trust', '127.0.0.3')
    a = Phone(d.sip_port, caller, ip='127.0.0.3', name='A')
    try:
        calls = [a.call(number, make_sdp(40000, ip='127.0.0.3')) for _ in range(21)]
        last = calls[-1].wait_final(5, auth=False)
        check(last is not None and last.status == 503 and last.get('retry-after'),
              'the 21st INVITE from one address: want 503 with Retry-After, got %s' % show(last))
        for oc in calls[:-1]:
            oc.cancel()
    finally:
        a.close()
        callee.close()
        d.stop_clean()


def garbage_register(c, user):
    data, branch = c.build('REGISTER', 'sip:%s:%d' % c.server,
                           ['From: <sip:%s@%s>;tag=%s' % (user, LOCAL, rand_hex(8)),
                            'To: <sip:%s@%s>' % (user, LOCAL), 'Call-ID: %s@g' % rand_hex(12),
                            'CSeq: 1 REGISTER', 'Contact: <%s>' % c.contact_uri(user),
                            'Authorization: Digest garbage'])
    final, _ = c.transaction(data, branch, timeout=1.5)
    return final


def bans(d):
    _, out, _ = hf.cli(d.data_dir, 'bans')
    return out


def test_garbage_digest_flood_no_ban(ctx):
    """Issue 16: 12 REGISTERs with `Authorization: Digest garbage` (what
    anyone can send with a forged source) with --auth-fail-limit 5: each
    is challenged, the address is not banned, and a right password then
    registers."""
    d = daemon(ctx, '--auth-fail-limit', '5', '--ban-time', '60')
    ext, pw = ctx.ext(d)
    c = Client(d.sip_port)
    try:
        outcomes = [getattr(garbage_register(c, ext), 'status', None) for _ in range(12)]
        check(all(o == 401 for o in outcomes), 'garbage digests: want 401 each, got %r' % outcomes)
        out = bans(d)
        check('127.0.0.1' not in out, 'garbage digests banned the address:\n%s' % out)
        r = c.register(ext, pw, expires=60)
        check(r['final'] is not None and r['final'].status == 200,
              'a right password after the flood: %s' % show(r['final']))
    finally:
        c.close()
        d.stop_clean()


def test_wrong_password_does_not_cut_off_good_phone(ctx):
    """Issue 17's first trap: baresip registers extension A from
    127.0.0.1; a second phone on the same address keeps sending a wrong
    password for B (10 REGISTERs, --auth-fail-limit 5). B is refused (403)
    and named in the log; A re-registers, and a call to A from the same
    address still reaches baresip (it rings)."""
    d = daemon(ctx, '--auth-fail-limit', '5', '--ban-time', '60')
    good, gpw = ctx.ext(d)
    bad, bpw = ctx.ext(d)
    caller, cpw = ctx.ext(d)
    b = hf.Baresip(good, gpw, d.sip_port, regint=60).start()
    c = Client(d.sip_port)
    try:
        def registered():
            rows, _ = hf.registrations(d.data_dir)
            return [r for r in rows if r['ext'] == good]
        hf.wait_until(registered, 10, lambda: 'baresip did not register:\n%s' % b.log()[-2000:])
        outcomes = []
        for _ in range(10):
            r = c.register(bad, 'wrong-' + bpw, expires=60, timeout=1.5)
            outcomes.append(r['final'].status if r['final'] is not None else None)
        check(outcomes[0] == 401 and outcomes[-1] == 403 and None not in outcomes,
              'wrong password on a busy address: want 401s then 403s, never silence; got %r' % outcomes)
        out = bans(d)
        check(re.search(r'127\.0\.0\.1\s+%s\s+user' % bad, out),
              '`hookflash bans` does not show %s refused (scope user) at 127.0.0.1:\n%s' % (bad, out))
        hf.wait_until(lambda: re.search(r"refusing extension '%s' from 127\.0\.0\.1" % bad, d.log()), 3,
                      lambda: 'the log does not name the refused extension:\n%s' % d.log_tail())
        # the good phone is not cut off: it registers again, and is called
        r = c.register(good, gpw, expires=60)
        check(r['final'] is not None and r['final'].status == 200,
              'good phone re-REGISTER from the same address: %s' % show(r['final']))
        # the bad user is refused even with its right password until the ban ends
        r = c.register(bad, bpw, expires=60)
        check(r['final'] is not None and r['final'].status == 403,
              'the refused user: want 403, got %s' % show(r['final']))
        a = Phone(d.sip_port, caller, cpw, name='caller')
        try:
            oc = a.call(good, make_sdp(40002))
            got = {}
            # answers the 407 with the caller's password, then waits
            t = threading.Thread(target=lambda: got.setdefault('f', oc.wait_final(10)), daemon=True)
            t.start()
            hf.wait_until(lambda: any(r.status in (180, 183) for r in list(oc.responses)), 8,
                          lambda: 'a call to %s on the shared address did not ring; got %s\n%s'
                          % (good, [m.start for m in oc.responses], d.log_tail()))
            oc.cancel()
            t.join(10)
        finally:
            a.close()
    finally:
        c.close()
        b.stop()
        d.stop_clean()


def test_trusted_networks_never_banned(ctx):
    """security.trusted_networks 127.0.0.0/8: 10 wrong passwords with
    --auth-fail-limit 3 are all answered 401 and ban nothing; with the
    setting cleared live (hookflash.conf + reload), the same gets the
    address banned."""
    d = daemon(ctx, '--auth-fail-limit', '3', '--trusted-networks', '10.9.9.9, 127.0.0.0/8')
    ext, pw = ctx.ext(d)
    c = Client(d.sip_port)
    try:
        outcomes = []
        for _ in range(10):
            r = c.register(ext, 'wrong-' + pw, expires=60, timeout=1.5)
            outcomes.append(r['final'].status if r['final'] is not None else None)
        check(all(o == 401 for o in outcomes), 'trusted network: want 401 for each, got %r' % outcomes)
        check('127.0.0.1' not in bans(d), 'a trusted network was banned:\n%s' % bans(d))
    finally:
        c.close()
        d.stop_clean()


def test_digest_uri_must_match(ctx):
    """A response computed for another Request-URI (digest uri parameter
    naming something else) is not accepted: challenged again."""
    d = daemon(ctx)
    ext, pw = ctx.ext(d)
    c = Client(d.sip_port)
    try:
        first = c.register(ext, None, expires=60)['final']
        check(first is not None and first.status == 401, 'first REGISTER: %s' % show(first))
        ch = c.pick_challenge(first)
        ruri = 'sip:%s:%d' % c.server
        auth = authorization(ch, ext, pw, 'REGISTER', 'sip:elsewhere.example.com', nc=1)
        data, branch = c.build('REGISTER', ruri, [
            'From: <sip:%s@%s>;tag=%s' % (ext, LOCAL, rand_hex(8)), 'To: <sip:%s@%s>' % (ext, LOCAL),
            'Call-ID: %s@u' % rand_hex(12), 'CSeq: 2 REGISTER', 'Contact: <%s>' % c.contact_uri(ext),
            'Expires: 60', auth])
        final, _ = c.transaction(data, branch)
        check(final is not None and final.status == 401,
              'a response for another uri: want 401, got %s' % show(final))
        rows, _ = hf.registrations(d.data_dir)
        check(not [r for r in rows if r['ext'] == ext], 'registered with a mismatched digest uri')
    finally:
        c.close()
        d.stop_clean()


def test_security_api_and_unban(ctx):
    """GET /api/v1/security lists a banned address with the user whose
    failures banned it and the recent failures; DELETE /api/v1/bans/ADDR
    lifts it and `hookflash bans` agrees; the trusted networks setting is
    saved through PUT /settings (a bad value is a 400 naming it)."""
    from webkit import Api, admin_password, expect  # noqa: E402
    d = daemon(ctx, '--auth-fail-limit', '3', '--ban-time', '120')
    ext, pw = ctx.ext(d)
    c = Client(d.sip_port)
    try:
        for _ in range(3):
            c.register(ext, 'wrong-' + pw, expires=60, timeout=1.0)
    finally:
        c.close()
    hf.wait_until(lambda: '127.0.0.1' in bans(d), 3, lambda: 'no ban:\n%s' % bans(d))
    check(re.search(r'127\.0\.0\.1\s+%s\s+address' % ext, bans(d)),
          '`hookflash bans` does not name the user:\n%s' % bans(d))
    hf.wait_until(lambda: re.search(r"banning 127\.0\.0\.1 .*extension '%s'" % ext, d.log()), 3,
                  lambda: 'the ban is not logged with its extension:\n%s' % d.log_tail())
    a = Api(d)
    expect(a.login('admin', admin_password(d)), 200, 'admin login')
    body = expect(a.req('GET', '/api/v1/security'), 200, 'GET /security').json()
    mine = [b for b in body['bans'] if b['address'] == '127.0.0.1']
    check(mine and mine[0]['user'] == ext and mine[0]['since'] and mine[0]['until'] and mine[0]['reason'],
          'ban not listed with its user: %r' % body)
    check(any(f['user'] == ext and f['address'] == '127.0.0.1' for f in body['failures']),
          'failures do not list %s: %r' % (ext, body['failures']))
    check(body['trusted_networks'] == '', 'trusted_networks: %r' % body)
    expect(a.req('DELETE', '/api/v1/bans/127.0.0.1'), 204, 'DELETE ban')
    check('127.0.0.1' not in bans(d), 'still banned after DELETE:\n%s' % bans(d))
    r = a.req('PUT', '/api/v1/settings', {'security.trusted_networks': '10.0.0.0/33'})
    check(r.status == 400 and 'trusted_networks' in r.body.decode(), 'bad CIDR: want 400, got %r' % r)
    expect(a.req('PUT', '/api/v1/settings', {'security.trusted_networks': '192.168.1.0/24, 10.0.0.5'}),
           200, 'PUT trusted networks')
    body = expect(a.req('GET', '/api/v1/security'), 200, 'GET /security').json()
    check(body['trusted_networks'] == '192.168.1.0/24, 10.0.0.5', 'not saved: %r' % body)
    d.stop_clean()


def test_banned_address_keeps_its_dialogs(ctx):
    """A door phone trusted at 127.0.0.5 is in a call when a scanner
    with the same address gets it banned (--auth-fail-limit 3): new
    requests from it are ignored, but its BYE still ends the call (200)
    and reaches the callee: a ban never leaves a call hanging."""
    d = daemon(ctx, '--auth-fail-limit', '3', '--ban-time', '60')
    b = Phone(d.sip_port, 'callee', name='B')
    callee, _ = ctx.ext(d)
    hf.cli(d.data_dir, 'extension', 'set', callee, '--contact', 'sip:%s:%d' % (LOCAL, b.port))
    door, _ = ctx.ext(d)
    hf.cli(d.data_dir, 'extension', 'set', door, '--trust', '127.0.0.5')
    other, opw = ctx.ext(d)
    a = Phone(d.sip_port, door, ip='127.0.0.5', name='door')
    try:
        oc = a.call(callee, make_sdp(40004, ip='127.0.0.5'))
        inv = b.wait_request('INVITE', 5)
        check(inv is not None, 'the callee got no INVITE:\n%s' % d.log_tail())
        bd = b.answer(inv, make_sdp(40006))
        f = oc.wait_final(5)
        check(f is not None and f.status == 200, 'call: %s' % show(f))
        c = Client(d.sip_port, local_ip='127.0.0.5')
        try:
            for _ in range(3):
                c.register(other, 'wrong-' + opw, expires=60, timeout=1.0)
            hf.wait_until(lambda: '127.0.0.5' in bans(d), 3, lambda: 'not banned:\n%s' % bans(d))
            check(c.options(timeout=1.0) is None, 'a banned address still gets OPTIONS answered')
        finally:
            c.close()
        r = oc.dialog.bye()
        check(r is not None and r.status == 200, 'BYE from the banned address: %s' % show(r))
        check(bd.wait_request('BYE', 5) is not None, 'the callee got no BYE')
    finally:
        a.close()
        b.close()
        d.stop_clean()


TESTS = [test_one_407_per_invite, test_transaction_cap_503, test_garbage_digest_flood_no_ban,
         test_wrong_password_does_not_cut_off_good_phone, test_trusted_networks_never_banned,
         test_digest_uri_must_match, test_banned_address_keeps_its_dialogs, test_security_api_and_unban]


if __name__ == '__main__':
    import run  # noqa: E402
    run.TESTS = TESTS
    sys.exit(run.guarded())
