/*
 * Shared fixture for the SIP transaction tests (test_tsx_client.c,
 * test_tsx_server.c, test_tsx_layer.c). A real struct loop runs on its fake
 * clock, stepped one millisecond at a time so every timer fires at its own
 * deadline; a fake send function records each message with the peer and
 * the loop time; req_h and resp_h play the server and client TU and count
 * what reaches them. Messages are real SIP text parsed by sip_msg_parse.
 * Header-only (static inline) because each test file is its own binary;
 * include it once, from the test's .c file.
 */
#ifndef HF_TESTS_TSX_HARNESS_H
#define HF_TESTS_TSX_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
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
	bool auto_stateless;  /* auto_status sent with sip_tsx_reply_stateless */

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

static inline void mkpeer(struct sip_peer *p, enum sip_tp tp, const char *ip, uint16_t port)
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

static inline int fake_send(const struct sip_peer *to, const char *data, size_t len, void *arg)
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

static inline void req_h(struct sip_tsx *st, const struct sip_msg *msg,
			 const struct sip_peer *from, void *arg)
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
		f->auto_rc = f->auto_stateless
				     ? sip_tsx_reply_stateless(st, f->auto_status, NULL, NULL)
				     : sip_tsx_reply(st, f->auto_status, NULL, NULL);
	if (f->auto_drop)
		sip_tsx_drop(st);
}

static inline void resp_h(const struct sip_msg *msg, int err, void *arg);

static inline int setup_timers(void **state, const struct sip_tsx_timers *tm)
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

static inline int setup(void **state)
{
	return setup_timers(state, NULL);
}

static inline int teardown(void **state)
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
static inline void clock_to(uint64_t ms)
{
	while (fx.now < ms) {
		fx.now++;
		loop_advance(fx.loop, fx.base + fx.now);
	}
}

static inline struct sip_msg *parse_or_die(const char *text)
{
	struct sip_msg *m = NULL;
	int err = sip_msg_parse(&m, text, strlen(text));
	if (err)
		fail_msg("cannot parse (%d):\n%s", err, text);
	assert_non_null(m);
	return m;
}

static inline void feed_to(struct sip_tsx_layer *tl, const struct sip_peer *from,
			   const char *text)
{
	sip_tsx_layer_recv(tl, parse_or_die(text), from);
}

static inline void feed(const struct sip_peer *from, const char *text)
{
	feed_to(fx.tl, from, text);
}

static inline struct sip_msg *sent_msg(size_t i)
{
	assert_true(i < fx.nsent);
	return parse_or_die(fx.sent[i].data);
}

static inline uint16_t sent_status(size_t i)
{
	struct sip_msg *m = sent_msg(i);
	uint16_t sc = m->is_request ? 0 : m->status;
	sip_msg_free(m);
	return sc;
}

static inline bool peer_eq(const struct sip_peer *a, const struct sip_peer *b)
{
	return a->tp == b->tp && a->conn_id == b->conn_id &&
	       memcmp(&a->addr, &b->addr, sizeof(struct sockaddr_in)) == 0;
}

/* --- message text -------------------------------------------------------- */

static char txt[4096];
static char txt2[4096];

/* A request from the peer at 192.0.2.1 (server-side tests). branch NULL
 * makes an RFC 2543 request; to_tag NULL leaves To without a tag. */
static inline const char *mkreq_in(char *buf, const char *method, const char *tp,
				   const char *sentby, const char *branch, uint32_t cseq,
				   const char *cseq_method, const char *to_tag)
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

static inline const char *req_in(const char *method, const char *branch)
{
	return mkreq_in(txt, method, "UDP", "192.0.2.1:5060", branch, 1, NULL, NULL);
}

static inline const char *ack_in(const char *branch, const char *to_tag)
{
	return mkreq_in(txt, "ACK", "UDP", "192.0.2.1:5060", branch, 1, NULL, to_tag);
}

/* A request we send (client-side tests), with a Route set for the ACK. */
static inline const char *mkreq_out(char *buf, const char *method, const char *branch)
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
static inline const char *mkresp(char *buf, uint16_t status, const char *method,
				 const char *branch)
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

static inline void resp_h(const struct sip_msg *msg, int err, void *arg)
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

static inline struct sip_tsx *send_req(const struct sip_peer *to, const char *method, char *branch)
{
	struct sip_tsx *ct = NULL;
	sip_tsx_branch(branch, 32);
	mkreq_out(txt, method, branch);
	assert_int_equal(sip_tsx_send_request(fx.tl, to, txt, strlen(txt), resp_h, &fx, &ct), 0);
	assert_non_null(ct);
	fx.ct = ct;
	return ct;
}

#endif
