/*
 * Call detail records: one row per call, handed by the call object to the
 * store thread when the call ends (db_cdr_insert), and read back newest
 * first by the CLI and the web UI (db_cdr_list). The daemon produces the
 * rows, so insert checks nothing beyond its arguments: a record with an
 * odd field is still worth keeping, a lost one is not. Listing uses one of
 * two constant statements, with or without the number filter, so each can
 * use its index (a "?3 IS NULL OR ..." term would hide the caller/callee
 * indexes from the planner).
 */
#include "db_int.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LIST_DEFAULT 100

/* Every column but id, in the order insert binds them (?1..?29) and
 * select reads them (after id, at 1..29). */
#define CDR_COLS                                                                 \
	"call_id_a, call_id_b, caller, caller_name, callee, callee_name,"        \
	" start_ms, answer_ms, end_ms, disposition, duration_s, billsec,"       \
	" hangup_status, hangup_cause, hangup_side, codec,"                     \
	" a_pkts_rx, a_pkts_tx, a_bytes_rx, a_bytes_tx, a_lost, a_jitter_ms,"   \
	" b_pkts_rx, b_pkts_tx, b_bytes_rx, b_bytes_tx, b_lost, b_jitter_ms,"   \
	" path"

#define TEXT_FIELD(c, f) (c)->f, sizeof((c)->f)

static int64_t clamp_u64(uint64_t v)
{
	return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

static int bind_i64(sqlite3_stmt *st, int idx, int64_t v)
{
	return sqlite3_bind_int64(st, idx, v) == SQLITE_OK ? 0 : EINVAL;
}

static int bind_leg(sqlite3_stmt *st, int idx, const struct db_cdr_leg_stats *l)
{
	int err = bind_i64(st, idx, clamp_u64(l->pkts_rx));
	err = err ? err : bind_i64(st, idx + 1, clamp_u64(l->pkts_tx));
	err = err ? err : bind_i64(st, idx + 2, clamp_u64(l->bytes_rx));
	err = err ? err : bind_i64(st, idx + 3, clamp_u64(l->bytes_tx));
	err = err ? err : bind_i64(st, idx + 4, clamp_u64(l->lost));
	/* SQLite stores NaN as NULL, which the NOT NULL column would refuse,
	 * losing the whole record over one statistic. */
	double jitter = isfinite(l->jitter_ms) ? l->jitter_ms : 0.0;
	if (!err && sqlite3_bind_double(st, idx + 5, jitter) != SQLITE_OK)
		err = EINVAL;
	return err;
}

static int bind_cdr(sqlite3_stmt *st, const struct db_cdr *c)
{
	int err = db_bind_str(st, 1, TEXT_FIELD(c, call_id_a));
	err = err ? err : db_bind_str(st, 2, TEXT_FIELD(c, call_id_b));
	err = err ? err : db_bind_str(st, 3, TEXT_FIELD(c, caller));
	err = err ? err : db_bind_str(st, 4, TEXT_FIELD(c, caller_name));
	err = err ? err : db_bind_str(st, 5, TEXT_FIELD(c, callee));
	err = err ? err : db_bind_str(st, 6, TEXT_FIELD(c, callee_name));
	err = err ? err : bind_i64(st, 7, c->start_ms);
	err = err ? err : bind_i64(st, 8, c->answer_ms);
	err = err ? err : bind_i64(st, 9, c->end_ms);
	err = err ? err : db_bind_str(st, 10, TEXT_FIELD(c, disposition));
	err = err ? err : bind_i64(st, 11, c->duration_s);
	err = err ? err : bind_i64(st, 12, c->billsec);
	err = err ? err : bind_i64(st, 13, c->hangup_status);
	err = err ? err : db_bind_str(st, 14, TEXT_FIELD(c, hangup_cause));
	err = err ? err : db_bind_str(st, 15, TEXT_FIELD(c, hangup_side));
	err = err ? err : db_bind_str(st, 16, TEXT_FIELD(c, codec));
	err = err ? err : bind_leg(st, 17, &c->leg[DB_CDR_LEG_A]);
	err = err ? err : bind_leg(st, 23, &c->leg[DB_CDR_LEG_B]);
	err = err ? err : db_bind_str(st, 29, TEXT_FIELD(c, path));
	return err;
}

int db_cdr_insert(struct db *db, struct db_cdr *c)
{
	if (!db || !c)
		return EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db,
			  "INSERT INTO cdr (" CDR_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
			  " ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,"
			  " ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29)",
			  &st);
	if (err)
		return err;
	err = bind_cdr(st, c);
	if (!err)
		err = db_rc(db, sqlite3_step(st));
	if (!err)
		c->id = sqlite3_last_insert_rowid(db->sql);
	db_stmt_done(db, st);
	return err;
}

struct db_cdr_kept {
	struct db_cdr_kept *next;
	struct db_cdr cdr;
};

/* A full disk or a read-only database must not cost the calls' records:
 * the store thread keeps what was refused, in order, and tries them again
 * before each new CDR, so they are written as soon as writes work again
 * (the next call's end). Bounded: past DB_CDR_KEEP_MAX they are lost, with
 * the error the caller logs. */
int db_cdr_insert_or_keep(struct db *db, struct db_cdr *c, size_t *kept, size_t *flushed)
{
	*flushed = 0;
	while (db && db->cdr_kept) {
		struct db_cdr_kept *k = db->cdr_kept;
		if (db_cdr_insert(db, &k->cdr))
			break;
		db->cdr_kept = k->next;
		if (!db->cdr_kept)
			db->cdr_kept_tail = &db->cdr_kept;
		db->cdr_nkept--;
		(*flushed)++;
		free(k);
	}
	int err = db_cdr_insert(db, c);
	*kept = 0;
	if (!err || !db || !c)
		return err;
	if (db->cdr_nkept < DB_CDR_KEEP_MAX) {
		struct db_cdr_kept *k = malloc(sizeof(*k));
		if (k) {
			k->next = NULL;
			k->cdr = *c;
			if (!db->cdr_kept)
				db->cdr_kept_tail = &db->cdr_kept;
			*db->cdr_kept_tail = k;
			db->cdr_kept_tail = &k->next;
			db->cdr_nkept++;
			*kept = db->cdr_nkept;
		}
	}
	return err;
}

size_t db_cdr_kept_free(struct db *db)
{
	size_t n = db->cdr_nkept;
	while (db->cdr_kept) {
		struct db_cdr_kept *k = db->cdr_kept;
		db->cdr_kept = k->next;
		free(k);
	}
	db->cdr_nkept = 0;
	return n;
}

static uint64_t col_u64(sqlite3_stmt *st, int col)
{
	int64_t v = sqlite3_column_int64(st, col);
	return v < 0 ? 0 : (uint64_t)v;
}

static void read_leg(sqlite3_stmt *st, int col, struct db_cdr_leg_stats *l)
{
	l->pkts_rx = col_u64(st, col);
	l->pkts_tx = col_u64(st, col + 1);
	l->bytes_rx = col_u64(st, col + 2);
	l->bytes_tx = col_u64(st, col + 3);
	l->lost = col_u64(st, col + 4);
	l->jitter_ms = sqlite3_column_double(st, col + 5);
}

static void read_row(sqlite3_stmt *st, struct db_cdr *c)
{
	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(st, 0);
	db_col_str(st, 1, TEXT_FIELD(c, call_id_a));
	db_col_str(st, 2, TEXT_FIELD(c, call_id_b));
	db_col_str(st, 3, TEXT_FIELD(c, caller));
	db_col_str(st, 4, TEXT_FIELD(c, caller_name));
	db_col_str(st, 5, TEXT_FIELD(c, callee));
	db_col_str(st, 6, TEXT_FIELD(c, callee_name));
	c->start_ms = sqlite3_column_int64(st, 7);
	c->answer_ms = sqlite3_column_int64(st, 8);
	c->end_ms = sqlite3_column_int64(st, 9);
	db_col_str(st, 10, TEXT_FIELD(c, disposition));
	c->duration_s = sqlite3_column_int(st, 11);
	c->billsec = sqlite3_column_int(st, 12);
	c->hangup_status = sqlite3_column_int(st, 13);
	db_col_str(st, 14, TEXT_FIELD(c, hangup_cause));
	db_col_str(st, 15, TEXT_FIELD(c, hangup_side));
	db_col_str(st, 16, TEXT_FIELD(c, codec));
	read_leg(st, 17, &c->leg[DB_CDR_LEG_A]);
	read_leg(st, 23, &c->leg[DB_CDR_LEG_B]);
	db_col_str(st, 29, TEXT_FIELD(c, path));
}

/* ?1 from (inclusive), ?2 to (exclusive), ?3 number, ?4 disposition or
 * NULL, ?5 limit, ?6 offset. */
#define LIST_HEAD "SELECT id, " CDR_COLS " FROM cdr WHERE start_ms >= ?1 AND start_ms < ?2"
#define LIST_TAIL                                                        \
	" AND (?4 IS NULL OR disposition = ?4)"                         \
	" ORDER BY start_ms DESC, id DESC LIMIT ?5 OFFSET ?6"

static const char sql_list_all[] = LIST_HEAD LIST_TAIL;
static const char sql_list_number[] = LIST_HEAD " AND (caller = ?3 OR callee = ?3)" LIST_TAIL;

int db_cdr_list(struct db *db, const struct db_cdr_filter *f, db_cdr_h *h, void *arg)
{
	static const struct db_cdr_filter none = { 0 };
	if (!db)
		return -EINVAL;
	if (!f)
		f = &none;
	if (f->limit < 0 || f->offset < 0)
		return -EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db, f->number ? sql_list_number : sql_list_all, &st);
	if (err)
		return -err;
	err = bind_i64(st, 1, f->from_ms ? f->from_ms : INT64_MIN);
	err = err ? err : bind_i64(st, 2, f->to_ms ? f->to_ms : INT64_MAX);
	if (!err && f->number)
		err = db_bind_str(st, 3, f->number, sizeof(((struct db_cdr *)0)->caller));
	err = err ? err : db_bind_str(st, 4, f->disposition, sizeof(((struct db_cdr *)0)->disposition));
	err = err ? err : bind_i64(st, 5, f->limit ? f->limit : LIST_DEFAULT);
	err = err ? err : bind_i64(st, 6, f->offset);
	if (err) {
		db_stmt_done(db, st);
		return -err;
	}
	int count = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_cdr c;
		read_row(st, &c);
		if (h)
			h(&c, arg);
		count++;
	}
	err = db_rc(db, rc);
	db_stmt_done(db, st);
	return err ? -err : count;
}
