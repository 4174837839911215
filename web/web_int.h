/*
 * Private to web/: the server, one request as handlers see it, the route
 * table's descriptor, and the helpers every handler shares (JSON in and
 * out, validation with field-naming errors, database connections,
 * sessions). libmicrohttpd appears only in web/ (STYLE rule 8); handlers
 * mostly see struct web_req and never build an MHD response themselves,
 * so the security headers cannot be forgotten on one of them.
 */
#ifndef HF_WEB_INT_H
#define HF_WEB_INT_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../core/base/conf.h"
#include "../db/db.h"
#include "web.h"

#define WEB_TAG "web"
#define WEB_BODY_MAX (64 * 1024) /* larger request bodies get 413 */
/* ... read and dropped first up to this size, refused unread beyond */
#define WEB_DRAIN_MAX (1024 * 1024)
/* a file uploaded (WR_UPLOAD routes: voicemail greetings), spooled to disk */
#define WEB_UPLOAD_MAX (10 * 1024 * 1024)
#define WEB_POOL_THREADS 4       /* MHD worker threads of the HTTPS server */
#define WEB_MAX_DAEMONS 4        /* one per bind address */
#define WEB_SSE_MAX 32           /* event streams open at once */
#define WEB_SSE_PER_USER 4       /* ... by one account */
#define WEB_SSE_ADMIN_ROOM 4     /* ... of WEB_SSE_MAX only an admin may take */
#define WEB_CONN_LIMIT 256       /* HTTPS connections at once, per bind address */
#define WEB_CONN_PER_SRC 32      /* ... unauthenticated, from one address (IPv6: /64) */
/* ... not yet authenticated: past this the oldest still owing its
 * request is closed for a newcomer (guard.c) */
#define WEB_CONN_UNAUTH_MAX (WEB_CONN_LIMIT * 3 / 4)
#define WEB_SESSION_COOKIE "__Host-hfsid" /* __Host-: Secure, Path=/, no Domain */

enum web_method {
	WM_GET = 1,
	WM_HEAD = 2,
	WM_POST = 4,
	WM_PUT = 8,
	WM_PATCH = 16,
	WM_DELETE = 32,
	WM_OTHER = 64,
};

/* Who is asking, once authenticated. */
struct web_auth {
	bool ok;
	bool session;  /* by cookie (a browser): state changes need CSRF */
	char username[DB_USER_NAME_MAX];
	char role[DB_ROLE_MAX];
	char extension[DB_EXT_NUMBER_MAX];
	char sid[65];  /* session id, when session */
	char csrf[65]; /* its CSRF token */
	/* the account must choose a new password first: every route but
	 * session, logout and password answers 403 (WR_PWCHANGE) */
	bool must_change;
};

#define WEB_MAX_HDRS 6

struct web_resp {
	unsigned status;   /* 0: nothing answered yet */
	char *body;        /* malloc'd */
	size_t len;
	const char *ctype;
	/* or a file streamed from fd (web_file), which MHD closes */
	bool file;
	int fd;
	uint64_t fd_off, fd_len;
	int nhdr;
	struct {
		const char *name;
		char value[320];
	} hdr[WEB_MAX_HDRS];
};

struct web_server;

struct web_req {
	struct web_server *w;
	struct MHD_Connection *conn;
	const char *url;      /* path, percent-decoded by MHD */
	const char *method_s;
	int method;           /* enum web_method */
	char *body;           /* the request body, NUL-terminated */
	size_t len;
	bool too_big;
	bool queued;          /* answered before the body was read */
	/* a WR_UPLOAD route's body: an unlinked temporary file, -1 otherwise */
	int upload_fd;
	uint64_t upload_len;
	uint64_t dropped;     /* body bytes read and dropped (past a limit) */
	/* a WR_UPLOAD handler called on the headers, before the body: it
	 * makes its per-object checks (whose mailbox) and answers only to
	 * refuse, so a refused upload is never read */
	bool early;
	char arg[2][128];     /* the {parameters} of the matched route */
	struct web_auth auth;
	char src[64];         /* client address key: IPv4, or IPv6 /64 */
	struct web_resp resp;
	struct db *db;        /* from the pool, released when done */
	struct web_sse_stream *sse; /* set by web_api_events: the answer streams */
	bool logged_in;       /* a login succeeded on this request */
	bool plain;           /* the HTTP redirector's: no HSTS */
};

typedef void(web_route_h)(struct web_req *r);

enum {
	WR_PUBLIC = 1, /* no authentication (login, the static UI) */
	WR_ADMIN = 2,  /* role admin only */
	WR_JSON = 4,   /* takes a JSON object body */
	/* takes a body of up to WEB_UPLOAD_MAX bytes, spooled to r->upload_fd;
	 * authentication, role and the handler's own checks (r->early) run
	 * on the headers, before the body is read */
	WR_UPLOAD = 8,
	/* open to a session that must change its password first */
	WR_PWCHANGE = 16,
};

struct web_sse;
struct web_sse_stream;

struct web_route {
	int methods;
	const char *pattern; /* "/api/v1/extensions/{}": {} is one segment */
	int flags;
	web_route_h *h;
};

/* --- server.c ------------------------------------------------------------ */

struct pbx_web;
struct web_sessions;
struct web_limiter;

struct web_guard;

struct web_server {
	struct conf conf;   /* the settings of this start (web_deps) */
	struct web_guard *guard; /* deadlines and limits of connections (guard.c) */
	char db_path[320];
	struct pbx_web *pw; /* lent by core/pbx */
	struct web_sessions *sessions;
	struct web_limiter *limiter;
	struct web_sse *sse;
	struct MHD_Daemon *https[WEB_MAX_DAEMONS];
	struct MHD_Daemon *http[WEB_MAX_DAEMONS];
	int ndaemons;
	char *cert_pem, *key_pem;
	/* database connections, one per worker thread: WAL lets them read
	 * while the store thread writes */
	pthread_mutex_t db_mu;
	pthread_cond_t db_cv;
	bool db_init;
	struct db *dbs[WEB_POOL_THREADS * WEB_MAX_DAEMONS];
	bool db_busy[WEB_POOL_THREADS * WEB_MAX_DAEMONS];
	int ndbs;
};

/* --- guard.c: connections ------------------------------------------------- */

int web_guard_alloc(struct web_guard **out);
/* After the daemons are stopped. */
void web_guard_free(struct web_guard *g);
/* The key of per-source limits: the IPv4 address, or the IPv6 /64. */
void web_source_key(const struct sockaddr *sa, char *out, size_t cap);
/* MHD's accept policy and connection notification (cls: the guard). */
enum MHD_Result web_guard_accept(void *cls, const struct sockaddr *addr, socklen_t len);
void web_guard_notify(void *cls, struct MHD_Connection *mc, void **socket_context,
		      enum MHD_ConnectionNotificationCode toe);
enum web_guard_phase {
	WEB_GUARD_HEADERS,  /* headers read: the body is owed */
	WEB_GUARD_HANDLING, /* the request is whole: nothing owed */
	WEB_GUARD_IDLE,     /* answered: the next request's headers are owed */
};
/* Where a connection's request is; authed marks it authenticated for
 * good (a valid cookie or token, a login). */
void web_guard_phase(struct web_guard *g, struct MHD_Connection *mc, enum web_guard_phase ph,
		     bool authed);

/* --- router.c ------------------------------------------------------------ */

/* Routes r, checks authentication, CSRF and role, runs the handler. */
void web_dispatch(struct web_req *r);
/* The route r's method and path match, or NULL (answers nothing). */
const struct web_route *web_route_find(struct web_req *r);
/* The checks of web_dispatch for a found route: false having answered
 * 401 or 403. */
bool web_route_admit(struct web_req *r, const struct web_route *rt);
extern const struct web_route web_routes[];
extern const size_t web_nroutes;

/* --- http.c: answers ----------------------------------------------------- */

/* Answers with a JSON document (takes the reference). */
void web_json(struct web_req *r, unsigned status, json_t *j);
/* {"error": msg, "field": field} (field may be NULL: then no field). */
void web_error(struct web_req *r, unsigned status, const char *msg, const char *field);
/* A body of any type; takes body (malloc'd). */
void web_body(struct web_req *r, unsigned status, const char *ctype, char *body, size_t len);
void web_no_content(struct web_req *r);
/* Streams len bytes of fd from off (the file is not read into memory);
 * takes fd, which is closed once answered. */
void web_file(struct web_req *r, unsigned status, const char *ctype, int fd, uint64_t off,
	      uint64_t len);
void web_header(struct web_req *r, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* 503 for a loop that did not answer, 500 otherwise. */
void web_loop_error(struct web_req *r, int err);

/* --- http.c: requests ---------------------------------------------------- */

const char *web_query(struct web_req *r, const char *key);
const char *web_in_header(struct web_req *r, const char *name);
/* The body as a JSON object, or NULL having answered 400/415. allowed
 * lists the accepted keys (NULL-terminated); any other key is a 400. */
json_t *web_body_object(struct web_req *r, const char *const *allowed);
/* Reads o[key] into dst: 1 present, 0 absent (and not required), -1
 * answered 400 (wrong type, too long, or missing when required). */
int web_field_str(struct web_req *r, json_t *o, const char *key, char *dst, size_t cap,
		  bool required);
int web_field_bool(struct web_req *r, json_t *o, const char *key, bool *dst);
int web_field_int(struct web_req *r, json_t *o, const char *key, long long lo, long long hi,
		  long long *dst);
/* Reports a validation message "field: text" from db/ as 400 naming the
 * field (or, with no "field:" prefix, naming dflt). */
void web_invalid(struct web_req *r, const char *why, const char *dflt);
/* A database connection for this request (NULL having answered 503). */
struct db *web_db(struct web_req *r);
void web_db_release(struct web_req *r);
/* Answers for an errno from db/: 404, 409, 400 or 500. */
void web_db_error(struct web_req *r, int err, const char *what);
/* Random bytes as lower-case hex (2n characters + NUL into out). */
int web_random_hex(char *out, size_t n);
/* SHA-256 of s in lower-case hex (65 bytes). */
void web_sha256_hex(const char *s, char out[65]);
bool web_is_admin(const struct web_req *r);
/* A JSON string of s; bytes that are not UTF-8 become '?' rather than
 * the value going missing (text from the network is not always UTF-8). */
json_t *web_jstr(const char *s);

/* --- session.c ----------------------------------------------------------- */

int web_sessions_alloc(struct web_sessions **out);
void web_sessions_free(struct web_sessions *s);
/* Creates a session and fills a (sid, csrf, who). */
int web_session_create(struct web_sessions *s, const char *user, const char *role,
		       const char *ext, bool must_change, struct web_auth *a);
/* Looks a session up by id, extends its idle time; ENOENT when unknown
 * or expired. */
int web_session_get(struct web_sessions *s, const char *sid, struct web_auth *a);
void web_session_end(struct web_sessions *s, const char *sid);
/* Ends every session of user (deleted, demoted, new password). */
void web_session_end_user(struct web_sessions *s, const char *user);

int web_limiter_alloc(struct web_limiter **out);
void web_limiter_free(struct web_limiter *l);
/* Before a login attempt from src: false (and seconds to wait) when the
 * source must wait; true reserves a slot until web_limiter_end. */
bool web_limiter_begin(struct web_limiter *l, const char *src, unsigned *retry_s);
/* result: 1 the login succeeded (clears the count), 0 it failed, -1
 * neither (the database was unavailable: not the client's fault). */
void web_limiter_end(struct web_limiter *l, const char *src, int result);
/* The same per account name (whatever the address): false (and seconds
 * to wait) while the account is held after repeated failures; src that
 * logged in to it before is not held. */
bool web_acct_begin(struct web_limiter *l, const char *user, const char *src, unsigned *retry_s);
/* result as web_limiter_end; returns the seconds the account is now held
 * for (0: not held) and sets *fails to the failures counted so far. */
unsigned web_acct_end(struct web_limiter *l, const char *user, const char *src, int result,
		      unsigned *fails);

/* --- sse.c: live events ---------------------------------------------------- */

/* Starts the hub thread that feeds the event streams. */
int web_sse_alloc(struct web_sse **out, struct web_server *w);
/* Ends every stream (each gets END_OF_STREAM) and the hub thread, waiting
 * a bounded time for the streams' connections to finish; before
 * MHD_stop_daemon, which cannot close a suspended connection. */
void web_sse_stop(struct web_sse *hub);
/* After MHD_stop_daemon (the last streams are freed from inside it). */
void web_sse_free(struct web_sse *hub);
/* The callback response of a stream made by web_api_events (frees the
 * stream when it cannot be made). */
struct MHD_Response *web_sse_response(struct web_sse_stream *s);

/* Opens an event stream for r: the calls/registrations/voicemail events
 * (log_level -1), or a log stream of the lines at or above log_level
 * after seq log_since (api_logs.c). */
void web_sse_open(struct web_req *r, int log_level, uint64_t log_since);

/* --- cert.c -------------------------------------------------------------- */

/* Loads DATA_DIR/web/cert.pem and key.pem, creating a self-signed pair
 * on first start. *cert and *key are malloc'd PEM text. */
int web_cert_load(const char *data_dir, const char *domain, const char binds[][64],
		  int nbinds, char **cert, char **key);

/* --- handlers ------------------------------------------------------------ */

void web_api_login(struct web_req *r);
void web_api_logout(struct web_req *r);
void web_api_session(struct web_req *r);
void web_api_tokens_list(struct web_req *r);
void web_api_tokens_create(struct web_req *r);
void web_api_tokens_delete(struct web_req *r);
void web_api_users_list(struct web_req *r);
void web_api_users_create(struct web_req *r);
void web_api_users_update(struct web_req *r);
void web_api_users_delete(struct web_req *r);
void web_api_password(struct web_req *r);
/* The password policy every web password meets: NULL when pw is
 * acceptable for username, else why not ("at least 8 characters"). */
const char *web_pw_policy(const char *pw, const char *username);
/* Authenticates "Authorization: Bearer" or the session cookie into
 * r->auth; false when neither is valid. */
bool web_authenticate(struct web_req *r);

void web_api_ext_list(struct web_req *r);
void web_api_ext_create(struct web_req *r);
void web_api_ext_get(struct web_req *r);
void web_api_ext_update(struct web_req *r);
void web_api_ext_delete(struct web_req *r);
void web_api_ext_password(struct web_req *r);
/* api_ext.c: the current SIP password, as `extension show --show-password` */
void web_api_ext_secret(struct web_req *r);
/* api_qr.c: the phone setup card and its QR code */
void web_api_ext_phone(struct web_req *r);
void web_api_ext_qr(struct web_req *r);
/* text as a QR code in SVG (libqrencode, level M); *out malloc'd. 0 or an errno. */
int web_qr_svg(const char *text, char **out, size_t *len);
/* api_settings.c: the system's time zone, for every logged-in user */
void web_api_timezone(struct web_req *r);

void web_api_codecs(struct web_req *r);
void web_api_registrations(struct web_req *r);
void web_api_calls(struct web_req *r);
void web_api_call_hangup(struct web_req *r);
void web_api_bans(struct web_req *r);
void web_api_ban_lift(struct web_req *r);
void web_api_security(struct web_req *r);
void web_api_status(struct web_req *r);
void web_api_metrics(struct web_req *r);
void web_api_events(struct web_req *r);
void web_api_settings_get(struct web_req *r);
void web_api_settings_put(struct web_req *r);
void web_api_email_test(struct web_req *r);
void web_api_email_status(struct web_req *r);
void web_api_calls_per_hour(struct web_req *r);
/* api_logs.c: the daemon's recent log, the status page's extra figures */
void web_api_logs(struct web_req *r);
void web_api_logs_stream(struct web_req *r);
/* {"lines": [{"seq","time","level","tag","text"}], "next": SEQ}: the kept
 * lines after since at or above level (enum log_level); *next advances. */
json_t *web_log_lines_json(uint64_t since, int level, uint64_t *next);
/* Adds to GET /api/v1/status's object what the status page shows beyond
 * the loop's counters: threads, CPU over the last interval, disk, recent
 * failed registrations and calls. */
void web_status_more(struct web_req *r, json_t *o, double cpu_s, uint64_t uptime_s);
/* api_backup.c */
void web_api_backup(struct web_req *r);
void web_api_restore(struct web_req *r);
void web_api_backups_list(struct web_req *r);
struct pbx_web_call;
struct pbx_web_reg;
/* One call / registration as GET /api/v1/calls and /registrations (and
 * the event stream) show it. */
json_t *web_call_json(const struct pbx_web_call *c);
json_t *web_reg_json(const struct pbx_web_reg *g);

void web_api_cdrs(struct web_req *r);
/* api_vm.c, api_vm_greet.c: voicemail */
void web_api_vm_list(struct web_req *r);
void web_api_vm_messages(struct web_req *r);
void web_api_vm_audio(struct web_req *r);
void web_api_vm_msg_update(struct web_req *r);
void web_api_vm_msg_delete(struct web_req *r);
void web_api_vm_greeting_put(struct web_req *r);
void web_api_vm_greeting_delete(struct web_req *r);
/* The caller may see mailbox's voicemail: an admin, or the user of that
 * extension; false having answered 403. */
bool web_vm_may(struct web_req *r, const char *mailbox);
/* DATA_DIR/voicemail/<mailbox> (created when mk), false having answered. */
bool web_vm_dir(struct web_req *r, const char *mailbox, bool mk, char *out, size_t cap);
void web_api_numbers(struct web_req *r);
void web_api_openapi(struct web_req *r);
void web_static_index(struct web_req *r);
void web_static_css(struct web_req *r);
void web_static_js(struct web_req *r);
void web_static_vm_js(struct web_req *r);
/* server.c: the host of a Host header without its port ("pbx:8443" ->
 * "pbx", "[::1]:8443" -> "[::1]") when it is a host name or an address
 * literal; false for anything else (it goes into headers and URIs). */
bool web_host_from(const char *h, char *out, size_t cap);
/* api_live.c: a ban's fields both ban lists share (address, user, scope,
 * failures); each list adds its own. */
struct pbx_web_ban;
json_t *web_ban_json(const struct pbx_web_ban *b);
void web_static_phone_js(struct web_req *r);
void web_static_users_js(struct web_req *r);
void web_static_ext_js(struct web_req *r);
void web_static_ops_js(struct web_req *r);

#endif
