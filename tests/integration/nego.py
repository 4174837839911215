#!/usr/bin/env python3
"""
Codec and SRTP negotiation, DTMF over SIP INFO and ringback, with
python phones (callkit.Phone) on both sides so every SDP each phone sees
can be checked line by line.

Run with the other integration tests (run.py includes TESTS) or alone:

    python3 tests/integration/nego.py [-v] [-k SUBSTRING]
"""
import os
import re
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hf  # noqa: E402
from callkit import TRUSTED_IP, Phone, RtpPeer, show, wait_cdr  # noqa: E402
from hf import check, LOCAL  # noqa: E402
from sipclient import rand_hex  # noqa: E402

# our opus fmtp towards a phone whose audio we transcode to or from G.711:
# narrowband is all the call carries (RFC 7587 maxplaybackrate)
OPUS_FMTP_NB = 'maxplaybackrate=8000;sprop-maxcapturerate=8000;useinbandfec=1;stereo=0'
A_KEY = 'WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz'  # A's key||salt: 30 bytes in base64


class NegoEnv:
    """The daemon these tests share; callers are trusted devices on
    127.0.0.2 (one extension per test: the trust names the From user)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.d = hf.Daemon()
        ctx.daemons.append(self.d)
        self.d.start()
        self.next = 6000

    def ext(self, *opts, trusted=False):
        number = str(self.next)
        self.next += 1
        args = ['extension', 'add', number, '--password', 'pw-' + rand_hex(12), '--name', 'Nego %s' % number]
        if trusted:
            args += ['--trust', '%s/32' % TRUSTED_IP]
        hf.cli(self.d.data_dir, *(args + list(opts)))
        return number


def env(ctx):
    e = getattr(ctx, 'nego_env', None)
    if e is None or e.d.proc is None:
        e = ctx.nego_env = NegoEnv(ctx)
    check(e.d.alive(), 'the nego daemon died:\n%s' % e.d.log_tail(60))
    return e


def sdp(port, codecs, ip=LOCAL, proto='RTP/AVP', extra=()):
    """An SDP body: codecs is [(pt, 'rtpmap' or None, 'fmtp' or None)]."""
    lines = ['v=0', 'o=hfit %d 1 IN IP4 %s' % (port, ip), 's=-', 'c=IN IP4 %s' % ip, 't=0 0',
             'm=audio %d %s %s' % (port, proto, ' '.join(str(c[0]) for c in codecs))]
    for pt, rtpmap, fmtp in codecs:
        if rtpmap:
            lines.append('a=rtpmap:%d %s' % (pt, rtpmap))
        if fmtp:
            lines.append('a=fmtp:%d %s' % (pt, fmtp))
    lines += list(extra) + ['a=sendrecv']
    return '\r\n'.join(lines) + '\r\n'


PCMU = (0, 'PCMU/8000', None)
PCMA = (8, 'PCMA/8000', None)
TE101 = (101, 'telephone-event/8000', '0-15')


def media_lines(body):
    """The m= line and a= lines of the audio stream, in order, without
    the ones that vary (direction is kept)."""
    out, on = [], False
    for line in body.replace('\r\n', '\n').split('\n'):
        if line.startswith('m='):
            on = line.startswith('m=audio')
            out.append(re.sub(r'^m=audio \d+ ', 'm=audio PORT ', line))
        elif on and line.startswith('a='):
            out.append(line)
    return out


def setup_call(e, caller, callee, offer, rung=True):
    """A (trusted) calls callee: returns (a, b, oc, inv) once B got the
    INVITE (inv None when it got none; rung=False: none is expected, so
    A's final answer is waited for first)."""
    b = Phone(e.d.sip_port, 'callee', name='B')
    hf.cli(e.d.data_dir, 'extension', 'set', callee, '--contact', 'sip:%s:%d' % (LOCAL, b.port))
    a = Phone(e.d.sip_port, caller, ip=TRUSTED_IP, name='A')
    oc = a.call(callee, offer)
    if not rung:
        oc.wait_final(5)
    # rung=False is a negative check: A has its final answer, and an INVITE
    # forked to B would have left before it; 0.2 s of watching B covers it
    inv = b.wait_request('INVITE', 5 if rung else 0.2)
    return a, b, oc, inv


# --- tests ---------------------------------------------------------------------------

def test_nego_pcmu_caller_opus_callee(ctx):
    """A offers PCMU (+ telephone-event) to a callee whose policy is opus
    only. With transcoding the callee's INVITE offers exactly opus (our
    RFC 7587 fmtp) and A's telephone-event; B answers opus, A's 200 says
    PCMU, A's PCMU packets reach B as opus, and the CDR shows both
    codecs."""
    e = env(ctx)
    caller = e.ext(trusted=True)
    callee = e.ext('--codecs', 'opus')
    ra, rb = RtpPeer(TRUSTED_IP), RtpPeer()
    a, b, oc, inv = setup_call(e, caller, callee, sdp(ra.port, [PCMU, TE101], ip=TRUSTED_IP))
    try:
        check(inv is not None, 'B got no INVITE')
        want = ['m=audio PORT RTP/AVP 96 101', 'a=rtpmap:96 opus/48000/2', 'a=fmtp:96 ' + OPUS_FMTP_NB,
                'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'a=sendrecv']
        check(media_lines(inv.body) == want, 'B\'s offer:\n%s\nwant:\n%s' % (inv.body, '\n'.join(want)))
        dlg = b.answer(inv, sdp(rb.port, [(96, 'opus/48000/2', 'useinbandfec=1'), TE101]))
        f = oc.wait_final(5)
        check(f is not None and f.status == 200, 'A: %s' % show(f))
        got = media_lines(f.body)
        want = ['m=audio PORT RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000',
                'a=fmtp:101 0-15']
        check(got[:4] == want, 'A\'s answer:\n%s' % f.body)
        # the worker transcodes: A's PCMU reaches B as opus on B's PT 96
        a_dest = (LOCAL, int(f.body.split('m=audio ')[1].split()[0]))
        ra.send(a_dest, 25, 0x1234, 'PCMU', interval=0.02)
        deadline = time.time() + 2
        while time.time() < deadline and len(rb.got) < 10:
            time.sleep(0.05)
        pts = sorted(set(p['pt'] for p in rb.got))
        check(len(rb.got) >= 10 and pts == [96], 'B got %d RTP packets, payload types %r (want opus, 96)'
              % (len(rb.got), pts))
        oc.dialog.bye()
        dlg.wait_request('BYE', 3)
        row = wait_cdr(e.d, oc.call_id)
        check(row['codec'] == 'PCMU/8000|opus/48000', 'CDR codec %r' % row['codec'])
    finally:
        for x in (a, b, ra, rb):
            x.close()


def test_nego_order_and_pass_through(ctx):
    """A offers PCMA then PCMU to a callee preferring PCMU,G722: B gets
    A's codecs in its own order first (PCMU, PCMA), then (transcoding)
    G722, then telephone-event at 101. B picks PCMA: A's answer is PCMA
    (pass-through) without telephone-event (A offered none)."""
    e = env(ctx)
    caller = e.ext(trusted=True)
    callee = e.ext('--codecs', 'PCMU,G722,PCMA')
    a, b, oc, inv = setup_call(e, caller, callee, sdp(40002, [PCMA, PCMU], ip=TRUSTED_IP))
    try:
        check(inv is not None, 'B got no INVITE')
        want = ['m=audio PORT RTP/AVP 0 8 9 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000',
                'a=rtpmap:9 G722/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=sendrecv']
        check(media_lines(inv.body) == want, 'B\'s offer:\n%s\nwant:\n%s' % (inv.body, '\n'.join(want)))
        dlg = b.answer(inv, sdp(41002, [PCMA]))
        f = oc.wait_final(5)
        check(f is not None and f.status == 200, 'A: %s' % show(f))
        check(media_lines(f.body)[:2] == ['m=audio PORT RTP/AVP 8', 'a=rtpmap:8 PCMA/8000'],
              'A\'s answer:\n%s' % f.body)
        oc.dialog.bye()
        dlg.wait_request('BYE', 3)
        row = wait_cdr(e.d, oc.call_id)
        check(row['codec'] == 'PCMA/8000', 'CDR codec %r' % row['codec'])
    finally:
        a.close()
        b.close()


def test_nego_no_codec_488(ctx):
    """A offers only G729 (unknown to us, so never transcoded) to a
    callee whose policy is PCMU: 488 Not Acceptable Here with a Warning,
    the callee is not rung, and a FAILED CDR."""
    e = env(ctx)
    caller = e.ext(trusted=True)
    callee = e.ext('--codecs', 'PCMU')
    a, b, oc, inv = setup_call(e, caller, callee, sdp(40004, [(18, 'G729/8000', None)], ip=TRUSTED_IP),
                               rung=False)
    try:
        f = oc.wait_final(5)
        check(f is not None and f.status == 488, 'want 488, got %s' % show(f))
        check(re.search(r'399 hookflash "no common codec"', f.get('warning') or ''), 'Warning: %r'
              % f.get('warning'))
        check(inv is None, 'the callee was rung:\n%s' % show(inv))
        row = wait_cdr(e.d, oc.call_id)
        check(row['disposition'] == 'FAILED' and row['hangup_status'] == 488, 'CDR %r' % row)
    finally:
        a.close()
        b.close()


def test_nego_srtp_required_callee(ctx):
    """A offers plain RTP with an a=crypto line (best effort) to a callee
    whose SRTP policy is required: B's INVITE is RTP/SAVP with our own
    crypto lines (AES_CM_128_HMAC_SHA1_80 first), never A's key; B answers
    with a key and A's answer carries our key for A, not B's."""
    e = env(ctx)
    caller = e.ext(trusted=True)
    callee = e.ext('--srtp', 'required')
    offer = sdp(40006, [PCMU], ip=TRUSTED_IP,
                extra=['a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:' + A_KEY])
    a, b, oc, inv = setup_call(e, caller, callee, offer)
    try:
        check(inv is not None, 'B got no INVITE')
        lines = media_lines(inv.body)
        check(lines[0].startswith('m=audio PORT RTP/SAVP '), 'B\'s offer is not RTP/SAVP:\n%s' % inv.body)
        crypto = [x for x in lines if x.startswith('a=crypto:')]
        check(len(crypto) == 4 and ' AES_CM_128_HMAC_SHA1_80 inline:' in crypto[0],
              'B\'s crypto lines:\n%s' % inv.body)
        check(A_KEY not in inv.body, 'A\'s key reached B:\n%s' % inv.body)
        b_key = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk'
        tag = crypto[0].split(':')[1].split()[0]
        dlg = b.answer(inv, sdp(41006, [PCMU], proto='RTP/SAVP',
                                extra=['a=crypto:%s AES_CM_128_HMAC_SHA1_80 inline:%s' % (tag, b_key)]))
        f = oc.wait_final(5)
        check(f is not None and f.status == 200, 'A: %s' % show(f))
        a_crypto = [x for x in media_lines(f.body) if x.startswith('a=crypto:')]
        check(len(a_crypto) == 1 and a_crypto[0].startswith('a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:'),
              'A\'s answer should carry one key of ours for tag 1:\n%s' % f.body)
        check(b_key not in f.body and A_KEY not in f.body, 'a peer\'s key echoed to A:\n%s' % f.body)
        check(media_lines(f.body)[0].startswith('m=audio PORT RTP/AVP '), 'A offered RTP/AVP:\n%s' % f.body)
        oc.dialog.bye()
        dlg.wait_request('BYE', 3)
        with open(e.d.log_path, 'rb') as lf:
            log = lf.read().decode('utf-8', 'replace')
        check(A_KEY not in log and b_key not in log, 'an SDES key is in the daemon log')
    finally:
        a.close()
        b.close()


def test_nego_srtp_required_caller_plain_488(ctx):
    """A caller whose policy requires SRTP offers plain RTP: 488 with a
    Warning, the callee is not rung. And with SRTP off, its RTP/SAVP offer
    is refused the same way. A's crypto never reaches an optional callee
    when SRTP is unavailable or the caller's policy is off."""
    e = env(ctx)
    caller = e.ext('--srtp', 'required', trusted=True)
    callee = e.ext()
    a, b, oc, inv = setup_call(e, caller, callee, sdp(40008, [PCMU], ip=TRUSTED_IP), rung=False)
    try:
        f = oc.wait_final(5)
        check(f is not None and f.status == 488, 'want 488, got %s' % show(f))
        check('SRTP required' in (f.get('warning') or ''), 'Warning: %r' % f.get('warning'))
        check(inv is None, 'the callee was rung')
    finally:
        a.close()
        b.close()

    caller = e.ext('--srtp', 'off', trusted=True)
    offer = sdp(40010, [PCMU], ip=TRUSTED_IP, proto='RTP/SAVP',
                extra=['a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:' + A_KEY])
    a, b, oc, inv = setup_call(e, caller, callee, offer, rung=False)
    try:
        f = oc.wait_final(5)
        check(f is not None and f.status == 488, 'SRTP off, RTP/SAVP offer: want 488, got %s' % show(f))
    finally:
        a.close()
        b.close()

    caller = e.ext('--srtp', 'off', trusted=True)
    offer = sdp(40012, [PCMU], ip=TRUSTED_IP, extra=['a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:' + A_KEY])
    a, b, oc, inv = setup_call(e, caller, callee, offer)
    try:
        check(inv is not None, 'B got no INVITE')
        check('a=crypto' not in inv.body and 'RTP/AVP' in inv.body, 'B\'s offer:\n%s' % inv.body)
        dlg = b.answer(inv, sdp(41012, [PCMU]))
        f = oc.wait_final(5)
        check(f is not None and f.status == 200 and 'a=crypto' not in f.body, 'A: %s' % show(f))
        oc.dialog.bye()
        dlg.wait_request('BYE', 3)
    finally:
        a.close()
        b.close()


def send_event(peer, dest, event, pt=101):
    """One key press as RFC 4733 packets: three updates then three end
    packets, one timestamp, marker on the first."""
    ssrc, ts = 0x4733, 8000
    for i in range(6):
        end = i >= 3
        dur = 160 * min(i + 1, 4)
        payload = struct.pack('!BBH', event, (0x80 if end else 0) | 10, dur)
        hdr = struct.pack('!BBHII', 0x80, (0x80 if i == 0 else 0) | pt, 100 + i, ts, ssrc)
        peer.sock.sendto(hdr + payload, dest)
        time.sleep(0.02)


def calls_row(e, caller):
    _, out, _ = hf.cli(e.d.data_dir, 'calls', check_rc=False)
    return [l for l in out.splitlines() if re.match(r'\s*\d+\s+%s\s' % caller, l)], out


def test_nego_info_dtmf(ctx):
    """INFO application/dtmf-relay from the caller: 200 OK, and the digit
    in the DTMF column of `hookflash calls` and in the log ("DTMF '5' from
    caller (INFO)"); application/dtmf too; the callee gets the digit as RFC
    4733 events, not the INFO. Other INFO bodies are still relayed."""
    e = env(ctx)
    caller = e.ext(trusted=True)
    callee = e.ext()
    ra, rb = RtpPeer(TRUSTED_IP), RtpPeer()
    a, b, oc, inv = setup_call(e, caller, callee, sdp(ra.port, [PCMU, TE101], ip=TRUSTED_IP))
    b.reinvite_answer = None
    try:
        check(inv is not None, 'B got no INVITE')
        dlg = b.answer(inv, sdp(rb.port, [PCMU, TE101]))
        f = oc.wait_final(5)
        check(f is not None and f.status == 200, 'A: %s' % show(f))

        def info(body, ctype):
            return oc.dialog.request('INFO', body, ctype=ctype)
        r = info('Signal=5\r\nDuration=160\r\n', 'application/dtmf-relay')
        check(r is not None and r.status == 200, 'INFO dtmf-relay: %s' % show(r))
        r = info('#', 'application/dtmf')
        check(r is not None and r.status == 200, 'INFO dtmf: %s' % show(r))
        rows, out = calls_row(e, caller)
        check(rows and rows[0].split()[-1] == '5#', '`hookflash calls` DTMF column:\n%s' % out)
        with open(e.d.log_path, 'rb') as lf:
            log = lf.read().decode('utf-8', 'replace')
        check(re.search(r"call \d+: DTMF '5' from caller \(INFO\)", log), 'no DTMF log line')
        check(not b.pending() or all(m.method != 'INFO' for m in b.pending()),
              'a DTMF INFO reached the callee')
        # ... but the digits did, as RFC 4733 events on B's PT 101
        deadline = time.time() + 2
        while time.time() < deadline and not any(p['pt'] == 101 for p in rb.got):
            time.sleep(0.05)
        events = set(p['payload'][0] for p in rb.got if p['pt'] == 101 and p['payload'])
        check(5 in events, 'B got no RFC 4733 event for 5 (events %r)' % sorted(events))
        # RFC 4733 from A: the worker reports it, the call notes it
        f_dest = (LOCAL, int(f.body.split('m=audio ')[1].split()[0]))
        send_event(ra, f_dest, 7)
        deadline = time.time() + 2
        rows = []
        while time.time() < deadline:
            rows, out = calls_row(e, caller)
            if rows and rows[0].split()[-1].endswith('7'):
                break
            time.sleep(0.1)
        check(rows and rows[0].split()[-1] == '5#7', 'RFC 4733 digit not in `hookflash calls`:\n%s' % out)
        with open(e.d.log_path, 'rb') as lf:
            log = lf.read().decode('utf-8', 'replace')
        check(re.search(r"call \d+: DTMF '7' from caller \(rfc4733\)", log), 'no rfc4733 DTMF log line')
        # any other INFO is relayed as it is
        import threading
        got = {}

        def callee_side():
            req = b.wait_request('INFO', 5)
            got['req'] = req
            if req is not None:
                b.respond(req, 200)
        t = threading.Thread(target=callee_side, daemon=True)
        t.start()
        r = oc.dialog.request('INFO', '<xml>hello</xml>', ctype='application/x-test+xml')
        t.join(6)
        check(r is not None and r.status == 200, 'other INFO: %s' % show(r))
        check(got.get('req') is not None and 'hello' in got['req'].body, 'the other INFO was not relayed')
        oc.dialog.bye()
        dlg.wait_request('BYE', 3)
    finally:
        for x in (a, b, ra, rb):
            x.close()


def test_nego_ringback(ctx):
    """The callee sends 180 without SDP: with an engine that plays tones
    (and ringback on, the default) the caller gets 183 Session Progress
    with our SDP answer (its own codec) and RTP (the ringback tone) on
    it; the 200 then carries the very same SDP. Without one, the 180 is
    relayed as before."""
    e = env(ctx)
    caller = e.ext(trusted=True)
    callee = e.ext()
    ra = RtpPeer(TRUSTED_IP)
    a, b, oc, inv = setup_call(e, caller, callee, sdp(ra.port, [PCMA, PCMU, TE101], ip=TRUSTED_IP))
    try:
        check(inv is not None, 'B got no INVITE')
        to_tag = rand_hex(8)
        b.respond(inv, 180, to_tag=to_tag)
        deadline = time.time() + 3
        prov = None
        while time.time() < deadline and prov is None:
            r = oc.next_response(deadline - time.time())
            if r is not None and r.status in (180, 183):
                prov = r
        check(prov is not None, 'A got neither 180 nor 183')
        if prov.status == 180:
            check(not prov.body.strip(), '180 with a body')
            dlg = b.answer(inv, sdp(41016, [PCMU]), to_tag=to_tag, ring=False)
            f = oc.wait_final(5)
            check(f is not None and f.status == 200, 'A: %s' % show(f))
        else:
            check(prov.body.strip(), '183 without SDP')
            check(media_lines(prov.body)[:2] == ['m=audio PORT RTP/AVP 8 101', 'a=rtpmap:8 PCMA/8000'],
                  'ringback answer to A:\n%s' % prov.body)
            # ringback plays from the 183 on: ten packets (200 ms of it) arrive
            hf.wait_for(lambda: len(ra.got) >= 10, 2.0, 0.02)
            check(len(ra.got) >= 10, 'A got %d RTP packets of ringback within 2 s of the 183' % len(ra.got))
            check(all(p.get('pt') in (8, None) for p in ra.got), 'ringback not PCMA')
            dlg = b.answer(inv, sdp(41016, [PCMU]), to_tag=to_tag, ring=False)
            f = oc.wait_final(5)
            check(f is not None and f.status == 200, 'A: %s' % show(f))
            check(f.body == prov.body, 'the 200 changed A\'s SDP:\n183:\n%s\n200:\n%s' % (prov.body, f.body))
        oc.dialog.bye()
        dlg.wait_request('BYE', 3)
    finally:
        a.close()
        b.close()
        ra.close()


def test_nego_cli_policy(ctx):
    """`extension add/set --codecs/--srtp` validate (an unknown codec is
    named), and `extension show/list` display the policy."""
    e = env(ctx)
    number = e.ext('--codecs', 'opus, PCMU', '--srtp', 'required')
    _, out, _ = hf.cli(e.d.data_dir, 'extension', 'show', number)
    check(re.search(r'codecs:\s+opus,PCMU', out) and re.search(r'SRTP:\s+required', out), out)
    _, out, _ = hf.cli(e.d.data_dir, 'extension', 'list')
    check(re.search(r'%s .*codecs opus,PCMU, srtp required' % number, out), out)
    rc, out, err = hf.cli(e.d.data_dir, 'extension', 'set', number, '--codecs', 'PCMU,G729', check_rc=False)
    check(rc != 0 and "'G729'" in err and 'unknown codec' in err, 'rc %s: %s %s' % (rc, out, err))
    rc, out, err = hf.cli(e.d.data_dir, 'extension', 'set', number, '--srtp', 'sometimes', check_rc=False)
    check(rc != 0 and '--srtp' in err, 'rc %s: %s %s' % (rc, out, err))
    hf.cli(e.d.data_dir, 'extension', 'set', number, '--default-codecs', '--srtp', 'off')
    _, out, _ = hf.cli(e.d.data_dir, 'extension', 'show', number)
    check(re.search(r'codecs:\s+\(system default\)', out) and re.search(r'SRTP:\s+off', out), out)


def test_nego_daemon_clean_exit(ctx):
    """The daemon ends on SIGTERM with status 0 and no sanitizer report."""
    e = env(ctx)
    e.d.stop_clean()
    ctx.nego_env = None



def test_nego_delayed_offer_srtp(ctx):
    """A, whose SRTP policy is required, calls with an INVITE without SDP:
    our 200 offers it RTP/SAVP with a key of ours, A's ACK answers with its
    key, and B's plain RTP reaches A protected (each packet 10 bytes longer:
    the auth tag). A second call whose ACK answers without crypto is ended
    (B gets a BYE): SRTP was required."""
    e = env(ctx)
    caller = e.ext('--srtp', 'required', trusted=True)
    callee = e.ext()
    ra, rb = RtpPeer(TRUSTED_IP), RtpPeer()
    a, b, oc, inv = setup_call(e, caller, callee, '')
    try:
        oc.ack_body = sdp(ra.port, [PCMU, TE101], ip=TRUSTED_IP, proto='RTP/SAVP',
                          extra=['a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:' + A_KEY])
        check(inv is not None, 'B got no INVITE')
        dlg = b.answer(inv, sdp(rb.port, [PCMU, TE101]))
        f = oc.wait_final(5)
        check(f is not None and f.status == 200, 'A: %s' % show(f))
        lines = media_lines(f.body)
        check(lines[0].startswith('m=audio PORT RTP/SAVP 0'), 'our offer to A is not RTP/SAVP PCMU:\n%s' % f.body)
        check(any(x.startswith('a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:') for x in lines),
              'our offer to A carries no key:\n%s' % f.body)
        check(A_KEY not in f.body, 'A\'s key echoed')
        a.ping()  # the ACK (with A's answer and key) has been read
        b_dest = (LOCAL, int(inv.body.split('m=audio ')[1].split()[0]))
        rb.send(b_dest, 10, 0x4242, 'SRTP', interval=0.02)
        deadline = time.time() + 2
        while time.time() < deadline and len(ra.got) < 10:
            time.sleep(0.05)
        sizes = sorted(set(len(p['payload']) for p in ra.got))
        check(len(ra.got) == 10 and sizes == [170], 'A got %d packets, payload sizes %r (want 10 of 160 + '
              'the 10-byte SRTP tag)' % (len(ra.got), sizes))
        oc.dialog.bye()
        dlg.wait_request('BYE', 3)
    finally:
        for x in (a, b, ra, rb):
            x.close()
    # the same, answered without crypto: no call
    a, b, oc, inv = setup_call(e, caller, callee, '')
    try:
        oc.ack_body = sdp(40010, [PCMU], ip=TRUSTED_IP)
        check(inv is not None, 'B got no INVITE (second call)')
        dlg = b.answer(inv, sdp(41010, [PCMU]))
        f = oc.wait_final(5)
        check(f is not None and f.status == 200, 'A (second call): %s' % show(f))
        check(dlg.wait_request('BYE', 3) is not None, 'B got no BYE after A refused SRTP in its ACK')
        row = wait_cdr(e.d, oc.call_id)
        check(row['hangup_side'] == 'system' and 'SRTP' in row['hangup_cause'], 'CDR %r' % row)
    finally:
        a.close()
        b.close()


TESTS = [
    test_nego_cli_policy,
    test_nego_pcmu_caller_opus_callee,
    test_nego_order_and_pass_through,
    test_nego_no_codec_488,
    test_nego_srtp_required_callee,
    test_nego_srtp_required_caller_plain_488,
    test_nego_delayed_offer_srtp,
    test_nego_info_dtmf,
    test_nego_ringback,
    test_nego_daemon_clean_exit,
]


if __name__ == '__main__':
    import run  # noqa: E402
    run.TESTS = TESTS
    sys.exit(run.guarded())
