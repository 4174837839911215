/*
 * Who is calling: login (the password KDF runs here, on the web thread,
 * never on the signalling loop), logout, the session's own description,
 * and API tokens for scripts. Browsers get a session cookie that scripts
 * on the page cannot read (HttpOnly), that only travels over HTTPS
 * (Secure) and never on requests started by another site (SameSite);
 * their state changes also need the session's CSRF token in a header.
 * Scripts send "Authorization: Bearer hf_...", which is never sent by a
 * browser on its own, so it needs no CSRF token. A token may expire
 * (expires_in_days or expires_at when created); an expired one is
 * answered 401 "token expired", so a script's owner knows what to renew.
 * An account flagged must_change_password (the first-start admin, whose
 * password was printed) gets a session that may only change it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../core/base/log.h"
#include "web_int.h"

#define TOKEN_PREFIX "hf_"
#define TOKEN_LEN (3 + 64)
#define PW_MAX 256

/* A well-formed hash of nothing anyone knows: an unknown user name costs
 * the same KDF time as a wrong password, so timing does not reveal which
 * user names exist. */
static const char dummy_hash[] = "pbkdf2-sha256$200000$AAAAAAAAAAAAAAAAAAAAAA==$"
				 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

static json_t *who_json(const struct web_auth *a)
{
	json_t *j = json_object();
	json_object_set_new(j, "username", json_string(a->username));
	json_object_set_new(j, "role", json_string(a->role));
	json_object_set_new(j, "extension", a->extension[0] ? json_string(a->extension) : json_null());
	json_object_set_new(j, "auth", json_string(a->session ? "session" : "token"));
	if (a->session)
		json_object_set_new(j, "csrf_token", json_string(a->csrf));
	json_object_set_new(j, "must_change_password", json_boolean(a->must_change));
	/* for the UI's About page, which every role sees */
	json_object_set_new(j, "version", json_string(HF_VERSION));
	return j;
}

bool web_authenticate(struct web_req *r)
{
	const char *h = web_in_header(r, "Authorization");
	if (h) {
		/* A script's token. Anything else in Authorization is refused
		 * rather than ignored in favour of a cookie. */
		if (strncasecmp(h, "Bearer ", 7))
			return false;
		const char *tok = h + 7;
		while (*tok == ' ')
			tok++;
		if (strlen(tok) != TOKEN_LEN || strncmp(tok, TOKEN_PREFIX, 3))
			return false;
		char hash[65];
		web_sha256_hex(tok, hash);
		struct db *db = web_db(r);
		if (!db)
			return false;
		struct db_token t;
		int err = db_token_auth(db, hash, (int64_t)time(NULL), &t);
		if (err == ETIME) {
			web_header(r, "WWW-Authenticate",
				   "Bearer realm=\"hookflash\", error=\"invalid_token\"");
			web_error(r, 401, "token expired", NULL);
			explicit_bzero(&t, sizeof(t));
			return false;
		}
		if (err) {
			if (err != ENOENT)
				web_db_error(r, err, "token");
			return false;
		}
		struct web_auth *a = &r->auth;
		memset(a, 0, sizeof(*a));
		a->ok = true;
		snprintf(a->username, sizeof(a->username), "%s", t.username);
		snprintf(a->role, sizeof(a->role), "%s", t.role);
		snprintf(a->extension, sizeof(a->extension), "%s", t.extension);
		return true;
	}
	const char *sid = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, WEB_SESSION_COOKIE);
	return sid && web_session_get(r->w->sessions, sid, &r->auth) == 0;
}

/* --- login, logout, session ----------------------------------------------------- */

static void login_check(struct web_req *r, const char *user, const char *pw)
{
	unsigned retry = 0;
	struct db *db = web_db(r);
	if (!db)
		return;
	struct web_limiter *lim = r->w->limiter;
	if (!web_limiter_begin(lim, r->src, &retry)) {
		web_header(r, "Retry-After", "%u", retry);
		web_error(r, 429, "too many failed logins from your address; try again later", NULL);
		return;
	}
	if (!web_acct_begin(lim, user, r->src, &retry)) {
		web_limiter_end(lim, r->src, -1);
		web_header(r, "Retry-After", "%u", retry);
		char msg[128];
		snprintf(msg, sizeof(msg),
			 "too many failed logins for this account; try again in %u s", retry);
		web_error(r, 429, msg, NULL);
		return;
	}
	struct db_user u;
	int err = db_user_info(db, user, &u);
	if (err && err != ENOENT) {
		web_limiter_end(lim, r->src, -1);
		unsigned n;
		web_acct_end(lim, user, r->src, -1, &n);
		web_db_error(r, err, "user");
		return;
	}
	/* Free the connection during the slow part: others may need it. */
	web_db_release(r);
	bool ok = db_password_verify(pw, err ? dummy_hash : u.pw_hash) && !err;
	web_limiter_end(lim, r->src, ok ? 1 : 0);
	unsigned fails = 0, held = web_acct_end(lim, user, r->src, ok ? 1 : 0, &fails);
	if (!ok) {
		log_info(WEB_TAG, "failed web login for \"%.63s\" from %s", user, r->src);
		if (held)
			log_warn(WEB_TAG,
				 "web logins for \"%.63s\" held for %u s after %u failed attempts"
				 " (last from %s)",
				 user, held, fails, r->src);
		web_error(r, 401, "wrong user name or password", NULL);
		explicit_bzero(&u, sizeof(u));
		return;
	}
	struct web_auth a;
	if (web_session_create(r->w->sessions, u.username, u.role, u.extension,
			       u.must_change_password, &a)) {
		web_error(r, 500, "cannot create a session", NULL);
		return;
	}
	explicit_bzero(&u, sizeof(u));
	r->logged_in = true;
	log_info(WEB_TAG, "web login: %s (%s) from %s%s", a.username, a.role, r->src,
		 a.must_change ? " (must choose a new password)" : "");
	web_header(r, "Set-Cookie", "%s=%s; Path=/; Secure; HttpOnly; SameSite=Strict",
		   WEB_SESSION_COOKIE, a.sid);
	web_json(r, 200, who_json(&a));
	explicit_bzero(&a, sizeof(a));
}

void web_api_login(struct web_req *r)
{
	static const char *const keys[] = { "username", "password", NULL };
	json_t *o = web_body_object(r, keys);
	if (!o)
		return;
	char user[DB_USER_NAME_MAX], pw[PW_MAX];
	if (web_field_str(r, o, "username", user, sizeof(user), true) > 0 &&
	    web_field_str(r, o, "password", pw, sizeof(pw), true) > 0)
		login_check(r, user, pw);
	explicit_bzero(pw, sizeof(pw));
	json_decref(o);
}

void web_api_logout(struct web_req *r)
{
	if (!r->auth.session) {
		web_error(r, 400, "not a browser session (revoke a token with DELETE /api/v1/tokens/{id})",
			  NULL);
		return;
	}
	web_session_end(r->w->sessions, r->auth.sid);
	web_header(r, "Set-Cookie", "%s=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0",
		   WEB_SESSION_COOKIE);
	web_no_content(r);
}

void web_api_session(struct web_req *r)
{
	web_json(r, 200, who_json(&r->auth));
}

/* --- API tokens ----------------------------------------------------------------- */

static void add_token(const struct db_token *t, void *arg)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(t->id));
	json_object_set_new(o, "name", json_string(t->name));
	json_object_set_new(o, "username", json_string(t->username));
	json_object_set_new(o, "created_at", json_integer(t->created_at));
	json_object_set_new(o, "last_used_at", t->last_used_at ? json_integer(t->last_used_at)
							       : json_null());
	json_object_set_new(o, "expires_at", t->expires_at ? json_integer(t->expires_at)
							   : json_null());
	json_object_set_new(o, "expired",
			    json_boolean(t->expires_at && t->expires_at <= (int64_t)time(NULL)));
	json_array_append_new(arg, o);
}

void web_api_tokens_list(struct web_req *r)
{
	struct db *db = web_db(r);
	if (!db)
		return;
	json_t *a = json_array();
	int n = db_token_list(db, add_token, a);
	if (n < 0) {
		json_decref(a);
		web_db_error(r, -n, "tokens");
		return;
	}
	json_t *o = json_object();
	json_object_set_new(o, "tokens", a);
	web_json(r, 200, o);
}

#define TOKEN_DAYS_MAX 3650

/* "2027-01-31" (the end of that day, UTC) or "2027-01-31T12:00:00Z" as
 * unix seconds; -1 when neither. */
static int64_t parse_iso(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end && (!strcmp(end, "Z") || !strcmp(end, "+00:00") || !*end))
		return (int64_t)timegm(&tm);
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (!end || *end)
		return -1;
	tm.tm_hour = 23;
	tm.tm_min = 59;
	tm.tm_sec = 59;
	return (int64_t)timegm(&tm);
}

/* The expiry asked for: *at 0 for never; false having answered 400. */
static bool token_expiry(struct web_req *r, json_t *o, int64_t *at)
{
	int64_t now = (int64_t)time(NULL);
	long long days = 0;
	char iso[40];
	*at = 0;
	if (json_object_get(o, "expires_in_days") && json_object_get(o, "expires_at")) {
		web_error(r, 400, "expires_at: give expires_in_days or expires_at, not both",
			  "expires_at");
		return false;
	}
	int g = web_field_int(r, o, "expires_in_days", 1, TOKEN_DAYS_MAX, &days);
	if (g < 0)
		return false;
	if (g > 0) {
		*at = now + (int64_t)days * 86400;
		return true;
	}
	json_t *v = json_object_get(o, "expires_at");
	if (!v || json_is_null(v))
		return true;
	if (json_is_integer(v)) {
		*at = json_integer_value(v);
	} else if (web_field_str(r, o, "expires_at", iso, sizeof(iso), false) < 0) {
		return false;
	} else if ((*at = parse_iso(iso)) < 0) {
		web_error(r, 400, "expires_at: a date as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)",
			  "expires_at");
		return false;
	}
	if (*at <= now || *at > now + (int64_t)TOKEN_DAYS_MAX * 86400) {
		web_error(r, 400, "expires_at: must be in the future, within 10 years",
			  "expires_at");
		return false;
	}
	return true;
}

void web_api_tokens_create(struct web_req *r)
{
	static const char *const keys[] = { "name", "expires_in_days", "expires_at", NULL };
	json_t *o = web_body_object(r, keys);
	if (!o)
		return;
	char name[DB_TOKEN_NAME_MAX];
	int64_t expires = 0;
	int got = web_field_str(r, o, "name", name, sizeof(name), true);
	if (got > 0 && !token_expiry(r, o, &expires))
		got = -1;
	json_decref(o);
	if (got < 0)
		return;
	char token[TOKEN_LEN + 1], hash[65];
	memcpy(token, TOKEN_PREFIX, 3);
	struct db *db = web_db(r);
	if (!db)
		return;
	if (web_random_hex(token + 3, 32)) {
		web_error(r, 500, "no randomness", NULL);
		return;
	}
	web_sha256_hex(token, hash);
	int64_t id = 0;
	int err = db_token_add(db, name, r->auth.username, hash, expires, &id);
	if (err) {
		explicit_bzero(token, sizeof(token));
		web_db_error(r, err, "user");
		return;
	}
	log_info(WEB_TAG, "API token %lld \"%s\" created by %s", (long long)id, name,
		 r->auth.username);
	json_t *j = json_object();
	json_object_set_new(j, "id", json_integer(id));
	json_object_set_new(j, "name", json_string(name));
	json_object_set_new(j, "username", json_string(r->auth.username));
	json_object_set_new(j, "expires_at", expires ? json_integer(expires) : json_null());
	/* the only time the token exists in clear outside the client */
	json_object_set_new(j, "token", json_string(token));
	explicit_bzero(token, sizeof(token));
	web_header(r, "Location", "/api/v1/tokens/%lld", (long long)id);
	web_json(r, 201, j);
}

void web_api_tokens_delete(struct web_req *r)
{
	char *end;
	long long id = strtoll(r->arg[0], &end, 10);
	if (*end || id <= 0 || strspn(r->arg[0], "0123456789") != strlen(r->arg[0])) {
		web_error(r, 400, "id: a positive integer", "id");
		return;
	}
	struct db *db = web_db(r);
	if (!db)
		return;
	int err = db_token_delete(db, id);
	if (err) {
		web_db_error(r, err, "token");
		return;
	}
	log_info(WEB_TAG, "API token %lld revoked by %s", id, r->auth.username);
	web_no_content(r);
}
