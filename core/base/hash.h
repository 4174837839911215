/*
 * Keyed hashing for hash tables whose keys come from the network (SIP
 * branches, Call-IDs, source addresses), and a small chained hash table of
 * intrusive nodes.
 *
 * Why SipHash-1-3: with an unkeyed or merely salted hash (FNV-1a with a
 * random start value, which is what we had) a peer can still compute keys
 * that share a bucket, because FNV's collisions do not depend much on the
 * start value, and turn every lookup into a walk of a long chain (hash
 * flooding). SipHash is a keyed PRF designed for exactly this; with a
 * secret 128-bit key per table the peer cannot predict buckets. 1-3 (one
 * compression round per 8 bytes, three at the end) is the variant Rust's
 * and Python's tables use: about twice as fast as 2-4 on the 20-40-byte
 * keys we hash, and still far beyond what a remote attacker can probe
 * through response timing. wyhash is faster still but its seeded security
 * is not analysed; FNV-1a costs a multiply per byte and is not keyed.
 *
 * Each table keeps its own seed from hash_seed_random() (getrandom), so
 * learning something about one table tells nothing about another.
 *
 * The hash table (struct htab) stores the full hash in each node, so
 * growing never re-hashes keys and a lookup compares keys only when the
 * hashes are equal. It does not know the keys: callers walk the nodes of
 * a hash with htab_first/htab_next and compare their own keys. Inserting
 * may grow the table (one calloc, when the load passes max_load); lookups
 * and removal never allocate.
 */
#ifndef HF_HASH_H
#define HF_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "list.h"
#include "pl.h"

/* --- hashing --------------------------------------------------------------- */

struct hash_seed {
	uint64_t k0, k1;
};

/* A fresh secret seed from getrandom(2) (blocking only until the kernel's
 * pool is first initialised, early at boot). If the kernel cannot give
 * one, a seed mixed from clocks, the pid and addresses: tables stay
 * correct, only predictable, and this is logged once. */
struct hash_seed hash_seed_random(void);

/* SipHash-1-3 of n bytes at p under seed. p may be NULL when n is 0. */
uint64_t hash_bytes(const struct hash_seed *seed, const void *p, size_t n);

/* Of a slice's bytes (case-sensitive); a NULL slice hashes as empty. */
static inline uint64_t hash_pl(const struct hash_seed *seed, struct pl s)
{
	return hash_bytes(seed, s.p, s.p ? s.l : 0);
}

/* Of a NUL-terminated string's bytes (the NUL excluded). */
uint64_t hash_str(const struct hash_seed *seed, const char *s);

/* Incremental: the hash of pieces fed one after the other equals
 * hash_bytes of their concatenation. So "ab"+"c" and "a"+"bc" collide;
 * for a key of two variable-length parts that a peer chooses, feed a
 * length or a separator between them. */
struct hash_state {
	uint64_t v0, v1, v2, v3;
	uint64_t tail; /* bytes not yet compressed, little-endian */
	size_t len;    /* total bytes fed */
};

void hash_init(struct hash_state *st, const struct hash_seed *seed);
void hash_update(struct hash_state *st, const void *p, size_t n);
uint64_t hash_final(const struct hash_state *st);

static inline void hash_update_pl(struct hash_state *st, struct pl s)
{
	hash_update(st, s.p, s.p ? s.l : 0);
}

/* --- chained hash table of intrusive nodes ---------------------------------- */

struct hnode {
	struct hnode *next;
	struct hnode **pprev; /* NULL when not in a table */
	size_t hash;
};

struct htab {
	struct hnode **b;
	size_t mask;     /* buckets - 1 (a power of two) */
	size_t count;
	size_t max_load; /* grow (double) when count reaches buckets * max_load;
			  * 0: never grow */
};

/* A table must be initialised before use (a zeroed one only supports
 * lookups, iteration and htab_fini). Allocates nbuckets buckets (rounded up to a power of two, at least 1).
 * max_load as in struct htab. Returns 0 or ENOMEM; on error *t is
 * zeroed. */
int htab_init(struct htab *t, size_t nbuckets, size_t max_load);

/* Frees the bucket array. Nodes belong to their owners and are not
 * touched; free them first (see htab_iter_first). */
void htab_fini(struct htab *t);

/* Links n under hash. n must not be in a table. May grow the table; if
 * memory is short the chains just get longer (not an error). */
void htab_insert(struct htab *t, struct hnode *n, size_t hash);

/* Unlinks n from t; does nothing if n is not in a table (a zeroed node,
 * or one already removed). */
void htab_remove(struct htab *t, struct hnode *n);

static inline bool hnode_linked(const struct hnode *n)
{
	return n->pprev != NULL;
}

/* The first node with this hash, or NULL; htab_next gives the following
 * one with the same hash. Newest first. The caller compares its keys:
 *
 *     for (n = htab_first(t, h); n; n = htab_next(n)) {
 *             struct aor *a = container_of(n, struct aor, hn);
 *             if (!strcmp(a->ext, ext))
 *                     return a;
 *     }
 */
static inline struct hnode *htab_next(const struct hnode *n)
{
	size_t h = n->hash;
	for (n = n->next; n; n = n->next)
		if (n->hash == h)
			return (struct hnode *)n;
	return NULL;
}

static inline struct hnode *htab_first(const struct htab *t, size_t hash)
{
	struct hnode *n = t->b ? t->b[hash & t->mask] : NULL;
	while (n && n->hash != hash)
		n = n->next;
	return n;
}

/* Every node, in no particular order: start with htab_iter_first, then
 * htab_iter_next(t, n). Removing n is allowed once its successor has been
 * fetched:
 *
 *     for (n = htab_iter_first(t); n; n = tmp) {
 *             tmp = htab_iter_next(t, n);
 *             ... may htab_remove n (not tmp), must not insert ...
 *     }
 */
struct hnode *htab_iter_first(const struct htab *t);
struct hnode *htab_iter_next(const struct htab *t, const struct hnode *n);

#endif
