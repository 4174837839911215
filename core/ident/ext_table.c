/*
 * Extension snapshot (see ext_table.h): a sorted array searched by binary
 * search. Extensions change rarely and are looked up on every REGISTER and
 * INVITE, so a compact array beats a hash table with its pointers. The
 * reference count is atomic because the table is built on the store
 * thread and released on the signalling loop.
 */
#include "ext_table.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
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
	memset(x, 0, sizeof(*x)); /* what the database does not hold yet is "" */
	snprintf(x->number, sizeof(x->number), "%s", e->number);
	snprintf(x->name, sizeof(x->name), "%s", e->name);
	snprintf(x->password, sizeof(x->password), "%s", e->password);
	x->enabled = e->enabled;
	snprintf(x->contact, sizeof(x->contact), "%s", e->contact);
	x->max_calls = e->max_calls;
	snprintf(x->codecs, sizeof(x->codecs), "%s", e->codecs);
	snprintf(x->srtp, sizeof(x->srtp), "%s", e->srtp[0] ? e->srtp : "optional");
	/* "" stays "": the call layer picks the default */
	snprintf(x->next_busy, sizeof(x->next_busy), "%s", e->dest_busy);
	snprintf(x->next_noanswer, sizeof(x->next_noanswer), "%s", e->dest_noanswer);
	snprintf(x->next_unavail, sizeof(x->next_unavail), "%s", e->dest_unavail);
	x->ring_time = e->ring_time > 0 ? (unsigned)e->ring_time : 0;
	snprintf(x->fwd_all, sizeof(x->fwd_all), "%s", e->fwd_all);
	snprintf(x->fwd_busy, sizeof(x->fwd_busy), "%s", e->fwd_busy);
	snprintf(x->fwd_noanswer, sizeof(x->fwd_noanswer), "%s", e->fwd_noanswer);
	x->dnd = e->dnd;
	x->ntrust = 0;
	/* db_ext_validate checked the list; an entry that still fails to
	 * parse is skipped rather than trusted */
	const char *p = e->trust;
	while (*p && x->ntrust < EXT_MAX_TRUST) {
		size_t n = strcspn(p, ", ");
		if (n && !ext_cidr_parse(&x->trust[x->ntrust], p, n))
			x->ntrust++;
		p += n;
		while (*p == ',' || *p == ' ')
			p++;
	}
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

int ext_cidr_parse(struct ext_cidr *c, const char *s, size_t len)
{
	char buf[64];
	if (len == 0 || len >= sizeof(buf))
		return EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->af = AF_INET;
		c->prefix = 32;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->af = AF_INET6;
		c->prefix = 128;
	} else {
		return EINVAL;
	}
	if (slash) {
		char *end;
		unsigned long pfx = strtoul(slash + 1, &end, 10);
		if (*end || end == slash + 1 || pfx > c->prefix)
			return EINVAL;
		c->prefix = (unsigned)pfx;
	}
	return 0;
}

bool ext_cidr_match(const struct ext_cidr *c, const struct sockaddr *sa)
{
	const unsigned char *a;
	if (sa->sa_family == AF_INET && c->af == AF_INET) {
		a = (const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6 && c->af == AF_INET6) {
		a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
	} else {
		return false;
	}
	unsigned full = c->prefix / 8, rest = c->prefix % 8;
	if (memcmp(a, c->addr, full))
		return false;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));
		if ((a[full] & mask) != (c->addr[full] & mask))
			return false;
	}
	return true;
}

const struct ext *ext_table_find_trusted(const struct ext_table *t, const struct sockaddr *sa,
					 struct pl user)
{
	const struct ext *named = ext_table_find(t, user);
	if (named) {
		/* The request names an extension: it is that one, trusted from
		 * here or not. A phone behind the same NAT as a trusted door
		 * phone must still prove who it is (digest). */
		for (int i = 0; named->enabled && i < named->ntrust; i++)
			if (ext_cidr_match(&named->trust[i], sa))
				return named;
		return NULL;
	}
	/* A device whose From names no extension (a gateway, a pager) is the
	 * extension that trusts its address. */
	for (size_t i = 0; i < t->n; i++) {
		const struct ext *x = &t->v[i];
		if (!x->enabled)
			continue;
		for (int j = 0; j < x->ntrust; j++)
			if (ext_cidr_match(&x->trust[j], sa))
				return x;
	}
	return NULL;
}
