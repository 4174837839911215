#!/usr/bin/env python3
"""
Call tests: Hookflash as a B2BUA between real peers on 127.0.0.1. SIPp
plays callers and callees (tests/integration/sipp/call_*.xml), a small
python phone (callkit.Phone) drives the calls that need exact control
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
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hf  # noqa: E402
import sipclient  # noqa: E402
from callkit import (TRUSTED_IP, PCMU_PACKET, Sipp, Phone, RtpPeer,  # noqa: E402
                     show, tone_ulaw, make_sdp, sdp_audio, cdr_rows, wait_cdr,
                     check_cdr, between, nonempty)
from hf import check, LOCAL  # noqa: E402
from sipclient import rand_hex  # noqa: E402

NO_ANSWER_S = 4              # --no-answer-timeout of the shared calls daemon
RTP_TIMEOUT_S = 2            # --rtp-timeout of the RTP-timeout test's daemon


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

    def ext(self, contact=None, trust=None, max_calls=None, name=None, password=None, voicemail=False):
        """An extension; unless voicemail is wanted, a busy, unanswered or
        unreachable one ends the call (these tests are about what the
        B2BUA itself answers; voicemail.py tests the default)."""
        number = str(self.next)
        self.next += 1
        pw = password or ('pw-' + rand_hex(12))
        args = ['extension', 'add', number, '--password', pw, '--name', name or 'Call test %s' % number]
        if not voicemail:
            args += ['--busy', 'hangup', '--no-answer', 'hangup', '--unavailable', 'hangup']
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

    def dir(self, name):
        """A working directory for a peer, under the daemon's (run.py
        removes it when every test passed)."""
        return os.path.join(self.d.workdir, '%s-%s' % (name, rand_hex(6)))


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
    s = Sipp(scenario, workdir=e.dir(scenario[:-4]), **kw)
    number, _ = e.ext(contact='sip:%s:%d' % (LOCAL, s.port))
    return number, s


def caller_sipp(e, scenario, number, tag, **kw):
    pattern, like = cid(tag)
    s = Sipp(scenario, e.d.sip_port, ip=TRUSTED_IP, service=number, workdir=e.dir(scenario[:-4]),
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


def wait_listed(e, callee, state, timeout=5.0):
    """Waits until `hookflash calls` lists the trusted caller's call to
    callee in state (answered, hold, ...); returns the line."""
    pat = re.compile(r'(?m)^\s*\d+\s+%s\s+%s\s.*\b%s\b.*$' % (e.caller, callee, state))
    last = {}

    def probe():
        last['out'] = hf.cli(e.d.data_dir, 'calls', check_rc=False)[1]
        m = pat.search(last['out'])
        return m.group(0) if m else None
    return hf.wait_until(probe, timeout, lambda: '`hookflash calls` never listed the call %s -> %s as %s:\n%s'
                         % (e.caller, callee, state, last.get('out', '')))


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


def register_contact(e, number, pw, port, phone=None):
    """Registers sip:number@127.0.0.1:port from that very port (Hookflash
    sends calls to the source of the REGISTER): with a python Client that
    then frees the port for SIPp, or through a running Phone's socket."""
    if phone is not None:
        host = '%s:%d' % phone.server
        headers = ['From: <sip:%s@%s>;tag=%s' % (number, host, rand_hex(8)),
                   'To: <sip:%s@%s>' % (number, host), 'Call-ID: %s@hf-it' % rand_hex(16),
                   'Contact: %s' % phone.contact, 'Expires: 300']
        r = None
        for cseq, auth in ((1, None), (2, True)):
            h = headers + ['CSeq: %d REGISTER' % cseq]
            if auth:
                ch = sipclient.Client.pick_challenge(r)
                check(ch is not None, 'no challenge:\n%s' % show(r))
                h.append(sipclient.authorization(ch, number, pw, 'REGISTER', 'sip:%s' % host))
            data, branch = phone.build_request('REGISTER', 'sip:%s' % host, h)
            phone.send(data)
            r = phone.wait(lambda m: m.status is not None and m.status >= 200 and m.branch() == branch, 4)
            if r is None or r.status != 401:
                break
    else:
        c = sipclient.Client(e.d.sip_port, local_port=port)
        try:
            r = c.register(number, pw, expires=300)['final']
        finally:
            c.close()
    check(r is not None and r.status == 200, 'REGISTER %s from port %d: %s' % (number, port, show(r)))


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
    answerer = Sipp('call_uas.xml', port=p1, duration_ms=1000, rtp_echo=True, workdir=e.dir('fork1'))
    loser = Sipp('call_uas_ring.xml', port=p2, workdir=e.dir('fork2'))
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
    """A number that is no extension: the announcement as early media
    (apps.py checks what is heard), then 404, and a CDR row FAILED/404
    whose path is app:noservice."""
    e = env(ctx)
    uac = caller_sipp(e, 'call_uac_fail.xml', '9999', 'unknown')
    uac.start()
    uac.wait()
    check(uac.finals() == [404], 'want 404, got finals %r\n%s' % (uac.finals(), uac.describe()))
    row = wait_cdr(e.d, like=uac.like, timeout=3)
    check_cdr(row, caller=e.caller, callee='9999', disposition='FAILED', hangup_status=404, billsec=0,
              path='app:noservice')


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
               cid=pattern, user=caller, password=pw, duration_ms=500, workdir=e.dir('auth'))
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


def test_call_trusted_address_names_other_extension(ctx):
    """A phone that shares a trusted device's address (same office NAT)
    but names another extension in From gets challenged (407) like any
    phone, and with that extension's password it calls as itself, never
    as the trusted device."""
    e = env(ctx)
    b = Phone(e.d.sip_port, 'callee', name='B')
    callee, _ = e.ext(contact='sip:%s:%d' % (LOCAL, b.port))
    other, pw = e.ext(name='Office phone')
    a = Phone(e.d.sip_port, other, ip=TRUSTED_IP, name='A')
    try:
        oc = a.call(callee, make_sdp(40000, ip=TRUSTED_IP))
        first = oc.wait_final(5, auth=False)
        check(first is not None and first.status == 407,
              'want 407 for %s from the trusted address, got %s' % (other, show(first)))
    finally:
        a.close()
    a = Phone(e.d.sip_port, other, password=pw, ip=TRUSTED_IP, name='A')
    try:
        oc = a.call(callee, make_sdp(40000, ip=TRUSTED_IP))
        got = {}
        t = threading.Thread(target=lambda: got.setdefault('f', oc.wait_final(8)), daemon=True)
        t.start()  # answers the 407 with the password, then waits
        inv = b.wait_request('INVITE', 5)
        check(inv is not None, 'B got no INVITE after the digest')
        check(('sip:%s@' % other) in (inv.get('from') or ''),
              'B sees the call from %r, want extension %s' % (inv.get('from'), other))
        b.respond(inv, 486, to_tag=rand_hex(8))
        t.join(8)
        f = got.get('f')
        check(f is not None and f.status == 486, 'A: %s' % show(f))
        row = wait_cdr(e.d, oc.call_id)
        check_cdr(row, caller=other, callee=callee, disposition='BUSY')
    finally:
        for x in (a, b):
            x.close()


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
        # negative check: the INVITE would have been forked to B at once,
        # so a 0.5 s window watching B's socket covers it
        check(b.wait_request('INVITE', 0.5) is None, 'the callee rang for a caller with a wrong password')
        # no call: not listed, and no CDR. A refused call's CDR is queued to
        # the store thread before its final response goes out, and the store
        # thread writes in order, so once a later call's CDR is in the
        # database, this call's would be too
        _, out, _ = hf.cli(e.d.data_dir, 'calls')
        check(not re.search(r'(?m)^\s*\d+\s+%s\s' % caller, out),
              'a call by a caller with a wrong password is listed:\n%s' % out)
        nobody, _ = e.ext()   # registered nowhere: its call ends at once with 480
        marker = Phone(e.d.sip_port, e.caller, ip=TRUSTED_IP, name='marker')
        try:
            mc = marker.call(nobody, make_sdp(rtp.port, ip=TRUSTED_IP))
            mf = mc.wait_final(5)
            check(mf is not None and mf.status == 480, 'marker call to %s (not registered): want 480, got %s'
                  % (nobody, show(mf)))
            wait_cdr(e.d, mc.call_id)
        finally:
            marker.close()
        rows = cdr_rows(e.d, oc.call_id)
        check(not rows, 'a call refused for a wrong password left a CDR:\n%r' % rows)
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
        check_cdr(wait_cdr(e.d, oc2.call_id), disposition='BUSY', hangup_status=486, hangup_side='system',
                  callee=callee, billsec=0)
    finally:
        for x in (a, b, ra, rb):
            x.close()


# --- tests: RTP through the relay ----------------------------------------------------

def python_call(e, ring=True, caller_sdp_dir='sendrecv'):
    """Trusted python caller A (127.0.0.2) calls python callee B (static
    contact); returns (a, b, ra, rb, outcall, dialog_b, a_media, b_media)
    where x_media is where that phone must send RTP (Hookflash's port)."""
    c = {}
    try:
        c['b'] = b = Phone(e.d.sip_port, 'callee', name='B')
        callee, _ = e.ext(contact='sip:%s:%d' % (LOCAL, b.port))
        c['a'] = a = Phone(e.d.sip_port, e.caller, ip=TRUSTED_IP, name='A')
        c['ra'] = ra = RtpPeer(TRUSTED_IP)
        c['rb'] = rb = RtpPeer()
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
    except BaseException:
        close_all(c)
        raise
    c.update(oc=oc, bd=bd, callee=callee, a_dest=(a_media[0], a_media[1]),
             b_dest=(b_media[0], b_media[1]))
    return c


def phones_ab(e):
    """Python caller A (trusted, 127.0.0.2) and callee B (static contact),
    each with an RTP socket: (a, b, callee number, ra, rb)."""
    b = Phone(e.d.sip_port, 'callee', name='B')
    callee, _ = e.ext(contact='sip:%s:%d' % (LOCAL, b.port))
    a = Phone(e.d.sip_port, e.caller, ip=TRUSTED_IP, name='A')
    return a, b, callee, RtpPeer(TRUSTED_IP), RtpPeer()


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
        wait_listed(e, c['callee'], 'answered')
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


def answers_offers(phone, rtp, ip=LOCAL):
    """Makes phone answer re-INVITE/UPDATE offers by itself, with the
    direction that matches the offer (sendonly -> recvonly...)."""
    flip = {'sendonly': 'recvonly', 'recvonly': 'sendonly', 'inactive': 'inactive'}
    phone.reinvite_answer = lambda offer: make_sdp(
        rtp.port, flip.get(sdp_audio(offer)[2], 'sendrecv'), ip=ip, version=len(phone.reinvites) + 2)


def test_call_update_and_callee_hold(ctx):
    """Offers from either side are relayed: A sends UPDATE a=sendonly, B
    gets an UPDATE with a=sendonly (on Hookflash's port) and answers
    recvonly, A gets 200 recvonly; then B (the callee) holds with a
    re-INVITE a=sendonly and A sees it the same way; B hangs up."""
    e = env(ctx)
    c = None
    try:
        c = python_call(e)
        answers_offers(c['b'], c['rb'])
        answers_offers(c['a'], c['ra'], TRUSTED_IP)
        r = c['oc'].dialog.request('UPDATE', make_sdp(c['ra'].port, 'sendonly', ip=TRUSTED_IP, version=2))
        check(r is not None and r.status == 200, 'UPDATE from A: %s' % show(r))
        check(sdp_audio(r.body)[2] == 'recvonly', 'UPDATE answer to A not recvonly:\n%s' % r.body)
        got = [m for m in c['b'].reinvites if m.method == 'UPDATE']
        check(len(got) == 1 and sdp_audio(got[0].body)[2] == 'sendonly',
              'B did not get the UPDATE with a=sendonly: %s' % [m.start for m in c['b'].reinvites])
        check_anchored(e, got[0].body, 'UPDATE to B')
        r = c['bd'].request('INVITE', make_sdp(c['rb'].port, 'sendonly', version=2))
        check(r is not None and r.status == 200, 're-INVITE from B: %s' % show(r))
        check(sdp_audio(r.body)[2] == 'recvonly', 're-INVITE answer to B not recvonly:\n%s' % r.body)
        got = [m for m in c['a'].reinvites if m.method == 'INVITE']
        check(len(got) == 1 and sdp_audio(got[0].body)[2] == 'sendonly',
              'A did not get the re-INVITE with a=sendonly: %s' % [m.start for m in c['a'].reinvites])
        r = c['bd'].bye()
        check(r is not None and r.status == 200, 'BYE from B: %s' % show(r))
        check(c['oc'].dialog.wait_request('BYE', 3) is not None, 'A got no BYE')
        row = wait_cdr(e.d, c['oc'].call_id)
        check_cdr(row, disposition='ANSWERED', hangup_side='callee')
    finally:
        close_all(c)


def test_call_cancel_reaches_every_fork(ctx):
    """Two python phones registered as one extension both ring; the caller
    CANCELs: each fork gets a CANCEL (answers 200 and 487), the caller
    gets 487; CDR CANCELLED."""
    e = env(ctx)
    number, pw = e.ext()
    forks = []
    a = Phone(e.d.sip_port, e.caller, ip=TRUSTED_IP, name='A')
    ra = RtpPeer(TRUSTED_IP)
    try:
        for i in range(2):
            p = Phone(e.d.sip_port, number, pw, name='fork %d' % i)
            forks.append(p)
            register_contact(e, number, pw, p.port, phone=p)
        oc = a.call(number, make_sdp(ra.port, ip=TRUSTED_IP))
        invs = [p.wait_request('INVITE', 5) for p in forks]
        check(all(invs), 'not every fork rang: %s' % [i is not None for i in invs])
        tags = [rand_hex(8) for _ in forks]
        for p, inv, tag in zip(forks, invs, tags):
            p.respond(inv, 180, to_tag=tag)
        check(oc.wait_ringing(3) is not None, 'A got no 180 (or 183 with ringback)')
        r = oc.cancel()
        check(r is not None and r.status == 200, 'CANCEL: %s' % show(r))
        for p, inv, tag in zip(forks, invs, tags):
            cancel = p.wait_request('CANCEL', 3)
            check(cancel is not None, '%s got no CANCEL' % p.name)
            p.respond(cancel, 200)
            p.respond(inv, 487, to_tag=tag)
        f = oc.wait_final(3)
        check(f is not None and f.status == 487, 'A: want 487, got %s' % show(f))
        row = wait_cdr(e.d, oc.call_id)
        check_cdr(row, disposition='CANCELLED', hangup_side='caller', hangup_status=487)
    finally:
        for x in forks + [a, ra]:
            x.close()


def test_call_system_max_calls_503(ctx):
    """hookflashd --max-calls 1: while one call is up, the next INVITE gets
    503 (with Retry-After) and rings nobody."""
    d = hf.Daemon(extra=['--max-calls', '1'])
    ctx.daemons.append(d)
    d.start()
    e = CallEnv.__new__(CallEnv)
    e.ctx, e.d, e.next = ctx, d, 4600
    e.caller, _ = e.ext(trust='%s/32' % TRUSTED_IP)
    c = None
    try:
        c = python_call(e)
        b2 = Phone(d.sip_port, 'callee2', name='B2')
        c['b2'] = b2
        callee2, _ = e.ext(contact='sip:%s:%d' % (LOCAL, b2.port))
        oc2 = c['a'].call(callee2, make_sdp(c['ra'].port, ip=TRUSTED_IP))
        f = oc2.wait_final(5)
        check(f is not None and f.status == 503, 'second call past --max-calls 1: want 503, got %s' % show(f))
        check(f.get('retry-after'), '503 without Retry-After:\n%s' % show(f))
        check(b2.wait_request('INVITE', 0.3) is None, 'the second callee rang anyway')
        c['oc'].dialog.bye()
        c['bd'].wait_request('BYE', 3)
        wait_cdr(d, c['oc'].call_id)
    finally:
        close_all(c)
        if c and 'b2' in c:
            c['b2'].close()
    d.stop_clean()


def test_call_early_media(ctx):
    """The callee answers 183 with SDP and plays 25 packets of early media
    (a ringback tone or an announcement) before its 200: Hookflash relays
    the 183 with its own SDP to the caller, so the caller listens on that
    port and must hear them (RFC 3960, the gateway model). B sends its
    first packet the instant A has the 183: the media worker must have the
    call set up by then (seen lost when its wake-up trailed the 183)."""
    e = env(ctx)
    a, b, callee, ra, rb = phones_ab(e)
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
        # the relayed packets arrive within a moment of the last one sent
        hf.wait_for(lambda: len([p for p in ra.got if p['ssrc'] == 0x77777777]) >= 25, 2.0, 0.02)
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
    a, b, callee, ra, rb = phones_ab(e)
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
        time.sleep(0.6)  # RTP flows both ways for a while (the test's content)
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
        time.sleep(0.6)  # RTP flows again after the resume (the test's content)
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



def test_call_reinvite_without_sdp(ctx):
    """A sends a re-INVITE without SDP (phones do, to refresh or to learn
    the session): Hookflash answers it itself with an offer of what A
    already has (same port, same codec), B is not disturbed, and the
    answer in A's ACK takes effect: A moves its media to a new port there,
    and B's RTP reaches A at the new port."""
    e = env(ctx)
    c = python_call(e)
    ra2 = RtpPeer(TRUSTED_IP)
    try:
        a, b, oc = c['a'], c['b'], c['oc']
        answer = make_sdp(ra2.port, ip=TRUSTED_IP, version=2)
        r = oc.dialog.request('INVITE', '', ack_body=answer)
        check(r is not None and r.status == 200, 'offer-less re-INVITE: %s' % show(r))
        check(r.body.strip(), 'the 200 carries no offer')
        offer = sdp_audio(r.body)
        check((offer[0], offer[1]) == c['a_dest'], 'the offer moved A\'s media from %r to %r'
              % (c['a_dest'], offer[:2]))
        check_anchored(e, r.body, '200 to the offer-less re-INVITE')
        # negative check: a relayed re-INVITE would reach B at once; 0.5 s
        # of watching B's socket covers it
        check(b.wait_request('INVITE', 0.5) is None, 'B got a re-INVITE')
        a.ping()  # A's ACK (with the answer) has been read
        c['rb'].send(c['b_dest'], 10, 0x5151, 'AFTER', interval=0.02)
        deadline = time.time() + 2
        while time.time() < deadline and len([p for p in ra2.got if p['ssrc'] == 0x5151]) < 10:
            time.sleep(0.05)
        moved = len([p for p in ra2.got if p['ssrc'] == 0x5151])
        old = len([p for p in c['ra'].got if p['ssrc'] == 0x5151])
        check(moved == 10 and old == 0, 'after the ACK\'s answer B\'s RTP should reach A\'s new port: '
              '%d of 10 there, %d at the old one' % (moved, old))
        oc.dialog.bye()
        c['bd'].wait_request('BYE', 3)
        wait_cdr(e.d, oc.call_id)
    finally:
        ra2.close()
        close_all(c)



def test_call_delayed_offer(ctx):
    """A calls with an INVITE without SDP (a delayed offer, RFC 3261
    13.2.1, as some phones and gateways do): B is offered A's codecs by
    A's policy, B's 180 reaches A without SDP, our 200 to A carries an
    offer with the codec B chose, A's ACK answers it, and RTP flows both
    ways through Hookflash; the CDR says ANSWERED with the codec."""
    e = env(ctx)
    a, b, callee, ra, rb = phones_ab(e)
    try:
        oc = a.call(callee, '')
        oc.ack_body = make_sdp(ra.port, ip=TRUSTED_IP, pts=(0, 101))
        inv = b.wait_request('INVITE', 5)
        check(inv is not None, 'B got no INVITE; A saw:\n%s' % '\n'.join(r.start for r in oc.responses))
        encs = re.findall(r'a=rtpmap:\d+ ([^/\s]+)', inv.body)
        check('PCMU' in encs and 'telephone-event' in encs, 'B\'s offer lacks PCMU or events:\n%s' % inv.body)
        check_anchored(e, inv.body, 'INVITE to B')
        b_media = sdp_audio(inv.body)
        bd = b.answer(inv, make_sdp(rb.port, pts=(0, 101)))
        f = oc.wait_final(5)
        check(f is not None and f.status == 200, 'A: want 200, got %s' % show(f))
        rings = [r for r in oc.responses if 100 < r.status < 200]
        check(rings and not any(r.body.strip() for r in rings), 'A got a provisional with SDP: %s'
              % [r.start for r in rings])
        check(f.body.strip() and 'a=rtpmap:0 PCMU/8000' in f.body, 'our 200 offers A no PCMU:\n%s' % f.body)
        # A's policy is the default (SRTP optional): a best-effort key on RTP/AVP, which A ignores
        check(' RTP/AVP ' in f.body and 'a=crypto:1 ' in f.body, 'no best-effort SRTP offer:\n%s' % f.body)
        check_anchored(e, f.body, '200 (offer) to A')
        a_media = sdp_audio(f.body)
        # A's ACK carried its answer: once Hookflash has read it, it knows
        # where A listens (B sends first: A has sent nothing to latch on)
        a.ping()
        rb.send((b_media[0], b_media[1]), 10, 0x6161, 'B2A', interval=0.02)
        ra.send((a_media[0], a_media[1]), 10, 0x7171, 'A2B', interval=0.02)
        deadline = time.time() + 2
        while time.time() < deadline and (len([p for p in ra.got if p['ssrc'] == 0x6161]) < 10 or
                                          len([p for p in rb.got if p['ssrc'] == 0x7171]) < 10):
            time.sleep(0.05)
        check(len([p for p in ra.got if p['ssrc'] == 0x6161 and len(p['payload']) == 160]) == 10,
              'B -> A: %d of 10 plain packets' % len([p for p in ra.got if p['ssrc'] == 0x6161]))
        check(len([p for p in rb.got if p['ssrc'] == 0x7171]) == 10, 'A -> B: %d of 10 packets'
              % len([p for p in rb.got if p['ssrc'] == 0x7171]))
        oc.dialog.bye()
        bd.wait_request('BYE', 3)
        row = wait_cdr(e.d, oc.call_id)
        check(row['disposition'] == 'ANSWERED' and row['codec'] == 'PCMU/8000', 'CDR %r' % row)
    finally:
        for x in (a, b, ra, rb):
            x.close()


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
    test_call_trusted_address_names_other_extension,
    test_call_digest_wrong_password,
    test_call_extension_max_calls_486,
    test_call_rtp_relay_counts,
    test_call_update_and_callee_hold,
    test_call_cancel_reaches_every_fork,
    test_call_system_max_calls_503,
    test_call_early_media,
    test_call_reinvite_without_sdp,
    test_call_delayed_offer,
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
