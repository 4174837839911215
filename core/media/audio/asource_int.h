/*
 * Private to asource*.c: the one interface both kinds of source (files in
 * asource.c, tones in asource_tone.c) implement. Each kind embeds struct
 * asource first in its own struct and points it at its ops; asource_read,
 * asource_error and asource_free dispatch through them.
 */
#ifndef HF_ASOURCE_INT_H
#define HF_ASOURCE_INT_H

#include "asource.h"

struct asource_ops {
	/* Up to n samples; fewer only at the end (then 0 forever). */
	size_t (*read)(struct asource *s, int16_t *pcm, size_t n);
	void (*destroy)(struct asource *s);
};

struct asource {
	const struct asource_ops *ops;
	int err;   /* why it ended early, else 0 */
	bool done; /* read returned short: 0 from now on */
};

/* The rates a source can be asked for. */
static inline bool asource_rate_ok(uint32_t rate)
{
	return rate == 8000 || rate == 16000 || rate == 48000;
}

#endif
