/*
 * RFC 4733 telephone-event payloads and the receiver state machine.
 *
 * A key press reaches us as a run of packets that all carry the RTP
 * timestamp of the moment the key went down and a growing duration; the
 * last one has the E bit and is sent three times. Any of them may be lost,
 * duplicated or reordered, and phones get the details wrong: no marker bit,
 * the first packets lost, a long press split into segments (2.5.1.3), the
 * same key pressed twice. The receiver therefore decides everything from
 * the (event code, timestamp) pair and the span [start, start + duration]
 * an event has been seen to cover:
 *
 *   - a packet inside the span of the current event with the same code is
 *     that event (update, end, or a retransmission once ended);
 *   - a packet with the same code that continues a long press at the next
 *     segment boundary (start of segment + 0xFFFF) is that event too;
 *   - a packet from before the current event is late and ignored;
 *   - anything else is a new key press, which also ends the previous one if
 *     its end packets were lost.
 * Because an event never overlaps the next, this needs no marker and no
 * sequence numbers, and it tolerates phones that (wrongly) advance the
 * timestamp within an event: their packets still fall inside the span.
 */
#include "dtmf4733.h"

#include <errno.h>
#include <string.h>

/* A packet this far before the current event's start (in timestamp units)
 * is a straggler; further than that, the sender's clock jumped and it is a
 * new event. 2^20 ticks is 131 s at 8 kHz, 22 s at 48 kHz. */
#define STALE_WINDOW 0x100000u
/* Long events: a segment's duration field saturates at 0xFFFF, and the next
 * segment starts there (2.5.1.3). Senders that stop at a multiple of their
 * packet interval start it a little earlier, hence the slack. */
#define SEG_LEN 0xFFFFu
#define SEG_SLACK 0x1000u
/* ... and the old segment must have been seen to run most of its length, so
 * a second press of the same key after lost end packets is not taken for a
 * continuation. */
#define SEG_SEEN 0x4000u
#define DEFAULT_TIMEOUT_MS 500u

int dtmf4733_parse(struct dtmf4733_ev *ev, const uint8_t *p, size_t len)
{
	if (!ev || !p || len < DTMF4733_LEN || len % DTMF4733_LEN)
		return EBADMSG;
	/* A packet of more than a few blocks is no redundancy a sender would
	 * build (RFC 2198 carries at most a handful); refuse it rather than
	 * trust it. */
	if (len / DTMF4733_LEN > 16)
		return EBADMSG;
	ev->event = p[0];
	ev->end = (p[1] & 0x80) != 0;
	/* p[1] & 0x40 is the reserved R bit: ignored by receivers (2.3.3) */
	ev->volume = p[1] & 0x3f;
	ev->duration = (uint16_t)(p[2] << 8 | p[3]);
	ev->nblocks = (unsigned)(len / DTMF4733_LEN);
	return 0;
}

void dtmf4733_encode(uint8_t p[DTMF4733_LEN], uint8_t event, bool end,
		     uint8_t volume, uint16_t duration)
{
	p[0] = event;
	p[1] = (uint8_t)((end ? 0x80 : 0) | (volume & 0x3f));
	p[2] = (uint8_t)(duration >> 8);
	p[3] = (uint8_t)duration;
}

void dtmf4733_rx_init(struct dtmf4733_rx *rx, uint32_t clock_rate,
		      dtmf_h *h, void *arg)
{
	memset(rx, 0, sizeof(*rx));
	rx->h = h;
	rx->arg = arg;
	rx->clock_rate = clock_rate ? clock_rate : 8000;
	rx->timeout_ms = DEFAULT_TIMEOUT_MS;
}

void dtmf4733_rx_reset(struct dtmf4733_rx *rx)
{
	rx->state = DTMF4733_IDLE;
}

void dtmf4733_rx_set_timeout(struct dtmf4733_rx *rx, uint32_t timeout_ms)
{
	rx->timeout_ms = timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS;
}

/* Serial-number comparison of RTP timestamps (they wrap at 2^32). */
static int32_t ts_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static void emit(struct dtmf4733_rx *rx, enum dtmf_ev_type type)
{
	struct dtmf_ev ev = {
		.type = type,
		.digit = dtmf_digit(rx->code),
		.code = rx->code,
		.level = -(int)rx->volume,
		.ts = rx->start_ts,
	};
	if (type == DTMF_END) {
		uint64_t ticks = (uint32_t)(rx->end_ts - rx->start_ts);
		ev.duration_ms = (uint32_t)(ticks * 1000u / rx->clock_rate);
	}
	if (rx->h)
		rx->h(&ev, rx->arg);
}

/* The state changes before the handler runs, so a handler that looks at
 * the receiver (or the fuzzer checking it) sees the new state. */
static void end_event(struct dtmf4733_rx *rx)
{
	rx->state = DTMF4733_ENDED;
	emit(rx, DTMF_END);
}

static void new_event(struct dtmf4733_rx *rx, const struct dtmf4733_ev *ev,
		      uint32_t ts, uint64_t now_ms)
{
	if (rx->state == DTMF4733_ACTIVE)
		end_event(rx); /* its end packets were lost */
	rx->state = DTMF4733_ACTIVE;
	rx->code = ev->event;
	rx->volume = ev->volume;
	rx->start_ts = rx->seg_ts = ts;
	rx->end_ts = ts + ev->duration;
	rx->last_ms = now_ms;
	rx->stats.digits++;
	emit(rx, DTMF_BEGIN);
	if (ev->end)
		end_event(rx); /* all but the end packets were lost */
}

static void update_event(struct dtmf4733_rx *rx, const struct dtmf4733_ev *ev,
			 uint32_t ts, uint64_t now_ms)
{
	if (rx->state != DTMF4733_ACTIVE) {
		rx->stats.ignored++; /* a retransmitted end, or a straggler */
		return;
	}
	if (ts_diff(ts, rx->seg_ts) > 0)
		rx->seg_ts = ts;
	uint32_t end = ts + ev->duration;
	if (ts_diff(end, rx->end_ts) > 0)
		rx->end_ts = end;
	rx->last_ms = now_ms;
	if (ev->end)
		end_event(rx);
}

/* A long press goes on in a new segment: same key, not ended, the new
 * timestamp where the current segment's duration field ran out. */
static bool next_segment(const struct dtmf4733_rx *rx, uint32_t ts)
{
	int32_t d = ts_diff(ts, rx->seg_ts);
	int32_t seen = ts_diff(rx->end_ts, rx->seg_ts);
	return rx->state == DTMF4733_ACTIVE && d >= (int32_t)(SEG_LEN - SEG_SLACK) &&
	       d <= (int32_t)SEG_LEN && seen >= (int32_t)(SEG_LEN - SEG_SEEN);
}

int dtmf4733_rx_put(struct dtmf4733_rx *rx, uint32_t ts, const uint8_t *p,
		    size_t len, uint64_t now_ms)
{
	struct dtmf4733_ev ev;
	rx->stats.packets++;
	if (dtmf4733_parse(&ev, p, len)) {
		rx->stats.malformed++;
		return EBADMSG;
	}
	/* Tones and line signals (32 and up) are legal events but no keys;
	 * they do not disturb the key being tracked. */
	if (ev.event > DTMF_CODE_MAX) {
		rx->stats.ignored++;
		return 0;
	}
	if (rx->state == DTMF4733_IDLE) {
		new_event(rx, &ev, ts, now_ms);
		return 0;
	}
	int32_t from_start = ts_diff(ts, rx->start_ts);
	if (from_start < 0) {
		if ((uint32_t)-(int64_t)from_start <= STALE_WINDOW) {
			rx->stats.ignored++; /* from an earlier event */
			return 0;
		}
		new_event(rx, &ev, ts, now_ms); /* the sender's clock jumped */
		return 0;
	}
	bool in_span = ts_diff(ts, rx->end_ts) <= 0;
	if (in_span && ev.event != rx->code) {
		/* Two keys cannot overlap in time; a different key inside this
		 * one's span is a straggler from before it. */
		rx->stats.ignored++;
		return 0;
	}
	if ((in_span || next_segment(rx, ts)) && ev.event == rx->code) {
		update_event(rx, &ev, ts, now_ms);
		return 0;
	}
	new_event(rx, &ev, ts, now_ms);
	return 0;
}

void dtmf4733_rx_poll(struct dtmf4733_rx *rx, uint64_t now_ms)
{
	if (rx->state == DTMF4733_ACTIVE && now_ms >= rx->last_ms &&
	    now_ms - rx->last_ms >= rx->timeout_ms) {
		rx->stats.timeouts++;
		end_event(rx);
	}
}
