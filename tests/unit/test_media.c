/*
 * Unit tests for the media engine (core/media) end to end: an engine with
 * two worker threads on 127.0.0.1, a port range picked at random in
 * 40000-60000, and "phones" that are plain UDP sockets in this process
 * sending real RTP. The signalling loop is a real struct loop run with
 * loop_run_once until the awaited event arrives, always with a deadline.
 * A MEDIA_EV_STATS round trip serves as a barrier: commands of a call run
 * in order, so its answer means every earlier command was applied.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../core/base/log.h"
#include "../../core/base/loop.h"
#include "../../core/media/media.h"
#include "media_test_util.h"

/* packets a new RTP source sends before it is latched (latch.c) */
#define PROBATION 4

struct tcall {
	uint32_t id;
	uint16_t port[2];
	struct mt_phone ph[2];
};

static size_t rtp_build(uint8_t *b, uint16_t seq, uint32_t ssrc, size_t plen)
{
	uint32_t ts = (uint32_t)seq * 160u;
	b[0] = 0x80;
	b[1] = 0;
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	for (int i = 0; i < 4; i++) {
		b[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
		b[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	}
	for (size_t i = 0; i < plen; i++)
		b[12 + i] = (uint8_t)(seq * 7u + i);
	return 12 + plen;
}

static void rtp_send(int fd, uint16_t port, uint16_t seq, uint32_t ssrc)
{
	uint8_t b[172];
	mt_send(fd, port, b, rtp_build(b, seq, ssrc, 160));
}

/* Receives one datagram within ms; its length, or -1. */
static ssize_t recv_within(int fd, uint8_t *b, size_t cap, int ms, uint16_t *from_port)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	if (poll(&pfd, 1, ms) <= 0)
		return -1;
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(fd, b, cap, 0, (struct sockaddr *)&from, &fl);
	if (n >= 0 && from_port)
		*from_port = ntohs(from.sin_port);
	return n;
}

/* Expects RTP packet seq from ssrc on fd, intact, sent from port src. */
static void expect_rtp(int fd, uint16_t seq, uint32_t ssrc, uint16_t src)
{
	uint8_t want[172], got[2048];
	size_t n = rtp_build(want, seq, ssrc, 160);
	uint16_t from = 0;
	ssize_t r = recv_within(fd, got, sizeof(got), 2000, &from);
	assert_int_equal(r, (ssize_t)n);
	assert_memory_equal(got, want, n);
	assert_int_equal(from, src);
}

static void expect_nothing(int fd, int ms)
{
	uint8_t b[2048];
	assert_int_equal(recv_within(fd, b, sizeof(b), ms, NULL), -1);
}

static struct media_remote remote_of(const struct mt_phone *p)
{
	struct media_remote r;
	memset(&r, 0, sizeof(r));
	memcpy(&r.rtp, &p->addr, sizeof(r.rtp));
	return r;
}

/* A connected call between two fresh phones, each signalled truthfully. */
static void call_up(struct mt *t, struct tcall *c)
{
	assert_int_equal(media_call_create(t->me, &c->id, mt_on_ev, t), 0);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(media_leg_alloc(t->me, c->id, i, &c->port[i]), 0);
		assert_true(c->port[i] >= t->lo && c->port[i] < t->hi);
		assert_int_equal(c->port[i] % 2, 0);
		mt_phone_open(&c->ph[i]);
		struct media_remote r = remote_of(&c->ph[i]);
		assert_int_equal(media_leg_set_remote(t->me, c->id, i, &r), 0);
	}
	assert_int_equal(media_call_connect(t->me, c->id), 0);
	mt_barrier(t, c->id);
}

static void phones_close(struct tcall *c)
{
	close(c->ph[0].fd);
	close(c->ph[1].fd);
}

static int setup_cfg(void **state, uint32_t timeout_ms, uint16_t nports)
{
	struct mt *t = calloc(1, sizeof(*t));
	if (!t || loop_alloc(&t->sig))
		return -1;
	t->lo = (uint16_t)(40000 + 2 * (rand() % 9900));
	t->hi = (uint16_t)(t->lo + nports - 1);
	struct media_cfg cfg = {
		.nworkers = 2,
		.rtp_min = t->lo,
		.rtp_max = t->hi,
		.bind_addr = "127.0.0.1",
		.rtp_timeout_ms = timeout_ms,
	};
	if (media_engine_alloc(&t->me, t->sig, &cfg))
		return -1;
	*state = t;
	return 0;
}

static int setup(void **state)
{
	return setup_cfg(state, 0, 200);
}

static int setup_short_timeout(void **state)
{
	return setup_cfg(state, 300, 200);
}

static int setup_small_range(void **state)
{
	return setup_cfg(state, 0, 20); /* 10 pairs */
}

static int teardown(void **state)
{
	struct mt *t = *state;
	media_engine_free(t->me);
	loop_free(t->sig);
	free(t);
	return 0;
}

/* --- tests ----------------------------------------------------------------- */

static void test_relay_both_ways(void **state)
{
	struct mt *t = *state;
	struct tcall c;
	call_up(t, &c);
	for (uint16_t s = 1; s <= 50; s++) {
		rtp_send(c.ph[0].fd, c.port[0], s, 0xa);
		expect_rtp(c.ph[1].fd, s, 0xa, c.port[1]); /* symmetric: from B's port */
		rtp_send(c.ph[1].fd, c.port[1], (uint16_t)(1000 + s), 0xb);
		expect_rtp(c.ph[0].fd, (uint16_t)(1000 + s), 0xb, c.port[0]);
	}
	/* a burst larger than one recvmmsg batch arrives whole and in order */
	for (uint16_t s = 51; s <= 150; s++)
		rtp_send(c.ph[0].fd, c.port[0], s, 0xa);
	for (uint16_t s = 51; s <= 150; s++)
		expect_rtp(c.ph[1].fd, s, 0xa, c.port[1]);
	assert_non_null(mt_wait(t, MEDIA_EV_LATCHED, c.id, 0, 1000));
	assert_non_null(mt_wait(t, MEDIA_EV_LATCHED, c.id, 1, 1000));

	/* RTCP follows its own sockets (port + 1), both ways */
	uint8_t rr[8] = { 0x80, 201, 0, 1, 0, 0, 0, 0xa };
	uint8_t got[64];
	uint16_t from = 0;
	struct mt_phone rtcp[2];
	mt_phone_open(&rtcp[0]);
	mt_phone_open(&rtcp[1]);
	/* the RTCP phones signalled explicitly (a=rtcp) */
	for (unsigned i = 0; i < 2; i++) {
		struct media_remote r = remote_of(&c.ph[i]);
		memcpy(&r.rtcp, &rtcp[i].addr, sizeof(r.rtcp));
		assert_int_equal(media_leg_set_remote(t->me, c.id, i, &r), 0);
	}
	mt_barrier(t, c.id);
	mt_send(rtcp[0].fd, (uint16_t)(c.port[0] + 1), rr, sizeof(rr));
	assert_int_equal(recv_within(rtcp[1].fd, got, sizeof(got), 2000, &from), 8);
	assert_memory_equal(got, rr, 8);
	assert_int_equal(from, c.port[1] + 1);
	rr[7] = 0xb;
	mt_send(rtcp[1].fd, (uint16_t)(c.port[1] + 1), rr, sizeof(rr));
	assert_int_equal(recv_within(rtcp[0].fd, got, sizeof(got), 2000, &from), 8);
	assert_int_equal(from, c.port[0] + 1);
	/* garbage on the RTCP port goes nowhere */
	mt_send(rtcp[0].fd, (uint16_t)(c.port[0] + 1), "hello", 5);
	expect_nothing(rtcp[1].fd, 150);

	struct media_call_stats st = mt_destroy(t, c.id);
	assert_int_equal(st.leg[0].rx_packets, 150);
	assert_int_equal(st.leg[0].rx_bytes, 150 * 172);
	assert_int_equal(st.leg[1].tx_packets, 150);
	assert_int_equal(st.leg[1].tx_bytes, 150 * 172);
	assert_int_equal(st.leg[1].rx_packets, 50);
	assert_int_equal(st.leg[0].tx_packets, 50);
	assert_int_equal(st.leg[0].lost, 0);
	assert_int_equal(st.leg[1].lost, 0);
	assert_int_equal(st.leg[0].ssrc, 0xa);
	assert_int_equal(st.leg[1].ssrc, 0xb);
	assert_true(st.leg[0].latched && st.leg[1].latched);
	assert_int_equal(st.leg[0].rtcp_rx, 1);
	assert_int_equal(st.leg[1].rtcp_tx, 1);
	assert_int_equal(st.leg[1].rtcp_rx, 1);
	assert_int_equal(st.leg[0].rx_dropped, 1); /* the garbage */
	assert_true(st.leg[0].jitter_ms >= 0);
	phones_close(&c);
	close(rtcp[0].fd);
	close(rtcp[1].fd);
}

/* Phone A signals one port (behind NAT, say) and sends from another. */
static void test_latch_other_port(void **state)
{
	struct mt *t = *state;
	struct tcall c;
	call_up(t, &c);
	struct mt_phone nat;
	mt_phone_open(&nat);
	/* before A is heard, B's audio goes to the signalled address */
	rtp_send(c.ph[1].fd, c.port[1], 1, 0xb);
	expect_rtp(c.ph[0].fd, 1, 0xb, c.port[0]);
	/* A speaks from its NAT port: on probation (dropped, not relayed)
	 * until PROBATION packets in a row came; then latched, and B's
	 * audio follows */
	for (uint16_t s = 1; s <= PROBATION; s++)
		rtp_send(nat.fd, c.port[0], s, 0xa);
	/* the first packet B gets is the one that completed probation */
	expect_rtp(c.ph[1].fd, PROBATION, 0xa, c.port[1]);
	const struct media_event *e = mt_wait(t, MEDIA_EV_LATCHED, c.id, 0, 1000);
	assert_non_null(e);
	assert_false(e->rtcp);
	assert_int_equal(ntohs(((const struct sockaddr_in *)&e->addr)->sin_port), nat.port);
	rtp_send(c.ph[1].fd, c.port[1], 2, 0xb);
	expect_rtp(nat.fd, 2, 0xb, c.port[0]);
	expect_nothing(c.ph[0].fd, 100);
	/* someone else, with another stream, while the window is open */
	struct mt_phone evil;
	mt_phone_open(&evil);
	rtp_send(evil.fd, c.port[0], 9, 0x99);
	expect_nothing(c.ph[1].fd, 150);

	/* re-INVITE moves A's media: learning starts over */
	struct mt_phone moved;
	mt_phone_open(&moved);
	struct media_remote r = remote_of(&moved);
	assert_int_equal(media_leg_set_remote(t->me, c.id, 0, &r), 0);
	mt_barrier(t, c.id);
	rtp_send(c.ph[1].fd, c.port[1], 3, 0xb);
	expect_rtp(moved.fd, 3, 0xb, c.port[0]);
	rtp_send(moved.fd, c.port[0], 1, 0xc); /* new device, new SSRC */
	expect_rtp(c.ph[1].fd, 1, 0xc, c.port[1]);

	struct media_call_stats st = mt_destroy(t, c.id);
	assert_true(st.leg[0].latched);
	assert_int_equal(ntohs(((struct sockaddr_in *)&st.leg[0].rtp_peer)->sin_port), moved.port);
	assert_int_equal(st.leg[0].rx_dropped, PROBATION - 1 + 1);
	phones_close(&c);
	close(nat.fd);
	close(moved.fd);
	close(evil.fd);
}

/* After the window closed, nobody else is heard, whatever the SSRC. */
static void test_stranger_dropped(void **state)
{
	struct mt *t = *state;
	struct tcall c;
	call_up(t, &c);
	struct mt_phone evil;
	mt_phone_open(&evil);
	rtp_send(c.ph[0].fd, c.port[0], 1, 0xa);
	expect_rtp(c.ph[1].fd, 1, 0xa, c.port[1]);
	/* inside the window, another stream is still refused */
	rtp_send(evil.fd, c.port[0], 500, 0xe);
	expect_nothing(c.ph[1].fd, 150);
	for (uint16_t s = 2; s <= 12; s++) { /* closes the window (10 pkts) */
		rtp_send(c.ph[0].fd, c.port[0], s, 0xa);
		expect_rtp(c.ph[1].fd, s, 0xa, c.port[1]);
	}
	/* now not even A's own SSRC from elsewhere */
	for (uint16_t s = 0; s < 5; s++) {
		rtp_send(evil.fd, c.port[0], (uint16_t)(13 + s), 0xa);
		rtp_send(evil.fd, c.port[0], (uint16_t)(600 + s), 0xe);
	}
	expect_nothing(c.ph[1].fd, 200);
	/* nor does it steal B's audio */
	rtp_send(c.ph[1].fd, c.port[1], 1, 0xb);
	expect_rtp(c.ph[0].fd, 1, 0xb, c.port[0]);
	expect_nothing(evil.fd, 100);
	/* A is still heard */
	rtp_send(c.ph[0].fd, c.port[0], 13, 0xa);
	expect_rtp(c.ph[1].fd, 13, 0xa, c.port[1]);
	/* nor a malformed packet from A itself */
	mt_send(c.ph[0].fd, c.port[0], "\x40\x00\x00\x01garbage", 11);
	expect_nothing(c.ph[1].fd, 100);

	struct media_call_stats st = mt_destroy(t, c.id);
	assert_int_equal(st.leg[0].rx_dropped, 1 + 10 + 1);
	assert_int_equal(st.leg[0].rx_packets, 13);
	assert_int_equal(st.leg[0].lost, 0);
	phones_close(&c);
	close(evil.fd);
}

static void test_hold(void **state)
{
	struct mt *t = *state;
	struct tcall c;
	call_up(t, &c);
	rtp_send(c.ph[0].fd, c.port[0], 1, 0xa);
	expect_rtp(c.ph[1].fd, 1, 0xa, c.port[1]);
	rtp_send(c.ph[1].fd, c.port[1], 1, 0xb);
	expect_rtp(c.ph[0].fd, 1, 0xb, c.port[0]);

	/* A holds B: B answers recvonly; B's packets go nowhere */
	assert_int_equal(media_leg_set_direction(t->me, c.id, 1, MEDIA_RECVONLY), 0);
	assert_int_equal(media_leg_set_direction(t->me, c.id, 0, MEDIA_SENDONLY), 0);
	mt_barrier(t, c.id);
	rtp_send(c.ph[1].fd, c.port[1], 2, 0xb);
	expect_nothing(c.ph[0].fd, 200);
	rtp_send(c.ph[0].fd, c.port[0], 2, 0xa); /* music on hold still flows */
	expect_rtp(c.ph[1].fd, 2, 0xa, c.port[1]);

	/* inactive: nothing either way */
	assert_int_equal(media_leg_set_direction(t->me, c.id, 1, MEDIA_INACTIVE), 0);
	mt_barrier(t, c.id);
	rtp_send(c.ph[0].fd, c.port[0], 3, 0xa);
	rtp_send(c.ph[1].fd, c.port[1], 3, 0xb);
	expect_nothing(c.ph[1].fd, 150);
	expect_nothing(c.ph[0].fd, 50);

	/* resume */
	assert_int_equal(media_leg_set_direction(t->me, c.id, 1, MEDIA_SENDRECV), 0);
	assert_int_equal(media_leg_set_direction(t->me, c.id, 0, MEDIA_SENDRECV), 0);
	mt_barrier(t, c.id);
	rtp_send(c.ph[1].fd, c.port[1], 4, 0xb);
	expect_rtp(c.ph[0].fd, 4, 0xb, c.port[0]);
	rtp_send(c.ph[0].fd, c.port[0], 4, 0xa);
	expect_rtp(c.ph[1].fd, 4, 0xa, c.port[1]);

	struct media_call_stats st = mt_destroy(t, c.id);
	/* held packets were received (and counted), just not relayed */
	assert_int_equal(st.leg[1].rx_packets, 4);
	assert_int_equal(st.leg[0].tx_packets, 2);
	assert_int_equal(st.leg[0].rx_packets, 4);
	assert_int_equal(st.leg[1].tx_packets, 3);
	assert_int_equal(media_leg_set_direction(t->me, c.id, 0, MEDIA_SENDRECV), ENOENT);
	phones_close(&c);
}

static void test_rtp_timeout(void **state)
{
	struct mt *t = *state; /* 300 ms */
	struct tcall c;
	uint64_t t0 = mt_now_ms();
	call_up(t, &c);
	/* A keeps talking every 50 ms, B is silent: only B times out */
	const struct media_event *e = NULL;
	for (uint16_t s = 1; s <= 30 && !e; s++) {
		rtp_send(c.ph[0].fd, c.port[0], s, 0xa);
		e = mt_wait(t, MEDIA_EV_RTP_TIMEOUT, c.id, -1, 50);
	}
	assert_non_null(e);
	assert_int_equal(e->leg, 1);
	assert_true(mt_now_ms() - t0 >= 280);
	/* A stops: A times out too, once */
	assert_non_null(mt_wait(t, MEDIA_EV_RTP_TIMEOUT, c.id, 0, 2000));
	assert_null(mt_wait(t, MEDIA_EV_RTP_TIMEOUT, c.id, -1, 500));
	/* A resumes, then stops again: watched again */
	rtp_send(c.ph[0].fd, c.port[0], 100, 0xa);
	assert_non_null(mt_wait(t, MEDIA_EV_RTP_TIMEOUT, c.id, 0, 2000));
	mt_destroy(t, c.id);
	phones_close(&c);

	/* on hold, silence is expected: no timeout */
	struct tcall h;
	assert_int_equal(media_call_create(t->me, &h.id, mt_on_ev, t), 0);
	assert_int_equal(media_leg_alloc(t->me, h.id, 0, &h.port[0]), 0);
	assert_int_equal(media_leg_alloc(t->me, h.id, 1, &h.port[1]), 0);
	assert_int_equal(media_leg_set_direction(t->me, h.id, 0, MEDIA_SENDONLY), 0);
	assert_int_equal(media_leg_set_direction(t->me, h.id, 1, MEDIA_INACTIVE), 0);
	assert_int_equal(media_call_connect(t->me, h.id), 0);
	assert_null(mt_wait(t, MEDIA_EV_RTP_TIMEOUT, h.id, -1, 800));
	/* off hold: the timeout is back */
	assert_int_equal(media_leg_set_direction(t->me, h.id, 1, MEDIA_SENDRECV), 0);
	assert_non_null(mt_wait(t, MEDIA_EV_RTP_TIMEOUT, h.id, 1, 2000));
	assert_null(mt_wait(t, MEDIA_EV_RTP_TIMEOUT, h.id, 0, 300));
	/* destroy right after a timeout: only DESTROYED reaches us */
	mt_destroy(t, h.id);
}

static void test_stats_loss(void **state)
{
	struct mt *t = *state;
	struct tcall c;
	call_up(t, &c);
	for (uint16_t s = 100; s < 110; s++) {
		if (s == 105)
			continue; /* lost on the way */
		rtp_send(c.ph[0].fd, c.port[0], s, 0xa);
		expect_rtp(c.ph[1].fd, s, 0xa, c.port[1]);
	}
	assert_int_equal(media_call_stats(t->me, c.id), 0);
	const struct media_event *e = mt_wait(t, MEDIA_EV_STATS, c.id, -1, 2000);
	assert_non_null(e);
	assert_int_equal(e->stats.leg[0].rx_packets, 9);
	assert_int_equal(e->stats.leg[0].lost, 1);
	/* a late 105 arrives after all */
	rtp_send(c.ph[0].fd, c.port[0], 105, 0xa);
	expect_rtp(c.ph[1].fd, 105, 0xa, c.port[1]);
	rtp_send(c.ph[0].fd, c.port[0], 112, 0xa); /* 110, 111 lost */
	expect_rtp(c.ph[1].fd, 112, 0xa, c.port[1]);
	struct media_call_stats st = mt_destroy(t, c.id);
	assert_int_equal(st.leg[0].rx_packets, 11);
	assert_int_equal(st.leg[0].lost, 2);
	assert_int_equal(st.leg[1].tx_packets, 11);
	assert_int_equal(st.leg[1].rx_packets, 0);
	assert_int_equal(st.leg[1].lost, 0);
	assert_true(st.duration_ms < 60000);
	phones_close(&c);
}

/* Allocate and free many times: no pair leaks, all come back. */
static void test_ports_reused(void **state)
{
	struct mt *t = *state; /* 10 pairs */
	for (int round = 0; round < 60; round++) {
		uint32_t id;
		uint16_t p0, p1;
		assert_int_equal(media_call_create(t->me, &id, mt_on_ev, t), 0);
		assert_int_equal(media_leg_alloc(t->me, id, 0, &p0), 0);
		assert_int_equal(media_leg_alloc(t->me, id, 1, &p1), 0);
		assert_int_not_equal(p0, p1);
		if (round % 3 == 0)
			assert_int_equal(media_call_connect(t->me, id), 0);
		assert_int_equal(media_engine_ports_in_use(t->me), 2);
		mt_destroy(t, id);
		assert_int_equal(media_engine_ports_in_use(t->me), 0);
	}
	assert_int_equal(media_engine_calls(t->me), 0);

	/* fill the range; another process may by chance hold a pair */
	uint32_t ids[10];
	int nports = 0, ncalls = 0;
	uint16_t p;
	int err = 0;
	while (!err && ncalls < 10) {
		assert_int_equal(media_call_create(t->me, &ids[ncalls], mt_on_ev, t), 0);
		ncalls++;
		for (unsigned l = 0; l < 2 && !err; l++) {
			err = media_leg_alloc(t->me, ids[ncalls - 1], l, &p);
			if (!err)
				nports++;
		}
	}
	assert_int_equal(err, ENOSPC);
	assert_true(nports >= 8 && nports <= 10);
	assert_int_equal(media_engine_ports_in_use(t->me), nports);
	/* a pair still in use is never handed out; after destroy it is */
	mt_destroy(t, ids[0]);
	assert_int_equal(media_engine_ports_in_use(t->me), nports - 2);
	assert_int_equal(media_leg_alloc(t->me, ids[ncalls - 1], 1, &p), 0);
	for (int i = 1; i < ncalls; i++)
		mt_destroy(t, ids[i]);
	assert_int_equal(media_engine_ports_in_use(t->me), 0);
	assert_int_equal(media_engine_calls(t->me), 0);
}

static void test_api_errors(void **state)
{
	struct mt *t = *state;
	uint32_t id;
	uint16_t p;
	struct media_remote r;
	memset(&r, 0, sizeof(r));
	assert_int_equal(media_leg_alloc(t->me, 12345, 0, &p), ENOENT);
	assert_int_equal(media_call_connect(t->me, 12345), ENOENT);
	assert_int_equal(media_call_destroy(t->me, 12345), ENOENT);
	assert_int_equal(media_call_stats(NULL, 1), ENOENT);
	assert_int_equal(media_call_create(t->me, NULL, mt_on_ev, t), EINVAL);
	assert_int_equal(media_call_create(t->me, &id, mt_on_ev, t), 0);
	assert_int_equal(media_leg_alloc(t->me, id, 2, &p), EINVAL);
	assert_int_equal(media_call_connect(t->me, id), ENOTCONN);
	assert_int_equal(media_leg_alloc(t->me, id, 0, &p), 0);
	assert_int_equal(media_leg_alloc(t->me, id, 0, &p), EALREADY);
	assert_int_equal(media_call_connect(t->me, id), ENOTCONN);
	r.rtp.ss_family = AF_INET6;
	assert_int_equal(media_leg_set_remote(t->me, id, 0, &r), EAFNOSUPPORT);
	r.rtp.ss_family = AF_INET; /* port 0 */
	assert_int_equal(media_leg_set_remote(t->me, id, 0, &r), EINVAL);
	assert_int_equal(media_leg_set_direction(t->me, id, 0, (enum media_dir)9), EINVAL);
	assert_int_equal(media_call_destroy(t->me, id), 0);
	assert_int_equal(media_call_destroy(t->me, id), ENOENT);
	assert_int_equal(media_call_stats(t->me, id), ENOENT);
	assert_non_null(mt_wait(t, MEDIA_EV_DESTROYED, id, -1, 2000));

	struct media_engine *me;
	struct media_cfg bad = { .rtp_min = 20000, .rtp_max = 20000 };
	assert_int_equal(media_engine_alloc(&me, t->sig, &bad), EINVAL);
	bad = (struct media_cfg){ .rtp_min = 20000, .rtp_max = 20100, .bind_addr = "nope" };
	assert_int_equal(media_engine_alloc(&me, t->sig, &bad), EINVAL);
	assert_int_equal(media_engine_alloc(&me, NULL, &bad), EINVAL);
	assert_int_equal(media_engine_nworkers(t->me), 2);
	uint64_t ns;
	assert_int_equal(media_engine_worker_cpu_ns(t->me, 1, &ns), 0);
	assert_int_equal(media_engine_worker_cpu_ns(t->me, 2, &ns), EINVAL);
	assert_string_equal(media_dir_name(MEDIA_RECVONLY), "recvonly");
}

/* Calls spread over the workers and run at the same time. */
static void test_many_calls(void **state)
{
	struct mt *t = *state;
	enum { N = 8 };
	struct tcall c[N];
	for (int i = 0; i < N; i++)
		call_up(t, &c[i]);
	for (uint16_t s = 1; s <= 20; s++)
		for (int i = 0; i < N; i++) {
			rtp_send(c[i].ph[0].fd, c[i].port[0], s, (uint32_t)i);
			rtp_send(c[i].ph[1].fd, c[i].port[1], s, (uint32_t)(100 + i));
		}
	for (int i = 0; i < N; i++)
		for (uint16_t s = 1; s <= 20; s++) {
			expect_rtp(c[i].ph[1].fd, s, (uint32_t)i, c[i].port[1]);
			expect_rtp(c[i].ph[0].fd, s, (uint32_t)(100 + i), c[i].port[0]);
		}
	for (int i = 0; i < N; i++) {
		struct media_call_stats st = mt_destroy(t, c[i].id);
		assert_int_equal(st.leg[0].tx_packets, 20);
		assert_int_equal(st.leg[1].tx_packets, 20);
		phones_close(&c[i]);
	}
}

/* The engine freed from inside a signalling-loop handler, with commands
 * still queued: posts made from a handler wake their target only when the
 * iteration ends, so freeing must not wait on that wake (no deadlock), and
 * the queued commands still run (ASan: no leaked sockets or commands). */
static void free_in_handler(void *arg)
{
	struct mt *t = arg;
	uint32_t id;
	uint16_t p;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(media_call_create(t->me, &id, mt_on_ev, t), 0);
		assert_int_equal(media_leg_alloc(t->me, id, 0, &p), 0);
		assert_int_equal(media_leg_alloc(t->me, id, 1, &p), 0);
		assert_int_equal(media_call_connect(t->me, id), 0);
	}
	media_engine_free(t->me);
	t->me = NULL;
}

static void test_free_from_handler(void **state)
{
	/* The posts made in the handler leave the signalling loop a deferred
	 * wake-up of each worker loop; loop_free() must scrub them, or they
	 * are flushed into freed loops after the handler returns. It hangs
	 * without the engine's own stop fix. */
	struct mt *t = *state;
	struct tcall c;
	call_up(t, &c);
	assert_int_equal(loop_post(t->sig, free_in_handler, t), 0);
	uint64_t end = mt_now_ms() + 5000;
	while (t->me && mt_now_ms() < end)
		loop_run_once(t->sig, 50);
	assert_null(t->me);
	phones_close(&c);
}

/* The same relay over IPv6 (skipped where ::1 is unavailable). */
static void test_ipv6(void **state)
{
	(void)state;
	int probe = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	if (probe < 0 || bind(probe, (struct sockaddr *)&a6, sizeof(a6)) < 0) {
		if (probe >= 0)
			close(probe);
		skip();
	}
	close(probe);
	struct loop *sig;
	struct media_engine *me;
	assert_int_equal(loop_alloc(&sig), 0);
	uint16_t lo = (uint16_t)(40000 + 2 * (rand() % 9900));
	struct media_cfg cfg = { .nworkers = 1, .rtp_min = lo, .rtp_max = (uint16_t)(lo + 99),
				 .bind_addr = "::1" };
	assert_int_equal(media_engine_alloc(&me, sig, &cfg), 0);
	struct mt t = { .sig = sig, .me = me };
	uint32_t id;
	uint16_t port[2];
	int ph[2];
	assert_int_equal(media_call_create(me, &id, mt_on_ev, &t), 0);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(media_leg_alloc(me, id, i, &port[i]), 0);
		ph[i] = socket(AF_INET6, SOCK_DGRAM, 0);
		assert_int_equal(bind(ph[i], (struct sockaddr *)&a6, sizeof(a6)), 0);
		struct media_remote r;
		memset(&r, 0, sizeof(r));
		socklen_t len = sizeof(r.rtp);
		getsockname(ph[i], (struct sockaddr *)&r.rtp, &len);
		assert_int_equal(media_leg_set_remote(me, id, i, &r), 0);
	}
	struct media_remote v4 = remote_of(&(struct mt_phone){ .addr = { .ss_family = AF_INET } });
	assert_int_equal(media_leg_set_remote(me, id, 0, &v4), EAFNOSUPPORT);
	assert_int_equal(media_call_connect(me, id), 0);
	mt_barrier(&t, id);
	uint8_t b[172], got[256];
	size_t n = rtp_build(b, 7, 0x6, 160);
	struct sockaddr_in6 to = a6;
	to.sin6_port = htons(port[0]);
	assert_int_equal(sendto(ph[0], b, n, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)n);
	assert_int_equal(recv_within(ph[1], got, sizeof(got), 2000, NULL), (ssize_t)n);
	assert_memory_equal(got, b, n);
	to.sin6_port = htons(port[1]);
	assert_int_equal(sendto(ph[1], b, n, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)n);
	assert_int_equal(recv_within(ph[0], got, sizeof(got), 2000, NULL), (ssize_t)n);
	struct media_call_stats st = mt_destroy(&t, id);
	assert_int_equal(st.leg[0].rx_packets, 1);
	assert_int_equal(st.leg[0].tx_packets, 1);
	assert_int_equal(st.leg[0].rtp_peer.ss_family, AF_INET6);
	close(ph[0]);
	close(ph[1]);
	media_engine_free(me);
	loop_free(sig);
}

/* Freeing the engine with live calls and undelivered events leaks nothing
 * (ASan checks). */
static void test_free_with_live_calls(void **state)
{
	struct mt *t = *state;
	struct tcall c[3];
	for (int i = 0; i < 3; i++)
		call_up(t, &c[i]);
	for (int i = 0; i < 3; i++)
		rtp_send(c[i].ph[0].fd, c[i].port[0], 1, 1);
	expect_rtp(c[2].ph[1].fd, 1, 1, c[2].port[1]);
	/* a destroy and some commands still in flight */
	assert_int_equal(media_call_destroy(t->me, c[0].id), 0);
	assert_int_equal(media_call_stats(t->me, c[1].id), 0);
	uint32_t id;
	uint16_t p;
	assert_int_equal(media_call_create(t->me, &id, mt_on_ev, t), 0);
	assert_int_equal(media_leg_alloc(t->me, id, 0, &p), 0);
	media_engine_free(t->me);
	t->me = NULL;
	for (int i = 0; i < 3; i++)
		phones_close(&c[i]);
}

int main(void)
{
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	log_set_level(LOG_WARN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_relay_both_ways, setup, teardown),
		cmocka_unit_test_setup_teardown(test_latch_other_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stranger_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rtp_timeout, setup_short_timeout, teardown),
		cmocka_unit_test_setup_teardown(test_stats_loss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ports_reused, setup_small_range, teardown),
		cmocka_unit_test_setup_teardown(test_api_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_with_live_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_from_handler, setup, teardown),
		cmocka_unit_test(test_ipv6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
