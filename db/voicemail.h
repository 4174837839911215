/*
 * Voicemail in the database: one mailbox per extension (its PIN, hashed;
 * the failed-PIN count and lock that survive hanging up; which greetings
 * were recorded; quotas) and the messages' metadata. The audio lives in
 * files under DATA_DIR/voicemail/<mailbox>/ (the path is stored here).
 * Same conventions as db.h: every function runs on the thread that owns
 * db (the store thread for the daemon), returns 0 or an errno, and writes
 * what db_errmsg says on failure.
 *
 * A mailbox belongs to its extension: db_ext_delete removes the mailbox
 * and its messages' rows in the same transaction (ON DELETE CASCADE). The
 * files are the caller's business: list the messages (db_vm_msg_list)
 * before removing the extension, and remove the files and the folder
 * after it committed. An extension's PIN can also be set with db_ext_add
 * and db_ext_update (struct db_ext's vm_pin: "" keeps the PIN, anything
 * else goes through the same policy and is stored hashed; the plain
 * extensions.vm_pin column is always "" since migration 7).
 */
#ifndef HF_DB_VOICEMAIL_H
#define HF_DB_VOICEMAIL_H

#include <stdbool.h>
#include <stdint.h>

struct db;

#define DB_VM_FOLDER_NEW "new"
#define DB_VM_FOLDER_OLD "old"

struct db_mailbox {
	char mailbox[32];        /* the extension's number */
	bool enabled;            /* on by default */
	char email[256];         /* "" : no voicemail to e-mail */
	bool email_delete;       /* delete the message once e-mailed */
	bool has_unavail, has_busy, has_name; /* greetings recorded */
	int failed_pins;         /* wrong PINs in a row, across calls */
	int64_t locked_until;    /* unix s; 0: not locked */
	int max_msgs;            /* 0: the default (100) */
	int max_secs;            /* total recorded seconds; 0: the default (3600) */
	bool has_pin;            /* a PIN is set (read only: db_vm_pin_set) */
};

#define DB_VM_MAX_MSGS_DEFAULT 100
#define DB_VM_MAX_SECS_DEFAULT 3600
#define DB_VM_MAX_MSGS_LIMIT 10000   /* highest max_msgs accepted */
#define DB_VM_MAX_SECS_LIMIT 360000  /* highest max_secs accepted (100 h) */

/* The PIN rules and the lockout, per connection: each owner of a
 * connection (the store thread, the web's pool, the CLI) sets them from
 * its settings ([voicemail] pin_min_length, pin_lock_after,
 * pin_lock_seconds). A connection never set, or a 0 field, uses the
 * defaults: PIN_MIN_DEFAULT digits (core/base/pin.h), 3 wrong PINs lock
 * for 600 s. */
struct db_vm_policy {
	unsigned pin_min_len;
	unsigned lock_after;
	unsigned lock_secs;
};
#define DB_VM_LOCK_AFTER_DEFAULT 3
#define DB_VM_LOCK_SECS_DEFAULT 600
void db_vm_policy_set(struct db *db, const struct db_vm_policy *p);
/* The policy in force on db (defaults filled in). */
void db_vm_policy_get(struct db *db, struct db_vm_policy *out);

struct db_vm_msg {
	int64_t id;
	char mailbox[32];
	char folder[8];          /* DB_VM_FOLDER_NEW or _OLD */
	char caller[64], caller_name[128];
	int64_t received_at;     /* unix s */
	uint32_t duration_ms;
	char path[512];          /* the WAV file */
	char email_state[16];    /* "", "queued", "sent", "failed" */
};

/* The mailbox of ext (created with defaults when the extension exists
 * and has none yet). ENOENT when there is no such extension. */
int db_vm_mailbox_get(struct db *db, const char *mailbox, struct db_mailbox *out);
/* Stores enabled, email, email_delete, the greetings' flags and the
 * quotas of an existing extension's mailbox (the PIN, its failures and
 * the lock only change through the functions below). EINVAL with
 * db_errmsg naming the field ("email: ...", "max_msgs: ..."); ENOENT
 * when there is no such extension. */
int db_vm_mailbox_set(struct db *db, const struct db_mailbox *m);
/* The checks db_vm_mailbox_set makes, for callers that validate before
 * they write: email "" or one address (local@domain, printable ASCII
 * without spaces, quotes, angle brackets or commas, under 256 bytes);
 * max_msgs 0..DB_VM_MAX_MSGS_LIMIT; max_secs 0..DB_VM_MAX_SECS_LIMIT. */
int db_vm_mailbox_validate(const struct db_mailbox *m, const char **why);
/* Every extension's mailbox (defaults for one not created yet) with its
 * message counts, ordered as extensions are; count or a negative errno.
 * Writes nothing. */
typedef void(db_vm_mailbox_h)(const struct db_mailbox *m, int new_msgs, int old_msgs,
			      void *arg);
int db_vm_mailbox_list(struct db *db, db_vm_mailbox_h *h, void *arg);

/* PIN: checked against its hash. A right PIN resets failed_pins; a wrong
 * one counts it and, at the policy's limit, locks the mailbox for a while
 * (*locked_until set). EACCES: wrong PIN; EBUSY: locked (not checked).
 * In detail: 0, *locked_until = 0: right. EACCES with *locked_until 0:
 * wrong, not locked yet (failed_pins says how many); EACCES with
 * *locked_until > now: wrong, and this one locked the mailbox (log it).
 * EBUSY: locked until *locked_until, the PIN was not even looked at.
 * EPERM: the mailbox has no PIN (nobody can log in to it remotely).
 * ENOENT: no such extension. A lock whose time has passed is gone: the
 * next PIN is checked with a fresh count. The hashes are PBKDF2 (slow on
 * purpose): call it on the store thread, never on the signalling loop.
 * locked_until may be NULL. */
int db_vm_pin_check(struct db *db, const char *mailbox, const char *pin, int64_t now,
		    int64_t *locked_until);
/* Stores a new PIN (hashed) after vm_pin_policy_check (core/base/pin.h)
 * accepted it; EINVAL with the policy's reason in db_errmsg otherwise. */
int db_vm_pin_set(struct db *db, const char *mailbox, const char *pin);
/* Clears the failures and the lock; ENOENT when there is no extension. */
int db_vm_unlock(struct db *db, const char *mailbox);

/* Messages: add (sets m->id), list a mailbox's (new first, oldest first
 * within a folder), get one, move to a folder, delete (the row; the
 * caller removes the file). add: folder "" means new, received_at 0
 * means now, path must not be empty; ENOENT when the mailbox's extension
 * does not exist. Folders other than new/old and email states other than
 * the four are EINVAL; a missing id is ENOENT. list returns 0 or an
 * errno (like the header says for every function here). */
int db_vm_msg_add(struct db *db, struct db_vm_msg *m);
typedef void(db_vm_msg_h)(const struct db_vm_msg *m, void *arg);
int db_vm_msg_list(struct db *db, const char *mailbox, db_vm_msg_h *h, void *arg);
int db_vm_msg_get(struct db *db, int64_t id, struct db_vm_msg *out);
int db_vm_msg_move(struct db *db, int64_t id, const char *folder);
int db_vm_msg_delete(struct db *db, int64_t id);
int db_vm_msg_set_email_state(struct db *db, int64_t id, const char *state);
/* What the lamp shows (RFC 3842): messages in each folder. */
int db_vm_counts(struct db *db, const char *mailbox, int *new_msgs, int *old_msgs);

#endif
