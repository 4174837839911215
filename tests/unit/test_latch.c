/*
 * Unit tests for latching (core/media/rtp/latch.c), the guard against RTP
 * bleed: a stranger's packets during the latching window must not take a
 * leg. Each case feeds latch_check packets with exact sources, SSRCs,
 * sequence numbers, payload types and times, and checks each verdict.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "../../core/media/media_int.h"

static struct sockaddr_storage sa4(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	inet_pton(AF_INET, ip, &a->sin_addr);
	return ss;
}

static struct latch_hint hint;
static uint32_t pcmu_te[4]; /* PT 0 and 101 */

static enum latch_res rtp(struct latch *l, const struct sockaddr_storage *src, uint32_t ssrc,
			  uint16_t seq, uint8_t pt, uint64_t now)
{
	struct latch_pkt p = { .src = src, .ssrc = ssrc, .seq = seq, .pt = pt };
	return latch_check(l, &p, &hint, now);
}

static enum latch_res rtcp(struct latch *l, const struct sockaddr_storage *src, uint32_t ssrc,
			   uint64_t now)
{
	struct latch_pkt p = { .src = src, .ssrc = ssrc, .rtcp = true };
	return latch_check(l, &p, &hint, now);
}

static struct sockaddr_storage sig, nat, nat2, evil, evil2, peer;

static int setup(void **state)
{
	(void)state;
	sig = sa4("192.168.1.10", 4000);   /* what the phone's SDP says */
	nat = sa4("203.0.113.5", 31000);   /* where its RTP comes from */
	nat2 = sa4("203.0.113.5", 31002);  /* ... after a NAT rebinding */
	peer = sa4("203.0.113.5", 5060);   /* where its SIP comes from */
	evil = sa4("198.51.100.66", 5000);
	evil2 = sa4("198.51.100.66", 5002);
	memset(pcmu_te, 0, sizeof(pcmu_te));
	pcmu_te[0] = 1u;              /* PCMU */
	pcmu_te[101 / 32] |= 1u << (101 % 32);
	hint = (struct latch_hint){ .sig = &sig, .peer = &peer, .pts = pcmu_te };
	return 0;
}

/* Not connected: the window never opened, nothing latches. */
static void test_closed_until_connected(void **state)
{
	(void)state;
	struct latch l;
	memset(&l, 0, sizeof(l));
	for (uint16_t i = 0; i < 10; i++)
		assert_int_equal(rtp(&l, &nat, 1, i, 0, i), LATCH_DROP);
	assert_false(l.latched);
}

/* The finding: one packet from a stranger used to take the leg. Now
 * the first LATCH_PROBATION - 1 packets of any source are dropped and
 * the one that completes probation latches. */
static void test_probation(void **state)
{
	(void)state;
	assert_int_equal(LATCH_PROBATION, 4);
	struct latch l;
	memset(&l, 0, sizeof(l));
	latch_open(&l, 1000, 2000, 10);
	assert_int_equal(rtp(&l, &evil, 9, 500, 0, 1000), LATCH_DROP);
	assert_false(l.latched);
	/* the phone, 200 ms later (the stranger's candidacy went stale) */
	assert_int_equal(rtp(&l, &nat, 1, 100, 0, 1200), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 1, 101, 0, 1220), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 1, 102, 0, 1240), LATCH_DROP);
	assert_false(l.latched);
	assert_int_equal(rtp(&l, &nat, 1, 103, 0, 1260), LATCH_NEW);
	assert_true(l.latched);
	assert_true(media_sa_equal(&l.addr, &nat));
	assert_int_equal(l.ssrc, 1);
	assert_int_equal(rtp(&l, &nat, 1, 104, 0, 1280), LATCH_OK);
	/* the stranger, inside the window: refused */
	assert_int_equal(rtp(&l, &evil, 9, 501, 0, 1290), LATCH_DROP);
	assert_int_equal(rtp(&l, &evil, 1, 105, 0, 1295), LATCH_DROP);
	assert_true(media_sa_equal(&l.addr, &nat));
}

/* Probation wants consecutive sequence numbers, one SSRC and a
 * negotiated payload type. */
static void test_probation_rules(void **state)
{
	(void)state;
	struct latch l;
	memset(&l, 0, sizeof(l));
	latch_open(&l, 0, 2000, 10);
	/* a gap starts over: 10, 11, 13 (1 in a row), 14, 15, 16 -> latched */
	assert_int_equal(rtp(&l, &nat, 1, 10, 0, 0), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 1, 11, 0, 1), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 1, 13, 0, 2), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 1, 14, 0, 3), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 1, 15, 0, 4), LATCH_DROP);
	assert_int_equal(l.cand_n, 3);
	assert_int_equal(rtp(&l, &nat, 1, 16, 0, 5), LATCH_NEW);

	/* another SSRC starts over */
	memset(&l, 0, sizeof(l));
	latch_open(&l, 0, 2000, 10);
	assert_int_equal(rtp(&l, &nat, 1, 10, 0, 0), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 1, 11, 0, 1), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 2, 12, 0, 2), LATCH_DROP);
	assert_int_equal(l.cand_n, 1);
	assert_int_equal(l.cand_ssrc, 2);

	/* a payload type the leg did not negotiate never counts, and never
	 * takes the candidate's place */
	memset(&l, 0, sizeof(l));
	latch_open(&l, 0, 2000, 10);
	for (uint16_t i = 0; i < 10; i++)
		assert_int_equal(rtp(&l, &nat, 1, i, 8, i), LATCH_DROP);
	assert_int_equal(l.cand_n, 0);
	assert_false(l.latched);
	/* telephone-event (101) is negotiated and counts; sequence wraps */
	assert_int_equal(rtp(&l, &nat, 1, 65534, 101, 20), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 1, 65535, 0, 21), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 1, 0, 0, 22), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 1, 1, 101, 23), LATCH_NEW);

	/* no payload types known (all-zero mask): any counts */
	uint32_t none[4] = { 0 };
	hint.pts = none;
	memset(&l, 0, sizeof(l));
	latch_open(&l, 0, 2000, 10);
	for (uint16_t i = 0; i < 3; i++)
		assert_int_equal(rtp(&l, &nat, 1, i, 8, i), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 1, 3, 8, 3), LATCH_NEW);
}

/* One source on probation at a time: a stranger interleaving packets
 * neither resets the phone's probation nor takes its place; a stale
 * candidate gives way; the SIP peer's host displaces a stranger. */
static void test_candidates(void **state)
{
	(void)state;
	struct latch l;
	memset(&l, 0, sizeof(l));
	latch_open(&l, 0, 2000, 10);
	/* the phone first, the stranger interleaved: the phone wins */
	assert_int_equal(rtp(&l, &nat, 1, 10, 0, 0), LATCH_DROP);
	assert_int_equal(rtp(&l, &evil, 9, 70, 0, 5), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 1, 11, 0, 20), LATCH_DROP);
	assert_int_equal(rtp(&l, &evil, 9, 71, 0, 25), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 1, 12, 0, 40), LATCH_DROP);
	assert_int_equal(rtp(&l, &evil, 9, 72, 0, 45), LATCH_DROP);
	assert_int_equal(rtp(&l, &evil, 9, 73, 0, 46), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 1, 13, 0, 60), LATCH_NEW);
	assert_true(media_sa_equal(&l.addr, &nat));

	/* a stranger first, on another host than the SIP peer: the phone
	 * (on the SIP peer's host) takes its place at once */
	memset(&l, 0, sizeof(l));
	latch_open(&l, 0, 2000, 10);
	assert_int_equal(rtp(&l, &evil, 9, 70, 0, 0), LATCH_DROP);
	assert_int_equal(rtp(&l, &evil, 9, 71, 0, 1), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 1, 10, 0, 2), LATCH_DROP);
	assert_true(media_sa_equal(&l.cand, &nat));
	assert_true(l.cand_pref);
	/* ... and the stranger cannot take it back while it is live */
	assert_int_equal(rtp(&l, &evil, 9, 72, 0, 3), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 1, 11, 0, 22), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 1, 12, 0, 42), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 1, 13, 0, 62), LATCH_NEW);

	/* a stranger on the same host (no preference possible): its one
	 * packet holds the place for LATCH_CAND_STALE_MS, then the phone
	 * gets it */
	hint.peer = NULL;
	memset(&l, 0, sizeof(l));
	latch_open(&l, 0, 2000, 10);
	assert_int_equal(rtp(&l, &evil, 9, 70, 0, 0), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 1, 10, 0, LATCH_CAND_STALE_MS - 1), LATCH_DROP);
	assert_true(media_sa_equal(&l.cand, &evil));
	assert_int_equal(rtp(&l, &nat, 1, 11, 0, LATCH_CAND_STALE_MS), LATCH_DROP);
	assert_true(media_sa_equal(&l.cand, &nat));
	assert_int_equal(rtp(&l, &nat, 1, 12, 0, LATCH_CAND_STALE_MS + 20), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 1, 13, 0, LATCH_CAND_STALE_MS + 40), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 1, 14, 0, LATCH_CAND_STALE_MS + 60), LATCH_NEW);
}

/* The signalled address itself is latched at once (not behind NAT),
 * even over an earlier latch, while the window is open. */
static void test_signalled_at_once(void **state)
{
	(void)state;
	struct latch l;
	memset(&l, 0, sizeof(l));
	latch_open(&l, 0, 2000, 10);
	assert_int_equal(rtp(&l, &sig, 1, 7, 0, 1), LATCH_NEW);
	assert_true(media_sa_equal(&l.addr, &sig));

	memset(&l, 0, sizeof(l));
	latch_open(&l, 0, 2000, 10);
	for (uint16_t i = 0; i < 4; i++)
		rtp(&l, &nat, 1, i, 0, i);
	assert_true(media_sa_equal(&l.addr, &nat));
	assert_int_equal(rtp(&l, &sig, 5, 900, 0, 10), LATCH_NEW);
	assert_true(media_sa_equal(&l.addr, &sig));
	assert_int_equal(rtp(&l, &nat, 1, 5, 0, 11), LATCH_DROP);
}

/* Mid-call (window closed): another source only once the latched one has
 * been quiet LATCH_QUIET_MS, with the latched SSRC, after probation. */
static void test_relatch_mid_call(void **state)
{
	(void)state;
	struct latch l;
	memset(&l, 0, sizeof(l));
	latch_open(&l, 0, 2000, 5);
	uint64_t t = 0;
	uint16_t seq = 0;
	for (int i = 0; i < 4; i++, t += 20)
		rtp(&l, &nat, 1, seq++, 0, t);
	assert_true(l.latched);
	for (int i = 0; i < 5; i++, t += 20)
		assert_int_equal(rtp(&l, &nat, 1, seq++, 0, t), LATCH_OK);
	assert_false(l.open); /* five packets once latched: closed */
	uint64_t last = t - 20;

	/* the same stream from the new NAT port while the old one still
	 * talks: refused */
	for (int i = 0; i < 6; i++)
		assert_int_equal(rtp(&l, &nat2, 1, (uint16_t)(seq + i), 0, last + 10 + (uint64_t)i),
				 LATCH_DROP);
	/* the old one goes quiet; a stranger's stream is refused for its
	 * SSRC however long it probes */
	t = last + LATCH_QUIET_MS;
	for (uint16_t i = 0; i < 8; i++)
		assert_int_equal(rtp(&l, &evil, 9, (uint16_t)(300 + i), 0, t + i), LATCH_DROP);
	/* the phone's stream from nat2: probation, then latched */
	t += 200;
	assert_int_equal(rtp(&l, &nat2, 1, seq, 0, t), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat2, 1, (uint16_t)(seq + 1), 0, t + 20), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat2, 1, (uint16_t)(seq + 2), 0, t + 40), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat2, 1, (uint16_t)(seq + 3), 0, t + 60), LATCH_NEW);
	assert_true(media_sa_equal(&l.addr, &nat2));
	assert_int_equal(rtp(&l, &nat, 1, 0, 0, t + 70), LATCH_DROP);
	/* the latched phone may change its SSRC (hold, re-INVITE) */
	assert_int_equal(rtp(&l, &nat2, 77, 0, 0, t + 80), LATCH_OK);
	assert_int_equal(l.ssrc, 77);
	/* the signalled address is not trusted mid-call either */
	assert_int_equal(rtp(&l, &sig, 77, 1, 0, t + 90), LATCH_DROP);

	/* inside the window (a re-INVITE reopened it) the SSRC may differ,
	 * but the old source must still be quiet */
	latch_open(&l, t + 100, 2000, 10);
	assert_int_equal(rtp(&l, &nat2, 77, 1, 0, t + 100), LATCH_OK);
	for (uint16_t i = 0; i < 6; i++)
		assert_int_equal(rtp(&l, &nat, 5, i, 0, t + 101 + i), LATCH_DROP);
	t += 100 + LATCH_QUIET_MS;
	for (uint16_t i = 0; i < 3; i++)
		assert_int_equal(rtp(&l, &nat, 5, (uint16_t)(10 + i), 0, t + i), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 5, 13, 0, t + 3), LATCH_NEW);
}

/* The window closes by packets or by time; until a latch it stays open;
 * a re-INVITE resets it. */
static void test_window(void **state)
{
	(void)state;
	struct latch l;
	memset(&l, 0, sizeof(l));
	latch_open(&l, 0, 2000, 100);
	for (uint16_t i = 0; i < 4; i++)
		rtp(&l, &nat, 1, i, 0, 10 + i);
	assert_true(l.latched && l.open);
	assert_int_equal(rtp(&l, &nat, 1, 4, 0, 2500), LATCH_OK);
	assert_false(l.open);

	/* nothing heard in the window: it waits for the first source */
	memset(&l, 0, sizeof(l));
	latch_open(&l, 0, 2000, 10);
	for (uint16_t i = 0; i < 3; i++)
		assert_int_equal(rtp(&l, &nat, 1, i, 0, 60000 + i), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 1, 3, 0, 60003), LATCH_NEW);
	assert_false(l.open);

	latch_reset(&l);
	assert_false(l.latched);
	assert_int_equal(l.cand_n, 0);
	latch_open(&l, 70000, 2000, 10);
	assert_int_equal(rtp(&l, &sig, 3, 0, 0, 70001), LATCH_NEW);
}

/* RTCP follows the host of the latched RTP source (or the signalled
 * address); a stranger's RTCP never latches. */
static void test_rtcp(void **state)
{
	(void)state;
	struct latch l, lr;
	memset(&l, 0, sizeof(l));
	memset(&lr, 0, sizeof(lr));
	struct sockaddr_storage rtcp_sig = sa4("192.168.1.10", 4001);
	struct sockaddr_storage nat_rtcp = sa4("203.0.113.5", 31001);
	hint.sig = &rtcp_sig;
	hint.rtp = NULL;
	latch_open(&lr, 0, 2000, 10);
	/* no RTP latched yet: only the signalled RTCP address */
	assert_int_equal(rtcp(&lr, &nat_rtcp, 1, 1), LATCH_DROP);
	assert_int_equal(rtcp(&lr, &evil, 9, 2), LATCH_DROP);
	/* RTP latched on nat: RTCP from its host is taken, a stranger's not */
	hint.rtp = &nat;
	assert_int_equal(rtcp(&lr, &evil, 9, 3), LATCH_DROP);
	assert_int_equal(rtcp(&lr, &nat_rtcp, 1, 4), LATCH_NEW);
	assert_int_equal(rtcp(&lr, &nat_rtcp, 1, 5), LATCH_OK);
	/* another port of that host: only once the first is quiet */
	struct sockaddr_storage nat_rtcp2 = sa4("203.0.113.5", 31003);
	assert_int_equal(rtcp(&lr, &nat_rtcp2, 1, 100), LATCH_DROP);
	assert_int_equal(rtcp(&lr, &nat_rtcp2, 1, 5 + LATCH_QUIET_MS), LATCH_NEW);
	/* the RTP moved to another host: RTCP from there follows at once */
	struct sockaddr_storage moved = sa4("203.0.113.77", 40000);
	struct sockaddr_storage moved_rtcp = sa4("203.0.113.77", 40001);
	hint.rtp = &moved;
	assert_int_equal(rtcp(&lr, &evil2, 9, 600), LATCH_DROP);
	assert_int_equal(rtcp(&lr, &moved_rtcp, 1, 601), LATCH_NEW);
	(void)l;
}

/* A stranger on another host who got through probation first (a burst
 * to the right port) loses the leg to the SIP peer's host as soon as the
 * phone passes probation, whatever its SSRC and with the stranger still
 * sending; a stranger cannot do the same to the phone. */
static void test_peer_host_wins_back(void **state)
{
	(void)state;
	struct latch l;
	memset(&l, 0, sizeof(l));
	latch_open(&l, 0, 2000, 3);
	for (uint16_t i = 0; i < 3; i++)
		assert_int_equal(rtp(&l, &evil, 9, (uint16_t)(50 + i), 0, i), LATCH_DROP);
	assert_int_equal(rtp(&l, &evil, 9, 53, 0, 3), LATCH_NEW);
	assert_int_equal(rtp(&l, &evil, 9, 54, 0, 4), LATCH_OK);
	assert_int_equal(rtp(&l, &evil, 9, 55, 0, 5), LATCH_OK);
	assert_false(l.open);
	assert_int_equal(rtp(&l, &nat, 1, 10, 0, 20), LATCH_DROP);
	assert_int_equal(rtp(&l, &evil, 9, 56, 0, 21), LATCH_OK);
	assert_int_equal(rtp(&l, &nat, 1, 11, 0, 40), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 1, 12, 0, 60), LATCH_DROP);
	assert_int_equal(rtp(&l, &nat, 1, 13, 0, 80), LATCH_NEW);
	assert_true(media_sa_equal(&l.addr, &nat));
	/* and not back again */
	for (uint16_t i = 0; i < 8; i++)
		assert_int_equal(rtp(&l, &evil, 9, (uint16_t)(57 + i), 0, 81 + i), LATCH_DROP);
	assert_true(media_sa_equal(&l.addr, &nat));
}

/* A stray packet now and then never adds up to probation: a candidate
 * silent for LATCH_CAND_STALE_MS starts over. */
static void test_stray_packets(void **state)
{
	(void)state;
	struct latch l;
	memset(&l, 0, sizeof(l));
	latch_open(&l, 0, 2000, 10);
	for (uint16_t i = 0; i < 40; i++)
		assert_int_equal(rtp(&l, &evil, 9, i, 0, (uint64_t)i * LATCH_CAND_STALE_MS), LATCH_DROP);
	assert_false(l.latched);
	assert_int_equal(l.cand_n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_closed_until_connected, setup),
		cmocka_unit_test_setup(test_probation, setup),
		cmocka_unit_test_setup(test_probation_rules, setup),
		cmocka_unit_test_setup(test_candidates, setup),
		cmocka_unit_test_setup(test_signalled_at_once, setup),
		cmocka_unit_test_setup(test_relatch_mid_call, setup),
		cmocka_unit_test_setup(test_window, setup),
		cmocka_unit_test_setup(test_rtcp, setup),
		cmocka_unit_test_setup(test_peer_host_wins_back, setup),
		cmocka_unit_test_setup(test_stray_packets, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
