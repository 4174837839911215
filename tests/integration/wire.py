"""
Captures on the wire for the media tests (media.py): dumpcap on lo with a
BPF filter, tshark decoding the legs' UDP ports as RTP, and the checks that
an SRTP leg carries nothing readable while a plain leg carries the tones.
"""
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hf  # noqa: E402
import tones  # noqa: E402
from hf import check  # noqa: E402
from tones import TONE_A, TONE_B  # noqa: E402

VERBOSE = '-v' in sys.argv


def say(msg):
    if VERBOSE:
        print('    ' + msg.replace('\n', '\n    '))


class Capture:
    """dumpcap on lo with a BPF filter, into a pcap file; tshark decodes
    it afterwards. dumpcap itself (not tshark, which leaves its dumpcap
    child running on SIGTERM) so that SIGINT ends the capture at once."""

    def __init__(self, path, bpf):
        self.path = path
        self.bpf = bpf
        self.proc = None

    def start(self):
        self.err_path = self.path + '.err'
        self.errf = open(self.err_path, 'wb')
        self.proc = subprocess.Popen(['dumpcap', '-q', '-n', '-i', 'lo', '-f', self.bpf, '-w', self.path],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.errf)
        ok = hf.wait_for(lambda: b'Capturing on' in self.err() or self.proc.poll() is not None, 5, 0.02)
        check(ok and self.proc.poll() is None, 'dumpcap did not start capturing on lo: %s' % self.err())
        return self

    def err(self):
        with open(self.err_path, 'rb') as f:
            return f.read()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.errf.close()

    def tshark(self, *args):
        p = subprocess.run(['tshark', '-r', self.path, '-n'] + list(args), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30)
        check(p.returncode == 0, 'tshark %s: exit %d\n%s' % (' '.join(args), p.returncode,
                                                             p.stderr.decode('utf-8', 'replace')[-1500:]))
        return p.stdout.decode('utf-8', 'replace')

    def udp_ports(self):
        """(source port, destination port) of every UDP datagram."""
        out = []
        for line in self.tshark('-T', 'fields', '-e', 'udp.srcport', '-e', 'udp.dstport').splitlines():
            f = line.split('\t')
            if len(f) == 2 and f[0] and f[1]:
                out.append((int(f[0]), int(f[1])))
        return out

    def rtp(self, ports):
        """The datagrams to and from the given UDP ports, decoded as RTP by
        tshark (decode-as): dicts with src, dst, pt, ssrc, seq, payload."""
        args = []
        for p in sorted(set(ports)):
            args += ['-d', 'udp.port==%d,rtp' % p]
        args += ['-Y', 'rtp', '-T', 'fields', '-E', 'separator=/t']
        for f in ('udp.srcport', 'udp.dstport', 'rtp.version', 'rtp.p_type', 'rtp.ssrc', 'rtp.seq',
                  'rtp.payload'):
            args += ['-e', f]
        out = []
        for line in self.tshark(*args).splitlines():
            f = line.split('\t')
            if len(f) < 7 or not f[3]:
                continue
            out.append({'src': int(f[0]), 'dst': int(f[1]), 'version': int(f[2]), 'pt': int(f[3]),
                        'ssrc': int(f[4], 0), 'seq': int(f[5]),
                        'payload': bytes.fromhex(f[6].replace(':', ''))})
        return out


def in_range(port, rng):
    return rng[0] <= port <= rng[1]


def wire_streams(cap, c):
    """The RTP the capture holds on each leg of call c, by direction:
    {'from A', 'to A', 'from B', 'to B'} -> packets in capture order. The
    phones' RTP ports are even and in their ranges (e.ports_a, e.ports_b);
    the other end is Hookflash. SIP ports are left out."""
    e = c.e
    sip = {e.d.sip_port, c.a.port, c.b.port}
    rng = {'A': e.ports_a, 'B': e.ports_b}
    phone_ports = set()
    for sp, dp in cap.udp_ports():
        for p in (sp, dp):
            if p % 2 == 0 and p not in sip and (in_range(p, rng['A']) or in_range(p, rng['B'])):
                phone_ports.add(p)
    streams = {'from A': [], 'to A': [], 'from B': [], 'to B': []}
    for pkt in cap.rtp(phone_ports):
        if pkt['version'] != 2:
            continue
        for leg in ('A', 'B'):
            if pkt['src'] in phone_ports and in_range(pkt['src'], rng[leg]):
                streams['from ' + leg].append(pkt)
            elif pkt['dst'] in phone_ports and in_range(pkt['dst'], rng[leg]):
                streams['to ' + leg].append(pkt)
    return streams


def stream_facts(pkts):
    """What the audio payload of a stream (its most frequent payload type)
    looks like decoded as G.711 mu-law: (packets, typical payload length,
    entropy in bits per byte, dominant frequency, its share of the
    energy)."""
    pts = [p['pt'] for p in pkts]
    pt = max(set(pts), key=pts.count) if pts else 0
    audio = [p for p in pkts if p['pt'] == pt]
    data = b''.join(p['payload'] for p in audio[5:205])
    lens = sorted(len(p['payload']) for p in audio) or [0]
    if len(data) < 800:
        return len(audio), lens[len(lens) // 2], tones.entropy(data), 0, 0.0
    f, share = tones.dominant(tones.ulaw_decode(data), 8000)
    return len(audio), lens[len(lens) // 2], tones.entropy(data), f, share


def check_srtp_wire(c, secure, plain):
    """One leg SRTP, the other plain, checked on the wire: the plain leg
    carries readable G.711 with the tones in it both ways, the SRTP leg
    RTP headers whose payloads are noise (entropy near 8 bits per byte,
    no tone when decoded as G.711, 10 more bytes for the auth tag) both
    ways; the secure phone turned SRTP on, the plain one not."""
    phones = {'A': c.a, 'B': c.b}
    sp, pp = phones[secure], phones[plain]
    check('SRTP is Enabled' in sp.log(), '%s %r never turned SRTP on' % (secure, sp))
    check('SRTP is Enabled' not in pp.log() and 'Using media encryption' not in pp.log(),
          '%s %r (plain) uses SRTP' % (plain, pp))
    streams = c.streams()
    facts = {k: stream_facts(v) for k, v in streams.items()}
    table = '\n'.join('  %-6s %4d packets, payload %3d bytes, entropy %.2f bit/byte, as G.711: %4d Hz '
                      '(%.0f%% of the energy)' % ((k,) + f[:4] + (100 * f[4],)) for k, f in facts.items())
    say('on the wire:\n' + table)
    need = int(c.talked / 0.02 * 0.6)
    for k in facts:
        check(facts[k][0] >= need, 'on the wire: only %d RTP packets %s (want >= %d for %.1fs):\n%s'
              % (facts[k][0], k, need, c.talked, table))
    tone = {'A': TONE_A, 'B': TONE_B}
    other = {'A': 'B', 'B': 'A'}
    def sizes(k):
        """Payload sizes of the audio packets (not telephone-event) of a
        stream, and how many packets had each."""
        got = {}
        for p in streams[k]:
            if p['pt'] != 101:
                got[len(p['payload'])] = got.get(len(p['payload']), 0) + 1
        return got
    for k, t in (('from ' + plain, tone[plain]), ('to ' + plain, tone[other[plain]])):
        n, plen, ent, f, share = facts[k]
        check(abs(f - t) <= 15 and share > 0.5 and ent < 7.0,
              'the plain leg %s does not carry the %d Hz tone as readable G.711:\n%s' % (k, t, table))
        check(set(sizes(k)) == {160}, 'the plain leg %s: payload sizes (bytes: packets) %s, want 160 only (20 '
              'ms of PCMU; 170 is an SRTP packet with its auth tag):\n%s' % (k, sizes(k), table))
    for k in ('from ' + secure, 'to ' + secure):
        n, plen, ent, f, share = facts[k]
        check(ent > 7.5 and share < 0.1, 'the SRTP leg %s is readable: entropy %.2f, %d Hz holds %.0f%% '
              'of the energy when decoded as G.711 (want noise: > 7.5 bits, < 10%%):\n%s'
              % (k, ent, f, 100 * share, table))
        check(set(sizes(k)) == {170}, 'the SRTP leg %s: payload sizes (bytes: packets) %s, want 170 only (160 '
              'of G.711/G.722 + the 80-bit auth tag of AES_CM_128_HMAC_SHA1_80; 160 is a plain RTP '
              'packet):\n%s' % (k, sizes(k), table))
