/*
 * SipHash-1-3 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012; the 1-3 round counts as in Rust's std and CPython), the seed that
 * keys it, and the intrusive chained hash table (hash.h says why).
 */
#include "hash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* --- seed ------------------------------------------------------------------ */

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

struct hash_seed hash_seed_random(void)
{
	struct hash_seed s;
	unsigned char *p = (unsigned char *)&s;
	size_t got = 0;
	while (got < sizeof(s)) {
		ssize_t r = getrandom(p + got, sizeof(s) - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got == sizeof(s))
		return s;

	static _Thread_local uint64_t ctr;
	static _Thread_local bool warned;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	clock_gettime(CLOCK_REALTIME, &b);
	uint64_t x = (uint64_t)a.tv_nsec ^ ((uint64_t)a.tv_sec << 32) ^ (uint64_t)getpid() ^
		     (uint64_t)(uintptr_t)&s ^ (++ctr * 0x9e3779b97f4a7c15ull);
	s.k0 = mix64(x);
	s.k1 = mix64(x ^ (uint64_t)b.tv_nsec ^ ((uint64_t)b.tv_sec << 20));
	if (!warned) {
		warned = true;
		log_warn("hash", "getrandom failed (%s): hash tables use a guessable seed",
			 strerror(errno ? errno : EIO));
	}
	return s;
}

/* --- SipHash-1-3 -------------------------------------------------------------- */

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND(st)                                                              \
	do {                                                                      \
		(st)->v0 += (st)->v1; (st)->v1 = rotl((st)->v1, 13);              \
		(st)->v1 ^= (st)->v0; (st)->v0 = rotl((st)->v0, 32);              \
		(st)->v2 += (st)->v3; (st)->v3 = rotl((st)->v3, 16);              \
		(st)->v3 ^= (st)->v2;                                             \
		(st)->v0 += (st)->v3; (st)->v3 = rotl((st)->v3, 21);              \
		(st)->v3 ^= (st)->v0;                                             \
		(st)->v2 += (st)->v1; (st)->v1 = rotl((st)->v1, 17);              \
		(st)->v1 ^= (st)->v2; (st)->v2 = rotl((st)->v2, 32);              \
	} while (0)

static inline uint64_t le64(const unsigned char *p)
{
	uint64_t x;
	memcpy(&x, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	return x;
}

static inline void compress(struct hash_state *st, uint64_t m)
{
	st->v3 ^= m;
	SIPROUND(st);
	st->v0 ^= m;
}

void hash_init(struct hash_state *st, const struct hash_seed *seed)
{
	st->v0 = seed->k0 ^ 0x736f6d6570736575ull;
	st->v1 = seed->k1 ^ 0x646f72616e646f6dull;
	st->v2 = seed->k0 ^ 0x6c7967656e657261ull;
	st->v3 = seed->k1 ^ 0x7465646279746573ull;
	st->tail = 0;
	st->len = 0;
}

void hash_update(struct hash_state *st, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t have = st->len & 7; /* bytes already in tail */
	st->len += n;
	if (have) {
		while (n && have < 8) {
			st->tail |= (uint64_t)*p++ << (8 * have++);
			n--;
		}
		if (have < 8)
			return;
		compress(st, st->tail);
		st->tail = 0;
	}
	for (; n >= 8; n -= 8, p += 8)
		compress(st, le64(p));
	for (size_t i = 0; i < n; i++)
		st->tail |= (uint64_t)p[i] << (8 * i);
}

uint64_t hash_final(const struct hash_state *in)
{
	struct hash_state st = *in;
	compress(&st, st.tail | ((uint64_t)st.len << 56));
	st.v2 ^= 0xff;
	SIPROUND(&st);
	SIPROUND(&st);
	SIPROUND(&st);
	return st.v0 ^ st.v1 ^ st.v2 ^ st.v3;
}

uint64_t hash_bytes(const struct hash_seed *seed, const void *p, size_t n)
{
	struct hash_state st;
	hash_init(&st, seed);
	hash_update(&st, p, n);
	return hash_final(&st);
}

uint64_t hash_str(const struct hash_seed *seed, const char *s)
{
	return hash_bytes(seed, s, s ? strlen(s) : 0);
}

/* --- table -------------------------------------------------------------------- */

static size_t pow2_at_least(size_t n)
{
	size_t k = 1;
	while (k < n && k < ((size_t)1 << (sizeof(size_t) * 8 - 2)))
		k <<= 1;
	return k;
}

int htab_init(struct htab *t, size_t nbuckets, size_t max_load)
{
	size_t n = pow2_at_least(nbuckets);
	memset(t, 0, sizeof(*t));
	t->b = calloc(n, sizeof(*t->b));
	if (!t->b)
		return ENOMEM;
	t->mask = n - 1;
	t->max_load = max_load;
	return 0;
}

void htab_fini(struct htab *t)
{
	free(t->b);
	memset(t, 0, sizeof(*t));
}

static void link_at(struct hnode **head, struct hnode *n)
{
	n->next = *head;
	if (n->next)
		n->next->pprev = &n->next;
	*head = n;
	n->pprev = head;
}

/* Doubles the bucket array. Order within a chain carries no meaning, so
 * relinking may reverse it. */
static void grow(struct htab *t)
{
	size_t n = (t->mask + 1) * 2;
	struct hnode **b = calloc(n, sizeof(*b));
	if (!b)
		return;
	for (size_t i = 0; i <= t->mask; i++) {
		struct hnode *x = t->b[i];
		while (x) {
			struct hnode *next = x->next;
			link_at(&b[x->hash & (n - 1)], x);
			x = next;
		}
	}
	free(t->b);
	t->b = b;
	t->mask = n - 1;
}

void htab_insert(struct htab *t, struct hnode *n, size_t hash)
{
	if (t->max_load && t->count >= (t->mask + 1) * t->max_load)
		grow(t);
	n->hash = hash;
	link_at(&t->b[hash & t->mask], n);
	t->count++;
}

void htab_remove(struct htab *t, struct hnode *n)
{
	if (!n->pprev)
		return;
	*n->pprev = n->next;
	if (n->next)
		n->next->pprev = n->pprev;
	n->next = NULL;
	n->pprev = NULL;
	t->count--;
}

static struct hnode *from_bucket(const struct htab *t, size_t i)
{
	for (; t->b && i <= t->mask; i++)
		if (t->b[i])
			return t->b[i];
	return NULL;
}

struct hnode *htab_iter_first(const struct htab *t)
{
	return from_bucket(t, 0);
}

struct hnode *htab_iter_next(const struct htab *t, const struct hnode *n)
{
	if (n->next)
		return n->next;
	return from_bucket(t, (n->hash & t->mask) + 1);
}
