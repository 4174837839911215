/*
 * Call set-up through the real dispatch, B2BUA, registrar, transactions
 * and store (call_harness.h): what each phone sees on the wire, what the
 * media engine is told, and the CDR row, for answered, forked, busy,
 * failed, cancelled, unanswered, unknown and unauthenticated calls.
 */
#include "call_harness.h"

/* A calls B (one phone): 100 and 180 reach A, B's 200 becomes ours with
 * our SDP, ACKs are absorbed hop by hop, BYE from A reaches B, one
 * ANSWERED row. Media connects only once B answered. */
static void basic_answer_and_bye(void **state)
{
	(void)state;
	assert_non_null(phone_invite("1001", "1002", PH_A->sdp));
	expect_response(PH_A, 100);
	const struct sip_msg *inv = expect_request(PH_B1, "INVITE");
	/* B sees who calls, never A's dialog identifiers */
	assert_true(pl_casestr(inv->from.uri.user, "1001"));
	assert_true(pl_casestr(inv->ruri.user, "1002"));
	assert_false(pl_eq(inv->call_id, pl_from(hx.a.call_id)));
	assert_true(msg_has_sdp(inv));
	assert_true(body_has(inv, "c=IN IP4 " CH_HOST));
	assert_false(body_has(inv, "192.0.2.11"));

	answer(inv, 180, NULL);
	expect_response(PH_A, 180);
	uint32_t mc = fmedia_last_call();
	assert_int_equal(fmedia_count("call_connect", mc, -1), 0);

	answer(inv, 200, PH_B1->sdp);
	expect_request(PH_B1, "ACK");
	const struct sip_msg *ok = expect_response_to(PH_A, 200, "INVITE");
	assert_true(msg_has_sdp(ok));
	assert_true(body_has(ok, "c=IN IP4 " CH_HOST));
	assert_false(body_has(ok, "192.0.2.21"));
	assert_true(ok->to.tag.l > 0);
	assert_int_equal(fmedia_count("call_connect", mc, -1), 1);
	/* the media engine knows both phones' real addresses */
	assert_true(fmedia_find("leg_set_remote", mc, 0, 0) >= 0);
	assert_true(fmedia_find("leg_set_remote", mc, 1, 0) >= 0);
	assert_string_equal(fmedia.cmds[fmedia_find("leg_set_remote", mc, 1, 0)].arg,
			    "192.0.2.21:20000");
	phone_ack(&hx.a, ok);
	expect_none(PH_A);
	expect_none(PH_B1);
	assert_int_equal(call_count(hx.pbx.calls), 1);

	/* without the ACK our 2xx would be retransmitted: it is not */
	advance(5000);
	expect_none(PH_A);

	phone_req(&hx.a, "BYE", NULL);
	expect_response_to(PH_A, 200, "BYE");
	const struct sip_msg *bye = expect_request(PH_B1, "BYE");
	answer(bye, 200, NULL);
	expect_none(PH_A);
	expect_none(PH_B1);
	assert_int_equal(call_count(hx.pbx.calls), 0);
	assert_int_equal(fmedia_count("call_destroy", mc, -1), 1);

	struct db_cdr c = cdr_last();
	assert_cdr(&c, "ANSWERED", "1001", "1002", 200, "caller");
	assert_string_equal(c.caller_name, "Alice");
	assert_string_equal(c.callee_name, "Bob");
	assert_string_equal(c.call_id_a, hx.a.call_id);
	assert_true(c.answer_ms > 0);
	assert_int_equal(cdr_rows(NULL), 1);
}

/* Two phones for 1002: both ring, B2 answers first and wins; B1 gets
 * CANCEL, and its 2xx crossing that CANCEL gets ACK then BYE. The caller
 * sees exactly one 200. */
static void fork_first_2xx_wins_loser_gets_cancel(void **state)
{
	(void)state;
	ch_register("1002", PH_B2);
	assert_non_null(phone_invite("1001", "1002", PH_A->sdp));
	expect_response(PH_A, 100);
	const struct sip_msg *i1 = expect_request(PH_B1, "INVITE");
	const struct sip_msg *i2 = expect_request(PH_B2, "INVITE");
	/* each fork is its own dialog */
	assert_false(pl_eq(i1->call_id, i2->call_id));
	answer(i1, 180, NULL);
	expect_response(PH_A, 180);
	answer(i2, 180, NULL);
	expect_response(PH_A, 180);

	answer(i2, 200, PH_B2->sdp);
	expect_request(PH_B2, "ACK");
	const struct sip_msg *cancel = expect_request(PH_B1, "CANCEL");
	assert_true(pl_eq(cancel->call_id, i1->call_id));
	assert_true(pl_eq(cancel->via.branch, i1->via.branch));
	assert_int_equal(cancel->cseq.num, i1->cseq.num);
	const struct sip_msg *ok = expect_response_to(PH_A, 200, "INVITE");
	phone_ack(&hx.a, ok);
	uint32_t mc = fmedia_last_call();
	assert_string_equal(fmedia.cmds[fmedia_find("leg_set_remote", mc, 1, 0)].arg,
			    "192.0.2.22:22000");

	/* B1 was picked up as the CANCEL travelled */
	answer(cancel, 200, NULL);
	answer(i1, 200, PH_B1->sdp);
	expect_request(PH_B1, "ACK");
	const struct sip_msg *bye = expect_request(PH_B1, "BYE");
	assert_true(pl_eq(bye->call_id, i1->call_id));
	answer(bye, 200, NULL);
	expect_none(PH_A);
	expect_none(PH_B1);
	expect_none(PH_B2);
	assert_int_equal(call_count(hx.pbx.calls), 1);

	/* the call goes on with B2 */
	phone_req(&PH_B2->dlg, "BYE", NULL);
	expect_response_to(PH_B2, 200, "BYE");
	answer(expect_request(PH_A, "BYE"), 200, NULL);
	struct db_cdr c = cdr_last();
	assert_cdr(&c, "ANSWERED", "1001", "1002", 200, "callee");
	assert_true(pl_eq(i2->call_id, pl_from(c.call_id_b)));
	assert_int_equal(cdr_rows(NULL), 1);
}

/* The only phone is busy: the caller hears 486, the row says BUSY. */
static void busy_callee(void **state)
{
	(void)state;
	assert_non_null(phone_invite("1001", "1003", PH_A->sdp));
	expect_response(PH_A, 100);
	const struct sip_msg *inv = expect_request(PH_C, "INVITE");
	answer(inv, 486, NULL);
	expect_request(PH_C, "ACK"); /* our transaction ACKs the failure */
	const struct sip_msg *r = expect_response_to(PH_A, 486, "INVITE");
	phone_ack(&hx.a, r);
	expect_none(PH_A);
	expect_none(PH_C);
	assert_int_equal(call_count(hx.pbx.calls), 0);
	assert_int_equal(fmedia_count("call_connect", 0, -1), 0);
	struct db_cdr c = cdr_last();
	assert_cdr(&c, "BUSY", "1001", "1003", 486, "callee");
	assert_int_equal(c.answer_ms, 0);
	assert_int_equal(c.billsec, 0);
}

/* A phone that requires SRTP answers 488 to our RTP/AVP offer: it gets
 * the offer again as RTP/SAVP with our keys, then as RTP/SAVPF, and only
 * then does the caller hear the 488 (issue #16: phones with SRTP
 * "compulsory" could not be called under the default policy). */
static void srtp_required_phone_gets_savp(void **state)
{
	(void)state;
	assert_non_null(phone_invite("1001", "1003", PH_A->sdp));
	expect_response(PH_A, 100);
	const struct sip_msg *inv = expect_request(PH_C, "INVITE");
	assert_true(body_has(inv, "RTP/AVP "));
	answer(inv, 488, NULL);
	expect_request(PH_C, "ACK");
	expect_none(PH_A);
	inv = expect_request(PH_C, "INVITE");
	assert_true(body_has(inv, "m=audio ") && body_has(inv, " RTP/SAVP ") && body_has(inv, "a=crypto:"));
	answer(inv, 488, NULL);
	expect_request(PH_C, "ACK");
	expect_none(PH_A);
	inv = expect_request(PH_C, "INVITE");
	assert_true(body_has(inv, " RTP/SAVPF ") && body_has(inv, "a=crypto:"));
	answer(inv, 488, NULL);
	expect_request(PH_C, "ACK");
	const struct sip_msg *r = expect_response_to(PH_A, 488, "INVITE");
	phone_ack(&hx.a, r);
	expect_none(PH_A);
	expect_none(PH_C); /* no fourth INVITE */
	struct db_cdr c = cdr_last();
	assert_cdr(&c, "FAILED", "1001", "1003", 488, "callee");
}

/* Every fork fails: the caller gets the most telling status. */
static void all_forks_fail(uint16_t s1, uint16_t s2, uint16_t want, const char *disposition)
{
	ch_register("1002", PH_B2);
	assert_non_null(phone_invite("1001", "1002", PH_A->sdp));
	expect_response(PH_A, 100);
	const struct sip_msg *i1 = expect_request(PH_B1, "INVITE");
	const struct sip_msg *i2 = expect_request(PH_B2, "INVITE");
	answer(i1, s1, NULL);
	expect_request(PH_B1, "ACK");
	expect_none(PH_A); /* B2 may still answer */
	answer(i2, s2, NULL);
	expect_request(PH_B2, "ACK");
	const struct sip_msg *r = expect_response_to(PH_A, want, "INVITE");
	phone_ack(&hx.a, r);
	expect_none(PH_A);
	struct db_cdr c = cdr_last();
	assert_cdr(&c, disposition, "1001", "1002", want, "callee");
}

static void forks_fail_busy_beats_unavailable(void **state)
{
	(void)state;
	all_forks_fail(480, 486, 486, "BUSY");
}

/* busy beats everything but 6xx, even a class lower (16.7 would pick the
 * redirect) */
static void forks_fail_busy_beats_redirect(void **state)
{
	(void)state;
	all_forks_fail(486, 302, 486, "BUSY");
}

static void forks_fail_decline_beats_everything(void **state)
{
	(void)state;
	all_forks_fail(603, 486, 603, "FAILED");
}

static void forks_fail_lower_class_wins(void **state)
{
	(void)state;
	all_forks_fail(503, 404, 404, "FAILED");
}

/* A cancels before B said anything: A gets 200 and 487 at once; the
 * CANCEL towards B may not go before B's first provisional (9.1), and
 * must go then: the fork outlives the call until its INVITE has its
 * final answer. */
static void cancel_before_provisional(void **state)
{
	(void)state;
	assert_non_null(phone_invite("1001", "1002", PH_A->sdp));
	expect_response(PH_A, 100);
	const struct sip_msg *inv = expect_request(PH_B1, "INVITE");
	phone_cancel(&hx.a);
	expect_response_to(PH_A, 200, "CANCEL");
	const struct sip_msg *r = expect_response_to(PH_A, 487, "INVITE");
	phone_ack(&hx.a, r);
	expect_none(PH_B1); /* no CANCEL before a provisional */
	assert_int_equal(call_count(hx.pbx.calls), 0);
	struct db_cdr c = cdr_last();
	assert_cdr(&c, "CANCELLED", "1001", "1002", 487, "caller");

	/* B's phone rings only now: it must be cancelled at once */
	answer(inv, 180, NULL);
	const struct sip_msg *cancel = expect_request(PH_B1, "CANCEL");
	assert_true(pl_eq(cancel->via.branch, inv->via.branch));
	answer(cancel, 200, NULL);
	answer(inv, 487, NULL);
	expect_request(PH_B1, "ACK");
	expect_none(PH_B1);
	expect_none(PH_A);
}

/* The caller cancelled before B's provisional, and B answers 200 to the
 * CANCEL we sent after its 180: the fork outlived the call, so the 2xx
 * gets ACK and BYE at once (15.1.1), and the caller hears nothing of it. */
static void cancel_before_provisional_late_answer_gets_bye(void **state)
{
	(void)state;
	assert_non_null(phone_invite("1001", "1002", PH_A->sdp));
	expect_response(PH_A, 100);
	const struct sip_msg *inv = expect_request(PH_B1, "INVITE");
	phone_cancel(&hx.a);
	expect_response_to(PH_A, 200, "CANCEL");
	phone_ack(&hx.a, expect_response_to(PH_A, 487, "INVITE"));
	answer(inv, 180, NULL);
	const struct sip_msg *cancel = expect_request(PH_B1, "CANCEL");
	answer(inv, 200, PH_B1->sdp); /* B answered before the CANCEL reached it */
	const struct sip_msg *ack = expect_request(PH_B1, "ACK");
	assert_true(pl_eq(ack->call_id, inv->call_id));
	assert_true(pl_eq(ack->to.tag, pl_from(PH_B1->tag)));
	const struct sip_msg *bye = expect_request(PH_B1, "BYE");
	assert_true(pl_eq(bye->call_id, inv->call_id));
	answer(cancel, 200, NULL);
	answer(bye, 200, NULL);
	expect_none(PH_B1);
	expect_none(PH_A);
	assert_int_equal(cdr_rows(NULL), 1);
	assert_int_equal(call_count(hx.pbx.calls), 0);
}

/* A cancels while B is ringing, and B's 200 crosses our CANCEL: B must
 * get ACK and BYE (15.1.1, 13.2.2.4), A only its 487. */
static void cancel_crossing_200(void **state)
{
	(void)state;
	assert_non_null(phone_invite("1001", "1002", PH_A->sdp));
	expect_response(PH_A, 100);
	const struct sip_msg *inv = expect_request(PH_B1, "INVITE");
	answer(inv, 180, NULL);
	expect_response(PH_A, 180);
	phone_cancel(&hx.a);
	expect_response_to(PH_A, 200, "CANCEL");
	const struct sip_msg *r = expect_response_to(PH_A, 487, "INVITE");
	phone_ack(&hx.a, r);
	const struct sip_msg *cancel = expect_request(PH_B1, "CANCEL");
	/* B answered before the CANCEL reached it */
	answer(inv, 200, PH_B1->sdp);
	answer(cancel, 200, NULL);
	expect_request(PH_B1, "ACK");
	const struct sip_msg *bye = expect_request(PH_B1, "BYE");
	answer(bye, 200, NULL);
	expect_none(PH_B1);
	expect_none(PH_A);
}

/* The same race, and B retransmits its 200 after our ACK got lost: the
 * retransmission (a 2xx for a leg we no longer hold, on a Call-ID we
 * signed) is ACKed and BYEd again; the caller hears nothing of it, and
 * there is one CANCELLED row. */
static void cancel_crossing_200_retransmission_gets_bye(void **state)
{
	(void)state;
	assert_non_null(phone_invite("1001", "1002", PH_A->sdp));
	expect_response(PH_A, 100);
	const struct sip_msg *inv = expect_request(PH_B1, "INVITE");
	answer(inv, 180, NULL);
	expect_response(PH_A, 180);
	phone_cancel(&hx.a);
	expect_response_to(PH_A, 200, "CANCEL");
	phone_ack(&hx.a, expect_response_to(PH_A, 487, "INVITE"));
	const struct sip_msg *cancel = expect_request(PH_B1, "CANCEL");
	answer(inv, 200, PH_B1->sdp);
	answer(cancel, 200, NULL);
	expect_request(PH_B1, "ACK");
	answer(expect_request(PH_B1, "BYE"), 200, NULL);
	advance(500);
	answer(inv, 200, PH_B1->sdp);
	expect_request(PH_B1, "ACK");
	answer(expect_request(PH_B1, "BYE"), 200, NULL);
	expect_none(PH_B1);
	expect_none(PH_A);
	assert_int_equal(fmedia_count("call_connect", 0, -1), 0);
	struct db_cdr c = cdr_last();
	assert_cdr(&c, "CANCELLED", "1001", "1002", 487, "caller");
	assert_int_equal(cdr_rows(NULL), 1);
}

/* RFC 3261 9.2: the 200 to a CANCEL SHOULD carry the To tag of the
 * responses to the INVITE it cancels. */
static void cancel_200_has_the_invite_to_tag(void **state)
{
	(void)state;
	assert_non_null(phone_invite("1001", "1002", PH_A->sdp));
	expect_response(PH_A, 100);
	answer(expect_request(PH_B1, "INVITE"), 180, NULL);
	const struct sip_msg *ringing = expect_response(PH_A, 180);
	phone_cancel(&hx.a);
	const struct sip_msg *c200 = expect_response_to(PH_A, 200, "CANCEL");
	const struct sip_msg *r487 = expect_response_to(PH_A, 487, "INVITE");
	assert_true(pl_eq(r487->to.tag, ringing->to.tag));
	assert_true(pl_eq(c200->to.tag, r487->to.tag));
}

/* Nobody picks up: after no_answer_timeout the caller gets 480 and the
 * ringing phone a CANCEL; not a millisecond before. */
static void no_answer_timeout(void **state)
{
	(void)state;
	assert_non_null(phone_invite("1001", "1002", PH_A->sdp));
	expect_response(PH_A, 100);
	const struct sip_msg *inv = expect_request(PH_B1, "INVITE");
	answer(inv, 180, NULL);
	expect_response(PH_A, 180);
	uint64_t t = hx.pbx.conf.no_answer_timeout * 1000u;
	advance(t - 1);
	expect_none(PH_A);
	expect_none(PH_B1);
	advance(1);
	const struct sip_msg *r = expect_response_to(PH_A, 480, "INVITE");
	phone_ack(&hx.a, r);
	const struct sip_msg *cancel = expect_request(PH_B1, "CANCEL");
	answer(cancel, 200, NULL);
	answer(inv, 487, NULL);
	expect_request(PH_B1, "ACK");
	expect_none(PH_B1);
	expect_none(PH_A);
	struct db_cdr c = cdr_last();
	assert_cdr(&c, "NO ANSWER", "1001", "1002", 480, "system");
	assert_string_equal(c.hangup_cause, "no answer");
}

/* A number nobody has, and a disabled extension. */
static void unknown_number(void **state)
{
	(void)state;
	assert_non_null(phone_invite("1001", "1999", PH_A->sdp));
	expect_unknown_number(PH_A, "1001", "1999");
}

static void disabled_number(void **state)
{
	(void)state;
	assert_non_null(phone_invite("1001", "1004", PH_A->sdp));
	expect_unknown_number(PH_A, "1001", "1004");
}

/* A phone that is nobody's trusted device must authenticate: 407 with a
 * digest challenge, no call, no CDR row. */
static void caller_not_authenticated(void **state)
{
	(void)state;
	assert_non_null(phone_invite("1005", "1002", PH_E->sdp));
	const struct sip_msg *r = expect_response_to(PH_E, 407, "INVITE");
	const char *ch = msg_hdr(r, "Proxy-Authenticate");
	assert_non_null(strstr(ch, "Digest"));
	assert_non_null(strstr(ch, "realm=\"hookflash\""));
	assert_non_null(strstr(ch, "nonce="));
	phone_ack(&hx.a, r);
	expect_none(PH_E);
	expect_none(PH_B1);
	assert_int_equal(call_count(hx.pbx.calls), 0);
	assert_int_equal(fmedia_count("call_create", 0, -1), 0);
	assert_int_equal(cdr_rows(NULL), 0);
}

/* With ringback on, a 180 without SDP reaches the caller as a 183 with
 * our SDP and the ringback tone plays to leg 0 (the caller's); the answer
 * stops it before the legs are connected. */
static void ringback_to_caller(void **state)
{
	(void)state;
	hx.pbx.conf.ringback = true;
	assert_non_null(phone_invite("1001", "1002", PH_A->sdp));
	expect_response(PH_A, 100);
	const struct sip_msg *inv = expect_request(PH_B1, "INVITE");
	answer(inv, 180, NULL);
	const struct sip_msg *p = expect_response_to(PH_A, 183, "INVITE");
	assert_true(msg_has_sdp(p));
	assert_true(body_has(p, "c=IN IP4 " CH_HOST));
	uint32_t mc = fmedia_last_call();
	int tone = fmedia_find("leg_tone", mc, 0, 0);
	assert_true(tone >= 0);
	assert_string_equal(fmedia.cmds[tone].arg, "ringback tag 0");
	assert_true(fmedia_find("leg_set_format", mc, 0, 0) < tone); /* format first */
	assert_int_equal(fmedia_count("leg_tone", mc, 1), 0);
	assert_int_equal(fmedia_count("call_connect", mc, -1), 0);

	answer(inv, 200, PH_B1->sdp);
	expect_request(PH_B1, "ACK");
	const struct sip_msg *ok = expect_response_to(PH_A, 200, "INVITE");
	phone_ack(&hx.a, ok);
	int stop = fmedia_find("leg_stop", mc, 0, 0);
	int conn = fmedia_find("call_connect", mc, -1, 0);
	assert_true(stop > tone);
	assert_true(conn > tone);
}

/* The engine cannot play (ENOSYS): the 180 is relayed as it is. */
static void ringback_unavailable_relays_180(void **state)
{
	(void)state;
	hx.pbx.conf.ringback = true;
	fmedia.err_tone = ENOSYS;
	assert_non_null(phone_invite("1001", "1002", PH_A->sdp));
	expect_response(PH_A, 100);
	const struct sip_msg *inv = expect_request(PH_B1, "INVITE");
	answer(inv, 180, NULL);
	const struct sip_msg *p = expect_response_to(PH_A, 180, "INVITE");
	assert_false(msg_has_sdp(p));
	answer(inv, 486, NULL);
	expect_request(PH_B1, "ACK");
	phone_ack(&hx.a, expect_response_to(PH_A, 486, "INVITE"));
}

/* Early media: B's 183 with SDP reaches A with ours, and the legs are
 * connected before the answer, so A hears B's announcement. */
static void early_media_connects_before_answer(void **state)
{
	(void)state;
	assert_non_null(phone_invite("1001", "1002", PH_A->sdp));
	expect_response(PH_A, 100);
	const struct sip_msg *inv = expect_request(PH_B1, "INVITE");
	uint32_t mc = fmedia_last_call();
	assert_int_equal(fmedia_count("call_connect", mc, -1), 0);
	answer(inv, 183, PH_B1->sdp);
	const struct sip_msg *p = expect_response_to(PH_A, 183, "INVITE");
	assert_true(msg_has_sdp(p));
	assert_int_equal(fmedia_count("call_connect", mc, -1), 1);
	answer(inv, 200, PH_B1->sdp);
	expect_request(PH_B1, "ACK");
	phone_ack(&hx.a, expect_response_to(PH_A, 200, "INVITE"));
	assert_int_equal(fmedia_count("call_connect", mc, -1), 1);
}

/* Dispatch: an extension we do not understand is refused before any
 * call exists (8.2.2.3). */
static void unsupported_require_gets_420(void **state)
{
	(void)state;
	assert_non_null(phone_invite_ex(PH_A, "1002", PH_A->sdp, "Require: 100rel\r\n"));
	const struct sip_msg *r = expect_response_to(PH_A, 420, "INVITE");
	assert_non_null(strstr(msg_hdr(r, "Unsupported"), "100rel"));
	phone_ack(&hx.a, r);
	expect_none(PH_B1);
	assert_int_equal(cdr_rows(NULL), 0);
}

/* The callee is registered nowhere and has no static contact: 480 and a
 * NO ANSWER row, nobody rung. */
static void callee_not_registered(void **state)
{
	(void)state;
	assert_non_null(phone_invite("1001", "1005", PH_A->sdp));
	expect_response(PH_A, 100);
	const struct sip_msg *r = expect_response_to(PH_A, 480, "INVITE");
	phone_ack(&hx.a, r);
	expect_none(PH_A);
	expect_none(PH_E);
	struct db_cdr c = cdr_last();
	assert_cdr(&c, "NO ANSWER", "1001", "1005", 480, "system");
	assert_string_equal(c.hangup_cause, "callee not registered");
	assert_string_equal(c.path, "ext:1005 > hangup");
}

/* The CDR is written once the engine reports the call destroyed (with
 * its final statistics), not before. */
static void cdr_waits_for_media_destroyed(void **state)
{
	(void)state;
	fmedia.hold_destroyed = true;
	ch_call_up();
	uint32_t mc = fmedia_last_call();
	phone_req(&hx.a, "BYE", NULL);
	expect_response_to(PH_A, 200, "BYE");
	answer(expect_request(PH_B1, "BYE"), 200, NULL);
	assert_int_equal(fmedia_count("call_destroy", mc, -1), 1);
	assert_int_equal(cdr_rows(NULL), 0);
	struct media_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = MEDIA_EV_DESTROYED;
	ev.call = mc;
	ev.stats.leg[0].rx_packets = 1234;
	ev.stats.leg[1].tx_packets = 1200;
	fmedia_event(&ev);
	struct db_cdr c = cdr_last();
	assert_cdr(&c, "ANSWERED", "1001", "1002", 200, "caller");
	assert_int_equal(c.leg[0].pkts_rx, 1234);
	assert_int_equal(c.leg[1].pkts_tx, 1200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, ch_setup_no_voicemail, ch_teardown)
		T(basic_answer_and_bye),
		T(fork_first_2xx_wins_loser_gets_cancel),
		T(busy_callee),
		T(srtp_required_phone_gets_savp),
		T(forks_fail_busy_beats_unavailable),
		T(forks_fail_busy_beats_redirect),
		T(forks_fail_decline_beats_everything),
		T(forks_fail_lower_class_wins),
		T(cancel_before_provisional),
		T(cancel_before_provisional_late_answer_gets_bye),
		T(cancel_crossing_200),
		T(cancel_crossing_200_retransmission_gets_bye),
		T(cancel_200_has_the_invite_to_tag),
		T(no_answer_timeout),
		T(unknown_number),
		T(disabled_number),
		T(caller_not_authenticated),
		T(ringback_to_caller),
		T(ringback_unavailable_relays_180),
		T(early_media_connects_before_answer),
		T(unsupported_require_gets_420),
		T(callee_not_registered),
		T(cdr_waits_for_media_destroyed),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
