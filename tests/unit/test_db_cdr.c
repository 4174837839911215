/*
 * Tests of call detail records (db/cdr.c) on real SQLite files: every
 * field through insert and list, ids, newest-first order with ties,
 * limit and offset, each filter alone and together with its boundaries,
 * SQL metacharacters kept verbatim and never matched as patterns, and
 * fields that fill their arrays.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../db/db.h"
#include "../../db/db_int.h" /* db_exec: PRAGMA query_only stands in for a full disk */
#include "db_test_util.h"

static int setup(void **state)
{
	return db_fx_setup(state, "hf-test-dbcdr", true);
}

static struct db_cdr mk_cdr(const char *caller, const char *callee, int64_t start_ms,
			    const char *disposition)
{
	struct db_cdr c;
	memset(&c, 0, sizeof(c));
	snprintf(c.caller, sizeof(c.caller), "%s", caller);
	snprintf(c.callee, sizeof(c.callee), "%s", callee);
	snprintf(c.disposition, sizeof(c.disposition), "%s", disposition);
	c.start_ms = start_ms;
	c.end_ms = start_ms + 1000;
	c.duration_s = 1;
	return c;
}

static int64_t add(struct fx *f, const char *caller, const char *callee, int64_t start_ms,
		   const char *disposition)
{
	struct db_cdr c = mk_cdr(caller, callee, start_ms, disposition);
	assert_int_equal(db_cdr_insert(f->db, &c), 0);
	assert_true(c.id > 0);
	return c.id;
}

#define SEEN_MAX 200

struct seen {
	int n;
	int64_t id[SEEN_MAX];
	struct db_cdr last;
};

static void collect(const struct db_cdr *c, void *arg)
{
	struct seen *s = arg;
	if (s->n < SEEN_MAX)
		s->id[s->n] = c->id;
	s->last = *c;
	s->n++;
}

/* Runs the filter; checks the count returned equals the rows seen. */
static struct seen run(struct fx *f, const struct db_cdr_filter *flt)
{
	struct seen s;
	memset(&s, 0, sizeof(s));
	int n = db_cdr_list(f->db, flt, collect, &s);
	assert_int_equal(n, s.n);
	return s;
}

/* --- insert and read back ------------------------------------------------ */

static void test_cdr_every_field(void **state)
{
	struct fx *f = *state;
	struct db_cdr c;
	memset(&c, 0, sizeof(c));
	snprintf(c.call_id_a, sizeof(c.call_id_a), "a84b4c76e66710@pc33.example.com");
	snprintf(c.call_id_b, sizeof(c.call_id_b), "hf-b-0001");
	snprintf(c.caller, sizeof(c.caller), "1001");
	snprintf(c.caller_name, sizeof(c.caller_name), "Zo\xc3\xab M\xc3\xbcller");
	snprintf(c.callee, sizeof(c.callee), "1002");
	snprintf(c.callee_name, sizeof(c.callee_name), "Bob");
	c.start_ms = 1700000000123;
	c.answer_ms = 1700000004567;
	c.end_ms = 1700000065000;
	snprintf(c.disposition, sizeof(c.disposition), "ANSWERED");
	c.duration_s = 64;
	c.billsec = 60;
	c.hangup_status = 200;
	snprintf(c.hangup_cause, sizeof(c.hangup_cause), "caller hung up");
	snprintf(c.hangup_side, sizeof(c.hangup_side), "caller");
	snprintf(c.codec, sizeof(c.codec), "PCMU/8000");
	snprintf(c.path, sizeof(c.path), "app:ivr > ext:1003");
	c.leg[DB_CDR_LEG_A] = (struct db_cdr_leg_stats){ 3000, 3001, 516000, 516172, 4, 1.5 };
	/* Counters past INT64_MAX are stored as INT64_MAX, not negative. */
	c.leg[DB_CDR_LEG_B] = (struct db_cdr_leg_stats){ 2999, (uint64_t)INT64_MAX + 5,
							 UINT64_MAX, 7, 0, 0.125 };
	c.id = 999; /* ignored: the database assigns it */
	assert_int_equal(db_cdr_insert(f->db, &c), 0);
	assert_int_equal(c.id, 1);
	reopen(f);

	struct seen s = run(f, NULL);
	assert_int_equal(s.n, 1);
	const struct db_cdr *g = &s.last;
	assert_int_equal(g->id, 1);
	assert_string_equal(g->call_id_a, c.call_id_a);
	assert_string_equal(g->call_id_b, "hf-b-0001");
	assert_string_equal(g->caller, "1001");
	assert_string_equal(g->caller_name, c.caller_name);
	assert_string_equal(g->callee, "1002");
	assert_string_equal(g->callee_name, "Bob");
	assert_int_equal(g->start_ms, 1700000000123);
	assert_int_equal(g->answer_ms, 1700000004567);
	assert_int_equal(g->end_ms, 1700000065000);
	assert_string_equal(g->disposition, "ANSWERED");
	assert_int_equal(g->duration_s, 64);
	assert_int_equal(g->billsec, 60);
	assert_int_equal(g->hangup_status, 200);
	assert_string_equal(g->hangup_cause, "caller hung up");
	assert_string_equal(g->hangup_side, "caller");
	assert_string_equal(g->codec, "PCMU/8000");
	assert_string_equal(g->path, "app:ivr > ext:1003");
	const struct db_cdr_leg_stats *a = &g->leg[DB_CDR_LEG_A], *b = &g->leg[DB_CDR_LEG_B];
	assert_int_equal(a->pkts_rx, 3000);
	assert_int_equal(a->pkts_tx, 3001);
	assert_int_equal(a->bytes_rx, 516000);
	assert_int_equal(a->bytes_tx, 516172);
	assert_int_equal(a->lost, 4);
	assert_true(a->jitter_ms == 1.5);
	assert_int_equal(b->pkts_rx, 2999);
	assert_true(b->pkts_tx == (uint64_t)INT64_MAX);
	assert_true(b->bytes_rx == (uint64_t)INT64_MAX);
	assert_int_equal(b->bytes_tx, 7);
	assert_int_equal(b->lost, 0);
	assert_true(b->jitter_ms == 0.125);

	/* Ids keep growing. */
	assert_int_equal(add(f, "1", "2", 5, "FAILED"), 2);
	assert_int_equal(db_cdr_insert(NULL, &c), EINVAL);
	assert_int_equal(db_cdr_insert(f->db, NULL), EINVAL);
}

/* Purging old records never lets an id come back (AUTOINCREMENT): an
 * export that resumes after the last id it saw misses nothing. */
static void test_cdr_ids_not_reused(void **state)
{
	struct fx *f = *state;
	add(f, "1001", "1002", 1000, "ANSWERED");
	add(f, "1001", "1002", 2000, "ANSWERED");
	int64_t last = add(f, "1001", "1002", 3000, "ANSWERED");
	sqlite3 *s;
	assert_int_equal(sqlite3_open(f->path, &s), SQLITE_OK);
	assert_int_equal(sqlite3_exec(s, "DELETE FROM cdr WHERE id >= 2", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(s);
	assert_int_equal(add(f, "1001", "1002", 4000, "ANSWERED"), last + 1);
}

/* Text fields a careless producer did not terminate are bounded by their
 * arrays, never read past. */
static void test_cdr_full_fields(void **state)
{
	struct fx *f = *state;
	struct db_cdr c;
	memset(&c, 'x', sizeof(c));
	c.start_ms = 1;
	assert_int_equal(db_cdr_insert(f->db, &c), 0);
	struct seen s = run(f, NULL);
	assert_int_equal(s.n, 1);
	assert_int_equal(strlen(s.last.caller), sizeof(c.caller) - 1);
	assert_int_equal(strlen(s.last.call_id_a), sizeof(c.call_id_a) - 1);
	assert_int_equal(strlen(s.last.codec), sizeof(c.codec) - 1);
	assert_int_equal(strlen(s.last.path), sizeof(c.path) - 1);

	/* A statistic that is not a number does not cost the record. */
	c = mk_cdr("1001", "1002", 2, "ANSWERED");
	c.leg[DB_CDR_LEG_A].jitter_ms = NAN;
	c.leg[DB_CDR_LEG_B].jitter_ms = INFINITY;
	assert_int_equal(db_cdr_insert(f->db, &c), 0);
	s = run(f, NULL);
	assert_int_equal(s.n, 2);
	assert_true(s.id[0] == c.id);
}

/* The path column of migration 5: records written before it read back
 * with an empty path, new ones keep theirs, and a path is never mistaken
 * for a pattern or SQL. */
static void test_cdr_path(void **state)
{
	struct fx *f = *state;
	/* a record as an older Hookflash wrote it: no path column given */
	raw_exec(f->path, "INSERT INTO cdr (caller, callee, start_ms) VALUES ('1001', '1002', 10)");
	struct db_cdr c = mk_cdr("1001", "*43", 20, "ANSWERED");
	snprintf(c.path, sizeof(c.path), "app:echo");
	assert_int_equal(db_cdr_insert(f->db, &c), 0);
	c = mk_cdr("1001", "1009", 30, "FAILED");
	snprintf(c.path, sizeof(c.path), "ext:1009 > app:noservice'; DROP TABLE cdr; --");
	assert_int_equal(db_cdr_insert(f->db, &c), 0);

	struct seen s = run(f, NULL);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.last.path, ""); /* oldest last */
	struct db_cdr_filter flt = { .limit = 1 };
	s = run(f, &flt);
	assert_string_equal(s.last.path, "ext:1009 > app:noservice'; DROP TABLE cdr; --");
	flt.offset = 1;
	s = run(f, &flt);
	assert_string_equal(s.last.path, "app:echo");
}

/* --- listing ------------------------------------------------------------- */

static void test_cdr_order_limit_offset(void **state)
{
	struct fx *f = *state;
	struct seen s = run(f, NULL);
	assert_int_equal(s.n, 0);

	/* Inserted out of order; two share a start time (the later id is
	 * the newer). */
	int64_t i30 = add(f, "1", "2", 30000, "ANSWERED");
	int64_t i10 = add(f, "1", "2", 10000, "ANSWERED");
	int64_t i20a = add(f, "1", "2", 20000, "ANSWERED");
	int64_t i40 = add(f, "1", "2", 40000, "ANSWERED");
	int64_t i20b = add(f, "1", "2", 20000, "ANSWERED");
	const int64_t want[] = { i40, i30, i20b, i20a, i10 };
	s = run(f, NULL);
	assert_int_equal(s.n, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(s.id[i], want[i]);

	struct db_cdr_filter flt = { .limit = 2 };
	s = run(f, &flt);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.id[0], i40);
	assert_int_equal(s.id[1], i30);
	flt.offset = 2;
	s = run(f, &flt);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.id[0], i20b);
	assert_int_equal(s.id[1], i20a);
	flt.offset = 4;
	s = run(f, &flt);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.id[0], i10);
	flt.offset = 5;
	assert_int_equal(run(f, &flt).n, 0);

	flt = (struct db_cdr_filter){ .limit = -1 };
	assert_int_equal(db_cdr_list(f->db, &flt, collect, &s), -EINVAL);
	flt = (struct db_cdr_filter){ .offset = -1 };
	assert_int_equal(db_cdr_list(f->db, &flt, collect, &s), -EINVAL);
	assert_int_equal(db_cdr_list(NULL, NULL, NULL, NULL), -EINVAL);
	/* No handler: just the count. */
	assert_int_equal(db_cdr_list(f->db, NULL, NULL, NULL), 5);
}

/* limit 0 means 100, newest first. */
static void test_cdr_default_limit(void **state)
{
	struct fx *f = *state;
	for (int i = 1; i <= 120; i++)
		add(f, "1001", "1002", (int64_t)i * 1000, "ANSWERED");
	struct seen s = run(f, NULL);
	assert_int_equal(s.n, 100);
	assert_int_equal(s.last.start_ms, 21000);
	struct db_cdr_filter flt = { .limit = 1000 };
	assert_int_equal(run(f, &flt).n, 120);
}

static void test_cdr_filters(void **state)
{
	struct fx *f = *state;
	int64_t a = add(f, "1001", "1002", 1000, "ANSWERED");
	int64_t b = add(f, "1002", "1003", 2000, "NO ANSWER");
	int64_t c = add(f, "1003", "1001", 3000, "BUSY");
	int64_t d = add(f, "+4930123", "1001", 4000, "ANSWERED");
	int64_t e = add(f, "1004", "1005", 5000, "CANCELLED");
	struct db_cdr_filter flt;
	struct seen s;

	/* from is inclusive, to exclusive. */
	flt = (struct db_cdr_filter){ .from_ms = 2000 };
	s = run(f, &flt);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.id[3], b);
	flt = (struct db_cdr_filter){ .to_ms = 3000 };
	s = run(f, &flt);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.id[0], b);
	assert_int_equal(s.id[1], a);
	flt = (struct db_cdr_filter){ .from_ms = 2000, .to_ms = 4001 };
	s = run(f, &flt);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.id[0], d);
	assert_int_equal(s.id[2], b);
	flt = (struct db_cdr_filter){ .from_ms = 3500, .to_ms = 3600 };
	assert_int_equal(run(f, &flt).n, 0);

	/* number: caller or callee, exactly. */
	flt = (struct db_cdr_filter){ .number = "1001" };
	s = run(f, &flt);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.id[0], d);
	assert_int_equal(s.id[1], c);
	assert_int_equal(s.id[2], a);
	flt.number = "+4930123";
	s = run(f, &flt);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.id[0], d);
	flt.number = "100";
	assert_int_equal(run(f, &flt).n, 0);
	flt.number = "";
	assert_int_equal(run(f, &flt).n, 0);

	/* disposition, exactly (case matters: the daemon writes capitals). */
	flt = (struct db_cdr_filter){ .disposition = "ANSWERED" };
	s = run(f, &flt);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.id[0], d);
	assert_int_equal(s.id[1], a);
	flt.disposition = "NO ANSWER";
	s = run(f, &flt);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.id[0], b);
	flt.disposition = "answered";
	assert_int_equal(run(f, &flt).n, 0);

	/* All together, with limit and offset. */
	flt = (struct db_cdr_filter){ .from_ms = 1000, .to_ms = 5000, .number = "1001",
				      .disposition = "ANSWERED" };
	s = run(f, &flt);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.id[0], d);
	assert_int_equal(s.id[1], a);
	flt.limit = 1;
	flt.offset = 1;
	s = run(f, &flt);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.id[0], a);
	flt = (struct db_cdr_filter){ .from_ms = 1001, .number = "1001", .disposition = "ANSWERED" };
	s = run(f, &flt);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.id[0], d);
	flt = (struct db_cdr_filter){ .number = "1005", .disposition = "CANCELLED" };
	s = run(f, &flt);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.id[0], e);
}

static void test_cdr_sql_metachars(void **state)
{
	struct fx *f = *state;
	struct db_cdr c = mk_cdr("1' OR '1'='1", "1002", 1000, "ANSWERED");
	snprintf(c.caller_name, sizeof(c.caller_name), "Robert'); DROP TABLE cdr; --");
	snprintf(c.call_id_a, sizeof(c.call_id_a), "\"x\";--@host");
	snprintf(c.hangup_cause, sizeof(c.hangup_cause), "50%% off_");
	assert_int_equal(db_cdr_insert(f->db, &c), 0);
	add(f, "%", "_", 2000, "BUSY");
	add(f, "1001", "1002", 3000, "ANSWERED");

	struct db_cdr_filter flt = { .number = "1' OR '1'='1" };
	struct seen s = run(f, &flt);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.last.caller, "1' OR '1'='1");
	assert_string_equal(s.last.caller_name, "Robert'); DROP TABLE cdr; --");
	assert_string_equal(s.last.call_id_a, "\"x\";--@host");
	assert_string_equal(s.last.hangup_cause, "50% off_");

	/* Wildcards are characters, not patterns. */
	flt.number = "%";
	s = run(f, &flt);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.last.caller, "%");
	flt.number = "_";
	assert_int_equal(run(f, &flt).n, 1);
	flt.number = "100%";
	assert_int_equal(run(f, &flt).n, 0);
	flt = (struct db_cdr_filter){ .disposition = "ANSWERED' OR 1=1 --" };
	assert_int_equal(run(f, &flt).n, 0);
	flt = (struct db_cdr_filter){ .number = "x' OR 1=1 --", .disposition = "' OR ''='" };
	assert_int_equal(run(f, &flt).n, 0);

	reopen(f);
	assert_int_equal(db_cdr_list(f->db, NULL, NULL, NULL), 3);
}

/* A handler may list again on the same connection (the statement cache
 * hands out a private copy of the running statement). */
struct nest {
	struct db *db;
	int outer, inner;
};

static void inner_row(const struct db_cdr *c, void *arg)
{
	struct nest *n = arg;
	n->inner++;
}

static void outer_row(const struct db_cdr *c, void *arg)
{
	struct nest *n = arg;
	n->outer++;
	struct db_cdr_filter flt = { .number = c->caller };
	assert_int_equal(db_cdr_list(n->db, &flt, inner_row, n), 1);
	assert_int_equal(db_cdr_list(n->db, NULL, inner_row, n), 3);
}

static void test_cdr_list_reentrant(void **state)
{
	struct fx *f = *state;
	add(f, "201", "301", 1000, "ANSWERED");
	add(f, "202", "302", 2000, "ANSWERED");
	add(f, "203", "303", 3000, "ANSWERED");
	struct nest n = { f->db, 0, 0 };
	assert_int_equal(db_cdr_list(f->db, NULL, outer_row, &n), 3);
	assert_int_equal(n.outer, 3);
	assert_int_equal(n.inner, 12);
	assert_int_equal(db_cdr_list(f->db, NULL, NULL, NULL), 3);
}

/* --- calls per hour -------------------------------------------------------- */

static void test_cdr_per_hour(void **state)
{
	struct fx *f = *state;
	const int64_t H = 3600000, from = 1700000000000LL / H * H;
	add(f, "2001", "2002", from - 1, "ANSWERED");        /* before the window */
	add(f, "2001", "2002", from, "ANSWERED");            /* hour 0 */
	add(f, "2003", "2001", from + H - 1, "BUSY");        /* hour 0 */
	add(f, "2003", "2004", from + 5 * H + 10, "ANSWERED"); /* hour 5 */
	add(f, "2001", "2004", from + 24 * H, "ANSWERED");   /* after it */
	uint32_t t[DB_CDR_HOURS_MAX], a[DB_CDR_HOURS_MAX];
	assert_int_equal(db_cdr_per_hour(f->db, from, 24, NULL, t, a), 0);
	assert_int_equal(t[0], 2);
	assert_int_equal(a[0], 1);
	assert_int_equal(t[5], 1);
	assert_int_equal(a[5], 1);
	uint32_t sum = 0;
	for (int i = 0; i < 24; i++)
		sum += t[i];
	assert_int_equal(sum, 3);
	/* one number: as caller or callee; metacharacters are just text */
	assert_int_equal(db_cdr_per_hour(f->db, from, 24, "2001", t, a), 0);
	assert_int_equal(t[0], 2);
	assert_int_equal(t[5], 0);
	assert_int_equal(db_cdr_per_hour(f->db, from, 24, "' OR 1=1 --", t, a), 0);
	assert_int_equal(t[0], 0);
	assert_int_equal(db_cdr_per_hour(f->db, from, 1, NULL, t, a), 0);
	assert_int_equal(t[0], 2);
	assert_int_equal(db_cdr_per_hour(f->db, from, 0, NULL, t, a), EINVAL);
	assert_int_equal(db_cdr_per_hour(f->db, from, DB_CDR_HOURS_MAX + 1, NULL, t, a), EINVAL);
	assert_int_equal(db_cdr_per_hour(f->db, INT64_MAX - 10, 24, NULL, t, a), EINVAL);
}

/* A database that refuses writes (full disk, read-only file: here PRAGMA
 * query_only) costs no CDR: refused ones are kept and written, in order,
 * before the next CDR once writes work again. */
static void test_cdr_kept_while_refused(void **state)
{
	struct fx *f = *state;
	struct db_cdr c;
	size_t kept = 99, flushed = 99;
	assert_int_equal(db_exec(f->db, "PRAGMA query_only = 1"), 0);
	for (int i = 0; i < 2; i++) {
		memset(&c, 0, sizeof(c));
		snprintf(c.call_id_a, sizeof(c.call_id_a), "refused-%d", i);
		snprintf(c.caller, sizeof(c.caller), "100%d", i);
		c.start_ms = 1000 + i;
		assert_int_not_equal(db_cdr_insert_or_keep(f->db, &c, &kept, &flushed), 0);
		assert_int_equal(kept, (size_t)i + 1);
		assert_int_equal(flushed, 0);
	}
	assert_int_equal(db_exec(f->db, "PRAGMA query_only = 0"), 0);
	memset(&c, 0, sizeof(c));
	snprintf(c.call_id_a, sizeof(c.call_id_a), "accepted");
	snprintf(c.caller, sizeof(c.caller), "1009");
	c.start_ms = 2000;
	assert_int_equal(db_cdr_insert_or_keep(f->db, &c, &kept, &flushed), 0);
	assert_int_equal(kept, 0);
	assert_int_equal(flushed, 2);
	assert_int_equal(c.id, 3);
	sqlite3 *s;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(f->path, &s), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(s, "SELECT group_concat(caller, ',') FROM"
					    " (SELECT caller FROM cdr ORDER BY id)", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "1000,1001,1009");
	sqlite3_finalize(st);
	sqlite3_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cdr_every_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_ids_not_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_kept_while_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_full_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_order_limit_offset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_default_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_per_hour, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_sql_metachars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_list_reentrant, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
