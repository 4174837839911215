/*
 * The codecs Hookflash has, by name: the one list that the database,
 * the settings, the `hookflash` tool, the web API (and through it the
 * web UI and the OpenAPI document) check codec lists against and print
 * in their help. It knows names and limits only, no media code, so every
 * layer may include it; the media engine's descriptors
 * (core/media/codecs/codec.c) are checked against it by
 * tests/unit/test_codec_names.c, so the two cannot drift apart.
 *
 * A codec list is what an extension's `codecs` and the [calls] codecs
 * setting hold: names from this table in order of preference, any case,
 * separated by commas, each once, no blanks, at most CODEC_LIST_MAX
 * names and CODEC_LIST_TEXT_MAX - 1 bytes.
 */
#ifndef HF_CODEC_NAMES_H
#define HF_CODEC_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CODEC_LIST_MAX 8       /* names a codec list may hold */
#define CODEC_LIST_TEXT_MAX 64 /* bytes of a codec list, its NUL included */

struct codec_name {
	const char *name;   /* as in SDP (rtpmap) and as printed, e.g. "PCMU" */
	uint32_t clock;     /* its RTP clock rate */
	bool wideband;      /* carries more than telephone-band (8 kHz) audio */
	uint8_t min_ptime;  /* packet times (ms) it can be coded in: */
	uint8_t max_ptime;  /* multiples of 10 in [min, max] */
};

/* The number of codecs, and the i-th (NULL past the end), in the order
 * the media engine lists them. */
size_t codec_name_count(void);
const struct codec_name *codec_name_at(size_t i);

/* The codec called s[0..n) (any case); NULL if none. */
const struct codec_name *codec_name_find(const char *s, size_t n);

/* Writes the names joined by sep ("PCMU, PCMA, G722, opus" with ", ")
 * into out, always terminated; returns the length it needed. */
size_t codec_names_join(char *out, size_t cap, const char *sep);

/* Checks a codec list (see the header); "" is a valid empty list. On
 * success 0, with the indices (for codec_name_at) of its names in order
 * in idx[0..*n) when idx is given (room for CODEC_LIST_MAX). EINVAL with
 * a message in why naming the fault, e.g. "unknown codec 'G729' (known:
 * PCMU, PCMA, G722, opus)": every layer passes this message on, so the
 * tool, the API and the settings refuse the same input in the same
 * words. */
int codec_list_parse(const char *list, size_t idx[], size_t *n, char *why, size_t cap);

/* codec_list_parse without the result. */
int codec_list_validate(const char *list, char *why, size_t cap);

/* One line saying what a codec list is, for help texts:
 * "comma-separated, preferred first, of PCMU, PCMA, G722, opus". */
const char *codec_list_help(void);

#endif
