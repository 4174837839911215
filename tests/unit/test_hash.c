/* Unit tests for core/base/hash.h: SipHash-1-3 against known answers,
 * incremental hashing equal to one-shot for every split, seeds that
 * differ and change the hash, and the intrusive table (lookup by hash
 * with equal-hash chains, removal, growth, iteration with removal). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/base/hash.h"

/* SipHash-1-3 with the all-zero key, as computed by CPython 3.11, whose
 * bytes hash is SipHash-1-3 and whose key is zero under PYTHONHASHSEED=0:
 * PYTHONHASHSEED=0 python3 -c 'print(hex(hash(b"abcdefg") & (2**64-1)))'
 * (CPython returns 0 for the empty string without hashing, so that one is
 * not from it.) */
static void test_known_answers(void **state)
{
	(void)state;
	const struct hash_seed zero = { 0, 0 };
	assert_true(hash_bytes(&zero, "a", 1) == 0x407448d2b89b1813ull);
	assert_true(hash_bytes(&zero, "abcdefg", 7) == 0x6db12aae9070f506ull);
	assert_true(hash_bytes(&zero, "abcdefgh", 8) == 0x3f7b849c0b8e35eaull);
	assert_true(hash_str(&zero, "abcdefghijklmnopqrstuvwxyz0123456789") ==
		    0xfe9ee02c60cec362ull);
	assert_true(hash_pl(&zero, PL("abcdefgh")) == 0x3f7b849c0b8e35eaull);
	assert_true(hash_pl(&zero, PL_NULL) == hash_bytes(&zero, NULL, 0));
}

static void test_incremental_equals_oneshot(void **state)
{
	(void)state;
	const struct hash_seed s = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };
	unsigned char buf[40];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 37 + 1);
	for (size_t len = 0; len <= sizeof(buf); len++) {
		uint64_t want = hash_bytes(&s, buf, len);
		for (size_t a = 0; a <= len; a++)
			for (size_t b = a; b <= len; b++) {
				struct hash_state st;
				hash_init(&st, &s);
				hash_update(&st, buf, a);
				hash_update(&st, buf + a, b - a);
				hash_update(&st, buf + b, len - b);
				assert_true(hash_final(&st) == want);
			}
	}
	/* final does not consume the state */
	struct hash_state st;
	hash_init(&st, &s);
	hash_update_pl(&st, PL("call-id@host"));
	assert_true(hash_final(&st) == hash_final(&st));
}

static void test_seed_matters(void **state)
{
	(void)state;
	struct hash_seed a = hash_seed_random(), b = hash_seed_random();
	assert_false(a.k0 == b.k0 && a.k1 == b.k1);
	assert_true(hash_str(&a, "z9hG4bK776asdhds") != hash_str(&b, "z9hG4bK776asdhds"));
	assert_true(hash_str(&a, "z9hG4bK776asdhds") == hash_str(&a, "z9hG4bK776asdhds"));
	/* length is part of the hash: trailing zero bytes are not ignored */
	assert_true(hash_bytes(&a, "\0", 1) != hash_bytes(&a, "\0\0", 2));
}

struct obj {
	char key[16];
	struct hnode hn;
};

static struct obj *find(struct htab *t, const struct hash_seed *s, const char *key)
{
	for (struct hnode *n = htab_first(t, hash_str(s, key)); n; n = htab_next(n)) {
		struct obj *o = container_of(n, struct obj, hn);
		if (!strcmp(o->key, key))
			return o;
	}
	return NULL;
}

static void test_table_basic(void **state)
{
	(void)state;
	struct hash_seed s = hash_seed_random();
	struct htab t;
	assert_int_equal(htab_init(&t, 3, 0), 0);
	assert_int_equal(t.mask, 3); /* rounded up to 4 buckets */
	enum { N = 200 };
	struct obj *o = calloc(N, sizeof(*o));
	assert_non_null(o);
	for (int i = 0; i < N; i++) {
		snprintf(o[i].key, sizeof(o[i].key), "k%d", i);
		assert_false(hnode_linked(&o[i].hn));
		htab_insert(&t, &o[i].hn, hash_str(&s, o[i].key));
		assert_true(hnode_linked(&o[i].hn));
	}
	assert_int_equal(t.count, N);
	assert_int_equal(t.mask, 3); /* max_load 0: never grows */
	for (int i = 0; i < N; i++)
		assert_ptr_equal(find(&t, &s, o[i].key), &o[i]);
	assert_null(find(&t, &s, "absent"));
	for (int i = 0; i < N; i += 3)
		htab_remove(&t, &o[i].hn);
	htab_remove(&t, &o[0].hn); /* twice: no effect */
	assert_int_equal(t.count, N - (N + 2) / 3);
	for (int i = 0; i < N; i++)
		assert_ptr_equal(find(&t, &s, o[i].key), i % 3 ? &o[i] : NULL);
	htab_fini(&t);
	free(o);
}

static void test_table_equal_hashes(void **state)
{
	(void)state;
	/* a chain shared by nodes with equal and unequal hashes: first/next
	 * return exactly the equal ones, newest first */
	struct htab t;
	assert_int_equal(htab_init(&t, 1, 0), 0);
	struct obj o[5];
	memset(o, 0, sizeof(o));
	size_t hs[5] = { 7, 9, 7, 11, 7 };
	for (int i = 0; i < 5; i++)
		htab_insert(&t, &o[i].hn, hs[i]);
	struct hnode *n = htab_first(&t, 7);
	assert_ptr_equal(n, &o[4].hn);
	n = htab_next(n);
	assert_ptr_equal(n, &o[2].hn);
	n = htab_next(n);
	assert_ptr_equal(n, &o[0].hn);
	assert_null(htab_next(n));
	assert_ptr_equal(htab_first(&t, 11), &o[3].hn);
	assert_null(htab_next(&o[3].hn));
	assert_null(htab_first(&t, 8));
	htab_fini(&t);

	struct htab z;
	memset(&z, 0, sizeof(z)); /* never initialised: lookups find nothing */
	assert_null(htab_first(&z, 7));
	assert_null(htab_iter_first(&z));
	htab_fini(&z);
}

static void test_table_grows_and_iterates(void **state)
{
	(void)state;
	struct htab t;
	assert_int_equal(htab_init(&t, 4, 2), 0);
	enum { N = 1000 };
	struct obj *o = calloc(N, sizeof(*o));
	assert_non_null(o);
	for (int i = 0; i < N; i++)
		htab_insert(&t, &o[i].hn, (size_t)i * 2654435761u); /* ids */
	assert_true(t.mask + 1 >= N / 2);
	assert_true(t.count <= (t.mask + 1) * 2);
	for (int i = 0; i < N; i++) {
		struct hnode *n = htab_first(&t, (size_t)i * 2654435761u);
		assert_ptr_equal(n, &o[i].hn);
	}

	/* every node once; removing the current one as we go */
	char *seen = calloc(N, 1);
	size_t k = 0;
	struct hnode *n, *tmp;
	for (n = htab_iter_first(&t); n; n = tmp) {
		tmp = htab_iter_next(&t, n);
		size_t i = (size_t)(container_of(n, struct obj, hn) - o);
		assert_false(seen[i]);
		seen[i] = 1;
		k++;
		if (i % 2)
			htab_remove(&t, n);
	}
	assert_int_equal(k, N);
	assert_int_equal(t.count, N / 2);
	k = 0;
	for (n = htab_iter_first(&t); n; n = htab_iter_next(&t, n))
		k++;
	assert_int_equal(k, N / 2);
	free(seen);
	htab_fini(&t);
	free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_incremental_equals_oneshot),
		cmocka_unit_test(test_seed_matters),
		cmocka_unit_test(test_table_basic),
		cmocka_unit_test(test_table_equal_hashes),
		cmocka_unit_test(test_table_grows_and_iterates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
