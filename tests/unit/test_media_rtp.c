/*
 * Unit tests for the media engine's pure parts: the RTP/RTCP parser
 * (core/media/rtp/rtp.c), RFC 3550 receiver statistics (rtp_stats.c), the
 * latching rules (latch.c) and the port-pair allocator (port.c, which binds
 * real sockets on 127.0.0.1 in a random range of 40000-60000).
 * test_media.c drives the whole engine with real UDP phones.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../core/media/media_int.h"
#include "../../core/media/rtp/rtp.h"

static size_t rtp_build(uint8_t *b, uint16_t seq, uint32_t ts, uint32_t ssrc, size_t plen)
{
	b[0] = 0x80;
	b[1] = 0;
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	for (int i = 0; i < 4; i++) {
		b[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
		b[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	}
	for (size_t i = 0; i < plen; i++)
		b[12 + i] = (uint8_t)(i * 3);
	return 12 + plen;
}

/* --- RTP parser ------------------------------------------------------------ */

static void test_rtp_basic(void **state)
{
	(void)state;
	uint8_t b[200];
	struct rtp_hdr h;
	size_t n = rtp_build(b, 0x1234, 0xdeadbeef, 0x01020304, 160);
	b[1] = 0x80 | 8; /* marker, PCMA */
	assert_int_equal(rtp_hdr_parse(&h, b, n), 0);
	assert_int_equal(h.seq, 0x1234);
	assert_int_equal(h.ts, 0xdeadbeef);
	assert_int_equal(h.ssrc, 0x01020304);
	assert_int_equal(h.pt, 8);
	assert_true(h.marker);
	assert_int_equal(h.hdr_len, 12);
	assert_int_equal(h.payload_len, 160);
	/* header only is legal (comfort noise may be empty) */
	assert_int_equal(rtp_hdr_parse(&h, b, 12), 0);
	assert_int_equal(h.payload_len, 0);
	assert_int_equal(rtp_hdr_parse(&h, b, 11), EBADMSG);
	assert_int_equal(rtp_hdr_parse(&h, b, 0), EBADMSG);
	assert_int_equal(rtp_hdr_parse(&h, NULL, 12), EBADMSG);
	b[0] = 0x40; /* version 1 */
	assert_int_equal(rtp_hdr_parse(&h, b, n), EBADMSG);
	b[0] = 0x80;
	b[1] = 72; /* RTCP SR seen through RTP eyes (RFC 5761) */
	assert_int_equal(rtp_hdr_parse(&h, b, n), EBADMSG);
	b[1] = 0x80 | 72;
	assert_int_equal(rtp_hdr_parse(&h, b, n), EBADMSG);
	b[1] = 96; /* dynamic */
	assert_int_equal(rtp_hdr_parse(&h, b, n), 0);
}

static void test_rtp_csrc_ext_padding(void **state)
{
	(void)state;
	uint8_t b[200];
	struct rtp_hdr h;
	size_t n = rtp_build(b, 1, 2, 3, 40);
	b[0] = 0x82; /* two CSRCs */
	assert_int_equal(rtp_hdr_parse(&h, b, n), 0);
	assert_int_equal(h.cc, 2);
	assert_int_equal(h.hdr_len, 20);
	assert_int_equal(h.payload_len, 32);
	assert_int_equal(rtp_hdr_parse(&h, b, 19), EBADMSG);
	assert_int_equal(rtp_hdr_parse(&h, b, 20), 0);
	b[0] = 0x8f; /* fifteen CSRCs: 72 bytes of header */
	assert_int_equal(rtp_hdr_parse(&h, b, 52), EBADMSG);

	/* extension: profile word + 2 words */
	n = rtp_build(b, 1, 2, 3, 40);
	b[0] = 0x90;
	b[12] = 0xbe;
	b[13] = 0xde;
	b[14] = 0;
	b[15] = 2;
	assert_int_equal(rtp_hdr_parse(&h, b, n), 0);
	assert_int_equal(h.hdr_len, 12 + 4 + 8);
	assert_int_equal(h.payload_len, 40 - 12);
	assert_int_equal(rtp_hdr_parse(&h, b, 23), EBADMSG);
	assert_int_equal(rtp_hdr_parse(&h, b, 15), EBADMSG);
	b[15] = 0xff; /* extension longer than the datagram */
	assert_int_equal(rtp_hdr_parse(&h, b, n), EBADMSG);

	/* padding: last octet counts itself */
	n = rtp_build(b, 1, 2, 3, 20);
	b[0] = 0xa0;
	b[n - 1] = 4;
	assert_int_equal(rtp_hdr_parse(&h, b, n), 0);
	assert_int_equal(h.pad_len, 4);
	assert_int_equal(h.payload_len, 16);
	b[n - 1] = 20; /* all payload is padding */
	assert_int_equal(rtp_hdr_parse(&h, b, n), 0);
	assert_int_equal(h.payload_len, 0);
	b[n - 1] = 21; /* reaches into the header */
	assert_int_equal(rtp_hdr_parse(&h, b, n), EBADMSG);
	b[n - 1] = 0;
	assert_int_equal(rtp_hdr_parse(&h, b, n), EBADMSG);
}

/* --- RTCP parser ----------------------------------------------------------- */

static void test_rtcp(void **state)
{
	(void)state;
	uint8_t b[128] = { 0 };
	struct rtcp_info ri;
	/* empty RR: 2 words */
	b[0] = 0x80;
	b[1] = 201;
	b[3] = 1;
	b[4] = 0xaa;
	b[7] = 0xbb;
	assert_int_equal(rtcp_parse(&ri, b, 8), 0);
	assert_int_equal(ri.pt, 201);
	assert_int_equal(ri.ssrc, 0xaa0000bb);
	assert_int_equal(ri.count, 1);
	assert_int_equal(ri.lsr, 0); /* not an SR */
	/* + SDES with one chunk (3 words) */
	b[8] = 0x81;
	b[9] = 202;
	b[11] = 2;
	assert_int_equal(rtcp_parse(&ri, b, 20), 0);
	assert_int_equal(ri.count, 2);
	assert_int_equal(rtcp_parse(&ri, b, 19), EBADMSG); /* cut short */
	assert_int_equal(rtcp_parse(&ri, b, 22), EBADMSG); /* trailing bytes */
	assert_int_equal(rtcp_parse(&ri, b, 3), EBADMSG);
	b[9] = 100; /* not an RTCP type */
	assert_int_equal(rtcp_parse(&ri, b, 20), EBADMSG);
	b[9] = 202;
	b[0] = 0xa0; /* padding on the first of two: refused */
	assert_int_equal(rtcp_parse(&ri, b, 20), EBADMSG);
	b[0] = 0x40;
	assert_int_equal(rtcp_parse(&ri, b, 8), EBADMSG);
	/* an SR (7 words): the middle of its NTP time is what LSR echoes;
	 * one cut to 2 words has none */
	uint8_t sr[28] = { 0x80, 200, 0, 6, 0, 0, 0, 1, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
	assert_int_equal(rtcp_parse(&ri, sr, sizeof(sr)), 0);
	assert_int_equal(ri.lsr, 0x33445566);
	sr[3] = 1;
	assert_int_equal(rtcp_parse(&ri, sr, 8), 0);
	assert_int_equal(ri.lsr, 0);
	/* an RTP packet is not RTCP */
	uint8_t r[172];
	rtp_build(r, 1, 2, 3, 160);
	assert_int_equal(rtcp_parse(&ri, r, sizeof(r)), EBADMSG);
}

/* --- statistics ------------------------------------------------------------ */

static void feed(struct rtp_stats *s, uint16_t seq, uint32_t ssrc, uint64_t at_us)
{
	struct rtp_hdr h = { .seq = seq, .ts = (uint32_t)seq * 160u, .ssrc = ssrc };
	rtp_stats_update(s, &h, at_us);
}

static void test_stats_loss(void **state)
{
	(void)state;
	struct rtp_stats s;
	rtp_stats_init(&s, 8000);
	assert_int_equal(rtp_stats_lost(&s), 0);
	for (uint16_t i = 1; i <= 10; i++)
		feed(&s, i, 7, 1000000u + i * 20000u);
	assert_int_equal(rtp_stats_lost(&s), 0);
	assert_int_equal(s.received, 10);
	feed(&s, 12, 7, 2000000); /* 11 lost */
	assert_int_equal(rtp_stats_lost(&s), 1);
	feed(&s, 11, 7, 2000000); /* ... late after all */
	assert_int_equal(rtp_stats_lost(&s), 0);
	feed(&s, 11, 7, 2000000); /* duplicate: negative loss, as A.3 says */
	assert_int_equal(rtp_stats_lost(&s), -1);

	/* wrap-around */
	rtp_stats_init(&s, 8000);
	for (uint32_t i = 65530; i < 65536 + 6; i++)
		feed(&s, (uint16_t)i, 9, i * 20000u);
	assert_int_equal(rtp_stats_lost(&s), 0);
	assert_int_equal(s.cycles, 65536);
	feed(&s, 8, 9, 0); /* 6, 7 lost across the wrap */
	assert_int_equal(rtp_stats_lost(&s), 2);

	/* a new SSRC keeps the earlier loss and starts its own count */
	feed(&s, 500, 10, 0);
	feed(&s, 502, 10, 0);
	assert_int_equal(rtp_stats_lost(&s), 3);

	/* one packet far away is ignored; two in a row restart */
	rtp_stats_init(&s, 8000);
	feed(&s, 100, 1, 0);
	feed(&s, 101, 1, 0);
	struct rtp_hdr h = { .seq = 30000, .ssrc = 1 };
	assert_false(rtp_stats_update(&s, &h, 0));
	assert_int_equal(rtp_stats_lost(&s), 0);
	h.seq = 30001;
	assert_true(rtp_stats_update(&s, &h, 0));
	feed(&s, 30002, 1, 0);
	assert_int_equal(rtp_stats_lost(&s), 0);
	assert_int_equal(s.received, 2);
}

static void test_stats_jitter(void **state)
{
	(void)state;
	struct rtp_stats s;
	/* perfectly paced: 160 samples every 20 ms */
	rtp_stats_init(&s, 8000);
	for (uint16_t i = 0; i < 200; i++)
		feed(&s, i, 1, 5000000u + i * 20000u);
	assert_true(rtp_stats_jitter_ms(&s) < 0.01);

	/* arrivals alternate 10 and 30 ms apart: |D| is 10 ms every time,
	 * and A.8's running average converges to it */
	rtp_stats_init(&s, 8000);
	uint64_t t = 5000000;
	for (uint16_t i = 0; i < 400; i++) {
		feed(&s, i, 1, t);
		t += (i & 1) ? 30000 : 10000;
	}
	double j = rtp_stats_jitter_ms(&s);
	assert_true(j > 9.5 && j < 10.5);

	/* same at 48 kHz: units change, milliseconds do not */
	rtp_stats_init(&s, 48000);
	t = 5000000;
	for (uint16_t i = 0; i < 400; i++) {
		struct rtp_hdr h = { .seq = i, .ts = (uint32_t)i * 960u, .ssrc = 1 };
		rtp_stats_update(&s, &h, t);
		t += (i & 1) ? 30000 : 10000;
	}
	j = rtp_stats_jitter_ms(&s);
	assert_true(j > 9.5 && j < 10.5);

	/* hostile timestamps do not overflow anything */
	rtp_stats_init(&s, 8000);
	for (uint16_t i = 0; i < 100; i++) {
		struct rtp_hdr h = { .seq = i, .ts = (i & 1) ? 0x80000000u : 0, .ssrc = 1 };
		rtp_stats_update(&s, &h, 1000);
	}
	assert_true(isfinite(rtp_stats_jitter_ms(&s)));
	assert_true(rtp_stats_jitter_ms(&s) > 0);
}

/* --- latching -------------------------------------------------------------- */

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

static void test_latch(void **state)
{
	(void)state;
	struct latch l;
	memset(&l, 0, sizeof(l));
	struct sockaddr_storage sig = sa4("192.168.1.10", 4000);
	struct sockaddr_storage nat = sa4("203.0.113.5", 31000);
	struct sockaddr_storage nat2 = sa4("203.0.113.5", 31002);
	struct sockaddr_storage evil = sa4("198.51.100.66", 5000);

	/* not connected: window never opened */
	assert_int_equal(latch_check(&l, &nat, 1, &sig, 0), LATCH_DROP);

	latch_open(&l, 1000, 2000, 4);
	assert_int_equal(latch_check(&l, &nat, 1, &sig, 1000), LATCH_NEW);
	assert_true(media_sa_equal(&l.addr, &nat));
	assert_int_equal(latch_check(&l, &nat, 1, &sig, 1020), LATCH_OK);
	/* a stranger with another stream: refused even inside the window */
	assert_int_equal(latch_check(&l, &evil, 2, &sig, 1030), LATCH_DROP);
	/* the same stream from a new NAT port: followed */
	assert_int_equal(latch_check(&l, &nat2, 1, &sig, 1040), LATCH_NEW);
	assert_true(media_sa_equal(&l.addr, &nat2));
	assert_true(l.open);
	assert_int_equal(latch_check(&l, &nat2, 1, &sig, 1060), LATCH_OK);
	assert_false(l.open); /* four packets: closed */
	/* now even the right SSRC from elsewhere is refused */
	assert_int_equal(latch_check(&l, &nat, 1, &sig, 1080), LATCH_DROP);
	assert_int_equal(latch_check(&l, &sig, 1, &sig, 1080), LATCH_DROP);
	assert_int_equal(latch_check(&l, &nat2, 77, &sig, 1100), LATCH_OK);

	/* window by time: one packet, then late packets close it */
	memset(&l, 0, sizeof(l));
	latch_open(&l, 0, 2000, 100);
	assert_int_equal(latch_check(&l, &nat, 1, &sig, 10), LATCH_NEW);
	assert_int_equal(latch_check(&l, &nat, 1, &sig, 2500), LATCH_OK);
	assert_false(l.open);
	assert_int_equal(latch_check(&l, &nat2, 1, &sig, 2600), LATCH_DROP);

	/* nothing heard in the window: it waits for the first packet */
	memset(&l, 0, sizeof(l));
	latch_open(&l, 0, 2000, 10);
	assert_int_equal(latch_check(&l, &nat, 5, NULL, 60000), LATCH_NEW);
	assert_false(l.open);
	assert_int_equal(latch_check(&l, &nat2, 5, NULL, 60001), LATCH_DROP);

	/* the signalled address wins over an early intruder */
	memset(&l, 0, sizeof(l));
	latch_open(&l, 0, 2000, 10);
	assert_int_equal(latch_check(&l, &evil, 9, &sig, 1), LATCH_NEW);
	assert_int_equal(latch_check(&l, &sig, 1, &sig, 2), LATCH_NEW);
	assert_int_equal(latch_check(&l, &evil, 9, &sig, 3), LATCH_DROP);

	/* a re-INVITE: reset and reopen */
	latch_reset(&l);
	assert_false(l.latched);
	latch_open(&l, 5000, 2000, 10);
	assert_int_equal(latch_check(&l, &nat, 3, &sig, 5001), LATCH_NEW);
}

static void test_sa_helpers(void **state)
{
	(void)state;
	char buf[64];
	struct sockaddr_storage a = sa4("10.0.0.1", 5060);
	assert_string_equal(media_sa_fmt(&a, buf, sizeof(buf)), "10.0.0.1:5060");
	assert_int_equal(media_sa_len(&a), sizeof(struct sockaddr_in));
	media_sa_set_port(&a, 7);
	assert_int_equal(media_sa_port(&a), 7);
	struct sockaddr_storage b;
	memset(&b, 0, sizeof(b));
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&b;
	v6->sin6_family = AF_INET6;
	v6->sin6_port = htons(9);
	inet_pton(AF_INET6, "2001:db8::1", &v6->sin6_addr);
	assert_string_equal(media_sa_fmt(&b, buf, sizeof(buf)), "[2001:db8::1]:9");
	assert_false(media_sa_equal(&a, &b));
	struct sockaddr_storage c = b;
	assert_true(media_sa_equal(&b, &c));
	memset(&c, 0, sizeof(c));
	assert_string_equal(media_sa_fmt(&c, buf, sizeof(buf)), "none");
	assert_false(media_sa_equal(&c, &c)); /* no address equals nothing */
}

/* --- port pairs ------------------------------------------------------------ */

static uint16_t random_base(void)
{
	return (uint16_t)(40000 + 2 * (rand() % 9900));
}

static void test_port_pool(void **state)
{
	(void)state;
	struct port_pool pp;
	struct sockaddr_storage lo = sa4("127.0.0.1", 0);
	assert_int_equal(port_pool_init(&pp, 0, 100), EINVAL);
	assert_int_equal(port_pool_init(&pp, 5000, 5000), EINVAL);
	assert_int_equal(port_pool_init(&pp, 5001, 5002), EINVAL); /* 5002 needs 5003 */
	assert_int_equal(port_pool_init(&pp, 5001, 5003), 0);
	assert_int_equal(pp.base, 5002);
	assert_int_equal(pp.npairs, 1);
	port_pool_fini(&pp);

	uint16_t base = random_base();
	assert_int_equal(port_pool_init(&pp, base, (uint16_t)(base + 15)), 0);
	assert_int_equal(pp.npairs, 8);

	/* somebody else holds the RTCP port of the third pair */
	int squat = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_storage sq = sa4("127.0.0.1", (uint16_t)(base + 5));
	int held = bind(squat, (struct sockaddr *)&sq, sizeof(struct sockaddr_in)) == 0;

	int fds[8][2];
	uint16_t ports[8];
	int n = 0;
	while (n < 8 && port_pair_open(&pp, &lo, &ports[n], fds[n]) == 0) {
		assert_int_equal(ports[n] % 2, 0);
		assert_true(ports[n] >= base && ports[n] + 1 <= base + 15);
		assert_true(port_pair_in_use(&pp, ports[n]));
		if (held)
			assert_int_not_equal(ports[n], base + 4);
		for (int j = 0; j < n; j++)
			assert_int_not_equal(ports[j], ports[n]);
		n++;
	}
	if (held)
		assert_true(n <= 7);
	assert_true(n >= 6); /* another process could hold one by chance */
	assert_int_equal(pp.used, n);
	uint16_t p;
	int f[2];
	assert_int_equal(port_pair_open(&pp, &lo, &p, f), ENOSPC);

	/* release one: it is the one that comes back */
	close(fds[1][0]);
	close(fds[1][1]);
	port_pair_release(&pp, ports[1]);
	assert_false(port_pair_in_use(&pp, ports[1]));
	port_pair_release(&pp, ports[1]); /* twice: harmless */
	port_pair_release(&pp, 3);        /* foreign: harmless */
	assert_int_equal(pp.used, n - 1);
	assert_int_equal(port_pair_open(&pp, &lo, &p, f), 0);
	assert_int_equal(p, ports[1]);
	fds[1][0] = f[0];
	fds[1][1] = f[1];

	for (int i = 0; i < n; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
		port_pair_release(&pp, ports[i]);
	}
	assert_int_equal(pp.used, 0);
	close(squat);
	port_pool_fini(&pp);
}

/* next-fit: a freed pair is not the next one handed out */
static void test_port_next_fit(void **state)
{
	(void)state;
	struct port_pool pp;
	struct sockaddr_storage lo = sa4("127.0.0.1", 0);
	uint16_t base = random_base();
	assert_int_equal(port_pool_init(&pp, base, (uint16_t)(base + 19)), 0);
	uint16_t a, b;
	int fa[2], fb[2];
	assert_int_equal(port_pair_open(&pp, &lo, &a, fa), 0);
	close(fa[0]);
	close(fa[1]);
	port_pair_release(&pp, a);
	assert_int_equal(port_pair_open(&pp, &lo, &b, fb), 0);
	assert_int_not_equal(a, b);
	close(fb[0]);
	close(fb[1]);
	port_pair_release(&pp, b);
	port_pool_fini(&pp);
}

int main(void)
{
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rtp_basic),
		cmocka_unit_test(test_rtp_csrc_ext_padding),
		cmocka_unit_test(test_rtcp),
		cmocka_unit_test(test_stats_loss),
		cmocka_unit_test(test_stats_jitter),
		cmocka_unit_test(test_latch),
		cmocka_unit_test(test_sa_helpers),
		cmocka_unit_test(test_port_pool),
		cmocka_unit_test(test_port_next_fit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
