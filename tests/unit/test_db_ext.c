/*
 * Tests of migration 2 on the extension side: upgrading a database made
 * by a version-1 Hookflash (extensions, registrations, users and settings
 * kept; the migration all or nothing), and the device fields it adds
 * (static contact, trusted addresses, concurrent-call cap): round trip
 * through add/get/list/update and every validation rule; and the media
 * policy of migration 4 (codecs, srtp) the same way.
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

/* A fresh directory; the database is opened by each test (some build a
 * version-1 file first). */
static int setup(void **state)
{
	return db_fx_setup(state, "hf-test-dbext", false);
}

static int setup_open(void **state)
{
	return db_fx_setup(state, "hf-test-dbext", true);
}

static struct db_ext mk_ext(const char *number, const char *pw)
{
	struct db_ext e;
	memset(&e, 0, sizeof(e));
	snprintf(e.number, sizeof(e.number), "%s", number);
	snprintf(e.password, sizeof(e.password), "%s", pw);
	e.enabled = true;
	return e;
}

/* --- upgrade from version 1 ------------------------------------------------ */

/* The schema exactly as release 1 created it (a released migration is
 * never edited, so this copy stays true), with data in every table. */
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
	"PRAGMA journal_mode=WAL;"
	"INSERT INTO extensions VALUES ('1001', 'Alice', 'password-a', '1234', 0, 12345);"
	"INSERT INTO extensions VALUES ('1002', 'O''Brien', 'password-b', '', 1, 23456);"
	"INSERT INTO registrations VALUES ('1001', 'sip:1001@192.0.2.5:5060',"
	"  'udp:192.0.2.5:5060', 'cid-1', 7, 4000000000, 'Yealink T46U', 1700000000);"
	"INSERT INTO users VALUES ('admin', 'pbkdf2-sha256$1$x$y', 'admin', 1);"
	"INSERT INTO settings VALUES ('k', 'v');"
	"PRAGMA user_version = 1;";

struct reg_seen {
	int n;
	struct db_reg r;
};

static void collect_reg(const struct db_reg *r, void *arg)
{
	struct reg_seen *s = arg;
	s->r = *r;
	s->n++;
}

static void test_upgrade_from_v1(void **state)
{
	struct fx *f = *state;
	raw_exec(f->path, v1_db);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 1);

	assert_int_equal(db_open(&f->db, f->path), 0);
	assert_int_equal(db_schema_version(f->db), db_migration_count());
	assert_true(db_migration_count() >= 2);

	/* Existing extensions keep every field and get the defaults. */
	struct db_ext e;
	assert_int_equal(db_ext_get(f->db, "1001", &e), 0);
	assert_string_equal(e.name, "Alice");
	assert_string_equal(e.password, "password-a");
	/* migration 7 moved the PIN, hashed, into the mailbox */
	assert_string_equal(e.vm_pin, "");
	assert_false(e.enabled);
	assert_int_equal(e.created_at, 12345);
	assert_string_equal(e.contact, "");
	assert_string_equal(e.trust, "");
	assert_int_equal(e.max_calls, 0);
	assert_int_equal(db_ext_get(f->db, "1002", &e), 0);
	assert_string_equal(e.name, "O'Brien");
	assert_int_equal(db_ext_list(f->db, NULL, NULL), 2);

	/* Registrations, users and settings are untouched. */
	struct reg_seen seen = { 0 };
	assert_int_equal(db_reg_load(f->db, 1700000000, collect_reg, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.r.ext, "1001");
	assert_string_equal(seen.r.contact, "sip:1001@192.0.2.5:5060");
	assert_string_equal(seen.r.user_agent, "Yealink T46U");
	assert_int_equal(seen.r.cseq, 7);
	char role[16];
	assert_int_equal(db_user_get(f->db, "admin", NULL, 0, role, sizeof(role)), 0);
	assert_string_equal(role, "admin");
	char v[8];
	assert_int_equal(db_setting_get(f->db, "k", v, sizeof(v)), 0);
	assert_string_equal(v, "v");

	/* The new columns and table work on the upgraded file, and the
	 * registration still goes with its extension. */
	e.max_calls = 2;
	snprintf(e.trust, sizeof(e.trust), "192.0.2.0/24");
	assert_int_equal(db_ext_update(f->db, &e), 0);
	struct db_cdr c;
	memset(&c, 0, sizeof(c));
	c.start_ms = 1;
	assert_int_equal(db_cdr_insert(f->db, &c), 0);
	assert_int_equal(db_cdr_list(f->db, NULL, NULL, NULL), 1);
	assert_int_equal(db_ext_delete(f->db, "1001"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM registrations"), 0);

	/* Opening again applies nothing twice. */
	reopen(f);
	assert_int_equal(db_schema_version(f->db), db_migration_count());
	assert_int_equal(db_ext_get(f->db, "1002", &e), 0);
	assert_string_equal(e.trust, "192.0.2.0/24");
	assert_int_equal(e.max_calls, 2);
}

/* A migration is one transaction: when its last statement fails, the
 * columns added before it are rolled back and the file stays version 1,
 * still usable by the old program and upgradable once the cause is gone. */
static void test_upgrade_all_or_nothing(void **state)
{
	struct fx *f = *state;
	raw_exec(f->path, v1_db);
	/* Something in the way of migration 2's CREATE TABLE cdr. */
	raw_exec(f->path, "CREATE TABLE cdr (x INTEGER)");
	char why[256];
	assert_int_not_equal(db_open_err(&f->db, f->path, why, sizeof(why)), 0);
	assert_null(f->db);
	assert_non_null(strstr(why, "cdr"));
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_table_info('extensions')"
					  " WHERE name IN ('contact', 'trust', 'max_calls')"),
			 0);

	raw_exec(f->path, "DROP TABLE cdr");
	assert_int_equal(db_open(&f->db, f->path), 0);
	assert_int_equal(db_schema_version(f->db), db_migration_count());
	assert_int_equal(db_ext_list(f->db, NULL, NULL), 2);
}

/* --- device fields ----------------------------------------------------------- */

static void test_device_fields_roundtrip(void **state)
{
	struct fx *f = *state;
	struct db_ext e = mk_ext("1000", "password-1000");
	snprintf(e.contact, sizeof(e.contact), "sip:127.0.0.1:35090");
	assert_int_equal(db_ext_add(f->db, &e), 0);
	e = mk_ext("2000", "password-2000");
	snprintf(e.trust, sizeof(e.trust), "127.0.0.1/32");
	e.max_calls = 1000;
	assert_int_equal(db_ext_add(f->db, &e), 0);
	e = mk_ext("3000", "password-3000"); /* a plain phone */
	assert_int_equal(db_ext_add(f->db, &e), 0);

	struct db_ext got;
	assert_int_equal(db_ext_get(f->db, "1000", &got), 0);
	assert_string_equal(got.contact, "sip:127.0.0.1:35090");
	assert_string_equal(got.trust, "");
	assert_int_equal(got.max_calls, 0);
	assert_string_equal(got.password, "password-1000");
	assert_int_equal(db_ext_get(f->db, "2000", &got), 0);
	assert_string_equal(got.contact, "");
	assert_string_equal(got.trust, "127.0.0.1/32");
	assert_int_equal(got.max_calls, 1000);

	/* Update replaces them, clears them, and leaves other rows alone. */
	snprintf(got.contact, sizeof(got.contact), "sips:door@[2001:db8::7]:5061;transport=tls");
	snprintf(got.trust, sizeof(got.trust), "10.0.0.0/8,2001:db8::/32,192.0.2.7");
	got.max_calls = 3;
	assert_int_equal(db_ext_update(f->db, &got), 0);
	reopen(f);
	struct db_ext again;
	assert_int_equal(db_ext_get(f->db, "2000", &again), 0);
	assert_string_equal(again.contact, "sips:door@[2001:db8::7]:5061;transport=tls");
	assert_string_equal(again.trust, "10.0.0.0/8,2001:db8::/32,192.0.2.7");
	assert_int_equal(again.max_calls, 3);
	again.contact[0] = again.trust[0] = '\0';
	again.max_calls = 0;
	assert_int_equal(db_ext_update(f->db, &again), 0);
	assert_int_equal(db_ext_get(f->db, "2000", &got), 0);
	assert_string_equal(got.contact, "");
	assert_string_equal(got.trust, "");
	assert_int_equal(got.max_calls, 0);
	assert_int_equal(db_ext_get(f->db, "1000", &got), 0);
	assert_string_equal(got.contact, "sip:127.0.0.1:35090");

	/* A URI with SQL in it is stored verbatim. */
	e = mk_ext("4000", "password-4000");
	snprintf(e.contact, sizeof(e.contact), "sip:o'brien@gw.example.com;x=';DROP--");
	assert_int_equal(db_ext_add(f->db, &e), 0);
	assert_int_equal(db_ext_get(f->db, "4000", &got), 0);
	assert_string_equal(got.contact, "sip:o'brien@gw.example.com;x=';DROP--");
	assert_int_equal(db_ext_list(f->db, NULL, NULL), 4);
}

/* The field's name starts the message, and the database refuses the same
 * (add and update go through the same rules). */
static void expect_invalid(struct db *db, const struct db_ext *e, const char *field)
{
	const char *why = NULL;
	assert_int_equal(db_ext_validate(e, &why), EINVAL);
	assert_non_null(why);
	if (strncmp(why, field, strlen(field)) != 0 || why[strlen(field)] != ':')
		fail_msg("expected a '%s:' message, got '%s'", field, why);
	assert_int_equal(db_ext_add(db, e), EINVAL);
	assert_int_equal(strncmp(db_errmsg(db), field, strlen(field)), 0);
	assert_int_equal(db_ext_update(db, e), EINVAL);
}

static void expect_valid(const struct db_ext *e)
{
	const char *why = NULL;
	if (db_ext_validate(e, &why) != 0)
		fail_msg("refused: %s", why);
}

static void test_contact_validation(void **state)
{
	struct fx *f = *state;
	static const char *const good[] = {
		"sip:127.0.0.1:35090",
		"sip:door@192.0.2.10",
		"SIP:gw.example.com",
		"sips:page@[2001:db8::1]:5061;transport=tls",
		"sip:1000@gw.example.com;user=phone?X-Foo=bar",
	};
	static const char *const bad[] = {
		"http://192.0.2.1/",
		"tel:+4930123",
		"192.0.2.10:5060",
		"sip:",
		"sips:",
		"sip:user@",
		"sip:user@;transport=udp",
		"sip::5060",
		"sip:a b@host",
		"sip:host\r\nVia: x",
		"sip:host\t",
		"sip:<host>",
		"sip:\"x\"@host",
		"sip:h\xc3\xb6st",
		"sip:host\x7f",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct db_ext e = mk_ext("1000", "password-x");
		snprintf(e.contact, sizeof(e.contact), "%s", good[i]);
		expect_valid(&e);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct db_ext e = mk_ext("1000", "password-x");
		snprintf(e.contact, sizeof(e.contact), "%s", bad[i]);
		expect_invalid(f->db, &e, "contact");
	}
	/* 255 characters is the limit; an unterminated field is refused. */
	struct db_ext e = mk_ext("1000", "password-x");
	memcpy(e.contact, "sip:", 4);
	memset(e.contact + 4, 'a', 251);
	expect_valid(&e);
	memset(e.contact + 4, 'a', sizeof(e.contact) - 4);
	expect_invalid(f->db, &e, "contact");
	assert_int_equal(db_ext_list(f->db, NULL, NULL), 0);
}

static void test_trust_validation(void **state)
{
	struct fx *f = *state;
	static const char *const good[] = {
		"127.0.0.1",
		"127.0.0.1/32",
		"10.0.0.0/8",
		"192.0.2.128/25",
		"::1",
		"::1/128",
		"2001:db8::/32",
		"fe80::/10",
		"::ffff:10.0.0.0/104",
		"10.0.0.1,10.0.0.2,2001:db8::5",
	};
	static const char *const bad[] = {
		"localhost",
		"10.0.0",
		"10.0.0.256",
		"010.0.0.1",
		"10.0.0.1/",
		"10.0.0.1/33",
		"2001:db8::/129",
		"10.0.0.0/08",
		"10.0.0.0/+8",
		"10.0.0.0/8/8",
		"10.0.0.1/8",        /* host bits */
		"2001:db8::1/32",    /* host bits */
		"0.0.0.0/0",         /* everyone */
		"::/0",
		"10.0.0.1 ",         /* blanks are the CLI's to strip */
		" 10.0.0.1",
		"10.0.0.1, 10.0.0.2",
		"10.0.0.1,",
		",10.0.0.1",
		"10.0.0.1,,10.0.0.2",
		",",
		"fe80::1%eth0",
		"[::1]",
		"10.0.0.1:5060",
		"10.0.0.1;DROP TABLE extensions",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct db_ext e = mk_ext("2000", "password-x");
		snprintf(e.trust, sizeof(e.trust), "%s", good[i]);
		expect_valid(&e);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct db_ext e = mk_ext("2000", "password-x");
		snprintf(e.trust, sizeof(e.trust), "%s", bad[i]);
		expect_invalid(f->db, &e, "trust");
	}
	/* Many entries up to the field's size; an unterminated one fails. */
	struct db_ext e = mk_ext("2000", "password-x");
	size_t at = 0;
	while (at + 12 < sizeof(e.trust) - 1)
		at += (size_t)snprintf(e.trust + at, sizeof(e.trust) - at, "%s10.0.0.%zu",
				       at ? "," : "", at % 200);
	expect_valid(&e);
	memset(e.trust, '1', sizeof(e.trust));
	expect_invalid(f->db, &e, "trust");
	assert_int_equal(db_ext_list(f->db, NULL, NULL), 0);
}

static void test_max_calls_validation(void **state)
{
	struct fx *f = *state;
	struct db_ext e = mk_ext("2000", "password-x");
	e.max_calls = 0;
	expect_valid(&e);
	e.max_calls = 1;
	expect_valid(&e);
	e.max_calls = DB_EXT_MAX_CALLS_LIMIT;
	expect_valid(&e);
	e.max_calls = DB_EXT_MAX_CALLS_LIMIT + 1;
	expect_invalid(f->db, &e, "max_calls");
	e.max_calls = -1;
	expect_invalid(f->db, &e, "max_calls");
	e.max_calls = INT32_MIN;
	expect_invalid(f->db, &e, "max_calls");
	assert_int_equal(db_ext_list(f->db, NULL, NULL), 0);
}

/* --- media policy (migration 4) ---------------------------------------------- */

static void test_media_policy_roundtrip(void **state)
{
	struct fx *f = *state;
	struct db_ext e = mk_ext("5000", "password-5000");
	assert_int_equal(db_ext_add(f->db, &e), 0);
	struct db_ext got;
	assert_int_equal(db_ext_get(f->db, "5000", &got), 0);
	assert_string_equal(got.codecs, "");
	assert_string_equal(got.srtp, "optional"); /* "" is stored as the default */
	/* no codec list is NULL in the table: "the system default" */
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM extensions WHERE codecs IS NULL"), 1);

	snprintf(got.codecs, sizeof(got.codecs), "opus,pcmu");
	snprintf(got.srtp, sizeof(got.srtp), "required");
	assert_int_equal(db_ext_update(f->db, &got), 0);
	reopen(f);
	struct db_ext again;
	assert_int_equal(db_ext_get(f->db, "5000", &again), 0);
	assert_string_equal(again.codecs, "opus,pcmu");
	assert_string_equal(again.srtp, "required");
	again.codecs[0] = '\0';
	snprintf(again.srtp, sizeof(again.srtp), "off");
	assert_int_equal(db_ext_update(f->db, &again), 0);
	assert_int_equal(db_ext_get(f->db, "5000", &got), 0);
	assert_string_equal(got.codecs, "");
	assert_string_equal(got.srtp, "off");
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM extensions WHERE codecs IS NULL"), 1);
}

static void test_media_policy_validation(void **state)
{
	struct fx *f = *state;
	struct db_ext e = mk_ext("6000", "password-x");
	static const char *const good[] = { "", "PCMU", "opus,G722,PCMU,PCMA", "g722,OPUS" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(e.codecs, sizeof(e.codecs), "%s", good[i]);
		expect_valid(&e);
	}
	static const char *const bad[] = { "G729", "PCMU,G729", "PCMU,,PCMA", ",PCMU", "PCMU,",
					   "PCMU, PCMA", "PCMU,pcmu", "opus/48000" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(e.codecs, sizeof(e.codecs), "%s", bad[i]);
		expect_invalid(f->db, &e, "codecs");
	}
	e.codecs[0] = '\0';
	static const char *const srtp_good[] = { "", "off", "optional", "required" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(e.srtp, sizeof(e.srtp), "%s", srtp_good[i]);
		expect_valid(&e);
	}
	snprintf(e.srtp, sizeof(e.srtp), "Required");
	expect_invalid(f->db, &e, "srtp");
	snprintf(e.srtp, sizeof(e.srtp), "yes");
	expect_invalid(f->db, &e, "srtp");
	assert_int_equal(db_ext_list(f->db, NULL, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_upgrade_from_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_fields_roundtrip, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_contact_validation, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_trust_validation, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_max_calls_validation, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_media_policy_roundtrip, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_media_policy_validation, setup_open, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
