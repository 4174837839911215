/*
 * Live state, asked of the signalling loop through pbx_web (a copy made
 * on the loop, answered within 2 s or 503): registrations, calls (and
 * hanging one up), bans (and lifting one), /status, and the Prometheus
 * /metrics. The process's own CPU time and memory come from /proc/self,
 * read here on the web thread. A role "user" sees only its extension's
 * registrations and calls.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/base/sbuf.h"
#include "../core/pbx/pbx_web.h"
#include "web_int.h"

#ifndef HF_VERSION
#define HF_VERSION "0.0.0"
#endif

/* The filter for a role "user": its extension; NULL for admins. Returns
 * false when the user owns no extension (it then sees nothing). */
static bool own_filter(const struct web_req *r, const char **ext)
{
	*ext = NULL;
	if (web_is_admin(r))
		return true;
	*ext = r->auth.extension;
	return r->auth.extension[0] != '\0';
}

static void list_answer(struct web_req *r, const char *name, json_t *a)
{
	json_t *o = json_object();
	json_object_set_new(o, name, a);
	web_json(r, 200, o);
}

json_t *web_reg_json(const struct pbx_web_reg *g)
{
	json_t *o = json_object();
	json_object_set_new(o, "extension", web_jstr(g->ext));
	json_object_set_new(o, "contact", web_jstr(g->contact));
	json_object_set_new(o, "source", web_jstr(g->source));
	json_object_set_new(o, "expires_in", json_integer(g->expires_in));
	json_object_set_new(o, "user_agent", web_jstr(g->user_agent));
	return o;
}

json_t *web_call_json(const struct pbx_web_call *c)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(c->id));
	json_object_set_new(o, "caller", web_jstr(c->caller));
	json_object_set_new(o, "callee", web_jstr(c->callee));
	json_object_set_new(o, "state", web_jstr(c->state));
	json_object_set_new(o, "duration_s", json_integer(c->duration_s));
	json_object_set_new(o, "codec", web_jstr(c->codec));
	return o;
}

void web_api_registrations(struct web_req *r)
{
	const char *ext;
	struct pbx_web_reg *v = NULL;
	size_t n = 0;
	if (own_filter(r, &ext)) {
		int err = pbx_web_registrations(r->w->pw, ext, &v, &n);
		if (err) {
			web_loop_error(r, err);
			return;
		}
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, web_reg_json(&v[i]));
	free(v);
	list_answer(r, "registrations", a);
}

void web_api_calls(struct web_req *r)
{
	const char *ext;
	struct pbx_web_call *v = NULL;
	size_t n = 0;
	if (own_filter(r, &ext)) {
		int err = pbx_web_calls(r->w->pw, ext, &v, &n);
		if (err) {
			web_loop_error(r, err);
			return;
		}
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, web_call_json(&v[i]));
	free(v);
	list_answer(r, "calls", a);
}

void web_api_call_hangup(struct web_req *r)
{
	const char *s = r->arg[0];
	char *end;
	unsigned long long id = strtoull(s, &end, 10);
	if (strspn(s, "0123456789") != strlen(s) || *end || !id || id > UINT32_MAX) {
		web_error(r, 400, "id: a call id from GET /api/v1/calls", "id");
		return;
	}
	int err = pbx_web_hangup(r->w->pw, (uint32_t)id);
	if (err == ENOENT)
		web_error(r, 404, "call not found", NULL);
	else if (err)
		web_loop_error(r, err);
	else
		web_no_content(r);
}

json_t *web_ban_json(const struct pbx_web_ban *b)
{
	json_t *o = json_object();
	json_object_set_new(o, "address", web_jstr(b->addr));
	json_object_set_new(o, "user", web_jstr(b->user));
	json_object_set_new(o, "scope", json_string(b->user_only ? "user" : "address"));
	json_object_set_new(o, "failures", json_integer(b->failures));
	return o;
}

void web_api_bans(struct web_req *r)
{
	struct pbx_web_ban *v = NULL;
	size_t n = 0;
	int err = pbx_web_bans(r->w->pw, &v, &n);
	if (err) {
		web_loop_error(r, err);
		return;
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = web_ban_json(&v[i]);
		json_object_set_new(o, "banned_for_s", json_integer(v[i].banned_for_s));
		json_array_append_new(a, o);
	}
	free(v);
	list_answer(r, "bans", a);
}

void web_api_ban_lift(struct web_req *r)
{
	const char *addr = r->arg[0];
	if (strspn(addr, "0123456789abcdefABCDEF.:") != strlen(addr)) {
		web_error(r, 400, "address: an IPv4 or IPv6 address", "address");
		return;
	}
	int err = pbx_web_unban(r->w->pw, addr);
	if (err == ENOENT)
		web_error(r, 404, "that address is not banned", NULL);
	else if (err)
		web_loop_error(r, err);
	else
		web_no_content(r);
}

/* --- process figures ------------------------------------------------------------ */

struct proc_self {
	double cpu_s;
	uint64_t rss_bytes;
	long threads;
};

/* /proc/self/stat: fields after the ")" that ends the command name (which
 * may hold spaces); utime and stime are fields 14-15, num_threads 20, rss
 * (pages) 24. */
static void read_proc(struct proc_self *ps)
{
	memset(ps, 0, sizeof(*ps));
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "re");
	if (!f)
		return;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p)
		return;
	unsigned long long field[24] = { 0 };
	p++;
	for (int i = 3; i <= 24 && *p; i++) {
		while (*p == ' ')
			p++;
		field[i - 1] = strtoull(p, &p, 10);
		if (i == 3) /* the state letter */
			while (*p && *p != ' ')
				p++;
	}
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	ps->cpu_s = tck > 0 ? (double)(field[13] + field[14]) / (double)tck : 0;
	ps->threads = (long)field[19];
	ps->rss_bytes = field[23] * (uint64_t)(page > 0 ? page : 4096);
}

void web_api_status(struct web_req *r)
{
	struct pbx_status s;
	int err = pbx_web_status(r->w->pw, &s);
	if (err) {
		web_loop_error(r, err);
		return;
	}
	struct proc_self ps;
	read_proc(&ps);
	json_t *o = json_object();
	json_object_set_new(o, "version", json_string(HF_VERSION));
	json_object_set_new(o, "uptime_s", json_integer((json_int_t)s.uptime_s));
	json_object_set_new(o, "started_at", json_integer((json_int_t)s.started_wall));
	json_object_set_new(o, "extensions", json_integer((json_int_t)s.extensions));
	json_object_set_new(o, "registrations", json_integer((json_int_t)s.registrations));
	json_object_set_new(o, "calls", json_integer((json_int_t)s.calls));
	json_object_set_new(o, "calls_total", json_integer((json_int_t)s.calls_started));
	json_object_set_new(o, "calls_answered", json_integer((json_int_t)s.calls_answered));
	json_object_set_new(o, "bans", json_integer((json_int_t)s.bans));
	json_object_set_new(o, "auth_failures", json_integer((json_int_t)s.auth_failures));
	json_object_set_new(o, "reloads", json_integer((json_int_t)s.reloads));
	json_t *sip = json_object();
	json_object_set_new(sip, "received", json_integer((json_int_t)s.sip_rx));
	json_object_set_new(sip, "sent", json_integer((json_int_t)s.sip_tx));
	json_object_set_new(sip, "invalid", json_integer((json_int_t)s.sip_rx_bad));
	json_object_set_new(sip, "transactions", json_integer((json_int_t)s.transactions));
	json_object_set_new(sip, "tcp_connections", json_integer((json_int_t)s.tcp_connections));
	json_object_set_new(o, "sip", sip);
	json_t *rtp = json_object();
	json_object_set_new(rtp, "packets_relayed", json_integer((json_int_t)s.rtp_relayed));
	json_object_set_new(rtp, "packets_lost", json_integer((json_int_t)s.rtp_lost));
	json_object_set_new(o, "rtp", rtp);
	json_t *pr = json_object();
	json_object_set_new(pr, "cpu_seconds", json_real(ps.cpu_s));
	/* average over the uptime: one core fully busy is 100 */
	json_object_set_new(pr, "cpu_percent_avg",
			    json_real(s.uptime_s ? 100.0 * ps.cpu_s / (double)s.uptime_s : 0.0));
	json_object_set_new(pr, "rss_bytes", json_integer((json_int_t)ps.rss_bytes));
	json_object_set_new(pr, "threads", json_integer(ps.threads));
	json_object_set_new(o, "process", pr);
	web_status_more(r, o, ps.cpu_s, s.uptime_s);
	web_json(r, 200, o);
}

/* --- Prometheus ------------------------------------------------------------------ */

static void metric(struct sbuf *b, const char *name, const char *type, const char *help)
{
	sbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void web_api_metrics(struct web_req *r)
{
	struct pbx_status s;
	int err = pbx_web_status(r->w->pw, &s);
	if (err) {
		web_loop_error(r, err);
		return;
	}
	struct proc_self ps;
	read_proc(&ps);
	struct sbuf b;
	sbuf_init(&b);
	metric(&b, "hookflash_build_info", "gauge", "Version of this Hookflash build.");
	sbuf_printf(&b, "hookflash_build_info{version=\"%s\"} 1\n", HF_VERSION);
	metric(&b, "hookflash_calls_active", "gauge", "Calls in progress.");
	sbuf_printf(&b, "hookflash_calls_active %zu\n", s.calls);
	metric(&b, "hookflash_calls_started_total", "counter", "Calls set up since start.");
	sbuf_printf(&b, "hookflash_calls_started_total %llu\n", (unsigned long long)s.calls_started);
	metric(&b, "hookflash_calls_total", "counter",
	       "Calls since start by outcome (answered counts at answer, the others at the end).");
	const struct {
		const char *label;
		uint64_t v;
	} disp[] = { { "answered", s.calls_answered }, { "busy", s.calls_busy },
		     { "no_answer", s.calls_no_answer }, { "cancelled", s.calls_cancelled },
		     { "failed", s.calls_failed } };
	for (size_t i = 0; i < sizeof(disp) / sizeof(disp[0]); i++)
		sbuf_printf(&b, "hookflash_calls_total{disposition=\"%s\"} %llu\n", disp[i].label,
			    (unsigned long long)disp[i].v);
	metric(&b, "hookflash_registrations", "gauge", "Registered contacts.");
	sbuf_printf(&b, "hookflash_registrations %zu\n", s.registrations);
	metric(&b, "hookflash_extensions", "gauge", "Configured extensions.");
	sbuf_printf(&b, "hookflash_extensions %zu\n", s.extensions);
	metric(&b, "hookflash_sip_messages_total", "counter", "SIP messages by direction.");
	sbuf_printf(&b, "hookflash_sip_messages_total{direction=\"in\"} %llu\n",
		    (unsigned long long)s.sip_rx);
	sbuf_printf(&b, "hookflash_sip_messages_total{direction=\"out\"} %llu\n",
		    (unsigned long long)s.sip_tx);
	metric(&b, "hookflash_sip_messages_invalid_total", "counter",
	       "SIP messages received that could not be parsed or were too big.");
	sbuf_printf(&b, "hookflash_sip_messages_invalid_total %llu\n",
		    (unsigned long long)s.sip_rx_bad);
	metric(&b, "hookflash_sip_transactions", "gauge", "SIP transactions in memory.");
	sbuf_printf(&b, "hookflash_sip_transactions %zu\n", s.transactions);
	metric(&b, "hookflash_auth_failures_total", "counter", "Failed SIP authentications.");
	sbuf_printf(&b, "hookflash_auth_failures_total %llu\n", (unsigned long long)s.auth_failures);
	metric(&b, "hookflash_bans", "gauge", "Sources banned after failed authentication.");
	sbuf_printf(&b, "hookflash_bans %zu\n", s.bans);
	metric(&b, "hookflash_rtp_packets_relayed_total", "counter",
	       "RTP packets relayed towards the phones (all media workers).");
	sbuf_printf(&b, "hookflash_rtp_packets_relayed_total %llu\n",
		    (unsigned long long)s.rtp_relayed);
	metric(&b, "hookflash_rtp_packets_lost_total", "counter",
	       "RTP packets lost (RFC 3550), summed over finished calls' legs.");
	sbuf_printf(&b, "hookflash_rtp_packets_lost_total %llu\n", (unsigned long long)s.rtp_lost);
	metric(&b, "hookflash_uptime_seconds", "gauge", "Seconds since hookflashd started.");
	sbuf_printf(&b, "hookflash_uptime_seconds %llu\n", (unsigned long long)s.uptime_s);
	metric(&b, "process_cpu_seconds_total", "counter", "CPU time of hookflashd (user+system).");
	sbuf_printf(&b, "process_cpu_seconds_total %.2f\n", ps.cpu_s);
	metric(&b, "process_resident_memory_bytes", "gauge", "Resident memory of hookflashd.");
	sbuf_printf(&b, "process_resident_memory_bytes %llu\n", (unsigned long long)ps.rss_bytes);
	metric(&b, "process_start_time_seconds", "gauge", "Start time of hookflashd (unix).");
	sbuf_printf(&b, "process_start_time_seconds %lld\n", (long long)s.started_wall);
	if (b.err || !b.p) {
		sbuf_free(&b);
		web_error(r, 500, "out of memory", NULL);
		return;
	}
	web_body(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.p, b.len);
}
