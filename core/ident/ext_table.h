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

#include <sys/socket.h>

#include "../base/pl.h"

struct db;

#define EXT_MAX_TRUST 8

struct ext_cidr {
	int af;
	unsigned char addr[16];
	unsigned prefix;
};

struct ext {
	char number[32];
	char name[128];
	char password[128];
	bool enabled;
	char contact[256];   /* static contact URI, "" when it registers */
	struct ext_cidr trust[EXT_MAX_TRUST];
	int ntrust;
	int max_calls;       /* 0: the system default */
	char codecs[64];     /* "opus,PCMU" as stored; "": the system default */
	char srtp[12];       /* off | optional | required */
	/* where a call to it goes next (destination strings, base/dest.h;
	 * "": the call layer's default) when it is busy, rings without
	 * answer, or has no phone registered */
	char next_busy[64], next_noanswer[64], next_unavail[64];
	unsigned ring_time;  /* seconds of ringing, 0: the system default */
	/* call forwarding: a number to dial, "": off */
	char fwd_all[32], fwd_busy[32], fwd_noanswer[32];
	bool dnd;            /* do not disturb */
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

/* The enabled extension that trusts this source address. When user (the
 * From user) names an extension, only that one can match; otherwise the
 * first extension trusting the address. NULL when none. */
const struct ext *ext_table_find_trusted(const struct ext_table *t, const struct sockaddr *sa,
					 struct pl user);
/* Parses "1.2.3.4", "10.0.0.0/8", "2001:db8::/32"; EINVAL otherwise. */
int ext_cidr_parse(struct ext_cidr *c, const char *s, size_t len);
bool ext_cidr_match(const struct ext_cidr *c, const struct sockaddr *sa);

#endif
