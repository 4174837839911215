/*
 * What every handler shares: answering (JSON, errors that name the
 * offending field, other bodies, extra headers), reading the request
 * (query, headers, a JSON body checked against the keys a handler
 * accepts, typed fields with bounds), the pool of database connections,
 * and small crypto helpers. Errors are always {"error": "...", "field":
 * "..."} so the UI can put the message next to the right input.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../core/base/log.h"
#include "web_int.h"

#define DB_WAIT_S 2

/* --- answers ---------------------------------------------------------------- */

void web_body(struct web_req *r, unsigned status, const char *ctype, char *body, size_t len)
{
	free(r->resp.body);
	if (r->resp.file) { /* an error replaces a file answer */
		close(r->resp.fd);
		r->resp.file = false;
	}
	r->resp.status = status;
	r->resp.ctype = ctype;
	r->resp.body = body;
	r->resp.len = body ? len : 0;
}

void web_file(struct web_req *r, unsigned status, const char *ctype, int fd, uint64_t off,
	      uint64_t len)
{
	struct web_resp *rs = &r->resp;
	free(rs->body);
	rs->body = NULL;
	rs->len = 0;
	if (rs->file)
		close(rs->fd);
	rs->status = status;
	rs->ctype = ctype;
	rs->file = true;
	rs->fd = fd;
	rs->fd_off = off;
	rs->fd_len = len;
}

void web_json(struct web_req *r, unsigned status, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
	json_decref(j);
	if (!s) {
		static const char oom[] = "{\"error\":\"out of memory\"}";
		web_body(r, 500, "application/json", strdup(oom), sizeof(oom) - 1);
		return;
	}
	web_body(r, status, "application/json", s, strlen(s));
}

void web_error(struct web_req *r, unsigned status, const char *msg, const char *field)
{
	json_t *j = json_object();
	json_object_set_new(j, "error", json_string(msg ? msg : "error"));
	if (field)
		json_object_set_new(j, "field", json_string(field));
	web_json(r, status, j);
}

void web_no_content(struct web_req *r)
{
	web_body(r, 204, NULL, NULL, 0);
}

void web_header(struct web_req *r, const char *name, const char *fmt, ...)
{
	struct web_resp *rs = &r->resp;
	if (rs->nhdr == WEB_MAX_HDRS) {
		log_err(WEB_TAG, "too many response headers (%s dropped)", name);
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rs->hdr[rs->nhdr].value, sizeof(rs->hdr[0].value), fmt, ap);
	va_end(ap);
	rs->hdr[rs->nhdr++].name = name;
}

void web_loop_error(struct web_req *r, int err)
{
	if (err == ETIMEDOUT || err == ESHUTDOWN)
		web_error(r, 503, "the PBX core did not answer in time; try again", NULL);
	else
		web_error(r, 500, strerror(err), NULL);
}

/* --- requests ---------------------------------------------------------------- */

const char *web_query(struct web_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *web_in_header(struct web_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static bool is_json_type(const char *ct)
{
	static const char want[] = "application/json";
	if (!ct || strncasecmp(ct, want, sizeof(want) - 1))
		return false;
	char next = ct[sizeof(want) - 1];
	return next == '\0' || next == ';' || next == ' ' || next == '\t';
}

json_t *web_body_object(struct web_req *r, const char *const *allowed)
{
	/* Only JSON is accepted: a cross-site HTML form cannot send it
	 * without a CORS preflight we never grant. */
	if (!is_json_type(web_in_header(r, MHD_HTTP_HEADER_CONTENT_TYPE))) {
		web_error(r, 415, "Content-Type must be application/json", NULL);
		return NULL;
	}
	if (!r->len) {
		web_error(r, 400, "a JSON object is required as the request body", NULL);
		return NULL;
	}
	json_error_t je;
	json_t *o = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &je);
	if (!o) {
		char msg[256];
		snprintf(msg, sizeof(msg), "invalid JSON at line %d column %d: %s", je.line,
			 je.column, je.text);
		web_error(r, 400, msg, NULL);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		web_error(r, 400, "the request body must be a JSON object", NULL);
		return NULL;
	}
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v) {
		bool ok = false;
		for (const char *const *a = allowed; a && *a && !ok; a++)
			ok = !strcmp(*a, key);
		if (!ok) {
			char msg[128];
			snprintf(msg, sizeof(msg), "%.60s: unknown field", key);
			web_error(r, 400, msg, key);
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static int bad_field(struct web_req *r, const char *key, const char *what)
{
	char msg[160];
	snprintf(msg, sizeof(msg), "%s: %s", key, what);
	web_error(r, 400, msg, key);
	return -1;
}

int web_field_str(struct web_req *r, json_t *o, const char *key, char *dst, size_t cap,
		  bool required)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return required ? bad_field(r, key, "required") : 0;
	if (!json_is_string(v))
		return bad_field(r, key, "must be a string");
	size_t n = json_string_length(v);
	if (n >= cap) {
		char what[64];
		snprintf(what, sizeof(what), "at most %zu bytes", cap - 1);
		return bad_field(r, key, what);
	}
	/* jansson refuses \u0000 unless asked to, so there is no NUL inside */
	memcpy(dst, json_string_value(v), n);
	dst[n] = '\0';
	return 1;
}

int web_field_bool(struct web_req *r, json_t *o, const char *key, bool *dst)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return bad_field(r, key, "must be true or false");
	*dst = json_is_true(v);
	return 1;
}

int web_field_int(struct web_req *r, json_t *o, const char *key, long long lo, long long hi,
		  long long *dst)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		char what[96];
		snprintf(what, sizeof(what), "must be an integer from %lld to %lld", lo, hi);
		return bad_field(r, key, what);
	}
	*dst = json_integer_value(v);
	return 1;
}

void web_invalid(struct web_req *r, const char *why, const char *dflt)
{
	char field[32];
	const char *f = dflt;
	size_t n = why ? strcspn(why, ":") : 0;
	if (why && why[n] == ':' && n > 0 && n < sizeof(field) &&
	    strspn(why, "abcdefghijklmnopqrstuvwxyz_") == n) {
		memcpy(field, why, n);
		field[n] = '\0';
		f = field;
	}
	web_error(r, 400, why ? why : "invalid value", f);
}

/* --- database connections ---------------------------------------------------- */

struct db *web_db(struct web_req *r)
{
	struct web_server *w = r->w;
	if (r->db)
		return r->db;
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += DB_WAIT_S;
	pthread_mutex_lock(&w->db_mu);
	for (;;) {
		for (int i = 0; i < w->ndbs; i++) {
			if (!w->db_busy[i]) {
				w->db_busy[i] = true;
				r->db = w->dbs[i];
				pthread_mutex_unlock(&w->db_mu);
				return r->db;
			}
		}
		if (pthread_cond_timedwait(&w->db_cv, &w->db_mu, &dl) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&w->db_mu);
	web_error(r, 503, "database busy; try again", NULL);
	return NULL;
}

void web_db_release(struct web_req *r)
{
	struct web_server *w = r->w;
	if (!r->db)
		return;
	pthread_mutex_lock(&w->db_mu);
	for (int i = 0; i < w->ndbs; i++)
		if (w->dbs[i] == r->db)
			w->db_busy[i] = false;
	pthread_cond_signal(&w->db_cv);
	pthread_mutex_unlock(&w->db_mu);
	r->db = NULL;
}

void web_db_error(struct web_req *r, int err, const char *what)
{
	char msg[160];
	switch (err) {
	case ENOENT:
		snprintf(msg, sizeof(msg), "%s not found", what);
		web_error(r, 404, msg, NULL);
		return;
	case EEXIST:
		snprintf(msg, sizeof(msg), "%s already exists", what);
		web_error(r, 409, msg, NULL);
		return;
	case EINVAL:
		web_invalid(r, r->db ? db_errmsg(r->db) : NULL, NULL);
		return;
	case EBUSY:
		web_error(r, 503, "database busy; try again", NULL);
		return;
	}
	log_err(WEB_TAG, "database error (%s): %s", what, r->db ? db_errmsg(r->db) : strerror(err));
	web_error(r, 500, "database error", NULL);
}

/* --- small helpers ------------------------------------------------------------ */

int web_random_hex(char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char buf[64];
	if (n > sizeof(buf) || RAND_bytes(buf, (int)n) != 1)
		return EIO;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[buf[i] >> 4];
		out[2 * i + 1] = hex[buf[i] & 15];
	}
	out[2 * n] = '\0';
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

void web_sha256_hex(const char *s, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int len = 0;
	if (EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL) != 1 || len != 32) {
		out[0] = '\0';
		return;
	}
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

json_t *web_jstr(const char *s)
{
	json_t *j = json_string(s ? s : "");
	if (j)
		return j;
	/* not UTF-8 (a display name off the network): keep the ASCII */
	char *c = strdup(s);
	if (!c)
		return json_string("");
	for (char *p = c; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(c);
	free(c);
	return j ? j : json_string("");
}

bool web_is_admin(const struct web_req *r)
{
	return !strcmp(r->auth.role, "admin");
}
