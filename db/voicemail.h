/*
 * Voicemail in the database: one mailbox per extension (its PIN, hashed;
 * the failed-PIN count and lock that survive hanging up; which greetings
 * were recorded; quotas) and the messages' metadata. The audio lives in
 * files under DATA_DIR/voicemail/<mailbox>/ (the path is stored here).
 * Same conventions as db.h: every function runs on the thread that owns
 * db (the store thread for the daemon), returns 0 or an errno, and writes
 * what db_errmsg says on failure.
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
};

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
int db_vm_mailbox_set(struct db *db, const struct db_mailbox *m);

/* PIN: checked against its hash. A right PIN resets failed_pins; a wrong
 * one counts it and, at the policy's limit, locks the mailbox for a while
 * (*locked_until set). EACCES: wrong PIN; EBUSY: locked (not checked). */
int db_vm_pin_check(struct db *db, const char *mailbox, const char *pin, int64_t now,
		    int64_t *locked_until);
/* Stores a new PIN (hashed) after vm_pin_policy_check (core/base/pin.h)
 * accepted it; EINVAL with the policy's reason in db_errmsg otherwise. */
int db_vm_pin_set(struct db *db, const char *mailbox, const char *pin);
int db_vm_unlock(struct db *db, const char *mailbox);

/* Messages: add (sets m->id), list a mailbox's (new first, oldest first
 * within a folder), get one, move to a folder, delete (the row; the
 * caller removes the file). */
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
