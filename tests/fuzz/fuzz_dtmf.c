/*
 * libFuzzer harness for everything DTMF reads from the network: SIP INFO
 * bodies (core/sip/dtmf_info.c), RFC 4733 payloads and the receiver state
 * machine (core/media/dtmf/dtmf4733.c), the generator round-tripped through the
 * receiver (dtmf4733_tx.c), and the jitter buffer (jbuf.c), which sits on
 * the same untrusted packet path. Beyond "no crash, no read outside the
 * input", it checks the promises: a parsed INFO digit is a key and builds
 * back to itself; the receiver reports BEGIN and END strictly alternating,
 * with the same digit; a generated key press arrives as exactly one press;
 * the jitter buffer hands out only what was put, in sequence order.
 *
 * Input: byte 0 picks the target (low two bits), the rest is its input:
 *   0 INFO: byte 1 picks a Content-Type, the rest is the body.
 *   1 receiver: byte 1 picks the clock; then records of
 *       flags(1: bit 0 poll, bit 1 reset) ts_step(2, signed) ms_step(1)
 *       len(1, % 24) payload(len)
 *   2 generator: key(1) duration(2, ms % 20000) interval(1) clock(1)
 *       ts(4) loss mask(4) stop-at(2)
 *   3 jitter buffer: records of
 *       flags(1: bit 0 get, bit 1 other SSRC) seq_step(1, signed)
 *       ts_step(2, signed) ms_step(1) len(1, % 48)
 * Every payload is copied to an exact-size heap buffer so AddressSanitizer
 * catches a read one byte past its end.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/media/dtmf/dtmf.h"
#include "../../core/media/dtmf/dtmf4733.h"
#include "../../core/media/decode/jbuf.h"
#include "../../core/sip/dtmf_info.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static const char keys[] = "0123456789*#ABCD!";

static void fuzz_info(const uint8_t *d, size_t n)
{
	static const char *ctypes[] = {
		"application/dtmf-relay", "application/dtmf",
		"Application/DTMF-Relay; charset=us-ascii", " application/dtmf ",
		"application/sdp", "",
	};
	if (n < 1)
		return;
	const char *ct = ctypes[d[0] % 6];
	size_t bl = n - 1;
	char *body = malloc(bl ? bl : 1);
	if (!body)
		return;
	memcpy(body, d + 1, bl);
	struct pl b = { body, bl };
	struct dtmf_info di;
	int err = dtmf_info_parse(&di, pl_from(ct), b);
	CHECK(err == 0 || err == EBADMSG || err == ENOTSUP);
	if (err == 0) {
		CHECK(di.digit && strchr(keys, di.digit));
		CHECK(keys[di.code] == di.digit);
		CHECK(di.duration_ms <= DTMF_INFO_MAX_DURATION_MS);
		struct sbuf sb;
		sbuf_init(&sb);
		if (dtmf_info_build(&sb, di.digit, di.duration_ms) == 0) {
			struct dtmf_info back;
			CHECK(dtmf_info_parse_relay(&back, (struct pl){ sb.p, sb.len }) == 0);
			CHECK(back.digit == di.digit && back.duration_ms == di.duration_ms);
		}
		sbuf_free(&sb);
	}
	/* each format parser on its own, whatever the type said */
	if (dtmf_info_parse_relay(&di, b) == 0)
		CHECK(strchr(keys, di.digit) && di.digit);
	if (dtmf_info_parse_plain(&di, b) == 0)
		CHECK(strchr(keys, di.digit) && di.digit && di.duration_ms == 0);
	free(body);
}

struct track {
	struct dtmf4733_rx *rx;
	unsigned begins, ends;
	bool open;
	char cur;
	uint32_t last_ms; /* duration of the last END */
};

static void track_h(const struct dtmf_ev *ev, void *arg)
{
	struct track *t = arg;
	CHECK(ev->code <= DTMF_CODE_MAX && keys[ev->code] == ev->digit);
	CHECK(ev->level <= 0 && ev->level >= -63);
	if (ev->type == DTMF_BEGIN) {
		CHECK(!t->open);
		CHECK(t->rx->state == DTMF4733_ACTIVE);
		t->open = true;
		t->cur = ev->digit;
		t->begins++;
	} else {
		CHECK(t->open && ev->digit == t->cur);
		CHECK(t->rx->state == DTMF4733_ENDED);
		t->last_ms = ev->duration_ms;
		t->open = false;
		t->ends++;
	}
}

static void fuzz_rx(const uint8_t *d, size_t n)
{
	static const uint32_t rates[4] = { 8000, 16000, 48000, 1 };
	if (n < 1)
		return;
	struct track t = { 0 };
	struct dtmf4733_rx rx;
	t.rx = &rx;
	dtmf4733_rx_init(&rx, rates[d[0] & 3], track_h, &t);
	uint32_t ts = (uint32_t)d[0] << 24;
	uint64_t now = 0;
	size_t off = 1;
	while (n - off >= 5) {
		uint8_t flags = d[off];
		int16_t step = (int16_t)(d[off + 1] << 8 | d[off + 2]);
		now += d[off + 3];
		size_t len = d[off + 4] % 24u;
		off += 5;
		if (len > n - off)
			len = n - off;
		ts += (uint32_t)(int32_t)step * 8u;
		uint8_t *p = malloc(len ? len : 1);
		if (!p)
			return;
		memcpy(p, d + off, len);
		off += len;
		int err = dtmf4733_rx_put(&rx, ts, p, len, now);
		CHECK(err == 0 || err == EBADMSG);
		free(p);
		if (flags & 1)
			dtmf4733_rx_poll(&rx, now);
		if (flags & 2) {
			dtmf4733_rx_reset(&rx);
			t.open = false;
		}
		CHECK(t.open == (rx.state == DTMF4733_ACTIVE));
		CHECK(rx.stats.digits >= t.begins);
	}
	/* a press left open is ended by the timeout, once */
	unsigned ends = t.ends;
	bool was_open = t.open;
	dtmf4733_rx_poll(&rx, now + 100000);
	dtmf4733_rx_poll(&rx, now + 200000);
	CHECK(t.ends == ends + (was_open ? 1u : 0u) && !t.open);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void fuzz_tx(const uint8_t *d, size_t n)
{
	static const uint32_t rates[4] = { 8000, 16000, 48000, 8000 };
	if (n < 15)
		return;
	char key = keys[d[0] % 17];
	uint32_t dur = (uint32_t)(d[1] << 8 | d[2]) % 20000u;
	uint32_t ival = 10 + d[3] % 91;
	uint32_t rate = rates[d[4] & 3];
	uint32_t ts0 = rd32(d + 5);
	uint32_t lose = rd32(d + 9);
	uint32_t stop_at = (uint32_t)(d[13] << 8 | d[14]);
	bool open = dur == 0 && (d[4] & 4);

	struct dtmf4733_tx tx;
	CHECK(dtmf4733_tx_init(&tx, rate, ival, 0) == 0);
	CHECK(dtmf4733_tx_start(&tx, key, open ? DTMF4733_TX_OPEN : dur, ts0, 0) == 0);
	CHECK(dtmf4733_tx_start(&tx, '1', 100, 0, 0) == EBUSY);
	struct track t = { 0 };
	struct dtmf4733_rx rx;
	t.rx = &rx;
	dtmf4733_rx_init(&rx, rate, track_h, &t);

	unsigned sent = 0, delivered = 0, markers = 0, ends = 0;
	uint64_t now = 0;
	bool last_delivered = false;
	uint16_t end_dur = 0;
	while (dtmf4733_tx_busy(&tx)) {
		if (open && now >= stop_at)
			CHECK(dtmf4733_tx_stop(&tx, now) == 0);
		struct dtmf4733_pkt pk;
		while (dtmf4733_tx_poll(&tx, now, &pk)) {
			struct dtmf4733_ev ev;
			CHECK(dtmf4733_parse(&ev, pk.payload, 4) == 0);
			CHECK(ev.event == (uint8_t)dtmf_code(key) && ev.volume == 10);
			CHECK((uint32_t)(pk.ts - ts0) % 0xFFFFu == 0);
			markers += pk.marker;
			CHECK(pk.marker == (sent == 0));
			if (ev.end) {
				CHECK(ends == 0 || ev.duration == end_dur);
				end_dur = ev.duration;
				ends++;
			}
			/* any packet may be lost, except that some packet
			 * from the last 0x4000 ticks of a segment must
			 * arrive for a long press to stay one press (see
			 * dtmf4733.h) */
			bool tail = !ev.end && ev.duration >= 0xFFFF - 0x4000;
			bool keep = sent >= 32 || tail || !((lose >> sent) & 1);
			sent++;
			last_delivered = keep;
			if (keep) {
				delivered++;
				CHECK(dtmf4733_rx_put(&rx, pk.ts, pk.payload, 4, now) == 0);
			}
		}
		now += 10;
		CHECK(now < 200000);
	}
	CHECK(markers == 1 && ends == DTMF4733_TX_ENDS);
	dtmf4733_rx_poll(&rx, now + 10000);
	CHECK(t.begins == (delivered ? 1u : 0u) && t.ends == t.begins);
	/* the last end packet arrived: the press ended by it, with the
	 * planned duration */
	if (last_delivered) {
		CHECK(rx.stats.timeouts == 0);
		if (!open)
			CHECK(t.last_ms == (dur ? dur : DTMF4733_TX_DEFAULT_MS));
	}
}

static void fuzz_jbuf(const uint8_t *d, size_t n)
{
	struct jbuf *jb;
	struct jbuf_cfg cfg = { .slots = 16, .max_payload = 40 };
	if (jbuf_alloc(&jb, &cfg))
		return;
	uint16_t seq = 0;
	uint32_t ts = 0;
	uint64_t now = 1000000;
	size_t off = 0;
	uint64_t frames = 0;
	while (n - off >= 6) {
		uint8_t flags = d[off];
		seq = (uint16_t)(seq + (int8_t)d[off + 1]);
		ts += (uint32_t)(int32_t)(int16_t)(d[off + 2] << 8 | d[off + 3]);
		now += (uint64_t)d[off + 4] * 1000;
		size_t len = d[off + 5] % 48u;
		off += 6;
		/* the payload names its packet, so what comes out can be checked */
		uint8_t *p = malloc(len ? len : 1);
		if (!p)
			break;
		for (size_t i = 0; i < len; i++)
			p[i] = (uint8_t)(i == 0 ? seq >> 8 : i == 1 ? seq : ts >> (8 * (i % 4)));
		int err = jbuf_put(jb, (flags & 2) ? 2 : 1, seq, ts, p, len, now);
		CHECK(err == 0 || err == EALREADY || err == ETIMEDOUT || err == EAGAIN ||
		      err == EMSGSIZE);
		CHECK(err != EMSGSIZE || len > 40);
		free(p);
		if (flags & 1) {
			struct jbuf_frame f;
			enum jbuf_res r = jbuf_get(jb, now, &f);
			if (r == JBUF_FRAME) {
				frames++;
				CHECK(f.len <= 40 && (f.len == 0 || f.payload));
				if (f.len >= 2)
					CHECK((f.payload[0] << 8 | f.payload[1]) == f.seq);
			}
		}
	}
	struct jbuf_stats st;
	jbuf_stats(jb, &st);
	CHECK(st.played == frames);
	CHECK(st.target_ms <= 200);
	jbuf_free(jb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		fuzz_info(data + 1, size - 1);
		break;
	case 1:
		fuzz_rx(data + 1, size - 1);
		break;
	case 2:
		fuzz_tx(data + 1, size - 1);
		break;
	default:
		fuzz_jbuf(data + 1, size - 1);
		break;
	}
	return 0;
}
