/*
 * Settings: a small key/value table for values the system generates and
 * must keep (secrets, identifiers, first-start markers), not for the
 * telephony configuration, which has proper tables.
 */
#include "db_int.h"

#include <errno.h>
#include <string.h>

int db_setting_get(struct db *db, const char *key, char *out, size_t cap)
{
	if (!db || !key || !out || !cap)
		return EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db, "SELECT value FROM settings WHERE key = ?1", &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, key, 256);
	if (!err) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			/* A truncated secret would be a silently wrong secret. */
			if ((size_t)sqlite3_column_bytes(st, 0) >= cap)
				err = ENOSPC;
			else
				db_col_str(st, 0, out, cap);
		} else {
			err = rc == SQLITE_DONE ? ENOENT : db_rc(db, rc);
		}
	}
	db_stmt_done(db, st);
	return err;
}

int db_setting_set(struct db *db, const char *key, const char *value)
{
	if (!db || !key || !*key || !value)
		return EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db,
			  "INSERT INTO settings (key, value) VALUES (?1, ?2)"
			  " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
			  &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, key, 256);
	err = err ? err : db_bind_str(st, 2, value, 65536);
	if (!err)
		err = db_rc(db, sqlite3_step(st));
	db_stmt_done(db, st);
	return err;
}
