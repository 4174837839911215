/* Helpers for pointer-length slices (see pl.h). */
#include "pl.h"

#include <errno.h>

size_t pl_strcpy(struct pl a, char *dst, size_t cap)
{
	size_t n = a.l;
	if (cap == 0)
		return a.l;
	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, a.p, n);
	dst[n] = '\0';
	return a.l;
}

int pl_u64(struct pl a, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (!a.p || a.l == 0)
		return EINVAL;
	for (size_t i = 0; i < a.l; i++) {
		unsigned d = (unsigned char)a.p[i] - '0';
		if (d > 9)
			return EINVAL;
		if (v > (max - d) / 10)
			return ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct pl pl_trim(struct pl a)
{
	if (!a.p)
		return a;
	while (a.l && is_ws(a.p[0])) {
		a.p++;
		a.l--;
	}
	while (a.l && is_ws(a.p[a.l - 1]))
		a.l--;
	return a;
}
