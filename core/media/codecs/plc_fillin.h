/*
 * SpanDSP's packet loss concealment (plc_t), used by the G.711 and G.722
 * decoders, with its one flaw worked around: see plc_fillin.c.
 */
#ifndef HF_PLC_FILLIN_H
#define HF_PLC_FILLIN_H

#include <stdint.h>

#include <spandsp/telephony.h>
#include <spandsp/plc.h>

/* plc_fillin(s, amp, len), safe at the start of any loss. */
int plc_fillin_safe(plc_state_t *s, int16_t *amp, int len);

#endif
