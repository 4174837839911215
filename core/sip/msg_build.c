/*
 * Building responses (RFC 3261 8.2.6 and 18.2.2): the status line and the
 * header fields a response copies from its request, with the top Via
 * stamped as RFC 3261 18.2.1 and RFC 3581 say so the response finds its
 * way back through NAT; and the Content-Length/body trailer every message
 * ends with. Long header names only: compact forms save a few octets and
 * cost readability in every trace.
 */
#include "msg_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

/* Values are copied as bytes, never through "%.*s": a quoted-pair may
 * legitimately carry a NUL (RFC 4475 intmeth), and printf would stop there. */
static void add_line(struct sbuf *b, const char *name, struct pl value)
{
	sbuf_adds(b, name);
	sbuf_adds(b, ": ");
	sbuf_addpl(b, value);
	sbuf_adds(b, "\r\n");
}

/* Whether the sent-by host names the address the request came from. IP
 * literals are compared as addresses so "::1" equals "0::1". */
static bool same_host(struct pl host, const char *src)
{
	size_t n = strlen(src);
	if (n >= 2 && src[0] == '[' && src[n - 1] == ']') {
		src++;
		n -= 2;
	}
	if (host.l == n && strncasecmp(host.p, src, n) == 0)
		return true;
	char a[64], b[64];
	unsigned char x[16], y[16];
	if (host.l >= sizeof(a) || n >= sizeof(b))
		return false;
	pl_strcpy(host, a, sizeof(a));
	memcpy(b, src, n);
	b[n] = '\0';
	int af = strchr(a, ':') ? AF_INET6 : AF_INET;
	return inet_pton(af, a, x) == 1 && inet_pton(af, b, y) == 1 &&
	       memcmp(x, y, af == AF_INET6 ? 16 : 4) == 0;
}

/* The top Via, with ;received= when the sent-by is not where the request
 * came from (18.2.1) or when ;rport asks for it (RFC 3581 4: "even if it
 * is identical to the sent-by"), and a bare ;rport filled with the port. */
static void add_top_via(struct sbuf *b, const struct sip_msg *req, struct pl value,
			const char *src_host, uint16_t src_port)
{
	const struct sip_via *v = &req->via;
	if (!src_host || !v->host.p) {
		add_line(b, "Via", value);
		return;
	}
	bool received = v->rport || !same_host(v->host, src_host);
	/* Everything up to the ';' before the parameters, as received. */
	size_t head = value.l;
	if (v->params.p && v->params.p >= value.p && v->params.p <= value.p + value.l) {
		head = (size_t)(v->params.p - value.p);
		while (head && (cc_wsp((unsigned char)value.p[head - 1]) || value.p[head - 1] == ';'))
			head--;
	}
	sbuf_adds(b, "Via: ");
	sbuf_add(b, value.p, head);
	size_t pos = 0, start = 0;
	struct pl params = v->params;
	for (; params.p && pos <= params.l; pos++) {
		if (pos < params.l && params.p[pos] != ';') {
			if (params.p[pos] == '"') {
				size_t e = msg_quoted_end(params, pos);
				pos = (e ? e : params.l) - 1;
			}
			continue;
		}
		struct pl p = pl_trim(pl_sub(params, start, pos));
		start = pos + 1;
		size_t n = 0;
		while (n < p.l && cc_token((unsigned char)p.p[n]))
			n++;
		struct pl name = pl_sub(p, 0, n);
		bool bare = n == p.l;
		if (received && pl_casestr(name, "received"))
			continue; /* replaced by ours below */
		if (pl_casestr(name, "rport") && bare && src_port)
			sbuf_printf(b, ";rport=%u", (unsigned)src_port);
		else if (p.l) {
			sbuf_adds(b, ";");
			sbuf_addpl(b, p);
		}
	}
	if (received) {
		size_t n = strlen(src_host);
		if (n >= 2 && src_host[0] == '[' && src_host[n - 1] == ']')
			sbuf_printf(b, ";received=%.*s", (int)(n - 2), src_host + 1);
		else
			sbuf_printf(b, ";received=%s", src_host);
	}
	sbuf_adds(b, "\r\n");
}

static void copy_hdr(struct sbuf *b, const char *name, const struct sip_hdr *h)
{
	if (h)
		add_line(b, name, h->value);
}

void sip_msg_build_response(struct sbuf *b, const struct sip_msg *req, uint16_t status,
			    const char *reason, const char *to_tag, const char *src_host,
			    uint16_t src_port)
{
	if (!b)
		return;
	if (!req) {
		b->err = EINVAL;
		return;
	}
	if (!reason)
		reason = sip_reason_phrase(status);
	sbuf_printf(b, "SIP/2.0 %u %s\r\n", (unsigned)status, reason);
	bool top = true;
	for (const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_VIA); h;
	     h = sip_msg_hdr_next(req, SIP_HDR_VIA, h)) {
		if (top)
			add_top_via(b, req, h->value, src_host, src_port);
		else
			copy_hdr(b, "Via", h);
		top = false;
	}
	copy_hdr(b, "From", sip_msg_hdr(req, SIP_HDR_FROM));
	const struct sip_hdr *to = sip_msg_hdr(req, SIP_HDR_TO);
	if (to) {
		sbuf_adds(b, "To: ");
		sbuf_addpl(b, to->value);
		if (to_tag && !pl_isset(req->to.tag))
			sbuf_printf(b, ";tag=%s", to_tag);
		sbuf_adds(b, "\r\n");
	}
	copy_hdr(b, "Call-ID", sip_msg_hdr(req, SIP_HDR_CALL_ID));
	copy_hdr(b, "CSeq", sip_msg_hdr(req, SIP_HDR_CSEQ));
}

void sip_msg_build_end(struct sbuf *b, const char *content_type, const char *body,
		       size_t body_len)
{
	if (!b)
		return;
	if (!body)
		body_len = 0;
	if (content_type)
		sbuf_printf(b, "Content-Type: %s\r\n", content_type);
	sbuf_printf(b, "Content-Length: %zu\r\n\r\n", body_len);
	if (body_len)
		sbuf_add(b, body, body_len);
}

const char *sip_reason_phrase(uint16_t status)
{
	switch (status) {
	case 100: return "Trying";
	case 180: return "Ringing";
	case 181: return "Call Is Being Forwarded";
	case 182: return "Queued";
	case 183: return "Session Progress";
	case 199: return "Early Dialog Terminated";
	case 200: return "OK";
	case 202: return "Accepted";
	case 204: return "No Notification";
	case 300: return "Multiple Choices";
	case 301: return "Moved Permanently";
	case 302: return "Moved Temporarily";
	case 305: return "Use Proxy";
	case 380: return "Alternative Service";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 410: return "Gone";
	case 412: return "Conditional Request Failed";
	case 413: return "Request Entity Too Large";
	case 414: return "Request-URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Unsupported URI Scheme";
	case 417: return "Unknown Resource-Priority";
	case 420: return "Bad Extension";
	case 421: return "Extension Required";
	case 422: return "Session Interval Too Small";
	case 423: return "Interval Too Brief";
	case 428: return "Use Identity Header";
	case 429: return "Provide Referrer Identity";
	case 430: return "Flow Failed";
	case 433: return "Anonymity Disallowed";
	case 436: return "Bad Identity-Info";
	case 437: return "Unsupported Certificate";
	case 438: return "Invalid Identity Header";
	case 439: return "First Hop Lacks Outbound Support";
	case 440: return "Max-Breadth Exceeded";
	case 469: return "Bad Info Package";
	case 470: return "Consent Needed";
	case 480: return "Temporarily Unavailable";
	case 481: return "Call/Transaction Does Not Exist";
	case 482: return "Loop Detected";
	case 483: return "Too Many Hops";
	case 484: return "Address Incomplete";
	case 485: return "Ambiguous";
	case 486: return "Busy Here";
	case 487: return "Request Terminated";
	case 488: return "Not Acceptable Here";
	case 489: return "Bad Event";
	case 491: return "Request Pending";
	case 493: return "Undecipherable";
	case 494: return "Security Agreement Required";
	case 500: return "Server Internal Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Server Time-out";
	case 505: return "Version Not Supported";
	case 513: return "Message Too Large";
	case 555: return "Push Notification Service Not Supported";
	case 580: return "Precondition Failure";
	case 600: return "Busy Everywhere";
	case 603: return "Decline";
	case 604: return "Does Not Exist Anywhere";
	case 606: return "Not Acceptable";
	case 607: return "Unwanted";
	case 608: return "Rejected";
	default: break;
	}
	/* Unknown codes are treated as x00 of their class (8.1.3.2). */
	if (status >= 100 && status < 200)
		return "Trying";
	if (status >= 200 && status < 300)
		return "OK";
	if (status >= 300 && status < 400)
		return "Multiple Choices";
	if (status >= 400 && status < 500)
		return "Bad Request";
	if (status >= 500 && status < 600)
		return "Server Internal Error";
	if (status >= 600 && status < 700)
		return "Busy Everywhere";
	return "Unknown";
}
