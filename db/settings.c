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

int db_setting_each(struct db *db, const char *prefix, db_setting_h *h, void *arg)
{
	if (!db || !prefix)
		return -EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db,
			  "SELECT key, value FROM settings WHERE substr(key, 1, length(?1)) = ?1"
			  " ORDER BY key",
			  &st);
	if (err)
		return -err;
	err = db_bind_str(st, 1, prefix, 256);
	if (err) {
		db_stmt_done(db, st);
		return -err;
	}
	int count = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char key[256], value[1024];
		db_col_str(st, 0, key, sizeof(key));
		db_col_str(st, 1, value, sizeof(value));
		if (h)
			h(key, value, arg);
		count++;
	}
	err = db_rc(db, rc);
	db_stmt_done(db, st);
	return err ? -err : count;
}

int db_setting_set_many(struct db *db, const char *const *keys, const char *const *values,
			size_t n)
{
	if (!db || (n && (!keys || !values)))
		return EINVAL;
	int err = db_begin(db);
	if (err)
		return err;
	for (size_t i = 0; i < n && !err; i++)
		err = db_setting_set(db, keys[i], values[i]);
	if (err) {
		db_rollback(db);
		return err;
	}
	return db_commit(db);
}
