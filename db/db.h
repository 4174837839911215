/*
 * The data store. All SQL lives in db/; everyone else calls these named
 * functions. SQLite in WAL mode, schema changes only through numbered
 * migrations (db/migrations.c), every statement prepared with bound
 * parameters. A struct db is one connection and belongs to one thread:
 * the daemon's store thread (store.h) for writes from the signalling loop,
 * the CLI for its own edits, the web threads for theirs (each its own).
 */
#ifndef HF_DB_H
#define HF_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/base/codec_names.h"

struct db;

/* The database file's name inside the data directory. */
#define DB_FILE_NAME "hookflash.db"

/* Opens (creating if needed) the database file and applies every pending
 * migration. The file is created mode 0600: it holds SIP passwords. */
int db_open(struct db **out, const char *path);
/* True when the database could only be opened for reading (permissions,
 * a read-only mount): every write will fail. */
bool db_readonly(struct db *db);
/* Same, and on failure writes a one-line reason (path and SQLite's
 * message, or "schema version N is newer than this program") to why. */
int db_open_err(struct db **out, const char *path, char *why, size_t cap);
void db_close(struct db *db);
/* Last SQLite error message of this connection (for logs and the CLI). */
const char *db_errmsg(const struct db *db);
/* Schema version after migrations (or a negative errno). */
int db_schema_version(struct db *db);

/* --- extensions ---------------------------------------------------------- */

#define DB_EXT_NUMBER_MAX 32
#define DB_EXT_NAME_MAX 128
#define DB_SECRET_MAX 128
#define DB_EXT_MAX_CALLS_DEFAULT 4   /* what max_calls = 0 means */
#define DB_EXT_MAX_CALLS_LIMIT 1000  /* highest max_calls accepted */
#define DB_EXT_CODECS_MAX CODEC_LIST_TEXT_MAX
#define DB_EXT_SRTP_MAX 12
#define DB_EXT_RING_TIME_DEFAULT 25  /* what ring_time = 0 means */
#define DB_EXT_RING_TIME_MIN 5
#define DB_EXT_RING_TIME_MAX 300
#define DB_EXT_DEST_MAX 64           /* a destination: "kind:id", 63 bytes */
#define DB_EXT_FWD_MAX 32            /* a forwarding number: 1-31 of 0-9 * # + */

struct db_ext {
	char number[DB_EXT_NUMBER_MAX];   /* digits, 2-15 of them */
	char name[DB_EXT_NAME_MAX];       /* display name, UTF-8 */
	char password[DB_SECRET_MAX];     /* SIP digest password */
	char vm_pin[16];                  /* write-only voicemail PIN: "" keeps
					   * the mailbox's PIN (and is what reads
					   * give back); digits set a new one
					   * through the PIN policy, stored hashed
					   * (db/voicemail.h) */
	bool enabled;
	int64_t created_at;               /* unix seconds */
	/* migration 2: devices that do not register */
	char contact[256];                /* static contact URI, "" for none */
	char trust[256];                  /* comma-separated IPs/CIDRs that are
					   * this extension without digest */
	int max_calls;                    /* concurrent calls, 0: default
					   * (DB_EXT_MAX_CALLS_DEFAULT) */
	/* migration 4: media policy */
	char codecs[DB_EXT_CODECS_MAX];   /* "opus,G722,PCMU": SDP names of
					   * our codecs, preferred first, comma-
					   * separated, no blanks; "": the
					   * system default */
	char srtp[DB_EXT_SRTP_MAX];       /* "off" | "optional" | "required";
					   * "" is taken as "optional" */
	/* migration 6: call handling */
	int ring_time;                    /* seconds of ringing, 0: the system
					   * default (DB_EXT_RING_TIME_DEFAULT) */
	/* where a call goes when nobody answers, the extension is busy, or
	 * no phone of it is registered: a destination (core/base/dest.h,
	 * "vm:1001", "ext:1002", "hangup"); "": the default, its voicemail */
	char dest_noanswer[DB_EXT_DEST_MAX];
	char dest_busy[DB_EXT_DEST_MAX];
	char dest_unavail[DB_EXT_DEST_MAX];
	/* call forwarding: a number to dial (digits * # +), "": off; always,
	 * when busy, when not answered */
	char fwd_all[DB_EXT_FWD_MAX];
	char fwd_busy[DB_EXT_FWD_MAX];
	char fwd_noanswer[DB_EXT_FWD_MAX];
	bool dnd;                         /* do not disturb: its phones are
					   * not rung */
};

/* Validates fields (number digits only, 2-15; password 8+ chars; pin
 * digits; contact "" or a sip:/sips: URI of printable ASCII without
 * spaces, quotes or <>; trust "" or comma-separated IPv4/IPv6 addresses
 * with optional /prefix (1..32 or 1..128, no host bits set), no spaces;
 * max_calls 0..1000; codecs "" or a codec list as codec_list_parse
 * takes it (core/base/codec_names.h); srtp "", off, optional or
 * required; ring_time 0 or 5..300; no_answer, busy, unavailable (the
 * dest_* fields) "" or a destination as dest_parse takes it; forward_all,
 * forward_busy, forward_no_answer (the fwd_* fields) "" or 1-31 of
 * 0-9 * # + and not the extension's own number). EINVAL with *why set to
 * a message that starts with the field's name as the web API calls it
 * ("contact: ...", "max_calls: ...", "no_answer: ..."), static or valid
 * until this thread validates again. */
int db_ext_validate(const struct db_ext *e, const char **why);
/* db_ext_add and db_ext_update also store vm_pin (when not "") through
 * the PIN policy (core/base/pin.h): EINVAL with db_errmsg "pin: why". */
/* Adds the extension and its row in the numbering plan ("ext:N",
 * "extension N") in one transaction (a savepoint inside the caller's when
 * one is open). EEXIST when the number is taken, by an extension or
 * anything else in the plan, with db_errmsg saying by what:
 * "number 1001 is taken by extension 1001". */
int db_ext_add(struct db *db, const struct db_ext *e);
/* Replaces every field but number and created_at of an existing number;
 * ENOENT. */
int db_ext_update(struct db *db, const struct db_ext *e);
/* Removes the extension, its registrations, its voicemail mailbox and
 * messages' rows (not their files: db/voicemail.h) and its number in the
 * plan, in one transaction; ENOENT when absent. */
int db_ext_delete(struct db *db, const char *number);
int db_ext_get(struct db *db, const char *number, struct db_ext *out);
typedef void(db_ext_h)(const struct db_ext *e, void *arg);
/* Calls h for each extension ordered by number; returns the count or a
 * negative errno. */
int db_ext_list(struct db *db, db_ext_h *h, void *arg);

/* --- numbering plan (migration 5) ---------------------------------------- */

/* Every dialable number lives in one namespace: extensions, feature codes
 * and later conference rooms, IVR menus and ring groups. An extension's
 * row is written and removed by db_ext_add/db_ext_delete in the same
 * transaction as the extension; everything else goes through
 * db_number_add/db_number_remove. */
#define DB_NUMBER_MAX 32
#define DB_NUMBER_DEST_MAX 64
#define DB_NUMBER_WHAT_MAX 64

struct db_number {
	char number[DB_NUMBER_MAX];      /* what is dialled: digits, '*', '#', '+' */
	char dest[DB_NUMBER_DEST_MAX];   /* "kind:id": "ext:1001", "app:echo",
					  * "conf:800", "ivr:700", "group:600" */
	char what[DB_NUMBER_WHAT_MAX];   /* its owner in words, for messages:
					  * "extension 1001",
					  * "feature code: echo test" */
};

typedef void(db_number_h)(const struct db_number *n, void *arg);
/* Calls h for each number, ordered as extensions are (shorter first, then
 * as text: "*43" before "1001"). Returns the count or a negative errno. */
int db_number_list(struct db *db, db_number_h *h, void *arg);
/* Claims number for dest. number: 1-31 of 0-9 * # + (not starting with
 * '+' followed by nothing); dest: "kind:id" with kind of a-z and id of
 * printable ASCII without spaces, at most 63 bytes, and not "ext:" (an
 * extension's number comes with the extension); what: 1-63 bytes of
 * clean text. EINVAL with why = "number: ..." / "dest: ..." / "what: ...";
 * EEXIST with why = "number 1001 is taken by extension 1001". why may be
 * NULL; the message is db_errmsg's too. */
int db_number_add(struct db *db, const char *number, const char *dest, const char *what,
		  char *why, size_t why_cap);
/* Frees a number. ENOENT when it is not in the plan; EPERM when it is an
 * extension's (remove the extension instead; db_errmsg says so). */
int db_number_remove(struct db *db, const char *number);
/* One number's row; ENOENT when it is not in the plan. */
int db_number_get(struct db *db, const char *number, struct db_number *out);

/* --- registrations (a restart keeps them) ------------------------------- */

struct db_reg {
	char ext[DB_EXT_NUMBER_MAX];
	char contact[512];       /* the Contact URI as registered */
	char source[80];         /* where it really came from: "udp:1.2.3.4:5060" */
	char call_id[256];
	uint32_t cseq;
	int64_t expires_at;      /* unix seconds */
	char user_agent[256];
	int64_t registered_at;   /* unix seconds */
};

/* Inserts or replaces the binding (ext, contact); ENOENT when the
 * extension does not exist. */
int db_reg_save(struct db *db, const struct db_reg *r);
/* Deleting bindings that are not there is not an error (returns 0). */
int db_reg_delete(struct db *db, const char *ext, const char *contact);
int db_reg_delete_ext(struct db *db, const char *ext);
typedef void(db_reg_h)(const struct db_reg *r, void *arg);
/* Calls h for each binding not expired at now (expires_at > now), ordered
 * by ext and contact; deletes expired ones. Returns 0 or an errno. */
int db_reg_load(struct db *db, int64_t now, db_reg_h *h, void *arg);

/* --- accounts for the web UI -------------------------------------------- */

#define DB_USER_NAME_MAX 64   /* user names are 1-63 bytes */
#define DB_PW_HASH_MAX 128    /* room for db_password_hash() output */

/* Stores a user with a password hash produced by db_password_hash().
 * role: "admin" or "user". EEXIST when the name is taken. */
int db_user_add(struct db *db, const char *username, const char *pw_hash,
		const char *role);
/* ENOENT when there is no such user. */
int db_user_set_password(struct db *db, const char *username, const char *pw_hash);
/* Reads a user's stored hash (for db_password_verify) and role; either
 * out buffer may be NULL. ENOENT when absent. */
int db_user_get(struct db *db, const char *username, char *pw_hash, size_t hcap,
		char *role, size_t rcap);
/* PBKDF2-HMAC-SHA256 with a random 16-byte salt and 200000 iterations,
 * encoded "pbkdf2-sha256$iter$salt_b64$hash_b64". */
int db_password_hash(const char *password, char *out, size_t cap);
bool db_password_verify(const char *password, const char *encoded);

/* --- settings (key/value, for generated secrets and such) --------------- */

/* ENOENT when the key is absent, ENOSPC when the value does not fit. */
int db_setting_get(struct db *db, const char *key, char *out, size_t cap);
int db_setting_set(struct db *db, const char *key, const char *value);
typedef void(db_setting_h)(const char *key, const char *value, void *arg);
/* Calls h for each setting whose key starts with prefix, ordered by key.
 * Returns the count or a negative errno. */
int db_setting_each(struct db *db, const char *prefix, db_setting_h *h, void *arg);
/* Stores n pairs in one transaction: all of them or, on error, none. */
int db_setting_set_many(struct db *db, const char *const *keys, const char *const *values,
			size_t n);

/* --- call detail records (migration 2) ---------------------------------- */

enum { DB_CDR_LEG_A = 0, DB_CDR_LEG_B = 1 };

struct db_cdr_leg_stats {
	uint64_t pkts_rx, pkts_tx, bytes_rx, bytes_tx;
	uint64_t lost;
	double jitter_ms;
};

struct db_cdr {
	int64_t id;                /* set by db_cdr_insert */
	char call_id_a[256];       /* SIP Call-ID of the caller's leg */
	char call_id_b[256];       /* of the answered callee leg ("" if none) */
	char caller[64];
	char caller_name[128];
	char callee[64];           /* the number dialled */
	char callee_name[128];
	int64_t start_ms;          /* unix ms: INVITE received */
	int64_t answer_ms;         /* 0 when never answered */
	int64_t end_ms;
	char disposition[16];      /* ANSWERED, VOICEMAIL, NO ANSWER, BUSY, FAILED, CANCELLED */
	int duration_s;            /* end - start */
	int billsec;               /* end - answer, 0 when unanswered */
	int hangup_status;         /* SIP status that ended it (e.g. 200 for BYE, 486) */
	char hangup_cause[64];     /* "caller hung up", "no answer", "rtp timeout" ... */
	char hangup_side[16];      /* caller, callee, system, admin */
	char codec[32];            /* e.g. "PCMU/8000" */
	struct db_cdr_leg_stats leg[2];
	/* migration 5: the destinations the call went through, in order,
	 * " > " between them: "ext:1001", "app:ivr > ext:1003",
	 * "ext:1001 > app:noservice"; "" for records from before it */
	char path[256];
};

/* Stores every field as it is (text bounded by its array; counters past
 * INT64_MAX are stored as INT64_MAX, a jitter that is not finite as 0)
 * and sets c->id. */
int db_cdr_insert(struct db *db, struct db_cdr *c);
/* The store thread's insert: CDRs kept from earlier failures are written
 * first (in order), then c. When the database refuses (a full disk, a
 * read-only file), c is kept in memory (at most DB_CDR_KEEP_MAX) to be
 * written before the next CDR, and the error is returned with *kept the
 * number now waiting (0: c was not kept either: lost). *flushed is how
 * many kept CDRs this call wrote. */
#define DB_CDR_KEEP_MAX 4096u
int db_cdr_insert_or_keep(struct db *db, struct db_cdr *c, size_t *kept, size_t *flushed);

struct db_cdr_filter {
	int64_t from_ms, to_ms;    /* from_ms <= start_ms < to_ms; 0: open */
	const char *number;        /* caller or callee equals; NULL: any */
	const char *disposition;   /* NULL: any */
	int limit;                 /* 0: 100 */
	int offset;
};
typedef void(db_cdr_h)(const struct db_cdr *c, void *arg);
/* Newest first (start_ms, then id, descending). f may be NULL (no filter);
 * a negative limit or offset is EINVAL. Returns the count or a negative
 * errno. */
int db_cdr_list(struct db *db, const struct db_cdr_filter *f, db_cdr_h *h, void *arg);

/* Calls per hour (cdr_stats.c): for each hour i < n from from_ms,
 * total[i] counts the records that started in [from_ms + i h,
 * from_ms + (i + 1) h) and answered[i] those of them ANSWERED. number,
 * when not NULL, keeps the calls it made or received. n is 1..168. */
#define DB_CDR_HOURS_MAX 168
int db_cdr_per_hour(struct db *db, int64_t from_ms, int n, const char *number, uint32_t *total,
		    uint32_t *answered);

/* --- first start -------------------------------------------------------- */

/* Random password of n characters from an unambiguous alphabet
 * (no 0/O/1/l/I), using OpenSSL's CSPRNG. cap must exceed n. */
int db_secret_generate(char *out, size_t cap, size_t n);

/* what is "extension" (user is its number) or "web" (user is the login). */
typedef void(db_cred_h)(const char *what, const char *user, const char *secret,
			void *arg);
/* On a database with no extensions and no users: creates extensions
 * 1001-1005 with generated SIP passwords and an "admin" web account with a
 * generated password, and reports each credential once through h (the only
 * time the admin password exists in clear), after the transaction that
 * stores them committed. Returns 0, or EALREADY and does nothing on a
 * database that is already set up (it has an extension or a user). */
int db_setup_defaults(struct db *db, db_cred_h *h, void *arg);

/* --- web administration: accounts and API tokens (migration 3) --------- */

#define DB_ROLE_MAX 8          /* "admin" or "user" */
#define DB_TOKEN_NAME_MAX 64   /* token labels are 1-63 bytes */
#define DB_TOKEN_HASH_HEX 65   /* SHA-256 in lower-case hex, and the NUL */

struct db_user {
	char username[DB_USER_NAME_MAX];
	char pw_hash[DB_PW_HASH_MAX];       /* empty in listings */
	char role[DB_ROLE_MAX];
	char extension[DB_EXT_NUMBER_MAX];  /* owned extension, "" for none */
	int64_t created_at;
	bool must_change_password;          /* migration 9 */
};

/* One user, with hash, role and extension. ENOENT when absent. */
int db_user_info(struct db *db, const char *username, struct db_user *out);
/* Creates a user (as db_user_add) owning extension ext ("" or NULL for
 * none) in one transaction: EEXIST when the name is taken, ESRCH when the
 * extension does not exist. */
int db_user_create(struct db *db, const char *username, const char *pw_hash,
		   const char *role, const char *ext);
typedef void(db_user_h)(const struct db_user *u, void *arg);
/* Calls h for each user ordered by name (pw_hash left empty); returns the
 * count or a negative errno. */
int db_user_list(struct db *db, db_user_h *h, void *arg);
/* Removes a user and their API tokens; ENOENT when absent. */
int db_user_delete(struct db *db, const char *username);
/* EINVAL for a role other than admin/user; ENOENT when no such user. */
int db_user_set_role(struct db *db, const char *username, const char *role);
/* ext "" clears it. ENOENT: no such user; ESRCH: no such extension. */
int db_user_set_extension(struct db *db, const char *username, const char *ext);
/* How many users have this role, or a negative errno. */
int db_user_count_role(struct db *db, const char *role);
/* Sets or clears "must choose a new password before anything else";
 * ENOENT when no such user. */
int db_user_set_must_change(struct db *db, const char *username, bool on);

struct db_token {
	int64_t id;
	char name[DB_TOKEN_NAME_MAX];
	char username[DB_USER_NAME_MAX];      /* the owner; the token acts as them */
	char role[DB_ROLE_MAX];               /* the owner's role now */
	char extension[DB_EXT_NUMBER_MAX];    /* the owner's extension now */
	int64_t created_at, last_used_at;     /* unix seconds; 0: never used */
	int64_t expires_at;                   /* unix seconds; 0: never */
};

/* Stores a token by its hash (64 lower-case hex digits of SHA-256) for
 * an existing user and sets *id; expires_at in unix seconds, 0 for never.
 * name: 1-63 bytes of clean text (EINVAL);
 * ENOENT when the user does not exist. */
int db_token_add(struct db *db, const char *name, const char *username,
		 const char *hash_hex, int64_t expires_at, int64_t *id);
/* Finds the token with this hash and its owner's current role and
 * extension; records the use at now (at most once a minute, so a busy
 * script does not turn every read into a write). ENOENT when unknown,
 * ETIME when it expired (expires_at <= now; out is filled all the same). */
int db_token_auth(struct db *db, const char *hash_hex, int64_t now, struct db_token *out);
typedef void(db_token_h)(const struct db_token *t, void *arg);
/* Every token ordered by id; count or a negative errno. */
int db_token_list(struct db *db, db_token_h *h, void *arg);
/* ENOENT when there is no such token. */
int db_token_delete(struct db *db, int64_t id);

/* --- backup.c, restore.c: backups of a data directory ------------------
 * One POSIX tar file: MANIFEST (written last: what is included, each
 * file's size and SHA-256), hookflash.db, hookflash.conf, web/cert.pem,
 * web/key.pem, and optionally voicemail/<mailbox>/<file> and
 * sounds/<rate>/<file>. Every function blocks on disk: never call them
 * on the signalling loop. Errors are errno values with why filled. */
#define DB_BACKUP_MANIFEST "MANIFEST"
#define DB_BACKUP_NAME_MAX 100
struct db_backup_opts {
	bool voicemail; /* DATA_DIR/voicemail: messages and greetings */
	bool prompts;   /* DATA_DIR/sounds: the prompts as played */
};
/* A name a backup may hold (the fixed names, or voicemail/ or sounds/
 * with two plain segments: no "..", no absolute path, no hidden file). */
bool db_backup_name_ok(const char *name);
/* Copies the database at src_path into dst_path with SQLite's online
 * backup API in one step: one consistent snapshot while others write. */
int db_backup_snapshot(const char *src_path, const char *dst_path, char *why, size_t cap);
/* 0 when the database at path passes integrity_check and is ours. */
int db_backup_check(const char *path, char *why, size_t cap);
/* Writes the archive of data_dir to fd. */
int db_backup_write(const char *data_dir, const struct db_backup_opts *o, int fd, char *why,
		    size_t cap);
/* Checks an archive completely (names, links, sizes and hashes against
 * the manifest, integrity_check) by unpacking it into a temporary folder
 * of data_dir, removed after; EINVAL for a bad archive. */
int db_backup_verify(const char *archive, const char *data_dir, char *why, size_t cap);
/* Restores archive onto data_dir, whose daemon must be stopped (the
 * caller makes sure): checks it as db_backup_verify, moves what it
 * replaces into DATA_DIR/pre-restore-<time>/ (named in kept), then the
 * archive's files into place. A bad archive changes nothing. */
int db_backup_restore(const char *archive, const char *data_dir, char *kept, size_t kcap,
		      char *why, size_t cap);
/* Writes dir/hookflash-backup-YYYYmmdd-HHMMSS.tar (named in path; made
 * under a temporary name, then renamed), then deletes the oldest of
 * them past keep (0: keeps all). */
int db_backup_to_dir(const char *data_dir, const char *dir, const struct db_backup_opts *o,
		     unsigned keep, char *path, size_t pcap, char *why, size_t cap);
/* The time (unix s) of the newest backup in dir; 0 when none. */
int64_t db_backup_newest(const char *dir);

#endif
