#!/usr/bin/env python3
"""
The SIP transport's limits (issue #16), from the network side:

- 2,000 TCP connections from one address (127.0.0.1) do not lock out
  another client: a REGISTER over TCP from 127.0.0.2 gets its 200 while
  the flood holds its connections (the per-address limit keeps the flood
  to 32 of the 1,024 slots).
- A connection that sends one byte a second never completes a message and
  is closed at the first-message deadline (10 s by default).
- After a whole message, single bytes do not reset the idle timer: the
  connection is closed at the idle timeout all the same.
- Past the header-count limit, and with a header line over 8 KiB, a
  request gets a clean 400 naming the limit, over UDP and over TCP (it
  used to get silence, and a 200).
- Out of file descriptors, the daemon sheds connections instead of
  spinning on a listener that stays readable.

    python3 tests/integration/transport_limits.py [-v] [-k SUBSTRING]
"""
import errno
import os
import resource
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hf  # noqa: E402
from hf import check  # noqa: E402
from sipclient import Client, Message  # noqa: E402

FLOOD = 2000


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        if hard != resource.RLIM_INFINITY and hard < n:
            raise hf.Skip('RLIMIT_NOFILE hard limit %d is below the %d sockets needed' % (hard, n))
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, hard))


def closed_by_peer(s, timeout):
    """Waits up to timeout for the daemon to close s; returns the time it
    took, or None while it is still open."""
    t0 = time.time()
    s.settimeout(timeout)
    try:
        while True:
            data = s.recv(65536)
            if not data:
                return time.time() - t0
    except socket.timeout:
        return None
    except (ConnectionResetError, BrokenPipeError):
        return time.time() - t0


def test_tcp_flood_does_not_lock_out(ctx):
    """2,000 connections from 127.0.0.1 held open; 127.0.0.2 still registers
    over TCP within 5 s."""
    raise_nofile(FLOOD + 512)
    d = hf.Daemon(log_level='info')
    ctx.daemons.append(d)
    d.start()
    flood = []
    try:
        ext, pw = '2901', 'flood-secret-2901'
        hf.add_extension(d.data_dir, ext, pw)
        for _ in range(FLOOD):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            err = s.connect_ex(('127.0.0.1', d.sip_port))
            check(err in (0, errno.EINPROGRESS, errno.EAGAIN),
                  'flood connect failed: %s' % os.strerror(err))
            flood.append(s)
        # Give the daemon the time to take in (or turn away) the whole flood
        # before the other client comes: it is the held slots that matter.
        hf.wait_until(lambda: 'refusing tcp connection' in d.log()
                      or d.log().count('tcp connection') >= 1, 10,
                      lambda: 'the daemon never saw the flood:\n%s' % d.log_tail())
        time.sleep(0.5)
        t0 = time.time()
        c = None
        try:
            c = Client(d.sip_port, transport='tcp', local_ip='127.0.0.2')
            res = c.register(ext, pw, expires=120, timeout=5.0)
        except OSError as e:
            res = {'final': None, 'error': e}
        finally:
            if c:
                c.close()
        took = time.time() - t0
        f = res['final']
        check(f is not None and f.status == 200,
              'REGISTER over TCP from 127.0.0.2 during a %d-connection flood from 127.0.0.1: %s '
              'after %.1f s\n%s' % (FLOOD, f.start if f is not None else res.get('error', 'no answer'),
                                    took, d.log_tail()))
        check(took < 5.0, 'the REGISTER took %.1f s' % took)
        check('too many connections from this address' in d.log(),
              'the flood was not limited per address:\n%s' % d.log_tail())
        check(d.alive(), 'hookflashd died under the flood')
    finally:
        for s in flood:
            s.close()
        d.stop_clean()


def test_tcp_trickle_closed_at_first_deadline(ctx):
    """One byte a second, never a whole message: closed at the default
    first-message deadline (10 s), not kept for the 600 s idle timeout."""
    d = hf.Daemon(log_level='debug')
    ctx.daemons.append(d)
    d.start()
    try:
        s = socket.create_connection(('127.0.0.1', d.sip_port), timeout=5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        msg = b'OPTIONS sip:trickle@127.0.0.1 SIP/2.0\r\n' + b'X-Slow: ' + b'z' * 100
        t0 = time.time()
        gone = None
        for i in range(16):
            try:
                s.send(msg[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                gone = time.time() - t0
                break
            if closed_by_peer(s, 1.0) is not None:
                gone = time.time() - t0
                break
        s.close()
        check(gone is not None, 'a connection sending a byte a second for 16 s was not closed\n%s'
              % d.log_tail())
        check(9.0 <= gone <= 12.5, 'closed after %.1f s, want the 10 s first-message deadline\n%s'
              % (gone, d.log_tail()))
        check('first-message deadline' in d.log(), 'no log line says why:\n%s' % d.log_tail())
    finally:
        d.stop_clean()


def test_tcp_idle_not_reset_by_bytes(ctx):
    """A whole OPTIONS, then a byte every half second: closed at the idle
    timeout (3 s here) counted from the OPTIONS."""
    d = hf.Daemon(log_level='debug', extra=['--tcp-idle-timeout', '3'])
    ctx.daemons.append(d)
    d.start()
    try:
        c = Client(d.sip_port, transport='tcp')
        data, branch = c.build('OPTIONS', 'sip:127.0.0.1:%d' % d.sip_port,
                               ['From: <sip:idle@127.0.0.1>;tag=1', 'To: <sip:127.0.0.1>',
                                'Call-ID: idle-%d@hf-it' % os.getpid(), 'CSeq: 1 OPTIONS'])
        final, _ = c.transaction(data, branch, timeout=5.0)
        check(final is not None, 'no answer to OPTIONS over TCP\n%s' % d.log_tail())
        t0 = time.time()
        s = c.tp.sock
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        gone = None
        for _ in range(20):
            try:
                s.send(b'O')
            except (BrokenPipeError, ConnectionResetError):
                gone = time.time() - t0
                break
            if closed_by_peer(s, 0.5) is not None:
                gone = time.time() - t0
                break
        c.close()
        check(gone is not None, 'single bytes every 0.5 s kept the connection open for 10 s past '
              'a 3 s idle timeout\n%s' % d.log_tail())
        check(2.5 <= gone <= 4.5, 'closed %.1f s after the last whole message, want 3 s\n%s'
              % (gone, d.log_tail()))
    finally:
        d.stop_clean()


def test_tcp_out_of_fds_no_spin(ctx):
    """A daemon started with 160 file descriptors, flooded by 320 connections
    from ten addresses: it refuses what it cannot take without spinning on
    the listener (it used to: accept failed, the listener stayed readable),
    and registers a phone once the flood is gone."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    d = hf.Daemon(log_level='info')
    ctx.daemons.append(d)
    resource.setrlimit(resource.RLIMIT_NOFILE, (160, hard))
    try:
        d.start()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    socks = []
    try:
        ext, pw = '2902', 'nofile-secret-2902'
        hf.add_extension(d.data_dir, ext, pw)
        for x in range(2, 12):
            for _ in range(32):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                s.bind(('127.0.0.%d' % x, 0))
                s.connect_ex(('127.0.0.1', d.sip_port))
                socks.append(s)
        hf.wait_until(lambda: len(os.listdir('/proc/%d/fd' % d.pid)) >= 155, 10,
                      lambda: 'the daemon never ran out of descriptors:\n%s' % d.log_tail())
        t0 = d.cpu_ticks()
        time.sleep(2.0)  # measuring CPU over a span: nothing to wait for
        ticks = d.cpu_ticks() - t0
        hz = os.sysconf('SC_CLK_TCK')
        check(ticks < hz // 5, 'the daemon used %.2f s of CPU in 2 s while out of descriptors '
              '(spinning on the listener?)' % (ticks / hz))
        check('out of file descriptors' in d.log(), 'no log line says why connections are '
              'refused:\n%s' % d.log_tail())
        for s in socks:
            s.close()
        socks = []
        c = Client(d.sip_port, transport='tcp', local_ip='127.0.0.20')
        try:
            res = hf.wait_for(lambda: (lambda r: r if r['final'] is not None and r['final'].status == 200
                                       else None)(c.register(ext, pw, expires=120)), 10)
        finally:
            c.close()
        check(res, 'no 200 to a REGISTER once the flood was gone\n%s' % d.log_tail())
    finally:
        for s in socks:
            s.close()
        d.stop_clean()


def options(c, port, extra_lines):
    data, branch = c.build('OPTIONS', 'sip:127.0.0.1:%d' % port,
                           ['From: <sip:lim@127.0.0.1>;tag=7', 'To: <sip:127.0.0.1>',
                            'Call-ID: lim-%s@hf-it' % os.urandom(6).hex(), 'CSeq: 1 OPTIONS']
                           + extra_lines)
    final, _ = c.transaction(data, branch, timeout=4.0)
    return final


def test_parse_limits_answered(ctx):
    """Over UDP and TCP: 200 header lines get 400 "Too Many Headers", a
    60,000-byte header line 400 "Header Too Long"; the daemon stays up."""
    d = ctx.daemon()
    many = ['X-H%d: %d' % (i, i) for i in range(200)]
    long_line = ['X-Long: ' + 'a' * 60000]
    for tp in ('udp', 'tcp'):
        for lines, reason in ((many, 'Too Many Headers'), (long_line, 'Header Too Long')):
            c = Client(d.sip_port, transport=tp)
            try:
                f = options(c, d.sip_port, lines)
            finally:
                c.close()
            check(f is not None, '%s: %s: no answer (silence)\n%s' % (tp, reason, d.log_tail()))
            check(f.status == 400 and f.reason == reason,
                  '%s: want 400 %s, got %s' % (tp, reason, f.start))
    # and an ordinary request still works
    c = Client(d.sip_port)
    try:
        f = options(c, d.sip_port, [])
    finally:
        c.close()
    check(f is not None and f.status != 400, 'a plain OPTIONS: %s' % (f.start if f else 'no answer'))


TESTS = [test_parse_limits_answered, test_tcp_idle_not_reset_by_bytes,
         test_tcp_trickle_closed_at_first_deadline, test_tcp_flood_does_not_lock_out,
         test_tcp_out_of_fds_no_spin]


if __name__ == '__main__':
    import run  # noqa: E402
    run.TESTS = TESTS
    sys.exit(run.guarded())
