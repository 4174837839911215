/*
 * Registrations, kept in the database so a restart of the daemon keeps the
 * phones reachable until their bindings expire. The registrar owns the
 * live state in memory; these functions are its write-behind, run on the
 * store thread, and its read at start-up (db_reg_load).
 */
#include "db_int.h"

#include <errno.h>
#include <string.h>

int db_reg_save(struct db *db, const struct db_reg *r)
{
	if (!db || !r || !r->ext[0] || !r->contact[0])
		return EINVAL;
	sqlite3_stmt *st;
	/* An upsert rather than INSERT OR REPLACE: the binding keeps its row
	 * and only its fields change. A binding for an extension that does
	 * not exist fails the foreign key: ENOENT. */
	int err = db_stmt(db,
			  "INSERT INTO registrations (ext, contact, source, call_id, cseq,"
			  " expires_at, user_agent, registered_at)"
			  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
			  " ON CONFLICT (ext, contact) DO UPDATE SET"
			  " source = excluded.source, call_id = excluded.call_id,"
			  " cseq = excluded.cseq, expires_at = excluded.expires_at,"
			  " user_agent = excluded.user_agent,"
			  " registered_at = excluded.registered_at",
			  &st);
	if (err)
		return err;
	err = err ? err : db_bind_str(st, 1, r->ext, sizeof(r->ext));
	err = err ? err : db_bind_str(st, 2, r->contact, sizeof(r->contact));
	err = err ? err : db_bind_str(st, 3, r->source, sizeof(r->source));
	err = err ? err : db_bind_str(st, 4, r->call_id, sizeof(r->call_id));
	if (!err && (sqlite3_bind_int64(st, 5, r->cseq) != SQLITE_OK ||
		     sqlite3_bind_int64(st, 6, r->expires_at) != SQLITE_OK))
		err = EINVAL;
	err = err ? err : db_bind_str(st, 7, r->user_agent, sizeof(r->user_agent));
	if (!err && sqlite3_bind_int64(st, 8, r->registered_at) != SQLITE_OK)
		err = EINVAL;
	if (!err)
		err = db_rc(db, sqlite3_step(st));
	db_stmt_done(db, st);
	return err;
}

int db_reg_delete(struct db *db, const char *ext, const char *contact)
{
	if (!db || !ext || !contact)
		return EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db, "DELETE FROM registrations WHERE ext = ?1 AND contact = ?2", &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, ext, DB_EXT_NUMBER_MAX);
	err = err ? err : db_bind_str(st, 2, contact, sizeof(((struct db_reg *)0)->contact));
	if (!err)
		err = db_rc(db, sqlite3_step(st));
	db_stmt_done(db, st);
	return err;
}

int db_reg_delete_ext(struct db *db, const char *ext)
{
	if (!db || !ext)
		return EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db, "DELETE FROM registrations WHERE ext = ?1", &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, ext, DB_EXT_NUMBER_MAX);
	if (!err)
		err = db_rc(db, sqlite3_step(st));
	db_stmt_done(db, st);
	return err;
}

static int purge_expired(struct db *db, int64_t now)
{
	sqlite3_stmt *st;
	int err = db_stmt(db, "DELETE FROM registrations WHERE expires_at <= ?1", &st);
	if (err)
		return err;
	if (sqlite3_bind_int64(st, 1, now) != SQLITE_OK)
		err = EINVAL;
	if (!err)
		err = db_rc(db, sqlite3_step(st));
	db_stmt_done(db, st);
	return err;
}

int db_reg_load(struct db *db, int64_t now, db_reg_h *h, void *arg)
{
	if (!db)
		return EINVAL;
	int err = purge_expired(db, now);
	if (err)
		return err;
	sqlite3_stmt *st;
	err = db_stmt(db,
		      "SELECT ext, contact, source, call_id, cseq, expires_at, user_agent,"
		      " registered_at FROM registrations WHERE expires_at > ?1"
		      " ORDER BY ext, contact",
		      &st);
	if (err)
		return err;
	if (sqlite3_bind_int64(st, 1, now) != SQLITE_OK) {
		db_stmt_done(db, st);
		return EINVAL;
	}
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_reg r;
		memset(&r, 0, sizeof(r));
		db_col_str(st, 0, r.ext, sizeof(r.ext));
		db_col_str(st, 1, r.contact, sizeof(r.contact));
		db_col_str(st, 2, r.source, sizeof(r.source));
		db_col_str(st, 3, r.call_id, sizeof(r.call_id));
		r.cseq = (uint32_t)sqlite3_column_int64(st, 4);
		r.expires_at = sqlite3_column_int64(st, 5);
		db_col_str(st, 6, r.user_agent, sizeof(r.user_agent));
		r.registered_at = sqlite3_column_int64(st, 7);
		if (h)
			h(&r, arg);
	}
	err = db_rc(db, rc);
	db_stmt_done(db, st);
	return err;
}
