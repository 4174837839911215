#!/usr/bin/env python3
"""
The tools of the call tests and the call benchmark (python standard
library only):

- Sipp: one SIPp process in the background in its own directory (a callee
  first, then the caller), its statistics and its message trace parsed
  back into messages;
- Phone, OutCall, Dialog: a small SIP phone on UDP for the calls that need
  exact control: INVITE with 407 digest, CANCEL, 183/180/200, ACK,
  re-INVITE, BYE, answering retransmissions, answering re-INVITEs by
  itself;
- RtpPeer: an RTP socket that sends numbered packets with recognisable
  payloads and records everything it receives;
- SDP and CDR helpers (the CDR is read straight from hookflash.db).
"""
import os
import re
import socket
import struct
import subprocess
import tempfile
import threading
import time

import hf
import sipclient
from hf import check, Failure, LOCAL
from sipclient import Message, rand_hex

TRUSTED_IP = '127.0.0.2'     # where trusted callers send from (see calls.py)
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
        self.reinvite_answer = None  # fn(offer body) -> answer body: answer re-INVITE/UPDATE at once
        self.reinvites = []  # the requests answered that way
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
                if msg.method in ('INVITE', 'UPDATE') and self.reinvite_answer and \
                        Dialog._tag(msg.get('to', '')):
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

    def ping(self, timeout=3.0):
        """Sends an OPTIONS to Hookflash from this phone's socket and waits
        for its answer. The signalling loop reads its UDP socket in order,
        so once the answer is here, everything this phone sent before (an
        ACK, say) has been handled, and what that handling posted to a
        media worker runs before the worker reads another packet."""
        host = '%s:%d' % self.server
        headers = ['From: <sip:%s@%s>;tag=%s' % (self.user, host, rand_hex(8)),
                   'To: <sip:%s>' % host, 'Call-ID: %s@hf-it-ping' % rand_hex(16),
                   'CSeq: 1 OPTIONS']
        data, branch = self.build_request('OPTIONS', 'sip:%s' % host, headers)
        self.send(data)
        r = self.wait(lambda m: m.status is not None and m.status >= 200 and m.branch() == branch, timeout)
        check(r is not None, '%s: no answer to an OPTIONS within %ss (sent to know that what came '
              'before was read)\n%s' % (self.name, timeout, self.trace_text()))
        return r

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
        self.ack_body = ''  # the answer, when the INVITE had no offer
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

    def wait_ringing(self, timeout=5.0):
        """The first 180, or 183 (Hookflash answers a callee's 180 with a
        183 carrying its SDP when it plays ringback); None if a final
        response or nothing comes first."""
        for r in self.responses:
            if r.status in (180, 183):
                return r
        deadline = time.time() + timeout
        while self.final is None:
            r = self.next_response(deadline - time.time())
            if r is None:
                return None
            if r.status >= 200:
                self._final(r)
            elif r.status in (180, 183):
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
        self.dialog.ack(r, self.ack_body)

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

    def ack(self, resp, body=''):
        cseq = resp.cseq()[0]
        data, _ = self.phone.build_request('ACK', self.target, self.headers('ACK', cseq), body)
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

    def request(self, method, body='', timeout=5.0, extra=(), ctype='application/sdp', ack_body=''):
        """Sends an in-dialog request and returns its final response (an
        INVITE's 2xx is ACKed, with ack_body: the answer to an offer in
        the 2xx of an offer-less re-INVITE)."""
        self.cseq += 1
        data, branch = self.phone.build_request(method, self.target,
                                                self.headers(method) + ['Contact: %s' % self.phone.contact]
                                                + list(extra), body, ctype=ctype)
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
                    self.ack(r, ack_body)
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
