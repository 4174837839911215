/*
 * Aligned tables (table.h). Widths count UTF-8 characters, not bytes, so
 * a column of names like "Zoë" lines up.
 */
#include "table.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Length of the valid, printable UTF-8 sequence at p, or 0. C1 controls
 * (U+0080-U+009F, CSI among them) count as unprintable. */
static size_t printable_seq(const unsigned char *p)
{
	unsigned c = p[0];
	if (c < 0x80)
		return c >= 0x20 && c != 0x7f;
	size_t len;
	uint32_t cp, min;
	if ((c & 0xe0) == 0xc0)
		len = 2, cp = c & 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		len = 3, cp = c & 0x0f, min = 0x800;
	else if ((c & 0xf8) == 0xf0)
		len = 4, cp = c & 0x07, min = 0x10000;
	else
		return 0;
	for (size_t k = 1; k < len; k++) {
		if ((p[k] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = (cp << 6) | (p[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f)
		return 0;
	return len;
}

/* Characters table_put_clean() writes for s. */
static size_t width(const char *s)
{
	size_t w = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t n = printable_seq(p);
		p += n ? n : 1;
		w++;
	}
	return w;
}

void table_put_clean(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t n = printable_seq(p);
		if (n) {
			fwrite(p, 1, n, f);
			p += n;
		} else {
			fputc('?', f);
			p++;
		}
	}
}

size_t table_clean_copy(char *dst, size_t cap, const char *s)
{
	if (!cap)
		return 0;
	size_t at = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t n = printable_seq(p);
		const void *src = n ? (const void *)p : "?";
		size_t len = n ? n : 1;
		if (at + len >= cap)
			break;
		memcpy(dst + at, src, len);
		at += len;
		p += len;
	}
	dst[at] = '\0';
	return at;
}

static void pad(FILE *f, size_t n)
{
	while (n--)
		fputc(' ', f);
}

static void print_row(FILE *f, size_t ncols, const char *const *row, const char *align,
		      const size_t *w)
{
	for (size_t c = 0; c < ncols; c++) {
		const char *s = row[c] ? row[c] : "";
		size_t sw = width(s);
		bool right = align && align[c] == 'r';
		bool last = c + 1 == ncols;
		if (right)
			pad(f, w[c] - sw);
		table_put_clean(f, s);
		if (!right && !last)
			pad(f, w[c] - sw);
		if (!last)
			fputs("  ", f);
	}
	fputc('\n', f);
}

void table_print(FILE *f, size_t ncols, const char *const *head, const char *align,
		 const char *const *cells, size_t nrows)
{
	size_t w[TABLE_COLS_MAX] = { 0 };
	if (ncols > TABLE_COLS_MAX)
		ncols = TABLE_COLS_MAX;
	for (size_t c = 0; c < ncols; c++) {
		w[c] = head ? width(head[c]) : 0;
		for (size_t r = 0; r < nrows; r++) {
			const char *s = cells[r * ncols + c];
			size_t sw = s ? width(s) : 0;
			if (sw > w[c])
				w[c] = sw;
		}
	}
	if (head)
		print_row(f, ncols, head, align, w);
	for (size_t r = 0; r < nrows; r++)
		print_row(f, ncols, cells + r * ncols, align, w);
}
