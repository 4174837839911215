/*
 * Browser sessions and the login rate limiter, both in memory and shared
 * by the web worker threads under one mutex each (a lookup per request is
 * a short scan, far from any hot path). A session id is 256 random bits;
 * sessions end after 30 minutes idle or 8 hours in all, and a restart
 * ends them all, which for an admin UI is a feature. The limiter allows 5
 * failed logins per source in 5 minutes, then makes it wait 5 minutes;
 * attempts still running count against the limit, so a burst of parallel
 * guesses cannot slip past it while the KDF runs. Failures are also
 * counted per account name, whatever the address (guesses spread over
 * many addresses): after 5 the account is held for 2 s, then twice as
 * long after each further failure, up to 15 minutes, and the count is
 * forgotten an hour after the last failure or at the next success. The
 * hold never outlives its window, so the right password works again, and
 * an address that logged in to the account before is not held at all
 * (the owner's office is not locked out by a stranger's guessing; its
 * own guesses still meet the per-address limit). Unknown names are
 * counted the same way, so a hold does not tell which names exist.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "web_int.h"

#define SESS_MAX 1024
#define SESS_IDLE_MS (30ULL * 60 * 1000)
#define SESS_LIFE_MS (8ULL * 3600 * 1000)

#define LIM_MAX 4096
#define LIM_FAILS 5
#define LIM_WINDOW_MS (5ULL * 60 * 1000)
#define LIM_BLOCK_MS (5ULL * 60 * 1000)

#define ACCT_MAX 1024
#define ACCT_FREE 5                      /* failures before a hold */
#define ACCT_HOLD_MS 2000ULL             /* the first hold, doubled after */
#define ACCT_HOLD_MAX_MS (15ULL * 60 * 1000)
#define ACCT_FORGET_MS (60ULL * 60 * 1000)
#define ACCT_GOOD 4                      /* addresses remembered per account */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --- sessions ------------------------------------------------------------ */

struct sess {
	bool used;
	struct web_auth who;
	uint64_t created, seen;
};

struct web_sessions {
	pthread_mutex_t mu;
	struct sess v[SESS_MAX];
};

int web_sessions_alloc(struct web_sessions **out)
{
	struct web_sessions *s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	pthread_mutex_init(&s->mu, NULL);
	*out = s;
	return 0;
}

void web_sessions_free(struct web_sessions *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->mu);
	explicit_bzero(s->v, sizeof(s->v));
	free(s);
}

static bool expired(const struct sess *e, uint64_t now)
{
	return now - e->seen > SESS_IDLE_MS || now - e->created > SESS_LIFE_MS;
}

int web_session_create(struct web_sessions *s, const char *user, const char *role,
		       const char *ext, bool must_change, struct web_auth *a)
{
	memset(a, 0, sizeof(*a));
	if (web_random_hex(a->sid, 32) || web_random_hex(a->csrf, 32))
		return EIO;
	a->ok = a->session = true;
	snprintf(a->username, sizeof(a->username), "%s", user);
	snprintf(a->role, sizeof(a->role), "%s", role);
	snprintf(a->extension, sizeof(a->extension), "%s", ext ? ext : "");
	a->must_change = must_change;
	uint64_t now = now_ms();
	pthread_mutex_lock(&s->mu);
	/* a free or expired slot, else the one idle the longest */
	struct sess *slot = NULL;
	for (size_t i = 0; i < SESS_MAX; i++) {
		struct sess *e = &s->v[i];
		if (!e->used || expired(e, now)) {
			slot = e;
			break;
		}
		if (!slot || e->seen < slot->seen)
			slot = e;
	}
	slot->used = true;
	slot->who = *a;
	slot->created = slot->seen = now;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

static bool sid_ok(const char *sid)
{
	return sid && strlen(sid) == 64 && strspn(sid, "0123456789abcdef") == 64;
}

int web_session_get(struct web_sessions *s, const char *sid, struct web_auth *a)
{
	if (!sid_ok(sid))
		return ENOENT;
	uint64_t now = now_ms();
	int err = ENOENT;
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < SESS_MAX; i++) {
		struct sess *e = &s->v[i];
		if (!e->used || CRYPTO_memcmp(e->who.sid, sid, 64) != 0)
			continue;
		if (expired(e, now)) {
			explicit_bzero(e, sizeof(*e));
			break;
		}
		e->seen = now;
		*a = e->who;
		err = 0;
		break;
	}
	pthread_mutex_unlock(&s->mu);
	return err;
}

void web_session_end(struct web_sessions *s, const char *sid)
{
	if (!sid_ok(sid))
		return;
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < SESS_MAX; i++)
		if (s->v[i].used && CRYPTO_memcmp(s->v[i].who.sid, sid, 64) == 0)
			explicit_bzero(&s->v[i], sizeof(s->v[i]));
	pthread_mutex_unlock(&s->mu);
}

void web_session_end_user(struct web_sessions *s, const char *user)
{
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < SESS_MAX; i++)
		if (s->v[i].used && !strcmp(s->v[i].who.username, user))
			explicit_bzero(&s->v[i], sizeof(s->v[i]));
	pthread_mutex_unlock(&s->mu);
}

/* --- login rate limiter -------------------------------------------------- */

struct lim {
	char src[64]; /* "" when free */
	unsigned fails, inflight;
	uint64_t first_fail, blocked_until, seen;
};

struct acct {
	char user[DB_USER_NAME_MAX]; /* "" when free */
	unsigned fails, inflight;
	uint64_t last_fail, held_until, seen;
	char good[ACCT_GOOD][64]; /* sources that logged in to it */
};

struct web_limiter {
	pthread_mutex_t mu;
	struct lim v[LIM_MAX];
	struct acct a[ACCT_MAX];
};

int web_limiter_alloc(struct web_limiter **out)
{
	struct web_limiter *l = calloc(1, sizeof(*l));
	if (!l)
		return ENOMEM;
	pthread_mutex_init(&l->mu, NULL);
	*out = l;
	return 0;
}

void web_limiter_free(struct web_limiter *l)
{
	if (!l)
		return;
	pthread_mutex_destroy(&l->mu);
	free(l);
}

/* Under l->mu: e is a better entry to evict than old (not blocked
 * first, then the one seen longest ago). */
static bool evict_before(const struct lim *e, const struct lim *old, uint64_t now)
{
	bool eb = e->blocked_until > now, ob = old->blocked_until > now;
	return eb != ob ? !eb : e->seen < old->seen;
}

/* Under l->mu: the entry of src, or (create) a new one in a free slot or
 * in place of the best one to evict; entries with an attempt running
 * stay. A blocked source is only evicted when thousands of others are
 * blocked too. */
static struct lim *lim_find(struct web_limiter *l, const char *src, uint64_t now, bool create)
{
	struct lim *empty = NULL, *old = NULL;
	for (size_t i = 0; i < LIM_MAX; i++) {
		struct lim *e = &l->v[i];
		if (e->src[0] && !strcmp(e->src, src))
			return e;
		if (!create)
			continue;
		if (!e->src[0]) {
			if (!empty)
				empty = e;
		} else if (!e->inflight && (!old || evict_before(e, old, now))) {
			old = e;
		}
	}
	struct lim *v = empty ? empty : old;
	if (v) {
		memset(v, 0, sizeof(*v));
		snprintf(v->src, sizeof(v->src), "%s", src);
	}
	return v;
}

bool web_limiter_begin(struct web_limiter *l, const char *src, unsigned *retry_s)
{
	uint64_t now = now_ms();
	bool ok = true;
	pthread_mutex_lock(&l->mu);
	struct lim *e = lim_find(l, src, now, true);
	if (!e) { /* every entry busy with a running attempt: a flood */
		*retry_s = 1;
		ok = false;
	} else {
		e->seen = now;
		if (e->fails && now - e->first_fail > LIM_WINDOW_MS)
			e->fails = 0;
		if (e->blocked_until > now) {
			*retry_s = (unsigned)((e->blocked_until - now + 999) / 1000);
			ok = false;
		} else if (e->fails + e->inflight >= LIM_FAILS) {
			*retry_s = 1; /* the running attempts may still succeed */
			ok = false;
		} else {
			e->inflight++;
		}
	}
	pthread_mutex_unlock(&l->mu);
	return ok;
}

void web_limiter_end(struct web_limiter *l, const char *src, int result)
{
	uint64_t now = now_ms();
	pthread_mutex_lock(&l->mu);
	struct lim *e = lim_find(l, src, now, false);
	if (e) {
		if (e->inflight)
			e->inflight--;
		if (result > 0) {
			e->fails = 0;
		} else if (result == 0) {
			if (!e->fails)
				e->first_fail = now;
			if (++e->fails >= LIM_FAILS) {
				e->blocked_until = now + LIM_BLOCK_MS;
				e->fails = 0;
			}
		}
	}
	pthread_mutex_unlock(&l->mu);
}

/* --- per-account backoff ------------------------------------------------- */

/* Under l->mu: the entry of user, or (create) a free one or the one seen
 * longest ago that is neither held nor busy. */
static struct acct *acct_find(struct web_limiter *l, const char *user, uint64_t now, bool create)
{
	struct acct *empty = NULL, *old = NULL;
	for (size_t i = 0; i < ACCT_MAX; i++) {
		struct acct *e = &l->a[i];
		if (e->user[0] && !strcmp(e->user, user))
			return e;
		if (!create)
			continue;
		if (!e->user[0]) {
			if (!empty)
				empty = e;
		} else if (!e->inflight && e->held_until <= now && (!old || e->seen < old->seen)) {
			old = e;
		}
	}
	struct acct *v = empty ? empty : old;
	if (v) {
		memset(v, 0, sizeof(*v));
		snprintf(v->user, sizeof(v->user), "%s", user);
	}
	return v;
}

static bool acct_good(const struct acct *e, const char *src)
{
	for (int i = 0; i < ACCT_GOOD; i++)
		if (e->good[i][0] && !strcmp(e->good[i], src))
			return true;
	return false;
}

bool web_acct_begin(struct web_limiter *l, const char *user, const char *src, unsigned *retry_s)
{
	uint64_t now = now_ms();
	bool ok = true;
	pthread_mutex_lock(&l->mu);
	struct acct *e = acct_find(l, user, now, true);
	if (!e) { /* every entry held or busy: a flood */
		*retry_s = 1;
		ok = false;
	} else {
		e->seen = now;
		if (e->fails && now - e->last_fail > ACCT_FORGET_MS)
			e->fails = 0;
		if (acct_good(e, src)) {
			e->inflight++;
		} else if (e->held_until > now) {
			*retry_s = (unsigned)((e->held_until - now + 999) / 1000);
			ok = false;
		} else if (e->fails + e->inflight >= ACCT_FREE && e->inflight) {
			*retry_s = 1; /* past the free tries: one at a time */
			ok = false;
		} else {
			e->inflight++;
		}
	}
	pthread_mutex_unlock(&l->mu);
	return ok;
}

unsigned web_acct_end(struct web_limiter *l, const char *user, const char *src, int result,
		      unsigned *fails)
{
	uint64_t now = now_ms();
	unsigned held = 0;
	*fails = 0;
	pthread_mutex_lock(&l->mu);
	struct acct *e = acct_find(l, user, now, false);
	if (e) {
		if (e->inflight)
			e->inflight--;
		if (result > 0) {
			e->fails = 0;
			e->held_until = 0;
			if (!acct_good(e, src)) { /* the newest first */
				memmove(e->good[1], e->good[0], sizeof(e->good[0]) * (ACCT_GOOD - 1));
				snprintf(e->good[0], sizeof(e->good[0]), "%s", src);
			}
		} else if (result == 0) {
			e->last_fail = now;
			*fails = ++e->fails;
			if (e->fails >= ACCT_FREE) {
				unsigned shift = e->fails - ACCT_FREE;
				uint64_t ms = shift > 20 ? ACCT_HOLD_MAX_MS : ACCT_HOLD_MS << shift;
				if (ms > ACCT_HOLD_MAX_MS)
					ms = ACCT_HOLD_MAX_MS;
				e->held_until = now + ms;
				held = (unsigned)(ms / 1000);
			}
		}
	}
	pthread_mutex_unlock(&l->mu);
	return held;
}
