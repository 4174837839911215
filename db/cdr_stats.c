/*
 * Figures over the call detail records for the dashboard: calls per hour
 * over a window (the last day, by default), counted by SQLite over the
 * start_ms index so the web thread never walks the rows itself.
 */
#include "db_int.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* ?1 window start (ms), ?2 window end (ms), ?3 number or NULL. */
static const char sql_per_hour[] =
	"SELECT (start_ms - ?1) / 3600000, count(*), sum(disposition = 'ANSWERED')"
	" FROM cdr WHERE start_ms >= ?1 AND start_ms < ?2"
	" AND (?3 IS NULL OR caller = ?3 OR callee = ?3)"
	" GROUP BY 1";

int db_cdr_per_hour(struct db *db, int64_t from_ms, int n, const char *number, uint32_t *total,
		    uint32_t *answered)
{
	if (!db || n < 1 || n > DB_CDR_HOURS_MAX || !total || !answered || from_ms < 0 ||
	    from_ms > INT64_MAX - (int64_t)n * 3600000)
		return EINVAL;
	memset(total, 0, sizeof(*total) * (size_t)n);
	memset(answered, 0, sizeof(*answered) * (size_t)n);
	sqlite3_stmt *st;
	int err = db_stmt(db, sql_per_hour, &st);
	if (err)
		return err;
	int rc = sqlite3_bind_int64(st, 1, from_ms);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, from_ms + (int64_t)n * 3600000);
	err = db_rc(db, rc);
	if (!err)
		err = db_bind_str(st, 3, number, DB_EXT_NUMBER_MAX * 2);
	if (err) {
		db_stmt_done(db, st);
		return err;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t h = sqlite3_column_int64(st, 0);
		if (h < 0 || h >= n)
			continue;
		total[h] = (uint32_t)sqlite3_column_int64(st, 1);
		answered[h] = (uint32_t)sqlite3_column_int64(st, 2);
	}
	err = db_rc(db, rc);
	db_stmt_done(db, st);
	return err;
}
