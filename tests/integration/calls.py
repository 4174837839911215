#!/usr/bin/env python3
"""
Call tests: Hookflash as a B2BUA between real peers on 127.0.0.1. SIPp
plays callers and callees (tests/integration/sipp/call_*.xml), a small
python phone (class Phone below) drives the calls that need exact control
(RTP counted packet by packet, admin hang-up, RTP timeout), and every test
checks both what the SIP peers saw and the CDR row the daemon wrote.

Run with the other integration tests (tests/integration/run.py includes
TESTS) or alone:

    python3 tests/integration/calls.py [-v] [-k SUBSTRING]

The calls share one daemon (ASan+UBSan build) started with a short
no-answer timeout. Callers that are trusted devices send from 127.0.0.2
(the extension trusts 127.0.0.2/32): Hookflash takes *any* request from a
trusted address as that extension, so nothing else may send from there,
and everything sent from 127.0.0.1 is an ordinary, digest-challenged
phone.
"""
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hf  # noqa: E402
import sipclient  # noqa: E402
from hf import check, Failure, LOCAL  # noqa: E402
from sipclient import Message, rand_hex  # noqa: E402

TRUSTED_IP = '127.0.0.2'     # the trusted caller's source address
NO_ANSWER_S = 4              # --no-answer-timeout of the shared calls daemon
RTP_TIMEOUT_S = 2            # --rtp-timeout of the RTP-timeout test's daemon
PCMU_PACKET = 172            # RTP header + 160 bytes of 20 ms PCMU


# --- small helpers ------------------------------------------------------------

def show(msg):
    return msg.raw.decode('utf-8', 'replace') if msg is not None else '(nothing)'


def tone_ulaw(seconds, freq=440.0, amplitude=8000):
    """Raw 8 kHz mu-law of a sine tone (what SIPp's rtp_stream plays)."""
    import math
    n = int(8000 * seconds)
    return bytes(lin2ulaw(int(amplitude * math.sin(2 * math.pi * freq * i / 8000)))
                 for i in range(n))


def lin2ulaw(sample):
    """G.711 mu-law encoding of one 16-bit sample (no audioop: it is gone
    from python 3.13)."""
    bias, clip = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    if sample < 0:
        sample = -sample
    sample = min(sample, clip) + bias
    exp = 7
    mask = 0x4000
    while exp > 0 and not (sample & mask):
        exp -= 1
        mask >>= 1
    mant = (sample >> (exp + 3)) & 0x0F
    return ~(sign | (exp << 4) | mant) & 0xFF


def make_sdp(port, direction='sendrecv', ip=LOCAL, version=1, pts=(0,)):
    names = {0: 'PCMU/8000', 8: 'PCMA/8000', 101: 'telephone-event/8000'}
    lines = ['v=0', 'o=hfit %d %d IN IP4 %s' % (port, version, ip), 's=-',
             'c=IN IP4 %s' % ip, 't=0 0',
             'm=audio %d RTP/AVP %s' % (port, ' '.join(str(p) for p in pts))]
    lines += ['a=rtpmap:%d %s' % (p, names[p]) for p in pts if p in names]
    lines += ['a=ptime:20', 'a=%s' % direction]
    return '\r\n'.join(lines) + '\r\n'


def sdp_audio(body):
    """(address, port, direction, payload types) of the first audio m= line
    of an SDP body (the session-level c=/a= apply unless the media has its
    own)."""
    addr, port, direction, pts = None, None, 'sendrecv', []
    in_audio = False
    for line in body.replace('\r\n', '\n').split('\n'):
        line = line.strip()
        if line.startswith('m='):
            if in_audio:
                break
            parts = line[2:].split()
            if parts and parts[0] == 'audio':
                in_audio = True
                port = int(parts[1])
                pts = [int(p) for p in parts[3:] if p.isdigit()]
            continue
        if line.startswith('c=') and (in_audio or port is None):
            addr = line.split()[-1]
        if line[2:] in ('sendrecv', 'sendonly', 'recvonly', 'inactive') and line.startswith('a='):
            if in_audio or port is None:
                direction = line[2:]
    return addr, port, direction, pts


# --- CDR ------------------------------------------------------------------------

def cdr_rows(d, call_id=None, like=None):
    if call_id is not None:
        return hf.db_query(d.data_dir, 'SELECT * FROM cdr WHERE call_id_a = ? ORDER BY id', (call_id,))
    return hf.db_query(d.data_dir, 'SELECT * FROM cdr WHERE call_id_a LIKE ? ORDER BY id', (like,))


def wait_cdr(d, call_id=None, like=None, n=1, timeout=5.0):
    """The CDR rows of a call (by leg A's Call-ID, or a LIKE pattern), once
    there are n of them; the store thread writes them shortly after the
    call ends."""
    got = hf.wait_for(lambda: (lambda r: r if len(r) >= n else None)(
        cdr_rows(d, call_id, like)), timeout)
    rows = got or cdr_rows(d, call_id, like)
    check(len(rows) == n, 'want %d CDR row(s) for call %s, found %d:\n%s\nlast rows in cdr:\n%s\n'
          'daemon log tail:\n%s' % (n, call_id or like, len(rows), fmt_rows(rows),
                                    fmt_rows(hf.db_query(d.data_dir, 'SELECT * FROM cdr ORDER BY id DESC LIMIT 3')),
                                    d.log_tail(25)))
    return rows[0] if n == 1 else rows


def fmt_rows(rows):
    return '\n'.join('  ' + ', '.join('%s=%r' % kv for kv in r.items()) for r in rows) or '  (none)'


def check_cdr(row, **want):
    """Asserts columns of a CDR row; a value may be a set of allowed values
    or a callable predicate."""
    bad = []
    for k, v in want.items():
        got = row.get(k)
        if callable(v):
            ok = v(got)
        elif isinstance(v, (set, frozenset, tuple)):
            ok = got in v
        else:
            ok = got == v
        if not ok:
            bad.append('%s=%r (want %s)' % (k, got, getattr(v, '__name__', repr(v))
                                             if callable(v) else repr(v)))
    check(not bad, 'CDR row wrong: %s\nrow: %s' % ('; '.join(bad), fmt_rows([row]).strip()))


def between(lo, hi):
    f = lambda v: v is not None and lo <= v <= hi  # noqa: E731
    f.__name__ = 'between %s and %s' % (lo, hi)
    return f


def nonempty(v):
    return bool(v)


# --- SIPp in the background --------------------------------------------------

class Sipp:
    """One SIPp process (UAC or UAS) in its own working directory, started in
    the background: UAS first, then the UAC, then wait() both."""

    def __init__(self, scenario, server_port=None, ip=LOCAL, port=None, service='1',
                 calls=1, duration_ms=None, keys=None, extra=(), timeout=30, media_port=None,
                 rtp_echo=False, cid=None, workdir=None, user=None, password=None,
                 trace_msg=True, rate=None, limit=None, rate_period_ms=None, binary=None):
        self.scenario = scenario if os.path.isabs(scenario) else os.path.join(hf.SIPP_DIR, scenario)
        self.name = os.path.basename(scenario).rsplit('.', 1)[0]
        self.workdir = workdir or tempfile.mkdtemp(prefix='hf-sipp-%s-' % self.name)
        os.makedirs(self.workdir, exist_ok=True)
        self.port = port or hf.free_port()
        self.ip = ip
        self.media_port = media_port or free_even_port()
        self.stf = os.path.join(self.workdir, 'stats.csv')
        self.timeout = timeout
        argv = [binary or 'sipp', '-sf', self.scenario, '-i', ip, '-p', str(self.port),
                '-m', str(calls), '-s', str(service), '-mp', str(self.media_port),
                '-cp', str(hf.free_port()), '-nostdin', '-nd',
                '-trace_stat', '-stf', self.stf, '-trace_err',
                '-error_file', os.path.join(self.workdir, 'errors.log'),
                '-timeout', '%ds' % timeout, '-timeout_error',
                '-max_recv_loops', '10000', '-max_sched_loops', '10000']
        if trace_msg:
            argv += ['-trace_msg', '-message_file', os.path.join(self.workdir, 'messages.log')]
        if duration_ms is not None:
            argv += ['-d', str(duration_ms)]
        if rtp_echo:
            argv += ['-rtp_echo']
        if cid:
            argv += ['-cid_str', cid]
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
        for k, v in (keys or {}).items():
            argv += ['-key', k, str(v)]
        argv += list(extra)
        if server_port is not None:
            argv.append('%s:%d' % (LOCAL, server_port))
        self.argv = argv
        self.proc = None
        self.started = None
        self.result = None

    def start(self):
        self.out = open(os.path.join(self.workdir, 'sipp.out'), 'wb')
        self.started = time.time()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT, cwd=self.workdir)
        return self

    def ready(self, wait=0.3):
        """Waits until SIPp listens on its port (a UAS must before the call)."""
        deadline = time.time() + 5
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            if udp_port_busy(self.ip, self.port):
                return self
            time.sleep(0.02)
        check(self.proc.poll() is None, 'SIPp %s exited at once:\n%s' % (self.name, self.output()))
        time.sleep(wait)
        return self

    def wait(self, timeout=None):
        if self.result is not None:
            return self.result
        timeout = timeout if timeout is not None else self.timeout + 10
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = 'killed after %ss' % timeout
        self.out.close()
        self.elapsed = time.time() - self.started
        errors = ''
        try:
            with open(os.path.join(self.workdir, 'errors.log'), 'rb') as f:
                errors = f.read().decode('utf-8', 'replace')
        except OSError:
            pass
        self.result = hf.SippResult(rc, hf.read_sipp_stats(self.stf), self.output(), errors,
                                    self.workdir, self.argv)
        return self.result

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc and not self.out.closed:
            self.out.close()

    def output(self):
        try:
            with open(os.path.join(self.workdir, 'sipp.out'), 'rb') as f:
                return f.read().decode('utf-8', 'replace')[-3000:]
        except OSError:
            return ''

    def messages(self):
        """[(direction 'sent'|'received', Message)] from the message trace."""
        try:
            with open(os.path.join(self.workdir, 'messages.log'), 'rb') as f:
                text = f.read().decode('utf-8', 'replace')
        except OSError:
            return []
        out = []
        for block in re.split(r'(?m)^-{20,} [^\n]*\n', text):
            m = re.match(r'\s*\w+ message (sent|received)[^\n]*\n\n?', block)
            if not m:
                continue
            body = block[m.end():].replace('\r\n', '\n').rstrip('\n') + '\n'
            head, sep, rest = body.partition('\n\n')
            raw = (head.replace('\n', '\r\n') + '\r\n\r\n' + rest.rstrip('\n').replace('\n', '\r\n') +
                   ('\r\n' if rest.strip() else ''))
            out.append((m.group(1), Message(raw.encode())))
        return out

    def received(self, pred=lambda m: True):
        return [m for d, m in self.messages() if d == 'received' and pred(m)]

    def finals(self, method='INVITE'):
        """Status codes of the final responses received to `method`."""
        return [m.status for m in self.received(lambda m: m.status is not None and m.status >= 200
                                                and m.cseq()[1] == method)]

    def ok(self, n=1):
        r = self.wait()
        return r.rc == 0 and r.successful == n and r.failed == 0

    def describe(self):
        r = self.wait()
        return '%s: %s' % (self.name, r.describe())


def udp_port_busy(ip, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((ip, port))
        return False
    except OSError:
        return True
    finally:
        s.close()


def free_even_port():
    """An even UDP port whose odd neighbour is free too (RTP + RTCP)."""
    for _ in range(100):
        p = hf.free_port()
        if p % 2:
            continue
        if not udp_port_busy(LOCAL, p + 1) and not udp_port_busy(TRUSTED_IP, p + 1):
            return p
    return hf.free_port()


# --- a python SIP phone -----------------------------------------------------------

class Phone:
    """A SIP phone on UDP: one socket read by a thread. Retransmitted
    requests we answered get the same answer again, retransmitted 2xx we
    ACKed get the same ACK again; everything else is queued for wait()."""

    T1 = 0.5

    def __init__(self, server_port, user, password=None, ip=LOCAL, port=0, name=None):
        self.server = (LOCAL, server_port)
        self.user = user
        self.password = password
        self.name = name or 'phone %s' % user
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ip, port))
        self.sock.settimeout(0.1)
        self.ip, self.port = self.sock.getsockname()
        self.cond = threading.Condition()
        self.inbox = []
        self.answered = {}   # (branch, method) -> response bytes
        self.seen = set()    # (branch, method) of requests queued
        self.acks = {}       # (call-id, cseq) -> ACK bytes
        self.trace = []      # (time, '>' | '<', text)
        self.reinvite_answer = None  # fn(offer body) -> answer body: answer re-INVITEs at once
        self.reinvites = []  # the re-INVITEs answered that way
        self.running = True
        self.thread = threading.Thread(target=self._reader, daemon=True)
        self.thread.start()

    def close(self):
        self.running = False
        self.thread.join(1)
        self.sock.close()

    @property
    def contact(self):
        return '<sip:%s@%s:%d>' % (self.user, self.ip, self.port)

    def trace_text(self, last=12):
        return '\n'.join('%s %.3f\n%s' % (d, t, x) for t, d, x in self.trace[-last:])

    # transport
    def send(self, data, addr=None):
        if isinstance(data, str):
            data = data.encode()
        self.trace.append((time.time(), '>', data.decode('utf-8', 'replace')))
        self.sock.sendto(data, addr or self.server)

    def _reader(self):
        while self.running:
            try:
                data, addr = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            self.trace.append((time.time(), '<', data.decode('utf-8', 'replace')))
            try:
                msg = Message(data)
            except Exception:  # noqa: BLE001 - not SIP: ignore
                continue
            msg.addr = addr
            msg.at = time.time()
            if msg.method:
                key = (msg.branch(), msg.method)
                if key in self.answered:
                    self.sock.sendto(self.answered[key], addr)
                    continue
                if key in self.seen and msg.method != 'ACK':
                    continue
                self.seen.add(key)
                if msg.method == 'INVITE' and self.reinvite_answer and Dialog._tag(msg.get('to', '')):
                    self.reinvites.append(msg)
                    self.respond(msg, 200, body=self.reinvite_answer(msg.body))
                    continue
            elif msg.status and 200 <= msg.status < 300 and msg.cseq()[1] == 'INVITE':
                ack = self.acks.get((msg.get('call-id'), msg.cseq()[0]))
                if ack is not None:
                    self.sock.sendto(ack, addr)
                    continue
            with self.cond:
                self.inbox.append(msg)
                self.cond.notify_all()

    def wait(self, pred, timeout):
        deadline = time.time() + timeout
        with self.cond:
            while True:
                for i, m in enumerate(self.inbox):
                    if pred(m):
                        return self.inbox.pop(i)
                left = deadline - time.time()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def wait_request(self, method, timeout=5.0, call_id=None):
        return self.wait(lambda m: m.method == method and
                         (call_id is None or m.get('call-id') == call_id), timeout)

    def pending(self):
        with self.cond:
            return list(self.inbox)

    # building
    def build_request(self, method, ruri, headers, body='', ctype='application/sdp', branch=None):
        branch = branch or 'z9hG4bK' + rand_hex(16)
        lines = ['%s %s SIP/2.0' % (method, ruri),
                 'Via: SIP/2.0/UDP %s:%d;rport;branch=%s' % (self.ip, self.port, branch),
                 'Max-Forwards: 70'] + list(headers)
        lines.append('User-Agent: hf-it-phone/1')
        if body:
            lines.append('Content-Type: %s' % ctype)
        lines.append('Content-Length: %d' % len(body.encode()))
        return ('\r\n'.join(lines) + '\r\n\r\n' + body).encode(), branch

    def respond(self, req, status, reason=None, to_tag=None, body='', extra=(), contact=True):
        reasons = {100: 'Trying', 180: 'Ringing', 183: 'Session Progress', 200: 'OK',
                   481: 'Call/Transaction Does Not Exist', 486: 'Busy Here',
                   487: 'Request Terminated', 488: 'Not Acceptable Here'}
        lines = ['SIP/2.0 %d %s' % (status, reason or reasons.get(status, 'Whatever'))]
        lines += ['Via: %s' % v for v in req.all('via')]
        lines.append('From: %s' % req.get('from'))
        to = req.get('to')
        if to_tag and ';tag=' not in to:
            to += ';tag=%s' % to_tag
        lines.append('To: %s' % to)
        lines.append('Call-ID: %s' % req.get('call-id'))
        lines.append('CSeq: %s' % req.get('cseq'))
        if contact and status < 300 and status > 100 and req.method in ('INVITE', 'UPDATE'):
            lines.append('Contact: %s' % self.contact)
        lines += list(extra)
        if body:
            lines.append('Content-Type: application/sdp')
        lines.append('Content-Length: %d' % len(body.encode()))
        data = ('\r\n'.join(lines) + '\r\n\r\n' + body).encode()
        self.answered[(req.branch(), req.method)] = data
        self.send(data, req.addr)
        return data

    # calling
    def call(self, number, sdp, extra=(), ruri=None):
        """Starts an INVITE to number; returns an OutCall."""
        return OutCall(self, number, sdp, extra, ruri)

    def answer(self, invite, sdp, to_tag=None, ring=True, ack_timeout=5.0):
        """Answers an INVITE (180 then 200 with sdp); a thread retransmits
        the 200 until the ACK comes (dlg.acked is set then). Returns the
        Dialog."""
        to_tag = to_tag or rand_hex(8)
        if ring:
            self.respond(invite, 180, to_tag=to_tag)
        dlg = Dialog.from_request(self, invite, to_tag)
        data = self.respond(invite, 200, to_tag=to_tag, body=sdp)
        dlg.acked = threading.Event()

        def ack_wait():
            try:
                dlg.wait_ack(invite, data, ack_timeout)
                dlg.acked.set()
            except Failure:
                pass
        threading.Thread(target=ack_wait, daemon=True).start()
        return dlg


class OutCall:
    """An INVITE we sent, until its final response (and the ACK)."""

    def __init__(self, phone, number, sdp, extra, ruri):
        self.phone = phone
        self.number = number
        self.sdp = sdp
        self.extra = list(extra)
        host = '%s:%d' % phone.server
        self.ruri = ruri or 'sip:%s@%s' % (number, host)
        self.call_id = rand_hex(20) + '@hf-it'
        self.tag = rand_hex(8)
        self.from_hdr = '<sip:%s@%s>' % (phone.user, host)
        self.to_hdr = '<sip:%s@%s>' % (number, host)
        self.cseq = 1
        self.responses = []
        self.final = None
        self.dialog = None
        self.challenged = None
        self.auth_header = None
        self._send_invite()

    def _send_invite(self):
        headers = ['From: %s;tag=%s' % (self.from_hdr, self.tag), 'To: %s' % self.to_hdr,
                   'Call-ID: %s' % self.call_id, 'CSeq: %d INVITE' % self.cseq,
                   'Contact: %s' % self.phone.contact] + self.extra
        if self.auth_header:
            headers.append(self.auth_header)
        self.data, self.branch = self.phone.build_request('INVITE', self.ruri, headers, self.sdp)
        self.got_response = False
        self.next_rtx = time.time() + Phone.T1
        self.interval = Phone.T1
        self.phone.send(self.data)

    def _ack_non2xx(self, resp):
        to = resp.get('to')
        headers = ['From: %s;tag=%s' % (self.from_hdr, self.tag), 'To: %s' % to,
                   'Call-ID: %s' % self.call_id, 'CSeq: %d ACK' % self.cseq]
        data, _ = self.phone.build_request('ACK', self.ruri, headers, branch=self.branch)
        self.phone.send(data)

    def next_response(self, timeout):
        """The next response to the current INVITE (retransmitting it over
        UDP until something comes back), or None."""
        deadline = time.time() + timeout
        while True:
            now = time.time()
            if now >= deadline:
                return None
            wait = deadline - now
            if not self.got_response:
                wait = min(wait, max(0.0, self.next_rtx - now))
            r = self.phone.wait(lambda m: m.status is not None and m.branch() == self.branch, wait)
            if r is None:
                if not self.got_response and time.time() >= self.next_rtx:
                    self.phone.send(self.data)
                    self.interval = min(self.interval * 2, 4.0)
                    self.next_rtx = time.time() + self.interval
                continue
            self.got_response = True
            self.responses.append(r)
            return r

    def wait_status(self, status, timeout=5.0):
        """Waits for a provisional response with this status (None if a
        final one comes first)."""
        deadline = time.time() + timeout
        for r in self.responses:
            if r.status == status:
                return r
        while self.final is None:
            r = self.next_response(deadline - time.time())
            if r is None:
                break
            if r.status >= 200:
                self._final(r)
            elif r.status == status:
                return r
        return None

    def _final(self, r):
        if self.final is not None:
            return
        if r.status >= 300:
            self._ack_non2xx(r)
            self.final = r
            return
        self.final = r
        self.dialog = Dialog.from_2xx(self, r)
        self.dialog.ack(r)

    def wait_final(self, timeout=10.0, auth=True):
        """The final response, or None. A 407 is answered once with the
        phone's password (a new INVITE, CSeq + 1, Proxy-Authorization). On
        2xx the ACK is sent and self.dialog is set."""
        deadline = time.time() + timeout
        while True:
            f = self.final
            if f is not None:
                if not (auth and f.status == 407 and self.challenged is None and self.phone.password):
                    return f
                ch = sipclient.Client.pick_challenge(f, None, proxy=True)
                check(ch is not None, '407 without a usable Proxy-Authenticate:\n%s' % show(f))
                self.challenged = f
                self.final = None
                self.cseq += 1
                self.auth_header = sipclient.authorization(ch, self.phone.user, self.phone.password,
                                                           'INVITE', self.ruri, proxy=True)
                self._send_invite()
            r = self.next_response(deadline - time.time())
            if r is None:
                return None
            if r.status >= 200:
                self._final(r)

    def cancel(self, timeout=4.0):
        """CANCEL on the INVITE's branch; returns the CANCEL's final response."""
        headers = ['From: %s;tag=%s' % (self.from_hdr, self.tag), 'To: %s' % self.to_hdr,
                   'Call-ID: %s' % self.call_id, 'CSeq: %d CANCEL' % self.cseq]
        data, _ = self.phone.build_request('CANCEL', self.ruri, headers, branch=self.branch)
        self.phone.send(data)
        deadline = time.time() + timeout
        interval = Phone.T1
        while time.time() < deadline:
            r = self.phone.wait(lambda m: m.status is not None and m.branch() == self.branch and
                                m.cseq()[1] == 'CANCEL' and m.status >= 200,
                                min(interval, deadline - time.time()))
            if r is not None:
                return r
            self.phone.send(data)
            interval = min(interval * 2, 4.0)
        return None


class Dialog:
    """A confirmed dialog of a Phone (either side)."""

    def __init__(self, phone, call_id, local, remote, local_tag, remote_tag, target, cseq):
        self.phone = phone
        self.call_id = call_id
        self.local = local           # our URI header value without tag
        self.remote = remote         # theirs, without tag
        self.local_tag = local_tag
        self.remote_tag = remote_tag
        self.target = target
        self.cseq = cseq
        self.last_sdp = None

    @staticmethod
    def _uri(hv):
        return re.sub(r';\s*tag=[^;>\s]+', '', hv).strip()

    @staticmethod
    def _tag(hv):
        m = re.search(r';\s*tag=([^;>\s]+)', hv)
        return m.group(1) if m else None

    @staticmethod
    def _contact(msg):
        c = msg.get('contact', '')
        m = re.search(r'<([^>]+)>', c)
        return m.group(1) if m else c.split(';')[0].strip()

    @classmethod
    def from_2xx(cls, oc, resp):
        d = cls(oc.phone, oc.call_id, oc.from_hdr, cls._uri(resp.get('to')), oc.tag,
                cls._tag(resp.get('to')), cls._contact(resp) or oc.ruri, oc.cseq)
        d.last_sdp = resp.body
        return d

    @classmethod
    def from_request(cls, phone, req, to_tag):
        d = cls(phone, req.get('call-id'), cls._uri(req.get('to')), cls._uri(req.get('from')),
                to_tag, cls._tag(req.get('from')), cls._contact(req), 0)
        d.last_sdp = req.body
        return d

    def headers(self, method, cseq=None):
        return ['From: %s;tag=%s' % (self.local, self.local_tag),
                'To: %s;tag=%s' % (self.remote, self.remote_tag),
                'Call-ID: %s' % self.call_id,
                'CSeq: %d %s' % (cseq if cseq is not None else self.cseq, method)]

    def ack(self, resp):
        cseq = resp.cseq()[0]
        data, _ = self.phone.build_request('ACK', self.target, self.headers('ACK', cseq))
        self.phone.acks[(self.call_id, cseq)] = data
        self.phone.send(data)

    def wait_ack(self, req, resp_data, timeout=5.0):
        """Retransmits our 2xx to req until its ACK comes (13.3.1.4)."""
        cseq = req.cseq()[0]
        deadline = time.time() + timeout
        interval = Phone.T1
        while time.time() < deadline:
            a = self.phone.wait(lambda m: m.method == 'ACK' and m.get('call-id') == self.call_id and
                                m.cseq()[0] == cseq, min(interval, deadline - time.time()))
            if a is not None:
                return a
            self.phone.send(resp_data, req.addr)
            interval = min(interval * 2, 4.0)
        raise Failure('%s: no ACK for our 200 (CSeq %d) within %ss\n%s'
                      % (self.phone.name, cseq, timeout, self.phone.trace_text()))

    def request(self, method, body='', timeout=5.0, extra=()):
        """Sends an in-dialog request and returns its final response (an
        INVITE's 2xx is ACKed)."""
        self.cseq += 1
        data, branch = self.phone.build_request(method, self.target,
                                                self.headers(method) + ['Contact: %s' % self.phone.contact]
                                                + list(extra), body)
        self.phone.send(data)
        deadline = time.time() + timeout
        interval = Phone.T1
        provisional = False
        while time.time() < deadline:
            r = self.phone.wait(lambda m: m.status is not None and m.branch() == branch,
                                min(interval, deadline - time.time()))
            if r is None:
                if not provisional:
                    self.phone.send(data)
                    interval = min(interval * 2, 4.0)
                continue
            if r.status < 200:
                provisional = True
                continue
            if method == 'INVITE':
                if 200 <= r.status < 300:
                    self.ack(r)
                    self.last_sdp = r.body
                else:
                    d2, _ = self.phone.build_request('ACK', self.target, self.headers('ACK'), branch=branch)
                    self.phone.send(d2)
            return r
        return None

    def wait_request(self, method, timeout=5.0):
        return self.phone.wait(lambda m: m.method == method and m.get('call-id') == self.call_id, timeout)

    def bye(self, timeout=5.0):
        return self.request('BYE', timeout=timeout)


# --- RTP ----------------------------------------------------------------------

class RtpPeer:
    """One RTP socket: sends numbered packets and records every packet
    received (source, header fields, payload)."""

    def __init__(self, ip=LOCAL):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.port = free_even_port()
        self.sock.bind((ip, self.port))
        self.sock.settimeout(0.1)
        self.ip = ip
        self.got = []
        self.running = True
        self.thread = threading.Thread(target=self._reader, daemon=True)
        self.thread.start()

    def _reader(self):
        while self.running:
            try:
                data, addr = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(data) >= 12:
                b0, b1, seq, ts, ssrc = struct.unpack('!BBHII', data[:12])
                self.got.append({'src': addr, 'pt': b1 & 0x7f, 'seq': seq, 'ts': ts,
                                 'ssrc': ssrc, 'payload': data[12:], 'at': time.time()})

    @staticmethod
    def payload(i, tag):
        """160 bytes that say which packet this is (index, sender) and vary
        byte by byte, so a damaged or swapped payload shows."""
        head = struct.pack('!I4s', i, tag.encode()[:4].ljust(4, b'-'))
        return (head + bytes((i * 7 + k) & 0xFF for k in range(160 - len(head))))[:160]

    def send(self, dest, n, ssrc, tag, seq0=1000, ts0=5000, pt=0, interval=0.005, marker_first=True):
        for i in range(n):
            b1 = pt | (0x80 if (i == 0 and marker_first) else 0)
            hdr = struct.pack('!BBHII', 0x80, b1, (seq0 + i) & 0xFFFF, (ts0 + 160 * i) & 0xFFFFFFFF, ssrc)
            self.sock.sendto(hdr + self.payload(i, tag), dest)
            if interval:
                time.sleep(interval)

    def stream(self, dest, ssrc, tag, stop, interval=0.02):
        """Sends until stop (threading.Event) is set; returns packets sent."""
        i = 0
        while not stop.is_set():
            hdr = struct.pack('!BBHII', 0x80, 0, i & 0xFFFF, (160 * i) & 0xFFFFFFFF, ssrc)
            self.sock.sendto(hdr + self.payload(i, tag), dest)
            i += 1
            time.sleep(interval)
        return i

    def close(self):
        self.running = False
        self.thread.join(1)
        self.sock.close()


# --- the shared calls daemon -------------------------------------------------------

class CallEnv:
    """The daemon the call tests share, its extensions and the trusted
    caller. Numbers start at 4000 (the registrar tests use 2001...)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.d = hf.Daemon(extra=['--no-answer-timeout', str(NO_ANSWER_S)])
        ctx.daemons.append(self.d)
        self.d.start()
        self.next = 4000
        self.caller, _ = self.ext(trust='%s/32' % TRUSTED_IP, name='Trusted caller')

    def ext(self, contact=None, trust=None, max_calls=None, name=None, password=None):
        number = str(self.next)
        self.next += 1
        pw = password or ('pw-' + rand_hex(12))
        args = ['extension', 'add', number, '--password', pw, '--name', name or 'Call test %s' % number]
        if contact:
            args += ['--contact', contact]
        if trust:
            args += ['--trust', trust]
        if max_calls is not None:
            args += ['--max-calls', str(max_calls)]
        hf.cli(self.d.data_dir, *args)
        return number, pw

    def alive(self):
        check(self.d.alive(), 'the calls daemon died:\n%s' % self.d.log_tail(60))


def env(ctx):
    e = getattr(ctx, 'calls_env', None)
    if e is None or e.d.proc is None:
        # first use, or run.py killed it after a failed test: a fresh one
        e = ctx.calls_env = CallEnv(ctx)
    if not e.d.alive():
        ctx.calls_env = None  # the next test starts a new one
        e.alive()
    return e


def cid(tag):
    """A Call-ID pattern for SIPp (-cid_str) and the LIKE that finds it."""
    base = '%s-%s' % (tag, rand_hex(8))
    return base + '-%u@%s', base + '-%'


def callee_sipp(e, scenario, **kw):
    """A SIPp callee on a free port and a static-contact extension for it."""
    s = Sipp(scenario, **kw)
    number, _ = e.ext(contact='sip:%s:%d' % (LOCAL, s.port))
    return number, s


def caller_sipp(e, scenario, number, tag, **kw):
    pattern, like = cid(tag)
    s = Sipp(scenario, e.d.sip_port, ip=TRUSTED_IP, service=number,
             keys=dict({'caller': e.caller}, **kw.pop('keys', {})), cid=pattern, **kw)
    s.like = like
    return s


def run_pair(uac, uas):
    """Starts the callee, then the caller; waits for both."""
    uas.start().ready(0.1)
    try:
        uac.start()
        uac.wait()
        uas.wait(timeout=15)
    finally:
        uac.stop()
        uas.stop()


def sipp_ok(s, what, n=1):
    check(s.ok(n), '%s failed: %s' % (what, s.describe()))


def invite_seen(s):
    """The INVITE a SIPp callee received."""
    got = s.received(lambda m: m.method == 'INVITE')
    check(got, '%s received no INVITE:\n%s' % (s.name, s.describe()))
    return got[0]


def check_anchored(e, sdp_body, what):
    """The SDP points at Hookflash's RTP range on 127.0.0.1."""
    addr, port, _, _ = sdp_audio(sdp_body)
    lo = e.d.rtp_base
    check(addr == LOCAL and port is not None and lo <= port <= lo + 999,
          '%s: SDP not anchored on Hookflash (c=%s, port %s; RTP range %d-%d):\n%s'
          % (what, addr, port, lo, lo + 999, sdp_body))
    return port


# --- tests: SIPp callers and callees ------------------------------------------------

def test_call_basic(ctx):
    """Trusted SIPp caller -> Hookflash -> SIPp callee (static contact,
    -rtp_echo); the caller hangs up after 1 s. Both legs' SDP point at
    Hookflash's RTP ports; CDR: ANSWERED, hangup_side caller, codec PCMU,
    both Call-IDs, billsec ~1 s."""
    e = env(ctx)
    callee, uas = callee_sipp(e, 'call_uas.xml', rtp_echo=True)
    uac = caller_sipp(e, 'call_uac.xml', callee, 'basic', duration_ms=1000)
    run_pair(uac, uas)
    sipp_ok(uac, 'caller')
    sipp_ok(uas, 'callee')
    inv = invite_seen(uas)
    check_anchored(e, inv.body, 'INVITE to the callee')
    ok = uac.received(lambda m: m.status == 200 and m.cseq()[1] == 'INVITE')
    check_anchored(e, ok[0].body, '200 to the caller')
    check(re.search(r'sip:%s@' % e.caller, inv.get('from', '')), 'the callee does not see who calls: From %r'
          % inv.get('from'))
    row = wait_cdr(e.d, like=uac.like)
    check_cdr(row, caller=e.caller, callee=callee, disposition='ANSWERED', hangup_side='caller',
              hangup_status=200, codec='PCMU/8000', billsec=between(1, 2), duration_s=between(1, 3),
              call_id_b=inv.get('call-id'), answer_ms=nonempty)
    check(row['call_id_b'] != row['call_id_a'], 'leg B reuses leg A\'s Call-ID: %s' % row['call_id_a'])


def test_call_callee_hangs_up(ctx):
    """The SIPp callee sends BYE after 1 s: Hookflash answers it and sends
    BYE to the caller; CDR ANSWERED, hangup_side callee."""
    e = env(ctx)
    callee, uas = callee_sipp(e, 'call_uas_bye.xml', duration_ms=1000)
    uac = caller_sipp(e, 'call_uac_wait_bye.xml', callee, 'calleebye')
    run_pair(uac, uas)
    sipp_ok(uas, 'callee (sends BYE)')
    sipp_ok(uac, 'caller (waits for BYE)')
    row = wait_cdr(e.d, like=uac.like)
    check_cdr(row, caller=e.caller, callee=callee, disposition='ANSWERED', hangup_side='callee',
              billsec=between(1, 2))


def test_call_busy(ctx):
    """The callee answers 486: the caller gets 486; CDR BUSY."""
    e = env(ctx)
    callee, uas = callee_sipp(e, 'call_uas_busy.xml')
    uac = caller_sipp(e, 'call_uac_fail.xml', callee, 'busy')
    run_pair(uac, uas)
    sipp_ok(uas, 'callee (486)')
    check(uac.finals() == [486], 'caller: want 486, got finals %r\n%s' % (uac.finals(), uac.describe()))
    row = wait_cdr(e.d, like=uac.like)
    check_cdr(row, caller=e.caller, callee=callee, disposition='BUSY', hangup_status=486,
              billsec=0, answer_ms=0)


def test_call_no_answer(ctx):
    """The callee only rings: after --no-answer-timeout (4 s) the caller
    gets 480 and the callee a CANCEL (it answers 487); CDR NO ANSWER,
    hangup_side system."""
    e = env(ctx)
    callee, uas = callee_sipp(e, 'call_uas_ring.xml')
    uac = caller_sipp(e, 'call_uac_fail.xml', callee, 'noanswer')
    run_pair(uac, uas)
    check(uac.finals() == [480], 'caller: want 480, got finals %r\n%s' % (uac.finals(), uac.describe()))
    check(NO_ANSWER_S - 0.5 <= uac.elapsed <= NO_ANSWER_S + 4,
          '480 after %.1fs, want ~%ds (--no-answer-timeout)' % (uac.elapsed, NO_ANSWER_S))
    sipp_ok(uas, 'callee (rings, must get CANCEL)')
    row = wait_cdr(e.d, like=uac.like)
    check_cdr(row, caller=e.caller, callee=callee, disposition='NO ANSWER', hangup_side='system',
              hangup_status=480, billsec=0, duration_s=between(NO_ANSWER_S - 1, NO_ANSWER_S + 2))


def test_call_caller_cancels(ctx):
    """The caller CANCELs after 1 s of ringing: 200 to the CANCEL, 487 to
    the INVITE; the callee gets a CANCEL and answers 487; CDR CANCELLED,
    hangup_side caller."""
    e = env(ctx)
    callee, uas = callee_sipp(e, 'call_uas_ring.xml')
    uac = caller_sipp(e, 'call_uac_cancel.xml', callee, 'cancel', duration_ms=1000)
    run_pair(uac, uas)
    sipp_ok(uac, 'caller (CANCEL)')
    sipp_ok(uas, 'callee (must get CANCEL)')
    check(uas.received(lambda m: m.method == 'CANCEL'), 'no CANCEL reached the callee')
    row = wait_cdr(e.d, like=uac.like)
    check_cdr(row, caller=e.caller, callee=callee, disposition='CANCELLED', hangup_side='caller',
              hangup_status=487, billsec=0)


def test_call_hold_unhold(ctx):
    """The caller re-INVITEs with a=sendonly: the callee gets a re-INVITE
    with a=sendonly and answers a=recvonly, the caller gets a 200 with
    a=recvonly and `hookflash calls` shows the call on hold; then unhold
    with a=sendrecv both ways (the SIPp scenarios check every direction).
    CDR ANSWERED."""
    e = env(ctx)
    callee, uas = callee_sipp(e, 'call_uas_hold.xml')
    uac = caller_sipp(e, 'call_uac_hold.xml', callee, 'hold', duration_ms=1500)
    uas.start().ready(0.1)
    states = []
    try:
        uac.start()
        deadline = time.time() + 10
        while uac.proc.poll() is None and time.time() < deadline:
            _, out, _ = hf.cli(e.d.data_dir, 'calls', check_rc=False)
            states += [l for l in out.splitlines() if re.match(r'\s*\d+\s+%s\s+%s\s' % (e.caller, callee), l)]
            time.sleep(0.15)
        uac.wait()
        uas.wait(timeout=15)
    finally:
        uac.stop()
        uas.stop()
    sipp_ok(uac, 'caller (hold/unhold)')
    sipp_ok(uas, 'callee (held/resumed)')
    reinvites = uas.received(lambda m: m.method == 'INVITE')
    check(len(reinvites) == 3, 'callee got %d INVITEs, want 3 (call, hold, unhold)' % len(reinvites))
    check(sdp_audio(reinvites[1].body)[2] == 'sendonly', 'hold re-INVITE:\n%s' % reinvites[1].body)
    check_anchored(e, reinvites[1].body, 'hold re-INVITE')
    check(any(' hold ' in s for s in states), '`hookflash calls` never showed the call on hold: %r' % states)
    row = wait_cdr(e.d, like=uac.like)
    check_cdr(row, caller=e.caller, callee=callee, disposition='ANSWERED', hangup_side='caller')


def register_contact(e, number, pw, port):
    """Registers sip:number@127.0.0.1:port from that very port (Hookflash
    sends calls to the source of the REGISTER), then frees the port."""
    c = sipclient.Client(e.d.sip_port, local_port=port)
    try:
        res = c.register(number, pw, expires=300)
    finally:
        c.close()
    f = res['final']
    check(f is not None and f.status == 200, 'REGISTER %s from port %d: %s' % (number, port, show(f)))


def test_call_forked(ctx):
    """An extension with two registered contacts (two SIPp callees): both
    ring, the first answers after 1 s, the other gets CANCEL and answers
    487; the caller is connected to the first; one CDR, ANSWERED, with the
    answering fork's Call-ID."""
    e = env(ctx)
    number, pw = e.ext()
    p1, p2 = hf.free_port(), hf.free_port()
    register_contact(e, number, pw, p1)
    register_contact(e, number, pw, p2)
    rows, _ = hf.registrations(e.d.data_dir)
    mine = [r for r in rows if r['ext'] == number]
    check(len(mine) == 2, 'want 2 registrations of %s, got:\n%s' % (number, '\n'.join(r['line'] for r in mine)))
    answerer = Sipp('call_uas.xml', port=p1, duration_ms=1000, rtp_echo=True)
    loser = Sipp('call_uas_ring.xml', port=p2)
    uac = caller_sipp(e, 'call_uac.xml', number, 'fork', duration_ms=500)
    loser.start().ready(0)
    answerer.start().ready(0.1)
    try:
        uac.start()
        uac.wait()
        answerer.wait(timeout=15)
        loser.wait(timeout=15)
    finally:
        for s in (uac, answerer, loser):
            s.stop()
    sipp_ok(uac, 'caller')
    sipp_ok(answerer, 'fork that answers')
    sipp_ok(loser, 'fork that must be cancelled')
    inv1, inv2 = invite_seen(answerer), invite_seen(loser)
    check(inv1.get('call-id') != inv2.get('call-id'), 'both forks got the same Call-ID')
    check(loser.received(lambda m: m.method == 'CANCEL'), 'the losing fork got no CANCEL')
    row = wait_cdr(e.d, like=uac.like)
    check_cdr(row, caller=e.caller, callee=number, disposition='ANSWERED', hangup_side='caller',
              call_id_b=inv1.get('call-id'))


def test_call_unknown_number_404(ctx):
    """A number that is no extension: 404, and a CDR row FAILED/404."""
    e = env(ctx)
    uac = caller_sipp(e, 'call_uac_fail.xml', '9999', 'unknown')
    uac.start()
    uac.wait()
    check(uac.finals() == [404], 'want 404, got finals %r\n%s' % (uac.finals(), uac.describe()))
    row = wait_cdr(e.d, like=uac.like, timeout=3)
    check_cdr(row, caller=e.caller, callee='9999', disposition='FAILED', hangup_status=404, billsec=0)


def test_call_nobody_registered_480(ctx):
    """An extension with no registration and no static contact: 480, and a
    CDR row with hangup_status 480 (NO ANSWER or FAILED)."""
    e = env(ctx)
    number, _ = e.ext()
    uac = caller_sipp(e, 'call_uac_fail.xml', number, 'unreg')
    uac.start()
    uac.wait()
    check(uac.finals() == [480], 'want 480, got finals %r\n%s' % (uac.finals(), uac.describe()))
    row = wait_cdr(e.d, like=uac.like, timeout=3)
    check_cdr(row, caller=e.caller, callee=number, disposition={'NO ANSWER', 'FAILED'},
              hangup_status=480, billsec=0)


def test_call_digest_407(ctx):
    """An untrusted caller (SIPp on 127.0.0.1 with the extension's
    credentials): INVITE -> 407 with an MD5 Proxy-Authenticate -> ACK ->
    INVITE with Proxy-Authorization -> 200; the CDR names the
    authenticated extension as the caller."""
    e = env(ctx)
    caller, pw = e.ext()
    callee, uas = callee_sipp(e, 'call_uas.xml', rtp_echo=True)
    pattern, like = cid('digest')
    uac = Sipp('call_uac_auth.xml', e.d.sip_port, ip=LOCAL, service=callee, keys={'caller': caller},
               cid=pattern, user=caller, password=pw, duration_ms=500)
    run_pair(uac, uas)
    sipp_ok(uac, 'caller with digest')
    sipp_ok(uas, 'callee')
    c407 = uac.received(lambda m: m.status == 407)
    check(len(c407) == 1, 'want exactly one 407, got %d' % len(c407))
    ch = sipclient.Client.challenges(c407[0], proxy=True)
    check(ch and ch[0].get('algorithm', 'MD5').upper() == 'MD5' and ch[0].get('nonce') and ch[0].get('realm'),
          '407 without an MD5 Proxy-Authenticate:\n%s' % show(c407[0]))
    row = wait_cdr(e.d, like=like)
    check_cdr(row, caller=caller, callee=callee, disposition='ANSWERED', hangup_side='caller')


def test_call_digest_wrong_password(ctx):
    """The python phone answers the 407 with a wrong password: refused
    (407 again or 403), the callee never rings, no call is set up."""
    e = env(ctx)
    caller, pw = e.ext()
    b = Phone(e.d.sip_port, 'callee', name='callee')
    callee, _ = e.ext(contact='sip:%s:%d' % (LOCAL, b.port))
    a = Phone(e.d.sip_port, caller, pw + 'x', name='caller')
    rtp = RtpPeer()
    try:
        oc = a.call(callee, make_sdp(rtp.port))
        f = oc.wait_final(6)
        check(oc.challenged is not None, 'the first INVITE was not challenged: %s' % show(oc.challenged or f))
        check(f is not None and f.status in (403, 407), 'wrong password: want 403/407, got:\n%s' % show(f))
        check(b.wait_request('INVITE', 0.5) is None, 'the callee rang for a caller with a wrong password')
        time.sleep(0.3)
        check(not cdr_rows(e.d, oc.call_id) or cdr_rows(e.d, oc.call_id)[0]['disposition'] != 'ANSWERED',
              'a call with a wrong password was answered')
    finally:
        a.close()
        b.close()
        rtp.close()


def test_call_extension_max_calls_486(ctx):
    """An extension with --max-calls 1 that is in a call: a second call to
    it gets 486 at once (its phone does not ring)."""
    e = env(ctx)
    b = Phone(e.d.sip_port, 'callee', name='callee')
    callee, _ = e.ext(contact='sip:%s:%d' % (LOCAL, b.port), max_calls=1)
    a = Phone(e.d.sip_port, e.caller, ip=TRUSTED_IP, name='caller')
    ra, rb = RtpPeer(TRUSTED_IP), RtpPeer()
    try:
        oc = a.call(callee, make_sdp(ra.port, ip=TRUSTED_IP))
        inv = b.wait_request('INVITE', 5)
        check(inv is not None, 'callee got no INVITE')
        bd = b.answer(inv, make_sdp(rb.port))
        f = oc.wait_final(5)
        check(f is not None and f.status == 200, 'first call: %s' % show(f))
        oc2 = a.call(callee, make_sdp(ra.port, ip=TRUSTED_IP))
        f2 = oc2.wait_final(5)
        check(f2 is not None and f2.status == 486, 'second call to a --max-calls 1 extension in a call: '
              'want 486, got %s' % show(f2))
        check(b.wait_request('INVITE', 0.3) is None, 'the busy extension rang anyway')
        r = oc.dialog.bye()
        check(r is not None and r.status == 200, 'BYE: %s' % show(r))
        check(bd.wait_request('BYE', 3) is not None, 'callee got no BYE')
        row = wait_cdr(e.d, oc.call_id)
        check_cdr(row, disposition='ANSWERED')
        rows2 = cdr_rows(e.d, oc2.call_id)
        if rows2:
            check_cdr(rows2[0], disposition='BUSY', hangup_status=486)
    finally:
        for x in (a, b, ra, rb):
            x.close()


# --- tests: RTP through the relay ----------------------------------------------------

def python_call(e, ring=True, caller_sdp_dir='sendrecv'):
    """Trusted python caller A (127.0.0.2) calls python callee B (static
    contact); returns (a, b, ra, rb, outcall, dialog_b, a_media, b_media)
    where x_media is where that phone must send RTP (Hookflash's port)."""
    b = Phone(e.d.sip_port, 'callee', name='B')
    callee, _ = e.ext(contact='sip:%s:%d' % (LOCAL, b.port))
    a = Phone(e.d.sip_port, e.caller, ip=TRUSTED_IP, name='A')
    ra, rb = RtpPeer(TRUSTED_IP), RtpPeer()
    oc = a.call(callee, make_sdp(ra.port, caller_sdp_dir, ip=TRUSTED_IP))
    inv = b.wait_request('INVITE', 5)
    check(inv is not None, 'B got no INVITE; A saw:\n%s' % '\n'.join(r.start for r in oc.responses))
    b_media = sdp_audio(inv.body)
    bd = b.answer(inv, make_sdp(rb.port), ring=ring)
    f = oc.wait_final(5)
    check(f is not None and f.status == 200, 'A: want 200, got %s' % show(f))
    a_media = sdp_audio(f.body)
    check_anchored(e, f.body, '200 to A')
    check_anchored(e, inv.body, 'INVITE to B')
    return dict(a=a, b=b, ra=ra, rb=rb, oc=oc, bd=bd, callee=callee,
                a_dest=(a_media[0], a_media[1]), b_dest=(b_media[0], b_media[1]))


def close_all(c):
    for k in ('a', 'b', 'ra', 'rb'):
        if c and k in c:
            c[k].close()


def check_stream(got, n, ssrc, tag, seq0, ts0, src, what):
    """got: packets one RtpPeer received; n sent with these numbers."""
    mine = [p for p in got if p['ssrc'] == ssrc]
    check(len(mine) == n, '%s: %d of %d RTP packets arrived (%d packets received in all)'
          % (what, len(mine), n, len(got)))
    seqs = [p['seq'] for p in mine]
    want = [(seq0 + i) & 0xFFFF for i in range(n)]
    check(sorted(seqs) == want, '%s: sequence numbers changed or missing: first %r' % (what, seqs[:10]))
    for p in mine:
        i = (p['seq'] - seq0) & 0xFFFF
        check(p['ts'] == (ts0 + 160 * i) & 0xFFFFFFFF, '%s: timestamp of packet %d changed: %d'
              % (what, i, p['ts']))
        check(p['payload'] == RtpPeer.payload(i, tag), '%s: payload of packet %d damaged' % (what, i))
        check(p['pt'] == 0, '%s: payload type %d, want 0' % (what, p['pt']))
    srcs = {p['src'] for p in mine}
    check(srcs == {src}, '%s: packets came from %r, want only Hookflash\'s port %r (symmetric RTP)'
          % (what, srcs, src))


def test_call_rtp_relay_counts(ctx):
    """Python phones A and B in a call through Hookflash: A sends 300 RTP
    packets and B 200 at once (both directions together) to the ports in
    the SDP Hookflash gave them. Every packet arrives on the other side,
    from Hookflash's port for that side, with sequence number, timestamp,
    SSRC, payload type and the 160-byte payload unchanged (G.711
    pass-through); the CDR counts exactly these packets per leg and no
    loss."""
    e = env(ctx)
    c = None
    try:
        c = python_call(e)
        time.sleep(0.1)
        NA, NB = 300, 200
        ta = threading.Thread(target=c['ra'].send, args=(c['a_dest'], NA, 0x11111111, 'A->B'),
                              kwargs=dict(seq0=100, ts0=1000, interval=0.004))
        tb = threading.Thread(target=c['rb'].send, args=(c['b_dest'], NB, 0x22222222, 'B->A'),
                              kwargs=dict(seq0=60000, ts0=4294960000, interval=0.006))
        ta.start()
        tb.start()
        ta.join()
        tb.join()
        hf.wait_for(lambda: len(c['rb'].got) >= NA and len(c['ra'].got) >= NB, 3)
        check_stream(c['rb'].got, NA, 0x11111111, 'A->B', 100, 1000, c['b_dest'], 'A -> B')
        check_stream(c['ra'].got, NB, 0x22222222, 'B->A', 60000, 4294960000, c['a_dest'], 'B -> A')
        r = c['oc'].dialog.bye()
        check(r is not None and r.status == 200, 'BYE from A: %s' % show(r))
        check(c['bd'].wait_request('BYE', 3) is not None, 'B got no BYE')
        row = wait_cdr(e.d, c['oc'].call_id)
        check_cdr(row, disposition='ANSWERED', hangup_side='caller', codec='PCMU/8000',
                  a_pkts_rx=NA, b_pkts_tx=NA, b_pkts_rx=NB, a_pkts_tx=NB,
                  a_bytes_rx=NA * PCMU_PACKET, b_bytes_tx=NA * PCMU_PACKET,
                  b_bytes_rx=NB * PCMU_PACKET, a_bytes_tx=NB * PCMU_PACKET, a_lost=0, b_lost=0)
    finally:
        close_all(c)


def test_call_early_media(ctx):
    """The callee answers 183 with SDP and plays 25 packets of early media
    (a ringback tone or an announcement) before its 200: Hookflash relays
    the 183 with its own SDP to the caller, so the caller listens on that
    port and must hear them (RFC 3960, the gateway model). The same drop
    of packets that arrive before the call is connected shows, under load,
    as the first packet a callee sends right after its 200 going missing
    (seen: 49 of 50 in a full run)."""
    e = env(ctx)
    b = Phone(e.d.sip_port, 'callee', name='B')
    callee, _ = e.ext(contact='sip:%s:%d' % (LOCAL, b.port))
    a = Phone(e.d.sip_port, e.caller, ip=TRUSTED_IP, name='A')
    ra, rb = RtpPeer(TRUSTED_IP), RtpPeer()
    try:
        oc = a.call(callee, make_sdp(ra.port, ip=TRUSTED_IP))
        inv = b.wait_request('INVITE', 5)
        check(inv is not None, 'B got no INVITE')
        b_dest = sdp_audio(inv.body)[:2]
        to_tag = rand_hex(8)
        b.respond(inv, 183, to_tag=to_tag, body=make_sdp(rb.port))
        p183 = oc.wait_status(183, 3)
        check(p183 is not None and p183.body.strip(), 'A got no 183 with SDP: %s'
              % [r.start for r in oc.responses])
        a_dest = sdp_audio(p183.body)[:2]
        check_anchored(e, p183.body, '183 to A')
        rb.send(b_dest, 25, 0x77777777, 'EM', seq0=1, ts0=0, interval=0.02)
        time.sleep(0.2)
        early = len([p for p in ra.got if p['ssrc'] == 0x77777777])
        dlg = b.answer(inv, make_sdp(rb.port), to_tag=to_tag, ring=False)
        f = oc.wait_final(5)
        check(f is not None and f.status == 200, 'A: %s' % show(f))
        check(sdp_audio(f.body)[:2] == a_dest, 'the 200 moved A\'s media from the 183\'s %r to %r'
              % (a_dest, sdp_audio(f.body)[:2]))
        oc.dialog.bye()
        dlg.wait_request('BYE', 3)
        wait_cdr(e.d, oc.call_id)
        check(early == 25, 'early media: A heard %d of the 25 RTP packets B sent after its 183 with SDP '
              '(Hookflash offered A its port %s:%s in the relayed 183)' % (early, a_dest[0], a_dest[1]))
    finally:
        for x in (a, b, ra, rb):
            x.close()


def test_call_rtp_sipp_stream(ctx):
    """SIPp caller plays 1 s of a 440 Hz mu-law tone (rtp_stream: 50
    packets) to a SIPp callee that echoes it (-rtp_echo): the CDR shows
    the 50 packets in on leg A and out on leg B, and the 50 echoed ones in
    on leg B and out on leg A (nothing lost on loopback: exact counts)."""
    e = env(ctx)
    callee, uas = callee_sipp(e, 'call_uas.xml', rtp_echo=True)
    uac = caller_sipp(e, 'call_uac_rtp.xml', callee, 'rtpstream', duration_ms=1600)
    with open(os.path.join(uac.workdir, 'call_audio.ulaw'), 'wb') as f:
        f.write(tone_ulaw(1.0))
    run_pair(uac, uas)
    sipp_ok(uac, 'caller (rtp_stream)')
    sipp_ok(uas, 'callee (rtp_echo)')
    row = wait_cdr(e.d, like=uac.like)
    check_cdr(row, disposition='ANSWERED', a_pkts_rx=50, b_pkts_tx=50, b_pkts_rx=50, a_pkts_tx=50,
              a_lost=0, b_lost=0, a_bytes_rx=50 * PCMU_PACKET)


# --- tests: admin and timers --------------------------------------------------------

def test_call_admin_hangup(ctx):
    """`hookflash calls` lists the answered call; `hookflash hangup ID`
    sends BYE to both phones; CDR hangup_side admin."""
    e = env(ctx)
    c = None
    try:
        c = python_call(e)
        _, out, _ = hf.cli(e.d.data_dir, 'calls')
        line = [l for l in out.splitlines() if re.match(r'\s*\d+\s+%s\s+%s\s' % (e.caller, c['callee']), l)]
        check(line and 'answered' in line[0], '`hookflash calls` does not list the call as answered:\n%s' % out)
        call_id = line[0].split()[0]
        hf.cli(e.d.data_dir, 'hangup', call_id)
        ba = c['oc'].dialog.wait_request('BYE', 3)
        bb = c['bd'].wait_request('BYE', 3)
        check(ba is not None and bb is not None, 'after `hookflash hangup` BYE reached A: %s, B: %s'
              % (ba is not None, bb is not None))
        c['a'].respond(ba, 200)
        c['b'].respond(bb, 200)
        row = wait_cdr(e.d, c['oc'].call_id)
        check_cdr(row, disposition='ANSWERED', hangup_side='admin')
        _, out, _ = hf.cli(e.d.data_dir, 'calls')
        check(not re.search(r'(?m)^\s*%s\s' % call_id, out), 'call still listed after hangup:\n%s' % out)
    finally:
        close_all(c)


def test_call_session_timer_header(ctx):
    """A caller asking for Session-Expires: 120;refresher=uac gets it back
    in the 200 with Require: timer (RFC 4028)."""
    e = env(ctx)
    b = Phone(e.d.sip_port, 'callee', name='B')
    callee, _ = e.ext(contact='sip:%s:%d' % (LOCAL, b.port))
    a = Phone(e.d.sip_port, e.caller, ip=TRUSTED_IP, name='A')
    ra, rb = RtpPeer(TRUSTED_IP), RtpPeer()
    try:
        oc = a.call(callee, make_sdp(ra.port, ip=TRUSTED_IP),
                    extra=['Supported: timer', 'Session-Expires: 120;refresher=uac'])
        inv = b.wait_request('INVITE', 5)
        check(inv is not None, 'B got no INVITE')
        b.answer(inv, make_sdp(rb.port))
        f = oc.wait_final(5)
        check(f is not None and f.status == 200, 'A: %s' % show(f))
        se = f.get('session-expires', '')
        check(re.match(r'120\s*;\s*refresher=uac', se), '200 Session-Expires %r, want 120;refresher=uac\n%s'
              % (se, show(f)))
        check('timer' in ','.join(f.all('require')), '200 lacks Require: timer:\n%s' % show(f))
        oc.dialog.bye()
        wait_cdr(e.d, oc.call_id)
    finally:
        for x in (a, b, ra, rb):
            x.close()


def test_call_rtp_timeout(ctx):
    """A daemon with --rtp-timeout 2: a call on hold stays up for 3.5 s
    without RTP; resumed, RTP flows and then stops: within ~2 s both
    phones get BYE; CDR hangup_side system, cause mentions RTP."""
    d = hf.Daemon(extra=['--rtp-timeout', str(RTP_TIMEOUT_S)])
    ctx.daemons.append(d)
    d.start()
    e = CallEnv.__new__(CallEnv)
    e.ctx, e.d, e.next = ctx, d, 4500
    e.caller, _ = e.ext(trust='%s/32' % TRUSTED_IP)
    c = None
    try:
        c = python_call(e)
        stop = threading.Event()
        ta = threading.Thread(target=c['ra'].stream, args=(c['a_dest'], 0x5555, 'A', stop))
        tb = threading.Thread(target=c['rb'].stream, args=(c['b_dest'], 0x6666, 'B', stop))
        ta.start()
        tb.start()
        time.sleep(0.6)
        stop.set()
        ta.join()
        tb.join()
        # hold: A sendonly, B answers recvonly; then no RTP at all for 3.5 s
        dlg = c['oc'].dialog
        c['b'].reinvite_answer = lambda offer: make_sdp(
            c['rb'].port, {'sendonly': 'recvonly', 'inactive': 'inactive'}.get(sdp_audio(offer)[2], 'sendrecv'),
            version=len(c['b'].reinvites) + 2)
        hold = dlg.request('INVITE', make_sdp(c['ra'].port, 'sendonly', ip=TRUSTED_IP, version=2))
        check(hold is not None and hold.status == 200, 'hold: %s' % show(hold))
        check(sdp_audio(hold.body)[2] == 'recvonly', 'hold answer to A is not recvonly:\n%s' % hold.body)
        t0 = time.time()
        bye = dlg.wait_request('BYE', 3.5)
        check(bye is None, 'a call on hold was ended after %.1fs without RTP (hold must not time out):\n%s'
              % (time.time() - t0, show(bye)))
        resume = dlg.request('INVITE', make_sdp(c['ra'].port, 'sendrecv', ip=TRUSTED_IP, version=3))
        check(resume is not None and resume.status == 200, 'resume: %s' % show(resume))
        stop = threading.Event()
        ta = threading.Thread(target=c['ra'].stream, args=(c['a_dest'], 0x5555, 'A', stop))
        tb = threading.Thread(target=c['rb'].stream, args=(c['b_dest'], 0x6666, 'B', stop))
        ta.start()
        tb.start()
        time.sleep(0.6)
        stop.set()
        ta.join()
        tb.join()
        t0 = time.time()
        ba = dlg.wait_request('BYE', RTP_TIMEOUT_S + 3)
        bb = c['bd'].wait_request('BYE', 1)
        check(ba is not None and bb is not None, 'RTP stopped, no BYE within %ds (A: %s, B: %s)'
              % (RTP_TIMEOUT_S + 3, ba is not None, bb is not None))
        waited = time.time() - t0
        check(waited >= RTP_TIMEOUT_S - 0.7, 'BYE %.1fs after the RTP stopped, before --rtp-timeout %d'
              % (waited, RTP_TIMEOUT_S))
        c['a'].respond(ba, 200)
        c['b'].respond(bb, 200)
        row = wait_cdr(d, c['oc'].call_id)
        check_cdr(row, disposition='ANSWERED', hangup_side='system',
                  hangup_cause=lambda v: 'rtp' in (v or '').lower())
    finally:
        close_all(c)
    d.stop_clean()


def test_calls_daemon_clean_exit(ctx):
    """The calls daemon, after all the calls above, ends on SIGTERM with
    exit status 0 and no sanitizer report; no call is left in `hookflash
    calls` before that."""
    e = env(ctx)
    _, out, _ = hf.cli(e.d.data_dir, 'calls')
    left = [l for l in out.splitlines()[1:] if l.strip() and not set(l.strip()) <= set('-=')]
    check(not left, 'calls left over after the tests:\n%s' % out)
    e.d.stop_clean()
    ctx.calls_env = None


TESTS = [
    test_call_basic,
    test_call_callee_hangs_up,
    test_call_busy,
    test_call_no_answer,
    test_call_caller_cancels,
    test_call_hold_unhold,
    test_call_forked,
    test_call_unknown_number_404,
    test_call_nobody_registered_480,
    test_call_digest_407,
    test_call_digest_wrong_password,
    test_call_extension_max_calls_486,
    test_call_rtp_relay_counts,
    test_call_early_media,
    test_call_rtp_sipp_stream,
    test_call_admin_hangup,
    test_call_session_timer_header,
    test_call_rtp_timeout,
    test_calls_daemon_clean_exit,
]


if __name__ == '__main__':
    import run  # noqa: E402  (run.py's runner, with these tests)
    run.TESTS = TESTS
    sys.exit(run.guarded())
