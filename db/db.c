/*
 * Opening and closing a connection, and the helpers every db/ file shares
 * (db_int.h). Each connection is set up the same way: WAL so readers (the
 * web, the CLI) never block the store thread's writes, a 5 s busy timeout
 * so two writers queue instead of failing, foreign keys on (registrations
 * go with their extension), SQLite's defensive mode, then every pending
 * migration.
 */
#include "db_int.h"

#include "../core/base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000

void db_set_err(struct db *db, const char *msg)
{
	snprintf(db->err, sizeof(db->err), "%s", msg);
}

int db_rc(struct db *db, int rc)
{
	switch (rc) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	}
	db_set_err(db, db->sql ? sqlite3_errmsg(db->sql) : sqlite3_errstr(rc));
	switch (rc) {
	case SQLITE_CONSTRAINT_PRIMARYKEY:
	case SQLITE_CONSTRAINT_UNIQUE:
		return EEXIST;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return ENOENT;
	}
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_TOOBIG:
	case SQLITE_RANGE:
		return EINVAL;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return EBUSY;
	case SQLITE_NOMEM:
		return ENOMEM;
	case SQLITE_READONLY:
		return EROFS;
	case SQLITE_FULL:
		return ENOSPC;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return EACCES;
	case SQLITE_CANTOPEN: {
		int e = db->sql ? sqlite3_system_errno(db->sql) : 0;
		return e ? e : EACCES;
	}
	default:
		return EIO;
	}
}

const char *db_errmsg(const struct db *db)
{
	if (!db)
		return "no database";
	return db->err[0] ? db->err : "no error";
}

int db_stmt(struct db *db, const char *sql, sqlite3_stmt **out)
{
	struct db_stmt_slot *free_slot = NULL;
	for (size_t i = 0; i < DB_STMT_CACHE; i++) {
		struct db_stmt_slot *s = &db->cache[i];
		if (s->sql == sql && s->st) {
			if (sqlite3_stmt_busy(s->st))
				break; /* re-entered: use a private copy */
			*out = s->st;
			return 0;
		}
		if (!s->st && !free_slot)
			free_slot = s;
	}
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v3(db->sql, sql, -1,
				    free_slot ? SQLITE_PREPARE_PERSISTENT : 0, &st, NULL);
	if (rc != SQLITE_OK)
		return db_rc(db, rc);
	if (free_slot) {
		/* Only cache when nobody holds this sql (the busy case above
		 * leaves the original slot in place). */
		bool taken = false;
		for (size_t i = 0; i < DB_STMT_CACHE; i++)
			if (db->cache[i].sql == sql && db->cache[i].st)
				taken = true;
		if (!taken) {
			free_slot->sql = sql;
			free_slot->st = st;
		}
	}
	*out = st;
	return 0;
}

void db_stmt_done(struct db *db, sqlite3_stmt *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < DB_STMT_CACHE; i++) {
		if (db->cache[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return;
		}
	}
	sqlite3_finalize(st);
}

int db_finish_change(struct db *db, sqlite3_stmt *st, int err)
{
	if (!err)
		err = db_rc(db, sqlite3_step(st));
	if (!err && sqlite3_changes(db->sql) == 0)
		err = ENOENT;
	db_stmt_done(db, st);
	return err;
}

int db_exec(struct db *db, const char *sql)
{
	sqlite3_stmt *st;
	int err = db_stmt(db, sql, &st);
	if (err)
		return err;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	err = db_rc(db, rc);
	db_stmt_done(db, st);
	return err;
}

int db_begin(struct db *db)
{
	return db_exec(db, "BEGIN IMMEDIATE");
}

int db_commit(struct db *db)
{
	int err = db_exec(db, "COMMIT");
	if (err)
		db_rollback(db);
	return err;
}

void db_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->sql)) {
		/* Keep the message of the error that made us roll back. */
		char saved[sizeof(db->err)];
		memcpy(saved, db->err, sizeof(saved));
		db_exec(db, "ROLLBACK");
		memcpy(db->err, saved, sizeof(saved));
	}
}

int db_tx_begin(struct db *db, bool *nested)
{
	*nested = !sqlite3_get_autocommit(db->sql);
	return *nested ? db_exec(db, "SAVEPOINT hf_nested") : db_begin(db);
}

int db_tx_end(struct db *db, bool nested, int err)
{
	if (!nested) {
		if (err) {
			db_rollback(db);
			return err;
		}
		return db_commit(db);
	}
	if (!err)
		return db_exec(db, "RELEASE hf_nested");
	/* ROLLBACK TO keeps the savepoint open; RELEASE then drops it. */
	char saved[sizeof(db->err)];
	memcpy(saved, db->err, sizeof(saved));
	db_exec(db, "ROLLBACK TO hf_nested");
	db_exec(db, "RELEASE hf_nested");
	memcpy(db->err, saved, sizeof(saved));
	return err;
}

int db_bind_str(sqlite3_stmt *st, int idx, const char *s, size_t cap)
{
	if (!s)
		return sqlite3_bind_null(st, idx) == SQLITE_OK ? 0 : EINVAL;
	size_t n = strnlen(s, cap);
	return sqlite3_bind_text(st, idx, s, (int)n, SQLITE_TRANSIENT) == SQLITE_OK
		       ? 0
		       : ENOMEM;
}

void db_col_str(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
	if (!cap)
		return;
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = t ? (size_t)sqlite3_column_bytes(st, col) : 0;
	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, t, n);
	dst[n] = '\0';
}

/* Creates the file ourselves so it is born 0600 (SQLite would use 0644
 * less the umask) and SQLite gives its -wal and -shm files the same mode.
 * When root creates it (the CLI run with sudo on the daemon's data
 * directory) it is handed to the directory's owner, or the daemon could
 * not open it; SQLite does the same for -wal/-shm when running as root. */
static int create_private(const char *path, char *why, size_t cap)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return 0;
		int e = errno;
		snprintf(why, cap, "cannot create %s: %s", path, strerror(e));
		return e;
	}
	if (geteuid() == 0) {
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s", path);
		struct stat st;
		if (stat(dirname(dir), &st) == 0 && st.st_uid != 0 &&
		    fchown(fd, st.st_uid, st.st_gid) != 0) {
			/* Not fatal: root can still use it. */
		}
	}
	close(fd);
	return 0;
}

/* PRAGMA journal_mode answers with the mode it ended up in; a file system
 * that cannot do WAL (no shared memory) answers something else. */
static int enable_wal(struct db *db)
{
	sqlite3_stmt *st;
	int err = db_stmt(db, "PRAGMA journal_mode=WAL", &st);
	if (err)
		return err;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *mode = (const char *)sqlite3_column_text(st, 0);
		if (!mode || strcmp(mode, "wal") != 0) {
			db_set_err(db, "the database cannot use WAL mode here");
			err = ENOTSUP;
		}
		rc = SQLITE_DONE;
	}
	if (!err)
		err = db_rc(db, rc);
	db_stmt_done(db, st);
	return err;
}

static int setup(struct db *db)
{
	int err;
	sqlite3_extended_result_codes(db->sql, 1);
	sqlite3_busy_timeout(db->sql, BUSY_TIMEOUT_MS);
	/* A corrupt or hostile file must not be able to run SQL functions
	 * through its schema, nor should anything write the schema directly. */
	sqlite3_db_config(db->sql, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db->sql, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	if ((err = db_exec(db, "PRAGMA foreign_keys=ON")))
		return err;
	if ((err = enable_wal(db)))
		return err;
	/* In WAL mode NORMAL is durable across application crashes and only
	 * risks the last commits on power loss, at a fraction of the fsyncs. */
	if ((err = db_exec(db, "PRAGMA synchronous=NORMAL")))
		return err;
	return db_migrate(db);
}

int db_open_err(struct db **out, const char *path, char *why, size_t cap)
{
	char dummy[8];
	if (!why || !cap) {
		why = dummy;
		cap = sizeof(dummy);
	}
	why[0] = '\0';
	if (!out || !path || !*path) {
		snprintf(why, cap, "no database path");
		return EINVAL;
	}
	int err = create_private(path, why, cap);
	if (err)
		return err;
	struct db *db = calloc(1, sizeof(*db));
	if (!db) {
		snprintf(why, cap, "out of memory");
		return ENOMEM;
	}
	int rc = sqlite3_open_v2(path, &db->sql,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK)
		err = db_rc(db, rc);
	else
		err = setup(db);
	if (err) {
		snprintf(why, cap, "%s: %s", path, db->err[0] ? db->err : strerror(err));
		db_close(db);
		return err;
	}
	db->err[0] = '\0';
	*out = db;
	return 0;
}

void db_hex(const unsigned char *d, size_t n, char *out)
{
	static const char x[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = x[d[i] >> 4];
		out[2 * i + 1] = x[d[i] & 15];
	}
	out[2 * n] = '\0';
}

bool db_readonly(struct db *db)
{
	return db && sqlite3_db_readonly(db->sql, "main") == 1;
}

int db_open(struct db **out, const char *path)
{
	return db_open_err(out, path, NULL, 0);
}

void db_close(struct db *db)
{
	if (!db)
		return;
	/* the ones never written: nothing else can write them now */
	if (db->cdr_nkept)
		log_err("db", "%zu CDRs refused by the database (full disk or read-only) are lost",
			db_cdr_kept_free(db));
	for (size_t i = 0; i < DB_STMT_CACHE; i++)
		if (db->cache[i].st)
			sqlite3_finalize(db->cache[i].st);
	/* sqlite3_close_v2 would defer on leaked statements; all of ours
	 * are finalized above, so plain close reports real misuse. */
	sqlite3_close(db->sql);
	free(db);
}

int db_schema_version(struct db *db)
{
	if (!db)
		return -EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db, "PRAGMA user_version", &st);
	if (err)
		return -err;
	int v = -EIO;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	else
		v = -db_rc(db, rc);
	db_stmt_done(db, st);
	return v;
}

bool db_text_clean(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		unsigned c = p[i];
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			i++;
			continue;
		}
		size_t len;
		uint32_t cp, min;
		if ((c & 0xe0) == 0xc0) {
			len = 2, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp <= 0x9f))
			return false;
		i += len;
	}
	return true;
}
