/*
 * Tests of the data store (db/) and the store thread, on real SQLite files
 * in a fresh temporary directory per test: migrations, extensions and
 * their validation, SQL metacharacters kept verbatim, registrations,
 * password hashes, settings, first-start defaults, and the store thread's
 * ordering and draining.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../core/base/pin.h"
#include "../../db/db.h"
#include "../../db/voicemail.h"
#include "../../db/db_int.h"
#include "../../db/store.h"
#include "db_test_util.h"

static int setup(void **state)
{
	return db_fx_setup(state, "hf-test-db", true);
}

static struct db_ext mk_ext(const char *number, const char *name, const char *pw)
{
	struct db_ext e;
	memset(&e, 0, sizeof(e));
	snprintf(e.number, sizeof(e.number), "%s", number);
	snprintf(e.name, sizeof(e.name), "%s", name);
	snprintf(e.password, sizeof(e.password), "%s", pw);
	e.enabled = true;
	return e;
}

/* --- migrations and opening --------------------------------------------- */

static void test_migrate_fresh(void **state)
{
	struct fx *f = *state;
	assert_true(db_migration_count() >= 1);
	assert_int_equal(db_schema_version(f->db), db_migration_count());

	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* WAL is a property of the file: another connection sees it. */
	sqlite3 *s;
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_open(f->path, &s), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(s, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	sqlite3_close(s);

	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
					  " AND name IN ('extensions', 'registrations', 'users', 'settings',"
					  " 'cdr')"),
			 5);
}

static void test_migrate_reopen(void **state)
{
	struct fx *f = *state;
	struct db_ext e = mk_ext("1001", "Alice", "secret-pass-1");
	assert_int_equal(db_ext_add(f->db, &e), 0);
	reopen(f);
	assert_int_equal(db_schema_version(f->db), db_migration_count());
	struct db_ext got;
	assert_int_equal(db_ext_get(f->db, "1001", &got), 0);
	assert_string_equal(got.name, "Alice");
	/* A second open of the same file at the same time is fine too. */
	struct db *db2;
	assert_int_equal(db_open(&db2, f->path), 0);
	assert_int_equal(db_schema_version(db2), db_migration_count());
	db_close(db2);
}

static void test_migrate_too_new(void **state)
{
	struct fx *f = *state;
	db_close(f->db);
	f->db = NULL;
	raw_exec(f->path, "PRAGMA user_version = 9999");
	struct db *db = NULL;
	char why[256];
	assert_int_equal(db_open_err(&db, f->path, why, sizeof(why)), ENOTSUP);
	assert_null(db);
	assert_non_null(strstr(why, "newer"));
	char restore[64];
	snprintf(restore, sizeof(restore), "PRAGMA user_version = %d", db_migration_count());
	raw_exec(f->path, restore);
	assert_int_equal(db_open(&f->db, f->path), 0);
}

static void test_open_bad_path(void **state)
{
	(void)state;
	struct db *db = NULL;
	char why[256];
	int err = db_open_err(&db, "/nonexistent-dir-hf/x.db", why, sizeof(why));
	assert_int_equal(err, ENOENT);
	assert_null(db);
	assert_non_null(strstr(why, "/nonexistent-dir-hf/x.db"));
	assert_int_equal(db_open(&db, NULL), EINVAL);
}

static void test_open_not_a_database(void **state)
{
	struct fx *f = *state;
	char junk[160];
	snprintf(junk, sizeof(junk), "%s/junk.db", f->dir);
	FILE *fp = fopen(junk, "w");
	assert_non_null(fp);
	for (int i = 0; i < 200; i++)
		fputs("this is not an SQLite file\n", fp);
	fclose(fp);
	struct db *db = NULL;
	char why[256];
	assert_int_not_equal(db_open_err(&db, junk, why, sizeof(why)), 0);
	assert_null(db);
	assert_non_null(strstr(why, "junk.db"));
	unlink(junk);
}

/* --- extensions ------------------------------------------------------------ */

static void count_ext(const struct db_ext *e, void *arg)
{
	char *order = arg;
	strcat(order, e->number);
	strcat(order, ",");
}

static void test_ext_crud(void **state)
{
	struct fx *f = *state;
	struct db_ext e = mk_ext("1002", "Bob", "password-b");
	snprintf(e.vm_pin, sizeof(e.vm_pin), "730519");
	assert_int_equal(db_ext_add(f->db, &e), 0);
	assert_int_equal(db_ext_add(f->db, &e), EEXIST);
	struct db_ext a = mk_ext("1001", "Alice", "password-a");
	a.created_at = 12345;
	assert_int_equal(db_ext_add(f->db, &a), 0);
	struct db_ext c = mk_ext("100", "Short", "password-c");
	assert_int_equal(db_ext_add(f->db, &c), 0);

	struct db_ext got;
	assert_int_equal(db_ext_get(f->db, "1002", &got), 0);
	assert_string_equal(got.number, "1002");
	assert_string_equal(got.name, "Bob");
	assert_string_equal(got.password, "password-b");
	/* write-only: the PIN went hashed into the mailbox (test_db_voicemail) */
	assert_string_equal(got.vm_pin, "");
	assert_true(got.enabled);
	assert_true(got.created_at > 1600000000);
	assert_int_equal(db_ext_get(f->db, "1001", &got), 0);
	assert_int_equal(got.created_at, 12345);
	assert_int_equal(db_ext_get(f->db, "9999", &got), ENOENT);

	char order[64] = "";
	assert_int_equal(db_ext_list(f->db, count_ext, order), 3);
	assert_string_equal(order, "100,1001,1002,");

	e = mk_ext("1002", "Robert", "password-new");
	e.enabled = false;
	assert_int_equal(db_ext_update(f->db, &e), 0);
	assert_int_equal(db_ext_get(f->db, "1002", &got), 0);
	assert_string_equal(got.name, "Robert");
	assert_string_equal(got.password, "password-new");
	assert_string_equal(got.vm_pin, "");
	assert_false(got.enabled);
	struct db_ext nx = mk_ext("7777", "Nobody", "password-x");
	assert_int_equal(db_ext_update(f->db, &nx), ENOENT);

	assert_int_equal(db_ext_delete(f->db, "1002"), 0);
	assert_int_equal(db_ext_delete(f->db, "1002"), ENOENT);
	assert_int_equal(db_ext_get(f->db, "1002", &got), ENOENT);
	assert_int_equal(db_ext_list(f->db, NULL, NULL), 2);
}

struct nest {
	struct db *db;
	int outer, inner;
};

static void inner_row(const struct db_ext *e, void *arg)
{
	struct nest *n = arg;
	n->inner++;
}

/* A handler may query the same connection again, even the same list: the
 * statement cache must hand out a private copy, not reset the outer one. */
static void outer_row(const struct db_ext *e, void *arg)
{
	struct nest *n = arg;
	struct db_ext got;
	n->outer++;
	assert_int_equal(db_ext_get(n->db, e->number, &got), 0);
	assert_string_equal(got.number, e->number);
	assert_int_equal(db_ext_list(n->db, inner_row, n), 3);
}

static void test_ext_list_reentrant(void **state)
{
	struct fx *f = *state;
	const char *nums[] = { "201", "202", "203" };
	for (int i = 0; i < 3; i++) {
		struct db_ext e = mk_ext(nums[i], "N", "password-n");
		assert_int_equal(db_ext_add(f->db, &e), 0);
	}
	struct nest n = { f->db, 0, 0 };
	assert_int_equal(db_ext_list(f->db, outer_row, &n), 3);
	assert_int_equal(n.outer, 3);
	assert_int_equal(n.inner, 9);
	/* and the cache still works afterwards */
	assert_int_equal(db_ext_list(f->db, NULL, NULL), 3);
}

static void expect_invalid(struct db *db, const struct db_ext *e, const char *field)
{
	const char *why = NULL;
	assert_int_equal(db_ext_validate(e, &why), EINVAL);
	assert_non_null(why);
	assert_int_equal(strncmp(why, field, strlen(field)), 0);
	assert_int_equal(db_ext_add(db, e), EINVAL);
	assert_int_equal(strncmp(db_errmsg(db), field, strlen(field)), 0);
}

static void test_ext_validation(void **state)
{
	struct fx *f = *state;
	struct db_ext e = mk_ext("1001", "Ann", "12345678");
	const char *why = "x";
	assert_int_equal(db_ext_validate(&e, &why), 0);
	assert_null(why);

	e = mk_ext("1", "Ann", "12345678");
	expect_invalid(f->db, &e, "number");
	e = mk_ext("1234567890123456", "Ann", "12345678");
	expect_invalid(f->db, &e, "number");
	e = mk_ext("10a1", "Ann", "12345678");
	expect_invalid(f->db, &e, "number");
	e = mk_ext("", "Ann", "12345678");
	expect_invalid(f->db, &e, "number");
	e = mk_ext("123456789012345", "Ann", "12345678");
	assert_int_equal(db_ext_validate(&e, NULL), 0);

	e = mk_ext("1001", "Ann", "1234567");
	expect_invalid(f->db, &e, "password");
	e = mk_ext("1001", "Ann", "has space 1");
	expect_invalid(f->db, &e, "password");
	e = mk_ext("1001", "Ann", "");
	memset(e.password, 'x', sizeof(e.password)); /* unterminated */
	expect_invalid(f->db, &e, "password");

	e = mk_ext("1001", "Evil\r\nVia: x", "12345678");
	expect_invalid(f->db, &e, "name");
	e = mk_ext("1001", "Esc\x1b[2J", "12345678");
	expect_invalid(f->db, &e, "name");
	e = mk_ext("1001", "Bad \xc3\x28 utf8", "12345678");
	expect_invalid(f->db, &e, "name");
	e = mk_ext("1001", "Overlong \xc0\xaf", "12345678");
	expect_invalid(f->db, &e, "name");
	e = mk_ext("1001", "Zo\xc3\xab M\xc3\xbcller \xe2\x98\x8e", "12345678");
	assert_int_equal(db_ext_validate(&e, NULL), 0);

	e = mk_ext("1001", "Ann", "12345678");
	snprintf(e.vm_pin, sizeof(e.vm_pin), "12a4");
	expect_invalid(f->db, &e, "pin");

	assert_int_equal(db_ext_list(f->db, NULL, NULL), 0);
	assert_int_equal(db_ext_validate(NULL, &why), EINVAL);
}

static void test_ext_sql_metachars(void **state)
{
	struct fx *f = *state;
	const char *name = "O'Brien; DROP TABLE extensions;--";
	const char *pw = "p'a\"ss;--)/*";
	struct db_ext e = mk_ext("1001", name, pw);
	assert_int_equal(db_ext_add(f->db, &e), 0);
	struct db_ext e2 = mk_ext("1002", "Robert'); DELETE FROM users; --", "x'OR'1'='1");
	assert_int_equal(db_ext_add(f->db, &e2), 0);

	struct db_ext got;
	assert_int_equal(db_ext_get(f->db, "1001", &got), 0);
	assert_string_equal(got.name, name);
	assert_string_equal(got.password, pw);
	assert_int_equal(db_ext_get(f->db, "1002", &got), 0);
	assert_string_equal(got.name, "Robert'); DELETE FROM users; --");
	assert_string_equal(got.password, "x'OR'1'='1");
	assert_int_equal(db_ext_list(f->db, NULL, NULL), 2);

	/* An injection attempt in a key finds nothing and changes nothing. */
	assert_int_equal(db_ext_get(f->db, "1' OR '1'='1", &got), ENOENT);
	assert_int_equal(db_ext_delete(f->db, "1' OR '1'='1"), ENOENT);
	assert_int_equal(db_ext_list(f->db, NULL, NULL), 2);

	assert_int_equal(db_setting_set(f->db, "k'; DROP TABLE settings;--", "v'--"), 0);
	char v[32];
	assert_int_equal(db_setting_get(f->db, "k'; DROP TABLE settings;--", v, sizeof(v)), 0);
	assert_string_equal(v, "v'--");
	reopen(f);
	assert_int_equal(db_ext_get(f->db, "1001", &got), 0);
	assert_string_equal(got.name, name);
}

/* --- registrations ------------------------------------------------------- */

struct reg_seen {
	int n;
	struct db_reg r[8];
};

static void collect_reg(const struct db_reg *r, void *arg)
{
	struct reg_seen *s = arg;
	if (s->n < 8)
		s->r[s->n] = *r;
	s->n++;
}

static struct db_reg mk_reg(const char *ext, const char *contact, int64_t expires_at,
			    uint32_t cseq)
{
	struct db_reg r;
	memset(&r, 0, sizeof(r));
	snprintf(r.ext, sizeof(r.ext), "%s", ext);
	snprintf(r.contact, sizeof(r.contact), "%s", contact);
	snprintf(r.source, sizeof(r.source), "udp:192.0.2.10:5060");
	snprintf(r.call_id, sizeof(r.call_id), "cid-%u@host", cseq);
	r.cseq = cseq;
	r.expires_at = expires_at;
	snprintf(r.user_agent, sizeof(r.user_agent), "Phone 'X'; v1");
	r.registered_at = expires_at - 3600;
	return r;
}

static void test_reg_save_replace_load(void **state)
{
	struct fx *f = *state;
	struct db_ext a = mk_ext("1001", "A", "password-a");
	struct db_ext b = mk_ext("1002", "B", "password-b");
	assert_int_equal(db_ext_add(f->db, &a), 0);
	assert_int_equal(db_ext_add(f->db, &b), 0);

	const int64_t now = 1700000000;
	struct db_reg r1 = mk_reg("1001", "sip:1001@192.0.2.10:5060", now + 3600, 1);
	struct db_reg r2 = mk_reg("1001", "sip:1001@198.51.100.7:5062;transport=tcp", now + 60, 7);
	struct db_reg r3 = mk_reg("1002", "sip:1002@192.0.2.11", now - 1, 3); /* expired */
	assert_int_equal(db_reg_save(f->db, &r1), 0);
	assert_int_equal(db_reg_save(f->db, &r2), 0);
	assert_int_equal(db_reg_save(f->db, &r3), 0);

	/* Same (ext, contact): replaced, not added. */
	r1.cseq = 2;
	r1.expires_at = now + 7200;
	snprintf(r1.source, sizeof(r1.source), "udp:192.0.2.99:5060");
	assert_int_equal(db_reg_save(f->db, &r1), 0);

	reopen(f); /* a restart keeps them */
	struct reg_seen s = { 0 };
	assert_int_equal(db_reg_load(f->db, now, collect_reg, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.r[0].contact, "sip:1001@192.0.2.10:5060");
	assert_int_equal(s.r[0].cseq, 2);
	assert_int_equal(s.r[0].expires_at, now + 7200);
	assert_string_equal(s.r[0].source, "udp:192.0.2.99:5060");
	assert_string_equal(s.r[0].call_id, "cid-1@host");
	assert_string_equal(s.r[0].user_agent, "Phone 'X'; v1");
	assert_int_equal(s.r[0].registered_at, now + 3600 - 3600);
	assert_string_equal(s.r[1].contact, "sip:1001@198.51.100.7:5062;transport=tcp");

	/* The expired one was purged: even an earlier clock does not see it. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(db_reg_load(f->db, now - 1000, collect_reg, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM registrations WHERE ext = '1002'"), 0);

	/* Expiry is exclusive: a binding expiring exactly now is gone. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(db_reg_load(f->db, now + 60, collect_reg, &s), 0);
	assert_int_equal(s.n, 1);

	assert_int_equal(db_reg_delete(f->db, "1001", "sip:1001@192.0.2.10:5060"), 0);
	assert_int_equal(db_reg_delete(f->db, "1001", "sip:none"), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(db_reg_load(f->db, now, collect_reg, &s), 0);
	assert_int_equal(s.n, 0);
}

static void test_reg_unknown_ext(void **state)
{
	struct fx *f = *state;
	struct db_reg r = mk_reg("4242", "sip:4242@192.0.2.1", 2000000000, 1);
	assert_int_equal(db_reg_save(f->db, &r), ENOENT);
	memset(r.contact, 0, sizeof(r.contact));
	assert_int_equal(db_reg_save(f->db, &r), EINVAL);
}

static void test_ext_delete_removes_regs(void **state)
{
	struct fx *f = *state;
	struct db_ext a = mk_ext("1001", "A", "password-a");
	struct db_ext b = mk_ext("1002", "B", "password-b");
	assert_int_equal(db_ext_add(f->db, &a), 0);
	assert_int_equal(db_ext_add(f->db, &b), 0);
	struct db_reg r1 = mk_reg("1001", "sip:a@192.0.2.1", 2000000000, 1);
	struct db_reg r2 = mk_reg("1001", "sip:a@192.0.2.2", 2000000000, 1);
	struct db_reg r3 = mk_reg("1002", "sip:b@192.0.2.3", 2000000000, 1);
	assert_int_equal(db_reg_save(f->db, &r1), 0);
	assert_int_equal(db_reg_save(f->db, &r2), 0);
	assert_int_equal(db_reg_save(f->db, &r3), 0);

	assert_int_equal(db_ext_delete(f->db, "1001"), 0);
	struct reg_seen s = { 0 };
	assert_int_equal(db_reg_load(f->db, 1700000000, collect_reg, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.r[0].ext, "1002");

	assert_int_equal(db_reg_delete_ext(f->db, "1002"), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(db_reg_load(f->db, 1700000000, collect_reg, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(db_ext_list(f->db, NULL, NULL), 1);
}

/* --- users and password hashes ------------------------------------------ */

static void test_password_hash(void **state)
{
	(void)state;
	char h1[DB_PW_HASH_MAX], h2[DB_PW_HASH_MAX];
	assert_int_equal(db_password_hash("correct horse", h1, sizeof(h1)), 0);
	assert_int_equal(strncmp(h1, "pbkdf2-sha256$200000$", 21), 0);
	assert_true(db_password_verify("correct horse", h1));
	assert_false(db_password_verify("correct horsE", h1));
	assert_false(db_password_verify("", h1));

	/* Salted: the same password hashes differently each time. */
	assert_int_equal(db_password_hash("correct horse", h2, sizeof(h2)), 0);
	assert_string_not_equal(h1, h2);
	assert_true(db_password_verify("correct horse", h2));

	/* Tampering with any part fails closed. */
	char t[DB_PW_HASH_MAX + 32];
	snprintf(t, sizeof(t), "%s", h1);
	t[strlen(t) - 3] = t[strlen(t) - 3] == 'A' ? 'B' : 'A';
	assert_false(db_password_verify("correct horse", t));
	snprintf(t, sizeof(t), "pbkdf2-sha256$99999999$%s", h1 + 21); /* too costly */
	assert_false(db_password_verify("correct horse", t));
	assert_false(db_password_verify("x", "pbkdf2-sha256$200000$$"));
	assert_false(db_password_verify("x", "pbkdf2-sha256$200000$abc$def"));
	assert_false(db_password_verify("x", "md5$whatever"));
	assert_false(db_password_verify("x", ""));
	assert_false(db_password_verify("x", NULL));

	char small[40];
	assert_int_equal(db_password_hash("pw", small, sizeof(small)), ENOSPC);
	assert_int_equal(db_password_hash("", h1, sizeof(h1)), EINVAL);
}

static void test_users(void **state)
{
	struct fx *f = *state;
	char h[DB_PW_HASH_MAX], h2[DB_PW_HASH_MAX], got[DB_PW_HASH_MAX], role[16];
	assert_int_equal(db_password_hash("first-password", h, sizeof(h)), 0);
	assert_int_equal(db_user_add(f->db, "admin", h, "admin"), 0);
	assert_int_equal(db_user_add(f->db, "admin", h, "admin"), EEXIST);
	assert_int_equal(db_user_add(f->db, "bob", h, "root"), EINVAL);
	assert_int_equal(db_user_add(f->db, "bo b", h, "user"), EINVAL);
	assert_int_equal(db_user_add(f->db, "", h, "user"), EINVAL);
	assert_int_equal(db_user_add(f->db, "bob", "plaintext", "user"), EINVAL);
	assert_int_equal(db_user_add(f->db, "O'Neil", h, "user"), 0);

	assert_int_equal(db_user_get(f->db, "admin", got, sizeof(got), role, sizeof(role)), 0);
	assert_string_equal(got, h);
	assert_string_equal(role, "admin");
	assert_true(db_password_verify("first-password", got));
	assert_int_equal(db_user_get(f->db, "O'Neil", NULL, 0, role, sizeof(role)), 0);
	assert_string_equal(role, "user");
	assert_int_equal(db_user_get(f->db, "nobody", got, sizeof(got), NULL, 0), ENOENT);

	assert_int_equal(db_password_hash("second-password", h2, sizeof(h2)), 0);
	assert_int_equal(db_user_set_password(f->db, "admin", h2), 0);
	assert_int_equal(db_user_set_password(f->db, "nobody", h2), ENOENT);
	assert_int_equal(db_user_get(f->db, "admin", got, sizeof(got), NULL, 0), 0);
	assert_false(db_password_verify("first-password", got));
	assert_true(db_password_verify("second-password", got));
}

/* --- settings and secrets ------------------------------------------------ */

struct kv_seen {
	int n;
	char keys[8][64], values[8][64];
};

static void kv_collect(const char *key, const char *value, void *arg)
{
	struct kv_seen *k = arg;
	if (k->n < 8) {
		snprintf(k->keys[k->n], 64, "%s", key);
		snprintf(k->values[k->n], 64, "%s", value);
	}
	k->n++;
}

/* Prefix listing (a % or _ in the prefix is not a pattern) and saving
 * several in one transaction. */
static void test_settings_prefix_many(void **state)
{
	struct fx *f = *state;
	const char *k[] = { "conf.b", "conf.a", "confx", "other" };
	const char *v[] = { "2", "1", "3", "4" };
	assert_int_equal(db_setting_set_many(f->db, k, v, 4), 0);
	struct kv_seen s = { 0 };
	assert_int_equal(db_setting_each(f->db, "conf.", kv_collect, &s), 2);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.keys[0], "conf.a");
	assert_string_equal(s.values[1], "2");
	memset(&s, 0, sizeof(s));
	assert_int_equal(db_setting_each(f->db, "conf%", kv_collect, &s), 0);
	assert_true(db_setting_each(f->db, "", NULL, NULL) >= 4);
	assert_int_equal(db_setting_each(f->db, NULL, NULL, NULL), -EINVAL);
	/* a NULL value fails the whole batch: nothing of it stays */
	const char *k2[] = { "conf.c", "conf.d" };
	const char *v2[] = { "5", NULL };
	assert_int_not_equal(db_setting_set_many(f->db, k2, v2, 2), 0);
	char out[16];
	assert_int_equal(db_setting_get(f->db, "conf.c", out, sizeof(out)), ENOENT);
}

static void test_settings(void **state)
{
	struct fx *f = *state;
	char v[16];
	assert_int_equal(db_setting_get(f->db, "nonce_key", v, sizeof(v)), ENOENT);
	assert_int_equal(db_setting_set(f->db, "nonce_key", "abc"), 0);
	assert_int_equal(db_setting_get(f->db, "nonce_key", v, sizeof(v)), 0);
	assert_string_equal(v, "abc");
	assert_int_equal(db_setting_set(f->db, "nonce_key", "0123456789abcdef"), 0);
	assert_int_equal(db_setting_get(f->db, "nonce_key", v, sizeof(v)), ENOSPC);
	char big[32];
	assert_int_equal(db_setting_get(f->db, "nonce_key", big, sizeof(big)), 0);
	assert_string_equal(big, "0123456789abcdef");
	assert_int_equal(db_setting_set(f->db, "", "x"), EINVAL);
}

static void test_secret_generate(void **state)
{
	(void)state;
	char a[33], b[33];
	assert_int_equal(db_secret_generate(a, sizeof(a), 32), 0);
	assert_int_equal(db_secret_generate(b, sizeof(b), 32), 0);
	assert_int_equal(strlen(a), 32);
	assert_string_not_equal(a, b);
	for (size_t i = 0; i < 32; i++) {
		assert_non_null(strchr("23456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ", a[i]));
		assert_null(strchr("0O1lI", a[i]));
	}
	assert_int_equal(db_secret_generate(a, 32, 32), EINVAL);
	assert_int_equal(db_secret_generate(a, sizeof(a), 0), EINVAL);
}

/* --- first start --------------------------------------------------------- */

struct creds {
	int n;
	char what[16][16];
	char user[16][16];
	char secret[16][DB_SECRET_MAX];
};

static void collect_cred(const char *what, const char *user, const char *secret, void *arg)
{
	struct creds *c = arg;
	assert_true(c->n < 16);
	snprintf(c->what[c->n], sizeof(c->what[0]), "%s", what);
	snprintf(c->user[c->n], sizeof(c->user[0]), "%s", user);
	snprintf(c->secret[c->n], sizeof(c->secret[0]), "%s", secret);
	c->n++;
}

static void test_setup_defaults(void **state)
{
	struct fx *f = *state;
	struct creds c = { 0 };
	assert_int_equal(db_setup_defaults(f->db, collect_cred, &c), 0);
	assert_int_equal(c.n, 11); /* 5 SIP passwords, 5 voicemail PINs, the admin */
	for (int i = 0; i < 5; i++) {
		char num[16];
		snprintf(num, sizeof(num), "%d", 1001 + i);
		assert_string_equal(c.what[i], "extension");
		assert_string_equal(c.user[i], num);
		assert_true(strlen(c.secret[i]) >= 16);
		for (int k = 0; k < i; k++)
			assert_string_not_equal(c.secret[i], c.secret[k]);
		struct db_ext e;
		assert_int_equal(db_ext_get(f->db, num, &e), 0);
		assert_string_equal(e.password, c.secret[i]);
		assert_true(e.enabled);
	}
	for (int i = 5; i < 10; i++) {
		/* each mailbox's PIN: shown once, good by the policy, and the
		 * mailbox opens with it */
		assert_string_equal(c.what[i], "voicemail");
		assert_int_equal(strlen(c.secret[i]), 6);
		assert_int_equal(pin_policy_check(c.secret[i], c.user[i], 6, NULL), 0);
		int64_t locked = 0;
		assert_int_equal(db_vm_pin_check(f->db, c.user[i], c.secret[i], 0, &locked), 0);
	}
	assert_string_equal(c.what[10], "web");
	assert_string_equal(c.user[10], "admin");
	assert_true(strlen(c.secret[10]) >= 16);
	char h[DB_PW_HASH_MAX], role[16];
	assert_int_equal(db_user_get(f->db, "admin", h, sizeof(h), role, sizeof(role)), 0);
	assert_string_equal(role, "admin");
	assert_true(db_password_verify(c.secret[10], h));
	assert_null(strstr(h, c.secret[10])); /* never stored in clear */
	struct db_user u;
	assert_int_equal(db_user_info(f->db, "admin", &u), 0);
	assert_true(u.must_change_password); /* a printed password: changed at once */
	assert_int_equal(db_user_set_must_change(f->db, "admin", false), 0);
	assert_int_equal(db_user_info(f->db, "admin", &u), 0);
	assert_false(u.must_change_password);
	assert_int_equal(db_user_set_must_change(f->db, "nobody", true), ENOENT);

	/* Idempotent: nothing reported, nothing changed. */
	struct creds c2 = { 0 };
	assert_int_equal(db_setup_defaults(f->db, collect_cred, &c2), EALREADY);
	assert_int_equal(c2.n, 0);
	assert_int_equal(db_ext_list(f->db, NULL, NULL), 5);
	struct db_ext e;
	assert_int_equal(db_ext_get(f->db, "1001", &e), 0);
	assert_string_equal(e.password, c.secret[0]);
}

/* Tokens may expire (migration 9): recognised, but ETIME past expires_at. */
static void test_token_expiry(void **state)
{
	struct fx *f = *state;
	char h[DB_PW_HASH_MAX];
	assert_int_equal(db_password_hash("pw-123456", h, sizeof(h)), 0);
	assert_int_equal(db_user_add(f->db, "ops", h, "admin"), 0);
	char a[65], b[65];
	memset(a, 'a', 64);
	memset(b, 'b', 64);
	a[64] = b[64] = '\0';
	int64_t ida = 0, idb = 0;
	assert_int_equal(db_token_add(f->db, "expiring", "ops", a, 1000, &ida), 0);
	assert_int_equal(db_token_add(f->db, "forever", "ops", b, 0, &idb), 0);
	struct db_token t;
	assert_int_equal(db_token_auth(f->db, a, 999, &t), 0);
	assert_int_equal(t.expires_at, 1000);
	assert_int_equal(db_token_auth(f->db, a, 1000, &t), ETIME);
	assert_int_equal(t.id, ida);
	assert_int_equal(db_token_auth(f->db, b, 1000000000, &t), 0);
	assert_int_equal(t.expires_at, 0);
}

static void test_setup_defaults_not_fresh(void **state)
{
	struct fx *f = *state;
	struct db_ext e = mk_ext("200", "Front desk", "password-f");
	assert_int_equal(db_ext_add(f->db, &e), 0);
	struct creds c = { 0 };
	assert_int_equal(db_setup_defaults(f->db, collect_cred, &c), EALREADY);
	assert_int_equal(c.n, 0);
	assert_int_equal(db_ext_list(f->db, NULL, NULL), 1);
}

/* --- store thread -------------------------------------------------------- */

#define NJOBS 500

struct job_log {
	int seen[NJOBS];
	int n;
	int db_errors;
};

struct job_arg {
	struct job_log *log;
	int idx;
};

static void job_run(struct db *db, void *arg)
{
	struct job_arg *a = arg;
	if (a->idx == 0)
		usleep(100 * 1000); /* let the queue fill up behind us */
	char v[16];
	snprintf(v, sizeof(v), "%d", a->idx);
	if (db_setting_set(db, "last_job", v) != 0)
		a->log->db_errors++;
	a->log->seen[a->log->n++] = a->idx;
	free(a);
}

static void test_store_order_and_drain(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	assert_int_equal(store_alloc(&s, f->path), 0);
	struct job_log *log = calloc(1, sizeof(*log));
	assert_non_null(log);
	for (int i = 0; i < NJOBS; i++) {
		struct job_arg *a = malloc(sizeof(*a));
		assert_non_null(a);
		a->log = log;
		a->idx = i;
		assert_int_equal(store_post(s, job_run, a), 0);
	}
	/* Returns only once every queued job ran. */
	store_free(s);
	assert_int_equal(log->n, NJOBS);
	assert_int_equal(log->db_errors, 0);
	for (int i = 0; i < NJOBS; i++)
		assert_int_equal(log->seen[i], i);
	free(log);

	char v[16];
	assert_int_equal(db_setting_get(f->db, "last_job", v, sizeof(v)), 0);
	assert_int_equal(atoi(v), NJOBS - 1);

	assert_int_not_equal(store_alloc(&s, "/nonexistent-dir-hf/x.db"), 0);
	store_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_too_new, setup, teardown),
		cmocka_unit_test(test_open_bad_path),
		cmocka_unit_test_setup_teardown(test_open_not_a_database, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ext_crud, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ext_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ext_list_reentrant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ext_sql_metachars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reg_save_replace_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reg_unknown_ext, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ext_delete_removes_regs, setup, teardown),
		cmocka_unit_test(test_password_hash),
		cmocka_unit_test_setup_teardown(test_users, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings_prefix_many, setup, teardown),
		cmocka_unit_test(test_secret_generate),
		cmocka_unit_test_setup_teardown(test_setup_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setup_defaults_not_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_order_and_drain, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
