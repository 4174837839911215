/*
 * One way to write a length of time for people, used by the CLI and
 * mirrored by the web UI (web/static/app.js fmtDur): "45s", "4m 58s",
 * "1h 02m", "2d 03h" -- the two largest units, the second zero-padded,
 * so a column of durations reads at a glance.
 */
#ifndef HF_DURATION_H
#define HF_DURATION_H
#include <stddef.h>

/* Writes s seconds as above into out (cap bytes, always terminated). */
void duration_format(char *out, size_t cap, unsigned long long s);

#endif
