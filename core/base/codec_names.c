/*
 * The codec names table and the codec list parser (see codec_names.h).
 * Adding a codec to the media engine is a descriptor file, a line in
 * codec.c's table and a line here; test_codec_names fails until both
 * lines are there.
 */
#include "codec_names.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct codec_name names[] = {
	{ .name = "PCMU", .clock = 8000, .wideband = false, .min_ptime = 10, .max_ptime = 120 },
	{ .name = "PCMA", .clock = 8000, .wideband = false, .min_ptime = 10, .max_ptime = 120 },
	/* RFC 3551 4.5.2: G.722's RTP clock says 8000 though it samples at 16000 */
	{ .name = "G722", .clock = 8000, .wideband = true, .min_ptime = 10, .max_ptime = 120 },
	{ .name = "opus", .clock = 48000, .wideband = true, .min_ptime = 10, .max_ptime = 120 },
};

#define NNAMES (sizeof(names) / sizeof(names[0]))

size_t codec_name_count(void)
{
	return NNAMES;
}

const struct codec_name *codec_name_at(size_t i)
{
	return i < NNAMES ? &names[i] : NULL;
}

const struct codec_name *codec_name_find(const char *s, size_t n)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < NNAMES; i++)
		if (strlen(names[i].name) == n && strncasecmp(names[i].name, s, n) == 0)
			return &names[i];
	return NULL;
}

size_t codec_names_join(char *out, size_t cap, const char *sep)
{
	size_t at = 0;
	if (cap)
		out[0] = '\0';
	for (size_t i = 0; i < NNAMES; i++) {
		int k = snprintf(out + (at < cap ? at : cap), at < cap ? cap - at : 0, "%s%s",
				 i ? sep : "", names[i].name);
		at += (size_t)(k > 0 ? k : 0);
	}
	return at;
}

static int unknown(const char *s, size_t k, char *why, size_t cap)
{
	char known[96];
	codec_names_join(known, sizeof(known), ", ");
	if (why && cap)
		snprintf(why, cap, "unknown codec '%.*s' (known: %s)", (int)(k > 32 ? 32 : k), s, known);
	return EINVAL;
}

int codec_list_parse(const char *list, size_t idx[], size_t *n, char *why, size_t cap)
{
	size_t got[CODEC_LIST_MAX], count = 0;
	if (n)
		*n = 0;
	if (!list)
		list = "";
	size_t len = strlen(list);
	if (len >= CODEC_LIST_TEXT_MAX) {
		if (why && cap)
			snprintf(why, cap, "at most %d characters", CODEC_LIST_TEXT_MAX - 1);
		return EINVAL;
	}
	if (len == 0)
		return 0;
	if (strpbrk(list, " \t")) {
		if (why && cap)
			snprintf(why, cap, "no blanks: names separated by commas only, e.g. 'opus,PCMU'");
		return EINVAL;
	}
	for (const char *s = list;;) {
		size_t k = strcspn(s, ",");
		if (!k) {
			if (why && cap)
				snprintf(why, cap, "empty entry (a doubled comma, or one at either end)");
			return EINVAL;
		}
		const struct codec_name *c = codec_name_find(s, k);
		if (!c)
			return unknown(s, k, why, cap);
		size_t i = (size_t)(c - names);
		for (size_t j = 0; j < count; j++)
			if (got[j] == i) {
				if (why && cap)
					snprintf(why, cap, "codec '%s' listed twice", c->name);
				return EINVAL;
			}
		if (count == CODEC_LIST_MAX) {
			if (why && cap)
				snprintf(why, cap, "at most %d codecs", CODEC_LIST_MAX);
			return EINVAL;
		}
		got[count++] = i;
		s += k;
		if (!*s)
			break;
		s++;
	}
	if (idx)
		memcpy(idx, got, count * sizeof(got[0]));
	if (n)
		*n = count;
	return 0;
}

int codec_list_validate(const char *list, char *why, size_t cap)
{
	return codec_list_parse(list, NULL, NULL, why, cap);
}

static char help[160];

static void help_init(void)
{
	char known[96];
	codec_names_join(known, sizeof(known), ", ");
	snprintf(help, sizeof(help), "comma-separated, preferred first, of %s", known);
}

const char *codec_list_help(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, help_init);
	return help;
}
