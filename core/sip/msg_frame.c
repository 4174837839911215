/*
 * Message framing for stream transports (RFC 3261 18.3): finds where the
 * first message in a TCP/TLS receive buffer ends, using the empty line
 * that closes the header section and the Content-Length, which a stream
 * message must carry. Only Content-Length is looked at, so this is cheap
 * enough to call after every read; sip_msg_parse does the rest on the
 * framed bytes. A stream that cannot be framed must be closed: there is no
 * way to find the next message boundary.
 */
#include "msg_int.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

/* Offset just past the empty line ending the header section ("\r\n\r\n",
 * or a bare "\n" line end on either side), 0 when not there yet. */
static size_t header_end(const char *data, size_t len)
{
	const char *p = data, *end = data + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return 0;
		p = nl + 1;
		if (p < end && *p == '\n')
			return (size_t)(p + 1 - data);
		if (p + 1 < end && p[0] == '\r' && p[1] == '\n')
			return (size_t)(p + 2 - data);
	}
	return 0;
}

/* Reads the value of one logical header line [s, e) as a Content-Length
 * (folding allowed around the digits). Returns 0, EBADMSG or EMSGSIZE. */
static int cl_value(const char *s, const char *e, size_t *out)
{
	while (s < e && (cc_wsp((unsigned char)*s) || *s == '\r' || *s == '\n'))
		s++;
	uint64_t v = 0;
	const char *d = s;
	for (; s < e && cc_digit((unsigned char)*s); s++) {
		if (v > SIP_MAX_MSG)
			continue; /* keep scanning, the value is absurd anyway */
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (s == d)
		return EBADMSG; /* empty, negative (ncl) or not a number */
	while (s < e && (cc_wsp((unsigned char)*s) || *s == '\r' || *s == '\n'))
		s++;
	if (s != e)
		return EBADMSG;
	if (v > SIP_MAX_MSG)
		return EMSGSIZE;
	*out = (size_t)v;
	return 0;
}

int sip_msg_frame(const char *data, size_t len, size_t *msg_len)
{
	if (!msg_len || (!data && len))
		return EINVAL;
	if (!len)
		return EAGAIN;

	/* RFC 5626 keep-alives (and CRLF before a start line, 7.5) come out
	 * as a "message" of their own; a lone CR waits for its LF. */
	size_t k = 0;
	while (k < len && (data[k] == '\r' || data[k] == '\n'))
		k++;
	if (k) {
		if (k == len && data[k - 1] == '\r' && k < SIP_MAX_MSG)
			return EAGAIN;
		*msg_len = k;
		return 0;
	}

	size_t hlen = header_end(data, len);
	if (!hlen)
		return len >= SIP_MAX_MSG ? EBADMSG : EAGAIN;
	if (hlen > SIP_MAX_MSG)
		return EBADMSG;

	/* Walk the logical header lines after the start line. */
	const char *p = memchr(data, '\n', hlen);
	const char *end = data + hlen;
	bool found = false;
	size_t cl = 0;
	p = p ? p + 1 : end;
	while (p < end && *p != '\r' && *p != '\n') {
		const char *s = p, *e = end;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			p = nl ? nl + 1 : end;
			if (p < end && cc_wsp((unsigned char)*p))
				continue;
			e = nl ? nl : end;
			break;
		}
		const char *colon = memchr(s, ':', (size_t)(e - s));
		if (!colon)
			continue; /* the parser will complain; framing does not care */
		struct pl name = pl_trim((struct pl){ s, (size_t)(colon - s) });
		if (!pl_casestr(name, "Content-Length") && !pl_casestr(name, "l"))
			continue;
		size_t v;
		int err = cl_value(colon + 1, e, &v);
		if (err)
			return err;
		/* Two different lengths leave the boundary undefined (mcl01). */
		if (found && v != cl)
			return EBADMSG;
		found = true;
		cl = v;
	}
	if (!found)
		return EBADMSG; /* mandatory on streams (RFC 3261 20.14) */
	if (hlen + cl > SIP_MAX_MSG)
		return EMSGSIZE;
	if (len < hlen + cl)
		return EAGAIN;
	*msg_len = hlen + cl;
	return 0;
}
