/*
 * Transcoding benchmark for the media engine's decoding path: N concurrent
 * calls on one media worker, each between a PCMU phone (leg 0) and an opus
 * phone (leg 1), both sending 20 ms packets of a voice-like signal (a 180 Hz
 * buzz with harmonics, syllable-rate envelope, a little noise) for a few
 * seconds. Every packet is decoded, and re-encoded for the other side
 * (opus encoder at 8 kHz narrowband: SILK complexity 1 at 16 kbit/s, or
 * with HF_OPUS_LOW_CPU CELT complexity 0 at 24 kbit/s; no FEC: see
 * core/media/dpath.c), through jitter buffers, on the worker's 20 ms tick.
 *
 * Reports the worker thread's CPU time (its own clock: the phones' cost is
 * not counted) as % of a core, per call, and the calls one core would
 * carry at 100%, plus how many packets came out. The phones replay one
 * second of packets encoded once at start, so they cost little; a receiver
 * thread drains their sockets.
 *
 * HF_COALESCE_US sets the worker's interrupt coalescing (media_cfg);
 * HF_OPUS_LOW_CPU=1 encodes opus with CELT only (media_cfg.opus_low_cpu);
 * HF_OPUS_AUTO=N switches to CELT while the worker is above N% of a core
 * (media_cfg.opus_low_cpu_above; default 70 like the daemon, 0: never);
 * HF_PHONE_FULLBAND=1 has the opus phone send fullband (see below).
 *
 * Built and run by `make bench`; by hand:
 *   make build/bench/transcode_bench
 *   build/bench/transcode_bench [seconds] [calls ...]   (default: 10 100 300)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
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
#include "../../core/media/codecs/codec.h"
#include "../../core/media/media.h"

#define NPKT 50 /* one second, replayed */

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
	int stats_seen, destroyed;
	uint64_t tx_total, rx_total;
	struct bench_sink sink;
};

static uint8_t pay[2][NPKT][400];
static size_t paylen[2][NPKT];

static void on_ev(const struct media_event *ev, void *arg)
{
	struct bench *b = arg;
	if (ev->type == MEDIA_EV_STATS)
		b->stats_seen++;
	if (ev->type == MEDIA_EV_DESTROYED) {
		b->destroyed++;
		for (int i = 0; i < 2; i++) {
			b->tx_total += ev->stats.leg[i].tx_packets;
			b->rx_total += ev->stats.leg[i].rx_packets;
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

/* One second of a voice-like signal, encoded once per codec. The opus
 * phone captures at 48 kHz and, as RFC 7587 asks and libopus-based phones
 * do, codes no wider than the maxplaybackrate Hookflash gives it: 8000 on
 * a call transcoded to G.711. HF_PHONE_FULLBAND=1: a phone that ignores
 * it and sends fullband (a costlier decode here). */
static void encode_payloads(void)
{
	const struct codec_desc *d[2] = { &codec_pcmu, &codec_opus };
	uint32_t seed = 1;
	struct codec_params op;
	codec_params_default(&op);
	if (!(getenv("HF_PHONE_FULLBAND") && atoi(getenv("HF_PHONE_FULLBAND"))))
		op.max_playback = 8000;
	for (int c = 0; c < 2; c++) {
		struct codec_enc *e;
		int err = codec_enc_alloc(&e, d[c], c ? &op : NULL);
		if (err)
			die("encoder", err);
		uint32_t rate = d[c]->pcm_rate;
		size_t n = rate / 50;
		int16_t pcm[960];
		for (int k = 0; k < NPKT; k++) {
			for (size_t i = 0; i < n; i++) {
				double t = (double)(k * n + i) / rate, v = 0;
				for (int h = 1; h <= 8; h++)
					v += sin(2 * M_PI * 180 * h * t) / h;
				v *= 0.5 + 0.5 * sin(2 * M_PI * 4 * t);
				seed = seed * 1664525u + 1013904223u;
				v += ((double)(seed >> 8) / (1 << 24) - 0.5) * 0.05;
				pcm[i] = (int16_t)(v * 4000);
			}
			int r = codec_encode(e, pcm, n, pay[c][k], sizeof(pay[c][k]));
			if (r <= 0)
				die("encode", -r);
			paylen[c][k] = (size_t)r;
		}
		codec_enc_free(e);
	}
}

static size_t packet(uint8_t *p, int leg, uint16_t seq, uint32_t ssrc)
{
	uint32_t ts = (uint32_t)seq * (leg ? 960u : 160u);
	p[0] = 0x80;
	p[1] = leg ? 111 : 0;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	for (int i = 0; i < 4; i++) {
		p[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
		p[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	}
	int k = seq % NPKT;
	memcpy(p + 12, pay[leg][k], paylen[leg][k]);
	return 12 + paylen[leg][k];
}

static void run(int ncalls, int seconds)
{
	struct bench b;
	memset(&b, 0, sizeof(b));
	int err = loop_alloc(&b.sig);
	if (err)
		die("loop", err);
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
		.opus_low_cpu = getenv("HF_OPUS_LOW_CPU") && atoi(getenv("HF_OPUS_LOW_CPU")),
		/* the daemon's default ([calls] opus_low_cpu_above) */
		.opus_low_cpu_above = getenv("HF_OPUS_AUTO") ? (uint32_t)atoi(getenv("HF_OPUS_AUTO")) : 70,
	};
	err = media_engine_alloc(&b.me, b.sig, &cfg);
	if (err)
		die("engine", err);
	b.sink.epfd = epoll_create1(0);
	b.calls = calloc((size_t)ncalls, sizeof(*b.calls));
	struct media_fmt fmt[2];
	memset(fmt, 0, sizeof(fmt));
	fmt[0].codec = &codec_pcmu;
	fmt[0].pt = 0;
	fmt[0].dtmf_pt = 101;
	fmt[1].codec = &codec_opus;
	fmt[1].pt = 111;
	fmt[1].dtmf_pt = 101;
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
			r.clock_rate = fmt[l].codec->rtp_clock;
			if ((err = media_leg_set_remote(b.me, c->id, l, &r)) ||
			    (err = media_leg_set_format(b.me, c->id, l, &fmt[l])))
				die("remote/format", err);
			struct epoll_event ev = { .events = EPOLLIN, .data.fd = c->ph[l] };
			epoll_ctl(b.sink.epfd, EPOLL_CTL_ADD, c->ph[l], &ev);
		}
		if ((err = media_call_connect(b.me, c->id)) || (err = media_call_stats(b.me, c->id)))
			die("connect", err);
	}
	run_until(&b, &b.stats_seen, ncalls);

	pthread_t rx;
	pthread_create(&rx, NULL, bench_receiver, &b.sink);
	uint8_t pkt[600];
	uint64_t sent = 0, cpu0 = 0, cpu1 = 0, t0 = 0, rx0 = 0, sent0 = 0;
	uint64_t next = mono_ns();
	/* 2 s warm-up: the worker's load is read each second, and a busy
	 * one switches its opus encoders before the measured window */
	int ticks = seconds * 50, warm = 100;
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
				size_t len = packet(pkt, l, c->seq, (uint32_t)(2 * i + l + 1));
				to.sin_port = htons(c->port[l]);
				if (sendto(c->ph[l], pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) > 0)
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
	usleep(200000);
	uint64_t rx1 = atomic_load(&b.sink.received);
	atomic_store(&b.sink.stop, true);
	pthread_join(rx, NULL);

	for (int i = 0; i < ncalls; i++)
		media_call_destroy(b.me, b.calls[i].id);
	run_until(&b, &b.destroyed, ncalls);

	double wall = (double)(t1 - t0) / 1e9;
	double cpu = (double)(cpu1 - cpu0) / 1e9;
	double pct = 100.0 * cpu / wall;
	double per_call = pct / ncalls;
	/* a worker that cannot keep up skips ticks: its CPU per call then
	 * flatters it, so below 98% of the audio out no per-core figure */
	uint64_t out = rx1 - rx0, in = sent - sent0;
	char verdict[64];
	if (out * 100 >= in * 98)
		snprintf(verdict, sizeof(verdict), "%4.0f calls per core", 100.0 / per_call);
	else
		snprintf(verdict, sizeof(verdict), "OVERLOADED: %.0f%% of audio lost",
			 100.0 - 100.0 * (double)out / (double)(in ? in : 1));
	printf("%5d opus<->PCMU calls | worker CPU %6.1f%% of a core | %5.3f%% per call |"
	       " %s | out/in in the window %llu/%llu | engine sent %llu of %llu received\n",
	       ncalls, pct, per_call, verdict, (unsigned long long)out, (unsigned long long)in,
	       (unsigned long long)b.tx_total, (unsigned long long)b.rx_total);
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
	encode_payloads();
	if (argc > 2) {
		for (int i = 2; i < argc; i++)
			run(atoi(argv[i]), seconds);
	} else {
		run(100, seconds);
		run(300, seconds);
	}
	return 0;
}
