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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(basic_answer_and_bye, ch_setup, ch_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
