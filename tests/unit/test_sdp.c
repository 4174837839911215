/* Unit tests for the SDP module (core/sdp): parsing the RFC 4566 example
 * and typical phone and WebRTC bodies, IPv6, LF-only input, the bodies
 * the parser must refuse and the quirks it must tolerate, printing and
 * round trips, hand-built sessions, cloning, and hold detection. Media
 * anchoring is in test_sdp_anchor.c, offer/answer in test_sdp_oa.c. */
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

/* --- bodies ------------------------------------------------------------- */

static const char *const rfc4566_example =
	"v=0\n"
	"o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5\n"
	"s=SDP Seminar\n"
	"i=A Seminar on the session description protocol\n"
	"u=http://www.example.com/seminars/sdp.pdf\n"
	"e=j.doe@example.com (Jane Doe)\n"
	"c=IN IP4 224.2.17.12/127\n"
	"t=2873397496 2873404696\n"
	"a=recvonly\n"
	"m=audio 49170 RTP/AVP 0\n"
	"m=video 51372 RTP/AVP 99\n"
	"a=rtpmap:99 h263-1998/90000\n";

/* --- parsing ------------------------------------------------------------ */

static void test_rfc4566_example(void **state)
{
	(void)state;
	struct sdp_session *s = parse_ok(rfc4566_example);
	assert_int_equal(s->version, 0);
	assert_pl(s->origin.user, "jdoe");
	assert_true(s->origin.sess_id == 2890844526u);
	assert_true(s->origin.sess_version == 2890842807u);
	assert_int_equal(s->origin.af, SDP_IP4);
	assert_pl(s->origin.addr, "10.47.16.5");
	assert_pl(s->name, "SDP Seminar");
	assert_pl(s->info, "A Seminar on the session description protocol");
	assert_pl(s->uri, "http://www.example.com/seminars/sdp.pdf");
	assert_int_equal(s->nemails, 1);
	assert_pl(s->emails[0], "j.doe@example.com (Jane Doe)");
	assert_int_equal(s->conn.af, SDP_IP4);
	assert_pl(s->conn.addr, "224.2.17.12");
	assert_pl(s->conn.mcast, "127");
	assert_int_equal(s->ntimes, 1);
	assert_true(s->times[0].start == 2873397496u && s->times[0].stop == 2873404696u);
	assert_int_equal(s->dir, SDP_RECVONLY);
	assert_int_equal(s->nattrs, 0);

	assert_int_equal(s->nmedia, 2);
	const struct sdp_media *a = &s->media[0], *v = &s->media[1];
	assert_pl(a->type, "audio");
	assert_int_equal(a->port, 49170);
	assert_int_equal(a->nports, 1);
	assert_pl(a->proto, "RTP/AVP");
	assert_int_equal(a->nfmts, 1);
	assert_int_equal(a->fmts[0].pt, 0);
	assert_pl(a->fmts[0].enc, NULL);
	assert_int_equal(a->dir, SDP_DIR_UNSET);
	assert_int_equal(sdp_direction_of(s, a), SDP_RECVONLY); /* session default */
	assert_ptr_equal(sdp_media_conn(s, a), &s->conn);

	struct pl enc;
	uint32_t clock;
	uint8_t ch;
	assert_int_equal(sdp_fmt_codec(&a->fmts[0], &enc, &clock, &ch), 0);
	assert_pl(enc, "PCMU");
	assert_int_equal(clock, 8000);

	assert_pl(v->type, "video");
	assert_int_equal(v->port, 51372);
	assert_int_equal(v->fmts[0].pt, 99);
	assert_pl(v->fmts[0].enc, "h263-1998");
	assert_int_equal(v->fmts[0].clock, 90000);
	assert_int_equal(v->fmts[0].channels, 0);
	assert_pl(v->fmts[0].fmtp, NULL);

	/* Canonical already: printing gives the same text back. */
	char *want = crlf(rfc4566_example);
	char *p = roundtrip(s);
	assert_string_equal(p, want);
	free(p);
	free(want);
	sdp_free(s);
}

static void test_phone_offer_attrs(void **state)
{
	(void)state;
	struct sdp_session *s = parse_ok(phone_offer);
	assert_int_equal(s->nbw, 1);
	assert_pl(s->bw[0].type, "AS");
	assert_int_equal(s->bw[0].value, 80);
	assert_int_equal(s->nattrs, 1);
	assert_pl(s->attrs[0].name, "X-nat");
	assert_pl(s->attrs[0].value, "0");

	const struct sdp_media *m = &s->media[0];
	assert_pl(m->proto, "RTP/SAVP");
	assert_true(sdp_proto_is_rtp(m->proto) && sdp_proto_is_secure(m->proto));
	assert_int_equal(m->nfmts, 4);
	assert_pl(m->fmts[0].enc, "G722");
	assert_pl(m->fmts[3].enc, "telephone-event");
	assert_pl(m->fmts[3].fmtp, "0-16");
	assert_pl(m->fmts[0].fmtp, NULL);
	assert_int_equal(m->ptime, 20);
	assert_int_equal(m->maxptime, 150);
	assert_true(m->has_rtcp);
	assert_int_equal(m->rtcp_port, 4001);
	assert_int_equal(m->rtcp_conn.af, SDP_IP4);
	assert_pl(m->rtcp_conn.addr, "192.0.2.10");
	assert_false(m->rtcp_mux);
	assert_int_equal(m->ncrypto, 2);
	assert_int_equal(m->crypto[0].tag, 1);
	assert_pl(m->crypto[0].suite, "AES_CM_128_HMAC_SHA1_80");
	assert_pl(m->crypto[0].key_params, "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32");
	assert_pl(m->crypto[0].sess_params, NULL);
	assert_int_equal(m->crypto[1].tag, 2);
	assert_pl(m->crypto[1].sess_params, "FEC_ORDER=FEC_SRTP");
	/* Unknown attributes stay, in order. */
	assert_int_equal(m->nattrs, 2);
	assert_pl(m->attrs[0].name, "rtcp-fb");
	assert_pl(m->attrs[0].value, "* nack");
	assert_pl(m->attrs[1].name, "ssrc");
	assert_int_equal(m->dir, SDP_SENDRECV);

	const struct sdp_fmt *f = sdp_fmt_find(m, PL("101"));
	assert_non_null(f);
	assert_int_equal(f->pt, 101);
	assert_null(sdp_fmt_find(m, PL("18")));

	char *p = roundtrip(s);
	char *want = crlf(phone_offer);
	assert_string_equal(p, want); /* phone_offer is in printer order */
	free(want);
	free(p);
	sdp_free(s);
}

static void test_webrtc_offer(void **state)
{
	(void)state;
	struct sdp_session *s = parse_ok(webrtc_offer);
	assert_int_equal(s->conn.af, SDP_AF_NONE);
	assert_int_equal(s->nattrs, 3);
	const struct sdp_media *m = &s->media[0];
	assert_pl(m->proto, "UDP/TLS/RTP/SAVPF");
	assert_true(sdp_proto_is_rtp(m->proto));
	assert_true(m->rtcp_mux);
	assert_int_equal(m->fmts[0].channels, 2);
	assert_int_equal(m->fmts[0].clock, 48000);
	assert_pl(m->fmts[0].fmtp, "minptime=10;useinbandfec=1");
	assert_pl(m->fmts[2].enc, "telephone-event");
	assert_pl(m->conn.addr, "0.0.0.0");
	assert_true(sdp_media_held(s, m)); /* c=0.0.0.0 */
	assert_int_equal(m->nattrs, 6); /* candidate ice-ufrag ice-pwd fingerprint setup mid */
	free(roundtrip(s));
	sdp_free(s);
}

static void test_ipv6(void **state)
{
	(void)state;
	static const char body[] =
		"v=0\n"
		"o=alice 1 1 IN IP6 2001:db8::10\n"
		"s=-\n"
		"c=IN IP6 2001:db8::10\n"
		"t=0 0\n"
		"m=audio 30000 RTP/AVP 0\n"
		"a=rtcp:30011 IN IP6 2001:db8::11\n"
		"m=video 30002/2 RTP/AVP 31\n"
		"c=IN IP6 ff15::101/3\n";
	struct sdp_session *s = parse_ok(body);
	assert_int_equal(s->origin.af, SDP_IP6);
	assert_pl(s->origin.addr, "2001:db8::10");
	assert_int_equal(s->conn.af, SDP_IP6);
	assert_pl(s->conn.addr, "2001:db8::10");
	assert_int_equal(s->media[0].rtcp_conn.af, SDP_IP6);
	assert_pl(s->media[0].rtcp_conn.addr, "2001:db8::11");
	assert_int_equal(s->media[1].port, 30002);
	assert_int_equal(s->media[1].nports, 2);
	assert_pl(s->media[1].conn.addr, "ff15::101");
	assert_pl(s->media[1].conn.mcast, "3");
	char *p = roundtrip(s), *want = crlf(body);
	assert_string_equal(p, want);
	free(p);
	free(want);
	sdp_free(s);

	/* The family must match the literal. */
	assert_int_equal(parse_err("v=0\no=- 1 1 IN IP4 ::1\ns=-\nt=0 0\n"), EBADMSG);
	assert_int_equal(parse_err("v=0\no=- 1 1 IN IP6 1.2.3.4\ns=-\nt=0 0\n"), EBADMSG);
	assert_int_equal(parse_err("v=0\no=- 1 1 IN IP6 2001:db8::zz\ns=-\nt=0 0\n"), EBADMSG);
	/* IP6 multicast takes one number, IP4 a TTL up to 255. */
	assert_int_equal(parse_err("v=0\no=- 1 1 IN IP6 ::1\ns=-\nc=IN IP6 ff15::1/3/4\nt=0 0\n"), EBADMSG);
	assert_int_equal(parse_err("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nc=IN IP4 224.2.1.1/256\nt=0 0\n"), EBADMSG);
	/* Host names up to 253 characters, with a multicast suffix too (the
	 * printer once refused what the parser took: found by fuzz_sdp). */
	char longname[600];
	char host[254];
	memset(host, 'h', 253);
	host[253] = '\0';
	for (size_t i = 60; i < 253; i += 61)
		host[i] = '.';
	snprintf(longname, sizeof(longname), "v=0\no=- 1 1 IN IP4 %s\ns=-\nc=IN IP4 %s/127/2\nt=0 0\n",
		 host, host);
	s = parse_ok(longname);
	assert_int_equal(s->conn.addr.l, 253);
	free(roundtrip(s));
	sdp_free(s);
	host[252] = '\0';
	snprintf(longname, sizeof(longname), "v=0\no=- 1 1 IN IP4 %sxx\ns=-\nt=0 0\n", host);
	assert_int_equal(parse_err(longname), EBADMSG); /* 254 */

	/* ... and the null address of IPv6 is hold too. */
	s = parse_ok("v=0\no=- 1 1 IN IP6 ::1\ns=-\nc=IN IP6 ::\nt=0 0\nm=audio 5 RTP/AVP 0\n");
	assert_true(sdp_held(s));
	sdp_free(s);
}

static void test_lf_and_crlf(void **state)
{
	(void)state;
	/* LF-only, CRLF and a mix give the same session. */
	struct sdp_session *a = parse_raw(phone_offer, strlen(phone_offer));
	struct sdp_session *b = parse_ok(phone_offer);
	char *pa = print_str(a), *pb = print_str(b);
	assert_string_equal(pa, pb);
	sdp_free(a);
	sdp_free(b);

	static const char mixed[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\ns=x\r\nt=0 0\n"
				    "c=IN IP4 192.0.2.1\r\nm=audio 5 RTP/AVP 0";
	a = parse_raw(mixed, sizeof(mixed) - 1); /* no final line end either */
	assert_int_equal(a->media[0].port, 5);
	sdp_free(a);

	/* Blank lines may end the body, not split it. */
	static const char trailing[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=x\r\nt=0 0\r\n\r\n\n";
	a = parse_raw(trailing, sizeof(trailing) - 1);
	sdp_free(a);
	assert_int_equal(parse_err("v=0\no=- 1 1 IN IP4 192.0.2.1\n\ns=x\nt=0 0\n"), EBADMSG);
	free(pa);
	free(pb);
}

static void test_tolerated(void **state)
{
	(void)state;
	/* Empty s=, runs of spaces, trailing spaces, attribute case, an
	 * rtpmap for a type not on the m= line, a second rtpmap, a rejected
	 * stream without formats, a host name in c=. */
	static const char body[] =
		"v=0\n"
		"o=-  7  7 IN IP4 pbx.example.com\n"
		"s=\n"
		"c=IN IP4 pbx.example.com \n"
		"t=0 0\n"
		"m=audio  8000 RTP/AVP  0 97 \n"
		"a=RTPMAP:97 iLBC/8000\n"
		"a=rtpmap:96 opus/48000/2\n"
		"a=rtpmap:97 speex/8000\n"
		"a=fmtp:99 x=1\n"
		"a=SendOnly \n"
		"a=x-unknown\n"
		"a=x-empty:\n"
		"m=video 0 RTP/AVP\n";
	struct sdp_session *s = parse_ok(body);
	assert_pl(s->name, "");
	assert_pl(s->conn.addr, "pbx.example.com");
	const struct sdp_media *m = &s->media[0];
	assert_int_equal(m->nfmts, 2);
	assert_pl(m->fmts[1].enc, "iLBC");
	assert_int_equal(m->dir, SDP_SENDONLY);
	assert_int_equal(m->nattrs, 5);
	assert_pl(m->attrs[0].name, "rtpmap");
	assert_pl(m->attrs[0].value, "96 opus/48000/2");
	assert_pl(m->attrs[1].value, "97 speex/8000");
	assert_pl(m->attrs[2].name, "fmtp");
	assert_pl(m->attrs[3].name, "x-unknown");
	assert_pl(m->attrs[3].value, NULL);
	assert_pl(m->attrs[4].value, "");
	assert_int_equal(s->media[1].nfmts, 0);
	char *p = roundtrip(s);
	assert_non_null(strstr(p, "s=-\r\n")); /* RFC 8866 5.3 */
	assert_non_null(strstr(p, "m=video 0 RTP/AVP\r\n"));
	assert_non_null(strstr(p, "a=x-empty:\r\n"));
	free(p);
	sdp_free(s);
}

static void test_bad_bodies(void **state)
{
	(void)state;
	static const char head[] = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n";
	static const char *const tails[] = {
		"a\n",                               /* missing = */
		"a:sendrecv\n",                      /* missing = */
		"x=foo\n",                           /* unknown type letter */
		"A=sendrecv\n",                      /* type letters are lower case */
		" a=sendrecv\n",                     /* leading space */
		"m=audio\n",                         /* m= without port */
		"m=audio RTP/AVP 0\n",               /* m= without port */
		"m=audio 65536 RTP/AVP 0\n",         /* port > 65535 */
		"m=audio -1 RTP/AVP 0\n",
		"m=audio 5/0 RTP/AVP 0\n",           /* port count 0 */
		"m=audio 5 RTP/AVP\n",               /* active without formats */
		"m=audio 5 RTP/AVP 128\n",           /* payload type > 127 */
		"m=audio 5 RTP/AVP PCMU\n",          /* RTP formats are numbers */
		"m=audio 5 RTP/AVP 0 8 0\n",         /* format twice */
		"m=audio 5 RTP/AVP 97 097\n",        /* payload type twice */
		"m=audio 5 RTP/ 0\n",                /* bad proto */
		"m=audio 5 RTP/AVP 0\nt=0 0\n",      /* session line inside media */
		"m=audio 5 RTP/AVP 0\nv=0\n",
		"m=audio 5 RTP/AVP 0\nc=IN IP4 1.2.3.4\nc=IN IP4 1.2.3.5\n", /* two c= */
		"c=IN IP4 192.0.2.2\n",              /* second session c= */
		"c=IN IP4 1.2.3.256\n",
		"m=audio 5 RTP/AVP 0\nc=IN IP4 1.2.3\n",
		"m=audio 5 RTP/AVP 0\nc=IN IP4 1.2.3.4/x\n",
		"m=audio 5 RTP/AVP 0\nc=IN IP4 1.2.3.4 extra\n",
		"m=audio 5 RTP/AVP 0\nc=IN IP4\n",
		"m=audio 5 RTP/AVP 0\nc=ATM NSAP 47.0005\n", /* nettype */
		"m=audio 5 RTP/AVP 0\nc=IN IPX 1.2.3.4\n",    /* addrtype */
		"b=AS\n",
		"b=AS:x\n",
		"b=:64\n",
		"r=7d 1h 0 25h\nr=\n",
		"t=1 x\n",
		"t=1\n",
		"m=audio 5 RTP/AVP 0\na=rtpmap:0 PCMU\n",          /* no clock rate */
		"m=audio 5 RTP/AVP 0\na=rtpmap:0 PCMU/0\n",
		"m=audio 5 RTP/AVP 0\na=rtpmap:0 PCMU/8000/x\n",
		"m=audio 5 RTP/AVP 0\na=rtpmap:0 PCMU/8000/1/2\n",
		"m=audio 5 RTP/AVP 0\na=rtpmap:200 X/8000\n",
		"m=audio 5 RTP/AVP 0\na=rtpmap:0 PCMU/8000 x\n",
		"m=audio 5 RTP/AVP 0\na=rtpmap\n",
		"m=audio 5 RTP/AVP 0\na=fmtp:\n",
		"m=audio 5 RTP/AVP 0\na=ptime:abc\n",
		"m=audio 5 RTP/AVP 0\na=ptime:0\n",
		"m=audio 5 RTP/AVP 0\na=ptime:20\na=ptime:30\n",
		"m=audio 5 RTP/AVP 0\na=rtcp:70000\n",
		"m=audio 5 RTP/AVP 0\na=rtcp:5 IN IP4\n",
		"m=audio 5 RTP/AVP 0\na=rtcp-mux:1\n",
		"m=audio 5 RTP/AVP 0\na=crypto:x AES_CM_128_HMAC_SHA1_80 inline:k\n",
		"m=audio 5 RTP/AVP 0\na=crypto:1234567890 AES_CM_128_HMAC_SHA1_80 inline:k\n",
		"m=audio 5 RTP/AVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80\n",
		"m=audio 5 RTP/AVP 0\na=sendrecv:x\n",
		"m=audio 5 RTP/AVP 0\na=sendrecv\na=recvonly\n",
		"a=inactive\na=inactive\n",
		"a=\n",
		"a=:x\n",
		"a= sendrecv\n",
		"a=na(me:x\n",
		"z=\n",
	};
	char body[512];
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		snprintf(body, sizeof(body), "%s%s", head, tails[i]);
		if (parse_err(body) != EBADMSG)
			fail_msg("accepted:\n%s", body);
	}

	static const char *const whole[] = {
		"",
		"v=1\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\n",
		"v=0 \no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\n",
		"o=- 1 1 IN IP4 192.0.2.1\nv=0\ns=-\nt=0 0\n",
		"v=0\ns=-\no=- 1 1 IN IP4 192.0.2.1\nt=0 0\n",
		"v=0\no=- 1 1 IN IP4 192.0.2.1\nt=0 0\n",           /* no s= */
		"v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\n",             /* no t= */
		"v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nm=audio 5 RTP/AVP 0\nt=0 0\n",
		"v=0\no=- 1 IN IP4 192.0.2.1\ns=-\nt=0 0\n",        /* 5 fields */
		"v=0\no=- x 1 IN IP4 192.0.2.1\ns=-\nt=0 0\n",
		"v=0\no=- 1 18446744073709551616 IN IP4 192.0.2.1\ns=-\nt=0 0\n",
		"v=0\no=- 1 1 IN IP4 192.0.2.1 x\ns=-\nt=0 0\n",
		"v=0\no=- 1 1 IN IP4 224.0.0.1/3\ns=-\nt=0 0\n",   /* no multicast in o= */
		/* active media without any c= */
		"v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\nm=audio 5 RTP/AVP 0\n",
		"GET / HTTP/1.1\nHost: x\n",
	};
	for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++)
		if (parse_err(whole[i]) != EBADMSG)
			fail_msg("accepted:\n%s", whole[i]);

	/* Control characters: NUL, a stray CR, a bell. */
	static const char nul[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=a\0b\r\nt=0 0\r\n";
	static const char cr[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=a\rb\r\nt=0 0\r\n";
	static const char bel[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=a\ab\r\nt=0 0\r\n";
	struct sdp_session *s = NULL;
	assert_int_equal(sdp_parse(&s, nul, sizeof(nul) - 1), EBADMSG);
	assert_int_equal(sdp_parse(&s, cr, sizeof(cr) - 1), EBADMSG);
	assert_int_equal(sdp_parse(&s, bel, sizeof(bel) - 1), EBADMSG);
	assert_int_equal(sdp_parse(NULL, nul, 3), EINVAL);
	assert_null(s);
}

/* Builds head + n copies of line (with %zu replaced by the index). */
static char *repeat(const char *head, const char *line, size_t n)
{
	size_t cap = strlen(head) + n * (strlen(line) + 16) + 1;
	char *b = malloc(cap);
	assert_non_null(b);
	size_t len = (size_t)snprintf(b, cap, "%s", head);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(b + len, cap - len, line, i);
	return b;
}

static void test_limits(void **state)
{
	(void)state;
	static const char head[] = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n";
	static const char mhead[] = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
				    "m=audio 5 RTP/AVP 0\n";
	char *b;
	int err;
	struct {
		const char *head, *line;
		size_t ok, bad;
	} cases[] = {
		{ head, "m=audio %zu RTP/AVP 0\n", SDP_MAX_MEDIA, SDP_MAX_MEDIA + 1 },
		{ mhead, "a=x-%zu\n", SDP_MAX_ATTRS, SDP_MAX_ATTRS + 1 },
		{ head, "a=x-%zu\n", SDP_MAX_ATTRS, SDP_MAX_ATTRS + 1 },
		{ mhead, "a=crypto:%zu AES_CM_128_HMAC_SHA1_80 inline:k\n", SDP_MAX_CRYPTO,
		  SDP_MAX_CRYPTO + 1 },
		{ head, "b=X%zu:1\n", SDP_MAX_BW, SDP_MAX_BW + 1 },
		{ head, "t=%zu 0\n", SDP_MAX_TIMES - 1, SDP_MAX_TIMES },
		{ head, "e=%zu@example.com\n", SDP_MAX_EP, SDP_MAX_EP + 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b = repeat(cases[i].head, cases[i].line, cases[i].ok);
		err = parse_err(b);
		if (err)
			fail_msg("refused at the limit (%d):\n%s", err, b);
		free(b);
		b = repeat(cases[i].head, cases[i].line, cases[i].bad);
		assert_int_equal(parse_err(b), EBADMSG);
		free(b);
	}

	/* 32 formats are fine, 33 are too many. */
	char m[512] = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 5 RTP/AVP";
	for (int i = 0; i < SDP_MAX_FMTS; i++)
		snprintf(m + strlen(m), sizeof(m) - strlen(m), " %d", 96 + i % 32);
	strcat(m, "\n");
	struct sdp_session *s = parse_ok(m);
	assert_int_equal(s->media[0].nfmts, SDP_MAX_FMTS);
	sdp_free(s);
	m[strlen(m) - 1] = '\0';
	strcat(m, " 0\n");
	assert_int_equal(parse_err(m), EBADMSG);

	/* Bodies over 16 KiB are refused before anything else. */
	size_t n = SDP_MAX_BODY + 1;
	b = malloc(n);
	assert_non_null(b);
	memset(b, 'x', n);
	size_t hl = strlen(head);
	memcpy(b, head, hl);
	for (size_t i = hl; i + 8 <= n; i += 8)
		memcpy(b + i, "i=aaaaa\n", 8); /* session i= repeated: fails anyway */
	s = NULL;
	assert_int_equal(sdp_parse(&s, b, n), EBADMSG);
	/* A legal body of exactly SDP_MAX_BODY: pad one long s= line. */
	memset(b, 'a', SDP_MAX_BODY);
	static const char pre[] = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=";
	static const char post[] = "\nt=0 0\n";
	memcpy(b, pre, sizeof(pre) - 1);
	memcpy(b + SDP_MAX_BODY - (sizeof(post) - 1), post, sizeof(post) - 1);
	assert_int_equal(sdp_parse(&s, b, SDP_MAX_BODY), 0);
	sdp_free(s);
	free(b);
}

/* --- printing ----------------------------------------------------------- */

static void test_print_handbuilt(void **state)
{
	(void)state;
	struct sdp_session *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	s->origin = (struct sdp_origin){ PL("hookflash"), 42, 7, SDP_IP4, PL("203.0.113.5") };
	s->conn = (struct sdp_conn){ SDP_IP4, PL("203.0.113.5"), PL_NULL };
	s->nmedia = 1;
	struct sdp_media *m = &s->media[0];
	m->type = PL("audio");
	m->port = 10000;
	m->proto = PL("RTP/AVP");
	m->fmts[0] = (struct sdp_fmt){ PL("8"), 8, PL("PCMA"), 8000, 0, PL_NULL };
	m->fmts[1] = (struct sdp_fmt){ PL("101"), 101, PL("telephone-event"), 8000, 0, PL("0-15") };
	m->nfmts = 2;
	m->ptime = 20;
	m->dir = SDP_RECVONLY;
	char *p = print_str(s);
	assert_string_equal(p, "v=0\r\n"
			       "o=hookflash 42 7 IN IP4 203.0.113.5\r\n"
			       "s=-\r\n"
			       "c=IN IP4 203.0.113.5\r\n"
			       "t=0 0\r\n"
			       "m=audio 10000 RTP/AVP 8 101\r\n"
			       "a=rtpmap:8 PCMA/8000\r\n"
			       "a=rtpmap:101 telephone-event/8000\r\n"
			       "a=fmtp:101 0-15\r\n"
			       "a=ptime:20\r\n"
			       "a=recvonly\r\n");
	free(p);

	/* A clone owns its text: the source may go away. */
	struct sdp_session *c = NULL;
	assert_int_equal(sdp_clone(&c, s), 0);
	assert_ptr_not_equal(c->origin.user.p, s->origin.user.p);

	/* Things that would not parse are refused, and nothing is written. */
	struct sbuf b;
	sbuf_init(&b);
	s->name = PL("bad\r\nname");
	assert_int_equal(sdp_print(&b, s), EINVAL);
	s->name = PL_NULL;
	s->origin.user = PL("two words");
	assert_int_equal(sdp_print(&b, s), EINVAL);
	s->origin.user = PL("-");
	m->nfmts = 0;
	assert_int_equal(sdp_print(&b, s), EINVAL); /* active m= without format */
	m->nfmts = 2;
	m->fmts[1].pt = 100; /* rtpmap for another type than listed */
	assert_int_equal(sdp_print(&b, s), EINVAL);
	m->fmts[1].pt = 101;
	m->attrs[0] = (struct sdp_attr){ PL("sendonly"), PL_NULL };
	m->nattrs = 1; /* a direction hiding among the others */
	assert_int_equal(sdp_print(&b, s), EINVAL);
	m->nattrs = 0;
	s->conn.af = SDP_AF_NONE; /* active stream without an address */
	assert_int_equal(sdp_print(&b, s), EINVAL);
	s->conn = (struct sdp_conn){ SDP_IP4, PL("::1"), PL_NULL };
	assert_int_equal(sdp_print(&b, s), EINVAL);
	assert_int_equal(b.len, 0);
	sbuf_free(&b);
	free(s);

	p = roundtrip(c);
	assert_non_null(strstr(p, "o=hookflash 42 7 IN IP4 203.0.113.5\r\n"));
	free(p);
	sdp_free(c);
}

static void test_roundtrip_bodies(void **state)
{
	(void)state;
	const char *bodies[] = { rfc4566_example, phone_offer, webrtc_offer };
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct sdp_session *s = parse_ok(bodies[i]);
		/* Clone, drop the original, and print the clone: same text. */
		char *p1 = print_str(s);
		struct sdp_session *c = NULL;
		assert_int_equal(sdp_clone(&c, s), 0);
		sdp_free(s);
		char *p2 = roundtrip(c);
		assert_string_equal(p1, p2);
		free(p1);
		free(p2);
		sdp_free(c);
	}
}

/* --- directions and hold ------------------------------------------------ */

static void test_hold(void **state)
{
	(void)state;
	static const struct {
		const char *body;
		bool m0_held, held;
	} cases[] = {
		{ "m=audio 5 RTP/AVP 0\n", false, false },
		{ "m=audio 5 RTP/AVP 0\na=sendonly\n", true, true },
		{ "m=audio 5 RTP/AVP 0\na=inactive\n", true, true },
		{ "m=audio 5 RTP/AVP 0\na=recvonly\n", false, false },
		{ "m=audio 5 RTP/AVP 0\nc=IN IP4 0.0.0.0\n", true, true },
		{ "a=sendonly\nm=audio 5 RTP/AVP 0\n", true, true },
		{ "a=sendonly\nm=audio 5 RTP/AVP 0\na=sendrecv\n", false, false },
		/* one held, one not: not held SDP */
		{ "m=audio 5 RTP/AVP 0\na=sendonly\nm=audio 7 RTP/AVP 0\n", true, false },
		/* a rejected stream does not count */
		{ "m=audio 5 RTP/AVP 0\na=inactive\nm=video 0 RTP/AVP 31\n", true, true },
		{ "m=audio 0 RTP/AVP 0\na=inactive\n", false, false },
	};
	static const char head[] = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n";
	char body[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(body, sizeof(body), "%s%s", head, cases[i].body);
		struct sdp_session *s = parse_ok(body);
		if (sdp_media_held(s, &s->media[0]) != cases[i].m0_held ||
		    sdp_held(s) != cases[i].held)
			fail_msg("case %zu: held %d/%d", i, sdp_media_held(s, &s->media[0]), sdp_held(s));
		sdp_free(s);
	}
	struct sdp_session *s = parse_ok("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\n");
	assert_false(sdp_held(s)); /* no media at all */
	sdp_free(s);

	assert_int_equal(sdp_direction_of(NULL, NULL), SDP_SENDRECV);
	assert_int_equal(sdp_dir_reverse(SDP_SENDONLY), SDP_RECVONLY);
	assert_int_equal(sdp_dir_reverse(SDP_RECVONLY), SDP_SENDONLY);
	assert_int_equal(sdp_dir_reverse(SDP_INACTIVE), SDP_INACTIVE);
	assert_int_equal(sdp_dir_reverse(SDP_SENDRECV), SDP_SENDRECV);
	assert_string_equal(sdp_dir_name(SDP_INACTIVE), "inactive");
	assert_null(sdp_dir_name(SDP_DIR_UNSET));
}

static void test_fmt_codec(void **state)
{
	(void)state;
	struct sdp_session *s = parse_ok(
		"v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
		"m=audio 5 RTP/AVP 0 9 18 96 97 8\na=rtpmap:96 opus/48000/2\na=rtpmap:8 X/16000\n"
		"m=image 6 udptl t38\n");
	const struct sdp_media *m = &s->media[0];
	struct pl enc;
	uint32_t clock;
	uint8_t ch;
	assert_int_equal(sdp_fmt_codec(&m->fmts[1], &enc, &clock, &ch), 0);
	assert_pl(enc, "G722");
	assert_int_equal(clock, 8000); /* RFC 3551's famous quirk */
	assert_int_equal(sdp_fmt_codec(&m->fmts[2], &enc, &clock, &ch), 0);
	assert_pl(enc, "G729");
	assert_int_equal(sdp_fmt_codec(&m->fmts[3], &enc, &clock, &ch), 0);
	assert_pl(enc, "opus");
	assert_int_equal(ch, 2);
	assert_int_equal(sdp_fmt_codec(&m->fmts[4], &enc, &clock, &ch), ENOENT);
	assert_int_equal(sdp_fmt_codec(&m->fmts[5], &enc, &clock, &ch), 0);
	assert_pl(enc, "X"); /* rtpmap wins over the static table */
	assert_int_equal(s->media[1].fmts[0].pt, -1);
	assert_int_equal(sdp_fmt_codec(&s->media[1].fmts[0], &enc, &clock, &ch), ENOENT);
	assert_int_equal(sdp_fmt_codec(NULL, &enc, &clock, &ch), ENOENT);
	assert_false(sdp_proto_is_rtp(s->media[1].proto));
	sdp_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4566_example),
		cmocka_unit_test(test_phone_offer_attrs),
		cmocka_unit_test(test_webrtc_offer),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_lf_and_crlf),
		cmocka_unit_test(test_tolerated),
		cmocka_unit_test(test_bad_bodies),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_print_handbuilt),
		cmocka_unit_test(test_roundtrip_bodies),
		cmocka_unit_test(test_hold),
		cmocka_unit_test(test_fmt_codec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
