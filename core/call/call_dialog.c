/*
 * Requests inside a call's dialogs. BYE from either side ends the call.
 * re-INVITE and UPDATE are offers: relayed to the other leg with the SDP
 * re-anchored, and the answer relayed back (hold and codec changes work
 * this way). A second offer while one is pending on either leg is glare:
 * 491. ACKs stop our 2xx retransmissions; in-dialog OPTIONS are answered
 * here; INFO carrying DTMF is answered here and the digit sent to the
 * other phone through the media engine, other INFO is relayed.
 * Session timers (RFC 4028): the caller's Session-Expires is honoured,
 * and when nobody refreshes in time the call is torn down.
 */
#include "call_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/conf.h"
#include "../sip/dtmf_info.h"
#include "../sip/msg.h"
#include "../sip/transport.h"
#include "../sip/tsx.h"

enum { REQ_BYE = 10, REQ_REINVITE, REQ_UPDATE, REQ_INFO, REQ_REFRESH };

/* --- 2xx retransmission (13.3.1.4) --------------------------------------- */

void call_leg_stop_2xx(struct leg *l)
{
	loop_timer_cancel(&l->t2xx);
	free(l->resp2xx);
	l->resp2xx = NULL;
	l->resp2xx_len = 0;
}

static void on_t2xx(void *arg)
{
	struct leg *l = arg;
	const struct call_deps *p = &l->call->m->d;
	uint64_t t1 = 500, t2 = 4000;
	l->t2xx_elapsed += l->t2xx_interval;
	if (l->t2xx_elapsed >= 64 * t1) {
		/* no ACK: the dialog is dead; end it as 13.3.1.4 says */
		call_leg_stop_2xx(l);
		call_end(l->call, 408, "Request Timeout", "system", "no ACK from caller");
		return;
	}
	if (!sip_tp_reliable(l->dlg.peer.tp))
		sip_transport_send(p->tp, &l->dlg.peer, l->resp2xx, l->resp2xx_len);
	l->t2xx_interval = l->t2xx_interval * 2 > t2 ? t2 : l->t2xx_interval * 2;
	loop_timer_start(p->loop, &l->t2xx, l->t2xx_interval, on_t2xx, l);
}

int call_send_2xx(struct leg *l, struct sip_tsx *st, const char *sdp, size_t sdp_len,
		  const char *extra)
{
	const struct call_deps *p = &l->call->m->d;
	const struct sip_msg *req = sip_tsx_request(st);
	const struct sip_peer *from = sip_tsx_peer(st);
	/* a 2xx ends an INVITE server transaction and frees req with it */
	bool invite = pl_eq(req->method, PL("INVITE"));
	uint32_t cseq = req->cseq.num;
	char host[64], se[96] = "";
	sip_peer_addr_str(from, host, sizeof(host));
	struct call *c = l->call;
	if (l == &c->a && c->session_interval && invite)
		snprintf(se, sizeof(se), "Session-Expires: %u;refresher=%s\r\nRequire: timer\r\n",
			 c->session_interval, c->we_refresh ? "uas" : "uac");
	struct sbuf b;
	sbuf_init(&b);
	sip_msg_build_response(&b, req, 200, "OK", l->dlg.local_tag, host, sip_peer_port(from));
	sbuf_printf(&b, "Contact: <%s>\r\n", l->contact);
	sbuf_adds(&b, "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO\r\n"
		      "Supported: timer\r\n");
	sbuf_adds(&b, se);
	if (extra)
		sbuf_adds(&b, extra);
	sip_msg_build_end(&b, sdp ? "application/sdp" : NULL, sdp, sdp ? sdp_len : 0);
	int err = b.err;
	if (!err)
		err = sip_tsx_reply_raw(st, 200, b.p, b.len);
	if (err) {
		sbuf_free(&b);
		return err;
	}
	if (sdp && sdp_len < sizeof(l->sdp_sent)) {
		memcpy(l->sdp_sent, sdp, sdp_len);
		l->sdp_sent_len = sdp_len;
	}
	if (invite) {
		call_leg_stop_2xx(l);
		l->resp2xx = b.p; /* kept until the ACK */
		l->resp2xx_len = b.len;
		l->resp2xx_cseq = cseq;
		l->t2xx_interval = 500;
		l->t2xx_elapsed = 0;
		loop_timer_start(p->loop, &l->t2xx, l->t2xx_interval, on_t2xx, l);
		l->dlg.confirmed = true;
	} else {
		sbuf_free(&b);
	}
	return 0;
}

/* --- BYE ------------------------------------------------------------------ */

static void on_bye_resp(struct leg_req *r, const struct sip_msg *resp, int err)
{
	(void)r;
	(void)resp;
	(void)err; /* a BYE ends the dialog whatever the answer */
}

void call_send_bye(struct leg *l)
{
	if (l->state != LEG_UP)
		return;
	l->state = LEG_DONE;
	call_leg_request(l, "BYE", NULL, NULL, NULL, 0, REQ_BYE, on_bye_resp);
}

/* --- relaying offers (re-INVITE, UPDATE) and INFO ------------------------- */

static void on_relay_resp(struct leg_req *r, const struct sip_msg *resp, int err)
{
	struct leg *to = r->leg;            /* the leg we sent it on */
	struct leg *from = call_other_leg(to);
	struct call *c = to->call;
	if (resp && resp->status < 200)
		return;
	to->busy_out = false;
	if (!from || !from->relay_st) {
		/* the requester went away; a 2xx re-INVITE still needs its ACK */
		if (resp && resp->status < 300 && r->kind == REQ_REINVITE) {
			struct sbuf s;
			sbuf_init(&s);
			if (!sip_dialog_request(&to->dlg, &s, "ACK", resp->cseq.num, to->via, NULL, NULL, NULL, NULL, 0))
				sip_transport_send(c->m->d.tp, &to->dlg.peer, s.p, s.len);
			sbuf_free(&s);
		}
		return;
	}
	struct sip_tsx *st = from->relay_st;
	from->relay_st = NULL;
	if (err || !resp) {
		sip_tsx_reply(st, err == ETIMEDOUT ? 408 : 500, NULL, NULL);
		if (err == ETIMEDOUT) /* a dialog that stops answering goes */
			call_end(c, 408, "Request Timeout", "system", "peer stopped answering");
		return;
	}
	if (resp->status >= 300) {
		char reason[64];
		pl_strcpy(resp->reason, reason, sizeof(reason));
		call_reply(from, st, resp->status, reason[0] ? reason : NULL, NULL, NULL, 0);
		if (resp->status == 481 || resp->status == 408)
			call_end(c, 408, "Request Timeout", "system", "dialog gone on the other side");
		return;
	}
	if (r->kind == REQ_REINVITE) {
		struct sbuf s;
		sbuf_init(&s);
		if (!sip_dialog_request(&to->dlg, &s, "ACK", resp->cseq.num, to->via, NULL, NULL, NULL, NULL, 0))
			sip_transport_send(c->m->d.tp, &to->dlg.peer, s.p, s.len);
		sbuf_free(&s);
	}
	const struct sip_msg *req = sip_tsx_request(st);
	struct sbuf sdp;
	sbuf_init(&sdp);
	uint16_t status = 500;
	bool has_sdp = resp->body.l > 0 && r->kind != REQ_INFO;
	if (has_sdp && callm_reanswer(c, from, resp->body.p, resp->body.l, &sdp, &status)) {
		sip_tsx_reply(st, status, NULL, NULL);
		sbuf_free(&sdp);
		return;
	}
	if (pl_eq(req->method, PL("INVITE")))
		call_send_2xx(from, st, has_sdp ? sdp.p : NULL, sdp.len, NULL);
	else if (r->kind == REQ_INFO)
		call_reply(from, st, 200, "OK", NULL, NULL, 0);
	else
		call_reply(from, st, 200, "OK", NULL, has_sdp ? sdp.p : NULL, sdp.len);
	sbuf_free(&sdp);
	call_session_timer_start(c); /* an answered offer refreshes the session */
}

/* INFO carrying a key press (application/dtmf-relay or application/dtmf):
 * answered here, the digit noted and sent to the other phone in the form
 * it negotiated (RFC 4733 events or in-band tones), so a phone that sends
 * INFO can drive one that only knows RTP events, and apps hear it too.
 * False when the body is no digit, or the engine cannot send one: the
 * INFO is then relayed as it is. */
static bool dtmf_info(struct leg *from, struct sip_tsx *st, const struct sip_msg *req,
		      struct pl ctype)
{
	struct call *c = from->call;
	struct dtmf_info d;
	if (dtmf_info_parse(&d, ctype, req->body) || d.digit == '!')
		return false;
	unsigned to = from == &c->a ? 1 : 0;
	int err = call_other_leg(from) ? callm_send_dtmf(c, to, d.digit, d.duration_ms) : 0;
	call_dtmf_note(c, to ? 0 : 1, d.digit, "INFO");
	if (err == ENOSYS)
		return false;
	if (err)
		log_warn(CALL_TAG, "call %u: cannot send DTMF '%c' to the %s: %s", c->id, d.digit,
			 to ? "callee" : "caller", strerror(err));
	sip_tsx_reply(st, 200, "OK", NULL);
	return true;
}

static void relay_offer(struct leg *from, struct sip_tsx *st, const struct sip_msg *req)
{
	struct call *c = from->call;
	struct leg *to = call_other_leg(from);
	bool invite = pl_eq(req->method, PL("INVITE"));
	bool info = pl_eq(req->method, PL("INFO"));
	if (!to && c->app && from == &c->a && info) {
		/* a key for the app; any other INFO has nobody to go to */
		const struct sip_hdr *ict = sip_msg_hdr(req, SIP_HDR_CONTENT_TYPE);
		if (!req->body.l || !ict || !dtmf_info(from, st, req, ict->value))
			sip_tsx_reply(st, 200, "OK", NULL);
		return;
	}
	if (!to && c->app && from == &c->a) {
		/* an app has the caller: a refresh or re-offer (session timer,
		 * hold) is answered here with what the leg already has */
		struct sbuf ours;
		sbuf_init(&ours);
		/* a 2xx ends the INVITE's transaction and frees req with it */
		bool offerless = !req->body.l;
		if (!callm_our_sdp(c, from, &ours) &&
		    (invite ? !call_send_2xx(from, st, ours.p, ours.len, NULL)
			    : !call_reply(from, st, 200, "OK", NULL, ours.p, ours.len))) {
			from->answer_in_ack = invite && offerless;
			call_session_timer_start(c);
		} else {
			sip_tsx_reply(st, 488, "Not Acceptable Here", NULL);
		}
		sbuf_free(&ours);
		return;
	}
	if (!to || to->state != LEG_UP) {
		sip_tsx_reply(st, invite ? 491 : 500, NULL, invite ? NULL : "Retry-After: 1\r\n");
		return;
	}
	/* glare (14.1): an offer of ours is still pending on either side */
	if (!info && (from->relay_st || to->relay_st || from->busy_out || to->busy_out)) {
		sip_tsx_reply(st, invite ? 491 : 500, invite ? "Request Pending" : NULL,
			      invite ? NULL : "Retry-After: 1\r\n");
		return;
	}
	struct sbuf body;
	sbuf_init(&body);
	const char *ctype = NULL;
	char ctbuf[128];
	const struct sip_hdr *ct = sip_msg_hdr(req, SIP_HDR_CONTENT_TYPE);
	uint16_t status = 500;
	if (info && req->body.l && ct && dtmf_info(from, st, req, ct->value))
		return;
	if (req->body.l && !info) {
		c->warning[0] = '\0';
		if (callm_reoffer(c, from, req->body.p, req->body.l, &body, &status)) {
			sip_tsx_reply(st, status, NULL, c->warning[0] ? c->warning : NULL);
			c->warning[0] = '\0';
			sbuf_free(&body);
			return;
		}
		ctype = "application/sdp";
	} else if (!req->body.l && invite) {
		/* An offer-less re-INVITE asks for an offer (14.1): phones send
		 * it to refresh or to learn the session. Answered here with
		 * what this leg already has, so the other leg is not disturbed
		 * and its phone need not make an offer of its own. */
		if (!callm_our_sdp(c, from, &body) &&
		    !call_send_2xx(from, st, body.p, body.len, NULL)) {
			from->answer_in_ack = true;
			call_session_timer_start(c);
			sbuf_free(&body);
			return;
		}
		sbuf_free(&body);
		sbuf_init(&body);
		callm_forget_offer(c); /* else the other leg's 2xx carries it */
	} else if (!req->body.l && !info) {
		callm_forget_offer(c); /* UPDATE without SDP: a refresh, relayed */
	} else if (req->body.l) {
		sbuf_addpl(&body, req->body); /* INFO bodies pass through */
		if (ct)
			pl_strcpy(ct->value, ctbuf, sizeof(ctbuf));
		ctype = ct ? ctbuf : "application/octet-stream";
	}
	char method[16];
	pl_strcpy(req->method, method, sizeof(method));
	int kind = invite ? REQ_REINVITE : info ? REQ_INFO : REQ_UPDATE;
	from->relay_st = st;
	to->busy_out = true;
	if (call_leg_request(to, method, NULL, ctype, body.len ? body.p : NULL, body.len, kind,
			     on_relay_resp)) {
		from->relay_st = NULL;
		to->busy_out = false;
		sip_tsx_reply(st, 500, NULL, NULL);
	}
	sbuf_free(&body);
}

/* --- session timers (RFC 4028) ------------------------------------------- */

static void on_refresh_resp(struct leg_req *r, const struct sip_msg *resp, int err)
{
	struct leg *l = r->leg;
	l->busy_out = false;
	if (resp && resp->status < 200)
		return;
	if (err || !resp || resp->status == 481 || resp->status == 408) {
		call_end(l->call, 408, "Request Timeout", "system", "session refresh failed");
		return;
	}
	if (resp->status < 300) {
		struct sbuf s;
		sbuf_init(&s);
		if (!sip_dialog_request(&l->dlg, &s, "ACK", resp->cseq.num, l->via, NULL, NULL, NULL, NULL, 0))
			sip_transport_send(l->call->m->d.tp, &l->dlg.peer, s.p, s.len);
		sbuf_free(&s);
		call_session_timer_start(l->call);
	}
}

static void on_session(void *arg)
{
	struct call *c = arg;
	if (c->we_refresh && !c->a.busy_out && !c->a.relay_st) {
		/* We refresh the caller with the same SDP (no change, same o=
		 * version): every phone understands a re-INVITE. */
		c->a.busy_out = true;
		if (!call_leg_request(&c->a, "INVITE", NULL, "application/sdp", c->a.sdp_sent,
				      c->a.sdp_sent_len, REQ_REFRESH, on_refresh_resp))
			return;
		c->a.busy_out = false;
	}
	call_end(c, 408, "Request Timeout", "system", "session expired without refresh");
}

void call_session_timer_start(struct call *c)
{
	if (!c->session_interval || c->ending)
		return;
	const struct call_deps *p = &c->m->d;
	/* the refresher refreshes at half the interval; the other side
	 * gives up a little before the end (RFC 4028 10) */
	uint64_t ms = c->we_refresh ? (uint64_t)c->session_interval * 500u
				    : (uint64_t)c->session_interval * 1000u - (c->session_interval >= 96 ? 32000u : c->session_interval * 333u);
	loop_timer_start(p->loop, &c->session, ms, on_session, c);
}

/* --- entry point ---------------------------------------------------------- */

static void on_ack(struct leg *l, const struct sip_msg *req)
{
	if (!l->resp2xx || req->cseq.num != l->resp2xx_cseq)
		return; /* a retransmission, or for an older 2xx */
	call_leg_stop_2xx(l);
	if (l->answer_in_ack) {
		l->answer_in_ack = false;
		if (req->body.l)
			callm_ack_answer(l->call, l, req->body.p, req->body.l);
		else
			log_warn(CALL_TAG, "call %u: an ACK without the answer to our offer; media unchanged",
				 l->call->id);
	}
}

bool call_on_in_dialog(struct call_mgr *m, struct sip_tsx *st, const struct sip_msg *req,
		       const struct sip_peer *from)
{
	loop_assert_owner(m ? m->d.loop : NULL);
	struct leg *l = call_leg_find(m, req->call_id.p, req->call_id.l, req->to.tag.p, req->to.tag.l);
	if (!l || l->call->ending || !sip_dialog_match_request(&l->dlg, req))
		return false;
	struct call *c = l->call;
	if (!st) {
		on_ack(l, req);
		return true;
	}
	if (sip_dialog_accept_request(&l->dlg, req)) {
		sip_tsx_reply(st, 500, "Server Internal Error", "Retry-After: 1\r\n");
		return true;
	}
	/* the peer may have moved (NAT rebinding): answer where it is now */
	l->dlg.peer = *from;
	if (pl_eq(req->method, PL("BYE"))) {
		sip_tsx_reply(st, 200, "OK", NULL);
		l->state = LEG_DONE;
		if (l == &c->a)
			call_end(c, 487, "Request Terminated", "caller", "caller hung up");
		else if (l == c->winner)
			call_end(c, 200, "OK", "callee", "callee hung up");
		/* else: the early dialog of a fork that did not win */
		return true;
	}
	if (pl_eq(req->method, PL("OPTIONS"))) {
		sip_tsx_reply(st, 200, "OK", "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO\r\n");
		return true;
	}
	if (pl_eq(req->method, PL("INVITE")) || pl_eq(req->method, PL("UPDATE")) ||
	    pl_eq(req->method, PL("INFO"))) {
		if (!c->answered) {
			sip_tsx_reply(st, pl_eq(req->method, PL("INVITE")) ? 491 : 500, NULL, NULL);
			return true;
		}
		relay_offer(l, st, req);
		return true;
	}
	sip_tsx_reply(st, 501, "Not Implemented",
		      "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO\r\n");
	return true;
}

static void ignore_resp(const struct sip_msg *msg, int err, void *arg)
{
	(void)msg;
	(void)err;
	(void)arg;
}

/* A 2xx that no transaction wanted is a retransmission (our ACK was
 * lost) or the answer of a fork we no longer hold: ACK it again, or ACK
 * and BYE it, so no phone is left ringing into a dead call. */
void call_on_stray_response(struct call_mgr *m, const struct sip_msg *resp,
			    const struct sip_peer *from)
{
	loop_assert_owner(m ? m->d.loop : NULL);
	if (resp->status < 200 || resp->status >= 300 || !pl_eq(resp->cseq.method, PL("INVITE")))
		return;
	struct leg *l = call_leg_find(m, resp->call_id.p, resp->call_id.l, resp->from.tag.p,
				      resp->from.tag.l);
	if (l && l->ack && l->ack_cseq == resp->cseq.num) {
		sip_transport_send(m->d.tp, &l->dlg.peer, l->ack, l->ack_len);
		return;
	}
	if (l || !call_id_is_ours(m, resp->call_id))
		return; /* a 2xx for a call we never placed: forged or lost */
	struct sip_dialog d;
	const struct sip_hdr *fh = sip_msg_hdr(resp, SIP_HDR_FROM);
	const struct sip_hdr *th = sip_msg_hdr(resp, SIP_HDR_TO);
	const struct sip_hdr *ch = sip_msg_hdr(resp, SIP_HDR_CONTACT);
	struct sip_addr ca;
	if (!fh || !th || !ch || sip_addr_parse(&ca, ch->value) || !resp->to.tag.p)
		return;
	char cid[256], ftag[64], target[512];
	pl_strcpy(resp->call_id, cid, sizeof(cid));
	pl_strcpy(resp->from.tag, ftag, sizeof(ftag));
	pl_strcpy(ca.uri_raw, target, sizeof(target));
	struct leg tmp;
	memset(&tmp, 0, sizeof(tmp));
	tmp.dlg.peer = *from;
	call_leg_local(m, &tmp);
	char fromv[512], tov[512];
	pl_strcpy(fh->value, fromv, sizeof(fromv));
	/* the From value already carries our tag; the dialog adds it again,
	 * so cut it here */
	char *tagp = strstr(fromv, ";tag=");
	if (tagp)
		*tagp = '\0';
	pl_strcpy(th->value, tov, sizeof(tov));
	tagp = strstr(tov, ";tag=");
	if (tagp)
		*tagp = '\0';
	if (sip_dialog_uac_init(&d, cid, ftag, fromv, tov, target, from, tmp.contact) ||
	    sip_dialog_uac_update(&d, resp))
		return;
	struct sbuf s;
	sbuf_init(&s);
	if (!sip_dialog_request(&d, &s, "ACK", resp->cseq.num, tmp.via, NULL, NULL, NULL, NULL, 0))
		sip_transport_send(m->d.tp, from, s.p, s.len);
	sbuf_reset(&s);
	d.local_cseq = resp->cseq.num;
	if (!sip_dialog_request(&d, &s, "BYE", 0, tmp.via, NULL, NULL, NULL, NULL, 0))
		sip_tsx_send_request(m->d.tsx, from, s.p, s.len, ignore_resp, NULL, NULL);
	sbuf_free(&s);
	log_info(CALL_TAG, "answer to an abandoned call leg %s: sent ACK and BYE", cid);
}
