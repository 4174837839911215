/*
 * Registrar (see registrar.h). Bindings are grouped per extension (an
 * "AOR") in a chained hash table (base/hash.h, randomly keyed), newest
 * binding first; each binding owns its expiry timer. The
 * request is checked completely before anything changes, so a REGISTER
 * that fails half-way (423 for one contact of three) leaves the bindings
 * as they were, as RFC 3261 10.3 asks.
 */
#include "registrar.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../db/db.h"
#include "../../db/store.h"
#include "../base/hash.h"
#include "../base/list.h"
#include "../base/log.h"
#include "../base/loop.h"
#include "../base/sbuf.h"
#include "../ident/ext_table.h"
#include "../sip/msg.h"
#include "../sip/tsx.h"

#define NBUCKETS 4096 /* to start with; doubles past two AORs a bucket */
#define MAX_CONTACTS_PER_REQ 16
#define CONTACT_MAX 500

struct aor;

struct binding {
	struct list_node le; /* in aor->bindings, newest first */
	struct aor *aor;
	struct registrar *r;
	char *contact;        /* URI text; uri slices point into it */
	struct sip_uri uri;
	struct sip_peer source;
	char call_id[256];
	uint32_t cseq;
	uint64_t expires_mono;
	int64_t expires_wall;
	int64_t registered_at;
	char user_agent[256];
	struct loop_timer timer;
};

struct aor {
	struct hnode hn;       /* in registrar->aors */
	char ext[32];
	struct list bindings;  /* never empty while the aor exists */
	unsigned n;
};

struct registrar {
	struct loop *loop;
	struct store *store;
	struct reg_cfg cfg;
	struct hash_seed seed;
	struct htab aors;     /* struct aor by extension number */
	size_t count;         /* bindings */
};

static struct binding *binding_of(struct list_node *n)
{
	return n ? container_of(n, struct binding, le) : NULL;
}

static struct aor *aor_find(struct registrar *r, const char *ext, bool create)
{
	size_t h = (size_t)hash_str(&r->seed, ext);
	for (struct hnode *n = htab_first(&r->aors, h); n; n = htab_next(n)) {
		struct aor *a = container_of(n, struct aor, hn);
		if (!strcmp(a->ext, ext))
			return a;
	}
	if (!create)
		return NULL;
	struct aor *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	snprintf(a->ext, sizeof(a->ext), "%s", ext);
	htab_insert(&r->aors, &a->hn, h);
	return a;
}

static void aor_drop_if_empty(struct registrar *r, struct aor *a)
{
	if (!list_empty(&a->bindings))
		return;
	htab_remove(&r->aors, &a->hn);
	free(a);
}

/* --- persistence (runs on the store thread) ----------------------------- */

enum persist_op { P_SAVE, P_DELETE, P_DELETE_EXT };

struct persist_job {
	enum persist_op op;
	struct db_reg row;
};

static void persist_run(struct db *db, void *arg)
{
	struct persist_job *j = arg;
	int err = 0;
	switch (j->op) {
	case P_SAVE:
		err = db_reg_save(db, &j->row);
		break;
	case P_DELETE:
		err = db_reg_delete(db, j->row.ext, j->row.contact);
		break;
	case P_DELETE_EXT:
		err = db_reg_delete_ext(db, j->row.ext);
		break;
	}
	if (err && err != ENOENT)
		log_err("reg", "cannot store registration of %s: %s", j->row.ext, db_errmsg(db));
	free(j);
}

static void persist(struct registrar *r, enum persist_op op, const struct binding *b,
		    const char *ext)
{
	if (!r->store)
		return;
	struct persist_job *j = calloc(1, sizeof(*j));
	if (!j) {
		log_err("reg", "out of memory saving a registration of %s", ext);
		return;
	}
	j->op = op;
	snprintf(j->row.ext, sizeof(j->row.ext), "%s", ext);
	if (b) {
		snprintf(j->row.contact, sizeof(j->row.contact), "%s", b->contact);
		sip_peer_str(&b->source, j->row.source, sizeof(j->row.source));
		snprintf(j->row.call_id, sizeof(j->row.call_id), "%s", b->call_id);
		j->row.cseq = b->cseq;
		j->row.expires_at = b->expires_wall;
		snprintf(j->row.user_agent, sizeof(j->row.user_agent), "%s", b->user_agent);
		j->row.registered_at = b->registered_at;
	}
	if (store_post(r->store, persist_run, j))
		free(j);
}

/* --- bindings ----------------------------------------------------------- */

static void binding_unlink(struct registrar *r, struct binding *b)
{
	struct aor *a = b->aor;
	list_remove(&a->bindings, &b->le);
	a->n--;
	r->count--;
	loop_timer_cancel(&b->timer);
	free(b->contact);
	free(b);
	aor_drop_if_empty(r, a);
}

/* Drops every binding of a, and so a itself. */
static void aor_clear(struct registrar *r, struct aor *a)
{
	while (a->bindings.head != a->bindings.tail)
		binding_unlink(r, binding_of(a->bindings.head));
	binding_unlink(r, binding_of(a->bindings.head)); /* frees a */
}

static void on_expire(void *arg)
{
	struct binding *b = arg;
	struct registrar *r = b->r;
	log_info("reg", "registration of %s at %s expired", b->aor->ext, b->contact);
	persist(r, P_DELETE, b, b->aor->ext);
	binding_unlink(r, b);
}

static int binding_set_contact(struct binding *b, struct pl uri)
{
	char *c = malloc(uri.l + 1);
	if (!c)
		return ENOMEM;
	memcpy(c, uri.p, uri.l);
	c[uri.l] = '\0';
	struct sip_uri u;
	if (sip_uri_parse(&u, (struct pl){ c, uri.l })) {
		free(c);
		return EINVAL;
	}
	free(b->contact);
	b->contact = c;
	b->uri = u;
	return 0;
}

static struct binding *binding_new(struct registrar *r, struct aor *a)
{
	struct binding *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->r = r;
	b->aor = a;
	loop_timer_init(&b->timer);
	list_push_front(&a->bindings, &b->le);
	a->n++;
	r->count++;
	return b;
}

static void binding_arm(struct registrar *r, struct binding *b, uint32_t expires)
{
	b->expires_mono = loop_now(r->loop) + (uint64_t)expires * 1000u;
	b->expires_wall = (int64_t)time(NULL) + expires;
	loop_timer_start(r->loop, &b->timer, (uint64_t)expires * 1000u, on_expire, b);
}

static struct binding *binding_find(struct aor *a, const struct sip_uri *u)
{
	struct list_node *n;
	if (!a)
		return NULL;
	list_foreach(&a->bindings, n)
		if (sip_uri_equal(&binding_of(n)->uri, u))
			return binding_of(n);
	return NULL;
}

/* --- REGISTER ----------------------------------------------------------- */

struct contact_req {
	struct sip_addr addr;
	uint32_t expires;
};

static void reply(struct sip_tsx *st, uint16_t status, const char *reason, const char *hdrs)
{
	int err = sip_tsx_reply(st, status, reason, hdrs);
	if (err)
		log_warn("reg", "cannot send %u response: %s", status, strerror(err));
}

static void reply_ok(struct registrar *r, struct sip_tsx *st, struct aor *a)
{
	struct sbuf h;
	sbuf_init(&h);
	uint64_t now = loop_now(r->loop);
	for (struct binding *b = a ? binding_of(a->bindings.head) : NULL; b;
	     b = binding_of(b->le.next)) {
		uint64_t left = b->expires_mono > now ? (b->expires_mono - now + 999) / 1000 : 0;
		sbuf_printf(&h, "Contact: <%s>;expires=%u\r\n", b->contact, (unsigned)left);
	}
	char date[64];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	sbuf_printf(&h, "Date: %s\r\n", date);
	if (h.err)
		reply(st, 500, "Server Internal Error", NULL);
	else
		reply(st, 200, "OK", h.p);
	sbuf_free(&h);
}

static void pl_to_str(struct pl s, char *dst, size_t cap)
{
	pl_strcpy(s, dst, cap);
}

void registrar_register(struct registrar *r, struct sip_tsx *st,
			const struct sip_msg *req, const struct sip_peer *from,
			const struct ext *e)
{
	loop_assert_owner(r ? r->loop : NULL);
	struct contact_req cr[MAX_CONTACTS_PER_REQ];
	size_t ncr = 0;
	bool star = false;
	uint64_t v;

	/* 1. Read every Contact and its expiry before changing anything. */
	for (const struct sip_hdr *h = sip_msg_hdr_next(req, SIP_HDR_CONTACT, NULL); h;
	     h = sip_msg_hdr_next(req, SIP_HDR_CONTACT, h)) {
		if (ncr == MAX_CONTACTS_PER_REQ) {
			reply(st, 403, "Too Many Contacts", NULL);
			return;
		}
		struct contact_req *c = &cr[ncr];
		if (sip_addr_parse(&c->addr, h->value)) {
			reply(st, 400, "Bad Contact", NULL);
			return;
		}
		if (c->addr.star) {
			star = true;
			ncr++;
			continue;
		}
		if (c->addr.uri_raw.l > CONTACT_MAX) {
			reply(st, 400, "Contact Too Long", NULL);
			return;
		}
		struct pl ev;
		if (sip_param_get(c->addr.params, "expires", &ev)) {
			if (pl_u64(ev, UINT32_MAX, &v)) {
				reply(st, 400, "Bad Contact Expires", NULL);
				return;
			}
			c->expires = (uint32_t)v;
		} else if (req->expires >= 0) {
			c->expires = req->expires > UINT32_MAX ? UINT32_MAX : (uint32_t)req->expires;
		} else {
			c->expires = r->cfg.default_expires;
		}
		if (c->expires != 0 && c->expires < r->cfg.min_expires) {
			char hdr[64];
			snprintf(hdr, sizeof(hdr), "Min-Expires: %u\r\n", r->cfg.min_expires);
			reply(st, 423, "Interval Too Brief", hdr);
			return;
		}
		if (c->expires > r->cfg.max_expires)
			c->expires = r->cfg.max_expires;
		ncr++;
	}

	struct aor *a = aor_find(r, e->number, false);
	char call_id[256];
	pl_to_str(req->call_id, call_id, sizeof(call_id));

	/* 2. Contact: * with Expires: 0 removes everything (10.3 step 6). */
	if (star) {
		if (ncr != 1 || req->expires != 0) {
			reply(st, 400, "Invalid Wildcard Contact", NULL);
			return;
		}
		if (a) {
			log_info("reg", "%s unregistered all contacts", e->number);
			persist(r, P_DELETE_EXT, NULL, e->number);
			aor_clear(r, a);
		}
		reply_ok(r, st, NULL);
		return;
	}

	/* 3. Out-of-order requests of the same Call-ID change nothing. */
	for (size_t i = 0; i < ncr; i++) {
		struct binding *b = binding_find(a, &cr[i].addr.uri);
		if (b && !strcmp(b->call_id, call_id) && req->cseq.num <= b->cseq) {
			reply(st, 500, "Out Of Order Request", "Retry-After: 1\r\n");
			return;
		}
	}

	/* 4. Apply. */
	char src[96];
	sip_peer_str(from, src, sizeof(src));
	const struct sip_hdr *ua = sip_msg_hdr(req, SIP_HDR_USER_AGENT);
	for (size_t i = 0; i < ncr; i++) {
		struct binding *b = binding_find(a, &cr[i].addr.uri);
		if (cr[i].expires == 0) {
			if (b) {
				log_info("reg", "%s unregistered %s", e->number, b->contact);
				persist(r, P_DELETE, b, e->number);
				bool last = a->n == 1;
				binding_unlink(r, b);
				if (last)
					a = NULL;
			}
			continue;
		}
		if (!b) {
			if (!a && !(a = aor_find(r, e->number, true)))
				break;
			if (a->n >= r->cfg.max_bindings) {
				/* the oldest binding makes room: a re-plugged phone
				 * must not be locked out by its own stale contacts */
				struct binding *old = binding_of(a->bindings.head);
				struct list_node *n;
				list_foreach(&a->bindings, n)
					if (binding_of(n)->registered_at < old->registered_at)
						old = binding_of(n);
				persist(r, P_DELETE, old, e->number);
				binding_unlink(r, old);
				if (!(a = aor_find(r, e->number, true)))
					break;
			}
			b = binding_new(r, a);
			if (!b)
				break;
			if (binding_set_contact(b, cr[i].addr.uri_raw)) {
				binding_unlink(r, b);
				a = aor_find(r, e->number, false);
				continue;
			}
			b->registered_at = (int64_t)time(NULL);
			log_info("reg", "%s registered %s from %s", e->number, b->contact, src);
		}
		b->source = *from;
		snprintf(b->call_id, sizeof(b->call_id), "%s", call_id);
		b->cseq = req->cseq.num;
		if (ua)
			pl_to_str(ua->value, b->user_agent, sizeof(b->user_agent));
		binding_arm(r, b, cr[i].expires);
		persist(r, P_SAVE, b, e->number);
	}
	reply_ok(r, st, aor_find(r, e->number, false));
}

/* --- restore, queries ---------------------------------------------------- */

int registrar_restore(struct registrar *r, const struct db_reg *row, int64_t now_wall)
{
	loop_assert_owner(r ? r->loop : NULL);
	if (row->expires_at <= now_wall)
		return ESTALE;
	struct sip_peer src;
	if (sip_peer_parse(row->source, &src))
		return EINVAL;
	struct aor *a = aor_find(r, row->ext, true);
	if (!a)
		return ENOMEM;
	struct binding *b = binding_new(r, a);
	if (!b)
		return ENOMEM;
	if (binding_set_contact(b, pl_from(row->contact))) {
		binding_unlink(r, b);
		return EINVAL;
	}
	b->source = src;
	snprintf(b->call_id, sizeof(b->call_id), "%s", row->call_id);
	b->cseq = row->cseq;
	snprintf(b->user_agent, sizeof(b->user_agent), "%s", row->user_agent);
	b->registered_at = row->registered_at;
	binding_arm(r, b, (uint32_t)(row->expires_at - now_wall));
	return 0;
}

void registrar_remove_ext(struct registrar *r, const char *ext)
{
	loop_assert_owner(r ? r->loop : NULL);
	struct aor *a = aor_find(r, ext, false);
	if (!a)
		return;
	log_info("reg", "extension %s is gone or disabled: dropping its registrations", ext);
	persist(r, P_DELETE_EXT, NULL, ext);
	aor_clear(r, a);
}

void registrar_retain(struct registrar *r, reg_keep_h *keep, void *arg)
{
	loop_assert_owner(r ? r->loop : NULL);
	struct hnode *n, *next;
	for (n = htab_iter_first(&r->aors); n; n = next) {
		next = htab_iter_next(&r->aors, n);
		struct aor *a = container_of(n, struct aor, hn);
		if (!keep(a->ext, arg))
			registrar_remove_ext(r, a->ext); /* frees a only */
	}
}

void registrar_each(struct registrar *r, reg_each_h *h, void *arg)
{
	loop_assert_owner(r ? r->loop : NULL);
	uint64_t now = loop_now(r->loop);
	for (struct hnode *hn = htab_iter_first(&r->aors); hn; hn = htab_iter_next(&r->aors, hn)) {
		struct aor *a = container_of(hn, struct aor, hn);
		struct list_node *n;
		list_foreach(&a->bindings, n) {
			struct binding *b = binding_of(n);
			struct reg_info ri = {
				.ext = a->ext,
				.contact = b->contact,
				.expires_in = b->expires_mono > now ? (uint32_t)((b->expires_mono - now + 999) / 1000) : 0,
				.user_agent = b->user_agent,
			};
			sip_peer_str(&b->source, ri.source, sizeof(ri.source));
			h(&ri, arg);
		}
	}
}

size_t registrar_count(const struct registrar *r)
{
	loop_assert_owner(r ? r->loop : NULL);
	return r->count;
}

size_t registrar_lookup(struct registrar *r, const char *ext, reg_contact_h *h, void *arg)
{
	loop_assert_owner(r ? r->loop : NULL);
	struct aor *a = aor_find(r, ext, false);
	size_t n = 0;
	for (struct binding *b = a ? binding_of(a->bindings.head) : NULL; b;
	     b = binding_of(b->le.next), n++)
		if (h)
			h(b->contact, &b->source, arg);
	return n;
}

int registrar_alloc(struct registrar **out, struct loop *loop, struct store *store,
		    const struct reg_cfg *cfg)
{
	loop_assert_owner(loop);
	struct registrar *r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	if (htab_init(&r->aors, NBUCKETS, 2)) {
		free(r);
		return ENOMEM;
	}
	r->seed = hash_seed_random();
	r->loop = loop;
	r->store = store;
	registrar_configure(r, cfg);
	*out = r;
	return 0;
}

void registrar_configure(struct registrar *r, const struct reg_cfg *cfg)
{
	loop_assert_owner(r ? r->loop : NULL);
	r->cfg = *cfg;
	if (!r->cfg.max_bindings)
		r->cfg.max_bindings = 10;
}

void registrar_free(struct registrar *r)
{
	loop_assert_owner(r ? r->loop : NULL);
	if (!r)
		return;
	struct hnode *n;
	while ((n = htab_iter_first(&r->aors)))
		aor_clear(r, container_of(n, struct aor, hn));
	htab_fini(&r->aors);
	free(r);
}

/* The IP of a socket address, IPv4-mapped IPv6 as IPv4: 4 or 16 bytes,
 * 0 for anything else. */
static size_t ip_of(const struct sockaddr *sa, unsigned char out[16])
{
	if (sa->sa_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return 4;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			memcpy(out, a->s6_addr + 12, 4);
			return 4;
		}
		memcpy(out, a->s6_addr, 16);
		return 16;
	}
	return 0;
}

bool registrar_has_source(struct registrar *r, const struct sockaddr *sa)
{
	unsigned char want[16], have[16];
	size_t n = sa ? ip_of(sa, want) : 0;
	if (!r || !n)
		return false;
	/* a walk over every binding: only run for a counted authentication
	 * failure, which costs a digest anyway */
	for (struct hnode *h = htab_iter_first(&r->aors); h; h = htab_iter_next(&r->aors, h)) {
		struct aor *a = container_of(h, struct aor, hn);
		struct list_node *le;
		list_foreach(&a->bindings, le) {
			const struct binding *b = binding_of(le);
			if (ip_of((const struct sockaddr *)&b->source.addr, have) == n &&
			    memcmp(have, want, n) == 0)
				return true;
		}
	}
	return false;
}
