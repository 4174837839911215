#!/usr/bin/env python3
"""
Backup and restore, the status page's figures and the daemon's log over
the web API, against the real hookflashd (ASan+UBSan build):

- a backup taken through the API and through the CLI while a SIPp call
  runs (the call goes on unharmed), each restored onto a fresh data
  directory where a new daemon shows the same extensions and CDRs, serves
  the same certificate and takes the old admin password;
- damaged, traversal, link and not-ours archives are refused with a clear
  message and leave the data directory as it was; a restore onto a
  running daemon's directory is refused; the web stages a good upload and
  refuses a bad one;
- a scheduled backup every 2 s with keep 2 keeps two files;
- GET /api/v1/logs with a level filter, the live /api/v1/logs/stream, and
  /api/v1/status's threads, CPU, disk, failed registrations and calls.

Run with the other integration tests (run.py includes TESTS) or alone:

    python3 tests/integration/backup.py [-v] [-k SUBSTRING]
"""
import hashlib
import http.client
import io
import json
import os
import re
import ssl
import sys
import tarfile
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hf  # noqa: E402
import calls  # noqa: E402
from hf import check, LOCAL  # noqa: E402
from sipclient import Client, rand_hex  # noqa: E402
from webkit import Api, admin_password, expect  # noqa: E402


def web_env(ctx):
    """The call tests' daemon (calls.env) with an admin session."""
    e = calls.env(ctx)
    if getattr(e, 'api', None) is None or e.api_daemon_run != e.d.runs:
        e.admin_pw = admin_password(e.d)
        e.api = Api(e.d)
        expect(e.api.login('admin', e.admin_pw), 200, 'admin login')
        e.api_daemon_run = e.d.runs
    return e


def busy_call(e):
    """A call the callee answers 486; returns once its CDR is written."""
    callee, uas = calls.callee_sipp(e, 'call_uas_busy.xml')
    uac = calls.caller_sipp(e, 'call_uac_fail.xml', callee, 'bkbusy')
    calls.run_pair(uac, uas)
    calls.wait_cdr(e.d, like=uac.like)


def ext_set(api):
    r = expect(api.req('GET', '/api/v1/extensions'), 200, 'extension list')
    j = r.json()
    items = j['extensions'] if isinstance(j, dict) else j
    return sorted((x['number'], x.get('name')) for x in items)


def cdr_set(api):
    r = expect(api.req('GET', '/api/v1/cdrs?limit=1000'), 200, 'CDR list')
    j = r.json()
    items = j['cdrs'] if isinstance(j, dict) else j
    return sorted((x['id'], x.get('call_id'), x.get('disposition')) for x in items)


def tar_names(path):
    with tarfile.open(path) as t:
        return sorted(t.getnames())


def served_cert(port):
    return ssl.get_server_certificate((LOCAL, port))


def fresh_dir():
    d = tempfile.mkdtemp(prefix='hf-restore-')
    hf.TEMP_DIRS.append(d)
    return d


def restored_daemon(ctx, archive):
    """A fresh data directory with archive restored by the CLI, and a
    daemon started on it."""
    dd = os.path.join(fresh_dir(), 'data')
    os.makedirs(dd)
    rc, out, err = hf.cli(dd, 'restore', archive)
    check('restored' in out and 'pre-restore-' in out, 'restore said: %r %r' % (out, err))
    d = hf.Daemon(data_dir=dd)
    ctx.daemons.append(d)
    d.start()
    return d


def test_backup_while_calls_run_and_restore(ctx):
    """With a SIPp call answered and running, GET /api/v1/backup and
    `hookflash backup` each write an archive (the call completes normally);
    each restores onto a fresh data directory whose daemon lists the same
    extensions and CDRs, serves the same certificate, and takes the old
    admin password."""
    e = web_env(ctx)
    busy_call(e)  # so the backup holds a CDR of each kind
    callee, uas = calls.callee_sipp(e, 'call_uas.xml', rtp_echo=True)
    uac = calls.caller_sipp(e, 'call_uac.xml', callee, 'bklong', duration_ms=6000)
    uas.start().ready(0.1)
    uac.start()
    try:
        calls.wait_listed(e, callee, 'answered', timeout=8)
        exts, cdrs = ext_set(e.api), cdr_set(e.api)
        check(len(cdrs) >= 1, 'no CDR before the backup')
        t0 = time.time()
        r = e.api.req('GET', '/api/v1/backup')
        api_s = time.time() - t0
        expect(r, 200, 'GET /api/v1/backup')
        check(r.header('content-type') == 'application/x-tar', 'type %r' % r.header('content-type'))
        check(re.search(r'attachment; filename="hookflash-backup-\d{8}-\d{6}\.tar"',
                        r.header('content-disposition') or ''),
              'Content-Disposition %r' % r.header('content-disposition'))
        api_file = os.path.join(fresh_dir(), 'api.tar')
        with open(api_file, 'wb') as f:
            f.write(r.body)
        cli_file = os.path.join(fresh_dir(), 'cli.tar')
        t0 = time.time()
        rc, out, _ = hf.cli(e.d.data_dir, 'backup', '--output', cli_file)
        cli_s = time.time() - t0
        check('backup written to %s' % cli_file in out, 'backup said %r' % out)
        # the call was not disturbed: still answered, then ends normally
        calls.wait_listed(e, callee, 'answered', timeout=3)
        uac.wait()
        uas.wait(timeout=15)
    finally:
        uac.stop()
        uas.stop()
    calls.sipp_ok(uac, 'caller during the backups')
    calls.sipp_ok(uas, 'callee during the backups')
    if '-v' in sys.argv:
        print('backups while a call ran: API %.2fs (%d bytes), CLI %.2fs' % (api_s, len(r.body), cli_s))
    want = ['MANIFEST', 'hookflash.db', 'web/cert.pem', 'web/key.pem']
    for path in (api_file, cli_file):
        names = tar_names(path)
        check(all(n in names for n in want), '%s holds %r, want %r' % (path, names, want))
    with open(os.path.join(e.d.data_dir, 'web', 'cert.pem'), 'rb') as f:
        cert = f.read()
    for path in (api_file, cli_file):
        d = restored_daemon(ctx, path)
        try:
            api = Api(d)
            expect(api.login('admin', e.admin_pw), 200, 'the old admin password on the restored daemon')
            got_exts, got_cdrs = ext_set(api), cdr_set(api)
            check(got_exts == exts, 'extensions differ after restore of %s:\n%r\n%r' % (path, got_exts, exts))
            check(got_cdrs == cdrs, 'CDRs differ after restore of %s:\n%r\n%r' % (path, got_cdrs, cdrs))
            with open(os.path.join(d.data_dir, 'web', 'cert.pem'), 'rb') as f:
                check(f.read() == cert, 'the restored certificate file differs')
            check(ssl.DER_cert_to_PEM_cert(ssl.PEM_cert_to_DER_cert(served_cert(d.https_port))) ==
                  ssl.DER_cert_to_PEM_cert(ssl.PEM_cert_to_DER_cert(served_cert(e.d.https_port))),
                  'the restored daemon serves another certificate')
        finally:
            d.stop_clean()


# --- refusals -------------------------------------------------------------------------

def make_tar(path, members):
    """members: (name, bytes) or (name, 'symlink', target)."""
    with tarfile.open(path, 'w', format=tarfile.USTAR_FORMAT) as t:
        for m in members:
            ti = tarfile.TarInfo(m[0])
            if len(m) == 3:
                ti.type = tarfile.SYMTYPE
                ti.linkname = m[2]
                t.addfile(ti)
            else:
                ti.size = len(m[1])
                t.addfile(ti, io.BytesIO(m[1]))


def manifest(files):
    lines = ['hookflash-backup 1', 'created 2026-01-01T00:00:00Z', 'voicemail no', 'prompts no']
    for name, data in files:
        lines.append('file %s %d %s' % (name, len(data), hashlib.sha256(data).hexdigest()))
    return ('\n'.join(lines) + '\n').encode()


def dir_state(dd):
    out = {}
    for root, dirs, files in os.walk(dd):
        for f in files:
            p = os.path.join(root, f)
            if f.endswith(('-wal', '-shm')) or f == 'hookflash.ctl':
                continue
            with open(p, 'rb') as fh:
                out[os.path.relpath(p, dd)] = hashlib.sha256(fh.read()).hexdigest()
    return out


def test_restore_refuses_bad_archives(ctx):
    """Each bad archive is refused by `hookflash restore` with a message
    naming the fault, and the data directory is left exactly as it was:
    a flipped byte (does not match its MANIFEST), ../ and absolute names,
    a symbolic link, no MANIFEST, a database that fails integrity_check
    (with a matching MANIFEST), a cut-short file. A restore onto the
    directory of a running daemon is refused too."""
    e = web_env(ctx)
    good = os.path.join(fresh_dir(), 'good.tar')
    hf.cli(e.d.data_dir, 'backup', '--output', good)
    # the running daemon's directory
    rc, out, err = hf.cli(e.d.data_dir, 'restore', good, check_rc=False)
    check(rc == 1 and 'hookflashd is running' in err and 'stop it first' in err,
          'restore onto a running daemon: exit %d %r' % (rc, err))
    # a stopped data directory with data in it
    dd = os.path.join(fresh_dir(), 'data')
    os.makedirs(dd)
    hf.cli(dd, 'restore', good)
    for p in os.listdir(dd):
        if p.startswith('pre-restore-'):
            os.rename(os.path.join(dd, p), os.path.join(dd, 'x-' + p))
    before = dir_state(dd)
    with tarfile.open(good) as t:
        db = t.extractfile('hookflash.db').read()
    work = fresh_dir()
    cases = []
    # 1. one byte of the database flipped inside a real backup
    raw = bytearray(open(good, 'rb').read())
    i = raw.find(b'SQLite format 3\0')
    check(i > 0, 'no database in the backup')
    raw[i + 5000] ^= 0xFF
    p = os.path.join(work, 'flipped.tar')
    open(p, 'wb').write(raw)
    cases.append((p, 'does not match its MANIFEST'))
    # 2-4. names that leave the directory, and a link
    for tag, members, want in (
            ('dotdot', [('../escaped', b'x')], "not a name a Hookflash backup has"),
            ('abs', [('/tmp/hf-escaped-%s' % rand_hex(4), b'x')], "not a name a Hookflash backup has"),
            ('vmdotdot', [('voicemail/../../escaped', b'x')], "not a name a Hookflash backup has"),
            ('link', [('hookflash.db', 'symlink', '/etc/passwd')], 'not a plain file'),
            ('nomanifest', [('hookflash.db', db)], 'has no MANIFEST')):
        p = os.path.join(work, tag + '.tar')
        make_tar(p, members)
        cases.append((p, want))
    # 5. a database that fails integrity_check, its MANIFEST matching
    bad = bytearray(db)
    psize = int.from_bytes(bad[16:18], 'big') or 65536
    for k in range(psize, min(len(bad), 3 * psize)):
        if (k - psize) % 7 == 0:
            bad[k] = 0x5A
    bad = bytes(bad)
    p = os.path.join(work, 'corruptdb.tar')
    make_tar(p, [('hookflash.db', bad), ('MANIFEST', manifest([('hookflash.db', bad)]))])
    cases.append((p, 'integrity_check'))
    # 6. cut short
    p = os.path.join(work, 'short.tar')
    open(p, 'wb').write(bytes(raw[:len(raw) // 2]))
    cases.append((p, 'ends early'))
    for path, want in cases:
        rc, out, err = hf.cli(dd, 'restore', path, check_rc=False)
        check(rc == 1 and want in err, '%s: exit %d, stderr %r (want %r)' % (os.path.basename(path), rc, err, want))
        check(dir_state(dd) == before, '%s changed the data directory' % os.path.basename(path))
        check(not os.path.exists(os.path.join(os.path.dirname(dd), 'escaped')),
              '%s wrote outside the data directory' % os.path.basename(path))
    check(not [p for p in os.listdir(dd) if p.startswith('.')],
          'leftovers in the data directory: %r' % os.listdir(dd))
    # the web: a bad upload refused with why, a good one staged with how
    r = e.api.req('POST', '/api/v1/restore', raw=open(os.path.join(work, 'dotdot.tar'), 'rb').read(),
                  ctype='application/x-tar')
    check(r.status == 400 and "not a name a Hookflash backup has" in r.json().get('error', ''),
          'bad upload: %r' % r)
    check(not os.path.exists(os.path.join(e.d.data_dir, 'restore-staged.tar')), 'a bad upload was staged')
    r = e.api.req('POST', '/api/v1/restore', raw=open(good, 'rb').read(), ctype='application/x-tar')
    check(r.status == 202, 'good upload: %r' % r)
    j = r.json()
    staged = os.path.join(e.d.data_dir, 'restore-staged.tar')
    check(j.get('staged') == staged and os.path.exists(staged), 'not staged: %r' % j)
    check('restore' in j.get('command', '') and 'stop' in j.get('how', ''), 'no how: %r' % j)
    lst = expect(e.api.req('GET', '/api/v1/backups'), 200, 'GET /api/v1/backups').json()
    check(lst.get('restore', {}).get('staged') == staged, 'the staged restore is not listed: %r' % lst)
    os.unlink(staged)


def test_scheduled_backup_keeps_n(ctx):
    """[backup] schedule 2s, keep 2: backups keep coming (at least three
    distinct files seen) and never more than two stay."""
    bdir = os.path.join(fresh_dir(), 'backups')
    d = hf.Daemon(extra=['--backup-schedule', '2s', '--backup-keep', '2', '--backup-dir', bdir])
    ctx.daemons.append(d)
    d.start()
    seen, most = set(), 0
    try:
        def probe():
            nonlocal most
            names = [n for n in os.listdir(bdir) if n.endswith('.tar')] if os.path.isdir(bdir) else []
            most = max(most, len(names))
            seen.update(names)
            return len(seen) >= 3 and len(names) == 2
        hf.wait_until(probe, 20, lambda: 'scheduled backups: seen %r, now %r\n%s'
                      % (sorted(seen), os.listdir(bdir) if os.path.isdir(bdir) else None, d.log_tail()))
        check(most <= 2, 'more than two backups were kept at once (%d)' % most)
        check('scheduled backup written to' in d.log(), 'no log line for the scheduled backup')
        newest = sorted(n for n in os.listdir(bdir) if n.endswith('.tar'))[-1]
        check('hookflash.db' in tar_names(os.path.join(bdir, newest)), 'the scheduled backup has no database')
    finally:
        d.stop_clean()


# --- status and logs ---------------------------------------------------------------------

def sse_open(api, path):
    c = http.client.HTTPSConnection(LOCAL, api.port, context=api.ctx, timeout=1)
    c.request('GET', path, headers={'Cookie': '__Host-hfsid=%s' % api.sid})
    r = c.getresponse()
    return c, r


def sse_events(r, until, timeout):
    """Reads events until until(name, data) is true; returns them."""
    got, name, deadline = [], None, time.time() + timeout
    while time.time() < deadline:
        try:
            line = r.readline()
        except (TimeoutError, OSError):
            continue
        if not line:
            break
        line = line.decode().rstrip('\n')
        if line.startswith('event: '):
            name = line[7:]
        elif line.startswith('data: '):
            data = json.loads(line[6:])
            got.append((name, data))
            if until(name, data):
                return got
    raise hf.Failure('no such event within %.0fs; got %r' % (timeout, got[-5:]))


def test_logs_and_status(ctx):
    """A wrong-password REGISTER shows up live on /api/v1/logs/stream
    (level info), in GET /api/v1/logs and in the status page's failed
    registrations; level=info hides the debug lines level=debug shows;
    /api/v1/status names the threads, the CPU over the interval, the
    disk, and the busy call among the failed calls."""
    e = web_env(ctx)
    busy_call(e)
    r = expect(e.api.req('GET', '/api/v1/logs?level=debug&limit=2000'), 200, 'logs level=debug')
    lines = r.json()['lines']
    check(any(x['level'] == 'debug' for x in lines), 'no debug lines at level=debug')
    check(all(set(x) >= {'seq', 'time', 'level', 'tag', 'text'} for x in lines), 'line fields: %r' % lines[:2])
    r = expect(e.api.req('GET', '/api/v1/logs?level=info&limit=2000'), 200, 'logs level=info')
    check(r.json()['lines'] and not any(x['level'] == 'debug' for x in r.json()['lines']),
          'level=info shows debug lines (or nothing)')
    expect(e.api.req('GET', '/api/v1/logs?level=loud'), 400, 'a bad level')
    check(Api(e.d).req('GET', '/api/v1/logs').status == 401, 'logs without login')
    conn, resp = sse_open(e.api, '/api/v1/logs/stream?level=info')
    try:
        check(resp.status == 200 and 'text/event-stream' in resp.getheader('content-type'),
              'stream: %d %s' % (resp.status, resp.getheader('content-type')))
        user = 'bk%s' % rand_hex(4)
        c = Client(e.d.sip_port)
        try:
            c.register(user, 'wrong-password', expires=60)
        finally:
            c.close()
        got = sse_events(resp, lambda n, d: n == 'log' and any(
            user in x['text'] and 'authentication failed' in x['text'] for x in d['lines']), 10)
        for n, d in got:
            check(all(x['level'] != 'debug' for x in d['lines']), 'debug line on a level=info stream')
    finally:
        conn.close()
    s = expect(e.api.req('GET', '/api/v1/status'), 200, 'status').json()
    roles = {t['role'] for t in s['threads']}
    for want in ('signalling loop', 'store (database writer)', 'media worker', 'scheduled backup'):
        check(want in roles, 'status threads lack %r: %r' % (want, sorted(roles)))
    check(s['disk']['free_bytes'] > 0 and s['disk']['total_bytes'] >= s['disk']['free_bytes'], 'disk %r' % s['disk'])
    check(s['process']['rss_bytes'] > 0 and 'cpu_percent' in s['process'], 'process %r' % s['process'])
    check(any(user in x['text'] for x in s['failed_registrations']),
          'failed registrations lack %s: %r' % (user, s['failed_registrations'][:3]))
    check(any(x['disposition'] == 'BUSY' for x in s['failed_calls']), 'no BUSY call among %r' % s['failed_calls'][:3])
    s2 = expect(e.api.req('GET', '/api/v1/status'), 200, 'status again').json()
    check(s2['process']['cpu_interval_s'] is not None, 'no interval')


TESTS = [test_logs_and_status, test_backup_while_calls_run_and_restore, test_restore_refuses_bad_archives,
         test_scheduled_backup_keeps_n]


if __name__ == '__main__':
    import run  # noqa: E402
    run.TESTS = TESTS
    sys.exit(run.guarded())
