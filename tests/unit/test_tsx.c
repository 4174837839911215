/*
 * Unit tests for SIP transactions (core/sip/tsx_*.c): all four state
 * machines against RFC 3261 section 17 with exact timings. A real struct
 * loop runs on its fake clock, stepped one millisecond at a time so every
 * timer fires at its own deadline; a fake send function records each
 * message with the peer and the loop time. Messages are real SIP text
 * parsed by sip_msg_parse, so these also check what goes on the wire.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/base/log.h"
#include "../../core/base/loop.h"
#include "../../core/sip/msg.h"
#include "../../core/sip/tsx.h"

/* --- fixture ------------------------------------------------------------- */

struct sent {
	struct sip_peer to;
	char *data;
	size_t len;
	uint64_t at; /* ms since the test's start */
};

struct fx {
	struct loop *loop;
	struct sip_tsx_layer *tl;
	uint64_t base; /* loop time at the test's 0 ms */
	uint64_t now;  /* ms since base */

	struct sent *sent;
	size_t nsent, capsent;
	int send_err;  /* returned by the fake send when set */

	/* server TU */
	int nreq;
	int nack;      /* requests handed up with st == NULL (ACK) */
	struct sip_tsx *st;
	uint16_t auto_status; /* reply from inside req_h when set */
	int auto_rc;
	bool auto_drop;       /* sip_tsx_drop from inside req_h */

	/* client TU */
	struct sip_tsx *ct;
	int nresp;
	uint16_t resp_status[64];
	int resp_err[64];
	uint64_t resp_at[64];
	bool forget_on_prov;
	bool forget_on_final;
	bool send_on_final;
	int nested_rc;
	struct sip_tsx *nested_ct;
};

static struct fx fx;

static struct sip_peer udp_peer;
static struct sip_peer udp_peer2;
static struct sip_peer tcp_peer;

static void mkpeer(struct sip_peer *p, enum sip_tp tp, const char *ip, uint16_t port)
{
	struct sockaddr_in *sa = (struct sockaddr_in *)&p->addr;
	memset(p, 0, sizeof(*p));
	p->tp = tp;
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	inet_pton(AF_INET, ip, &sa->sin_addr);
	p->alen = sizeof(*sa);
	p->conn_id = tp == SIP_TP_UDP ? 0 : 7;
	p->local_fd = -1;
}

static int fake_send(const struct sip_peer *to, const char *data, size_t len, void *arg)
{
	struct fx *f = arg;
	if (f->send_err)
		return f->send_err;
	if (f->nsent == f->capsent) {
		size_t n = f->capsent ? f->capsent * 2 : 64;
		struct sent *p = realloc(f->sent, n * sizeof(*p));
		assert_non_null(p);
		f->sent = p;
		f->capsent = n;
	}
	struct sent *s = &f->sent[f->nsent++];
	s->to = *to;
	s->data = malloc(len + 1);
	assert_non_null(s->data);
	memcpy(s->data, data, len);
	s->data[len] = '\0';
	s->len = len;
	s->at = loop_now(f->loop) - f->base;
	return 0;
}

static void req_h(struct sip_tsx *st, const struct sip_msg *msg, const struct sip_peer *from,
		  void *arg)
{
	struct fx *f = arg;
	(void)from;
	assert_non_null(msg);
	if (!st) {
		f->nack++;
		return;
	}
	assert_ptr_equal(sip_tsx_request(st), msg);
	f->nreq++;
	f->st = st;
	if (f->auto_status)
		f->auto_rc = sip_tsx_reply(st, f->auto_status, NULL, NULL);
	if (f->auto_drop)
		sip_tsx_drop(st);
}

static void resp_h(const struct sip_msg *msg, int err, void *arg);

static int setup_timers(void **state, const struct sip_tsx_timers *tm)
{
	(void)state;
	memset(&fx, 0, sizeof(fx));
	mkpeer(&udp_peer, SIP_TP_UDP, "192.0.2.1", 5060);
	mkpeer(&udp_peer2, SIP_TP_UDP, "192.0.2.3", 5060);
	mkpeer(&tcp_peer, SIP_TP_TCP, "192.0.2.2", 5070);
	assert_int_equal(loop_alloc(&fx.loop), 0);
	loop_advance(fx.loop, 0); /* fake clock from here */
	fx.base = loop_now(fx.loop);
	assert_int_equal(sip_tsx_layer_alloc(&fx.tl, fx.loop, tm, fake_send, &fx, req_h, &fx), 0);
	return 0;
}

static int setup(void **state)
{
	return setup_timers(state, NULL);
}

static int teardown(void **state)
{
	(void)state;
	sip_tsx_layer_free(fx.tl);
	assert_int_equal(loop_timer_count(fx.loop), 0);
	loop_free(fx.loop);
	for (size_t i = 0; i < fx.nsent; i++)
		free(fx.sent[i].data);
	free(fx.sent);
	return 0;
}

/* Steps the fake clock to ms (since the test's start) one ms at a time, so
 * each timer fires at its deadline and restarts from it. */
static void clock_to(uint64_t ms)
{
	while (fx.now < ms) {
		fx.now++;
		loop_advance(fx.loop, fx.base + fx.now);
	}
}

static struct sip_msg *parse_or_die(const char *text)
{
	struct sip_msg *m = NULL;
	int err = sip_msg_parse(&m, text, strlen(text));
	if (err)
		fail_msg("cannot parse (%d):\n%s", err, text);
	assert_non_null(m);
	return m;
}

static void feed_to(struct sip_tsx_layer *tl, const struct sip_peer *from, const char *text)
{
	sip_tsx_layer_recv(tl, parse_or_die(text), from);
}

static void feed(const struct sip_peer *from, const char *text)
{
	feed_to(fx.tl, from, text);
}

static struct sip_msg *sent_msg(size_t i)
{
	assert_true(i < fx.nsent);
	return parse_or_die(fx.sent[i].data);
}

static uint16_t sent_status(size_t i)
{
	struct sip_msg *m = sent_msg(i);
	uint16_t sc = m->is_request ? 0 : m->status;
	sip_msg_free(m);
	return sc;
}

static bool peer_eq(const struct sip_peer *a, const struct sip_peer *b)
{
	return a->tp == b->tp && a->conn_id == b->conn_id &&
	       memcmp(&a->addr, &b->addr, sizeof(struct sockaddr_in)) == 0;
}

/* --- message text -------------------------------------------------------- */

static char txt[4096];
static char txt2[4096];

/* A request from the peer at 192.0.2.1 (server-side tests). branch NULL
 * makes an RFC 2543 request; to_tag NULL leaves To without a tag. */
static const char *mkreq_in(char *buf, const char *method, const char *tp, const char *sentby,
			    const char *branch, uint32_t cseq, const char *cseq_method,
			    const char *to_tag)
{
	char via_branch[128] = "";
	char tag[64] = "";
	if (branch)
		snprintf(via_branch, sizeof(via_branch), ";branch=%s", branch);
	if (to_tag)
		snprintf(tag, sizeof(tag), ";tag=%s", to_tag);
	snprintf(buf, 4096,
		 "%s sip:bob@biloxi.example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/%s %s%s\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
		 "To: Bob <sip:bob@biloxi.example.com>%s\r\n"
		 "Call-ID: 3848276298220188511@atlanta.example.com\r\n"
		 "CSeq: %u %s\r\n"
		 "Contact: <sip:alice@192.0.2.1>\r\n"
		 "Content-Length: 0\r\n\r\n",
		 method, tp, sentby, via_branch, tag, cseq, cseq_method ? cseq_method : method);
	return buf;
}

static const char *req_in(const char *method, const char *branch)
{
	return mkreq_in(txt, method, "UDP", "192.0.2.1:5060", branch, 1, NULL, NULL);
}

static const char *ack_in(const char *branch, const char *to_tag)
{
	return mkreq_in(txt, "ACK", "UDP", "192.0.2.1:5060", branch, 1, NULL, to_tag);
}

/* A request we send (client-side tests), with a Route set for the ACK. */
static const char *mkreq_out(char *buf, const char *method, const char *branch)
{
	snprintf(buf, 4096,
		 "%s sip:bob@biloxi.example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=%s\r\n"
		 "Route: <sip:p1.example.com;lr>\r\n"
		 "Route: <sip:p2.example.com;lr>\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:carol@chicago.example.com>;tag=8321234356\r\n"
		 "To: <sip:bob@biloxi.example.com>\r\n"
		 "Call-ID: 1j9FpLxk3uxtm8tn@192.0.2.10\r\n"
		 "CSeq: 7 %s\r\n"
		 "Contact: <sip:carol@192.0.2.10>\r\n"
		 "Content-Length: 0\r\n\r\n",
		 method, branch, method);
	return buf;
}

/* A response to a request made by mkreq_out. */
static const char *mkresp(char *buf, uint16_t status, const char *method, const char *branch)
{
	snprintf(buf, 4096,
		 "SIP/2.0 %u %s\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=%s;received=192.0.2.10\r\n"
		 "From: <sip:carol@chicago.example.com>;tag=8321234356\r\n"
		 "To: <sip:bob@biloxi.example.com>%s\r\n"
		 "Call-ID: 1j9FpLxk3uxtm8tn@192.0.2.10\r\n"
		 "CSeq: 7 %s\r\n"
		 "Content-Length: 0\r\n\r\n",
		 status, sip_reason_phrase(status), branch, status > 100 ? ";tag=314159" : "",
		 method);
	return buf;
}

static void resp_h(const struct sip_msg *msg, int err, void *arg)
{
	struct fx *f = arg;
	assert_true(f->nresp < 64);
	f->resp_status[f->nresp] = msg ? msg->status : 0;
	f->resp_err[f->nresp] = err;
	f->resp_at[f->nresp] = loop_now(f->loop) - f->base;
	f->nresp++;
	if (msg)
		assert_int_equal(err, 0);
	else
		assert_int_not_equal(err, 0);
	bool final = !msg || msg->status >= 200;
	if (!final && f->forget_on_prov)
		sip_tsx_forget(f->ct);
	if (final && f->forget_on_final)
		sip_tsx_forget(f->ct);
	if (final && f->send_on_final) {
		char br[32];
		sip_tsx_branch(br, sizeof(br));
		f->send_on_final = false;
		mkreq_out(txt2, "BYE", br);
		f->nested_rc = sip_tsx_send_request(f->tl, &udp_peer, txt2, strlen(txt2), resp_h,
						    f, &f->nested_ct);
	}
}

static struct sip_tsx *send_req(const struct sip_peer *to, const char *method, char *branch)
{
	struct sip_tsx *ct = NULL;
	sip_tsx_branch(branch, 32);
	mkreq_out(txt, method, branch);
	assert_int_equal(sip_tsx_send_request(fx.tl, to, txt, strlen(txt), resp_h, &fx, &ct), 0);
	assert_non_null(ct);
	fx.ct = ct;
	return ct;
}

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
 * it once the client's Timer F has fired. */
static void test_nist_unanswered_guard(void **state)
{
	(void)state;
	feed(&udp_peer, req_in("MESSAGE", "z9hG4bKguard"));
	feed(&tcp_peer, mkreq_in(txt, "MESSAGE", "TCP", "192.0.2.2:5070", "z9hG4bKguard2", 1,
				 NULL, NULL));
	assert_int_equal(fx.nreq, 2);
	clock_to(31999);
	assert_int_equal(sip_tsx_count(fx.tl), 2);
	clock_to(32000);
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
	/* Once answered, the INVITE is still the CANCEL's target (the TU
	 * answers 200 to the CANCEL and nothing else). */
	assert_ptr_equal(sip_tsx_cancel_target(fx.tl, sip_tsx_request(cancel)), inv);
	/* A CANCEL for an unknown INVITE has no target. */
	struct sip_msg *m = parse_or_die(req_in("CANCEL", "z9hG4bKother"));
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

/* --- TU callbacks that re-enter ------------------------------------------ */

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
		cmocka_unit_test_setup_teardown(test_stray_responses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_sent_by_and_method, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rfc2543_matching, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_in_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_in_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_in_req_h_tcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_layer_free_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_back_to_back, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
