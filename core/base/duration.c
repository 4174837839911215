/*
 * Durations for people (duration.h): the CLI's tables and the web's
 * pages write the same text for the same seconds.
 */
#include "duration.h"

#include <stdio.h>

void duration_format(char *out, size_t cap, unsigned long long s)
{
	if (!cap)
		return;
	if (s < 60)
		snprintf(out, cap, "%llus", s);
	else if (s < 3600)
		snprintf(out, cap, "%llum %02llus", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, cap, "%lluh %02llum", s / 3600, s % 3600 / 60);
	else
		snprintf(out, cap, "%llud %02lluh", s / 86400, s % 86400 / 3600);
}
