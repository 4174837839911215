/*
 * Tests of voicemail storage (db/voicemail.h): a mailbox's defaults and
 * settings, PINs stored as hashes and held to the policy, the count of
 * wrong PINs across calls (a new connection per "call"), the lock and
 * its expiry at a given now, unlock; messages added, listed in playing
 * order, moved, deleted and counted; an extension's removal taking its
 * mailbox along; and migration 7 on a file of version 6 with a plain PIN.
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
#include "../../db/voicemail.h"
#include "db_test_util.h"

#define NOW 1700000000

static int setup_open(void **state)
{
	return db_fx_setup(state, "hf-test-dbvm", true);
}

static void add_ext(struct db *db, const char *number, const char *pin)
{
	struct db_ext e;
	memset(&e, 0, sizeof(e));
	snprintf(e.number, sizeof(e.number), "%s", number);
	snprintf(e.password, sizeof(e.password), "password-%s", number);
	snprintf(e.vm_pin, sizeof(e.vm_pin), "%s", pin);
	e.enabled = true;
	int err = db_ext_add(db, &e);
	if (err)
		fail_msg("add %s: %s", number, db_errmsg(db));
}

/* The first column of the first row of sql as text ("" for no row). */
static void raw_text(const char *path, const char *sql, char *out, size_t cap)
{
	sqlite3 *s;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(path, &s), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(s, sql, -1, &st, NULL), SQLITE_OK);
	out[0] = '\0';
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(s);
}

static void test_mailbox_defaults(void **state)
{
	struct fx *f = *state;
	add_ext(f->db, "1001", "");
	struct db_mailbox m;
	memset(&m, 0x55, sizeof(m));
	assert_int_equal(db_vm_mailbox_get(f->db, "1001", &m), 0);
	assert_string_equal(m.mailbox, "1001");
	assert_true(m.enabled);
	assert_string_equal(m.email, "");
	assert_false(m.email_delete);
	assert_false(m.has_unavail || m.has_busy || m.has_name || m.has_pin);
	assert_int_equal(m.failed_pins, 0);
	assert_int_equal(m.locked_until, 0);
	assert_int_equal(m.max_msgs, 0);
	assert_int_equal(m.max_secs, 0);
	assert_int_equal(db_vm_mailbox_get(f->db, "4444", &m), ENOENT);

	/* a mailbox whose row went missing is made again on first get */
	raw_exec(f->path, "DELETE FROM mailboxes");
	assert_int_equal(db_vm_mailbox_get(f->db, "1001", &m), 0);
	assert_true(m.enabled);

	m.enabled = false;
	snprintf(m.email, sizeof(m.email), "bob@example.com");
	m.email_delete = true;
	m.has_busy = true;
	m.max_msgs = 50;
	m.max_secs = 600;
	assert_int_equal(db_vm_mailbox_set(f->db, &m), 0);
	struct db_mailbox got;
	reopen(f);
	assert_int_equal(db_vm_mailbox_get(f->db, "1001", &got), 0);
	assert_false(got.enabled);
	assert_string_equal(got.email, "bob@example.com");
	assert_true(got.email_delete && got.has_busy);
	assert_false(got.has_unavail || got.has_name);
	assert_int_equal(got.max_msgs, 50);
	assert_int_equal(got.max_secs, 600);

	static const char *const bad_email[] = { "bob", "bob@", "@example.com", "a b@example.com",
						 "a@b@example.com", "bob@example", "x@y.com,z@w.com",
						 "<bob@example.com>" };
	for (size_t i = 0; i < sizeof(bad_email) / sizeof(bad_email[0]); i++) {
		struct db_mailbox b = got;
		snprintf(b.email, sizeof(b.email), "%s", bad_email[i]);
		if (db_vm_mailbox_set(f->db, &b) != EINVAL)
			fail_msg("email '%s' accepted", bad_email[i]);
		assert_int_equal(strncmp(db_errmsg(f->db), "email: ", 7), 0);
	}
	struct db_mailbox b = got;
	b.max_msgs = DB_VM_MAX_MSGS_LIMIT + 1;
	assert_int_equal(db_vm_mailbox_set(f->db, &b), EINVAL);
	assert_int_equal(strncmp(db_errmsg(f->db), "max_msgs: ", 10), 0);
	b = got;
	b.max_secs = -1;
	assert_int_equal(db_vm_mailbox_set(f->db, &b), EINVAL);
	snprintf(b.mailbox, sizeof(b.mailbox), "4444");
	b.max_secs = 0;
	assert_int_equal(db_vm_mailbox_set(f->db, &b), ENOENT);
}

static void test_pin_hashed_and_policy(void **state)
{
	struct fx *f = *state;
	add_ext(f->db, "1001", "730519");
	char h[256];
	raw_text(f->path, "SELECT pin_hash FROM mailboxes WHERE mailbox = '1001'", h, sizeof(h));
	assert_int_equal(strncmp(h, "pbkdf2-sha256$", 14), 0);
	assert_null(strstr(h, "730519"));
	raw_text(f->path, "SELECT vm_pin FROM extensions WHERE number = '1001'", h, sizeof(h));
	assert_string_equal(h, "");
	struct db_mailbox m;
	assert_int_equal(db_vm_mailbox_get(f->db, "1001", &m), 0);
	assert_true(m.has_pin);

	/* weak PINs: refused with the policy's reason, nothing changes */
	assert_int_equal(db_vm_pin_set(f->db, "1001", "123456"), EINVAL);
	assert_non_null(strstr(db_errmsg(f->db), "pin: a run of digits"));
	assert_int_equal(db_vm_pin_set(f->db, "1001", "100155"), EINVAL);
	assert_non_null(strstr(db_errmsg(f->db), "extension number"));
	assert_int_equal(db_vm_pin_check(f->db, "1001", "730519", NOW, NULL), 0);

	/* through the extension: a weak one leaves no extension behind */
	struct db_ext e;
	memset(&e, 0, sizeof(e));
	snprintf(e.number, sizeof(e.number), "1002");
	snprintf(e.password, sizeof(e.password), "password-1002");
	snprintf(e.vm_pin, sizeof(e.vm_pin), "121212");
	assert_int_equal(db_ext_add(f->db, &e), EINVAL);
	assert_non_null(strstr(db_errmsg(f->db), "pin: a short pattern"));
	assert_int_equal(db_ext_get(f->db, "1002", &e), ENOENT);

	/* update with vm_pin "" keeps the PIN; with digits replaces it */
	assert_int_equal(db_ext_get(f->db, "1001", &e), 0);
	assert_string_equal(e.vm_pin, "");
	assert_int_equal(db_ext_update(f->db, &e), 0);
	assert_int_equal(db_vm_pin_check(f->db, "1001", "730519", NOW, NULL), 0);
	snprintf(e.vm_pin, sizeof(e.vm_pin), "482916");
	assert_int_equal(db_ext_update(f->db, &e), 0);
	assert_int_equal(db_vm_pin_check(f->db, "1001", "482916", NOW, NULL), 0);
	assert_int_equal(db_vm_pin_check(f->db, "1001", "730519", NOW, NULL), EACCES);

	/* the minimum length follows the connection's policy */
	struct db_vm_policy pol = { .pin_min_len = 4 };
	db_vm_policy_set(f->db, &pol);
	assert_int_equal(db_vm_pin_set(f->db, "1001", "7305"), 0);
	db_vm_policy_set(f->db, NULL);
	assert_int_equal(db_vm_pin_set(f->db, "1001", "7305"), EINVAL);
	assert_non_null(strstr(db_errmsg(f->db), "at least 6"));

	/* no PIN: nobody logs in */
	add_ext(f->db, "1003", "");
	assert_int_equal(db_vm_pin_check(f->db, "1003", "730519", NOW, NULL), EPERM);
	assert_int_equal(db_vm_pin_check(f->db, "4444", "730519", NOW, NULL), ENOENT);
}

static void test_pin_lockout(void **state)
{
	struct fx *f = *state;
	add_ext(f->db, "1001", "730519");
	int64_t until = -1;
	struct db_mailbox m;
	/* each try on a fresh connection, as separate calls would be */
	assert_int_equal(db_vm_pin_check(f->db, "1001", "000001", NOW, &until), EACCES);
	assert_int_equal(until, 0);
	reopen(f);
	assert_int_equal(db_vm_pin_check(f->db, "1001", "000002", NOW + 1, &until), EACCES);
	assert_int_equal(until, 0);
	assert_int_equal(db_vm_mailbox_get(f->db, "1001", &m), 0);
	assert_int_equal(m.failed_pins, 2);
	reopen(f);
	assert_int_equal(db_vm_pin_check(f->db, "1001", "000003", NOW + 2, &until), EACCES);
	assert_int_equal(until, NOW + 2 + DB_VM_LOCK_SECS_DEFAULT);
	reopen(f);
	/* locked: even the right PIN is not looked at */
	assert_int_equal(db_vm_pin_check(f->db, "1001", "730519", NOW + 3, &until), EBUSY);
	assert_int_equal(until, NOW + 2 + DB_VM_LOCK_SECS_DEFAULT);
	assert_int_equal(db_vm_mailbox_get(f->db, "1001", &m), 0);
	assert_int_equal(m.locked_until, NOW + 2 + DB_VM_LOCK_SECS_DEFAULT);

	/* unlock: the right PIN works at once */
	assert_int_equal(db_vm_unlock(f->db, "1001"), 0);
	assert_int_equal(db_vm_pin_check(f->db, "1001", "730519", NOW + 4, &until), 0);
	assert_int_equal(until, 0);
	assert_int_equal(db_vm_unlock(f->db, "4444"), ENOENT);

	/* a right PIN resets the count */
	assert_int_equal(db_vm_pin_check(f->db, "1001", "000001", NOW + 5, NULL), EACCES);
	assert_int_equal(db_vm_pin_check(f->db, "1001", "000002", NOW + 5, NULL), EACCES);
	assert_int_equal(db_vm_pin_check(f->db, "1001", "730519", NOW + 5, NULL), 0);
	assert_int_equal(db_vm_pin_check(f->db, "1001", "000003", NOW + 5, &until), EACCES);
	assert_int_equal(until, 0);

	/* the lock expires by itself; the policy's numbers are used */
	struct db_vm_policy pol = { .lock_after = 2, .lock_secs = 30 };
	db_vm_policy_set(f->db, &pol);
	assert_int_equal(db_vm_unlock(f->db, "1001"), 0);
	assert_int_equal(db_vm_pin_check(f->db, "1001", "000001", NOW, &until), EACCES);
	assert_int_equal(db_vm_pin_check(f->db, "1001", "000002", NOW, &until), EACCES);
	assert_int_equal(until, NOW + 30);
	assert_int_equal(db_vm_pin_check(f->db, "1001", "730519", NOW + 29, NULL), EBUSY);
	assert_int_equal(db_vm_pin_check(f->db, "1001", "000004", NOW + 30, &until), EACCES);
	assert_int_equal(until, 0); /* a fresh count after the lock */
	assert_int_equal(db_vm_pin_check(f->db, "1001", "730519", NOW + 31, &until), 0);

	/* setting a new PIN lifts a lock */
	assert_int_equal(db_vm_pin_check(f->db, "1001", "000001", NOW, NULL), EACCES);
	assert_int_equal(db_vm_pin_check(f->db, "1001", "000002", NOW, NULL), EACCES);
	assert_int_equal(db_vm_pin_set(f->db, "1001", "482916"), 0);
	assert_int_equal(db_vm_pin_check(f->db, "1001", "482916", NOW + 1, NULL), 0);
}

struct seen {
	int n;
	struct db_vm_msg m[8];
};

static void collect(const struct db_vm_msg *m, void *arg)
{
	struct seen *s = arg;
	if (s->n < 8)
		s->m[s->n] = *m;
	s->n++;
}

static int64_t add_msg(struct db *db, const char *box, const char *folder, int64_t at,
		       const char *caller)
{
	struct db_vm_msg m;
	memset(&m, 0, sizeof(m));
	snprintf(m.mailbox, sizeof(m.mailbox), "%s", box);
	snprintf(m.folder, sizeof(m.folder), "%s", folder);
	snprintf(m.caller, sizeof(m.caller), "%s", caller);
	snprintf(m.caller_name, sizeof(m.caller_name), "Caller %s", caller);
	snprintf(m.path, sizeof(m.path), "/var/lib/hookflash/voicemail/%s/%lld.wav", box,
		 (long long)at);
	m.received_at = at;
	m.duration_ms = 4200;
	int err = db_vm_msg_add(db, &m);
	if (err)
		fail_msg("msg add: %s", db_errmsg(db));
	assert_true(m.id > 0);
	return m.id;
}

static void test_messages(void **state)
{
	struct fx *f = *state;
	add_ext(f->db, "1001", "");
	add_ext(f->db, "1002", "");
	int64_t late = add_msg(f->db, "1001", "new", NOW + 300, "1002");
	int64_t old = add_msg(f->db, "1001", "old", NOW + 200, "1003");
	int64_t early = add_msg(f->db, "1001", "", NOW + 100, "1004"); /* "": new */
	add_msg(f->db, "1002", "new", NOW, "1001");

	struct seen s = { 0 };
	assert_int_equal(db_vm_msg_list(f->db, "1001", collect, &s), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.m[0].id, early); /* new first, oldest first */
	assert_int_equal(s.m[1].id, late);
	assert_int_equal(s.m[2].id, old);
	assert_string_equal(s.m[0].folder, "new");
	assert_string_equal(s.m[0].caller, "1004");
	assert_string_equal(s.m[0].caller_name, "Caller 1004");
	assert_int_equal(s.m[0].duration_ms, 4200);
	assert_int_equal(s.m[0].received_at, NOW + 100);
	assert_string_equal(s.m[0].email_state, "");

	int nn = -1, no = -1;
	assert_int_equal(db_vm_counts(f->db, "1001", &nn, &no), 0);
	assert_int_equal(nn, 2);
	assert_int_equal(no, 1);

	assert_int_equal(db_vm_msg_move(f->db, early, DB_VM_FOLDER_OLD), 0);
	assert_int_equal(db_vm_msg_move(f->db, early, "trash"), EINVAL);
	assert_int_equal(db_vm_msg_move(f->db, 999999, "old"), ENOENT);
	assert_int_equal(db_vm_counts(f->db, "1001", &nn, &no), 0);
	assert_int_equal(nn, 1);
	assert_int_equal(no, 2);
	s.n = 0;
	assert_int_equal(db_vm_msg_list(f->db, "1001", collect, &s), 0);
	assert_int_equal(s.m[0].id, late);
	assert_int_equal(s.m[1].id, early); /* old: NOW+100 before NOW+200 */
	assert_int_equal(s.m[2].id, old);

	assert_int_equal(db_vm_msg_set_email_state(f->db, late, "queued"), 0);
	assert_int_equal(db_vm_msg_set_email_state(f->db, late, "lost"), EINVAL);
	struct db_vm_msg got;
	assert_int_equal(db_vm_msg_get(f->db, late, &got), 0);
	assert_string_equal(got.email_state, "queued");
	assert_string_equal(got.mailbox, "1001");
	assert_non_null(strstr(got.path, "/voicemail/1001/"));

	assert_int_equal(db_vm_msg_delete(f->db, late), 0);
	assert_int_equal(db_vm_msg_delete(f->db, late), ENOENT);
	assert_int_equal(db_vm_msg_get(f->db, late, &got), ENOENT);
	assert_int_equal(db_vm_counts(f->db, "1001", &nn, &no), 0);
	assert_int_equal(nn, 0);
	assert_int_equal(no, 2);
	/* an id is never reused */
	assert_true(add_msg(f->db, "1001", "new", NOW, "1002") > late);

	/* bad input */
	struct db_vm_msg b;
	memset(&b, 0, sizeof(b));
	snprintf(b.mailbox, sizeof(b.mailbox), "1001");
	assert_int_equal(db_vm_msg_add(f->db, &b), EINVAL); /* no path */
	snprintf(b.path, sizeof(b.path), "/tmp/x.wav");
	snprintf(b.folder, sizeof(b.folder), "trash");
	assert_int_equal(db_vm_msg_add(f->db, &b), EINVAL);
	snprintf(b.folder, sizeof(b.folder), "new");
	snprintf(b.mailbox, sizeof(b.mailbox), "4444");
	assert_int_equal(db_vm_msg_add(f->db, &b), ENOENT);
}

struct mb_seen {
	int n;
	char line[4][320];
};

static void collect_mb(const struct db_mailbox *m, int nn, int no, void *arg)
{
	struct mb_seen *s = arg;
	if (s->n < 4)
		snprintf(s->line[s->n], sizeof(s->line[0]), "%s %d %d %s %d", m->mailbox, nn, no,
			 m->email, m->has_pin);
	s->n++;
}

static void test_list_and_ext_removal(void **state)
{
	struct fx *f = *state;
	add_ext(f->db, "1001", "730519");
	add_ext(f->db, "1002", "");
	add_msg(f->db, "1001", "new", NOW, "1002");
	add_msg(f->db, "1001", "old", NOW, "1002");
	add_msg(f->db, "1001", "old", NOW, "1002");
	raw_exec(f->path, "DELETE FROM mailboxes WHERE mailbox = '1002'");
	struct mb_seen s = { 0 };
	assert_int_equal(db_vm_mailbox_list(f->db, collect_mb, &s), 2);
	assert_string_equal(s.line[0], "1001 1 2  1");
	assert_string_equal(s.line[1], "1002 0 0  0"); /* no row yet: defaults */

	assert_int_equal(db_ext_delete(f->db, "1001"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM mailboxes WHERE mailbox = '1001'"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM vm_messages"), 0);
	struct db_mailbox m;
	assert_int_equal(db_vm_mailbox_get(f->db, "1001", &m), ENOENT);
	/* a new 1001 starts with an empty mailbox and no PIN */
	add_ext(f->db, "1001", "");
	assert_int_equal(db_vm_mailbox_get(f->db, "1001", &m), 0);
	assert_false(m.has_pin);
	int nn = -1, no = -1;
	assert_int_equal(db_vm_counts(f->db, "1001", &nn, &no), 0);
	assert_int_equal(nn + no, 0);
}

/* A file of version 6 (what this build's migrations 1-6 make) with plain
 * PINs, some weak by today's policy: migration 7 hashes each as it is. */
static void test_migration_from_v6(void **state)
{
	struct fx *f = *state;
	add_ext(f->db, "1001", "");
	add_ext(f->db, "1002", "");
	add_ext(f->db, "1003", "");
	db_close(f->db);
	f->db = NULL;
	raw_exec(f->path, "ALTER TABLE api_tokens DROP COLUMN expires_at;"
			  "ALTER TABLE users DROP COLUMN must_change_password;" /* migration 9 */
			  "DROP TABLE IF EXISTS mwi_subscriptions; DROP TABLE vm_messages; DROP TABLE mailboxes;"
			  "UPDATE extensions SET vm_pin = '1234' WHERE number = '1001';"
			  "UPDATE extensions SET vm_pin = '730519' WHERE number = '1002';"
			  "PRAGMA user_version = 6;");
	assert_int_equal(db_open(&f->db, f->path), 0);
	assert_true(db_schema_version(f->db) >= 7);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM extensions WHERE vm_pin != ''"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM mailboxes"), 3);
	char h[256];
	raw_text(f->path, "SELECT pin_hash FROM mailboxes WHERE mailbox = '1001'", h, sizeof(h));
	assert_int_equal(strncmp(h, "pbkdf2-sha256$", 14), 0);
	assert_int_equal(db_vm_pin_check(f->db, "1001", "1234", NOW, NULL), 0);
	assert_int_equal(db_vm_pin_check(f->db, "1002", "730519", NOW, NULL), 0);
	assert_int_equal(db_vm_pin_check(f->db, "1002", "1234", NOW, NULL), EACCES);
	assert_int_equal(db_vm_pin_check(f->db, "1003", "1234", NOW, NULL), EPERM);
	struct db_mailbox m;
	assert_int_equal(db_vm_mailbox_get(f->db, "1003", &m), 0);
	assert_true(m.enabled);
	assert_false(m.has_pin);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mailbox_defaults, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_pin_hashed_and_policy, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_pin_lockout, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_messages, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_list_and_ext_removal, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_migration_from_v6, setup_open, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
