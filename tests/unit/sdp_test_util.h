/*
 * Shared helpers for the SDP tests (test_sdp.c, test_sdp_anchor.c,
 * test_sdp_oa.c): bodies written with LF and sent as CRLF, parsing that
 * must succeed or must fail, printing to a string, the parse/print round
 * trip that must be stable, comparing a slice with a string, and two
 * offers seen in the field (a desk phone with SRTP, a WebRTC gateway).
 * Header-only (static inline) because each test file is its own binary;
 * include it once, from the test's .c file.
 */
#ifndef HF_TESTS_SDP_TEST_UTIL_H
#define HF_TESTS_SDP_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/sdp/sdp.h"

/* Test bodies are written with LF; the wire uses CRLF. */
static inline char *crlf(const char *s)
{
	char *o = malloc(strlen(s) * 2 + 1), *p = o;
	assert_non_null(o);
	for (; *s; s++) {
		if (*s == '\n')
			*p++ = '\r';
		*p++ = *s;
	}
	*p = '\0';
	return o;
}

static inline struct sdp_session *parse_raw(const char *body, size_t len)
{
	struct sdp_session *s = NULL;
	int err = sdp_parse(&s, body, len);
	if (err)
		fail_msg("sdp_parse: %d for\n%.*s", err, (int)len, body);
	return s;
}

/* Parses an LF-written body sent as CRLF. */
static inline struct sdp_session *parse_ok(const char *lf)
{
	char *b = crlf(lf);
	struct sdp_session *s = parse_raw(b, strlen(b));
	free(b);
	return s;
}

/* The error sdp_parse gives an LF-written body sent as CRLF (0 if none). */
static inline int parse_err(const char *lf)
{
	char *b = crlf(lf);
	struct sdp_session *s = NULL;
	int err = sdp_parse(&s, b, strlen(b));
	free(b);
	if (!err)
		sdp_free(s);
	return err;
}

/* Printed body, malloc'd. */
static inline char *print_str(const struct sdp_session *s)
{
	struct sbuf b;
	sbuf_init(&b);
	int err = sdp_print(&b, s);
	if (err)
		fail_msg("sdp_print: %d", err);
	return b.p;
}

/* a is want; a NULL want means a must be unset. */
static inline void assert_pl(struct pl a, const char *want)
{
	if (!want) {
		if (a.p)
			fail_msg("expected unset, got '%.*s'", (int)a.l, a.p);
		return;
	}
	if (!a.p || !pl_eq(a, pl_from(want)))
		fail_msg("expected '%s', got '%.*s'%s", want, (int)a.l, a.p ? a.p : "",
			 a.p ? "" : " (unset)");
}

/* parse -> print -> parse -> print: both prints equal. Returns print 1. */
static inline char *roundtrip(const struct sdp_session *s)
{
	char *p1 = print_str(s);
	struct sdp_session *s2 = parse_raw(p1, strlen(p1));
	char *p2 = print_str(s2);
	assert_string_equal(p1, p2);
	assert_int_equal(s2->nmedia, s->nmedia);
	sdp_free(s2);
	free(p2);
	return p1;
}

/* A desk phone's offer with SRTP and the usual extras. */
static const char *const phone_offer =
	"v=0\n"
	"o=- 3711 3711 IN IP4 192.0.2.10\n"
	"s=Talk\n"
	"c=IN IP4 192.0.2.10\n"
	"b=AS:80\n"
	"t=0 0\n"
	"a=X-nat:0\n"
	"m=audio 4000 RTP/SAVP 9 0 8 101\n"
	"a=rtpmap:9 G722/8000\n"
	"a=rtpmap:0 PCMU/8000\n"
	"a=rtpmap:8 PCMA/8000\n"
	"a=rtpmap:101 telephone-event/8000\n"
	"a=fmtp:101 0-16\n"
	"a=ptime:20\n"
	"a=maxptime:150\n"
	"a=rtcp:4001 IN IP4 192.0.2.10\n"
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32\n"
	"a=crypto:2 F8_128_HMAC_SHA1_80 inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm|2^20|1:4;"
	"inline:QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5|2^20|2:4 FEC_ORDER=FEC_SRTP\n"
	"a=rtcp-fb:* nack\n"
	"a=ssrc:1234 cname:phone@example\n"
	"a=sendrecv\n";

/* What a WebRTC gateway sends: ICE, DTLS, mux, BUNDLE. */
static const char *const webrtc_offer =
	"v=0\n"
	"o=- 4611731400430051336 2 IN IP4 127.0.0.1\n"
	"s=-\n"
	"t=0 0\n"
	"a=group:BUNDLE 0\n"
	"a=msid-semantic: WMS\n"
	"a=ice-lite\n"
	"m=audio 9 UDP/TLS/RTP/SAVPF 111 0 126\n"
	"c=IN IP4 0.0.0.0\n"
	"a=rtcp:9 IN IP4 0.0.0.0\n"
	"a=candidate:1 1 udp 2122260223 192.0.2.20 54400 typ host\n"
	"a=ice-ufrag:EsAw\n"
	"a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\n"
	"a=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24\n"
	"a=setup:actpass\n"
	"a=mid:0\n"
	"a=rtcp-mux\n"
	"a=rtpmap:111 opus/48000/2\n"
	"a=fmtp:111 minptime=10;useinbandfec=1\n"
	"a=rtpmap:126 telephone-event/8000\n"
	"a=sendrecv\n";

#endif
