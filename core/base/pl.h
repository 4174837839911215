/*
 * Pointer-length slices. Parsers hand out slices of the buffer they were
 * given instead of copying strings (the libre way): cheap, and the owner of
 * the buffer decides its lifetime. A slice is never NUL-terminated.
 */
#ifndef HF_PL_H
#define HF_PL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

struct pl {
	const char *p;
	size_t l;
};

#define PL(s) ((struct pl){ (s), sizeof(s) - 1 })
#define PL_NULL ((struct pl){ NULL, 0 })

static inline struct pl pl_from(const char *s)
{
	return (struct pl){ s, s ? strlen(s) : 0 };
}

static inline bool pl_isset(struct pl a)
{
	return a.p != NULL;
}

static inline bool pl_eq(struct pl a, struct pl b)
{
	return a.l == b.l && (a.l == 0 || memcmp(a.p, b.p, a.l) == 0);
}

static inline bool pl_casestr(struct pl a, const char *s)
{
	size_t n = strlen(s);
	return a.p && a.l == n && strncasecmp(a.p, s, n) == 0;
}

static inline bool pl_caseeq(struct pl a, struct pl b)
{
	return a.l == b.l && (a.l == 0 || strncasecmp(a.p, b.p, a.l) == 0);
}

/* Copies at most cap-1 bytes and NUL-terminates; returns the slice length. */
size_t pl_strcpy(struct pl a, char *dst, size_t cap);

/* Parses an unsigned decimal; 0 on success, EINVAL on empty/garbage,
 * ERANGE past max. */
int pl_u64(struct pl a, uint64_t max, uint64_t *out);

/* Trims spaces and tabs (and CR/LF) at both ends. */
struct pl pl_trim(struct pl a);

#endif
