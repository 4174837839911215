/*
 * SIP INFO DTMF bodies (see dtmf_info.h). Neither format has a proper
 * specification: application/dtmf-relay is Cisco's and application/dtmf
 * is a draft that never became an RFC, so the parser follows what phones
 * actually send and the builder sends the most widely understood form.
 * The body comes from the network: everything is read through slices that
 * stay inside it, nothing is copied, and a body without a recognisable
 * digit is refused rather than guessed at.
 *
 * The digit table duplicates core/media/dtmf/dtmf.c on purpose: sip/ does not
 * depend on media/ (they are peers under call/).
 */
#include "dtmf_info.h"

#include <errno.h>

static const char keys[] = "0123456789*#ABCD!";
#define CODE_FLASH 16u

static int key_code(char c)
{
	if (c >= 'a' && c <= 'd')
		c = (char)(c - 'a' + 'A');
	for (unsigned i = 0; i <= CODE_FLASH; i++) {
		if (keys[i] == c)
			return (int)i;
	}
	return -1;
}

/* One signal token, already trimmed: a key character, a decimal RFC 4733
 * code 0-16 ("10" for * and "11" for # from some phones), or a spelling of
 * hook flash. -1 when it is none of these. */
static int signal_code(struct pl t)
{
	if (t.l == 1 && t.p[0] != '\0') {
		int c = key_code(t.p[0]);
		if (c >= 0)
			return c;
	}
	uint64_t v;
	if (t.l <= 3 && pl_u64(t, CODE_FLASH, &v) == 0)
		return (int)v;
	if (pl_casestr(t, "hf") || pl_casestr(t, "flash"))
		return (int)CODE_FLASH;
	return -1;
}

static void set(struct dtmf_info *out, int code, uint32_t duration_ms)
{
	out->code = (uint8_t)code;
	out->digit = keys[code];
	out->duration_ms = duration_ms;
}

/* Milliseconds from a Duration value; 0 for nonsense, clamped when huge. */
static uint32_t duration_value(struct pl v)
{
	uint64_t d;
	switch (pl_u64(v, DTMF_INFO_MAX_DURATION_MS, &d)) {
	case 0:
		return (uint32_t)d;
	case ERANGE:
		return DTMF_INFO_MAX_DURATION_MS;
	default:
		return 0;
	}
}

int dtmf_info_parse_relay(struct dtmf_info *out, struct pl body)
{
	if (!out || !body.p)
		return EBADMSG;
	int code = -1;
	uint32_t dur = 0;
	bool have_dur = false;
	size_t i = 0;
	while (i < body.l) {
		/* one line: up to CR or LF; empty lines fall out naturally */
		size_t s = i;
		while (i < body.l && body.p[i] != '\r' && body.p[i] != '\n')
			i++;
		struct pl line = { body.p + s, i - s };
		while (i < body.l && (body.p[i] == '\r' || body.p[i] == '\n'))
			i++;

		const char *eq = memchr(line.p, '=', line.l);
		if (!eq)
			continue;
		struct pl key = pl_trim((struct pl){ line.p, (size_t)(eq - line.p) });
		struct pl val = pl_trim((struct pl){ eq + 1, line.l - (size_t)(eq - line.p) - 1 });
		if (pl_casestr(key, "Signal")) {
			if (code < 0) {
				code = signal_code(val);
				if (code < 0)
					return EBADMSG; /* a signal we cannot read */
			}
		} else if (pl_casestr(key, "Duration") && !have_dur) {
			dur = duration_value(val);
			have_dur = true;
		}
	}
	if (code < 0)
		return EBADMSG;
	set(out, code, dur);
	return 0;
}

int dtmf_info_parse_plain(struct dtmf_info *out, struct pl body)
{
	if (!out || !body.p)
		return EBADMSG;
	int code = signal_code(pl_trim(body));
	if (code < 0)
		return EBADMSG;
	set(out, code, 0);
	return 0;
}

int dtmf_info_parse(struct dtmf_info *out, struct pl ctype, struct pl body)
{
	if (!ctype.p)
		return ENOTSUP;
	/* the media type ends at the first parameter */
	const char *semi = memchr(ctype.p, ';', ctype.l);
	struct pl type = pl_trim((struct pl){ ctype.p, semi ? (size_t)(semi - ctype.p) : ctype.l });
	if (pl_casestr(type, DTMF_INFO_CTYPE_RELAY))
		return dtmf_info_parse_relay(out, body);
	if (pl_casestr(type, DTMF_INFO_CTYPE_PLAIN))
		return dtmf_info_parse_plain(out, body);
	return ENOTSUP;
}

int dtmf_info_build(struct sbuf *b, char digit, uint32_t duration_ms)
{
	int code = key_code(digit);
	if (!b || code < 0 || digit == '\0')
		return EINVAL;
	/* Flash goes out as its event code: "!" and "hf" are each understood
	 * by only some receivers, the number by nearly all. */
	if ((unsigned)code == CODE_FLASH)
		sbuf_adds(b, "Signal=16\r\n");
	else
		sbuf_printf(b, "Signal=%c\r\n", keys[code]);
	if (duration_ms)
		sbuf_printf(b, "Duration=%u\r\n", (unsigned)duration_ms);
	return b->err;
}
