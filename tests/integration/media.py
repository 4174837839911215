#!/usr/bin/env python3
"""
The media engine end to end: real softphones (baresip 1.0,
headless, see tones.py) call each other through Hookflash with codecs that
force transcoding (opus<->PCMU, G722<->PCMA, opus<->G722, and opus<->PCMA
forced by the extensions' --codecs) and with the same codec (pass-through);
each side plays its own tone and records what it hears, and each
recording must hold the other side's tone, loud, all along. A call that
rings first must give ringback, then the conversation. SRTP on one leg
and plain RTP on the other (the caller insisting on RTP/SAVP; the callee's
extension requiring it) is checked on the wire: the plain leg carries
G.711 anyone can decode, the SRTP leg nothing readable. DTMF sent as RFC
4733 (baresip), SIP INFO and in-band tones (a python phone) must reach the
other phone in the form it negotiated, and Hookflash's own account of the
call (its log and the DTMF column of `hookflash calls`).

Every softphone call is captured on lo (dumpcap, so the tests run as root;
configure --tests installs tshark) and decoded as RTP by tshark: what
Hookflash sends each phone must be in the payload types that phone
negotiated, in sequence (check_wire); pass-through must relay packets
byte for byte.

Run with the other integration tests or alone:

    python3 tests/integration/media.py [-v] [-k SUBSTRING]

The codecs each phone may use are set on the phone (;audio_codecs=), so
Hookflash has to offer the callee what the callee can take and transcode;
each test also checks from the phones' logs that they really used the
codec they were limited to, so that a phone quietly falling back to a
common codec cannot make a transcoding test pass. When a test fails, the
message carries the SDP Hookflash received and sent (the daemon runs with
--sip-trace), its log lines about the call and the phones' logs.
"""
import os
import re
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import callkit  # noqa: E402
import hf  # noqa: E402
import tones  # noqa: E402
from hf import check, LOCAL  # noqa: E402
from sipclient import rand_hex  # noqa: E402
from tones import Softphone, TONE_A, TONE_B  # noqa: E402
from wire import Capture, check_srtp_wire, in_range, say, wire_streams  # noqa: E402

TALK_S = 2.5

# what baresip's log says about the codec it uses (audio: Set audio
# encoder: opus 48000Hz 2ch)
CODEC_NAMES = {'pcmu': 'PCMU', 'pcma': 'PCMA', 'g722': 'G722', 'opus': 'opus'}
# RTP port ranges for the phones A and B, so that captures can tell the
# legs apart: below the ephemeral ports (where SIP ports come from) and
# away from the daemon's --rtp-ports (the first pair that does not overlap)
PHONE_PORTS = [((24000, 24098), (25000, 25098)), ((12000, 12098), (13000, 13098))]


# --- the daemon the media tests share -----------------------------------------

class MediaEnv:
    """One hookflashd with SIP tracing on (the SDP it sent and received is
    in its log, for failure reports) and its extensions, numbered from
    6000."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.d = hf.Daemon(sip_trace=True)
        ctx.daemons.append(self.d)
        self.d.start()
        lo, hi = self.d.rtp_base, self.d.rtp_base + 999
        self.ports_a, self.ports_b = next(
            pair for pair in PHONE_PORTS if all(r[1] + 1 < lo or r[0] > hi for r in pair))
        self.next = 6000

    def ext(self, name, codecs=None, srtp=None, contact=None):
        number = str(self.next)
        self.next += 1
        pw = 'pw-' + rand_hex(12)
        hf.cli(self.d.data_dir, 'extension', 'add', number, '--password', pw, '--name', name,
               *(['--contact', contact] if contact else []))
        args = []
        if codecs:
            args += ['--codecs', codecs]
        if srtp:
            args += ['--srtp', srtp]
        if args:
            hf.cli(self.d.data_dir, 'extension', 'set', number, *args)
        return number, pw

    def dir(self, name):
        return os.path.join(self.d.workdir, '%s-%s' % (name, rand_hex(6)))

    def alive(self):
        check(self.d.alive(), 'the media daemon died:\n%s' % self.d.log_tail(60))


def env(ctx):
    e = getattr(ctx, 'media_env', None)
    if e is None or e.d.proc is None or not e.d.alive():
        e = ctx.media_env = MediaEnv(ctx)
    return e


# --- what Hookflash says about calls ------------------------------------------

def calls_table(d):
    """`hookflash calls` as a list of dicts keyed by the lower-cased header
    labels (columns cut at the header's label positions), and the raw
    text."""
    _, out, _ = hf.cli(d.data_dir, 'calls', check_rc=False)
    lines = [l for l in out.splitlines() if l.strip()]
    if not lines or not lines[0].lstrip().startswith('ID'):
        return [], out
    head = lines[0]
    starts = [m.start() for m in re.finditer(r'(?:^|(?<=  ))\S', head)]
    keys = [head[a:b].strip().lower() for a, b in zip(starts, starts[1:] + [None])]
    rows = []
    for l in lines[1:]:
        if set(l.strip()) <= set('-=+| '):
            continue
        rows.append({k: l[a:b].strip() for k, a, b in zip(keys, starts, starts[1:] + [None])})
    return rows, out


def call_row(d, caller, callee):
    rows, _ = calls_table(d)
    for r in rows:
        if r.get('caller') == caller and r.get('callee') == callee:
            return r
    return None


def wait_answered(d, caller, callee, timeout=8.0, phone=None):
    """Until `hookflash calls` shows the call answered; gives up early when
    the calling softphone says its call ended."""
    def probe():
        if (call_row(d, caller, callee) or {}).get('state') == 'answered':
            return 'answered'
        if phone is not None and re.search(r'session closed|terminated', phone.log()):
            return 'ended'
        return None
    return hf.wait_for(probe, timeout, 0.05) == 'answered'


def sip_trace(d):
    """The SIP messages in the daemon's log (--sip-trace) in order, as
    (direction '<<<' received or '>>>' sent, peer, message text)."""
    out = []
    cur = None
    for line in d.log().splitlines():
        m = re.search(r' trace \[sip\] (<<<|>>>) (?:from|to) (\S+)', line)
        if m:
            cur = [m.group(1), m.group(2), []]
            out.append(cur)
        elif re.match(r'\d{4}-\d\d-\d\dT', line):
            cur = None
        elif cur is not None:
            cur[2].append(line)
    return [(a, b, '\n'.join(c).strip()) for a, b, c in out]


def call_log(d, n=15):
    """The daemon's last log lines about calls and media (not the SIP
    trace)."""
    lines, last = [], None
    for l in d.log().splitlines():
        m = re.match(r'\d{4}-\d\d-\d\dT\S+ +\w+ +\[(call|media|dtmf|codec|srtp|sdp)\] (.*)', l)
        if m and m.group(2) != last:   # the same line again (a per-packet one): once
            lines.append(l)
            last = m.group(2)
    return '\n'.join(lines[-n:])


def sdp_evidence(d, last=12):
    """The first line and the media lines of the last SIP messages with
    SDP (or a final answer) Hookflash received and sent: what to look at
    when a call did not get the codecs or the SRTP it should."""
    out = []
    for direction, peer, text in sip_trace(d):
        lines = text.splitlines()
        if not lines:
            continue
        first = lines[0]
        media = [l for l in lines if re.match(r'(m=|c=|a=rtpmap|a=crypto|a=fmtp|a=send|a=recv|a=inact)', l)]
        if not media and not re.match(r'SIP/2\.0 [3-6]\d\d', first):
            continue
        out.append('%s %s  %s\n%s' % (direction, peer, first, '\n'.join('      ' + l for l in media)))
    return '\n'.join(out[-last:])


# --- a call between two softphones --------------------------------------------

class Call:
    """Two softphones registered on Hookflash; A calls B, B answers by
    itself, they talk for talk_s seconds (during() runs in the middle of
    the call), A hangs up. What the test checks afterwards: the CDR row,
    the recordings, the phones' logs, the daemon's log."""

    def __init__(self, e, codecs_a='pcmu', codecs_b='pcmu', enc_a=None, enc_b=None,
                 policy_a=None, policy_b=None, tag='call', expect_a=None, expect_b=None, ring_s=0):
        """codecs_x: what phone x may use (None: all it has); policy_x: its
        extension's media policy (codecs=, srtp=, see MediaEnv.ext);
        expect_x: the codec phone x must end up using (default: the first
        of codecs_x); ring_s: B lets the call ring that long before it
        answers (0: at once)."""
        self.e = e
        self.expect = {'A': expect_a or codecs_a, 'B': expect_b or codecs_b}
        self.na, pa = e.ext('Media A %s' % tag, **(policy_a or {}))
        self.nb, pb = e.ext('Media B %s' % tag, **(policy_b or {}))
        self.a = Softphone(self.na, pa, e.d.sip_port, TONE_A, e.dir('baresip-a-' + tag), codecs=codecs_a,
                           mediaenc=enc_a, rtp_ports=e.ports_a)
        self.b = Softphone(self.nb, pb, e.d.sip_port, TONE_B, e.dir('baresip-b-' + tag), codecs=codecs_b,
                           mediaenc=enc_b, rtp_ports=e.ports_b, answermode='manual' if ring_s else 'auto')
        self.ring_s = ring_s
        self.row = None
        self.calls_seen = []
        self.tag = tag
        self._streams = None

    def describe(self):
        return ('A %r log:\n%s\nB %r log:\n%s\nSDP through Hookflash:\n%s\nhookflashd on the call:\n%s'
                % (self.a, self.a.log_brief(), self.b, self.b.log_brief(), sdp_evidence(self.e.d),
                   call_log(self.e.d)))

    def run(self, talk_s=TALK_S, during=None):
        """The call, with a capture of both legs' RTP running throughout."""
        e = self.e
        self.cap = Capture(os.path.join(e.d.workdir, '%s-%s.pcap' % (self.tag, rand_hex(4))),
                           'udp and (portrange %d-%d or portrange %d-%d)'
                           % (e.ports_a[0], e.ports_a[1] + 1, e.ports_b[0], e.ports_b[1] + 1))
        self.cap.start()
        try:
            return self._run(talk_s, during)
        finally:
            self.cap.stop()

    def streams(self):
        """The RTP of the call on the wire (wire_streams), decoded once."""
        if self._streams is None:
            self._streams = wire_streams(self.cap, self)
        return self._streams

    def check_wire(self):
        """What Hookflash sends each phone is what that phone negotiated:
        only the payload type the phone itself sends audio with (its
        codec, same numbering both ways) or telephone-event (101 on both
        sides here), and within each SSRC sequence numbers that follow
        each other (a jump of a few lost packets at most: a jitter buffer
        takes what looks older than what it played for late and drops
        it). A new SSRC is allowed (RFC 3550), e.g. from ringback to the
        other phone's stream. A packet of the other leg's codec leaking
        through before the leg's format is applied breaks this."""
        st = self.streams()
        for x in ('A', 'B'):
            own = [p['pt'] for p in st['from ' + x] if len(p['payload']) > 4]
            check(own, 'on the wire: phone %s sent no audio' % x)
            codec_pt = max(set(own), key=own.count)
            got = st['to ' + x]
            bad = [p for p in got if p['pt'] not in (codec_pt, 101)]
            runs, jumps = [], []
            for i, p in enumerate(got):
                if not runs or runs[-1][0] != p['ssrc']:
                    runs.append((p['ssrc'], p['seq'], p['pt'], len(p['payload'])))
                elif not 1 <= (p['seq'] - got[i - 1]['seq']) % 65536 <= 5:
                    jumps.append('%d -> %d' % (got[i - 1]['seq'], p['seq']))
            desc = ', '.join('%08x/%d/PT %d/%d' % r for r in runs[:4])
            say('Hookflash -> phone %s: %d packets, SSRC runs (SSRC/first seq/PT/payload bytes): %s'
                % (x, len(got), desc))
            check(not bad, 'on the wire, Hookflash -> phone %s (which sends PT %d): %d packet(s) of other '
                  'payload types (first: %s); SSRC runs (SSRC/first seq/PT/payload bytes): %s'
                  % (x, codec_pt, len(bad), ', '.join('#%d PT %d SSRC %08x seq %d %d bytes' % (
                      got.index(p), p['pt'], p['ssrc'], p['seq'], len(p['payload'])) for p in bad[:3]), desc))
            check(not jumps, 'on the wire, Hookflash -> phone %s: the sequence numbers jump within one SSRC '
                  '(%s)' % (x, ', '.join(jumps[:4])))

    def _run(self, talk_s, during):
        e, a, b = self.e, self.a, self.b
        try:
            a.start()
            b.start()

            def registered():
                rows, _ = hf.registrations(e.d.data_dir)
                exts = {r['ext'] for r in rows}
                return self.na in exts and self.nb in exts
            check(hf.wait_for(registered, 8, 0.05), 'the phones did not register:\n%s\n%s'
                  % (hf.cli(e.d.data_dir, 'registrations')[1], self.describe()))
            a.command('/dial sip:%s@%s:%d' % (self.nb, LOCAL, e.d.sip_port))
            if self.ring_s:
                check(hf.wait_for(lambda: 'Incoming call' in b.log() or 'ringing' in b.log().lower(), 5, 0.05),
                      'B never rang:\n%s' % self.describe())
                self.t_ring = time.time()
                time.sleep(self.ring_s)
                b.command('/accept')
            check(wait_answered(e.d, self.na, self.nb, phone=a), 'the call %s -> %s was not answered; '
                  '`hookflash calls`:\n%s\n%s' % (self.na, self.nb, calls_table(e.d)[1], self.describe()))
            t0 = time.time()
            self.calls_seen.append(calls_table(e.d))
            self.call_id = (call_row(e.d, self.na, self.nb) or {}).get('id')
            if during:
                time.sleep(talk_s / 2)
                during(self)
                self.calls_seen.append(calls_table(e.d))
            time.sleep(max(0.0, talk_s - (time.time() - t0)))
            self.talked = time.time() - t0
            a.command('/hangup')
            got = hf.wait_for(lambda: [r for r in callkit.cdr_rows(e.d, like='%')
                                       if r['caller'] == self.na and r['callee'] == self.nb], 5, 0.05)
            check(got, 'no CDR for %s -> %s after /hangup:\n%s' % (self.na, self.nb, e.d.log_tail(30)))
            self.row = got[0]
        finally:
            a.stop()
            b.stop()
        return self

    def check_codecs(self):
        """Each phone used the codec it was limited to (its log says so)."""
        for x, p in (('A', self.a), ('B', self.b)):
            want = CODEC_NAMES[self.expect[x].split(',')[0]]
            log = p.log()
            used = re.findall(r'Set audio (?:encoder|decoder): (\S+)', log)
            check(used and all(u == want for u in used),
                  '%r: want it to send and receive %s, its log says %s\n%s'
                  % (p, want, used or 'no codec at all', self.describe()))

    def check_audio(self, min_rms=tones.MIN_RMS, skip_a=0.0):
        fa = tones.check_heard(self.a, self.b, 'A %r' % self.a, self.talked, min_rms, skip_a)
        fb = tones.check_heard(self.b, self.a, 'B %r' % self.b, self.talked, min_rms)
        say('A heard %d Hz at RMS %.0f for %.2fs; B heard %d Hz at RMS %.0f for %.2fs'
            % (fa[0], fa[1], fa[2], fb[0], fb[1], fb[2]))

    def transcoding_lines(self):
        """What hookflashd logged about transcoding this call."""
        return re.findall(r'call %s: transcoding .*' % self.call_id, self.e.d.log())

    def check_cdr(self, **want):
        callkit.check_cdr(self.row, disposition='ANSWERED', hangup_side='caller', **want)

    def verify(self, *checks, **cdr):
        """Runs every check (all_of), failing with the call's evidence,
        then checks the CDR (cdr: the fields wanted beyond an answered
        call the caller ended)."""
        try:
            all_of(*checks)
        except AssertionError as err:
            raise hf.Failure('%s\n%s' % (err, self.describe()))
        self.check_cdr(**cdr)


def all_of(*checks):
    """Runs every check and fails with all their messages: a call that
    both leaks a packet and goes silent says both."""
    errs = []
    for fn in checks:
        try:
            fn()
        except AssertionError as err:
            errs.append(str(err))
    check(not errs, '\n'.join(errs))


def transcoding_call(ctx, codecs_a, codecs_b):
    """A limited to codecs_a calls B limited to codecs_b: both phones use
    their own codec, both hear the other's tone, Hookflash says it
    transcodes (its log, and the CDR names both codecs, A's first)."""
    e = env(ctx)
    c = Call(e, codecs_a, codecs_b, tag='%s-%s' % (codecs_a, codecs_b)).run()
    try:
        all_of(c.check_codecs, c.check_audio, c.check_wire)
        check(c.transcoding_lines(), 'hookflashd did not log that it transcodes call %s ("call %s: '
              'transcoding ...")' % (c.call_id, c.call_id))
    except AssertionError as err:
        raise hf.Failure('%s\n%s' % (err, c.describe()))
    ca, cb = CODEC_NAMES[codecs_a], CODEC_NAMES[codecs_b]

    def both(v):
        return bool(v) and ca.lower() in v.lower() and cb.lower() in v.lower() and \
            v.lower().index(ca.lower()) < v.lower().rindex(cb.lower())
    both.__name__ = 'naming %s (A) and %s (B)' % (ca, cb)
    c.check_cdr(codec=both)
    e.alive()
    return c


def pair_share(samples, rate, f1, f2, at_s, win_s=0.1):
    """The shares of the energy at f1 and at f2 in the window at at_s."""
    samples, rate = tones.to_8k(samples, rate)
    n = int(win_s * rate)
    start = max(0, min(len(samples) - n, int(at_s * rate)))
    win = samples[start:start + n]
    return tones.energy_share(win, rate, f1), tones.energy_share(win, rate, f2)


# --- a python phone that plays PCMU with DTMF in band -------------------------

class TonePeer(callkit.RtpPeer):
    """An RTP socket that plays 20 ms PCMU packets of a sine tone, with
    DTMF tone pairs in band at given times (digits: [(at_s, key, len_s)]),
    on absolute deadlines, and keeps every packet it receives."""

    def play(self, dest, freq, digits=(), pt=0, amplitude=8000):
        self.stop_play = threading.Event()
        self.t_play = time.time()

        def run():
            ssrc = 0x4D454449
            i = 0
            t0 = time.time()
            while not self.stop_play.is_set():
                t = i * 0.02
                key = next((k for at, k, n in digits if at <= t < at + n), None)
                freqs = tones.DTMF_FREQS[key] if key else (freq,)
                amp = 6000 if key else amplitude
                pcm = tones.tone_pcm(0.02, freqs, amp, phase0=160 * i)
                hdr = struct.pack('!BBHII', 0x80, pt, i & 0xFFFF, (160 * i) & 0xFFFFFFFF, ssrc)
                self.sock.sendto(hdr + bytes(tones.lin2ulaw(x) for x in pcm), dest)
                i += 1
                delay = t0 + i * 0.02 - time.time()
                if delay > 0:
                    time.sleep(delay)
        self.player = threading.Thread(target=run, daemon=True)
        self.player.start()

    def stop(self):
        if getattr(self, 'stop_play', None):
            self.stop_play.set()
            self.player.join(2)

    def heard(self, pt=0):
        """The mu-law audio received, in arrival order, decoded."""
        return tones.ulaw_decode(b''.join(p['payload'] for p in self.got if p['pt'] == pt))

    def events(self, pt):
        """RFC 4733 events received on pt: [(event code, end bit)]."""
        return [(p['payload'][0], bool(p['payload'][1] & 0x80)) for p in self.got
                if p['pt'] == pt and len(p['payload']) >= 4]


def find_dtmf(samples, rate, key, hop_s=0.02):
    """The times (s) of the windows of samples that hold key's tone pair."""
    samples, rate = tones.to_8k(samples, rate)
    n = int(0.04 * rate)
    lo, hi = tones.DTMF_FREQS[key]
    hits = []
    for start in range(0, len(samples) - n, int(hop_s * rate)):
        win = samples[start:start + n]
        a, b = tones.energy_share(win, rate, lo), tones.energy_share(win, rate, hi)
        if a + b > 0.6 and min(a, b) > 0.2:
            hits.append(start / float(rate))
    return hits


class PyCall:
    """A python phone (callkit.Phone) calls a baresip Softphone through
    Hookflash with PCMU (and telephone-event when te is true), plays a
    440 Hz tone with in-band digits, and can send SIP INFO."""

    def __init__(self, e, te=True, codecs_b='pcmu', tag='py'):
        self.e = e
        self.na, self.pa = e.ext('Python A %s' % tag)
        self.nb, pb = e.ext('Media B %s' % tag)
        self.b = Softphone(self.nb, pb, e.d.sip_port, TONE_B, e.dir('baresip-b-' + tag), codecs=codecs_b,
                           rtp_ports=e.ports_b)
        self.te = te
        self.freq = TONE_A
        self.phone = None
        self.rtp = None
        self.dialog = None

    def describe(self):
        return ('B %r log:\n%s\nSDP through Hookflash:\n%s\nhookflashd on the call:\n%s'
                % (self.b, self.b.log_brief(), sdp_evidence(self.e.d), call_log(self.e.d)))

    def start(self, digits=()):
        e = self.e
        self.b.start()
        check(hf.wait_for(lambda: self.nb in {r['ext'] for r in hf.registrations(e.d.data_dir)[0]}, 8, 0.05),
              'baresip B did not register:\n%s' % self.b.log()[-1500:])
        self.phone = callkit.Phone(e.d.sip_port, self.na, self.pa, name='python A')
        self.rtp = TonePeer()
        pts = (0, 101) if self.te else (0,)
        oc = self.phone.call(self.nb, callkit.make_sdp(self.rtp.port, pts=pts))
        f = oc.wait_final(10)
        check(f is not None and f.status == 200, 'python A -> %s: %s\n%s'
              % (self.nb, f.start if f else 'no final answer', self.describe()))
        self.dialog = oc.dialog
        self.call_id = (hf.wait_for(lambda: call_row(e.d, self.na, self.nb), 3, 0.05) or {}).get('id')
        addr, port, _, pts_ans = callkit.sdp_audio(f.body)
        self.answer_pts = pts_ans
        self.rtp.play((addr, port), self.freq, digits)
        self.t0 = time.time()
        return self

    def info(self, key, duration_ms=250, ctype='application/dtmf-relay'):
        """A key press in SIP INFO: application/dtmf-relay (Signal=, Duration=)
        or application/dtmf (the bare key)."""
        body = key if ctype == 'application/dtmf' else 'Signal=%s\r\nDuration=%d\r\n' % (key, duration_ms)
        r = self.dialog.request('INFO', body, ctype=ctype)
        check(r is not None and r.status == 200, 'INFO (DTMF %s) answered %s\n%s'
              % (key, r.start if r else 'nothing', self.describe()))

    def hangup(self):
        if self.phone is None:
            return
        try:
            if self.dialog:
                dialog, self.dialog = self.dialog, None
                self.rtp.stop()
                dialog.bye()
                got = hf.wait_for(lambda: [r for r in callkit.cdr_rows(self.e.d, like='%')
                                           if r['caller'] == self.na and r['callee'] == self.nb], 5, 0.05)
                self.row = got[0] if got else None
        finally:
            self.b.stop()
            if self.rtp:
                self.rtp.stop()
                self.rtp.close()
            self.phone.close()
            self.phone = None


# --- DTMF as Hookflash and the phones report it -------------------------------

def baresip_digits(phone):
    """The key presses baresip received as RFC 4733 events (one per event
    start), in order."""
    return re.findall(r"received event: '(.)' \(end=0\)", phone.log())


def daemon_digits(d):
    """The digits hookflashd logged: [(call id, digit, rest of the line)]."""
    return re.findall(r"call (\d+): DTMF '(.)' from (.*)", d.log())


def calls_digits(snapshot, call_id):
    """The DTMF column of call call_id in a `hookflash calls` snapshot (the
    first column whose label says digits or DTMF), or None when there is
    none."""
    rows, _ = snapshot
    for r in rows:
        if r.get('id') != call_id:
            continue
        for k, v in r.items():
            if 'digit' in k or 'dtmf' in k:
                return v
    return None


def wait_digits(e, call_id, keys, timeout=5.0):
    """A `hookflash calls` snapshot once it lists keys as the digits of
    call call_id (or the last one taken when the time is up: the caller's
    check_event_stream then says what was listed)."""
    last = {}

    def probe():
        last['snap'] = calls_table(e.d)
        return calls_digits(last['snap'], call_id) == keys
    hf.wait_for(probe, timeout, 0.1)
    return last['snap']


def wait_hearing(pc, timeout=5.0):
    """Until python phone A receives B's audio through Hookflash: the call's
    media is up at both ends (what a key press needs to reach anyone)."""
    hf.wait_until(lambda: len(pc.rtp.got) >= 5, timeout,
                  lambda: 'python A got %d RTP packets from B within %ss of the answer\n%s'
                  % (len(pc.rtp.got), timeout, pc.describe()))


def check_event_stream(e, call_id, snapshot, keys, side, how):
    """Hookflash reported the keys of call call_id: its log has one line
    per digit ("call N: DTMF 'K' from <side> (<how>)") and `hookflash
    calls` lists them for the call."""
    got = [g for g in daemon_digits(e.d) if g[0] == call_id]
    mine = [g for g in got if side in g[2]]
    check([g[1] for g in mine] == list(keys), 'hookflashd logged DTMF %r from the %s of call %s, want %r (%s); '
          'all its DTMF lines: %r' % ([g[1] for g in mine], side, call_id, list(keys), how, got))
    check(all(re.search(how, g[2], re.I) for g in mine), 'hookflashd logged the digits, but not as %s: %r'
          % (how, mine))
    say('`hookflash calls` during the call:\n' + snapshot[1].rstrip())
    col = calls_digits(snapshot, call_id)
    check(col == ''.join(keys), '`hookflash calls` lists the digits %r for the call, want %r:\n%s'
          % (col, ''.join(keys), snapshot[1]))


# --- tests: codecs ------------------------------------------------------------

def test_media_passthrough_pcmu(ctx):
    """PCMU on both legs: each phone hears the other's tone; CDR ANSWERED
    with codec PCMU/8000; and Hookflash relays the packets untouched, as
    media.h promises for pass-through (no decoding): on the wire, every
    RTP packet it sends to one phone is one the other phone sent (same
    SSRC, sequence number and payload)."""
    e = env(ctx)
    c = Call(e, 'pcmu', 'pcmu', tag='pass')
    c.run()
    try:
        all_of(c.check_codecs, c.check_audio, c.check_wire)
        streams = c.streams()
        for src, dst in (('from A', 'to B'), ('from B', 'to A')):
            sent = {(p['ssrc'], p['seq'], p['payload']) for p in streams[src]}
            relayed = [p for p in streams[dst] if p['pt'] == 0]
            same = [p for p in relayed if (p['ssrc'], p['seq'], p['payload']) in sent]
            say('%s: %d PCMU packets, %d of them exactly as sent %s' % (dst, len(relayed), len(same), src))
            check(len(relayed) >= c.talked / 0.02 * 0.6, 'on the wire: only %d PCMU packets %s in %.1fs'
                  % (len(relayed), dst, c.talked))
            check(len(same) == len(relayed), 'pass-through: %d of the %d packets Hookflash sent %s are not '
                  'packets the phone sent %s (SSRC, sequence number or payload changed: decoded and '
                  're-encoded?); SSRCs %s: %s, %s: %s'
                  % (len(relayed) - len(same), len(relayed), dst, src, src,
                     sorted({'%08x' % p['ssrc'] for p in streams[src]}), dst,
                     sorted({'%08x' % p['ssrc'] for p in relayed})))
        check(not c.transcoding_lines(), 'hookflashd says it transcodes a PCMU<->PCMU call: %s'
              % c.transcoding_lines())
    except AssertionError as err:
        raise hf.Failure('%s\n%s' % (err, c.describe()))
    c.check_cdr(codec='PCMU/8000')


def test_media_transcode_opus_pcmu(ctx):
    """A speaks only opus, B only PCMU: Hookflash transcodes; each hears
    the other's tone."""
    transcoding_call(ctx, 'opus', 'pcmu')


def test_media_transcode_g722_pcma(ctx):
    """A speaks only G.722, B only PCMA."""
    transcoding_call(ctx, 'g722', 'pcma')


def test_media_transcode_opus_g722(ctx):
    """A speaks only opus, B only G.722 (both wideband, different rates)."""
    transcoding_call(ctx, 'opus', 'g722')


def test_media_policy_codecs(ctx):
    """Both phones could use any codec, but extension A allows only opus
    and extension B only PCMA (`hookflash extension set --codecs`):
    Hookflash answers A with opus, offers B PCMA and transcodes; each
    phone hears the other's tone."""
    e = env(ctx)
    c = Call(e, None, None, policy_a={'codecs': 'opus'}, policy_b={'codecs': 'PCMA'},
             expect_a='opus', expect_b='pcma', tag='policy').run()
    c.verify(c.check_codecs, c.check_audio, c.check_wire,
             lambda: check(c.transcoding_lines(), 'hookflashd did not log that it transcodes call %s' % c.call_id))


def test_media_ringback_then_answer(ctx):
    """B lets the call ring for 1.5 s before it answers (as people do):
    A hears Hookflash's ringback (440+480 Hz, early media in a 183) while
    it rings, then B's tone once B answers, and B hears A; on the wire
    (check_wire) A gets PCMU only, in order within each SSRC (ringback is
    Hookflash's stream, then B's is relayed with its own SSRC)."""
    e = env(ctx)
    ring = 1.5
    c = Call(e, 'pcmu', 'pcmu', tag='ring', ring_s=ring)
    c.run()

    def ringback():
        recs = c.a.recordings()
        check(recs, 'A recorded nothing')
        rate, s = tones.read_wav(recs[0])
        a, b = pair_share(s, rate, 440, 480, 0.5)
        say('A at 0.5 s: 440 Hz %.0f%%, 480 Hz %.0f%% of the energy' % (100 * a, 100 * b))
        check(a > 0.2 and b > 0.2 and a + b > 0.6, 'A did not hear ringback (440+480 Hz) while B rang: '
              '440 Hz holds %.0f%%, 480 Hz %.0f%% of its audio at 0.5 s' % (100 * a, 100 * b))
    c.verify(ringback, lambda: c.check_audio(skip_a=ring + 0.4), c.check_wire)


# --- tests: SRTP --------------------------------------------------------------

def test_media_srtp_caller_leg(ctx):
    """A insists on SRTP (RTP/SAVP, baresip srtp-mand), B speaks plain
    RTP, both PCMU: Hookflash answers A with SRTP and offers B plain RTP.
    On the wire (dumpcap on lo, decoded as RTP by tshark) B's leg is
    readable G.711 and A's is not (check_srtp_wire); both hear."""
    e = env(ctx)
    c = Call(e, 'pcmu', 'pcmu', enc_a='srtp-mand', tag='srtp')
    c.run()
    c.verify(c.check_codecs, lambda: check_srtp_wire(c, 'A', 'B'), c.check_audio, c.check_wire)


def test_media_srtp_callee_policy(ctx):
    """Extension B requires SRTP (`--srtp required`); its phone does SRTP
    when offered (baresip srtp, best effort) and speaks only G.722, A is
    plain PCMU: Hookflash offers B RTP/SAVP with a key and transcodes; on
    the wire B's leg is unreadable and A's is G.711 (check_srtp_wire);
    both hear."""
    e = env(ctx)
    c = Call(e, 'pcmu', 'g722', enc_b='srtp', policy_b={'srtp': 'required'}, tag='srtpb')
    c.run()
    c.verify(c.check_codecs, lambda: check_srtp_wire(c, 'B', 'A'), c.check_audio, c.check_wire)


def test_media_srtp_callee_rtp_before_answer(ctx):
    """A insists on SRTP (srtp-mand); the callee, a python phone on plain
    RTP, starts sending its PCMU tone to the port Hookflash offered as soon
    as the INVITE arrives and answers 0.6 s later (phones that stream
    before they answer exist, and so do strangers who guess a port).
    Nothing of it may reach A unprotected: every packet Hookflash sends A
    carries SRTP's auth tag (170-byte payloads), and A hears the callee's
    tone after the answer."""
    e = env(ctx)
    phone = callkit.Phone(e.d.sip_port, 'early', name='python B')
    nb, _ = e.ext('Python B early RTP', contact='sip:early@%s:%d' % (LOCAL, phone.port))
    na, pa = e.ext('Media A early RTP')
    a = Softphone(na, pa, e.d.sip_port, TONE_A, e.dir('baresip-a-early'), codecs='pcmu', mediaenc='srtp-mand',
                  rtp_ports=e.ports_a)
    rtp = TonePeer()
    cap = Capture(os.path.join(e.d.workdir, 'early-%s.pcap' % rand_hex(4)),
                  'udp and portrange %d-%d' % (e.ports_a[0], e.ports_a[1] + 1))
    cap.start()
    talk = 2.0
    try:
        a.start()
        check(hf.wait_for(lambda: na in {r['ext'] for r in hf.registrations(e.d.data_dir)[0]}, 8, 0.05),
              'A did not register:\n%s' % a.log_brief())
        a.command('/dial sip:%s@%s:%d' % (nb, LOCAL, e.d.sip_port))
        inv = phone.wait_request('INVITE', 8)
        check(inv is not None, 'the python callee got no INVITE:\n%s' % a.log_brief())
        addr, port, _, _ = callkit.sdp_audio(inv.body)
        rtp.play((addr, port), TONE_B)
        time.sleep(0.6)  # B streams before it answers (the test's content)
        dlg = phone.answer(inv, callkit.make_sdp(rtp.port, pts=(0, 101)))
        check(wait_answered(e.d, na, nb, phone=a), 'the call was not answered:\n%s\nSDP:\n%s'
              % (a.log_brief(), sdp_evidence(e.d)))
        time.sleep(talk)
        a.command('/hangup')
        bye = dlg.wait_request('BYE', 5)
        if bye is not None:
            phone.respond(bye, 200)
    finally:
        a.stop()
        rtp.stop()
        rtp.close()
        phone.close()
        cap.stop()
    try:
        sip = {e.d.sip_port, a.port}
        ports = {p for sp, dp in cap.udp_ports() for p in (sp, dp)
                 if p % 2 == 0 and p not in sip and in_range(p, e.ports_a)}
        to_a = [p for p in cap.rtp(ports) if p['dst'] in ports and p['version'] == 2 and p['pt'] != 101]
        sizes = {}
        for p in to_a:
            sizes[len(p['payload'])] = sizes.get(len(p['payload']), 0) + 1
        plain = [p for p in to_a if len(p['payload']) != 170]
        say('Hookflash -> A: payload sizes (bytes: packets) %s' % sizes)
        check(to_a, 'on the wire: Hookflash sent A no RTP')
        if plain:
            raise hf.Failure('on the wire, Hookflash -> A (SRTP, RTP/SAVP): %d packet(s) without the auth '
                             'tag (payload sizes %s; the first: PT %d SSRC %08x seq %d, packet #%d of %d)'
                             % (len(plain), sizes, plain[0]['pt'], plain[0]['ssrc'], plain[0]['seq'],
                                to_a.index(plain[0]), len(to_a)))

        class B:
            freq = TONE_B
        tones.check_heard(a, B, 'A %r' % a, talk)
    except AssertionError as err:
        raise hf.Failure('%s\nA %r log:\n%s\nSDP through Hookflash:\n%s\nhookflashd on the call:\n%s'
                         % (err, a, a.log_brief(), sdp_evidence(e.d), call_log(e.d)))


# --- tests: DTMF --------------------------------------------------------------

def test_media_dtmf_rfc4733(ctx):
    """A (baresip) presses 5 then # in a call: B gets each as one RFC 4733
    event, and Hookflash reports both (its log, `hookflash calls`)."""
    e = env(ctx)
    c = Call(e, 'pcmu', 'pcmu', tag='dtmf')

    def press(call):
        call.a.key('5')
        time.sleep(0.3)
        call.a.key('#')
        time.sleep(0.6)
    c.run(talk_s=2.5, during=press)
    try:
        check(baresip_digits(c.b) == ['5', '#'], 'B received the DTMF events %r, want [\'5\', \'#\']'
              % baresip_digits(c.b))
        check_event_stream(e, c.call_id, c.calls_seen[-1], '5#', 'caller', 'rfc ?4733|rtp|telephone-event')
    except AssertionError as err:
        raise hf.Failure('%s\n%s' % (err, c.describe()))
    c.check_cdr()


def test_media_dtmf_sip_info(ctx):
    """A python phone sends 7 in SIP INFO as application/dtmf-relay, then
    9 as application/dtmf: each INFO is answered 200, B (baresip,
    telephone-event) gets each digit as one RFC 4733 event, and Hookflash
    reports them (log, `hookflash calls`)."""
    e = env(ctx)
    pc = PyCall(e, te=True, tag='info')
    try:
        pc.start()
        wait_hearing(pc)
        pc.info('7')
        time.sleep(0.4)  # two key presses, apart (the test's content)
        pc.info('9', ctype='application/dtmf')
        snap = wait_digits(e, pc.call_id, '79')
        # B logs each event as it starts; the second one is on its way
        hf.wait_for(lambda: len(baresip_digits(pc.b)) >= 2, 2.0)
        pc.hangup()
        info = re.findall(r"received DTMF: '(.)'", pc.b.log())
        check(baresip_digits(pc.b) == ['7', '9'], 'B received the DTMF events %r, want [\'7\', \'9\'] (the '
              'INFOs\' digits as RFC 4733: B negotiated telephone-event)%s' % (baresip_digits(pc.b), (
                  '; B got the digit(s) %r in SIP INFO instead' % info) if info else ''))
        check_event_stream(e, pc.call_id, snap, '79', 'caller', 'info')
    except AssertionError as err:
        raise hf.Failure('%s\n%s' % (err, pc.describe()))
    finally:
        pc.hangup()


def test_media_dtmf_inband_to_rfc4733(ctx):
    """A python phone without telephone-event (PCMU only) plays the tone
    pair of 8 in band for 200 ms: Hookflash detects it (log, `hookflash
    calls`) and B (baresip) gets it, as an RFC 4733 event or as the tone
    pair in its recording."""
    e = env(ctx)
    pc = PyCall(e, te=False, tag='inband')
    try:
        pc.start(digits=[(0.8, '8', 0.2)])
        # the tone pair plays from 0.8 s to 1.0 s of A's stream: let it
        # play out (B may get it in band, in its recording)
        time.sleep(max(0.0, pc.t0 + 1.2 - time.time()))
        snap = wait_digits(e, pc.call_id, '8')
        hf.wait_for(lambda: baresip_digits(pc.b), 1.0)  # as an event, if B gets it so
        pc.hangup()
        events = baresip_digits(pc.b)
        recs = pc.b.recordings()
        heard = []
        if recs:
            rate, s = tones.read_wav(recs[0])
            heard = find_dtmf(s, rate, '8')
        say('B got RFC 4733 events %r; the tone pair of 8 in its recording at %s s'
            % (events, ['%.2f' % t for t in heard[:5]]))
        check(events == ['8'] or (not events and heard), 'B got neither one RFC 4733 event 8 (events %r) nor '
              'the tone pair of 8 in its recording' % events)
        check_event_stream(e, pc.call_id, snap, '8', 'caller', 'in-?band|tone')
    except AssertionError as err:
        raise hf.Failure('%s\n%s' % (err, pc.describe()))
    finally:
        pc.hangup()


def test_media_dtmf_rfc4733_to_inband(ctx):
    """The other way: B (baresip) presses 3 as RFC 4733 towards a python
    phone that offered no telephone-event: the python phone hears the tone
    pair of 3 in its PCMU audio, and Hookflash reports the digit from the
    callee."""
    e = env(ctx)
    pc = PyCall(e, te=False, tag='toinband')
    try:
        pc.start()
        check(101 not in pc.answer_pts, 'Hookflash answered the python phone (no telephone-event offered) '
              'with payload types %r' % pc.answer_pts)
        wait_hearing(pc)
        pc.b.key('3')
        # A hears the tone pair (at least 60 ms of it) and Hookflash lists
        # the digit; the key press plays for a while, so look every 0.2 s
        hf.wait_for(lambda: len(find_dtmf(pc.rtp.heard(), 8000, '3')) >= 3, 4.0, 0.2)
        snap = wait_digits(e, pc.call_id, '3')
        heard = pc.rtp.heard()
        pc.hangup()
        hits = find_dtmf(heard, 8000, '3')
        say('python A heard the tone pair of 3 at %s s of %.1fs received'
            % (['%.2f' % t for t in hits[:5]], len(heard) / 8000.0))
        check(hits, 'python A never heard the tone pair of 3 (%.1fs of audio received; RFC 4733 events '
              'received anyway: %r)' % (len(heard) / 8000.0, pc.rtp.events(101)))
        check(len(hits) >= 3, 'the tone pair of 3 lasted only %d x 20 ms' % len(hits))
        check_event_stream(e, pc.call_id, snap, '3', 'callee', 'rfc ?4733|rtp|telephone-event')
    except AssertionError as err:
        raise hf.Failure('%s\n%s' % (err, pc.describe()))
    finally:
        pc.hangup()


def test_media_daemon_clean_exit(ctx):
    """The media daemon ends on SIGTERM with exit status 0 and no
    sanitizer report."""
    e = env(ctx)
    e.d.stop_clean()
    ctx.media_env = None


TESTS = [
    test_media_passthrough_pcmu,
    test_media_transcode_opus_pcmu,
    test_media_transcode_g722_pcma,
    test_media_transcode_opus_g722,
    test_media_policy_codecs,
    test_media_ringback_then_answer,
    test_media_srtp_caller_leg,
    test_media_srtp_callee_policy,
    test_media_srtp_callee_rtp_before_answer,
    test_media_dtmf_rfc4733,
    test_media_dtmf_sip_info,
    test_media_dtmf_inband_to_rfc4733,
    test_media_dtmf_rfc4733_to_inband,
    test_media_daemon_clean_exit,
]


if __name__ == '__main__':
    import run  # noqa: E402
    run.TESTS = TESTS
    sys.exit(run.guarded())
