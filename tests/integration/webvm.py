#!/usr/bin/env python3
"""
Voicemail through the web API: a mailbox's messages listed, a message's
audio fetched whole and by byte range (the bytes and headers a browser's
<audio> element relies on), marked listened (the counts follow), deleted
(the file goes too), a role "user" kept to its own mailbox, and greeting
uploads converted to 8 kHz mono WAV (a text file is 415, an oversized
body 413 before it is sent).

Messages are made the way the voicemail app leaves them: a WAV file in
DATA_DIR/voicemail/<mailbox>/ and its row in the database, written here
with sqlite3 (the row's table is found by its columns, so the test does
not depend on the storage's table name).

    python3 tests/integration/webvm.py [-v] [-k SUBSTRING]
"""
import io
import math
import os
import socket
import sqlite3
import ssl
import struct
import sys
import time
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hf  # noqa: E402
from hf import check, LOCAL  # noqa: E402
from webkit import COOKIE, Api, env, expect, expect_error  # noqa: E402
from web import Events  # noqa: E402

VM = '/api/v1/voicemail'


def wav_bytes(seconds, rate=8000, channels=1, freq=440.0):
    """A sine tone as a 16-bit PCM WAV file."""
    n = int(seconds * rate)
    frames = bytearray()
    for i in range(n):
        v = int(12000 * math.sin(2 * math.pi * freq * i / rate))
        frames += struct.pack('<h', v) * channels
    buf = io.BytesIO()
    with wave.open(buf, 'wb') as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return buf.getvalue()


def msg_table(con):
    """The table of voicemail messages: the one with mailbox, folder and
    path columns."""
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'"):
        cols = {r[1] for r in con.execute('PRAGMA table_info(%s)' % name)}
        if {'mailbox', 'folder', 'path'} <= cols:
            return name, cols
    raise hf.Failure('no voicemail message table in the database')


def add_message(d, mailbox, seconds=1.0, caller='5551234', caller_name='Alice Caller'):
    """A message as the voicemail app leaves it: its file and its row.
    Returns (id, path, file bytes)."""
    folder = os.path.join(d.data_dir, 'voicemail', mailbox)
    os.makedirs(folder, exist_ok=True)
    data = wav_bytes(seconds)
    path = os.path.join(folder, 'msg-%d.wav' % int(time.time() * 1e6))
    with open(path, 'wb') as f:
        f.write(data)
    con = sqlite3.connect(d.db_path, timeout=10)
    try:
        table, cols = msg_table(con)
        row = {'mailbox': mailbox, 'folder': 'new', 'caller': caller, 'caller_name': caller_name,
               'received_at': int(time.time()), 'duration_ms': int(seconds * 1000), 'path': path}
        row = {k: v for k, v in row.items() if k in cols}
        cur = con.execute('INSERT INTO %s (%s) VALUES (%s)' % (
            table, ','.join(row), ','.join('?' * len(row))), list(row.values()))
        con.commit()
        return cur.lastrowid, path, data
    finally:
        con.close()


def counts(api, mailbox):
    r = expect(api.req('GET', VM), 200, 'list mailboxes')
    for b in r.json()['mailboxes']:
        if b['mailbox'] == mailbox:
            return b['new'], b['old']
    raise hf.Failure('mailbox %s not listed: %r' % (mailbox, r.json()))


def make_user(e, ext, name):
    pw = name + '-web-pw-1'
    expect(e.admin.req('POST', '/api/v1/users', {'username': name, 'password': pw, 'extension': ext}),
           201, 'create user ' + name)
    u = Api(e.d)
    expect(u.login(name, pw), 200, name + ' login')
    return u


def vm_event(mb, want):
    """A "voicemail" event in which mailbox mb has counts want."""
    return lambda name, data: name == 'voicemail' and any(
        (b['mailbox'], b['new'], b['old']) == (mb,) + want for b in data['mailboxes'])


def test_web_vm_messages_and_audio(ctx):
    e = env(ctx)
    a = e.admin
    mb = e.ext()['number']
    check(counts(a, mb) == (0, 0), 'a new mailbox is not empty')
    ev = Events(a)
    try:
        ev.wait(vm_event(mb, (0, 0)), 5, 'first voicemail event')
        mid, path, data = add_message(e.d, mb, seconds=1.0)
        ev.wait(vm_event(mb, (1, 0)), 5, 'voicemail event after a message was left')
        check(counts(a, mb) == (1, 0), 'counts after a message: %r' % (counts(a, mb),))
        _messages_and_audio(e, a, mb, mid, path, data, ev)
    finally:
        ev.close()


def _messages_and_audio(e, a, mb, mid, path, data, ev):
    size = len(data)

    j = expect(a.req('GET', '%s/%s/messages' % (VM, mb)), 200, 'messages').json()
    check(j['new'] == 1 and j['old'] == 0 and len(j['messages']) == 1, 'messages: %r' % j)
    m = j['messages'][0]
    url = '%s/%s/messages/%d/audio' % (VM, mb, mid)
    check(m['id'] == mid and m['caller'] == '5551234' and m['caller_name'] == 'Alice Caller'
          and m['duration_ms'] == 1000 and m['folder'] == 'new' and m['audio_url'] == url,
          'message: %r' % m)

    r = expect(a.req('GET', url), 200, 'audio whole')
    check(r.body == data, 'audio: %d bytes, want the file\'s %d' % (len(r.body), size))
    check(r.header('content-type') == 'audio/wav', 'type %r' % r.header('content-type'))
    check(r.header('accept-ranges') == 'bytes', 'no Accept-Ranges: %r' % r.headers)
    check(r.header('content-length') == str(size), 'length %r' % r.header('content-length'))

    for rng, lo, hi in (('bytes=0-99', 0, 99), ('bytes=100-', 100, size - 1),
                        ('bytes=-10', size - 10, size - 1), ('bytes=44-%d' % (size * 2), 44, size - 1)):
        r = expect(a.req('GET', url, headers={'Range': rng}), 206, 'audio ' + rng)
        check(r.body == data[lo:hi + 1], '%s: %d bytes, wrong ones' % (rng, len(r.body)))
        want = 'bytes %d-%d/%d' % (lo, hi, size)
        check(r.header('content-range') == want,
              '%s: Content-Range %r, want %r' % (rng, r.header('content-range'), want))
        check(r.header('content-length') == str(hi - lo + 1), '%s: length %r' % (rng, r.header('content-length')))
    for rng in ('bytes=%d-' % size, 'bytes=50-10', 'bytes=abc', 'bytes=-0'):
        r = expect(a.req('GET', url, headers={'Range': rng}), 416, 'audio ' + rng)
        check(r.header('content-range') == 'bytes */%d' % size,
              '%s: Content-Range %r' % (rng, r.header('content-range')))
    # another unit is not ours to honour: the whole file
    r = expect(a.req('GET', url, headers={'Range': 'items=0-1'}), 200, 'audio other unit')
    check(r.body == data, 'other unit: not the whole file')

    expect_error(a.req('PATCH', '%s/%s/messages/%d' % (VM, mb, mid), {'folder': 'trash'}), 400,
                 'folder', 'bad folder')
    r = expect(a.req('PATCH', '%s/%s/messages/%d' % (VM, mb, mid), {'folder': 'old'}), 200,
               'mark listened')
    check(r.json()['folder'] == 'old', 'after PATCH: %r' % r.json())
    check(counts(a, mb) == (0, 1), 'counts after listening: %r' % (counts(a, mb),))
    ev.wait(vm_event(mb, (0, 1)), 5, 'voicemail event after listening')
    # the signalling loop was told (its MWI hook updates the lamp)
    hf.wait_until(lambda: 'mailbox %s changed from the web' % mb in e.d.log(), 5,
                  'the loop told of mailbox %s' % mb)
    expect(a.req('GET', '%s/%s/messages/%d/audio' % (VM, mb, mid + 1000)), 404, 'unknown message')

    expect(a.req('DELETE', '%s/%s/messages/%d' % (VM, mb, mid)), 204, 'delete')
    check(not os.path.exists(path), 'the file is still there after DELETE')
    check(counts(a, mb) == (0, 0), 'counts after delete: %r' % (counts(a, mb),))
    ev.wait(vm_event(mb, (0, 0)), 5, 'voicemail event after delete')
    expect(a.req('GET', url), 404, 'audio of a deleted message')
    expect(a.req('DELETE', '%s/%s/messages/%d' % (VM, mb, mid)), 404, 'delete twice')
    expect(a.req('GET', '%s/99999/messages' % VM), 404, 'no such mailbox')


def test_web_vm_user_sees_own_mailbox(ctx):
    e = env(ctx)
    mine = e.ext()['number']
    other = e.ext()['number']
    u = make_user(e, mine, 'vmuser%s' % mine)
    mid, path, data = add_message(e.d, mine)
    oid, opath, _ = add_message(e.d, other)
    boxes = expect(u.req('GET', VM), 200, 'user list').json()['mailboxes']
    check([b['mailbox'] for b in boxes] == [mine], 'the user sees %r' % boxes)
    check(boxes[0]['new'] == 1, 'user counts %r' % boxes)
    expect(u.req('GET', '%s/%s/messages' % (VM, mine)), 200, 'own messages')
    r = expect(u.req('GET', '%s/%s/messages/%d/audio' % (VM, mine, mid)), 200, 'own audio')
    check(r.body == data, 'own audio differs')
    for method, path_, body in (('GET', '%s/%s/messages' % (VM, other), None),
                                ('GET', '%s/%s/messages/%d/audio' % (VM, other, oid), None),
                                ('PATCH', '%s/%s/messages/%d' % (VM, other, oid), {'folder': 'old'}),
                                ('DELETE', '%s/%s/messages/%d' % (VM, other, oid), None),
                                ('DELETE', '%s/%s/greetings/busy' % (VM, other), None)):
        expect(u.req(method, path_, body), 403, 'user %s %s' % (method, path_))
    # its own mailbox's message through another's URL is not found either
    expect(u.req('GET', '%s/%s/messages/%d/audio' % (VM, mine, oid)), 404, 'message of another mailbox')
    r = u.req('POST', '%s/%s/greetings/busy' % (VM, other), raw=wav_bytes(0.5), ctype='audio/wav')
    expect(r, 403, 'user uploads to another mailbox')
    # refused on the headers: told before sending a byte of the body
    status = post_oversized(u, '%s/%s/greetings/busy' % (VM, other), 2 * 1024 * 1024)
    check(status.startswith('HTTP/1.1 403'), 'a foreign upload answered %r' % status[:200])
    check(os.path.exists(opath), 'the other mailbox\'s message went')
    check(counts(e.admin, other) == (1, 0), 'the admin sees the other mailbox')
    expect(u.req('DELETE', '%s/%s/messages/%d' % (VM, mine, mid)), 204, 'user deletes own')
    check(not os.path.exists(path), 'own file still there')


def post_oversized(api, path, length):
    """Announces a body of length bytes with Expect: 100-continue and
    returns the status line and headers the server answers before any of
    it is sent (a "100 Continue" would mean it wants the body)."""
    raw = socket.create_connection((LOCAL, api.port), timeout=10)
    s = ssl._create_unverified_context().wrap_socket(raw, server_hostname=LOCAL)
    try:
        s.sendall(('POST %s HTTP/1.1\r\nHost: %s\r\nCookie: %s=%s\r\nX-CSRF-Token: %s\r\n'
                   'Content-Type: audio/wav\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n'
                   % (path, LOCAL, COOKIE, api.sid, api.csrf, length)).encode())
        got = b''
        while b'\r\n\r\n' not in got:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        return got.decode('latin-1')
    finally:
        s.close()


def test_web_vm_greetings(ctx):
    e = env(ctx)
    a = e.admin
    mb = e.ext()['number']
    url = '%s/%s/greetings/unavail' % (VM, mb)
    # 1.5 s of 44.1 kHz stereo, as a phone's recorder or a PC would make it
    r = expect(a.req('POST', url, raw=wav_bytes(1.5, rate=44100, channels=2), ctype='audio/wav'),
               201, 'upload WAV')
    check(abs(r.json()['duration_ms'] - 1500) <= 20, 'duration %r' % r.json())
    stored = os.path.join(e.d.data_dir, 'voicemail', mb, 'greet-unavail.wav')
    with wave.open(stored, 'rb') as w:
        check((w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2),
              'stored %d Hz, %d channels, %d bytes a sample' % (w.getframerate(), w.getnchannels(),
                                                              w.getsampwidth()))
        check(abs(w.getnframes() - 12000) <= 80, 'stored %d frames, want about 12000' % w.getnframes())
        pcm = w.readframes(w.getnframes())
    peak = max(abs(v) for (v,) in struct.iter_unpack('<h', pcm[:8000]))
    check(peak > 6000, 'the converted tone is silent (peak %d)' % peak)
    j = expect(a.req('GET', '%s/%s/messages' % (VM, mb)), 200, 'messages').json()
    check(j['greetings'] == {'unavail': True, 'busy': False, 'name': False}, 'greetings %r' % j)
    before = open(stored, 'rb').read()

    err = expect_error(a.req('POST', url, raw=b'Hello, this is not audio at all.\n' * 20,
                             ctype='text/plain'), 415, None, 'upload text')
    check('WAV' in err['error'], 'the 415 does not say what is accepted: %r' % err)
    check(open(stored, 'rb').read() == before, 'a failed upload changed the greeting')

    status = post_oversized(a, url, 11 * 1024 * 1024)
    check(status.startswith('HTTP/1.1 413'), 'oversized upload answered %r' % status[:200])
    check(open(stored, 'rb').read() == before, 'an oversized upload changed the greeting')
    expect(a.req('POST', url, raw=b''), 400, 'empty upload')
    expect(a.req('POST', '%s/%s/greetings/hello' % (VM, mb), raw=wav_bytes(0.2)), 404, 'bad kind')
    status = post_oversized(a, '%s/99999/greetings/busy' % VM, 2 * 1024 * 1024)
    check(status.startswith('HTTP/1.1 404'), 'an upload to no mailbox answered %r' % status[:200])

    # MP3 and the rest go through libsndfile; an 8 kHz mono WAV as is
    expect(a.req('POST', '%s/%s/greetings/name' % (VM, mb), raw=wav_bytes(0.5), ctype='audio/wav'),
           201, 'upload name')
    expect(a.req('DELETE', url), 204, 'delete greeting')
    check(not os.path.exists(stored), 'greeting file still there')
    expect(a.req('DELETE', url), 404, 'delete greeting twice')
    j = expect(a.req('GET', '%s/%s/messages' % (VM, mb)), 200, 'messages').json()
    check(j['greetings'] == {'unavail': False, 'busy': False, 'name': True}, 'greetings %r' % j)
    leftovers = [f for f in os.listdir(os.path.join(e.d.data_dir, 'voicemail', mb)) if f.startswith('.')]
    check(not leftovers, 'temporary files left: %r' % leftovers)
    check(not [f for f in os.listdir(e.d.data_dir) if f.startswith('.upload-')], 'spooled uploads left')


def mp3_bytes(seconds, rate=22050):
    """A tone as MP3, written by the system's libsndfile (1.1+ with LAME,
    as Debian 12 has it) through ctypes; None when it cannot."""
    import array
    import ctypes
    import ctypes.util
    import tempfile

    class SfInfo(ctypes.Structure):
        _fields_ = [('frames', ctypes.c_int64), ('samplerate', ctypes.c_int), ('channels', ctypes.c_int),
                    ('format', ctypes.c_int), ('sections', ctypes.c_int), ('seekable', ctypes.c_int)]
    name = ctypes.util.find_library('sndfile')
    if not name:
        return None
    sf = ctypes.CDLL(name)
    sf.sf_open.restype = ctypes.c_void_p
    sf.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(SfInfo)]
    sf.sf_writef_short.restype = ctypes.c_int64
    sf.sf_writef_short.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    sf.sf_close.argtypes = [ctypes.c_void_p]
    SFM_WRITE, SF_FORMAT_MPEG, SF_FORMAT_MPEG_LAYER_III = 0x20, 0x230000, 0x0082
    info = SfInfo(0, rate, 1, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 0, 0)
    fd, path = tempfile.mkstemp(suffix='.mp3')
    os.close(fd)
    try:
        h = sf.sf_open(path.encode(), SFM_WRITE, ctypes.byref(info))
        if not h:
            return None
        n = int(seconds * rate)
        pcm = array.array('h', [int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(n)])
        wrote = sf.sf_writef_short(h, pcm.buffer_info()[0], n)
        sf.sf_close(h)
        return open(path, 'rb').read() if wrote == n else None
    finally:
        os.remove(path)


def test_web_vm_greeting_mp3(ctx):
    data = mp3_bytes(2.0)
    if data is None:
        raise hf.Skip('this libsndfile cannot write MP3 (to make the upload)')
    check(data[:3] == b'ID3' or data[0] == 0xff, 'not an MP3: %r' % data[:8])
    e = env(ctx)
    mb = e.ext()['number']
    r = expect(e.admin.req('POST', '%s/%s/greetings/busy' % (VM, mb), raw=data, ctype='audio/mpeg'),
               201, 'upload MP3')
    # MP3 encoders pad the start and the end by a frame or two
    check(1900 <= r.json()['duration_ms'] <= 2200, 'MP3 greeting duration %r' % r.json())
    with wave.open(os.path.join(e.d.data_dir, 'voicemail', mb, 'greet-busy.wav'), 'rb') as w:
        check((w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2),
              'stored %d Hz, %d channels' % (w.getframerate(), w.getnchannels()))


TESTS = [
    test_web_vm_messages_and_audio,
    test_web_vm_user_sees_own_mailbox,
    test_web_vm_greetings,
    test_web_vm_greeting_mp3,
]


if __name__ == '__main__':
    import run  # noqa: E402  (run.py's runner, with these tests)
    run.TESTS = TESTS
    sys.exit(run.guarded())
