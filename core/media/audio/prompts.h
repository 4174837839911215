/*
 * The prompt cache: every prompt the apps play, checked and converted once
 * when the daemon starts, so a call plays a file already at its own rate
 * (8 or 16 kHz, 16-bit mono WAV) and the media worker never resamples a
 * prompt. A recording that is missing is reported then, in one log line,
 * instead of being discovered as silence in someone's call.
 *
 * prompts_prepare does blocking file work (stat, read, resample, write):
 * it runs before the signalling loop starts. Afterwards the object is
 * immutable, so prompts_path may be called from any thread.
 */
#ifndef HF_PROMPTS_H
#define HF_PROMPTS_H

#include <stddef.h>

struct prompts;

/* Checks sounds_dir/NAME.wav for every name (NULL-terminated; "digits/7"
 * style names with sub-folders are fine, ".." is refused), logs the
 * missing ones in one line ("prompts missing: a, b (install
 * asterisk-core-sounds-en-wav)"), and writes cache_dir/8000/NAME.wav and
 * cache_dir/16000/NAME.wav for the others, skipping a conversion that is
 * already there from the same source file. A missing or unreadable
 * prompt, or a cache that cannot be written, is logged and leaves that
 * name without a path; only EINVAL and ENOMEM fail. */
int prompts_prepare(struct prompts **out, const char *sounds_dir, const char *cache_dir,
		    const char *const *names);
void prompts_free(struct prompts *p);

/* The converted file of name at rate (8000 or 16000) into out: 0, ENOENT
 * for a name that is missing, failed to convert or is not in the list,
 * EINVAL for another rate, ENAMETOOLONG when cap is too small. */
int prompts_path(const struct prompts *p, const char *name, unsigned rate, char *out,
		 size_t cap);

/* How many of the names have no converted file. */
size_t prompts_missing(const struct prompts *p);

#endif
