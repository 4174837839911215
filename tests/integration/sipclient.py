"""
A small real SIP user agent client for the integration tests (python
standard library only): sends requests over UDP or TCP, retransmits over
UDP (RFC 3261 timer A), parses responses, and answers Digest challenges
with MD5 or SHA-256 (RFC 7616 / RFC 8760, qop=auth). SIPp 3.6 only knows
MD5 and AKAv1-MD5, so the SHA-256 test and the tests that need exact
control of Call-ID, CSeq, Contact and Expires use this client.
"""
import hashlib
import os
import re
import socket
import time

COMPACT = {'v': 'via', 'f': 'from', 't': 'to', 'i': 'call-id', 'm': 'contact',
           'l': 'content-length', 'c': 'content-type', 'k': 'supported',
           's': 'subject', 'e': 'content-encoding'}


def rand_hex(n=16):
    return os.urandom(n // 2).hex()


class Message:
    """A parsed SIP message (request or response)."""

    def __init__(self, raw):
        self.raw = raw
        text = raw.decode('utf-8', 'replace')
        head, _, self.body = text.partition('\r\n\r\n')
        lines = head.split('\r\n')
        self.start = lines[0]
        self.headers = []  # (canonical lower name, original name, value)
        for l in lines[1:]:
            if l[:1] in (' ', '\t') and self.headers:
                n, o, v = self.headers[-1]
                self.headers[-1] = (n, o, v + ' ' + l.strip())
                continue
            name, _, value = l.partition(':')
            name = name.strip()
            low = name.lower()
            self.headers.append((COMPACT.get(low, low), name, value.strip()))
        self.status = None
        self.reason = None
        self.method = None
        m = re.match(r'SIP/2\.0 (\d{3}) ?(.*)$', self.start)
        if m:
            self.status = int(m.group(1))
            self.reason = m.group(2)
        else:
            self.method = self.start.split(' ', 1)[0]

    def all(self, name):
        name = name.lower()
        return [v for n, _, v in self.headers if n == name]

    def get(self, name, default=None):
        v = self.all(name)
        return v[0] if v else default

    def header_names(self):
        return [n for n, _, _ in self.headers]

    def cseq(self):
        v = self.get('cseq', '')
        parts = v.split()
        return (int(parts[0]), parts[1]) if len(parts) == 2 and parts[0].isdigit() else (None, None)

    def branch(self):
        v = self.get('via', '')
        m = re.search(r';\s*branch=([^;,\s]+)', v)
        return m.group(1) if m else None

    def __repr__(self):
        return '<%s>' % self.start


def parse_auth_params(value):
    """'Digest realm="x", nonce="y", qop="auth"' -> ('Digest', {...})."""
    scheme, _, rest = value.strip().partition(' ')
    params = {}
    for m in re.finditer(r'([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^\s,]+)', rest):
        params[m.group(1).lower()] = m.group(3) if m.group(3) is not None else m.group(2)
    return scheme, params


HASHES = {'MD5': hashlib.md5, 'SHA-256': hashlib.sha256}


def digest_response(alg, user, realm, password, method, uri, nonce, nc, cnonce, qop='auth'):
    H = lambda s: HASHES[alg](s.encode()).hexdigest()
    ha1 = H('%s:%s:%s' % (user, realm, password))
    ha2 = H('%s:%s' % (method, uri))
    if qop:
        return H('%s:%s:%s:%s:%s:%s' % (ha1, nonce, nc, cnonce, qop, ha2))
    return H('%s:%s:%s' % (ha1, nonce, ha2))


def authorization(challenge, user, password, method, uri, nc=1, cnonce=None,
                  proxy=False):
    """Authorization header line answering one challenge (params dict)."""
    alg = challenge.get('algorithm', 'MD5').upper()
    qop = None
    if 'qop' in challenge:
        qops = [q.strip() for q in challenge['qop'].split(',')]
        qop = 'auth' if 'auth' in qops else qops[0]
    cnonce = cnonce or rand_hex(16)
    ncs = '%08x' % nc
    resp = digest_response(alg, user, challenge['realm'], password, method, uri,
                           challenge['nonce'], ncs, cnonce, qop)
    parts = ['username="%s"' % user, 'realm="%s"' % challenge['realm'],
             'nonce="%s"' % challenge['nonce'], 'uri="%s"' % uri,
             'response="%s"' % resp, 'algorithm=%s' % alg]
    if qop:
        parts += ['cnonce="%s"' % cnonce, 'qop=%s' % qop, 'nc=%s' % ncs]
    if 'opaque' in challenge:
        parts.append('opaque="%s"' % challenge['opaque'])
    name = 'Proxy-Authorization' if proxy else 'Authorization'
    return '%s: Digest %s' % (name, ', '.join(parts))


class Transport:
    """One UDP socket or one TCP connection to the server."""

    def __init__(self, server, transport='udp', local_ip='127.0.0.1', local_port=0):
        self.server = server
        self.transport = transport.lower()
        self.buf = b''
        fam = socket.AF_INET6 if ':' in server[0] else socket.AF_INET
        if self.transport == 'udp':
            self.sock = socket.socket(fam, socket.SOCK_DGRAM)
            self.sock.bind((local_ip, local_port))
        else:
            self.sock = socket.socket(fam, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind((local_ip, local_port))
            self.sock.settimeout(5)
            self.sock.connect(server)
        self.local = self.sock.getsockname()[:2]
        self.closed = False

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        if self.transport == 'udp':
            self.sock.sendto(data, self.server)
        else:
            self.sock.sendall(data)

    def recv(self, timeout):
        """Next whole message (bytes) or None on timeout / closed connection."""
        deadline = time.time() + timeout
        while True:
            if self.transport != 'udp':
                m = self._frame()
                if m is not None:
                    return m
                if self.closed:
                    return None
            left = deadline - time.time()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                if self.transport == 'udp':
                    data, _ = self.sock.recvfrom(70000)
                    return data
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            except (ConnectionResetError, ConnectionRefusedError):
                self.closed = True
                if self.transport == 'udp':
                    continue
                return None
            if not data:
                self.closed = True
            self.buf += data

    def _frame(self):
        # skip keep-alive CRLFs between messages
        while self.buf.startswith(b'\r\n'):
            self.buf = self.buf[2:]
        end = self.buf.find(b'\r\n\r\n')
        if end < 0:
            return None
        head = self.buf[:end].decode('utf-8', 'replace')
        m = re.search(r'(?im)^(?:content-length|l)\s*:\s*(\d+)\s*$', head)
        n = int(m.group(1)) if m else 0
        total = end + 4 + n
        if len(self.buf) < total:
            return None
        msg, self.buf = self.buf[:total], self.buf[total:]
        return msg

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Client:
    """A UAC bound to one local address; builds requests and runs
    non-INVITE client transactions."""

    def __init__(self, server_port, transport='udp', server_ip='127.0.0.1',
                 local_ip='127.0.0.1', local_port=0, user_agent='hf-it-client/1'):
        self.server = (server_ip, server_port)
        self.tp = Transport(self.server, transport, local_ip, local_port)
        self.transport = transport.lower()
        self.local_ip, self.local_port = self.tp.local
        self.user_agent = user_agent
        self.nc = {}

    def close(self):
        self.tp.close()

    @property
    def via_proto(self):
        return 'UDP' if self.transport == 'udp' else 'TCP'

    @property
    def local_host(self):
        """The local address as it goes into a URI or Via (RFC 5118:
        IPv6 references in brackets)."""
        return '[%s]' % self.local_ip if ':' in self.local_ip else self.local_ip

    def contact_uri(self, user, tag=''):
        t = '' if self.transport == 'udp' else ';transport=tcp'
        return 'sip:%s%s@%s:%d%s' % (user, tag, self.local_host, self.local_port, t)

    def build(self, method, ruri, headers, body='', branch=None):
        """headers: list of 'Name: value' lines (without Via and
        Content-Length). Returns (bytes, branch)."""
        branch = branch or 'z9hG4bK' + rand_hex(16)
        lines = ['%s %s SIP/2.0' % (method, ruri),
                 'Via: SIP/2.0/%s %s:%d;rport;branch=%s' % (
                     self.via_proto, self.local_host, self.local_port, branch)]
        lines += headers
        if not any(h.lower().startswith('max-forwards:') for h in headers):
            lines.append('Max-Forwards: 70')
        if self.user_agent and not any(h.lower().startswith('user-agent:') for h in headers):
            lines.append('User-Agent: %s' % self.user_agent)
        lines.append('Content-Length: %d' % len(body.encode()))
        return ('\r\n'.join(lines) + '\r\n\r\n' + body).encode(), branch

    def transaction(self, data, branch, timeout=4.0, t1=0.5):
        """Sends a non-INVITE request and waits for its final response;
        retransmits over UDP. Returns (final Message or None, provisional
        responses)."""
        prov = []
        self.tp.send(data)
        deadline = time.time() + timeout
        interval = t1
        next_rtx = time.time() + interval
        while True:
            now = time.time()
            if now >= deadline:
                return None, prov
            wait = deadline - now
            if self.transport == 'udp':
                wait = min(wait, max(0.0, next_rtx - now))
            raw = self.tp.recv(wait)
            if raw is None:
                if self.transport == 'udp' and time.time() >= next_rtx and time.time() < deadline:
                    self.tp.send(data)
                    interval = min(interval * 2, 4.0)
                    next_rtx = time.time() + interval
                    continue
                if self.transport != 'udp' and self.tp.closed:
                    return None, prov
                continue
            msg = Message(raw)
            if msg.status is None or msg.branch() != branch:
                continue  # a stray retransmission of an earlier response
            if msg.status < 200:
                prov.append(msg)
                continue
            return msg, prov

    def request(self, method, ruri, headers, body='', timeout=4.0):
        data, branch = self.build(method, ruri, headers, body)
        final, _ = self.transaction(data, branch, timeout)
        return final

    def register(self, user, password=None, contacts=None, expires=None,
                 call_id=None, cseq=1, algorithm=None, domain=None,
                 auth_user=None, extra=(), timeout=4.0, contact_expires=None,
                 no_contact=False):
        """REGISTER for user; answers one 401 with the challenge of the
        wanted algorithm (None: the first one offered that we know, as RFC
        8760 asks of a client). Returns a dict: final (Message or None), first
        (the first response), challenge (params used), cseq (last used),
        call_id, sent (list of raw requests)."""
        domain = domain or '%s:%d' % self.server
        ruri = 'sip:%s' % domain
        call_id = call_id or rand_hex(20) + '@hf-it'
        tag = rand_hex(8)
        if contacts is None:
            contacts = ['<%s>' % self.contact_uri(user)]
        base = ['From: <sip:%s@%s>;tag=%s' % (user, domain, tag),
                'To: <sip:%s@%s>' % (user, domain),
                'Call-ID: %s' % call_id]
        if not no_contact:
            for c in contacts:
                base.append('Contact: %s' % c)
        if expires is not None:
            base.append('Expires: %d' % expires)
        base += list(extra)
        result = {'call_id': call_id, 'sent': [], 'challenge': None,
                  'first': None, 'final': None}
        data, branch = self.build('REGISTER', ruri, base + ['CSeq: %d REGISTER' % cseq])
        result['sent'].append(data)
        final, _ = self.transaction(data, branch, timeout)
        result['first'] = final
        result['final'] = final
        result['cseq'] = cseq
        if final is None or final.status not in (401, 407) or password is None:
            return result
        proxy = final.status == 407
        ch = self.pick_challenge(final, algorithm, proxy)
        if ch is None:
            raise AssertionError('no %s challenge in:\n%s' % (algorithm or 'usable', final.raw.decode('utf-8', 'replace')))
        result['challenge'] = ch
        cseq += 1
        auth = authorization(ch, auth_user or user, password, 'REGISTER', ruri,
                             nc=1, proxy=proxy)
        data, branch = self.build('REGISTER', ruri, base + ['CSeq: %d REGISTER' % cseq, auth])
        result['sent'].append(data)
        final, _ = self.transaction(data, branch, timeout)
        result['final'] = final
        result['cseq'] = cseq
        return result

    @staticmethod
    def challenges(msg, proxy=False):
        out = []
        for v in msg.all('proxy-authenticate' if proxy else 'www-authenticate'):
            scheme, params = parse_auth_params(v)
            if scheme.lower() == 'digest':
                out.append(params)
        return out

    @classmethod
    def pick_challenge(cls, msg, algorithm=None, proxy=False):
        for ch in cls.challenges(msg, proxy):
            alg = ch.get('algorithm', 'MD5').upper()
            if (algorithm is None and alg in HASHES) or \
                    (algorithm is not None and alg == algorithm.upper()):
                return ch
        return None

    def options(self, ruri=None, timeout=4.0, method='OPTIONS', extra=()):
        ruri = ruri or 'sip:%s:%d' % self.server
        tag = rand_hex(8)
        headers = ['From: <sip:probe@%s>;tag=%s' % (self.local_ip, tag),
                   'To: <%s>' % ruri, 'Call-ID: %s@hf-it' % rand_hex(20),
                   'CSeq: 1 %s' % method] + list(extra)
        return self.request(method, ruri, headers, timeout=timeout)


def contact_expires(msg):
    """{uri: expires} from the Contact headers of a 200 to REGISTER."""
    out = {}
    for v in msg.all('contact'):
        for part in split_commas(v):
            m = re.match(r'\s*(?:"[^"]*"\s*)?<([^>]*)>(.*)$', part) or \
                re.match(r'\s*([^;]*)(.*)$', part)
            uri, params = m.group(1).strip(), m.group(2)
            e = re.search(r';\s*expires\s*=\s*(\d+)', params, re.I)
            out[uri] = int(e.group(1)) if e else None
    return out


def split_commas(v):
    """Splits a header value on commas outside quotes and <>."""
    out, cur, q, a = [], '', False, 0
    for ch in v:
        if ch == '"':
            q = not q
        elif not q and ch == '<':
            a += 1
        elif not q and ch == '>':
            a -= 1
        if ch == ',' and not q and a == 0:
            out.append(cur)
            cur = ''
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return out
