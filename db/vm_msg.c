/*
 * Voicemail messages' metadata (voicemail.h): who left it, when, how long,
 * which folder, where the WAV file is and how far its e-mail got. One row
 * per message in vm_messages (migration 7); the audio file is the
 * caller's to write and remove. Listing order is what a mailbox menu
 * plays: new messages first, oldest first within a folder.
 */
#include "db_int.h"
#include "voicemail.h"

#include <errno.h>
#include <string.h>
#include <time.h>

static bool folder_ok(const char *f)
{
	return f && (!strcmp(f, DB_VM_FOLDER_NEW) || !strcmp(f, DB_VM_FOLDER_OLD));
}

static bool email_state_ok(const char *s)
{
	return s && (!s[0] || !strcmp(s, "queued") || !strcmp(s, "sent") || !strcmp(s, "failed"));
}

static int bad(struct db *db, const char *why)
{
	db_set_err(db, why);
	return EINVAL;
}

int db_vm_msg_add(struct db *db, struct db_vm_msg *m)
{
	if (!db || !m)
		return EINVAL;
	const char *folder = m->folder[0] ? m->folder : DB_VM_FOLDER_NEW;
	if (!folder_ok(folder))
		return bad(db, "folder: new or old");
	if (!email_state_ok(m->email_state))
		return bad(db, "email_state: '', queued, sent or failed");
	size_t n = strnlen(m->path, sizeof(m->path));
	if (n == 0 || n == sizeof(m->path))
		return bad(db, "path: 1 to 511 bytes");
	if (!db_text_clean(m->caller_name, strnlen(m->caller_name, sizeof(m->caller_name))) ||
	    !db_text_clean(m->caller, strnlen(m->caller, sizeof(m->caller))))
		return bad(db, "caller: invalid UTF-8 or control characters");
	bool nested;
	int err = db_tx_begin(db, &nested);
	if (err)
		return err;
	/* The mailbox row may not exist yet (made on first use). */
	err = db_vm_ext_saved(db, m->mailbox, NULL);
	sqlite3_stmt *st = NULL;
	if (!err)
		err = db_stmt(db,
			      "INSERT INTO vm_messages (mailbox, folder, caller, caller_name,"
			      " received_at, duration_ms, path, email_state)"
			      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
			      &st);
	if (st) {
		err = db_bind_str(st, 1, m->mailbox, sizeof(m->mailbox));
		err = err ? err : db_bind_str(st, 2, folder, sizeof(m->folder));
		err = err ? err : db_bind_str(st, 3, m->caller, sizeof(m->caller));
		err = err ? err : db_bind_str(st, 4, m->caller_name, sizeof(m->caller_name));
		int64_t at = m->received_at > 0 ? m->received_at : (int64_t)time(NULL);
		if (!err && (sqlite3_bind_int64(st, 5, at) != SQLITE_OK ||
			     sqlite3_bind_int64(st, 6, m->duration_ms) != SQLITE_OK))
			err = EINVAL;
		err = err ? err : db_bind_str(st, 7, m->path, sizeof(m->path));
		err = err ? err : db_bind_str(st, 8, m->email_state, sizeof(m->email_state));
		if (!err)
			err = db_rc(db, sqlite3_step(st));
		if (!err) {
			m->id = sqlite3_last_insert_rowid(db->sql);
			m->received_at = at;
			if (folder != m->folder) /* "" became "new" */
				memcpy(m->folder, folder, strlen(folder) + 1);
		}
		db_stmt_done(db, st);
	}
	return db_tx_end(db, nested, err);
}

#define MSG_COLS \
	"id, mailbox, folder, caller, caller_name, received_at, duration_ms, path, email_state"

static void read_msg(sqlite3_stmt *st, struct db_vm_msg *m)
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

int db_vm_msg_list(struct db *db, const char *mailbox, db_vm_msg_h *h, void *arg)
{
	if (!db || !mailbox)
		return EINVAL;
	sqlite3_stmt *st;
	/* 'new' < 'old' as text: the index (mailbox, folder, received_at, id)
	 * gives this order without a sort. */
	int err = db_stmt(db,
			  "SELECT " MSG_COLS " FROM vm_messages WHERE mailbox = ?1"
			  " ORDER BY folder, received_at, id",
			  &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, mailbox, DB_EXT_NUMBER_MAX);
	int rc = SQLITE_DONE;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_vm_msg m;
		read_msg(st, &m);
		if (h)
			h(&m, arg);
	}
	if (!err)
		err = db_rc(db, rc);
	db_stmt_done(db, st);
	return err;
}

int db_vm_msg_get(struct db *db, int64_t id, struct db_vm_msg *out)
{
	if (!db || !out)
		return EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db, "SELECT " MSG_COLS " FROM vm_messages WHERE id = ?1", &st);
	if (err)
		return err;
	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
		err = EINVAL;
	if (!err) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			read_msg(st, out);
		else
			err = rc == SQLITE_DONE ? ENOENT : db_rc(db, rc);
	}
	db_stmt_done(db, st);
	return err;
}

int db_vm_msg_move(struct db *db, int64_t id, const char *folder)
{
	if (!db)
		return EINVAL;
	if (!folder_ok(folder))
		return bad(db, "folder: new or old");
	sqlite3_stmt *st;
	int err = db_stmt(db, "UPDATE vm_messages SET folder = ?2 WHERE id = ?1", &st);
	if (err)
		return err;
	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
		err = EINVAL;
	err = err ? err : db_bind_str(st, 2, folder, 8);
	return db_finish_change(db, st, err);
}

int db_vm_msg_delete(struct db *db, int64_t id)
{
	if (!db)
		return EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db, "DELETE FROM vm_messages WHERE id = ?1", &st);
	if (err)
		return err;
	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
		err = EINVAL;
	return db_finish_change(db, st, err);
}

int db_vm_msg_set_email_state(struct db *db, int64_t id, const char *state)
{
	if (!db)
		return EINVAL;
	if (!email_state_ok(state))
		return bad(db, "email_state: '', queued, sent or failed");
	sqlite3_stmt *st;
	int err = db_stmt(db, "UPDATE vm_messages SET email_state = ?2 WHERE id = ?1", &st);
	if (err)
		return err;
	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
		err = EINVAL;
	err = err ? err : db_bind_str(st, 2, state, 16);
	return db_finish_change(db, st, err);
}

int db_vm_counts(struct db *db, const char *mailbox, int *new_msgs, int *old_msgs)
{
	if (!db || !mailbox)
		return EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db,
			  "SELECT coalesce(sum(folder = 'new'), 0), coalesce(sum(folder = 'old'), 0)"
			  " FROM vm_messages WHERE mailbox = ?1",
			  &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, mailbox, DB_EXT_NUMBER_MAX);
	if (!err) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			if (new_msgs)
				*new_msgs = sqlite3_column_int(st, 0);
			if (old_msgs)
				*old_msgs = sqlite3_column_int(st, 1);
		} else {
			err = db_rc(db, rc);
		}
	}
	db_stmt_done(db, st);
	return err;
}
