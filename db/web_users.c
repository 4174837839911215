/*
 * Web accounts beyond what the CLI needs (user.c): the owned extension,
 * listing, removal and role changes, for the web administration API. A
 * "user" account is an extension's owner and sees only that extension's
 * calls; the link is a foreign key, so deleting the extension unlinks the
 * account instead of leaving it pointing at a number someone else may get.
 */
#include "db_int.h"

#include <errno.h>
#include <string.h>

static bool role_ok(const char *role)
{
	return role && (!strcmp(role, "admin") || !strcmp(role, "user"));
}

static void read_user(sqlite3_stmt *st, struct db_user *u, bool with_hash)
{
	memset(u, 0, sizeof(*u));
	db_col_str(st, 0, u->username, sizeof(u->username));
	if (with_hash)
		db_col_str(st, 1, u->pw_hash, sizeof(u->pw_hash));
	db_col_str(st, 2, u->role, sizeof(u->role));
	db_col_str(st, 3, u->extension, sizeof(u->extension)); /* NULL reads as "" */
	u->created_at = sqlite3_column_int64(st, 4);
	u->must_change_password = sqlite3_column_int(st, 5) != 0;
}

int db_user_info(struct db *db, const char *username, struct db_user *out)
{
	if (!db || !username || !out)
		return EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db,
			  "SELECT username, pw_hash, role, extension, created_at,"
			  " must_change_password FROM users WHERE username = ?1",
			  &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, username, DB_USER_NAME_MAX);
	if (!err) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			read_user(st, out, true);
		else
			err = rc == SQLITE_DONE ? ENOENT : db_rc(db, rc);
	}
	db_stmt_done(db, st);
	return err;
}

/* 1 when a row answers the one-parameter query, 0 when none, or -errno. */
static int exists(struct db *db, const char *sql, const char *key, size_t cap)
{
	sqlite3_stmt *st;
	int err = db_stmt(db, sql, &st);
	if (err)
		return -err;
	err = db_bind_str(st, 1, key, cap);
	int found = 0;
	if (!err) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			found = 1;
		else if (rc != SQLITE_DONE)
			err = db_rc(db, rc);
	}
	db_stmt_done(db, st);
	return err ? -err : found;
}

static int ext_exists(struct db *db, const char *ext)
{
	return exists(db, "SELECT 1 FROM extensions WHERE number = ?1", ext, DB_EXT_NUMBER_MAX);
}

/* The update itself, inside the caller's transaction. */
static int set_extension(struct db *db, const char *username, const char *ext)
{
	int found = exists(db, "SELECT 1 FROM users WHERE username = ?1", username,
			   DB_USER_NAME_MAX);
	if (found <= 0)
		return found < 0 ? -found : ENOENT;
	if (ext && *ext) {
		found = ext_exists(db, ext);
		if (found <= 0) {
			if (!found)
				db_set_err(db, "extension: no such extension");
			return found < 0 ? -found : ESRCH;
		}
	}
	sqlite3_stmt *st;
	int err = db_stmt(db, "UPDATE users SET extension = ?2 WHERE username = ?1", &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, username, DB_USER_NAME_MAX);
	/* "" is stored as NULL: the foreign key ignores NULL, not "". */
	err = err ? err : db_bind_str(st, 2, ext && *ext ? ext : NULL, DB_EXT_NUMBER_MAX);
	if (!err)
		err = db_rc(db, sqlite3_step(st));
	db_stmt_done(db, st);
	return err;
}

int db_user_set_extension(struct db *db, const char *username, const char *ext)
{
	if (!db || !username)
		return EINVAL;
	int err = db_begin(db);
	if (err)
		return err;
	err = set_extension(db, username, ext);
	if (err) {
		db_rollback(db);
		return err;
	}
	return db_commit(db);
}

int db_user_create(struct db *db, const char *username, const char *pw_hash,
		   const char *role, const char *ext)
{
	if (!db || !username)
		return EINVAL;
	int err = db_begin(db);
	if (err)
		return err;
	err = db_user_add(db, username, pw_hash, role);
	if (!err && ext && *ext)
		err = set_extension(db, username, ext);
	if (err) {
		db_rollback(db);
		return err;
	}
	return db_commit(db);
}

int db_user_list(struct db *db, db_user_h *h, void *arg)
{
	if (!db)
		return -EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db,
			  "SELECT username, '', role, extension, created_at,"
			  " must_change_password FROM users ORDER BY username",
			  &st);
	if (err)
		return -err;
	int count = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_user u;
		read_user(st, &u, false);
		if (h)
			h(&u, arg);
		count++;
	}
	err = db_rc(db, rc);
	db_stmt_done(db, st);
	return err ? -err : count;
}

int db_user_delete(struct db *db, const char *username)
{
	if (!db || !username)
		return EINVAL;
	/* The tokens go by ON DELETE CASCADE, in the same statement. */
	sqlite3_stmt *st;
	int err = db_stmt(db, "DELETE FROM users WHERE username = ?1", &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, username, DB_USER_NAME_MAX);
	return db_finish_change(db, st, err);
}

int db_user_set_role(struct db *db, const char *username, const char *role)
{
	if (!db || !username)
		return EINVAL;
	if (!role_ok(role)) {
		db_set_err(db, "role: admin or user");
		return EINVAL;
	}
	sqlite3_stmt *st;
	int err = db_stmt(db, "UPDATE users SET role = ?2 WHERE username = ?1", &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, username, DB_USER_NAME_MAX);
	err = err ? err : db_bind_str(st, 2, role, DB_ROLE_MAX);
	return db_finish_change(db, st, err);
}

int db_user_count_role(struct db *db, const char *role)
{
	if (!db || !role)
		return -EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db, "SELECT count(*) FROM users WHERE role = ?1", &st);
	if (err)
		return -err;
	err = db_bind_str(st, 1, role, DB_ROLE_MAX);
	int n = 0;
	if (!err) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			n = sqlite3_column_int(st, 0);
		else
			err = db_rc(db, rc);
	}
	db_stmt_done(db, st);
	return err ? -err : n;
}

int db_user_set_must_change(struct db *db, const char *username, bool on)
{
	if (!db || !username)
		return EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db, "UPDATE users SET must_change_password = ?2 WHERE username = ?1",
			  &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, username, DB_USER_NAME_MAX);
	if (!err && sqlite3_bind_int(st, 2, on ? 1 : 0) != SQLITE_OK)
		err = EINVAL;
	return db_finish_change(db, st, err);
}
