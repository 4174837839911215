#!/usr/bin/env python3
"""
Message waiting end to end (core/mwi): a python phone subscribes to its
mailbox's message-summary event (RFC 3842) with digest credentials and
gets a 200 and a NOTIFY with the counts; a change of the mailbox
("hookflash mwi notify N" after a message row appears) sends a NOTIFY
with the new counts; unsubscribing gets a terminated NOTIFY; a restart
of the daemon sends the lamp state again without a new SUBSCRIBE; another
extension's mailbox is 403 and another event 489.

The message rows are written with sqlite3 into vm_messages (the counts
db_vm_counts reads); voicemail.py shows the lamp following a message
left by a caller.

    python3 tests/integration/mwi.py [-v] [-k SUBSTRING]
"""
import os
import re
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hf  # noqa: E402
from hf import check  # noqa: E402
from sipclient import Client, Message, authorization, rand_hex  # noqa: E402


def vm_add(data_dir, mailbox, folder='new'):
    """A message row in mailbox (see the module's docstring)."""
    con = sqlite3.connect(os.path.join(data_dir, 'hookflash.db'), timeout=10)
    try:
        con.execute('INSERT INTO vm_messages (mailbox, folder, received_at, path) VALUES (?, ?, ?, ?)',
                    (mailbox, folder, int(time.time()), '/nonexistent/msg.wav'))
        con.commit()
    finally:
        con.close()


class Subscriber:
    """A phone's side of one message-summary subscription."""

    def __init__(self, d, ext, pw):
        self.c = Client(d.sip_port)
        self.ext, self.pw = ext, pw
        self.host = '127.0.0.1:%d' % d.sip_port
        self.call_id = rand_hex(20) + '@hf-it'
        self.tag = rand_hex(8)
        self.remote_tag = None
        self.target = None
        self.to_uri = None
        self.cseq = 0
        self.early = []  # NOTIFYs that arrived while a response was awaited

    def close(self):
        self.c.close()

    def moved(self, d):
        """The daemon restarted on another port."""
        self.c.server = ('127.0.0.1', d.sip_port)
        self.c.tp.server = self.c.server

    def _send(self, ruri, headers):
        self.cseq += 1
        data, branch = self.c.build('SUBSCRIBE', ruri, headers + ['CSeq: %d SUBSCRIBE' % self.cseq])
        final, _ = self.c.transaction(data, branch, timeout=5.0)
        return final

    def subscribe(self, user=None, expires=None, event='message-summary'):
        """SUBSCRIBE (a new one, or in the dialog once there is one);
        answers a 401 with the credentials. Returns the final response."""
        if self.remote_tag is None:
            user = user or self.ext
            ruri = 'sip:%s@%s' % (user, self.host)
            self.to_uri = ruri
            to = '<%s>' % ruri
        else:
            ruri = self.target
            to = '<%s>;tag=%s' % (self.to_uri, self.remote_tag)
        headers = ['From: <sip:%s@%s>;tag=%s' % (self.ext, self.host, self.tag),
                   'To: %s' % to, 'Call-ID: %s' % self.call_id,
                   'Contact: <%s>' % self.c.contact_uri(self.ext),
                   'Event: %s' % event, 'Accept: application/simple-message-summary']
        if expires is not None:
            headers.append('Expires: %d' % expires)
        r = self._send(ruri, headers)
        if r is not None and r.status == 401 and self.pw:
            ch = Client.pick_challenge(r)
            check(ch is not None, 'a 401 without a usable challenge:\n%s' % r.raw.decode())
            r = self._send(ruri, headers + [authorization(ch, self.ext, self.pw, 'SUBSCRIBE', ruri)])
        if r is not None and r.status == 200 and self.remote_tag is None:
            m = re.search(r';\s*tag=([^;>\s]+)', r.get('to', ''))
            check(m, 'the 200 to SUBSCRIBE has no To tag:\n%s' % r.raw.decode())
            self.remote_tag = m.group(1)
            c = re.search(r'<([^>]+)>', r.get('contact', ''))
            check(c, 'the 200 to SUBSCRIBE has no Contact:\n%s' % r.raw.decode())
            self.target = c.group(1)
        return r

    def _answer(self, n, status=200):
        lines = ['SIP/2.0 %d %s' % (status, 'OK' if status == 200 else 'Error')]
        lines += ['Via: %s' % v for v in n.all('via')]
        for h in ('from', 'to', 'call-id', 'cseq'):
            lines.append('%s: %s' % (h.title(), n.get(h)))
        lines.append('Content-Length: 0')
        self.c.tp.send('\r\n'.join(lines) + '\r\n\r\n')

    def notify(self, timeout=8.0, status=200):
        """The next NOTIFY of this subscription, answered; None when none
        came within timeout."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            raw = self.c.tp.recv(deadline - time.time())
            if raw is None:
                return None
            m = Message(raw)
            if m.method != 'NOTIFY':
                continue
            self._answer(m, status)
            if m.get('call-id') == self.call_id:
                return m
        return None


def counts(n):
    m = re.search(r'Voice-Message:\s*(\d+)/(\d+)', n.body)
    return (int(m.group(1)), int(m.group(2))) if m else None


def expect_notify(s, state, new_old, what, d):
    n = s.notify()
    check(n is not None, '%s: no NOTIFY arrived\n%s' % (what, d.log_tail()))
    check(n.get('event') == 'message-summary', '%s: Event %r' % (what, n.get('event')))
    check((n.get('subscription-state') or '').startswith(state),
          '%s: Subscription-State %r, want %s' % (what, n.get('subscription-state'), state))
    check('application/simple-message-summary' in (n.get('content-type') or ''),
          '%s: Content-Type %r' % (what, n.get('content-type')))
    check(counts(n) == new_old, '%s: body says %r, want Voice-Message: %d/%d\n%s'
          % (what, counts(n), new_old[0], new_old[1], n.body))
    want = 'Messages-Waiting: %s' % ('yes' if new_old[0] else 'no')
    check(want in n.body, '%s: body lacks %r:\n%s' % (what, want, n.body))
    return n


def test_mwi_subscribe_notify_restart(ctx):
    d = hf.Daemon()
    ctx.daemons.append(d)
    d.start()
    try:
        ext, pw = '3101', 'mwi-secret-3101'
        hf.add_extension(d.data_dir, ext, pw)
        s = Subscriber(d, ext, pw)
        r = s.subscribe(expires=600)
        check(r is not None and r.status == 200, 'SUBSCRIBE: %s\n%s' % (
            r.start if r else 'no answer', d.log_tail()))
        check(r.get('expires') == '600', 'the 200 grants Expires %r' % r.get('expires'))
        n = expect_notify(s, 'active', (0, 0), 'the first NOTIFY', d)
        check('Message-Account: sip:%s@' % ext in n.body, 'no Message-Account:\n%s' % n.body)

        # a message arrives; the administrator re-sends the lamp state
        vm_add(d.data_dir, ext, 'new')
        vm_add(d.data_dir, ext, 'old')
        vm_add(d.data_dir, ext, 'new')
        hf.cli(d.data_dir, 'mwi', 'notify', ext)
        expect_notify(s, 'active', (2, 1), 'the NOTIFY after the change', d)
        rc, out, err = hf.cli(d.data_dir, 'mwi', 'notify', '9999', check_rc=False)
        check(rc != 0 and 'no such mailbox' in err, 'mwi notify of no mailbox: %d %r %r'
              % (rc, out, err))

        # the subscription is saved; a restart sends the state unasked
        hf.wait_until(lambda: hf.db_query(d.data_dir, 'SELECT * FROM mwi_subscriptions'),
                      5, 'no mwi_subscriptions row')
        d.stop_clean()
        vm_add(d.data_dir, ext, 'new')
        d.start()
        s.moved(d)
        expect_notify(s, 'active', (3, 1), 'the NOTIFY after the restart', d)

        # unsubscribing ends it with a terminated NOTIFY, and the row goes
        r = s.subscribe(expires=0)
        check(r is not None and r.status == 200, 'unSUBSCRIBE: %s' % (r.start if r else 'none'))
        expect_notify(s, 'terminated', (3, 1), 'the last NOTIFY', d)
        hf.wait_until(lambda: not hf.db_query(d.data_dir, 'SELECT * FROM mwi_subscriptions'),
                      5, 'the mwi_subscriptions row stayed after unsubscribing')
        r = s.subscribe(expires=600)
        check(r is not None and r.status == 481, 'SUBSCRIBE in an ended dialog: %s'
              % (r.start if r else 'none'))
        s.close()
    finally:
        d.stop_clean()


def test_mwi_refusals(ctx):
    d = hf.Daemon()
    ctx.daemons.append(d)
    d.start()
    try:
        hf.add_extension(d.data_dir, '3201', 'mwi-secret-3201')
        hf.add_extension(d.data_dir, '3202', 'mwi-secret-3202')
        s = Subscriber(d, '3201', 'mwi-secret-3201')
        r = s.subscribe(user='3202')
        check(r is not None and r.status == 403, "another's mailbox: %s" % (r.start if r else 'none'))
        s.close()
        s = Subscriber(d, '3201', 'mwi-secret-3201')
        r = s.subscribe(event='presence')
        check(r is not None and r.status == 489, 'event presence: %s' % (r.start if r else 'none'))
        s.close()
        s = Subscriber(d, '3201', 'wrong-password')
        r = s.subscribe()
        check(r is not None and r.status == 401, 'a wrong password: %s' % (r.start if r else 'none'))
        check(s.notify(timeout=1.0) is None, 'a NOTIFY without a subscription')
        s.close()
    finally:
        d.stop_clean()


class MwiBaresip(hf.Baresip):
    """baresip with its mwi module (which subscribes for accounts with
    ;mwi=yes once registered) and the menu, which prints each NOTIFY's
    body under "----- MWI for ACCOUNT -----"."""

    def __init__(self, user, password, server_port):
        super().__init__(user, password, server_port)
        with open(os.path.join(self.dir, 'config'), 'a') as f:
            f.write('module_app\t\tmenu.so\nmodule_app\t\tmwi.so\n')
        with open(os.path.join(self.dir, 'accounts'), 'w') as f:
            f.write('<sip:%s@%s:%d;transport=udp>;auth_pass=%s;regint=60;mwi=yes\n'
                    % (user, hf.LOCAL, server_port, password))


def test_mwi_baresip(ctx):
    """A real softphone's MWI (baresip's mwi module) subscribes with its
    credentials and shows the counts, then the new ones after a change.

    baresip 1.0.0's mwi module has a start-up race: a timer 1 ms after
    the module loads walks its list of subscriptions and subscribes each
    again, appending to the list it walks, so when the registration wins
    the race it sends SUBSCRIBEs without end (tens of thousands a second,
    never answering our 401). That start is detected and the phone
    started again, three times at most, then the test is skipped."""
    d = hf.Daemon()
    ctx.daemons.append(d)
    d.start()
    b = None
    try:
        ext, pw = '3301', 'mwi-secret-3301'
        hf.add_extension(d.data_dir, ext, pw)
        for attempt in range(3):
            b = MwiBaresip(ext, pw, d.sip_port).start()
            shown = hf.wait_for(lambda: re.search(r'Voice-Message:\s*0/0', b.log())
                                or b.log().count('mwi: subscribing') > 20, 10)
            if shown and re.search(r'Voice-Message:\s*0/0', b.log()):
                break
            storm = b.log().count('mwi: subscribing') > 20
            check(storm, 'baresip shows no MWI 0/0:\n%s\n%s' % (b.log()[-3000:], d.log_tail()))
            b.stop()
            b = None
        else:
            raise hf.Skip("baresip's mwi module looped at start-up three times (its bug)")
        vm_add(d.data_dir, ext, 'new')
        hf.cli(d.data_dir, 'mwi', 'notify', ext)
        hf.wait_until(lambda: re.search(r'Voice-Message:\s*1/0', b.log()), 10,
                      lambda: 'baresip shows no MWI 1/0:\n%s' % b.log()[-3000:])
        check('Messages-Waiting: yes' in b.log(), 'baresip was not told a message waits')
    finally:
        if b:
            b.stop()
        d.stop_clean()


TESTS = [test_mwi_subscribe_notify_restart, test_mwi_refusals, test_mwi_baresip]


if __name__ == '__main__':
    import run  # noqa: E402
    run.TESTS = TESTS
    sys.exit(run.guarded())
