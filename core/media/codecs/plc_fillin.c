/*
 * SpanDSP's plc_fillin starts a loss by rotating its history ring to the
 * front with memcpy on overlapping ranges whenever the ring position is
 * below half its length: undefined behaviour (ASan aborts on it, and a
 * memcpy that copies backwards would garble the history). The same
 * rotation done here first, with memmove, leaves it nothing to do.
 */
#include "plc_fillin.h"

#include <string.h>

static void rotate(plc_state_t *s)
{
	if (s->missing_samples || s->buf_ptr <= 0 || s->buf_ptr >= PLC_HISTORY_LEN)
		return;
	int16_t tmp[PLC_HISTORY_LEN];
	size_t k = (size_t)s->buf_ptr, rest = PLC_HISTORY_LEN - k;
	memcpy(tmp, s->history, k * sizeof(int16_t));
	memmove(s->history, s->history + k, rest * sizeof(int16_t));
	memcpy(s->history + rest, tmp, k * sizeof(int16_t));
	s->buf_ptr = 0;
}

int plc_fillin_safe(plc_state_t *s, int16_t *amp, int len)
{
	rotate(s);
	return plc_fillin(s, amp, len);
}
