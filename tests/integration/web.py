#!/usr/bin/env python3
"""
Web administration tests: the HTTPS REST API of the real hookflashd
(ASan+UBSan build), driven with python's http.client over TLS (the
self-signed certificate is not verified) on 127.0.0.1 and free ports,
with a real SIP REGISTER (sipclient) where live state is checked.

Run with the other integration tests (tests/integration/run.py includes
TESTS) or alone:

    python3 tests/integration/web.py [-v] [-k SUBSTRING]

The tests share one daemon; the admin password is the one the first
start generated (DATA_DIR/initial-credentials.txt). Login failures are
rate-limited per source address, so the rate-limit test uses a daemon of
its own.
"""
import csv
import http.client
import io
import json
import os
import re
import queue
import signal
import socket
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hf  # noqa: E402
from hf import check, LOCAL  # noqa: E402

CSP = "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
SQLI = "Robert'); DROP TABLE extensions;--"


from webkit import COOKIE, Api, Resp, WebEnv, admin_password, env, expect, expect_error, insert_cdrs, register  # noqa: E402,F401


# --- transport and headers -------------------------------------------------------

def test_web_http_redirects(ctx):
    """Plain HTTP answers only 308 to the same path and query on HTTPS."""
    e = env(ctx)
    c = http.client.HTTPConnection(LOCAL, e.d.http_port, timeout=10)
    try:
        c.request('GET', '/api/v1/cdrs?number=1001&x=a%20b', headers={'Host': 'pbx.example:80'})
        r = c.getresponse()
        r.read()
    finally:
        c.close()
    check(r.status == 308, 'HTTP answered %d, want 308' % r.status)
    loc = r.getheader('Location')
    want = 'https://pbx.example:%d/api/v1/cdrs?number=1001&x=a%%20b' % e.d.https_port
    check(loc == want, 'Location %r, want %r' % (loc, want))
    c = http.client.HTTPConnection(LOCAL, e.d.http_port, timeout=10)
    try:  # a Host that would inject into the header is not used
        c.request('POST', '/x', body=b'{}', headers={'Host': 'evil.example/\\@x'})
        r = c.getresponse()
        r.read()
    finally:
        c.close()
    check(r.status == 308 and r.getheader('Location') == 'https://127.0.0.1:%d/x' % e.d.https_port,
          'bad Host: %d %r' % (r.status, r.getheader('Location')))


def test_web_security_headers(ctx):
    """Every answer (page, API success, API error, 404) carries the
    security headers; API answers are not cacheable."""
    e = env(ctx)
    anon = Api(e.d)
    for api, path in ((anon, '/'), (e.admin, '/api/v1/session'), (anon, '/api/v1/session'),
                      (anon, '/nope'), (e.admin, '/api/v1/extensions/99')):
        r = api.req('GET', path)
        check(r.header('content-security-policy') == CSP, '%s: CSP %r' % (path, r.header('content-security-policy')))
        check(r.header('x-content-type-options') == 'nosniff', '%s: no nosniff' % path)
        check(r.header('referrer-policy') == 'no-referrer', '%s: Referrer-Policy %r' % (path, r.header('referrer-policy')))
        if path.startswith('/api/'):
            check(r.header('cache-control') == 'no-store', '%s: Cache-Control %r' % (path, r.header('cache-control')))
        check(r.header('strict-transport-security') == 'max-age=31536000', '%s: no HSTS' % path)
    r = anon.req('GET', '/')
    expect(r, 200, 'index page')
    body = r.body.decode('utf-8', 'replace').lower()
    scripts = re.findall(r'<script([^>]*)>(.*?)</script>', body, re.S)
    check(all('src=' in attrs and not inner.strip() for attrs, inner in scripts)
          and body.count('<script') == len(scripts) and 'style=' not in body
          and '<style' not in body and ' on' + 'click=' not in body,
          'inline script or style in the index page')


# --- authentication ------------------------------------------------------------------

ROUTES = [('GET', '/api/v1/session'), ('POST', '/api/v1/logout'), ('POST', '/api/v1/password'),
          ('GET', '/api/v1/openapi.json'),
          ('GET', '/api/v1/extensions'), ('POST', '/api/v1/extensions'),
          ('GET', '/api/v1/extensions/1001'), ('PUT', '/api/v1/extensions/1001'),
          ('DELETE', '/api/v1/extensions/1001'), ('POST', '/api/v1/extensions/1001/password'),
          ('GET', '/api/v1/codecs'), ('GET', '/api/v1/registrations'), ('GET', '/api/v1/calls'), ('DELETE', '/api/v1/calls/1'),
          ('GET', '/api/v1/bans'), ('GET', '/api/v1/cdrs'), ('GET', '/api/v1/cdrs?format=csv'),
          ('GET', '/api/v1/status'), ('GET', '/metrics'), ('GET', '/api/v1/metrics'),
          ('GET', '/api/v1/tokens'), ('POST', '/api/v1/tokens'), ('DELETE', '/api/v1/tokens/1'),
          ('GET', '/api/v1/users'), ('POST', '/api/v1/users'), ('PUT', '/api/v1/users/admin'),
          ('DELETE', '/api/v1/users/admin'), ('GET', '/api/v1/events'),
          ('GET', '/api/v1/settings'), ('PUT', '/api/v1/settings'),
          ('GET', '/api/v1/stats/calls-per-hour'), ('GET', '/api/v1/numbers')]


def test_web_auth_required(ctx):
    """Without credentials, with a made-up cookie or a made-up token, every
    API route answers 401 (JSON) and changes nothing."""
    e = env(ctx)
    fake_cookie = Api(e.d)
    fake_cookie.sid = 'ab' * 32
    fake_cookie.csrf = 'cd' * 32
    for api, what in ((Api(e.d), 'no credentials'), (fake_cookie, 'unknown session'),
                      (Api(e.d, token='hf_' + '0' * 64), 'unknown token'),
                      (Api(e.d, token='nonsense'), 'malformed token')):
        for method, path in ROUTES:
            body = {} if method in ('POST', 'PUT') else None
            r = api.req(method, path, body)
            expect_error(r, 401, None, '%s %s (%s)' % (method, path, what))
    r = e.admin.req('GET', '/api/v1/extensions/1001')
    expect(r, 200, 'extension 1001 still there')


def test_web_login_logout(ctx):
    """A wrong password is 401 (and an unknown user looks the same); the
    session cookie is HttpOnly, Secure, SameSite=Strict, Path=/ with 256
    random bits; logout needs the CSRF token and ends the session."""
    e = env(ctx)
    a = Api(e.d)
    j1 = expect_error(a.login('admin', e.pw + 'x'), 401, None, 'wrong password')
    j2 = expect_error(a.login('nobody', e.pw), 401, None, 'unknown user')
    check(j1 == j2, 'wrong password and unknown user answer differently: %r %r' % (j1, j2))
    expect_error(a.req('POST', '/api/v1/login', {'username': 'admin'}), 400, 'password', 'no password')
    r = expect(a.login('admin', e.pw), 200, 'login')
    cookie = r.header('set-cookie')
    attrs = [x.strip().lower() for x in cookie.split(';')]
    for want in ('httponly', 'secure', 'samesite=strict', 'path=/'):
        check(want in attrs, 'session cookie lacks %s: %r' % (want, cookie))
    check(len(a.sid) == 64, 'session id is not 256 bits: %r' % a.sid)
    s = expect(a.req('GET', '/api/v1/session'), 200, 'session').json()
    check(s['username'] == 'admin' and s['role'] == 'admin' and s['csrf_token'] == a.csrf,
          'session: %r' % s)
    expect_error(a.req('POST', '/api/v1/logout', csrf=False), 403, None, 'logout without CSRF')
    expect(a.req('POST', '/api/v1/logout'), 204, 'logout')
    expect(a.req('GET', '/api/v1/session'), 401, 'session after logout')


def test_web_change_password(ctx):
    """Any account changes its own password with the current one: a wrong
    current password is 403 naming the field, a short new one 400; after
    the change its sessions are over and only the new password works."""
    e = env(ctx)
    expect(e.admin.req('POST', '/api/v1/users', {'username': 'carol', 'password': 'carol-pw-1'}),
           201, 'create carol')
    c = Api(e.d)
    expect(c.login('carol', 'carol-pw-1'), 200, 'carol login')
    expect_error(c.req('POST', '/api/v1/password', {'current_password': 'nope-nope', 'new_password': 'carol-pw-2'}),
                 403, 'current_password', 'wrong current password')
    expect_error(c.req('POST', '/api/v1/password', {'current_password': 'carol-pw-1', 'new_password': 'short'}),
                 400, 'new_password', 'short new password')
    expect(c.req('POST', '/api/v1/password', {'current_password': 'carol-pw-1', 'new_password': 'carol-pw-2'}),
           204, 'change')
    expect(c.req('GET', '/api/v1/session'), 401, 'session after the change')
    expect(Api(e.d).login('carol', 'carol-pw-1'), 401, 'old password')
    expect(Api(e.d).login('carol', 'carol-pw-2'), 200, 'new password')
    expect(e.admin.req('DELETE', '/api/v1/users/carol'), 204, 'delete carol')


def test_web_login_rate_limit(ctx):
    """Five failed logins from one address within 5 minutes: the sixth
    attempt is 429 with Retry-After, even with the right password; other
    API use with a valid session goes on."""
    d = hf.Daemon()
    ctx.daemons.append(d)
    d.start()
    try:
        pw = admin_password(d)
        ok = Api(d)
        expect(ok.login('admin', pw), 200, 'first login')
        a = Api(d)
        got = [a.login('admin', 'wrong-%d' % i).status for i in range(5)]
        check(got == [401] * 5, 'five wrong passwords: %r' % got)
        r = a.login('admin', pw)
        expect_error(r, 429, None, 'sixth attempt (right password)')
        retry = r.header('retry-after')
        check(retry and retry.isdigit() and 200 <= int(retry) <= 300, 'Retry-After %r' % retry)
        expect(ok.req('GET', '/api/v1/session'), 200, 'existing session during the block')
    finally:
        d.stop_clean()


def test_web_csrf(ctx):
    """A browser session changing state needs X-CSRF-Token: missing or
    wrong is 403 and nothing happens; a bearer token needs none."""
    e = env(ctx)
    n = e.number()
    body = {'number': n}
    expect_error(e.admin.req('POST', '/api/v1/extensions', body, csrf=False), 403, None, 'no CSRF')
    expect_error(e.admin.req('POST', '/api/v1/extensions', body, csrf=False,
                             headers={'X-CSRF-Token': 'ef' * 32}), 403, None, 'wrong CSRF')
    expect(e.admin.req('GET', '/api/v1/extensions/' + n), 404, 'extension made without CSRF')
    tok = expect(e.admin.req('POST', '/api/v1/tokens', {'name': 'csrf test'}), 201, 'token').json()
    script = Api(e.d, token=tok['token'])
    expect(script.req('POST', '/api/v1/extensions', body), 201, 'bearer without CSRF')


def test_web_tokens(ctx):
    """A token is shown once, stored hashed, listed without its value,
    works as Bearer and stops working when revoked."""
    e = env(ctx)
    r = expect(e.admin.req('POST', '/api/v1/tokens', {'name': "ci'; DROP TABLE api_tokens;--"}),
               201, 'create token')
    t = r.json()
    check(re.fullmatch(r'hf_[0-9a-f]{64}', t['token']), 'token format %r' % t['token'])
    lst = expect(e.admin.req('GET', '/api/v1/tokens'), 200, 'list').json()['tokens']
    mine = [x for x in lst if x['id'] == t['id']]
    check(mine and mine[0]['name'] == "ci'; DROP TABLE api_tokens;--", 'token not listed: %r' % lst)
    check(t['token'] not in json.dumps(lst), 'the token itself is listed')
    rows = hf.db_query(e.d.data_dir, 'SELECT token_hash FROM api_tokens WHERE id = ?', (t['id'],))
    check(rows and rows[0]['token_hash'] != t['token'] and len(rows[0]['token_hash']) == 64,
          'token not stored as a hash: %r' % rows)
    s = Api(e.d, token=t['token'])
    j = expect(s.req('GET', '/api/v1/session'), 200, 'bearer').json()
    check(j['auth'] == 'token' and 'csrf_token' not in j, 'session by token: %r' % j)
    expect(e.admin.req('DELETE', '/api/v1/tokens/%d' % t['id']), 204, 'revoke')
    expect(s.req('GET', '/api/v1/session'), 401, 'revoked token')


# --- extensions ---------------------------------------------------------------------------

def test_web_extension_lifecycle(ctx):
    """Create (password generated and shown once) -> listed -> a phone
    registers with it and GET /registrations shows it live -> new password
    (old one refused) -> change -> delete (registration gone)."""
    e = env(ctx)
    x = e.ext(name='Front desk', max_calls=2)
    n, pw = x['number'], x.get('password')
    check(pw and len(pw) >= 16, 'no generated password in %r' % x)
    lst = expect(e.admin.req('GET', '/api/v1/extensions'), 200, 'list').json()['extensions']
    mine = [y for y in lst if y['number'] == n]
    check(mine and mine[0]['name'] == 'Front desk' and mine[0]['max_calls'] == 2, 'not listed: %r' % mine)
    check(pw not in json.dumps(lst), 'the password is listed')
    one = expect(e.admin.req('GET', '/api/v1/extensions/' + n), 200, 'get').json()
    check('password' not in one and pw not in json.dumps(one), 'GET shows the password: %r' % one)
    f = register(e.d, n, pw)
    check(f is not None and f.status == 200, 'REGISTER with the generated password: %r' % f)
    regs = expect(e.admin.req('GET', '/api/v1/registrations'), 200, 'registrations').json()['registrations']
    check([g for g in regs if g['extension'] == n and LOCAL in g['source']],
          'registration of %s not live: %r' % (n, regs))
    r = expect(e.admin.req('POST', '/api/v1/extensions/%s/password' % n), 200, 'new password').json()
    check(r['password'] != pw, 'same password again')
    f = register(e.d, n, pw)
    check(f is not None and f.status in (401, 403), 'old password still accepted: %r' % f)
    f = register(e.d, n, r['password'])
    check(f is not None and f.status == 200, 'new password refused: %r' % f)
    u = expect(e.admin.req('PUT', '/api/v1/extensions/' + n, {'name': 'Back office', 'enabled': True}),
               200, 'update').json()
    check(u['name'] == 'Back office' and u['max_calls'] == 2, 'update lost fields: %r' % u)
    check(u['codecs'] == '' and u['srtp'] == 'optional', 'media policy defaults: %r' % u)
    u = expect(e.admin.req('PATCH', '/api/v1/extensions/' + n, {'codecs': 'opus,PCMU', 'srtp': 'required'}),
               200, 'media policy').json()
    check(u['codecs'] == 'opus,PCMU' and u['srtp'] == 'required' and u['name'] == 'Back office',
          'media policy not stored: %r' % u)
    # the same database field the calls read (the CLI shows it)
    _, out, _ = hf.cli(e.d.data_dir, 'extension', 'show', n)
    check('opus,PCMU' in out and 'required' in out, '`hookflash extension show` after the web change:\n%s' % out)
    expect(e.admin.req('DELETE', '/api/v1/extensions/' + n), 204, 'delete')
    expect(e.admin.req('GET', '/api/v1/extensions/' + n), 404, 'get after delete')
    regs = expect(e.admin.req('GET', '/api/v1/registrations'), 200, 'registrations').json()['registrations']
    check(not [g for g in regs if g['extension'] == n], 'registration survived the delete: %r' % regs)
    r = expect(e.admin.req('POST', '/api/v1/extensions', {'number': '1001'}), 409, 'duplicate')
    check(r.json() == {'error': 'number 1001 is taken by extension 1001', 'field': 'number'},
          'duplicate: %r' % r.json())
    # the numbering plan follows: 1001 and *43 in it, the deleted one gone
    plan = expect(e.admin.req('GET', '/api/v1/numbers'), 200, 'numbers').json()['numbers']
    check({'number': '*43', 'dest': 'app:echo', 'what': 'feature code: echo test'} in plan
          and {'number': '1001', 'dest': 'ext:1001', 'what': 'extension 1001'} in plan
          and not [x for x in plan if x['number'] == n], 'numbering plan: %r' % plan)


def test_web_validation(ctx):
    """Bad input is 400 with a message naming the field; wrong type of
    body 415, too big 413, unknown route 404, wrong method 405."""
    e = env(ctx)
    a = e.admin
    post = lambda body: a.req('POST', '/api/v1/extensions', body)  # noqa: E731
    expect_error(a.req('POST', '/api/v1/extensions', raw=b'{"number": "3'), 400, None, 'bad JSON')
    expect_error(a.req('POST', '/api/v1/extensions', raw=b'[1,2]'), 400, None, 'JSON array')
    expect_error(a.req('POST', '/api/v1/extensions', raw=b'{"number":"3990","number":"3991"}'),
                 400, None, 'duplicate key')
    cases = [({'name': 'x'}, 'number'),
             ({'number': '12a'}, 'number'),
             ({'number': 12}, 'number'),
             ({'number': '3990', 'bogus': 1}, 'bogus'),
             ({'number': '3990', 'name': 5}, 'name'),
             ({'number': '3990', 'name': 'a\u0007b'}, 'name'),
             ({'number': '3990', 'name': 'n' * 200}, 'name'),
             ({'number': '3990', 'enabled': 'yes'}, 'enabled'),
             ({'number': '3990', 'vm_pin': '12ab'}, 'vm_pin'),
             ({'number': '3990', 'password': 'short'}, 'password'),
             ({'number': '3990', 'password': 'has space in it'}, 'password'),
             ({'number': '3990', 'contact': 'http://x'}, 'contact'),
             ({'number': '3990', 'trust': '10.0.0.1/0'}, 'trust'),
             ({'number': '3990', 'max_calls': 5000}, 'max_calls'),
             ({'number': '3990', 'max_calls': 1.5}, 'max_calls'),
             ({'number': '3990', 'codecs': 'G729'}, 'codecs'),
             ({'number': '3990', 'codecs': 'PCMU,,opus'}, 'codecs'),
             ({'number': '3990', 'srtp': 'maybe'}, 'srtp')]
    for body, field in cases:
        expect_error(post(body), 400, field, 'POST %r' % body)
    expect(a.req('GET', '/api/v1/extensions/3990'), 404, 'nothing stored by bad requests')
    expect_error(a.req('POST', '/api/v1/extensions', raw=b'number=3990', ctype='application/x-www-form-urlencoded'),
                 415, None, 'form body')
    expect_error(a.req('POST', '/api/v1/extensions', raw=b'{"name":"' + b'x' * 70000 + b'"}'),
                 413, None, 'body over 64 KiB')
    expect_error(a.req('PUT', '/api/v1/extensions/1001', {'number': '1002'}), 400, 'number', 'renumber')
    expect_error(a.req('GET', '/api/v1/cdrs?limit=0'), 400, 'limit', 'limit 0')
    expect_error(a.req('GET', '/api/v1/cdrs?from=yesterday'), 400, 'from', 'from')
    expect_error(a.req('GET', '/api/v1/cdrs?disposition=MAYBE'), 400, 'disposition', 'disposition')
    expect_error(a.req('GET', '/api/v1/cdrs?sort=id'), 400, 'sort', 'unknown parameter')
    expect_error(a.req('GET', '/api/v1/cdrs?format=xml'), 400, 'format', 'format')
    expect_error(a.req('DELETE', '/api/v1/calls/abc'), 400, 'id', 'call id')
    expect_error(a.req('POST', '/api/v1/users', {'username': 'u1', 'password': 'long-enough', 'role': 'root'}),
                 400, 'role', 'role')
    expect_error(a.req('GET', '/api/v1/nothing'), 404, None, 'unknown route')
    r = a.req('PATCH', '/api/v1/calls')
    expect_error(r, 405, None, 'wrong method')
    check('GET' in (r.header('allow') or ''), 'no Allow header: %r' % r.headers)
    expect_error(a.req('DELETE', '/api/v1/calls/4000000'), 404, None, 'no such call')


def test_web_sql_metacharacters(ctx):
    """Quotes, semicolons and comment markers in every free-text field go
    in and come out verbatim (and the SIP password with them works)."""
    e = env(ctx)
    pw = "x'OR'1'='1;--\"\\"
    contact = "sip:o'hara;--@192.0.2.7;x='1'"
    x = e.ext(name=SQLI, password=pw, contact=contact)
    n = x['number']
    check('password' not in x, 'a given password is echoed back: %r' % x)
    got = expect(e.admin.req('GET', '/api/v1/extensions/' + n), 200, 'get').json()
    check(got['name'] == SQLI and got['contact'] == contact, 'not verbatim: %r' % got)
    row = hf.db_query(e.d.data_dir, 'SELECT name, password, contact FROM extensions WHERE number = ?', (n,))
    check(row == [{'name': SQLI, 'password': pw, 'contact': contact}], 'stored: %r' % row)
    check('extensions' in hf.db_tables(e.d.data_dir), 'the extensions table is gone')
    expect(e.admin.req('PUT', '/api/v1/extensions/' + n, {'contact': ''}), 200, 'clear contact')
    f = register(e.d, n, pw)
    check(f is not None and f.status == 200, 'REGISTER with the quoted password: %r' % f)
    user = "o'neil\";--"
    r = e.admin.req('POST', '/api/v1/users', {'username': user, 'password': "p'w\";--x1", 'role': 'user',
                                              'extension': n})
    expect(r, 201, 'user with quotes')
    lst = expect(e.admin.req('GET', '/api/v1/users'), 200, 'users').json()['users']
    check([u for u in lst if u['username'] == user and u['extension'] == n], 'user not verbatim: %r' % lst)
    u = Api(e.d)
    expect(u.login(user, "p'w\";--x1"), 200, 'login with quotes')
    r = expect(e.admin.req('GET', "/api/v1/cdrs?number=1'%20OR%20'1'='1"), 200, 'CDR filter')
    check(r.json()['cdrs'] == [], 'the injected filter matched: %r' % r.json())
    expect(e.admin.req('DELETE', '/api/v1/users/' + user.replace('"', '%22').replace(';', '%3B')),
           204, 'delete the user')


# --- roles, CDRs ----------------------------------------------------------------------------

def test_web_roles_and_cdrs(ctx):
    """A user account owning extension A sees A's CDRs, extension and
    registrations only; another number is 403; admin routes are 403. The
    admin filters CDRs and exports CSV (RFC 4180, formulas neutralised)."""
    e = env(ctx)
    a = e.ext(name='Alice')['number']
    b = e.ext(name='Bob')['number']
    now = int(time.time() * 1000)
    base = {'answer_ms': 0, 'duration_s': 3, 'billsec': 0, 'hangup_status': 486, 'codec': 'PCMU/8000'}
    insert_cdrs(e.d, [
        dict(base, caller=a, callee=b, caller_name='=HYPERLINK("http://x","y")', callee_name='Bob, "B"',
             start_ms=now - 3000, end_ms=now, disposition='BUSY', hangup_cause='-1+2'),
        dict(base, caller=b, callee='1001', caller_name='Bob', callee_name='@SUM(A1)',
             start_ms=now - 2000, end_ms=now, disposition='ANSWERED', answer_ms=now - 1500, billsec=1,
             path='app:ivr > ext:1001'),
        dict(base, caller='1002', callee=a, caller_name='x', callee_name='Alice',
             start_ms=now - 1000, end_ms=now, disposition='NO ANSWER'),
    ])
    pw = 'alice-web-pw-1'
    expect(e.admin.req('POST', '/api/v1/users', {'username': 'alice', 'password': pw, 'extension': a}),
           201, 'create user alice')
    u = Api(e.d)
    s = expect(u.login('alice', pw), 200, 'alice login').json()
    check(s['role'] == 'user' and s['extension'] == a, 'alice session: %r' % s)
    cd = expect(u.req('GET', '/api/v1/cdrs'), 200, 'alice cdrs').json()['cdrs']
    check(len(cd) == 2 and all(a in (c['caller'], c['callee']) for c in cd), 'alice sees: %r' % cd)
    expect_error(u.req('GET', '/api/v1/cdrs?number=' + b), 403, 'number', "alice asks for bob's CDRs")
    expect(u.req('GET', '/api/v1/cdrs?number=' + a), 200, 'alice asks for her own')
    check(all(c['path'] == '' for c in cd), 'alice paths: %r' % cd)
    # any role reads the numbering plan
    plan = expect(u.req('GET', '/api/v1/numbers'), 200, 'alice numbers').json()['numbers']
    check(any(x['number'] == a and x['dest'] == 'ext:' + a for x in plan), 'alice sees the plan %r' % plan)
    ex = expect(u.req('GET', '/api/v1/extensions'), 200, 'alice extensions').json()['extensions']
    check([x['number'] for x in ex] == [a], 'alice sees extensions %r' % ex)
    expect(u.req('GET', '/api/v1/extensions/' + a), 200, 'own extension')
    expect(u.req('GET', '/api/v1/extensions/' + b), 403, "bob's extension")
    for method, path in (('POST', '/api/v1/extensions'), ('DELETE', '/api/v1/extensions/' + a),
                         ('GET', '/api/v1/status'), ('GET', '/metrics'), ('GET', '/api/v1/users'),
                         ('POST', '/api/v1/tokens'), ('DELETE', '/api/v1/calls/1')):
        expect(u.req(method, path, {} if method == 'POST' else None), 403, 'alice: %s %s' % (method, path))
    regs = expect(u.req('GET', '/api/v1/registrations'), 200, 'alice registrations').json()['registrations']
    check(all(g['extension'] == a for g in regs), 'alice sees registrations %r' % regs)
    # demoting/removing the account ends its session at once
    expect(e.admin.req('PUT', '/api/v1/users/alice', {'extension': None}), 200, 'unlink alice')
    expect(u.req('GET', '/api/v1/session'), 401, 'alice session after the change')

    # admin: filters and CSV
    q = '/api/v1/cdrs?number=%s&from=%d' % (b, now - 10000)
    cd = expect(e.admin.req('GET', q), 200, 'admin filter').json()['cdrs']
    check(len(cd) == 2 and cd[0]['start_ms'] > cd[1]['start_ms'], 'number filter / order: %r' % cd)
    cd = expect(e.admin.req('GET', q + '&disposition=no_answer'), 200, 'disposition').json()['cdrs']
    check(cd == [], 'disposition filter: %r' % cd)
    cd = expect(e.admin.req('GET', q + '&limit=1&offset=1'), 200, 'paging').json()
    check(len(cd['cdrs']) == 1 and cd['cdrs'][0]['caller'] == a, 'paging: %r' % cd)
    r = expect(e.admin.req('GET', q + '&format=csv'), 200, 'csv')
    check((r.header('content-type') or '').startswith('text/csv'), 'CSV type %r' % r.header('content-type'))
    text = r.body.decode('utf-8')
    check(text.endswith('\r\n') and '\r\n' in text, 'CSV lines do not end in CRLF')
    rows = list(csv.DictReader(io.StringIO(text, newline='')))
    check(len(rows) == 2, 'CSV rows: %r' % text)
    busy = [x for x in rows if x['disposition'] == 'BUSY'][0]
    check(busy['caller_name'] == '\'=HYPERLINK("http://x","y")', 'formula not neutralised: %r' % busy)
    check(busy['callee_name'] == 'Bob, "B"', 'quoting: %r' % busy)
    check(busy['hangup_cause'] == "'-1+2", 'formula in hangup_cause: %r' % busy)
    ans = [x for x in rows if x['disposition'] == 'ANSWERED'][0]
    check(ans['callee_name'] == "'@SUM(A1)" and ans['answer'].endswith('Z'), 'answered row: %r' % ans)
    check(ans['path'] == 'app:ivr > ext:1001' and busy['path'] == '', 'CSV path: %r' % rows)
    cd = expect(e.admin.req('GET', q), 200, 'admin filter').json()['cdrs']
    check(sorted(c['path'] for c in cd) == ['', 'app:ivr > ext:1001'], 'JSON path: %r' % cd)


# --- live state, documents ------------------------------------------------------------------

def test_web_live_call(ctx):
    """A call between two python phones shows up in GET /api/v1/calls;
    DELETE /api/v1/calls/{id} hangs it up (both phones get a BYE) and it
    is gone from the list; the answered call is counted in /metrics."""
    from callkit import TRUSTED_IP, Phone, RtpPeer, make_sdp, show
    e = env(ctx)
    caller = e.ext(name='Web caller', trust=TRUSTED_IP + '/32')['number']
    peers = []
    try:
        b = Phone(e.d.sip_port, 'callee', name='B')
        peers.append(b)
        callee = e.ext(name='Web callee', contact='sip:%s:%d' % (LOCAL, b.port))['number']
        a = Phone(e.d.sip_port, caller, ip=TRUSTED_IP, name='A')
        peers.append(a)
        ra, rb = RtpPeer(TRUSTED_IP), RtpPeer()
        peers += [ra, rb]
        oc = a.call(callee, make_sdp(ra.port, ip=TRUSTED_IP))
        inv = b.wait_request('INVITE', 5)
        check(inv is not None, 'B got no INVITE')
        bd = b.answer(inv, make_sdp(rb.port))
        f = oc.wait_final(5)
        check(f is not None and f.status == 200, 'A: want 200, got %s' % show(f))
        calls = expect(e.admin.req('GET', '/api/v1/calls'), 200, 'calls').json()['calls']
        mine = [c for c in calls if c['caller'] == caller and c['callee'] == callee]
        check(mine and mine[0]['state'] == 'answered', 'the call is not listed as answered: %r' % calls)
        expect(e.admin.req('DELETE', '/api/v1/calls/%d' % mine[0]['id']), 204, 'hang up')
        ba, bb = oc.dialog.wait_request('BYE', 3), bd.wait_request('BYE', 3)
        check(ba is not None and bb is not None, 'BYE after the hang-up: A %s, B %s'
              % (ba is not None, bb is not None))
        a.respond(ba, 200)
        b.respond(bb, 200)
        calls = expect(e.admin.req('GET', '/api/v1/calls'), 200, 'calls').json()['calls']
        check(not [c for c in calls if c['id'] == mine[0]['id']], 'still listed: %r' % calls)
        m = expect(e.admin.req('GET', '/metrics'), 200, 'metrics').body.decode()
        check(re.search(r'(?m)^hookflash_calls_total\{disposition="answered"\} [1-9]', m),
              'the answered call is not counted:\n%s' % m)
    finally:
        for p in peers:
            p.close()


def test_web_status_calls_bans(ctx):
    """/status has the version, uptime, counts and this process's CPU and
    RSS; calls and bans are lists from the live core."""
    e = env(ctx)
    s = expect(e.admin.req('GET', '/api/v1/status'), 200, 'status').json()
    for k in ('version', 'uptime_s', 'calls', 'registrations', 'extensions'):
        check(k in s, 'status lacks %s: %r' % (k, s))
    rss = e.d.rss_kb() * 1024
    check(s['process']['rss_bytes'] > 1024 * 1024 and abs(s['process']['rss_bytes'] - rss) < rss,
          'rss %r vs %d' % (s['process'], rss))
    check(s['process']['cpu_seconds'] > 0, 'cpu: %r' % s['process'])
    check(expect(e.admin.req('GET', '/api/v1/calls'), 200, 'calls').json() == {'calls': []}, 'calls')
    check('bans' in expect(e.admin.req('GET', '/api/v1/bans'), 200, 'bans').json(), 'bans')


def test_web_codecs(ctx):
    """GET /api/v1/codecs is the server's codec table (core/base/
    codec_names.c); the served OpenAPI document's codec enum, list limits
    and descriptions agree with it (openapi_gen.py reads the same table,
    so a codec added on one side alone fails here), and so do the
    settings' help; the API, the settings and the CLI refuse a bad codec
    list with the same message, naming the bad codec and the known ones."""
    e = env(ctx)
    t = expect(e.admin.req('GET', '/api/v1/codecs'), 200, 'codecs').json()
    names = [c['name'] for c in t['codecs']]
    check(names and all(isinstance(c['clock'], int) and isinstance(c['wideband'], bool)
                        and c['min_ptime'] <= c['max_ptime'] for c in t['codecs']), 'codecs: %r' % t)
    check(all(n in t['syntax'] for n in names) and t['max_codecs'] >= len(names), 'codecs: %r' % t)
    doc = expect(e.admin.req('GET', '/api/v1/openapi.json'), 200, 'openapi').json()
    sch = doc['components']['schemas']
    check(sch['CodecName']['enum'] == names, 'openapi codec enum %r, the server %r (run web/openapi_gen.py)'
          % (sch['CodecName']['enum'], names))
    lim = sch['Codecs']['properties']
    check(lim['max_codecs']['enum'] == [t['max_codecs']] and lim['max_length']['enum'] == [t['max_length']],
          'openapi codec limits %r, the server %r' % (lim, t))
    for schema in ('Extension', 'ExtensionInput'):
        prop = sch[schema]['properties']['codecs']
        check(prop['maxLength'] == t['max_length'] and ', '.join(names) in prop['description'],
              'openapi %s.codecs: %r' % (schema, prop))
    desc = sch['SettingsInput']['properties']['calls.codecs']['description']
    check(', '.join(names) in desc, 'openapi calls.codecs: %r' % desc)
    g = expect(e.admin.req('GET', '/api/v1/settings'), 200, 'settings').json()
    check(', '.join(names) in g['schema']['calls.codecs']['description'], 'settings help: %r' % g['schema']['calls.codecs'])

    bad = 'PCMU,G729'
    rule = "unknown codec 'G729' (known: %s)" % ', '.join(names)
    num = e.ext()['number']
    j = expect_error(e.admin.req('PATCH', '/api/v1/extensions/' + num, {'codecs': bad}), 400, 'codecs', 'bad codecs')
    check(j['error'] == 'codecs: ' + rule, 'API: %r' % j)
    j = expect_error(e.admin.req('PUT', '/api/v1/settings', {'calls.codecs': bad}), 400, 'calls.codecs',
                     'bad calls.codecs')
    check(j['error'].endswith(': ' + rule), 'settings: %r' % j)
    rc, out, err = hf.cli(e.d.data_dir, 'extension', 'set', num, '--codecs', bad, check_rc=False)
    check(rc != 0 and '--codecs: ' + rule in err, 'CLI rc %s: %s %s' % (rc, out, err))
    expect(e.admin.req('DELETE', '/api/v1/extensions/' + num), 204, 'delete')


# The control socket's status rows and where /api/v1/status (or, for the
# outcomes /status does not list, /metrics) carries the same figure.
STATUS_SAME = [
    ('started_at', ('status', 'started_at')),
    ('extensions', ('status', 'extensions')),
    ('registrations', ('status', 'registrations')),
    ('calls', ('status', 'calls')),
    ('calls_total', ('status', 'calls_total')),
    ('calls_answered', ('status', 'calls_answered')),
    ('calls_failed', ('metrics', 'hookflash_calls_total{disposition="failed"}')),
    ('calls_busy', ('metrics', 'hookflash_calls_total{disposition="busy"}')),
    ('calls_no_answer', ('metrics', 'hookflash_calls_total{disposition="no_answer"}')),
    ('calls_cancelled', ('metrics', 'hookflash_calls_total{disposition="cancelled"}')),
    ('bans', ('status', 'bans')),
    ('auth_failures', ('status', 'auth_failures')),
    ('reloads', ('status', 'reloads')),
    ('sip_rx', ('status', 'sip', 'received')),
    ('sip_tx', ('status', 'sip', 'sent')),
    ('sip_rx_bad', ('status', 'sip', 'invalid')),
    ('transactions', ('status', 'sip', 'transactions')),
    ('tcp_connections', ('status', 'sip', 'tcp_connections')),
    ('rtp_relayed', ('status', 'rtp', 'packets_relayed')),
    ('rtp_lost', ('status', 'rtp', 'packets_lost')),
]


def ctl_status(d):
    """`hookflash status` as {key: first word of the value}."""
    _, out, _ = hf.cli(d.data_dir, 'status')
    rows = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 2:
            rows[f[0]] = f[1]
    return rows


def test_web_status_matches_ctl(ctx):
    """`hookflash status` (the control socket) and /api/v1/status with
    /metrics render one snapshot of the loop: for the same daemon state
    every figure is the same (uptime: between two ctl reads around the
    web's)."""
    e = env(ctx)
    n = e.ext()
    check(register(e.d, n['number'], n['password']).status == 200, 'register')
    check(register(e.d, n['number'], 'wrong-' + n['password']).status in (401, 403), 'bad password')
    hf.cli(e.d.data_dir, 'reload')
    for attempt in range(5):
        # a transaction ending between the reads changes the state: the
        # figures are compared only when the ctl reads around the web's agree
        before = ctl_status(e.d)
        st = expect(e.admin.req('GET', '/api/v1/status'), 200, 'status').json()
        text = expect(e.admin.req('GET', '/metrics'), 200, 'metrics').body.decode()
        after = ctl_status(e.d)
        if {k: v for k, v in before.items() if k != 'uptime_s'} == \
           {k: v for k, v in after.items() if k != 'uptime_s'}:
            break
        time.sleep(1)
    else:
        check(False, 'daemon state kept changing between reads:\n%r\n%r' % (before, after))
    metrics = dict(line.rsplit(' ', 1) for line in text.splitlines() if not line.startswith('#'))
    want = set(k for k, _ in STATUS_SAME) | {'version', 'uptime_s'}
    check(want <= set(before), 'ctl status lacks %s:\n%r' % (sorted(want - set(before)), before))
    check(before['version'] == st['version'], 'version: ctl %s, web %s' % (before['version'], st['version']))
    check(int(before['uptime_s']) <= st['uptime_s'] <= int(after['uptime_s']),
          'uptime: web %s, ctl %s then %s' % (st['uptime_s'], before['uptime_s'], after['uptime_s']))
    for key, where in STATUS_SAME:
        if where[0] == 'metrics':
            got = metrics.get(where[1])
            got = None if got is None else int(float(got))
        else:
            got = st
            for k in where[1:]:
                got = got.get(k) if isinstance(got, dict) else None
        check(got is not None and int(before[key]) == got,
              '%s: ctl %s, web %s %r' % (key, before[key], where[0], got))
    for key in ('extensions', 'registrations', 'auth_failures', 'reloads', 'sip_rx', 'sip_tx'):
        check(int(before[key]) > 0, '%s is 0: the test compares nothing (%r)' % (key, before))


def test_web_openapi(ctx):
    """/api/v1/openapi.json is an OpenAPI 3 document listing every route."""
    e = env(ctx)
    doc = expect(e.admin.req('GET', '/api/v1/openapi.json'), 200, 'openapi').json()
    check(str(doc.get('openapi', '')).startswith('3.'), 'openapi version %r' % doc.get('openapi'))
    paths = doc.get('paths', {})
    for method, path in ROUTES + [('POST', '/api/v1/login'), ('PATCH', '/api/v1/users/admin'),
                                  ('DELETE', '/api/v1/bans/1.2.3.4')]:
        p = path.split('?')[0]
        p = re.sub(r'/extensions/1001', '/extensions/{number}', p)
        p = re.sub(r'/(calls|tokens)/1$', r'/\1/{id}', p)
        p = p.replace('/users/admin', '/users/{username}').replace('/bans/1.2.3.4', '/bans/{address}')
        check(p in paths and method.lower() in paths[p], 'openapi lacks %s %s' % (method, p))


METRIC = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*"'
                    r'(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")*\})? -?[0-9.eE+]+$')


def test_web_metrics(ctx):
    """/metrics is Prometheus text (every line a comment or a sample) with
    the documented metrics; a token can read it."""
    e = env(ctx)
    tok = expect(e.admin.req('POST', '/api/v1/tokens', {'name': 'prometheus'}), 201, 'token').json()
    r = expect(Api(e.d, token=tok['token']).req('GET', '/metrics'), 200, 'metrics by token')
    check((r.header('content-type') or '').startswith('text/plain'), 'type %r' % r.header('content-type'))
    text = r.body.decode()
    samples = {}
    for line in text.splitlines():
        if line.startswith('# HELP ') or line.startswith('# TYPE '):
            continue
        check(METRIC.match(line), 'not a Prometheus sample line: %r' % line)
        name, value = line.rsplit(' ', 1)
        samples[name] = float(value)
    for want in ('hookflash_rtp_packets_relayed_total', 'hookflash_rtp_packets_lost_total',
                 'hookflash_calls_active', 'hookflash_registrations', 'hookflash_auth_failures_total',
                 'hookflash_bans', 'hookflash_sip_messages_total{direction="in"}',
                 'hookflash_sip_messages_total{direction="out"}',
                 'hookflash_calls_total{disposition="answered"}'):
        check(want in samples, 'metric %s missing:\n%s' % (want, text))
    check(samples['hookflash_sip_messages_total{direction="in"}'] > 0, 'no SIP counted after REGISTERs')
    for name in ('hookflash_calls_active', 'hookflash_calls_total'):
        check('# TYPE %s ' % name in text, 'no TYPE for %s' % name)


# --- settings, calls per hour, live events ---------------------------------------------

def make_user(e, ext, name):
    pw = name + '-web-pw-1'
    expect(e.admin.req('POST', '/api/v1/users', {'username': name, 'password': pw, 'extension': ext}),
           201, 'create user ' + name)
    u = Api(e.d)
    expect(u.login(name, pw), 200, name + ' login')
    return u


def saved_settings(d):
    con = sqlite3.connect(d.db_path, timeout=10)
    try:
        return dict(con.execute("SELECT key, value FROM settings WHERE key LIKE 'conf.%'"))
    finally:
        con.close()


def test_web_settings(ctx):
    """GET/PUT /api/v1/settings: admin only (403 for a user); each bad
    value is a 400 naming its setting and saves nothing; a live setting
    (registrar.max_expires) is saved in the settings table and takes
    effect at once (the next REGISTER gets the new cap), a restart-only
    one (tcp.max_connections) is saved and reported as needing a restart."""
    e = env(ctx)
    g = expect(e.admin.req('GET', '/api/v1/settings'), 200, 'settings').json()
    st, sc = g['settings'], g['schema']
    check(st['registrar.max_expires'] == 7200 and sc['registrar.max_expires']['apply'] == 'live'
          and sc['registrar.max_expires']['type'] == 'integer', 'max_expires: %r' % sc['registrar.max_expires'])
    check(sc['sip.udp_port']['apply'] == 'restart' and 'general.data_dir' not in st, 'schema: %r' % sc)
    doc = expect(e.admin.req('GET', '/api/v1/openapi.json'), 200, 'openapi').json()
    props = doc['components']['schemas']['SettingsInput']['properties']
    check(sorted(props) == sorted(st), 'openapi_gen.py settings out of step with conf.c: %r vs %r'
          % (sorted(set(props) ^ set(st)), ''))
    for name, d in sc.items():
        check(props[name]['description'].endswith('live') == (d['apply'] == 'live'),
              'openapi says %s applies %r, the server %r' % (name, props[name]['description'], d['apply']))
    check(st['general.log_level'] in ('error', 'warn', 'info', 'debug') and st['sip.trace'] in (True, False),
          'settings: %r' % st)
    num = e.ext(name='Settings user')['number']
    u = make_user(e, num, 'setty')
    expect_error(u.req('GET', '/api/v1/settings'), 403, None, 'user GET settings')
    expect_error(u.req('PUT', '/api/v1/settings', {'registrar.max_expires': 100}), 403, None, 'user PUT')
    before = saved_settings(e.d)
    for body, field in (({'registrar.max_expires': 0}, 'registrar.max_expires'),
                        ({'registrar.max_expires': '100'}, 'registrar.max_expires'),
                        ({'registrar.max_expires': 100.5}, 'registrar.max_expires'),
                        ({'sip.trace': 'yes'}, 'sip.trace'),
                        ({'general.log_level': 'loud'}, 'general.log_level'),
                        ({'security.digest_algorithms': 'MD4'}, 'security.digest_algorithms'),
                        ({'rtp.ports': '20000-10000'}, 'rtp.ports'),
                        ({'sip.domain': 'a\nb'}, 'sip.domain'),
                        ({'no.such': 1}, 'no.such'),
                        ({'general.data_dir': '/tmp'}, 'general.data_dir'),
                        ({'registrar.max_expires': 300, 'registrar.min_expires': 600}, 'registrar.min_expires'),
                        ({'calls.max_calls': 10, 'tcp.idle_timeout': -1}, 'tcp.idle_timeout')):
        expect_error(e.admin.req('PUT', '/api/v1/settings', body), 400, field, 'PUT %r' % body)
    expect_error(e.admin.req('PUT', '/api/v1/settings', raw=b'[1]'), 400, None, 'not an object')
    check(saved_settings(e.d) == before, 'a refused PUT saved something: %r' % saved_settings(e.d))
    try:
        r = expect(e.admin.req('PUT', '/api/v1/settings',
                               {'registrar.max_expires': 120, 'tcp.max_connections': 900}), 200, 'PUT').json()
        check(r['applied'] == ['registrar.max_expires'] and r['restart_required'] == ['tcp.max_connections'],
              'PUT answer: %r' % {k: r[k] for k in ('saved', 'applied', 'restart_required')})
        check(r['settings']['registrar.max_expires'] == 120 and r['settings']['tcp.max_connections'] == 900
              and r['schema']['tcp.max_connections']['running'] == 1024
              and r['pending_restart'] == ['tcp.max_connections'], 'PUT settings: %r' % r)
        saved = saved_settings(e.d)
        check(saved.get('conf.registrar.max_expires') == '120' and saved.get('conf.tcp.max_connections') == '900',
              'settings table: %r' % saved)
        check(register(e.d, num, e.admin.req('POST', '/api/v1/extensions/%s/password' % num).json()['password'])
              .status == 200, 'REGISTER after the change')
        regs = expect(e.admin.req('GET', '/api/v1/registrations'), 200, 'regs').json()['registrations']
        mine = [x for x in regs if x['extension'] == num]
        check(mine and mine[0]['expires_in'] <= 120, 'asked 300 s, want at most 120 granted: %r' % mine)
    finally:
        r = expect(e.admin.req('PATCH', '/api/v1/settings',
                               {'registrar.max_expires': 7200, 'tcp.max_connections': 1024}), 200, 'restore').json()
        check(r['pending_restart'] == [], 'pending after restore: %r' % r['pending_restart'])


def test_web_calls_per_hour(ctx):
    """GET /api/v1/stats/calls-per-hour counts CDRs per hour for the last
    24 h (answered apart), the current hour last; a user counts only its
    own extension's calls; hours out of 1..168 is a 400."""
    e = env(ctx)
    a = e.ext(name='Chart A')['number']
    b = e.ext(name='Chart B')['number']
    h0 = expect(e.admin.req('GET', '/api/v1/stats/calls-per-hour'), 200, 'per hour').json()
    check(len(h0['hours']) == 24 and h0['to_ms'] - h0['from_ms'] == 24 * 3600000, 'window: %r' % h0)
    now = int(time.time() * 1000)
    base = {'answer_ms': 0, 'duration_s': 3, 'billsec': 0, 'hangup_status': 200, 'end_ms': now}
    insert_cdrs(e.d, [
        dict(base, caller=a, callee=b, start_ms=now - 1000, disposition='ANSWERED', answer_ms=now - 900),
        dict(base, caller=b, callee='1001', start_ms=now - 500, disposition='BUSY'),
        dict(base, caller=a, callee='1001', start_ms=now - 2 * 3600000, disposition='NO ANSWER'),
        dict(base, caller=a, callee='1001', start_ms=now - 30 * 3600000, disposition='ANSWERED'),
    ])
    h1 = expect(e.admin.req('GET', '/api/v1/stats/calls-per-hour'), 200, 'per hour').json()

    def bucket(doc, ms):
        return [x for x in doc['hours'] if x['start_ms'] <= ms < x['start_ms'] + 3600000]
    for ms, calls, answered in ((now, 2, 1), (now - 2 * 3600000, 1, 0)):
        b0, b1 = bucket(h0, ms), bucket(h1, ms)
        check(b0 and b1 and b1[0]['calls'] - b0[0]['calls'] == calls
              and b1[0]['answered'] - b0[0]['answered'] == answered, 'hour of %d: %r -> %r' % (ms, b0, b1))
    check(h1['total'] - h0['total'] == 3, 'total %d -> %d (the 30 h old call counts?)' % (h0['total'], h1['total']))
    check(h1['hours'][-1]['start_ms'] <= now < h1['to_ms'], 'the last bucket is not this hour: %r' % h1['hours'][-1])
    u = make_user(e, a, 'charty')
    hu = expect(u.req('GET', '/api/v1/stats/calls-per-hour'), 200, 'user per hour').json()
    check(hu['total'] == 2 and bucket(hu, now)[0] == {'start_ms': bucket(hu, now)[0]['start_ms'], 'calls': 1,
                                                      'answered': 1}, 'user sees: %r' % hu)
    w = expect(e.admin.req('GET', '/api/v1/stats/calls-per-hour?hours=168'), 200, 'a week').json()
    check(len(w['hours']) == 168 and w['total'] >= h1['total'] + 1, 'a week: total %d' % w['total'])
    for bad in ('0', '169', '-1', 'x', '1e2', ''):
        expect_error(e.admin.req('GET', '/api/v1/stats/calls-per-hour?hours=' + bad), 400, 'hours', 'hours=' + bad)


def test_web_settings_reload_and_restart(ctx):
    """Saved settings outlive a SIGHUP (which re-reads hookflash.conf:
    the saved value still wins) and a restart (a restart-only setting
    saved from the web is then in effect, and no longer pending)."""
    d = hf.Daemon()
    ctx.daemons.append(d)
    d.start()
    a = Api(d)
    expect(a.login('admin', admin_password(d)), 200, 'login')
    with open(os.path.join(d.data_dir, 'hookflash.conf'), 'w') as f:
        f.write('[registrar]\nmax_expires = 5000\n')
    expect(a.req('PUT', '/api/v1/settings', {'registrar.max_expires': 150, 'tcp.max_connections': 900}),
           200, 'PUT')
    os.kill(d.pid, signal.SIGHUP)
    check(hf.wait_for(lambda: 'SIGHUP' in d.log() and 'settings reloaded' in d.log().split('SIGHUP')[-1], 5),
          'no reload after SIGHUP:\n%s' % d.log_tail())
    g = expect(a.req('GET', '/api/v1/settings'), 200, 'GET after SIGHUP').json()
    check(g['settings']['registrar.max_expires'] == 150, 'after SIGHUP: %r' % g['settings']['registrar.max_expires'])
    check(g['pending_restart'] == ['tcp.max_connections'], 'pending: %r' % g['pending_restart'])
    d.stop_clean()
    d.start(new_ports=False)
    a = Api(d)
    expect(a.login('admin', admin_password(d)), 200, 'login after restart')
    g = expect(a.req('GET', '/api/v1/settings'), 200, 'GET after restart').json()
    check(g['settings']['registrar.max_expires'] == 150 and g['settings']['tcp.max_connections'] == 900
          and g['schema']['tcp.max_connections']['running'] == 900 and g['pending_restart'] == [],
          'after restart: %r' % {k: g['settings'][k] for k in ('registrar.max_expires', 'tcp.max_connections')})
    d.stop_clean()


class Events:
    """A reader of GET /api/v1/events on its own thread: events land in a
    queue as (name, data)."""

    def __init__(self, api):
        h = {'Accept': 'text/event-stream'}
        if api.sid:
            h['Cookie'] = '%s=%s' % (COOKIE, api.sid)
        if api.token:
            h['Authorization'] = 'Bearer ' + api.token
        self.c = http.client.HTTPSConnection(LOCAL, api.port, context=api.ctx, timeout=30)
        self.c.request('GET', '/api/v1/events', headers=h)
        self.r = self.c.getresponse()
        self.q = queue.Queue()
        self.ended = threading.Event()
        if self.r.status == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        name, data = None, []
        try:
            for raw in self.r:
                line = raw.decode('utf-8').rstrip('\r\n')
                if line == '':
                    if name:
                        self.q.put((name, json.loads('\n'.join(data))))
                    name, data = None, []
                elif line.startswith('event: '):
                    name = line[7:]
                elif line.startswith('data: '):
                    data.append(line[6:])
        except Exception:  # noqa: BLE001 - closed under the reader: the stream ended
            pass
        self.ended.set()

    def wait(self, pred, timeout, what):
        deadline = time.time() + timeout
        seen = []
        while time.time() < deadline:
            try:
                ev = self.q.get(timeout=max(0.05, deadline - time.time()))
            except queue.Empty:
                break
            seen.append(ev)
            if pred(*ev):
                return ev
        raise hf.Failure('%s: not within %.0f s; saw %r' % (what, timeout, seen[-6:]))

    def drain(self):
        out = []
        while True:
            try:
                out.append(self.q.get_nowait())
            except queue.Empty:
                return out

    def close(self):
        try:
            self.c.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass
        self.c.close()


def has_reg(ext):
    return lambda name, data: name == 'registrations' and any(
        g['extension'] == ext for g in data['registrations'])


def test_web_events(ctx):
    """GET /api/v1/events streams text/event-stream: the calls and
    registrations at once, then a "registrations" event when a phone
    registers (no polling by the client). A user's stream carries only
    its own extension; its logout ends the stream. A token works too."""
    e = env(ctx)
    mine = e.ext(name='SSE user')
    other = e.ext(name='SSE other')
    u = make_user(e, mine['number'], 'ssey')
    adm = Events(e.admin)
    usr = Events(u)
    tok = expect(e.admin.req('POST', '/api/v1/tokens', {'name': 'sse'}), 201, 'token').json()['token']
    bytok = Events(Api(e.d, token=tok))
    try:
        for ev, who in ((adm, 'admin'), (usr, 'user'), (bytok, 'token')):
            check(ev.r.status == 200 and ev.r.getheader('content-type', '').startswith('text/event-stream'),
                  '%s stream: %d %s' % (who, ev.r.status, ev.r.getheader('content-type')))
            check(ev.r.getheader('cache-control') == 'no-store', 'cache-control %r' % ev.r.getheader('cache-control'))
            ev.wait(lambda n, d: n == 'calls' and 'calls' in d, 5, '%s: first calls event' % who)
            ev.wait(lambda n, d: n == 'registrations', 5, '%s: first registrations event' % who)
        check(register(e.d, other['number'], other['password']).status == 200, 'register other')
        adm.wait(has_reg(other['number']), 5, 'admin sees the other extension register')
        bytok.wait(has_reg(other['number']), 5, 'token stream sees it')
        check(register(e.d, mine['number'], mine['password']).status == 200, 'register mine')
        _, d = usr.wait(has_reg(mine['number']), 5, 'user sees its own extension register')
        check(all(g['extension'] == mine['number'] for g in d['registrations']), 'user sees others: %r' % d)
        leaked = [ev for ev in usr.drain() if ev[0] == 'registrations' and any(
            g['extension'] != mine['number'] for g in ev[1]['registrations'])]
        check(not leaked, 'the user stream carried other extensions: %r' % leaked)
        expect(u.req('POST', '/api/v1/logout'), 204, 'user logout')
        check(usr.ended.wait(5), 'the user stream did not end at logout')
    finally:
        for ev in (adm, usr, bytok):
            ev.close()


def test_web_events_limit(ctx):
    """At most 4 event streams per account (429 past it); a closed one
    frees its place; unauthenticated is 401 (web_limits.py: the totals)."""
    e = env(ctx)
    expect_error(Api(e.d).req('GET', '/api/v1/events'), 401, None, 'no credentials')
    streams = []
    try:
        ok, last = [], None
        deadline = time.time() + 5  # streams of the tests before may still be going away
        while len(ok) < 5 and time.time() < deadline:
            ev = Events(e.admin)
            streams.append(ev)
            if ev.r.status == 200:
                ok.append(ev)
                continue
            last = ev.r.status
            ev.close()
            if len(ok) == 4:
                break
            time.sleep(0.3)
        check(len(ok) == 4 and last == 429, '%d streams open, then %s' % (len(ok), last))
        ok[0].close()
        deadline = time.time() + 5  # noticed within a tick
        while time.time() < deadline:
            ev = Events(e.admin)
            streams.append(ev)
            if ev.r.status == 200:
                break
            ev.close()
            time.sleep(0.3)
        check(streams[-1].r.status == 200, 'no place freed after closing one: %d' % streams[-1].r.status)
    finally:
        for s in streams:
            s.close()


def test_web_daemon_clean_exit(ctx):
    """The web daemon ends on SIGTERM with status 0 and no sanitizer report
    (sessions, jobs and MHD threads all freed)."""
    e = env(ctx)
    e.d.stop_clean()
    ctx.web_env = None


TESTS = [
    test_web_http_redirects,
    test_web_security_headers,
    test_web_auth_required,
    test_web_login_logout,
    test_web_change_password,
    test_web_login_rate_limit,
    test_web_csrf,
    test_web_tokens,
    test_web_extension_lifecycle,
    test_web_validation,
    test_web_sql_metacharacters,
    test_web_roles_and_cdrs,
    test_web_live_call,
    test_web_status_calls_bans,
    test_web_codecs,


    test_web_status_matches_ctl,
    test_web_openapi,
    test_web_metrics,
    test_web_settings,
    test_web_settings_reload_and_restart,
    test_web_calls_per_hour,
    test_web_events,
    test_web_events_limit,
    test_web_daemon_clean_exit,
]


if __name__ == '__main__':
    import run  # noqa: E402  (run.py's runner, with these tests)
    run.TESTS = TESTS
    sys.exit(run.guarded())
