/*
 * The schema, as a numbered list of migrations. The version lives in
 * PRAGMA user_version (in the file header, so it commits or rolls back
 * with the migration that sets it). Each migration runs in its own
 * IMMEDIATE transaction and re-reads the version inside it, so the daemon
 * and the CLI opening a fresh file at the same moment cannot both apply
 * one. A migration is never edited once released: a change is a new entry
 * at the end. A file whose version is newer than this build refuses to
 * open rather than be written by code that does not know its tables.
 */
#include "db_int.h"

#include <errno.h>
#include <stdio.h>

struct migration {
	int version;
	/* Constant DDL, several statements; the last sets user_version to
	 * `version` (PRAGMA takes no bound parameters, and building the
	 * statement with printf is what we never do). db_migrate checks it. */
	const char *sql;
};

static const struct migration migrations[] = {
	{ 1,
	  /* Numbers are text: "0100" and "100" are different extensions. */
	  "CREATE TABLE extensions ("
	  "  number TEXT PRIMARY KEY NOT NULL,"
	  "  name TEXT NOT NULL DEFAULT '',"
	  "  password TEXT NOT NULL,"
	  "  vm_pin TEXT NOT NULL DEFAULT '',"
	  "  enabled INTEGER NOT NULL DEFAULT 1,"
	  "  created_at INTEGER NOT NULL"
	  ");"
	  /* A binding belongs to its extension: deleting the extension
	   * deletes its registrations (foreign_keys is on per connection). */
	  "CREATE TABLE registrations ("
	  "  ext TEXT NOT NULL REFERENCES extensions(number) ON DELETE CASCADE,"
	  "  contact TEXT NOT NULL,"
	  "  source TEXT NOT NULL,"
	  "  call_id TEXT NOT NULL,"
	  "  cseq INTEGER NOT NULL,"
	  "  expires_at INTEGER NOT NULL,"
	  "  user_agent TEXT NOT NULL DEFAULT '',"
	  "  registered_at INTEGER NOT NULL,"
	  "  PRIMARY KEY (ext, contact)"
	  ");"
	  "CREATE INDEX registrations_expires ON registrations(expires_at);"
	  "CREATE TABLE users ("
	  "  username TEXT PRIMARY KEY NOT NULL,"
	  "  pw_hash TEXT NOT NULL,"
	  "  role TEXT NOT NULL CHECK (role IN ('admin', 'user')),"
	  "  created_at INTEGER NOT NULL"
	  ");"
	  "CREATE TABLE settings ("
	  "  key TEXT PRIMARY KEY NOT NULL,"
	  "  value TEXT NOT NULL"
	  ");"
	  "PRAGMA user_version = 1;" },
	{ 2,
	  /* Devices that do not register (door phones, paging amplifiers,
	   * gateways): a static contact, addresses trusted instead of digest
	   * authentication, and a cap on concurrent calls. Defaults make
	   * every existing extension behave as before. */
	  "ALTER TABLE extensions ADD COLUMN contact TEXT NOT NULL DEFAULT '';"
	  "ALTER TABLE extensions ADD COLUMN trust TEXT NOT NULL DEFAULT '';"
	  "ALTER TABLE extensions ADD COLUMN max_calls INTEGER NOT NULL DEFAULT 0;"
	  /* Call detail records, one row per call, written by the store
	   * thread. AUTOINCREMENT: an id is never reused after old records
	   * are purged, so a billing export can resume from the last id it
	   * saw. Per-leg media statistics are plain columns (a_*, b_*) so
	   * CSV exports and SQL reports need no join. */
	  "CREATE TABLE cdr ("
	  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	  "  call_id_a TEXT NOT NULL DEFAULT '',"
	  "  call_id_b TEXT NOT NULL DEFAULT '',"
	  "  caller TEXT NOT NULL DEFAULT '',"
	  "  caller_name TEXT NOT NULL DEFAULT '',"
	  "  callee TEXT NOT NULL DEFAULT '',"
	  "  callee_name TEXT NOT NULL DEFAULT '',"
	  "  start_ms INTEGER NOT NULL,"
	  "  answer_ms INTEGER NOT NULL DEFAULT 0,"
	  "  end_ms INTEGER NOT NULL DEFAULT 0,"
	  "  disposition TEXT NOT NULL DEFAULT '',"
	  "  duration_s INTEGER NOT NULL DEFAULT 0,"
	  "  billsec INTEGER NOT NULL DEFAULT 0,"
	  "  hangup_status INTEGER NOT NULL DEFAULT 0,"
	  "  hangup_cause TEXT NOT NULL DEFAULT '',"
	  "  hangup_side TEXT NOT NULL DEFAULT '',"
	  "  codec TEXT NOT NULL DEFAULT '',"
	  "  a_pkts_rx INTEGER NOT NULL DEFAULT 0,"
	  "  a_pkts_tx INTEGER NOT NULL DEFAULT 0,"
	  "  a_bytes_rx INTEGER NOT NULL DEFAULT 0,"
	  "  a_bytes_tx INTEGER NOT NULL DEFAULT 0,"
	  "  a_lost INTEGER NOT NULL DEFAULT 0,"
	  "  a_jitter_ms REAL NOT NULL DEFAULT 0,"
	  "  b_pkts_rx INTEGER NOT NULL DEFAULT 0,"
	  "  b_pkts_tx INTEGER NOT NULL DEFAULT 0,"
	  "  b_bytes_rx INTEGER NOT NULL DEFAULT 0,"
	  "  b_bytes_tx INTEGER NOT NULL DEFAULT 0,"
	  "  b_lost INTEGER NOT NULL DEFAULT 0,"
	  "  b_jitter_ms REAL NOT NULL DEFAULT 0"
	  ");"
	  /* Listings are newest first, by time window and by number: the
	   * number indexes carry start_ms so "calls of 1001, newest first"
	   * is read in order from the index. */
	  "CREATE INDEX cdr_start ON cdr(start_ms);"
	  "CREATE INDEX cdr_caller ON cdr(caller, start_ms);"
	  "CREATE INDEX cdr_callee ON cdr(callee, start_ms);"
	  "PRAGMA user_version = 2;" },
	{ 3,
	  /* Web administration. A "user" account owns at most one extension
	   * and sees only its calls; deleting the extension leaves the
	   * account with none (SET NULL, so the column has no default: an
	   * added REFERENCES column must default to NULL). */
	  "ALTER TABLE users ADD COLUMN extension TEXT"
	  "  REFERENCES extensions(number) ON DELETE SET NULL;"
	  /* API tokens for scripts. Only a SHA-256 of the token is kept (a
	   * copy of the database does not let anyone in); the token acts as
	   * its owner with the owner's current role, and goes with the
	   * owner. */
	  "CREATE TABLE api_tokens ("
	  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	  "  name TEXT NOT NULL,"
	  "  token_hash TEXT NOT NULL UNIQUE,"
	  "  username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,"
	  "  created_at INTEGER NOT NULL,"
	  "  last_used_at INTEGER NOT NULL DEFAULT 0"
	  ");"
	  "CREATE INDEX api_tokens_user ON api_tokens(username);"
	  "PRAGMA user_version = 3;" },
	{ 4,
	  /* Media policy per extension: the codecs allowed on its leg,
	   * comma-separated SDP names in order of preference (NULL or '':
	   * the system default, [calls] codecs), and whether its leg must,
	   * may or must not use SRTP. */
	  "ALTER TABLE extensions ADD COLUMN codecs TEXT;"
	  "ALTER TABLE extensions ADD COLUMN srtp TEXT NOT NULL DEFAULT 'optional'"
	  "  CHECK (srtp IN ('off', 'optional', 'required'));"
	  "PRAGMA user_version = 4;" },
	{ 5,
	  /* One numbering plan (numplan.c): every dialable number, whoever
	   * owns it, is a row here, so an extension, a feature code and later
	   * a conference room or an IVR menu can never share a number. dest
	   * says where a call to it goes ("ext:1001", "app:echo"), what who
	   * owns it, in words for error messages. Existing extensions are
	   * copied in; *43 is the echo test. */
	  "CREATE TABLE numbers ("
	  "  number TEXT PRIMARY KEY NOT NULL,"
	  "  dest TEXT NOT NULL,"
	  "  what TEXT NOT NULL"
	  ");"
	  "INSERT INTO numbers (number, dest, what)"
	  "  SELECT number, 'ext:' || number, 'extension ' || number FROM extensions;"
	  "INSERT INTO numbers (number, dest, what)"
	  "  VALUES ('*43', 'app:echo', 'feature code: echo test');"
	  /* The path a call took through the plan ("app:ivr > ext:1003"). */
	  "ALTER TABLE cdr ADD COLUMN path TEXT NOT NULL DEFAULT '';"
	  "PRAGMA user_version = 5;" },
	{ 6,
	  /* Call handling per extension: how long it rings (0: the system
	   * default), where an unanswered, busy or unreachable call goes
	   * ('': the default, its voicemail), call forwarding (a number to
	   * dial, '': off) and do-not-disturb. */
	  "ALTER TABLE extensions ADD COLUMN ring_time INTEGER NOT NULL DEFAULT 0;"
	  "ALTER TABLE extensions ADD COLUMN dest_noanswer TEXT NOT NULL DEFAULT '';"
	  "ALTER TABLE extensions ADD COLUMN dest_busy TEXT NOT NULL DEFAULT '';"
	  "ALTER TABLE extensions ADD COLUMN dest_unavail TEXT NOT NULL DEFAULT '';"
	  "ALTER TABLE extensions ADD COLUMN fwd_all TEXT NOT NULL DEFAULT '';"
	  "ALTER TABLE extensions ADD COLUMN fwd_busy TEXT NOT NULL DEFAULT '';"
	  "ALTER TABLE extensions ADD COLUMN fwd_noanswer TEXT NOT NULL DEFAULT '';"
	  "ALTER TABLE extensions ADD COLUMN dnd INTEGER NOT NULL DEFAULT 0;"
	  /* The FreePBX feature codes people already know. OR IGNORE: an
	   * administrator who gave one of these numbers to something else
	   * keeps it (the plan is theirs; the code can be added elsewhere). */
	  "INSERT OR IGNORE INTO numbers (number, dest, what) VALUES"
	  "  ('*72', 'app:fwdon', 'feature code: call forward on'),"
	  "  ('*73', 'app:fwdoff', 'feature code: call forward off'),"
	  "  ('*78', 'app:dndon', 'feature code: do not disturb on'),"
	  "  ('*79', 'app:dndoff', 'feature code: do not disturb off'),"
	  "  ('*97', 'app:vmmain', 'feature code: own voicemail'),"
	  "  ('*98', 'app:vmany', 'feature code: any voicemail');"
	  "PRAGMA user_version = 6;" },
	{ 7,
	  /* Voicemail (voicemail.h, voicemail.c, vm_msg.c). One mailbox per
	   * extension, going with it (CASCADE), and its messages with the
	   * mailbox. The PIN is a PBKDF2 hash ('': none); failed_pins and
	   * locked_until survive hanging up, so a caller cannot reset the
	   * count by calling again. 0 in max_msgs/max_secs: the defaults. */
	  "CREATE TABLE mailboxes ("
	  "  mailbox TEXT PRIMARY KEY NOT NULL"
	  "    REFERENCES extensions(number) ON DELETE CASCADE,"
	  "  enabled INTEGER NOT NULL DEFAULT 1,"
	  "  pin_hash TEXT NOT NULL DEFAULT '',"
	  "  failed_pins INTEGER NOT NULL DEFAULT 0,"
	  "  locked_until INTEGER NOT NULL DEFAULT 0,"
	  "  email TEXT NOT NULL DEFAULT '',"
	  "  email_delete INTEGER NOT NULL DEFAULT 0,"
	  "  has_unavail INTEGER NOT NULL DEFAULT 0,"
	  "  has_busy INTEGER NOT NULL DEFAULT 0,"
	  "  has_name INTEGER NOT NULL DEFAULT 0,"
	  "  max_msgs INTEGER NOT NULL DEFAULT 0,"
	  "  max_secs INTEGER NOT NULL DEFAULT 0"
	  ");"
	  /* AUTOINCREMENT: a message id is never reused, so a web page or an
	   * e-mail job holding an old id can never reach a newer message. */
	  "CREATE TABLE vm_messages ("
	  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	  "  mailbox TEXT NOT NULL REFERENCES mailboxes(mailbox) ON DELETE CASCADE,"
	  "  folder TEXT NOT NULL CHECK (folder IN ('new', 'old')),"
	  "  caller TEXT NOT NULL DEFAULT '',"
	  "  caller_name TEXT NOT NULL DEFAULT '',"
	  "  received_at INTEGER NOT NULL,"
	  "  duration_ms INTEGER NOT NULL DEFAULT 0,"
	  "  path TEXT NOT NULL,"
	  "  email_state TEXT NOT NULL DEFAULT ''"
	  "    CHECK (email_state IN ('', 'queued', 'sent', 'failed'))"
	  ");"
	  /* A mailbox's messages in the order they are played (new first,
	   * oldest first), and the counts for the lamp, from the index. */
	  "CREATE INDEX vm_messages_box ON vm_messages(mailbox, folder, received_at, id);"
	  /* The e-mail job's queue: only the few queued rows are indexed. */
	  "CREATE INDEX vm_messages_queued ON vm_messages(id) WHERE email_state = 'queued';"
	  "INSERT INTO mailboxes (mailbox) SELECT number FROM extensions;"
	  /* extensions.vm_pin (plain) is hashed into mailboxes and emptied
	   * by the step below; the column stays (always '') because SQLite
	   * drops a column only by rebuilding the table. */
	  "PRAGMA user_version = 7;" },
	{ 8,
	  /* Message-waiting subscriptions (core/mwi): the dialog state a
	   * NOTIFY needs, so a restart re-sends the lamp state to phones that
	   * subscribed before it. A subscription goes with its mailbox's
	   * extension. */
	  "CREATE TABLE mwi_subscriptions ("
	  "  call_id TEXT NOT NULL,"
	  "  local_tag TEXT NOT NULL,"
	  "  remote_tag TEXT NOT NULL,"
	  "  mailbox TEXT NOT NULL REFERENCES extensions(number) ON DELETE CASCADE,"
	  "  local_hdr TEXT NOT NULL,"
	  "  remote_hdr TEXT NOT NULL,"
	  "  remote_target TEXT NOT NULL,"
	  "  routes TEXT NOT NULL DEFAULT '',"
	  "  local_contact TEXT NOT NULL,"
	  "  peer TEXT NOT NULL,"
	  "  local_cseq INTEGER NOT NULL,"
	  "  remote_cseq INTEGER NOT NULL,"
	  "  expires_at INTEGER NOT NULL,"
	  "  PRIMARY KEY (call_id, local_tag)"
	  ");"
	  "CREATE INDEX mwi_subscriptions_mailbox ON mwi_subscriptions(mailbox);"
	  "PRAGMA user_version = 8;" },
	{ 9,
	  /* API tokens may expire (NULL: never), and an account may have to
	   * choose a new password before it can do anything else (the admin
	   * of a first start, whose password was generated and printed). */
	  "ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;"
	  "ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;"
	  "PRAGMA user_version = 9;" },
};

/* What SQL cannot do (hashing), run after a migration's script in the
 * same transaction. */
static int migration_step(struct db *db, int version)
{
	switch (version) {
	case 7:
		return db_vm_migrate_pins(db);
	default:
		return 0;
	}
}

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int db_migration_count(void)
{
	return NMIGRATIONS;
}

/* Runs every statement of a constant script. */
static int run_script(struct db *db, const char *sql)
{
	const char *tail = sql;
	while (tail && *tail) {
		sqlite3_stmt *st = NULL;
		int rc = sqlite3_prepare_v2(db->sql, tail, -1, &st, &tail);
		if (rc != SQLITE_OK)
			return db_rc(db, rc);
		if (!st) /* trailing whitespace or comment */
			break;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return db_rc(db, rc);
	}
	return 0;
}

static int too_new(struct db *db, int v)
{
	char msg[128];
	snprintf(msg, sizeof(msg),
		 "database schema version %d is newer than this program knows (%d)",
		 v, NMIGRATIONS);
	db_set_err(db, msg);
	return ENOTSUP;
}

static int apply(struct db *db, const struct migration *m)
{
	int err = db_begin(db);
	if (err)
		return err;
	int v = db_schema_version(db);
	if (v < 0) {
		err = -v;
		goto out;
	}
	if (v > NMIGRATIONS) {
		err = too_new(db, v);
		goto out;
	}
	if (v >= m->version)
		goto out; /* someone else applied it meanwhile */
	if ((err = run_script(db, m->sql)))
		goto out;
	if ((err = migration_step(db, m->version)))
		goto out;
	if (db_schema_version(db) != m->version) {
		char msg[96];
		snprintf(msg, sizeof(msg), "migration %d does not set user_version",
			 m->version);
		db_set_err(db, msg);
		err = EINVAL;
		goto out;
	}
	return db_commit(db);
out:
	db_rollback(db);
	return err;
}

int db_migrate(struct db *db)
{
	int v = db_schema_version(db);
	if (v < 0)
		return -v;
	if (v > NMIGRATIONS)
		return too_new(db, v);
	for (int i = v; i < NMIGRATIONS; i++) {
		int err = apply(db, &migrations[i]);
		if (err)
			return err;
	}
	return 0;
}
