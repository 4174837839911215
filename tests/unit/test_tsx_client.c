/*
 * Unit tests for SIP client transactions (core/sip/tsx_client.c): the
 * INVITE and non-INVITE client state machines against RFC 3261 17.1 with
 * exact timings (Timers A, B, D, E, F, K, on UDP and TCP and with custom
 * T1/T2/T4), the ACK the layer builds for a non-2xx (17.1.1.3), branch and
 * token generation, and client TU callbacks that forget their transaction
 * or start a new one from inside the report. Fixture: tsx_harness.h.
 */
#include "tsx_harness.h"

/* --- branches and tokens ------------------------------------------------- */

static void test_branch_and_token(void **state)
{
	(void)state;
	char a[32], b[32], tok[40];
	sip_tsx_branch(a, sizeof(a));
	sip_tsx_branch(b, sizeof(b));
	assert_int_equal(strlen(a), 7 + 16);
	assert_memory_equal(a, "z9hG4bK", 7);
	assert_int_equal(strspn(a + 7, "0123456789abcdef"), 16);
	assert_string_not_equal(a, b);

	sip_random_token(tok, sizeof(tok), 10);
	assert_int_equal(strlen(tok), 10);
	assert_int_equal(strspn(tok, "0123456789abcdef"), 10);
	sip_random_token(tok, 8, 100); /* clipped to the buffer */
	assert_int_equal(strlen(tok), 7);
	sip_tsx_branch(tok, 5); /* too small: still terminated */
	assert_int_equal(strlen(tok), 4);

	/* No repeats in a few thousand. */
	enum { N = 4000 };
	char(*all)[32] = calloc(N, 32);
	assert_non_null(all);
	for (int i = 0; i < N; i++)
		sip_tsx_branch(all[i], 32);
	qsort(all, N, 32, (int (*)(const void *, const void *))strcmp);
	for (int i = 1; i < N; i++)
		assert_string_not_equal(all[i - 1], all[i]);
	free(all);
}

/* --- INVITE client ------------------------------------------------------- */

static void test_ict_udp_retransmit_timeout(void **state)
{
	(void)state;
	char br[32];
	send_req(&udp_peer, "INVITE", br);
	assert_int_equal(sip_tsx_count(fx.tl), 1);
	assert_int_equal(fx.nsent, 1);
	assert_true(peer_eq(&fx.sent[0].to, &udp_peer));

	/* Timer A: T1, doubling; Timer B: 64*T1 = 32 s. */
	static const uint64_t at[] = { 0, 500, 1500, 3500, 7500, 15500, 31500 };
	clock_to(31999);
	assert_int_equal(fx.nsent, 7);
	for (size_t i = 0; i < 7; i++) {
		assert_int_equal(fx.sent[i].at, at[i]);
		assert_int_equal(fx.sent[i].len, fx.sent[0].len);
		assert_memory_equal(fx.sent[i].data, fx.sent[0].data, fx.sent[0].len);
	}
	assert_int_equal(fx.nresp, 0);
	clock_to(32000);
	assert_int_equal(fx.nresp, 1);
	assert_int_equal(fx.resp_err[0], ETIMEDOUT);
	assert_int_equal(fx.resp_at[0], 32000);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
	clock_to(70000);
	assert_int_equal(fx.nsent, 7);
	assert_int_equal(fx.nresp, 1);
}

static void test_ict_tcp_no_retransmit(void **state)
{
	(void)state;
	char br[32];
	send_req(&tcp_peer, "INVITE", br);
	clock_to(31999);
	assert_int_equal(fx.nsent, 1);
	assert_int_equal(fx.nresp, 0);
	clock_to(32000);
	assert_int_equal(fx.nresp, 1);
	assert_int_equal(fx.resp_err[0], ETIMEDOUT);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
}

static void test_ict_provisional_then_486_ack(void **state)
{
	(void)state;
	char br[32];
	send_req(&udp_peer, "INVITE", br);
	clock_to(700);
	assert_int_equal(fx.nsent, 2); /* 0 and 500 */
	feed(&udp_peer, mkresp(txt, 180, "INVITE", br));
	assert_int_equal(fx.nresp, 1);
	assert_int_equal(fx.resp_status[0], 180);

	/* Proceeding: no retransmission, and Timer B no longer applies. */
	clock_to(40000);
	assert_int_equal(fx.nsent, 2);
	assert_int_equal(fx.nresp, 1);
	assert_int_equal(sip_tsx_count(fx.tl), 1);

	feed(&udp_peer, mkresp(txt, 486, "INVITE", br));
	assert_int_equal(fx.nresp, 2);
	assert_int_equal(fx.resp_status[1], 486);
	assert_int_equal(fx.nsent, 3);
	assert_int_equal(fx.sent[2].at, 40000);
	assert_true(peer_eq(&fx.sent[2].to, &udp_peer));

	/* 17.1.1.3: the ACK reuses the request's branch, Request-URI,
	 * Call-ID, From, CSeq number and Route set; To comes from the
	 * response (with its tag). */
	struct sip_msg *ack = sent_msg(2);
	struct sip_msg *inv = sent_msg(0);
	assert_true(ack->is_request);
	assert_true(pl_eq(ack->method, PL("ACK")));
	assert_true(pl_eq(ack->ruri_raw, inv->ruri_raw));
	assert_true(pl_eq(ack->via.branch, pl_from(br)));
	assert_int_equal(sip_msg_hdr_count(ack, SIP_HDR_VIA), 1);
	assert_true(pl_eq(ack->call_id, inv->call_id));
	assert_true(pl_eq(ack->from.tag, inv->from.tag));
	assert_true(pl_eq(ack->to.tag, PL("314159")));
	assert_int_equal(ack->cseq.num, 7);
	assert_true(pl_eq(ack->cseq.method, PL("ACK")));
	assert_int_equal(sip_msg_hdr_count(ack, SIP_HDR_ROUTE), 2);
	assert_true(pl_eq(sip_msg_hdr(ack, SIP_HDR_ROUTE)->value, PL("<sip:p1.example.com;lr>")));
	assert_int_equal(ack->body.l, 0);
	sip_msg_free(ack);
	sip_msg_free(inv);

	/* A copy of the 486 is re-ACKed, not reported. */
	clock_to(41000);
	feed(&udp_peer, mkresp(txt, 486, "INVITE", br));
	assert_int_equal(fx.nresp, 2);
	assert_int_equal(fx.nsent, 4);
	assert_memory_equal(fx.sent[3].data, fx.sent[2].data, fx.sent[2].len);

	/* Timer D: 32 s after the 486. */
	clock_to(40000 + 31999);
	assert_int_equal(sip_tsx_count(fx.tl), 1);
	clock_to(40000 + 32000);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
	assert_int_equal(fx.nresp, 2);
}

static void test_ict_non2xx_in_calling(void **state)
{
	(void)state;
	char br[32];
	send_req(&udp_peer, "INVITE", br);
	clock_to(100);
	feed(&udp_peer, mkresp(txt, 503, "INVITE", br));
	assert_int_equal(fx.nresp, 1);
	assert_int_equal(fx.resp_status[0], 503);
	assert_int_equal(fx.nsent, 2);
	struct sip_msg *ack = sent_msg(1);
	assert_true(pl_eq(ack->method, PL("ACK")));
	assert_true(pl_eq(ack->via.branch, pl_from(br)));
	sip_msg_free(ack);
	/* Timer A is off: nothing more until D ends it. */
	clock_to(32100);
	assert_int_equal(fx.nsent, 2);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
	assert_int_equal(fx.nresp, 1);
}

static void test_ict_2xx_terminates(void **state)
{
	(void)state;
	char br[32];
	send_req(&udp_peer, "INVITE", br);
	clock_to(200);
	feed(&udp_peer, mkresp(txt, 100, "INVITE", br));
	feed(&udp_peer, mkresp(txt, 200, "INVITE", br));
	assert_int_equal(fx.nresp, 2);
	assert_int_equal(fx.resp_status[0], 100);
	assert_int_equal(fx.resp_status[1], 200);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
	assert_int_equal(fx.nsent, 1); /* the layer does not ACK a 2xx */
	/* A retransmitted 2xx finds no transaction: dropped here. */
	feed(&udp_peer, mkresp(txt, 200, "INVITE", br));
	assert_int_equal(fx.nresp, 2);
	assert_int_equal(fx.nsent, 1);
	clock_to(64000);
	assert_int_equal(fx.nsent, 1);
}

static void test_ict_tcp_486(void **state)
{
	(void)state;
	char br[32];
	send_req(&tcp_peer, "INVITE", br);
	feed(&tcp_peer, mkresp(txt, 486, "INVITE", br));
	assert_int_equal(fx.nresp, 1);
	assert_int_equal(fx.nsent, 2);
	assert_true(peer_eq(&fx.sent[1].to, &tcp_peer));
	/* Timer D is zero on a reliable transport. */
	assert_int_equal(sip_tsx_count(fx.tl), 0);
}

/* --- non-INVITE client --------------------------------------------------- */

static void test_nict_udp_retransmit_timeout(void **state)
{
	(void)state;
	char br[32];
	send_req(&udp_peer, "OPTIONS", br);
	/* Timer E: T1 doubling up to T2 = 4 s; Timer F: 32 s. */
	static const uint64_t at[] = { 0, 500, 1500, 3500, 7500, 11500, 15500,
				       19500, 23500, 27500, 31500 };
	clock_to(31999);
	assert_int_equal(fx.nsent, 11);
	for (size_t i = 0; i < 11; i++)
		assert_int_equal(fx.sent[i].at, at[i]);
	assert_int_equal(fx.nresp, 0);
	clock_to(32000);
	assert_int_equal(fx.nresp, 1);
	assert_int_equal(fx.resp_err[0], ETIMEDOUT);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
	clock_to(40000);
	assert_int_equal(fx.nsent, 11);
}

static void test_nict_proceeding_t2_and_timer_k(void **state)
{
	(void)state;
	char br[32];
	send_req(&udp_peer, "REGISTER", br);
	clock_to(100);
	feed(&udp_peer, mkresp(txt, 100, "REGISTER", br));
	assert_int_equal(fx.nresp, 1);
	/* E was set for 500 in Trying; it fires in Proceeding, so from
	 * then on it is T2 (Trying would have sent at 1500 and 3500). */
	clock_to(9600);
	static const uint64_t at[] = { 0, 500, 4500, 8500 };
	assert_int_equal(fx.nsent, 4);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(fx.sent[i].at, at[i]);

	feed(&udp_peer, mkresp(txt, 200, "REGISTER", br));
	assert_int_equal(fx.nresp, 2);
	assert_int_equal(fx.resp_status[1], 200);
	/* Completed: copies absorbed, no retransmission, Timer K = T4. */
	feed(&udp_peer, mkresp(txt, 200, "REGISTER", br));
	assert_int_equal(fx.nresp, 2);
	clock_to(9600 + 4999);
	assert_int_equal(fx.nsent, 4);
	assert_int_equal(sip_tsx_count(fx.tl), 1);
	clock_to(9600 + 5000);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
	/* Timer F does not fire after the final. */
	clock_to(40000);
	assert_int_equal(fx.nresp, 2);
}

static void test_nict_tcp_final(void **state)
{
	(void)state;
	char br[32];
	send_req(&tcp_peer, "OPTIONS", br);
	clock_to(10000);
	assert_int_equal(fx.nsent, 1);
	feed(&tcp_peer, mkresp(txt, 200, "OPTIONS", br));
	assert_int_equal(fx.nresp, 1);
	assert_int_equal(sip_tsx_count(fx.tl), 0); /* K is zero */
}

static void test_nict_custom_timers(void **state)
{
	/* T1 = 100, T2 = 300: E at 100, 300, 600, 900 ...; F at 6400. */
	teardown(state);
	struct sip_tsx_timers tm = { .t1 = 100, .t2 = 300, .t4 = 1000 };
	setup_timers(state, &tm);
	char br[32];
	send_req(&udp_peer, "OPTIONS", br);
	clock_to(1000);
	static const uint64_t at[] = { 0, 100, 300, 600, 900 };
	assert_int_equal(fx.nsent, 5);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(fx.sent[i].at, at[i]);
	clock_to(6399);
	assert_int_equal(fx.nresp, 0);
	clock_to(6400);
	assert_int_equal(fx.nresp, 1);
	assert_int_equal(fx.resp_err[0], ETIMEDOUT);
}

/* A short T1 shortens A and B, but Timer D stays 32 s: it covers the
 * server's Timer H, which runs on the server's T1, not ours. */
static void test_ict_custom_timers_d(void **state)
{
	teardown(state);
	struct sip_tsx_timers tm = { .t1 = 100, .t2 = 400, .t4 = 1000 };
	setup_timers(state, &tm);
	char br[32];
	send_req(&udp_peer, "INVITE", br);
	clock_to(1000);
	static const uint64_t at[] = { 0, 100, 300, 700 };
	assert_int_equal(fx.nsent, 4);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(fx.sent[i].at, at[i]);
	feed(&udp_peer, mkresp(txt, 480, "INVITE", br));
	assert_int_equal(fx.nsent, 5); /* the ACK */
	clock_to(1000 + 31999);
	assert_int_equal(sip_tsx_count(fx.tl), 1);
	clock_to(1000 + 32000);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
	assert_int_equal(fx.nresp, 1);

	/* And B = 64 * T1 = 6.4 s. */
	send_req(&udp_peer, "INVITE", br);
	uint64_t t0 = fx.now;
	clock_to(t0 + 6399);
	assert_int_equal(fx.nresp, 1);
	clock_to(t0 + 6400);
	assert_int_equal(fx.nresp, 2);
	assert_int_equal(fx.resp_err[1], ETIMEDOUT);
}

/* --- client TU callbacks that re-enter ----------------------------------- */

static void test_forget_in_callback(void **state)
{
	(void)state;
	char br[32];
	fx.forget_on_prov = true;
	send_req(&udp_peer, "INVITE", br);
	feed(&udp_peer, mkresp(txt, 180, "INVITE", br));
	assert_int_equal(fx.nresp, 1);
	feed(&udp_peer, mkresp(txt, 183, "INVITE", br));
	feed(&udp_peer, mkresp(txt, 486, "INVITE", br));
	assert_int_equal(fx.nresp, 1); /* forgotten: no more reports */
	assert_int_equal(fx.nsent, 2); /* but the 486 was still ACKed */
	clock_to(32000);
	assert_int_equal(sip_tsx_count(fx.tl), 0);

	/* Forgetting inside the final report, after a 2xx that ends it. */
	fx.forget_on_prov = false;
	fx.forget_on_final = true;
	send_req(&udp_peer, "INVITE", br);
	feed(&udp_peer, mkresp(txt, 200, "INVITE", br));
	assert_int_equal(fx.nresp, 2);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
	/* ... and inside a timeout report. */
	send_req(&udp_peer, "OPTIONS", br);
	clock_to(32000 + 32000);
	assert_int_equal(fx.nresp, 3);
	assert_int_equal(fx.resp_err[2], ETIMEDOUT);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
	/* Forgotten before anything arrives: the timeout is silent. */
	fx.forget_on_final = false;
	send_req(&udp_peer, "OPTIONS", br);
	sip_tsx_forget(fx.ct);
	clock_to(64000 + 32000);
	assert_int_equal(fx.nresp, 3);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
}

static void test_send_in_callback(void **state)
{
	(void)state;
	char br[32];
	/* On a 2xx (transaction ends around the callback). */
	fx.send_on_final = true;
	send_req(&udp_peer, "INVITE", br);
	feed(&udp_peer, mkresp(txt, 200, "INVITE", br));
	assert_int_equal(fx.nested_rc, 0);
	assert_non_null(fx.nested_ct);
	assert_int_equal(sip_tsx_count(fx.tl), 1);
	assert_int_equal(fx.nsent, 2);
	struct sip_msg *bye = sent_msg(1);
	assert_true(pl_eq(bye->method, PL("BYE")));
	sip_msg_free(bye);
	/* On a timeout. */
	fx.send_on_final = true;
	send_req(&udp_peer, "OPTIONS", br);
	clock_to(32000);
	assert_int_equal(fx.nested_rc, 0);
	/* BYE timed out at 32000 too, then OPTIONS, whose callback sent a
	 * new BYE: exactly one left. */
	assert_int_equal(sip_tsx_count(fx.tl), 1);
	/* On a non-2xx to INVITE over TCP, where the transaction ends at
	 * once. */
	fx.send_on_final = true;
	send_req(&tcp_peer, "INVITE", br);
	feed(&tcp_peer, mkresp(txt, 603, "INVITE", br));
	assert_int_equal(fx.nested_rc, 0);
	assert_int_equal(sip_tsx_count(fx.tl), 2);
	clock_to(32000 + 32000);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
}

int main(void)
{
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_branch_and_token),
		cmocka_unit_test_setup_teardown(test_ict_udp_retransmit_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ict_tcp_no_retransmit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ict_provisional_then_486_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ict_non2xx_in_calling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ict_2xx_terminates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ict_tcp_486, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nict_udp_retransmit_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nict_proceeding_t2_and_timer_k, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nict_tcp_final, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nict_custom_timers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ict_custom_timers_d, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_in_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_in_callback, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
