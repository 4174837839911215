/*
 * Destinations: where a call goes, written "kind:id" ("ext:1001",
 * "app:echo", "vm:1001", "conf:800") or "hangup". Every setting that
 * says "where to" (a dialled number, no answer, busy, an IVR option)
 * stores one of these strings; it is checked for form when saved and
 * resolved when a call gets there, so a destination whose target was
 * removed since fails the call over to its next destination instead of
 * failing the save of something else. It lives in base, not dialplan,
 * because db/ (which may depend on base only) checks the destinations it
 * stores with the same parser the router uses.
 */
#ifndef HF_DEST_H
#define HF_DEST_H

#include <stddef.h>

#define DEST_KIND_MAX 16
#define DEST_ID_MAX 48
#define DEST_MAX (DEST_KIND_MAX + DEST_ID_MAX + 1)

struct dest {
	char kind[DEST_KIND_MAX]; /* "ext", "app", "hangup", or an app's kind */
	char id[DEST_ID_MAX];     /* "" for hangup */
};

/* Parses s. EINVAL with a message in why (which may be NULL) naming
 * what is wrong: kinds are lower-case letters, ids are 1..47 characters
 * of [A-Za-z0-9*#+._-]; "hangup" takes no id. */
int dest_parse(const char *s, struct dest *out, char *why, size_t why_cap);

/* "kind:id", or "hangup". */
void dest_format(const struct dest *d, char *out, size_t cap);

#endif
