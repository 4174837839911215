/*
 * Tests of migration 2 on the extension side: upgrading a database made
 * by a version-1 Hookflash (extensions, registrations, users and settings
 * kept; the migration all or nothing), and the device fields it adds
 * (static contact, trusted addresses, concurrent-call cap): round trip
 * through add/get/list/update and every validation rule; and the media
 * policy of migration 4 (codecs, srtp) the same way; and the call
 * handling of migration 6 (ring time, no-answer/busy/unavailable
 * destinations, forwarding, DND): an upgrade from version 5 keeps the
 * rows and gives them the defaults, round trip, validation messages.
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
#include "../../core/ident/ext_table.h"

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

/* --- call handling (migration 6) --------------------------------------------- */

/* A version-5 file: today's schema with migration 6 taken back out
 * (its columns dropped, its feature codes deleted), data in it, and *97
 * given to something else by the administrator, as a v5 system could. */
static const char to_v5[] =
	"ALTER TABLE api_tokens DROP COLUMN expires_at;"           /* migration 9 */
	"ALTER TABLE users DROP COLUMN must_change_password;"
	"DROP TABLE IF EXISTS mwi_subscriptions;"   /* migration 8 */
	"DROP TABLE IF EXISTS vm_messages;"         /* migration 7 */
	"DROP TABLE IF EXISTS mailboxes;"
	"ALTER TABLE extensions DROP COLUMN ring_time;"
	"ALTER TABLE extensions DROP COLUMN dest_noanswer;"
	"ALTER TABLE extensions DROP COLUMN dest_busy;"
	"ALTER TABLE extensions DROP COLUMN dest_unavail;"
	"ALTER TABLE extensions DROP COLUMN fwd_all;"
	"ALTER TABLE extensions DROP COLUMN fwd_busy;"
	"ALTER TABLE extensions DROP COLUMN fwd_noanswer;"
	"ALTER TABLE extensions DROP COLUMN dnd;"
	"DELETE FROM numbers WHERE number IN ('*72', '*73', '*78', '*79', '*97', '*98');"
	"INSERT INTO numbers VALUES ('*97', 'conf:97', 'conference room *97');"
	"PRAGMA user_version = 5;";

static void test_upgrade_from_v5(void **state)
{
	struct fx *f = *state;
	assert_int_equal(db_open(&f->db, f->path), 0);
	struct db_ext e = mk_ext("1001", "password-1001");
	snprintf(e.name, sizeof(e.name), "Alice");
	snprintf(e.codecs, sizeof(e.codecs), "opus");
	snprintf(e.srtp, sizeof(e.srtp), "required");
	assert_int_equal(db_ext_add(f->db, &e), 0);
	e = mk_ext("1002", "password-1002");
	assert_int_equal(db_ext_add(f->db, &e), 0);
	db_close(f->db);
	f->db = NULL;
	raw_exec(f->path, to_v5);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_table_info('extensions')"
					  " WHERE name = 'ring_time'"),
			 0);

	assert_int_equal(db_open(&f->db, f->path), 0);
	assert_true(db_migration_count() >= 6);
	assert_int_equal(db_schema_version(f->db), db_migration_count());
	struct db_ext got;
	assert_int_equal(db_ext_get(f->db, "1001", &got), 0);
	assert_string_equal(got.name, "Alice");
	assert_string_equal(got.password, "password-1001");
	assert_string_equal(got.codecs, "opus");
	assert_string_equal(got.srtp, "required");
	assert_int_equal(got.ring_time, 0);
	assert_string_equal(got.dest_noanswer, "");
	assert_string_equal(got.dest_busy, "");
	assert_string_equal(got.dest_unavail, "");
	assert_string_equal(got.fwd_all, "");
	assert_string_equal(got.fwd_busy, "");
	assert_string_equal(got.fwd_noanswer, "");
	assert_false(got.dnd);
	assert_int_equal(db_ext_list(f->db, NULL, NULL), 2);

	/* The feature codes are added; a number the administrator gave to
	 * something else stays theirs. */
	struct db_number n;
	assert_int_equal(db_number_get(f->db, "*72", &n), 0);
	assert_string_equal(n.dest, "app:fwdon");
	assert_string_equal(n.what, "feature code: call forward on");
	assert_int_equal(db_number_get(f->db, "*79", &n), 0);
	assert_string_equal(n.dest, "app:dndoff");
	assert_int_equal(db_number_get(f->db, "*98", &n), 0);
	assert_string_equal(n.dest, "app:vmany");
	assert_int_equal(db_number_get(f->db, "*97", &n), 0);
	assert_string_equal(n.dest, "conf:97");

	/* and the new fields work on the migrated rows */
	got.ring_time = 40;
	got.dnd = true;
	snprintf(got.fwd_all, sizeof(got.fwd_all), "1002");
	assert_int_equal(db_ext_update(f->db, &got), 0);
	reopen(f); /* applies nothing twice */
	assert_int_equal(db_ext_get(f->db, "1001", &got), 0);
	assert_int_equal(got.ring_time, 40);
	assert_true(got.dnd);
	assert_string_equal(got.fwd_all, "1002");
}

static void test_call_handling_roundtrip(void **state)
{
	struct fx *f = *state;
	struct db_ext e = mk_ext("1001", "password-1001");
	e.ring_time = 300;
	snprintf(e.dest_noanswer, sizeof(e.dest_noanswer), "ext:1002");
	snprintf(e.dest_busy, sizeof(e.dest_busy), "vm:1001");
	snprintf(e.dest_unavail, sizeof(e.dest_unavail), "hangup");
	snprintf(e.fwd_all, sizeof(e.fwd_all), "+4930123456");
	snprintf(e.fwd_busy, sizeof(e.fwd_busy), "*97");
	snprintf(e.fwd_noanswer, sizeof(e.fwd_noanswer), "1002#");
	e.dnd = true;
	assert_int_equal(db_ext_add(f->db, &e), 0);
	struct db_ext plain = mk_ext("1002", "password-1002");
	assert_int_equal(db_ext_add(f->db, &plain), 0);

	reopen(f);
	struct db_ext got;
	assert_int_equal(db_ext_get(f->db, "1001", &got), 0);
	assert_int_equal(got.ring_time, 300);
	assert_string_equal(got.dest_noanswer, "ext:1002");
	assert_string_equal(got.dest_busy, "vm:1001");
	assert_string_equal(got.dest_unavail, "hangup");
	assert_string_equal(got.fwd_all, "+4930123456");
	assert_string_equal(got.fwd_busy, "*97");
	assert_string_equal(got.fwd_noanswer, "1002#");
	assert_true(got.dnd);
	assert_int_equal(db_ext_get(f->db, "1002", &got), 0);
	assert_int_equal(got.ring_time, 0);
	assert_string_equal(got.dest_busy, "");
	assert_false(got.dnd);

	/* Cleared by update, the other row untouched. */
	assert_int_equal(db_ext_get(f->db, "1001", &got), 0);
	got.ring_time = 5;
	got.dest_noanswer[0] = got.dest_busy[0] = got.dest_unavail[0] = '\0';
	got.fwd_all[0] = got.fwd_busy[0] = got.fwd_noanswer[0] = '\0';
	got.dnd = false;
	assert_int_equal(db_ext_update(f->db, &got), 0);
	struct db_ext again;
	assert_int_equal(db_ext_get(f->db, "1001", &again), 0);
	assert_int_equal(again.ring_time, 5);
	assert_string_equal(again.dest_noanswer, "");
	assert_string_equal(again.fwd_noanswer, "");
	assert_false(again.dnd);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM extensions WHERE dest_busy = ''"
					  " AND fwd_all = '' AND dnd = 0"),
			 2);
}

/* The signalling loop's snapshot carries them; "" stays "" (the call
 * layer picks the default). */
static void test_ext_table_carries_call_handling(void **state)
{
	struct fx *f = *state;
	struct db_ext e = mk_ext("1001", "password-1001");
	e.ring_time = 45;
	snprintf(e.dest_noanswer, sizeof(e.dest_noanswer), "ext:1002");
	snprintf(e.dest_busy, sizeof(e.dest_busy), "hangup");
	snprintf(e.fwd_all, sizeof(e.fwd_all), "1002");
	snprintf(e.fwd_busy, sizeof(e.fwd_busy), "*97");
	snprintf(e.fwd_noanswer, sizeof(e.fwd_noanswer), "+4930");
	e.dnd = true;
	assert_int_equal(db_ext_add(f->db, &e), 0);
	struct db_ext plain = mk_ext("1002", "password-1002");
	assert_int_equal(db_ext_add(f->db, &plain), 0);

	struct ext_table *t;
	assert_int_equal(ext_table_load(&t, f->db), 0);
	const struct ext *x = ext_table_find(t, pl_from("1001"));
	assert_non_null(x);
	assert_int_equal(x->ring_time, 45);
	assert_string_equal(x->next_noanswer, "ext:1002");
	assert_string_equal(x->next_busy, "hangup");
	assert_string_equal(x->next_unavail, "");
	assert_string_equal(x->fwd_all, "1002");
	assert_string_equal(x->fwd_busy, "*97");
	assert_string_equal(x->fwd_noanswer, "+4930");
	assert_true(x->dnd);
	x = ext_table_find(t, pl_from("1002"));
	assert_non_null(x);
	assert_int_equal(x->ring_time, 0);
	assert_string_equal(x->next_noanswer, "");
	assert_string_equal(x->next_busy, "");
	assert_string_equal(x->fwd_all, "");
	assert_false(x->dnd);
	ext_table_unref(t);
}

/* The whole message, as the CLI and the web API pass it on. */
static void expect_why(const struct db_ext *e, const char *want)
{
	const char *why = NULL;
	assert_int_equal(db_ext_validate(e, &why), EINVAL);
	assert_non_null(why);
	assert_string_equal(why, want);
}

static void test_call_handling_validation(void **state)
{
	struct fx *f = *state;
	struct db_ext e = mk_ext("1001", "password-x");

	static const int rt_good[] = { 0, 5, 25, 300 };
	for (size_t i = 0; i < 4; i++) {
		e.ring_time = rt_good[i];
		expect_valid(&e);
	}
	static const int rt_bad[] = { -1, 1, 4, 301, 100000 };
	for (size_t i = 0; i < 5; i++) {
		e.ring_time = rt_bad[i];
		expect_invalid(f->db, &e, "ring_time");
	}
	expect_why(&e, "ring_time: 0 (the default, 25 s) or 5 to 300 seconds");
	e.ring_time = 0;

	/* Destinations, each field by its API name. */
	static const char *const d_good[] = { "", "hangup", "vm:1001", "ext:1002", "app:echo",
					      "ext:10011" };
	static const char *const d_bad[] = { "voicemail", "EXT:1002", "ext:", ":1002",
					     "ext:10 02", "ext:1001", "ext:1002;x", "hangup x" };
	struct {
		char *field;
		size_t cap;
		const char *name;
	} dests[] = {
		{ e.dest_noanswer, sizeof(e.dest_noanswer), "no_answer" },
		{ e.dest_busy, sizeof(e.dest_busy), "busy" },
		{ e.dest_unavail, sizeof(e.dest_unavail), "unavailable" },
	};
	for (size_t k = 0; k < 3; k++) {
		for (size_t i = 0; i < sizeof(d_good) / sizeof(d_good[0]); i++) {
			snprintf(dests[k].field, dests[k].cap, "%s", d_good[i]);
			expect_valid(&e);
		}
		for (size_t i = 0; i < sizeof(d_bad) / sizeof(d_bad[0]); i++) {
			snprintf(dests[k].field, dests[k].cap, "%s", d_bad[i]);
			expect_invalid(f->db, &e, dests[k].name);
		}
		memset(dests[k].field, 'x', dests[k].cap); /* no terminator within */
		expect_invalid(f->db, &e, dests[k].name);
		dests[k].field[0] = '\0';
	}
	snprintf(e.dest_noanswer, sizeof(e.dest_noanswer), "voicemail");
	expect_why(&e, "no_answer: destination 'voicemail' is not kind:id (e.g. ext:1001, "
		       "app:echo) or hangup");
	snprintf(e.dest_noanswer, sizeof(e.dest_noanswer), "ext:1001");
	expect_why(&e, "no_answer: ext:1001 is this extension itself (its voicemail is the "
		       "default)");
	e.dest_noanswer[0] = '\0';
	snprintf(e.dest_unavail, sizeof(e.dest_unavail), "Vm:1001");
	expect_why(&e, "unavailable: destination 'Vm:1001': the kind is lower-case letters");
	e.dest_unavail[0] = '\0';

	/* Forwarding targets. */
	static const char *const f_good[] = { "", "1002", "*97", "+4930123", "#1", "10010",
					      "1234567890123456789012345678901" };
	static const char *const f_bad[] = { "1001", "10a", "sip:1002@x", "1002 ", "ext:1002" };
	struct {
		char *field;
		size_t cap;
		const char *name;
	} fwds[] = {
		{ e.fwd_all, sizeof(e.fwd_all), "forward_all" },
		{ e.fwd_busy, sizeof(e.fwd_busy), "forward_busy" },
		{ e.fwd_noanswer, sizeof(e.fwd_noanswer), "forward_no_answer" },
	};
	for (size_t k = 0; k < 3; k++) {
		for (size_t i = 0; i < sizeof(f_good) / sizeof(f_good[0]); i++) {
			snprintf(fwds[k].field, fwds[k].cap, "%s", f_good[i]);
			expect_valid(&e);
		}
		for (size_t i = 0; i < sizeof(f_bad) / sizeof(f_bad[0]); i++) {
			snprintf(fwds[k].field, fwds[k].cap, "%s", f_bad[i]);
			expect_invalid(f->db, &e, fwds[k].name);
		}
		memset(fwds[k].field, '1', fwds[k].cap);
		expect_invalid(f->db, &e, fwds[k].name);
		fwds[k].field[0] = '\0';
	}
	snprintf(e.fwd_all, sizeof(e.fwd_all), "1001");
	expect_why(&e, "forward_all: cannot forward extension 1001 to itself");
	e.fwd_all[0] = '\0';
	snprintf(e.fwd_noanswer, sizeof(e.fwd_noanswer), "10a");
	expect_why(&e, "forward_no_answer: a number to dial, 1 to 31 of 0-9 * # +");
	e.fwd_noanswer[0] = '\0';
	e.dnd = true;
	expect_valid(&e);
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
		cmocka_unit_test_setup_teardown(test_upgrade_from_v5, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_handling_roundtrip, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_call_handling_validation, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_ext_table_carries_call_handling, setup_open,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
