/*
 * DTMF as the media engine sees it, whatever carried it: RFC 4733
 * telephone-events (dtmf4733.h), tones in the audio (dtmf_inband.h) or, on
 * the signalling side, SIP INFO (core/sip/dtmf_info.h). Every detector
 * reports a key press as exactly one DTMF_BEGIN followed, later, by exactly
 * one DTMF_END carrying the duration, so an app can act on the digit at
 * BEGIN and a gateway can regenerate the press with its length at END.
 */
#ifndef HF_DTMF_H
#define HF_DTMF_H

#include <stdint.h>

/* RFC 4733 section 3.2: events 0-15 are the DTMF keys, 16 is hook flash. */
#define DTMF_CODE_FLASH 16u
#define DTMF_CODE_MAX 16u

enum dtmf_ev_type {
	DTMF_BEGIN = 0, /* a key went down: report the digit now */
	DTMF_END,       /* that key came up (or was given up on) */
};

struct dtmf_ev {
	enum dtmf_ev_type type;
	char digit;           /* '0'-'9', '*', '#', 'A'-'D', '!' (flash) */
	uint8_t code;         /* RFC 4733 event code, 0-16 */
	int level;            /* dBm0 (<= 0) as the source reported it */
	uint32_t duration_ms; /* END only: how long the key was down */
	uint32_t ts;          /* RFC 4733: the event's RTP timestamp; else 0 */
};

/* Called on the thread that feeds the detector, from inside the call that
 * produced the event. It must not call back into the same detector. */
typedef void(dtmf_h)(const struct dtmf_ev *ev, void *arg);

/* RFC 4733 event code of a digit ('a'-'d' accepted as 'A'-'D', '!' for
 * flash), or -1 when the character is no DTMF key. */
int dtmf_code(char digit);

/* The digit of an event code 0-16, or '\0' for any other code. */
char dtmf_digit(unsigned code);

#endif
