/*
 * Unit tests for RFC 4733 DTMF in the media engine: the payload parser,
 * the receiver and the generator (core/media/dtmf4733*.c). The receiver is
 * fed the packet sequences that phones and networks really produce (first
 * packets lost, end packets repeated, no marker, long presses across a
 * timestamp wrap, the same key twice, garbage); every test also checks the
 * receiver's promise of one BEGIN and one END per key press, and the
 * generator's packets are checked field by field and fed back through the
 * receiver. In-band DTMF is in test_dtmf_inband.c, SIP INFO bodies in
 * test_dtmf_info.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/media/dtmf/dtmf.h"
#include "../../core/media/dtmf/dtmf4733.h"
#include "dtmf_test_util.h"

/* --- helpers --------------------------------------------------------------- */

/* One telephone-event packet into the receiver. */
static int put(struct dtmf4733_rx *rx, uint32_t ts, uint8_t code, bool end,
	       uint16_t dur, uint64_t now)
{
	uint8_t p[4];
	dtmf4733_encode(p, code, end, 10, dur);
	return dtmf4733_rx_put(rx, ts, p, sizeof(p), now);
}

static uint32_t rng_state = 0x12345678;
static uint32_t rnd(void)
{
	return xorshift32(&rng_state);
}

/* --- payload parser -------------------------------------------------------- */

static void test_parse(void **state)
{
	(void)state;
	struct dtmf4733_ev ev;
	uint8_t p[72] = { 11, 0x80 | 0x40 | 13, 0x03, 0x20 };
	assert_int_equal(dtmf4733_parse(&ev, p, 4), 0);
	assert_int_equal(ev.event, 11);
	assert_true(ev.end);
	assert_int_equal(ev.volume, 13); /* R bit ignored */
	assert_int_equal(ev.duration, 800);
	assert_int_equal(ev.nblocks, 1);
	p[1] = 63;
	assert_int_equal(dtmf4733_parse(&ev, p, 4), 0);
	assert_false(ev.end);
	assert_int_equal(ev.volume, 63);
	/* redundancy: whole blocks only, the first one counts */
	assert_int_equal(dtmf4733_parse(&ev, p, 8), 0);
	assert_int_equal(ev.nblocks, 2);
	assert_int_equal(ev.event, 11);
	assert_int_equal(dtmf4733_parse(&ev, p, 64), 0);
	for (size_t n = 0; n < 4; n++)
		assert_int_equal(dtmf4733_parse(&ev, p, n), EBADMSG);
	assert_int_equal(dtmf4733_parse(&ev, p, 5), EBADMSG);
	assert_int_equal(dtmf4733_parse(&ev, p, 7), EBADMSG);
	assert_int_equal(dtmf4733_parse(&ev, p, 68), EBADMSG);
	assert_int_equal(dtmf4733_parse(&ev, NULL, 4), EBADMSG);
	assert_int_equal(dtmf4733_parse(NULL, p, 4), EBADMSG);

	uint8_t b[4];
	dtmf4733_encode(b, 5, true, 0xff, 0xabcd);
	assert_int_equal(b[0], 5);
	assert_int_equal(b[1], 0x80 | 0x3f);
	assert_int_equal(b[2], 0xab);
	assert_int_equal(b[3], 0xcd);
}

static void test_digit_map(void **state)
{
	(void)state;
	const char *keys = "0123456789*#ABCD!";
	for (unsigned i = 0; i <= 16; i++) {
		assert_int_equal(dtmf_code(keys[i]), (int)i);
		assert_int_equal(dtmf_digit(i), keys[i]);
	}
	assert_int_equal(dtmf_code('a'), 12);
	assert_int_equal(dtmf_code('d'), 15);
	assert_int_equal(dtmf_code('E'), -1);
	assert_int_equal(dtmf_code('e'), -1);
	assert_int_equal(dtmf_code('\0'), -1);
	assert_int_equal(dtmf_digit(17), '\0');
	assert_int_equal(dtmf_digit(255), '\0');
}

/* --- receiver -------------------------------------------------------------- */

static void test_rx_normal(void **state)
{
	(void)state;
	struct rec r = { 0 };
	struct dtmf4733_rx rx;
	dtmf4733_rx_init(&rx, 8000, rec_h, &r);
	assert_int_equal(put(&rx, 1000, 5, false, 0, 0), 0);
	assert_int_equal(r.nbegin, 1);
	assert_int_equal(r.level, -10);
	put(&rx, 1000, 5, false, 400, 50);
	put(&rx, 1000, 5, false, 800, 100);
	assert_int_equal(r.nend, 0);
	for (int i = 0; i < 3; i++)
		put(&rx, 1000, 5, true, 960, 120 + (uint64_t)i * 20);
	assert_string_equal(r.begins, "5");
	assert_int_equal(r.nend, 1);
	assert_int_equal(r.dur[0], 120);
	assert_int_equal(rx.stats.digits, 1);
	assert_int_equal(rx.stats.ignored, 2); /* the two repeated ends */
	/* malformed payloads change nothing */
	uint8_t junk[3] = { 1, 2, 3 };
	assert_int_equal(dtmf4733_rx_put(&rx, 5000, junk, 3, 200), EBADMSG);
	assert_int_equal(rx.stats.malformed, 1);
	assert_int_equal(r.nbegin, 1);
}

static void test_rx_start_lost(void **state)
{
	(void)state;
	struct rec r = { 0 };
	struct dtmf4733_rx rx;
	dtmf4733_rx_init(&rx, 8000, rec_h, &r);
	/* the marker packet and the first update are lost */
	put(&rx, 7777, 9, false, 800, 100);
	assert_string_equal(r.begins, "9");
	put(&rx, 7777, 9, false, 1200, 150);
	put(&rx, 7777, 9, true, 1600, 200);
	put(&rx, 7777, 9, true, 1600, 250);
	put(&rx, 7777, 9, true, 1600, 300);
	assert_int_equal(r.nbegin, 1);
	assert_int_equal(r.nend, 1);
	assert_int_equal(r.dur[0], 200);

	/* everything but one end packet lost: still one digit */
	put(&rx, 7777 + 4000, 3, true, 800, 800);
	assert_string_equal(r.begins, "93");
	assert_int_equal(r.nend, 2);
	assert_int_equal(r.dur[1], 100);
}

static void test_rx_end_repeated_and_late(void **state)
{
	(void)state;
	struct rec r = { 0 };
	struct dtmf4733_rx rx;
	dtmf4733_rx_init(&rx, 8000, rec_h, &r);
	put(&rx, 100, 1, false, 0, 0);
	put(&rx, 100, 1, true, 800, 100);
	/* reordered: an update arrives after the end, then the repeats */
	put(&rx, 100, 1, false, 400, 101);
	put(&rx, 100, 1, true, 800, 120);
	put(&rx, 100, 1, true, 800, 140);
	/* and a duplicate of the start, much later */
	put(&rx, 100, 1, false, 0, 300);
	assert_int_equal(r.nbegin, 1);
	assert_int_equal(r.nend, 1);
	assert_int_equal(r.dur[0], 100);
	/* a straggler from before the event */
	put(&rx, 100 + 2000, 2, false, 0, 400);
	put(&rx, 50, 1, true, 800, 410);
	put(&rx, 100, 1, true, 800, 420);
	assert_string_equal(r.begins, "12");
}

static void test_rx_same_key_twice(void **state)
{
	(void)state;
	struct rec r = { 0 };
	struct dtmf4733_rx rx;
	dtmf4733_rx_init(&rx, 8000, rec_h, &r);
	/* "55": two presses, told apart only by the timestamp */
	put(&rx, 8000, 5, false, 0, 0);
	put(&rx, 8000, 5, true, 800, 100);
	put(&rx, 8000, 5, true, 800, 120);
	put(&rx, 8000, 5, true, 800, 140);
	put(&rx, 9600, 5, false, 0, 200);
	put(&rx, 9600, 5, true, 800, 300);
	put(&rx, 9600, 5, true, 800, 320);
	assert_string_equal(r.begins, "55");
	assert_int_equal(r.nend, 2);

	/* "77" with all end packets of the first press lost and no marker:
	 * the second press ends the first */
	put(&rx, 20000, 7, false, 400, 1000);
	put(&rx, 20000, 7, false, 800, 1050);
	put(&rx, 21600, 7, false, 400, 1250);
	assert_string_equal(r.begins, "5577");
	assert_int_equal(r.nend, 3);
	assert_int_equal(r.dur[2], 100);
	put(&rx, 21600, 7, true, 800, 1300);
	assert_int_equal(r.nend, 4);
}

static void test_rx_long_press_wrap(void **state)
{
	(void)state;
	struct rec r = { 0 };
	struct dtmf4733_rx rx;
	dtmf4733_rx_init(&rx, 8000, rec_h, &r);
	/* 12 s of '#' from just before the timestamp wraps: the first segment
	 * saturates at 0xFFFF, the second starts at ts + 0xFFFF (wrapped) */
	uint32_t ts0 = 0xFFFFF000u;
	uint64_t now = 0;
	put(&rx, ts0, 11, false, 0, now);
	for (uint32_t d = 400; d < 0xFFFF; d += 400)
		put(&rx, ts0, 11, false, (uint16_t)d, now += 50);
	put(&rx, ts0, 11, false, 0xFFFF, now += 50);
	uint32_t ts1 = ts0 + 0xFFFF; /* wrapped past zero */
	assert_true(ts1 < ts0);
	for (uint32_t d = 400; d <= 30465; d += 400)
		put(&rx, ts1, 11, false, (uint16_t)d, now += 50);
	for (int i = 0; i < 3; i++)
		put(&rx, ts1, 11, true, 30465, now += 20);
	assert_string_equal(r.begins, "#");
	assert_int_equal(r.nend, 1);
	assert_int_equal(r.dur[0], (0xFFFF + 30465) / 8); /* 12 s */

	/* the same with the last 1.5 s of the first segment lost: the new
	 * segment is still recognised as the same press */
	memset(&r, 0, sizeof(r));
	dtmf4733_rx_init(&rx, 8000, rec_h, &r);
	ts0 = 0xFFFFFF00u;
	put(&rx, ts0, 0, false, 0, now += 1000);
	for (uint32_t d = 400; d < 0xFFFF - 12000; d += 400)
		put(&rx, ts0, 0, false, (uint16_t)d, now += 50);
	ts1 = ts0 + 0xFFFF;
	put(&rx, ts1, 0, false, 400, now += 1550);
	put(&rx, ts1, 0, true, 800, now += 50);
	assert_string_equal(r.begins, "0");
	assert_int_equal(r.nend, 1);
	assert_int_equal(r.dur[0], (0xFFFF + 800) / 8);
}

static void test_rx_timestamp_reuse_and_broken_ts(void **state)
{
	(void)state;
	struct rec r = { 0 };
	struct dtmf4733_rx rx;
	dtmf4733_rx_init(&rx, 8000, rec_h, &r);
	/* a 3 s press: 60 updates, all with the event's timestamp */
	for (unsigned i = 0; i < 60; i++)
		put(&rx, 500, 4, false, (uint16_t)(i * 400), i * 50u);
	put(&rx, 500, 4, true, 24000, 3000);
	assert_string_equal(r.begins, "4");
	assert_int_equal(r.dur[0], 3000);

	/* a phone that wrongly stamps every packet of the press with its own
	 * time and length: each packet starts where the span seen so far
	 * ends, so it is still the same press */
	for (unsigned i = 0; i < 10; i++)
		put(&rx, 100000 + i * 160, 6, false, 160, 4000 + i * 20u);
	put(&rx, 100000 + 1600, 6, true, 160, 4200);
	assert_string_equal(r.begins, "46");
	assert_int_equal(r.nend, 2);
	assert_int_equal(r.dur[1], 220);
}

static void test_rx_timeout_and_others(void **state)
{
	(void)state;
	struct rec r = { 0 };
	struct dtmf4733_rx rx;
	dtmf4733_rx_init(&rx, 8000, rec_h, &r);
	put(&rx, 1000, 2, false, 0, 1000);
	put(&rx, 1000, 2, false, 400, 1050);
	dtmf4733_rx_poll(&rx, 1500);
	assert_int_equal(r.nend, 0);
	dtmf4733_rx_poll(&rx, 1550);
	assert_int_equal(r.nend, 1);
	assert_int_equal(r.dur[0], 50);
	assert_int_equal(rx.stats.timeouts, 1);
	/* the stragglers of the timed-out press change nothing */
	put(&rx, 1000, 2, false, 800, 1600);
	put(&rx, 1000, 2, true, 1200, 1620);
	dtmf4733_rx_poll(&rx, 5000);
	assert_int_equal(r.nbegin, 1);
	assert_int_equal(r.nend, 1);

	/* events that are no keys are ignored and leave the key alone */
	put(&rx, 9000, 8, false, 0, 6000);
	put(&rx, 9100, 32, false, 0, 6010); /* ANS tone */
	put(&rx, 9000, 8, true, 800, 6100);
	assert_string_equal(r.begins, "28");
	assert_int_equal(r.nend, 2);
	/* another key inside the span of the last one: a straggler */
	put(&rx, 9100, 3, false, 0, 6200);
	assert_int_equal(r.nbegin, 2);
	/* flash */
	put(&rx, 20000, 16, true, 4000, 7000);
	assert_string_equal(r.begins, "28!");
	/* a sender whose clock jumped far back starts a new event */
	put(&rx, 20000 - 0x200000, 1, false, 0, 8000);
	assert_string_equal(r.begins, "28!1");
	/* reset forgets the open press without an END */
	dtmf4733_rx_reset(&rx);
	r.open = false;
	put(&rx, 20000 - 0x200000, 1, false, 400, 8050);
	assert_string_equal(r.begins, "28!11");
	/* 48 kHz clock: durations in ms follow the rate */
	dtmf4733_rx_init(&rx, 48000, rec_h, &r);
	r.open = false;
	put(&rx, 7, 9, true, 4800, 9000);
	assert_int_equal(r.dur[r.nend - 1], 100);
}

static void test_rx_garbage(void **state)
{
	(void)state;
	struct rec r = { 0 };
	struct dtmf4733_rx rx;
	dtmf4733_rx_init(&rx, 8000, rec_h, &r);
	uint8_t p[20];
	uint32_t ts = 0;
	uint64_t now = 0;
	rng_state = 0xdeadbeef;
	for (unsigned i = 0; i < 200000; i++) {
		size_t n = rnd() % sizeof(p);
		for (size_t k = 0; k < n; k++)
			p[k] = (uint8_t)rnd();
		if (rnd() % 4 == 0)
			p[0] = (uint8_t)(rnd() % 17);
		uint32_t x = rnd();
		ts += (x & 1) ? (x >> 20) : -(x >> 24);
		now += rnd() % 100;
		int err = dtmf4733_rx_put(&rx, ts, p, n, now);
		assert_true(err == 0 || err == EBADMSG);
		if (i % 64 == 0)
			dtmf4733_rx_poll(&rx, now);
		/* at most one press open, as the recorder checks */
		assert_true(r.nbegin - r.nend <= 1);
	}
	assert_int_equal(rx.stats.packets, 200000);
	assert_true(rx.stats.malformed > 0 && rx.stats.digits > 0);
}

/* --- generator ------------------------------------------------------------- */

struct pkt_log {
	struct dtmf4733_pkt p[256];
	uint64_t at[256];
	unsigned n;
};

/* Polls every tick_ms from start until idle, logging packets. */
static void run_tx(struct dtmf4733_tx *tx, uint64_t start, unsigned tick_ms,
		   struct pkt_log *log)
{
	log->n = 0;
	for (uint64_t now = start; dtmf4733_tx_busy(tx); now += tick_ms) {
		struct dtmf4733_pkt pk;
		while (dtmf4733_tx_poll(tx, now, &pk)) {
			assert_true(log->n < 256);
			log->at[log->n] = now;
			log->p[log->n++] = pk;
		}
		assert_true(now - start < 600000);
	}
}

static void check_pkt(const struct dtmf4733_pkt *p, uint8_t code, bool marker,
		      bool end, uint16_t dur, uint32_t ts)
{
	struct dtmf4733_ev ev;
	assert_int_equal(dtmf4733_parse(&ev, p->payload, 4), 0);
	assert_int_equal(ev.event, code);
	assert_int_equal(ev.end, end);
	assert_int_equal(p->end, end);
	assert_int_equal(ev.duration, dur);
	assert_int_equal(ev.volume, 10);
	assert_int_equal(p->marker, marker);
	assert_int_equal(p->ts, ts);
}

static void test_tx_50ms(void **state)
{
	(void)state;
	struct dtmf4733_tx tx;
	struct pkt_log log;
	assert_int_equal(dtmf4733_tx_init(&tx, 8000, 0, 0), 0); /* 50 ms, vol 10 */
	assert_int_equal(dtmf4733_tx_start(&tx, '7', 0, 0x11223344, 1000), 0);
	run_tx(&tx, 1000, 10, &log);
	assert_int_equal(log.n, 5);
	check_pkt(&log.p[0], 7, true, false, 0, 0x11223344);
	assert_int_equal(log.at[0], 1000);
	check_pkt(&log.p[1], 7, false, false, 400, 0x11223344);
	assert_int_equal(log.at[1], 1050);
	for (unsigned i = 2; i < 5; i++) {
		check_pkt(&log.p[i], 7, false, true, 800, 0x11223344);
		assert_int_equal(log.at[i], 1100 + (i - 2) * 50u);
	}
	struct dtmf4733_pkt pk;
	assert_false(dtmf4733_tx_poll(&tx, 5000, &pk));
}

static void test_tx_20ms(void **state)
{
	(void)state;
	struct dtmf4733_tx tx;
	struct pkt_log log;
	assert_int_equal(dtmf4733_tx_init(&tx, 8000, 20, 10), 0);
	assert_int_equal(dtmf4733_tx_start(&tx, '#', 100, 42, 0), 0);
	assert_int_equal(dtmf4733_tx_start(&tx, '1', 100, 42, 0), EBUSY);
	run_tx(&tx, 0, 20, &log);
	assert_int_equal(log.n, 8);
	for (unsigned i = 0; i < 5; i++)
		check_pkt(&log.p[i], 11, i == 0, false, (uint16_t)(160 * i), 42);
	for (unsigned i = 5; i < 8; i++)
		check_pkt(&log.p[i], 11, false, true, 800, 42);

	/* a duration that is no multiple of the interval ends on time, and a
	 * late poller gets one packet for now, not a burst */
	assert_int_equal(dtmf4733_tx_start(&tx, 'a', 90, 1000, 0), 0);
	struct dtmf4733_pkt pk;
	assert_true(dtmf4733_tx_poll(&tx, 0, &pk));
	assert_true(dtmf4733_tx_poll(&tx, 65, &pk));
	check_pkt(&pk, 12, false, false, 480, 1000);
	assert_false(dtmf4733_tx_poll(&tx, 65, &pk));
	assert_false(dtmf4733_tx_poll(&tx, 79, &pk));
	assert_true(dtmf4733_tx_poll(&tx, 80, &pk));
	check_pkt(&pk, 12, false, false, 640, 1000);
	assert_false(dtmf4733_tx_poll(&tx, 89, &pk));
	assert_true(dtmf4733_tx_poll(&tx, 90, &pk));
	check_pkt(&pk, 12, false, true, 720, 1000);
	run_tx(&tx, 100, 20, &log);
	assert_int_equal(log.n, 2);

	assert_int_equal(dtmf4733_tx_init(&tx, 8000, 5, 10), EINVAL);
	assert_int_equal(dtmf4733_tx_init(&tx, 8000, 101, 10), EINVAL);
	assert_int_equal(dtmf4733_tx_init(&tx, 8000, 20, 10), 0);
	assert_int_equal(dtmf4733_tx_start(&tx, 'x', 100, 0, 0), EINVAL);
	assert_int_equal(dtmf4733_tx_stop(&tx, 0), EINVAL);
}

/* Sends a key with the generator and feeds the packets to a receiver,
 * dropping those whose index is set in lose (bit i: packet i). */
static void roundtrip(struct dtmf4733_rx *rx, char key, uint32_t dur_ms,
		      uint32_t ival, uint32_t ts, uint64_t t0, uint32_t lose)
{
	struct dtmf4733_tx tx;
	struct pkt_log log;
	assert_int_equal(dtmf4733_tx_init(&tx, rx->clock_rate, ival, 0), 0);
	assert_int_equal(dtmf4733_tx_start(&tx, key, dur_ms, ts, t0), 0);
	run_tx(&tx, t0, 10, &log);
	for (unsigned i = 0; i < log.n; i++) {
		if (i < 32 && (lose >> i) & 1)
			continue;
		assert_int_equal(dtmf4733_rx_put(rx, log.p[i].ts, log.p[i].payload, 4,
						 log.at[i]), 0);
	}
}

static void test_tx_roundtrip(void **state)
{
	(void)state;
	struct rec r = { 0 };
	struct dtmf4733_rx rx;
	dtmf4733_rx_init(&rx, 8000, rec_h, &r);
	const char *keys = "0123456789*#ABCD!";
	uint32_t ts = 0xFFFFE000u; /* wraps during the run */
	uint64_t t = 0;
	for (unsigned i = 0; keys[i]; i++) {
		/* vary the losses: none, the marker packet, two of three ends */
		uint32_t lose = i % 3 == 0 ? 0 : i % 3 == 1 ? 1u : (3u << 5);
		roundtrip(&rx, keys[i], 100, i % 2 ? 20 : 50, ts, t, lose);
		ts += 8 * 250;
		t += 250;
	}
	assert_string_equal(r.begins, keys);
	assert_int_equal(r.nend, 17);
	for (unsigned i = 0; i < 17; i++)
		assert_int_equal(r.dur[i], 100);

	/* the same key twice in a row, every end packet of the first lost */
	memset(&r, 0, sizeof(r));
	roundtrip(&rx, '5', 100, 20, ts, t, 0xE0);
	roundtrip(&rx, '5', 160, 20, ts + 1600, t + 200, 0);
	assert_string_equal(r.begins, "55");
	assert_int_equal(r.dur[0], 80); /* all that was seen of it */
	assert_int_equal(r.dur[1], 160);
}

static void test_tx_long_and_stop(void **state)
{
	(void)state;
	struct dtmf4733_tx tx;
	struct pkt_log log;
	assert_int_equal(dtmf4733_tx_init(&tx, 8000, 50, 0), 0);
	/* 10 s: two segments, the second starting at ts0 + 0xFFFF, wrapped */
	uint32_t ts0 = 0xFFFF0000u;
	assert_int_equal(dtmf4733_tx_start(&tx, '9', 10000, ts0, 0), 0);
	run_tx(&tx, 0, 20, &log);
	unsigned markers = 0, seg2 = 0;
	for (unsigned i = 0; i < log.n; i++) {
		markers += log.p[i].marker;
		if (log.p[i].ts == ts0 + 0xFFFFu) {
			if (!seg2++) /* closing packet just before it */
				check_pkt(&log.p[i - 1], 9, false, false, 0xFFFF, ts0);
		} else {
			assert_int_equal(log.p[i].ts, ts0);
		}
	}
	assert_int_equal(markers, 1);
	assert_true(seg2 > 3);
	check_pkt(&log.p[log.n - 1], 9, false, true, 80000 - 0xFFFF, ts0 + 0xFFFFu);

	struct rec r = { 0 };
	struct dtmf4733_rx rx;
	dtmf4733_rx_init(&rx, 8000, rec_h, &r);
	for (unsigned i = 0; i < log.n; i++)
		dtmf4733_rx_put(&rx, log.p[i].ts, log.p[i].payload, 4, log.at[i]);
	assert_string_equal(r.begins, "9");
	assert_int_equal(r.dur[0], 10000);

	/* open-ended press, released at 230 ms: the end goes out at once */
	assert_int_equal(dtmf4733_tx_start(&tx, 'D', DTMF4733_TX_OPEN, 5, 0), 0);
	struct dtmf4733_pkt pk;
	for (uint64_t now = 0; now < 230; now += 10)
		while (dtmf4733_tx_poll(&tx, now, &pk))
			assert_false(pk.end);
	assert_int_equal(dtmf4733_tx_stop(&tx, 230), 0);
	assert_true(dtmf4733_tx_poll(&tx, 230, &pk));
	check_pkt(&pk, 15, false, true, 1840, 5);
	assert_int_equal(dtmf4733_tx_stop(&tx, 240), 0); /* already ending */
	run_tx(&tx, 240, 10, &log);
	assert_int_equal(log.n, 2);
	check_pkt(&log.p[1], 15, false, true, 1840, 5);

	/* a stop stamped before the last poll (clock went backwards) past a
	 * segment boundary ends cleanly, without a negative duration */
	assert_int_equal(dtmf4733_tx_init(&tx, 48000, 20, 0), 0);
	assert_int_equal(dtmf4733_tx_start(&tx, '1', DTMF4733_TX_OPEN, 0, 0), 0);
	for (uint64_t now = 0; now <= 2000; now += 20)
		while (dtmf4733_tx_poll(&tx, now, &pk))
			;
	assert_int_equal(dtmf4733_tx_stop(&tx, 1000), 0);
	run_tx(&tx, 2000, 20, &log);
	assert_int_equal(log.n, 3);
	check_pkt(&log.p[0], 1, false, true, 0, 0xFFFF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_digit_map),
		cmocka_unit_test(test_rx_normal),
		cmocka_unit_test(test_rx_start_lost),
		cmocka_unit_test(test_rx_end_repeated_and_late),
		cmocka_unit_test(test_rx_same_key_twice),
		cmocka_unit_test(test_rx_long_press_wrap),
		cmocka_unit_test(test_rx_timestamp_reuse_and_broken_ts),
		cmocka_unit_test(test_rx_timeout_and_others),
		cmocka_unit_test(test_rx_garbage),
		cmocka_unit_test(test_tx_50ms),
		cmocka_unit_test(test_tx_20ms),
		cmocka_unit_test(test_tx_roundtrip),
		cmocka_unit_test(test_tx_long_and_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
