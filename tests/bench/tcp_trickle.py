#!/usr/bin/env python3
"""
What one byte costs the signalling thread when it lands on a TCP
connection that already holds a large unfinished header section (issue
#16: the framer used to re-scan the whole buffer on every read). Starts
the optimised daemon, sends HEAD_KB of header lines without the empty
line that ends them, then SEGMENTS single-byte segments (TCP_NODELAY,
one every millisecond, so the daemon, keeping up, reads each on its own), and reports the daemon's CPU time per segment
from /proc/PID/stat.

    python3 tests/bench/tcp_trickle.py [SEGMENTS] [HEAD_KB] [LINE_BYTES]

Short header lines are the expensive case for a scan that stops at each
line end (LINE_BYTES 4: "a:b" and CRLF, 15,000 lines in 60 KB).
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'integration'))

import hf  # noqa: E402


def main():
    segments = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    head_kb = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    line_bytes = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3].isdigit() else 4
    d = hf.Daemon(san=False, log_level='info',
                  extra=['--tcp-first-message-timeout', '3600', '--tcp-idle-timeout', '3600']
                  if '--new-flags' in sys.argv else [])
    d.start()
    try:
        s = socket.create_connection(('127.0.0.1', d.sip_port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        head = b'OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n'
        line = b'a:' + b'b' * max(1, line_bytes - 4) + b'\r\n'
        while len(head) + len(line) < head_kb * 1000:
            head += line
        s.sendall(head)
        time.sleep(0.5)  # let it take in the headers first
        t0 = d.cpu_ticks()
        w0 = time.time()
        for _ in range(segments):
            s.send(b'a')
            time.sleep(0.001)
        dt = (d.cpu_ticks() - t0) / os.sysconf('SC_CLK_TCK')
        wall = time.time() - w0
        print('%d one-byte segments after %d bytes of unfinished headers: daemon CPU %.3f s, '
              '%.1f us per segment (wall %.2f s)' % (segments, len(head), dt, dt / segments * 1e6, wall))
        s.close()
    finally:
        d.stop()


if __name__ == '__main__':
    main()
