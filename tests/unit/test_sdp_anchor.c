/* Unit tests for media anchoring (core/sdp/sdp_anchor.c): the rewrite
 * of the other leg's SDP onto our address and ports, what is kept and
 * what is dropped, which streams are refused, the RFC 2543 hold address
 * turned into a direction, and the o= rules of RFC 3264 section 8 (one
 * identity per leg, a new version only when what we say changes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/sdp/sdp.h"

/* --- helpers ------------------------------------------------------------ */

/* Test bodies are written with LF; the wire uses CRLF. */
static char *crlf(const char *s)
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

static struct sdp_session *parse_raw(const char *body, size_t len)
{
	struct sdp_session *s = NULL;
	int err = sdp_parse(&s, body, len);
	if (err)
		fail_msg("sdp_parse: %d for\n%.*s", err, (int)len, body);
	return s;
}

/* Parses an LF-written body sent as CRLF. */
static struct sdp_session *parse_ok(const char *lf)
{
	char *b = crlf(lf);
	struct sdp_session *s = parse_raw(b, strlen(b));
	free(b);
	return s;
}

/* Printed body, malloc'd. */
static char *print_str(const struct sdp_session *s)
{
	struct sbuf b;
	sbuf_init(&b);
	int err = sdp_print(&b, s);
	if (err)
		fail_msg("sdp_print: %d", err);
	return b.p;
}

/* parse -> print -> parse -> print: both prints equal. Returns print 1. */
static char *roundtrip(const struct sdp_session *s)
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

static void assert_pl(struct pl a, const char *want)
{
	if (!a.p || !pl_eq(a, pl_from(want)))
		fail_msg("expected '%s', got '%.*s'", want, (int)a.l, a.p ? a.p : "");
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

/* --- anchoring ---------------------------------------------------------- */

static struct sdp_session *anchored(const struct sdp_session *in, const struct sdp_local *loc)
{
	struct sdp_session *out = NULL;
	int err = sdp_anchor(&out, in, loc);
	if (err)
		fail_msg("sdp_anchor: %d", err);
	char *p = roundtrip(out); /* what we send must parse */
	free(p);
	return out;
}

static void test_anchor_rewrites(void **state)
{
	(void)state;
	struct sdp_session *in = parse_ok(phone_offer);
	const uint16_t ports[] = { 20000 };
	struct sdp_local loc = {
		.addr = "203.0.113.5", .ports = ports, .nports = 1,
		.user = "hookflash", .sess_id = 1000, .sess_version = 1,
	};
	struct sdp_session *out = anchored(in, &loc);
	sdp_free(in); /* the copy must not depend on it */

	assert_pl(out->origin.user, "hookflash");
	assert_true(out->origin.sess_id == 1000 && out->origin.sess_version == 1);
	assert_pl(out->origin.addr, "203.0.113.5");
	assert_int_equal(out->conn.af, SDP_IP4);
	assert_pl(out->conn.addr, "203.0.113.5");
	assert_pl(out->name, "Talk"); /* kept when loc->name is NULL */
	const struct sdp_media *m = &out->media[0];
	assert_int_equal(m->port, 20000);
	assert_int_equal(m->conn.af, SDP_AF_NONE);
	assert_false(m->has_rtcp);
	assert_int_equal(m->nfmts, 4);
	assert_pl(m->fmts[3].fmtp, "0-16");
	assert_int_equal(m->ptime, 20);
	assert_int_equal(m->maxptime, 150);
	assert_int_equal(m->ncrypto, 2);
	assert_int_equal(m->dir, SDP_SENDRECV);
	assert_int_equal(m->nattrs, 2); /* rtcp-fb, ssrc */
	assert_int_equal(out->nbw, 1);
	sdp_free(out);

	/* WebRTC: ICE, DTLS, mux and BUNDLE go; its DTLS stream is refused,
	 * since a relay without the fingerprint cannot carry it. */
	in = parse_ok(webrtc_offer);
	loc.addr = "2001:db8::5";
	out = anchored(in, &loc);
	assert_int_equal(out->conn.af, SDP_IP6);
	assert_int_equal(out->origin.af, SDP_IP6);
	assert_int_equal(out->nattrs, 1); /* msid-semantic; group:BUNDLE, ice-lite dropped */
	assert_pl(out->attrs[0].name, "msid-semantic");
	m = &out->media[0];
	assert_int_equal(m->port, 0);
	assert_false(m->rtcp_mux);
	assert_int_equal(m->nattrs, 1);
	assert_pl(m->attrs[0].name, "mid");
	sdp_free(out);
	sdp_free(in);
}

static void test_anchor_streams(void **state)
{
	(void)state;
	struct sdp_session *in = parse_ok(
		"v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
		"m=audio 4000 RTP/AVP 0\na=rtcp:4001\na=rtcp-mux\n"
		"m=video 0 RTP/AVP 31\n"                   /* rejected by them */
		"m=video 4002 RTP/AVP 31\nc=IN IP4 192.0.2.2\n" /* refused by us */
		"m=application 4004 TCP/BFCP *\n"          /* not relayable */
		"m=image 4006 udptl t38\n"
		"m=audio 4008 RTP/AVP 0\nc=IN IP4 0.0.0.0\n" /* RFC 2543 hold */
		"m=audio 4010 RTP/AVP 0\nc=IN IP4 0.0.0.0\na=recvonly\n"
		"m=audio 4012 RTP/AVP 0\n");
	const uint16_t ports[] = { 30000, 30002, 0, 30006, 30008, 30010, 30012, 30014 };
	struct sdp_local loc = { .addr = "198.51.100.1", .ports = ports, .nports = 8 };
	struct sdp_session *out = anchored(in, &loc);
	assert_pl(out->origin.user, "-");
	const uint16_t want[] = { 30000, 0, 0, 0, 30008, 30010, 30012, 30014 };
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(out->media[i].port, want[i]);
		assert_int_equal(out->media[i].conn.af, SDP_AF_NONE);
	}
	assert_false(out->media[0].has_rtcp);
	assert_false(out->media[0].rtcp_mux);
	/* The null address becomes a direction, since ours replaces it. */
	assert_int_equal(out->media[5].dir, SDP_SENDONLY);
	assert_int_equal(out->media[6].dir, SDP_INACTIVE);
	assert_true(sdp_media_held(out, &out->media[5]));
	assert_int_equal(sdp_direction_of(out, &out->media[7]), SDP_SENDRECV);
	sdp_free(out);

	/* Argument checks. */
	loc.nports = 7;
	assert_int_equal(sdp_anchor(&out, in, &loc), EINVAL);
	loc.nports = 8;
	loc.addr = "not an address";
	assert_int_equal(sdp_anchor(&out, in, &loc), EINVAL);
	loc.addr = "198.51.100.1/24";
	assert_int_equal(sdp_anchor(&out, in, &loc), EINVAL);
	loc.addr = "198.51.100.1";
	loc.user = "a b";
	assert_int_equal(sdp_anchor(&out, in, &loc), EINVAL);
	sdp_free(in);
}

static void test_anchor_versions(void **state)
{
	(void)state;
	static const char a1[] =
		"v=0\no=alice 5 5 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
		"m=audio 4000 RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000\n";
	/* Alice moved her port and bumped her version: nothing we say changes. */
	static const char a2[] =
		"v=0\no=alice 5 6 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.9\nt=0 0\n"
		"m=audio 4100 RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000\n";
	/* Alice puts us on hold. */
	static const char a3[] =
		"v=0\no=alice 5 7 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.9\nt=0 0\n"
		"m=audio 4100 RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000\na=sendonly\n";
	const uint16_t ports[] = { 20000 };
	struct sdp_local loc = {
		.addr = "203.0.113.5", .ports = ports, .nports = 1,
		.user = "hookflash", .sess_id = 77, .sess_version = 77, .name = "Hookflash",
	};
	struct sdp_session *in = parse_ok(a1);
	struct sdp_session *s1 = anchored(in, &loc);
	assert_true(s1->origin.sess_version == 77);
	assert_pl(s1->name, "Hookflash");

	/* Same offer again (a re-INVITE refresh): same o= version. The user
	 * and id in loc are ignored once there is a prev. */
	loc.prev = s1;
	loc.user = "someone-else";
	loc.sess_id = 1;
	struct sdp_session *s2 = anchored(in, &loc);
	sdp_free(in);
	assert_pl(s2->origin.user, "hookflash");
	assert_true(s2->origin.sess_id == 77 && s2->origin.sess_version == 77);

	in = parse_ok(a2);
	loc.prev = s2;
	struct sdp_session *s3 = anchored(in, &loc);
	sdp_free(in);
	assert_true(s3->origin.sess_version == 77);

	in = parse_ok(a3);
	loc.prev = s3;
	struct sdp_session *s4 = anchored(in, &loc);
	sdp_free(in);
	assert_true(s4->origin.sess_version == 78);
	assert_true(sdp_held(s4));

	/* A new port of ours is a change too. */
	const uint16_t ports2[] = { 20002 };
	loc.ports = ports2;
	loc.prev = s4;
	in = parse_ok(a3);
	struct sdp_session *s5 = anchored(in, &loc);
	sdp_free(in);
	assert_true(s5->origin.sess_version == 79);
	char *p = print_str(s5);
	assert_non_null(strstr(p, "o=hookflash 77 79 IN IP4 203.0.113.5\r\n"));
	assert_non_null(strstr(p, "m=audio 20002 RTP/AVP 0 101\r\n"));
	free(p);

	sdp_free(s1);
	sdp_free(s2);
	sdp_free(s3);
	sdp_free(s4);
	sdp_free(s5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_anchor_rewrites),
		cmocka_unit_test(test_anchor_streams),
		cmocka_unit_test(test_anchor_versions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
