#!/usr/bin/env python3
"""
The prompt cache at start: a daemon whose [calls] sounds_dir lacks one of
the prompts of sounds/manifest.txt says so in one log line naming it (and
starts anyway), and every other prompt is converted into
DATA_DIR/sounds/8000 and DATA_DIR/sounds/16000 as 16-bit mono WAV at that
rate, as long as its recording. A restart on the same data converts
nothing; a replaced recording is converted again.

The recordings are written here (tones, one at 22.05 kHz stereo), so the
test needs no sound package.

    python3 tests/integration/prompts.py [-v] [-k SUBSTRING]
"""
import math
import os
import re
import struct
import sys
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hf  # noqa: E402
from hf import check  # noqa: E402

MANIFEST = os.path.join(hf.ROOT, 'sounds', 'manifest.txt')
LEFT_OUT = 'vm-onefor'
ODD = 'demo-echotest'   # the one recorded at another rate, in stereo


def manifest():
    names = []
    with open(MANIFEST) as f:
        for line in f:
            if line.strip() and not line.startswith('#'):
                names.append(line.split()[0])
    return names


def write_tone(path, rate, channels, secs, hz=440):
    n = int(rate * secs)
    frames = bytearray()
    for i in range(n):
        v = int(8000 * math.sin(2 * math.pi * hz * i / rate))
        frames += struct.pack('<h', v) * channels
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with wave.open(path, 'wb') as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


def wav_header(path):
    with wave.open(path, 'rb') as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()


def prompt_lines(d):
    return [l for l in d.log().splitlines() if 'prompts missing' in l]


def test_prompts_missing_and_converted(ctx):
    """One manifest prompt missing from sounds_dir: one warning line names
    it and only it, the daemon runs; the others exist at 8 and 16 kHz,
    mono, 16-bit, with the recording's length; a restart converts nothing;
    a replaced recording is converted again."""
    names = manifest()
    check(LEFT_OUT in names and ODD in names and len(names) > 100,
          'unexpected manifest: %d names' % len(names))
    d = hf.Daemon()
    ctx.daemons.append(d)
    sounds = os.path.join(d.workdir, 'sounds-src')
    secs = {}
    for i, name in enumerate(names):
        if name == LEFT_OUT:
            continue
        secs[name] = 0.2 + 0.01 * (i % 7)
        if name == ODD:
            write_tone(os.path.join(sounds, name + '.wav'), 22050, 2, secs[name])
        else:
            write_tone(os.path.join(sounds, name + '.wav'), 8000, 1, secs[name])
    d.extra += ['--sounds-dir', sounds]
    d.start()
    try:
        lines = prompt_lines(d)
        check(len(lines) == 1, 'want one "prompts missing" line, got %d:\n%s'
              % (len(lines), d.log_tail(30)))
        m = re.search(r'prompts missing: (.*) in (\S+) \(install asterisk-core-sounds-en-wav\)',
                      lines[0])
        check(m and m.group(1) == LEFT_OUT and m.group(2) == sounds,
              'the line should name %s (only) and %s: %s' % (LEFT_OUT, sounds, lines[0]))
        check(d.alive(), 'the daemon did not keep running:\n%s' % d.log_tail())
        cache = os.path.join(d.data_dir, 'sounds')
        for name, s in secs.items():
            for rate in (8000, 16000):
                path = os.path.join(cache, str(rate), name + '.wav')
                check(os.path.exists(path), '%s was not converted for %d Hz' % (name, rate))
                r, ch, width, frames = wav_header(path)
                check((r, ch, width) == (rate, 1, 2),
                      '%s: %d Hz, %d channels, %d bytes a sample (want %d Hz mono 16-bit)'
                      % (path, r, ch, width, rate))
                check(abs(frames - s * rate) <= 2, '%s: %d frames, want %d'
                      % (path, frames, round(s * rate)))
        for rate in (8000, 16000):
            check(not os.path.exists(os.path.join(cache, str(rate), LEFT_OUT + '.wav')),
                  'the missing prompt has a converted file')
        want = 2 * (len(names) - 1)
        check(re.search(r'%d files converted, 0 up to date' % want, d.log()),
              'the first start should convert %d files:\n%s' % (want, d.log_tail(20)))

        # a restart on the same data converts nothing...
        d.stop_clean()
        d.start()
        check(re.search(r'0 files converted, %d up to date' % want, d.log()),
              'the restart converted again:\n%s' % d.log_tail(20))
        # ...and a new recording is converted again, whatever its age
        path = os.path.join(sounds, 'vm-goodbye.wav')
        write_tone(path, 16000, 1, 0.5)
        os.utime(path, (1000000000, 1000000000))
        d.stop_clean()
        d.start()
        check(re.search(r'2 files converted, %d up to date' % (want - 2), d.log()),
              'the replaced recording was not converted:\n%s' % d.log_tail(20))
        r, ch, width, frames = wav_header(os.path.join(cache, '8000', 'vm-goodbye.wav'))
        check((r, frames) == (8000, 4000), 'vm-goodbye after the change: %d Hz, %d frames'
              % (r, frames))
    finally:
        if d.alive():
            d.stop_clean()


TESTS = [
    test_prompts_missing_and_converted,
]


if __name__ == '__main__':
    import run  # noqa: E402
    run.TESTS = TESTS
    sys.exit(run.guarded())
