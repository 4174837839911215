/*
 * TEMPORARY placeholders for asource.h and arecord.h so the media engine
 * links while their implementation (asource.c, arecord.c) is being
 * written in another branch. Every function refuses with ENOSYS. Delete
 * this file when asource.c and arecord.c are merged.
 */
#include <errno.h>

#include "arecord.h"
#include "asource.h"

int asource_open_files(struct asource **out, const char *const *paths, size_t n,
		       bool loop, uint32_t rate)
{
	(void)out, (void)paths, (void)n, (void)loop, (void)rate;
	return ENOSYS;
}

int asource_open_tone(struct asource **out, const char *spec, uint32_t rate)
{
	(void)out, (void)spec, (void)rate;
	return ENOSYS;
}

size_t asource_read(struct asource *s, int16_t *pcm, size_t n)
{
	(void)s, (void)pcm, (void)n;
	return 0;
}

int asource_error(const struct asource *s)
{
	(void)s;
	return ENOSYS;
}

void asource_free(struct asource *s)
{
	(void)s;
}

int arecord_open(struct arecord **out, const char *path, enum arecord_format fmt,
		 bool stereo, uint32_t rate)
{
	(void)out, (void)path, (void)fmt, (void)stereo, (void)rate;
	return ENOSYS;
}

int arecord_write(struct arecord *r, const int16_t *a, const int16_t *b, size_t n)
{
	(void)r, (void)a, (void)b, (void)n;
	return ENOSYS;
}

uint64_t arecord_duration_ms(const struct arecord *r)
{
	(void)r;
	return 0;
}

int arecord_close(struct arecord *r)
{
	(void)r;
	return ENOSYS;
}
