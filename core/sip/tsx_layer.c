/*
 * SIP transaction layer (RFC 3261 section 17), the part both state
 * machines share: the hash table that owns every transaction of one
 * signalling loop, dispatch of received messages to the client
 * (tsx_client.c) or server (tsx_server.c) side, sending, timers,
 * termination that stays safe while a callback is running, and the random
 * branches and tokens the rest of the stack uses for Via, tags and Call-IDs.
 *
 * Transactions are keyed by a keyed hash (SipHash, base/hash.h) of the
 * branch (or, for RFC 2543 requests without the magic cookie, of Call-ID
 * and CSeq number); the chain walk then applies the exact rule of 17.1.3
 * or 17.2.3. The table (base/hash.h's htab)
 * doubles when it averages two entries per bucket, so tens of thousands of
 * live transactions cost O(1) per message without a fixed-size guess.
 *
 * Server transactions that hold their request (everything but a completed
 * non-INVITE, which keeps only its key and last response) are counted per
 * source address and in all, and capped (sip_tsx_layer_set_limits): past
 * a cap a new request is answered 503 with Retry-After without a
 * transaction, so one address cannot take the memory of everyone.
 */
#include "tsx_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../base/log.h"

#define MIN_BUCKETS 256

/* --- randomness ---------------------------------------------------------- */

/* splitmix64: only used if OpenSSL's generator fails (it should not), so
 * that branches stay unique even then; they need not be secret. */
static uint64_t fallback_next(void)
{
	static _Thread_local uint64_t s;
	if (!s) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		s = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^
		    ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&s;
	}
	uint64_t z = (s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rand_fill(unsigned char *p, size_t n)
{
	if (RAND_bytes(p, (int)n) == 1)
		return;
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = fallback_next();
		size_t k = n - i < 8 ? n - i : 8;
		memcpy(p + i, &v, k);
	}
}

void sip_random_token(char *out, size_t cap, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[32];
	if (!out || !cap)
		return;
	if (n > cap - 1)
		n = cap - 1;
	for (size_t i = 0; i < n;) {
		size_t k = n - i < 2 * sizeof(r) ? n - i : 2 * sizeof(r);
		rand_fill(r, (k + 1) / 2);
		for (size_t j = 0; j < k; j++)
			out[i + j] = hex[(r[j / 2] >> ((j & 1) * 4)) & 15];
		i += k;
	}
	out[n] = '\0';
}

void sip_tsx_branch(char *out, size_t cap)
{
	static const char cookie[] = "z9hG4bK";
	if (!out || !cap)
		return;
	size_t n = sizeof(cookie) - 1 < cap - 1 ? sizeof(cookie) - 1 : cap - 1;
	memcpy(out, cookie, n);
	out[n] = '\0';
	if (n == sizeof(cookie) - 1)
		sip_random_token(out + n, cap - n, 16);
}

/* --- hash table ---------------------------------------------------------- */

bool tsx_has_cookie(struct pl branch)
{
	/* RFC 3261 8.1.1.7: exactly these seven characters, case included. */
	return branch.p && branch.l > 7 && memcmp(branch.p, "z9hG4bK", 7) == 0;
}

size_t tsx_hash_branch(const struct sip_tsx_layer *tl, struct pl branch)
{
	return (size_t)hash_pl(&tl->seed, branch);
}

size_t tsx_hash_2543(const struct sip_tsx_layer *tl, struct pl call_id, uint32_t cseq)
{
	/* Call-ID, then the CSeq number as 4 fixed bytes: no ambiguity */
	struct hash_state st;
	hash_init(&st, &tl->seed);
	hash_update_pl(&st, call_id);
	hash_update(&st, &cseq, sizeof(cseq));
	return (size_t)hash_final(&st);
}

/* The table doubles when it averages two entries per bucket; if memory is
 * short chains just grow longer: correct, only slower. */
void tsx_link(struct sip_tsx *t, size_t hash)
{
	htab_insert(&t->tl->tab, &t->hn, hash);
}

static void unlink_tsx(struct sip_tsx *t)
{
	htab_remove(&t->tl->tab, &t->hn);
}

/* --- per-source caps ----------------------------------------------------- */

/* The source's IP as a key: IPv4 (also when v4-mapped), or the whole IPv6
 * address; the port is left out, a phone's TCP connections change it. */
static uint8_t src_key(const struct sip_peer *p, uint8_t key[17])
{
	if (p->addr.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&p->addr;
		key[0] = 4;
		memcpy(key + 1, &sin->sin_addr, 4);
		return 5;
	}
	if (p->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&p->addr;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			key[0] = 4;
			memcpy(key + 1, sin6->sin6_addr.s6_addr + 12, 4);
			return 5;
		}
		key[0] = 6;
		memcpy(key + 1, sin6->sin6_addr.s6_addr, 16);
		return 17;
	}
	key[0] = 0;
	return 1;
}

struct tsx_src *tsx_src_admit(struct sip_tsx_layer *tl, const struct sip_peer *from, bool *over)
{
	uint8_t key[17];
	uint8_t klen = src_key(from, key);
	size_t h = (size_t)hash_bytes(&tl->seed, key, klen);
	struct tsx_src *s = NULL;

	*over = false;
	for (struct hnode *n = htab_first(&tl->srcs, h); n; n = htab_next(n)) {
		struct tsx_src *c = container_of(n, struct tsx_src, hn);
		if (c->klen == klen && memcmp(c->key, key, klen) == 0) {
			s = c;
			break;
		}
	}
	if ((tl->max_held && tl->held >= tl->max_held) ||
	    (s && tl->max_per_src && s->n >= tl->max_per_src)) {
		*over = true;
		return NULL;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return NULL;
		s->klen = klen;
		memcpy(s->key, key, klen);
		htab_insert(&tl->srcs, &s->hn, h);
	}
	s->n++;
	tl->held++;
	return s;
}

void tsx_src_release(struct sip_tsx *t)
{
	struct tsx_src *s = t->src;
	if (!s)
		return;
	t->src = NULL;
	t->tl->held--;
	if (--s->n == 0) {
		htab_remove(&t->tl->srcs, &s->hn);
		free(s);
	}
}

void sip_tsx_layer_set_limits(struct sip_tsx_layer *tl, size_t per_source, size_t total)
{
	if (!tl)
		return;
	tl->max_per_src = per_source;
	tl->max_held = total;
}

size_t sip_tsx_held(const struct sip_tsx_layer *tl)
{
	return tl ? tl->held : 0;
}

uint64_t sip_tsx_refused(const struct sip_tsx_layer *tl)
{
	return tl ? tl->refused : 0;
}

/* --- lifetime ------------------------------------------------------------ */

void tsx_free(struct sip_tsx *t)
{
	tsx_src_release(t);
	loop_timer_cancel(&t->t_retx);
	loop_timer_cancel(&t->t_end);
	unlink_tsx(t);
	if (t->req)
		sip_msg_free(t->req);
	free(t->key);
	free(t->last);
	free(t);
}

void tsx_terminate(struct sip_tsx *t)
{
	if (t->state == TSX_TERMINATED)
		return;
	t->state = TSX_TERMINATED;
	loop_timer_cancel(&t->t_retx);
	loop_timer_cancel(&t->t_end);
	unlink_tsx(t);
	log_debug(TSX_TAG, "%s %.*s %.*s terminated", t->server ? "server" : "client",
		  tsx_loglen(t->method), t->method.p, tsx_loglen(t->branch), t->branch.p);
	if (!t->busy)
		tsx_free(t);
}

void tsx_hold(struct sip_tsx *t)
{
	t->busy++;
}

bool tsx_release(struct sip_tsx *t)
{
	if (--t->busy == 0 && t->state == TSX_TERMINATED) {
		tsx_free(t);
		return false;
	}
	return t->state != TSX_TERMINATED;
}

/* --- sending and timers -------------------------------------------------- */

int tsx_send(struct sip_tsx *t, const char *data, size_t len)
{
	struct sip_tsx_layer *tl = t->tl;
	int err = tl->send(&t->peer, data, len, tl->send_arg);
	if (err)
		log_warn(TSX_TAG, "%s %.*s %.*s: send failed: %s",
			 t->server ? "server" : "client", tsx_loglen(t->method),
			 t->method.p, tsx_loglen(t->branch), t->branch.p, strerror(err));
	return err;
}

int tsx_timer_start(struct sip_tsx *t, struct loop_timer *tm, uint64_t ms, loop_timer_h *h)
{
	int err = loop_timer_start(t->tl->loop, tm, ms, h, t);
	if (err)
		log_err(TSX_TAG, "%.*s %.*s: cannot start timer: %s", tsx_loglen(t->method),
			t->method.p, tsx_loglen(t->branch), t->branch.p, strerror(err));
	return err;
}

/* --- the layer ----------------------------------------------------------- */

int sip_tsx_layer_alloc(struct sip_tsx_layer **out, struct loop *loop,
			const struct sip_tsx_timers *timers,
			sip_tsx_send_h *send, void *send_arg,
			sip_tsx_req_h *req_h, void *req_arg)
{
	if (!out || !loop || !send || !req_h)
		return EINVAL;
	struct sip_tsx_layer *tl = calloc(1, sizeof(*tl));
	if (!tl)
		return ENOMEM;
	if (htab_init(&tl->tab, MIN_BUCKETS, 2)) {
		free(tl);
		return ENOMEM;
	}
	if (htab_init(&tl->srcs, MIN_BUCKETS, 2)) {
		htab_fini(&tl->tab);
		free(tl);
		return ENOMEM;
	}
	tl->max_per_src = SIP_TSX_DEFAULT_PER_SOURCE;
	tl->max_held = SIP_TSX_DEFAULT_TOTAL;
	tl->loop = loop;
	tl->send = send;
	tl->send_arg = send_arg;
	tl->req_h = req_h;
	tl->req_arg = req_arg;
	tl->tm.t1 = timers && timers->t1 ? timers->t1 : 500;
	tl->tm.t2 = timers && timers->t2 ? timers->t2 : 4000;
	tl->tm.t4 = timers && timers->t4 ? timers->t4 : 5000;
	if (tl->tm.t2 < tl->tm.t1)
		tl->tm.t2 = tl->tm.t1; /* a cap below the start makes no sense */
	tl->seed = hash_seed_random();
	*out = tl;
	return 0;
}

void sip_tsx_layer_free(struct sip_tsx_layer *tl)
{
	if (!tl)
		return;
	struct hnode *n;
	while ((n = htab_iter_first(&tl->tab)))
		tsx_free(container_of(n, struct sip_tsx, hn));
	htab_fini(&tl->tab);
	htab_fini(&tl->srcs); /* every entry went with its transactions */
	free(tl);
}

void sip_tsx_layer_recv(struct sip_tsx_layer *tl, struct sip_msg *msg,
			const struct sip_peer *from)
{
	if (!msg)
		return;
	if (!tl || !from) {
		sip_msg_free(msg);
		return;
	}
	if (msg->is_request)
		tsx_server_recv(tl, msg, from);
	else
		tsx_client_recv(tl, msg, from);
}

const struct sip_peer *sip_tsx_peer(const struct sip_tsx *t)
{
	return t ? &t->peer : NULL;
}

size_t sip_tsx_count(const struct sip_tsx_layer *tl)
{
	return tl ? tl->tab.count : 0;
}

void sip_tsx_layer_set_stray_h(struct sip_tsx_layer *tl, sip_tsx_stray_h *h, void *arg)
{
	tl->stray_h = h;
	tl->stray_arg = arg;
}
