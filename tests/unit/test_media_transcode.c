/*
 * The media engine's decoding path between phones of different codecs
 * (media_leg_set_format): real RTP from UDP "phones" made with our own
 * encoders, through a real engine, decoded by the receiving phone and
 * checked for the tone's frequency and level, the packet size and the
 * RTP timestamps of the leg's codec; pass-through with payload-type
 * rewriting and unchanged bytes; the VAD events; the engine totals; the
 * RTCP reports we send on a leg whose audio is ours; opus switching to
 * CELT when the worker is busy.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "codec_test_util.h"
#include "media_test_util.h"

/* The last 400 ms that r decoded: dominant frequency and level. */
static void expect_tone(const struct mt_rx *r, double hz, double dbfs, double tol_db)
{
	size_t off;
	double lvl = mt_level_db(r, 400, &off);
	double peak = peak_hz(r->pcm + off, r->n - off, r->rate);
	print_message("    %s: %.0f Hz at %.1f dBFS (want %.0f Hz, %.1f)\n", r->d->name, peak,
		      lvl, hz, dbfs);
	assert_true(fabs(peak - hz) <= 10);
	assert_true(fabs(lvl - dbfs) <= tol_db);
}

static void test_pcmu_opus(void **state)
{
	struct mt *t = *state;
	struct mt_call c;
	struct media_fmt f0 = mt_fmt(&codec_pcmu, 0, 20, 101);
	struct media_fmt f1 = mt_fmt(&codec_opus, 111, 20, 101);
	mt_call_up(t, &c, &f0, &f1);
	struct mt_tx a, b;
	struct mt_rx ra, rb;
	mt_tx_init(&a, &codec_pcmu, 0, 20, 1000, -12, 0xa);
	mt_tx_init(&b, &codec_opus, 111, 20, 600, -12, 0xb);
	mt_rx_init(&ra, &codec_pcmu, 0);
	mt_rx_init(&rb, &codec_opus, 111);
	uint8_t buf[1600];
	uint64_t due = mt_now_ms();
	for (int i = 0; i < 75; i++) { /* 1.5 s, both ways */
		mt_send(c.ph[0].fd, c.port[0], buf, mt_tx_next(&a, buf));
		mt_send(c.ph[1].fd, c.port[1], buf, mt_tx_next(&b, buf));
		due += 20;
		mt_run(t, (int)(due - mt_now_ms()));
		mt_rx_drain(&ra, c.ph[0].fd);
		mt_rx_drain(&rb, c.ph[1].fd);
	}
	mt_run(t, 100);
	mt_rx_drain(&ra, c.ph[0].fd);
	mt_rx_drain(&rb, c.ph[1].fd);
	/* 75 packets went each way; a worker late on a loaded machine gets up
	 * to 2 s more to deliver 60 of them */
	for (uint64_t end = mt_now_ms() + 2000; (rb.pkts < 60 || ra.pkts < 60) && mt_now_ms() < end;) {
		mt_run(t, 20);
		mt_rx_drain(&ra, c.ph[0].fd);
		mt_rx_drain(&rb, c.ph[1].fd);
	}
	assert_true(rb.pkts >= 60 && ra.pkts >= 60);
	expect_tone(&rb, 1000, -12, 3); /* PCMU phone -> opus phone */
	expect_tone(&ra, 600, -12, 3);  /* and back */
	/* our own stream in each leg's clock: opus 48 kHz, PCMU 8 kHz */
	assert_int_equal(rb.ts_step, 960);
	assert_int_equal(ra.ts_step, 160);
	assert_int_equal(ra.last_len, 160);
	assert_int_equal(rb.bad_seq + ra.bad_seq, 0);
	assert_int_equal(rb.ssrcs + ra.ssrcs, 0);
	assert_int_not_equal(rb.ssrc, 0xa); /* not the phone's stream */
	struct media_call_stats st = mt_destroy(t, c.id);
	mt_rx_drain(&ra, c.ph[0].fd);
	mt_rx_drain(&rb, c.ph[1].fd);
	assert_int_equal(st.leg[0].rx_packets, 75);
	assert_int_equal(st.leg[1].tx_packets, rb.pkts);
	assert_int_equal(st.leg[0].tx_packets, ra.pkts);
	mt_tx_free(&a);
	mt_tx_free(&b);
	mt_rx_free(&ra);
	mt_rx_free(&rb);
	mt_phones_close(&c);
}

/* G.722 at 20 ms one side, PCMA at 30 ms the other: the ptime FIFO. */
static void test_g722_pcma_ptime(void **state)
{
	struct mt *t = *state;
	struct mt_call c;
	struct media_fmt f0 = mt_fmt(&codec_g722, 9, 20, 101);
	struct media_fmt f1 = mt_fmt(&codec_pcma, 8, 30, 101);
	mt_call_up(t, &c, &f0, &f1);
	struct mt_tx a, b;
	struct mt_rx ra, rb;
	mt_tx_init(&a, &codec_g722, 9, 20, 1000, -10, 0xa);
	mt_tx_init(&b, &codec_pcma, 8, 30, 700, -10, 0xb);
	mt_rx_init(&ra, &codec_g722, 9);
	mt_rx_init(&rb, &codec_pcma, 8);
	uint8_t buf[1600];
	uint64_t start = mt_now_ms();
	unsigned na = 0, nb = 0;
	for (uint64_t el = 0; el < 1500; el = mt_now_ms() - start) {
		if (na * 20 <= el) {
			mt_send(c.ph[0].fd, c.port[0], buf, mt_tx_next(&a, buf));
			na++;
		}
		if (nb * 30 <= el) {
			mt_send(c.ph[1].fd, c.port[1], buf, mt_tx_next(&b, buf));
			nb++;
		}
		mt_run(t, 5);
		mt_rx_drain(&ra, c.ph[0].fd);
		mt_rx_drain(&rb, c.ph[1].fd);
	}
	mt_run(t, 100);
	mt_rx_drain(&ra, c.ph[0].fd);
	mt_rx_drain(&rb, c.ph[1].fd);
	/* what was sent, counted by the loop above (na 20 ms packets from the
	 * G.722 phone, nb 30 ms ones from the PCMA phone), not the wall-clock
	 * time it took: B must get na*20/30 packets of 30 ms and A nb*30/20
	 * of 20 ms; a late worker gets up to 2 s more for four fifths of them */
	unsigned want_rb = na * 20 / 30, want_ra = nb * 30 / 20;
	for (uint64_t end = mt_now_ms() + 2000;
	     (rb.pkts < want_rb * 4 / 5 || ra.pkts < want_ra * 4 / 5) && mt_now_ms() < end;) {
		mt_run(t, 20);
		mt_rx_drain(&ra, c.ph[0].fd);
		mt_rx_drain(&rb, c.ph[1].fd);
	}
	expect_tone(&rb, 1000, -10, 3);
	expect_tone(&ra, 700, -10, 3);
	assert_int_equal(rb.last_len, 240); /* 30 ms of PCMA */
	assert_int_equal(rb.ts_step, 240);
	assert_int_equal(ra.last_len, 160); /* 20 ms of G.722 */
	assert_int_equal(ra.ts_step, 160);  /* its RTP clock is 8000 */
	/* about 50 packets of 30 ms and 75 of 20 ms (and a few of
	 * concealment once the phones stop: at most 300 ms of it) */
	print_message("    packets: %u of 30 ms (%u sent as 20 ms), %u of 20 ms (%u sent as 30 ms)\n",
		      rb.pkts, na, ra.pkts, nb);
	assert_true(rb.pkts >= want_rb * 4 / 5 && rb.pkts <= want_rb + 10);
	assert_true(ra.pkts >= want_ra * 4 / 5 && ra.pkts <= want_ra + 15);
	mt_destroy(t, c.id);
	mt_tx_free(&a);
	mt_tx_free(&b);
	mt_rx_free(&ra);
	mt_rx_free(&rb);
	mt_phones_close(&c);
}

/* Same codec, different payload type numbers: only the PT byte changes
 * (telephone-event too); everything else arrives byte for byte. */
static void test_pt_rewrite(void **state)
{
	struct mt *t = *state;
	struct mt_call c;
	struct media_fmt f0 = mt_fmt(&codec_opus, 111, 20, 101);
	struct media_fmt f1 = mt_fmt(&codec_opus, 96, 20, 100);
	mt_call_up(t, &c, &f0, &f1);
	uint8_t p[200], got[2048];
	for (uint16_t s = 1; s <= 20; s++) {
		bool dtmf = s == 10;
		size_t h = mt_rtp_hdr(p, dtmf ? 101 : 111, s == 1, s, s * 960u, 0x1234);
		for (int i = 0; i < 60; i++)
			p[h + i] = (uint8_t)(s + i);
		if (dtmf) { /* a '4' end packet: 4 bytes */
			p[h] = 4, p[h + 1] = 0x80 | 10, p[h + 2] = 0x03, p[h + 3] = 0x20;
		}
		size_t len = h + (dtmf ? 4 : 60);
		mt_send(c.ph[0].fd, c.port[0], p, len);
		ssize_t k = mt_recv(c.ph[1].fd, got, sizeof(got), 1000);
		assert_int_equal(k, (ssize_t)len);
		assert_int_equal(got[1], (s == 1 ? 0x80 : 0) | (dtmf ? 100 : 96));
		assert_int_equal(got[0], p[0]);
		assert_memory_equal(got + 2, p + 2, len - 2);
	}
	/* the other way, numbers mapped back */
	size_t h = mt_rtp_hdr(p, 96, false, 7, 7, 0x99);
	mt_send(c.ph[1].fd, c.port[1], p, h + 10);
	assert_int_equal(mt_recv(c.ph[0].fd, got, sizeof(got), 1000), (ssize_t)(h + 10));
	assert_int_equal(got[1], 111);
	assert_non_null(mt_wait(t, MEDIA_EV_DTMF, c.id, 0, 1000));
	mt_destroy(t, c.id);
	mt_phones_close(&c);
}

/* Same format both sides: the packets go through untouched, no tick. */
static void test_pass_through_unchanged(void **state)
{
	struct mt *t = *state;
	struct mt_call c;
	struct media_fmt f = mt_fmt(&codec_pcmu, 0, 20, 101);
	mt_call_up(t, &c, &f, &f);
	uint8_t p[200], got[2048];
	for (uint16_t s = 1; s <= 30; s++) {
		size_t h = mt_rtp_hdr(p, 0, false, s, s * 160u, 0xabc);
		for (int i = 0; i < 160; i++)
			p[h + i] = (uint8_t)(s * 3 + i);
		mt_send(c.ph[0].fd, c.port[0], p, h + 160);
		assert_int_equal(mt_recv(c.ph[1].fd, got, sizeof(got), 1000), (ssize_t)(h + 160));
		assert_memory_equal(got, p, h + 160);
		mt_send(c.ph[1].fd, c.port[1], p, h + 160);
		assert_int_equal(mt_recv(c.ph[0].fd, got, sizeof(got), 1000), (ssize_t)(h + 160));
		assert_memory_equal(got, p, h + 160);
	}
	/* nothing of our own is sent meanwhile */
	assert_int_equal(mt_recv(c.ph[1].fd, got, sizeof(got), 100), -1);
	struct media_call_stats st = mt_destroy(t, c.id);
	assert_int_equal(st.leg[1].tx_packets, 30);
	assert_int_equal(st.leg[0].tx_packets, 30);
	assert_int_equal(st.leg[1].tx_bytes, 30 * 172);
	uint64_t relayed = 0, lost = 1;
	media_engine_totals(t->me, &relayed, &lost);
	assert_int_equal(relayed, 60);
	assert_int_equal(lost, 0);
	mt_phones_close(&c);
}

/* A decoded leg reports talk and silence (energy VAD with hysteresis). */
static void test_vad(void **state)
{
	struct mt *t = *state;
	struct mt_call c;
	struct media_fmt f0 = mt_fmt(&codec_pcmu, 0, 20, 101);
	struct media_fmt f1 = mt_fmt(&codec_g722, 9, 20, 101);
	mt_call_up(t, &c, &f0, &f1);
	struct mt_tx a;
	mt_tx_init(&a, &codec_pcmu, 0, 20, 0, -70, 0xa);
	mt_stream(t, &a, c.ph[0].fd, c.port[0], 15, NULL, -1, NULL, -1);
	assert_int_equal(mt_count(t, MEDIA_EV_TALK, c.id), 0);
	a.hz = 400;
	a.dbfs = -20;
	mt_stream(t, &a, c.ph[0].fd, c.port[0], 20, NULL, -1, NULL, -1);
	assert_non_null(mt_wait(t, MEDIA_EV_TALK, c.id, 0, 500));
	assert_int_equal(mt_count(t, MEDIA_EV_SILENCE, c.id), 0);
	a.hz = 0;
	mt_stream(t, &a, c.ph[0].fd, c.port[0], 40, NULL, -1, NULL, -1);
	assert_non_null(mt_wait(t, MEDIA_EV_SILENCE, c.id, 0, 500));
	assert_int_equal(mt_count(t, MEDIA_EV_TALK, c.id), 0); /* once */
	mt_destroy(t, c.id);
	mt_tx_free(&a);
	mt_phones_close(&c);
}

static void test_format_errors(void **state)
{
	struct mt *t = *state;
	uint32_t id;
	assert_int_equal(media_call_create(t->me, &id, mt_on_ev, t), 0);
	struct media_fmt f = mt_fmt(&codec_pcmu, 0, 25, -1);
	assert_int_equal(media_leg_set_format(t->me, id, 0, &f), EINVAL);
	f.ptime = 20;
	assert_int_equal(media_leg_set_format(t->me, id, 2, &f), EINVAL);
	assert_int_equal(media_leg_set_format(t->me, id, 0, NULL), EINVAL);
	assert_int_equal(media_leg_set_format(t->me, id + 1000, 0, &f), ENOENT);
	assert_int_equal(media_leg_set_format(t->me, id, 0, &f), 0);
	assert_int_equal(media_leg_send_dtmf(t->me, id, 0, 'x', 0), EINVAL);
	assert_int_equal(media_leg_set_srtp(t->me, id, 0, NULL, NULL), 0);
	mt_destroy(t, id);
}

/* RTCP on a transcoded call (rtcp_sr.c): the opus phone hears our stream,
 * so we send it sender reports about that stream, with a report block on
 * what it sends us (5 of its packets lost on the way) and our CNAME. */
static int setup_rtcp(void **state)
{
	return mt_setup_with(state, 200, 0);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_rtcp_reports(void **state)
{
	struct mt *t = *state;
	struct mt_call c;
	struct media_fmt f0 = mt_fmt(&codec_pcmu, 0, 20, 101);
	struct media_fmt f1 = mt_fmt(&codec_opus, 111, 20, 101);
	mt_call_up(t, &c, &f0, &f1);
	struct mt_phone rtcp;
	mt_phone_open(&rtcp);
	struct media_remote r;
	memset(&r, 0, sizeof(r));
	memcpy(&r.rtp, &c.ph[1].addr, sizeof(r.rtp));
	memcpy(&r.rtcp, &rtcp.addr, sizeof(r.rtcp));
	r.clock_rate = 48000;
	assert_int_equal(media_leg_set_remote(t->me, c.id, 1, &r), 0);

	struct mt_tx a, b;
	struct mt_rx rb;
	mt_tx_init(&a, &codec_pcmu, 0, 20, 1000, -12, 0xa);
	mt_tx_init(&b, &codec_opus, 111, 20, 600, -12, 0xb);
	mt_rx_init(&rb, &codec_opus, 111);
	uint8_t buf[1600];
	uint16_t last_seq = 0;
	uint64_t due = mt_now_ms();
	for (int i = 0; i < 60; i++) { /* 1.2 s */
		mt_send(c.ph[0].fd, c.port[0], buf, mt_tx_next(&a, buf));
		last_seq = b.seq;
		size_t n = mt_tx_next(&b, buf);
		if (i < 10 || i >= 15) /* packets 10-14 are lost */
			mt_send(c.ph[1].fd, c.port[1], buf, n);
		if (i == 30) {
			/* the phone's own sender report: NTP 0x11223344.55667788 */
			static const uint8_t sr[28] = { 0x80, 200, 0, 6, 0, 0, 0, 0xb, 0x11, 0x22,
							0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
			mt_send(rtcp.fd, (uint16_t)(c.port[1] + 1), sr, sizeof(sr));
		}
		due += 20;
		mt_run(t, (int)(due - mt_now_ms()));
		mt_rx_drain(&rb, c.ph[1].fd);
	}
	mt_run(t, 400); /* > 1.5 intervals: a report after the last packet */
	mt_rx_drain(&rb, c.ph[1].fd);
	/* the newest report */
	uint8_t rep[600];
	ssize_t got, len = -1;
	int reports = 0;
	while ((got = mt_recv(rtcp.fd, buf, sizeof(buf), 0)) > 0) {
		memcpy(rep, buf, (size_t)got < sizeof(rep) ? (size_t)got : sizeof(rep));
		len = got;
		reports++;
	}
	print_message("    %d reports in 1.6 s (mean interval 200 ms)\n", reports);
	assert_true(reports >= 3 && reports <= 16);
	struct rtcp_info ri;
	assert_int_equal(rtcp_parse(&ri, rep, (size_t)len), 0);
	assert_int_equal(ri.count, 2);
	assert_int_equal(rep[1], RTCP_SR);
	assert_int_equal(rep[0] & 0x1f, 1); /* one report block */
	assert_int_equal(get32(rep + 4), rb.ssrc); /* the stream the phone hears */
	uint32_t pkts = get32(rep + 20);
	assert_true(pkts > 0 && pkts <= rb.pkts + 2);
	const uint8_t *blk = rep + 28;
	assert_int_equal(get32(blk), 0xb); /* on the phone's own stream */
	assert_int_equal(get32(blk + 4) & 0xffffff, 5);  /* cumulative lost */
	assert_int_equal(get32(blk + 8) & 0xffff, last_seq); /* highest seq */
	/* LSR: the middle of its SR's NTP time; DLSR: since then, 1/65536 s
	 * (sent 0.6 s in, the last report comes 0.6 to 1.2 s later) */
	assert_int_equal(get32(blk + 16), 0x33445566);
	uint32_t dlsr = get32(blk + 20);
	print_message("    DLSR %.3f s\n", dlsr / 65536.0);
	assert_true(dlsr > 65536 / 5 && dlsr < 2 * 65536);
	const uint8_t *sdes = rep + 52;
	assert_int_equal(sdes[1], RTCP_SDES);
	assert_int_equal(get32(sdes + 4), rb.ssrc);
	assert_int_equal(sdes[8], 1); /* CNAME */
	assert_true(sdes[9] > 0);
	struct media_call_stats st = mt_destroy(t, c.id);
	assert_int_equal(st.leg[1].rtcp_tx, (uint64_t)reports);
	/* the opus phone's audio went through a jitter buffer that filled in
	 * the 5 lost packets (and a few after it stopped sending) */
	print_message("    jitter buffer: %u ms (at most %u), %llu concealed\n", st.leg[1].jb_delay_ms,
		      st.leg[1].jb_max_delay_ms, (unsigned long long)st.leg[1].jb_concealed);
	assert_true(st.leg[1].decoded);
	/* a packet late because this thread was held up on a loaded machine
	 * is concealed too (and counted late): allow one concealment each */
	print_message("    late %llu\n", (unsigned long long)st.leg[1].jb_late);
	assert_true(st.leg[1].jb_concealed >= 5 && st.leg[1].jb_concealed <= 15 + st.leg[1].jb_late);
	assert_true(st.leg[1].jb_max_delay_ms > 0);
	close(rtcp.fd);
	mt_tx_free(&a);
	mt_tx_free(&b);
	mt_rx_free(&rb);
	mt_phones_close(&c);
}

/* Load shedding (media_cfg.opus_low_cpu_above): a worker over the limit
 * re-makes its opus encoders in CELT mode; the phones' streams go on
 * (same SSRC, no sequence gap) and still carry the tone; once the load is
 * gone, SILK again. The limit is 4% of a core here: sixteen transcoded
 * calls pass it (0.3 to 0.5% each with ASan), one is well under two
 * thirds of it. */
#define BUSY_CALLS 16

static int setup_busy(void **state)
{
	return mt_setup_with(state, 60000, 4);
}

static bool opus_toc_celt(uint8_t toc)
{
	return (toc >> 3) >= 16; /* RFC 6716 3.1: configs 16-31 are CELT-only */
}

static void test_opus_sheds_load(void **state)
{
	struct mt *t = *state;
	struct mt_call c[BUSY_CALLS];
	struct mt_tx a[BUSY_CALLS];
	struct mt_rx rb[BUSY_CALLS];
	struct media_fmt f0 = mt_fmt(&codec_pcmu, 0, 20, 101);
	struct media_fmt f1 = mt_fmt(&codec_opus, 111, 20, 101);
	for (int k = 0; k < BUSY_CALLS; k++) {
		mt_call_up(t, &c[k], &f0, &f1);
		mt_tx_init(&a[k], &codec_pcmu, 0, 20, 1000, -12, 0xa0u + (uint32_t)k);
		mt_rx_init(&rb[k], &codec_opus, 111);
	}
	uint8_t buf[1600];
	uint64_t due = mt_now_ms();
	for (int i = 0; i < 125; i++) { /* 2.5 s: the load is read each second */
		for (int k = 0; k < BUSY_CALLS; k++)
			mt_send(c[k].ph[0].fd, c[k].port[0], buf, mt_tx_next(&a[k], buf));
		due += 20;
		mt_run(t, (int)(due - mt_now_ms()));
		for (int k = 0; k < BUSY_CALLS; k++)
			mt_rx_drain(&rb[k], c[k].ph[1].fd);
	}
	for (int k = 0; k < BUSY_CALLS; k++) {
		assert_false(opus_toc_celt(rb[k].first_byte));
		assert_true(opus_toc_celt(rb[k].last_byte));
		assert_int_equal(rb[k].ssrcs + rb[k].bad_seq, 0);
	}
	print_message("    %d calls: SILK first, CELT at the end, one stream each\n", BUSY_CALLS);
	expect_tone(&rb[0], 1000, -12, 3);
	/* the load goes: one call left, well under two thirds of the limit,
	 * is coded with SILK again */
	for (int k = 1; k < BUSY_CALLS; k++)
		mt_destroy(t, c[k].id);
	for (int i = 0; i < 125; i++) {
		mt_send(c[0].ph[0].fd, c[0].port[0], buf, mt_tx_next(&a[0], buf));
		due += 20;
		mt_run(t, (int)(due - mt_now_ms()));
		mt_rx_drain(&rb[0], c[0].ph[1].fd);
	}
	assert_false(opus_toc_celt(rb[0].last_byte));
	assert_int_equal(rb[0].ssrcs + rb[0].bad_seq, 0);
	mt_destroy(t, c[0].id);
	for (int k = 0; k < BUSY_CALLS; k++) {
		mt_tx_free(&a[k]);
		mt_rx_free(&rb[k]);
		mt_phones_close(&c[k]);
	}
}

/* One direction pass-through, the other ours (a tone plays to leg 1):
 * the phone whose stream passes unchanged has its RTCP forwarded; the
 * other phone's RTCP, which describes a stream leg 1 does not hear now,
 * stays here. */
static void test_rtcp_forwarding_mixed(void **state)
{
	struct mt *t = *state;
	struct mt_call c;
	struct media_fmt f = mt_fmt(&codec_pcmu, 0, 20, 101);
	mt_call_up(t, &c, &f, &f);
	assert_int_equal(media_leg_tone(t->me, c.id, 1, "ringback", 0), 0);
	struct mt_phone rtcp[2];
	for (unsigned i = 0; i < 2; i++) {
		mt_phone_open(&rtcp[i]);
		struct media_remote r;
		memset(&r, 0, sizeof(r));
		memcpy(&r.rtp, &c.ph[i].addr, sizeof(r.rtp));
		memcpy(&r.rtcp, &rtcp[i].addr, sizeof(r.rtcp));
		r.clock_rate = 8000;
		assert_int_equal(media_leg_set_remote(t->me, c.id, i, &r), 0);
	}
	mt_barrier(t, c.id);
	uint8_t rr[8] = { 0x80, 201, 0, 1, 0, 0, 0, 0xb }, got[64];
	/* phone 1's stream reaches phone 0 unchanged: its RTCP follows */
	mt_send(rtcp[1].fd, (uint16_t)(c.port[1] + 1), rr, sizeof(rr));
	assert_int_equal(mt_recv(rtcp[0].fd, got, sizeof(got), 2000), 8);
	assert_memory_equal(got, rr, 8);
	/* phone 1 hears our stream: phone 0's RTCP is not for it */
	rr[7] = 0xa;
	mt_send(rtcp[0].fd, (uint16_t)(c.port[0] + 1), rr, sizeof(rr));
	assert_int_equal(mt_recv(rtcp[1].fd, got, sizeof(got), 300), -1);
	struct media_call_stats st = mt_destroy(t, c.id);
	assert_int_equal(st.leg[0].rtcp_rx, 1);
	assert_int_equal(st.leg[0].rtcp_tx, 1);
	assert_int_equal(st.leg[1].rtcp_tx, 0);
	for (unsigned i = 0; i < 2; i++)
		close(rtcp[i].fd);
	mt_phones_close(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pcmu_opus, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_g722_pcma_ptime, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_pt_rewrite, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_pass_through_unchanged, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_vad, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_format_errors, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_rtcp_reports, setup_rtcp, mt_teardown),
		cmocka_unit_test_setup_teardown(test_rtcp_forwarding_mixed, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_opus_sheds_load, setup_busy, mt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
