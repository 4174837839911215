/*
 * Message-waiting subscriptions (see mwi.h): an upsert per change, a
 * delete when one ends, and the read at start, which first drops what
 * expired while the daemon was down.
 */
#include "mwi.h"

#include <errno.h>
#include <string.h>

#include "db_int.h"

int db_mwi_save(struct db *db, const struct db_mwi_sub *s)
{
	if (!db || !s || !s->call_id[0] || !s->local_tag[0] || !s->mailbox[0])
		return EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db,
			  "INSERT INTO mwi_subscriptions (call_id, local_tag, remote_tag, mailbox,"
			  " local_hdr, remote_hdr, remote_target, routes, local_contact, peer,"
			  " local_cseq, remote_cseq, expires_at)"
			  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
			  " ON CONFLICT (call_id, local_tag) DO UPDATE SET"
			  " remote_target = excluded.remote_target, peer = excluded.peer,"
			  " local_contact = excluded.local_contact,"
			  " local_cseq = excluded.local_cseq, remote_cseq = excluded.remote_cseq,"
			  " expires_at = excluded.expires_at",
			  &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, s->call_id, sizeof(s->call_id));
	err = err ? err : db_bind_str(st, 2, s->local_tag, sizeof(s->local_tag));
	err = err ? err : db_bind_str(st, 3, s->remote_tag, sizeof(s->remote_tag));
	err = err ? err : db_bind_str(st, 4, s->mailbox, sizeof(s->mailbox));
	err = err ? err : db_bind_str(st, 5, s->local_hdr, sizeof(s->local_hdr));
	err = err ? err : db_bind_str(st, 6, s->remote_hdr, sizeof(s->remote_hdr));
	err = err ? err : db_bind_str(st, 7, s->remote_target, sizeof(s->remote_target));
	err = err ? err : db_bind_str(st, 8, s->routes, sizeof(s->routes));
	err = err ? err : db_bind_str(st, 9, s->local_contact, sizeof(s->local_contact));
	err = err ? err : db_bind_str(st, 10, s->peer, sizeof(s->peer));
	if (!err && (sqlite3_bind_int64(st, 11, s->local_cseq) != SQLITE_OK ||
		     sqlite3_bind_int64(st, 12, s->remote_cseq) != SQLITE_OK ||
		     sqlite3_bind_int64(st, 13, s->expires_at) != SQLITE_OK))
		err = EINVAL;
	if (!err)
		err = db_rc(db, sqlite3_step(st));
	db_stmt_done(db, st);
	return err;
}

int db_mwi_delete(struct db *db, const char *call_id, const char *local_tag)
{
	if (!db || !call_id || !local_tag)
		return EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db, "DELETE FROM mwi_subscriptions WHERE call_id = ?1 AND local_tag = ?2",
			  &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, call_id, sizeof(((struct db_mwi_sub *)0)->call_id));
	err = err ? err : db_bind_str(st, 2, local_tag, sizeof(((struct db_mwi_sub *)0)->local_tag));
	if (!err)
		err = db_rc(db, sqlite3_step(st));
	db_stmt_done(db, st);
	return err;
}

int db_mwi_load(struct db *db, int64_t now, db_mwi_h *h, void *arg)
{
	if (!db)
		return EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db, "DELETE FROM mwi_subscriptions WHERE expires_at <= ?1", &st);
	if (err)
		return err;
	if (sqlite3_bind_int64(st, 1, now) != SQLITE_OK)
		err = EINVAL;
	if (!err)
		err = db_rc(db, sqlite3_step(st));
	db_stmt_done(db, st);
	if (err)
		return err;
	err = db_stmt(db,
		      "SELECT call_id, local_tag, remote_tag, mailbox, local_hdr, remote_hdr,"
		      " remote_target, routes, local_contact, peer, local_cseq, remote_cseq,"
		      " expires_at FROM mwi_subscriptions ORDER BY mailbox, call_id",
		      &st);
	if (err)
		return err;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_mwi_sub s;
		memset(&s, 0, sizeof(s));
		db_col_str(st, 0, s.call_id, sizeof(s.call_id));
		db_col_str(st, 1, s.local_tag, sizeof(s.local_tag));
		db_col_str(st, 2, s.remote_tag, sizeof(s.remote_tag));
		db_col_str(st, 3, s.mailbox, sizeof(s.mailbox));
		db_col_str(st, 4, s.local_hdr, sizeof(s.local_hdr));
		db_col_str(st, 5, s.remote_hdr, sizeof(s.remote_hdr));
		db_col_str(st, 6, s.remote_target, sizeof(s.remote_target));
		db_col_str(st, 7, s.routes, sizeof(s.routes));
		db_col_str(st, 8, s.local_contact, sizeof(s.local_contact));
		db_col_str(st, 9, s.peer, sizeof(s.peer));
		s.local_cseq = (uint32_t)sqlite3_column_int64(st, 10);
		s.remote_cseq = (uint32_t)sqlite3_column_int64(st, 11);
		s.expires_at = sqlite3_column_int64(st, 12);
		if (h)
			h(&s, arg);
	}
	err = db_rc(db, rc);
	db_stmt_done(db, st);
	return err;
}
