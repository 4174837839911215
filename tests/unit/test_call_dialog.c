/*
 * Requests inside an answered call, through the real dispatch and B2BUA
 * (call_harness.h): BYE from the callee, re-INVITEs relayed with their
 * SDP re-anchored, glare, offer-less re-INVITEs answered here, session
 * timers (refresh and expiry), 2xx retransmission until the ACK, and what
 * the media engine's events do to a call.
 */
#include "call_harness.h"

/* A calls B1 with extra INVITE headers; up and ACKed. Returns our 200. */
static const struct sip_msg *call_up_with(const char *extra)
{
	assert_non_null(phone_invite_ex(PH_A, "1002", PH_A->sdp, extra));
	expect_response(PH_A, 100);
	const struct sip_msg *inv = expect_request(PH_B1, "INVITE");
	answer(inv, 200, PH_B1->sdp);
	expect_request(PH_B1, "ACK");
	const struct sip_msg *ok = expect_response_to(PH_A, 200, "INVITE");
	phone_ack(&hx.a, ok);
	expect_none(PH_A);
	expect_none(PH_B1);
	return ok;
}

static void callee_hangs_up(void **state)
{
	(void)state;
	ch_call_up();
	phone_req(&PH_B1->dlg, "BYE", NULL);
	expect_response_to(PH_B1, 200, "BYE");
	const struct sip_msg *bye = expect_request(PH_A, "BYE");
	assert_true(pl_eq(bye->call_id, pl_from(hx.a.call_id)));
	assert_true(pl_eq(bye->to.tag, pl_from(hx.a.local_tag))); /* A's own tag */
	answer(bye, 200, NULL);
	expect_none(PH_A);
	expect_none(PH_B1);
	struct db_cdr c = cdr_last();
	assert_cdr(&c, "ANSWERED", "1001", "1002", 200, "callee");
	assert_string_equal(c.hangup_cause, "callee hung up");
}

/* A puts B on hold: the re-INVITE reaches B with our address and A's
 * direction, B's answer comes back to A re-anchored, each side's ACK is
 * its own, and the engine learns the new direction. */
static void reinvite_relayed_with_sdp(void **state)
{
	(void)state;
	ch_call_up();
	uint32_t mc = fmedia_last_call();
	phone_req(&hx.a, "INVITE", sdp_v(PH_A, 2, 10002, "sendonly"));
	const struct sip_msg *re = expect_request(PH_B1, "INVITE");
	assert_true(msg_has_sdp(re));
	assert_true(body_has(re, "c=IN IP4 " CH_HOST));
	assert_true(body_has(re, "a=sendonly"));
	assert_false(body_has(re, "192.0.2.11"));
	assert_true(pl_eq(re->to.tag, pl_from(PH_B1->tag)));
	expect_none(PH_A);

	answer(re, 200, sdp_v(PH_B1, 2, 20000, "recvonly"));
	expect_request(PH_B1, "ACK");
	const struct sip_msg *ok = expect_response_to(PH_A, 200, "INVITE");
	assert_true(msg_has_sdp(ok));
	assert_true(body_has(ok, "a=recvonly"));
	assert_false(body_has(ok, "192.0.2.21"));
	phone_ack(&hx.a, ok);
	expect_none(PH_A);
	expect_none(PH_B1);

	int d = fmedia_find("leg_set_direction", mc, 0, 0);
	int last = -1;
	while (d >= 0) {
		last = d;
		d = fmedia_find("leg_set_direction", mc, 0, (size_t)d + 1);
	}
	assert_true(last >= 0);
	assert_string_equal(fmedia.cmds[last].arg, "sendonly");
	int r = fmedia_find("leg_set_remote", mc, 0, 0);
	int lastr = r;
	while (r >= 0) {
		lastr = r;
		r = fmedia_find("leg_set_remote", mc, 0, (size_t)r + 1);
	}
	assert_string_equal(fmedia.cmds[lastr].arg, "192.0.2.11:10002");
}

/* Both phones re-INVITE at once: the one that arrives second gets 491,
 * the first goes through. */
static void glare_gets_491(void **state)
{
	(void)state;
	ch_call_up();
	phone_req(&hx.a, "INVITE", sdp_v(PH_A, 2, 10002, "sendrecv"));
	const struct sip_msg *re = expect_request(PH_B1, "INVITE");
	phone_req(&PH_B1->dlg, "INVITE", sdp_v(PH_B1, 2, 20002, "sendrecv"));
	expect_response_to(PH_B1, 491, "INVITE");
	expect_none(PH_A);
	/* the same from A's side while its own is pending */
	phone_req(&hx.a, "INVITE", sdp_v(PH_A, 3, 10004, "sendrecv"));
	expect_response_to(PH_A, 491, "INVITE");

	answer(re, 200, PH_B1->sdp);
	expect_request(PH_B1, "ACK");
	phone_ack(&hx.a, expect_response_to(PH_A, 200, "INVITE"));
	expect_none(PH_A);
	expect_none(PH_B1);

	/* and once it is done, B may offer */
	phone_req(&PH_B1->dlg, "INVITE", sdp_v(PH_B1, 3, 20002, "sendrecv"));
	const struct sip_msg *re2 = expect_request(PH_A, "INVITE");
	answer(re2, 200, sdp_v(PH_A, 4, 10002, "sendrecv"));
	expect_request(PH_A, "ACK");
	phone_ack(&PH_B1->dlg, expect_response_to(PH_B1, 200, "INVITE"));
	assert_int_equal(call_count(hx.pbx.calls), 1);
}

/* An offer-less re-INVITE is answered here with what A already has; B
 * hears nothing of it; A's answer comes in the ACK and reaches the
 * engine. */
static void offerless_reinvite_answered_locally(void **state)
{
	(void)state;
	const struct sip_msg *first = NULL;
	ch_call_up();
	(void)first;
	uint32_t mc = fmedia_last_call();
	phone_req(&hx.a, "INVITE", NULL);
	const struct sip_msg *ok = expect_response_to(PH_A, 200, "INVITE");
	assert_true(msg_has_sdp(ok));
	assert_true(body_has(ok, "c=IN IP4 " CH_HOST));
	expect_none(PH_B1);
	size_t before = fmedia_count("leg_set_remote", mc, 0);
	phone_ack_sdp(&hx.a, ok, sdp_v(PH_A, 2, 10010, "sendrecv"));
	expect_none(PH_A);
	expect_none(PH_B1);
	assert_int_equal(fmedia_count("leg_set_remote", mc, 0), before + 1);
	int r = fmedia_find("leg_set_remote", mc, 0, 0), lastr = r;
	while (r >= 0) {
		lastr = r;
		r = fmedia_find("leg_set_remote", mc, 0, (size_t)r + 1);
	}
	assert_string_equal(fmedia.cmds[lastr].arg, "192.0.2.11:10010");
	/* and our 2xx is not retransmitted: the ACK stopped it */
	advance(4000);
	expect_none(PH_A);
}

/* The caller refreshes (refresher=uac): our 2xx confirms the timer; a
 * refresh in time keeps the call; silence after it ends the call a
 * little before the interval (RFC 4028 10). */
static void session_timer_refresh_and_expiry(void **state)
{
	(void)state;
	const struct sip_msg *ok =
		call_up_with("Supported: timer\r\nSession-Expires: 90;refresher=uac\r\n");
	assert_non_null(strstr(msg_hdr(ok, "Session-Expires"), "90"));
	assert_non_null(strstr(msg_hdr(ok, "Session-Expires"), "refresher=uac"));
	assert_non_null(strstr(msg_hdr(ok, "Require"), "timer"));

	advance(45000);
	expect_none(PH_A);
	phone_req(&hx.a, "INVITE", PH_A->sdp); /* the refresh */
	const struct sip_msg *re = expect_request(PH_B1, "INVITE");
	answer(re, 200, PH_B1->sdp);
	expect_request(PH_B1, "ACK");
	phone_ack(&hx.a, expect_response_to(PH_A, 200, "INVITE"));

	/* 90 s minus a third of it after the refresh, not before */
	advance(60029);
	expect_none(PH_A);
	expect_none(PH_B1);
	assert_int_equal(call_count(hx.pbx.calls), 1);
	advance(1);
	answer(expect_request(PH_A, "BYE"), 200, NULL);
	answer(expect_request(PH_B1, "BYE"), 200, NULL);
	assert_int_equal(call_count(hx.pbx.calls), 0);
	struct db_cdr c = cdr_last();
	assert_cdr(&c, "ANSWERED", "1001", "1002", 200, "system");
	assert_string_equal(c.hangup_cause, "session expired without refresh");
}

/* refresher=uas: we refresh the caller at half the interval with the SDP
 * we last sent it; the callee is not disturbed. */
static void session_timer_we_refresh(void **state)
{
	(void)state;
	const struct sip_msg *ok =
		call_up_with("Supported: timer\r\nSession-Expires: 90;refresher=uas\r\n");
	assert_non_null(strstr(msg_hdr(ok, "Session-Expires"), "refresher=uas"));
	char our_sdp[1024];
	snprintf(our_sdp, sizeof(our_sdp), "%.*s", (int)ok->body.l, ok->body.p);
	advance(44999);
	expect_none(PH_A);
	advance(1);
	const struct sip_msg *re = expect_request(PH_A, "INVITE");
	assert_true(pl_eq(re->body, pl_from(our_sdp)));
	answer(re, 200, PH_A->sdp);
	expect_request(PH_A, "ACK");
	expect_none(PH_B1);
	advance(45000);
	answer(expect_request(PH_A, "INVITE"), 200, PH_A->sdp);
	expect_request(PH_A, "ACK");
	expect_none(PH_B1);
	assert_int_equal(call_count(hx.pbx.calls), 1);
}

/* Our 2xx to A is retransmitted (T1, doubling, T2 cap) until A ACKs. */
static void ok_retransmitted_until_ack(void **state)
{
	(void)state;
	assert_non_null(phone_invite("1001", "1002", PH_A->sdp));
	expect_response(PH_A, 100);
	const struct sip_msg *inv = expect_request(PH_B1, "INVITE");
	answer(inv, 200, PH_B1->sdp);
	expect_request(PH_B1, "ACK");
	const struct sip_msg *ok = expect_response_to(PH_A, 200, "INVITE");
	advance(499);
	expect_none(PH_A);
	advance(1);
	const struct sip_msg *again = expect_response_to(PH_A, 200, "INVITE");
	assert_true(pl_eq(again->to.tag, ok->to.tag));
	advance(1000);
	expect_response_to(PH_A, 200, "INVITE");
	phone_ack(&hx.a, ok);
	advance(10000);
	expect_none(PH_A);
	assert_int_equal(call_count(hx.pbx.calls), 1);
}

/* No ACK at all: after 64*T1 the call is torn down (13.3.1.4). */
static void no_ack_ends_call(void **state)
{
	(void)state;
	assert_non_null(phone_invite("1001", "1002", PH_A->sdp));
	expect_response(PH_A, 100);
	const struct sip_msg *inv = expect_request(PH_B1, "INVITE");
	answer(inv, 200, PH_B1->sdp);
	expect_request(PH_B1, "ACK");
	expect_response_to(PH_A, 200, "INVITE");
	/* 500, 1500, 3500, 7500, then every 4 s up to 32 s */
	uint64_t at[] = { 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500 };
	uint64_t t = 0;
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		advance(at[i] - t - 1);
		expect_none(PH_A);
		advance(1);
		t = at[i];
		expect_response_to(PH_A, 200, "INVITE");
	}
	advance(4000);
	answer(expect_request(PH_A, "BYE"), 200, NULL);
	answer(expect_request(PH_B1, "BYE"), 200, NULL);
	assert_int_equal(call_count(hx.pbx.calls), 0);
	struct db_cdr c = cdr_last();
	assert_string_equal(c.hangup_cause, "no ACK from caller");
}

/* The engine says a phone stopped sending RTP: both get BYE. */
static void rtp_timeout_ends_call(void **state)
{
	(void)state;
	ch_call_up();
	struct media_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = MEDIA_EV_RTP_TIMEOUT;
	ev.call = fmedia_last_call();
	ev.leg = 1;
	fmedia_event(&ev);
	ch_pump();
	answer(expect_request(PH_A, "BYE"), 200, NULL);
	answer(expect_request(PH_B1, "BYE"), 200, NULL);
	struct db_cdr c = cdr_last();
	assert_cdr(&c, "ANSWERED", "1001", "1002", 200, "system");
	assert_string_equal(c.hangup_cause, "rtp timeout");
}

static void dtmf_seen(const struct call_info *ci, void *arg)
{
	snprintf(arg, 40, "%s", ci->dtmf);
}

/* Digits: the engine's are noted; INFO's are answered here and sent to
 * the other phone through the engine. */
static void dtmf_from_engine_and_info(void **state)
{
	(void)state;
	ch_call_up();
	uint32_t mc = fmedia_last_call();
	struct media_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = MEDIA_EV_DTMF;
	ev.call = mc;
	ev.leg = 0;
	ev.digit = '5';
	fmedia_event(&ev);
	phone_req_ex(&hx.a, "INFO", NULL, NULL);
	/* an INFO without a body is relayed */
	answer(expect_request(PH_B1, "INFO"), 200, NULL);
	expect_response_to(PH_A, 200, "INFO");

	char body[] = "Signal=7\r\nDuration=160\r\n";
	char extra[128];
	snprintf(extra, sizeof(extra), "Content-Type: application/dtmf-relay\r\n");
	/* phone_req_ex sends no body of its own type: build it by hand */
	struct sbuf b;
	sbuf_init(&b);
	sbuf_printf(&b,
		    "INFO %s SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.11:5060;branch=z9hG4bK-info-1\r\n"
		    "Max-Forwards: 70\r\nFrom: <%s>;tag=%s\r\nTo: <%s>;tag=%s\r\nCall-ID: %s\r\n"
		    "CSeq: %u INFO\r\n%sContent-Length: %zu\r\n\r\n%s",
		    hx.a.target, hx.a.local_uri, hx.a.local_tag, hx.a.remote_uri, hx.a.remote_tag,
		    hx.a.call_id, ++hx.a.cseq, extra, strlen(body), body);
	ch_feed(PH_A, b.p);
	sbuf_free(&b);
	expect_response_to(PH_A, 200, "INFO");
	expect_none(PH_B1);
	int d = fmedia_find("leg_send_dtmf", mc, 1, 0);
	assert_true(d >= 0);
	assert_string_equal(fmedia.cmds[d].arg, "7/160");
	char seen[40] = "";
	call_each(hx.pbx.calls, dtmf_seen, seen);
	assert_string_equal(seen, "57");
}

/* OPTIONS in the dialog is ours to answer; a BYE for no dialog is 481. */
static void in_dialog_options_and_unknown_bye(void **state)
{
	(void)state;
	ch_call_up();
	phone_req(&hx.a, "OPTIONS", NULL);
	const struct sip_msg *r = expect_response_to(PH_A, 200, "OPTIONS");
	assert_non_null(strstr(msg_hdr(r, "Allow"), "INVITE"));
	expect_none(PH_B1);
	struct ch_dlg bogus = hx.a;
	snprintf(bogus.remote_tag, sizeof(bogus.remote_tag), "no-such-tag");
	phone_req(&bogus, "BYE", NULL);
	expect_response_to(PH_A, 481, "BYE");
	expect_none(PH_B1);
	assert_int_equal(call_count(hx.pbx.calls), 1);
}

/* A relayed in-dialog INFO the callee never answers: the caller gets 408
 * and the call ends, once. The layer's guard on the caller's unanswered
 * INFO (64*T1) fell due in the same millisecond as the relayed request's
 * Timer F and freed the server transaction the call still held, so the
 * 408 was written into freed memory (found by tests/fuzz/fuzz_call). */
static void relayed_info_never_answered(void **state)
{
	(void)state;
	ch_call_up();
	phone_req_ex(&hx.a, "INFO", NULL, NULL);
	expect_request(PH_B1, "INFO"); /* and B1 stays silent */
	advance(40000);
	expect_response_to(PH_A, 408, "INFO");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, ch_setup, ch_teardown)
		T(callee_hangs_up),
		T(reinvite_relayed_with_sdp),
		T(glare_gets_491),
		T(offerless_reinvite_answered_locally),
		T(session_timer_refresh_and_expiry),
		T(session_timer_we_refresh),
		T(ok_retransmitted_until_ack),
		T(no_ack_ends_call),
		T(rtp_timeout_ends_call),
		T(dtmf_from_engine_and_info),
		T(in_dialog_options_and_unknown_bye),
		T(relayed_info_never_answered),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
