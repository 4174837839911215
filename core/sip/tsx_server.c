/*
 * Server transactions, RFC 3261 17.2. INVITE: Proceeding -> Completed
 * (3xx-6xx; Timer G retransmits the response, Timer H gives up waiting
 * for the ACK) -> Confirmed (ACK seen; Timer I absorbs ACK copies) ->
 * Terminated, while a 2xx terminates at once because the TU/dialog owns its
 * retransmission; a 100 Trying goes out after 200 ms if the TU has not
 * answered (17.2.1). Non-INVITE: Trying -> Proceeding -> Completed (Timer J
 * absorbs request copies) -> Terminated. Retransmitted requests get the
 * last response again, byte for byte.
 *
 * Requests match per 17.2.3: branch + sent-by + method (ACK finds its
 * INVITE), or for RFC 2543 peers, whose branch lacks the magic cookie,
 * Request-URI + tags + Call-ID + CSeq + top Via.
 */
#include "tsx_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/sbuf.h"

static const struct pl m_ack = { "ACK", 3 };
static const struct pl m_invite = { "INVITE", 6 };

/* --- matching (17.2.3) --------------------------------------------------- */

static struct pl top_via_value(const struct sip_msg *m)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_VIA);
	return h ? h->value : PL_NULL;
}

/* A completed non-INVITE waits 32 s (Timer J) only to absorb copies of
 * its request: it needs the match key and the last response, not the
 * parsed request. Keeping ~100 bytes instead of the message is what lets
 * thousands of registrations a second fit in memory. On ENOMEM the
 * request simply stays. */
static void compact(struct sip_tsx *st)
{
	if (st->invite || st->rfc2543 || !st->req || st->state != TSX_COMPLETED)
		return;
	size_t n = st->branch.l + st->method.l + st->via_host.l + st->via_transport.l;
	char *k = malloc(n ? n : 1);
	if (!k)
		return;
	char *p = k;
	struct pl *parts[] = { &st->branch, &st->method, &st->via_host, &st->via_transport };
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (parts[i]->l)
			memcpy(p, parts[i]->p, parts[i]->l);
		parts[i]->p = p;
		p += parts[i]->l;
	}
	st->key = k;
	sip_msg_free(st->req);
	st->req = NULL;
	tsx_src_release(st);
}

static bool match_3261(const struct sip_tsx *t, const struct sip_msg *m, struct pl method)
{
	if (!t->server || t->rfc2543)
		return false;
	/* Branches are opaque tokens compared as is; hosts are caseless.
	 * The Via transport is not part of sent-by, but a true copy always
	 * repeats it, and checking it keeps a UDP and a TCP request that
	 * share a (badly chosen) branch apart. */
	if (!pl_eq(t->branch, m->via.branch) || t->via_port != m->via.port ||
	    !pl_caseeq(t->via_host, m->via.host) ||
	    !pl_caseeq(t->via_transport, m->via.transport))
		return false;
	if (pl_eq(method, m_ack))
		return t->invite;
	return pl_eq(method, t->method);
}

static bool match_2543(const struct sip_tsx *t, const struct sip_msg *m, struct pl method)
{
	const struct sip_msg *r = t->req;
	if (!t->server || !t->rfc2543)
		return false;
	/* Byte comparison of the Request-URI and top Via: a retransmission
	 * repeats them exactly, and RFC 2543 peers are too rare to justify
	 * the full URI equality rules here. */
	if (r->cseq.num != m->cseq.num || !pl_eq(r->call_id, m->call_id) ||
	    !pl_eq(r->from.tag, m->from.tag) || !pl_eq(r->ruri_raw, m->ruri_raw) ||
	    !pl_eq(top_via_value(r), top_via_value(m)))
		return false;
	if (pl_eq(method, m_ack)) {
		if (!t->invite)
			return false;
		/* The ACK carries the To tag of our response. We know it when
		 * we made it (sip_tsx_reply) or the request brought it; after
		 * sip_tsx_reply_raw we do not, and accept any. */
		if (t->to_tag[0])
			return pl_eq(m->to.tag, pl_from(t->to_tag));
		return !r->to.tag.l || pl_eq(m->to.tag, r->to.tag);
	}
	return pl_eq(method, r->method) && pl_eq(r->to.tag, m->to.tag);
}

static struct sip_tsx *server_find(const struct sip_tsx_layer *tl, const struct sip_msg *m,
				   struct pl method)
{
	bool cookie = tsx_has_cookie(m->via.branch);
	size_t h = cookie ? tsx_hash_branch(tl, m->via.branch)
			  : tsx_hash_2543(tl, m->call_id, m->cseq.num);
	for (struct sip_tsx *t = tsx_first(tl, h); t; t = tsx_next(t)) {
		if (cookie ? match_3261(t, m, method) : match_2543(t, m, method))
			return t;
	}
	return NULL;
}

struct sip_tsx *sip_tsx_cancel_target(struct sip_tsx_layer *tl, const struct sip_msg *cancel)
{
	if (!tl || !cancel || !cancel->is_request)
		return NULL;
	return server_find(tl, cancel, m_invite);
}

/* --- responses ----------------------------------------------------------- */

static void peer_host(const struct sip_peer *p, char *host, size_t cap, uint16_t *port)
{
	host[0] = '\0';
	*port = 0;
	if (p->addr.ss_family == AF_INET) {
		const struct sockaddr_in *sa = (const struct sockaddr_in *)&p->addr;
		inet_ntop(AF_INET, &sa->sin_addr, host, (socklen_t)cap);
		*port = ntohs(sa->sin_port);
	} else if (p->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sa = (const struct sockaddr_in6 *)&p->addr;
		inet_ntop(AF_INET6, &sa->sin6_addr, host, (socklen_t)cap);
		*port = ntohs(sa->sin6_port);
	}
}

static void on_retx(void *arg);
static void on_end(void *arg);

/* Records buf (ours from now on) as the last response, sends it and moves
 * the state machine. The state changes and timers are set before sending
 * because a send that loops back into the layer may already deliver the
 * ACK. */
static int respond(struct sip_tsx *st, uint16_t status, char *buf, size_t len)
{
	const struct sip_tsx_timers *tm = &st->tl->tm;
	int err;

	free(st->last);
	st->last = buf;
	st->last_len = len;
	st->status = status;
	loop_timer_cancel(&st->t_retx); /* the pending 100 Trying, if any */

	tsx_hold(st);
	if (status < 200) {
		st->state = TSX_PROCEEDING;
		err = tsx_send(st, buf, len);
	} else if (st->invite && status < 300) {
		err = tsx_send(st, buf, len);
		tsx_terminate(st);
	} else if (st->invite) {
		st->state = TSX_COMPLETED;
		if (!st->reliable) {
			st->retx_ms = tm->t1;
			tsx_timer_start(st, &st->t_retx, st->retx_ms, on_retx);
		}
		if (tsx_timer_start(st, &st->t_end, 64ull * tm->t1, on_end))
			tsx_terminate(st); /* better than waiting forever */
		err = tsx_send(st, buf, len);
	} else {
		st->state = TSX_COMPLETED;
		if (!st->reliable && tsx_timer_start(st, &st->t_end, 64ull * tm->t1, on_end))
			tsx_terminate(st);
		err = tsx_send(st, buf, len);
		if (st->reliable)
			tsx_terminate(st); /* Timer J is zero */
		else
			compact(st);
	}
	tsx_release(st);
	return err;
}

static int check_reply(const struct sip_tsx *st, uint16_t status)
{
	if (!st || !st->server || status < 100 || status > 699)
		return EINVAL;
	if (st->state != TSX_TRYING && st->state != TSX_PROCEEDING)
		return EALREADY;
	return 0;
}

int sip_tsx_reply_raw(struct sip_tsx *st, uint16_t status, const char *data, size_t len)
{
	int err = check_reply(st, status);
	if (err)
		return err;
	if (!data || !len)
		return EINVAL;
	char *buf = malloc(len + 1);
	if (!buf)
		return ENOMEM;
	memcpy(buf, data, len);
	buf[len] = '\0';
	return respond(st, status, buf, len);
}

static int build_reply(struct sip_tsx *st, uint16_t status, const char *reason,
		       const char *extra_hdrs, struct sbuf *b)
{
	char host[INET6_ADDRSTRLEN];
	uint16_t port;
	const char *tag = NULL;

	/* One tag per transaction, so 180 and 486 agree (RFC 3261 8.2.6.2). */
	if (status > 100 && !st->req->to.tag.l) {
		if (!st->to_tag[0])
			sip_random_token(st->to_tag, sizeof(st->to_tag), sizeof(st->to_tag) - 1);
		tag = st->to_tag;
	}
	peer_host(&st->peer, host, sizeof(host), &port);

	/* Sized once for the usual case so building costs one allocation,
	 * which then becomes the stored copy of the last response. */
	size_t cap = st->req->len + 512 + (extra_hdrs ? strlen(extra_hdrs) : 0);
	sbuf_init(b);
	b->p = malloc(cap);
	if (!b->p)
		return ENOMEM;
	b->cap = cap;
	b->p[0] = '\0';
	sip_msg_build_response(b, st->req, status, reason ? reason : sip_reason_phrase(status),
			       tag, host, port);
	if (extra_hdrs)
		sbuf_adds(b, extra_hdrs);
	sip_msg_build_end(b, NULL, NULL, 0);
	if (b->err) {
		int err = b->err;
		sbuf_free(b);
		return err;
	}
	return 0;
}

/* A final or provisional answer the transaction may still give, built
 * (the stateful and the stateless paths differ only in what follows). */
static int reply_checked(struct sip_tsx *st, uint16_t status, const char *reason,
			 const char *extra_hdrs, struct sbuf *b)
{
	int err = check_reply(st, status);
	return err ? err : build_reply(st, status, reason, extra_hdrs, b);
}

int sip_tsx_reply_stateless(struct sip_tsx *st, uint16_t status, const char *reason,
			    const char *extra_hdrs)
{
	struct sbuf b;
	int err = reply_checked(st, status, reason, extra_hdrs, &b);
	if (err)
		return err;
	tsx_hold(st);
	err = tsx_send(st, b.p, b.len);
	sbuf_free(&b);
	tsx_terminate(st);
	tsx_release(st);
	return err;
}

/* A request refused before it has a transaction (a cap is reached): one
 * 503 built straight from it, then forgotten. */
static void refuse(struct sip_tsx_layer *tl, const struct sip_msg *m, const struct sip_peer *from)
{
	char host[INET6_ADDRSTRLEN], tag[17];
	uint16_t port;
	struct sbuf b;

	tl->refused++;
	peer_host(from, host, sizeof(host), &port);
	sip_random_token(tag, sizeof(tag), sizeof(tag) - 1);
	sbuf_init(&b);
	sip_msg_build_response(&b, m, 503, "Service Unavailable", m->to.tag.l ? NULL : tag,
			       host, port);
	sbuf_adds(&b, "Retry-After: 5\r\n");
	sip_msg_build_end(&b, NULL, NULL, 0);
	if (!b.err)
		tl->send(from, b.p, b.len, tl->send_arg);
	sbuf_free(&b);
	if (tl->refused == 1 || tl->refused % 1000 == 0)
		log_warn(TSX_TAG, "transaction cap reached (%zu held, at most %zu per source, %zu in "
			 "all): %s answered 503 (%llu so far)", tl->held, tl->max_per_src,
			 tl->max_held, host, (unsigned long long)tl->refused);
}

int sip_tsx_reply(struct sip_tsx *st, uint16_t status, const char *reason,
		  const char *extra_hdrs)
{
	struct sbuf b;
	int err = reply_checked(st, status, reason, extra_hdrs, &b);
	if (err)
		return err;
	return respond(st, status, b.p, b.len);
}

/* --- timers -------------------------------------------------------------- */

/* t_retx: in Proceeding the 100 Trying (INVITE only), in Completed Timer G. */
static void on_retx(void *arg)
{
	struct sip_tsx *st = arg;
	const struct sip_tsx_timers *tm = &st->tl->tm;

	if (st->state == TSX_PROCEEDING && !st->last) {
		struct sbuf b;
		int err = build_reply(st, 100, "Trying", NULL, &b);
		if (err) {
			log_warn(TSX_TAG, "INVITE %.*s: cannot build 100 Trying: %s",
				 tsx_loglen(st->branch), st->branch.p, strerror(err));
			return;
		}
		respond(st, 100, b.p, b.len);
		return;
	}
	if (st->state != TSX_COMPLETED)
		return;
	st->retx_ms = 2 * st->retx_ms < tm->t2 ? 2 * st->retx_ms : tm->t2;
	tsx_timer_start(st, &st->t_retx, st->retx_ms, on_retx);
	tsx_hold(st);
	tsx_send(st, st->last, st->last_len);
	tsx_release(st);
}

/* t_end: Timer H or I (INVITE), J (non-INVITE), or the guard on a
 * non-INVITE the TU never answered. */
static void on_end(void *arg)
{
	struct sip_tsx *st = arg;
	if (st->invite && st->state == TSX_COMPLETED)
		log_info(TSX_TAG, "INVITE %.*s: no ACK for %u (Timer H)",
			 tsx_loglen(st->branch), st->branch.p, st->status);
	else if (st->state == TSX_TRYING || st->state == TSX_PROCEEDING)
		log_warn(TSX_TAG, "%.*s %.*s: never answered, dropped", tsx_loglen(st->method),
			 st->method.p, tsx_loglen(st->branch), st->branch.p);
	tsx_terminate(st);
}

/* --- received requests --------------------------------------------------- */

/* A request that matched st: an ACK or a retransmission. */
static void absorb(struct sip_tsx *st, const struct sip_msg *m)
{
	if (pl_eq(m->method, m_ack)) {
		if (st->state != TSX_COMPLETED)
			return; /* Confirmed: a copy; Proceeding: bogus */
		st->state = TSX_CONFIRMED;
		loop_timer_cancel(&st->t_retx);
		loop_timer_cancel(&st->t_end);
		if (st->reliable || tsx_timer_start(st, &st->t_end, st->tl->tm.t4, on_end))
			tsx_terminate(st); /* Timer I is zero */
		return;
	}
	log_debug(TSX_TAG, "%.*s %.*s: retransmission absorbed", tsx_loglen(st->method),
		  st->method.p, tsx_loglen(st->branch), st->branch.p);
	/* Trying has nothing to send yet (17.2.2); Confirmed only waits. */
	if ((st->state == TSX_PROCEEDING || st->state == TSX_COMPLETED) && st->last)
		tsx_send(st, st->last, st->last_len);
}

void tsx_server_recv(struct sip_tsx_layer *tl, struct sip_msg *m, const struct sip_peer *from)
{
	if (!m->method.l || !m->via.host.l || !m->call_id.l) {
		log_debug(TSX_TAG, "request without method, sent-by or Call-ID dropped");
		sip_msg_free(m);
		return;
	}
	struct sip_tsx *st = server_find(tl, m, m->method);
	if (st) {
		absorb(st, m);
		sip_msg_free(m);
		return;
	}
	if (pl_eq(m->method, m_ack)) {
		/* ACK for a 2xx (or for nothing we know): the TU's business. */
		tl->req_h(NULL, m, from, tl->req_arg);
		sip_msg_free(m);
		return;
	}

	bool over;
	struct tsx_src *src = tsx_src_admit(tl, from, &over);
	if (!src) {
		if (over)
			refuse(tl, m, from);
		else
			log_err(TSX_TAG, "no memory for a server transaction");
		sip_msg_free(m);
		return;
	}
	st = calloc(1, sizeof(*st));
	if (st)
		st->tl = tl;
	if (!st) {
		/* The client retransmits; maybe there is memory then. */
		log_err(TSX_TAG, "no memory for a server transaction");
		struct sip_tsx tmp = { .tl = tl, .src = src };
		tsx_src_release(&tmp);
		sip_msg_free(m);
		return;
	}
	st->src = src;
	st->tl = tl;
	st->server = true;
	st->req = m;
	st->peer = *from;
	st->reliable = sip_tp_reliable(from->tp);
	st->invite = pl_eq(m->method, m_invite);
	st->rfc2543 = !tsx_has_cookie(m->via.branch);
	st->branch = st->rfc2543 ? m->call_id : m->via.branch;
	st->method = m->method;
	st->via_host = m->via.host;
	st->via_transport = m->via.transport;
	st->via_port = m->via.port;
	st->state = st->invite ? TSX_PROCEEDING : TSX_TRYING;
	loop_timer_init(&st->t_retx);
	loop_timer_init(&st->t_end);
	/* INVITE: the 100 Trying. Non-INVITE: a guard, so a TU that never
	 * answers (or means to stay silent and forgot sip_tsx_drop) cannot
	 * pile up transactions; by 64*T1 the client's Timer F has fired and
	 * no answer could matter. One T1 more: a TU that relayed the request
	 * (the B2BUA's in-dialog INFO/UPDATE) holds st until its own Timer F,
	 * started in the same millisecond, and must get there first, or its
	 * 408 goes to a freed transaction. An INVITE may ring for minutes: no
	 * guard. */
	if (st->invite ? tsx_timer_start(st, &st->t_retx, TSX_TRYING_MS, on_retx)
		       : tsx_timer_start(st, &st->t_end, 65ull * tl->tm.t1, on_end)) {
		tsx_free(st);
		return;
	}
	tsx_link(st, st->rfc2543 ? tsx_hash_2543(tl, m->call_id, m->cseq.num)
				 : tsx_hash_branch(tl, m->via.branch));
	log_debug(TSX_TAG, "server %.*s %.*s created", tsx_loglen(st->method), st->method.p,
		  tsx_loglen(st->branch), st->branch.p);
	/* The TU may answer, and so end st, inside: touch nothing after. */
	tl->req_h(st, m, from, tl->req_arg);
}

void sip_tsx_drop(struct sip_tsx *st)
{
	if (!st || !st->server)
		return;
	/* After a final the timers already end it, and it must stay to
	 * absorb retransmissions. */
	if (st->state == TSX_TRYING || st->state == TSX_PROCEEDING)
		tsx_terminate(st);
}

/* --- accessors ----------------------------------------------------------- */

const struct sip_msg *sip_tsx_request(const struct sip_tsx *st)
{
	return st && st->server ? st->req : NULL;
}

uint16_t sip_tsx_status(const struct sip_tsx *st)
{
	return st && st->server ? st->status : 0;
}
