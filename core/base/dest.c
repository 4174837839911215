/*
 * Parsing and printing destination strings (dest.h). Only the form is
 * checked here: whether ext:1001 exists is the router's question when a
 * call arrives, so that removing an extension never breaks a save.
 */
#include "dest.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void say(char *why, size_t cap, const char *msg, const char *s)
{
	if (why && cap)
		snprintf(why, cap, msg, s);
}

static int id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("*#+._-", c) != NULL;
}

int dest_parse(const char *s, struct dest *out, char *why, size_t why_cap)
{
	memset(out, 0, sizeof(*out));
	if (!s || !*s) {
		say(why, why_cap, "empty destination%s", "");
		return EINVAL;
	}
	if (!strcmp(s, "hangup")) {
		snprintf(out->kind, sizeof(out->kind), "hangup");
		return 0;
	}
	const char *colon = strchr(s, ':');
	size_t kl = colon ? (size_t)(colon - s) : 0;
	if (!colon || !kl || kl >= sizeof(out->kind)) {
		say(why, why_cap, "destination '%s' is not kind:id (e.g. ext:1001, app:echo) or hangup", s);
		return EINVAL;
	}
	for (size_t i = 0; i < kl; i++)
		if (s[i] < 'a' || s[i] > 'z') {
			say(why, why_cap, "destination '%s': the kind is lower-case letters", s);
			return EINVAL;
		}
	const char *id = colon + 1;
	size_t il = strlen(id);
	if (!il || il >= sizeof(out->id)) {
		say(why, why_cap, "destination '%s': the id is 1 to 47 characters", s);
		return EINVAL;
	}
	for (size_t i = 0; i < il; i++)
		if (!id_char(id[i])) {
			say(why, why_cap, "destination '%s': the id may hold letters, digits and * # + . _ -", s);
			return EINVAL;
		}
	memcpy(out->kind, s, kl);
	memcpy(out->id, id, il);
	return 0;
}

void dest_format(const struct dest *d, char *out, size_t cap)
{
	if (!d->id[0])
		snprintf(out, cap, "%s", d->kind);
	else
		snprintf(out, cap, "%s:%s", d->kind, d->id);
}
