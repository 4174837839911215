/*
 * GET /api/v1/events: live calls and registrations as Server-Sent Events.
 *
 * Why this shape: the HTTPS daemon keeps its small pool of worker threads
 * (a thread per connection would let 32 idle browser tabs cost 32
 * threads). A stream is an MHD callback response; when it has nothing to
 * send, its reader suspends the connection (MHD_suspend_connection), which
 * takes it out of the worker's poll set, and returns 0. One hub thread
 * of ours wakes every second while any stream is open, asks the
 * signalling loop for the calls and registrations (pbx_web, the same
 * bounded request the JSON endpoints make: one per tick, however many
 * streams), and for each stream whose filtered view changed appends an
 * event and resumes the connection. Whoever flips a stream from
 * suspended to not suspended (the hub, or shutdown) resumes it, and
 * nobody else, so a connection is never resumed twice and never freed
 * while suspended (MHD cannot finish a suspended request).
 *
 * Events: "calls" {"calls": [...]} and "registrations"
 * {"registrations": [...]} with the fields of GET /api/v1/calls and
 * /registrations; each is sent on connect and then whenever the set
 * changes (a call's state, a contact appearing or going; the counting
 * fields duration_s and expires_in alone do not count as a change, the
 * page counts them itself). A comment line every 15 s keeps proxies and
 * the connection timeout happy. A role "user" sees only its extension's.
 * Event "voicemail" {"mailboxes": [{"mailbox", "new", "old"}]}: the
 * message counts of the mailboxes the stream may see, on connect and when
 * they change (a message left, listened to, deleted), read from the
 * database on the hub's own connection once a tick.
 * A stream opened with a session cookie ends when the session does
 * (logout, expiry); at most WEB_SSE_MAX streams are open at once (503),
 * at most WEB_SSE_PER_USER of them by one account (429, so one user's
 * tabs or script cannot take them all), and the last WEB_SSE_ADMIN_ROOM
 * only for an admin (an admin can always watch);
 * a client that went away is noticed within a tick (peer_gone).
 *
 * GET /api/v1/logs/stream (api_logs.c, admin only) is a stream of the
 * same hub that carries only event "log" {"lines": [...], "next": SEQ}:
 * the daemon's log lines at or above its level since the last tick.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/base/list.h"
#include "../core/base/log.h"
#include "../core/base/sbuf.h"
#include "../core/pbx/pbx_web.h"
#include "../db/voicemail.h"
#include "web_int.h"

#define TICK_MS 1000
#define KEEPALIVE_MS 15000
#define OUT_MAX (4u << 20) /* a client this far behind is dropped */
#define STOP_WAIT_MS 2000

struct web_sse_stream {
	struct list_node le; /* in hub->streams */
	struct web_sse *hub;
	struct MHD_Connection *conn;
	int fd; /* its socket, only polled, and only while suspended */
	bool admin;
	char user[DB_USER_NAME_MAX]; /* whose: the per-account cap */
	char ext[DB_EXT_NUMBER_MAX];
	bool session;
	char sid[65];
	/* under hub->mu */
	struct sbuf out;
	size_t sent;
	bool suspended, closing;
	char *last_calls, *last_regs, *last_vm; /* change keys of what was sent */
	uint64_t last_write;
	int log_level;    /* a log stream (api_logs.c): its level; -1 otherwise */
	uint64_t log_seq; /* ... the last line looked at */
};

struct web_sse {
	struct web_server *w;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* the hub's wake-up; also streams going away */
	pthread_t th;
	bool started, stopping;
	struct list streams; /* struct web_sse_stream, newest first */
	int n;
	struct db *db; /* the hub thread's, for the voicemail counts */
};

struct vm_count {
	char mailbox[DB_EXT_NUMBER_MAX];
	int nw, old;
};

static struct web_sse_stream *stream_of(struct list_node *n)
{
	return container_of(n, struct web_sse_stream, le);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void deadline_in(struct timespec *dl, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, dl);
	dl->tv_sec += ms / 1000;
	dl->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (dl->tv_nsec >= 1000000000L) {
		dl->tv_sec++;
		dl->tv_nsec -= 1000000000L;
	}
}

/* --- the MHD side (worker threads) ------------------------------------------ */

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct web_sse_stream *s = cls;
	struct web_sse *hub = s->hub;
	(void)pos;
	pthread_mutex_lock(&hub->mu);
	if (s->out.len > s->sent) {
		size_t n = s->out.len - s->sent;
		if (n > max)
			n = max;
		memcpy(buf, s->out.p + s->sent, n);
		s->sent += n;
		if (s->sent == s->out.len)
			s->out.len = s->sent = 0;
		pthread_mutex_unlock(&hub->mu);
		return (ssize_t)n;
	}
	if (s->closing) {
		pthread_mutex_unlock(&hub->mu);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	/* nothing to say: out of the poll set until the hub has something */
	s->suspended = true;
	MHD_suspend_connection(s->conn);
	pthread_mutex_unlock(&hub->mu);
	return 0;
}

static void stream_free(void *cls)
{
	struct web_sse_stream *s = cls;
	struct web_sse *hub = s->hub;
	pthread_mutex_lock(&hub->mu);
	list_remove(&hub->streams, &s->le);
	hub->n--;
	pthread_cond_broadcast(&hub->cv);
	pthread_mutex_unlock(&hub->mu);
	sbuf_free(&s->out);
	free(s->last_calls);
	free(s->last_regs);
	free(s->last_vm);
	explicit_bzero(s->sid, sizeof(s->sid));
	free(s);
}

struct MHD_Response *web_sse_response(struct web_sse_stream *s)
{
	struct MHD_Response *m =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, s, stream_free);
	if (!m)
		stream_free(s);
	return m;
}

/* --- the hub ------------------------------------------------------------------ */

static void event(struct web_sse_stream *s, const char *name, json_t *data, uint64_t now)
{
	char *text = json_dumps(data, JSON_COMPACT);
	if (text) {
		sbuf_printf(&s->out, "event: %s\ndata: %s\n\n", name, text);
		s->last_write = now;
	}
	free(text);
}

/* Replaces *last with key and returns true when it differs. */
static bool changed(char **last, struct sbuf *key)
{
	const char *k = key->p ? key->p : "";
	if (*last && !strcmp(*last, k))
		return false;
	free(*last);
	*last = strdup(k);
	return true;
}

static bool calls_visible(const struct web_sse_stream *s, const struct pbx_web_call *c)
{
	return s->admin || (s->ext[0] && (!strcmp(c->caller, s->ext) || !strcmp(c->callee, s->ext)));
}

static void send_calls(struct web_sse_stream *s, const struct pbx_web_call *v, size_t n,
		       uint64_t now)
{
	struct sbuf key;
	sbuf_init(&key);
	for (size_t i = 0; i < n; i++)
		if (calls_visible(s, &v[i]))
			sbuf_printf(&key, "%u %s|", v[i].id, v[i].state);
	if (changed(&s->last_calls, &key)) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			if (calls_visible(s, &v[i]))
				json_array_append_new(a, web_call_json(&v[i]));
		json_t *o = json_object();
		json_object_set_new(o, "calls", a);
		event(s, "calls", o, now);
		json_decref(o);
	}
	sbuf_free(&key);
}

static void send_regs(struct web_sse_stream *s, const struct pbx_web_reg *v, size_t n, uint64_t now)
{
	struct sbuf key;
	sbuf_init(&key);
	for (size_t i = 0; i < n; i++)
		if (s->admin || (s->ext[0] && !strcmp(v[i].ext, s->ext)))
			sbuf_printf(&key, "%s %s %s|", v[i].ext, v[i].contact, v[i].source);
	if (changed(&s->last_regs, &key)) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			if (s->admin || (s->ext[0] && !strcmp(v[i].ext, s->ext)))
				json_array_append_new(a, web_reg_json(&v[i]));
		json_t *o = json_object();
		json_object_set_new(o, "registrations", a);
		event(s, "registrations", o, now);
		json_decref(o);
	}
	sbuf_free(&key);
}

struct vm_list {
	struct vm_count *v;
	size_t n, cap;
	bool oom;
};

static void on_vm_ext(const struct db_ext *e, void *arg)
{
	struct vm_list *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct vm_count *v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			l->oom = true;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	struct vm_count *c = &l->v[l->n++];
	memset(c, 0, sizeof(*c));
	snprintf(c->mailbox, sizeof(c->mailbox), "%s", e->number);
}

/* Every mailbox's counts (malloc'd); false when the database cannot be
 * read now (the streams then wait for the next tick). */
static bool vm_counts(struct web_sse *hub, struct vm_count **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!hub->db && db_open(&hub->db, hub->w->db_path))
		return false;
	struct vm_list l = { 0 };
	bool ok = db_ext_list(hub->db, on_vm_ext, &l) >= 0 && !l.oom;
	for (size_t i = 0; ok && i < l.n; i++)
		ok = !db_vm_counts(hub->db, l.v[i].mailbox, &l.v[i].nw, &l.v[i].old);
	if (!ok) {
		free(l.v);
		return false;
	}
	*out = l.v;
	*n = l.n;
	return true;
}

static void send_vm(struct web_sse_stream *s, const struct vm_count *v, size_t n, uint64_t now)
{
	struct sbuf key;
	sbuf_init(&key);
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		if (!s->admin && (!s->ext[0] || strcmp(v[i].mailbox, s->ext)))
			continue;
		sbuf_printf(&key, "%s %d %d|", v[i].mailbox, v[i].nw, v[i].old);
		json_t *o = json_object();
		json_object_set_new(o, "mailbox", json_string(v[i].mailbox));
		json_object_set_new(o, "new", json_integer(v[i].nw));
		json_object_set_new(o, "old", json_integer(v[i].old));
		json_array_append_new(a, o);
	}
	if (changed(&s->last_vm, &key)) {
		json_t *o = json_object();
		json_object_set_new(o, "mailboxes", json_incref(a));
		event(s, "voicemail", o, now);
		json_decref(o);
	}
	json_decref(a);
	sbuf_free(&key);
}

/* Under hub->mu: a log stream's new lines (api_logs.c makes the JSON). */
static void send_logs(struct web_sse_stream *s, uint64_t now)
{
	json_t *o = web_log_lines_json(s->log_seq, s->log_level, &s->log_seq);
	if (o && json_array_size(json_object_get(o, "lines")))
		event(s, "log", o, now);
	json_decref(o);
}

/* An event stream's client never sends after its request, so anything
 * readable (a TLS close_notify, the FIN, a reset) means it has gone. MHD
 * would only notice at its next write, up to 15 s later; meanwhile the
 * place counts against WEB_SSE_MAX. Only looked at while the connection
 * is suspended: MHD then neither reads nor closes the socket. */
static bool peer_gone(int fd)
{
	if (fd < 0)
		return false;
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
	return poll(&p, 1, 0) > 0 && p.revents;
}

/* Under hub->mu: after the hub wrote, resumes what it took off the
 * suspended list (returned in wake, at most cap). */
static int collect_wake(struct web_sse *hub, struct MHD_Connection **wake, int cap)
{
	int nw = 0;
	struct list_node *n;
	list_foreach(&hub->streams, n) {
		if (nw == cap)
			break;
		struct web_sse_stream *s = stream_of(n);
		if (s->suspended && (s->out.len > s->sent || s->closing)) {
			s->suspended = false;
			wake[nw++] = s->conn;
		}
	}
	return nw;
}

static void *hub_main(void *arg)
{
	struct web_sse *hub = arg;
	struct web_server *w = hub->w;
	pthread_mutex_lock(&hub->mu);
	while (!hub->stopping) {
		if (hub->n == 0) {
			pthread_cond_wait(&hub->cv, &hub->mu);
			continue;
		}
		pthread_mutex_unlock(&hub->mu);
		/* the loop's view, once for every stream */
		struct pbx_web_call *calls = NULL;
		struct pbx_web_reg *regs = NULL;
		size_t nc = 0, nr = 0;
		int e1 = pbx_web_calls(w->pw, NULL, &calls, &nc);
		int e2 = e1 ? e1 : pbx_web_registrations(w->pw, NULL, &regs, &nr);
		struct vm_count *vm = NULL;
		size_t nv = 0;
		bool vm_ok = vm_counts(hub, &vm, &nv);
		uint64_t now = mono_ms();
		struct timespec dl;
		deadline_in(&dl, TICK_MS);
		pthread_mutex_lock(&hub->mu);
		struct list_node *n;
		list_foreach(&hub->streams, n) {
			struct web_sse_stream *s = stream_of(n);
			if (s->closing)
				continue;
			if (s->suspended && peer_gone(s->fd)) {
				s->closing = true;
				continue;
			}
			struct web_auth a;
			if (s->session && web_session_get(w->sessions, s->sid, &a)) {
				s->closing = true; /* logged out or expired */
				continue;
			}
			if (s->log_level >= 0) {
				send_logs(s, now);
			} else if (!e1 && !e2) {
				send_calls(s, calls, nc, now);
				send_regs(s, regs, nr, now);
			}
			if (vm_ok && s->log_level < 0)
				send_vm(s, vm, nv, now);
			if (now - s->last_write >= KEEPALIVE_MS) {
				sbuf_adds(&s->out, ": keep-alive\n\n");
				s->last_write = now;
			}
			if (s->out.err || s->out.len > OUT_MAX)
				s->closing = true;
		}
		free(calls);
		free(regs);
		free(vm);
		struct MHD_Connection *wake[WEB_SSE_MAX];
		int nw = collect_wake(hub, wake, WEB_SSE_MAX);
		pthread_mutex_unlock(&hub->mu);
		for (int i = 0; i < nw; i++)
			MHD_resume_connection(wake[i]);
		pthread_mutex_lock(&hub->mu);
		/* until the next tick, or a new stream wanting its first view */
		while (!hub->stopping && hub->n > 0)
			if (pthread_cond_timedwait(&hub->cv, &hub->mu, &dl) == ETIMEDOUT)
				break;
	}
	pthread_mutex_unlock(&hub->mu);
	return NULL;
}

/* --- the request ---------------------------------------------------------- */

void web_api_events(struct web_req *r)
{
	web_sse_open(r, -1, 0);
}

void web_sse_open(struct web_req *r, int log_level, uint64_t log_since)
{
	struct web_sse *hub = r->w->sse;
	struct web_sse_stream *s = calloc(1, sizeof(*s));
	if (!s) {
		web_error(r, 500, "out of memory", NULL);
		return;
	}
	s->hub = hub;
	s->conn = r->conn;
	s->log_level = log_level;
	s->log_seq = log_since;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	s->fd = ci ? ci->connect_fd : -1;
	s->admin = web_is_admin(r);
	snprintf(s->user, sizeof(s->user), "%s", r->auth.username);
	snprintf(s->ext, sizeof(s->ext), "%s", r->auth.extension);
	s->session = r->auth.session;
	snprintf(s->sid, sizeof(s->sid), "%s", r->auth.sid);
	sbuf_init(&s->out);
	/* ask the browser to come back after 3 s when the stream breaks */
	sbuf_adds(&s->out, "retry: 3000\n\n");
	s->last_write = mono_ms();
	pthread_mutex_lock(&hub->mu);
	int mine = 0;
	for (struct list_node *n = hub->streams.head; n; n = n->next)
		if (!strcmp(stream_of(n)->user, s->user))
			mine++;
	int room = s->admin ? WEB_SSE_MAX : WEB_SSE_MAX - WEB_SSE_ADMIN_ROOM;
	if (hub->stopping || hub->n >= room || mine >= WEB_SSE_PER_USER) {
		bool stopping = hub->stopping, full = hub->n >= room;
		pthread_mutex_unlock(&hub->mu);
		sbuf_free(&s->out);
		free(s);
		web_header(r, "Retry-After", "%d", 10);
		if (stopping || full) {
			web_error(r, 503, stopping ? "shutting down" : "too many event streams open",
				  NULL);
		} else {
			char msg[128];
			snprintf(msg, sizeof(msg),
				 "too many event streams open for this account (at most %d);"
				 " close another page first",
				 WEB_SSE_PER_USER);
			web_error(r, 429, msg, NULL);
		}
		return;
	}
	list_push_front(&hub->streams, &s->le);
	hub->n++;
	pthread_cond_broadcast(&hub->cv); /* the first views go out now */
	pthread_mutex_unlock(&hub->mu);
	r->sse = s;
	r->resp.status = 200;
	r->resp.ctype = "text/event-stream; charset=utf-8";
	web_header(r, "X-Accel-Buffering", "no");
}

/* --- life ------------------------------------------------------------------- */

int web_sse_alloc(struct web_sse **out, struct web_server *w)
{
	struct web_sse *hub = calloc(1, sizeof(*hub));
	if (!hub)
		return ENOMEM;
	hub->w = w;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int err = pthread_cond_init(&hub->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (err) {
		free(hub);
		return err;
	}
	pthread_mutex_init(&hub->mu, NULL);
	err = pthread_create(&hub->th, NULL, hub_main, hub);
	if (err) {
		pthread_cond_destroy(&hub->cv);
		pthread_mutex_destroy(&hub->mu);
		free(hub);
		return err;
	}
	hub->started = true;
	*out = hub;
	return 0;
}

void web_sse_stop(struct web_sse *hub)
{
	if (!hub)
		return;
	pthread_mutex_lock(&hub->mu);
	hub->stopping = true;
	struct list_node *n;
	list_foreach(&hub->streams, n)
		stream_of(n)->closing = true;
	pthread_cond_broadcast(&hub->cv);
	pthread_mutex_unlock(&hub->mu);
	if (hub->started) {
		pthread_join(hub->th, NULL);
		hub->started = false;
	}
	/* each stream's reader now answers END_OF_STREAM; give clients a
	 * moment to be told, then MHD_stop_daemon closes whatever is left
	 * (none of it suspended, which MHD could not close) */
	struct timespec dl;
	deadline_in(&dl, STOP_WAIT_MS);
	pthread_mutex_lock(&hub->mu);
	for (;;) {
		struct MHD_Connection *wake[WEB_SSE_MAX];
		int nw = collect_wake(hub, wake, WEB_SSE_MAX);
		pthread_mutex_unlock(&hub->mu);
		for (int i = 0; i < nw; i++)
			MHD_resume_connection(wake[i]);
		pthread_mutex_lock(&hub->mu);
		if (hub->n == 0 || pthread_cond_timedwait(&hub->cv, &hub->mu, &dl) == ETIMEDOUT)
			break;
	}
	bool left_suspended = false;
	list_foreach(&hub->streams, n)
		left_suspended |= stream_of(n)->suspended;
	pthread_mutex_unlock(&hub->mu);
	if (left_suspended)
		log_warn(WEB_TAG, "an event stream is still suspended at shutdown");
}

void web_sse_free(struct web_sse *hub)
{
	if (!hub)
		return;
	web_sse_stop(hub);
	db_close(hub->db); /* its thread has ended */
	pthread_cond_destroy(&hub->cv);
	pthread_mutex_destroy(&hub->mu);
	free(hub);
}
