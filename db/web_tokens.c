/*
 * API tokens for scripts (the web API's "Authorization: Bearer"). A token
 * is 256 random bits shown once when created; only its SHA-256 is kept,
 * which is enough to recognise it and useless to whoever copies the
 * database. A plain hash (not a slow KDF as for passwords) is right here:
 * the token is random, so there is no dictionary to try, and every API
 * request checks one. The token acts as its owner with the owner's role
 * at the time of use, so demoting or deleting a user takes effect on
 * their tokens at once. A token may carry an expiry (migration 9); an
 * expired token is recognised as such, so the client can be told why it
 * is refused rather than that it is unknown.
 */
#include "db_int.h"

#include <errno.h>
#include <string.h>

static bool hash_hex_ok(const char *h)
{
	if (!h || strnlen(h, DB_TOKEN_HASH_HEX) != DB_TOKEN_HASH_HEX - 1)
		return false;
	for (size_t i = 0; i < DB_TOKEN_HASH_HEX - 1; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return false;
	return true;
}

int db_token_add(struct db *db, const char *name, const char *username,
		 const char *hash_hex, int64_t expires_at, int64_t *id)
{
	if (!db || !name || !username)
		return EINVAL;
	size_t n = strnlen(name, DB_TOKEN_NAME_MAX);
	if (n == 0 || n == DB_TOKEN_NAME_MAX || !db_text_clean(name, n)) {
		db_set_err(db, "name: 1 to 63 bytes, no control characters");
		return EINVAL;
	}
	if (!hash_hex_ok(hash_hex)) {
		db_set_err(db, "token hash: 64 lower-case hex digits");
		return EINVAL;
	}
	sqlite3_stmt *st;
	int err = db_stmt(db,
			  "INSERT INTO api_tokens (name, token_hash, username, created_at, expires_at)"
			  " VALUES (?1, ?2, ?3, strftime('%s', 'now'), ?4)",
			  &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, name, DB_TOKEN_NAME_MAX);
	err = err ? err : db_bind_str(st, 2, hash_hex, DB_TOKEN_HASH_HEX);
	err = err ? err : db_bind_str(st, 3, username, DB_USER_NAME_MAX);
	if (!err && (expires_at > 0 ? sqlite3_bind_int64(st, 4, expires_at)
				    : sqlite3_bind_null(st, 4)) != SQLITE_OK)
		err = EINVAL;
	if (!err)
		err = db_rc(db, sqlite3_step(st)); /* no such user: foreign key -> ENOENT */
	if (!err && id)
		*id = sqlite3_last_insert_rowid(db->sql);
	db_stmt_done(db, st);
	return err;
}

#define TOKEN_COLS                                                           \
	"t.id, t.name, t.username, u.role, u.extension, t.created_at,"     \
	" t.last_used_at, t.expires_at"                                     \
	" FROM api_tokens t JOIN users u ON u.username = t.username"

static void read_token(sqlite3_stmt *st, struct db_token *t)
{
	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(st, 0);
	db_col_str(st, 1, t->name, sizeof(t->name));
	db_col_str(st, 2, t->username, sizeof(t->username));
	db_col_str(st, 3, t->role, sizeof(t->role));
	db_col_str(st, 4, t->extension, sizeof(t->extension));
	t->created_at = sqlite3_column_int64(st, 5);
	t->last_used_at = sqlite3_column_int64(st, 6);
	t->expires_at = sqlite3_column_int64(st, 7); /* NULL reads as 0: never */
}

static void touch(struct db *db, int64_t id, int64_t now)
{
	sqlite3_stmt *st;
	if (db_stmt(db,
		    "UPDATE api_tokens SET last_used_at = ?2"
		    " WHERE id = ?1 AND last_used_at < ?2 - 60",
		    &st))
		return;
	/* Best effort: a busy database must not fail the request. */
	if (sqlite3_bind_int64(st, 1, id) == SQLITE_OK &&
	    sqlite3_bind_int64(st, 2, now) == SQLITE_OK)
		sqlite3_step(st);
	db_stmt_done(db, st);
}

int db_token_auth(struct db *db, const char *hash_hex, int64_t now, struct db_token *out)
{
	if (!db || !out)
		return EINVAL;
	if (!hash_hex_ok(hash_hex))
		return ENOENT;
	sqlite3_stmt *st;
	int err = db_stmt(db, "SELECT " TOKEN_COLS " WHERE t.token_hash = ?1", &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, hash_hex, DB_TOKEN_HASH_HEX);
	if (!err) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			read_token(st, out);
		else
			err = rc == SQLITE_DONE ? ENOENT : db_rc(db, rc);
	}
	db_stmt_done(db, st);
	if (!err && out->expires_at && out->expires_at <= now)
		return ETIME; /* not touched: it was not used */
	if (!err && out->last_used_at < now - 60)
		touch(db, out->id, now);
	return err;
}

int db_token_list(struct db *db, db_token_h *h, void *arg)
{
	if (!db)
		return -EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db, "SELECT " TOKEN_COLS " ORDER BY t.id", &st);
	if (err)
		return -err;
	int count = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_token t;
		read_token(st, &t);
		if (h)
			h(&t, arg);
		count++;
	}
	err = db_rc(db, rc);
	db_stmt_done(db, st);
	return err ? -err : count;
}

int db_token_delete(struct db *db, int64_t id)
{
	if (!db)
		return EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db, "DELETE FROM api_tokens WHERE id = ?1", &st);
	if (err)
		return err;
	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
		err = EINVAL;
	return db_finish_change(db, st, err);
}
