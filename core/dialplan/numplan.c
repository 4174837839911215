/*
 * The numbering plan snapshot (numplan.h): a sorted array searched by
 * bisection. Plans are a few hundred numbers; a lookup per INVITE is a
 * handful of string compares, and a reload rebuilds the whole thing.
 */
#include "numplan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../db/db.h"
#include "../base/dest.h"

struct number {
	char number[32];
	char dest[DEST_MAX];
};

struct numplan {
	struct number *v;
	size_t n, cap;  /* kept sorted by number */
};

int numplan_alloc(struct numplan **out)
{
	struct numplan *p = calloc(1, sizeof(*p));
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

void numplan_free(struct numplan *p)
{
	if (!p)
		return;
	free(p->v);
	free(p);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(((const struct number *)a)->number, ((const struct number *)b)->number);
}

static struct number *find(const struct numplan *p, const char *number)
{
	struct number key;
	if (!p || !p->n || strlen(number) >= sizeof(key.number))
		return NULL;
	snprintf(key.number, sizeof(key.number), "%s", number);
	return bsearch(&key, p->v, p->n, sizeof(*p->v), cmp);
}

int numplan_add(struct numplan *p, const char *number, const char *dest)
{
	if (strlen(number) >= sizeof(p->v->number) || strlen(dest) >= sizeof(p->v->dest) || !*number)
		return EINVAL;
	struct number *e = find(p, number);
	if (e) {
		snprintf(e->dest, sizeof(e->dest), "%s", dest);
		return 0;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct number *v = realloc(p->v, cap * sizeof(*v));
		if (!v)
			return ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	/* insertion keeps the array sorted; loads come sorted from SQL, so
	 * this is an append in practice */
	size_t i = p->n;
	while (i > 0 && strcmp(p->v[i - 1].number, number) > 0)
		i--;
	memmove(&p->v[i + 1], &p->v[i], (p->n - i) * sizeof(*p->v));
	snprintf(p->v[i].number, sizeof(p->v[i].number), "%s", number);
	snprintf(p->v[i].dest, sizeof(p->v[i].dest), "%s", dest);
	p->n++;
	return 0;
}

const char *numplan_find(const struct numplan *p, const char *number)
{
	const struct number *e = find(p, number);
	return e ? e->dest : NULL;
}

size_t numplan_count(const struct numplan *p)
{
	return p ? p->n : 0;
}

struct load_ctx {
	struct numplan *p;
	int err;
};

static void load_one(const struct db_number *n, void *arg)
{
	struct load_ctx *l = arg;
	if (!l->err)
		l->err = numplan_add(l->p, n->number, n->dest);
}

int numplan_load(struct numplan **out, struct db *db)
{
	struct numplan *p;
	int err = numplan_alloc(&p);
	if (err)
		return err;
	struct load_ctx l = { .p = p };
	int n = db_number_list(db, load_one, &l);
	err = n < 0 ? -n : l.err;
	if (err) {
		numplan_free(p);
		return err;
	}
	*out = p;
	return 0;
}
