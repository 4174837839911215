#!/usr/bin/env python3
"""
Dialplan applications end to end, with a real softphone (baresip, see
tones.py): the echo test on *43 answers and sends the caller's own audio
back, and a number nobody has gets the "not in service" announcement
(special information tone, then the prompt, as early media) and a 404,
not a bare 404. What each test checks is what the caller hears (its
recording), what its phone was told (its log), and the call's CDR row
with the path the call took.

    python3 tests/integration/apps.py [-v] [-k SUBSTRING]
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import callkit  # noqa: E402
import hf  # noqa: E402
import media  # noqa: E402
import tones  # noqa: E402
from hf import check, LOCAL  # noqa: E402
from tones import Softphone, TONE_A  # noqa: E402
from wire import say  # noqa: E402

TALK_S = 2.5


def caller(e, tag, codecs='pcmu', mediaenc=None):
    number, pw = e.ext('Apps %s' % tag)
    phone = Softphone(number, pw, e.d.sip_port, TONE_A, e.dir('baresip-' + tag), codecs=codecs,
                      mediaenc=mediaenc, rtp_ports=e.ports_a)
    phone.start()
    check(hf.wait_for(lambda: number in {r['ext'] for r in hf.registrations(e.d.data_dir)[0]}, 8, 0.05),
          'the phone did not register:\n%s' % phone.log_brief())
    return number, phone


def cdr_of(e, number, dialled):
    rows = hf.wait_for(lambda: [r for r in callkit.cdr_rows(e.d, like='%')
                                if r['caller'] == number and r['callee'] == dialled], 8, 0.05)
    check(rows, 'no CDR for %s -> %s:\n%s' % (number, dialled, e.d.log_tail(30)))
    return rows[0]


def test_apps_echo_test(ctx):
    """*43 answers; once a key skips the introduction the caller hears its
    own tone back, loud and without dropouts; the CDR is an answered call
    to *43 whose path is app:echo."""
    echo_test(ctx, 'echo')


def test_apps_echo_test_srtp_g722(ctx):
    """The same for a phone that requires SRTP (RTP/SAVP only) and talks
    G.722: the echo is decoded and encoded again under our key."""
    echo_test(ctx, 'echo-srtp', codecs='g722', mediaenc='srtp-mand')


def echo_test(ctx, tag, codecs='pcmu', mediaenc=None):
    e = media.env(ctx)
    number, a = caller(e, tag, codecs, mediaenc)
    try:
        a.command('/dial sip:*43@%s:%d' % (LOCAL, e.d.sip_port))
        check(media.wait_answered(e.d, number, '*43', phone=a),
              'the echo test did not answer; `hookflash calls`:\n%s\n%s\n%s'
              % (media.calls_table(e.d)[1], a.log_brief(), media.call_log(e.d)))
        t_answer = time.time()
        a.key('1')   # skips the introduction: the echo starts
        check(hf.wait_for(lambda: re.search(r"DTMF '1' from caller", e.d.log()), 5, 0.05),
              'hookflashd never saw the key press:\n%s' % media.call_log(e.d))
        t_echo = time.time()
        time.sleep(TALK_S)   # the caller talks to itself
        talked = time.time() - t_echo
        a.command('/hangup')
        row = cdr_of(e, number, '*43')
    finally:
        a.stop()
    # what A heard after the key press is its own 440 Hz
    f, level, secs = tones.check_heard(a, a, 'the caller of *43', talked, skip_s=t_echo - t_answer + 0.5)
    say('*43: the caller heard %d Hz (its own tone) at RMS %.0f for %.2fs' % (f, level, secs))
    callkit.check_cdr(row, disposition='ANSWERED', path='app:echo', hangup_side='caller')


def test_apps_not_in_service(ctx):
    """An unknown number: early media (183) with the special information
    tone (950, 1400, 1800 Hz) then the prompt, then 404; never answered.
    CDR: FAILED, 404, path app:noservice."""
    e = media.env(ctx)
    number, a = caller(e, 'noservice')
    unknown = '59%d' % (int(time.time() * 1000) % 100000)
    try:
        a.command('/dial sip:%s@%s:%d' % (unknown, LOCAL, e.d.sip_port))
        row = cdr_of(e, number, unknown)
        check(hf.wait_for(lambda: re.search(r'404 Not Found', a.log()), 5, 0.05),
              'the phone was not told 404 Not Found:\n%s' % a.log_brief())
    finally:
        a.stop()
    log = a.log()
    check('183' in log or 'Session Progress' in log or 'early' in log.lower(),
          'no early media reached the phone:\n%s' % a.log_brief())
    recs = a.recordings('dec')
    check(recs, 'the caller recorded nothing of the announcement:\n%s' % a.log_brief())
    rate, s = tones.read_wav(recs[0])
    s8, r8 = tones.to_8k(s, rate)
    # the three tones of the SIT, 330 ms each, in order, at the start
    start = next((i for i, x in enumerate(s8) if abs(x) > 1000), None)
    check(start is not None, 'the recording is silent:\n%s' % a.log_brief())
    for k, freq in enumerate((950, 1400, 1800)):
        mid = start + int((0.33 * k + 0.165) * r8)
        win = s8[mid - int(0.05 * r8):mid + int(0.05 * r8)]
        share = tones.energy_share(win, r8, freq)
        check(share > 0.6, 'SIT segment %d: %d Hz holds %.0f%% of the energy, want most' % (k + 1, freq, 100 * share))
    # the prompt follows: speech, seconds of it
    secs = (len(s8) - start) / float(r8)
    check(secs > 2.5, 'only %.1fs of announcement reached the caller' % secs)
    callkit.check_cdr(row, disposition='FAILED', hangup_status=404, path='app:noservice')
    check(not row.get('answer_ms'), 'the announcement counted as answered: %r' % row)


TESTS = [
    test_apps_echo_test,
    test_apps_echo_test_srtp_g722,
    test_apps_not_in_service,
]


if __name__ == '__main__':
    import run  # noqa: E402
    run.TESTS = TESTS
    sys.exit(run.guarded())
