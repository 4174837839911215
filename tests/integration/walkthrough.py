#!/usr/bin/env python3
"""
The README's "First call, step by step", followed literally on a fresh
data directory, so the README cannot drift from the product: the
commands are read from README.md itself (its `$ ` lines in that section)
and run as written, with only what the README says may change changed:
`make run` gets DATA_DIR and HOOKFLASHD_ARGS (free ports), and the
example URLs' port 8443 becomes that free HTTPS port. Then a real
softphone (baresip) registers with the password the API answered and
calls *43, the echo test, which must answer and send the caller's own
tone back; the CDR row says so.

    python3 tests/integration/walkthrough.py [-v]
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import callkit  # noqa: E402
import hf  # noqa: E402
import media  # noqa: E402
import tones  # noqa: E402
from hf import check, LOCAL  # noqa: E402
from tones import Softphone, TONE_A  # noqa: E402
from wire import say  # noqa: E402

README = os.path.join(hf.ROOT, 'README.md')
SECTION = '### First call, step by step'
TALK_S = 2.5


def readme_steps():
    """The README's text and the `$ ` commands of the walkthrough section,
    in order."""
    with open(README) as f:
        text = f.read()
    check(SECTION in text, 'README.md has no "%s" section' % SECTION)
    part = text.split(SECTION, 1)[1]
    part = re.split(r'^#{2,3} ', part, maxsplit=1, flags=re.M)[0]
    cmds = [m.group(1).strip() for m in re.finditer(r'^\s+\$ (.+)$', part, re.M)]
    check(cmds and cmds[0] == 'make run', 'the section should start with `$ make run`: %r' % cmds)
    return text, part, cmds


class Walk:
    """What the shared test helpers need of a daemon: its data directory,
    log and ports (this one was started by make run)."""

    def __init__(self, work):
        self.workdir = work
        self.data_dir = os.path.join(work, 'run-data')
        self.db_path = os.path.join(self.data_dir, 'hookflash.db')
        self.log_path = os.path.join(work, 'make-run.log')
        self.sip_port = hf.free_port()
        self.http_port = hf.free_port(udp=False)
        self.https_port = hf.free_port(udp=False)
        self.rtp_base = hf.free_range()
        self.proc = None

    def log(self):
        try:
            with open(self.log_path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    def log_tail(self, n=40):
        return '\n'.join(self.log().splitlines()[-n:])

    def daemon_pid(self):
        try:
            with open(os.path.join(self.data_dir, 'hookflashd.lock')) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None


def test_walkthrough_readme(ctx):
    """README.md's first call, step by step: make run on a fresh data
    directory, the credentials read where the README says, the status,
    the login and the new extension through the REST API with the README's
    curl lines, then a softphone on that extension calls *43 and hears
    itself."""
    if os.geteuid() != 0:
        raise hf.Skip('the README has make run run as root')
    text, part, cmds = readme_steps()
    # what the README promises about where things are and what may change
    for must in ('run-data/initial-credentials.txt', 'HOOKFLASHD_ARGS=', 'DATA_DIR=',
                 'journalctl -u hookflashd', '/var/lib/hookflash/initial-credentials.txt',
                 'systemctl enable --now hookflashd', 'make install', 'admin reset-password'):
        check(must in text, 'README.md no longer says %r' % must)

    # a fresh directory laid out like the checkout: ./build and ./run-data
    work = tempfile.mkdtemp(prefix='hf-it-walk-')
    os.chmod(work, 0o755)  # the service user must reach run-data, as in a checkout
    os.symlink(os.path.join(hf.ROOT, 'build'), os.path.join(work, 'build'))
    w = Walk(work)
    args = ('--bind %s --sip-port %d --http-port %d --https-port %d --rtp-ports %d-%d'
            % (LOCAL, w.sip_port, w.http_port, w.https_port, w.rtp_base, w.rtp_base + 999))
    argv = ['make', '--no-print-directory', '-C', hf.ROOT] + cmds[0].split()[1:] + [
        'DATA_DIR=' + w.data_dir, 'HOOKFLASHD_ARGS=' + args]
    logf = open(w.log_path, 'wb')
    w.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf,
                              stderr=subprocess.STDOUT, start_new_session=True)
    phone = None
    try:
        ctl = os.path.join(w.data_dir, 'hookflash.ctl')
        # make run may have to build first
        ready = hf.wait_for(lambda: os.path.exists(ctl) or w.proc.poll() is not None, 300, 0.1)
        check(ready and os.path.exists(ctl), 'make run did not start hookflashd (%s):\n%s'
              % (' '.join(argv), w.log_tail()))
        check(hf.wait_for(lambda: 'Stop with Ctrl-C' in w.log(), 10, 0.05),
              'no banner from make run:\n%s' % w.log_tail())
        banner = w.log()
        check('https://127.0.0.1:%d/' % w.https_port in banner, 'the banner lists no URL:\n%s' % banner)
        check('running as user hookflash' in banner, 'make run did not drop to hookflash:\n%s' % banner)
        creds = os.path.join(w.data_dir, 'initial-credentials.txt')
        check(os.path.exists(creds) and (os.stat(creds).st_mode & 0o777) == 0o600,
              'no 0600 %s' % creds)

        # steps 2 and 3, as written, in one shell (PW and CSRF carry over)
        script = ['set -e']
        for i, c in enumerate(cmds[1:]):
            c = c.replace('https://127.0.0.1:8443/', 'https://127.0.0.1:%d/' % w.https_port)
            script += ['echo "@@@ %d"' % i, c]
        r = subprocess.run(['bash', '-c', '\n'.join(script)], cwd=work, capture_output=True,
                           text=True, timeout=60, env=dict(os.environ, HOOKFLASH_DATA_DIR=''))
        outs = re.split(r'^@@@ \d+\n', r.stdout, flags=re.M)[1:]
        check(r.returncode == 0 and len(outs) == len(cmds) - 1,
              'the README commands failed (%d):\n%s\n%s' % (r.returncode, r.stdout, r.stderr))
        said = dict(zip(cmds[1:], outs))
        status = [o for c, o in said.items() if c.endswith('hookflash status')]
        check(status and 'uptime' in status[0], 'hookflash status: %r' % status)
        grep = [o for c, o in said.items() if c.startswith('grep')]
        check(grep and re.search(r'web\s+admin\s+\S{16}', grep[0]), 'the admin password line: %r' % grep)
        api = [(c, o) for c, o in said.items() if '/api/v1/extensions' in c]
        check(api, 'the README creates no extension through the API')
        number = json.loads(re.search(r"-d '(\{.*?\})'", api[0][0]).group(1))['number']
        try:
            answer = json.loads(api[0][1])
        except ValueError:
            raise hf.Failure('the API answered %r to %s' % (api[0][1], api[0][0]))
        check(answer.get('number') == number and answer.get('password'),
              'the new extension: %r' % answer)
        say('README: extension %s created over HTTPS, password %d characters'
            % (number, len(answer['password'])))

        # step 4: a softphone on it calls the echo test
        lo, hi = w.rtp_base, w.rtp_base + 999
        ports = next(p[0] for p in media.PHONE_PORTS if all(r[1] + 1 < lo or r[0] > hi for r in p))
        phone = Softphone(number, answer['password'], w.sip_port, TONE_A,
                          os.path.join(work, 'baresip'), codecs='pcmu', rtp_ports=ports)
        phone.start()
        check(hf.wait_for(lambda: number in {x['ext'] for x in hf.registrations(w.data_dir)[0]}, 8, 0.05),
              'the phone did not register:\n%s' % phone.log_brief())
        phone.command('/dial sip:*43@%s:%d' % (LOCAL, w.sip_port))
        check(media.wait_answered(w, number, '*43', phone=phone),
              'the echo test did not answer:\n%s\n%s' % (phone.log_brief(), w.log_tail()))
        t_answer = time.time()
        phone.key('1')  # skips the introduction: the echo starts
        check(hf.wait_for(lambda: re.search(r"DTMF '1' from caller", w.log()), 5, 0.05),
              'hookflashd never saw the key press:\n%s' % w.log_tail())
        t_echo = time.time()
        time.sleep(TALK_S)
        talked = time.time() - t_echo
        phone.command('/hangup')
        rows = hf.wait_for(lambda: [x for x in callkit.cdr_rows(w, like='%')
                                    if x['caller'] == number and x['callee'] == '*43'], 8, 0.05)
        check(rows, 'no CDR for %s -> *43:\n%s' % (number, w.log_tail()))
    finally:
        if phone is not None:
            phone.stop()
        pid = w.daemon_pid()
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            rc = w.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(w.proc.pid, signal.SIGKILL)
            rc = w.proc.wait()
        logf.close()
    check(rc == 0, 'make run ended with %d after SIGTERM:\n%s' % (rc, w.log_tail()))
    f, level, secs = tones.check_heard(phone, phone, 'the caller of *43', talked,
                                       skip_s=t_echo - t_answer + 0.5)
    say('README walkthrough: *43 echoed %d Hz at RMS %.0f for %.2fs' % (f, level, secs))
    callkit.check_cdr(rows[0], disposition='ANSWERED', path='app:echo', hangup_side='caller')


TESTS = [test_walkthrough_readme]

if __name__ == '__main__':
    import run  # noqa: E402
    run.TESTS = TESTS
    sys.exit(run.guarded())
