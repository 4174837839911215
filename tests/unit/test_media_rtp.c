/*
 * Unit tests for the media engine's pure parts: the RTP/RTCP parser
 * (core/media/rtp/rtp.c), RFC 3550 receiver statistics (rtp_stats.c) and
 * the socket-address helpers. The latching rules are in test_latch.c, the
 * port-pair allocator in test_port.c; test_media.c drives the whole
 * engine with real UDP phones.
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

int main(void)
{
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rtp_basic),
		cmocka_unit_test(test_rtp_csrc_ext_padding),
		cmocka_unit_test(test_rtcp),
		cmocka_unit_test(test_stats_loss),
		cmocka_unit_test(test_stats_jitter),
		cmocka_unit_test(test_sa_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
