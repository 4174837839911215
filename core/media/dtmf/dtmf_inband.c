/*
 * In-band DTMF through SpanDSP. The detector uses SpanDSP's "realtime"
 * callback, which fires once when a digit is confirmed (two agreeing
 * detection blocks of 102 samples) and once when its absence is confirmed:
 * exactly the BEGIN/END pair the rest of the engine speaks. (With that
 * callback set SpanDSP no longer buffers digits for dtmf_rx_get, so there
 * is one report path, not two to keep consistent.) A tone that changes
 * straight from one digit to another yields END for the first before BEGIN
 * for the second, which SpanDSP reports as a single state change.
 *
 * The generator is SpanDSP's dtmf_tx with its queue; we only validate the
 * digits so a typo cannot silently vanish inside SpanDSP.
 */
#include "dtmf_inband.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp.h>

/* Feeding the detector in 10 ms slices bounds the error of the reported
 * durations (events can only be placed at slice boundaries). */
#define SLICE 80u

struct dtmf_inband_rx {
	dtmf_rx_state_t *s;
	dtmf_h *h;
	void *arg;
	uint64_t fed;      /* samples given to SpanDSP so far */
	uint64_t begin_at; /* sample position of the current digit's BEGIN */
	char digit;        /* the digit between BEGIN and END, else '\0' */
	int level;
	uint64_t digits;
};

struct dtmf_inband_tx {
	dtmf_tx_state_t *s;
	bool busy;
};

static void report(struct dtmf_inband_rx *rx, enum dtmf_ev_type type)
{
	struct dtmf_ev ev = {
		.type = type,
		.digit = rx->digit,
		.code = (uint8_t)dtmf_code(rx->digit),
		.level = rx->level,
	};
	if (type == DTMF_END)
		ev.duration_ms = (uint32_t)((rx->fed - rx->begin_at) * 1000u / DTMF_INBAND_RATE);
	if (rx->h)
		rx->h(&ev, rx->arg);
}

/* SpanDSP: code is the ASCII digit now present, or 0 for none. */
static void on_tone(void *arg, int code, int level, int delay)
{
	struct dtmf_inband_rx *rx = arg;
	(void)delay;
	if (rx->digit) {
		report(rx, DTMF_END);
		rx->digit = '\0';
	}
	if (code <= 0 || code > 127 || dtmf_code((char)code) < 0)
		return;
	rx->digit = (char)code;
	rx->level = level > 0 ? 0 : level;
	rx->begin_at = rx->fed;
	rx->digits++;
	report(rx, DTMF_BEGIN);
}

int dtmf_inband_rx_alloc(struct dtmf_inband_rx **out, dtmf_h *h, void *arg)
{
	struct dtmf_inband_rx *rx = calloc(1, sizeof(*rx));
	if (!rx)
		return ENOMEM;
	/* NULL digits callback: the realtime one below does the reporting */
	rx->s = dtmf_rx_init(NULL, NULL, NULL);
	if (!rx->s) {
		free(rx);
		return ENOMEM;
	}
	dtmf_rx_set_realtime_callback(rx->s, on_tone, rx);
	rx->h = h;
	rx->arg = arg;
	*out = rx;
	return 0;
}

void dtmf_inband_rx_free(struct dtmf_inband_rx *rx)
{
	if (!rx)
		return;
	dtmf_rx_free(rx->s);
	free(rx);
}

void dtmf_inband_rx_put(struct dtmf_inband_rx *rx, const int16_t *pcm, size_t n)
{
	while (n) {
		size_t k = n < SLICE ? n : SLICE;
		dtmf_rx(rx->s, pcm, (int)k);
		rx->fed += k;
		pcm += k;
		n -= k;
	}
}

void dtmf_inband_rx_gap(struct dtmf_inband_rx *rx, size_t n)
{
	while (n) {
		size_t k = n < SLICE ? n : SLICE;
		dtmf_rx_fillin(rx->s, (int)k);
		rx->fed += k;
		n -= k;
	}
}

uint64_t dtmf_inband_rx_digits(const struct dtmf_inband_rx *rx)
{
	return rx->digits;
}

int dtmf_inband_tx_alloc(struct dtmf_inband_tx **out)
{
	struct dtmf_inband_tx *tx = calloc(1, sizeof(*tx));
	if (!tx)
		return ENOMEM;
	tx->s = dtmf_tx_init(NULL);
	if (!tx->s) {
		free(tx);
		return ENOMEM;
	}
	*out = tx;
	return 0;
}

void dtmf_inband_tx_free(struct dtmf_inband_tx *tx)
{
	if (!tx)
		return;
	dtmf_tx_free(tx->s);
	free(tx);
}

int dtmf_inband_tx_put(struct dtmf_inband_tx *tx, const char *digits,
		       uint32_t on_ms, uint32_t off_ms)
{
	size_t n = digits ? strlen(digits) : 0;
	if (n == 0 || n > 128)
		return n ? ENOSPC : EINVAL;
	for (size_t i = 0; i < n; i++) {
		/* flash has no tone pair */
		int c = dtmf_code(digits[i]);
		if (c < 0 || (unsigned)c == DTMF_CODE_FLASH)
			return EINVAL;
	}
	char up[129];
	for (size_t i = 0; i < n; i++)
		up[i] = dtmf_digit((unsigned)dtmf_code(digits[i]));
	up[n] = '\0';
	/* SpanDSP takes ms; a negative value keeps its default */
	dtmf_tx_set_timing(tx->s, on_ms ? (int)(on_ms > 10000 ? 10000 : on_ms) : -1,
			   off_ms ? (int)(off_ms > 10000 ? 10000 : off_ms) : -1);
	/* 0.0.6 returns 0 when everything was queued and the shortfall when
	 * the queue is too small (queueing nothing) */
	if (dtmf_tx_put(tx->s, up, (int)n) != 0)
		return ENOSPC;
	tx->busy = true;
	return 0;
}

size_t dtmf_inband_tx_gen(struct dtmf_inband_tx *tx, int16_t *pcm, size_t n)
{
	if (!tx->busy || n == 0)
		return 0;
	int got = dtmf_tx(tx->s, pcm, n > INT32_MAX ? INT32_MAX : (int)n);
	if (got < 0)
		got = 0;
	if ((size_t)got < n)
		tx->busy = false;
	return (size_t)got;
}

bool dtmf_inband_tx_busy(const struct dtmf_inband_tx *tx)
{
	return tx->busy;
}
