/*
 * `hookflash cdr`: call detail records, newest first, read from the
 * database directly so billing and troubleshooting work with the daemon
 * stopped. A table for people, or RFC 4180 CSV with every column for
 * spreadsheets and scripts. Times are the machine's local time, as an
 * administrator reads them; the CSV keeps the raw unix milliseconds too.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../db/db.h"
#include "../base/tzname.h"
#include "cli.h"
#include "table.h"

#define U_CDR                                                                     \
	"cdr [--from YYYY-MM-DD[THH:MM]] [--to YYYY-MM-DD[THH:MM]] [--number N]" \
	" [--disposition D] [--limit N] [--csv]"

#define LIMIT_DEFAULT 100
#define LIMIT_MAX 10000000

/* --- options -------------------------------------------------------------- */

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int num(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static time_t local_mktime(int y, int mo, int d, int h, int mi, struct tm *tm)
{
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = y - 1900;
	tm->tm_mon = mo - 1;
	tm->tm_mday = d;
	tm->tm_hour = h;
	tm->tm_min = mi;
	tm->tm_isdst = -1;
	return mktime(tm);
}

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM" (a space instead of the T too), local
 * time. A bound covers its whole precision: as --from it is the first
 * millisecond of that day or minute, as --to (end) the first millisecond
 * after it, so "--from 2025-03-01 --to 2025-03-01" is that whole day.
 * Dates that do not exist (02-30, or a time skipped by a DST change) are
 * refused rather than moved. */
static int parse_when(const char *s, bool end, int64_t *ms)
{
	size_t n = strlen(s);
	if ((n != 10 && n != 16) || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) ||
	    s[7] != '-' || !digits(s + 8, 2))
		return EINVAL;
	bool has_time = n == 16;
	if (has_time && ((s[10] != 'T' && s[10] != ' ') || !digits(s + 11, 2) ||
			 s[13] != ':' || !digits(s + 14, 2)))
		return EINVAL;
	int y = num(s, 4), mo = num(s + 5, 2), d = num(s + 8, 2);
	int h = has_time ? num(s + 11, 2) : 0, mi = has_time ? num(s + 14, 2) : 0;
	if (y < 1970)
		return EINVAL;
	struct tm tm;
	time_t t = local_mktime(y, mo, d, h, mi, &tm);
	/* mktime moves what does not exist; a day whose midnight a DST change
	 * skips still exists, so only a given time is compared. */
	if (t == (time_t)-1 || tm.tm_year != y - 1900 || tm.tm_mon != mo - 1 ||
	    tm.tm_mday != d || (has_time && (tm.tm_hour != h || tm.tm_min != mi)))
		return EINVAL;
	if (end) /* through mktime again, so a 23- or 25-hour day ends right */
		t = local_mktime(y, mo, has_time ? d : d + 1, h, has_time ? mi + 1 : mi, &tm);
	if (t == (time_t)-1)
		return EINVAL;
	*ms = (int64_t)t * 1000;
	return 0;
}

/* Accepts the stored dispositions in any case, with '-' or '_' for the
 * space ("no-answer") and the American "canceled". */
static const char *parse_disposition(const char *s)
{
	static const char *const known[] = { "ANSWERED", "VOICEMAIL", "NO ANSWER", "BUSY", "FAILED",
					     "CANCELLED" };
	char up[16];
	size_t n = strlen(s);
	if (n >= sizeof(up))
		return NULL;
	for (size_t i = 0; i <= n; i++)
		up[i] = s[i] == '-' || s[i] == '_' ? ' ' : (char)toupper((unsigned char)s[i]);
	if (strcmp(up, "NOANSWER") == 0)
		return "NO ANSWER";
	if (strcmp(up, "CANCELED") == 0)
		return "CANCELLED";
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(up, known[i]) == 0)
			return known[i];
	return NULL;
}

/* --- output --------------------------------------------------------------- */

static void local_time(char *out, size_t cap, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	if (!localtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(out, cap, "%lld", (long long)ms);
}

/* A cell a spreadsheet would run as a formula (=, @, or + and - not
 * followed by digits only: "+4930123" stays a number) gets a leading
 * apostrophe, as OWASP advises for CSV meant for spreadsheets. Text from
 * phones (display names, Call-IDs) ends up here. */
static bool formula_like(const char *s)
{
	if (s[0] == '=' || s[0] == '@')
		return true;
	if (s[0] == '+' || s[0] == '-')
		return s[1] == '\0' ? false : !digits(s + 1, strlen(s + 1));
	return false;
}

/* One CSV text field: control characters become '?' (as in tables),
 * quoted when it holds a comma or a quote, quotes doubled (RFC 4180). */
static void csv_text(FILE *f, const char *s, bool last)
{
	char clean[1024];
	table_clean_copy(clean, sizeof(clean), s);
	bool quote = strpbrk(clean, ",\"") != NULL;
	if (quote)
		fputc('"', f);
	if (formula_like(clean))
		fputc('\'', f);
	for (const char *p = clean; *p; p++) {
		if (*p == '"')
			fputc('"', f);
		fputc(*p, f);
	}
	if (quote)
		fputc('"', f);
	fputs(last ? "\r\n" : ",", f);
}

static void csv_int(FILE *f, long long v)
{
	fprintf(f, "%lld,", v);
}

static const char csv_head[] =
	"id,start_local,call_id_a,call_id_b,caller,caller_name,callee,callee_name,"
	"start_ms,answer_ms,end_ms,disposition,duration_s,billsec,hangup_status,"
	"hangup_cause,hangup_side,codec,"
	"a_pkts_rx,a_pkts_tx,a_bytes_rx,a_bytes_tx,a_lost,a_jitter_ms,"
	"b_pkts_rx,b_pkts_tx,b_bytes_rx,b_bytes_tx,b_lost,b_jitter_ms,path\r\n";

static void csv_leg(FILE *f, const struct db_cdr_leg_stats *l, bool last)
{
	fprintf(f, "%llu,%llu,%llu,%llu,%llu,%.3f%s", (unsigned long long)l->pkts_rx,
		(unsigned long long)l->pkts_tx, (unsigned long long)l->bytes_rx,
		(unsigned long long)l->bytes_tx, (unsigned long long)l->lost, l->jitter_ms,
		last ? "\r\n" : ",");
}

static void csv_row(const struct db_cdr *c, void *arg)
{
	FILE *f = arg;
	char start[32];
	local_time(start, sizeof(start), c->start_ms);
	csv_int(f, c->id);
	csv_text(f, start, false);
	csv_text(f, c->call_id_a, false);
	csv_text(f, c->call_id_b, false);
	csv_text(f, c->caller, false);
	csv_text(f, c->caller_name, false);
	csv_text(f, c->callee, false);
	csv_text(f, c->callee_name, false);
	csv_int(f, c->start_ms);
	csv_int(f, c->answer_ms);
	csv_int(f, c->end_ms);
	csv_text(f, c->disposition, false);
	csv_int(f, c->duration_s);
	csv_int(f, c->billsec);
	csv_int(f, c->hangup_status);
	csv_text(f, c->hangup_cause, false);
	csv_text(f, c->hangup_side, false);
	csv_text(f, c->codec, false);
	csv_leg(f, &c->leg[DB_CDR_LEG_A], false);
	csv_leg(f, &c->leg[DB_CDR_LEG_B], false);
	csv_text(f, c->path, true);
}

enum { NCOLS = 10 };

/* What one table row shows, formatted as the rows arrive. */
struct cdr_line {
	char id[24], start[32], caller[64], callee[64], disp[16];
	char dur[32], bill[32], hangup[112], codec[32], path[256];
};

struct cdr_lines {
	struct cdr_line *l;
	size_t n, cap;
	bool oom;
};

static void table_row(const struct db_cdr *c, void *arg)
{
	struct cdr_lines *t = arg;
	if (t->oom)
		return;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct cdr_line *l = realloc(t->l, cap * sizeof(*l));
		if (!l) {
			t->oom = true;
			return;
		}
		t->l = l;
		t->cap = cap;
	}
	struct cdr_line *w = &t->l[t->n++];
	snprintf(w->id, sizeof(w->id), "%lld", (long long)c->id);
	local_time(w->start, sizeof(w->start), c->start_ms);
	snprintf(w->caller, sizeof(w->caller), "%s", c->caller);
	snprintf(w->callee, sizeof(w->callee), "%s", c->callee);
	snprintf(w->disp, sizeof(w->disp), "%s", c->disposition);
	cli_duration(w->dur, sizeof(w->dur), c->duration_s > 0 ? (unsigned)c->duration_s : 0);
	cli_duration(w->bill, sizeof(w->bill), c->billsec > 0 ? (unsigned)c->billsec : 0);
	/* "callee: busy (486)" */
	char status[16] = "";
	if (c->hangup_status)
		snprintf(status, sizeof(status), " (%d)", c->hangup_status);
	snprintf(w->hangup, sizeof(w->hangup), "%s%s%s%s", c->hangup_side,
		 c->hangup_side[0] && c->hangup_cause[0] ? ": " : "", c->hangup_cause, status);
	snprintf(w->codec, sizeof(w->codec), "%s", c->codec);
	snprintf(w->path, sizeof(w->path), "%s", c->path);
}

static int print_table(const struct cdr_lines *t)
{
	const char **cells = calloc(t->n * NCOLS, sizeof(*cells));
	if (!cells)
		return cli_fail("out of memory");
	for (size_t i = 0; i < t->n; i++) {
		const struct cdr_line *w = &t->l[i];
		const char **row = cells + i * NCOLS;
		row[0] = w->id;
		row[1] = w->start;
		row[2] = w->caller;
		row[3] = w->callee;
		row[4] = w->disp;
		row[5] = w->dur;
		row[6] = w->bill;
		row[7] = w->hangup;
		row[8] = w->codec;
		row[9] = w->path;
	}
	static const char *const head[NCOLS] = { "ID",	     "START",	"CALLER",
						 "CALLEE",   "DISPOSITION", "DURATION",
						 "BILLSEC",  "HANGUP",	"CODEC",
						 "PATH" };
	table_print(stdout, NCOLS, head, "r    rr   ", cells, t->n);
	free(cells);
	return CLI_OK;
}

/* --- the command ---------------------------------------------------------- */

static int parse_filter(const char *from, const char *to, const char *number,
			const char *disp, const char *limit, struct db_cdr_filter *f)
{
	const char *when = "a date YYYY-MM-DD or YYYY-MM-DDTHH:MM (local time)";
	if (from && parse_when(from, false, &f->from_ms))
		return cli_usage(U_CDR, "--from: %s, not '%s'", when, from);
	if (to && parse_when(to, true, &f->to_ms))
		return cli_usage(U_CDR, "--to: %s, not '%s'", when, to);
	if (from && to && f->from_ms >= f->to_ms)
		return cli_usage(U_CDR, "--from is after --to");
	if (number) {
		if (!*number || strlen(number) >= sizeof(((struct db_cdr *)0)->caller))
			return cli_usage(U_CDR, "--number: 1 to 63 characters");
		f->number = number;
	}
	if (disp && !(f->disposition = parse_disposition(disp)))
		return cli_usage(U_CDR, "--disposition: answered, voicemail, no-answer, busy, failed or "
					"cancelled, not '%s'",
				 disp);
	f->limit = LIMIT_DEFAULT;
	if (limit) {
		char *end;
		errno = 0;
		long v = strtol(limit, &end, 10);
		if (end == limit || *end || errno || v < 1 || v > LIMIT_MAX)
			return cli_usage(U_CDR, "--limit: a number from 1 to %d", LIMIT_MAX);
		f->limit = (int)v;
	}
	return CLI_OK;
}

int cli_cmd_cdr(struct cli *c, int argc, char **argv)
{
	const char *from = NULL, *to = NULL, *number = NULL, *disp = NULL, *limit = NULL;
	bool csv = false;
	const struct cli_opt opts[] = {
		{ "from", true, &from, NULL },
		{ "to", true, &to, NULL },
		{ "number", true, &number, NULL },
		{ "disposition", true, &disp, NULL },
		{ "limit", true, &limit, NULL },
		{ "csv", false, NULL, &csv },
		{ 0 },
	};
	int rc = cli_parse(argc, argv, opts, NULL, 0, 0, NULL, U_CDR);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	struct db_cdr_filter f = { 0 };
	if ((rc = parse_filter(from, to, number, disp, limit, &f)))
		return rc;

	struct db *db;
	if ((rc = cli_db_open(c, &db, false)))
		return rc;
	struct cdr_lines t = { 0 };
	int n;
	if (csv) {
		/* Streamed: an export of many rows needs no memory. */
		fputs(csv_head, stdout);
		n = db_cdr_list(db, &f, csv_row, stdout);
	} else {
		n = db_cdr_list(db, &f, table_row, &t);
	}
	if (n < 0)
		rc = cli_fail("cannot read call records: %s", db_errmsg(db));
	else if (t.oom)
		rc = cli_fail("out of memory");
	db_close(db);
	if (!rc && !csv) {
		bool filtered = from || to || number || disp;
		if (!t.n)
			printf("no call records%s\n", filtered ? " match" : " yet");
		else if (!(rc = print_table(&t))) {
			char zone[128]; /* the web's history names the same zone */
			tz_name(zone, sizeof(zone));
			printf("(times in %s)\n", zone);
		}
	}
	free(t.l);
	if (!rc && fflush(stdout) != 0)
		rc = cli_fail("cannot write the output: %s", strerror(errno));
	return rc;
}
