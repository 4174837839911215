/*
 * Relay benchmark for the media engine (core/media): N concurrent calls
 * on one media worker, each with two "phones" (UDP sockets on 127.0.0.1
 * in this process) sending G.711-like RTP, 160-byte payload every 20 ms in
 * each direction, for a few seconds. Reports the worker thread's CPU time
 * (its own clock, so the phones' cost is not counted), per 100 calls and
 * per packet, and how many packets made it through.
 *
 * The phones' sender keeps time with absolute deadlines; a receiver thread
 * drains the phones' sockets with epoll + recvmmsg. On a 2-CPU box the
 * phones compete with the worker for the CPUs, which is the honest case.
 *
 * Not built by the Makefile; by hand, optimised:
 *   mkdir -p build/bench && cc -O2 -g -std=gnu11 -D_GNU_SOURCE \
 *     -o build/bench/relay_bench tests/bench/relay_bench.c core/media/[a-z]*.c \
 *     core/base/loop.c core/base/log.c -lpthread
 *   build/bench/relay_bench [seconds] [calls ...]     (default: 10 100 500)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#include "../../core/base/log.h"
#include "../../core/base/loop.h"
#include "../../core/media/media.h"

struct bcall {
	uint32_t id;
	uint16_t port[2];
	int ph[2];
	uint16_t seq;
};

struct bench {
	struct loop *sig;
	struct media_engine *me;
	struct bcall *calls;
	int n;
	int stats_seen, destroyed;
	uint64_t tx_total, lost_total;
	double jitter_max;
	struct bench_sink sink;
};

static void on_ev(const struct media_event *ev, void *arg)
{
	struct bench *b = arg;
	if (ev->type == MEDIA_EV_STATS)
		b->stats_seen++;
	if (ev->type == MEDIA_EV_DESTROYED) {
		b->destroyed++;
		for (int i = 0; i < 2; i++) {
			b->tx_total += ev->stats.leg[i].tx_packets;
			b->lost_total += ev->stats.leg[i].lost;
			if (ev->stats.leg[i].jitter_ms > b->jitter_max)
				b->jitter_max = ev->stats.leg[i].jitter_ms;
		}
	}
}

static void run_until(struct bench *b, int *counter, int want)
{
	uint64_t end = mono_ns() + 10000000000ull;
	while (*counter < want && mono_ns() < end)
		loop_run_once(b->sig, 10);
	if (*counter < want)
		die("events did not arrive", ETIMEDOUT);
}

static void one_packet(uint8_t *p, uint16_t seq, uint32_t ssrc)
{
	uint32_t ts = (uint32_t)seq * 160u;
	p[0] = 0x80;
	p[1] = 0;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	for (int i = 0; i < 4; i++) {
		p[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
		p[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	}
	memset(p + 12, 0xd5, 160); /* A-law silence */
}

static void run(int ncalls, int seconds)
{
	struct bench b;
	memset(&b, 0, sizeof(b));
	b.n = ncalls;
	int err = loop_alloc(&b.sig);
	if (err)
		die("loop", err);
	/* below Linux's ephemeral range (32768-60999), where the phones'
	 * own sockets would otherwise take pairs away */
	uint32_t lo = 20000 + 2 * (uint32_t)(rand() % 500);
	uint32_t hi = lo + 4 * (uint32_t)ncalls + 200;
	if (hi > 32767)
		hi = 32767;
	struct media_cfg cfg = {
		.nworkers = 1,
		.rtp_min = (uint16_t)lo,
		.rtp_max = (uint16_t)hi,
		.bind_addr = "127.0.0.1",
		.coalesce_us = getenv("HF_COALESCE_US") ? (uint32_t)atoi(getenv("HF_COALESCE_US")) : 0,
	};
	err = media_engine_alloc(&b.me, b.sig, &cfg);
	if (err)
		die("engine", err);
	b.sink.epfd = epoll_create1(0);
	b.calls = calloc((size_t)ncalls, sizeof(*b.calls));
	for (int i = 0; i < ncalls; i++) {
		struct bcall *c = &b.calls[i];
		if ((err = media_call_create(b.me, &c->id, on_ev, &b)))
			die("call", err);
		for (unsigned l = 0; l < 2; l++) {
			if ((err = media_leg_alloc(b.me, c->id, l, &c->port[l])))
				die("leg", err);
			c->ph[l] = phone_open();
			struct media_remote r;
			memset(&r, 0, sizeof(r));
			socklen_t len = sizeof(r.rtp);
			getsockname(c->ph[l], (struct sockaddr *)&r.rtp, &len);
			if ((err = media_leg_set_remote(b.me, c->id, l, &r)))
				die("remote", err);
			struct epoll_event ev = { .events = EPOLLIN, .data.fd = c->ph[l] };
			epoll_ctl(b.sink.epfd, EPOLL_CTL_ADD, c->ph[l], &ev);
		}
		if ((err = media_call_connect(b.me, c->id)) || (err = media_call_stats(b.me, c->id)))
			die("connect", err);
	}
	run_until(&b, &b.stats_seen, ncalls);

	pthread_t rx;
	pthread_create(&rx, NULL, bench_receiver, &b.sink);
	uint8_t pkt[172];
	uint64_t sent = 0, cpu0 = 0, cpu1 = 0, t0 = 0, rx0 = 0, sent0 = 0;
	uint64_t next = mono_ns();
	int ticks = seconds * 50, warm = 50; /* 1 s warm-up */
	struct sockaddr_in to = { .sin_family = AF_INET };
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int tick = 0; tick < warm + ticks; tick++) {
		if (tick == warm) {
			media_engine_worker_cpu_ns(b.me, 0, &cpu0);
			t0 = mono_ns();
			rx0 = atomic_load(&b.sink.received);
			sent0 = sent;
		}
		for (int i = 0; i < ncalls; i++) {
			struct bcall *c = &b.calls[i];
			c->seq++;
			for (int l = 0; l < 2; l++) {
				one_packet(pkt, c->seq, (uint32_t)(2 * i + l));
				to.sin_port = htons(c->port[l]);
				if (sendto(c->ph[l], pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)) > 0)
					sent++;
			}
		}
		loop_run_once(b.sig, 0);
		next += 20000000u;
		struct timespec ts = { (time_t)(next / 1000000000u), (long)(next % 1000000000u) };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	media_engine_worker_cpu_ns(b.me, 0, &cpu1);
	uint64_t t1 = mono_ns();
	usleep(200000); /* let the last packets through */
	uint64_t rx1 = atomic_load(&b.sink.received);
	atomic_store(&b.sink.stop, true);
	pthread_join(rx, NULL);

	for (int i = 0; i < ncalls; i++)
		media_call_destroy(b.me, b.calls[i].id);
	run_until(&b, &b.destroyed, ncalls);

	double wall = (double)(t1 - t0) / 1e9;
	double cpu = (double)(cpu1 - cpu0) / 1e9;
	double pct = 100.0 * cpu / wall;
	double pps = (double)(sent - sent0) / wall;
	printf("%5d calls | %7.0f pkt/s in | worker CPU %6.2f%% of a core | %5.2f%% per 100 calls |"
	       " %5.0f ns/pkt | received %llu/%llu (window), relayed %llu total, loss %llu, max jitter %.2f ms\n",
	       ncalls, pps, pct, pct * 100.0 / ncalls, cpu * 1e9 / (double)(sent - sent0),
	       (unsigned long long)(rx1 - rx0), (unsigned long long)(sent - sent0),
	       (unsigned long long)b.tx_total, (unsigned long long)b.lost_total, b.jitter_max);
	fflush(stdout);

	for (int i = 0; i < ncalls; i++) {
		close(b.calls[i].ph[0]);
		close(b.calls[i].ph[1]);
	}
	close(b.sink.epfd);
	free(b.calls);
	media_engine_free(b.me);
	loop_free(b.sig);
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 10;
	bench_setup();
	if (argc > 2) {
		for (int i = 2; i < argc; i++)
			run(atoi(argv[i]), seconds);
	} else {
		run(100, seconds);
		run(500, seconds);
	}
	return 0;
}
