/*
 * What framing costs the signalling thread per read when a TCP peer
 * trickles one byte at a time behind a large unfinished header section
 * (issue #16): sip_msg_frame from the start of the message on every read
 * (what transport_tcp.c did) against sip_msg_frame_next with the
 * connection's saved state (what it does now). Only the framer is timed,
 * not the syscalls around it (tests/bench/tcp_trickle.py measures the
 * whole daemon).
 *
 *     build/bench/frame_bench [HEAD_BYTES] [LINE_BYTES] [SEGMENTS]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../core/sip/msg.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t head = argc > 1 ? strtoul(argv[1], NULL, 10) : 60000;
	size_t line = argc > 2 ? strtoul(argv[2], NULL, 10) : 5;
	size_t segs = argc > 3 ? strtoul(argv[3], NULL, 10) : 2000;
	if (line < 5 || head + segs > SIP_MAX_MSG - 1 || head < 64) {
		fprintf(stderr, "frame_bench: HEAD_BYTES + SEGMENTS under 65535, LINE_BYTES >= 5\n");
		return 2;
	}
	static char buf[SIP_MAX_MSG];
	size_t n = (size_t)snprintf(buf, sizeof(buf), "OPTIONS sip:x@h SIP/2.0\r\n");
	while (n + line <= head) {
		memcpy(buf + n, "a:", 2);
		memset(buf + n + 2, 'b', line - 4);
		memcpy(buf + n + line - 2, "\r\n", 2);
		n += line;
	}
	memset(buf + n, 'c', segs); /* the trickled bytes: never an empty line */
	size_t out;
	volatile int sink = 0;

	double t0 = now_s();
	for (size_t i = 1; i <= segs; i++)
		sink += sip_msg_frame(buf, n + i, &out);
	double fresh = (now_s() - t0) / (double)segs;

	struct sip_frame_state st = { 0 };
	sink += sip_msg_frame_next(&st, buf, n, &out);
	t0 = now_s();
	for (size_t i = 1; i <= segs; i++)
		sink += sip_msg_frame_next(&st, buf, n + i, &out);
	double resumed = (now_s() - t0) / (double)segs;
	(void)sink;
	printf("%zu bytes of unfinished headers in %zu-byte lines, %zu one-byte reads: "
	       "re-scan %.2f us per read, resumed %.3f us per read\n",
	       n, line, segs, fresh * 1e6, resumed * 1e6);
	return 0;
}
