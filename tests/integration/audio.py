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

What baresip 1.0 needs (found out the hard way, see the config below):
ausine only runs at 48 kHz stereo (ausrc_srate 48000, ausrc_channels 2;
baresip resamples to 8 kHz mono for G.711), and the frequency is the
device name (audio_source ausine,440). There is no player module that
writes files in 1.0, but the sndfile filter dumps decoded audio whatever
the player. After /hold and /resume baresip 1.0 stops writing its decode
dump even in a direct baresip-to-baresip call (no Hookflash in between),
so audio after the resume is checked with the CDR's packet counts instead
of the recording.
"""
import glob
import math
import os
import re
import struct
import sys
import time
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import calls  # noqa: E402
import callkit  # noqa: E402
import hf  # noqa: E402
from hf import check, LOCAL  # noqa: E402

TONE_A = 440
TONE_B = 1250
MIN_RMS = 2000       # ausine plays at about -9 dBFS: an RMS near 10000
TALK_S = 2.0

CONFIG = """\
poll_method\t\tepoll
sip_listen\t\t{ip}:{port}
sip_trans_def\t\tudp
module_path\t\t/usr/lib/baresip/modules
module\t\t\tstdio.so
module\t\t\tg711.so
module\t\t\tausine.so
module\t\t\tsndfile.so
module_app\t\taccount.so
module_app\t\tmenu.so
audio_player\t\tausine,nil
audio_source\t\tausine,{freq}
audio_alert\t\tausine,nil
ausrc_srate\t\t48000
ausrc_channels\t\t2
audio_level\t\tno
snd_path\t\t{dir}
statmode_default\toff
"""


class Softphone(hf.Baresip):
    """hf.Baresip with a tone source, a recorder, the menu (commands on
    stdin) and auto-answer."""

    def __init__(self, user, password, server_port, freq, workdir=None):
        if workdir:
            os.makedirs(workdir)
        super().__init__(user, password, server_port, regint=60, workdir=workdir)
        self.freq = freq
        with open(os.path.join(self.dir, 'config'), 'w') as f:
            f.write(CONFIG.format(ip=LOCAL, port=self.port, freq=freq, dir=self.dir))
        with open(os.path.join(self.dir, 'accounts'), 'w') as f:
            f.write('<sip:%s@%s:%d;transport=udp>;auth_pass=%s;regint=60;answermode=auto;'
                    'audio_codecs=pcmu\n' % (user, LOCAL, server_port, password))

    def command(self, cmd):
        check(self.proc.poll() is None, 'baresip exited:\n%s' % self.log()[-2000:])
        self.proc.stdin.write(cmd.encode() + b'\n')
        self.proc.stdin.flush()

    def recordings(self, kind='dec'):
        return sorted(glob.glob(os.path.join(self.dir, 'dump-*-%s.wav' % kind)))


def read_wav(path):
    """Mono 16-bit samples of a WAV file written by sndfile. The header of
    a file baresip did not close yet may say 0 frames: the data chunk is
    then read to the end of the file."""
    with open(path, 'rb') as f:
        data = f.read()
    try:
        w = wave.open(path)
        rate, ch, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        frames = w.readframes(w.getnframes())
        w.close()
    except (wave.Error, EOFError):
        rate, ch, width, frames = 8000, 1, 2, b''
    if not frames and len(data) > 44:
        frames = data[44:]
    check(width == 2, '%s: %d-byte samples' % (path, width))
    n = len(frames) // 2
    s = struct.unpack('<%dh' % n, frames[:2 * n])
    return rate, list(s[::ch])


def goertzel(samples, rate, freq):
    k = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s0 = x + k * s1 - s2
        s2, s1 = s1, s0
    return s1 * s1 + s2 * s2 - k * s1 * s2


def dominant(samples, rate, lo=100, hi=3800, step=5, win_s=0.1):
    """(frequency with the most energy, the share of the signal's energy it
    holds) in a 0.1 s window from the middle of the samples (10 Hz
    resolution, scanned every 5 Hz)."""
    n = int(rate * win_s)
    start = max(0, len(samples) // 2 - n // 2)
    win = samples[start:start + n]
    best = max(range(lo, hi, step), key=lambda f: goertzel(win, rate, f))
    total = sum(x * x for x in win) * len(win) / 2 or 1
    return best, goertzel(win, rate, best) / total


def rms(samples):
    return math.sqrt(sum(x * x for x in samples) / len(samples)) if samples else 0.0


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
    recs = phone.recordings('dec')
    check(recs, '%s recorded nothing (no dump-*-dec.wav in %s):\n%s' % (what, phone.dir, phone.log()[-2000:]))
    rate, s = read_wav(recs[0])
    secs = len(s) / float(rate)
    check(secs >= TALK_S * 0.6, '%s recorded only %.2fs of received audio, want ~%.1fs' % (what, secs, TALK_S))
    f, share = dominant(s, rate)
    level = rms(s)
    check(abs(f - other.freq) <= 15, '%s heard mostly %d Hz, want the other phone\'s %d Hz (its own tone is '
          '%d Hz; %.2fs recorded)' % (what, f, other.freq, phone.freq, secs))
    check(share > 0.5, '%s: the %d Hz tone holds only %.0f%% of the received energy' % (what, f, 100 * share))
    check(level >= MIN_RMS, '%s: received audio too quiet: RMS %.0f, want >= %d' % (what, level, MIN_RMS))
    return f, level, secs


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
        time.sleep(1.0)
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
