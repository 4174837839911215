/*
 * RFC 4733 sender: turns "key X for D ms starting now" into the packets a
 * receiver expects (section 2.5.1): all with the RTP timestamp of the key
 * press, the first with the marker bit, then updates at a steady interval
 * whose duration field grows with the time elapsed, and the final packet
 * with the E bit sent three times with identical timestamp and duration
 * (2.5.1.4) so that losing one or two of them costs nothing.
 *
 * The generator has no timer of its own: the media worker's 20 ms tick
 * polls it with the current time, which keeps it deterministic and
 * testable. Durations come from the schedule (k * interval), not from the
 * moment of the poll, so a worker woken a little late still sends the
 * exact 400, 800, ... a receiver (or a test) expects.
 *
 * A press longer than the 16-bit duration field (8.19 s at 8 kHz) is split
 * into segments (2.5.1.3): the segment's last update carries 0xFFFF, and
 * the next segment starts at timestamp + 0xFFFF without a marker.
 */
#include "dtmf4733.h"

#include <errno.h>
#include <string.h>

#define SEG_LEN 0xFFFFu
#define DEFAULT_VOLUME 10u

int dtmf4733_tx_init(struct dtmf4733_tx *tx, uint32_t clock_rate,
		     uint32_t interval_ms, uint8_t volume)
{
	if (interval_ms == 0)
		interval_ms = 50;
	if (interval_ms < 10 || interval_ms > 100)
		return EINVAL;
	memset(tx, 0, sizeof(*tx));
	tx->clock_rate = clock_rate ? clock_rate : 8000;
	tx->interval_ms = interval_ms;
	tx->volume = volume ? (uint8_t)(volume & 0x3f) : DEFAULT_VOLUME;
	return 0;
}

int dtmf4733_tx_start(struct dtmf4733_tx *tx, char digit, uint32_t duration_ms,
		      uint32_t ts, uint64_t now_ms)
{
	int code = dtmf_code(digit);
	if (code < 0)
		return EINVAL;
	if (tx->active)
		return EBUSY;
	tx->active = true;
	tx->open = duration_ms == DTMF4733_TX_OPEN;
	tx->first = true;
	tx->code = (uint8_t)code;
	tx->ends_sent = 0;
	tx->ts0 = ts;
	tx->dur_ms = duration_ms ? duration_ms : DTMF4733_TX_DEFAULT_MS;
	tx->seg_off = 0;
	tx->t0_ms = now_ms;
	tx->next_ms = now_ms;
	return 0;
}

int dtmf4733_tx_stop(struct dtmf4733_tx *tx, uint64_t now_ms)
{
	if (!tx->active)
		return EINVAL;
	if (tx->ends_sent)
		return 0; /* already ending */
	uint64_t held = now_ms > tx->t0_ms ? now_ms - tx->t0_ms : 0;
	if (tx->open || held < tx->dur_ms)
		tx->dur_ms = held > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)held;
	tx->open = false;
	tx->next_ms = now_ms; /* the end is due now, not at the next update */
	return 0;
}

bool dtmf4733_tx_busy(const struct dtmf4733_tx *tx)
{
	return tx->active;
}

static uint64_t ms_to_ticks(const struct dtmf4733_tx *tx, uint64_t ms)
{
	return ms * tx->clock_rate / 1000u;
}

static void fill(struct dtmf4733_tx *tx, struct dtmf4733_pkt *pkt,
		 uint64_t seg_ticks, bool end)
{
	dtmf4733_encode(pkt->payload, tx->code, end, tx->volume,
			(uint16_t)(seg_ticks > SEG_LEN ? SEG_LEN : seg_ticks));
	pkt->ts = tx->ts0 + (uint32_t)tx->seg_off;
	pkt->marker = tx->first;
	pkt->end = end;
	tx->first = false;
}

bool dtmf4733_tx_poll(struct dtmf4733_tx *tx, uint64_t now_ms,
		      struct dtmf4733_pkt *pkt)
{
	if (!tx->active || now_ms < tx->next_ms)
		return false;
	uint64_t total = ms_to_ticks(tx, tx->dur_ms);
	/* a caller whose clock went backwards (stop at an earlier time than a
	 * poll) must not make a duration negative */
	if (total < tx->seg_off)
		total = tx->seg_off;

	if (tx->ends_sent) {
		/* retransmissions of the end packet: same timestamp, same
		 * duration, no marker */
		fill(tx, pkt, total - tx->seg_off, true);
		tx->next_ms = now_ms + tx->interval_ms; /* spaced, even if polled late */
		if (++tx->ends_sent == DTMF4733_TX_ENDS)
			tx->active = false;
		return true;
	}

	/* The latest slot of the schedule at or before now: one packet for
	 * now rather than a burst of stale ones after a late wake-up. */
	uint64_t held = now_ms - tx->t0_ms;
	uint64_t k = held / tx->interval_ms;
	bool final = !tx->open && held >= tx->dur_ms;
	uint64_t elapsed = final ? total : ms_to_ticks(tx, k * tx->interval_ms);
	if (elapsed < tx->seg_off)
		elapsed = tx->seg_off;

	if (elapsed - tx->seg_off > SEG_LEN) {
		/* close the running segment at the field's maximum; the next
		 * poll, at the same time, opens the following one */
		fill(tx, pkt, SEG_LEN, false);
		tx->seg_off += SEG_LEN;
		return true;
	}
	fill(tx, pkt, elapsed - tx->seg_off, final);
	if (final) {
		tx->ends_sent = 1;
		tx->next_ms = now_ms + tx->interval_ms;
	} else {
		/* the next update, or the end if the key comes up before it */
		tx->next_ms = tx->t0_ms + (k + 1) * tx->interval_ms;
		if (!tx->open && tx->t0_ms + tx->dur_ms < tx->next_ms)
			tx->next_ms = tx->t0_ms + tx->dur_ms;
	}
	return true;
}
