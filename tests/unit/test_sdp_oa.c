/* Unit tests for offer/answer (core/sdp/sdp_oa.c) against the exchanges
 * of RFC 4317: every body there parses and prints back byte for byte, and
 * where the answerer's choice follows from a codec list, sdp_answer
 * produces the RFC's answer exactly (o= versions included, via the prev
 * rule of RFC 3264 section 8). The few places where RFC 4317 differs from
 * what RFC 3264 asks, or needs an o= address unlike c=, are compared by
 * meaning and say why. Then codec preference, dynamic payload types,
 * telephone-event, the direction table and rejections. */
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

/* --- helpers ------------------------------------------------------------ */

/* RFC 4317 notes that its s= lines hold a single space. */
#define ALICE(ver) "v=0\no=alice 2890844526 " ver " IN IP4 host.atlanta.example.com\n" \
	"s= \nc=IN IP4 host.atlanta.example.com\nt=0 0\n"
#define BOB(ver) "v=0\no=bob 2808844564 " ver " IN IP4 host.biloxi.example.com\n" \
	"s= \nc=IN IP4 host.biloxi.example.com\nt=0 0\n"

static void assert_prints(const struct sdp_session *s, const char *lf)
{
	char *want = crlf(lf), *got = print_str(s);
	if (strcmp(want, got))
		fail_msg("expected:\n%s\ngot:\n%s", want, got);
	free(want);
	free(got);
}

static const struct sdp_local bob_loc = {
	.addr = "host.biloxi.example.com", .user = "bob",
	.sess_id = 2808844564u, .sess_version = 2808844564u, .name = " ",
};
static const struct sdp_local alice_loc = {
	.addr = "host.atlanta.example.com", .user = "alice",
	.sess_id = 2890844526u, .sess_version = 2890844526u, .name = " ",
};

static const struct sdp_codec PCMU = { "PCMU", 8000, 0, NULL };
static const struct sdp_codec PCMA = { "PCMA", 8000, 0, NULL };
static const struct sdp_codec G722 = { "G722", 8000, 0, NULL };
static const struct sdp_codec ILBC = { "iLBC", 8000, 0, NULL };
static const struct sdp_codec TE = { "telephone-event", 8000, 0, NULL };
static const struct sdp_codec H261 = { "H261", 90000, 0, NULL };
static const struct sdp_codec MPV = { "MPV", 90000, 0, NULL };

/* Answers offer (LF text) as `who` on ports, with the given codecs. */
static struct sdp_session *answer(const char *offer_lf, struct sdp_local loc,
				  const uint16_t *ports, size_t nports,
				  const struct sdp_session *prev,
				  const struct sdp_answer_prefs *prefs)
{
	struct sdp_session *offer = parse_ok(offer_lf), *a = NULL;
	loc.ports = ports;
	loc.nports = nports;
	loc.prev = prev;
	int err = sdp_answer(&a, offer, &loc, prefs);
	if (err)
		fail_msg("sdp_answer: %d", err);
	sdp_free(offer);
	return a;
}

#define PREFS(...) (&(struct sdp_answer_prefs){ \
	.codecs = (const struct sdp_codec[]){ __VA_ARGS__ }, \
	.ncodecs = sizeof((const struct sdp_codec[]){ __VA_ARGS__ }) / sizeof(struct sdp_codec) })
#define PORTS(...) (const uint16_t[]){ __VA_ARGS__ }, \
	sizeof((const uint16_t[]){ __VA_ARGS__ }) / sizeof(uint16_t)

/* Same meaning: o= identity and version, and per stream the port, formats
 * with their codecs, effective direction and effective address. */
static void assert_same_meaning(const struct sdp_session *a, const struct sdp_session *b)
{
	assert_true(pl_eq(a->origin.user, b->origin.user));
	assert_true(a->origin.sess_id == b->origin.sess_id);
	assert_true(a->origin.sess_version == b->origin.sess_version);
	assert_int_equal(a->nmedia, b->nmedia);
	for (size_t i = 0; i < a->nmedia; i++) {
		const struct sdp_media *x = &a->media[i], *y = &b->media[i];
		assert_true(pl_eq(x->type, y->type) && pl_eq(x->proto, y->proto));
		assert_int_equal(x->port, y->port);
		assert_int_equal(x->nfmts, y->nfmts);
		for (size_t j = 0; j < x->nfmts; j++) {
			assert_true(pl_eq(x->fmts[j].id, y->fmts[j].id));
			assert_true(pl_eq(x->fmts[j].enc, y->fmts[j].enc));
			assert_int_equal(x->fmts[j].clock, y->fmts[j].clock);
		}
		if (x->port == 0)
			continue;
		assert_int_equal(sdp_direction_of(a, x), sdp_direction_of(b, y));
		assert_true(pl_eq(sdp_media_conn(a, x)->addr, sdp_media_conn(b, y)->addr));
	}
}

/* --- RFC 4317 bodies ---------------------------------------------------- */

#define AV_OFFER ALICE("2890844526") \
	"m=audio 49170 RTP/AVP 0 8 97\na=rtpmap:0 PCMU/8000\na=rtpmap:8 PCMA/8000\n" \
	"a=rtpmap:97 iLBC/8000\nm=video 51372 RTP/AVP 31 32\na=rtpmap:31 H261/90000\n" \
	"a=rtpmap:32 MPV/90000\n"
#define TWO_AUDIO_OFFER ALICE("2890844526") \
	"m=audio 49170 RTP/AVP 0 97\na=rtpmap:0 PCMU/8000\na=rtpmap:97 iLBC/8000\n" \
	"m=audio 49172 RTP/AVP 98\na=rtpmap:98 telephone-event/8000\na=sendonly\n"
#define TWO_AUDIO_ANSWER BOB("2808844564") \
	"m=audio 49172 RTP/AVP 97\na=rtpmap:97 iLBC/8000\n" \
	"m=audio 49174 RTP/AVP 98\na=rtpmap:98 telephone-event/8000\na=recvonly\n"
#define ILBC_H261(who, ver, a, v) who(ver) \
	"m=audio " a " RTP/AVP 97\na=rtpmap:97 iLBC/8000\n" \
	"m=video " v " RTP/AVP 31\na=rtpmap:31 H261/90000\n"
#define ILBC_ONLY(who, ver, port) who(ver) "m=audio " port " RTP/AVP 97\na=rtpmap:97 iLBC/8000\n"
#define PCMU_ILBC_OFFER ALICE("2890844526") \
	"m=audio 49170 RTP/AVP 0 97\na=rtpmap:0 PCMU/8000\na=rtpmap:97 iLBC/8000\n"

/* Every SDP body of RFC 4317, in its section order. */
static const char *const rfc4317_bodies[] = {
	AV_OFFER,
	BOB("2808844564") "m=audio 49174 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"
		"m=video 49170 RTP/AVP 32\na=rtpmap:32 MPV/90000\n",
	BOB("2808844564") "m=audio 49172 RTP/AVP 0 8\na=rtpmap:0 PCMU/8000\na=rtpmap:8 PCMA/8000\n"
		"m=video 0 RTP/AVP 31\na=rtpmap:31 H261/90000\n",
	ALICE("2890844527") "m=audio 51372 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"
		"m=video 0 RTP/AVP 31\na=rtpmap:31 H261/90000\n",
	BOB("2808844565") "m=audio 49172 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"
		"m=video 0 RTP/AVP 31\na=rtpmap:31 H261/90000\n",
	BOB("2808844564") "m=audio 49172 RTP/AVP 99\na=rtpmap:99 iLBC/8000\n"
		"m=video 51374 RTP/AVP 31\na=rtpmap:31 H261/90000\n",
	TWO_AUDIO_OFFER,
	TWO_AUDIO_ANSWER,
	ILBC_H261(ALICE, "2890844526", "49170", "51372"),
	ILBC_H261(BOB, "2808844564", "49174", "49170"),
	"v=0\no=bob 2808844564 2808844565 IN IP4 host.biloxi.example.com\ns= \n"
		"c=IN IP4 newhost.biloxi.example.com\nt=0 0\n"
		"m=audio 49178 RTP/AVP 97\na=rtpmap:97 iLBC/8000\n"
		"m=video 49188 RTP/AVP 31\na=rtpmap:31 H261/90000\n",
	ALICE("2890844526") "m=audio 49170 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"
		"m=audio 51372 RTP/AVP 97 101\na=rtpmap:97 iLBC/8000\na=rtpmap:101 telephone-event/8000\n",
	BOB("2808844564") "m=audio 0 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"
		"m=audio 49170 RTP/AVP 97 101\na=rtpmap:97 iLBC/8000\na=rtpmap:101 telephone-event/8000\n",
	BOB("2808844564") "m=audio 49174 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"
		"m=video 49172 RTP/AVP 32\nc=IN IP4 otherhost.biloxi.example.com\na=rtpmap:32 MPV/90000\n",
	"v=0\no=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com\ns= \n"
		"c=IN IP4 placeholder.biloxi.example.com\nt=0 0\n"
		"m=audio 49172 RTP/AVP 97\na=rtpmap:97 iLBC/8000\na=sendonly\n",
	BOB("2808844565") "m=audio 49172 RTP/AVP 97\na=rtpmap:97 iLBC/8000\na=sendonly\n"
		"m=audio 49174 RTP/AVP 98\na=rtpmap:98 telephone-event/8000\na=recvonly\n",
	ALICE("2890844527") "m=audio 49170 RTP/AVP 0 97\na=rtpmap:0 PCMU/8000\na=rtpmap:97 iLBC/8000\n"
		"m=audio 49172 RTP/AVP 98\na=rtpmap:98 telephone-event/8000\na=sendonly\n",
	BOB("2808844565") "m=audio 49170 RTP/AVP 97\na=rtpmap:97 iLBC/8000\n"
		"m=audio 48282 RTP/AVP 98\nc=IN IP4 mediaserver.biloxi.example.com\n"
		"a=rtpmap:98 telephone-event/8000\na=recvonly\n",
	ALICE("2890844527") "m=audio 49170 RTP/AVP 97\na=rtpmap:97 iLBC/8000\n"
		"m=audio 49172 RTP/AVP 98\nc=IN IP4 host.atlanta.example.com\n"
		"a=rtpmap:98 telephone-event/8000\na=sendonly\n",
	ALICE("2890844526"),
	BOB("2808844564"),
	"v=0\no=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com\ns= \n"
		"c=IN IP4 0.0.0.0\nt=0 0\nm=audio 23442 RTP/AVP 97\na=rtpmap:97 iLBC/8000\n",
	"v=0\no=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com\ns= \n"
		"c=IN IP4 0.0.0.0\nt=0 0\nm=audio 9322 RTP/AVP 97\na=rtpmap:97 iLBC/8000\n",
};

static void test_rfc4317_roundtrip(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc4317_bodies) / sizeof(rfc4317_bodies[0]); i++) {
		struct sdp_session *s = parse_ok(rfc4317_bodies[i]);
		assert_prints(s, rfc4317_bodies[i]);
		sdp_free(s);
	}
}

/* --- RFC 4317 exchanges ------------------------------------------------- */

/* 2.1: several codecs offered, one per stream accepted. */
static void test_4317_audio_video_1(void **state)
{
	(void)state;
	struct sdp_session *a = answer(AV_OFFER, bob_loc, PORTS(49174, 49170), NULL,
				       PREFS(PCMU, MPV));
	assert_prints(a, rfc4317_bodies[1]);
	sdp_free(a);
}

/* 2.2: two codecs accepted and video declined; then Alice narrows to one
 * codec and Bob's second answer gets a new version since it changed. */
static void test_4317_audio_video_2(void **state)
{
	(void)state;
	struct sdp_session *a1 = answer(AV_OFFER, bob_loc, PORTS(49172, 49172), NULL,
					PREFS(PCMU, PCMA));
	assert_prints(a1, rfc4317_bodies[2]);
	struct sdp_session *a2 = answer(rfc4317_bodies[3], bob_loc, PORTS(49172, 49172), a1,
					PREFS(PCMU, PCMA));
	assert_prints(a2, rfc4317_bodies[4]);
	sdp_free(a1);
	sdp_free(a2);
}

/* 2.3: RFC 4317 shows Bob answering iLBC as 99 where Alice offered 97,
 * which it calls acceptable; RFC 3264 6.1 recommends the offer's number,
 * which is what we do. Same codecs either way. */
static void test_4317_audio_video_3(void **state)
{
	(void)state;
	struct sdp_session *a = answer(AV_OFFER, bob_loc, PORTS(49172, 51374), NULL,
				       PREFS(ILBC, H261));
	assert_prints(a, BOB("2808844564") "m=audio 49172 RTP/AVP 97\na=rtpmap:97 iLBC/8000\n"
			 "m=video 51374 RTP/AVP 31\na=rtpmap:31 H261/90000\n");
	struct sdp_session *rfc = parse_ok(rfc4317_bodies[5]);
	struct pl e1, e2;
	uint32_t c1, c2;
	uint8_t ch;
	assert_int_equal(sdp_fmt_codec(&a->media[0].fmts[0], &e1, &c1, &ch), 0);
	assert_int_equal(sdp_fmt_codec(&rfc->media[0].fmts[0], &e2, &c2, &ch), 0);
	assert_true(pl_eq(e1, e2) && c1 == c2);
	sdp_free(rfc);
	sdp_free(a);
}

/* 2.4: a voice stream and a send-only telephone-event stream. */
static void test_4317_two_audio_streams(void **state)
{
	(void)state;
	struct sdp_session *a = answer(TWO_AUDIO_OFFER, bob_loc, PORTS(49172, 49174), NULL,
				       PREFS(ILBC, TE));
	assert_prints(a, TWO_AUDIO_ANSWER);
	sdp_free(a);
}

/* 2.5: Bob moves; Alice answers with her first SDP, version unchanged. */
static void test_4317_audio_video_4(void **state)
{
	(void)state;
	const char *alice1 = rfc4317_bodies[8];
	struct sdp_session *a = answer(alice1, bob_loc, PORTS(49174, 49170), NULL,
				       PREFS(ILBC, H261));
	assert_prints(a, rfc4317_bodies[9]);
	sdp_free(a);

	struct sdp_session *prev = parse_ok(alice1);
	a = answer(rfc4317_bodies[10], alice_loc, PORTS(49170, 51372), prev, PREFS(ILBC, H261));
	assert_prints(a, alice1);
	sdp_free(prev);
	sdp_free(a);
}

/* 2.6: Bob declines the PCMU stream and takes iLBC; telephone-event stays
 * although Bob's list does not name it. */
static void test_4317_audio_only_1(void **state)
{
	(void)state;
	struct sdp_session *a = answer(rfc4317_bodies[11], bob_loc, PORTS(49168, 49170), NULL,
				       PREFS(ILBC));
	assert_prints(a, rfc4317_bodies[12]);
	sdp_free(a);
}

/* 2.7: a second video codec added in a re-offer is accepted. */
static void test_4317_audio_video_5(void **state)
{
	(void)state;
	const struct sdp_answer_prefs *p = PREFS(ILBC, H261, MPV);
	struct sdp_session *a1 = answer(
		ALICE("2890844526") "m=audio 49170 RTP/AVP 99\na=rtpmap:99 iLBC/8000\n"
		"m=video 51372 RTP/AVP 31\na=rtpmap:31 H261/90000\n",
		bob_loc, PORTS(49172, 51374), NULL, p);
	assert_prints(a1, BOB("2808844564") "m=audio 49172 RTP/AVP 99\na=rtpmap:99 iLBC/8000\n"
			  "m=video 51374 RTP/AVP 31\na=rtpmap:31 H261/90000\n");
	struct sdp_session *a2 = answer(
		ALICE("2890844527") "m=audio 49170 RTP/AVP 99\na=rtpmap:99 iLBC/8000\n"
		"m=video 51372 RTP/AVP 31 32\na=rtpmap:31 H261/90000\na=rtpmap:32 MPV/90000\n",
		bob_loc, PORTS(49172, 51374), a1, p);
	assert_prints(a2, BOB("2808844565") "m=audio 49172 RTP/AVP 99\na=rtpmap:99 iLBC/8000\n"
			  "m=video 51374 RTP/AVP 31 32\na=rtpmap:31 H261/90000\na=rtpmap:32 MPV/90000\n");
	sdp_free(a1);
	sdp_free(a2);
}

/* 2.8: video to another host than audio: a media-level c=. */
static void test_4317_audio_video_6(void **state)
{
	(void)state;
	struct sdp_session *s = parse_ok(rfc4317_bodies[13]);
	assert_true(pl_eq(sdp_media_conn(s, &s->media[0])->addr, PL("host.biloxi.example.com")));
	assert_true(pl_eq(sdp_media_conn(s, &s->media[1])->addr, PL("otherhost.biloxi.example.com")));
	sdp_free(s);
}

/* 3.1: Bob answers on hold (sendonly, placeholder address), then
 * unholds in his own offer; Alice's answer moves port, so its version
 * goes up. RFC 4317 keeps Bob's o= address when c= is the placeholder;
 * we write our c= address in o= too, so the first answer is compared by
 * meaning. */
static void test_4317_hold_unhold_1(void **state)
{
	(void)state;
	struct sdp_local loc = bob_loc;
	loc.addr = "placeholder.biloxi.example.com";
	struct sdp_answer_prefs p = *PREFS(ILBC);
	p.dir = SDP_SENDONLY;
	struct sdp_session *a = answer(PCMU_ILBC_OFFER, loc, PORTS(49172), NULL, &p);
	struct sdp_session *rfc = parse_ok(rfc4317_bodies[14]);
	assert_same_meaning(a, rfc);
	assert_true(sdp_held(a));
	sdp_free(rfc);
	sdp_free(a);

	struct sdp_session *prev = parse_ok(PCMU_ILBC_OFFER);
	a = answer(ILBC_ONLY(BOB, "2808844565", "49170"), alice_loc, PORTS(49178), prev,
		   PREFS(PCMU, ILBC));
	assert_prints(a, ILBC_ONLY(ALICE, "2890844527", "49178"));
	assert_false(sdp_held(a));
	sdp_free(prev);
	sdp_free(a);
}

/* 3.2: Bob holds the voice stream but not the tone stream. RFC 4317 has
 * Alice repeat her first offer as the answer, which RFC 3264 6.1 does not
 * allow (a sendonly stream is answered recvonly or inactive, and with
 * formats from the offer); we answer per RFC 3264. */
static void test_4317_hold_two_streams(void **state)
{
	(void)state;
	struct sdp_session *a = answer(TWO_AUDIO_OFFER, bob_loc, PORTS(49172, 49174), NULL,
				       PREFS(ILBC, TE));
	assert_prints(a, TWO_AUDIO_ANSWER);
	sdp_free(a);

	struct sdp_session *offer2 = parse_ok(rfc4317_bodies[15]);
	assert_true(sdp_media_held(offer2, &offer2->media[0]));
	assert_false(sdp_media_held(offer2, &offer2->media[1])); /* recvonly: not hold */
	assert_false(sdp_held(offer2));
	sdp_free(offer2);

	struct sdp_session *prev = parse_ok(TWO_AUDIO_OFFER);
	a = answer(rfc4317_bodies[15], alice_loc, PORTS(49170, 49172), prev, PREFS(PCMU, ILBC, TE));
	assert_prints(a, ALICE("2890844527") "m=audio 49170 RTP/AVP 97\na=rtpmap:97 iLBC/8000\n"
			 "a=recvonly\nm=audio 49172 RTP/AVP 98\na=rtpmap:98 telephone-event/8000\n"
			 "a=sendonly\n");
	sdp_free(prev);
	sdp_free(a);
}

/* 4.1: Bob's media server adds a receive-only tone stream with its own
 * c=; Alice accepts sending to it. RFC 4317 repeats Alice's session
 * address at media level; ours says the same once. */
static void test_4317_second_audio_added(void **state)
{
	(void)state;
	struct sdp_session *a = answer(PCMU_ILBC_OFFER, bob_loc, PORTS(49170), NULL, PREFS(ILBC));
	assert_prints(a, ILBC_ONLY(BOB, "2808844564", "49170"));
	sdp_free(a);

	struct sdp_session *prev = parse_ok(PCMU_ILBC_OFFER);
	a = answer(rfc4317_bodies[17], alice_loc, PORTS(49170, 49172), prev, PREFS(PCMU, ILBC, TE));
	struct sdp_session *rfc = parse_ok(rfc4317_bodies[18]);
	assert_same_meaning(a, rfc);
	sdp_free(rfc);
	sdp_free(prev);
	sdp_free(a);
}

/* 4.2: video added in Alice's second offer. */
static void test_4317_video_added(void **state)
{
	(void)state;
	const struct sdp_answer_prefs *p = PREFS(PCMU, H261);
	struct sdp_session *a1 = answer(ALICE("2890844526") "m=audio 49170 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n",
					bob_loc, PORTS(49172), NULL, p);
	assert_prints(a1, BOB("2808844564") "m=audio 49172 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n");
	struct sdp_session *a2 = answer(
		ALICE("2890844527") "m=audio 49170 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"
		"m=video 49172 RTP/AVP 31\na=rtpmap:31 H261/90000\n",
		bob_loc, PORTS(49172, 49168), a1, p);
	assert_prints(a2, BOB("2808844565") "m=audio 49172 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"
			  "m=video 49168 RTP/AVP 31\na=rtpmap:31 H261/90000\n");
	sdp_free(a1);
	sdp_free(a2);
}

/* 4.3: Bob deletes the video stream; Alice answers it with port 0. */
static void test_4317_video_deleted(void **state)
{
	(void)state;
	const struct sdp_answer_prefs *p = PREFS(ILBC, H261);
	struct sdp_session *a = answer(rfc4317_bodies[8], bob_loc, PORTS(49174, 49170), NULL, p);
	assert_prints(a, rfc4317_bodies[9]);
	sdp_free(a);

	struct sdp_session *prev = parse_ok(rfc4317_bodies[8]);
	a = answer(BOB("2808844565") "m=audio 49174 RTP/AVP 97\na=rtpmap:97 iLBC/8000\n"
		   "m=video 0 RTP/AVP 31\na=rtpmap:31 H261/90000\n",
		   alice_loc, PORTS(49170, 51372), prev, p);
	assert_prints(a, ALICE("2890844527") "m=audio 49170 RTP/AVP 97\na=rtpmap:97 iLBC/8000\n"
			 "m=video 0 RTP/AVP 31\na=rtpmap:31 H261/90000\n");
	sdp_free(prev);
	sdp_free(a);
}

/* 5.1: no media, then audio added. */
static void test_4317_no_media_then_audio(void **state)
{
	(void)state;
	struct sdp_session *a1 = answer(ALICE("2890844526"), bob_loc, NULL, 0, NULL, PREFS(ILBC));
	assert_prints(a1, BOB("2808844564"));
	struct sdp_session *a2 = answer(ILBC_ONLY(ALICE, "2890844527", "49170"), bob_loc,
					PORTS(49172), a1, PREFS(ILBC));
	assert_prints(a2, ILBC_ONLY(BOB, "2808844565", "49172"));
	sdp_free(a1);
	sdp_free(a2);
}

/* 5.2: the offer is black-holed (c=0.0.0.0): held SDP, answered with
 * plain SDP; when Alice gives her address, Bob's answer is unchanged and
 * keeps its version. */
static void test_4317_hold_unhold_2(void **state)
{
	(void)state;
	struct sdp_session *offer = parse_ok(rfc4317_bodies[21]);
	assert_true(sdp_held(offer));
	assert_true(sdp_conn_is_null(sdp_media_conn(offer, &offer->media[0])));
	sdp_free(offer);

	struct sdp_session *a1 = answer(rfc4317_bodies[21], bob_loc, PORTS(49170), NULL, PREFS(ILBC));
	assert_prints(a1, ILBC_ONLY(BOB, "2808844564", "49170"));
	struct sdp_session *a2 = answer(ILBC_ONLY(ALICE, "2890844527", "49170"), bob_loc,
					PORTS(49170), a1, PREFS(ILBC));
	assert_prints(a2, ILBC_ONLY(BOB, "2808844564", "49170"));
	sdp_free(a1);
	sdp_free(a2);
}

/* 5.3: the answer is black-holed; then Bob offers a real address and
 * Alice's answer, being her first SDP again, keeps its version. */
static void test_4317_hold_unhold_3(void **state)
{
	(void)state;
	const char *alice1 = ILBC_ONLY(ALICE, "2890844526", "49170");
	struct sdp_local loc = bob_loc;
	loc.addr = "0.0.0.0";
	struct sdp_session *a = answer(alice1, loc, PORTS(9322), NULL, PREFS(ILBC));
	struct sdp_session *rfc = parse_ok(rfc4317_bodies[22]);
	assert_same_meaning(a, rfc);
	assert_true(sdp_held(a) && sdp_held(rfc));
	sdp_free(rfc);
	sdp_free(a);

	struct sdp_session *prev = parse_ok(alice1);
	a = answer(ILBC_ONLY(BOB, "2808844565", "49172"), alice_loc, PORTS(49170), prev, PREFS(ILBC));
	assert_prints(a, alice1);
	sdp_free(prev);
	sdp_free(a);
}

/* --- codec choice ------------------------------------------------------- */

#define PHONE_OFFER(extra) \
	"v=0\no=- 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\n" \
	"m=audio 4000 RTP/AVP 0 8 9 111 101 13\na=rtpmap:111 opus/48000/2\n" \
	"a=fmtp:111 useinbandfec=1\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\n" extra

static const char *fmt_list(const struct sdp_session *s, size_t mi, char *buf, size_t cap)
{
	buf[0] = '\0';
	for (size_t i = 0; i < s->media[mi].nfmts; i++)
		snprintf(buf + strlen(buf), cap - strlen(buf), "%s%.*s", i ? " " : "",
			 (int)s->media[mi].fmts[i].id.l, s->media[mi].fmts[i].id.p);
	return buf;
}

static void test_codec_preference(void **state)
{
	(void)state;
	static const struct sdp_local loc = { .addr = "203.0.113.5", .user = "hookflash" };
	char buf[128];
	struct sdp_answer_prefs p = *PREFS(G722, PCMA, PCMU);
	static const struct {
		bool our_order;
		size_t max;
		const char *want;
	} cases[] = {
		{ false, 0, "0 8 9 101" },    /* offer order (RFC 3264 6.1) */
		{ true, 0, "9 8 0 101" },     /* our order */
		{ true, 1, "9 101" },         /* our best one */
		{ false, 1, "0 101" },        /* their best one that we have */
		{ true, 2, "9 8 101" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p.our_order = cases[i].our_order;
		p.max_codecs = cases[i].max;
		struct sdp_session *a = answer(PHONE_OFFER(""), loc, PORTS(30000), NULL, &p);
		assert_string_equal(fmt_list(a, 0, buf, sizeof(buf)), cases[i].want);
		/* telephone-event kept as offered: its number and its fmtp */
		const struct sdp_fmt *te = sdp_fmt_find(&a->media[0], PL("101"));
		assert_non_null(te);
		assert_true(pl_eq(te->fmtp, PL("0-16")));
		sdp_free(a);
	}

	/* Dynamic payload type and fmtp: the offer's number; our fmtp when we
	 * give one, else the offer's. CN comes when asked for. Opus at 48 kHz
	 * has no telephone-event at its rate offered, so none is added. */
	static const struct sdp_codec opus_ours = { "opus", 48000, 2, "useinbandfec=0" };
	static const struct sdp_codec CN = { "CN", 8000, 0, NULL };
	p = *PREFS(opus_ours, CN);
	p.ptime = 20;
	struct sdp_session *a = answer(PHONE_OFFER(""), loc, PORTS(30000), NULL, &p);
	assert_string_equal(fmt_list(a, 0, buf, sizeof(buf)), "111 13");
	assert_true(pl_eq(a->media[0].fmts[0].fmtp, PL("useinbandfec=0")));
	assert_true(pl_eq(a->media[0].fmts[0].enc, PL("opus")));
	assert_int_equal(a->media[0].ptime, 20);
	sdp_free(a);

	static const struct sdp_codec opus_any = { "OPUS", 48000, 0, NULL };
	a = answer(PHONE_OFFER(""), loc, PORTS(30000), NULL, PREFS(opus_any));
	assert_true(pl_eq(a->media[0].fmts[0].fmtp, PL("useinbandfec=1")));
	sdp_free(a);

	/* Mono opus is not what was offered. */
	static const struct sdp_codec opus_mono = { "opus", 48000, 1, NULL };
	a = answer(PHONE_OFFER(""), loc, PORTS(30000), NULL, PREFS(opus_mono));
	assert_int_equal(a->media[0].port, 0);
	sdp_free(a);

	/* A static type without rtpmap is known by RFC 3551's table. */
	a = answer("v=0\no=- 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\n"
		   "m=audio 4000 RTP/AVP 18 8\n", loc, PORTS(30000), NULL, PREFS(PCMA));
	assert_string_equal(fmt_list(a, 0, buf, sizeof(buf)), "8");
	assert_prints(a, "v=0\no=hookflash 0 0 IN IP4 203.0.113.5\ns=-\nc=IN IP4 203.0.113.5\n"
			 "t=0 0\nm=audio 30000 RTP/AVP 8\n");
	sdp_free(a);
}

/* --- directions --------------------------------------------------------- */

static void test_direction_table(void **state)
{
	(void)state;
	static const struct sdp_local loc = { .addr = "203.0.113.5" };
	static const char *const offered[] = { "", "a=sendrecv\n", "a=sendonly\n", "a=recvonly\n",
					       "a=inactive\n" };
	static const enum sdp_dir want[] = { SDP_DIR_UNSET, SDP_SENDRECV, SDP_SENDONLY,
					     SDP_RECVONLY, SDP_INACTIVE };
	/* rows: offered; columns: what we want */
	static const enum sdp_dir expect[5][5] = {
		{ SDP_SENDRECV, SDP_SENDRECV, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE },
		{ SDP_SENDRECV, SDP_SENDRECV, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE },
		{ SDP_RECVONLY, SDP_RECVONLY, SDP_INACTIVE, SDP_RECVONLY, SDP_INACTIVE },
		{ SDP_SENDONLY, SDP_SENDONLY, SDP_SENDONLY, SDP_INACTIVE, SDP_INACTIVE },
		{ SDP_INACTIVE, SDP_INACTIVE, SDP_INACTIVE, SDP_INACTIVE, SDP_INACTIVE },
	};
	char body[256];
	for (size_t i = 0; i < 5; i++) {
		for (size_t j = 0; j < 5; j++) {
			snprintf(body, sizeof(body), "v=0\no=- 1 1 IN IP4 192.0.2.10\ns=-\n"
				 "c=IN IP4 192.0.2.10\nt=0 0\nm=audio 4000 RTP/AVP 0\n%s", offered[i]);
			struct sdp_answer_prefs p = *PREFS(PCMU);
			p.dir = want[j];
			struct sdp_session *a = answer(body, loc, PORTS(30000), NULL, &p);
			enum sdp_dir got = sdp_direction_of(a, &a->media[0]);
			if (got != expect[i][j])
				fail_msg("offered '%s' want %d: got %d", offered[i], want[j], got);
			/* sendrecv is left implicit, everything else is written */
			assert_int_equal(a->media[0].dir == SDP_DIR_UNSET, got == SDP_SENDRECV);
			sdp_free(a);
		}
	}

	/* The session-level default of the offer counts too. */
	struct sdp_session *a = answer("v=0\no=- 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\n"
				       "t=0 0\na=sendonly\nm=audio 4000 RTP/AVP 0\n",
				       loc, PORTS(30000), NULL, PREFS(PCMU));
	assert_int_equal(a->media[0].dir, SDP_RECVONLY);
	assert_int_equal(a->dir, SDP_DIR_UNSET);
	sdp_free(a);
}

/* --- rejections and arguments ------------------------------------------ */

static void test_rejections(void **state)
{
	(void)state;
	static const struct sdp_local loc = { .addr = "2001:db8::1", .user = "hf" };
	struct sdp_session *a = answer(
		"v=0\no=- 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\n"
		"m=audio 4000 RTP/AVP 0\n"                  /* accepted */
		"m=image 4002 udptl t38\n"                  /* not RTP */
		"m=audio 4004 RTP/SAVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\n"
		"m=audio 0 RTP/AVP 0\n"                     /* rejected in the offer */
		"m=audio 4006 RTP/AVP 3\n"                  /* no codec in common */
		"m=audio 4008 RTP/AVP 0\n"                  /* no port of ours */
		"m=audio 4010 RTP/AVP 101 13\na=rtpmap:101 telephone-event/8000\n" /* aux only */
		"m=video 0 RTP/AVP\n",                      /* rejected, no formats */
		loc, PORTS(30000, 30002, 30004, 30006, 30008, 0, 30010, 30012), NULL, PREFS(PCMU));
	const uint16_t want[] = { 30000, 0, 0, 0, 0, 0, 0, 0 };
	const char *first[] = { "0", "t38", "0", "0", "3", "0", "101", NULL };
	for (size_t i = 0; i < a->nmedia; i++) {
		assert_int_equal(a->media[i].port, want[i]);
		if (first[i]) {
			assert_true(pl_eq(a->media[i].fmts[0].id, pl_from(first[i])));
		} else {
			assert_int_equal(a->media[i].nfmts, 0);
		}
		assert_int_equal(a->media[i].ncrypto, 0);
	}
	assert_int_equal(a->nmedia, 8);
	assert_int_equal(a->conn.af, SDP_IP6);
	assert_int_equal(a->origin.af, SDP_IP6);
	char *p = print_str(a);
	struct sdp_session *back = NULL;
	assert_int_equal(sdp_parse(&back, p, strlen(p)), 0); /* what we send parses */
	sdp_free(back);
	free(p);
	sdp_free(a);

	/* An aux-only stream is accepted when the list has it (RFC 4317 2.4). */
	a = answer("v=0\no=- 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\n"
		   "m=audio 4000 RTP/AVP 101\na=rtpmap:101 telephone-event/8000\n",
		   loc, PORTS(30000), NULL, PREFS(PCMU, TE));
	assert_int_equal(a->media[0].port, 30000);
	sdp_free(a);

	/* Arguments. */
	struct sdp_session *offer = parse_ok(PHONE_OFFER("")), *out = NULL;
	struct sdp_local l = loc;
	l.ports = (const uint16_t[]){ 1 };
	l.nports = 0;
	assert_int_equal(sdp_answer(&out, offer, &l, PREFS(PCMU)), EINVAL);
	l.nports = 1;
	assert_int_equal(sdp_answer(&out, offer, &l, NULL), EINVAL);
	l.addr = "bad addr";
	assert_int_equal(sdp_answer(&out, offer, &l, PREFS(PCMU)), EINVAL);
	l.addr = NULL;
	assert_int_equal(sdp_answer(&out, offer, &l, PREFS(PCMU)), EINVAL);
	assert_null(out);
	sdp_free(offer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4317_roundtrip),
		cmocka_unit_test(test_4317_audio_video_1),
		cmocka_unit_test(test_4317_audio_video_2),
		cmocka_unit_test(test_4317_audio_video_3),
		cmocka_unit_test(test_4317_two_audio_streams),
		cmocka_unit_test(test_4317_audio_video_4),
		cmocka_unit_test(test_4317_audio_only_1),
		cmocka_unit_test(test_4317_audio_video_5),
		cmocka_unit_test(test_4317_audio_video_6),
		cmocka_unit_test(test_4317_hold_unhold_1),
		cmocka_unit_test(test_4317_hold_two_streams),
		cmocka_unit_test(test_4317_second_audio_added),
		cmocka_unit_test(test_4317_video_added),
		cmocka_unit_test(test_4317_video_deleted),
		cmocka_unit_test(test_4317_no_media_then_audio),
		cmocka_unit_test(test_4317_hold_unhold_2),
		cmocka_unit_test(test_4317_hold_unhold_3),
		cmocka_unit_test(test_codec_preference),
		cmocka_unit_test(test_direction_table),
		cmocka_unit_test(test_rejections),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
