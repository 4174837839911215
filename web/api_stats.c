/*
 * GET /api/v1/stats/calls-per-hour?hours=24: calls started in each hour
 * of the last day (or of 1..168 hours), and how many of them were
 * answered, counted from the call detail records. The last bucket is the
 * current hour, so the dashboard's chart moves as soon as a call ends. A
 * role "user" counts only its own extension's calls.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "web_int.h"

#define HOUR_MS 3600000LL

void web_api_calls_per_hour(struct web_req *r)
{
	int hours = 24;
	const char *v = web_query(r, "hours");
	if (v) {
		char *end;
		long n = strtol(v, &end, 10);
		if (!*v || *end || strspn(v, "0123456789") != strlen(v) || n < 1 ||
		    n > DB_CDR_HOURS_MAX) {
			web_error(r, 400, "hours: a whole number from 1 to 168", "hours");
			return;
		}
		hours = (int)n;
	}
	const char *number = NULL;
	if (!web_is_admin(r))
		number = r->auth.extension; /* "" when it owns none: matches nothing */
	struct timeval tv;
	gettimeofday(&tv, NULL);
	int64_t now = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
	int64_t from = (now / HOUR_MS - (hours - 1)) * HOUR_MS;
	uint32_t total[DB_CDR_HOURS_MAX], answered[DB_CDR_HOURS_MAX];
	struct db *db = web_db(r);
	if (!db)
		return;
	int err = db_cdr_per_hour(db, from, hours, number, total, answered);
	if (err) {
		web_db_error(r, err, "calls per hour");
		return;
	}
	json_t *a = json_array();
	uint64_t sum = 0;
	for (int i = 0; i < hours; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "start_ms", json_integer(from + i * HOUR_MS));
		json_object_set_new(o, "calls", json_integer(total[i]));
		json_object_set_new(o, "answered", json_integer(answered[i]));
		json_array_append_new(a, o);
		sum += total[i];
	}
	json_t *o = json_object();
	json_object_set_new(o, "from_ms", json_integer(from));
	json_object_set_new(o, "to_ms", json_integer(from + hours * HOUR_MS));
	json_object_set_new(o, "total", json_integer((json_int_t)sum));
	json_object_set_new(o, "hours", a);
	web_json(r, 200, o);
}
