#!/usr/bin/env python3
"""
A local SMTP sink for the tests (python standard library only): a threaded
server on 127.0.0.1 and a free port speaking enough RFC 5321 for libcurl
-- EHLO/HELO, AUTH PLAIN and AUTH LOGIN (when a username is set, MAIL is
refused until the client logged in with the right password), MAIL FROM,
RCPT TO, DATA (dot-unstuffed), RSET, NOOP, QUIT. It does not offer
STARTTLS, so the daemon's email.tls must be "off" or "try". Each message
is kept with its envelope and parsed with the email package.

    sink = SmtpSink(username='pbx', password='s3cret').start()
    ... sink.url -> 'smtp://127.0.0.1:PORT'
    msg = sink.wait_message(10)     # a Message, or None
    sink.stop()

Run alone (python3 tests/integration/smtpsink.py) it serves until ^C and
prints each message, which is handy for trying the daemon by hand.
"""
import base64
import email
import email.policy
import socket
import socketserver
import threading
import time

LOCAL = '127.0.0.1'


class Message:
    def __init__(self, mail_from, rcpts, data, login):
        self.mail_from = mail_from      # envelope sender, without <>
        self.rcpts = rcpts              # envelope recipients
        self.data = data                # the raw message (bytes)
        self.login = login              # the username it logged in as, or None
        self.msg = email.message_from_bytes(data, policy=email.policy.default)

    def header(self, name):
        v = self.msg[name]
        return None if v is None else str(v)

    def text(self):
        part = self.msg.get_body(preferencelist=('plain',))
        return part.get_content() if part is not None else ''

    def attachments(self):
        """[(filename, content type, bytes)]"""
        return [(p.get_filename(), p.get_content_type(), p.get_payload(decode=True))
                for p in self.msg.iter_attachments()]


class _Handler(socketserver.StreamRequestHandler):
    timeout = 30

    def reply(self, line):
        self.wfile.write(line.encode() + b'\r\n')
        self.wfile.flush()

    def readline(self):
        line = self.rfile.readline(65536)
        if not line:
            raise EOFError
        return line.rstrip(b'\r\n').decode('utf-8', 'replace')

    def handle(self):
        sink = self.server.sink
        sink.connections += 1
        login = None
        mail_from, rcpts = None, []
        self.reply('220 smtpsink ready')
        try:
            while True:
                line = self.readline()
                sink.transcript.append(line)
                verb = line.split(' ', 1)[0].upper()
                arg = line[len(verb):].strip()
                if verb in ('EHLO', 'HELO'):
                    if verb == 'EHLO':
                        self.reply('250-smtpsink')
                        self.reply('250-AUTH PLAIN LOGIN')
                        self.reply('250 8BITMIME')
                    else:
                        self.reply('250 smtpsink')
                elif verb == 'AUTH':
                    login = self.auth(arg)
                elif verb == 'MAIL':
                    if sink.username and not login:
                        self.reply('530 5.7.0 Authentication required')
                        continue
                    mail_from = arg.split(':', 1)[1].strip().split(' ')[0].strip('<>')
                    rcpts = []
                    self.reply('250 OK')
                elif verb == 'RCPT':
                    if mail_from is None:
                        self.reply('503 MAIL first')
                        continue
                    rcpts.append(arg.split(':', 1)[1].strip().strip('<>'))
                    self.reply('250 OK')
                elif verb == 'DATA':
                    if not rcpts:
                        self.reply('503 RCPT first')
                        continue
                    self.reply('354 End data with <CR><LF>.<CR><LF>')
                    data = self.read_data()
                    sink._add(Message(mail_from, rcpts, data, login))
                    self.reply('250 OK queued')
                    mail_from, rcpts = None, []
                elif verb == 'RSET':
                    mail_from, rcpts = None, []
                    self.reply('250 OK')
                elif verb == 'NOOP':
                    self.reply('250 OK')
                elif verb == 'QUIT':
                    self.reply('221 Bye')
                    return
                else:
                    self.reply('502 Command not implemented')
        except (EOFError, ConnectionError, socket.timeout):
            return

    def auth(self, arg):
        sink = self.server.sink
        parts = arg.split()
        mech = parts[0].upper() if parts else ''
        if mech == 'PLAIN':
            blob = parts[1] if len(parts) > 1 else None
            if blob is None:
                self.reply('334 ')
                blob = self.readline()
            try:
                _, user, pw = base64.b64decode(blob).decode().split('\0')
            except Exception:
                self.reply('501 Bad PLAIN response')
                return None
        elif mech == 'LOGIN':
            if len(parts) > 1:
                user = base64.b64decode(parts[1]).decode()
            else:
                self.reply('334 ' + base64.b64encode(b'Username:').decode())
                user = base64.b64decode(self.readline()).decode()
            self.reply('334 ' + base64.b64encode(b'Password:').decode())
            pw = base64.b64decode(self.readline()).decode()
        else:
            self.reply('504 Unrecognized authentication type')
            return None
        sink.auth_attempts.append((user, pw))
        if user == sink.username and pw == sink.password:
            self.reply('235 2.7.0 Authentication successful')
            return user
        self.reply('535 5.7.8 Authentication credentials invalid')
        return None

    def read_data(self):
        out = []
        while True:
            line = self.rfile.readline(1 << 20)
            if not line:
                raise EOFError
            if line in (b'.\r\n', b'.\n'):
                break
            if line.startswith(b'.'):
                line = line[1:]   # dot-unstuffing (RFC 5321 4.5.2)
            out.append(line)
        return b''.join(out)


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class SmtpSink:
    def __init__(self, username=None, password=None, port=0):
        self.username = username
        self.password = password
        self.messages = []
        self.auth_attempts = []
        self.transcript = []
        self.connections = 0
        self._cv = threading.Condition()
        self._server = _Server((LOCAL, port), _Handler)
        self._server.sink = self
        self.port = self._server.server_address[1]
        self.url = 'smtp://%s:%d' % (LOCAL, self.port)
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def _add(self, m):
        with self._cv:
            self.messages.append(m)
            self._cv.notify_all()

    def wait_message(self, timeout, n=1):
        """The n-th message (1-based) once it arrived, or None after timeout."""
        deadline = time.time() + timeout
        with self._cv:
            while len(self.messages) < n:
                left = deadline - time.time()
                if left <= 0:
                    return None
                self._cv.wait(left)
            return self.messages[n - 1]


if __name__ == '__main__':
    import sys
    s = SmtpSink(port=int(sys.argv[1]) if len(sys.argv) > 1 else 0).start()
    print('listening on', s.url)
    n = 0
    try:
        while True:
            m = s.wait_message(3600, n + 1)
            if m:
                n += 1
                print('--- from %s to %s\n%s' % (m.mail_from, m.rcpts, m.data.decode('utf-8', 'replace')))
    except KeyboardInterrupt:
        s.stop()
