/*
 * GET /api/v1/cdrs: call detail records, newest first, filtered by time
 * window, number and disposition, paged with limit/offset; JSON, or CSV
 * (RFC 4180) for spreadsheets and billing. CSV cells that a spreadsheet
 * would run as a formula (starting with = + - @ or a tab/CR) get a
 * leading quote: caller names come from the network. A role "user" gets
 * its own extension's calls only, and asking for another number is 403.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../core/base/sbuf.h"
#include "web_int.h"

#define JSON_LIMIT_MAX 1000
#define CSV_LIMIT_MAX 10000
#define NUMBER_CAP 64 /* struct db_cdr's caller/callee */

static const char *const cdr_params[] = { "from", "to", "number", "disposition", "limit",
					   "offset", "format", NULL };

struct unknown_ctx {
	const char *bad;
};

static enum MHD_Result find_unknown(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	struct unknown_ctx *u = cls;
	(void)kind;
	(void)value;
	for (const char *const *p = cdr_params; *p; p++)
		if (!strcmp(*p, key))
			return MHD_YES;
	u->bad = key;
	return MHD_NO;
}

/* Unix milliseconds, or a UTC date "2024-05-01" / "2024-05-01T08:00:00Z". */
static bool parse_time(const char *s, int64_t *ms)
{
	size_t n = strlen(s);
	if (n && n <= 15 && strspn(s, "0123456789") == n) {
		*ms = strtoll(s, NULL, 10);
		return true;
	}
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
	}
	if (!end || *end)
		return false;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	*ms = (int64_t)t * 1000;
	return true;
}

static bool parse_count(const char *s, long lo, long hi, int *out)
{
	size_t n = strlen(s);
	if (!n || n > 9 || strspn(s, "0123456789") != n)
		return false;
	long v = strtol(s, NULL, 10);
	if (v < lo || v > hi)
		return false;
	*out = (int)v;
	return true;
}

static const char *disposition_of(const char *s)
{
	static const char *const names[] = { "ANSWERED", "VOICEMAIL", "NO ANSWER", "BUSY", "FAILED",
					     "CANCELLED" };
	char norm[16];
	size_t n = strlen(s);
	if (n >= sizeof(norm))
		return NULL;
	for (size_t i = 0; i <= n; i++)
		norm[i] = s[i] == '_' ? ' ' : s[i];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(norm, names[i]))
			return names[i];
	return NULL;
}

static bool text_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* --- output -------------------------------------------------------------------- */

static json_t *leg_json(const struct db_cdr_leg_stats *l)
{
	json_t *o = json_object();
	json_object_set_new(o, "packets_received", json_integer((json_int_t)l->pkts_rx));
	json_object_set_new(o, "packets_sent", json_integer((json_int_t)l->pkts_tx));
	json_object_set_new(o, "bytes_received", json_integer((json_int_t)l->bytes_rx));
	json_object_set_new(o, "bytes_sent", json_integer((json_int_t)l->bytes_tx));
	json_object_set_new(o, "lost", json_integer((json_int_t)l->lost));
	json_object_set_new(o, "jitter_ms", json_real(l->jitter_ms));
	return o;
}

static void add_json(const struct db_cdr *c, void *arg)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(c->id));
	json_object_set_new(o, "call_id", web_jstr(c->call_id_a));
	json_object_set_new(o, "caller", web_jstr(c->caller));
	json_object_set_new(o, "caller_name", web_jstr(c->caller_name));
	json_object_set_new(o, "callee", web_jstr(c->callee));
	json_object_set_new(o, "callee_name", web_jstr(c->callee_name));
	json_object_set_new(o, "start_ms", json_integer(c->start_ms));
	json_object_set_new(o, "answer_ms", c->answer_ms ? json_integer(c->answer_ms) : json_null());
	json_object_set_new(o, "end_ms", json_integer(c->end_ms));
	json_object_set_new(o, "disposition", web_jstr(c->disposition));
	json_object_set_new(o, "duration_s", json_integer(c->duration_s));
	json_object_set_new(o, "billsec", json_integer(c->billsec));
	json_object_set_new(o, "hangup_status", json_integer(c->hangup_status));
	json_object_set_new(o, "hangup_cause", web_jstr(c->hangup_cause));
	json_object_set_new(o, "hangup_side", web_jstr(c->hangup_side));
	json_object_set_new(o, "codec", web_jstr(c->codec));
	json_object_set_new(o, "path", web_jstr(c->path));
	json_object_set_new(o, "caller_leg", leg_json(&c->leg[DB_CDR_LEG_A]));
	json_object_set_new(o, "callee_leg", leg_json(&c->leg[DB_CDR_LEG_B]));
	json_array_append_new(arg, o);
}

/* One text cell: formula guard, then RFC 4180 quoting when needed. */
static void csv_text(struct sbuf *b, const char *s)
{
	bool formula = s[0] && strchr("=+-@\t\r", s[0]);
	bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		sbuf_adds(b, "\"");
	if (formula)
		sbuf_adds(b, "'");
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			sbuf_adds(b, "\"\"");
		else
			sbuf_add(b, p, 1);
	}
	if (quote)
		sbuf_adds(b, "\"");
}

static void csv_time(struct sbuf *b, int64_t ms)
{
	if (!ms)
		return;
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[32];
	if (gmtime_r(&t, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm))
		sbuf_printf(b, "%s.%03dZ", buf, (int)(ms % 1000));
}

static const char csv_head[] = "id,start,answer,end,caller,caller_name,callee,callee_name,"
			       "disposition,duration_s,billsec,hangup_status,hangup_cause,"
			       "hangup_side,codec,call_id,path\r\n";

static void add_csv(const struct db_cdr *c, void *arg)
{
	struct sbuf *b = arg;
	sbuf_printf(b, "%lld,", (long long)c->id);
	csv_time(b, c->start_ms);
	sbuf_adds(b, ",");
	csv_time(b, c->answer_ms);
	sbuf_adds(b, ",");
	csv_time(b, c->end_ms);
	const char *text1[] = { c->caller, c->caller_name, c->callee, c->callee_name,
				c->disposition };
	for (size_t i = 0; i < sizeof(text1) / sizeof(text1[0]); i++) {
		sbuf_adds(b, ",");
		csv_text(b, text1[i]);
	}
	sbuf_printf(b, ",%d,%d,%d,", c->duration_s, c->billsec, c->hangup_status);
	csv_text(b, c->hangup_cause);
	sbuf_adds(b, ",");
	csv_text(b, c->hangup_side);
	sbuf_adds(b, ",");
	csv_text(b, c->codec);
	sbuf_adds(b, ",");
	csv_text(b, c->call_id_a);
	sbuf_adds(b, ",");
	csv_text(b, c->path);
	sbuf_adds(b, "\r\n");
}

/* --- the handler ----------------------------------------------------------------- */

/* Reads the query into f; false having answered 400/403. */
static bool read_filter(struct web_req *r, struct db_cdr_filter *f, bool *csv, char *number)
{
	struct unknown_ctx u = { NULL };
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, find_unknown, &u);
	if (u.bad) {
		char msg[128];
		snprintf(msg, sizeof(msg), "%.60s: unknown query parameter", u.bad);
		web_error(r, 400, msg, u.bad);
		return false;
	}
	const char *v;
	memset(f, 0, sizeof(*f));
	*csv = false;
	if ((v = web_query(r, "format"))) {
		if (strcmp(v, "csv") && strcmp(v, "json")) {
			web_error(r, 400, "format: json or csv", "format");
			return false;
		}
		*csv = !strcmp(v, "csv");
	}
	if ((v = web_query(r, "from")) && !parse_time(v, &f->from_ms)) {
		web_error(r, 400, "from: unix milliseconds or a UTC date (2024-05-01 or "
			  "2024-05-01T08:00:00Z)", "from");
		return false;
	}
	if ((v = web_query(r, "to")) && !parse_time(v, &f->to_ms)) {
		web_error(r, 400, "to: unix milliseconds or a UTC date (2024-05-01 or "
			  "2024-05-01T08:00:00Z)", "to");
		return false;
	}
	int max = *csv ? CSV_LIMIT_MAX : JSON_LIMIT_MAX;
	f->limit = *csv ? CSV_LIMIT_MAX : 100;
	if ((v = web_query(r, "limit")) && !parse_count(v, 1, max, &f->limit)) {
		char msg[64];
		snprintf(msg, sizeof(msg), "limit: an integer from 1 to %d", max);
		web_error(r, 400, msg, "limit");
		return false;
	}
	if ((v = web_query(r, "offset")) && !parse_count(v, 0, 100000000, &f->offset)) {
		web_error(r, 400, "offset: an integer from 0", "offset");
		return false;
	}
	if ((v = web_query(r, "disposition")) &&
	    !(f->disposition = disposition_of(v))) {
		web_error(r, 400, "disposition: ANSWERED, VOICEMAIL, NO ANSWER, BUSY, FAILED or CANCELLED",
			  "disposition");
		return false;
	}
	if ((v = web_query(r, "number"))) {
		if (!*v || strlen(v) >= NUMBER_CAP || !text_ok(v)) {
			web_error(r, 400, "number: 1 to 63 characters", "number");
			return false;
		}
		snprintf(number, NUMBER_CAP, "%s", v);
		f->number = number;
	}
	if (!web_is_admin(r)) {
		if (f->number && strcmp(f->number, r->auth.extension)) {
			web_error(r, 403, "you may only see the calls of your own extension",
				  "number");
			return false;
		}
		snprintf(number, NUMBER_CAP, "%s", r->auth.extension);
		f->number = number;
	}
	return true;
}

void web_api_cdrs(struct web_req *r)
{
	struct db_cdr_filter f;
	bool csv;
	char number[NUMBER_CAP];
	if (!read_filter(r, &f, &csv, number))
		return;
	/* a user who owns no extension has no calls to see */
	bool none = !web_is_admin(r) && !r->auth.extension[0];
	struct db *db = none ? NULL : web_db(r);
	if (!none && !db)
		return;
	if (csv) {
		struct sbuf b;
		sbuf_init(&b);
		sbuf_adds(&b, csv_head);
		int n = none ? 0 : db_cdr_list(db, &f, add_csv, &b);
		if (n < 0 || b.err || !b.p) {
			sbuf_free(&b);
			web_db_error(r, n < 0 ? -n : ENOMEM, "records");
			return;
		}
		web_header(r, "Content-Disposition", "attachment; filename=\"hookflash-cdrs.csv\"");
		web_body(r, 200, "text/csv; charset=utf-8; header=present", b.p, b.len);
		return;
	}
	json_t *a = json_array();
	int n = none ? 0 : db_cdr_list(db, &f, add_json, a);
	if (n < 0) {
		json_decref(a);
		web_db_error(r, -n, "records");
		return;
	}
	json_t *o = json_object();
	json_object_set_new(o, "cdrs", a);
	json_object_set_new(o, "limit", json_integer(f.limit));
	json_object_set_new(o, "offset", json_integer(f.offset));
	web_json(r, 200, o);
}
