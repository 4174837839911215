/*
 * Tests of the numbering plan (db/numplan.c, migration 5) on real SQLite
 * files: the migration fills it from an older database's extensions and
 * seeds *43 (migration 6 the call handling and voicemail codes *72 to
 * *98); numbers are added and removed with exact messages when taken
 * or invalid; extensions claim and release their numbers in the same
 * transaction as the extension, so a number taken by a feature code
 * refuses the extension and a failed add (also one nested in
 * db_setup_defaults' transaction) leaves nothing half-written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../db/db.h"
#include "../../db/db_int.h" /* db_migration_count */
#include "db_test_util.h"

static int setup(void **state)
{
	return db_fx_setup(state, "hf-test-numplan", false);
}

static int setup_open(void **state)
{
	return db_fx_setup(state, "hf-test-numplan", true);
}

static struct db_ext mk_ext(const char *number)
{
	struct db_ext e;
	memset(&e, 0, sizeof(e));
	snprintf(e.number, sizeof(e.number), "%s", number);
	snprintf(e.password, sizeof(e.password), "secret-pass-%s", number);
	e.enabled = true;
	return e;
}

#define PLAN_MAX 16

struct plan {
	int n;
	struct db_number row[PLAN_MAX];
};

static void collect(const struct db_number *n, void *arg)
{
	struct plan *p = arg;
	if (p->n < PLAN_MAX)
		p->row[p->n] = *n;
	p->n++;
}

static struct plan plan_of(struct fx *f)
{
	struct plan p;
	memset(&p, 0, sizeof(p));
	int n = db_number_list(f->db, collect, &p);
	assert_int_equal(n, p.n);
	return p;
}

static void assert_row(const struct db_number *n, const char *number, const char *dest,
		       const char *what)
{
	assert_string_equal(n->number, number);
	assert_string_equal(n->dest, dest);
	assert_string_equal(n->what, what);
}

/* The feature codes a new database has, in the plan's order: *43 and
 * migration 6's call handling and voicemail codes. */
static const struct db_number seeded[] = {
	{ "*43", "app:echo", "feature code: echo test" },
	{ "*72", "app:fwdon", "feature code: call forward on" },
	{ "*73", "app:fwdoff", "feature code: call forward off" },
	{ "*78", "app:dndon", "feature code: do not disturb on" },
	{ "*79", "app:dndoff", "feature code: do not disturb off" },
	{ "*97", "app:vmmain", "feature code: own voicemail" },
	{ "*98", "app:vmany", "feature code: any voicemail" },
};
#define NSEEDED ((int)(sizeof(seeded) / sizeof(seeded[0])))

/* The plan starts with the seeded codes; returns the index after them. */
static int assert_seeded(const struct plan *p)
{
	assert_true(p->n >= NSEEDED);
	for (int i = 0; i < NSEEDED; i++)
		assert_row(&p->row[i], seeded[i].number, seeded[i].dest, seeded[i].what);
	return NSEEDED;
}

/* --- the migration ---------------------------------------------------------- */

/* The extensions table as release 1 made it, with two extensions. */
static const char v1_db[] =
	"CREATE TABLE extensions ("
	"  number TEXT PRIMARY KEY NOT NULL,"
	"  name TEXT NOT NULL DEFAULT '',"
	"  password TEXT NOT NULL,"
	"  vm_pin TEXT NOT NULL DEFAULT '',"
	"  enabled INTEGER NOT NULL DEFAULT 1,"
	"  created_at INTEGER NOT NULL"
	");"
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
	"PRAGMA journal_mode=WAL;"
	"INSERT INTO extensions VALUES ('2001', 'Alice', 'password-a', '', 1, 1);"
	"INSERT INTO extensions VALUES ('100', 'Desk', 'password-b', '', 1, 2);"
	"PRAGMA user_version = 1;";

static void test_migration_fills_plan(void **state)
{
	struct fx *f = *state;
	raw_exec(f->path, v1_db);
	assert_int_equal(db_open(&f->db, f->path), 0);
	assert_int_equal(db_schema_version(f->db), db_migration_count());
	assert_true(db_migration_count() >= 5);

	struct plan p = plan_of(f);
	assert_int_equal(p.n, NSEEDED + 2);
	int at = assert_seeded(&p);
	assert_row(&p.row[at], "100", "ext:100", "extension 100");
	assert_row(&p.row[at + 1], "2001", "ext:2001", "extension 2001");

	/* The migrated rows behave like new ones. */
	assert_int_equal(db_ext_delete(f->db, "100"), 0);
	struct db_ext e = mk_ext("2001");
	assert_int_equal(db_ext_add(f->db, &e), EEXIST);
	assert_string_equal(db_errmsg(f->db), "number 2001 is taken by extension 2001");

	reopen(f); /* applies nothing twice */
	p = plan_of(f);
	assert_int_equal(p.n, NSEEDED + 1);
	at = assert_seeded(&p);
	assert_row(&p.row[at], "2001", "ext:2001", "extension 2001");
	/* and the CDR column of the same migration is there */
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_table_info('cdr')"
					  " WHERE name = 'path'"),
			 1);
}

static void test_fresh_plan_and_setup(void **state)
{
	struct fx *f = *state;
	struct plan p = plan_of(f);
	assert_int_equal(p.n, NSEEDED);
	assert_seeded(&p);

	/* First start adds 1001-1005 inside its own transaction: each claims
	 * its number through a nested savepoint. */
	assert_int_equal(db_setup_defaults(f->db, NULL, NULL), 0);
	p = plan_of(f);
	assert_int_equal(p.n, NSEEDED + 5);
	int at = assert_seeded(&p);
	assert_row(&p.row[at], "1001", "ext:1001", "extension 1001");
	assert_row(&p.row[at + 4], "1005", "ext:1005", "extension 1005");
}

/* --- add and remove --------------------------------------------------------- */

static void test_number_add_remove(void **state)
{
	struct fx *f = *state;
	char why[128];
	struct db_ext e = mk_ext("1001");
	assert_int_equal(db_ext_add(f->db, &e), 0);

	assert_int_equal(db_number_add(f->db, "*99", "app:voicemail", "feature code: voicemail",
				       why, sizeof(why)),
			 0);
	assert_string_equal(why, "");
	assert_int_equal(db_number_add(f->db, "800", "conf:800", "conference room 800", NULL, 0), 0);
	struct db_number n;
	assert_int_equal(db_number_get(f->db, "800", &n), 0);
	assert_row(&n, "800", "conf:800", "conference room 800");
	assert_int_equal(db_number_get(f->db, "801", &n), ENOENT);

	/* Taken: by a feature code, by the seeded *43, by an extension. */
	assert_int_equal(db_number_add(f->db, "*99", "app:other", "feature code: other", why,
				       sizeof(why)),
			 EEXIST);
	assert_string_equal(why, "number *99 is taken by feature code: voicemail");
	assert_string_equal(db_errmsg(f->db), why);
	assert_int_equal(db_number_add(f->db, "*43", "app:x", "x", why, sizeof(why)), EEXIST);
	assert_string_equal(why, "number *43 is taken by feature code: echo test");
	assert_int_equal(db_number_add(f->db, "1001", "ivr:1001", "IVR menu 1001", why,
				       sizeof(why)),
			 EEXIST);
	assert_string_equal(why, "number 1001 is taken by extension 1001");
	/* a small why is cut, not overrun */
	char small[12];
	assert_int_equal(db_number_add(f->db, "1001", "app:x", "x", small, sizeof(small)), EEXIST);
	assert_string_equal(small, "number 1001");

	/* Invalid input, each with its field's name. */
	static const struct {
		const char *number, *dest, *what, *why;
	} bad[] = {
		{ "", "app:x", "x", "number: 1 to 31 characters" },
		{ "12345678901234567890123456789012", "app:x", "x", "number: 1 to 31 characters" },
		{ "12a", "app:x", "x", "number: digits, '*', '#' and a leading '+' only" },
		{ "1+2", "app:x", "x", "number: digits, '*', '#' and a leading '+' only" },
		{ "+", "app:x", "x", "number: digits, '*', '#' and a leading '+' only" },
		{ "9'; --", "app:x", "x", "number: digits, '*', '#' and a leading '+' only" },
		{ "*98", "echo", "x", "dest: kind:id (e.g. app:echo, conf:800)" },
		{ "*98", ":echo", "x", "dest: kind:id (e.g. app:echo, conf:800)" },
		{ "*98", "app:", "x", "dest: kind:id (e.g. app:echo, conf:800)" },
		{ "*98", "App:echo", "x", "dest: kind:id (e.g. app:echo, conf:800)" },
		{ "*98", "app:ec ho", "x", "dest: kind:id (e.g. app:echo, conf:800)" },
		{ "*98", "ext:1002", "x",
		  "dest: an extension's number comes with the extension (extension add)" },
		{ "*98", "app:echo", "", "what: 1 to 63 bytes" },
		{ "*98", "app:echo", "a\nb", "what: invalid UTF-8 or control characters" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(db_number_add(f->db, bad[i].number, bad[i].dest, bad[i].what, why,
					       sizeof(why)),
				 EINVAL);
		assert_string_equal(why, bad[i].why);
	}
	assert_int_equal(db_number_add(f->db, "+4930123", "app:echo", "x", NULL, 0), 0);
	assert_int_equal(db_number_add(f->db, NULL, "app:echo", "x", NULL, 0), EINVAL);
	assert_int_equal(db_number_add(NULL, "1", "app:echo", "x", NULL, 0), EINVAL);

	/* Remove: a feature code goes; an extension's number stays with it. */
	assert_int_equal(db_number_remove(f->db, "*99"), 0);
	assert_int_equal(db_number_remove(f->db, "*99"), ENOENT);
	assert_int_equal(db_number_remove(f->db, "1001"), EPERM);
	assert_string_equal(db_errmsg(f->db),
			    "number 1001 belongs to extension 1001: remove the extension");
	assert_int_equal(db_number_get(f->db, "1001", &n), 0);
	assert_int_equal(db_number_remove(f->db, "*43"), 0); /* seeded, but not sacred */
	assert_int_equal(db_number_add(f->db, "*99", "app:voicemail", "feature code: voicemail",
				       NULL, 0),
			 0);

	struct plan p = plan_of(f);
	assert_int_equal(p.n, NSEEDED - 1 + 4); /* *43 went */
	assert_string_equal(p.row[0].number, "*72");
	assert_string_equal(p.row[NSEEDED - 2].number, "*98");
	assert_string_equal(p.row[NSEEDED - 1].number, "*99");
	assert_string_equal(p.row[NSEEDED].number, "800");
	assert_string_equal(p.row[NSEEDED + 1].number, "1001");
	assert_string_equal(p.row[NSEEDED + 2].number, "+4930123");
	assert_int_equal(db_number_list(NULL, collect, &p), -EINVAL);
}

/* --- extensions keep the plan in step ---------------------------------------- */

static void test_ext_in_step(void **state)
{
	struct fx *f = *state;
	struct db_ext e = mk_ext("1001");
	assert_int_equal(db_ext_add(f->db, &e), 0);
	struct db_number n;
	assert_int_equal(db_number_get(f->db, "1001", &n), 0);
	assert_row(&n, "1001", "ext:1001", "extension 1001");

	/* The same extension twice: the plan's words. */
	assert_int_equal(db_ext_add(f->db, &e), EEXIST);
	assert_string_equal(db_errmsg(f->db), "number 1001 is taken by extension 1001");

	/* A number a feature (a conference room here) has. */
	assert_int_equal(db_number_add(f->db, "800", "conf:800", "conference room 800", NULL, 0), 0);
	e = mk_ext("800");
	assert_int_equal(db_ext_add(f->db, &e), EEXIST);
	assert_string_equal(db_errmsg(f->db), "number 800 is taken by conference room 800");
	assert_int_equal(db_ext_get(f->db, "800", &e), ENOENT);
	assert_int_equal(db_number_get(f->db, "800", &n), 0);
	assert_row(&n, "800", "conf:800", "conference room 800");

	/* A feature code cannot be an extension (digits only), by syntax. */
	e = mk_ext("*43");
	assert_int_equal(db_ext_add(f->db, &e), EINVAL);
	assert_int_equal(db_number_get(f->db, "*43", &n), 0);
	assert_string_equal(n.dest, "app:echo");

	/* Removing the extension frees its number, and only its own. */
	assert_int_equal(db_ext_delete(f->db, "1001"), 0);
	assert_int_equal(db_number_get(f->db, "1001", &n), ENOENT);
	assert_int_equal(db_ext_delete(f->db, "1001"), ENOENT);
	assert_int_equal(db_ext_delete(f->db, "800"), ENOENT);
	assert_int_equal(db_number_get(f->db, "800", &n), 0);
	assert_int_equal(db_number_add(f->db, "1001", "app:echo", "feature code: echo 2", NULL, 0),
			 0);
	e = mk_ext("1001");
	assert_int_equal(db_ext_add(f->db, &e), EEXIST);
	assert_int_equal(db_number_remove(f->db, "1001"), 0);
	assert_int_equal(db_ext_add(f->db, &e), 0);

	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM extensions"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM numbers"
					  " WHERE dest LIKE 'ext:%'"),
			 1);
}

/* The number is claimed first; when the extension's own insert then
 * fails (a row put behind the API's back), the claim is rolled back. */
static void test_failed_add_leaves_nothing(void **state)
{
	struct fx *f = *state;
	raw_exec(f->path, "INSERT INTO extensions (number, password, created_at)"
			  " VALUES ('3000', 'password-x', 1)");
	struct db_ext e = mk_ext("3000");
	assert_int_equal(db_ext_add(f->db, &e), EEXIST);
	struct db_number n;
	assert_int_equal(db_number_get(f->db, "3000", &n), ENOENT);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM numbers"), NSEEDED);
	/* no transaction is left open: the next write commits on its own */
	e = mk_ext("3001");
	assert_int_equal(db_ext_add(f->db, &e), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM numbers WHERE number = '3001'"), 1);
}

/* Nested in db_setup_defaults' transaction: one taken number undoes the
 * whole first start (no extension, no number, no admin account), and the
 * connection is usable afterwards. */
static void test_failed_setup_leaves_nothing(void **state)
{
	struct fx *f = *state;
	assert_int_equal(db_number_add(f->db, "1003", "ivr:1003", "IVR menu 1003", NULL, 0), 0);
	assert_int_equal(db_setup_defaults(f->db, NULL, NULL), EEXIST);
	assert_string_equal(db_errmsg(f->db), "number 1003 is taken by IVR menu 1003");
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM extensions"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM users"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM numbers"), NSEEDED + 1);

	assert_int_equal(db_number_remove(f->db, "1003"), 0);
	assert_int_equal(db_setup_defaults(f->db, NULL, NULL), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM numbers"), NSEEDED + 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migration_fills_plan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fresh_plan_and_setup, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_number_add_remove, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_ext_in_step, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_failed_add_leaves_nothing, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_failed_setup_leaves_nothing, setup_open, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
