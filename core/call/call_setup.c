/*
 * Setting a call up: an INVITE from an extension is authenticated
 * (digest 407, or the extension's trusted source addresses), routed to
 * the number dialled, and forked to every contact of the callee at once.
 * Provisional answers are relayed, the first 2xx wins and the other forks
 * are cancelled; when every fork fails, the caller gets the most telling
 * failure (busy beats everything). CANCEL from the caller and the
 * no-answer timer end the ringing everywhere.
 */
#include "call_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../dialplan/route.h"
#include "../ident/authn.h"
#include "../ident/ext_table.h"
#include "../base/conf.h"
#include "../reg/registrar.h"
#include "../sip/msg.h"
#include "../sip/transport.h"
#include "../sip/tsx.h"

enum { REQ_INVITE = 1, REQ_CANCEL, REQ_ACK_BYE };

/* --- limits ---------------------------------------------------------------- */

static unsigned limit_of(struct call_mgr *m, const struct ext *e)
{
	return e->max_calls > 0 ? (unsigned)e->max_calls : m->d.conf->ext_max_calls;
}

/* --- forks ---------------------------------------------------------------- */

static void fork_failed(struct leg *b, uint16_t status, struct pl reason);
static int fork_to(struct call *c, const char *target, const struct sip_peer *peer,
		   const char *body, size_t body_len);

/* Which failure the caller hears when every fork failed (RFC 3261 16.7
 * step 6, simplified: 6xx and busy first, then the lowest class). */
static void note_status(struct call *c, uint16_t status, struct pl reason)
{
	uint16_t cur = c->best_status;
	bool better;
	if (!cur)
		better = true;
	else if (status >= 600 || status == 486)
		better = cur < 600 && cur != 486;
	else if (cur >= 600 || cur == 486)
		better = false;
	else if (cur == 487 || cur == 408 || cur == 480)
		better = status != 487 && status / 100 <= 4;
	else
		better = status / 100 < cur / 100;
	if (better) {
		c->best_status = status;
		pl_strcpy(reason, c->best_reason, sizeof(c->best_reason));
	}
}

static bool all_forks_done(struct call *c)
{
	for (int i = 0; i < c->nb; i++)
		if (c->b[i]->state != LEG_DONE)
			return false;
	return true;
}

static void on_cancel_resp(struct leg_req *r, const struct sip_msg *resp, int err)
{
	(void)r;
	(void)resp;
	(void)err; /* the 487 of the INVITE is what matters */
}

void call_fork_cancel(struct leg *b)
{
	if (b->state == LEG_DONE || b->want_cancel)
		return;
	b->want_cancel = true;
	if (!b->got_provisional)
		return; /* 9.1: no CANCEL before a provisional; sent on the first one */
	struct sbuf s;
	sbuf_init(&s);
	sbuf_printf(&s, "CANCEL %s SIP/2.0\r\nVia: %s;rport;branch=%s\r\nMax-Forwards: 70\r\n"
		    "From: %s;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %u CANCEL\r\n"
		    "Content-Length: 0\r\n\r\n",
		    b->dlg.remote_target, b->via, b->inv_branch, b->dlg.local_hdr,
		    b->dlg.local_tag, b->dlg.remote_hdr, b->dlg.call_id, b->inv_cseq);
	if (!s.err)
		call_leg_send(b, s.p, s.len, REQ_CANCEL, on_cancel_resp, NULL);
	sbuf_free(&s);
}

static void on_late_bye_resp(struct leg_req *r, const struct sip_msg *resp, int err)
{
	(void)resp;
	(void)err;
	struct leg *b = r->leg;
	/* a fork that answered after another won (or after the call went):
	 * now it is gone */
	call_forget_fork(b->call, b);
}

static void ack_2xx(struct leg *b, const struct sip_msg *resp)
{
	struct sbuf s;
	sbuf_init(&s);
	if (!sip_dialog_request(&b->dlg, &s, "ACK", resp->cseq.num, b->via, NULL, NULL, NULL, NULL, 0) && !s.err) {
		free(b->ack);
		b->ack = malloc(s.len);
		if (b->ack) {
			memcpy(b->ack, s.p, s.len);
			b->ack_len = s.len;
			b->ack_cseq = resp->cseq.num;
		}
		sip_transport_send(b->call->m->d.tp, &b->dlg.peer, s.p, s.len);
	}
	sbuf_free(&s);
}

static void fork_answered(struct leg *b, const struct sip_msg *resp)
{
	struct call *c = b->call;
	if (sip_dialog_uac_update(&b->dlg, resp)) {
		fork_failed(b, 502, PL("Bad Gateway"));
		return;
	}
	b->state = LEG_UP;
	call_leg_hash(c->m, b);
	ack_2xx(b, resp);
	if (c->winner || c->ending || b->stale) {
		/* lost the race (or the call is going, or has moved on): ACK
		 * then BYE, 15.1.1 */
		b->state = LEG_DONE;
		call_leg_request(b, "BYE", NULL, NULL, NULL, 0, REQ_ACK_BYE, on_late_bye_resp);
		return;
	}
	struct sbuf sdp;
	sbuf_init(&sdp);
	uint16_t status = 500;
	if (callm_answer_b_to_a(c, b, resp->body.p, resp->body.l, &sdp, &status)) {
		sbuf_free(&sdp);
		c->winner = b;
		call_end(c, status, status == 488 ? "Not Acceptable Here" : "Server Internal Error",
			 "system", "callee answer unusable");
		return;
	}
	c->winner = b;
	c->forking = false;
	loop_timer_cancel(&c->noanswer);
	for (int i = 0; i < c->nb; i++)
		if (c->b[i] != b)
			call_fork_cancel(c->b[i]);
	if (c->a.state == LEG_UP) {
		/* an app answered the caller before the call came here: the
		 * caller keeps its SDP and the worker transcodes if need be */
		sbuf_free(&sdp);
		callm_connect(c);
		log_debug(CALL_TAG, "call %u %s -> %s answered by %s", c->id, c->caller, c->callee,
			  b->dlg.remote_target);
		return;
	}
	c->answered = true;
	c->answer_ms = call_wall_ms();
	c->m->stats.answered++;
	if (call_send_2xx(&c->a, c->a.inv_st, sdp.p, sdp.len, NULL)) {
		sbuf_free(&sdp);
		call_end(c, 500, "Server Internal Error", "system", "cannot answer caller");
		return;
	}
	c->a.inv_st = NULL; /* a 2xx ends the server transaction */
	c->a.state = LEG_UP;
	c->a.answer_in_ack = c->late_offer; /* the 2xx carried our offer */
	sbuf_free(&sdp);
	callm_connect(c);
	call_session_timer_start(c);
	log_debug(CALL_TAG, "call %u %s -> %s answered by %s", c->id, c->caller, c->callee,
		 b->dlg.remote_target);
}

/* A phone that refused our offer's RTP profile (488, 415, 606: it
 * requires SRTP, or takes only plain RTP) is sent the offer again with
 * another profile (at most twice), as a new fork to the same contact. */
static bool fork_retry(struct leg *b, uint16_t status)
{
	struct call *c = b->call;
	if (b->stale || c->ending || c->winner || b->profile_tries >= 2)
		return false;
	int attempt = b->profile_tries + 1;
	struct sbuf offer;
	sbuf_init(&offer);
	bool ok = !callm_retry_offer_to_b(c, status, attempt, &offer) &&
		  !fork_to(c, b->dlg.remote_target, &b->dlg.peer, offer.p, offer.len);
	if (ok)
		c->b[c->nb - 1]->profile_tries = (uint8_t)attempt;
	sbuf_free(&offer);
	return ok;
}

static void fork_failed(struct leg *b, uint16_t status, struct pl reason)
{
	struct call *c = b->call;
	b->state = LEG_DONE;
	b->final_status = status;
	if (fork_retry(b, status))
		return;
	if (b->stale || c->ending) {
		/* rang for a destination the call has left, or for a call that
		 * has ended: nobody waits for its answer any more */
		call_forget_fork(c, b);
		return;
	}
	note_status(c, status, reason);
	if (c->winner || !all_forks_done(c))
		return;
	if (c->best_status == 487)
		return; /* we cancelled: whoever cancelled ends the call */
	c->forking = false;
	loop_timer_cancel(&c->noanswer);
	char reason_s[64];
	snprintf(reason_s, sizeof(reason_s), "%s", c->best_reason);
	uint16_t st = c->best_status;
	bool busy = st == 486 || st == 600;
	log_debug(CALL_TAG, "call %u: %s answered %u", c->id, c->callee_ext, st);
	call_forks_abandon(c);
	call_next(c, busy ? CALL_NEXT_BUSY : st == 480 || st == 408 ? CALL_NEXT_NOANSWER : CALL_NEXT_FAIL,
		  st, reason_s[0] ? reason_s : NULL, "callee");
}

static void relay_provisional(struct call *c, struct leg *b, const struct sip_msg *resp)
{
	if (!c->a.inv_st || c->answered)
		return;
	if (resp->status == 100)
		return; /* hop by hop: the caller got ours */
	struct sbuf sdp;
	sbuf_init(&sdp);
	uint16_t status = 500;
	if (!resp->body.l && callm_has_answer_for_a(c)) {
		/* A hears our ringback or earlier early media: a 180 now could
		 * make it switch to its own ring tone */
		c->a.state = LEG_EARLY;
		return;
	}
	if (c->late_offer) {
		/* our offer to A waits for the 2xx: no SDP in an unreliable
		 * provisional (13.2.1), so no early media and no ringback */
		call_reply(&c->a, c->a.inv_st, resp->status == 183 ? 180 : resp->status,
			   resp->status == 183 ? "Ringing" : NULL, NULL, NULL, 0);
		c->a.state = LEG_EARLY;
		return;
	}
	bool early = resp->body.l > 0 && !callm_answer_b_to_a(c, b, resp->body.p, resp->body.l, &sdp, &status);
	if (early)
		callm_connect(c); /* both legs set: B's early media flows to A */
	else if (resp->body.l > 0)
		c->warning[0] = '\0'; /* relayed without SDP; the 2xx decides */
	char reason[64];
	pl_strcpy(resp->reason, reason, sizeof(reason));
	uint16_t code = resp->status;
	if (!resp->body.l && resp->status == 180 && !callm_ringback(c, &sdp)) {
		/* ringing without early media: A gets our answer in a 183 and
		 * hears the ringback tone we play until B's media takes over */
		early = true;
		code = 183;
		snprintf(reason, sizeof(reason), "Session Progress");
	}
	call_reply(&c->a, c->a.inv_st, code, reason[0] ? reason : NULL, NULL,
		   early ? sdp.p : NULL, early ? sdp.len : 0);
	c->a.state = LEG_EARLY;
	sbuf_free(&sdp);
}

static void on_invite_resp(struct leg_req *r, const struct sip_msg *resp, int err)
{
	struct leg *b = r->leg;
	struct call *c = b->call;
	if (err || !resp) {
		b->inv_ct = NULL;
		fork_failed(b, 408, PL("Request Timeout"));
		return;
	}
	if (resp->status < 200) {
		bool first = !b->got_provisional;
		b->got_provisional = true;
		if (resp->to.tag.p && !sip_dialog_uac_update(&b->dlg, resp))
			b->state = LEG_EARLY;
		if (first && b->want_cancel) {
			b->want_cancel = false;
			call_fork_cancel(b);
			return;
		}
		if (!c->ending && !b->want_cancel)
			relay_provisional(c, b, resp);
		return;
	}
	b->inv_ct = NULL;
	if (resp->status < 300)
		fork_answered(b, resp);
	else
		fork_failed(b, resp->status, resp->reason);
}

static int fork_to(struct call *c, const char *target, const struct sip_peer *peer,
		   const char *body, size_t body_len)
{
	struct call_mgr *m = c->m;
	if (c->nb == CALL_MAX_FORKS)
		return ENOSPC;
	struct leg *b = calloc(1, sizeof(*b));
	if (!b)
		return ENOMEM;
	b->call = c;
	b->idx = c->nb + 1;
	loop_timer_init(&b->t2xx);
	char call_id[64], tag[24], from[400], to[300];
	call_make_call_id(m, call_id, sizeof(call_id));
	sip_random_token(tag, sizeof(tag), 16);
	/* leg B shows who calls, never leg A's routing state */
	b->dlg.peer = *peer;
	call_leg_local(m, b);
	const char *host = strchr(b->contact, '@') + 1;
	char hostport[80];
	snprintf(hostport, sizeof(hostport), "%.*s", (int)strcspn(host, ";"), host);
	if (c->caller_name[0]) {
		/* a display name is a quoted-string: escape what would end it */
		char dn[260];
		size_t j = 0;
		for (const char *q = c->caller_name; *q && j + 2 < sizeof(dn); q++) {
			if (*q == '"' || *q == '\\')
				dn[j++] = '\\';
			dn[j++] = *q;
		}
		dn[j] = '\0';
		snprintf(from, sizeof(from), "\"%s\" <sip:%s@%s>", dn, c->caller, hostport);
	} else
		snprintf(from, sizeof(from), "<sip:%s@%s>", c->caller, hostport);
	snprintf(to, sizeof(to), "<sip:%s@%s>", c->callee, hostport);
	int err = sip_dialog_uac_init(&b->dlg, call_id, tag, from, to, target, peer, b->contact);
	if (err) {
		free(b);
		return err;
	}
	/* No session timer towards the callee: the caller's refreshes are
	 * relayed to it, and its own dead-peer check is RTP. */
	const char *extra = "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO\r\n";
	struct sbuf s;
	sbuf_init(&s);
	err = sip_dialog_request(&b->dlg, &s, "INVITE", 0, b->via, b->inv_branch, extra,
				 body ? "application/sdp" : NULL, body, body_len);
	b->inv_cseq = b->dlg.local_cseq;
	c->b[c->nb++] = b;
	/* hashed now: the callee may send BYE/UPDATE on an early dialog */
	call_leg_hash(m, b);
	/* b->inv_ct: the INVITE's, outstanding until its final answer */
	if (!err)
		err = call_leg_send(b, s.p, s.len, REQ_INVITE, on_invite_resp, &b->inv_ct);
	sbuf_free(&s);
	if (err) {
		b->state = LEG_DONE;
		note_status(c, 503, PL("Service Unavailable"));
	}
	return err;
}

struct fork_ctx {
	struct call *c;
	const char *body;
	size_t len;
	int started;
};

static void fork_contact(const char *contact, const struct sip_peer *src, void *arg)
{
	struct fork_ctx *f = arg;
	if (!fork_to(f->c, contact, src, f->body, f->len))
		f->started++;
}

/* A static contact is an IP literal URI (no DNS on the signalling loop
 * until the resolver arrives). */
static int static_peer(const char *uri, struct sip_peer *p)
{
	struct sip_uri u;
	memset(p, 0, sizeof(*p));
	p->local_fd = -1;
	if (sip_uri_parse(&u, pl_from(uri)))
		return EINVAL;
	char host[64];
	pl_strcpy(u.host, host, sizeof(host));
	struct pl tpv;
	p->tp = sip_param_get(u.params, "transport", &tpv) && pl_casestr(tpv, "tcp") ? SIP_TP_TCP : SIP_TP_UDP;
	uint16_t port = u.port ? u.port : 5060;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&p->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&p->addr;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		p->alen = sizeof(*in4);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		p->alen = sizeof(*in6);
	} else {
		return EINVAL;
	}
	return 0;
}

/* --- timers and CANCEL ---------------------------------------------------- */

static void on_noanswer(void *arg)
{
	struct call *c = arg;
	c->forking = false;
	call_forks_abandon(c);
	call_next(c, CALL_NEXT_NOANSWER, 480, "Temporarily Unavailable", "system");
}

void call_forks_abandon(struct call *c)
{
	if (c->callee_ext[0] && strcmp(c->callee_ext, c->caller_ext))
		call_ext_add(c->m, c->callee_ext, -1);
	c->callee_ext[0] = '\0';
	c->best_status = 0;
	callm_detach_b(c); /* a callee's early media stops here */
	c->best_reason[0] = '\0';
	for (int i = 0; i < c->nb;) {
		struct leg *b = c->b[i];
		b->stale = true;
		if (b->state == LEG_DONE) {
			call_forget_fork(c, b);
			continue;
		}
		call_fork_cancel(b);
		i++;
	}
}

void call_on_cancel(struct call_mgr *m, struct sip_tsx *st, const struct sip_msg *req,
		    const struct sip_peer *from)
{
	loop_assert_owner(m ? m->d.loop : NULL);
	(void)from;
	struct sip_tsx *inv = sip_tsx_cancel_target(m->d.tsx, req);
	struct list_node *n;
	list_foreach(&m->calls, n) {
		struct call *c = container_of(n, struct call, le);
		if (inv && c->a.inv_st == inv && !c->ending) {
			/* the same To tag as the INVITE's answers (RFC 3261 9.2) */
			call_reply_plain(&c->a, st, 200, "OK");
			call_end(c, 487, "Request Terminated", "caller", "caller cancelled");
			return;
		}
	}
	sip_tsx_reply(st, 481, "Call/Transaction Does Not Exist", NULL);
}

/* --- the INVITE ----------------------------------------------------------- */

/* RFC 4028 on leg A: the caller's Session-Expires is honoured with the
 * refresher it names; a caller that only says it supports timers gets
 * ours with itself as refresher; otherwise no session timer. */
static void session_timer_from(struct call *c, const struct sip_msg *req)
{
	const struct sip_hdr *se = sip_msg_hdr(req, SIP_HDR_SESSION_EXPIRES);
	bool supported = false;
	for (const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_SUPPORTED); h;
	     h = sip_msg_hdr_next(req, SIP_HDR_SUPPORTED, h))
		supported |= pl_casestr(pl_trim(h->value), "timer");
	if (se) {
		size_t n = 0;
		while (n < se->value.l && se->value.p[n] >= '0' && se->value.p[n] <= '9')
			n++;
		uint64_t v;
		if (pl_u64((struct pl){ se->value.p, n }, 86400, &v) || v < 90)
			return;
		c->session_interval = (uint32_t)v;
		struct pl params = { se->value.p + n, se->value.l - n }, who;
		if (params.l && params.p[0] == ';') {
			params.p++;
			params.l--;
		}
		/* we refresh when asked to, or when the caller cannot */
		c->we_refresh = (sip_param_get(params, "refresher", &who) && pl_casestr(who, "uas")) ||
				!supported;
	} else if (supported) {
		c->session_interval = c->m->d.conf->session_expires;
		c->we_refresh = false;
	}
}


static void reject(struct sip_tsx *st, uint16_t status, const char *reason, const char *hdrs)
{
	sip_tsx_reply(st, status, reason, hdrs);
}

/* A call refused after its caller was known still is a call the
 * administrator wants to see: one FAILED/BUSY row, like any other. */
static void reject_call(struct call_mgr *m, struct sip_tsx *st, const struct sip_msg *req,
			const struct ext *caller, const struct ext *callee, uint16_t status,
			const char *reason, const char *hdrs, const char *cause)
{
	struct db_cdr r;
	memset(&r, 0, sizeof(r));
	pl_strcpy(req->call_id, r.call_id_a, sizeof(r.call_id_a));
	snprintf(r.caller, sizeof(r.caller), "%s", caller->number);
	snprintf(r.caller_name, sizeof(r.caller_name), "%s", caller->name);
	if (callee) {
		snprintf(r.callee, sizeof(r.callee), "%s", callee->number);
		snprintf(r.callee_name, sizeof(r.callee_name), "%s", callee->name);
	} else {
		pl_strcpy(req->ruri.user, r.callee, sizeof(r.callee));
	}
	r.start_ms = r.end_ms = call_wall_ms();
	snprintf(r.disposition, sizeof(r.disposition), "%s",
		 status == 486 ? "BUSY" : status == 480 ? "NO ANSWER" : "FAILED");
	r.hangup_status = status;
	snprintf(r.hangup_cause, sizeof(r.hangup_cause), "%s", cause);
	snprintf(r.hangup_side, sizeof(r.hangup_side), "system");
	reject(st, status, reason, hdrs);
	call_cdr_post(m, &r);
	if (status == 486)
		m->stats.busy++;
	else if (status == 480)
		m->stats.no_answer++;
	else
		m->stats.failed++;
	m->stats.started++;
}

void call_on_invite(struct call_mgr *m, struct sip_tsx *st, const struct sip_msg *req,
		    const struct sip_peer *from)
{
	loop_assert_owner(m ? m->d.loop : NULL);
	const struct call_deps *p = &m->d;
	/* Who calls: a trusted device by its address, else digest (407). */
	const struct ext *caller = ext_table_find_trusted(*p->exts, (const struct sockaddr *)&from->addr,
							  req->from.uri.user);
	bool by_address = caller != NULL;
	if (!caller) {
		struct sbuf h;
		sbuf_init(&h);
		enum authn_result r = authn_check(p->authn, req, from, *p->exts, true, &caller, &h);
		if (r == AUTHN_BANNED)
			sip_tsx_drop(st);
		else if (r == AUTHN_CHALLENGE) /* stateless: RFC 3261 26.3.2.4 */
			sip_tsx_reply_stateless(st, 407, "Proxy Authentication Required",
						h.err ? NULL : h.p);
		else if (r == AUTHN_FORBIDDEN)
			reject(st, 403, "Forbidden", NULL);
		sbuf_free(&h);
		if (r != AUTHN_OK)
			return;
	}
	if (m->ncalls >= p->conf->max_calls) {
		reject_call(m, st, req, caller, NULL, 503, "Service Unavailable", "Retry-After: 5\r\n",
			    "system call limit");
		return;
	}
	if (call_ext_count(m, caller->number) >= limit_of(m, caller)) {
		reject_call(m, st, req, caller, NULL, 486, "Busy Here", NULL, "caller call limit");
		return;
	}
	/* Where to: the routing seam says what the number dialled means */
	char dialled[64];
	pl_strcpy(req->ruri.user, dialled, sizeof(dialled));
	struct dest d;
	route_dialled(p->plan ? *p->plan : NULL, *p->exts, caller->number, dialled, &d);
	char dest[DEST_MAX];
	dest_format(&d, dest, sizeof(dest));
	if (by_address && !route_internal(&d)) {
		/* trust by address is spoofable over UDP: internal calls only */
		log_info("call", "%s (trusted by address) may not call %s: internal numbers only",
			   caller->number, dest);
		reject_call(m, st, req, caller, NULL, 403, "Forbidden", NULL,
			    "trusted device: internal calls only");
		return;
	}

	struct call *c = call_new(m);
	if (!c) {
		reject(st, 500, "Server Internal Error", NULL);
		return;
	}
	snprintf(c->caller, sizeof(c->caller), "%s", caller->number);
	snprintf(c->caller_ext, sizeof(c->caller_ext), "%s", caller->number);
	snprintf(c->caller_name, sizeof(c->caller_name), "%s", caller->name);
	snprintf(c->callee, sizeof(c->callee), "%s", dialled);
	call_ext_add(m, c->caller_ext, 1);

	char tag[24];
	sip_random_token(tag, sizeof(tag), 16);
	struct leg *a = &c->a;
	a->dlg.peer = *from;
	call_leg_local(m, a);
	a->inv_st = st;
	if (sip_dialog_uas_init(&a->dlg, req, from, tag, a->contact)) {
		a->inv_st = NULL;
		reject(st, 400, "Bad Request", NULL);
		call_end(c, 400, "Bad Request", "system", "unusable dialog headers");
		return;
	}
	snprintf(a->dlg.local_contact, sizeof(a->dlg.local_contact), "%s", a->contact);
	session_timer_from(c, req);
	call_leg_hash(m, a);
	sip_tsx_reply(st, 100, "Trying", NULL);

	struct sbuf late;
	sbuf_init(&late);
	uint16_t status = 500;
	/* a delayed offer (13.2.1): A offers nothing, so it stands for what
	 * its policy allows; our offer to A goes in the 2xx */
	c->late_offer = !req->body.l;
	int err = callm_create(c, caller, NULL);
	if (!err && c->late_offer)
		err = callm_late_offer(c, &late, &status);
	if (!err)
		err = c->late_offer ? callm_take_offer_a(c, late.p, late.len, &status)
				    : callm_take_offer_a(c, req->body.p, req->body.l, &status);
	sbuf_free(&late);
	if (err) {
		call_end(c, status, status == 488 ? "Not Acceptable Here" : "Server Internal Error",
			 "system", "caller offer unusable");
		return;
	}
	call_goto(c, dest);
}

/* Where a call to callee goes when it fails this way: a forwarding
 * number (routed like a dialled one), else the extension's destination,
 * else its voicemail when there is a voicemail app, else hangup. */
static void next_of(struct call *c, const struct ext *callee, char *out, size_t cap,
		    const char *fwd, const char *dest)
{
	const struct call_deps *p = &c->m->d;
	if (fwd && fwd[0]) {
		struct dest d;
		route_dialled(p->plan ? *p->plan : NULL, *p->exts, callee->number, fwd, &d);
		dest_format(&d, out, cap);
		return;
	}
	if (dest[0]) {
		snprintf(out, cap, "%s", dest);
		return;
	}
	struct dest vm = { .kind = "vm" };
	snprintf(vm.id, sizeof(vm.id), "%s", callee->number);
	const char *arg;
	if (call_app_find(c->m, &vm, &arg))
		snprintf(out, cap, "vm:%s", callee->number);
	else
		snprintf(out, cap, "hangup");
}

void call_ring_ext(struct call *c, const char *number)
{
	struct call_mgr *m = c->m;
	const struct call_deps *p = &m->d;
	const struct ext *callee = ext_table_find(*p->exts, pl_from(number));
	if (!callee || !callee->enabled) {
		/* removed or disabled since the plan said so: not in service */
		call_goto(c, ROUTE_UNKNOWN);
		return;
	}
	next_of(c, callee, c->next_busy, sizeof(c->next_busy), callee->fwd_busy, callee->next_busy);
	next_of(c, callee, c->next_noanswer, sizeof(c->next_noanswer), callee->fwd_noanswer,
		callee->next_noanswer);
	next_of(c, callee, c->next_unavail, sizeof(c->next_unavail), NULL, callee->next_unavail);
	snprintf(c->callee_name, sizeof(c->callee_name), "%s", callee->name);
	if (callee->fwd_all[0]) {
		/* forwarded: the number is dialled again for the callee (a
		 * chain that comes back is cut by the hop limit) */
		char to[DEST_MAX];
		next_of(c, callee, to, sizeof(to), callee->fwd_all, "");
		log_debug(CALL_TAG, "call %u: %s forwards to %s", c->id, callee->number, to);
		call_goto(c, to);
		return;
	}
	if (callee->dnd) {
		log_debug(CALL_TAG, "call %u: %s does not want to be disturbed", c->id, callee->number);
		call_next(c, CALL_NEXT_BUSY, 486, "Busy Here", "system");
		return;
	}
	if (call_ext_count(m, callee->number) >= limit_of(m, callee)) {
		log_debug(CALL_TAG, "call %u: %s is at its call limit", c->id, callee->number);
		call_next(c, CALL_NEXT_BUSY, 486, "Busy Here", "system");
		return;
	}
	size_t ncontacts = registrar_lookup(p->reg, callee->number, NULL, NULL);
	if (!ncontacts && !callee->contact[0]) {
		log_debug(CALL_TAG, "call %u: %s has no phone registered", c->id, callee->number);
		call_next(c, CALL_NEXT_UNAVAIL, 480, "Temporarily Unavailable", "system");
		return;
	}
	snprintf(c->callee_ext, sizeof(c->callee_ext), "%s", callee->number);
	if (strcmp(c->callee_ext, c->caller_ext))
		call_ext_add(m, c->callee_ext, 1);

	struct sbuf offer;
	sbuf_init(&offer);
	uint16_t status = 500;
	callm_set_callee(c, callee);
	if (callm_offer_to_b(c, &offer, &status)) {
		sbuf_free(&offer);
		call_end(c, status, status == 488 ? "Not Acceptable Here" : "Server Internal Error",
			 "system", "caller offer unusable");
		return;
	}
	log_debug(CALL_TAG, "call %u %s -> %s: ringing %zu contact(s)", c->id, c->caller, number,
		  ncontacts + (callee->contact[0] ? 1 : 0));
	struct fork_ctx f = { .c = c, .body = offer.p, .len = offer.len };
	registrar_lookup(p->reg, callee->number, fork_contact, &f);
	struct sip_peer sp;
	if (callee->contact[0] && !static_peer(callee->contact, &sp))
		fork_contact(callee->contact, &sp, &f);
	sbuf_free(&offer);
	if (!f.started) {
		call_forks_abandon(c);
		call_next(c, CALL_NEXT_UNAVAIL, 480, "Temporarily Unavailable", "system");
		return;
	}
	c->forking = true;
	if (c->a.state == LEG_UP)
		callm_tone_a(c, "ringback"); /* an app answered: we ring for the callee */
	unsigned ring_s = callee->ring_time ? callee->ring_time : p->conf->no_answer_timeout;
	loop_timer_start(p->loop, &c->noanswer, (uint64_t)ring_s * 1000u, on_noanswer, c);
}
