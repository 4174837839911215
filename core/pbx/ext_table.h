/*
 * An immutable snapshot of the extensions, as the signalling loop sees
 * them. The store thread builds a new table from the database on reload
 * and hands it to the loop, which swaps it in; whoever still holds the
 * old one (a call in progress, later) keeps it alive by reference.
 */
#ifndef HF_EXT_TABLE_H
#define HF_EXT_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "../base/pl.h"

struct db;

struct ext {
	char number[32];
	char name[128];
	char password[128];
	bool enabled;
};

struct ext_table;

/* Reads every extension from db (call on the thread owning db). */
int ext_table_load(struct ext_table **out, struct db *db);
/* An empty table (tests, or before the first load). */
int ext_table_alloc_empty(struct ext_table **out);
struct ext_table *ext_table_ref(struct ext_table *t);
void ext_table_unref(struct ext_table *t);

/* Finds an extension by number; NULL when absent. Disabled extensions are
 * returned too: callers decide (authentication treats them as absent). */
const struct ext *ext_table_find(const struct ext_table *t, struct pl number);
size_t ext_table_count(const struct ext_table *t);

#endif
