/*
 * Brute-force ban list (see ban.h). One entry per source that has failed
 * recently or is banned; a source that authenticates, or whose ban ends,
 * is forgotten, so the table holds only suspects.
 *
 * Counting: the window is cut into 8 slots; an entry keeps one counter per
 * slot, and the sum of the last 8 is its failure count. A failure thus
 * counts for between 7/8 of the window and all of it: we may miss a burst
 * straddling the window by up to one slot, but never ban for failures
 * spread wider than window_s. Exact timestamps would need fail_limit of
 * them per entry, which bounded memory at 65536 sources cannot afford.
 *
 * Memory: all entries are allocated up front (calloc, so untouched pages
 * cost nothing; entries are handed out in order, so they stay untouched
 * until needed). When full, a new source takes, in order, an entry whose
 * ban has ended, the least recently failing unbanned entry, or the banned
 * entry closest to release: a flood of fresh addresses can push out
 * counters, which is unavoidable, but bans go last.
 *
 * The table is keyed by SipHash with a random key (base/hash.h), since
 * attackers choose the addresses that land in it. Its chains stay
 * hand-made rather than an htab: entries are preallocated and reuse the
 * chain pointer for the free list, and at 65536 entries the htab's two
 * extra words each would cost a megabyte for nothing. Zeros in ban_cfg mean defaults: 10
 * failures in 60 s ban for 900 s. Owned by the signalling loop; no locks.
 *
 * Users (issue 17: one phone with a mistyped password must not cut off the
 * office behind the same NAT): each entry also counts the failures of the
 * last few user names seen from it. An address is banned when one user
 * passes the limit there, or all users together pass twice the limit (a
 * scanner walking through extension numbers); but an address the caller
 * says is in use (live registrations or dialogs) is never banned as a
 * whole: the offending user alone is refused from it for the ban time.
 */
#include "ban.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/hash.h"
#include "../base/list.h"

enum {
	NSLOT = 8,
	KEY_LEN = 9, /* family tag, then 4 (IPv4) or 8 (IPv6 /64) bytes */
	DEFAULT_LIMIT = 10,
	DEFAULT_WINDOW_S = 60,
	DEFAULT_BAN_S = 900,
	DEFAULT_MAX = 65536,
	LIMIT_MAX = 1 << 22,
};

enum list_id { L_FREE = 0, L_IDLE, L_BANNED };

enum { NUSER = 3, USER_LEN = 24 };

/* One user name's failures from the address, and its own ban there. */
struct ufail {
	uint64_t first_ms;      /* start of its counting window */
	uint64_t banned_until;  /* ms; 0 when the user is not refused */
	uint64_t banned_at;
	uint16_t cnt;
	bool used;              /* the slot holds a user */
	char name[USER_LEN];
};

struct ent {
	struct ent *hnext;      /* hash chain; free list */
	struct list_node le;    /* idle list (LRU) or banned list (by ban start) */
	uint64_t banned_until;  /* ms: end of the latest ban, address or user; 0 none */
	uint64_t addr_until;    /* ms: end of the address ban; 0 when not banned */
	uint64_t banned_at;     /* ms: start of the address ban */
	uint64_t slot;          /* time slot of the newest counter */
	uint16_t cnt[NSLOT];
	uint8_t key[KEY_LEN];
	uint8_t list;
	char ban_user[USER_LEN]; /* whose failures started the address ban */
	struct ufail u[NUSER];
};

struct ban_list {
	uint32_t limit;
	uint64_t window_ms, slot_ms, ban_ms;
	struct ent *ents;
	size_t max;
	struct ent **tab;
	size_t mask;
	struct ent *free;       /* released entries */
	size_t fresh;           /* ents[fresh..max) never used yet */
	struct list idle, banned;
	struct hash_seed seed;
};

/* ---- keys ---- */

static void key_v4(uint8_t key[KEY_LEN], const unsigned char a[4])
{
	memset(key, 0, KEY_LEN);
	key[0] = 4;
	memcpy(key + 1, a, 4);
}

static void key_v6(uint8_t key[KEY_LEN], const struct in6_addr *a)
{
	/* ::ffff:a.b.c.d is an IPv4 host on a dual-stack socket */
	if (IN6_IS_ADDR_V4MAPPED(a)) {
		key_v4(key, a->s6_addr + 12);
		return;
	}
	key[0] = 6;
	memcpy(key + 1, a->s6_addr, 8); /* the /64 */
}

static bool key_of(uint8_t key[KEY_LEN], const struct sockaddr *sa)
{
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;
		memcpy(&sin, sa, sizeof(sin));
		key_v4(key, (const unsigned char *)&sin.sin_addr);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;
		memcpy(&sin6, sa, sizeof(sin6));
		key_v6(key, &sin6.sin6_addr);
		return true;
	}
	return false;
}

static void key_text(const uint8_t key[KEY_LEN], char *out, size_t cap)
{
	char buf[INET6_ADDRSTRLEN];

	if (key[0] == 4) {
		inet_ntop(AF_INET, key + 1, buf, sizeof(buf));
		snprintf(out, cap, "%s", buf);
		return;
	}
	struct in6_addr a;
	memset(&a, 0, sizeof(a));
	memcpy(a.s6_addr, key + 1, 8);
	inet_ntop(AF_INET6, &a, buf, sizeof(buf));
	snprintf(out, cap, "%s/64", buf);
}

/* "1.2.3.4", "1.2.3.4/32", "2001:db8::1", "2001:db8:1:2::/64" */
static int key_parse(uint8_t key[KEY_LEN], const char *text)
{
	char buf[INET6_ADDRSTRLEN + 4];
	const char *prefix;
	size_t len;
	unsigned char a4[4];
	struct in6_addr a6;

	if (!text)
		return EINVAL;
	prefix = strchr(text, '/');
	len = prefix ? (size_t)(prefix - text) : strlen(text);
	if (len >= INET6_ADDRSTRLEN)
		return EINVAL;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, a4) == 1) {
		if (prefix && strcmp(prefix, "/32") != 0)
			return EINVAL;
		key_v4(key, a4);
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &a6) == 1) {
		if (prefix && strcmp(prefix, "/64") != 0 &&
		    !(IN6_IS_ADDR_V4MAPPED(&a6) && strcmp(prefix, "/128") == 0))
			return EINVAL;
		key_v6(key, &a6);
		return 0;
	}
	return EINVAL;
}

/* ---- lists and table ---- */

static struct ent *ent_of(struct list_node *n)
{
	return n ? container_of(n, struct ent, le) : NULL;
}

static struct list *list_of(struct ban_list *b, struct ent *e)
{
	return e->list == L_BANNED ? &b->banned : &b->idle;
}

static void ent_unlink(struct ban_list *b, struct ent *e)
{
	list_remove(list_of(b, e), &e->le);
}

static void ent_append(struct ban_list *b, struct ent *e, enum list_id id)
{
	e->list = (uint8_t)id;
	list_push_back(list_of(b, e), &e->le);
}

static size_t bucket_of(const struct ban_list *b, const uint8_t key[KEY_LEN])
{
	return (size_t)hash_bytes(&b->seed, key, KEY_LEN) & b->mask;
}

static struct ent *find(struct ban_list *b, const uint8_t key[KEY_LEN])
{
	for (struct ent *e = b->tab[bucket_of(b, key)]; e; e = e->hnext)
		if (memcmp(e->key, key, KEY_LEN) == 0)
			return e;
	return NULL;
}

static void ent_release(struct ban_list *b, struct ent *e)
{
	struct ent **pp = &b->tab[bucket_of(b, e->key)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	ent_unlink(b, e);
	memset(e, 0, sizeof(*e));
	e->hnext = b->free;
	b->free = e;
}

static struct ent *ent_new(struct ban_list *b, const uint8_t key[KEY_LEN], uint64_t now_ms)
{
	struct ent *e;
	size_t h;

	if (!b->free && b->fresh < b->max) {
		/* entries are taken in order the first time, so pages of the
		 * table nobody needed are never touched (calloc'd, they cost no
		 * memory until then) */
		b->ents[b->fresh].hnext = NULL;
		b->free = &b->ents[b->fresh++];
	}
	if (!b->free) {
		struct ent *victim = ent_of(b->banned.head);
		if (!victim || now_ms < victim->banned_until)
			victim = ent_of(b->idle.head ? b->idle.head : b->banned.head);
		if (!victim)
			return NULL;
		ent_release(b, victim);
	}
	e = b->free;
	b->free = e->hnext;
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, KEY_LEN);
	e->slot = now_ms / b->slot_ms;
	h = bucket_of(b, key);
	e->hnext = b->tab[h];
	b->tab[h] = e;
	ent_append(b, e, L_IDLE);
	return e;
}

/* Forgets an entry whose ban has ended; NULL when it was dropped. */
static struct ent *refresh(struct ban_list *b, struct ent *e, uint64_t now_ms)
{
	if (e->banned_until && now_ms >= e->banned_until) {
		/* a fresh start: the failures that earned the ban are paid for */
		ent_release(b, e);
		return NULL;
	}
	return e;
}

/* Failures in the window at now_ms, without changing the entry. */
static uint32_t window_sum(const struct ban_list *b, const struct ent *e, uint64_t now_ms)
{
	uint64_t s = now_ms / b->slot_ms;
	uint64_t first = s >= NSLOT - 1 ? s - (NSLOT - 1) : 0;
	uint32_t sum = 0;

	/* counters of slots (e->slot-NSLOT, e->slot] are live; keep those
	 * no older than first (none when the entry is older than that) */
	for (uint64_t k = e->slot; k >= first && e->slot - k < NSLOT; k--) {
		sum += e->cnt[k % NSLOT];
		if (k == 0)
			break;
	}
	return sum;
}

static void advance(const struct ban_list *b, struct ent *e, uint64_t now_ms)
{
	uint64_t s = now_ms / b->slot_ms;

	if (s <= e->slot)
		return; /* same slot, or a clock going backwards: keep counting */
	if (s - e->slot >= NSLOT)
		memset(e->cnt, 0, sizeof(e->cnt));
	else
		for (uint64_t k = e->slot + 1; k <= s; k++)
			e->cnt[k % NSLOT] = 0;
	e->slot = s;
}

/* ---- public ---- */

static void cfg_apply(struct ban_list *b, const struct ban_cfg *cfg)
{
	struct ban_cfg c = cfg ? *cfg : (struct ban_cfg){ 0 };
	uint64_t slot_ms;

	b->limit = c.fail_limit ? c.fail_limit : DEFAULT_LIMIT;
	b->window_ms = (uint64_t)(c.window_s ? c.window_s : DEFAULT_WINDOW_S) * 1000;
	b->ban_ms = (uint64_t)(c.ban_s ? c.ban_s : DEFAULT_BAN_S) * 1000;
	slot_ms = b->window_ms / NSLOT;
	if (b->slot_ms && slot_ms != b->slot_ms) {
		/* counters of another slot width mean nothing now: restart them */
		for (size_t i = 0; i < b->fresh; i++) {
			memset(b->ents[i].cnt, 0, sizeof(b->ents[i].cnt));
			b->ents[i].slot = 0;
		}
	}
	b->slot_ms = slot_ms;
}

int ban_list_alloc(struct ban_list **out, const struct ban_cfg *cfg)
{
	struct ban_list *b;
	size_t max = cfg && cfg->max_entries ? cfg->max_entries : DEFAULT_MAX;
	size_t nb = 1;
	int err = 0;

	if (!out)
		return EINVAL;
	if (max > LIMIT_MAX)
		return EINVAL;
	while (nb < max)
		nb <<= 1;
	b = calloc(1, sizeof(*b));
	if (!b)
		return ENOMEM;
	b->max = max;
	b->mask = nb - 1;
	b->ents = calloc(max, sizeof(*b->ents));
	b->tab = calloc(nb, sizeof(*b->tab));
	if (!b->ents || !b->tab) {
		err = ENOMEM;
		goto out;
	}
	b->seed = hash_seed_random();
	cfg_apply(b, cfg);
	*out = b;
	return 0;
out:
	ban_list_free(b);
	return err;
}

void ban_list_free(struct ban_list *b)
{
	if (!b)
		return;
	free(b->ents);
	free(b->tab);
	free(b);
}

/* New limits apply to counting from now on; running bans keep their end;
 * max_entries is fixed at allocation. */
void ban_list_configure(struct ban_list *b, const struct ban_cfg *cfg)
{
	if (b)
		cfg_apply(b, cfg);
}

bool ban_is_banned(struct ban_list *b, const struct sockaddr *sa, uint64_t now_ms)
{
	uint8_t key[KEY_LEN];
	struct ent *e;

	if (!b || !key_of(key, sa))
		return false;
	e = find(b, key);
	if (e)
		e = refresh(b, e, now_ms);
	return e && now_ms < e->addr_until;
}

/* The user's slot in e (oldest unbanned one recycled for a new name);
 * NULL when every slot holds a live user ban. */
static struct ufail *user_slot(struct ent *e, const char *user, uint64_t now_ms, bool create)
{
	struct ufail *victim = NULL;
	for (int i = 0; i < NUSER; i++) {
		struct ufail *u = &e->u[i];
		if (u->used && strncmp(u->name, user, USER_LEN - 1) == 0)
			return u;
		bool live = u->banned_until && now_ms < u->banned_until;
		if (!live && (!victim || !u->used || (victim->used && u->first_ms < victim->first_ms)))
			victim = u;
	}
	if (!create || !victim)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->used = true;
	snprintf(victim->name, sizeof(victim->name), "%s", user);
	victim->first_ms = now_ms;
	return victim;
}

enum ban_verdict ban_record_user_failure(struct ban_list *b, const struct sockaddr *sa,
					 const char *user, bool keep_addr, uint64_t now_ms)
{
	uint8_t key[KEY_LEN];
	struct ent *e;
	uint16_t *c;

	if (!b || !key_of(key, sa))
		return BAN_NONE;
	if (!user)
		user = "";
	e = find(b, key);
	if (e)
		e = refresh(b, e, now_ms);
	if (!e)
		e = ent_new(b, key, now_ms);
	if (!e)
		return BAN_NONE;

	advance(b, e, now_ms);
	c = &e->cnt[e->slot % NSLOT];
	if (*c < UINT16_MAX)
		(*c)++;
	struct ufail *u = user_slot(e, user, now_ms, true);
	if (u) {
		if (now_ms > u->first_ms && now_ms - u->first_ms > b->window_ms) {
			u->first_ms = now_ms;
			u->cnt = 0;
		}
		if (u->cnt < UINT16_MAX)
			u->cnt++;
	}
	/* already banned: keep counting for the CLI, do not extend (a phone
	 * with a stale password would otherwise never get out) */
	if (now_ms < e->addr_until || (u && u->banned_until && now_ms < u->banned_until))
		return BAN_NONE;

	bool user_over = u && u->cnt >= b->limit;
	bool addr_over = user_over || window_sum(b, e, now_ms) >= 2 * b->limit;
	enum ban_verdict v = BAN_NONE;
	ent_unlink(b, e);
	if (addr_over && !keep_addr) {
		e->addr_until = now_ms + b->ban_ms;
		e->banned_at = now_ms;
		snprintf(e->ban_user, sizeof(e->ban_user), "%s", user);
		v = BAN_ADDR;
	} else if (user_over) {
		u->banned_until = now_ms + b->ban_ms;
		u->banned_at = now_ms;
		v = BAN_USER;
	}
	if (v != BAN_NONE && e->banned_until < now_ms + b->ban_ms)
		e->banned_until = now_ms + b->ban_ms;
	/* banned entries go last when memory runs short; the rest in order of
	 * their latest failure */
	ent_append(b, e, e->banned_until && now_ms < e->banned_until ? L_BANNED : L_IDLE);
	return v;
}

bool ban_record_failure(struct ban_list *b, const struct sockaddr *sa, uint64_t now_ms)
{
	return ban_record_user_failure(b, sa, "", false, now_ms) == BAN_ADDR;
}

bool ban_user_is_banned(struct ban_list *b, const struct sockaddr *sa, const char *user,
			uint64_t now_ms)
{
	uint8_t key[KEY_LEN];
	struct ent *e;

	if (!b || !user || !key_of(key, sa))
		return false;
	e = find(b, key);
	if (e)
		e = refresh(b, e, now_ms);
	if (!e)
		return false;
	const struct ufail *u = user_slot(e, user, now_ms, false);
	return u && u->banned_until && now_ms < u->banned_until;
}

void ban_record_user_success(struct ban_list *b, const struct sockaddr *sa, const char *user)
{
	uint8_t key[KEY_LEN];
	struct ent *e;

	if (!b || !key_of(key, sa))
		return;
	e = find(b, key);
	if (!e)
		return;
	/* the user's own count goes; a ban is lifted only by time or ban_lift */
	bool bans = e->banned_until != 0;
	for (int i = 0; i < NUSER; i++) {
		struct ufail *u = &e->u[i];
		if (!u->used)
			continue;
		if (!user || strncmp(u->name, user, USER_LEN - 1) == 0) {
			if (u->banned_until)
				u->cnt = 0;
			else
				memset(u, 0, sizeof(*u));
		}
	}
	if (bans)
		memset(e->cnt, 0, sizeof(e->cnt));
	else
		ent_release(b, e);
}

void ban_record_success(struct ban_list *b, const struct sockaddr *sa)
{
	ban_record_user_success(b, sa, NULL);
}

/* Forgets the source's ban and failures: 0, or ENOENT when nothing was
 * recorded, EINVAL for an unreadable address. */
int ban_lift(struct ban_list *b, const char *addr)
{
	uint8_t key[KEY_LEN];
	struct ent *e;

	if (!b || key_parse(key, addr))
		return EINVAL;
	e = find(b, key);
	if (!e)
		return ENOENT;
	ent_release(b, e);
	return 0;
}

static uint32_t secs_until(uint64_t until, uint64_t now_ms)
{
	return (uint32_t)((until - now_ms + 999) / 1000);
}

static void report(struct ban_list *b, struct list *l, uint64_t now_ms, bool all,
		   ban_list_h *h, void *arg)
{
	struct list_node *n, *next;
	list_foreach_safe(l, n, next) {
		struct ent *e = ent_of(n);
		struct ban_entry_info info;
		bool banned = now_ms < e->addr_until;

		memset(&info, 0, sizeof(info));
		info.failures = window_sum(b, e, now_ms);
		key_text(e->key, info.addr, sizeof(info.addr));
		if (banned || (all && info.failures)) {
			if (banned) {
				info.banned_for_s = secs_until(e->addr_until, now_ms);
				info.banned_since_s = (uint32_t)((now_ms - e->banned_at) / 1000);
				snprintf(info.user, sizeof(info.user), "%s", e->ban_user);
			}
			h(&info, arg);
		}
		/* users refused from an address that is not banned as a whole */
		for (int i = 0; !banned && i < NUSER; i++) {
			const struct ufail *u = &e->u[i];
			if (!u->used || !u->banned_until || now_ms >= u->banned_until)
				continue;
			info.user_only = true;
			info.failures = u->cnt;
			info.banned_for_s = secs_until(u->banned_until, now_ms);
			info.banned_since_s = (uint32_t)((now_ms - u->banned_at) / 1000);
			snprintf(info.user, sizeof(info.user), "%s", u->name);
			h(&info, arg);
		}
	}
}

/* h must not change the list while it runs. */
void ban_list_each(struct ban_list *b, uint64_t now_ms, bool all, ban_list_h *h, void *arg)
{
	if (!b || !h)
		return;
	report(b, &b->banned, now_ms, all, h, arg);
	if (all)
		report(b, &b->idle, now_ms, all, h, arg);
}

size_t ban_count(struct ban_list *b, uint64_t now_ms)
{
	size_t n = 0;

	if (!b)
		return 0;
	struct list_node *le;
	list_foreach(&b->banned, le) {
		const struct ent *e = ent_of(le);
		if (now_ms < e->addr_until) {
			n++;
			continue;
		}
		for (int i = 0; i < NUSER; i++)
			n += e->u[i].banned_until && now_ms < e->u[i].banned_until;
	}
	return n;
}
