/*
 * The call table (see call.h, call_int.h): calls in a list for the
 * control socket, legs in a hash of (Call-ID, our tag) so an in-dialog
 * request finds its leg in O(1) whichever side sent it. Also the
 * plumbing every call file shares: sending on a leg and remembering the
 * client transaction, building replies, teardown and the CDR.
 */
#include "call_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "../../db/store.h"
#include "../base/log.h"
#include "../media/media.h"
#include "../sip/msg.h"
#include "../sip/transport.h"
#include "../sip/tsx.h"

static void cid_mac(const struct call_mgr *m, const char *tok, size_t n, char hex[17])
{
	unsigned char md[32];
	unsigned int mdlen = sizeof(md);
	HMAC(EVP_sha256(), m->cid_key, sizeof(m->cid_key), (const unsigned char *)tok, n, md, &mdlen);
	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

void call_make_call_id(struct call_mgr *m, char *out, size_t cap)
{
	char tok[25], mac[17];
	sip_random_token(tok, sizeof(tok), 24);
	cid_mac(m, tok, strlen(tok), mac);
	snprintf(out, cap, "%s-%s@hookflash", tok, mac);
}

bool call_id_is_ours(const struct call_mgr *m, struct pl cid)
{
	/* "<24 token>-<16 hex>@hookflash" */
	if (cid.l != 24 + 1 + 16 + 10 || cid.p[24] != '-' || memcmp(cid.p + 41, "@hookflash", 10))
		return false;
	char mac[17];
	cid_mac(m, cid.p, 24, mac);
	return CRYPTO_memcmp(mac, cid.p + 25, 16) == 0;
}

int64_t call_wall_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static size_t leg_key(const struct call_mgr *m, const char *cid, size_t cidl, const char *tag,
		      size_t tagl)
{
	struct hash_state st;
	hash_init(&st, &m->seed);
	hash_update(&st, cid, cidl);
	hash_update(&st, "\n", 1); /* a Call-ID has no line break: the two never run together */
	hash_update(&st, tag, tagl);
	return (size_t)hash_final(&st);
}

void call_leg_hash(struct call_mgr *m, struct leg *l)
{
	if (hnode_linked(&l->hn))
		return;
	htab_insert(&m->legs, &l->hn, leg_key(m, l->dlg.call_id, strlen(l->dlg.call_id),
						l->dlg.local_tag, strlen(l->dlg.local_tag)));
}

void call_leg_unhash(struct call_mgr *m, struct leg *l)
{
	htab_remove(&m->legs, &l->hn);
}

struct leg *call_leg_find(struct call_mgr *m, const char *cid, size_t cidl,
			  const char *tag, size_t tagl)
{
	if (!cid || !tag)
		return NULL;
	size_t h = leg_key(m, cid, cidl, tag, tagl);
	for (struct hnode *n = htab_first(&m->legs, h); n; n = htab_next(n)) {
		struct leg *l = container_of(n, struct leg, hn);
		if (strlen(l->dlg.call_id) == cidl && !memcmp(l->dlg.call_id, cid, cidl) &&
		    strlen(l->dlg.local_tag) == tagl && !memcmp(l->dlg.local_tag, tag, tagl))
			return l;
	}
	return NULL;
}

static struct ext_calls *ext_find(struct call_mgr *m, const char *ext, size_t *hash)
{
	*hash = (size_t)hash_str(&m->seed, ext);
	for (struct hnode *n = htab_first(&m->ext_calls, *hash); n; n = htab_next(n)) {
		struct ext_calls *e = container_of(n, struct ext_calls, hn);
		if (!strcmp(e->ext, ext))
			return e;
	}
	return NULL;
}

unsigned call_ext_count(struct call_mgr *m, const char *ext)
{
	size_t h;
	struct ext_calls *e = ext_find(m, ext, &h);
	return e ? e->n : 0;
}

void call_ext_add(struct call_mgr *m, const char *ext, int delta)
{
	if (!ext[0])
		return;
	size_t h;
	struct ext_calls *e = ext_find(m, ext, &h);
	if (!e && delta > 0) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return;
		snprintf(e->ext, sizeof(e->ext), "%s", ext);
		htab_insert(&m->ext_calls, &e->hn, h);
	}
	if (!e)
		return;
	e->n = delta < 0 && e->n < (unsigned)-delta ? 0 : e->n + (unsigned)delta;
	if (!e->n) {
		htab_remove(&m->ext_calls, &e->hn);
		free(e);
	}
}

struct leg *call_other_leg(struct leg *l)
{
	struct call *c = l->call;
	return l == &c->a ? c->winner : &c->a;
}

/* --- client transactions of a leg ---------------------------------------- */

struct sent_req {
	struct leg_req r;
	leg_resp_h *h;
};

static void on_leg_resp(const struct sip_msg *resp, int err, void *arg)
{
	struct sent_req *s = arg;
	bool final = err || !resp || resp->status >= 200;
	struct leg *l = s->r.leg;
	if (final && l) /* unlink before the handler: it may free the leg */
		list_remove(&l->reqs, &s->r.le);
	if (l)
		s->h(&s->r, resp, err);
	if (final)
		free(s);
}

int call_leg_send(struct leg *l, const char *data, size_t len, int kind, leg_resp_h *h,
		  struct sip_tsx **ctp)
{
	const struct call_deps *p = &l->call->m->d;
	struct sent_req *s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	s->r.leg = l;
	s->r.kind = kind;
	s->h = h;
	list_push_front(&l->reqs, &s->r.le);
	struct sip_tsx *ct = NULL;
	int err = sip_tsx_send_request(p->tsx, &l->dlg.peer, data, len, on_leg_resp, s, &ct);
	if (err) {
		list_remove(&l->reqs, &s->r.le);
		free(s);
		return err;
	}
	s->r.ct = ct;
	if (ctp)
		*ctp = ct;
	return 0;
}

void call_leg_forget_reqs(struct leg *l)
{
	struct list_node *n;
	while ((n = list_pop_front(&l->reqs))) {
		struct leg_req *r = container_of(n, struct leg_req, le);
		if (r->ct)
			sip_tsx_forget(r->ct);
		/* the transaction keeps running to its end; its callback
		 * will not come, so the record goes now */
		free((struct sent_req *)(void *)r);
	}
}

int call_leg_request(struct leg *l, const char *method, const char *extra,
		     const char *ctype, const char *body, size_t body_len, int kind,
		     leg_resp_h *h)
{
	struct sbuf b;
	sbuf_init(&b);
	int err = sip_dialog_request(&l->dlg, &b, method, 0, l->via, NULL, extra, ctype, body,
				     body_len);
	if (!err)
		err = call_leg_send(l, b.p, b.len, kind, h, NULL);
	sbuf_free(&b);
	return err;
}

void call_leg_local(struct call_mgr *m, struct leg *l)
{
	char host[64];
	uint16_t port;
	sip_transport_local_for(m->d.tp, &l->dlg.peer, host, sizeof(host), &port);
	bool v6 = strchr(host, ':') != NULL;
	const char *tp = l->dlg.peer.tp == SIP_TP_TCP ? "TCP" : "UDP";
	snprintf(l->via, sizeof(l->via), "SIP/2.0/%s %s%s%s:%u", tp, v6 ? "[" : "", host,
		 v6 ? "]" : "", port);
	snprintf(l->contact, sizeof(l->contact), "sip:hookflash@%s%s%s:%u%s", v6 ? "[" : "", host,
		 v6 ? "]" : "", port, l->dlg.peer.tp == SIP_TP_TCP ? ";transport=tcp" : "");
	snprintf(l->dlg.local_contact, sizeof(l->dlg.local_contact), "%s", l->contact);
}

/* dialog: a response that makes or confirms a dialog (1xx/2xx to an
 * INVITE, 2xx to a request in one), with our Contact and what we allow */
static int reply(struct leg *l, struct sip_tsx *st, uint16_t status, const char *reason,
		 bool dialog, const char *extra, const char *sdp, size_t sdp_len)
{
	const struct sip_msg *req = sip_tsx_request(st);
	const struct sip_peer *from = sip_tsx_peer(st);
	char host[64];
	sip_peer_addr_str(from, host, sizeof(host));
	struct sbuf b;
	sbuf_init(&b);
	sip_msg_build_response(&b, req, status, reason, status > 100 ? l->dlg.local_tag : NULL,
			       host, sip_peer_port(from));
	if (dialog && status > 100 && status < 300)
		sbuf_printf(&b, "Contact: <%s>\r\n", l->contact);
	if (dialog && status >= 200 && status < 300)
		sbuf_adds(&b, "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO\r\n"
			      "Supported: timer\r\n");
	if (extra)
		sbuf_adds(&b, extra);
	sip_msg_build_end(&b, sdp ? "application/sdp" : NULL, sdp, sdp ? sdp_len : 0);
	int err = b.err;
	if (!err)
		err = sip_tsx_reply_raw(st, status, b.p, b.len);
	sbuf_free(&b);
	return err;
}

int call_reply(struct leg *l, struct sip_tsx *st, uint16_t status, const char *reason,
	       const char *extra, const char *sdp, size_t sdp_len)
{
	return reply(l, st, status, reason, true, extra, sdp, sdp_len);
}

int call_reply_plain(struct leg *l, struct sip_tsx *st, uint16_t status, const char *reason)
{
	return reply(l, st, status, reason, false, NULL, NULL, 0);
}

/* --- lifecycle ------------------------------------------------------------ */

struct call *call_new(struct call_mgr *m)
{
	struct call *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->m = m;
	c->id = ++m->next_id;
	if (!c->id)
		c->id = ++m->next_id;
	c->a.call = c;
	c->a.idx = 0;
	loop_timer_init(&c->noanswer);
	loop_timer_init(&c->session);
	loop_timer_init(&c->app_timer);
	loop_timer_init(&c->a.t2xx);
	c->start_ms = call_wall_ms();
	c->start_mono = loop_now(m->d.loop);
	list_push_front(&m->calls, &c->le);
	m->ncalls++;
	m->stats.started++;
	return c;
}

static void leg_release(struct call_mgr *m, struct leg *l)
{
	call_leg_unhash(m, l);
	call_leg_forget_reqs(l);
	call_leg_stop_2xx(l);
	free(l->ack);
	l->ack = NULL;
}

void call_free_leg(struct call *c, struct leg *l)
{
	leg_release(c->m, l);
	if (l != &c->a)
		free(l);
}

static void cdr_store(struct db *db, void *arg)
{
	struct db_cdr *cdr = arg;
	size_t kept, flushed;
	int err = db_cdr_insert_or_keep(db, cdr, &kept, &flushed);
	if (flushed)
		log_info(CALL_TAG, "%zu CDRs kept while the database refused writes are stored now",
			   flushed);
	if (err && kept)
		log_err(CALL_TAG, "cannot store the CDR of call %s: %s; kept in memory and written"
			" when the database takes writes again (%zu waiting)", cdr->call_id_a,
			db_errmsg(db), kept);
	else if (err)
		log_err(CALL_TAG, "cannot store the CDR of call %s: %s; lost (no room left to keep"
			" it: %u at most)", cdr->call_id_a, db_errmsg(db), DB_CDR_KEEP_MAX);
	free(cdr);
}

void call_cdr_post(struct call_mgr *m, const struct db_cdr *src)
{
	struct db_cdr *cdr = malloc(sizeof(*cdr));
	if (!cdr) {
		log_err(CALL_TAG, "out of memory: CDR of %s lost", src->call_id_a);
		return;
	}
	*cdr = *src;
	if (store_post(m->d.store, cdr_store, cdr))
		free(cdr);
}

static void call_free(struct call *c)
{
	for (int i = 0; i < c->nb; i++)
		call_free_leg(c, c->b[i]);
	list_remove(&c->m->calls, &c->le);
	free(c);
}

/* The media is gone: the CDR is complete. The call itself stays until
 * its last unanswered fork has its final response (call_reap). */
static void call_finish(struct call *c)
{
	struct call_mgr *m = c->m;
	call_cdr_post(m, &c->cdr);
	c->finished = true;
	m->ncalls--;
	call_reap(c);
}

void call_reap(struct call *c)
{
	if (c->ending && c->finished && !c->nb)
		call_free(c);
}

void call_forget_fork(struct call *c, struct leg *b)
{
	for (int i = 0; i < c->nb; i++)
		if (c->b[i] == b) {
			c->b[i] = c->b[--c->nb];
			call_free_leg(c, b);
			break;
		}
	call_reap(c);
}

static const char *disposition(struct call *c, uint16_t status)
{
	if (c->answered && !strcmp(c->kind, "vm"))
		return "VOICEMAIL"; /* answered by the mailbox, not a person */
	if (c->answered)
		return "ANSWERED";
	if (status == 487)
		return "CANCELLED";
	if (status == 486 || status == 600)
		return "BUSY";
	if (status == 480 || status == 408)
		return "NO ANSWER";
	return "FAILED";
}

void call_end(struct call *c, uint16_t status_to_a, const char *reason,
	      const char *side, const char *cause)
{
	if (c->ending)
		return;
	c->ending = true;
	struct call_mgr *m = c->m;
	call_app_stop(c);
	call_ext_add(m, c->caller_ext, -1);
	if (strcmp(c->callee_ext, c->caller_ext))
		call_ext_add(m, c->callee_ext, -1);
	loop_timer_cancel(&c->noanswer);
	loop_timer_cancel(&c->session);

	/* the caller first: a final answer, or a BYE when talking */
	if (c->a.inv_st) {
		call_reply(&c->a, c->a.inv_st, status_to_a, reason,
			   status_to_a >= 300 && c->warning[0] ? c->warning : NULL, NULL, 0);
		c->a.inv_st = NULL;
	} else if (c->a.state == LEG_UP && strcmp(side, "caller")) {
		call_send_bye(&c->a);
	}
	for (int i = 0; i < c->nb; i++) {
		struct leg *b = c->b[i];
		if (b->state == LEG_UP && !(b == c->winner && !strcmp(side, "callee")))
			call_send_bye(b);
		else if (b->state == LEG_TRYING || b->state == LEG_EARLY)
			call_fork_cancel(b);
	}

	int64_t now = call_wall_ms();
	struct db_cdr *r = &c->cdr;
	snprintf(r->call_id_a, sizeof(r->call_id_a), "%s", c->a.dlg.call_id);
	if (c->winner)
		snprintf(r->call_id_b, sizeof(r->call_id_b), "%s", c->winner->dlg.call_id);
	snprintf(r->caller, sizeof(r->caller), "%s", c->caller);
	snprintf(r->caller_name, sizeof(r->caller_name), "%s", c->caller_name);
	snprintf(r->callee, sizeof(r->callee), "%s", c->callee);
	snprintf(r->callee_name, sizeof(r->callee_name), "%s", c->callee_name);
	r->start_ms = c->start_ms;
	r->answer_ms = c->answered ? c->answer_ms : 0;
	r->end_ms = now;
	uint16_t st = c->answered ? 200 : status_to_a;
	snprintf(r->disposition, sizeof(r->disposition), "%s", disposition(c, status_to_a));
	r->duration_s = (int)((now - c->start_ms + 500) / 1000);
	r->billsec = c->answered ? (int)((now - c->answer_ms + 500) / 1000) : 0;
	r->hangup_status = st;
	snprintf(r->hangup_cause, sizeof(r->hangup_cause), "%s", cause);
	snprintf(r->hangup_side, sizeof(r->hangup_side), "%s", side);
	snprintf(r->codec, sizeof(r->codec), "%s", c->codec);
	snprintf(r->path, sizeof(r->path), "%s", c->path);
	if (c->answered)
		; /* counted when answered */
	else if (!strcmp(r->disposition, "BUSY"))
		m->stats.busy++;
	else if (!strcmp(r->disposition, "NO ANSWER"))
		m->stats.no_answer++;
	else if (!strcmp(r->disposition, "CANCELLED"))
		m->stats.cancelled++;
	else
		m->stats.failed++;
	if (c->answered)
		log_info(CALL_TAG, "call %u %s -> %s ended: %s (%s, %s)", c->id, c->caller, c->callee,
			 r->disposition, cause, side);
	else
		call_log_failed(c, status_to_a, reason, r->disposition, cause, side);

	/* Legs stop hearing their dialogs now; transactions already sent
	 * (BYE, CANCEL) finish by themselves. A fork whose INVITE is not
	 * answered yet stays until it is: it may still need its CANCEL
	 * (after its first provisional, RFC 3261 9.1) or an ACK and BYE for a
	 * 2xx that crosses the CANCEL; its final response lets it go
	 * (call_forget_fork), and the call with it (call_reap). */
	for (int i = 0; i < c->nb;) {
		struct leg *b = c->b[i];
		if (b->inv_ct && b->state != LEG_DONE && b->state != LEG_UP) {
			i++;
			continue;
		}
		c->b[i] = c->b[--c->nb];
		call_free_leg(c, b);
	}
	c->winner = NULL;
	call_free_leg(c, &c->a);
	callm_destroy(c, call_finish);
}

/* --- DTMF ------------------------------------------------------------------ */

void call_dtmf_note(struct call *c, unsigned leg, char digit, const char *src)
{
	log_info(CALL_TAG, "call %u: DTMF '%c' from %s (%s)", c->id, digit,
		 leg == 0 ? "caller" : "callee", src);
	size_t n = strlen(c->dtmf);
	if (n == CALL_DTMF_KEEP) {
		memmove(c->dtmf, c->dtmf + 1, n - 1);
		n--;
	}
	c->dtmf[n] = digit;
	c->dtmf[n + 1] = '\0';
	if (leg == 0) /* whatever carried it, an app hears the caller's keys */
		call_app_event(c, &(struct app_event){ .type = APP_EV_DTMF, .digit = digit });
}

/* --- queries -------------------------------------------------------------- */

void call_each(struct call_mgr *m, call_each_h *h, void *arg)
{
	loop_assert_owner(m ? m->d.loop : NULL);
	uint64_t now = loop_now(m->d.loop);
	struct list_node *n;
	list_foreach(&m->calls, n) {
		struct call *c = container_of(n, struct call, le);
		if (c->ending)
			continue;
		struct call_info ci = {
			.id = c->id,
			.caller = c->caller,
			.callee = c->callee,
			.state = !c->answered ? "ringing" : c->on_hold ? "hold" : "answered",
			.duration_s = (uint32_t)((now - c->start_mono) / 1000),
			.codec = c->codec,
			.dtmf = c->dtmf,
		};
		h(&ci, arg);
	}
}

size_t call_count(const struct call_mgr *m)
{
	loop_assert_owner(m ? m->d.loop : NULL);
	return m->ncalls;
}

int call_hangup(struct call_mgr *m, uint32_t id)
{
	loop_assert_owner(m ? m->d.loop : NULL);
	struct list_node *n;
	list_foreach(&m->calls, n) {
		struct call *c = container_of(n, struct call, le);
		if (c->id == id && !c->ending) {
			call_end(c, 480, "Temporarily Unavailable", "admin", "hung up by administrator");
			return 0;
		}
	}
	return ENOENT;
}

void call_mgr_stats(const struct call_mgr *m, struct call_stats *s)
{
	loop_assert_owner(m ? m->d.loop : NULL);
	*s = m->stats;
}

void call_mgr_media_totals(const struct call_mgr *m, uint64_t *relayed, uint64_t *lost)
{
	loop_assert_owner(m ? m->d.loop : NULL);
	callm_engine_totals(m, relayed, lost);
}

int call_mgr_alloc(struct call_mgr **out, const struct call_deps *deps)
{
	loop_assert_owner(deps ? deps->loop : NULL);
	struct call_mgr *m = calloc(1, sizeof(*m));
	if (!m)
		return ENOMEM;
	m->d = *deps;
	if (RAND_bytes(m->cid_key, sizeof(m->cid_key)) != 1) {
		free(m);
		return EIO;
	}
	m->seed = hash_seed_random();
	list_init(&m->calls);
	int err = htab_init(&m->legs, 1024, 2);
	if (!err && (err = htab_init(&m->ext_calls, 256, 2)))
		htab_fini(&m->legs);
	if (!err && (err = callm_engine_alloc(m))) {
		htab_fini(&m->legs);
		htab_fini(&m->ext_calls);
	}
	if (err) {
		free(m);
		return err;
	}
	*out = m;
	return 0;
}

void call_mgr_free(struct call_mgr *m)
{
	loop_assert_owner(m ? m->d.loop : NULL);
	if (!m)
		return;
	/* End every live call; calls already ending wait for their media
	 * statistics, which callm_engine_free settles. call_end may free the
	 * call at once, so the next one is taken first. */
	struct list_node *n, *tmp;
	list_foreach_safe(&m->calls, n, tmp) {
		struct call *c = container_of(n, struct call, le);
		if (!c->ending)
			call_end(c, 503, "Service Unavailable", "system", "shutdown");
	}
	callm_engine_free(m);
	/* forks still waiting for a final response are forgotten */
	list_foreach_safe(&m->calls, n, tmp)
		call_free(container_of(n, struct call, le));
	for (struct hnode *h = htab_iter_first(&m->ext_calls), *next; h; h = next) {
		next = htab_iter_next(&m->ext_calls, h);
		htab_remove(&m->ext_calls, h);
		free(container_of(h, struct ext_calls, hn));
	}
	htab_fini(&m->ext_calls);
	htab_fini(&m->legs);
	free(m);
}
