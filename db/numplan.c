/*
 * The numbering plan: one table of every dialable number and where a call
 * to it goes ("ext:1001", "app:echo", later "conf:800", "ivr:700"), with
 * its owner in words for error messages. The number is the primary key,
 * so "is it free?" is answered by the INSERT itself, never by a look
 * first and a write later that another writer could slip between.
 * Extensions claim and release their rows inside their own transactions
 * (ext.c through db_number_claim/db_number_release); feature codes and
 * the numbers of later features go through db_number_add/remove.
 */
#include "db_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char sql_claim[] = "INSERT INTO numbers (number, dest, what) VALUES (?1, ?2, ?3)";
static const char sql_get[] = "SELECT number, dest, what FROM numbers WHERE number = ?1";

static void say(struct db *db, char *why, size_t cap, const char *msg)
{
	db_set_err(db, msg);
	if (why && cap)
		snprintf(why, cap, "%s", msg);
}

static void read_row(sqlite3_stmt *st, struct db_number *n)
{
	memset(n, 0, sizeof(*n));
	db_col_str(st, 0, n->number, sizeof(n->number));
	db_col_str(st, 1, n->dest, sizeof(n->dest));
	db_col_str(st, 2, n->what, sizeof(n->what));
}

int db_number_get(struct db *db, const char *number, struct db_number *out)
{
	if (!db || !number || !out)
		return EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db, sql_get, &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, number, DB_NUMBER_MAX);
	if (!err) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			read_row(st, out);
		else
			err = rc == SQLITE_DONE ? ENOENT : db_rc(db, rc);
	}
	db_stmt_done(db, st);
	return err;
}

int db_number_claim(struct db *db, const char *number, const char *dest, const char *what,
		    char *why, size_t why_cap)
{
	sqlite3_stmt *st;
	int err = db_stmt(db, sql_claim, &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, number, DB_NUMBER_MAX);
	err = err ? err : db_bind_str(st, 2, dest, DB_NUMBER_DEST_MAX);
	err = err ? err : db_bind_str(st, 3, what, DB_NUMBER_WHAT_MAX);
	if (!err)
		err = db_rc(db, sqlite3_step(st));
	db_stmt_done(db, st);
	if (err != EEXIST)
		return err;
	/* Say who has it (read in the same transaction as the failed insert
	 * when the caller holds one). */
	struct db_number owner;
	char msg[DB_NUMBER_MAX + DB_NUMBER_WHAT_MAX + 32];
	if (db_number_get(db, number, &owner) == 0)
		snprintf(msg, sizeof(msg), "number %s is taken by %s", owner.number, owner.what);
	else
		snprintf(msg, sizeof(msg), "number %.31s is taken", number);
	say(db, why, why_cap, msg);
	return EEXIST;
}

int db_number_release(struct db *db, const char *number, const char *dest)
{
	sqlite3_stmt *st;
	int err = db_stmt(db, "DELETE FROM numbers WHERE number = ?1 AND dest = ?2", &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, number, DB_NUMBER_MAX);
	err = err ? err : db_bind_str(st, 2, dest, DB_NUMBER_DEST_MAX);
	if (!err)
		err = db_rc(db, sqlite3_step(st));
	db_stmt_done(db, st);
	return err;
}

/* --- the public side ------------------------------------------------------ */

/* 1-31 of 0-9 * # +; a '+' only first (E.164) and not alone. */
static const char *number_bad(const char *s)
{
	size_t n = strnlen(s, DB_NUMBER_MAX);
	if (n == 0 || n == DB_NUMBER_MAX)
		return "number: 1 to 31 characters";
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if ((c >= '0' && c <= '9') || c == '*' || c == '#' || (c == '+' && i == 0 && n > 1))
			continue;
		return "number: digits, '*', '#' and a leading '+' only";
	}
	return NULL;
}

/* "kind:id": kind a-z, id printable ASCII without spaces. */
static const char *dest_bad(const char *s)
{
	static const char *const bad = "dest: kind:id (e.g. app:echo, conf:800)";
	size_t n = strnlen(s, DB_NUMBER_DEST_MAX);
	if (n == DB_NUMBER_DEST_MAX)
		return "dest: at most 63 characters";
	const char *colon = memchr(s, ':', n);
	if (!colon || colon == s || colon + 1 == s + n)
		return bad;
	for (const char *p = s; p < colon; p++)
		if (*p < 'a' || *p > 'z')
			return bad;
	for (const char *p = colon + 1; p < s + n; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return bad;
	if (colon - s == 3 && !strncmp(s, "ext", 3))
		return "dest: an extension's number comes with the extension (extension add)";
	return NULL;
}

static const char *what_bad(const char *s)
{
	size_t n = strnlen(s, DB_NUMBER_WHAT_MAX);
	if (n == 0 || n == DB_NUMBER_WHAT_MAX)
		return "what: 1 to 63 bytes";
	if (!db_text_clean(s, n))
		return "what: invalid UTF-8 or control characters";
	return NULL;
}

int db_number_add(struct db *db, const char *number, const char *dest, const char *what,
		  char *why, size_t why_cap)
{
	if (why && why_cap)
		why[0] = '\0';
	if (!db || !number || !dest || !what)
		return EINVAL;
	const char *bad = number_bad(number);
	bad = bad ? bad : dest_bad(dest);
	bad = bad ? bad : what_bad(what);
	if (bad) {
		say(db, why, why_cap, bad);
		return EINVAL;
	}
	/* One statement: atomic on its own, or part of the caller's
	 * transaction. */
	return db_number_claim(db, number, dest, what, why, why_cap);
}

int db_number_remove(struct db *db, const char *number)
{
	if (!db || !number)
		return EINVAL;
	bool nested;
	int err = db_tx_begin(db, &nested);
	if (err)
		return err;
	struct db_number n;
	err = db_number_get(db, number, &n);
	if (!err && !strncmp(n.dest, "ext:", 4)) {
		char msg[DB_NUMBER_MAX + DB_NUMBER_WHAT_MAX + 48];
		snprintf(msg, sizeof(msg), "number %s belongs to %s: remove the extension", n.number,
			 n.what);
		db_set_err(db, msg);
		err = EPERM;
	}
	if (!err) {
		sqlite3_stmt *st;
		err = db_stmt(db, "DELETE FROM numbers WHERE number = ?1", &st);
		if (!err)
			err = db_finish_change(db, st, db_bind_str(st, 1, number, DB_NUMBER_MAX));
	}
	return db_tx_end(db, nested, err);
}

int db_number_list(struct db *db, db_number_h *h, void *arg)
{
	if (!db)
		return -EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db, "SELECT number, dest, what FROM numbers ORDER BY length(number), number",
			  &st);
	if (err)
		return -err;
	int count = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_number n;
		read_row(st, &n);
		if (h)
			h(&n, arg);
		count++;
	}
	err = db_rc(db, rc);
	db_stmt_done(db, st);
	return err ? -err : count;
}
