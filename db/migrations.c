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
};

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
