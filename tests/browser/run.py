#!/usr/bin/env python3
"""
Browser test of the admin UI: headless Chromium (Debian package chromium,
/usr/bin/chromium) driven by playwright-core (npm, tests/browser/
node_modules) against the real hookflashd (ASan+UBSan build) on free
ports. This wrapper starts the daemon, reads the admin password from
DATA_DIR/initial-credentials.txt, runs ui.mjs and plays the SIP phones
(tests/integration/callkit.py) when the script asks for them:

    node prints                       python does, then answers "GO" (or "ERR msg")
    NEED register <number> <password> [<server> <port>]
                                      registers a phone (baresip) as that extension,
                                      at the server and port given (the phone card's)
    NEED call                         the phone calls 1002, a second phone answers
    NEED hungup                       both phones got BYE (answered 200)
    NEED ban <address> <number> <n>   n wrong-password REGISTERs for number
                                      from address (127.0.0.x): it is banned
    NEED voicemail <mailbox> <user> <password>
                                      a 2 s message in the mailbox (file and
                                      row) and a web user of that extension

Screenshots go to tests/output/browser/. A "SKIP name: reason" line from
ui.mjs is counted apart. Ends with "N passed, N failed, N skipped".

    python3 tests/browser/run.py [-v]
"""
import os
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'integration'))

import hf  # noqa: E402
import sipclient  # noqa: E402
from audio import Softphone  # noqa: E402
from callkit import Phone, RtpPeer, make_sdp  # noqa: E402
from sipclient import rand_hex  # noqa: E402
from webkit import Api, changed_admin_password  # noqa: E402
from webvm import add_message  # noqa: E402

OUT = os.path.join(ROOT, 'tests', 'output', 'browser')
CHROMIUM = '/usr/bin/chromium'
VERBOSE = '-v' in sys.argv


def credentials(data_dir, timeout=10.0):
    """{'admin': pw, '1001': pw, ...} from initial-credentials.txt."""
    path = os.path.join(data_dir, 'initial-credentials.txt')
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path):
            creds = {}
            with open(path) as f:
                for line in f:
                    m = re.match(r'\s*(extension|web)\s+(\S+)\s+(\S+)\s*$', line)
                    if m:
                        creds[m.group(2)] = m.group(3)
            if 'admin' in creds:
                return creds
        time.sleep(0.05)
    raise hf.Failure('no admin password in %s' % path)


def register(phone, number, password):
    """REGISTER through the phone's own socket (calls go to its source)."""
    host = '%s:%d' % phone.server
    headers = ['From: <sip:%s@%s>;tag=%s' % (number, host, rand_hex(8)),
               'To: <sip:%s@%s>' % (number, host), 'Call-ID: %s@hf-browser' % rand_hex(16),
               'Contact: %s' % phone.contact, 'Expires: 300']
    r = None
    for cseq, auth in ((1, False), (2, True)):
        h = headers + ['CSeq: %d REGISTER' % cseq]
        if auth:
            ch = sipclient.Client.pick_challenge(r)
            hf.check(ch is not None, 'REGISTER %s: no challenge' % number)
            h.append(sipclient.authorization(ch, number, password, 'REGISTER', 'sip:%s' % host))
        data, branch = phone.build_request('REGISTER', 'sip:%s' % host, h)
        phone.send(data)
        r = phone.wait(lambda m: m.status is not None and m.status >= 200 and m.branch() == branch, 4)
        if r is None or r.status != 401:
            break
    hf.check(r is not None and r.status == 200,
             'REGISTER %s: %s' % (number, r.status if r is not None else 'no answer'))


class Phones:
    def __init__(self, d, creds):
        self.d = d
        self.creds = creds
        self.soft = self.b = None
        self.rtp = []

    def need(self, what, args):
        if what == 'register':
            number, password = args[:2]
            if len(args) == 4:  # the phone card's server and port: the phone uses them
                hf.check(args[2] == hf.LOCAL and int(args[3]) == self.d.sip_port,
                         'the card says %s:%s, the daemon is at %s:%d' % (args[2], args[3], hf.LOCAL, self.d.sip_port))
            port = int(args[3]) if len(args) == 4 else self.d.sip_port
            self.soft = Softphone(number, password, port, 440)
            self.soft.start()
            self.b = Phone(self.d.sip_port, '1002', self.creds['1002'], name='callee')
            register(self.b, '1002', self.creds['1002'])
        elif what == 'call':
            rb = RtpPeer()
            self.rtp.append(rb)
            self.soft.command('/dial sip:1002@%s:%d' % (hf.LOCAL, self.d.sip_port))
            inv = self.b.wait_request('INVITE', 8)
            hf.check(inv is not None, 'callee 1002 got no INVITE from baresip:\n%s' % self.soft.log()[-1500:])
            self.b.answer(inv, make_sdp(rb.port))
        elif what == 'hungup':
            bye = self.b.wait_request('BYE', 8)
            hf.check(bye is not None, 'the callee got no BYE after the hang-up in the UI')
            self.b.respond(bye, 200)
            hf.check(hf.wait_for(lambda: re.search(r'(?i)terminated|closed', self.soft.log()), 8, 0.1),
                     'baresip did not see its call end:\n%s' % self.soft.log()[-1500:])
        elif what == 'ban':
            # wrong passwords from a loopback address of its own (no phone
            # registered there), so the ban hits it and not 127.0.0.1
            addr, number, limit = args
            c = sipclient.Client(self.d.sip_port, local_ip=addr)
            try:
                for _ in range(int(limit)):
                    c.register(number, 'wrong-password', expires=60, timeout=1.0)
            finally:
                c.close()
            hf.wait_until(lambda: addr in hf.cli(self.d.data_dir, 'bans')[1], 5,
                          lambda: '%s not banned:\n%s' % (addr, hf.cli(self.d.data_dir, 'bans')[1]))
        elif what == 'voicemail':
            mailbox, user, password = args
            admin = Api(self.d)
            hf.check(admin.login('admin', changed_admin_password(self.creds['admin'])).status == 200,
                     'admin login for the voicemail step (after the forced change in the UI)')
            r = admin.req('POST', '/api/v1/users', {'username': user, 'password': password, 'extension': mailbox})
            hf.check(r.status == 201, 'create web user %s: %r' % (user, r))
            add_message(self.d, mailbox, seconds=2.0, caller='2101', caller_name='Browser softphone')
        else:
            raise hf.Failure('unknown request from the script: %s' % what)

    def close(self):
        if self.soft is not None:
            self.soft.stop()
        for x in [self.b] + self.rtp:
            if x is not None:
                x.close()


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith('.png'):
            os.remove(os.path.join(OUT, f))
    passed = failed = skipped = 0
    if not os.path.exists(os.path.join(HERE, 'node_modules', 'playwright-core')):
        r = subprocess.run(['npm', 'ci', '--no-audit', '--no-fund'], cwd=HERE,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            print(r.stdout)
            print('0 passed, 1 failed, 0 skipped')
            return 1
    if not os.path.exists(CHROMIUM):
        print('FAIL %s is missing (apt-get install -y chromium)' % CHROMIUM)
        print('0 passed, 1 failed, 0 skipped')
        return 1
    started = time.time()
    d = hf.Daemon(san=True)
    phones = None
    try:
        d.start()
        creds = credentials(d.data_dir)
        phones = Phones(d, creds)
        env = dict(os.environ, HF_URL='https://127.0.0.1:%d/' % d.https_port,
                   HF_USER='admin', HF_PASSWORD=creds['admin'],
                   HF_NEW_PASSWORD=changed_admin_password(creds['admin']), HF_OUT=OUT,
                   HF_CHROMIUM=CHROMIUM)
        node = subprocess.Popen(['node', os.path.join(HERE, 'ui.mjs')], cwd=HERE, env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        try:
            for line in node.stdout:
                line = line.rstrip('\n')
                if line.startswith('PASS '):
                    passed += 1
                    print(line, flush=True)
                elif line.startswith('FAIL '):
                    failed += 1
                    print(line, flush=True)
                elif line.startswith('SKIP '):
                    skipped += 1
                    print(line, flush=True)
                elif line.startswith('NEED '):
                    parts = line.split()
                    try:
                        phones.need(parts[1], parts[2:])
                        node.stdin.write('GO\n')
                    except Exception as e:  # noqa: BLE001 - tell the script, it fails the step
                        node.stdin.write('ERR %s\n' % str(e).replace('\n', ' '))
                    node.stdin.flush()
                elif VERBOSE or line.startswith('#'):
                    print(line, flush=True)
            rc = node.wait(60)
        finally:
            if node.poll() is None:
                node.kill()
                node.wait()
        if rc != 0 and failed == 0:
            failed += 1
            print('FAIL ui.mjs exited with status %s' % rc)
        try:
            d.stop_clean()
            passed += 1
            print('PASS daemon exits cleanly, no sanitizer report')
        except hf.Failure as e:
            failed += 1
            print('FAIL daemon: %s' % e)
    except hf.Failure as e:
        failed += 1
        print('FAIL %s' % e)
    finally:
        if phones:
            phones.close()
        d.kill()
    print('# %.1f s, screenshots in %s' % (time.time() - started, os.path.relpath(OUT, ROOT)))
    print('%d passed, %d failed, %d skipped' % (passed, failed, skipped))
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
