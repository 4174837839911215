/*
 * The call handling options of `hookflash extension add|set` (ring time,
 * where unanswered, busy and unreachable calls go, call forwarding,
 * do-not-disturb) and how `extension show|list` print them, kept apart
 * from cmd_ext.c so that file stays about accounts and devices. The rules
 * are db_ext_validate's; these functions only carry the words typed into
 * a struct db_ext.
 */
#ifndef HF_CLI_EXT_CALLS_H
#define HF_CLI_EXT_CALLS_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

struct db_ext;

/* Usage text of the options, for add and set alike. */
#define EXT_CALLS_USAGE                                                         \
	" [--ring-time S] [--no-answer DEST] [--busy DEST] [--unavailable DEST]" \
	" [--forward NUMBER] [--forward-busy NUMBER] [--forward-no-answer NUMBER]" \
	" [--no-forward] [--dnd on|off]"

/* The values as typed; NULL: not given. */
struct ext_calls_args {
	const char *ring_time, *no_answer, *busy, *unavailable;
	const char *forward, *forward_busy, *forward_no_answer, *dnd;
	bool no_forward;
};

/* Appends the options to opts (cap entries, terminated by a { 0 } entry,
 * which stays after them). False when they do not fit. */
bool ext_calls_opts(struct cli_opt *opts, size_t cap, struct ext_calls_args *a);
/* Any option given? */
bool ext_calls_given(const struct ext_calls_args *a);
/* Copies the given options into e (--no-forward clears the three
 * forwards). CLI_OK, or CLI_ERR/CLI_USAGE having said why; usage is the
 * command's usage line. */
int ext_calls_apply(struct db_ext *e, const struct ext_calls_args *a, const char *usage);

/* Rows of `extension show` (label, value pairs); cells has room for
 * EXT_CALLS_ROWS * 2 pointers, into e or buf. */
#define EXT_CALLS_ROWS 8
struct ext_calls_buf {
	char ring[48];
};
void ext_calls_cells(const struct db_ext *e, struct ext_calls_buf *buf, const char **cells);
/* The compact FWD/DND cell of `extension list`: "dnd, fwd 2002", "" when
 * neither is on. */
void ext_calls_marker(char *out, size_t cap, const struct db_ext *e);

#endif
