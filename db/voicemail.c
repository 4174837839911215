/*
 * STAND-IN: replaced by the vmstore branch. A minimal implementation of
 * the parts of db/voicemail.h the web API uses (mailboxes' greeting
 * flags, messages, counts), over the stand-in migration 7 tables, so the
 * web branch builds and its tests run before the real storage lands. No
 * PINs, quotas or e-mail state here; take the vmstore branch's file and
 * migration at merge.
 */
#include "voicemail.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "db_int.h"

static int mailbox_row(struct db *db, const char *mailbox, struct db_mailbox *out)
{
	sqlite3_stmt *st;
	int err = db_stmt(db,
			  "SELECT enabled, email, email_delete, has_unavail, has_busy, has_name,"
			  " failed_pins, locked_until, max_msgs, max_secs"
			  " FROM vm_mailboxes WHERE mailbox = ?1",
			  &st);
	if (err)
		return err;
	if ((err = db_bind_str(st, 1, mailbox, sizeof(out->mailbox))))
		goto out;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		snprintf(out->mailbox, sizeof(out->mailbox), "%s", mailbox);
		out->enabled = sqlite3_column_int(st, 0);
		db_col_str(st, 1, out->email, sizeof(out->email));
		out->email_delete = sqlite3_column_int(st, 2);
		out->has_unavail = sqlite3_column_int(st, 3);
		out->has_busy = sqlite3_column_int(st, 4);
		out->has_name = sqlite3_column_int(st, 5);
		out->failed_pins = sqlite3_column_int(st, 6);
		out->locked_until = sqlite3_column_int64(st, 7);
		out->max_msgs = sqlite3_column_int(st, 8);
		out->max_secs = sqlite3_column_int(st, 9);
	} else {
		err = rc == SQLITE_DONE ? ENOENT : db_rc(db, rc);
	}
out:
	db_stmt_done(db, st);
	return err;
}

int db_vm_mailbox_get(struct db *db, const char *mailbox, struct db_mailbox *out)
{
	int err = mailbox_row(db, mailbox, out);
	if (err != ENOENT)
		return err;
	struct db_ext e;
	if ((err = db_ext_get(db, mailbox, &e)))
		return err;
	sqlite3_stmt *st;
	if ((err = db_stmt(db, "INSERT OR IGNORE INTO vm_mailboxes (mailbox) VALUES (?1)", &st)))
		return err;
	err = db_bind_str(st, 1, mailbox, DB_EXT_NUMBER_MAX);
	if (!err && sqlite3_step(st) != SQLITE_DONE)
		err = db_rc(db, sqlite3_errcode(db->sql));
	db_stmt_done(db, st);
	return err ? err : mailbox_row(db, mailbox, out);
}

int db_vm_mailbox_set(struct db *db, const struct db_mailbox *m)
{
	sqlite3_stmt *st;
	int err = db_stmt(db,
			  "UPDATE vm_mailboxes SET enabled = ?2, email = ?3, email_delete = ?4,"
			  " has_unavail = ?5, has_busy = ?6, has_name = ?7, max_msgs = ?8,"
			  " max_secs = ?9 WHERE mailbox = ?1",
			  &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, m->mailbox, sizeof(m->mailbox));
	if (!err)
		err = db_bind_str(st, 3, m->email, sizeof(m->email));
	sqlite3_bind_int(st, 2, m->enabled);
	sqlite3_bind_int(st, 4, m->email_delete);
	sqlite3_bind_int(st, 5, m->has_unavail);
	sqlite3_bind_int(st, 6, m->has_busy);
	sqlite3_bind_int(st, 7, m->has_name);
	sqlite3_bind_int(st, 8, m->max_msgs);
	sqlite3_bind_int(st, 9, m->max_secs);
	return db_finish_change(db, st, err);
}

static void msg_row(sqlite3_stmt *st, struct db_vm_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->id = sqlite3_column_int64(st, 0);
	db_col_str(st, 1, m->mailbox, sizeof(m->mailbox));
	db_col_str(st, 2, m->folder, sizeof(m->folder));
	db_col_str(st, 3, m->caller, sizeof(m->caller));
	db_col_str(st, 4, m->caller_name, sizeof(m->caller_name));
	m->received_at = sqlite3_column_int64(st, 5);
	m->duration_ms = (uint32_t)sqlite3_column_int64(st, 6);
	db_col_str(st, 7, m->path, sizeof(m->path));
	db_col_str(st, 8, m->email_state, sizeof(m->email_state));
}

#define MSG_COLS "id, mailbox, folder, caller, caller_name, received_at, duration_ms, path, email_state"

int db_vm_msg_list(struct db *db, const char *mailbox, db_vm_msg_h *h, void *arg)
{
	sqlite3_stmt *st;
	int err = db_stmt(db,
			  "SELECT " MSG_COLS " FROM vm_messages WHERE mailbox = ?1"
			  " ORDER BY folder = 'new' DESC, received_at, id",
			  &st);
	if (err)
		return err;
	if (!(err = db_bind_str(st, 1, mailbox, DB_EXT_NUMBER_MAX))) {
		int rc;
		struct db_vm_msg m;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			msg_row(st, &m);
			h(&m, arg);
		}
		if (rc != SQLITE_DONE)
			err = db_rc(db, rc);
	}
	db_stmt_done(db, st);
	return err;
}

int db_vm_msg_get(struct db *db, int64_t id, struct db_vm_msg *out)
{
	sqlite3_stmt *st;
	int err = db_stmt(db, "SELECT " MSG_COLS " FROM vm_messages WHERE id = ?1", &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		msg_row(st, out);
	else
		err = rc == SQLITE_DONE ? ENOENT : db_rc(db, rc);
	db_stmt_done(db, st);
	return err;
}

int db_vm_msg_move(struct db *db, int64_t id, const char *folder)
{
	if (strcmp(folder, DB_VM_FOLDER_NEW) && strcmp(folder, DB_VM_FOLDER_OLD))
		return EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db, "UPDATE vm_messages SET folder = ?2 WHERE id = ?1", &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, id);
	err = db_bind_str(st, 2, folder, 8);
	return db_finish_change(db, st, err);
}

int db_vm_msg_delete(struct db *db, int64_t id)
{
	sqlite3_stmt *st;
	int err = db_stmt(db, "DELETE FROM vm_messages WHERE id = ?1", &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, id);
	return db_finish_change(db, st, 0);
}

int db_vm_counts(struct db *db, const char *mailbox, int *new_msgs, int *old_msgs)
{
	sqlite3_stmt *st;
	int err = db_stmt(db,
			  "SELECT COALESCE(SUM(folder = 'new'), 0), COALESCE(SUM(folder = 'old'), 0)"
			  " FROM vm_messages WHERE mailbox = ?1",
			  &st);
	if (err)
		return err;
	if (!(err = db_bind_str(st, 1, mailbox, DB_EXT_NUMBER_MAX))) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*new_msgs = sqlite3_column_int(st, 0);
			*old_msgs = sqlite3_column_int(st, 1);
		} else {
			err = db_rc(db, rc);
		}
	}
	db_stmt_done(db, st);
	return err;
}
