#!/usr/bin/env python3
"""
Media security and interop: RTP bleed (a stranger's RTP during the
latching window must not take a leg; issue #16), calls between phones
that require SRTP, calls relayed without transcoding when the phones
share a codec, and failed calls in the daemon log (issue #17).

Run with the other integration tests (run.py includes TESTS) or alone:

    python3 tests/integration/rtpsec.py [-v] [-k SUBSTRING]
"""
import os
import random
import re
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hf  # noqa: E402
from callkit import TRUSTED_IP, Phone, RtpPeer, show, wait_cdr  # noqa: E402
from hf import check, LOCAL  # noqa: E402
from nego import PCMU, TE101, sdp, setup_call  # noqa: E402
from sipclient import rand_hex  # noqa: E402


class SecEnv:
    """The daemon these tests share; callers are trusted devices on
    127.0.0.2 (one extension per test)."""

    def __init__(self, ctx):
        self.d = hf.Daemon()
        ctx.daemons.append(self.d)
        self.d.start()
        self.next = 6500

    def ext(self, *opts, trusted=False):
        number = str(self.next)
        self.next += 1
        args = ['extension', 'add', number, '--password', 'pw-' + rand_hex(12), '--name', 'Sec %s' % number]
        if trusted:
            args += ['--trust', '%s/32' % TRUSTED_IP]
        hf.cli(self.d.data_dir, *(args + list(opts)))
        return number


def env(ctx):
    e = getattr(ctx, 'rtpsec_env', None)
    if e is None or e.d.proc is None:
        e = ctx.rtpsec_env = SecEnv(ctx)
    check(e.d.alive(), 'the daemon died:\n%s' % e.d.log_tail(60))
    return e


def sdp_port(body):
    return int(body.split('m=audio ')[1].split()[0])


def tags(peer, tag):
    """Packets peer received whose payload names sender tag."""
    return [p for p in list(peer.got) if p['payload'][4:8] == tag.encode()[:4].ljust(4, b'-')]


def wait_for(pred, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


# --- RTP bleed -------------------------------------------------------------------

def test_rtp_bleed_stranger_in_latch_window(ctx):
    """The callee is behind NAT (its SDP says 127.0.0.3, its RTP comes
    from 127.0.0.1). Right after it answers, while its leg's latching
    window is open, a third socket sends well-formed RTP (PCMU, the
    negotiated type, consecutive sequence numbers: a burst of 3, then a
    stray packet every 150 ms) to the callee's leg port on Hookflash. The
    caller streams. The stranger must receive none of the caller's audio,
    and the callee must get it once it starts sending."""
    e = env(ctx)
    caller = e.ext(trusted=True)
    callee = e.ext()
    ra, rb = RtpPeer(TRUSTED_IP), RtpPeer()
    evil = RtpPeer()  # same host as the callee: no help from preferring the SIP peer's host
    stop = threading.Event()
    threads = []
    a, b, oc, inv = setup_call(e, caller, callee, sdp(ra.port, [PCMU, TE101], ip=TRUSTED_IP))
    try:
        check(inv is not None, 'B got no INVITE')
        b_leg = (LOCAL, sdp_port(inv.body))
        # B behind NAT: its SDP names an address it does not send from
        dlg = b.answer(inv, sdp(rb.port + 100, [PCMU, TE101], ip='127.0.0.3'))
        f = oc.wait_final(5)
        check(f is not None and f.status == 200, 'A: %s' % show(f))
        a_leg = (LOCAL, sdp_port(f.body))
        # the stranger, inside the window (it opens when B answers)
        ssrc_evil = random.getrandbits(32)
        evil.send(b_leg, 3, ssrc_evil, 'EVIL', seq0=7000, interval=0.001)

        def stray():
            seq = 7003
            while not stop.wait(0.15):
                evil.send(b_leg, 1, ssrc_evil, 'EVIL', seq0=seq, interval=0)
                seq += 1
        threads.append(threading.Thread(target=stray, daemon=True))
        threads.append(threading.Thread(target=lambda: ra.stream(a_leg, 0xA11CE, 'AAAA', stop),
                                        daemon=True))
        for t in threads:
            t.start()
        time.sleep(0.2)  # the caller talks before the callee does (part of the scenario)
        threads.append(threading.Thread(target=lambda: rb.stream(b_leg, 0xB0B, 'BBBB', stop),
                                        daemon=True))
        threads[-1].start()
        got_b = wait_for(lambda: len(tags(rb, 'AAAA')) >= 20, 4.0)
        time.sleep(0.3)  # let anything that would bleed arrive
        stop.set()
        for t in threads:
            t.join(2)
        leaked = tags(evil, 'AAAA')
        check(not leaked, 'the stranger received %d packets of the caller\'s audio (B got %d)'
              % (len(leaked), len(tags(rb, 'AAAA'))))
        check(got_b, 'the callee got %d packets of the caller\'s audio (want >= 20)' % len(tags(rb, 'AAAA')))
        check(len(tags(ra, 'EVIL')) == 0, 'the caller heard the stranger (%d packets)' % len(tags(ra, 'EVIL')))
        check(len(tags(ra, 'BBBB')) >= 10, 'the caller got %d packets from B' % len(tags(ra, 'BBBB')))
        oc.dialog.bye()
        dlg.wait_request('BYE', 3)
    finally:
        stop.set()
        for x in (a, b, ra, rb, evil):
            x.close()


def test_rtp_ports_random(ctx):
    """Successive calls get RTP ports in no predictable order: the B-side
    ports of 8 calls are not ascending and not consecutive pairs."""
    e = env(ctx)
    caller = e.ext(trusted=True)
    callee = e.ext()
    ports = []
    for _ in range(8):
        a, b, oc, inv = setup_call(e, caller, callee, sdp(40000, [PCMU], ip=TRUSTED_IP))
        try:
            check(inv is not None, 'B got no INVITE')
            ports.append(sdp_port(inv.body))
            b.respond(inv, 486, to_tag=rand_hex(8))
            f = oc.wait_final(5)
            check(f is not None, 'A got no final answer')
            if f.status == 200:  # busy goes on to voicemail by default
                oc.dialog.bye()
        finally:
            a.close()
            b.close()
    steps = [y - x for x, y in zip(ports, ports[1:])]
    check(not all(s > 0 for s in steps), 'ports ascending: %r' % ports)
    check(sum(1 for s in steps if abs(s) <= 4) <= 2, 'ports next to each other: %r' % ports)


# --- a shared codec is relayed, and the log says so ----------------------------

# phone RTP ports of our own (media.py's PHONE_PORTS are shared with every
# media test on this machine, and a capture by port range would mix them)
OWN_PHONE_PORTS = [((26100, 26198), (27100, 27198)), ((28100, 28198), (29100, 29198))]


def media_env(ctx):
    """A media.MediaEnv of this module's own, its phones on OWN_PHONE_PORTS."""
    import media  # noqa: E402 (the softphone machinery, imported only when used)
    e = getattr(ctx, 'rtpsec_media_env', None)
    if e is None or e.d.proc is None or not e.d.alive():
        e = ctx.rtpsec_media_env = media.MediaEnv(ctx)
        lo, hi = e.d.rtp_base, e.d.rtp_base + 999
        e.ports_a, e.ports_b = next(
            pair for pair in OWN_PHONE_PORTS if all(r[1] + 1 < lo or r[0] > hi for r in pair))
    return e


def own_streams(c):
    """c's RTP on the wire (wire.wire_streams) without other daemons'
    packets: the other end of each packet must be our daemon's RTP range
    (tests of other checkouts on this machine use these ports too)."""
    from wire import wire_streams  # noqa: E402
    lo, hi = c.e.d.rtp_base, c.e.d.rtp_base + 999
    st = wire_streams(c.cap, c)
    return {k: [p for p in v if lo <= (p['dst'] if k.startswith('from') else p['src']) <= hi]
            for k, v in st.items()}


def relay_call(ctx, codecs_a, codecs_b, tag, **kw):
    """Two baresip phones through Hookflash; returns the finished
    media.Call after checking both heard each other."""
    import media  # noqa: E402
    e = media_env(ctx)
    c = media.Call(e, codecs_a, codecs_b, tag=tag, **kw).run()
    c._streams = own_streams(c)
    return media, e, c


def relay_lines(d, call_id):
    return re.findall(r'call %s: (?:relaying|transcoding)[^\n]*' % call_id, d.log())


def check_relayed(media, c, codec):
    """One codec on both legs in the CDR, no "transcoding" line and a
    "relaying" line at info for the call."""
    lines = relay_lines(c.e.d, c.call_id)
    c.verify(c.check_audio,
             lambda: check(c.row['codec'] == codec, 'CDR codec %r (want %r: one codec, relayed)'
                           % (c.row['codec'], codec)),
             lambda: check(not c.transcoding_lines() and lines and 'relaying' in lines[0],
                           'hookflashd on relaying/transcoding call %s: %r' % (c.call_id, lines)),
             lambda: check(re.search(r'info +\[call\] call %s: relaying' % c.call_id, c.e.d.log()),
                           'no "relaying" line at info for call %s' % c.call_id))


def test_relay_shared_codec_pcmu_first_both_opus(ctx):
    """Two identical phones, PCMU first and opus too (issue #17): the call
    is relayed on one codec, never PCMU<->opus, and the log says
    relaying."""
    media, e, c = relay_call(ctx, 'pcmu,opus', 'pcmu,opus', 'share2', expect_a='pcmu', expect_b='pcmu')
    check_relayed(media, c, 'PCMU/8000')


def test_relay_shared_codec_pcmu_first_caller_opus(ctx):
    """A offers PCMU then opus, B only PCMU: relayed on PCMU."""
    media, e, c = relay_call(ctx, 'pcmu,opus', 'pcmu', 'share1', expect_a='pcmu', expect_b='pcmu')
    check_relayed(media, c, 'PCMU/8000')


def test_relay_shared_codec_pcmu_first_callee_opus(ctx):
    """A offers only PCMU, B PCMU then opus: relayed on PCMU."""
    media, e, c = relay_call(ctx, 'pcmu', 'pcmu,opus', 'share3', expect_a='pcmu', expect_b='pcmu')
    check_relayed(media, c, 'PCMU/8000')


def test_transcode_logged_with_reason(ctx):
    """A only opus, B only PCMU: transcoded, and the log says so at info
    with the reason."""
    media, e, c = relay_call(ctx, 'opus', 'pcmu', 'why')
    lines = relay_lines(e.d, c.call_id)
    c.verify(c.check_audio, lambda: check(
        any(re.search(r'transcoding opus/48000 ?<-> ?PCMU/8000: callee answered only PCMU', l) for l in lines)
        and re.search(r'info +\[call\] call %s: transcoding' % c.call_id, e.d.log()),
        'hookflashd on call %s: %r' % (c.call_id, lines)))


# --- SRTP-requiring phones under the default policy ------------------------------

def srtp_call(ctx, enc_a, enc_b, tag):
    """A (baresip mediaenc enc_a) calls B (enc_b), both PCMU, both
    extensions on the default SRTP policy (optional)."""
    import media  # noqa: E402
    e = media_env(ctx)
    c = media.Call(e, 'pcmu', 'pcmu', enc_a=enc_a, enc_b=enc_b, tag=tag).run()
    c._streams = own_streams(c)
    return c


def check_both_srtp(c):
    """Both phones turned SRTP on, and all four streams on the wire are
    noise (SRTP both ways on both legs)."""
    from wire import say, stream_facts  # noqa: E402
    for x, p in (('A', c.a), ('B', c.b)):
        check('SRTP is Enabled' in p.log(), '%s %r never turned SRTP on' % (x, p))
    facts = {k: stream_facts(v) for k, v in c.streams().items()}
    table = '\n'.join('  %-6s %4d packets, payload %3d bytes, entropy %.2f bit/byte' % ((k,) + f[:3])
                      for k, f in facts.items())
    say('on the wire:\n' + table)
    need = int(c.talked / 0.02 * 0.6)
    for k, f in facts.items():
        check(f[0] >= need and f[2] > 7.5 and f[1] == 170,
              'on the wire %s: want >= %d SRTP packets (170 bytes, entropy > 7.5):\n%s' % (k, need, table))


def refused_then_retried(c, profile):
    return re.search(r'call %s: the callee refused our offer \(488\): offering RTP/%s ' % (c.call_id, profile),
                     c.e.d.log())


def test_srtp_both_phones_require_srtp(ctx):
    """Two phones that require SRTP (baresip srtp-mand: RTP/SAVP only),
    default policy: the callee refuses the RTP/AVP offer (488), Hookflash
    offers it RTP/SAVP, and the call works encrypted on both legs."""
    c = srtp_call(ctx, 'srtp-mand', 'srtp-mand', 'savp2')
    c.verify(c.check_codecs, c.check_audio, lambda: check_both_srtp(c),
             lambda: check(refused_then_retried(c, 'SAVP'), 'no retry with RTP/SAVP in the log'))


def test_srtp_plain_caller_to_srtp_required_callee(ctx):
    """A plain phone calls a phone that requires SRTP, default policy:
    B's leg is SRTP (after the retry), A's plain."""
    from wire import check_srtp_wire  # noqa: E402
    c = srtp_call(ctx, None, 'srtp-mand', 'savpb')
    c.verify(c.check_codecs, c.check_audio, lambda: check_srtp_wire(c, 'B', 'A'),
             lambda: check(refused_then_retried(c, 'SAVP'), 'no retry with RTP/SAVP in the log'))


def test_srtp_plain_caller_to_srtp_mandf_callee(ctx):
    """The same with a callee that requires SRTP with feedback (baresip
    srtp-mandf: RTP/SAVPF only)."""
    from wire import check_srtp_wire  # noqa: E402
    c = srtp_call(ctx, None, 'srtp-mandf', 'savpfb')
    c.verify(c.check_codecs, c.check_audio, lambda: check_srtp_wire(c, 'B', 'A'),
             lambda: check(refused_then_retried(c, 'SAVPF'), 'no retry with RTP/SAVPF in the log'))


def test_srtp_required_caller_to_plain_callee(ctx):
    """A phone that requires SRTP calls a plain phone: A's leg SRTP, B's
    plain, and no retry was needed."""
    from wire import check_srtp_wire  # noqa: E402
    c = srtp_call(ctx, 'srtp-mand', None, 'savpa')
    c.verify(c.check_codecs, c.check_audio, lambda: check_srtp_wire(c, 'A', 'B'))


# --- failed calls in the daemon log ---------------------------------------------

def failed_line(d, caller, dialled, status):
    """The info line of a failed call: caller, dialled number, status and
    reason, e.g. "call 7 failed: 6001 -> 6002: 486 Busy Here (busy)"."""
    pat = r'info +\[call\] call \d+ failed: %s -> %s: %d [A-Za-z]' % (caller, dialled, status)
    return [l for l in d.log().splitlines() if re.search(pat, l)]


def test_failed_calls_logged(ctx):
    """404 (unknown number), 480 (not registered), 486 (busy), 487 (the
    caller cancels) and 603 (declined): each leaves one line at info with
    the caller, the dialled number, the status and the reason."""
    e = env(ctx)
    caller = e.ext(trusted=True)
    cases = []

    # 486: the phone is busy, and busy means hang up
    busy = e.ext('--busy', 'hangup')
    a, b, oc, inv = setup_call(e, caller, busy, sdp(40010, [PCMU], ip=TRUSTED_IP))
    try:
        check(inv is not None, 'B got no INVITE')
        b.respond(inv, 486, to_tag=rand_hex(8))
        f = oc.wait_final(5)
        check(f is not None and f.status == 486, 'A: %s' % show(f))
        cases.append((busy, 486, 'Busy Here'))
    finally:
        a.close()
        b.close()

    # 603: declined
    dec = e.ext('--busy', 'hangup')
    a, b, oc, inv = setup_call(e, caller, dec, sdp(40012, [PCMU], ip=TRUSTED_IP))
    try:
        check(inv is not None, 'B got no INVITE')
        b.respond(inv, 603, to_tag=rand_hex(8))
        f = oc.wait_final(5)
        check(f is not None and f.status >= 400, 'A: %s' % show(f))
        cases.append((dec, f.status, f.reason if hasattr(f, 'reason') else ''))
    finally:
        a.close()
        b.close()

    # 487: the caller cancels while it rings
    ring = e.ext()
    a, b, oc, inv = setup_call(e, caller, ring, sdp(40014, [PCMU], ip=TRUSTED_IP))
    try:
        check(inv is not None, 'B got no INVITE')
        b.respond(inv, 180, to_tag=rand_hex(8))
        oc.wait_ringing(5)
        oc.cancel()
        cases.append((ring, 487, 'Request Terminated'))
    finally:
        a.close()
        b.close()

    # 480: an extension with no phone, whose unavailable destination is hangup
    gone = e.ext('--unavailable', 'hangup')
    a = Phone(e.d.sip_port, caller, ip=TRUSTED_IP, name='A')
    try:
        oc = a.call(gone, sdp(40016, [PCMU], ip=TRUSTED_IP))
        f = oc.wait_final(8)
        check(f is not None and f.status == 480, 'A (unregistered callee): %s' % show(f))
        cases.append((gone, 480, 'Temporarily Unavailable'))
    finally:
        a.close()

    # 404: a number nobody has (announced, then 404)
    a = Phone(e.d.sip_port, caller, ip=TRUSTED_IP, name='A')
    try:
        oc = a.call('7999', sdp(40018, [PCMU], ip=TRUSTED_IP))
        f = oc.wait_final(30)
        check(f is not None and f.status == 404, 'A (unknown number): %s' % show(f))
        cases.append(('7999', 404, 'Not Found'))
    finally:
        a.close()

    missing = []
    for dialled, status, _ in cases:
        if not hf.wait_for(lambda: failed_line(e.d, caller, dialled, status), 3, 0.05):
            missing.append('%s %d' % (dialled, status))
    ended = [l for l in e.d.log().splitlines() if '[call]' in l and ('ended' in l or 'failed' in l)]
    check(not missing, 'no "call N failed: %s -> NUMBER: STATUS REASON" line at info for %s; the call lines:\n%s'
          % (caller, ', '.join(missing), '\n'.join(ended[-12:])))
    for dialled, status, _ in cases:
        check(len(failed_line(e.d, caller, dialled, status)) == 1, 'more than one line for %s %d: %r'
              % (dialled, status, failed_line(e.d, caller, dialled, status)))


TESTS = [
    test_rtp_bleed_stranger_in_latch_window,
    test_rtp_ports_random,
    test_relay_shared_codec_pcmu_first_both_opus,
    test_relay_shared_codec_pcmu_first_caller_opus,
    test_relay_shared_codec_pcmu_first_callee_opus,
    test_transcode_logged_with_reason,
    test_failed_calls_logged,
    test_srtp_both_phones_require_srtp,
    test_srtp_plain_caller_to_srtp_required_callee,
    test_srtp_plain_caller_to_srtp_mandf_callee,
    test_srtp_required_caller_to_plain_callee,
]


if __name__ == '__main__':
    import run  # noqa: E402
    run.TESTS = TESTS
    sys.exit(run.guarded())
