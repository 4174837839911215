"""
Small library for the integration tests and the benchmark: picks free
ports on 127.0.0.1, starts and stops the real hookflashd on a temporary
data directory, runs the hookflash CLI, runs SIPp scenarios and reads the
SQLite database directly. Python standard library only.
"""
import os
import re
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
HERE = os.path.dirname(os.path.abspath(__file__))
SIPP_DIR = os.path.join(HERE, 'sipp')

# HF_DAEMON overrides the daemon the tests run (e.g. build/tsan/bin/hookflashd
# for make check-tsan); relative to the directory the tests start in.
SAN_DAEMON = os.path.abspath(os.environ.get('HF_DAEMON') or
                             os.path.join(ROOT, 'build', 'san', 'bin', 'hookflashd'))
OPT_DAEMON = os.path.join(ROOT, 'build', 'bin', 'hookflashd')
# the CLI under test is the sanitised build too: a leak or undefined
# behaviour in the tool fails the test that ran it (see cli()); a
# benchmark that times the tool sets CLI = OPT_CLI
SAN_CLI = os.path.join(ROOT, 'build', 'san', 'bin', 'hookflash')
OPT_CLI = os.path.join(ROOT, 'build', 'bin', 'hookflash')
CLI = SAN_CLI

LOCAL = '127.0.0.1'

# temporary directories of SIPp and baresip runs (the runner removes them
# when every test passed, and keeps them for a look otherwise)
TEMP_DIRS = []

SANITIZER_PATTERNS = ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer',
                      'runtime error', 'ERROR: UndefinedBehaviorSanitizer')


class Failure(AssertionError):
    pass


class Skip(Exception):
    """A test that cannot run here (the machine lacks what it needs, such
    as an IPv6 loopback): the runner prints SKIP with the reason and counts
    it apart, neither as passed nor as failed."""


def check(cond, msg):
    if not cond:
        raise Failure(msg)


# --- ports ------------------------------------------------------------------

_given = set()


def free_port(udp=True, tcp=True):
    """A port on 127.0.0.1 that is free for TCP and UDP at this moment (and
    not handed out before by this process)."""
    for _ in range(200):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind((LOCAL, 0))
        port = t.getsockname()[1]
        u = None
        try:
            if port in _given:
                continue
            if udp:
                u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    u.bind((LOCAL, port))
                except OSError:
                    continue
            _given.add(port)
            return port
        finally:
            t.close()
            if u:
                u.close()
    raise RuntimeError('no free port')


def free_range(n=1000):
    """A start port of n consecutive UDP ports that look free (best effort,
    for --rtp-ports; checked by binding each even one)."""
    import random
    for _ in range(50):
        base = random.randrange(20000, 60000 - n, 2)
        socks = []
        ok = True
        try:
            for p in range(base, base + n, 50):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                try:
                    s.bind((LOCAL, p))
                except OSError:
                    ok = False
                    break
        finally:
            for s in socks:
                s.close()
        if ok:
            return base
    return 30000


# --- daemon -----------------------------------------------------------------

def sanitizer_errors(text):
    return [l for l in text.splitlines() if any(p in l for p in SANITIZER_PATTERNS)]


def san_env():
    """The environment for a sanitised binary: leak checking on, UBSan
    stops at the first report and prints a stack."""
    env = dict(os.environ)
    asan = env.get('ASAN_OPTIONS', '')
    if 'detect_leaks' not in asan:
        asan = (asan + ':' if asan else '') + 'detect_leaks=1'
    env['ASAN_OPTIONS'] = asan
    env.setdefault('UBSAN_OPTIONS', 'print_stacktrace=1:halt_on_error=1')
    return env


class Daemon:
    """One hookflashd process on fresh ports. The data dir is created under a
    temporary directory unless given (to restart on the same data)."""

    def __init__(self, data_dir=None, san=True, extra=(), log_level='debug',
                 sip_trace=False, workdir=None):
        self.workdir = workdir or tempfile.mkdtemp(prefix='hf-it-')
        self.data_dir = data_dir or os.path.join(self.workdir, 'data')
        os.makedirs(self.data_dir, exist_ok=True)
        self.binary = SAN_DAEMON if san else OPT_DAEMON
        self.san = san
        self.extra = list(extra)
        self.log_level = log_level
        self.sip_trace = sip_trace
        self.proc = None
        self.runs = 0
        self.logs = []

    @property
    def ctl(self):
        return os.path.join(self.data_dir, 'hookflash.ctl')

    @property
    def db_path(self):
        return os.path.join(self.data_dir, 'hookflash.db')

    def argv(self):
        a = [self.binary, '--data-dir', self.data_dir, '--bind', LOCAL,
             '--sip-port', str(self.sip_port),
             '--rtp-ports', '%d-%d' % (self.rtp_base, self.rtp_base + 999),
             '--http-port', str(self.http_port),
             '--https-port', str(self.https_port)]
        if self.log_level:
            a += ['--log-level', self.log_level]
        if self.sip_trace:
            a += ['--sip-trace']
        # The tests run as root and keep their data under private temporary
        # directories the service user cannot enter: the daemon stays root
        # unless a test asks for --user (tests/integration/daemon.py does).
        if os.geteuid() == 0 and '--user' not in self.extra:
            a += ['--user', 'root']
        return a + self.extra

    def start(self, timeout=20.0, new_ports=True):
        if new_ports or not self.runs:
            self.sip_port = free_port()
            self.http_port = free_port(udp=False)
            self.https_port = free_port(udp=False)
            self.rtp_base = free_range()
        self.runs += 1
        self.log_path = os.path.join(self.workdir, 'hookflashd.%d.log' % self.runs)
        self.logs.append(self.log_path)
        env = san_env() if self.san else dict(os.environ)
        self.logf = open(self.log_path, 'wb')
        self.started_at = time.time()
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=subprocess.STDOUT,
                                     env=env, cwd=self.workdir)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(self.ctl):
                return self
            rc = self.proc.poll()
            if rc is not None:
                raise Failure('hookflashd exited with %s before it was ready: %s\n%s'
                              % (rc, ' '.join(self.argv()), self.log_tail()))
            time.sleep(0.05)
        self.kill()
        raise Failure('hookflashd did not create %s within %ss\n%s'
                      % (self.ctl, timeout, self.log_tail()))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid

    def log(self, all_runs=False):
        out = []
        for p in (self.logs if all_runs else self.logs[-1:]):
            try:
                with open(p, 'rb') as f:
                    out.append(f.read().decode('utf-8', 'replace'))
            except OSError:
                pass
        return ''.join(out)

    def log_tail(self, n=40):
        return '\n'.join(self.log().splitlines()[-n:])

    def stop(self, timeout=15.0):
        """SIGTERM, wait; returns (exit status, sanitizer error lines)."""
        if self.proc is None:
            return None, []
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.logf.close()
                raise Failure('hookflashd did not exit within %ss of SIGTERM\n%s'
                              % (timeout, self.log_tail()))
        rc = self.proc.returncode
        self.logf.close()
        self.proc = None
        return rc, sanitizer_errors(self.log())

    def stop_clean(self):
        """Stops and asserts exit status 0 and a clean sanitizer log."""
        rc, errs = self.stop()
        check(rc == 0, 'hookflashd exit status %s on SIGTERM (want 0)\n%s'
              % (rc, self.log_tail()))
        check(not errs, 'sanitizer reports in hookflashd log:\n%s\n%s'
              % ('\n'.join(errs), self.log_tail(60)))

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def cpu_ticks(self):
        """utime+stime of the daemon in clock ticks (from /proc/PID/stat)."""
        with open('/proc/%d/stat' % self.pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return int(fields[11]) + int(fields[12])

    def rss_kb(self):
        with open('/proc/%d/status' % self.pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
        return 0

    def hwm_kb(self):
        with open('/proc/%d/status' % self.pid) as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1])
        return 0


# --- CLI --------------------------------------------------------------------

def cli(data_dir, *args, timeout=20, check_rc=True):
    """Runs the (sanitised) hookflash tool; returns (exit status, stdout,
    stderr). A sanitizer report on its stderr (a leak at exit, a heap
    error, undefined behaviour) is a Failure whatever check_rc says."""
    argv = [CLI, '--data-dir', data_dir] + [str(a) for a in args]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout, env=san_env())
    out = p.stdout.decode('utf-8', 'replace')
    err = p.stderr.decode('utf-8', 'replace')
    errs = sanitizer_errors(err)
    if errs:
        raise Failure('sanitizer report from `%s` (exit %d):\n%s\nstderr:\n%s'
                      % (' '.join(argv[1:]), p.returncode, '\n'.join(errs), err[-4000:]))
    if check_rc and p.returncode != 0:
        raise Failure('%s -> exit %d\nstdout: %s\nstderr: %s'
                      % (' '.join(argv), p.returncode, out, err))
    return p.returncode, out, err


def add_extension(data_dir, number, password, name=None):
    cli(data_dir, 'extension', 'add', number, '--password', password,
        '--name', name or ('Test %s' % number))


def registrations(data_dir):
    """Parses `hookflash registrations`: a header line, then one row per
    binding: ext, contact, source, expires_in, user agent. Columns are cut
    at the header's label positions (labels are separated by 2+ spaces;
    values such as "2m 00s" may hold single spaces). Returns (list of
    dicts, raw output)."""
    _, out, _ = cli(data_dir, 'registrations')
    lines = [l for l in out.splitlines() if l.strip()]
    rows = []
    if not lines or lines[0].strip() == 'no live registrations':
        return rows, out
    head = lines[0]
    starts = [m.start() for m in re.finditer(r'(?:^|(?<=  ))\S', head)]
    labels = [head[a:b].strip() for a, b in zip(starts, starts[1:] + [None])]
    check(labels == ['EXTENSION', 'CONTACT', 'SOURCE', 'EXPIRES IN', 'USER AGENT'],
          '`hookflash registrations` header is not the one core/cli/cmd_daemon.c prints:\n%s' % out)
    keys = ['ext', 'contact', 'source', 'expires_in', 'user_agent']
    for l in lines[1:]:
        if set(l.strip()) <= set('-=+| '):
            continue  # a rule under the header
        vals = [l[a:b].strip() for a, b in zip(starts, starts[1:] + [None])]
        r = dict(zip(keys, vals))
        r['line'] = l
        rows.append(r)
    return rows, out


def wait_for(fn, timeout=5.0, interval=0.1):
    """Calls fn until it returns a true value or the time is up; returns the
    last value."""
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() >= deadline:
            return v
        time.sleep(interval)


def wait_until(fn, timeout, what, interval=0.05):
    """wait_for that fails: fn's first true value, or a Failure saying what
    did not happen within timeout seconds (what may be a callable, called
    then, for a message that shows the state at that moment)."""
    v = wait_for(fn, timeout, interval)
    if not v:
        raise Failure('%s (waited %.1fs)' % (what() if callable(what) else what, timeout))
    return v


# --- SQLite -----------------------------------------------------------------

def db_query(data_dir, sql, params=()):
    path = os.path.join(data_dir, 'hookflash.db')
    con = sqlite3.connect('file:%s?mode=ro' % path, uri=True, timeout=5)
    try:
        con.row_factory = sqlite3.Row
        return [dict(r) for r in con.execute(sql, params)]
    finally:
        con.close()


def db_tables(data_dir):
    return [r['name'] for r in db_query(
        data_dir, "SELECT name FROM sqlite_master WHERE type='table'")]


def db_registrations(data_dir, ext=None):
    """Rows of the registrations table (db/migrations.c: ext, contact,
    source, call_id, cseq, expires_at, user_agent, registered_at), all of
    them or those of extension ext."""
    if ext is None:
        return db_query(data_dir, 'SELECT * FROM registrations')
    return db_query(data_dir, 'SELECT * FROM registrations WHERE ext = ?', (str(ext),))


def db_insert_extensions(data_dir, exts):
    """Bulk insert for the benchmark (list of (number, password)); columns
    found from the schema. Used only when the daemon is not running."""
    path = os.path.join(data_dir, 'hookflash.db')
    con = sqlite3.connect(path, timeout=10)
    try:
        cols = [r[1] for r in con.execute('PRAGMA table_info(extensions)')]
        if not cols:
            raise Failure('no extensions table')
        now = int(time.time())
        for number, pw in exts:
            row = {'number': number, 'name': 'Bench %s' % number,
                   'password': pw, 'vm_pin': '', 'enabled': 1,
                   'created_at': now}
            use = [c for c in cols if c in row]
            con.execute('INSERT INTO extensions (%s) VALUES (%s)' % (
                ','.join(use), ','.join('?' * len(use))), [row[c] for c in use])
        con.commit()
    finally:
        con.close()


# --- SIPp -------------------------------------------------------------------

class SippResult:
    def __init__(self, rc, stats, out, errors, workdir, argv):
        self.rc = rc
        self.stats = stats
        self.out = out
        self.errors = errors
        self.workdir = workdir
        self.argv = argv

    def stat(self, name, default=0):
        v = self.stats.get(name)
        try:
            return int(v)
        except (TypeError, ValueError):
            return default

    @property
    def successful(self):
        return self.stat('SuccessfulCall(C)')

    @property
    def failed(self):
        return self.stat('FailedCall(C)')

    @property
    def retrans(self):
        return self.stat('Retransmissions(C)')

    def describe(self):
        return ('sipp exit %s, successful %s, failed %s, retransmissions %s\n'
                'argv: %s\nerrors:\n%s\nmessages:\n%s' % (
                    self.rc, self.successful, self.failed, self.retrans,
                    ' '.join(self.argv), self.errors[-3000:],
                    self.messages()[-4000:]))

    def messages(self):
        out = []
        for n in sorted(os.listdir(self.workdir)):
            if n.endswith('_messages.log'):
                with open(os.path.join(self.workdir, n), 'rb') as f:
                    out.append(f.read().decode('utf-8', 'replace'))
        return ''.join(out)


def read_sipp_stats(path):
    """Last row of a SIPp -trace_stat CSV as a dict."""
    try:
        with open(path, 'rb') as f:
            lines = [l for l in f.read().decode('utf-8', 'replace').splitlines() if l.strip()]
    except OSError:
        return {}
    if len(lines) < 2:
        return {}
    head = lines[0].rstrip(';').split(';')
    last = lines[-1].rstrip(';').split(';')
    return dict(zip(head, last))


def sipp(scenario, server_port, service='2001', user=None, password=None,
         transport='u1', calls=1, rate=None, rate_period_ms=None, limit=None,
         timeout=20, inf=None, extra=(), trace_msg=True, local_port=None,
         workdir=None, stats_every=None):
    """Runs sipp against 127.0.0.1:server_port and returns a SippResult."""
    if not os.path.isabs(scenario):
        scenario = os.path.join(SIPP_DIR, scenario)
    if not workdir:
        workdir = tempfile.mkdtemp(prefix='hf-sipp-')
        TEMP_DIRS.append(workdir)
    os.makedirs(workdir, exist_ok=True)
    local_port = local_port or free_port()
    stf = os.path.join(workdir, 'stats.csv')
    argv = ['sipp', '-sf', scenario, '-i', LOCAL, '-p', str(local_port),
            '-t', transport, '-m', str(calls), '-s', str(service),
            '-cp', str(free_port(tcp=False)), '-mp', str(free_port()),
            '-nostdin', '-nd', '-trace_stat', '-stf', stf, '-trace_err',
            '-error_file', os.path.join(workdir, 'errors.log'),
            '-timeout', '%ds' % timeout, '-timeout_error',
            '-max_recv_loops', '10000', '-max_sched_loops', '10000']
    if stats_every:
        argv += ['-fd', str(stats_every)]
    if trace_msg:
        argv += ['-trace_msg', '-message_file',
                 os.path.join(workdir, 'x_messages.log')]
    if user is not None:
        argv += ['-au', str(user)]
    if password is not None:
        argv += ['-ap', str(password)]
    if rate is not None:
        argv += ['-r', str(rate)]
    if rate_period_ms is not None:
        argv += ['-rp', str(rate_period_ms)]
    if limit is not None:
        argv += ['-l', str(limit)]
    if inf:
        argv += ['-inf', inf]
    argv += list(extra)
    argv.append('%s:%d' % (LOCAL, server_port))
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout + 15, cwd=workdir)
        rc = p.returncode
        out = p.stdout.decode('utf-8', 'replace') + p.stderr.decode('utf-8', 'replace')
    except subprocess.TimeoutExpired as e:
        rc = 'timeout'
        out = (e.stdout or b'').decode('utf-8', 'replace')
    errors = ''
    try:
        with open(os.path.join(workdir, 'errors.log'), 'rb') as f:
            errors = f.read().decode('utf-8', 'replace')
    except OSError:
        pass
    return SippResult(rc, read_sipp_stats(stf), out, errors, workdir, argv)


# --- baresip ----------------------------------------------------------------

BARESIP_CONFIG = """\
poll_method\t\tepoll
sip_listen\t\t127.0.0.1:{port}
sip_trans_def\t\tudp
module_path\t\t/usr/lib/baresip/modules
module\t\t\tstdio.so
module\t\t\tg711.so
module\t\t\tausine.so
module_app\t\taccount.so
audio_player\t\tausine,nil
audio_source\t\tausine,nil
audio_alert\t\tausine,nil
audio_level\t\tno
"""


class Baresip:
    def __init__(self, user, password, server_port, regint=60, workdir=None):
        self.dir = workdir or tempfile.mkdtemp(prefix='hf-baresip-')
        TEMP_DIRS.append(self.dir)
        self.port = free_port()
        with open(os.path.join(self.dir, 'config'), 'w') as f:
            f.write(BARESIP_CONFIG.format(port=self.port))
        with open(os.path.join(self.dir, 'accounts'), 'w') as f:
            f.write('<sip:%s@%s:%d;transport=udp>;auth_pass=%s;regint=%d\n'
                    % (user, LOCAL, server_port, password, regint))
        self.log_path = os.path.join(self.dir, 'baresip.log')
        self.proc = None

    def start(self):
        self.logf = open(self.log_path, 'wb')
        # stdio needs a pollable stdin: give it a pipe we keep open
        self.proc = subprocess.Popen(['baresip', '-f', self.dir],
                                     stdin=subprocess.PIPE, stdout=self.logf,
                                     stderr=subprocess.STDOUT, cwd=self.dir)
        return self

    def log(self):
        with open(self.log_path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.stdin.write(b'q')
                self.proc.stdin.flush()
            except OSError:
                pass
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(3)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        self.logf.close()


def machine():
    model = ''
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return os.cpu_count(), model


def ensure_built(paths):
    missing = [p for p in paths if not os.access(p, os.X_OK)]
    return missing
