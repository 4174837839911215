/* Unit tests for the B2BUA's codec negotiation (core/call/call_nego.c):
 * policies from their stored text, the offer we make the callee from the
 * caller's offer (order, transcoding extras, telephone-event, payload
 * type collisions, codecs we do not know, relay-only engines), our answer
 * to the caller from the callee's answer (pass-through, transcoding,
 * re-offers that keep the codec in use, ringback before any answer), and
 * the engine's view of a leg (opus fmtp). Pure functions on parsed SDP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/call/call_nego.h"
#include "../../core/media/media.h"
#include "sdp_test_util.h"

#define HEAD "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
/* towards a phone on opus whose audio we transcode to or from G.711 / G.722 */
#define OPUS_FMTP_NB "maxplaybackrate=8000;sprop-maxcapturerate=8000;useinbandfec=1;stereo=0"
#define OPUS_FMTP_WB "maxplaybackrate=16000;sprop-maxcapturerate=16000;useinbandfec=1;stereo=0"

/* "pt:enc/clock[/ch][;fmtp] ..." of an m= line, resolved like the code
 * does (static types without rtpmap included). */
static char *fmts_str(const struct sdp_media *m)
{
	static char out[1024];
	size_t at = 0;
	out[0] = '\0';
	for (size_t i = 0; i < m->nfmts; i++) {
		const struct sdp_fmt *f = &m->fmts[i];
		struct pl enc;
		uint32_t clock;
		uint8_t ch;
		if (sdp_fmt_codec(f, &enc, &clock, &ch))
			enc = PL("?");
		at += (size_t)snprintf(out + at, sizeof(out) - at, "%s%.*s:%.*s/%u", i ? " " : "",
				       (int)f->id.l, f->id.p, (int)enc.l, enc.p, clock);
		if (ch > 1)
			at += (size_t)snprintf(out + at, sizeof(out) - at, "/%u", ch);
		if (f->fmtp.p)
			at += (size_t)snprintf(out + at, sizeof(out) - at, ";%.*s", (int)f->fmtp.l, f->fmtp.p);
	}
	return out;
}

static void policy(struct nego_policy *p, const char *list, bool foreign)
{
	char why[128];
	memset(p, 0, sizeof(*p));
	assert_int_equal(nego_codecs_parse(p, list, why, sizeof(why)), 0);
	p->foreign = foreign;
	p->own = !foreign; /* an extension's own list (nego_policy_for) */
	p->srtp = NEGO_SRTP_OPTIONAL;
}

struct ex {
	struct sdp_session *offer, *ans;
	struct nego_policy from, to;
	struct sdp_media m;     /* what we build */
	struct nego_buf buf;
	struct nego_in in;
};

static void ex_init(struct ex *x, const char *offer_m, const char *from, const char *to,
		    bool transcode)
{
	memset(x, 0, sizeof(*x));
	char body[1024];
	snprintf(body, sizeof(body), HEAD "%s", offer_m);
	x->offer = parse_ok(body);
	policy(&x->from, from, !*from);
	if (!*from)
		policy(&x->from, "opus,G722,PCMU,PCMA", true);
	policy(&x->to, to, false);
	if (!*to)
		policy(&x->to, "opus,G722,PCMU,PCMA", true);
	x->m = x->offer->media[0];
	x->in = (struct nego_in){
		.offer = &x->offer->media[0], .from = &x->from, .to = &x->to, .transcode = transcode,
	};
}

static void ex_answer(struct ex *x, const char *ans_m)
{
	char body[1024];
	snprintf(body, sizeof(body), HEAD "%s", ans_m);
	x->ans = parse_ok(body);
	x->m = x->ans->media[0];
}

static void ex_free(struct ex *x)
{
	sdp_free(x->offer);
	sdp_free(x->ans);
}

/* --- policies ----------------------------------------------------------------- */

static void test_policy_parse(void **state)
{
	(void)state;
	struct nego_policy p;
	char why[128];
	memset(&p, 0, sizeof(p));
	assert_int_equal(nego_codecs_parse(&p, "opus,g722,PCMU", why, sizeof(why)), 0);
	assert_int_equal(p.ncodecs, 3);
	assert_ptr_equal(p.codecs[0], &codec_opus);
	assert_ptr_equal(p.codecs[1], &codec_g722);
	assert_ptr_equal(p.codecs[2], &codec_pcmu);
	assert_int_equal(nego_codecs_parse(&p, "opus,G729", why, sizeof(why)), EINVAL);
	assert_non_null(strstr(why, "unknown codec 'G729'"));
	assert_non_null(strstr(why, "PCMU"));
	assert_int_equal(nego_codecs_parse(&p, "PCMU,pcmu", why, sizeof(why)), EINVAL);
	assert_non_null(strstr(why, "twice"));
	assert_int_equal(nego_codecs_parse(&p, "PCMU,", why, sizeof(why)), EINVAL);
	assert_int_equal(nego_codecs_parse(&p, ",PCMU", why, sizeof(why)), EINVAL);
	assert_int_equal(nego_codecs_parse(&p, "PCMU, PCMA", why, sizeof(why)), EINVAL);
	assert_int_equal(nego_codecs_parse(&p, "", why, sizeof(why)), 0);
	assert_int_equal(p.ncodecs, 0);

	enum nego_srtp s;
	assert_int_equal(nego_srtp_parse("Required", &s), 0);
	assert_int_equal(s, NEGO_SRTP_REQUIRED);
	assert_int_equal(nego_srtp_parse("off", &s), 0);
	assert_int_equal(s, NEGO_SRTP_OFF);
	assert_int_equal(nego_srtp_parse("maybe", &s), EINVAL);
	assert_int_equal(nego_srtp_parse(NULL, &s), EINVAL);
	assert_string_equal(nego_srtp_name(NEGO_SRTP_OPTIONAL), "optional");
}

static void test_policy_for(void **state)
{
	(void)state;
	struct nego_policy dflt, p;
	policy(&dflt, "PCMU,PCMA", true);
	dflt.srtp = NEGO_SRTP_OPTIONAL;
	nego_policy_for(&p, "", "required", &dflt);
	assert_int_equal(p.ncodecs, 2);
	assert_true(p.foreign);
	assert_int_equal(p.srtp, NEGO_SRTP_REQUIRED);
	nego_policy_for(&p, "opus", "off", &dflt);
	assert_int_equal(p.ncodecs, 1);
	assert_ptr_equal(p.codecs[0], &codec_opus);
	assert_false(p.foreign); /* an explicit list is all that passes */
	assert_int_equal(p.srtp, NEGO_SRTP_OFF);
	/* hand-edited nonsense falls back to the defaults */
	nego_policy_for(&p, "G729", "sometimes", &dflt);
	assert_int_equal(p.ncodecs, 2);
	assert_int_equal(p.srtp, NEGO_SRTP_OPTIONAL);
	nego_policy_for(&p, NULL, NULL, &dflt);
	assert_int_equal(p.ncodecs, 2);
}

/* --- offers ------------------------------------------------------------------- */

/* A PCMU-only caller, a callee whose policy is opus
 * only: the callee is offered opus (we transcode) and telephone-event. */
static void test_offer_transcode_only_codec(void **state)
{
	(void)state;
	struct ex x;
	ex_init(&x, "m=audio 4000 RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15\n",
		"", "opus", true);
	assert_int_equal(nego_offer(&x.m, &x.in, &x.buf), 0);
	assert_string_equal(fmts_str(&x.m), "96:opus/48000/2;" OPUS_FMTP_NB " 101:telephone-event/8000;0-15");
	/* the whole m= line as printed */
	struct sdp_session s = *x.offer;
	s.media[0] = x.m;
	char *got = print_str(&s);
	char *want = crlf(HEAD "m=audio 4000 RTP/AVP 96 101\na=rtpmap:96 opus/48000/2\n"
			  "a=fmtp:96 " OPUS_FMTP_NB "\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15\n");
	assert_string_equal(got, want);
	free(got);
	free(want);

	/* a relay-only engine cannot: no codec for the callee */
	x.in.transcode = false;
	x.m = x.offer->media[0];
	assert_int_equal(nego_offer(&x.m, &x.in, &x.buf), ENOENT);
	ex_free(&x);
}

/* The caller's codecs come first in the callee's order, then what we can
 * transcode to, then telephone-event (101 when the caller had none). */
static void test_offer_order_and_extras(void **state)
{
	(void)state;
	struct ex x;
	ex_init(&x, "m=audio 4000 RTP/AVP 8 0\n", "", "PCMU,G722,PCMA", true);
	assert_int_equal(nego_offer(&x.m, &x.in, &x.buf), 0);
	assert_string_equal(fmts_str(&x.m), "0:PCMU/8000 8:PCMA/8000 9:G722/8000 101:telephone-event/8000;0-16");
	ex_free(&x);

	/* relay only: the caller's codecs the callee allows, no extras and
	 * no telephone-event the caller did not offer */
	ex_init(&x, "m=audio 4000 RTP/AVP 8 0 13\na=rtpmap:13 CN/8000\n", "", "PCMU,G722,PCMA", false);
	assert_int_equal(nego_offer(&x.m, &x.in, &x.buf), 0);
	assert_string_equal(fmts_str(&x.m), "0:PCMU/8000 8:PCMA/8000");
	ex_free(&x);
}

/* Dynamic payload types never collide with the caller's. */
static void test_offer_pt_collision(void **state)
{
	(void)state;
	struct ex x;
	ex_init(&x, "m=audio 4000 RTP/AVP 101 96\na=rtpmap:101 opus/48000/2\n"
		"a=rtpmap:96 PCMU/8000\n", "", "", true);
	assert_int_equal(nego_offer(&x.m, &x.in, &x.buf), 0);
	assert_string_equal(fmts_str(&x.m), "101:opus/48000/2 96:PCMU/8000 9:G722/8000 8:PCMA/8000 "
			    "97:telephone-event/8000;0-16");
	ex_free(&x);

	/* the caller's telephone-event keeps its type */
	ex_init(&x, "m=audio 4000 RTP/AVP 0 96\na=rtpmap:96 telephone-event/8000\n", "", "opus,PCMU", true);
	assert_int_equal(nego_offer(&x.m, &x.in, &x.buf), 0);
	assert_string_equal(fmts_str(&x.m), "0:PCMU/8000 97:opus/48000/2;" OPUS_FMTP_NB " 96:telephone-event/8000");
	ex_free(&x);
}

/* A codec we do not know passes where the policy lets foreign codecs
 * through (the system default), after the ones we know; an explicit
 * list stops it. The caller's own policy filters what it may use. */
static void test_offer_foreign_and_caller_policy(void **state)
{
	(void)state;
	struct ex x;
	ex_init(&x, "m=audio 4000 RTP/AVP 18 0\na=rtpmap:18 G729/8000\na=fmtp:18 annexb=no\n", "", "", false);
	assert_int_equal(nego_offer(&x.m, &x.in, &x.buf), 0);
	assert_string_equal(fmts_str(&x.m), "0:PCMU/8000 18:G729/8000;annexb=no");
	ex_free(&x);

	ex_init(&x, "m=audio 4000 RTP/AVP 18 0\na=rtpmap:18 G729/8000\n", "", "PCMU", true);
	assert_int_equal(nego_offer(&x.m, &x.in, &x.buf), 0);
	assert_string_equal(fmts_str(&x.m), "0:PCMU/8000 101:telephone-event/8000;0-16");
	ex_free(&x);

	/* only G729, which we cannot decode, to an opus-only callee: nothing */
	ex_init(&x, "m=audio 4000 RTP/AVP 18\na=rtpmap:18 G729/8000\n", "", "opus", true);
	assert_int_equal(nego_offer(&x.m, &x.in, &x.buf), ENOENT);
	ex_free(&x);

	/* the caller may only use PCMA: its PCMU is not passed on, but the
	 * callee still gets its own codecs to transcode to */
	ex_init(&x, "m=audio 4000 RTP/AVP 0 8\n", "PCMA", "G722,PCMU", true);
	assert_int_equal(nego_offer(&x.m, &x.in, &x.buf), 0);
	assert_string_equal(fmts_str(&x.m), "9:G722/8000 0:PCMU/8000 101:telephone-event/8000;0-16");
	ex_free(&x);

	/* and when the caller's policy allows nothing it offered: nothing */
	ex_init(&x, "m=audio 4000 RTP/AVP 0\n", "PCMA", "", true);
	assert_int_equal(nego_offer(&x.m, &x.in, &x.buf), ENOENT);
	ex_free(&x);
}

/* A re-offer keeps the codec the other leg uses now in first place, even
 * one the offerer does not have (the worker keeps transcoding). */
static void test_offer_keeps_codec_in_use(void **state)
{
	(void)state;
	struct ex x;
	struct nego_leg cur = { .set = true, .codec = &codec_opus, .pt = 111, .dtmf_pt = -1 };
	ex_init(&x, "m=audio 4000 RTP/AVP 0 8\n", "", "", true);
	x.in.to_cur = &cur;
	assert_int_equal(nego_offer(&x.m, &x.in, &x.buf), 0);
	assert_string_equal(fmts_str(&x.m), "111:opus/48000/2;" OPUS_FMTP_NB " 0:PCMU/8000 8:PCMA/8000 "
			    "9:G722/8000 101:telephone-event/8000;0-16");
	ex_free(&x);

	cur = (struct nego_leg){ .set = true, .codec = &codec_pcma, .pt = 8, .dtmf_pt = -1 };
	ex_init(&x, "m=audio 4000 RTP/AVP 0 8\n", "", "", false);
	x.in.to_cur = &cur;
	assert_int_equal(nego_offer(&x.m, &x.in, &x.buf), 0);
	assert_string_equal(fmts_str(&x.m), "8:PCMA/8000 0:PCMU/8000");
	ex_free(&x);
}

/* --- answers ------------------------------------------------------------------ */

static void test_answer_pass_through(void **state)
{
	(void)state;
	struct ex x;
	struct nego_leg lf, lt;
	ex_init(&x, "m=audio 4000 RTP/AVP 9 0 101\na=rtpmap:101 telephone-event/8000\na=ptime:30\n",
		"", "", true);
	ex_answer(&x, "m=audio 5000 RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000\na=ptime:20\n");
	assert_int_equal(nego_answer(&x.m, &x.in, &x.ans->media[0], &x.buf, &lf, &lt), 0);
	assert_string_equal(fmts_str(&x.m), "0:PCMU/8000 101:telephone-event/8000");
	assert_int_equal(x.m.ptime, 20); /* A sends straight to B: B's ptime */
	assert_ptr_equal(lf.codec, &codec_pcmu);
	assert_ptr_equal(lt.codec, &codec_pcmu);
	assert_true(nego_leg_same_codec(&lf, &lt));
	assert_int_equal(lf.ptime, 30); /* each leg keeps what its phone said */
	assert_int_equal(lt.ptime, 20);
	assert_int_equal(lf.dtmf_pt, 101);
	assert_int_equal(lt.dtmf_pt, 101);
	ex_free(&x);

	/* relay only: A's telephone-event stays out when B takes none */
	ex_init(&x, "m=audio 4000 RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000\n", "", "", false);
	ex_answer(&x, "m=audio 5000 RTP/AVP 0\n");
	assert_int_equal(nego_answer(&x.m, &x.in, &x.ans->media[0], &x.buf, &lf, &lt), 0);
	assert_string_equal(fmts_str(&x.m), "0:PCMU/8000");
	assert_int_equal(lf.dtmf_pt, -1);
	ex_free(&x);

	/* the same codec numbered differently on each leg */
	ex_init(&x, "m=audio 4000 RTP/AVP 111\na=rtpmap:111 opus/48000/2\na=fmtp:111 useinbandfec=1\n",
		"", "", true);
	ex_answer(&x, "m=audio 5000 RTP/AVP 96\na=rtpmap:96 opus/48000/2\na=fmtp:96 maxplaybackrate=16000\n");
	assert_int_equal(nego_answer(&x.m, &x.in, &x.ans->media[0], &x.buf, &lf, &lt), 0);
	/* A encodes for B: B's fmtp */
	assert_string_equal(fmts_str(&x.m), "111:opus/48000/2;maxplaybackrate=16000");
	assert_int_equal(lf.pt, 111);
	assert_int_equal(lt.pt, 96);
	assert_int_equal(lf.dtmf_pt, -1); /* A offered none: none in its answer */
	assert_string_equal(lf.fmtp, "useinbandfec=1");
	assert_string_equal(lt.fmtp, "maxplaybackrate=16000");
	ex_free(&x);
}

static void test_answer_transcode(void **state)
{
	(void)state;
	struct ex x;
	struct nego_leg lf, lt;
	ex_init(&x, "m=audio 4000 RTP/AVP 8 0\na=ptime:30\n", "", "opus", true);
	ex_answer(&x, "m=audio 5000 RTP/AVP 96 101\na=rtpmap:96 opus/48000/2\n"
		  "a=fmtp:96 useinbandfec=1\na=rtpmap:101 telephone-event/8000\n");
	assert_int_equal(nego_answer(&x.m, &x.in, &x.ans->media[0], &x.buf, &lf, &lt), 0);
	/* A's first codec; no telephone-event: A offered none */
	assert_string_equal(fmts_str(&x.m), "8:PCMA/8000");
	assert_int_equal(x.m.ptime, 30);
	assert_ptr_equal(lf.codec, &codec_pcma);
	assert_ptr_equal(lt.codec, &codec_opus);
	assert_false(nego_leg_same_codec(&lf, &lt));
	assert_int_equal(lt.dtmf_pt, 101);
	assert_int_equal(lf.dtmf_pt, -1);
	ex_free(&x);

	/* A's policy skips a codec it offered */
	ex_init(&x, "m=audio 4000 RTP/AVP 8 0\n", "PCMU", "opus", true);
	ex_answer(&x, "m=audio 5000 RTP/AVP 96\na=rtpmap:96 opus/48000/2\n");
	assert_int_equal(nego_answer(&x.m, &x.in, &x.ans->media[0], &x.buf, &lf, &lt), 0);
	assert_string_equal(fmts_str(&x.m), "0:PCMU/8000");
	ex_free(&x);

	/* answering opus to an opus offerer while transcoding: our fmtp */
	ex_init(&x, "m=audio 4000 RTP/AVP 111 0\na=rtpmap:111 opus/48000/2\n", "opus,PCMU", "G722", true);
	ex_answer(&x, "m=audio 5000 RTP/AVP 9\n");
	assert_int_equal(nego_answer(&x.m, &x.in, &x.ans->media[0], &x.buf, &lf, &lt), 0);
	assert_string_equal(fmts_str(&x.m), "111:opus/48000/2;" OPUS_FMTP_WB);
	ex_free(&x);

	/* the callee chose a codec we cannot decode and A lacks: nothing */
	ex_init(&x, "m=audio 4000 RTP/AVP 0\n", "", "", true);
	ex_answer(&x, "m=audio 5000 RTP/AVP 18\na=rtpmap:18 G729/8000\n");
	assert_int_equal(nego_answer(&x.m, &x.in, &x.ans->media[0], &x.buf, &lf, &lt), ENOENT);
	ex_free(&x);

	/* relay only and the callee answered what A lacks: nothing */
	ex_init(&x, "m=audio 4000 RTP/AVP 0\n", "", "", false);
	ex_answer(&x, "m=audio 5000 RTP/AVP 8\n");
	assert_int_equal(nego_answer(&x.m, &x.in, &x.ans->media[0], &x.buf, &lf, &lt), ENOENT);
	ex_free(&x);
}

/* A re-offer from A answered with another codec by B: A keeps the codec
 * it uses now when it still offers it. */
static void test_answer_keeps_codec_in_use(void **state)
{
	(void)state;
	struct ex x;
	struct nego_leg lf, lt;
	struct nego_leg cur = { .set = true, .codec = &codec_pcmu, .pt = 0, .dtmf_pt = -1 };
	ex_init(&x, "m=audio 4000 RTP/AVP 8 0\n", "", "opus", true);
	x.in.from_cur = &cur;
	ex_answer(&x, "m=audio 5000 RTP/AVP 96\na=rtpmap:96 opus/48000/2\n");
	assert_int_equal(nego_answer(&x.m, &x.in, &x.ans->media[0], &x.buf, &lf, &lt), 0);
	assert_string_equal(fmts_str(&x.m), "0:PCMU/8000");
	ex_free(&x);
}

/* Ringback: an answer to A before B answered: A's first allowed codec we
 * decode, with its telephone-event. */
static void test_answer_before_callee(void **state)
{
	(void)state;
	struct ex x;
	struct nego_leg lf, lt;
	ex_init(&x, "m=audio 4000 RTP/AVP 18 9 0 101\na=rtpmap:18 G729/8000\n"
		"a=rtpmap:101 telephone-event/8000\n", "", "", true);
	assert_int_equal(nego_answer(&x.m, &x.in, NULL, &x.buf, &lf, &lt), 0);
	assert_string_equal(fmts_str(&x.m), "9:G722/8000 101:telephone-event/8000");
	assert_ptr_equal(lf.codec, &codec_g722);
	assert_int_equal(lf.dtmf_pt, 101);
	/* and B's later answer only describes B's leg */
	struct sdp_session *b = parse_ok(HEAD "m=audio 5000 RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000\n"
					 "a=ptime:20\n");
	assert_int_equal(nego_leg_from_answer(&lt, &b->media[0]), 0);
	assert_ptr_equal(lt.codec, &codec_pcmu);
	assert_int_equal(lt.ptime, 20);
	assert_int_equal(lt.dtmf_pt, 101);
	sdp_free(b);
	ex_free(&x);

	ex_init(&x, "m=audio 4000 RTP/AVP 18\na=rtpmap:18 G729/8000\n", "", "", true);
	assert_int_equal(nego_answer(&x.m, &x.in, NULL, &x.buf, &lf, &lt), ENOENT);
	ex_free(&x);
}

/* Issue #17: A offers PCMU first and opus too. Our offer to B (default
 * policy, opus first) used to list opus first while the ringback answered
 * A PCMU: B taking the first codec offered was transcoded PCMU<->opus.
 * Now the offer keeps A's order and the ringback answer names the codec
 * the offer lists first; a callee's own list still ranks A's codecs, and
 * the ringback then names A's first codec that list allows. */
static void test_answer_before_callee_matches_offer(void **state)
{
	(void)state;
	struct ex x;
	struct nego_leg lf, lt;
	const char *a = "m=audio 4000 RTP/AVP 0 96 101\na=rtpmap:96 opus/48000/2\n"
			"a=rtpmap:101 telephone-event/8000\n";
	ex_init(&x, a, "", "", true);
	assert_int_equal(nego_offer(&x.m, &x.in, &x.buf), 0);
	assert_string_equal(fmts_str(&x.m), "0:PCMU/8000 96:opus/48000/2 9:G722/8000 8:PCMA/8000 "
			    "101:telephone-event/8000");
	x.m = x.offer->media[0];
	assert_int_equal(nego_answer(&x.m, &x.in, NULL, &x.buf, &lf, &lt), 0);
	assert_ptr_equal(lf.codec, &codec_pcmu);
	assert_string_equal(fmts_str(&x.m), "0:PCMU/8000 101:telephone-event/8000");
	ex_free(&x);

	/* a callee whose own list puts opus first: offered opus first, and
	 * A is answered its own first codec that list allows */
	ex_init(&x, a, "", "opus,PCMU", true);
	assert_int_equal(nego_offer(&x.m, &x.in, &x.buf), 0);
	assert_string_equal(fmts_str(&x.m), "96:opus/48000/2 0:PCMU/8000 101:telephone-event/8000");
	x.m = x.offer->media[0];
	assert_int_equal(nego_answer(&x.m, &x.in, NULL, &x.buf, &lf, &lt), 0);
	assert_ptr_equal(lf.codec, &codec_pcmu);
	ex_free(&x);
	/* ... and only opus allowed there: opus */
	ex_init(&x, a, "", "opus", true);
	assert_int_equal(nego_answer(&x.m, &x.in, NULL, &x.buf, &lf, &lt), 0);
	assert_ptr_equal(lf.codec, &codec_opus);
	ex_free(&x);

	/* none of A's codecs allowed towards B: A's first we decode */
	ex_init(&x, a, "", "G722", true);
	assert_int_equal(nego_answer(&x.m, &x.in, NULL, &x.buf, &lf, &lt), 0);
	assert_ptr_equal(lf.codec, &codec_pcmu);
	ex_free(&x);
}

/* --- the engine's view -------------------------------------------------------- */

static void test_media_fmt(void **state)
{
	(void)state;
	struct nego_leg l = { .set = true, .codec = &codec_opus, .pt = 96, .ptime = 40, .dtmf_pt = 101 };
	snprintf(l.fmtp, sizeof(l.fmtp), "maxplaybackrate=16000;useinbandfec=1;maxaveragebitrate=20000");
	struct media_fmt f;
	nego_leg_media_fmt(&l, &f);
	assert_ptr_equal(f.codec, &codec_opus);
	assert_int_equal(f.pt, 96);
	assert_int_equal(f.ptime, 40);
	assert_int_equal(f.dtmf_pt, 101);
	assert_int_equal(f.dtmf_clock, 8000); /* not opus's 48000 */
	assert_int_equal(f.opus_max_playback, 16000);
	assert_int_equal(f.opus_bitrate, 20000);
	assert_true(f.opus_fec);
	/* no fmtp: RFC 7587's defaults, no FEC */
	l.fmtp[0] = '\0';
	nego_leg_media_fmt(&l, &f);
	assert_false(f.opus_fec);

	struct nego_leg g = { .set = true, .codec = NULL, .pt = 18, .dtmf_pt = -1 };
	nego_leg_media_fmt(&g, &f);
	assert_null(f.codec);
	assert_int_equal(f.dtmf_pt, -1);
	assert_int_equal(f.dtmf_clock, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_parse),
		cmocka_unit_test(test_policy_for),
		cmocka_unit_test(test_offer_transcode_only_codec),
		cmocka_unit_test(test_offer_order_and_extras),
		cmocka_unit_test(test_offer_pt_collision),
		cmocka_unit_test(test_offer_foreign_and_caller_policy),
		cmocka_unit_test(test_offer_keeps_codec_in_use),
		cmocka_unit_test(test_answer_pass_through),
		cmocka_unit_test(test_answer_transcode),
		cmocka_unit_test(test_answer_keeps_codec_in_use),
		cmocka_unit_test(test_answer_before_callee),
		cmocka_unit_test(test_answer_before_callee_matches_offer),
		cmocka_unit_test(test_media_fmt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
