/*
 * What the media benchmarks (relay_bench.c, transcode_bench.c) share: a
 * monotonic clock, fatal errors, the "phones" (plain UDP sockets on
 * 127.0.0.1) and the thread that drains what the engine sends them, so
 * the worker's sends never fill a socket buffer. Header-only, like the
 * unit tests' *_util.h.
 */
#ifndef HF_BENCH_UTIL_H
#define HF_BENCH_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../core/base/log.h"

static inline uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void die(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, strerror(err));
	exit(1);
}

/* Process set-up of a benchmark: random port ranges, quiet logs, every
 * file descriptor the hard limit allows (two sockets per phone). */
static inline void bench_setup(void)
{
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	log_set_level(LOG_WARN);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static inline int phone_open(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("phone socket", errno);
	return fd;
}

/* The phones' sockets (in epfd) and what was read from them. */
struct bench_sink {
	atomic_bool stop;
	atomic_uint_fast64_t received;
	int epfd;
};

/* Thread body: reads and counts datagrams until stop. The phones stand
 * for other machines: after each round it naps 1 ms, so the engine's sends
 * find it awake and rarely pay loopback's cross-CPU wake-up of a sleeping
 * reader, a cost a NIC would not charge the PBX (about 8% of the worker at
 * 300 transcoded calls). */
static inline void *bench_receiver(void *arg)
{
	struct bench_sink *s = arg;
	struct epoll_event evs[64];
	enum { BATCH = 32 };
	static uint8_t bufs[BATCH][512];
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	while (!atomic_load(&s->stop)) {
		int n = epoll_wait(s->epfd, evs, 64, 50);
		for (int i = 0; i < n; i++) {
			for (int k = 0; k < BATCH; k++) {
				iov[k] = (struct iovec){ bufs[k], sizeof(bufs[k]) };
				memset(&mm[k].msg_hdr, 0, sizeof(mm[k].msg_hdr));
				mm[k].msg_hdr.msg_iov = &iov[k];
				mm[k].msg_hdr.msg_iovlen = 1;
			}
			int r = recvmmsg(evs[i].data.fd, mm, BATCH, MSG_DONTWAIT, NULL);
			if (r > 0)
				atomic_fetch_add(&s->received, (uint64_t)r);
		}
		if (n > 0) {
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

#endif
