/*
 * Client transactions, RFC 3261 17.1. INVITE: Calling (Timer A
 * retransmits, doubling from T1; Timer B gives up at 64*T1) -> Proceeding
 * -> Completed on 3xx-6xx, which the layer ACKs itself (17.1.1.3) and
 * re-ACKs on every copy until Timer D -> Terminated; a 2xx terminates at
 * once, its ACK being the dialog's. Non-INVITE: Trying (Timer E doubling
 * up to T2; Timer F at 64*T1) -> Proceeding (E at T2) -> Completed (Timer K
 * absorbs response copies) -> Terminated. Reliable transports skip A and E
 * and have zero D and K.
 *
 * Responses match per 17.1.3: top Via branch + CSeq method. The request
 * text is kept inside the transaction object (one allocation); it is parsed
 * when sent, to learn the key, and again only to build an ACK.
 */
#include "tsx_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/sbuf.h"

static const struct pl m_ack = { "ACK", 3 };
static const struct pl m_invite = { "INVITE", 6 };

static struct sip_tsx *client_find(const struct sip_tsx_layer *tl, struct pl branch,
				   struct pl method)
{
	size_t h = tsx_hash_branch(tl, branch);
	for (struct sip_tsx *t = tsx_first(tl, h); t; t = tsx_next(t)) {
		if (!t->server && pl_eq(t->branch, branch) &&
		    pl_eq(t->method, method))
			return t;
	}
	return NULL;
}

/* Reports to the TU unless forgotten. A final report is the last one.
 * Returns false when ct ended meanwhile (do not touch it). */
static bool notify(struct sip_tsx *ct, const struct sip_msg *m, int err, bool final)
{
	sip_tsx_resp_h *h = ct->h;
	void *arg = ct->arg;
	if (final)
		ct->h = NULL;
	if (!h)
		return ct->state != TSX_TERMINATED;
	tsx_hold(ct);
	h(m, err, arg);
	return tsx_release(ct);
}

/* Ends ct and tells the TU why (Timer B/F or a transport error). */
static void fail(struct sip_tsx *ct, int err)
{
	tsx_hold(ct);
	tsx_terminate(ct);
	notify(ct, NULL, err, true);
	tsx_release(ct);
}

/* --- ACK for non-2xx (17.1.1.3) ------------------------------------------ */

/* Request-URI, Call-ID, From, CSeq number, the top Via and the Route set
 * come from the original request, To (with the UAS tag) from the response. */
static int build_ack(struct sip_tsx *ct, const struct sip_msg *resp)
{
	struct sip_msg *req;
	struct sbuf b;
	int err = sip_msg_parse(&req, ct->req_buf, ct->req_len);
	if (err)
		return err;
	const struct sip_hdr *via = sip_msg_hdr(req, SIP_HDR_VIA);
	const struct sip_hdr *from = sip_msg_hdr(req, SIP_HDR_FROM);
	const struct sip_hdr *to = sip_msg_hdr(resp, SIP_HDR_TO);
	if (!via || !from || !to) {
		err = EBADMSG;
		goto out;
	}
	sbuf_init(&b);
	/* values copied as bytes: a quoted NUL must not cut a header short */
	sbuf_adds(&b, "ACK ");
	sbuf_addpl(&b, req->ruri_raw);
	sbuf_adds(&b, " SIP/2.0\r\nVia: ");
	sbuf_addpl(&b, via->value);
	sbuf_adds(&b, "\r\n");
	for (const struct sip_hdr *r = sip_msg_hdr(req, SIP_HDR_ROUTE); r;
	     r = sip_msg_hdr_next(req, SIP_HDR_ROUTE, r)) {
		sbuf_adds(&b, "Route: ");
		sbuf_addpl(&b, r->value);
		sbuf_adds(&b, "\r\n");
	}
	sbuf_adds(&b, "Max-Forwards: 70\r\nFrom: ");
	sbuf_addpl(&b, from->value);
	sbuf_adds(&b, "\r\nTo: ");
	sbuf_addpl(&b, to->value);
	sbuf_adds(&b, "\r\nCall-ID: ");
	sbuf_addpl(&b, req->call_id);
	sbuf_printf(&b, "\r\nCSeq: %u ACK\r\nContent-Length: 0\r\n\r\n", (unsigned)req->cseq.num);
	if (b.err) {
		err = b.err;
		sbuf_free(&b);
		goto out;
	}
	free(ct->last);
	ct->last = b.p;
	ct->last_len = b.len;
out:
	sip_msg_free(req);
	return err;
}

/* --- timers -------------------------------------------------------------- */

/* Timer A (INVITE, Calling) or E (non-INVITE, Trying or Proceeding). */
static void on_retx(void *arg)
{
	struct sip_tsx *ct = arg;
	const struct sip_tsx_timers *tm = &ct->tl->tm;

	if (ct->invite) {
		if (ct->state != TSX_CALLING)
			return;
		ct->retx_ms *= 2;
	} else if (ct->state == TSX_TRYING) {
		ct->retx_ms = 2 * ct->retx_ms < tm->t2 ? 2 * ct->retx_ms : tm->t2;
	} else if (ct->state == TSX_PROCEEDING) {
		ct->retx_ms = tm->t2;
	} else {
		return;
	}
	tsx_timer_start(ct, &ct->t_retx, ct->retx_ms, on_retx);
	tsx_hold(ct);
	int err = tsx_send(ct, ct->req_buf, ct->req_len);
	if (err && ct->state != TSX_TERMINATED && ct->state != TSX_COMPLETED)
		fail(ct, err); /* 17.1.4 */
	tsx_release(ct);
}

/* Timer B/F before a final response; Timer D/K after it. */
static void on_end(void *arg)
{
	struct sip_tsx *ct = arg;
	if (ct->state == TSX_COMPLETED) {
		tsx_terminate(ct);
		return;
	}
	log_info(TSX_TAG, "client %.*s %.*s: no final response (Timer %s)",
		 tsx_loglen(ct->method), ct->method.p, tsx_loglen(ct->branch), ct->branch.p,
		 ct->invite ? "B" : "F");
	fail(ct, ETIMEDOUT);
}

/* --- responses ----------------------------------------------------------- */

static void final_response(struct sip_tsx *ct, const struct sip_msg *m)
{
	const struct sip_tsx_timers *tm = &ct->tl->tm;

	tsx_hold(ct);
	loop_timer_cancel(&ct->t_retx);
	loop_timer_cancel(&ct->t_end);
	if (ct->invite && m->status < 300) {
		tsx_terminate(ct);
		notify(ct, m, 0, true);
		tsx_release(ct);
		return;
	}
	ct->state = TSX_COMPLETED;
	if (ct->reliable) {
		tsx_terminate(ct); /* D and K are zero */
	} else {
		/* D must outlast the server's Timer H (RFC 3261 17.1.1.2: at
		 * least 32 s), whatever our own T1 is. */
		uint64_t wait = ct->invite ? (64ull * tm->t1 > 32000 ? 64ull * tm->t1 : 32000)
					   : tm->t4;
		if (tsx_timer_start(ct, &ct->t_end, wait, on_end))
			tsx_terminate(ct);
	}
	if (ct->invite) {
		int err = build_ack(ct, m);
		if (err)
			log_warn(TSX_TAG, "INVITE %.*s: cannot build ACK for %u: %s",
				 tsx_loglen(ct->branch), ct->branch.p, m->status, strerror(err));
		else
			tsx_send(ct, ct->last, ct->last_len);
	}
	notify(ct, m, 0, true);
	tsx_release(ct);
}

static void response(struct sip_tsx *ct, const struct sip_msg *m)
{
	switch (ct->state) {
	case TSX_CALLING:
	case TSX_TRYING:
	case TSX_PROCEEDING:
		if (m->status >= 200) {
			final_response(ct, m);
			return;
		}
		ct->state = TSX_PROCEEDING;
		if (ct->invite) {
			/* No more retransmissions; Timer B only guards Calling. */
			loop_timer_cancel(&ct->t_retx);
			loop_timer_cancel(&ct->t_end);
		}
		notify(ct, m, 0, false);
		return;
	case TSX_COMPLETED:
		/* A copy of the final response: re-ACK (INVITE), else absorb. */
		if (ct->invite && m->status >= 300 && ct->last)
			tsx_send(ct, ct->last, ct->last_len);
		return;
	default:
		return;
	}
}

void tsx_client_recv(struct sip_tsx_layer *tl, struct sip_msg *m, const struct sip_peer *from)
{
	struct sip_tsx *ct = NULL;
	if (m->status >= 100 && m->status <= 699 && tsx_has_cookie(m->via.branch))
		ct = client_find(tl, m->via.branch, m->cseq.method);
	if (!ct && tl->stray_h) /* e.g. a retransmitted 2xx to our INVITE */
		tl->stray_h(m, from, tl->stray_arg);
	else if (!ct)
		log_debug(TSX_TAG, "stray response %u %.*s %.*s dropped", m->status,
			  tsx_loglen(m->cseq.method), m->cseq.method.p,
			  tsx_loglen(m->via.branch), m->via.branch.p);
	else
		response(ct, m);
	sip_msg_free(m);
}

/* --- the TU's side ------------------------------------------------------- */

int sip_tsx_send_request(struct sip_tsx_layer *tl, const struct sip_peer *to,
			 const char *data, size_t len,
			 sip_tsx_resp_h *h, void *arg, struct sip_tsx **out)
{
	const struct sip_tsx_timers *tm;
	struct sip_msg *m;
	struct sip_tsx *ct;
	int err;

	if (!tl || !to || !data || !len)
		return EINVAL;
	tm = &tl->tm;
	err = sip_msg_parse(&m, data, len);
	if (err)
		return err;
	/* ACK has no transaction; a branch without the cookie could not be
	 * told apart from RFC 2543 traffic by the peer. */
	if (!m->is_request || m->error || pl_eq(m->method, m_ack) ||
	    !tsx_has_cookie(m->via.branch)) {
		err = EINVAL;
		goto out;
	}
	if (client_find(tl, m->via.branch, m->method)) {
		err = EEXIST;
		goto out;
	}
	ct = calloc(1, sizeof(*ct) + len + 1 + m->via.branch.l + 1 + m->method.l + 1);
	if (!ct) {
		err = ENOMEM;
		goto out;
	}
	char *p = ct->data;
	memcpy(p, data, len);
	ct->req_buf = p;
	ct->req_len = len;
	p += len + 1;
	memcpy(p, m->via.branch.p, m->via.branch.l);
	ct->branch = (struct pl){ p, m->via.branch.l };
	p += m->via.branch.l + 1;
	memcpy(p, m->method.p, m->method.l);
	ct->method = (struct pl){ p, m->method.l };

	ct->tl = tl;
	ct->peer = *to;
	ct->reliable = sip_tp_reliable(to->tp);
	ct->invite = pl_eq(m->method, m_invite);
	ct->state = ct->invite ? TSX_CALLING : TSX_TRYING;
	ct->h = h;
	ct->arg = arg;
	loop_timer_init(&ct->t_retx);
	loop_timer_init(&ct->t_end);
	err = tsx_timer_start(ct, &ct->t_end, 64ull * tm->t1, on_end);
	if (!err && !ct->reliable) {
		ct->retx_ms = tm->t1;
		err = tsx_timer_start(ct, &ct->t_retx, ct->retx_ms, on_retx);
	}
	if (err) {
		tsx_free(ct);
		goto out;
	}
	sip_msg_free(m);
	m = NULL;
	tsx_link(ct, tsx_hash_branch(tl, ct->branch));
	log_debug(TSX_TAG, "client %.*s %.*s created", tsx_loglen(ct->method), ct->method.p,
		  tsx_loglen(ct->branch), ct->branch.p);

	tsx_hold(ct);
	err = tsx_send(ct, ct->req_buf, ct->req_len);
	if (err) {
		ct->h = NULL; /* the TU learns it from our return value */
		tsx_terminate(ct);
	}
	/* A send that loops back into the layer may already have completed
	 * the transaction; then the TU has had its final report and gets
	 * NULL here. */
	bool alive = tsx_release(ct);
	if (!err && out)
		*out = alive ? ct : NULL;
out:
	if (m)
		sip_msg_free(m);
	return err;
}

void sip_tsx_forget(struct sip_tsx *ct)
{
	if (ct && !ct->server)
		ct->h = NULL;
}
