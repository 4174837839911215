/*
 * DTMF in the media engine: RFC 4733 events from a phone give one
 * MEDIA_EV_DTMF and reach the other leg forwarded (pass-through, PT
 * mapped) or regenerated in its clock with end packets (transcoded); an
 * in-band digit in PCMU from a phone without telephone-event is detected
 * and relayed as RFC 4733; media_leg_send_dtmf produces in-band tones to a
 * phone without telephone-event (checked with our own SpanDSP detector)
 * and RFC 4733 packets slipped into a pass-through stream.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "codec_test_util.h"
#include "dtmf_test_util.h"
#include "media_test_util.h"

#include "../../core/media/dtmf/dtmf4733.h"
#include "../../core/media/dtmf/dtmf_inband.h"

/* RFC 4733 packets seen by a phone: the digit, how many had E, clocks. */
struct ev_rx {
	uint8_t pt;
	unsigned pkts, ends, markers;
	int code;
	uint32_t ts;
	bool ts_same;
	uint16_t last_dur;
	uint32_t ssrc;
};

static void ev_scan(struct ev_rx *e, int fd, int ms)
{
	uint8_t b[2048];
	uint64_t end = mt_now_ms() + (uint64_t)ms;
	for (uint64_t n = mt_now_ms(); n < end; n = mt_now_ms()) {
		ssize_t k = mt_recv(fd, b, sizeof(b), (int)(end - n));
		if (k < 0)
			break;
		struct rtp_hdr h;
		struct dtmf4733_ev ev;
		if (rtp_hdr_parse(&h, b, (size_t)k) || h.pt != e->pt ||
		    dtmf4733_parse(&ev, b + h.hdr_len, h.payload_len))
			continue;
		if (!e->pkts) {
			e->ts = h.ts;
			e->ts_same = true;
			e->code = ev.event;
			e->ssrc = h.ssrc;
		} else if (h.ts != e->ts) {
			e->ts_same = false;
		}
		e->pkts++;
		e->ends += ev.end;
		e->markers += h.marker;
		e->last_dur = ev.duration;
	}
}

/* A '5' pressed for 200 ms as a phone sends it: marker, updates every
 * 20 ms, three end packets. */
static void send_4733(struct mt *t, int fd, uint16_t port, uint8_t pt, uint16_t seq0,
		      uint32_t ts, uint32_t ssrc, uint8_t code, uint32_t clock)
{
	uint8_t b[64];
	uint16_t seq = seq0;
	uint32_t step = clock / 50;
	for (int i = 1; i <= 13; i++) {
		bool end = i >= 11;
		uint16_t dur = (uint16_t)((end ? 10 : i) * step);
		size_t h = mt_rtp_hdr(b, pt, i == 1, seq++, ts, ssrc);
		dtmf4733_encode(b + h, code, end, 10, dur);
		mt_send(fd, port, b, h + 4);
		mt_run(t, end ? 5 : 20);
	}
}

static void test_4733_pass_through(void **state)
{
	struct mt *t = *state;
	struct mt_call c;
	struct media_fmt f0 = mt_fmt(&codec_pcmu, 0, 20, 101);
	struct media_fmt f1 = mt_fmt(&codec_pcmu, 0, 20, 96);
	mt_call_up(t, &c, &f0, &f1);
	send_4733(t, c.ph[0].fd, c.port[0], 101, 100, 16000, 0xd, 5, 8000);
	struct ev_rx e = { .pt = 96 };
	/* every packet was sent before the scan: the window only has to be
	 * long enough for a slow worker to relay them, and sees any extra */
	ev_scan(&e, c.ph[1].fd, 1000);
	assert_int_equal(e.pkts, 13); /* forwarded, not regenerated */
	assert_int_equal(e.ends, 3);
	assert_int_equal(e.code, 5);
	assert_int_equal(e.ts, 16000);
	assert_int_equal(e.ssrc, 0xd);
	const struct media_event *ev = mt_wait(t, MEDIA_EV_DTMF, c.id, 0, 500);
	assert_non_null(ev);
	assert_int_equal(ev->digit, '5');
	assert_int_equal(ev->dtmf_src, MEDIA_DTMF_RFC4733);
	mt_run(t, 100);
	assert_int_equal(mt_count(t, MEDIA_EV_DTMF, c.id), 0); /* once per press */
	/* relay off: the packets stop here, the event still comes */
	assert_int_equal(media_call_dtmf_relay(t->me, c.id, false), 0);
	mt_barrier(t, c.id);
	send_4733(t, c.ph[0].fd, c.port[0], 101, 200, 32000, 0xd, 7, 8000);
	struct ev_rx e2 = { .pt = 96 };
	ev_scan(&e2, c.ph[1].fd, 200);
	assert_int_equal(e2.pkts, 0);
	ev = mt_wait(t, MEDIA_EV_DTMF, c.id, 0, 500);
	assert_non_null(ev);
	assert_int_equal(ev->digit, '7');
	mt_destroy(t, c.id);
	mt_phones_close(&c);
}

/* PCMU phone -> opus phone: the digit is regenerated in opus' 48 kHz clock,
 * in our stream, with three end packets. */
static void test_4733_transcoded(void **state)
{
	struct mt *t = *state;
	struct mt_call c;
	struct media_fmt f0 = mt_fmt(&codec_pcmu, 0, 20, 101);
	struct media_fmt f1 = mt_fmt(&codec_opus, 111, 20, 110);
	mt_call_up(t, &c, &f0, &f1);
	send_4733(t, c.ph[0].fd, c.port[0], 101, 100, 16000, 0xd, 9, 8000);
	struct ev_rx e = { .pt = 110 };
	ev_scan(&e, c.ph[1].fd, 1000); /* the regenerated press and its ends, even from a late worker */
	print_message("    regenerated: %u packets, %u ends, duration %u\n", e.pkts, e.ends,
		      e.last_dur);
	assert_true(e.pkts >= 6);
	assert_int_equal(e.ends, 3);
	assert_int_equal(e.code, 9);
	assert_int_equal(e.markers, 1);
	assert_true(e.ts_same);
	assert_int_not_equal(e.ssrc, 0xd);
	/* about 200 ms in 48 kHz units (the press as we saw it) */
	assert_true(e.last_dur >= 48 * 150 && e.last_dur <= 48 * 320);
	const struct media_event *ev = mt_wait(t, MEDIA_EV_DTMF, c.id, 0, 500);
	assert_non_null(ev);
	assert_int_equal(ev->digit, '9');
	mt_destroy(t, c.id);
	mt_phones_close(&c);
}

/* PCMU audio carrying the tones of '7' from a phone without
 * telephone-event: MEDIA_EV_DTMF (in-band), and RFC 4733 to the other. */
static void test_inband_in(void **state)
{
	struct mt *t = *state;
	struct mt_call c;
	struct media_fmt f0 = mt_fmt(&codec_pcmu, 0, 20, -1);
	struct media_fmt f1 = mt_fmt(&codec_pcmu, 0, 20, 101);
	mt_call_up(t, &c, &f0, &f1);
	struct dtmf_inband_tx *gen;
	assert_int_equal(dtmf_inband_tx_alloc(&gen), 0);
	struct codec_enc *enc;
	assert_int_equal(codec_enc_alloc(&enc, &codec_pcmu, NULL), 0);
	uint8_t b[300];
	uint64_t due = mt_now_ms();
	struct ev_rx e = { .pt = 101 };
	for (uint16_t s = 0; s < 40; s++) {
		int16_t pcm[160] = { 0 };
		if (s == 10)
			assert_int_equal(dtmf_inband_tx_put(gen, "7", 120, 60), 0);
		if (s >= 10)
			dtmf_inband_tx_gen(gen, pcm, 160);
		size_t h = mt_rtp_hdr(b, 0, false, s, s * 160u, 0x11);
		assert_int_equal(codec_encode(enc, pcm, 160, b + h, 200), 160);
		mt_send(c.ph[0].fd, c.port[0], b, h + 160);
		due += 20;
		mt_run(t, (int)(due - mt_now_ms()));
		ev_scan(&e, c.ph[1].fd, 0);
	}
	ev_scan(&e, c.ph[1].fd, 300);
	const struct media_event *ev = mt_wait(t, MEDIA_EV_DTMF, c.id, 0, 500);
	assert_non_null(ev);
	assert_int_equal(ev->digit, '7');
	assert_int_equal(ev->dtmf_src, MEDIA_DTMF_INBAND);
	assert_int_equal(mt_count(t, MEDIA_EV_DTMF, c.id), 0);
	assert_int_equal(e.code, 7);
	assert_int_equal(e.ends, 3);
	mt_destroy(t, c.id);
	dtmf_inband_tx_free(gen);
	codec_enc_free(enc);
	mt_phones_close(&c);
}

/* media_leg_send_dtmf: in-band tones to a phone without telephone-event
 * (during pass-through), RFC 4733 to one with it. */
static void test_send_dtmf(void **state)
{
	struct mt *t = *state;
	struct mt_call c;
	struct media_fmt f0 = mt_fmt(&codec_pcmu, 0, 20, -1);
	struct media_fmt f1 = mt_fmt(&codec_pcmu, 0, 20, -1);
	mt_call_up(t, &c, &f0, &f1);
	assert_int_equal(media_leg_send_dtmf(t->me, c.id, 0, '9', 150), 0);
	struct mt_rx r;
	mt_rx_init(&r, &codec_pcmu, 0);
	mt_stream(t, NULL, -1, 0, 25, &r, c.ph[0].fd, NULL, -1);
	assert_true(r.pkts >= 8);
	struct rec got = { 0 };
	struct dtmf_inband_rx *det;
	assert_int_equal(dtmf_inband_rx_alloc(&det, rec_h, &got), 0);
	dtmf_inband_rx_put(det, r.pcm, r.n);
	int16_t quiet[800] = { 0 };
	dtmf_inband_rx_put(det, quiet, 800);
	assert_int_equal(got.nbegin, 1);
	assert_int_equal(got.begins[0], '9');
	/* after the tones, nothing more from us (back to pass-through) */
	unsigned before = r.pkts;
	mt_stream(t, NULL, -1, 0, 10, &r, c.ph[0].fd, NULL, -1);
	assert_int_equal(r.pkts, before);
	dtmf_inband_rx_free(det);
	mt_rx_free(&r);

	/* RFC 4733 slipped into the stream forwarded to a phone that has it */
	struct media_fmt g = mt_fmt(&codec_pcmu, 0, 20, 101);
	assert_int_equal(media_leg_set_format(t->me, c.id, 0, &g), 0);
	assert_int_equal(media_leg_set_format(t->me, c.id, 1, &g), 0);
	mt_barrier(t, c.id);
	uint8_t p[200], buf[2048];
	for (uint16_t s = 1; s <= 3; s++) {
		size_t h = mt_rtp_hdr(p, 0, false, s, s * 160u, 0x42);
		mt_send(c.ph[1].fd, c.port[1], p, h + 160);
		assert_true(mt_recv(c.ph[0].fd, buf, sizeof(buf), 500) > 0);
	}
	assert_int_equal(media_leg_send_dtmf(t->me, c.id, 0, '3', 100), 0);
	struct ev_rx e = { .pt = 101 };
	ev_scan(&e, c.ph[0].fd, 400);
	assert_int_equal(e.code, 3);
	assert_int_equal(e.ends, 3);
	assert_int_equal(e.ssrc, 0x42); /* in the forwarded stream */
	/* the stream's next packet comes after our sequence numbers */
	size_t h = mt_rtp_hdr(p, 0, false, 4, 4 * 160u, 0x42);
	mt_send(c.ph[1].fd, c.port[1], p, h + 160);
	assert_true(mt_recv(c.ph[0].fd, buf, sizeof(buf), 500) > 0);
	struct rtp_hdr rh;
	assert_int_equal(rtp_hdr_parse(&rh, buf, h + 160), 0);
	assert_int_equal(rh.seq, (uint16_t)(4 + e.pkts));
	mt_destroy(t, c.id);
	mt_phones_close(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_4733_pass_through, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_4733_transcoded, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_inband_in, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_send_dtmf, mt_setup, mt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
