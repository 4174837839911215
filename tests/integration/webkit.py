"""
What the web tests (web.py) share: the HTTPS API client (Api, Resp), the
daemon they share (WebEnv, env), checks of answers (expect,
expect_error), the admin password of a first start, a SIP REGISTER, and
CDR rows written straight into the database.
"""
import http.client
import json
import os
import re
import sqlite3
import ssl
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hf  # noqa: E402
from hf import check, LOCAL  # noqa: E402
from sipclient import Client  # noqa: E402

COOKIE = '__Host-hfsid'


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def all_headers(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        try:
            return json.loads(self.body.decode('utf-8'))
        except ValueError:
            raise hf.Failure('not JSON (status %d): %r' % (self.status, self.body[:300]))

    def __repr__(self):
        return '<%d %s>' % (self.status, self.body[:300])


class Api:
    """A client of the web API: a browser session (cookie + CSRF token) or
    a script (bearer token), or nothing."""

    def __init__(self, d, token=None, src=None):
        self.port = d.https_port
        self.src = src  # another loopback address to connect from
        self.ctx = ssl._create_unverified_context()
        self.sid = None
        self.csrf = None
        self.token = token

    def req(self, method, path, body=None, raw=None, headers=None, csrf=True,
            ctype='application/json'):
        h = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
        if raw is not None:
            data = raw
        if data is not None and ctype:
            h['Content-Type'] = ctype
        if self.sid:
            h['Cookie'] = '%s=%s' % (COOKIE, self.sid)
        if self.csrf and csrf and method not in ('GET', 'HEAD'):
            h['X-CSRF-Token'] = self.csrf
        if self.token:
            h['Authorization'] = 'Bearer ' + self.token
        h.update(headers or {})
        c = http.client.HTTPSConnection(LOCAL, self.port, context=self.ctx, timeout=15,
                                        source_address=(self.src, 0) if self.src else None)
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            return Resp(r.status, r.getheaders(), r.read())
        finally:
            c.close()

    def login(self, user, password):
        r = self.req('POST', '/api/v1/login', {'username': user, 'password': password})
        if r.status == 200:
            m = re.search(r'%s=([0-9a-f]+)' % COOKIE, r.header('set-cookie') or '')
            check(m, 'login: no session cookie: %r' % r.headers)
            self.sid = m.group(1)
            self.csrf = r.json()['csrf_token']
        return r


def expect(r, status, what):
    check(r.status == status, '%s: got %d, want %d: %r' % (what, r.status, status, r.body[:500]))
    return r


def expect_error(r, status, field, what):
    expect(r, status, what)
    j = r.json()
    check(isinstance(j.get('error'), str) and j['error'],
          '%s: no error message: %r' % (what, j))
    if field is not None:
        check(j.get('field') == field, '%s: field %r, want %r (%r)' % (what, j.get('field'), field, j))
    return j


def initial_admin_password(d):
    """The admin password the first start generated and printed."""
    path = os.path.join(d.data_dir, 'initial-credentials.txt')
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[0] == 'web' and parts[1] == 'admin':
                return parts[2]
    raise hf.Failure('no admin password in %s' % path)


def changed_admin_password(first):
    return first + '-mine'


def admin_password(d):
    """The admin's password as the admin would have it. The generated one
    must be replaced at the first login (the server refuses everything
    else until then), so the first call for a data directory does that
    change through the API, as the UI's forced form does, and every web
    test logs in with the result. The one place tests get past the forced
    change; test_web_first_login_forces_change checks the gate itself."""
    pw = getattr(d, 'admin_pw', None)
    if pw:
        return pw
    first = initial_admin_password(d)
    new = changed_admin_password(first)
    a = Api(d)
    r = a.login('admin', first)
    if r.status == 401:  # changed already (another Daemon on this data directory)
        d.admin_pw = new
        return new
    expect(r, 200, 'first admin login')
    if r.json().get('must_change_password'):
        expect(a.req('POST', '/api/v1/password', {'current_password': first, 'new_password': new}),
               204, 'the forced password change')
        d.admin_pw = new
    else:
        d.admin_pw = first
    return d.admin_pw


class WebEnv:
    def __init__(self, ctx):
        self.d = hf.Daemon(extra=['--auth-fail-limit', '200'])
        ctx.daemons.append(self.d)
        self.d.start()
        self.pw = admin_password(self.d)
        self.admin = Api(self.d)
        expect(self.admin.login('admin', self.pw), 200, 'admin login')
        self.next_ext = 3001

    def number(self):
        n = str(self.next_ext)
        self.next_ext += 1
        return n

    def ext(self, **fields):
        body = {'number': self.number(), 'name': 'Web test'}
        body.update(fields)
        r = expect(self.admin.req('POST', '/api/v1/extensions', body), 201, 'create extension')
        return r.json()


def env(ctx):
    e = getattr(ctx, 'web_env', None)
    if e is None or e.d.proc is None or not e.d.alive():
        e = ctx.web_env = WebEnv(ctx)
    return e


def register(d, number, password):
    c = Client(d.sip_port)
    try:
        return c.register(number, password, expires=300)['final']
    finally:
        c.close()


def insert_cdrs(d, rows):
    """Writes CDR rows straight into the database (the daemon only writes
    them at the end of real calls)."""
    con = sqlite3.connect(d.db_path, timeout=10)
    try:
        for r in rows:
            cols = list(r)
            con.execute('INSERT INTO cdr (%s) VALUES (%s)' % (
                ','.join(cols), ','.join('?' * len(cols))), [r[c] for c in cols])
        con.commit()
    finally:
        con.close()
