/*
 * Extension snapshot (see ext_table.h): a sorted array searched by binary
 * search. Extensions change rarely and are looked up on every REGISTER and
 * INVITE, so a compact array beats a hash table with its pointers. The
 * reference count is atomic because the table is built on the store
 * thread and released on the signalling loop.
 */
#include "ext_table.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../db/db.h"

struct ext_table {
	atomic_int refs;
	struct ext *v;
	size_t n, cap;
};

int ext_table_alloc_empty(struct ext_table **out)
{
	struct ext_table *t = calloc(1, sizeof(*t));
	if (!t)
		return ENOMEM;
	atomic_init(&t->refs, 1);
	*out = t;
	return 0;
}

static void add_one(const struct db_ext *e, void *arg)
{
	struct ext_table *t = arg;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct ext *v = realloc(t->v, cap * sizeof(*v));
		if (!v)
			return; /* counted below: n stays short of the db count */
		t->v = v;
		t->cap = cap;
	}
	struct ext *x = &t->v[t->n++];
	snprintf(x->number, sizeof(x->number), "%s", e->number);
	snprintf(x->name, sizeof(x->name), "%s", e->name);
	snprintf(x->password, sizeof(x->password), "%s", e->password);
	x->enabled = e->enabled;
}

static int cmp_ext(const void *a, const void *b)
{
	return strcmp(((const struct ext *)a)->number, ((const struct ext *)b)->number);
}

int ext_table_load(struct ext_table **out, struct db *db)
{
	struct ext_table *t;
	int err = ext_table_alloc_empty(&t);
	if (err)
		return err;
	int n = db_ext_list(db, add_one, t);
	if (n < 0 || (size_t)n != t->n) {
		ext_table_unref(t);
		return n < 0 ? -n : ENOMEM;
	}
	/* db order is by number already, but do not depend on collation */
	qsort(t->v, t->n, sizeof(*t->v), cmp_ext);
	*out = t;
	return 0;
}

struct ext_table *ext_table_ref(struct ext_table *t)
{
	if (t)
		atomic_fetch_add(&t->refs, 1);
	return t;
}

void ext_table_unref(struct ext_table *t)
{
	if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
		return;
	/* passwords should not linger in freed memory */
	if (t->v)
		memset(t->v, 0, t->cap * sizeof(*t->v));
	free(t->v);
	free(t);
}

const struct ext *ext_table_find(const struct ext_table *t, struct pl number)
{
	size_t lo = 0, hi = t->n;
	if (!number.p || number.l == 0 || number.l >= sizeof(t->v[0].number))
		return NULL;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct ext *x = &t->v[mid];
		int c = strncmp(x->number, number.p, number.l);
		if (c == 0 && x->number[number.l] != '\0')
			c = 1;
		if (c == 0)
			return x;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

size_t ext_table_count(const struct ext_table *t)
{
	return t->n;
}
