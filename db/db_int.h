/*
 * Private to db/: the connection struct and the small helpers every data
 * access file uses (prepared-statement cache, SQLite result code to errno,
 * transactions, bounded text binding and copying). Nothing outside db/
 * includes this; it is what keeps SQLite out of everyone else's code.
 */
#ifndef HF_DB_INT_H
#define HF_DB_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "db.h"

/* Enough for every distinct statement in db/; a full cache only means
 * further statements are prepared and finalized per call. */
#define DB_STMT_CACHE 96

struct db_stmt_slot {
	const char *sql; /* a string literal: cached by its address */
	sqlite3_stmt *st;
};

struct db {
	sqlite3 *sql;
	struct db_stmt_slot cache[DB_STMT_CACHE];
	char err[256]; /* last error, copied when it happened */
	/* voicemail PIN rules and lockout (voicemail.h); zeros: defaults */
	unsigned vm_pin_min_len, vm_lock_after, vm_lock_secs;
	/* cdr.c: CDRs the database refused (disk full, read-only), oldest
	 * first, written before the next one (db_cdr_insert_or_keep) */
	struct db_cdr_kept *cdr_kept, **cdr_kept_tail;
	size_t cdr_nkept;
};
/* cdr.c: frees the CDRs still kept (db_close). */
size_t db_cdr_kept_free(struct db *db);

/* Returns a ready statement for sql (a string literal). Statements are
 * cached per connection; a cached one still running (a handler re-entering
 * the same query) gets a private copy instead. Pair with db_stmt_done(). */
int db_stmt(struct db *db, const char *sql, sqlite3_stmt **out);
/* Resets a statement from db_stmt() and clears its bindings (or finalizes
 * it when it was not cached). */
void db_stmt_done(struct db *db, sqlite3_stmt *st);

/* Maps an SQLite result code to 0 or an errno value and remembers the
 * connection's message for db_errmsg(). Constraint violations: unique and
 * primary key -> EEXIST, foreign key -> ENOENT, others -> EINVAL. */
int db_rc(struct db *db, int rc);
/* Records a message of our own for db_errmsg(). */
void db_set_err(struct db *db, const char *msg);

/* Ends an UPDATE/DELETE of one row: steps st unless err is already set
 * (a failed bind), maps the result, turns "no row changed" into ENOENT,
 * and releases st. Returns the outcome. */
int db_finish_change(struct db *db, sqlite3_stmt *st, int err);

/* Runs one parameterless constant statement (pragmas, BEGIN, COMMIT). */
int db_exec(struct db *db, const char *sql);
/* BEGIN IMMEDIATE: takes the write lock up front, so a transaction never
 * fails half way with SQLITE_BUSY on its first write. */
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);

/* A write transaction that nests: BEGIN IMMEDIATE when none is open,
 * otherwise a savepoint inside the caller's (db_setup_defaults adds its
 * extensions inside its own transaction). *nested says which, for
 * db_tx_end, which commits (or releases the savepoint) when err is 0 and
 * rolls back to where db_tx_begin was otherwise, keeping the message of
 * the error. Returns err, or the commit's error. */
int db_tx_begin(struct db *db, bool *nested);
int db_tx_end(struct db *db, bool nested, int err);

/* Numbering plan (numplan.c), for the owners of numbers inside their own
 * transaction: claims number for dest, or EEXIST with why set to
 * "number N is taken by WHAT" (and the same in db_errmsg). Checks no
 * syntax: the caller validated its own number. */
int db_number_claim(struct db *db, const char *number, const char *dest, const char *what,
		    char *why, size_t why_cap);
/* Drops number's row if it points at dest; 0 whether or not it was there. */
int db_number_release(struct db *db, const char *number, const char *dest);

/* Binds at most cap bytes of s (fields of our structs are fixed arrays that
 * a careless caller may not have terminated). */
int db_bind_str(sqlite3_stmt *st, int idx, const char *s, size_t cap);
/* Copies column col as text into dst (cap bytes, always terminated). */
void db_col_str(sqlite3_stmt *st, int col, char *dst, size_t cap);

/* True when s[0..n) is valid UTF-8 without control characters (C0, DEL,
 * C1): names end up in SIP headers and on terminals, where CR/LF or ESC
 * would be an injection. */
bool db_text_clean(const char *s, size_t n);
/* n bytes as 2n lowercase hex digits and a NUL (out holds 2n + 1). */
void db_hex(const unsigned char *d, size_t n, char *out);

/* PBKDF2-HMAC-SHA256 in db_password_hash's format, with iter rounds
 * (user.c); db_password_verify checks either. */
int db_pbkdf2_hash(const char *secret, int iter, char *out, size_t cap);

/* Voicemail (voicemail.c), for db_ext_add/db_ext_update inside their
 * transaction: makes sure number has a mailbox row and, when pin is not
 * "", checks it against the policy (EINVAL, db_errmsg "pin: ...") and
 * stores its hash. */
int db_vm_ext_saved(struct db *db, const char *number, const char *pin);
/* Migration 7's step in C: hashes the plain extensions.vm_pin into the
 * mailboxes and clears the column. */
int db_vm_migrate_pins(struct db *db);

/* Schema (migrations.c): applies pending migrations; ENOTSUP when the file
 * comes from a newer Hookflash. */
int db_migrate(struct db *db);
/* Number of migrations this build knows. */
int db_migration_count(void);

#endif
