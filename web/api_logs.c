/*
 * The status page's data beyond the loop's counters, and the daemon's
 * recent log. GET /api/v1/logs?level=info&since=SEQ&limit=N answers the
 * newest N (default all) of the kept lines after SEQ (core/base/log.c
 * keeps the last LOG_RING_LINES) at or above a level, and "next", the
 * SEQ to ask after; GET /api/v1/logs/stream is the same as Server-Sent Events
 * (event "log", fed by the hub of sse.c once a tick), so the page shows
 * new lines as they are written without polling. web_status_more adds to
 * /api/v1/status what an admin looks at when something is wrong: the
 * threads and their CPU, the process's CPU over the last interval, the
 * data directory's free space, recent failed registrations (the
 * authentication failures the log kept) and failed calls (CDRs not
 * answered). Admin only (the route table).
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "../core/pbx/pbx_web.h"
#include "web_int.h"

#define LINES_MAX LOG_RING_LINES
#define STREAM_BATCH 500 /* lines per event; the rest go on the next tick */
#define FAILED_REGS_MAX 20
#define FAILED_CALLS_MAX 20

/* The lines after since at or above level: the oldest limit of them
 * (tail false: a stream going on from where it was), or the newest limit
 * (tail true: what a page shows first). */
static json_t *lines_json(uint64_t since, int level, size_t limit, bool tail, uint64_t *next)
{
	size_t cap = tail ? LOG_RING_LINES : limit;
	struct log_line *v = malloc(cap * sizeof(*v));
	if (!v)
		return NULL;
	uint64_t nx = since;
	size_t n = pbx_web_logs(since, level, v, cap, &nx);
	json_t *a = json_array();
	for (size_t i = n > limit ? n - limit : 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "seq", json_integer((json_int_t)v[i].seq));
		json_object_set_new(o, "time", json_integer(v[i].time_ms));
		json_object_set_new(o, "level", json_string(log_level_name(v[i].level)));
		json_object_set_new(o, "tag", web_jstr(v[i].tag));
		json_object_set_new(o, "text", web_jstr(v[i].text));
		json_array_append_new(a, o);
	}
	free(v);
	json_t *o = json_object();
	json_object_set_new(o, "lines", a);
	json_object_set_new(o, "next", json_integer((json_int_t)nx));
	if (next)
		*next = nx;
	return o;
}

json_t *web_log_lines_json(uint64_t since, int level, uint64_t *next)
{
	return lines_json(since, level, STREAM_BATCH, false, next);
}

/* level= and since= of both routes; false having answered 400. */
static bool log_query(struct web_req *r, int *level, uint64_t *since)
{
	*level = LOG_DEBUG;
	*since = 0;
	const char *v = web_query(r, "level");
	if (v && (*level = log_level_parse(v)) < 0) {
		web_error(r, 400, "level: one of error, warn, info, debug", "level");
		return false;
	}
	v = web_query(r, "since");
	if (v) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(v, &end, 10);
		if (!*v || *end || errno || strspn(v, "0123456789") != strlen(v)) {
			web_error(r, 400, "since: the seq of the last line seen (a whole number)",
				  "since");
			return false;
		}
		*since = n;
	}
	return true;
}

void web_api_logs(struct web_req *r)
{
	int level;
	uint64_t since;
	if (!log_query(r, &level, &since))
		return;
	long limit = LINES_MAX;
	const char *v = web_query(r, "limit");
	if (v) {
		char *end;
		limit = strtol(v, &end, 10);
		if (!*v || *end || limit < 1 || limit > LINES_MAX) {
			web_error(r, 400, "limit: a whole number from 1 to 2000", "limit");
			return;
		}
	}
	json_t *o = lines_json(since, level, (size_t)limit, true, NULL);
	if (!o) {
		web_error(r, 500, "out of memory", NULL);
		return;
	}
	web_json(r, 200, o);
}

void web_api_logs_stream(struct web_req *r)
{
	int level;
	uint64_t since;
	if (!log_query(r, &level, &since))
		return;
	/* without since= the stream starts at what is written from now on
	 * (the page fetched the history with GET /api/v1/logs) */
	if (!web_query(r, "since")) {
		struct log_line l;
		pbx_web_logs(UINT64_MAX - 1, LOG_DEBUG, &l, 0, &since);
	}
	web_sse_open(r, level, since);
}

/* --- the status page's extra figures --------------------------------------------- */

/* The process CPU over the interval since the previous status request
 * (any admin's): what a page refreshing every few seconds wants, rather
 * than the average since start. The first request after start has no
 * previous sample and reports the average over the uptime. */
static pthread_mutex_t cpu_mu = PTHREAD_MUTEX_INITIALIZER;
static double cpu_prev_s;
static uint64_t cpu_prev_ms;

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void cpu_interval(json_t *pr, double cpu_s, uint64_t uptime_s)
{
	uint64_t now = mono_ms();
	pthread_mutex_lock(&cpu_mu);
	double pct, over_s;
	if (cpu_prev_ms && now - cpu_prev_ms >= 200) {
		over_s = (double)(now - cpu_prev_ms) / 1000.0;
		pct = 100.0 * (cpu_s - cpu_prev_s) / over_s;
	} else if (cpu_prev_ms) {
		/* asked twice within 200 ms: too short to mean anything; the
		 * previous sample stays the base */
		pthread_mutex_unlock(&cpu_mu);
		json_object_set_new(pr, "cpu_percent", json_null());
		json_object_set_new(pr, "cpu_interval_s", json_real(0));
		return;
	} else {
		over_s = (double)uptime_s;
		pct = uptime_s ? 100.0 * cpu_s / (double)uptime_s : 0.0;
	}
	cpu_prev_s = cpu_s;
	cpu_prev_ms = now;
	pthread_mutex_unlock(&cpu_mu);
	json_object_set_new(pr, "cpu_percent", json_real(pct < 0 ? 0 : pct));
	json_object_set_new(pr, "cpu_interval_s", json_real(over_s));
}

/* What a thread of ours is, by the name it gave itself. */
static const char *thread_role(const char *name, bool main_thread)
{
	static const struct {
		const char *prefix, *role;
	} t[] = {
		{ "hf-media", "media worker" }, { "hf-store", "store (database writer)" },
		{ "hf-jobs", "jobs (e-mail, blocking work)" }, { "hf-backup", "scheduled backup" },
	};
	if (main_thread)
		return "signalling loop";
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strncmp(name, t[i].prefix, strlen(t[i].prefix)))
			return t[i].role;
	return "web and other";
}

/* /proc/self/task/TID/stat: CPU seconds of one thread (fields 14, 15). */
static double thread_cpu(const char *tid)
{
	char path[320], buf[512];
	snprintf(path, sizeof(path), "/proc/self/task/%s/stat", tid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	unsigned long long ut = 0, st = 0;
	/* after ")": state, then fields 4.. ; utime is the 12th token */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return 0;
	long tck = sysconf(_SC_CLK_TCK);
	return tck > 0 ? (double)(ut + st) / (double)tck : 0;
}

static json_t *threads_json(void)
{
	json_t *a = json_array();
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return a;
	char pid[24];
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[320], name[32] = "";
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		FILE *f = fopen(path, "re");
		if (f) {
			if (fgets(name, sizeof(name), f))
				name[strcspn(name, "\n")] = '\0';
			fclose(f);
		}
		json_t *o = json_object();
		json_object_set_new(o, "tid", json_integer(atol(e->d_name)));
		json_object_set_new(o, "name", web_jstr(name));
		json_object_set_new(o, "role",
				    json_string(thread_role(name, !strcmp(e->d_name, pid))));
		json_object_set_new(o, "cpu_seconds", json_real(thread_cpu(e->d_name)));
		json_array_append_new(a, o);
	}
	closedir(d);
	return a;
}

static json_t *failed_regs_json(void)
{
	/* the authentication failures the log kept (core/ident/authn.c logs
	 * each at info, naming the source and the user) */
	json_t *a = json_array();
	struct log_line *v = malloc(LOG_RING_LINES * sizeof(*v));
	if (!v)
		return a;
	size_t n = pbx_web_logs(0, LOG_INFO, v, LOG_RING_LINES, NULL);
	for (size_t i = n; i-- > 0 && json_array_size(a) < FAILED_REGS_MAX;) {
		if (strcmp(v[i].tag, "authn") || !strstr(v[i].text, "authentication failed"))
			continue;
		json_t *o = json_object();
		json_object_set_new(o, "time", json_integer(v[i].time_ms));
		json_object_set_new(o, "text", web_jstr(v[i].text));
		json_array_append_new(a, o);
	}
	free(v);
	return a;
}

static void on_cdr(const struct db_cdr *c, void *arg)
{
	json_t *a = arg;
	if (json_array_size(a) >= FAILED_CALLS_MAX || !strcmp(c->disposition, "ANSWERED") ||
	    !strcmp(c->disposition, "VOICEMAIL"))
		return;
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(c->id));
	json_object_set_new(o, "start_ms", json_integer(c->start_ms));
	json_object_set_new(o, "caller", web_jstr(c->caller));
	json_object_set_new(o, "callee", web_jstr(c->callee));
	json_object_set_new(o, "disposition", web_jstr(c->disposition));
	json_object_set_new(o, "hangup_status", json_integer(c->hangup_status));
	json_object_set_new(o, "hangup_cause", web_jstr(c->hangup_cause));
	json_array_append_new(a, o);
}

void web_status_more(struct web_req *r, json_t *o, double cpu_s, uint64_t uptime_s)
{
	json_t *pr = json_object_get(o, "process");
	if (pr)
		cpu_interval(pr, cpu_s, uptime_s);
	json_object_set_new(o, "threads", threads_json());
	struct statvfs sv;
	json_t *disk = json_object();
	json_object_set_new(disk, "path", web_jstr(r->w->conf.data_dir));
	if (!statvfs(r->w->conf.data_dir, &sv)) {
		json_object_set_new(disk, "free_bytes",
				    json_integer((json_int_t)((uint64_t)sv.f_bavail * sv.f_frsize)));
		json_object_set_new(disk, "total_bytes",
				    json_integer((json_int_t)((uint64_t)sv.f_blocks * sv.f_frsize)));
	}
	json_object_set_new(o, "disk", disk);
	struct pbx_web_mail m;
	json_t *mail = json_object();
	if (!pbx_web_email_status(r->w->pw, &m)) {
		json_object_set_new(mail, "configured", json_boolean(m.configured));
		json_object_set_new(mail, "pending", json_integer(m.pending));
		json_object_set_new(mail, "last_error", web_jstr(m.last_error));
	}
	json_object_set_new(o, "mailer", mail);
	json_object_set_new(o, "failed_registrations", failed_regs_json());
	json_t *calls = json_array();
	struct db *db = web_db(r);
	if (db) {
		struct db_cdr_filter f = { .limit = 200 };
		db_cdr_list(db, &f, on_cdr, calls);
	} else {
		/* the status answers without this list, not with web_db's 503 */
		free(r->resp.body);
		r->resp.body = NULL;
		r->resp.len = 0;
		r->resp.nhdr = 0;
		r->resp.status = 0;
	}
	json_object_set_new(o, "failed_calls", calls);
}
