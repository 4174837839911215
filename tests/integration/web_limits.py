#!/usr/bin/env python3
"""
The web server under abuse, and the web accounts' own protections: slow
connections (slowloris) from many addresses do not lock the admin out, a
chunked body past the limit is refused before it is all sent, event
streams are capped per account with room kept for an admin, repeated
wrong passwords for one account hold that account (not forever), API
tokens expire, and the admin's generated password must be changed at the
first login before anything else works.

Other loopback addresses (127.0.0.10 and up) stand for other hosts: Linux
routes all of 127/8 to lo, so a socket bound to one reaches the daemon on
127.0.0.1 and the daemon sees that address as the source.

    python3 tests/integration/web_limits.py [-v] [-k SUBSTRING]
"""
import json
import os
import re
import select
import socket
import sqlite3
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hf  # noqa: E402
from hf import check, LOCAL  # noqa: E402
from webkit import (Api, admin_password, changed_admin_password, env, expect, expect_error,  # noqa: E402
                    initial_admin_password)
from web import Events, make_user  # noqa: E402

PER_SRC = 32         # WEB_CONN_PER_SRC
CONN_LIMIT = 256     # WEB_CONN_LIMIT
HDR_DEADLINE = 10    # guard.c: headers owed within 10 s
SSE_PER_USER = 4     # WEB_SSE_PER_USER
SSE_MAX = 32         # WEB_SSE_MAX
SSE_ADMIN_ROOM = 4   # WEB_SSE_ADMIN_ROOM


def Api2(d, src):
    """An Api whose connections come from another loopback address."""
    return Api(d, src=src)


def slow_conn(d, src):
    """A TLS connection from src that has sent one byte of its request
    headers, or None when the server refused it."""
    ctx = ssl._create_unverified_context()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.bind((src, 0))
        s.connect((LOCAL, d.https_port))
        t = ctx.wrap_socket(s, server_hostname=LOCAL)
        t.sendall(b'G')
        t.settimeout(0)
        return t
    except (OSError, ssl.SSLError):
        s.close()
        return None


def test_web_slowloris(ctx):
    """One address gets 32 connections and no more. Slow connections (a
    header byte every 2 s) from enough addresses to fill every connection
    the server has, each up to and past the per-address limit: the admin
    still logs in and makes an API call within 5 s while they are held,
    and the server closes the slow ones after its 10 s header deadline
    although they keep sending."""
    d = hf.Daemon()
    ctx.daemons.append(d)
    d.start()
    conns = []
    stop = threading.Event()
    lock = threading.Lock()
    try:
        pw = admin_password(d)  # the forced first change, before the attack
        # one address: 32 connections and no more (well within the deadline)
        one = [slow_conn(d, '127.0.0.9') for _ in range(PER_SRC + 2)]
        held = [c for c in one if c is not None]
        for c in held:
            c.close()
        check(len(held) == PER_SRC, '%d connections from one address, want %d' % (len(held), PER_SRC))
        check(hf.wait_for(lambda: 'past %d per address' % PER_SRC in d.log(), 3), 'no log line for the refusals')
        naddr = CONN_LIMIT // PER_SRC + 2
        per_addr = {}

        def dribble():  # from the start: no connection is ever idle for MHD's timer
            while not stop.wait(2.0):
                with lock:
                    live = [c for _, _, c in conns]
                for c in live:
                    try:
                        c.send(b'E')
                    except (OSError, ssl.SSLError):
                        pass
        threading.Thread(target=dribble, daemon=True).start()

        def attacker(src):
            got = refused = 0
            for _ in range(PER_SRC + 3):
                c = slow_conn(d, src)
                if c is None:
                    refused += 1
                    if refused == 2:  # refused: this address is at its limit (or all are)
                        break
                    continue
                got += 1
                with lock:
                    conns.append((time.time(), src, c))
            per_addr[src] = got
        threads = [threading.Thread(target=attacker, args=('127.0.0.%d' % (10 + i),)) for i in range(naddr)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        t0 = time.time()
        a = Api(d)
        try:
            r = a.login('admin', pw)
        except (OSError, ssl.SSLError) as ex:
            raise hf.Failure('admin login while %d slow connections are held: %r' % (len(conns), ex))
        expect(r, 200, 'admin login while slow connections are held')
        expect(a.req('GET', '/api/v1/extensions'), 200, 'admin API call while slow connections are held')
        took = time.time() - t0
        check(took < 5, 'the admin needed %.1f s' % took)

        def closed(c):
            try:
                r, _, _ = select.select([c], [], [], 0)
                if not r:
                    return False
                return c.recv(64) == b''
            except ssl.SSLWantReadError:
                return False
            except (OSError, ssl.SSLError):
                return True
        opened = max(t for t, _, _ in conns)
        ok = hf.wait_for(lambda: all(closed(c) for _, _, c in conns), HDR_DEADLINE + 10, 0.25)
        left = sum(1 for _, _, c in conns if not closed(c))
        check(ok, '%d of %d slow connections still open %.0f s after the last was opened'
              % (left, len(conns), time.time() - opened))
        check('sent no complete request in time' in d.log(), 'no log line for the closed connections')
        print('    %d slow connections opened from %d addresses (per address %r); admin in %.2f s'
              % (len(conns), naddr, sorted(set(per_addr.values())), took))
    finally:
        stop.set()
        for _, _, c in conns:
            c.close()
        d.stop_clean()


def chunked_post(d, path, total, chunk=65536):
    """POSTs total bytes as a chunked body (no length announced), looking
    for an answer after each chunk. Returns (bytes sent, answer head or
    b'' when the server closed without one)."""
    s = socket.create_connection((LOCAL, d.https_port), timeout=10)
    t = ssl._create_unverified_context().wrap_socket(s, server_hostname=LOCAL)
    data = b'x' * chunk
    sent, answer = 0, b''
    try:
        t.sendall(('POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n'
                   'Transfer-Encoding: chunked\r\n\r\n' % (path, LOCAL)).encode())
        while sent < total:
            n = min(chunk, total - sent)
            t.sendall(b'%x\r\n' % n + data[:n] + b'\r\n')
            sent += n
            if select.select([t], [], [], 0)[0]:
                break
        if sent >= total:
            t.sendall(b'0\r\n\r\n')
        while b'\r\n\r\n' not in answer:
            b = t.recv(4096)
            if not b:
                break
            answer += b
    except (OSError, ssl.SSLError):
        pass
    finally:
        t.close()
    return sent, answer


def test_web_chunked_413(ctx):
    """A chunked body (no length announced) past the 64 KiB limit is read
    and dropped, not kept, and answered 413; one that goes on is not read
    to its end: the server closes the connection once 1 MiB past the
    limit, long before the client has sent it all, and serves on."""
    e = env(ctx)
    pw = admin_password(e.d)
    sent, answer = chunked_post(e.d, '/api/v1/login', 300 << 10)
    check(answer.startswith(b'HTTP/1.1 413'), '300 KiB chunked body: %r' % answer[:200])
    total = 64 << 20
    sent, answer = chunked_post(e.d, '/api/v1/login', total)
    check(sent < 8 << 20 and not answer.startswith(b'HTTP/1.1 2'),
          '%d MiB chunked body: %d bytes sent, answer %r' % (total >> 20, sent, answer[:100]))
    check(hf.wait_for(lambda: 'kept sending its body' in e.d.log(), 5), 'no log line for the closed connection')
    print('    a %d MiB chunked body was cut off after %d KiB' % (total >> 20, sent >> 10))
    expect(Api(e.d).login('admin', pw), 200, 'the server is fine after it')


def test_web_events_per_user(ctx):
    """Event streams: at most 4 per account (429 saying so past it); plain
    users together cannot take the last places, which stay for an admin."""
    e = env(ctx)
    users = [make_user(e, e.ext(name='Streams 0')['number'], 'streamer0')]
    streams = []
    try:
        def open_for(api):
            ev = Events(api)
            streams.append(ev)
            return ev
        mine = [open_for(users[0]) for _ in range(SSE_PER_USER)]
        check(all(ev.r.status == 200 for ev in mine), 'a user\'s streams: %r' % [ev.r.status for ev in mine])
        past = open_for(users[0])
        check(past.r.status == 429, 'a fifth stream of one user: %d, want 429' % past.r.status)
        body = past.r.read().decode()
        check('at most %d' % SSE_PER_USER in json.loads(body)['error'], 'a fifth stream: %s' % body)
        adm = open_for(e.admin)
        check(adm.r.status == 200, 'the admin is refused a stream: %d' % adm.r.status)
        adm.close()
        users += [make_user(e, e.ext(name='Streams %d' % i)['number'], 'streamer%d' % i)
                  for i in range(1, (SSE_MAX - SSE_ADMIN_ROOM) // SSE_PER_USER + 1)]
        deadline = time.time() + 5  # the admin's place is freed within a tick
        for u in users[1:-1]:
            for _ in range(SSE_PER_USER):
                ev = open_for(u)
                while ev.r.status != 200 and time.time() < deadline:
                    time.sleep(0.3)
                    ev = open_for(u)
                check(ev.r.status == 200, 'user stream refused: %d' % ev.r.status)
        last = open_for(users[-1])
        check(last.r.status == 503, 'users took %d streams; the next user got %d, want 503'
              % (SSE_MAX - SSE_ADMIN_ROOM, last.r.status))
        adm = open_for(e.admin)
        check(adm.r.status == 200, 'the admin is locked out by users\' streams: %d' % adm.r.status)
    finally:
        for ev in streams:
            ev.close()


def test_web_login_account_backoff(ctx):
    """Wrong passwords for one account from many addresses (each under
    the per-address limit) hold that account: 429 with Retry-After even
    for the right password, logged without the password; after the hold
    the right password works, and an address that logged in to it before
    is not held."""
    e = env(ctx)
    name, pw = 'dave', 'dave-web-pw-1'
    expect(e.admin.req('POST', '/api/v1/users', {'username': name, 'password': pw}), 201, 'create dave')
    home = Api2(e.d, '127.0.0.40')
    expect(home.login(name, pw), 200, 'dave logs in from home first')

    def guesses(first, n):
        for i in range(n):
            r = Api2(e.d, '127.0.0.%d' % (first + i)).login(name, 'guess-%d-wrong' % (first + i))
            expect_error(r, 401, None, 'guess from 127.0.0.%d' % (first + i))
    guesses(50, 5)
    stranger = Api2(e.d, '127.0.0.60')
    r = stranger.login(name, pw)
    j = expect_error(r, 429, None, 'the right password while held')
    retry = r.header('retry-after')
    check(retry and retry.isdigit() and 1 <= int(retry) <= 3, 'Retry-After %r' % retry)
    check('account' in j['error'], 'message: %r' % j)
    log = e.d.log()
    check(re.search(r'web logins for "dave" held for \d+ s after 5 failed', log), 'no log line for the hold')
    check('guess-' not in log, 'a password in the log')
    # the next failure doubles the hold; it ends, and the right password works
    time.sleep(int(retry))
    guesses(61, 1)
    r = stranger.login(name, pw)
    expect_error(r, 429, None, 'held again')
    check(int(r.header('retry-after')) >= 3, 'the hold did not grow: %r' % r.header('retry-after'))
    check(hf.wait_for(lambda: stranger.login(name, pw).status == 200, 10, 0.5),
          'the right password never worked again')
    # held again: the address dave used before is not held
    guesses(70, 5)
    expect_error(Api2(e.d, '127.0.0.80').login(name, pw), 429, None, 'held once more')
    expect(home.login(name, pw), 200, 'dave from the address he logged in from before')
    expect(e.admin.req('DELETE', '/api/v1/users/' + name), 204, 'delete dave')


def test_web_token_expiry(ctx):
    """POST /api/v1/tokens takes expires_in_days or expires_at; the list
    shows the expiry; an expired token is 401 "token expired"."""
    e = env(ctx)
    now = time.time()
    t = expect(e.admin.req('POST', '/api/v1/tokens', {'name': 'week', 'expires_in_days': 7}), 201, 'token').json()
    check(abs(t['expires_at'] - (now + 7 * 86400)) < 60, 'expires_at %r' % t['expires_at'])
    forever = expect(e.admin.req('POST', '/api/v1/tokens', {'name': 'forever'}), 201, 'token').json()
    check(forever['expires_at'] is None, 'no expiry: %r' % forever)
    y = time.gmtime(now).tm_year + 1
    iso = expect(e.admin.req('POST', '/api/v1/tokens', {'name': 'iso', 'expires_at': '%d-01-31' % y}),
                 201, 'ISO date').json()
    check(time.strftime('%Y-%m-%d', time.gmtime(iso['expires_at'])) == '%d-01-31' % y, 'ISO: %r' % iso)
    for body, field in (({'name': 'x', 'expires_in_days': 0}, 'expires_in_days'),
                        ({'name': 'x', 'expires_in_days': 'soon'}, 'expires_in_days'),
                        ({'name': 'x', 'expires_at': '2001-01-01'}, 'expires_at'),
                        ({'name': 'x', 'expires_at': 'tomorrow'}, 'expires_at'),
                        ({'name': 'x', 'expires_at': '%d-01-31' % y, 'expires_in_days': 3}, 'expires_at')):
        expect_error(e.admin.req('POST', '/api/v1/tokens', body), 400, field, repr(body))
    lst = expect(e.admin.req('GET', '/api/v1/tokens'), 200, 'list').json()['tokens']
    got = {x['id']: x for x in lst}
    check(got[t['id']]['expires_at'] == t['expires_at'] and got[t['id']]['expired'] is False
          and got[forever['id']]['expires_at'] is None, 'list: %r' % lst)
    script = Api(e.d, token=t['token'])
    expect(script.req('GET', '/api/v1/session'), 200, 'before it expires')
    con = sqlite3.connect(e.d.db_path, timeout=10)  # a week later, as far as the token knows
    try:
        con.execute('UPDATE api_tokens SET expires_at = ? WHERE id = ?', (int(now) - 1, t['id']))
        con.commit()
    finally:
        con.close()
    r = script.req('GET', '/api/v1/session')
    j = expect_error(r, 401, None, 'expired token')
    check(j['error'] == 'token expired', 'message: %r' % j)
    lst = expect(e.admin.req('GET', '/api/v1/tokens'), 200, 'list').json()['tokens']
    check([x for x in lst if x['id'] == t['id']][0]['expired'] is True, 'not listed as expired')
    expect(Api(e.d, token=forever['token']).req('GET', '/api/v1/session'), 200, 'the other token works')


def test_web_first_login_forces_change(ctx):
    """The first start's admin must choose a password at the first login:
    the session says must_change_password, every other call is 403
    "password change required" until it is changed through the policy;
    then the flag is gone and everything works."""
    d = hf.Daemon()
    ctx.daemons.append(d)
    d.start()
    try:
        first = initial_admin_password(d)
        a = Api(d)
        s = expect(a.login('admin', first), 200, 'first login').json()
        check(s['must_change_password'] is True, 'login: %r' % s)
        check(expect(a.req('GET', '/api/v1/session'), 200, 'session').json()['must_change_password'] is True,
              'session does not say so')
        for method, path, body in (('GET', '/api/v1/extensions', None), ('POST', '/api/v1/tokens', {'name': 'x'}),
                                   ('GET', '/api/v1/users', None), ('GET', '/api/v1/events', None)):
            j = expect_error(a.req(method, path, body), 403, None, '%s %s before the change' % (method, path))
            check(j['error'] == 'password change required', 'message: %r' % j)
        for new, field, what in ((first, 'new_password', 'must differ'), ('short', 'new_password', 'at least 8'),
                                 ('admin', 'new_password', 'at least 8')):
            j = expect_error(a.req('POST', '/api/v1/password', {'current_password': first, 'new_password': new}),
                             400, field, 'new password %r' % new)
            check(what in j['error'], 'policy message %r' % j['error'])
        new = changed_admin_password(first)
        expect(a.req('POST', '/api/v1/password', {'current_password': first, 'new_password': new}), 204, 'change')
        b = Api(d)
        s = expect(b.login('admin', new), 200, 'login with the new password').json()
        check(s['must_change_password'] is False, 'still flagged: %r' % s)
        expect(b.req('GET', '/api/v1/extensions'), 200, 'API after the change')
        users = expect(b.req('GET', '/api/v1/users'), 200, 'users').json()['users']
        check([u for u in users if u['username'] == 'admin'][0]['must_change_password'] is False, 'users: %r' % users)
        check(new not in d.log(), 'the new password in the log')
        # an admin may hand out a temporary password the same way
        expect(b.req('POST', '/api/v1/users', {'username': 'temp', 'password': 'temp-pw-1234',
                                               'must_change_password': True}), 201, 'user with a temporary password')
        t = Api(d)
        check(expect(t.login('temp', 'temp-pw-1234'), 200, 'temp login').json()['must_change_password'] is True,
              'temp not flagged')
        expect_error(t.req('GET', '/api/v1/calls'), 403, None, 'temp before the change')
        expect(t.req('POST', '/api/v1/password', {'current_password': 'temp-pw-1234', 'new_password': 'temp-pw-5678'}),
               204, 'temp changes it')
        expect(Api(d).login('temp', 'temp-pw-5678'), 200, 'temp with its own password')
    finally:
        d.stop_clean()


TESTS = [
    test_web_first_login_forces_change,
    test_web_token_expiry,
    test_web_login_account_backoff,
    test_web_events_per_user,
    test_web_chunked_413,
    test_web_slowloris,
]


if __name__ == '__main__':
    import run  # noqa: E402  (run.py's runner, with these tests)
    run.TESTS = TESTS
    sys.exit(run.guarded())
