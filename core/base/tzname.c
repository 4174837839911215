/*
 * The system's time zone by name (tzname.h): TZ when set (as libc reads
 * it), else the zone /etc/localtime links to (".../zoneinfo/Europe/Berlin"),
 * else /etc/timezone (Debian), else UTC, which is what libc uses when
 * there is none of them.
 */
#include "tzname.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void tz_name(char *out, size_t cap)
{
	if (!cap)
		return;
	const char *tz = getenv("TZ");
	if (tz && *tz) {
		snprintf(out, cap, "%s", tz[0] == ':' ? tz + 1 : tz);
		return;
	}
	char link[512];
	ssize_t n = readlink("/etc/localtime", link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		const char *z = strstr(link, "zoneinfo/");
		if (z && z[9]) {
			snprintf(out, cap, "%s", z + 9);
			return;
		}
	}
	FILE *f = fopen("/etc/timezone", "r");
	if (f) {
		bool ok = fgets(out, (int)cap, f) != NULL;
		fclose(f);
		if (ok) {
			out[strcspn(out, "\r\n")] = '\0';
			if (out[0])
				return;
		}
	}
	snprintf(out, cap, "UTC");
}
