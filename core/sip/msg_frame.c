/*
 * Message framing for stream transports (RFC 3261 18.3): finds where the
 * first message in a TCP/TLS receive buffer ends, using the empty line
 * that closes the header section and the Content-Length, which a stream
 * message must carry. Only Content-Length is looked at, and a connection's
 * struct sip_frame_state remembers how far the search for the empty line
 * got and, once the headers are in, the message's length, so each read
 * costs only its own bytes; sip_msg_parse does the rest on the framed
 * bytes. A stream that cannot be framed must be closed: there is no
 * way to find the next message boundary.
 */
#include "msg_int.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

/* Offset just past the empty line ending the header section ("\r\n\r\n",
 * or a bare "\n" line end on either side), 0 when not there yet. The
 * search starts at from: every line end before it has been looked at. */
static size_t header_end(const char *data, size_t len, size_t from)
{
	const char *p = data + from, *end = data + len;
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

/* The Content-Length of the header section [data, data + hlen): 0 and
 * *cl, or EBADMSG / EMSGSIZE as sip_msg_frame says. */
static int header_cl(const char *data, size_t hlen, size_t *cl_out)
{
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
	*cl_out = cl;
	return 0;
}

int sip_msg_frame_next(struct sip_frame_state *st, const char *data, size_t len,
		       size_t *msg_len)
{
	if (!st || !msg_len || (!data && len))
		return EINVAL;
	if (!len)
		return EAGAIN;
	if (st->msg_len) { /* headers done: only the body was missing */
		if (len < st->msg_len)
			return EAGAIN;
		*msg_len = st->msg_len;
		*st = (struct sip_frame_state){ 0 };
		return 0;
	}

	/* RFC 5626 keep-alives (and CRLF before a start line, 7.5) come out
	 * as a "message" of their own; a lone CR waits for its LF. */
	size_t k = 0;
	while (k < len && (data[k] == '\r' || data[k] == '\n'))
		k++;
	if (k) {
		if (k == len && data[k - 1] == '\r' && k < SIP_MAX_MSG)
			return EAGAIN;
		*msg_len = k;
		*st = (struct sip_frame_state){ 0 };
		return 0;
	}

	size_t hlen = header_end(data, len, st->scanned < len ? st->scanned : 0);
	if (!hlen) {
		/* A line end in the last two bytes may still become part of
		 * the empty line: look at it again next time. */
		st->scanned = len > 2 ? len - 2 : 0;
		return len >= SIP_MAX_MSG ? EBADMSG : EAGAIN;
	}
	if (hlen > SIP_MAX_MSG)
		return EBADMSG;
	size_t cl;
	int err = header_cl(data, hlen, &cl);
	if (err)
		return err;
	if (hlen + cl > SIP_MAX_MSG)
		return EMSGSIZE;
	if (len < hlen + cl) {
		st->msg_len = hlen + cl;
		return EAGAIN;
	}
	*msg_len = hlen + cl;
	*st = (struct sip_frame_state){ 0 };
	return 0;
}

int sip_msg_frame(const char *data, size_t len, size_t *msg_len)
{
	struct sip_frame_state st = { 0 };
	return sip_msg_frame_next(&st, data, len, msg_len);
}
