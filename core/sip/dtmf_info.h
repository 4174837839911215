/*
 * DTMF in SIP INFO bodies, the third way phones send key presses (after
 * RFC 4733 events and in-band tones): application/dtmf-relay (the de facto
 * Cisco format, "Signal=5\r\nDuration=160\r\n") and application/dtmf (the
 * bare digit, "5"). The parser reads slices of the received body and
 * accepts the variants seen in the field; the builder writes the one form
 * every implementation reads.
 */
#ifndef HF_SIP_DTMF_INFO_H
#define HF_SIP_DTMF_INFO_H

#include <stdint.h>

#include "../base/pl.h"
#include "../base/sbuf.h"

#define DTMF_INFO_CTYPE_RELAY "application/dtmf-relay"
#define DTMF_INFO_CTYPE_PLAIN "application/dtmf"
/* Durations above this are taken as this: the body is untrusted and no one
 * holds a key for a minute. */
#define DTMF_INFO_MAX_DURATION_MS 60000u

struct dtmf_info {
	char digit;           /* '0'-'9', '*', '#', 'A'-'D', '!' (hook flash) */
	uint8_t code;         /* the RFC 4733 event code of the digit */
	uint32_t duration_ms; /* 0: the body did not say (or said nonsense) */
};

/* Parses the body of an INFO whose Content-Type is ctype (parameters and
 * case do not matter). ENOTSUP when ctype is neither DTMF type, EBADMSG
 * when the body carries no valid digit, else 0. */
int dtmf_info_parse(struct dtmf_info *out, struct pl ctype, struct pl body);

/* application/dtmf-relay: lines "key=value" separated by CRLF, LF or CR;
 * keys are case-insensitive, blanks around keys and values are ignored,
 * unknown keys are skipped, the first Signal counts. Signal is one of
 * 0-9 * # A-D (any case) or hook flash ("!", "hf", "flash"), or the RFC 4733
 * code in decimal ("10" for *, "11" for #, ... "16" for flash), which some
 * phones send. Duration is in milliseconds. */
int dtmf_info_parse_relay(struct dtmf_info *out, struct pl body);

/* application/dtmf: the body is one signal, in the same forms as above. */
int dtmf_info_parse_plain(struct dtmf_info *out, struct pl body);

/* Appends an application/dtmf-relay body "Signal=X\r\nDuration=N\r\n" for
 * digit (0-9 * # A-D, '!' for flash; lower-case a-d accepted) to b.
 * duration_ms 0 omits the Duration line. EINVAL for a bad digit, else the
 * buffer's error (ENOMEM) or 0. */
int dtmf_info_build(struct sbuf *b, char digit, uint32_t duration_ms);

#endif
