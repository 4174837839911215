/*
 * Unit tests for the per-leg SRTP context (core/media/rtp/srtp.c): round
 * trips for all four suites in both directions, tampering, replays and
 * wrong keys for RTP and RTCP, the replay window hint, MKIs, the SSRC
 * bound, argument and buffer checks, contexts created on several threads,
 * and that nothing keyed outlives the caller's key structs. Known-answer
 * tests are in test_srtp_kat.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/media/rtp/srtp.h"

static const enum sdes_suite all[] = {
	SDES_AES_CM_128_HMAC_SHA1_80, SDES_AES_CM_128_HMAC_SHA1_32,
	SDES_AEAD_AES_128_GCM, SDES_AEAD_AES_256_GCM,
};
static const size_t rtp_tag[] = { 10, 4, 16, 16 };
static const size_t rtcp_trailer[] = { 14, 14, 20, 20 };

struct pkt {
	uint8_t b[1500] __attribute__((aligned(4)));
	size_t len;
};

static void rtp(struct pkt *p, uint16_t seq, uint32_t ssrc, size_t plen)
{
	uint8_t *b = p->b;
	b[0] = 0x80;
	b[1] = 0;
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	for (int i = 0; i < 4; i++) {
		b[4 + i] = (uint8_t)((seq * 160u) >> (24 - 8 * i));
		b[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	}
	for (size_t i = 0; i < plen; i++)
		b[12 + i] = (uint8_t)(i * 7 + seq);
	p->len = 12 + plen;
}

/* A receiver report with one block. */
static void rtcp(struct pkt *p, uint32_t ssrc, uint8_t fill)
{
	uint8_t *b = p->b;
	b[0] = 0x81;
	b[1] = 201;
	b[2] = 0;
	b[3] = 7;
	for (int i = 0; i < 4; i++)
		b[4 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	memset(b + 8, fill, 24);
	p->len = 32;
}

/* Two ends of one call: a protects with ka and unprotects with kb, b the
 * other way round, as after an SDES offer and answer. */
struct call {
	struct sdes_key ka, kb;
	struct srtp_ctx *a, *b;
};

static void call_open(struct call *c, enum sdes_suite s)
{
	assert_int_equal(sdes_key_generate(&c->ka, s, 1), 0);
	assert_int_equal(sdes_key_generate(&c->kb, s, 1), 0);
	assert_int_equal(srtp_ctx_alloc(&c->a, &c->ka, &c->kb), 0);
	assert_int_equal(srtp_ctx_alloc(&c->b, &c->kb, &c->ka), 0);
}

static void call_close(struct call *c)
{
	srtp_ctx_free(c->a);
	srtp_ctx_free(c->b);
	sdes_key_wipe(&c->ka);
	sdes_key_wipe(&c->kb);
}

static void test_roundtrip_all_suites(void **state)
{
	(void)state;
	for (size_t si = 0; si < 4; si++) {
		struct call c;
		struct pkt p, plain;
		call_open(&c, all[si]);
		assert_int_equal(srtp_ctx_trailer(c.a, false), rtp_tag[si]);
		assert_int_equal(srtp_ctx_trailer(c.a, true), rtcp_trailer[si]);
		assert_true(srtp_ctx_trailer(c.a, true) <= SRTP_CTX_TRAILER);
		for (uint16_t seq = 1; seq <= 50; seq++) {
			struct srtp_ctx *tx = seq % 2 ? c.a : c.b, *rx = seq % 2 ? c.b : c.a;
			rtp(&plain, seq, seq % 2 ? 0x1111 : 0x2222, 160);
			p = plain;
			assert_int_equal(srtp_ctx_protect_rtp(tx, p.b, &p.len, sizeof(p.b)), 0);
			assert_int_equal(p.len, plain.len + rtp_tag[si]);
			assert_memory_equal(p.b, plain.b, 12); /* header stays clear */
			assert_memory_not_equal(p.b + 12, plain.b + 12, 160);
			assert_int_equal(srtp_ctx_unprotect_rtp(rx, p.b, &p.len), 0);
			assert_int_equal(p.len, plain.len);
			assert_memory_equal(p.b, plain.b, plain.len);

			rtcp(&plain, seq % 2 ? 0x1111 : 0x2222, (uint8_t)seq);
			p = plain;
			assert_int_equal(srtp_ctx_protect_rtcp(tx, p.b, &p.len, sizeof(p.b)), 0);
			assert_int_equal(p.len, plain.len + rtcp_trailer[si]);
			assert_memory_not_equal(p.b + 8, plain.b + 8, 24);
			assert_int_equal(srtp_ctx_unprotect_rtcp(rx, p.b, &p.len), 0);
			assert_int_equal(p.len, plain.len);
			assert_memory_equal(p.b, plain.b, plain.len);
		}
		/* an empty payload (comfort noise may be) and a full MTU */
		rtp(&plain, 51, 0x1111, 0);
		p = plain;
		assert_int_equal(srtp_ctx_protect_rtp(c.a, p.b, &p.len, sizeof(p.b)), 0);
		assert_int_equal(srtp_ctx_unprotect_rtp(c.b, p.b, &p.len), 0);
		assert_int_equal(p.len, 12);
		rtp(&plain, 52, 0x1111, 1400);
		p = plain;
		assert_int_equal(srtp_ctx_protect_rtp(c.a, p.b, &p.len, sizeof(p.b)), 0);
		assert_int_equal(srtp_ctx_unprotect_rtp(c.b, p.b, &p.len), 0);
		assert_memory_equal(p.b, plain.b, plain.len);
		call_close(&c);
	}
}

/* Every single-bit change, every truncation and an extension of a
 * protected packet fails authentication; the packet itself still passes
 * afterwards (failures leave no state behind). */
static void tamper(struct srtp_ctx *tx, struct srtp_ctx *rx, bool is_rtcp)
{
	struct pkt orig, p;
	if (is_rtcp)
		rtcp(&orig, 0x3333, 0x42);
	else
		rtp(&orig, 7, 0x3333, 40);
	assert_int_equal(is_rtcp ? srtp_ctx_protect_rtcp(tx, orig.b, &orig.len, sizeof(orig.b))
				 : srtp_ctx_protect_rtp(tx, orig.b, &orig.len, sizeof(orig.b)), 0);
	for (size_t i = 0; i < orig.len * 8; i += 3) {
		p = orig;
		p.b[i / 8] ^= (uint8_t)(1u << (i % 8));
		int err = is_rtcp ? srtp_ctx_unprotect_rtcp(rx, p.b, &p.len)
				  : srtp_ctx_unprotect_rtp(rx, p.b, &p.len);
		assert_int_equal(err, EBADMSG);
		assert_int_equal(p.len, orig.len);
	}
	for (size_t n = 0; n < orig.len; n++) {
		p = orig;
		p.len = n;
		int err = is_rtcp ? srtp_ctx_unprotect_rtcp(rx, p.b, &p.len)
				  : srtp_ctx_unprotect_rtp(rx, p.b, &p.len);
		assert_int_equal(err, EBADMSG);
	}
	p = orig;
	p.b[p.len++] = 0;
	assert_int_equal(is_rtcp ? srtp_ctx_unprotect_rtcp(rx, p.b, &p.len)
				 : srtp_ctx_unprotect_rtp(rx, p.b, &p.len), EBADMSG);
	p = orig;
	assert_int_equal(is_rtcp ? srtp_ctx_unprotect_rtcp(rx, p.b, &p.len)
				 : srtp_ctx_unprotect_rtp(rx, p.b, &p.len), 0);
}

static void test_tampered(void **state)
{
	(void)state;
	for (size_t si = 0; si < 4; si++) {
		struct call c;
		call_open(&c, all[si]);
		tamper(c.a, c.b, false);
		tamper(c.a, c.b, true);
		call_close(&c);
	}
}

static void test_replay(void **state)
{
	(void)state;
	for (size_t si = 0; si < 4; si++) {
		struct call c;
		struct pkt *sent = calloc(300, sizeof(*sent)), p;
		assert_non_null(sent);
		call_open(&c, all[si]);
		for (unsigned i = 0; i < 300; i++) {
			rtp(&sent[i], (uint16_t)(1000 + i), 0x4444, 20);
			assert_int_equal(srtp_ctx_protect_rtp(c.a, sent[i].b, &sent[i].len, sizeof(sent[i].b)), 0);
		}
		/* in order, a duplicate, reordering inside the window */
		for (unsigned i = 0; i < 5; i++) {
			p = sent[i];
			assert_int_equal(srtp_ctx_unprotect_rtp(c.b, p.b, &p.len), 0);
		}
		p = sent[3];
		assert_int_equal(srtp_ctx_unprotect_rtp(c.b, p.b, &p.len), EALREADY);
		p = sent[9];
		assert_int_equal(srtp_ctx_unprotect_rtp(c.b, p.b, &p.len), 0);
		p = sent[7];
		assert_int_equal(srtp_ctx_unprotect_rtp(c.b, p.b, &p.len), 0);
		p = sent[7];
		assert_int_equal(srtp_ctx_unprotect_rtp(c.b, p.b, &p.len), EALREADY);
		/* older than the default window of 128 */
		p = sent[299];
		assert_int_equal(srtp_ctx_unprotect_rtp(c.b, p.b, &p.len), 0);
		p = sent[100];
		assert_int_equal(srtp_ctx_unprotect_rtp(c.b, p.b, &p.len), EALREADY);
		p = sent[200];
		assert_int_equal(srtp_ctx_unprotect_rtp(c.b, p.b, &p.len), 0);

		/* SRTCP: its own index, its own window */
		struct pkt r[3];
		for (unsigned i = 0; i < 3; i++) {
			rtcp(&r[i], 0x4444, (uint8_t)i);
			assert_int_equal(srtp_ctx_protect_rtcp(c.a, r[i].b, &r[i].len, sizeof(r[i].b)), 0);
		}
		p = r[1];
		assert_int_equal(srtp_ctx_unprotect_rtcp(c.b, p.b, &p.len), 0);
		p = r[1];
		assert_int_equal(srtp_ctx_unprotect_rtcp(c.b, p.b, &p.len), EALREADY);
		p = r[0];
		assert_int_equal(srtp_ctx_unprotect_rtcp(c.b, p.b, &p.len), 0);
		p = r[2];
		assert_int_equal(srtp_ctx_unprotect_rtcp(c.b, p.b, &p.len), 0);
		p = r[0];
		assert_int_equal(srtp_ctx_unprotect_rtcp(c.b, p.b, &p.len), EALREADY);

		/* we never encrypt one index twice: that would reuse keystream */
		rtp(&p, 1000, 0x4444, 20);
		assert_int_equal(srtp_ctx_protect_rtp(c.a, p.b, &p.len, sizeof(p.b)), EALREADY);
		free(sent);
		call_close(&c);
	}
}

/* The peer's WSH widens the window we keep for its packets. */
static void test_window_hint(void **state)
{
	(void)state;
	struct sdes_key ka, kb, kb_hint;
	struct srtp_ctx *a, *b, *b_hint;
	struct pkt *sent = calloc(1100, sizeof(*sent)), p;
	assert_non_null(sent);
	assert_int_equal(sdes_key_generate(&ka, SDES_AEAD_AES_128_GCM, 1), 0);
	assert_int_equal(sdes_key_generate(&kb, SDES_AEAD_AES_128_GCM, 1), 0);
	kb_hint = kb;
	ka.wsh = 1024; /* a's line said WSH=1024 */
	assert_int_equal(srtp_ctx_alloc(&a, &ka, &kb), 0);
	assert_int_equal(srtp_ctx_alloc(&b_hint, &kb_hint, &ka), 0);
	ka.wsh = 0;
	assert_int_equal(srtp_ctx_alloc(&b, &kb, &ka), 0);
	for (unsigned i = 0; i < 1100; i++) {
		rtp(&sent[i], (uint16_t)i, 0x5555, 8);
		assert_int_equal(srtp_ctx_protect_rtp(a, sent[i].b, &sent[i].len, sizeof(sent[i].b)), 0);
	}
	p = sent[1099];
	assert_int_equal(srtp_ctx_unprotect_rtp(b, p.b, &p.len), 0);
	p = sent[1099];
	assert_int_equal(srtp_ctx_unprotect_rtp(b_hint, p.b, &p.len), 0);
	p = sent[200]; /* 899 behind */
	assert_int_equal(srtp_ctx_unprotect_rtp(b, p.b, &p.len), EALREADY);
	p = sent[200];
	assert_int_equal(srtp_ctx_unprotect_rtp(b_hint, p.b, &p.len), 0);
	p = sent[50]; /* 1049 behind: outside 1024 too */
	assert_int_equal(srtp_ctx_unprotect_rtp(b_hint, p.b, &p.len), EALREADY);
	srtp_ctx_free(a);
	srtp_ctx_free(b);
	srtp_ctx_free(b_hint);
	free(sent);
	sdes_key_wipe(&ka);
	sdes_key_wipe(&kb);
	sdes_key_wipe(&kb_hint);
}

static void test_wrong_key(void **state)
{
	(void)state;
	for (size_t si = 0; si < 4; si++) {
		struct call c, d;
		struct pkt p;
		call_open(&c, all[si]);
		call_open(&d, all[si]);
		rtp(&p, 1, 0x6666, 100);
		assert_int_equal(srtp_ctx_protect_rtp(c.a, p.b, &p.len, sizeof(p.b)), 0);
		struct pkt q = p;
		assert_int_equal(srtp_ctx_unprotect_rtp(d.b, q.b, &q.len), EBADMSG);
		q = p; /* our own packet does not pass with the peer's key */
		assert_int_equal(srtp_ctx_unprotect_rtp(c.a, q.b, &q.len), EBADMSG);
		rtcp(&p, 0x6666, 1);
		assert_int_equal(srtp_ctx_protect_rtcp(c.a, p.b, &p.len, sizeof(p.b)), 0);
		q = p;
		assert_int_equal(srtp_ctx_unprotect_rtcp(d.b, q.b, &q.len), EBADMSG);
		q = p;
		assert_int_equal(srtp_ctx_unprotect_rtcp(c.a, q.b, &q.len), EBADMSG);
		/* a packet that was never SRTP */
		rtp(&p, 2, 0x6666, 100);
		assert_int_equal(srtp_ctx_unprotect_rtp(c.b, p.b, &p.len), EBADMSG);
		call_close(&c);
		call_close(&d);
	}
}

/* Keys with MKIs: our packets carry the MKI; the peer's several keys are
 * all installed and the MKI picks one. */
static void test_mki(void **state)
{
	(void)state;
	static const char *suites[] = { "AES_CM_128_HMAC_SHA1_80", "AEAD_AES_128_GCM" };
	static const char *k1[] = { "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd",
				    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==" };
	static const char *k2[] = { "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
				    "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaQ==" };
	for (size_t si = 0; si < 2; si++) {
		char one[128], two[128], both[256], three[128];
		snprintf(one, sizeof(one), "inline:%s|2^20|1:4", k1[si]);
		snprintf(two, sizeof(two), "inline:%s|2^20|2:4", k2[si]);
		snprintf(three, sizeof(three), "inline:%s|2^20|3:4", k2[si]);
		snprintf(both, sizeof(both), "%s;%s", one, two);
		struct sdp_crypto c = { 1, pl_from(suites[si]), pl_from(one), PL_NULL };
		struct sdes_key s1, s2, s3, rx_keys, other;
		assert_int_equal(sdes_crypto_parse(&c, &s1), 0);
		c.key_params = pl_from(two);
		assert_int_equal(sdes_crypto_parse(&c, &s2), 0);
		c.key_params = pl_from(three);
		assert_int_equal(sdes_crypto_parse(&c, &s3), 0);
		c.key_params = pl_from(both);
		assert_int_equal(sdes_crypto_parse(&c, &rx_keys), 0);
		assert_int_equal(sdes_key_generate(&other, s1.suite, 1), 0);

		struct srtp_ctx *tx1, *tx2, *tx3, *rx;
		assert_int_equal(srtp_ctx_alloc(&tx1, &s1, &other), 0);
		assert_int_equal(srtp_ctx_alloc(&tx2, &s2, &other), 0);
		assert_int_equal(srtp_ctx_alloc(&tx3, &s3, &other), 0);
		assert_int_equal(srtp_ctx_alloc(&rx, &other, &rx_keys), 0);
		size_t tag = si ? 16 : 10;
		assert_int_equal(srtp_ctx_trailer(tx1, false), tag + 4);

		struct pkt p, plain;
		rtp(&plain, 1, 0x7777, 50);
		p = plain;
		assert_int_equal(srtp_ctx_protect_rtp(tx1, p.b, &p.len, sizeof(p.b)), 0);
		assert_int_equal(p.len, plain.len + tag + 4);
		assert_int_equal(srtp_ctx_unprotect_rtp(rx, p.b, &p.len), 0);
		assert_memory_equal(p.b, plain.b, plain.len);
		/* the peer moved to its second key */
		rtp(&plain, 2, 0x7777, 50);
		p = plain;
		assert_int_equal(srtp_ctx_protect_rtp(tx2, p.b, &p.len, sizeof(p.b)), 0);
		assert_int_equal(srtp_ctx_unprotect_rtp(rx, p.b, &p.len), 0);
		assert_memory_equal(p.b, plain.b, plain.len);
		/* an MKI the peer never announced */
		rtp(&plain, 3, 0x7777, 50);
		p = plain;
		assert_int_equal(srtp_ctx_protect_rtp(tx3, p.b, &p.len, sizeof(p.b)), 0);
		assert_int_equal(srtp_ctx_unprotect_rtp(rx, p.b, &p.len), EBADMSG);
		/* RTCP with MKI */
		rtcp(&plain, 0x7777, 9);
		p = plain;
		assert_int_equal(srtp_ctx_protect_rtcp(tx2, p.b, &p.len, sizeof(p.b)), 0);
		assert_int_equal(p.len, plain.len + srtp_ctx_trailer(tx2, true));
		assert_int_equal(srtp_ctx_unprotect_rtcp(rx, p.b, &p.len), 0);
		assert_memory_equal(p.b, plain.b, plain.len);
		srtp_ctx_free(tx1);
		srtp_ctx_free(tx2);
		srtp_ctx_free(tx3);
		srtp_ctx_free(rx);
		sdes_key_wipe(&s1);
		sdes_key_wipe(&s2);
		sdes_key_wipe(&s3);
		sdes_key_wipe(&rx_keys);
		sdes_key_wipe(&other);
	}
}

static void test_ssrc_bound(void **state)
{
	(void)state;
	struct call c;
	struct pkt p;
	call_open(&c, SDES_AES_CM_128_HMAC_SHA1_80);
	/* forged packets of many SSRCs do not use up the inbound slots */
	for (uint32_t s = 0; s < 100; s++) {
		rtp(&p, 1, 0x10000 + s, 30);
		memset(p.b + p.len, 0x5a, 10); /* a "tag" */
		p.len += 10;
		assert_int_equal(srtp_ctx_unprotect_rtp(c.b, p.b, &p.len), EBADMSG);
	}
	for (uint32_t s = 0; s < SRTP_CTX_MAX_SSRC; s++) {
		rtp(&p, 1, 100 + s, 30);
		assert_int_equal(srtp_ctx_protect_rtp(c.a, p.b, &p.len, sizeof(p.b)), 0);
		assert_int_equal(srtp_ctx_unprotect_rtp(c.b, p.b, &p.len), 0);
	}
	rtp(&p, 2, 100, 30); /* a known SSRC still passes */
	assert_int_equal(srtp_ctx_protect_rtp(c.a, p.b, &p.len, sizeof(p.b)), 0);
	assert_int_equal(srtp_ctx_unprotect_rtp(c.b, p.b, &p.len), 0);
	rtcp(&p, 105, 1); /* and so does RTCP of one */
	assert_int_equal(srtp_ctx_protect_rtcp(c.a, p.b, &p.len, sizeof(p.b)), 0);
	assert_int_equal(srtp_ctx_unprotect_rtcp(c.b, p.b, &p.len), 0);
	rtp(&p, 1, 999, 30);
	assert_int_equal(srtp_ctx_protect_rtp(c.a, p.b, &p.len, sizeof(p.b)), ENOSPC);
	rtcp(&p, 999, 1);
	assert_int_equal(srtp_ctx_protect_rtcp(c.a, p.b, &p.len, sizeof(p.b)), ENOSPC);
	/* the other direction has its own slots: b sends a 17th SSRC... */
	rtp(&p, 1, 999, 30);
	assert_int_equal(srtp_ctx_protect_rtp(c.b, p.b, &p.len, sizeof(p.b)), 0);
	/* ...which a, having heard none from b yet, accepts */
	assert_int_equal(srtp_ctx_unprotect_rtp(c.a, p.b, &p.len), 0);
	/* inbound full: a 17th SSRC (from a second sender with a's key,
	 * since a's own outbound is bounded too) is refused */
	struct call d;
	struct srtp_ctx *a2;
	call_open(&d, SDES_AES_CM_128_HMAC_SHA1_80);
	assert_int_equal(srtp_ctx_alloc(&a2, &d.ka, &d.kb), 0);
	for (uint32_t s = 0; s <= SRTP_CTX_MAX_SSRC; s++) {
		rtp(&p, 1, 500 + s, 30);
		struct srtp_ctx *tx = s < SRTP_CTX_MAX_SSRC ? d.a : a2;
		assert_int_equal(srtp_ctx_protect_rtp(tx, p.b, &p.len, sizeof(p.b)), 0);
		assert_int_equal(srtp_ctx_unprotect_rtp(d.b, p.b, &p.len),
				 s < SRTP_CTX_MAX_SSRC ? 0 : ENOSPC);
	}
	srtp_ctx_free(a2);
	call_close(&c);
	call_close(&d);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	struct call c;
	struct pkt p, plain;
	struct srtp_ctx *x = NULL;
	call_open(&c, SDES_AEAD_AES_256_GCM);

	/* buffers without room for the tag are left alone */
	rtp(&plain, 1, 1, 100);
	p = plain;
	assert_int_equal(srtp_ctx_protect_rtp(c.a, p.b, &p.len, plain.len + 15), EMSGSIZE);
	assert_int_equal(p.len, plain.len);
	assert_memory_equal(p.b, plain.b, plain.len);
	assert_int_equal(srtp_ctx_protect_rtp(c.a, p.b, &p.len, plain.len - 1), EMSGSIZE);
	assert_int_equal(srtp_ctx_protect_rtp(c.a, p.b, &p.len, plain.len + 16), 0);
	rtcp(&plain, 1, 1);
	p = plain;
	assert_int_equal(srtp_ctx_protect_rtcp(c.a, p.b, &p.len, plain.len + 19), EMSGSIZE);
	assert_memory_equal(p.b, plain.b, plain.len);

	/* not RTP / RTCP */
	rtp(&p, 2, 1, 10);
	p.len = 11;
	assert_int_equal(srtp_ctx_protect_rtp(c.a, p.b, &p.len, sizeof(p.b)), EINVAL);
	assert_int_equal(srtp_ctx_unprotect_rtp(c.a, p.b, &p.len), EBADMSG);
	rtp(&p, 2, 1, 10);
	p.b[0] = 0x40; /* version 1 */
	assert_int_equal(srtp_ctx_protect_rtp(c.a, p.b, &p.len, sizeof(p.b)), EINVAL);
	assert_int_equal(srtp_ctx_unprotect_rtp(c.a, p.b, &p.len), EBADMSG);
	rtp(&p, 2, 1, 10);
	p.b[0] = 0x8f; /* 15 CSRCs that are not there */
	assert_int_equal(srtp_ctx_protect_rtp(c.a, p.b, &p.len, sizeof(p.b)), EINVAL);
	rtcp(&p, 1, 1);
	p.len = 7;
	assert_int_equal(srtp_ctx_protect_rtcp(c.a, p.b, &p.len, sizeof(p.b)), EINVAL);
	assert_int_equal(srtp_ctx_unprotect_rtcp(c.a, p.b, &p.len), EBADMSG);
	p.len = 0;
	assert_int_equal(srtp_ctx_unprotect_rtcp(c.a, p.b, &p.len), EBADMSG);

	assert_int_equal(srtp_ctx_protect_rtp(NULL, p.b, &p.len, sizeof(p.b)), EINVAL);
	assert_int_equal(srtp_ctx_protect_rtp(c.a, NULL, &p.len, sizeof(p.b)), EINVAL);
	assert_int_equal(srtp_ctx_unprotect_rtp(c.a, p.b, NULL), EINVAL);
	assert_int_equal(srtp_ctx_protect_rtcp(c.a, p.b, NULL, 0), EINVAL);
	assert_int_equal(srtp_ctx_unprotect_rtcp(NULL, p.b, &p.len), EINVAL);
	assert_int_equal(srtp_ctx_trailer(NULL, false), 0);
	srtp_ctx_free(NULL);

	/* keys: missing, invalid, of different suites, or the same key */
	struct sdes_key other, bad;
	assert_int_equal(srtp_ctx_alloc(&x, NULL, &c.kb), EINVAL);
	assert_int_equal(srtp_ctx_alloc(&x, &c.ka, NULL), EINVAL);
	assert_int_equal(srtp_ctx_alloc(NULL, &c.ka, &c.kb), EINVAL);
	assert_int_equal(sdes_key_generate(&other, SDES_AEAD_AES_128_GCM, 1), 0);
	assert_int_equal(srtp_ctx_alloc(&x, &c.ka, &other), EINVAL);
	assert_int_equal(srtp_ctx_alloc(&x, &c.ka, &c.ka), EINVAL);
	bad = c.kb;
	bad.nkeys = 0;
	assert_int_equal(srtp_ctx_alloc(&x, &c.ka, &bad), EINVAL);
	bad = c.kb;
	bad.suite = SDES_SUITE_NONE;
	assert_int_equal(srtp_ctx_alloc(&x, &c.ka, &bad), EINVAL);
	assert_null(x);
	sdes_key_wipe(&other);
	sdes_key_wipe(&bad);
	call_close(&c);
}

/* The context keeps nothing of the caller's structs: heap copies of the
 * keys are wiped and freed right after srtp_ctx_alloc (ASan would see a
 * later read), and the call goes on. */
static void test_keys_not_kept(void **state)
{
	(void)state;
	struct sdes_key *ka = malloc(sizeof(*ka)), *kb = malloc(sizeof(*kb));
	struct srtp_ctx *a, *b;
	struct pkt p, plain;
	assert_non_null(ka);
	assert_non_null(kb);
	assert_int_equal(sdes_key_generate(ka, SDES_AES_CM_128_HMAC_SHA1_80, 1), 0);
	assert_int_equal(sdes_key_generate(kb, SDES_AES_CM_128_HMAC_SHA1_80, 1), 0);
	assert_int_equal(srtp_ctx_alloc(&a, ka, kb), 0);
	assert_int_equal(srtp_ctx_alloc(&b, kb, ka), 0);
	sdes_key_wipe(ka);
	sdes_key_wipe(kb);
	const uint8_t *raw = (const uint8_t *)ka;
	for (size_t i = 0; i < sizeof(*ka); i++)
		assert_int_equal(raw[i], 0);
	free(ka);
	free(kb);
	rtp(&plain, 1, 0x8888, 80);
	p = plain;
	assert_int_equal(srtp_ctx_protect_rtp(a, p.b, &p.len, sizeof(p.b)), 0);
	assert_int_equal(srtp_ctx_unprotect_rtp(b, p.b, &p.len), 0);
	assert_memory_equal(p.b, plain.b, plain.len);
	srtp_ctx_free(a);
	srtp_ctx_free(b);
}

/* The first srtp_ctx_alloc starts libsrtp; several media workers may
 * race to it, and each then runs its own contexts. No cmocka asserts
 * here: they may only fail on the test's own thread. */
static void *worker(void *arg)
{
	const enum sdes_suite *s = arg;
	void *ret = NULL;
	for (int round = 0; round < 20 && !ret; round++) {
		struct sdes_key ka, kb;
		struct srtp_ctx *a = NULL, *b = NULL;
		struct pkt p;
		if (sdes_key_generate(&ka, *s, 1) || sdes_key_generate(&kb, *s, 1) ||
		    srtp_ctx_alloc(&a, &ka, &kb) || srtp_ctx_alloc(&b, &kb, &ka))
			ret = (void *)1;
		for (uint16_t seq = 0; seq < 20 && !ret; seq++) {
			rtp(&p, seq, 0x9999, 160);
			if (srtp_ctx_protect_rtp(a, p.b, &p.len, sizeof(p.b)) ||
			    srtp_ctx_unprotect_rtp(b, p.b, &p.len) || p.len != 172)
				ret = (void *)2;
		}
		srtp_ctx_free(a);
		srtp_ctx_free(b);
		sdes_key_wipe(&ka);
		sdes_key_wipe(&kb);
	}
	return ret;
}

static void test_threads(void **state)
{
	(void)state;
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)&all[i]), 0);
	for (int i = 0; i < 4; i++) {
		void *ret;
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
}

int main(void)
{
	/* test_threads first: it is the one that races libsrtp's start */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_roundtrip_all_suites),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_window_hint),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_mki),
		cmocka_unit_test(test_ssrc_bound),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_keys_not_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
