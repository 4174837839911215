#!/usr/bin/env python3
"""
Voicemail end to end with real softphones (baresip, see tones.py): a call
nobody answers, and a call to an extension with no phone registered, each
leave a message (the caller's 440 Hz tone is in the stored WAV and the
mailbox lists it; the CDR says VOICEMAIL with the path); the owner dials
*97, sends the PIN and '#' as RFC 4733 digits, presses 1 and hears the
message (what its phone received holds the caller's tone); three wrong
PINs end the call and count in the mailbox; do-not-disturb and call
forwarding switched by feature code change where the next call goes.

    python3 tests/integration/voicemail.py [-v] [-k SUBSTRING]
"""
import glob
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import callkit  # noqa: E402
import hf  # noqa: E402
import media  # noqa: E402
import mwi  # noqa: E402
import tones  # noqa: E402
from hf import check, LOCAL  # noqa: E402
from tones import Softphone, TONE_A, TONE_B  # noqa: E402
from smtpsink import SmtpSink  # noqa: E402

PIN = '258036'


def phone(e, number, pw, tag, freq, answer='auto', ports=None):
    p = Softphone(number, pw, e.d.sip_port, freq, e.dir('baresip-' + tag), codecs='pcmu',
                  rtp_ports=ports or e.ports_a, answermode=answer)
    p.start()
    check(hf.wait_for(lambda: number in {r['ext'] for r in hf.registrations(e.d.data_dir)[0]}, 8, 0.05),
          'phone %s did not register:\n%s' % (number, p.log_brief()))
    return p


def messages(e, mailbox):
    return hf.db_query(e.d.data_dir, 'SELECT * FROM vm_messages WHERE mailbox = ? ORDER BY id', (mailbox,))


def msg_files(e, mailbox):
    return sorted(glob.glob(os.path.join(e.d.data_dir, 'voicemail', mailbox, 'msg-*.wav')))


def leave_message(e, caller, callee, talk_s=2.5):
    """caller (a Softphone) calls callee; once the recording has begun
    (its file appears) the caller talks for talk_s, then hangs up.
    Returns the new message's row."""
    before = len(messages(e, callee))
    caller.command('/dial sip:%s@%s:%d' % (callee, LOCAL, e.d.sip_port))
    check(hf.wait_for(lambda: len(msg_files(e, callee)) > before, 45, 0.1),
          'no recording started for mailbox %s:\n%s\n%s' % (callee, media.call_log(e.d, 25), caller.log_brief()))
    time.sleep(talk_s)  # the caller talks: the test's content
    caller.command('/hangup')
    rows = hf.wait_for(lambda: messages(e, callee)[before:] or None, 8, 0.1)
    check(rows, 'the message for %s was not stored:\n%s' % (callee, media.call_log(e.d, 25)))
    return rows[0]


def check_tone_in(path, freq, what):
    rate, s = tones.read_wav(path)
    secs = len(s) / float(rate)
    check(secs >= 1.5, '%s: only %.2fs recorded' % (what, secs))
    # the middle of the recording: the caller's tone, loud
    f, share = tones.dominant(s, rate, where=0.6)
    check(abs(f - freq) <= 15 and share > 0.5, '%s: heard mostly %d Hz (%.0f%%), want %d Hz'
          % (what, f, 100 * share, freq))
    check(tones.rms(s) > 1000, '%s: too quiet' % what)


def mail_to_sink(e):
    """Points the daemon's [email] at a new local SMTP sink (hookflash.conf,
    then SIGHUP) and returns the sink."""
    sink = SmtpSink().start()
    with open(os.path.join(e.d.data_dir, 'hookflash.conf'), 'a') as f:
        f.write('\n[email]\nsmtp_url = %s\nfrom = Hookflash <pbx@example.com>\ntls = off\n' % sink.url)
    n = e.d.log().count('settings reloaded')
    e.d.proc.send_signal(signal.SIGHUP)
    check(hf.wait_for(lambda: e.d.log().count('settings reloaded') > n, 5, 0.05), 'SIGHUP not applied')
    return sink


def test_vm_no_answer_leaves_message(ctx):
    """B's phone rings and nobody answers: after its ring time the caller
    hears the greeting and the beep, talks, hangs up; the message holds
    the caller's tone, the mailbox lists it, the CDR says VOICEMAIL, and
    the owner gets it by e-mail (the same WAV attached)."""
    e = media.env(ctx)
    na, pa = e.ext('VM caller')
    nb, pb = e.ext('VM owner')
    hf.cli(e.d.data_dir, 'extension', 'set', nb, '--ring-time', '5')
    hf.cli(e.d.data_dir, 'voicemail', 'set', nb, '--email', 'owner-%s@example.com' % nb)
    sink = mail_to_sink(e)
    a = phone(e, na, pa, 'vm-a', TONE_A)
    b = phone(e, nb, pb, 'vm-b', TONE_B, answer='manual', ports=e.ports_b)
    try:
        row = leave_message(e, a, nb)
        m = sink.wait_message(20)
    finally:
        a.stop()
        b.stop()
        sink.stop()
    check(m is not None, 'no e-mail reached the sink:\n%s' % e.d.log_tail(20))
    check(m.rcpts == ['owner-%s@example.com' % nb], 'e-mail to %r' % m.rcpts)
    att = m.attachments()
    check(len(att) == 1 and att[1 - 1][1] == 'audio/wav', 'attachments %r' % [(x[0], x[1]) for x in att])
    with open(row['path'], 'rb') as f:
        stored = f.read()
    check(att[0][2] == stored, 'the attachment (%d bytes) is not the stored message (%d bytes)'
          % (len(att[0][2]), len(stored)))
    check(row['caller'] == na and row['folder'] == 'new' and row['duration_ms'] >= 1500, 'message row %r' % row)
    check_tone_in(row['path'], TONE_A, 'the stored message')
    cdr = hf.wait_for(lambda: [r for r in callkit.cdr_rows(e.d, like='%') if r['caller'] == na
                               and r['callee'] == nb], 5, 0.05)
    check(cdr, 'no CDR')
    callkit.check_cdr(cdr[0], disposition='VOICEMAIL', path='ext:%s > vm:%s' % (nb, nb))
    _, out, _ = hf.cli(e.d.data_dir, 'voicemail', 'show', nb)
    check(na in out, '`hookflash voicemail show` does not list it:\n%s' % out)


def test_vm_unregistered_then_owner_listens(ctx):
    """Nobody registered for B: voicemail at once, and B's lamp (a
    message-summary subscription) goes from 0/0 to 1/0. Then B's owner
    dials *97, keys the PIN and '#', then 1: the phone hears the message
    (the caller's tone), the message is old afterwards and the lamp says
    0/1; 8 and a mailbox number forward a copy there."""
    e = media.env(ctx)
    na, pa = e.ext('VM caller 2')
    nb, pb = e.ext('VM owner 2')
    hf.cli(e.d.data_dir, 'extension', 'set', nb, '--pin', PIN)
    # the owner's lamp: a subscription to the mailbox (RFC 3842)
    lamp = mwi.Subscriber(e.d, nb, pb)
    r = lamp.subscribe()
    check(r is not None and r.status == 200, 'SUBSCRIBE: %s' % (r and r.status))
    n = lamp.notify()
    check(n is not None and mwi.counts(n) == (0, 0), 'first NOTIFY: %r' % (n and n.body))
    a = phone(e, na, pa, 'vm2-a', TONE_A)
    try:
        row = leave_message(e, a, nb)
        n = lamp.notify(10)
        check(n is not None and mwi.counts(n) == (1, 0) and 'Messages-Waiting: yes' in n.body,
              'the lamp after the message: %r' % (n and n.body))
    finally:
        a.stop()
    check_tone_in(row['path'], TONE_A, 'the stored message')
    b = phone(e, nb, pb, 'vm2-b', TONE_B, ports=e.ports_b)
    try:
        b.command('/dial sip:*97@%s:%d' % (LOCAL, e.d.sip_port))
        check(media.wait_answered(e.d, nb, '*97', phone=b), 'voicemail did not answer *97:\n%s' % b.log_brief())
        time.sleep(1.0)   # the "password" prompt plays; keys cut it short anyway
        for k in PIN + '#':
            b.key(k)
            time.sleep(0.25)  # one key press at a time, as a person types
        check(hf.wait_for(lambda: re.search(r'opened mailbox %s' % nb, e.d.log()), 8, 0.05),
              'the mailbox did not open:\n%s' % media.call_log(e.d, 25))
        b.key('1')
        check(hf.wait_for(lambda: (messages(e, nb) or [{}])[0].get('folder') == 'old', 30, 0.2),
              'the message was never heard to its end:\n%s' % media.call_log(e.d, 25))
        # 8: forward it to the caller's own mailbox (its number, then #)
        b.key('8')
        time.sleep(0.5)
        for k in na + '#':
            b.key(k)
            time.sleep(0.2)
        fwd = hf.wait_for(lambda: messages(e, na) or None, 10, 0.2)
        check(fwd and fwd[0]['caller'] == na and fwd[0]['folder'] == 'new',
              'the message was not forwarded to %s: %r\n%s' % (na, fwd, media.call_log(e.d, 20)))
        check_tone_in(fwd[0]['path'], TONE_A, 'the forwarded copy')
        b.command('/hangup')
        n = lamp.notify(10)
        check(n is not None and mwi.counts(n) == (0, 1) and 'Messages-Waiting: no' in n.body,
              'the lamp after listening: %r' % (n and n.body))
    finally:
        b.stop()
        lamp.close()
    recs = b.recordings('dec')
    check(recs, 'the owner recorded nothing')
    rate, s = tones.read_wav(recs[0])
    s8, r8 = tones.to_8k(s, rate)
    # somewhere in what the owner heard is a run of the caller's tone
    win = int(0.2 * r8)
    best = max((tones.energy_share(s8[i:i + win], r8, TONE_A) for i in range(0, max(1, len(s8) - win), win)),
               default=0)
    check(best > 0.6, 'the owner never heard the %d Hz message (best share %.2f)' % (TONE_A, best))


def test_vm_three_wrong_pins(ctx):
    """Three wrong PINs end the call, and the mailbox counts them."""
    e = media.env(ctx)
    nb, pb = e.ext('VM owner 3')
    hf.cli(e.d.data_dir, 'extension', 'set', nb, '--pin', PIN)
    b = phone(e, nb, pb, 'vm3-b', TONE_B, ports=e.ports_b)
    try:
        b.command('/dial sip:*97@%s:%d' % (LOCAL, e.d.sip_port))
        check(media.wait_answered(e.d, nb, '*97', phone=b), 'voicemail did not answer *97')
        for attempt in range(3):
            for k in '111111#':
                b.key(k)
                time.sleep(0.2)
            check(hf.wait_for(lambda: len(re.findall(r'wrong PIN for mailbox %s' % nb, e.d.log())) > attempt,
                              8, 0.05), 'wrong PIN %d not seen:\n%s' % (attempt + 1, media.call_log(e.d, 20)))
        check(hf.wait_for(lambda: not media.call_row(e.d, nb, '*97'), 15, 0.2),
              'the call did not end after three wrong PINs')
    finally:
        b.stop()
    rows = hf.db_query(e.d.data_dir, 'SELECT failed_pins, locked_until FROM mailboxes WHERE mailbox = ?', (nb,))
    check(rows and (rows[0]['failed_pins'] >= 3 or rows[0]['locked_until'] > 0),
          'wrong PINs not counted: %r' % rows)


def test_vm_dnd_and_forward_by_feature_code(ctx):
    """*78 turns do-not-disturb on (the extension shows it and a call to
    it goes to voicemail without ringing), *79 off; *72 + a number + '#'
    forwards, *73 stops it."""
    e = media.env(ctx)
    na, pa = e.ext('FC user')
    a = phone(e, na, pa, 'fc-a', TONE_A)

    def show():
        return hf.cli(e.d.data_dir, 'extension', 'show', na)[1]

    def feature(code, keys=''):
        a.command('/dial sip:%s@%s:%d' % (code, LOCAL, e.d.sip_port))
        check(media.wait_answered(e.d, na, code, phone=a), '%s did not answer' % code)
        time.sleep(0.5)
        for k in keys:
            a.key(k)
            time.sleep(0.2)
        check(hf.wait_for(lambda: not media.call_row(e.d, na, code), 20, 0.2), '%s did not hang up' % code)

    try:
        feature('*78')
        check(hf.wait_for(lambda: re.search(r'(?im)^\s*(do not disturb|dnd)\s*:?\s*on', show()), 5, 0.1),
              'DND not on:\n%s' % show())
        feature('*79')
        check(hf.wait_for(lambda: re.search(r'(?im)^\s*(do not disturb|dnd)\s*:?\s*off', show()), 5, 0.1),
              'DND not off:\n%s' % show())
        feature('*72', '2999#')
        check(hf.wait_for(lambda: '2999' in show(), 5, 0.1), 'forward not set:\n%s' % show())
        feature('*73')
        check(hf.wait_for(lambda: '2999' not in show(), 5, 0.1), 'forward not cleared:\n%s' % show())
    finally:
        a.stop()


def test_vm_sigkill_keeps_partial_message(ctx):
    """hookflashd is killed (SIGKILL) while a caller is recording: after a
    restart the message is in the mailbox with what was recorded (the
    caller's tone, its header mended), and the lamp's count has it."""
    d = hf.Daemon()
    ctx.daemons.append(d)
    d.start()
    lo, hi = d.rtp_base, d.rtp_base + 999
    ports = next(pair[0] for pair in media.PHONE_PORTS if all(r[1] + 1 < lo or r[0] > hi for r in pair))
    na, nb = '7101', '7102'
    pw = 'pw-' + hf_secret()
    for n in (na, nb):
        hf.cli(d.data_dir, 'extension', 'add', n, '--password', pw, '--name', 'Kill %s' % n)
    a = Softphone(na, pw, d.sip_port, TONE_A, os.path.join(d.workdir, 'baresip-kill'), codecs='pcmu',
                  rtp_ports=ports)
    a.start()
    try:
        check(hf.wait_for(lambda: na in {r['ext'] for r in hf.registrations(d.data_dir)[0]}, 8, 0.05),
              'the phone did not register')
        a.command('/dial sip:%s@%s:%d' % (nb, LOCAL, d.sip_port))
        folder = os.path.join(d.data_dir, 'voicemail', nb)
        check(hf.wait_for(lambda: glob.glob(os.path.join(folder, 'msg-*.wav')), 45, 0.1),
              'no recording started:\n%s' % d.log_tail(20))
        time.sleep(2.5)  # the caller talks: the test's content
        d.kill()         # SIGKILL: no chance to close the file or store the row
    finally:
        a.stop()
    d.start(new_ports=False)
    rows = hf.wait_for(lambda: hf.db_query(d.data_dir, 'SELECT * FROM vm_messages WHERE mailbox = ?', (nb,))
                       or None, 10, 0.1)
    check(rows, 'the interrupted message was not kept:\n%s' % d.log_tail(20))
    check(rows[0]['duration_ms'] >= 1500, 'kept only %d ms' % rows[0]['duration_ms'])
    check_tone_in(rows[0]['path'], TONE_A, 'the interrupted message')
    check('kept a message interrupted by a stop' in d.log(), 'not logged:\n%s' % d.log_tail(20))
    d.stop_clean()


def hf_secret():
    return os.urandom(8).hex()


TESTS = [
    test_vm_no_answer_leaves_message,
    test_vm_unregistered_then_owner_listens,
    test_vm_three_wrong_pins,
    test_vm_dnd_and_forward_by_feature_code,
    test_vm_sigkill_keeps_partial_message,
]


if __name__ == '__main__':
    import run  # noqa: E402
    run.TESTS = TESTS
    sys.exit(run.guarded())
