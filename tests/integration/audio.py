#!/usr/bin/env python3
"""
Two real softphones talk through Hookflash: two baresip 1.0 instances
(headless: stdio UI driven through a pipe, no sound card) register as two
extensions with digest; A dials B, B answers by itself
(;answermode=auto). Each plays its own sine tone (module ausine: 440 Hz on
A, 1250 Hz on B) and records what it receives (module sndfile: every
decoded frame goes to dump-*-dec.wav). The recordings are then measured:
the loudest frequency A heard must be B's tone and the other way round,
and loud enough -- two-way audio through Hookflash's media anchor. Then
/hold and /resume (the call shows as held in `hookflash calls`, and RTP
flows again afterwards) and /hangup, with the CDR checked.

Run with the other integration tests or alone:

    python3 tests/integration/audio.py [-v]

The softphone and the measurements are in tones.py (with what baresip
1.0 needs, found out the hard way). After /hold and /resume baresip 1.0 stops writing its decode
dump even in a direct baresip-to-baresip call (no Hookflash in between),
so audio after the resume is checked with the CDR's packet counts instead
of the recording.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import calls  # noqa: E402
import callkit  # noqa: E402
import hf  # noqa: E402
import tones  # noqa: E402
from hf import check, LOCAL  # noqa: E402
from tones import Softphone, TONE_A, TONE_B  # noqa: E402

TALK_S = 2.0


def call_state(d, caller, callee):
    _, out, _ = hf.cli(d.data_dir, 'calls', check_rc=False)
    for line in out.splitlines():
        m = re.match(r'\s*(\d+)\s+%s\s+%s\s+(\S+)' % (caller, callee), line)
        if m:
            return m.group(2)
    return None


def wait_state(d, caller, callee, want, timeout=5.0):
    got = hf.wait_for(lambda: call_state(d, caller, callee) == want, timeout, 0.05)
    return bool(got)


def check_heard(phone, other, what):
    return tones.check_heard(phone, other, what, TALK_S)


def test_baresip_two_way_audio(ctx):
    """Two baresip phones: register (digest), A calls B, B answers by
    itself; each hears the other's tone (frequency and level measured in
    the recordings); hold shows in `hookflash calls` and RTP flows again
    after resume; A hangs up; CDR ANSWERED, hangup_side caller, PCMU,
    packets both ways."""
    e = calls.env(ctx)
    na, pa = e.ext(name='Baresip A')
    nb, pb = e.ext(name='Baresip B')
    a = Softphone(na, pa, e.d.sip_port, TONE_A, e.dir('baresip-a'))
    b = Softphone(nb, pb, e.d.sip_port, TONE_B, e.dir('baresip-b'))
    try:
        a.start()
        b.start()

        def registered():
            rows, _ = hf.registrations(e.d.data_dir)
            exts = {r['ext'] for r in rows if 'baresip' in r['line'].lower()}
            return na in exts and nb in exts
        check(hf.wait_for(registered, 8, 0.1), 'both baresip did not register:\n%s\nA:\n%s\nB:\n%s'
              % (hf.cli(e.d.data_dir, 'registrations')[1], a.log()[-1500:], b.log()[-1500:]))
        a.command('/dial sip:%s@%s:%d' % (nb, LOCAL, e.d.sip_port))
        check(wait_state(e.d, na, nb, 'answered', 8), 'the call was not answered; `hookflash calls`: %s\n'
              'A:\n%s\nB:\n%s' % (call_state(e.d, na, nb), a.log()[-2000:], b.log()[-2000:]))
        t_answer = time.time()
        time.sleep(TALK_S)
        t_hold = time.time()
        a.command('/hold')
        check(wait_state(e.d, na, nb, 'hold', 4), '/hold: `hookflash calls` never showed the call held '
              '(state %s)\nA:\n%s' % (call_state(e.d, na, nb), a.log()[-1500:]))
        time.sleep(1.0)  # on hold for a while (the test's content)
        a.command('/resume')
        check(wait_state(e.d, na, nb, 'answered', 4), '/resume: the call stayed %s' % call_state(e.d, na, nb))
        t_resume = time.time()
        time.sleep(TALK_S)
        t_hangup = time.time()
        a.command('/hangup')
        rows = hf.wait_for(lambda: callkit.cdr_rows(e.d, like='%') and
                           [r for r in callkit.cdr_rows(e.d, like='%') if r['caller'] == na and r['callee'] == nb], 5)
        check(rows, 'no CDR for %s -> %s after /hangup:\n%s' % (na, nb, e.d.log_tail(20)))
        row = rows[0]
        talk = (t_hold - t_answer) + (t_hangup - t_resume)
        expect = talk / 0.02
        callkit.check_cdr(row, disposition='ANSWERED', hangup_side='caller', codec='PCMU/8000',
                        a_lost=0, b_lost=0)
        for k in ('a_pkts_rx', 'b_pkts_tx', 'b_pkts_rx', 'a_pkts_tx'):
            check(row[k] >= 0.8 * expect, 'CDR %s=%d: RTP did not flow for the %.1fs talked (%.0f packets '
                  'expected; before the hold alone would be %.0f) -- no audio after /resume?\n%s'
                  % (k, row[k], talk, expect, (t_hold - t_answer) / 0.02, callkit.fmt_rows([row])))
    finally:
        a.stop()
        b.stop()
    fa = check_heard(a, b, 'A (%d Hz)' % TONE_A)
    fb = check_heard(b, a, 'B (%d Hz)' % TONE_B)
    if '-v' in sys.argv:
        print('    A heard %d Hz at RMS %.0f for %.2fs; B heard %d Hz at RMS %.0f for %.2fs'
              % (fa[0], fa[1], fa[2], fb[0], fb[1], fb[2]))


def test_audio_daemon_clean_exit(ctx):
    """The daemon the softphones used ends on SIGTERM with exit status 0
    and no sanitizer report."""
    calls.test_calls_daemon_clean_exit(ctx)


TESTS = [
    test_baresip_two_way_audio,
    test_audio_daemon_clean_exit,
]


if __name__ == '__main__':
    import run  # noqa: E402
    run.TESTS = TESTS
    sys.exit(run.guarded())
