/*
 * Unit tests for the SIP transaction layer itself (core/sip/tsx_layer.c):
 * matching requests and responses to transactions (RFC 3261 17.1.3 and
 * 17.2.3: branch, sent-by, method, CANCEL targets, the RFC 2543 rules for
 * old-style branches), stray responses, argument and send errors, freeing
 * a layer with transactions pending, a hash table grown to thousands of
 * transactions, and two layers wired back to back so that responses and
 * ACKs re-enter the sender mid-call. Fixture: tsx_harness.h.
 */
#include "tsx_harness.h"

/* --- matching ------------------------------------------------------------ */

static void test_stray_responses(void **state)
{
	(void)state;
	char br[32];
	send_req(&udp_peer, "INVITE", br);
	/* Unknown branch, missing cookie, wrong CSeq method: all dropped. */
	feed(&udp_peer, mkresp(txt, 200, "INVITE", "z9hG4bKnosuchbranch"));
	feed(&udp_peer, mkresp(txt, 200, "INVITE", "1234"));
	feed(&udp_peer, mkresp(txt, 200, "BYE", br));
	assert_int_equal(fx.nresp, 0);
	assert_int_equal(fx.nsent, 1);
	assert_int_equal(sip_tsx_count(fx.tl), 1);
	/* The right one still works. */
	feed(&udp_peer, mkresp(txt, 180, "INVITE", br));
	assert_int_equal(fx.nresp, 1);
	/* A response with no transactions at all. */
	sip_tsx_layer_free(fx.tl);
	assert_int_equal(sip_tsx_layer_alloc(&fx.tl, fx.loop, NULL, fake_send, &fx, req_h, &fx), 0);
	feed(&udp_peer, mkresp(txt, 200, "INVITE", br));
	assert_int_equal(fx.nresp, 1);
}

static void test_match_sent_by_and_method(void **state)
{
	(void)state;
	const char *br = "z9hG4bKsame";
	fx.auto_status = 0;
	feed(&udp_peer, req_in("INVITE", br));
	struct sip_tsx *inv = fx.st;
	assert_int_equal(fx.nreq, 1);
	/* Same branch from another sent-by: another transaction. */
	feed(&udp_peer2, mkreq_in(txt, "INVITE", "UDP", "192.0.2.3:5060", br, 1, NULL, NULL));
	assert_int_equal(fx.nreq, 2);
	assert_ptr_not_equal(fx.st, inv);
	/* Same branch and sent-by, different port: another one. */
	feed(&udp_peer, mkreq_in(txt, "INVITE", "UDP", "192.0.2.1:5062", br, 1, NULL, NULL));
	assert_int_equal(fx.nreq, 3);
	/* Same branch and sent-by over another transport: another one. */
	feed(&tcp_peer, mkreq_in(txt, "INVITE", "TCP", "192.0.2.1:5060", br, 1, NULL, NULL));
	assert_int_equal(fx.nreq, 4);
	/* Sent-by hosts compare without case. */
	feed(&udp_peer, mkreq_in(txt, "INVITE", "UDP", "PC33.atlanta.example.com", br, 1, NULL,
				 NULL));
	assert_int_equal(fx.nreq, 5);
	feed(&udp_peer, mkreq_in(txt, "INVITE", "udp", "pc33.ATLANTA.example.com", br, 1, NULL,
				 NULL));
	assert_int_equal(fx.nreq, 5);
	/* CANCEL shares the INVITE's branch but is its own transaction,
	 * and finds the INVITE. */
	feed(&udp_peer, req_in("CANCEL", br));
	assert_int_equal(fx.nreq, 6);
	struct sip_tsx *cancel = fx.st;
	assert_ptr_not_equal(cancel, inv);
	assert_ptr_equal(sip_tsx_cancel_target(fx.tl, sip_tsx_request(cancel)), inv);
	assert_int_equal(sip_tsx_status(inv), 0);
	assert_int_equal(sip_tsx_reply(cancel, 200, NULL, NULL), 0);
	assert_int_equal(sip_tsx_reply(inv, 487, NULL, NULL), 0);
	assert_int_equal(sip_tsx_status(inv), 487);
	assert_int_equal(sip_tsx_count(fx.tl), 6);
	/* A completed non-INVITE keeps its key, not its request. */
	assert_null(sip_tsx_request(cancel));
	/* Once answered, the INVITE is still the target of a CANCEL (the TU
	 * answers 200 to the CANCEL and nothing else). */
	struct sip_msg *m = parse_or_die(req_in("CANCEL", br));
	assert_ptr_equal(sip_tsx_cancel_target(fx.tl, m), inv);
	sip_msg_free(m);
	/* A CANCEL for an unknown INVITE has no target. */
	m = parse_or_die(req_in("CANCEL", "z9hG4bKother"));
	assert_null(sip_tsx_cancel_target(fx.tl, m));
	sip_msg_free(m);
}

static void test_rfc2543_matching(void **state)
{
	(void)state;
	/* No branch at all, and a branch without the magic cookie. */
	feed(&udp_peer, req_in("INVITE", NULL));
	assert_int_equal(fx.nreq, 1);
	struct sip_tsx *st = fx.st;
	feed(&udp_peer, req_in("INVITE", NULL)); /* copy: absorbed */
	assert_int_equal(fx.nreq, 1);
	assert_int_equal(sip_tsx_count(fx.tl), 1);
	/* A new CSeq is a new transaction. */
	feed(&udp_peer, mkreq_in(txt, "INVITE", "UDP", "192.0.2.1:5060", NULL, 2, NULL, NULL));
	assert_int_equal(fx.nreq, 2);
	struct sip_tsx *st2 = fx.st;

	assert_int_equal(sip_tsx_reply(st, 486, NULL, NULL), 0);
	size_t n = fx.nsent;
	struct sip_msg *r = sent_msg(n - 1);
	char tag[32];
	pl_strcpy(r->to.tag, tag, sizeof(tag));
	sip_msg_free(r);
	/* An ACK with the wrong To tag is not this transaction's. */
	feed(&udp_peer, ack_in(NULL, "wrong"));
	assert_int_equal(fx.nack, 1);
	/* The right ACK confirms: G stops, I ends it. */
	feed(&udp_peer, ack_in(NULL, tag));
	assert_int_equal(fx.nack, 1);
	clock_to(5000);
	/* Only st2's 100 Trying (at 200 ms): no Timer G after the ACK. */
	assert_int_equal(fx.nsent, n + 1);
	assert_int_equal(sent_status(n), 100);
	assert_int_equal(sip_tsx_count(fx.tl), 1); /* st2 */
	assert_int_equal(sip_tsx_reply(st2, 200, NULL, NULL), 0);
	assert_int_equal(sip_tsx_count(fx.tl), 0);

	/* After a raw reply the layer does not know the To tag, so an ACK
	 * matching everything else is taken. */
	feed(&udp_peer, mkreq_in(txt, "INVITE", "UDP", "192.0.2.1:5060", NULL, 3, NULL, NULL));
	static const char raw[] = "SIP/2.0 603 Decline\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(sip_tsx_reply_raw(fx.st, 603, raw, sizeof(raw) - 1), 0);
	feed(&udp_peer, mkreq_in(txt, "ACK", "UDP", "192.0.2.1:5060", NULL, 3, NULL, "any"));
	assert_int_equal(fx.nack, 1);
	clock_to(10000);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
	assert_int_equal(fx.nsent, n + 3); /* no Timer G after the ACK */
	n++;

	/* Non-INVITE with an old-style branch. */
	fx.auto_status = 200;
	feed(&udp_peer, req_in("OPTIONS", "1234abcd"));
	feed(&udp_peer, req_in("OPTIONS", "1234abcd"));
	assert_int_equal(fx.nreq, 4);
	assert_int_equal(fx.nsent, n + 4);
	assert_int_equal(sent_status(n + 2), 200);
	assert_memory_equal(fx.sent[n + 3].data, fx.sent[n + 2].data, fx.sent[n + 2].len);
}

/* --- layer lifetime and errors ------------------------------------------- */

static void test_layer_free_pending(void **state)
{
	(void)state;
	char br[32];
	send_req(&udp_peer, "INVITE", br);
	send_req(&udp_peer, "OPTIONS", br);
	send_req(&tcp_peer, "INVITE", br);
	feed(&udp_peer, req_in("INVITE", "z9hG4bKp1"));
	feed(&udp_peer, req_in("OPTIONS", "z9hG4bKp2"));
	fx.auto_status = 486;
	feed(&udp_peer, req_in("INVITE", "z9hG4bKp3"));
	assert_int_equal(sip_tsx_count(fx.tl), 6);
	clock_to(1000);
	int nresp = fx.nresp;
	sip_tsx_layer_free(fx.tl);
	fx.tl = NULL;
	assert_int_equal(loop_timer_count(fx.loop), 0);
	clock_to(100000);
	assert_int_equal(fx.nresp, nresp);
	sip_tsx_layer_free(NULL);
}

static void test_errors(void **state)
{
	(void)state;
	char br[32];
	struct sip_tsx *ct = (struct sip_tsx *)&ct;

	sip_tsx_branch(br, sizeof(br));
	mkreq_out(txt, "OPTIONS", br);
	assert_int_equal(sip_tsx_send_request(NULL, &udp_peer, txt, strlen(txt), resp_h, &fx, &ct),
			 EINVAL);
	assert_int_equal(sip_tsx_send_request(fx.tl, NULL, txt, strlen(txt), resp_h, &fx, &ct),
			 EINVAL);
	assert_int_equal(sip_tsx_send_request(fx.tl, &udp_peer, txt, 0, resp_h, &fx, &ct), EINVAL);
	/* ACK has no transaction; a branch without the cookie is refused;
	 * so is a response or garbage. */
	mkreq_out(txt, "ACK", br);
	assert_int_equal(sip_tsx_send_request(fx.tl, &udp_peer, txt, strlen(txt), resp_h, &fx, &ct),
			 EINVAL);
	mkreq_out(txt, "OPTIONS", "abc123");
	assert_int_equal(sip_tsx_send_request(fx.tl, &udp_peer, txt, strlen(txt), resp_h, &fx, &ct),
			 EINVAL);
	mkresp(txt, 200, "OPTIONS", br);
	assert_int_equal(sip_tsx_send_request(fx.tl, &udp_peer, txt, strlen(txt), resp_h, &fx, &ct),
			 EINVAL);
	assert_int_not_equal(sip_tsx_send_request(fx.tl, &udp_peer, "garbage", 7, resp_h, &fx, &ct),
			     0);
	assert_ptr_equal(ct, (struct sip_tsx *)&ct); /* untouched on failure */
	assert_int_equal(fx.nsent, 0);

	/* The same branch and method twice. */
	mkreq_out(txt, "OPTIONS", br);
	assert_int_equal(sip_tsx_send_request(fx.tl, &udp_peer, txt, strlen(txt), resp_h, &fx, &ct),
			 0);
	assert_int_equal(sip_tsx_send_request(fx.tl, &udp_peer, txt, strlen(txt), resp_h, &fx, NULL),
			 EEXIST);
	assert_int_equal(sip_tsx_count(fx.tl), 1);

	/* A failing first send: error returned, no transaction, no report. */
	fx.send_err = ENETUNREACH;
	struct sip_tsx *ct2 = NULL;
	sip_tsx_branch(br, sizeof(br));
	mkreq_out(txt, "INVITE", br);
	assert_int_equal(sip_tsx_send_request(fx.tl, &udp_peer, txt, strlen(txt), resp_h, &fx, &ct2),
			 ENETUNREACH);
	assert_null(ct2);
	assert_int_equal(sip_tsx_count(fx.tl), 1);
	/* A failing retransmission ends the transaction with the error
	 * (17.1.4). */
	clock_to(500);
	assert_int_equal(fx.nresp, 1);
	assert_int_equal(fx.resp_err[0], ENETUNREACH);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
	fx.send_err = 0;

	/* Server side: a failing send is reported, the state still moves. */
	feed(&udp_peer, req_in("OPTIONS", "z9hG4bKe1"));
	fx.send_err = ENOBUFS;
	assert_int_equal(sip_tsx_reply(fx.st, 200, NULL, NULL), ENOBUFS);
	fx.send_err = 0;
	size_t n = fx.nsent;
	feed(&udp_peer, req_in("OPTIONS", "z9hG4bKe1"));
	assert_int_equal(fx.nsent, n + 1); /* the copy gets the stored 200 */
	assert_int_equal(sent_status(n), 200);

	/* Bad arguments on the server side. */
	assert_int_equal(sip_tsx_reply(NULL, 200, NULL, NULL), EINVAL);
	feed(&udp_peer, req_in("OPTIONS", "z9hG4bKe2"));
	assert_int_equal(sip_tsx_reply(fx.st, 700, NULL, NULL), EINVAL);
	assert_int_equal(sip_tsx_reply(fx.st, 42, NULL, NULL), EINVAL);
	assert_null(sip_tsx_request(NULL));
	assert_null(sip_tsx_peer(NULL));
	assert_int_equal(sip_tsx_count(NULL), 0);
	assert_true(peer_eq(sip_tsx_peer(fx.st), &udp_peer));
	sip_tsx_forget(NULL);
	sip_tsx_layer_recv(fx.tl, NULL, &udp_peer);
	assert_int_equal(sip_tsx_layer_alloc(NULL, fx.loop, NULL, fake_send, &fx, req_h, &fx),
			 EINVAL);
}

/* Enough transactions to grow the hash table several times; each one is
 * still found for its retransmission and its ACK. */
static void test_many_transactions(void **state)
{
	(void)state;
	enum { N = 3000 };
	char br[64];
	fx.auto_status = 486;
	sip_tsx_layer_set_limits(fx.tl, 0, 0); /* one source, no caps */
	for (int i = 0; i < N; i++) {
		snprintf(br, sizeof(br), "z9hG4bKmany%d", i);
		feed(&udp_peer, req_in("INVITE", br));
	}
	assert_int_equal(fx.nreq, N);
	assert_int_equal(sip_tsx_count(fx.tl), N);
	assert_int_equal(fx.nsent, N);
	for (int i = 0; i < N; i++) {
		snprintf(br, sizeof(br), "z9hG4bKmany%d", i);
		feed(&udp_peer, req_in("INVITE", br));
		assert_int_equal(fx.nsent, N + 1 + (size_t)i);
		assert_memory_equal(fx.sent[N + i].data, fx.sent[i].data, fx.sent[i].len);
		feed(&udp_peer, ack_in(br, "t"));
	}
	assert_int_equal(fx.nreq, N);
	assert_int_equal(fx.nack, 0);
	clock_to(5000);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
	assert_int_equal(fx.nsent, 2 * N); /* ACKs came before Timer G */
}

/* Issue 16: an unauthenticated INVITE is challenged once and costs no
 * transaction; the challenge is not repeated, a copy of the INVITE gets a
 * new one, and the ACK reaches the TU's ACK path (which ignores it). */
static void test_stateless_challenge(void **state)
{
	(void)state;
	fx.auto_status = 407;
	fx.auto_stateless = true;
	feed(&udp_peer, req_in("INVITE", "z9hG4bKsl1"));
	assert_int_equal(fx.nreq, 1);
	assert_int_equal(fx.nsent, 1);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
	assert_int_equal(sip_tsx_held(fx.tl), 0);
	clock_to(40000); /* no Timer G retransmission of the 407 */
	assert_int_equal(fx.nsent, 1);
	feed(&udp_peer, ack_in("z9hG4bKsl1", "t"));
	assert_int_equal(fx.nack, 1);
	assert_int_equal(fx.nsent, 1);
	feed(&udp_peer, req_in("REGISTER", "z9hG4bKsl2"));
	assert_int_equal(fx.nsent, 2);
	assert_int_equal(sip_tsx_count(fx.tl), 0);
}

/* Past the per-source cap a new request gets a stateless 503 with
 * Retry-After, while another source still gets through; a completed
 * non-INVITE (only its key kept) no longer counts. */
static void test_caps(void **state)
{
	(void)state;
	char br[64];
	sip_tsx_layer_set_limits(fx.tl, 3, 5);
	for (int i = 0; i < 4; i++) {
		snprintf(br, sizeof(br), "z9hG4bKcap%d", i);
		feed(&udp_peer, req_in("INVITE", br));
	}
	assert_int_equal(fx.nreq, 3);
	assert_int_equal(sip_tsx_held(fx.tl), 3);
	assert_int_equal(sip_tsx_refused(fx.tl), 1);
	assert_int_equal(fx.nsent, 1);
	struct sip_msg *r = sent_msg(0);
	assert_int_equal(r->status, 503);
	assert_non_null(strstr(fx.sent[0].data, "Retry-After:"));
	sip_msg_free(r);
	feed(&udp_peer2, req_in("INVITE", "z9hG4bKcapother"));
	assert_int_equal(fx.nreq, 4);
	/* total cap: 4 held, one more fits, then 503 for everyone */
	feed(&udp_peer2, req_in("INVITE", "z9hG4bKcapother2"));
	feed(&udp_peer2, req_in("INVITE", "z9hG4bKcapother3"));
	assert_int_equal(fx.nreq, 5);
	assert_int_equal(sip_tsx_refused(fx.tl), 2);
	/* answered non-INVITEs keep no request: they free their place */
	sip_tsx_layer_set_limits(fx.tl, 0, 0);
	fx.auto_status = 200;
	feed(&udp_peer, req_in("OPTIONS", "z9hG4bKcapopt"));
	assert_int_equal(sip_tsx_held(fx.tl), 5);
}

/* --- two layers wired back to back --------------------------------------- */

/* Each layer's send parses the bytes and feeds them straight into the
 * other layer, so responses and ACKs arrive while the sender is still in
 * the middle of its own call: the re-entrancy a real loop never produces
 * but the layer promises to survive. */
struct side {
	struct sip_tsx_layer *tl;
	struct side *other;
	struct sip_peer self; /* how the other side sees us */
	int nsent;
	int nreq;
	uint16_t reply;
	int nresp;
	uint16_t last_status;
	int last_err;
};

static int loop_send(const struct sip_peer *to, const char *data, size_t len, void *arg)
{
	struct side *s = arg;
	struct sip_msg *m;
	(void)to;
	s->nsent++;
	if (sip_msg_parse(&m, data, len))
		return EBADMSG;
	sip_tsx_layer_recv(s->other->tl, m, &s->self);
	return 0;
}

static void loop_req_h(struct sip_tsx *st, const struct sip_msg *msg,
		       const struct sip_peer *from, void *arg)
{
	struct side *s = arg;
	(void)msg;
	(void)from;
	if (!st)
		return;
	s->nreq++;
	if (s->reply)
		assert_int_equal(sip_tsx_reply(st, s->reply, NULL, NULL), 0);
}

static void loop_resp_h(const struct sip_msg *msg, int err, void *arg)
{
	struct side *s = arg;
	s->nresp++;
	s->last_status = msg ? msg->status : 0;
	s->last_err = err;
}

static void back_to_back(enum sip_tp tp, uint16_t reply, const char *method)
{
	struct side a = { 0 }, b = { 0 };
	char br[32];
	a.other = &b;
	b.other = &a;
	mkpeer(&a.self, tp, "192.0.2.10", 5060);
	mkpeer(&b.self, tp, "192.0.2.20", 5060);
	b.reply = reply;
	assert_int_equal(sip_tsx_layer_alloc(&a.tl, fx.loop, NULL, loop_send, &a, loop_req_h, &a), 0);
	assert_int_equal(sip_tsx_layer_alloc(&b.tl, fx.loop, NULL, loop_send, &b, loop_req_h, &b), 0);

	struct sip_tsx *ct = (struct sip_tsx *)&ct;
	sip_tsx_branch(br, sizeof(br));
	mkreq_out(txt, method, br);
	assert_int_equal(sip_tsx_send_request(a.tl, &b.self, txt, strlen(txt), loop_resp_h, &a, &ct),
			 0);
	assert_int_equal(b.nreq, 1);
	assert_int_equal(a.nresp, 1);
	assert_int_equal(a.last_status, reply);
	bool invite = strcmp(method, "INVITE") == 0;
	if (invite && reply >= 300)
		assert_int_equal(a.nsent, 2); /* request + ACK */
	else
		assert_int_equal(a.nsent, 1);
	assert_int_equal(b.nsent, 1);
	if (sip_tp_reliable(tp) || (invite && reply < 300)) {
		/* Everything ended inside the first call. */
		assert_null(ct);
		assert_int_equal(sip_tsx_count(a.tl), 0);
		assert_int_equal(sip_tsx_count(b.tl), 0);
	} else {
		assert_non_null(ct);
		clock_to(fx.now + 32000);
		assert_int_equal(sip_tsx_count(a.tl), 0);
		assert_int_equal(sip_tsx_count(b.tl), 0);
		/* The ACK reached B before Timer G, so no retransmissions. */
		assert_int_equal(b.nsent, 1);
		assert_int_equal(a.nsent, invite ? 2 : 1);
	}
	assert_int_equal(a.nresp, 1);
	sip_tsx_layer_free(a.tl);
	sip_tsx_layer_free(b.tl);
}

static void test_back_to_back(void **state)
{
	(void)state;
	back_to_back(SIP_TP_UDP, 486, "INVITE");
	back_to_back(SIP_TP_TCP, 486, "INVITE");
	back_to_back(SIP_TP_UDP, 200, "INVITE");
	back_to_back(SIP_TP_TCP, 200, "INVITE");
	back_to_back(SIP_TP_UDP, 200, "OPTIONS");
	back_to_back(SIP_TP_TCP, 404, "OPTIONS");
}

int main(void)
{
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stray_responses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_sent_by_and_method, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rfc2543_matching, setup, teardown),
		cmocka_unit_test_setup_teardown(test_layer_free_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stateless_challenge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_back_to_back, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
