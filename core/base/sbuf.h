/*
 * A growable byte buffer for building outgoing messages. Writers append;
 * on allocation failure the buffer remembers the error and later appends
 * become no-ops, so a builder checks once at the end instead of after
 * every line.
 */
#ifndef HF_SBUF_H
#define HF_SBUF_H

#include <stddef.h>

#include "pl.h"

struct sbuf {
	char *p;
	size_t len;
	size_t cap;
	int err;
};

void sbuf_init(struct sbuf *b);
void sbuf_free(struct sbuf *b);
void sbuf_reset(struct sbuf *b);
void sbuf_add(struct sbuf *b, const void *data, size_t n);
void sbuf_addpl(struct sbuf *b, struct pl s);
void sbuf_adds(struct sbuf *b, const char *s);
void sbuf_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
