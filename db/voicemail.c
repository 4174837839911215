/*
 * Voicemail mailboxes (voicemail.h): one row per extension in mailboxes
 * (migration 7), made with defaults when first asked for; the PIN as a
 * PBKDF2 hash and its lockout; the per-connection PIN policy. Messages
 * are in vm_msg.c.
 *
 * Why fewer PBKDF2 rounds than web passwords (PIN_ITER, not PW_ITER): a
 * PIN is checked on the store thread, which also commits every CDR and
 * registration, and 200000 rounds would hold that queue ~0.1 s per try;
 * and a 6-digit PIN has only a million values, so no round count makes
 * an offline search of a stolen database slow. The hash is there so the
 * PIN is not readable in the file or a backup; the lockout is what stops
 * guessing over the phone.
 */
#include "db_int.h"
#include "voicemail.h"

#include "../core/base/pin.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#define PIN_ITER 20000

void db_vm_policy_set(struct db *db, const struct db_vm_policy *p)
{
	if (!db)
		return;
	db->vm_pin_min_len = p ? p->pin_min_len : 0;
	db->vm_lock_after = p ? p->lock_after : 0;
	db->vm_lock_secs = p ? p->lock_secs : 0;
}

void db_vm_policy_get(struct db *db, struct db_vm_policy *out)
{
	out->pin_min_len = db && db->vm_pin_min_len ? db->vm_pin_min_len : PIN_MIN_DEFAULT;
	out->lock_after = db && db->vm_lock_after ? db->vm_lock_after : DB_VM_LOCK_AFTER_DEFAULT;
	out->lock_secs = db && db->vm_lock_secs ? db->vm_lock_secs : DB_VM_LOCK_SECS_DEFAULT;
}

/* --- mailboxes ------------------------------------------------------------ */

#define MB_COLS                                                                     \
	"m.enabled, m.email, m.email_delete, m.has_unavail, m.has_busy, m.has_name," \
	" m.failed_pins, m.locked_until, m.max_msgs, m.max_secs, m.pin_hash != ''"

static void read_mailbox(sqlite3_stmt *st, int col, struct db_mailbox *m)
{
	m->enabled = sqlite3_column_int(st, col) != 0;
	db_col_str(st, col + 1, m->email, sizeof(m->email));
	m->email_delete = sqlite3_column_int(st, col + 2) != 0;
	m->has_unavail = sqlite3_column_int(st, col + 3) != 0;
	m->has_busy = sqlite3_column_int(st, col + 4) != 0;
	m->has_name = sqlite3_column_int(st, col + 5) != 0;
	m->failed_pins = sqlite3_column_int(st, col + 6);
	m->locked_until = sqlite3_column_int64(st, col + 7);
	m->max_msgs = sqlite3_column_int(st, col + 8);
	m->max_secs = sqlite3_column_int(st, col + 9);
	m->has_pin = sqlite3_column_int(st, col + 10) != 0;
}

/* The row, or ENOENT when the mailbox has none (yet). */
static int mailbox_read(struct db *db, const char *mailbox, struct db_mailbox *out)
{
	sqlite3_stmt *st;
	int err = db_stmt(db, "SELECT " MB_COLS " FROM mailboxes m WHERE m.mailbox = ?1", &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, mailbox, DB_EXT_NUMBER_MAX);
	if (!err) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			memset(out, 0, sizeof(*out));
			snprintf(out->mailbox, sizeof(out->mailbox), "%s", mailbox);
			read_mailbox(st, 0, out);
		} else {
			err = rc == SQLITE_DONE ? ENOENT : db_rc(db, rc);
		}
	}
	db_stmt_done(db, st);
	return err;
}

/* Makes the row with defaults if it is missing; ENOENT (by the foreign
 * key) when there is no such extension. */
static int mailbox_ensure(struct db *db, const char *mailbox)
{
	sqlite3_stmt *st;
	int err = db_stmt(db, "INSERT OR IGNORE INTO mailboxes (mailbox) VALUES (?1)", &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, mailbox, DB_EXT_NUMBER_MAX);
	if (!err)
		err = db_rc(db, sqlite3_step(st));
	db_stmt_done(db, st);
	if (err == ENOENT)
		db_set_err(db, "no such extension");
	return err;
}

int db_vm_mailbox_get(struct db *db, const char *mailbox, struct db_mailbox *out)
{
	if (!db || !mailbox || !out)
		return EINVAL;
	int err = mailbox_read(db, mailbox, out);
	if (err != ENOENT)
		return err;
	if ((err = mailbox_ensure(db, mailbox)))
		return err;
	return mailbox_read(db, mailbox, out);
}

/* One address, as a mail transfer agent's envelope takes it: something
 * before and after one '@', printable ASCII without what would split or
 * quote it in a header (spaces, quotes, <>, commas, ;). Not RFC 5321 in
 * full: typos are caught here, the mail server judges the rest. */
static int email_check(const char *e, size_t cap, const char **why)
{
	size_t n = strnlen(e, cap);
	if (n == 0)
		return 0;
	if (n == cap) {
		*why = "email: at most 255 characters";
		return EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)e[i];
		if (c <= 0x20 || c >= 0x7f || strchr("\"<>,;()[]\\", c)) {
			*why = "email: one address, printable ASCII without spaces, quotes, "
			       "brackets or commas";
			return EINVAL;
		}
	}
	const char *at = strchr(e, '@');
	if (!at || at == e || !at[1] || strchr(at + 1, '@') || !strchr(at + 1, '.') ||
	    at[1] == '.' || e[n - 1] == '.') {
		*why = "email: must look like name@example.com";
		return EINVAL;
	}
	return 0;
}

int db_vm_mailbox_validate(const struct db_mailbox *m, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	*why = NULL;
	if (!m) {
		*why = "no mailbox";
		return EINVAL;
	}
	if (email_check(m->email, sizeof(m->email), why))
		return EINVAL;
	if (m->max_msgs < 0 || m->max_msgs > DB_VM_MAX_MSGS_LIMIT) {
		*why = "max_msgs: 0 to 10000 (0: the default, 100)";
		return EINVAL;
	}
	if (m->max_secs < 0 || m->max_secs > DB_VM_MAX_SECS_LIMIT) {
		*why = "max_secs: 0 to 360000 (0: the default, 3600)";
		return EINVAL;
	}
	return 0;
}

int db_vm_mailbox_set(struct db *db, const struct db_mailbox *m)
{
	const char *why;
	if (!db || !m)
		return EINVAL;
	if (db_vm_mailbox_validate(m, &why)) {
		db_set_err(db, why);
		return EINVAL;
	}
	int err = mailbox_ensure(db, m->mailbox);
	if (err)
		return err;
	sqlite3_stmt *st;
	err = db_stmt(db,
		      "UPDATE mailboxes SET enabled = ?2, email = ?3, email_delete = ?4,"
		      " has_unavail = ?5, has_busy = ?6, has_name = ?7, max_msgs = ?8,"
		      " max_secs = ?9 WHERE mailbox = ?1",
		      &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, m->mailbox, sizeof(m->mailbox));
	err = err ? err : db_bind_str(st, 3, m->email, sizeof(m->email));
	const struct {
		int idx, v;
	} ints[] = { { 2, m->enabled },	    { 4, m->email_delete }, { 5, m->has_unavail },
		     { 6, m->has_busy },    { 7, m->has_name },	    { 8, m->max_msgs },
		     { 9, m->max_secs } };
	for (size_t i = 0; !err && i < sizeof(ints) / sizeof(ints[0]); i++)
		if (sqlite3_bind_int(st, ints[i].idx, ints[i].v) != SQLITE_OK)
			err = EINVAL;
	return db_finish_change(db, st, err);
}

int db_vm_mailbox_list(struct db *db, db_vm_mailbox_h *h, void *arg)
{
	if (!db)
		return -EINVAL;
	sqlite3_stmt *st;
	/* Every extension, with or without its row yet (COALESCE gives a
	 * missing one the table's defaults), in extension order. */
	int err = db_stmt(db,
			  "SELECT e.number, COALESCE(m.enabled, 1), COALESCE(m.email, ''),"
			  " COALESCE(m.email_delete, 0), COALESCE(m.has_unavail, 0),"
			  " COALESCE(m.has_busy, 0), COALESCE(m.has_name, 0),"
			  " COALESCE(m.failed_pins, 0), COALESCE(m.locked_until, 0),"
			  " COALESCE(m.max_msgs, 0), COALESCE(m.max_secs, 0),"
			  " COALESCE(m.pin_hash != '', 0),"
			  " (SELECT count(*) FROM vm_messages v WHERE v.mailbox = e.number"
			  "   AND v.folder = 'new'),"
			  " (SELECT count(*) FROM vm_messages v WHERE v.mailbox = e.number"
			  "   AND v.folder = 'old')"
			  " FROM extensions e LEFT JOIN mailboxes m ON m.mailbox = e.number"
			  " ORDER BY length(e.number), e.number",
			  &st);
	if (err)
		return -err;
	int count = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_mailbox m;
		memset(&m, 0, sizeof(m));
		db_col_str(st, 0, m.mailbox, sizeof(m.mailbox));
		read_mailbox(st, 1, &m);
		if (h)
			h(&m, sqlite3_column_int(st, 12), sqlite3_column_int(st, 13), arg);
		count++;
	}
	err = db_rc(db, rc);
	db_stmt_done(db, st);
	return err ? -err : count;
}

/* --- PIN -------------------------------------------------------------------- */

static int pin_store(struct db *db, const char *mailbox, const char *pin)
{
	struct db_vm_policy pol;
	db_vm_policy_get(db, &pol);
	const char *why;
	if (pin_policy_check(pin, mailbox, pol.pin_min_len, &why)) {
		db_set_err(db, why);
		return EINVAL;
	}
	char hash[DB_PW_HASH_MAX];
	int err = db_pbkdf2_hash(pin, PIN_ITER, hash, sizeof(hash));
	if (err) {
		db_set_err(db, "cannot hash the PIN");
		return err;
	}
	if ((err = mailbox_ensure(db, mailbox)))
		return err;
	sqlite3_stmt *st;
	/* A new PIN also lifts a lock: whoever set it knows it. */
	err = db_stmt(db,
		      "UPDATE mailboxes SET pin_hash = ?2, failed_pins = 0, locked_until = 0"
		      " WHERE mailbox = ?1",
		      &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, mailbox, DB_EXT_NUMBER_MAX);
	err = err ? err : db_bind_str(st, 2, hash, sizeof(hash));
	return db_finish_change(db, st, err);
}

int db_vm_pin_set(struct db *db, const char *mailbox, const char *pin)
{
	if (!db || !mailbox || !pin)
		return EINVAL;
	bool nested;
	int err = db_tx_begin(db, &nested);
	if (err)
		return err;
	return db_tx_end(db, nested, pin_store(db, mailbox, pin));
}

int db_vm_ext_saved(struct db *db, const char *number, const char *pin)
{
	if (pin && pin[0])
		return pin_store(db, number, pin);
	return mailbox_ensure(db, number);
}

static int pin_hash_get(struct db *db, const char *mailbox, char *hash, size_t cap)
{
	sqlite3_stmt *st;
	int err = db_stmt(db, "SELECT pin_hash FROM mailboxes WHERE mailbox = ?1", &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, mailbox, DB_EXT_NUMBER_MAX);
	if (!err) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			db_col_str(st, 0, hash, cap);
		else
			err = rc == SQLITE_DONE ? ENOENT : db_rc(db, rc);
	}
	db_stmt_done(db, st);
	return err;
}

/* Counts a wrong PIN and locks at the limit, in one statement so two
 * connections checking at once cannot both read the old count. */
static int pin_failed(struct db *db, const char *mailbox, int64_t now, int64_t *locked_until)
{
	struct db_vm_policy pol;
	db_vm_policy_get(db, &pol);
	sqlite3_stmt *st;
	int err = db_stmt(db,
			  "UPDATE mailboxes SET"
			  " locked_until = CASE WHEN failed_pins + 1 >= ?2 THEN ?3 ELSE 0 END,"
			  " failed_pins = CASE WHEN failed_pins + 1 >= ?2 THEN 0"
			  "   ELSE failed_pins + 1 END"
			  " WHERE mailbox = ?1 RETURNING locked_until",
			  &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, mailbox, DB_EXT_NUMBER_MAX);
	if (!err && (sqlite3_bind_int(st, 2, (int)pol.lock_after) != SQLITE_OK ||
		     sqlite3_bind_int64(st, 3, now + (int64_t)pol.lock_secs) != SQLITE_OK))
		err = EINVAL;
	if (!err) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*locked_until = sqlite3_column_int64(st, 0);
			rc = sqlite3_step(st);
		}
		err = db_rc(db, rc);
	}
	db_stmt_done(db, st);
	return err;
}

int db_vm_pin_check(struct db *db, const char *mailbox, const char *pin, int64_t now,
		    int64_t *locked_until)
{
	int64_t dummy;
	if (!locked_until)
		locked_until = &dummy;
	*locked_until = 0;
	if (!db || !mailbox || !pin)
		return EINVAL;
	struct db_mailbox m;
	int err = db_vm_mailbox_get(db, mailbox, &m);
	if (err)
		return err;
	if (m.locked_until > now) {
		*locked_until = m.locked_until;
		return EBUSY;
	}
	char hash[DB_PW_HASH_MAX] = "";
	if ((err = pin_hash_get(db, mailbox, hash, sizeof(hash))))
		return err;
	if (!hash[0]) {
		db_set_err(db, "the mailbox has no PIN");
		return EPERM;
	}
	/* The slow hash runs outside any transaction: the write lock is held
	 * only for the one UPDATE that follows. */
	bool ok = db_password_verify(pin, hash);
	OPENSSL_cleanse(hash, sizeof(hash));
	if (ok) {
		if (m.failed_pins || m.locked_until)
			err = db_vm_unlock(db, mailbox);
		return err;
	}
	err = pin_failed(db, mailbox, now, locked_until);
	if (err)
		return err;
	db_set_err(db, *locked_until ? "wrong PIN; the mailbox is locked" : "wrong PIN");
	return EACCES;
}

int db_vm_unlock(struct db *db, const char *mailbox)
{
	if (!db || !mailbox)
		return EINVAL;
	int err = mailbox_ensure(db, mailbox);
	if (err)
		return err;
	sqlite3_stmt *st;
	err = db_stmt(db, "UPDATE mailboxes SET failed_pins = 0, locked_until = 0 WHERE mailbox = ?1",
		      &st);
	if (err)
		return err;
	return db_finish_change(db, st, db_bind_str(st, 1, mailbox, DB_EXT_NUMBER_MAX));
}

/* --- migration 7 ------------------------------------------------------------ */

int db_vm_migrate_pins(struct db *db)
{
	/* Prepared here, not through the cache: these run once per file.
	 * The old PINs are hashed as they are, not held to the policy: a
	 * user keeps the PIN they know until they change it. */
	sqlite3_stmt *sel = NULL, *upd = NULL;
	int rc = sqlite3_prepare_v2(db->sql,
				    "SELECT number, vm_pin FROM extensions WHERE vm_pin != ''", -1,
				    &sel, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db->sql,
					"UPDATE mailboxes SET pin_hash = ?2 WHERE mailbox = ?1", -1,
					&upd, NULL);
	int err = db_rc(db, rc);
	while (!err && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
		char hash[DB_PW_HASH_MAX];
		const char *pin = (const char *)sqlite3_column_text(sel, 1);
		if ((err = db_pbkdf2_hash(pin, PIN_ITER, hash, sizeof(hash)))) {
			db_set_err(db, "cannot hash a voicemail PIN");
			break;
		}
		sqlite3_reset(upd);
		if (sqlite3_bind_value(upd, 1, sqlite3_column_value(sel, 0)) != SQLITE_OK ||
		    sqlite3_bind_text(upd, 2, hash, -1, SQLITE_TRANSIENT) != SQLITE_OK)
			err = EINVAL;
		else
			err = db_rc(db, sqlite3_step(upd));
	}
	if (!err && rc != SQLITE_ROW)
		err = db_rc(db, rc);
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	if (err)
		return err;
	sel = NULL;
	rc = sqlite3_prepare_v2(db->sql, "UPDATE extensions SET vm_pin = ''", -1, &sel, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(sel);
	sqlite3_finalize(sel);
	return db_rc(db, rc);
}
