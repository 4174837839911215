/* libFuzzer harness for the SIP message code: frames and parses the input
 * as a message, runs every value parser on every header value, builds a
 * response, and checks one property on the way: a response built for a
 * valid request must itself parse as a valid response, and stream framing
 * resumed read by read must agree with framing from scratch. The value parsers
 * also get the raw input, so their own edge cases are reached directly.
 * Seeds: tests/fuzz/seeds/sip_msg (the RFC 4475/5118 torture messages). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/sip/msg.h"

static void values(struct pl s, const struct sip_msg *m)
{
	struct sip_uri u, u2;
	struct sip_addr a;
	struct sip_via v;
	struct pl val;
	char buf[256];

	if (sip_uri_parse(&u, s) == 0) {
		sip_uri_equal(&u, &u);
		if (m)
			sip_uri_equal(&u, &m->ruri);
		sip_param_get(u.params, "transport", &val);
		sip_unescape(u.user, buf, sizeof(buf));
		sip_unescape(u.headers, buf, sizeof(buf));
		/* Equality is symmetric and reflexive on what parses. */
		if (sip_uri_parse(&u2, s) == 0 && !sip_uri_equal(&u, &u2))
			abort();
	}
	if (sip_addr_parse(&a, s) == 0) {
		sip_param_get(a.params, "expires", &val);
		sip_param_get(a.uri.params, "lr", &val);
		if (m && m->from.uri.scheme.p &&
		    sip_uri_equal(&a.uri, &m->from.uri) != sip_uri_equal(&m->from.uri, &a.uri))
			abort();
	}
	if (sip_via_parse(&v, s) == 0)
		sip_param_get(v.params, "maddr", &val);
	sip_param_get(s, "tag", &val);
	sip_unescape(s, buf, sizeof(buf));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	size_t n;
	if (sip_msg_frame(p, size, &n) == 0 && (n == 0 || n > size))
		abort();
	/* Framing resumed read by read (as a TCP connection does) agrees with
	 * framing from scratch at every length it is given; byte by byte for
	 * short inputs, in steps for long ones. */
	struct sip_frame_state st = { 0 };
	size_t step = size <= 1024 ? 1 : size / 97 + 1;
	for (size_t l = 1; l <= size; l = l == size ? size + 1 : (l + step > size ? size : l + step)) {
		size_t n1 = 0, n2 = 0;
		int e1 = sip_msg_frame(p, l, &n1), e2 = sip_msg_frame_next(&st, p, l, &n2);
		if (e1 != e2 || (!e1 && n1 != n2))
			abort();
		if (e1 != EAGAIN)
			break;
	}

	struct pl raw = { p, size < 4096 ? size : 4096 };
	values(raw, NULL);

	struct sip_msg *m;
	if (sip_msg_parse(&m, p, size))
		return 0;
	for (size_t i = 0; i < m->nhdrs; i++) {
		if (memchr(m->hdrs[i].value.p, '\r', m->hdrs[i].value.l) ||
		    memchr(m->hdrs[i].value.p, '\n', m->hdrs[i].value.l))
			abort(); /* msg.h promises unfolded values */
		values(m->hdrs[i].value, m);
	}
	sip_msg_hdr_byname(m, "Content-Length");
	sip_msg_hdr_byname(m, "X-Unknown");
	if (m->error && (m->error_status != 400 && m->error_status != 505))
		abort();
	if (m->body.p && (m->body.p < m->buf || m->body.p + m->body.l > m->buf + m->len))
		abort();

	struct sbuf b;
	sbuf_init(&b);
	sip_msg_build_response(&b, m, m->error ? m->error_status : 200, m->error, "ft1",
			       "192.0.2.1", 5060);
	sip_msg_build_end(&b, "text/plain", "x", 1);
	if (!b.err && m->is_request && !m->error) {
		struct sip_msg *r;
		if (sip_msg_parse(&r, b.p, b.len) || r->error) {
			fprintf(stderr, "built response does not parse:\n%s\n", b.p);
			abort();
		}
		sip_msg_free(r);
	}
	sbuf_free(&b);
	sip_msg_free(m);
	return 0;
}
