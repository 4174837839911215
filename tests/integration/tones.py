"""
What the audio tests share: a baresip 1.0 softphone that plays a tone and
records what it hears (Softphone), the measurement of those recordings
(dominant frequency and level, with a Goertzel scan), G.711 in both
directions and DTMF tone pairs in Python (audioop is gone from Python
3.13), and the checks built on them. Python standard library only.

What baresip 1.0 needs (found out the hard way, see CONFIG):
ausine only runs at 48 kHz stereo (ausrc_srate 48000, ausrc_channels 2;
baresip resamples for the codec), and the frequency is the device name
(audio_source ausine,440). There is no player module that writes files in
1.0, but the sndfile filter dumps decoded audio whatever the player: one
dump-<time>-dec.wav per call, at the decoder's rate and channel count
(8 kHz mono for G.711, 16 kHz for G.722, 48 kHz stereo for opus). The
account's ;audio_codecs= limits what the phone offers and accepts (see
CODECS for the only spelling it takes);
;mediaenc=srtp-mand makes it offer RTP/SAVP only, srtp RTP/AVP with
a=crypto (best effort). baresip always offers telephone-event/8000 and
sends a digit typed on its stdio UI as RFC 4733 while in a call.
"""
import glob
import math
import os
import re
import struct
import wave

import hf
from callkit import lin2ulaw
from hf import check, LOCAL

TONE_A = 440
TONE_B = 1250
MIN_RMS = 2000       # ausine plays at about -9 dBFS: an RMS near 10000

# DTMF keys: (row, column) frequencies (ITU-T Q.23)
DTMF_FREQS = {
    '1': (697, 1209), '2': (697, 1336), '3': (697, 1477), 'A': (697, 1633),
    '4': (770, 1209), '5': (770, 1336), '6': (770, 1477), 'B': (770, 1633),
    '7': (852, 1209), '8': (852, 1336), '9': (852, 1477), 'C': (852, 1633),
    '*': (941, 1209), '0': (941, 1336), '#': (941, 1477), 'D': (941, 1633),
}

CONFIG = """\
poll_method\t\tepoll
sip_listen\t\t{ip}:{port}
sip_trans_def\t\tudp
module_path\t\t/usr/lib/baresip/modules
module\t\t\tstdio.so
module\t\t\tg711.so
module\t\t\tg722.so
module\t\t\topus.so
module\t\t\tsrtp.so
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
rtp_ports\t\t{rtp_lo}-{rtp_hi}
"""


# ;audio_codecs= wants name/rate/channels exactly as the codec module
# registers it: anything else is ignored without a word and the phone then
# offers every codec it has
CODECS = {'pcmu': 'PCMU/8000/1', 'pcma': 'PCMA/8000/1', 'g722': 'G722/16000/1',
          'opus': 'opus/48000/2'}


class Softphone(hf.Baresip):
    """hf.Baresip with a tone source, a recorder, the menu (commands on
    stdin) and auto-answer. codecs: the ;audio_codecs= value (e.g. 'pcmu',
    'opus', 'g722'); mediaenc: None, 'srtp' or 'srtp-mand'. rtp_ports:
    (lo, hi) for the phone's own RTP ports, so a capture can tell its
    packets apart; None: baresip's default. answermode 'manual': an
    incoming call rings until command('/accept')."""

    def __init__(self, user, password, server_port, freq, workdir=None, codecs='pcmu',
                 mediaenc=None, rtp_ports=None, regint=60, answermode='auto'):
        if workdir:
            os.makedirs(workdir)
        super().__init__(user, password, server_port, regint=regint, workdir=workdir)
        self.user = user
        self.freq = freq
        self.codecs = codecs
        self.mediaenc = mediaenc
        lo, hi = rtp_ports or (10000, 49152)
        self.rtp_ports = (lo, hi)
        with open(os.path.join(self.dir, 'config'), 'w') as f:
            f.write(CONFIG.format(ip=LOCAL, port=self.port, freq=freq, dir=self.dir,
                                  rtp_lo=lo, rtp_hi=hi))
        params = ';auth_pass=%s;regint=%d;answermode=%s' % (password, regint, answermode)
        if codecs:
            params += ';audio_codecs=%s' % ','.join(CODECS.get(c.lower(), c) for c in codecs.split(','))
        if mediaenc:
            params += ';mediaenc=%s' % mediaenc
        with open(os.path.join(self.dir, 'accounts'), 'w') as f:
            f.write('<sip:%s@%s:%d;transport=udp>%s\n' % (user, LOCAL, server_port, params))

    def __repr__(self):
        return '%s (%d Hz, %s%s)' % (self.user, self.freq, self.codecs or 'any codec',
                                     ', ' + self.mediaenc if self.mediaenc else '')

    def command(self, cmd):
        check(self.proc.poll() is None, 'baresip exited:\n%s' % self.log()[-2000:])
        self.proc.stdin.write(cmd.encode() + b'\n')
        self.proc.stdin.flush()

    def key(self, k):
        """One key press on the stdio UI, without Enter (a digit in a call
        is sent as DTMF)."""
        check(self.proc.poll() is None, 'baresip exited:\n%s' % self.log()[-2000:])
        self.proc.stdin.write(k.encode())
        self.proc.stdin.flush()

    def log_brief(self, n=25):
        """The last n lines of its log that say something about the call
        (not the echo of typed commands, not the module list)."""
        noise = re.compile(r'^(/|aucodec:|mediaenc:|ausrc:|aufilt:|Populated|stdio:|Local network|'
                           r'baresip v|sndfile: saving|ausine: audio ptime)')
        lines = [l for l in self.log().splitlines() if l.strip() and not noise.match(l)]
        return '\n'.join(lines[-n:])

    def recordings(self, kind='dec'):
        return sorted(glob.glob(os.path.join(self.dir, 'dump-*-%s.wav' % kind)))


# --- reading and measuring audio ----------------------------------------------

def read_wav(path):
    """(rate, mono 16-bit samples) of a WAV file written by sndfile (the
    first channel). The header of a file baresip did not close yet may say
    0 frames: the data chunk is then read to the end of the file."""
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


def to_8k(samples, rate):
    """Down to 8 kHz by averaging each group of rate/8000 samples (rates
    that are a multiple of 8000: 16 and 48 kHz), so that the Goertzel scan
    costs the same whatever the codec. The averaging is a low-pass whose
    first null is at 8 kHz: enough for tones below 2 kHz."""
    if rate == 8000 or rate % 8000:
        return samples, rate
    k = rate // 8000
    return [sum(samples[i:i + k]) / k for i in range(0, len(samples) - k + 1, k)], 8000


def goertzel(samples, rate, freq):
    k = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s0 = x + k * s1 - s2
        s2, s1 = s1, s0
    return s1 * s1 + s2 * s2 - k * s1 * s2


def window(samples, rate, win_s=0.1, where=0.5):
    n = int(rate * win_s)
    start = max(0, min(len(samples) - n, int(len(samples) * where) - n // 2))
    return samples[start:start + n]


def energy_share(win, rate, freq):
    """The share of the window's energy at freq (1.0 for a pure tone
    centred on a bin)."""
    total = sum(x * x for x in win) * len(win) / 2 or 1
    return goertzel(win, rate, freq) / total


def dominant(samples, rate, lo=100, hi=3800, step=5, win_s=0.1, where=0.5):
    """(frequency with the most energy, the share of the signal's energy it
    holds) in a 0.1 s window from the middle of the samples (10 Hz
    resolution, scanned every 5 Hz)."""
    samples, rate = to_8k(samples, rate)
    win = window(samples, rate, win_s, where)
    best = max(range(lo, hi, step), key=lambda f: goertzel(win, rate, f))
    return best, energy_share(win, rate, best)


def rms(samples):
    return math.sqrt(sum(x * x for x in samples) / len(samples)) if samples else 0.0


def check_heard(phone, other, what, talk_s, min_rms=MIN_RMS, skip_s=0.0):
    """phone's recording of the call holds other's tone, loud, for about
    talk_s seconds (after the first skip_s seconds of the recording: early
    media). Returns (frequency, RMS, seconds recorded)."""
    recs = phone.recordings('dec')
    check(recs, '%s recorded nothing (no dump-*-dec.wav in %s):\n%s' % (what, phone.dir, phone.log()[-2000:]))
    rate, s = read_wav(recs[0])
    s = s[int(skip_s * rate):]
    secs = len(s) / float(rate)
    check(secs >= talk_s * 0.6, '%s recorded only %.2fs of received audio, want ~%.1fs' % (what, secs, talk_s))
    f, share = dominant(s, rate)
    level = rms(s)
    check(abs(f - other.freq) <= 15, '%s heard mostly %d Hz, want the other phone\'s %d Hz (its own tone is '
          '%d Hz; %.2fs recorded at %d Hz)' % (what, f, other.freq, phone.freq, secs, rate))
    check(share > 0.5, '%s: the %d Hz tone holds only %.0f%% of the received energy' % (what, f, 100 * share))
    check(level >= min_rms, '%s: received audio too quiet: RMS %.0f, want >= %d' % (what, level, min_rms))
    gaps = gaps_in(s, rate, other.freq, min_rms / 2)
    check(len(gaps) <= 2, '%s: the %d Hz tone is missing or weak in %d of 10 windows of 50 ms spread over the '
          'recording (at %s of its %.2fs): dropouts' % (what, other.freq, len(gaps), ', '.join(
              '%.2fs' % t for t in gaps), secs))
    return f, level, secs


def gaps_in(samples, rate, freq, min_rms):
    """Where (s), among 10 windows of 50 ms spread over 20%-90% of the
    samples, freq does not hold most of the energy or the level is below
    min_rms: the places a listener would hear a dropout."""
    samples, rate = to_8k(samples, rate)
    out = []
    for i in range(10):
        where = 0.2 + 0.7 * i / 9
        win = window(samples, rate, 0.05, where)
        if energy_share(win, rate, freq) < 0.5 or rms(win) < min_rms:
            out.append(len(samples) * where / rate)
    return out


# --- G.711 and DTMF in Python ---------------------------------------------------

def _ulaw2lin(u):
    u = ~u & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return (0x84 - t) if u & 0x80 else (t - 0x84)


ULAW_TABLE = [_ulaw2lin(u) for u in range(256)]


def ulaw_decode(data):
    return [ULAW_TABLE[b] for b in data]


def tone_pcm(seconds, freqs, amplitude=6000, rate=8000, phase0=0):
    """Samples of the sum of sine tones (amplitude each)."""
    n = int(rate * seconds)
    return [int(sum(amplitude * math.sin(2 * math.pi * f * (phase0 + i) / rate) for f in freqs))
            for i in range(n)]


def dtmf_ulaw(digit, seconds, amplitude=6000):
    """mu-law of a DTMF key's tone pair (Q.24 levels: both tones equal)."""
    return bytes(lin2ulaw(x) for x in tone_pcm(seconds, DTMF_FREQS[digit], amplitude))


def dtmf_in(samples, rate, digit, win_s=0.05, where=0.5):
    """True when a window of the samples holds digit's tone pair: both its
    frequencies, together most of the energy."""
    samples, rate = to_8k(samples, rate)
    win = window(samples, rate, win_s, where)
    lo, hi = DTMF_FREQS[digit]
    return energy_share(win, rate, lo) + energy_share(win, rate, hi) > 0.6 and \
        min(energy_share(win, rate, lo), energy_share(win, rate, hi)) > 0.2


def entropy(data):
    """Shannon entropy in bits per byte."""
    if not data:
        return 0.0
    counts = [0] * 256
    for b in data:
        counts[b] += 1
    n = float(len(data))
    return -sum(c / n * math.log2(c / n) for c in counts if c)
