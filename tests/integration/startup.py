#!/usr/bin/env python3
"""
How hookflashd starts, as an administrator meets it: started as root it
runs as the service user with no capabilities (and phones still register
and call), a second daemon on the same data directory says so and binds
nothing, the CLI finds the daemon without --data-dir or says where it
looked, the first credentials land in initial-credentials.txt (0600) and
on a terminal are the last thing printed, with real URLs, a lost admin
password can be reset, a web port already taken is named with its
setting, and --help and the start-up lines carry no stray columns or
duplicates.

    python3 tests/integration/startup.py [-v] [-k SUBSTRING]
"""
import os
import pty
import pwd
import re
import select
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hf  # noqa: E402
import webkit  # noqa: E402
from hf import check, LOCAL  # noqa: E402
from sipclient import Client  # noqa: E402

SERVICE_USER = 'hookflash'


def open_workdir():
    """A work directory the service user can enter (mkdtemp makes 0700)."""
    w = tempfile.mkdtemp(prefix='hf-it-start-')
    os.chmod(w, 0o755)
    return w


def service_user():
    if os.geteuid() != 0:
        raise hf.Skip('needs root (starts hookflashd as root to watch it drop privileges)')
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        # what make install and make run do
        subprocess.run(['useradd', '--system', '--no-create-home', '--shell',
                        '/usr/sbin/nologin', SERVICE_USER], check=True)
        return pwd.getpwnam(SERVICE_USER)


def proc_status(pid, task=None):
    path = '/proc/%d/status' % pid if task is None else '/proc/%d/task/%s/status' % (pid, task)
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(':')
            out[k] = v.split()
    return out


def test_startup_root_drops_to_service_user(ctx):
    """hookflashd started as root: every thread runs as hookflash (real,
    effective, saved, filesystem uid and gid), with empty capability sets
    and no_new_privs; the data directory's files are the user's; a phone
    registers and the echo test still answers a call."""
    pw = service_user()
    d = hf.Daemon(workdir=open_workdir(), extra=['--user', SERVICE_USER])
    ctx.daemons.append(d)
    d.start()
    try:
        # the line comes once every socket is bound, which may be just
        # after the daemon answers on its control socket
        check(hf.wait_for(lambda: re.search(r'running as user %s \(uid %d' % (SERVICE_USER, pw.pw_uid),
                                            d.log()), 10, 0.05),
              'no "running as user" line:\n%s' % d.log_tail())
        tasks = os.listdir('/proc/%d/task' % d.pid)
        check(len(tasks) > 3, 'expected the worker threads, got %r' % tasks)
        for t in tasks:
            st = proc_status(d.pid, t)
            check(st['Uid'] == [str(pw.pw_uid)] * 4 and st['Gid'] == [str(pw.pw_gid)] * 4,
                  'thread %s runs as Uid %r Gid %r, want %d/%d everywhere'
                  % (t, st['Uid'], st['Gid'], pw.pw_uid, pw.pw_gid))
            for cap in ('CapEff', 'CapPrm', 'CapInh', 'CapAmb', 'CapBnd'):
                check(int(st[cap][0], 16) == 0, 'thread %s has %s %s, want 0' % (t, cap, st[cap][0]))
            check(st['NoNewPrivs'] == ['1'], 'thread %s: NoNewPrivs %r' % (t, st['NoNewPrivs']))
        for name in os.listdir(d.data_dir):
            sb = os.lstat(os.path.join(d.data_dir, name))
            check(sb.st_uid == pw.pw_uid, '%s belongs to uid %d, not %s' % (name, sb.st_uid, SERVICE_USER))
        # what a phone sees is unchanged: 1001 registers with its password
        password = None
        with open(os.path.join(d.data_dir, 'initial-credentials.txt')) as f:
            for line in f:
                p = line.split()
                if len(p) == 3 and p[0] == 'extension' and p[1] == '1001':
                    password = p[2]
        check(password, 'no password for 1001 in initial-credentials.txt')
        c = Client(d.sip_port)
        try:
            r = c.register('1001', password, expires=300)['final']
        finally:
            c.close()
        check(r is not None and r.status == 200, 'REGISTER as 1001: %r\n%s' % (r, d.log_tail()))
        rows, out = hf.registrations(d.data_dir)
        check(any(x['ext'] == '1001' for x in rows), 'no registration listed:\n%s' % out)
    finally:
        d.stop_clean()


def test_startup_second_daemon_same_data_dir(ctx):
    """A second hookflashd on a running daemon's data directory says
    "hookflashd is already running with data directory X (pid N)", exits
    non-zero, and has bound nothing (its SIP port stays free); the first
    keeps running."""
    d = hf.Daemon()
    ctx.daemons.append(d)
    d.start()
    try:
        port = hf.free_port()
        p = subprocess.run([hf.SAN_DAEMON, '--data-dir', d.data_dir, '--user', 'root',
                            '--bind', LOCAL, '--sip-port', str(port),
                            '--http-port', str(hf.free_port(udp=False)),
                            '--https-port', str(hf.free_port(udp=False))],
                           capture_output=True, text=True, timeout=20, env=hf.san_env(),
                           stdin=subprocess.DEVNULL)
        want = 'hookflashd is already running with data directory %s (pid %d)' % (d.data_dir, d.pid)
        check(p.returncode != 0, 'the second daemon exited %d' % p.returncode)
        check(want in p.stderr, 'want %r, got:\n%s%s' % (want, p.stdout, p.stderr))
        check(not re.search(r'listening on', p.stdout + p.stderr),
              'the second daemon bound sockets before giving up:\n%s' % p.stderr)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind((LOCAL, port))
        finally:
            u.close()
        check(d.alive(), 'the first daemon died:\n%s' % d.log_tail())
        rc, out, err = hf.cli(d.data_dir, 'status')
        check(rc == 0, 'status of the first daemon: %s%s' % (out, err))
    finally:
        d.stop_clean()


def cli_bare(args, cwd, env_dir=None):
    """The CLI without --data-dir, from cwd, with or without
    HOOKFLASH_DATA_DIR."""
    env = hf.san_env()
    env.pop('HOOKFLASH_DATA_DIR', None)
    if env_dir:
        env['HOOKFLASH_DATA_DIR'] = env_dir
    p = subprocess.run([hf.CLI] + args, cwd=cwd, env=env, capture_output=True, text=True,
                       timeout=20, stdin=subprocess.DEVNULL)
    check(not hf.sanitizer_errors(p.stderr), 'sanitizer report from the CLI:\n%s' % p.stderr)
    return p


def test_startup_cli_finds_the_daemon(ctx):
    """Without --data-dir the CLI finds a daemon through
    HOOKFLASH_DATA_DIR, and the one `make run` started through ./run-data;
    elsewhere it says "no daemon at /var/lib/hookflash/hookflash.ctl
    (running with another --data-dir? set HOOKFLASH_DATA_DIR)"."""
    work = tempfile.mkdtemp(prefix='hf-it-cli-')
    d = hf.Daemon(workdir=work, data_dir=os.path.join(work, 'run-data'))
    ctx.daemons.append(d)
    d.start()
    try:
        p = cli_bare(['status'], cwd=work)
        check(p.returncode == 0 and 'uptime' in p.stdout,
              'status from the directory above ./run-data: %d\n%s%s' % (p.returncode, p.stdout, p.stderr))
        elsewhere = tempfile.mkdtemp(prefix='hf-it-cli-')
        p = cli_bare(['status'], cwd=elsewhere, env_dir=d.data_dir)
        check(p.returncode == 0 and 'uptime' in p.stdout,
              'status with HOOKFLASH_DATA_DIR: %d\n%s%s' % (p.returncode, p.stdout, p.stderr))
        p = cli_bare(['status'], cwd=elsewhere, env_dir=os.path.join(elsewhere, 'none'))
        want = ('no daemon at %s/none/hookflash.ctl (running with another --data-dir? '
                'set HOOKFLASH_DATA_DIR)' % elsewhere)
        check(p.returncode == 1 and want in p.stderr, 'want %r, got %d:\n%s' % (want, p.returncode, p.stderr))
        if not os.path.exists('/var/lib/hookflash/hookflash.ctl'):
            p = cli_bare(['status'], cwd=elsewhere)
            check(p.returncode == 1 and 'no daemon at /var/lib/hookflash/hookflash.ctl' in p.stderr,
                  'the default: %d\n%s' % (p.returncode, p.stderr))
    finally:
        d.stop_clean()


def read_pty(fd, until, timeout):
    buf = b''
    deadline = time.time() + timeout
    while time.time() < deadline and not until(buf):
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
    return buf.decode('utf-8', 'replace').replace('\r\n', '\n')


def test_startup_credentials_last_on_terminal(ctx):
    """First start on a terminal: the credentials are the last thing on
    the screen, after every start-up log line, with https:// URLs naming
    127.0.0.1 and the port (never <this-host>); initial-credentials.txt
    holds them too, mode 0600. Without a terminal the banner points at the
    file and never claims something was printed. A second start prints no
    credentials and says how to reset a lost password."""
    work = tempfile.mkdtemp(prefix='hf-it-creds-')
    data = os.path.join(work, 'data')
    https = hf.free_port(udp=False)
    base = hf.free_range(100)
    argv = [hf.SAN_DAEMON, '--data-dir', data, '--user', 'root', '--bind', LOCAL,
            '--sip-port', str(hf.free_port()), '--http-port', str(hf.free_port(udp=False)),
            '--https-port', str(https), '--rtp-ports', '%d-%d' % (base, base + 99)]
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
                         env=hf.san_env(), cwd=work)
    os.close(slave)
    try:
        out = read_pty(master, lambda b: b'delete it once noted' in b, 30)
        # anything printed soon after would push the credentials up
        out += read_pty(master, lambda b: False, 0.5)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(15)
        os.close(master)
    lines = [l for l in out.split('\n') if l.strip()]
    check(lines and 'delete it once noted' in lines[-1],
          'the credentials are not the last thing printed:\n%s' % out)
    first_cred = next((i for i, l in enumerate(lines) if l.startswith('New Hookflash setup')), None)
    check(first_cred is not None, 'no credentials on the terminal:\n%s' % out)
    logs = [i for i, l in enumerate(lines) if re.match(r'\d{4}-\d\d-\d\dT', l)]
    check(logs and max(logs) < first_cred, 'a log line follows the credentials:\n%s' % out)
    tail = '\n'.join(lines[first_cred:])
    check(re.search(r'^\s+web\s+admin\s+\S{16}$', tail, re.M), 'no admin password:\n%s' % tail)
    check('https://127.0.0.1:%d/' % https in tail, 'no https://127.0.0.1:%d/ URL:\n%s' % (https, tail))
    check('<this-host>' not in out and 'printed at first start' not in out, out)
    check('admin reset-password' in tail, 'the reset command is not named:\n%s' % tail)
    path = os.path.join(data, 'initial-credentials.txt')
    check(stat.S_IMODE(os.stat(path).st_mode) == 0o600, '%s mode %o' % (path, os.stat(path).st_mode))
    with open(path) as f:
        text = f.read()
    check(re.search(r'^\s+web\s+admin\s+\S{16}$', text, re.M) and 'https://127.0.0.1:%d/' % https in text,
          'initial-credentials.txt:\n%s' % text)
    # no terminal, fresh data: the banner names the file
    d = hf.Daemon(workdir=tempfile.mkdtemp(prefix='hf-it-creds-'), log_level='info')
    ctx.daemons.append(d)
    d.start()
    try:
        log = hf.wait_for(lambda: 'Stop with Ctrl-C' in d.log() and d.log(), 10, 0.05) or d.log()
        check('with the password in %s/initial-credentials.txt' % d.data_dir in log,
              'the banner does not name the file:\n%s' % log)
        check('printed at first start' not in log and '<this-host>' not in log, log)
        check('web        admin' not in log, 'a password reached the log:\n%s' % log)
        d.stop_clean()
        d.start(new_ports=False)
        log = hf.wait_for(lambda: 'Stop with Ctrl-C' in d.log() and d.log(), 10, 0.05) or d.log()
        check('New Hookflash setup' not in log and 'admin reset-password' in log,
              'second start:\n%s' % log)
    finally:
        d.stop_clean()


def test_startup_reset_admin_password(ctx):
    """`hookflash admin reset-password` prints a new generated password
    once; the web accepts it and no longer the old one."""
    e = webkit.env(ctx)
    rc, out, err = hf.cli(e.d.data_dir, 'admin', 'reset-password')
    m = re.search(r'new web password for admin: (\S+)', out)
    check(rc == 0 and m, 'reset-password: %d\n%s%s' % (rc, out, err))
    a = webkit.Api(e.d)
    r = a.login('admin', m.group(1))
    webkit.expect(r, 200, 'login with the new password')
    webkit.expect(webkit.Api(e.d).login('admin', e.pw), 401, 'login with the old password')
    # like the first start's, the reset password opens only the change form
    check(r.json().get('must_change_password') is True, 'a reset password is not forced to change: %r' % r.json())
    webkit.expect(a.req('GET', '/api/v1/extensions'), 403, 'the API before the change')
    e.pw = webkit.changed_admin_password(m.group(1))
    webkit.expect(a.req('POST', '/api/v1/password', {'current_password': m.group(1), 'new_password': e.pw}),
                  204, 'the forced change')
    e.d.admin_pw = e.pw
    e.admin = webkit.Api(e.d)
    webkit.expect(e.admin.login('admin', e.pw), 200, 'the shared session again')
    webkit.expect(e.admin.req('GET', '/api/v1/extensions'), 200, 'the API after the change')


def test_startup_web_port_in_use(ctx):
    """The web port taken by another program: one error line naming the
    port and the setting to change, exit status 1, no crash and no
    sanitizer report."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((LOCAL, 0))
    s.listen(1)
    taken = s.getsockname()[1]
    d = hf.Daemon()
    ctx.daemons.append(d)
    try:
        d.extra = []
        d.sip_port = hf.free_port()
        d.http_port = hf.free_port(udp=False)
        d.https_port = taken
        d.rtp_base = hf.free_range()
        d.runs = 1
        try:
            d.start(new_ports=False, timeout=20)
            check(False, 'hookflashd started although port %d is taken' % taken)
        except hf.Failure as f:
            check('exited with 1' in str(f), 'want exit status 1: %s' % f)
        log = d.log()
        want = ('the web (HTTPS) port %d is already in use by another program; stop it or change '
                '[http] https_port in hookflash.conf, or --https-port' % taken)
        check(want in log, 'want %r in:\n%s' % (want, log))
        check(not hf.sanitizer_errors(log), 'sanitizer report:\n%s' % log)
    finally:
        s.close()
        d.proc = None


def test_startup_help_and_lines(ctx):
    """--help shows each flag with what it takes (no stray "V" column);
    the RTP range is printed once at start-up."""
    p = subprocess.run([hf.SAN_DAEMON, '--help'], capture_output=True, text=True, timeout=10,
                       env=hf.san_env())
    check(p.returncode == 0, p.stderr)
    stray = [l for l in p.stdout.splitlines() if re.match(r'^\s+--\S+\s+V\s', l)]
    check(not stray, 'stray V column:\n%s' % '\n'.join(stray))
    check(re.search(r'^\s+--rtp-ports VALUE\s+\[rtp\]', p.stdout, re.M)
          and re.search(r'^\s+--sip-trace \[yes\|no\]\s+\[sip\]', p.stdout, re.M)
          and re.search(r'^\s+--user VALUE\s+\[general\]', p.stdout, re.M), p.stdout)
    d = hf.Daemon(log_level='info')
    ctx.daemons.append(d)
    d.start()
    try:
        rtp = [l for l in d.log().splitlines() if 'RTP ports' in l]
        check(len(rtp) == 1, 'the RTP range is printed %d times:\n%s' % (len(rtp), '\n'.join(rtp)))
    finally:
        d.stop_clean()


TESTS = [
    test_startup_root_drops_to_service_user,
    test_startup_second_daemon_same_data_dir,
    test_startup_cli_finds_the_daemon,
    test_startup_credentials_last_on_terminal,
    test_startup_reset_admin_password,
    test_startup_web_port_in_use,
    test_startup_help_and_lines,
]

if __name__ == '__main__':
    import run  # noqa: E402
    run.TESTS = TESTS
    sys.exit(run.guarded())
