/*
 * The web server's life and one request's life. libmicrohttpd runs an
 * HTTPS daemon per bind address with a small pool of worker threads (a
 * handler may block briefly: a password KDF, a database read, a bounded
 * wait for the signalling loop), and a plain HTTP daemon per bind address
 * whose only answer is a 308 to the same path on HTTPS, so a typed-in
 * "http://pbx/" still lands on the encrypted UI. Every answer leaves
 * through queue_answer(), which adds the security headers (HSTS on
 * HTTPS). Connections are limited per address and given deadlines by
 * guard.c; a request body is counted as it arrives: past the limit it is
 * read and dropped up to WEB_DRAIN_MAX more and answered 413, and one
 * that goes on past that (chunked, announcing no length) is not read to
 * its end: the connection is closed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../core/base/log.h"
#include "../core/base/sbuf.h"
#include "../core/pbx/pbx_web.h"
#include "../db/voicemail.h"
#include "web_int.h"

/* Only TLS 1.2 and 1.3: nothing an admin's browser lacks. */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define CONN_TIMEOUT_S 30 /* idle (MHD's timer: any byte resets it) */
/* a browser keeps to HTTPS for a year once it has seen us over it */
#define HSTS "max-age=31536000"

static const char csp[] = "default-src 'self'; frame-ancestors 'none'; object-src 'none'; "
			  "base-uri 'none'";

/* --- answers ---------------------------------------------------------------- */

static enum MHD_Result queue_answer(struct web_req *r)
{
	struct web_resp *rs = &r->resp;
	if (!rs->status)
		web_error(r, 500, "internal error: no answer", NULL);
	struct MHD_Response *m;
	if (r->sse) { /* an event stream (sse.c) */
		m = web_sse_response(r->sse);
		r->sse = NULL;
	} else if (rs->file) { /* streamed from the file as MHD sends */
		m = MHD_create_response_from_fd_at_offset64(rs->fd_len, rs->fd, rs->fd_off);
		if (m)
			rs->file = false; /* MHD closes it */
	} else {
		m = MHD_create_response_from_buffer(rs->len, rs->body ? rs->body : (char *)"",
						    rs->body ? MHD_RESPMEM_MUST_FREE
							     : MHD_RESPMEM_PERSISTENT);
		if (m)
			rs->body = NULL; /* MHD owns it now */
	}
	if (!m)
		return MHD_NO;
	if (rs->ctype)
		MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE, rs->ctype);
	MHD_add_response_header(m, "Content-Security-Policy", csp);
	MHD_add_response_header(m, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(m, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(m, "X-Frame-Options", "DENY");
	MHD_add_response_header(m, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(m, "Cross-Origin-Resource-Policy", "same-origin");
	if (!r->plain)
		MHD_add_response_header(m, "Strict-Transport-Security", HSTS);
	/* API answers carry sessions, tokens and passwords shown once: no
	 * cache may keep them. The static UI is revalidated each time. */
	bool api = r->url && !strncmp(r->url, "/api/", 5);
	MHD_add_response_header(m, MHD_HTTP_HEADER_CACHE_CONTROL, api ? "no-store" : "no-cache");
	for (int i = 0; i < rs->nhdr; i++)
		MHD_add_response_header(m, rs->hdr[i].name, rs->hdr[i].value);
	enum MHD_Result ret = MHD_queue_response(r->conn, rs->status, m);
	MHD_destroy_response(m);
	return ret;
}

/* --- requests ---------------------------------------------------------------- */

static int method_of(const char *m)
{
	static const struct {
		const char *name;
		int m;
	} t[] = { { "GET", WM_GET },     { "HEAD", WM_HEAD },     { "POST", WM_POST },
		  { "PUT", WM_PUT },     { "PATCH", WM_PATCH },   { "DELETE", WM_DELETE } };
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(m, t[i].name))
			return t[i].m;
	return WM_OTHER;
}

static void source_key(struct MHD_Connection *c, char *out, size_t cap)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	web_source_key(ci ? ci->client_addr : NULL, out, cap);
}

static struct web_req *req_new(struct web_server *w, struct MHD_Connection *c, const char *url,
			       const char *method)
{
	struct web_req *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->w = w;
	r->conn = c;
	r->url = url;
	r->method_s = method;
	r->method = method_of(method);
	r->upload_fd = -1;
	source_key(c, r->src, sizeof(r->src));
	return r;
}

static void req_free(struct web_req *r)
{
	web_db_release(r);
	if (r->upload_fd >= 0)
		close(r->upload_fd);
	if (r->resp.file)
		close(r->resp.fd);
	free(r->body);
	free(r->resp.body);
	explicit_bzero(&r->auth, sizeof(r->auth));
	free(r);
}

static bool body_add(struct web_req *r, const char *data, size_t n)
{
	if (r->len + n > WEB_BODY_MAX) {
		r->too_big = true; /* read and dropped (to a bound) to answer 413 */
		r->dropped = n;
		return true;
	}
	char *b = realloc(r->body, r->len + n + 1);
	if (!b)
		return false;
	memcpy(b + r->len, data, n);
	r->len += n;
	b[r->len] = '\0';
	r->body = b;
	return true;
}

/* A WR_UPLOAD route's body goes to an unlinked file in the data
 * directory: up to WEB_UPLOAD_MAX, which is too much to hold in memory
 * for every connection that may be uploading. */
static int spool_open(struct web_req *r)
{
	char path[400];
	int n = snprintf(path, sizeof(path), "%s/.upload-XXXXXX", r->w->conf.data_dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return ENAMETOOLONG;
	int fd = mkstemp(path);
	if (fd < 0)
		return errno;
	unlink(path);
	r->upload_fd = fd;
	return 0;
}

static bool spool_add(struct web_req *r, const char *data, size_t n)
{
	if (r->upload_len + n > WEB_UPLOAD_MAX) {
		r->too_big = true; /* an unannounced (chunked) body */
		r->dropped = n;
		return true;
	}
	for (size_t off = 0; off < n;) {
		ssize_t k = write(r->upload_fd, data + off, n - off);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			log_err(WEB_TAG, "cannot spool an upload: %s", strerror(errno));
			web_error(r, 507, "cannot store the upload", NULL);
			return true;
		}
		off += (size_t)k;
	}
	r->upload_len += n;
	return true;
}

static const char *too_big_msg(const struct web_req *r)
{
	return r->upload_fd >= 0 ? "upload larger than 10 MiB" : "request body larger than 64 KiB";
}

/* The first call of an upload route: whoever asks is checked on the
 * headers, so a stranger's body never reaches the disk; 413 for an
 * announced length beyond the limit, before reading any of it (a client
 * sending "Expect: 100-continue" is told without sending it). Returns
 * true when answered now. */
static bool upload_start(struct web_req *r, unsigned long long announced)
{
	const struct web_route *rt = web_route_find(r);
	if (!rt || !(rt->flags & WR_UPLOAD))
		return false;
	if (announced > WEB_UPLOAD_MAX) {
		web_error(r, 413, "upload larger than 10 MiB", NULL);
		return true;
	}
	if (web_route_admit(r, rt)) {
		r->early = true;
		rt->h(r);
		r->early = false;
	}
	/* the pool's connections are few; an upload may take a while */
	web_db_release(r);
	if (r->resp.status) /* refused: the body is drained, then that answered */
		return announced > WEB_DRAIN_MAX;
	int err = spool_open(r);
	if (err) {
		log_err(WEB_TAG, "cannot spool an upload in %s: %s", r->w->conf.data_dir,
			strerror(err));
		web_error(r, 507, "cannot store the upload", NULL);
		return true;
	}
	return false;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct web_server *w = cls;
	struct web_req *r = *con_cls;
	(void)version;
	if (!r) {
		r = req_new(w, c, url, method);
		if (!r)
			return MHD_NO;
		*con_cls = r;
		/* An announced oversized body: up to WEB_DRAIN_MAX it is read
		 * and dropped, and 413 answered after it, since an answer sent
		 * while the client still sends is lost to the reset that
		 * closing then causes; beyond that, refused before reading. */
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		unsigned long long announced = cl ? strtoull(cl, NULL, 10) : 0;
		bool up = upload_start(r, announced);
		/* the headers are in: a body is owed now, unless an upload's
		 * sender proved who it is on them */
		web_guard_phase(w->guard, c, WEB_GUARD_HEADERS, r->auth.ok && !r->resp.status);
		if (up) {
			r->queued = true;
			return queue_answer(r);
		}
		if (r->upload_fd >= 0 || r->resp.status)
			return MHD_YES;
		if (announced > WEB_DRAIN_MAX) {
			r->queued = true;
			web_error(r, 413, "request body larger than 64 KiB", NULL);
			return queue_answer(r);
		}
		r->too_big = announced > WEB_BODY_MAX;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (r->queued)
			return MHD_YES;
		if (r->too_big || r->resp.status) /* refused: drained */
			r->dropped += n;
		else if (!(r->upload_fd >= 0 ? spool_add(r, upload_data, n)
					     : body_add(r, upload_data, n)))
			return MHD_NO;
		if (r->dropped > WEB_DRAIN_MAX) {
			/* A body that does not end (chunked: no length announced)
			 * is not read past the drain. MHD (0.9) can only queue an
			 * answer on the headers or after the whole body, so the
			 * connection is closed instead of answered 413. */
			log_info(WEB_TAG,
				 "closed a connection from %s: %s %s kept sending its body"
				 " %d bytes past the limit",
				 r->src, r->method_s, r->url, WEB_DRAIN_MAX);
			return MHD_NO;
		}
		return MHD_YES;
	}
	if (r->queued)
		return MHD_YES; /* queued on the first call */
	/* with a status already, refused on the headers: the body was drained */
	web_guard_phase(w->guard, c, WEB_GUARD_HANDLING, false);
	if (!r->resp.status) {
		if (r->too_big)
			web_error(r, 413, too_big_msg(r), NULL);
		else
			web_dispatch(r);
	}
	if (r->auth.ok || r->logged_in) /* this connection is a known client's now */
		web_guard_phase(w->guard, c, WEB_GUARD_HANDLING, true);
	web_db_release(r); /* back to the pool before the bytes go out */
	return queue_answer(r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct web_server *w = cls;
	(void)toe;
	web_guard_phase(w->guard, c, WEB_GUARD_IDLE, false); /* the next request is owed */
	if (*con_cls)
		req_free(*con_cls);
	*con_cls = NULL;
}

/* --- the HTTP redirector ---------------------------------------------------- */

static void pct_encode(struct sbuf *b, const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) || (keep_slash && *p == '/')) {
			sbuf_add(b, p, 1);
		} else {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
			sbuf_add(b, e, 3);
		}
	}
}

struct qs {
	struct sbuf *b;
	int n;
};

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *value)
{
	struct qs *q = cls;
	(void)kind;
	sbuf_adds(q->b, q->n++ ? "&" : "?");
	pct_encode(q->b, key, false);
	if (value) {
		sbuf_adds(q->b, "=");
		pct_encode(q->b, value, false);
	}
	return MHD_YES;
}

/* The host the client asked for, without its port, when it looks like a
 * host name or an address literal (it goes into a Location header). */
bool web_host_from(const char *h, char *out, size_t cap)
{
	if (!h || !*h)
		return false;
	size_t n;
	if (h[0] == '[') {
		const char *e = strchr(h, ']');
		if (!e)
			return false;
		n = (size_t)(e - h) + 1;
		if (strspn(h + 1, "0123456789abcdefABCDEF:.") != n - 2)
			return false;
	} else {
		n = strcspn(h, ":");
		if (strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != n)
			return false;
	}
	if (n == 0 || n >= cap)
		return false;
	memcpy(out, h, n);
	out[n] = '\0';
	return true;
}

static enum MHD_Result on_plain(void *cls, struct MHD_Connection *c, const char *url,
				const char *method, const char *version, const char *upload_data,
				size_t *upload_data_size, void **con_cls)
{
	struct web_server *w = cls;
	(void)version;
	(void)upload_data;
	*upload_data_size = 0;
	struct web_req *r = *con_cls;
	if (r)
		return MHD_YES;
	if (!(r = req_new(w, c, url, method)))
		return MHD_NO;
	*con_cls = r;
	r->plain = true;
	char host[300];
	if (!web_host_from(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST),
		       host, sizeof(host))) {
		const struct conf *cf = &w->conf;
		const char *b = cf->nbinds ? cf->binds[0] : "localhost";
		snprintf(host, sizeof(host), strchr(b, ':') ? "[%s]" : "%s", b);
	}
	struct sbuf loc;
	sbuf_init(&loc);
	sbuf_printf(&loc, "https://%s", host);
	if (w->conf.https_port != 443)
		sbuf_printf(&loc, ":%u", w->conf.https_port);
	pct_encode(&loc, url && url[0] == '/' ? url : "/", true);
	struct qs q = { .b = &loc };
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, &q);
	if (loc.len < sizeof(r->resp.hdr[0].value)) {
		web_header(r, "Location", "%.*s", (int)loc.len, loc.p);
		web_error(r, 308, "use HTTPS", NULL);
	} else {
		web_error(r, 414, "URI too long", NULL);
	}
	sbuf_free(&loc);
	return queue_answer(r);
}

/* --- daemons ----------------------------------------------------------------- */

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];
	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_debug(WEB_TAG, "libmicrohttpd: %s", buf);
}

static struct MHD_Daemon *start_daemon(struct web_server *w, const char *bind, uint16_t port,
				       bool tls)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	if (!strcmp(bind, "::"))
		flags |= MHD_USE_DUAL_STACK;
	if (strchr(bind, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, bind, &s6->sin6_addr) != 1)
			return NULL;
		flags |= MHD_USE_IPv6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		if (inet_pton(AF_INET, bind, &s4->sin_addr) != 1)
			return NULL;
	}
	if (!tls)
		return MHD_start_daemon(flags, port, NULL, NULL, on_plain, w,
					MHD_OPTION_EXTERNAL_LOGGER, mhd_log, w,
					MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
					MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
					MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
					MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
					MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)8,
					MHD_OPTION_END);
	/* the logger first: MHD logs through whatever it has at each option */
	/* suspend/resume: event streams wait off the poll set (sse.c) */
	/* the guard's accept policy counts IPv6 /64s as one address (and
	 * logs refusals); MHD's own per-address limit, which is checked
	 * first, stays above it as a backstop */
	return MHD_start_daemon(flags | MHD_USE_TLS | MHD_ALLOW_SUSPEND_RESUME, port,
				web_guard_accept, w->guard, on_request, w,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, w,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_HTTPS_MEM_KEY, w->key_pem,
				MHD_OPTION_HTTPS_MEM_CERT, w->cert_pem,
				MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES,
				MHD_OPTION_THREAD_POOL_SIZE, (unsigned)WEB_POOL_THREADS,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
				MHD_OPTION_NOTIFY_CONNECTION, web_guard_notify, w->guard,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)WEB_CONN_LIMIT,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)(4 * WEB_CONN_PER_SRC),
				MHD_OPTION_END);
}

static int start_all(struct web_server *w)
{
	const struct conf *c = &w->conf;
	const char *binds[WEB_MAX_DAEMONS];
	int n = 0;
	for (int i = 0; i < c->nbinds && n < WEB_MAX_DAEMONS; i++)
		binds[n++] = c->binds[i];
	bool any = n == 0;
	if (any)
		binds[n++] = "::"; /* every address, IPv4 too (dual stack) */
	for (int i = 0; i < n; i++) {
		const char *b = binds[i];
		struct MHD_Daemon *s = start_daemon(w, b, c->https_port, true);
		if (!s && any) { /* no IPv6 on this box */
			b = "0.0.0.0";
			s = start_daemon(w, b, c->https_port, true);
		}
		struct MHD_Daemon *h = s ? start_daemon(w, b, c->http_port, false) : NULL;
		if (!s || !h) {
			int err = errno ? errno : EIO;
			log_err(WEB_TAG, "cannot listen on %s port %u: %s", b,
				s ? c->http_port : c->https_port, strerror(err));
			if (s)
				MHD_stop_daemon(s);
			return err;
		}
		w->https[w->ndaemons] = s;
		w->http[w->ndaemons++] = h;
	}
	return 0;
}

static int open_dbs(struct web_server *w)
{
	pthread_mutex_init(&w->db_mu, NULL);
	pthread_cond_init(&w->db_cv, NULL);
	w->db_init = true;
	int want = WEB_POOL_THREADS * (w->conf.nbinds ? w->conf.nbinds : 1);
	if (want > (int)(sizeof(w->dbs) / sizeof(w->dbs[0])))
		want = (int)(sizeof(w->dbs) / sizeof(w->dbs[0]));
	for (int i = 0; i < want; i++) {
		int err = db_open(&w->dbs[i], w->db_path);
		if (err) {
			log_err(WEB_TAG, "cannot open database %s: %s", w->db_path, strerror(err));
			return err;
		}
		/* the PIN rules of this start, as the store thread's */
		struct db_vm_policy vp = { .pin_min_len = w->conf.vm_pin_min_len,
					   .lock_after = w->conf.vm_pin_lock_after,
					   .lock_secs = w->conf.vm_pin_lock_secs };
		db_vm_policy_set(w->dbs[i], &vp);
		w->ndbs++;
	}
	return 0;
}

int web_server_alloc(struct web_server **out, const struct web_deps *deps)
{
	if (!out || !deps || !deps->conf || !deps->db_path || !deps->pw)
		return EINVAL;
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		log_err(WEB_TAG, "libmicrohttpd was built without TLS: no web UI");
		return ENOTSUP;
	}
	struct web_server *w = calloc(1, sizeof(*w));
	if (!w)
		return ENOMEM;
	w->conf = *deps->conf;
	w->pw = deps->pw;
	const struct conf *c = &w->conf;
	int err = 0;
	if (strlen(deps->db_path) >= sizeof(w->db_path))
		err = ENAMETOOLONG;
	else
		strcpy(w->db_path, deps->db_path);
	if (!err)
		err = web_cert_load(c->data_dir, c->domain, (const char(*)[64])c->binds, c->nbinds,
				    &w->cert_pem, &w->key_pem);
	if (!err)
		err = web_sessions_alloc(&w->sessions);
	if (!err)
		err = web_limiter_alloc(&w->limiter);
	if (!err)
		err = web_guard_alloc(&w->guard);
	if (!err)
		err = web_sse_alloc(&w->sse, w);
	if (!err)
		err = open_dbs(w);
	if (!err)
		err = start_all(w);
	if (err) {
		web_server_free(w);
		return err;
	}
	log_info(WEB_TAG, "web UI on https port %u (http port %u redirects)", c->https_port,
		 c->http_port);
	*out = w;
	return 0;
}

void web_server_free(struct web_server *w)
{
	if (!w)
		return;
	/* Waiters on the (stopped) loop return at once instead of after
	 * their deadline, so stopping MHD does not hang on them. */
	pbx_web_shutdown(w->pw);
	web_sse_stop(w->sse); /* MHD cannot stop with streams suspended */
	for (int i = 0; i < w->ndaemons; i++) {
		MHD_stop_daemon(w->http[i]);
		MHD_stop_daemon(w->https[i]);
	}
	web_sse_free(w->sse);
	web_guard_free(w->guard); /* after the daemons: no connection left */
	for (int i = 0; i < w->ndbs; i++)
		db_close(w->dbs[i]);
	if (w->db_init) {
		pthread_cond_destroy(&w->db_cv);
		pthread_mutex_destroy(&w->db_mu);
	}
	web_sessions_free(w->sessions);
	web_limiter_free(w->limiter);
	if (w->key_pem) {
		explicit_bzero(w->key_pem, strlen(w->key_pem));
		free(w->key_pem);
	}
	free(w->cert_pem);
	free(w);
}
