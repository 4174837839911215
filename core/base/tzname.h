/*
 * The name of the time zone this process's clock uses (localtime_r), for
 * people: the web pages show times in it and say so, and the CLI says
 * which zone its times are in, so every view of a call agrees.
 */
#ifndef HF_TZNAME_H
#define HF_TZNAME_H
#include <stddef.h>

/* Writes the zone's name ("Europe/Berlin"; "UTC" when none is set) into
 * out (cap bytes, always terminated). */
void tz_name(char *out, size_t cap);

#endif
