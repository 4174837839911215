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
#include "sdp_test_util.h"

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
	assert_int_equal(m->ncrypto, 0); /* the other leg's keys never pass */
	assert_int_equal(m->dir, SDP_SENDRECV);
	assert_int_equal(m->nattrs, 2); /* rtcp-fb, ssrc */
	assert_int_equal(out->nbw, 1);
	sdp_free(out);
	/* ... unless the caller says they are its own */
	in = parse_ok(phone_offer);
	loc.keep_crypto = true;
	out = anchored(in, &loc);
	sdp_free(in);
	assert_int_equal(out->media[0].ncrypto, 2);
	sdp_free(out);
	loc.keep_crypto = false;

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
