/*
 * SRTP per leg in the media engine (media_leg_set_srtp): an SRTP phone on
 * one leg and a plain phone on the other, same codec (pass-through with
 * per-packet re-protection) and different codecs (decoded path). The test
 * phone has its own srtp_ctx with the keys swapped; tampered and replayed
 * packets are dropped; SRTCP is unprotected and relayed as RTCP.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "codec_test_util.h"
#include "media_test_util.h"

struct keys {
	struct sdes_key ours, phone; /* what the engine protects with / the phone */
	struct srtp_ctx *ph;         /* the phone's context */
};

static void keys_make(struct keys *k, enum sdes_suite s)
{
	assert_int_equal(sdes_key_generate(&k->ours, s, 1), 0);
	assert_int_equal(sdes_key_generate(&k->phone, s, 1), 0);
	assert_int_equal(srtp_ctx_alloc(&k->ph, &k->phone, &k->ours), 0);
}

static void test_srtp_pass_through(void **state)
{
	struct mt *t = *state;
	struct mt_call c;
	struct media_fmt f = mt_fmt(&codec_pcmu, 0, 20, 101);
	struct keys k;
	keys_make(&k, SDES_AES_CM_128_HMAC_SHA1_80);
	mt_call_up(t, &c, &f, &f);
	assert_int_equal(media_leg_set_srtp(t->me, c.id, 0, &k.ours, &k.phone), 0);
	mt_barrier(t, c.id);

	uint8_t p[300], q[300], got[2048];
	for (uint16_t s = 1; s <= 20; s++) {
		/* SRTP phone -> plain phone: the plain packet, byte for byte */
		size_t h = mt_rtp_hdr(p, 0, false, s, s * 160u, 0x5a);
		for (int i = 0; i < 160; i++)
			p[h + i] = (uint8_t)(s + 3 * i);
		size_t len = h + 160;
		memcpy(q, p, len);
		assert_int_equal(srtp_ctx_protect_rtp(k.ph, q, &len, sizeof(q)), 0);
		assert_int_equal(len, h + 160 + 10);
		mt_send(c.ph[0].fd, c.port[0], q, len);
		assert_int_equal(mt_recv(c.ph[1].fd, got, sizeof(got), 1000), (ssize_t)(h + 160));
		assert_memory_equal(got, p, h + 160);
		/* plain phone -> SRTP phone: protected with our key */
		mt_send(c.ph[1].fd, c.port[1], p, h + 160);
		ssize_t r = mt_recv(c.ph[0].fd, got, sizeof(got), 1000);
		assert_int_equal(r, (ssize_t)(h + 170));
		assert_memory_not_equal(got + h, p + h, 160); /* encrypted */
		len = (size_t)r;
		assert_int_equal(srtp_ctx_unprotect_rtp(k.ph, got, &len), 0);
		assert_int_equal(len, h + 160);
		assert_memory_equal(got, p, len);
	}
	/* a tampered packet, and a replayed one, go nowhere */
	size_t h = mt_rtp_hdr(p, 0, false, 21, 21 * 160u, 0x5a);
	memset(p + h, 0x55, 160);
	size_t len = h + 160;
	assert_int_equal(srtp_ctx_protect_rtp(k.ph, p, &len, sizeof(p)), 0);
	memcpy(q, p, len);
	q[h + 5] ^= 1;
	mt_send(c.ph[0].fd, c.port[0], q, len);
	assert_int_equal(mt_recv(c.ph[1].fd, got, sizeof(got), 200), -1);
	mt_send(c.ph[0].fd, c.port[0], p, len); /* the real one passes */
	assert_int_equal(mt_recv(c.ph[1].fd, got, sizeof(got), 1000), (ssize_t)(h + 160));
	mt_send(c.ph[0].fd, c.port[0], p, len); /* its replay does not */
	assert_int_equal(mt_recv(c.ph[1].fd, got, sizeof(got), 200), -1);
	/* plain RTP from the SRTP phone is refused too */
	h = mt_rtp_hdr(p, 0, false, 22, 22 * 160u, 0x5a);
	mt_send(c.ph[0].fd, c.port[0], p, h + 160);
	assert_int_equal(mt_recv(c.ph[1].fd, got, sizeof(got), 200), -1);

	/* SRTCP from the SRTP phone arrives as RTCP (signalled on RTP + 1) */
	struct mt_phone rc[2];
	for (unsigned i = 0; i < 2; i++) {
		mt_phone_open(&rc[i]);
		struct media_remote r;
		memset(&r, 0, sizeof(r));
		memcpy(&r.rtp, &c.ph[i].addr, sizeof(r.rtp));
		memcpy(&r.rtcp, &rc[i].addr, sizeof(r.rtcp));
		assert_int_equal(media_leg_set_remote(t->me, c.id, i, &r), 0);
	}
	mt_barrier(t, c.id);
	uint8_t rr[64] = { 0x80, 201, 0, 1, 0, 0, 0, 0x5a };
	len = 8;
	assert_int_equal(srtp_ctx_protect_rtcp(k.ph, rr, &len, sizeof(rr)), 0);
	mt_send(rc[0].fd, (uint16_t)(c.port[0] + 1), rr, len);
	assert_int_equal(mt_recv(rc[1].fd, got, sizeof(got), 1000), 8);
	assert_int_equal(got[1], 201);
	uint8_t rr2[64] = { 0x80, 201, 0, 1, 0, 0, 0, 0x6b };
	mt_send(rc[1].fd, (uint16_t)(c.port[1] + 1), rr2, 8);
	ssize_t r = mt_recv(rc[0].fd, got, sizeof(got), 1000);
	assert_true(r > 8);
	len = (size_t)r;
	assert_int_equal(srtp_ctx_unprotect_rtcp(k.ph, got, &len), 0);
	assert_int_equal(len, 8);
	assert_memory_equal(got, rr2, 8);

	struct media_call_stats st = mt_destroy(t, c.id);
	assert_int_equal(st.leg[0].rx_packets, 21);
	assert_int_equal(st.leg[0].rx_dropped, 3);
	assert_int_equal(st.leg[1].tx_packets, 21);
	assert_int_equal(st.leg[0].tx_packets, 20);
	srtp_ctx_free(k.ph);
	close(rc[0].fd);
	close(rc[1].fd);
	mt_phones_close(&c);
}

/* SRTP opus phone <-> plain PCMU phone: decoded, and our own packets are
 * protected. */
static void test_srtp_transcoded(void **state)
{
	struct mt *t = *state;
	struct mt_call c;
	struct media_fmt f0 = mt_fmt(&codec_opus, 111, 20, 101);
	struct media_fmt f1 = mt_fmt(&codec_pcmu, 0, 20, 101);
	struct keys k;
	keys_make(&k, SDES_AEAD_AES_128_GCM);
	mt_call_up(t, &c, &f0, &f1);
	assert_int_equal(media_leg_set_srtp(t->me, c.id, 0, &k.ours, &k.phone), 0);
	mt_barrier(t, c.id);
	struct mt_tx a, b;
	struct mt_rx ra, rb;
	mt_tx_init(&a, &codec_opus, 111, 20, 800, -15, 0xa);
	a.srtp = k.ph;
	mt_tx_init(&b, &codec_pcmu, 0, 20, 0, -15, 0xb);
	mt_rx_init(&ra, &codec_opus, 111);
	ra.srtp = k.ph;
	mt_rx_init(&rb, &codec_pcmu, 0);
	uint8_t buf[1600];
	uint64_t due = mt_now_ms();
	b.hz = 1200;
	for (int i = 0; i < 60; i++) {
		mt_send(c.ph[0].fd, c.port[0], buf, mt_tx_next(&a, buf));
		mt_send(c.ph[1].fd, c.port[1], buf, mt_tx_next(&b, buf));
		due += 20;
		mt_run(t, (int)(due - mt_now_ms()));
		mt_rx_drain(&ra, c.ph[0].fd);
		mt_rx_drain(&rb, c.ph[1].fd);
	}
	size_t off;
	assert_true(rb.pkts > 40 && ra.pkts > 40);
	double la = mt_level_db(&rb, 400, &off);
	assert_true(fabs(peak_hz(rb.pcm + off, rb.n - off, rb.rate) - 800) <= 10);
	assert_true(fabs(la + 15) < 3);
	double lb = mt_level_db(&ra, 400, &off);
	assert_true(fabs(peak_hz(ra.pcm + off, ra.n - off, ra.rate) - 1200) <= 10);
	assert_true(fabs(lb + 15) < 3);
	mt_destroy(t, c.id);
	mt_tx_free(&a);
	mt_tx_free(&b);
	mt_rx_free(&ra);
	mt_rx_free(&rb);
	srtp_ctx_free(k.ph);
	mt_phones_close(&c);
}

static void test_srtp_errors(void **state)
{
	struct mt *t = *state;
	struct mt_call c;
	struct keys k;
	keys_make(&k, SDES_AES_CM_128_HMAC_SHA1_80);
	mt_call_up(t, &c, NULL, NULL);
	assert_int_equal(media_leg_set_srtp(t->me, c.id, 0, &k.ours, NULL), EINVAL);
	assert_int_equal(media_leg_set_srtp(t->me, c.id, 0, &k.ours, &k.ours), EINVAL);
	assert_int_equal(media_leg_set_srtp(t->me, c.id, 3, &k.ours, &k.phone), EINVAL);
	/* on and off again: plain relay */
	assert_int_equal(media_leg_set_srtp(t->me, c.id, 1, &k.ours, &k.phone), 0);
	assert_int_equal(media_leg_set_srtp(t->me, c.id, 1, NULL, NULL), 0);
	mt_barrier(t, c.id);
	uint8_t p[200], got[2048];
	size_t h = mt_rtp_hdr(p, 0, false, 1, 160, 0x77);
	memset(p + h, 1, 160);
	mt_send(c.ph[0].fd, c.port[0], p, h + 160);
	assert_int_equal(mt_recv(c.ph[1].fd, got, sizeof(got), 1000), (ssize_t)(h + 160));
	assert_memory_equal(got, p, h + 160);
	mt_destroy(t, c.id);
	srtp_ctx_free(k.ph);
	mt_phones_close(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_srtp_pass_through, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_srtp_transcoded, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_srtp_errors, mt_setup, mt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
