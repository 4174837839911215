/*
 * Message-summary subscriptions (see mwi.h). Each subscription is a SIP
 * dialog (core/sip/dialog.h) we are the notifier of, with its expiry
 * timer and at most one NOTIFY in flight: a change that arrives while one
 * is outstanding is sent when it is answered, so a phone never sees an
 * older count after a newer one. They sit in one list: a small office has
 * a few dozen phones, and the two walks (a mailbox's subscribers, a
 * dialog's) run per SUBSCRIBE or per change, never per packet. Counts are
 * asked through mwi_deps.counts; an answer names the subscription by id,
 * not by pointer, since it may have ended meanwhile.
 */
#include "mwi_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../db/db.h"
#include "../../db/mwi.h"
#include "../../db/store.h"
#include "../base/conf.h"
#include "../base/list.h"
#include "../base/log.h"
#include "../base/loop.h"
#include "../base/sbuf.h"
#include "../ident/authn.h"
#include "../ident/ext_table.h"
#include "../sip/dialog.h"
#include "../sip/msg.h"
#include "../sip/tsx.h"

#define TAG MWI_TAG
#define EVENT "message-summary"
#define CTYPE "application/simple-message-summary"

struct sub {
	struct list_node le;
	struct mwi *m;
	uint64_t id;
	char mailbox[32];
	struct sip_dialog dlg;
	char via[128];             /* our Via towards the phone, without branch */
	char host[64];             /* our address towards it (Message-Account) */
	uint64_t expires_mono;
	int64_t expires_wall;
	struct loop_timer timer;
	struct sip_tsx *ct;        /* the NOTIFY in flight, if any */
	bool again;                /* counts changed while it was in flight */
	bool fetch;                /* Expires: 0 on a new SUBSCRIBE: one final NOTIFY */
	bool have_counts;
	int new_msgs, old_msgs;    /* the last counts read */
};

struct ask {
	struct list_node le;
	struct mwi *m;             /* NULL once mwi_free ran: done only frees */
	uint64_t sub_id;           /* 0: every subscription of mailbox */
	char mailbox[32];
};

static struct sub *sub_of(struct list_node *n)
{
	return container_of(n, struct sub, le);
}

/* --- persistence (runs on the store thread) ------------------------------ */

struct persist_job {
	bool del;
	struct db_mwi_sub row;
};

static void persist_run(struct db *db, void *arg)
{
	struct persist_job *j = arg;
	int err = j->del ? db_mwi_delete(db, j->row.call_id, j->row.local_tag)
			 : db_mwi_save(db, &j->row);
	if (err && err != ENOENT)
		log_err(TAG, "cannot store the subscription of %s: %s", j->row.mailbox,
			db_errmsg(db));
	free(j);
}

static void persist(struct sub *s, bool del)
{
	struct mwi *m = s->m;
	if (!m->d.store || s->fetch)
		return;
	struct persist_job *j = calloc(1, sizeof(*j));
	if (!j) {
		log_err(TAG, "out of memory saving the subscription of %s", s->mailbox);
		return;
	}
	j->del = del;
	struct db_mwi_sub *r = &j->row;
	const struct sip_dialog *d = &s->dlg;
	snprintf(r->call_id, sizeof(r->call_id), "%s", d->call_id);
	snprintf(r->local_tag, sizeof(r->local_tag), "%s", d->local_tag);
	snprintf(r->mailbox, sizeof(r->mailbox), "%s", s->mailbox);
	if (!del) {
		snprintf(r->remote_tag, sizeof(r->remote_tag), "%s", d->remote_tag);
		snprintf(r->local_hdr, sizeof(r->local_hdr), "%s", d->local_hdr);
		snprintf(r->remote_hdr, sizeof(r->remote_hdr), "%s", d->remote_hdr);
		snprintf(r->remote_target, sizeof(r->remote_target), "%s", d->remote_target);
		snprintf(r->routes, sizeof(r->routes), "%s", d->routes);
		snprintf(r->local_contact, sizeof(r->local_contact), "%s", d->local_contact);
		sip_peer_str(&d->peer, r->peer, sizeof(r->peer));
		r->local_cseq = d->local_cseq;
		r->remote_cseq = d->remote_cseq;
		r->expires_at = s->expires_wall;
	}
	if (store_post(m->d.store, persist_run, j))
		free(j);
}

/* --- subscriptions ------------------------------------------------------- */

static void sub_free(struct sub *s)
{
	struct mwi *m = s->m;
	if (s->ct)
		sip_tsx_forget(s->ct);
	loop_timer_cancel(&s->timer);
	list_remove(&m->subs, &s->le);
	m->n--;
	free(s);
}

static struct sub *sub_new(struct mwi *m, const char *mailbox)
{
	struct sub *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->m = m;
	s->id = ++m->next_id;
	snprintf(s->mailbox, sizeof(s->mailbox), "%s", mailbox);
	loop_timer_init(&s->timer);
	list_push_back(&m->subs, &s->le);
	m->n++;
	return s;
}

static struct sub *sub_by_id(struct mwi *m, uint64_t id)
{
	struct list_node *n;
	list_foreach(&m->subs, n)
		if (sub_of(n)->id == id)
			return sub_of(n);
	return NULL;
}

/* Our Via, Contact and address towards the phone, from where it is. */
void mwi_local_for(struct mwi *m, const struct sip_peer *peer, char *via, size_t via_cap,
		   char *contact, size_t contact_cap, char *host, size_t host_cap)
{
	uint16_t port;
	sip_transport_local_for(m->d.tp, peer, host, host_cap, &port);
	bool v6 = strchr(host, ':') != NULL;
	bool tcp = peer->tp == SIP_TP_TCP;
	snprintf(via, via_cap, "SIP/2.0/%s %s%s%s:%u", tcp ? "TCP" : "UDP", v6 ? "[" : "", host,
		 v6 ? "]" : "", port);
	snprintf(contact, contact_cap, "sip:hookflash@%s%s%s:%u%s", v6 ? "[" : "", host,
		 v6 ? "]" : "", port, tcp ? ";transport=tcp" : "");
}

void mwi_account(const struct mwi *m, const char *mailbox, const char *host, char *out,
		 size_t cap)
{
	if (m->d.conf && m->d.conf->domain[0])
		host = m->d.conf->domain;
	bool v6 = strchr(host, ':') != NULL;
	snprintf(out, cap, "sip:%s@%s%s%s", mailbox, v6 ? "[" : "", host, v6 ? "]" : "");
}

static void sub_local(struct sub *s)
{
	mwi_local_for(s->m, &s->dlg.peer, s->via, sizeof(s->via), s->dlg.local_contact,
		      sizeof(s->dlg.local_contact), s->host, sizeof(s->host));
}

static uint32_t sub_left(const struct sub *s)
{
	uint64_t now = loop_now(s->m->d.loop);
	return s->expires_mono > now ? (uint32_t)((s->expires_mono - now + 999) / 1000) : 0;
}

/* --- NOTIFY -------------------------------------------------------------- */

static void notify(struct sub *s);

static void ignore_resp(const struct sip_msg *msg, int err, void *arg)
{
	(void)msg;
	(void)err;
	(void)arg;
}

static void on_notify_resp(const struct sip_msg *msg, int err, void *arg)
{
	struct sub *s = arg;
	if (msg && msg->status < 200)
		return;
	s->ct = NULL;
	/* RFC 6665 4.1.2.4 and 4.2.2: 481 says the subscription is gone at
	 * the phone, 408 (or no answer at all) that it is unreachable */
	if (err || msg->status == 481 || msg->status == 408) {
		log_info(TAG, "subscription of %s ended: NOTIFY got %s", s->mailbox,
			 err ? strerror(err) : msg->status == 481 ? "481" : "408");
		persist(s, true);
		sub_free(s);
		return;
	}
	if (msg->status >= 300)
		log_info(TAG, "NOTIFY to %s answered %u", s->mailbox, msg->status);
	if (s->again) {
		s->again = false;
		notify(s);
	}
}

/* Sends one NOTIFY with the last counts: active, or terminated with
 * reason (NULL: none) when the subscription ends with it. */
static int send_notify(struct sub *s, const char *reason)
{
	struct mwi *m = s->m;
	char account[200];
	mwi_account(m, s->mailbox, s->host, account, sizeof(account));
	struct sbuf body, hdrs, req;
	sbuf_init(&body);
	sbuf_init(&hdrs);
	sbuf_init(&req);
	mwi_body(&body, account, s->have_counts ? s->new_msgs : 0,
		 s->have_counts ? s->old_msgs : 0);
	sbuf_adds(&hdrs, "Event: " EVENT "\r\n");
	bool terminated = reason != NULL;
	if (!terminated)
		sbuf_printf(&hdrs, "Subscription-State: active;expires=%u\r\n", sub_left(s));
	else if (reason[0])
		sbuf_printf(&hdrs, "Subscription-State: terminated;reason=%s\r\n", reason);
	else
		sbuf_adds(&hdrs, "Subscription-State: terminated\r\n");
	int err = body.err || hdrs.err ? ENOMEM : 0;
	if (!err)
		err = sip_dialog_request(&s->dlg, &req, "NOTIFY", 0, s->via, NULL, hdrs.p, CTYPE,
					 body.p, body.len);
	struct sip_tsx *ct = NULL;
	if (!err)
		err = sip_tsx_send_request(m->d.tsx, &s->dlg.peer, req.p, req.len,
					   terminated ? ignore_resp : on_notify_resp,
					   terminated ? NULL : s, &ct);
	if (err)
		log_warn(TAG, "cannot send NOTIFY to %s: %s", s->mailbox, strerror(err));
	else if (!terminated)
		s->ct = ct; /* the transport never answers inside the send */
	sbuf_free(&body);
	sbuf_free(&hdrs);
	sbuf_free(&req);
	return err;
}

static void notify(struct sub *s)
{
	if (s->ct) {
		s->again = true;
		return;
	}
	if (!send_notify(s, NULL))
		persist(s, false); /* the CSeq moved: a restart must go on from it */
}

/* Ends s with a last NOTIFY (reason as send_notify's) and forgets it. */
static void sub_end(struct sub *s, const char *reason)
{
	if (s->ct) {
		sip_tsx_forget(s->ct);
		s->ct = NULL;
	}
	send_notify(s, reason);
	persist(s, true);
	sub_free(s);
}

static void on_expire(void *arg)
{
	struct sub *s = arg;
	log_info(TAG, "subscription of %s expired", s->mailbox);
	sub_end(s, "timeout");
}

static void sub_arm(struct sub *s, uint32_t expires)
{
	struct mwi *m = s->m;
	s->expires_mono = loop_now(m->d.loop) + (uint64_t)expires * 1000u;
	s->expires_wall = (int64_t)time(NULL) + expires;
	loop_timer_start(m->d.loop, &s->timer, (uint64_t)expires * 1000u, on_expire, s);
}

/* --- counts -------------------------------------------------------------- */

static void apply_counts(struct sub *s, int new_msgs, int old_msgs)
{
	if (new_msgs >= 0 && old_msgs >= 0) {
		s->new_msgs = new_msgs;
		s->old_msgs = old_msgs;
		s->have_counts = true;
	} /* else: unreadable; the last counts (or none) are sent again */
	if (s->fetch)
		sub_end(s, "timeout");
	else
		notify(s);
}

static void on_counts(int new_msgs, int old_msgs, void *arg)
{
	struct ask *a = arg;
	struct mwi *m = a->m;
	if (!m) {
		free(a);
		return;
	}
	list_remove(&m->asks, &a->le);
	if (a->sub_id) {
		struct sub *s = sub_by_id(m, a->sub_id);
		if (s)
			apply_counts(s, new_msgs, old_msgs);
	} else {
		struct list_node *n, *tmp;
		list_foreach_safe(&m->subs, n, tmp)
			if (!strcmp(sub_of(n)->mailbox, a->mailbox))
				apply_counts(sub_of(n), new_msgs, old_msgs);
	}
	free(a);
}

/* Asks the counts of mailbox for one subscription (sub_id) or all of
 * its subscribers (0); a failure sends the last counts known. */
static void ask_counts(struct mwi *m, const char *mailbox, uint64_t sub_id)
{
	struct ask *a = calloc(1, sizeof(*a));
	if (!a || !m->d.counts) {
		free(a);
		log_warn(TAG, "cannot read the counts of mailbox %s", mailbox);
		struct sub *s = sub_id ? sub_by_id(m, sub_id) : NULL;
		if (s)
			apply_counts(s, -1, -1);
		return;
	}
	a->m = m;
	a->sub_id = sub_id;
	snprintf(a->mailbox, sizeof(a->mailbox), "%s", mailbox);
	list_push_back(&m->asks, &a->le);
	m->d.counts(a->mailbox, on_counts, a, m->d.deps_arg);
}

/* --- SUBSCRIBE ----------------------------------------------------------- */

static void reply(struct sip_tsx *st, uint16_t status, const char *reason, const char *hdrs)
{
	int err = sip_tsx_reply(st, status, reason, hdrs);
	if (err)
		log_debug(TAG, "cannot send %u: %s", status, strerror(err));
}

/* The 2xx that makes or refreshes the subscription: our tag, Contact and
 * the granted expiry (RFC 6665 4.2.1.1). */
static void reply_ok(struct sub *s, struct sip_tsx *st, uint32_t expires)
{
	const struct sip_msg *req = sip_tsx_request(st);
	const struct sip_peer *from = sip_tsx_peer(st);
	char host[64];
	sip_peer_addr_str(from, host, sizeof(host));
	struct sbuf b;
	sbuf_init(&b);
	sip_msg_build_response(&b, req, 200, "OK", s->dlg.local_tag, host, sip_peer_port(from));
	sbuf_printf(&b, "Contact: <%s>\r\nExpires: %u\r\n", s->dlg.local_contact, expires);
	sip_msg_build_end(&b, NULL, NULL, 0);
	int err = b.err;
	if (!err)
		err = sip_tsx_reply_raw(st, 200, b.p, b.len);
	if (err)
		log_debug(TAG, "cannot answer SUBSCRIBE: %s", strerror(err));
	sbuf_free(&b);
}

/* Event: message-summary (parameters such as ;id= are allowed). */
static bool is_ours(const struct sip_msg *req)
{
	const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_EVENT);
	if (!h)
		return false;
	struct pl v = h->value;
	const char *semi = memchr(v.p, ';', v.l);
	if (semi)
		v.l = (size_t)(semi - v.p);
	return pl_casestr(pl_trim(v), EVENT);
}

/* The expiry asked, bounded; false after answering 423. */
static bool expires_of(struct sip_tsx *st, const struct sip_msg *req, uint32_t *out)
{
	int64_t e = req->expires < 0 ? MWI_DEFAULT_EXPIRES : req->expires;
	if (e > 0 && e < MWI_MIN_EXPIRES) {
		char hdr[48];
		snprintf(hdr, sizeof(hdr), "Min-Expires: %d\r\n", MWI_MIN_EXPIRES);
		reply(st, 423, "Interval Too Brief", hdr);
		return false;
	}
	*out = e > MWI_MAX_EXPIRES ? MWI_MAX_EXPIRES : (uint32_t)e;
	return true;
}

static void bad_event(struct sip_tsx *st)
{
	reply(st, 489, "Bad Event", "Allow-Events: " EVENT "\r\n");
}

void mwi_on_subscribe(struct mwi *m, struct sip_tsx *st, const struct sip_msg *req,
		      const struct sip_peer *from)
{
	loop_assert_owner(m ? m->d.loop : NULL);
	if (!is_ours(req)) {
		bad_event(st);
		return;
	}
	/* Who subscribes: a trusted device by its address, else digest. */
	const struct ext *e = ext_table_find_trusted(*m->d.exts, (const struct sockaddr *)&from->addr,
						     req->from.uri.user);
	if (!e) {
		struct sbuf h;
		sbuf_init(&h);
		enum authn_result r = authn_check(m->d.authn, req, from, *m->d.exts, false, &e, &h);
		if (r == AUTHN_BANNED)
			sip_tsx_drop(st);
		else if (r == AUTHN_CHALLENGE) /* stateless: RFC 3261 26.3.2.4 */
			sip_tsx_reply_stateless(st, 401, "Unauthorized", h.err ? NULL : h.p);
		else if (r == AUTHN_FORBIDDEN)
			reply(st, 403, "Forbidden", NULL);
		sbuf_free(&h);
		if (r != AUTHN_OK)
			return;
	}
	/* Only one's own mailbox: the account is the Request-URI (RFC 3842
	 * 4), and a phone that puts it in To only is let through too. */
	if (!pl_casestr(req->ruri.user, e->number) && !pl_casestr(req->to.uri.user, e->number)) {
		reply(st, 403, "Forbidden", NULL);
		return;
	}
	uint32_t expires;
	if (!expires_of(st, req, &expires))
		return;
	struct sub *s = sub_new(m, e->number);
	if (!s) {
		reply(st, 500, "Server Internal Error", NULL);
		return;
	}
	char tag[24];
	sip_random_token(tag, sizeof(tag), 16);
	s->dlg.peer = *from;
	sub_local(s);
	char contact[sizeof(s->dlg.local_contact)];
	snprintf(contact, sizeof(contact), "%s", s->dlg.local_contact);
	if (sip_dialog_uas_init(&s->dlg, req, from, tag, contact)) {
		sub_free(s);
		reply(st, 400, "Bad Request", NULL);
		return;
	}
	char src[96];
	sip_peer_str(from, src, sizeof(src));
	if (!expires) {
		/* a fetch (RFC 6665 4.4.3): one NOTIFY, terminated, no state */
		s->fetch = true;
		log_info(TAG, "%s fetched the state of its mailbox from %s", e->number, src);
	} else {
		sub_arm(s, expires);
		log_info(TAG, "%s subscribed to its mailbox from %s for %u s", e->number, src, expires);
	}
	reply_ok(s, st, expires);
	persist(s, false);
	ask_counts(m, s->mailbox, s->id);
}

bool mwi_on_in_dialog(struct mwi *m, struct sip_tsx *st, const struct sip_msg *req,
		      const struct sip_peer *from)
{
	loop_assert_owner(m ? m->d.loop : NULL);
	if (!m || !st || !pl_eq(req->method, PL("SUBSCRIBE")))
		return false;
	struct sub *s = NULL;
	struct list_node *n;
	list_foreach(&m->subs, n)
		if (!sub_of(n)->fetch && sip_dialog_match_request(&sub_of(n)->dlg, req)) {
			s = sub_of(n);
			break;
		}
	if (!s)
		return false;
	/* The dialog's unguessable identifiers stand for the authentication
	 * of the SUBSCRIBE that made it, as for a call's re-INVITE. */
	if (!is_ours(req)) {
		bad_event(st);
		return true;
	}
	if (sip_dialog_accept_request(&s->dlg, req)) {
		reply(st, 500, "Server Internal Error", "Retry-After: 1\r\n");
		return true;
	}
	uint32_t expires;
	if (!expires_of(st, req, &expires))
		return true;
	/* a SUBSCRIBE refreshes the target (RFC 6665 4.1.2.1); the phone
	 * may have moved behind its NAT */
	const struct sip_hdr *ch = sip_msg_hdr(req, SIP_HDR_CONTACT);
	struct sip_addr a;
	if (ch && !sip_addr_parse(&a, ch->value) && !a.star &&
	    a.uri_raw.l < sizeof(s->dlg.remote_target))
		pl_strcpy(a.uri_raw, s->dlg.remote_target, sizeof(s->dlg.remote_target));
	s->dlg.peer = *from;
	sub_local(s);
	if (!expires) {
		log_info(TAG, "%s unsubscribed from its mailbox", s->mailbox);
		s->expires_mono = loop_now(m->d.loop);
		reply_ok(s, st, 0);
		sub_end(s, "");
		return true;
	}
	sub_arm(s, expires);
	reply_ok(s, st, expires);
	/* a refresh is answered with a NOTIFY too (RFC 6665 4.2.1.2) */
	ask_counts(m, s->mailbox, s->id);
	return true;
}

void mwi_changed(struct mwi *m, const char *mailbox)
{
	loop_assert_owner(m ? m->d.loop : NULL);
	if (!m || !mailbox)
		return;
	struct list_node *n;
	list_foreach(&m->subs, n)
		if (!strcmp(sub_of(n)->mailbox, mailbox)) {
			ask_counts(m, mailbox, 0);
			return;
		}
}

int mwi_restore(struct mwi *m, const struct db_mwi_sub *row, int64_t now_wall)
{
	loop_assert_owner(m ? m->d.loop : NULL);
	if (row->expires_at <= now_wall)
		return ESTALE;
	struct sip_peer peer;
	if (sip_peer_parse(row->peer, &peer))
		return EINVAL;
	struct sub *s = sub_new(m, row->mailbox);
	if (!s)
		return ENOMEM;
	struct sip_dialog *d = &s->dlg;
	snprintf(d->call_id, sizeof(d->call_id), "%s", row->call_id);
	snprintf(d->local_tag, sizeof(d->local_tag), "%s", row->local_tag);
	snprintf(d->remote_tag, sizeof(d->remote_tag), "%s", row->remote_tag);
	snprintf(d->local_hdr, sizeof(d->local_hdr), "%s", row->local_hdr);
	snprintf(d->remote_hdr, sizeof(d->remote_hdr), "%s", row->remote_hdr);
	snprintf(d->remote_target, sizeof(d->remote_target), "%s", row->remote_target);
	snprintf(d->routes, sizeof(d->routes), "%s", row->routes);
	d->confirmed = true;
	d->local_cseq = row->local_cseq;
	d->remote_cseq = row->remote_cseq;
	d->remote_cseq_set = true;
	d->peer = peer;
	sub_local(s); /* our address may have changed with the restart */
	sub_arm(s, (uint32_t)(row->expires_at - now_wall));
	ask_counts(m, s->mailbox, s->id);
	return 0;
}

void mwi_retain(struct mwi *m, mwi_keep_h *keep, void *arg)
{
	loop_assert_owner(m ? m->d.loop : NULL);
	if (!m)
		return;
	struct list_node *n, *tmp;
	list_foreach_safe(&m->subs, n, tmp)
		if (!keep(sub_of(n)->mailbox, arg)) {
			log_info(TAG, "mailbox %s is gone: ending its subscription", sub_of(n)->mailbox);
			sub_end(sub_of(n), "noresource");
		}
}

size_t mwi_count(const struct mwi *m)
{
	return m ? m->n : 0;
}

int mwi_alloc(struct mwi **out, const struct mwi_deps *d)
{
	loop_assert_owner(d ? d->loop : NULL);
	if (!out || !d || !d->loop || !d->tsx || !d->authn || !d->exts)
		return EINVAL;
	struct mwi *m = calloc(1, sizeof(*m));
	if (!m)
		return ENOMEM;
	m->d = *d;
	list_init(&m->subs);
	list_init(&m->asks);
	list_init(&m->unsol);
	*out = m;
	return 0;
}

void mwi_free(struct mwi *m)
{
	if (!m)
		return;
	loop_assert_owner(m->d.loop);
	struct list_node *n;
	while ((n = m->subs.head))
		sub_free(sub_of(n));
	/* answers still on their way find the ask orphaned and free it */
	while ((n = list_pop_front(&m->asks)))
		container_of(n, struct ask, le)->m = NULL;
	mwi_unsol_orphan_all(m);
	free(m);
}
