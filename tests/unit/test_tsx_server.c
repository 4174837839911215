/*
 * Unit tests for SIP server transactions (core/sip/tsx_server.c): the
 * INVITE and non-INVITE server state machines against RFC 3261 17.2 with
 * exact timings (Timers G, H, I, J and the automatic 100 Trying, on UDP,
 * TCP and an IPv6 peer), absorption of request and ACK copies, the To tag
 * the layer adds, raw replies, sip_tsx_drop, the guard that ends a
 * non-INVITE the TU never answers, and a TU that replies from inside its
 * request handler. Fixture: tsx_harness.h.
 */
#include "tsx_harness.h"

/* --- non-INVITE server --------------------------------------------------- */

static void test_nist_absorb_and_timer_j(void **state)
{
	(void)state;
	const char *br = "z9hG4bKnist1";
	fx.auto_status = 200;
	feed(&udp_peer, req_in("REGISTER", br));
	assert_int_equal(fx.nreq, 1);
	assert_int_equal(fx.auto_rc, 0);
	assert_int_equal(fx.nsent, 1);
	assert_true(peer_eq(&fx.sent[0].to, &udp_peer));
	struct sip_msg *r = sent_msg(0);
	assert_false(r->is_request);
	assert_int_equal(r->status, 200);
	assert_true(pl_eq(r->via.branch, pl_from(br)));
	assert_int_equal(r->to.tag.l, 16); /* the layer added a tag */
	assert_true(pl_eq(r->cseq.method, PL("REGISTER")));
	sip_msg_free(r);
	assert_int_equal(sip_tsx_count(fx.tl), 1);

	/* The retransmission gets the identical response; the TU sees
	 * nothing. */
	clock_to(500);
	feed(&udp_peer, req_in("REGISTER", br));
	assert_int_equal(fx.nreq, 1);
	assert_int_equal(fx.nsent, 2);
	assert_int_equal(fx.sent[1].len, fx.sent[0].len);
	assert_memory_equal(fx.sent[1].data, fx.sent[0].data, fx.sent[0].len);
	/* No retransmission of its own. */
	clock_to(31999);
	assert_int_equal(fx.nsent, 2);
	/* Timer J: 64*T1 after the final. */
	assert_int_equal(sip_tsx_count(fx.tl), 1);
	clock_to(32000);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
	/* Now the same request is new again. */
	feed(&udp_peer, req_in("REGISTER", br));
	assert_int_equal(fx.nreq, 2);
}

static void test_nist_trying_then_proceeding(void **state)
{
	(void)state;
	const char *br = "z9hG4bKnist2";
	feed(&udp_peer, req_in("OPTIONS", br));
	assert_int_equal(fx.nreq, 1);
	struct sip_tsx *st = fx.st;
	/* Trying: a copy is discarded, nothing to send; no 100 by the layer
	 * for non-INVITE. */
	clock_to(1000);
	feed(&udp_peer, req_in("OPTIONS", br));
	assert_int_equal(fx.nsent, 0);
	assert_int_equal(fx.nreq, 1);

	assert_int_equal(sip_tsx_reply(st, 100, NULL, NULL), 0);
	assert_int_equal(sip_tsx_status(st), 100);
	struct sip_msg *r = sent_msg(0);
	assert_int_equal(r->status, 100);
	assert_int_equal(r->to.tag.l, 0); /* no tag on 100 */
	sip_msg_free(r);
	feed(&udp_peer, req_in("OPTIONS", br));
	assert_int_equal(fx.nsent, 2);
	assert_memory_equal(fx.sent[1].data, fx.sent[0].data, fx.sent[0].len);

	assert_int_equal(sip_tsx_reply(st, 404, "Nobody Here", "Warning: 399 x \"t\"\r\n"), 0);
	assert_int_equal(fx.nsent, 3);
	r = sent_msg(2);
	assert_int_equal(r->status, 404);
	assert_true(pl_eq(r->reason, PL("Nobody Here")));
	assert_non_null(sip_msg_hdr_byname(r, "Warning"));
	sip_msg_free(r);
	/* A second final is refused. */
	assert_int_equal(sip_tsx_reply(st, 200, NULL, NULL), EALREADY);
	feed(&udp_peer, req_in("OPTIONS", br));
	assert_int_equal(fx.nsent, 4);
	assert_memory_equal(fx.sent[3].data, fx.sent[2].data, fx.sent[2].len);
	clock_to(1000 + 32000);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
}

static void test_nist_tcp_timer_j_zero(void **state)
{
	(void)state;
	fx.auto_status = 200;
	feed(&tcp_peer, mkreq_in(txt, "REGISTER", "TCP", "192.0.2.2:5070", "z9hG4bKtcp1", 1,
				 NULL, NULL));
	assert_int_equal(fx.nreq, 1);
	assert_int_equal(fx.nsent, 1);
	assert_true(peer_eq(&fx.sent[0].to, &tcp_peer));
	assert_int_equal(sip_tsx_count(fx.tl), 0);
}

/* A TU that never answers a non-INVITE does not leak it: the layer drops
 * it one T1 after the client's Timer F has fired (a TU relaying it hears
 * its own Timer F first). */
static void test_nist_unanswered_guard(void **state)
{
	(void)state;
	feed(&udp_peer, req_in("MESSAGE", "z9hG4bKguard"));
	feed(&tcp_peer, mkreq_in(txt, "MESSAGE", "TCP", "192.0.2.2:5070", "z9hG4bKguard2", 1,
				 NULL, NULL));
	assert_int_equal(fx.nreq, 2);
	clock_to(32499);
	assert_int_equal(sip_tsx_count(fx.tl), 2);
	clock_to(32500);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
	assert_int_equal(fx.nsent, 0);
}

/* sip_tsx_drop: silence on purpose (a banned source). */
static void test_drop(void **state)
{
	(void)state;
	fx.auto_drop = true;
	feed(&udp_peer, req_in("REGISTER", "z9hG4bKdrop1"));
	feed(&udp_peer, req_in("INVITE", "z9hG4bKdrop2"));
	assert_int_equal(fx.nreq, 2);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
	clock_to(1000);
	assert_int_equal(fx.nsent, 0); /* not even a 100 Trying */
	/* A copy is a new request to the TU, dropped again. */
	feed(&udp_peer, req_in("REGISTER", "z9hG4bKdrop1"));
	assert_int_equal(fx.nreq, 3);
	assert_int_equal(sip_tsx_count(fx.tl), 0);

	/* Dropping after a final changes nothing: copies are still
	 * absorbed until Timer J. */
	fx.auto_drop = false;
	fx.auto_status = 200;
	feed(&udp_peer, req_in("REGISTER", "z9hG4bKdrop3"));
	sip_tsx_drop(fx.st);
	assert_int_equal(sip_tsx_count(fx.tl), 1);
	feed(&udp_peer, req_in("REGISTER", "z9hG4bKdrop3"));
	assert_int_equal(fx.nreq, 4);
	assert_int_equal(fx.nsent, 2);
	/* Dropping later, outside the callback, after a provisional. */
	fx.auto_status = 0;
	feed(&udp_peer, req_in("INVITE", "z9hG4bKdrop4"));
	assert_int_equal(sip_tsx_reply(fx.st, 180, NULL, NULL), 0);
	sip_tsx_drop(fx.st);
	assert_int_equal(sip_tsx_count(fx.tl), 1);
	sip_tsx_drop(NULL);
}

/* --- INVITE server ------------------------------------------------------- */

static void test_ist_auto_100_trying(void **state)
{
	(void)state;
	const char *br = "z9hG4bKist1";
	feed(&udp_peer, req_in("INVITE", br));
	assert_int_equal(fx.nreq, 1);
	struct sip_tsx *st = fx.st;
	clock_to(199);
	assert_int_equal(fx.nsent, 0);
	clock_to(200);
	assert_int_equal(fx.nsent, 1);
	struct sip_msg *r = sent_msg(0);
	assert_int_equal(r->status, 100);
	assert_int_equal(r->to.tag.l, 0);
	assert_true(pl_eq(r->via.branch, pl_from(br)));
	sip_msg_free(r);
	/* The INVITE copy gets the 100 again. */
	clock_to(500);
	feed(&udp_peer, req_in("INVITE", br));
	assert_int_equal(fx.nsent, 2);
	assert_memory_equal(fx.sent[1].data, fx.sent[0].data, fx.sent[0].len);
	assert_int_equal(fx.nreq, 1);

	assert_int_equal(sip_tsx_reply(st, 180, NULL, NULL), 0);
	feed(&udp_peer, req_in("INVITE", br));
	assert_int_equal(fx.nsent, 4);
	assert_int_equal(sent_status(3), 180);
	assert_memory_equal(fx.sent[3].data, fx.sent[2].data, fx.sent[2].len);
	/* Proceeding has no timers of its own. */
	clock_to(100000);
	assert_int_equal(fx.nsent, 4);
	assert_int_equal(sip_tsx_count(fx.tl), 1);
	/* 180 and the final carry the same To tag. */
	assert_int_equal(sip_tsx_reply(st, 486, NULL, NULL), 0);
	struct sip_msg *a = sent_msg(2), *b = sent_msg(4);
	assert_int_equal(b->status, 486);
	assert_int_equal(a->to.tag.l, 16);
	assert_true(pl_eq(a->to.tag, b->to.tag));
	sip_msg_free(a);
	sip_msg_free(b);
}

static void test_ist_no_100_when_answered(void **state)
{
	(void)state;
	fx.auto_status = 180;
	feed(&udp_peer, req_in("INVITE", "z9hG4bKist2"));
	assert_int_equal(fx.nsent, 1);
	assert_int_equal(sent_status(0), 180);
	clock_to(1000);
	assert_int_equal(fx.nsent, 1);
	/* Answered at 150 ms: no 100 either. */
	fx.auto_status = 0;
	feed(&udp_peer, req_in("INVITE", "z9hG4bKist3"));
	clock_to(1150);
	assert_int_equal(sip_tsx_reply(fx.st, 180, NULL, NULL), 0);
	clock_to(1300);
	assert_int_equal(fx.nsent, 2);
	assert_int_equal(sent_status(1), 180);
}

static void test_ist_486_ack_timer_i(void **state)
{
	(void)state;
	const char *br = "z9hG4bKist4";
	fx.auto_status = 486;
	feed(&udp_peer, req_in("INVITE", br));
	assert_int_equal(fx.auto_rc, 0);
	assert_int_equal(fx.nsent, 1);
	struct sip_msg *r = sent_msg(0);
	assert_int_equal(r->status, 486);
	char tag[32];
	pl_strcpy(r->to.tag, tag, sizeof(tag));
	sip_msg_free(r);

	/* Timer G: T1 doubling up to T2. */
	clock_to(12000);
	static const uint64_t at[] = { 0, 500, 1500, 3500, 7500, 11500 };
	assert_int_equal(fx.nsent, 6);
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(fx.sent[i].at, at[i]);
		assert_memory_equal(fx.sent[i].data, fx.sent[0].data, fx.sent[0].len);
	}
	/* An INVITE copy gets the 486 too. */
	feed(&udp_peer, req_in("INVITE", br));
	assert_int_equal(fx.nsent, 7);
	assert_int_equal(fx.nreq, 1);

	/* The ACK is absorbed (not handed up) and stops G. */
	feed(&udp_peer, ack_in(br, tag));
	assert_int_equal(fx.nack, 0);
	clock_to(12000 + 4999);
	assert_int_equal(fx.nsent, 7);
	assert_int_equal(sip_tsx_count(fx.tl), 1);
	/* Confirmed: ACK and INVITE copies are silently absorbed. */
	feed(&udp_peer, ack_in(br, tag));
	feed(&udp_peer, req_in("INVITE", br));
	assert_int_equal(fx.nsent, 7);
	assert_int_equal(fx.nack, 0);
	assert_int_equal(fx.nreq, 1);
	/* Timer I: T4 after the ACK. */
	clock_to(12000 + 5000);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
	/* A late ACK copy now goes to the TU, which ignores it. */
	feed(&udp_peer, ack_in(br, tag));
	assert_int_equal(fx.nack, 1);
}

static void test_ist_timer_h(void **state)
{
	(void)state;
	fx.auto_status = 603;
	feed(&udp_peer, req_in("INVITE", "z9hG4bKist5"));
	clock_to(31999);
	static const uint64_t at[] = { 0, 500, 1500, 3500, 7500, 11500, 15500,
				       19500, 23500, 27500, 31500 };
	assert_int_equal(fx.nsent, 11);
	for (size_t i = 0; i < 11; i++)
		assert_int_equal(fx.sent[i].at, at[i]);
	assert_int_equal(sip_tsx_count(fx.tl), 1);
	clock_to(32000);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
	clock_to(40000);
	assert_int_equal(fx.nsent, 11);
}

static void test_ist_2xx_terminates(void **state)
{
	(void)state;
	const char *br = "z9hG4bKist6";
	feed(&udp_peer, req_in("INVITE", br));
	assert_int_equal(sip_tsx_reply(fx.st, 180, NULL, NULL), 0);
	assert_int_equal(sip_tsx_reply(fx.st, 200, NULL, "Contact: <sip:bob@192.0.2.4>\r\n"), 0);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
	assert_int_equal(fx.nsent, 2);
	struct sip_msg *r = sent_msg(1);
	assert_int_equal(r->status, 200);
	assert_non_null(sip_msg_hdr(r, SIP_HDR_CONTACT));
	char tag[32];
	pl_strcpy(r->to.tag, tag, sizeof(tag));
	sip_msg_free(r);
	/* The 2xx is not retransmitted by the layer. */
	clock_to(40000);
	assert_int_equal(fx.nsent, 2);
	/* The ACK for a 2xx goes to the TU, without a transaction. */
	feed(&udp_peer, ack_in("z9hG4bKack2xx", tag));
	assert_int_equal(fx.nack, 1);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
}

static void test_ist_tcp_486_ack(void **state)
{
	(void)state;
	fx.auto_status = 486;
	feed(&tcp_peer, mkreq_in(txt, "INVITE", "TCP", "192.0.2.2:5070", "z9hG4bKist7", 1, NULL,
				 NULL));
	assert_int_equal(fx.nsent, 1);
	clock_to(20000);
	assert_int_equal(fx.nsent, 1); /* no Timer G */
	assert_int_equal(sip_tsx_count(fx.tl), 1);
	feed(&tcp_peer, mkreq_in(txt, "ACK", "TCP", "192.0.2.2:5070", "z9hG4bKist7", 1, NULL,
				 "x"));
	assert_int_equal(fx.nack, 0);
	assert_int_equal(sip_tsx_count(fx.tl), 0); /* Timer I is zero */
}

static void test_ist_raw_reply(void **state)
{
	(void)state;
	feed(&udp_peer, req_in("INVITE", "z9hG4bKist8"));
	static const char raw[] = "SIP/2.0 180 Ringing\r\nX: raw\r\n\r\n";
	assert_int_equal(sip_tsx_reply_raw(fx.st, 180, raw, sizeof(raw) - 1), 0);
	assert_int_equal(fx.nsent, 1);
	assert_int_equal(fx.sent[0].len, sizeof(raw) - 1);
	assert_memory_equal(fx.sent[0].data, raw, sizeof(raw) - 1);
	clock_to(300);
	assert_int_equal(fx.nsent, 1); /* the TU answered: no 100 */
	assert_int_equal(sip_tsx_reply_raw(fx.st, 99, raw, sizeof(raw) - 1), EINVAL);
	assert_int_equal(sip_tsx_reply_raw(fx.st, 180, NULL, 0), EINVAL);
}

static void test_ist_ipv6_peer(void **state)
{
	(void)state;
	struct sip_peer p6;
	struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&p6.addr;
	memset(&p6, 0, sizeof(p6));
	p6.tp = SIP_TP_UDP;
	sa->sin6_family = AF_INET6;
	sa->sin6_port = htons(5080);
	inet_pton(AF_INET6, "2001:db8::1", &sa->sin6_addr);
	p6.alen = sizeof(*sa);
	p6.local_fd = -1;
	fx.auto_status = 486;
	feed(&p6, mkreq_in(txt, "INVITE", "UDP", "[2001:db8::1]:5080", "z9hG4bKv6", 1, NULL, NULL));
	assert_int_equal(fx.nsent, 1);
	assert_int_equal(fx.sent[0].to.addr.ss_family, AF_INET6);
	struct sip_msg *r = sent_msg(0);
	assert_int_equal(r->status, 486);
	assert_true(r->via.ipv6);
	assert_int_equal(r->via.port, 5080);
	sip_msg_free(r);
	/* The copy and the ACK match on the IPv6 sent-by too. */
	feed(&p6, mkreq_in(txt, "INVITE", "UDP", "[2001:db8::1]:5080", "z9hG4bKv6", 1, NULL, NULL));
	assert_int_equal(fx.nsent, 2);
	feed(&p6, mkreq_in(txt, "ACK", "UDP", "[2001:db8::1]:5080", "z9hG4bKv6", 1, NULL, "x"));
	assert_int_equal(fx.nack, 0);
	assert_int_equal(fx.nreq, 1);
	clock_to(5000);
	assert_int_equal(fx.nsent, 2);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
}

/* --- a server TU that replies from inside its request handler ------------ */

static void req_reply_twice_h(struct sip_tsx *st, const struct sip_msg *msg,
			      const struct sip_peer *from, void *arg)
{
	struct fx *f = arg;
	(void)msg;
	(void)from;
	f->nreq++;
	/* Over TCP the 200 ends st at once; the layer must not be upset. */
	assert_int_equal(sip_tsx_reply(st, 100, NULL, NULL), 0);
	assert_int_equal(sip_tsx_reply(st, 200, NULL, NULL), 0);
}

static void test_reply_in_req_h_tcp(void **state)
{
	(void)state;
	sip_tsx_layer_free(fx.tl);
	assert_int_equal(sip_tsx_layer_alloc(&fx.tl, fx.loop, NULL, fake_send, &fx,
					     req_reply_twice_h, &fx), 0);
	feed(&tcp_peer, mkreq_in(txt, "INVITE", "TCP", "192.0.2.2:5070", "z9hG4bKrr1", 1, NULL,
				 NULL));
	feed(&tcp_peer, mkreq_in(txt, "MESSAGE", "TCP", "192.0.2.2:5070", "z9hG4bKrr2", 1, NULL,
				 NULL));
	assert_int_equal(fx.nreq, 2);
	assert_int_equal(fx.nsent, 4);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
	clock_to(1000);
	assert_int_equal(fx.nsent, 4);
}

int main(void)
{
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nist_absorb_and_timer_j, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nist_trying_then_proceeding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nist_tcp_timer_j_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nist_unanswered_guard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ist_auto_100_trying, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ist_no_100_when_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ist_486_ack_timer_i, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ist_timer_h, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ist_2xx_terminates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ist_tcp_486_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ist_raw_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ist_ipv6_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_in_req_h_tcp, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
