/*
 * The numbering plan as the signalling loop sees it: an immutable
 * snapshot of the `numbers` table (every dialable number, one namespace:
 * extensions, feature codes, and later rooms, menus and groups), each
 * with its destination. Built on the store thread at start and on every
 * reload, swapped in on the loop like the extension table.
 */
#ifndef HF_NUMPLAN_H
#define HF_NUMPLAN_H

#include <stddef.h>

struct db;
struct numplan;

/* Reads the plan from db (on the thread owning db). */
int numplan_load(struct numplan **out, struct db *db);
/* An empty plan; numplan_add fills it (tests, and numplan_load). */
int numplan_alloc(struct numplan **out);
/* Adds or replaces number -> dest. EINVAL when either is too long. */
int numplan_add(struct numplan *p, const char *number, const char *dest);
void numplan_free(struct numplan *p);

/* The destination string of a number, NULL when it is not in the plan. */
const char *numplan_find(const struct numplan *p, const char *number);
size_t numplan_count(const struct numplan *p);

#endif
