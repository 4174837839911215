/*
 * Shared fixture for the data store tests (test_db.c, test_db_cdr.c,
 * test_db_ext.c): each test gets a fresh temporary directory holding the
 * database file, optionally opened; teardown closes it and removes the
 * file, its WAL and shared-memory companions and the directory; reopen
 * closes and opens it again, as a restart would; raw_exec and raw_int go
 * straight to the SQLite file, behind the API. Header-only (static
 * inline) because each test file is its own binary; include it once, from
 * the test's .c file, which wraps db_fx_setup in its own setup function.
 */
#ifndef HF_TESTS_DB_TEST_UTIL_H
#define HF_TESTS_DB_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../db/db.h"

struct fx {
	char dir[64];
	char path[128];
	struct db *db;
};

static inline void rm_db_files(const char *path)
{
	char p[160];
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

/* A fresh directory /tmp/<name>-XXXXXX for the database file, which is
 * opened when open is set (some tests build the file themselves first).
 * For use as a cmocka setup: 0, or -1 with nothing left behind. */
static inline int db_fx_setup(void **state, const char *name, bool open)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/%s-XXXXXX", name);
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, DB_FILE_NAME);
	if (open && db_open(&f->db, f->path) != 0) {
		rmdir(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	struct fx *f = *state;
	db_close(f->db);
	rm_db_files(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static inline void reopen(struct fx *f)
{
	db_close(f->db);
	f->db = NULL;
	assert_int_equal(db_open(&f->db, f->path), 0);
}

/* A second connection straight to SQLite, to look behind the API. */
static inline void raw_exec(const char *path, const char *sql)
{
	sqlite3 *s;
	char *err = NULL;
	assert_int_equal(sqlite3_open(path, &s), SQLITE_OK);
	int rc = sqlite3_exec(s, sql, NULL, NULL, &err);
	if (rc != SQLITE_OK)
		fail_msg("%s", err ? err : "?");
	sqlite3_close(s);
}

/* The first column of the first row of sql, as an int. */
static inline int raw_int(const char *path, const char *sql)
{
	sqlite3 *s;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(path, &s), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(s, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(s);
	return v;
}

#endif
