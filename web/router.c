/*
 * The route table and the checks every route goes through, in order:
 * route (404 unknown path, 405 known path with another method), then
 * authentication (401), CSRF for browser sessions changing state (403),
 * role (403), then the handler. The table is the one place that says who
 * may do what; handlers only add the per-object rule of role "user" (its
 * own extension, its own calls).
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "web_int.h"

#define EXT "/api/v1/extensions"
#define VM "/api/v1/voicemail"

const struct web_route web_routes[] = {
	{ WM_GET, "/", WR_PUBLIC, web_static_index },
	{ WM_GET, "/index.html", WR_PUBLIC, web_static_index },
	{ WM_GET, "/style.css", WR_PUBLIC, web_static_css },
	{ WM_GET, "/app.js", WR_PUBLIC, web_static_js },
	{ WM_GET, "/voicemail.js", WR_PUBLIC, web_static_vm_js },
	{ WM_GET, "/phone.js", WR_PUBLIC, web_static_phone_js },
	{ WM_GET, "/users.js", WR_PUBLIC, web_static_users_js },
	{ WM_GET, "/extensions.js", WR_PUBLIC, web_static_ext_js },
	{ WM_GET, "/ops.js", WR_PUBLIC, web_static_ops_js },
	{ WM_POST, "/api/v1/login", WR_PUBLIC | WR_JSON, web_api_login },
	{ WM_POST, "/api/v1/logout", WR_PWCHANGE, web_api_logout },
	{ WM_GET, "/api/v1/session", WR_PWCHANGE, web_api_session },
	{ WM_POST, "/api/v1/password", WR_JSON | WR_PWCHANGE, web_api_password },
	{ WM_GET, "/api/v1/openapi.json", 0, web_api_openapi },
	{ WM_GET, EXT, 0, web_api_ext_list },
	{ WM_POST, EXT, WR_ADMIN | WR_JSON, web_api_ext_create },
	{ WM_GET, EXT "/{}", 0, web_api_ext_get },
	{ WM_PUT | WM_PATCH, EXT "/{}", WR_ADMIN | WR_JSON, web_api_ext_update },
	{ WM_DELETE, EXT "/{}", WR_ADMIN, web_api_ext_delete },
	{ WM_POST, EXT "/{}/password", WR_ADMIN, web_api_ext_password },
	{ WM_GET, EXT "/{}/secret", WR_ADMIN, web_api_ext_secret },
	{ WM_GET, EXT "/{}/phone", WR_ADMIN, web_api_ext_phone },
	{ WM_GET, EXT "/{}/qr.svg", WR_ADMIN, web_api_ext_qr },
	{ WM_GET, "/api/v1/timezone", 0, web_api_timezone },
	{ WM_GET, "/api/v1/numbers", 0, web_api_numbers },
	{ WM_GET, "/api/v1/codecs", 0, web_api_codecs },
	{ WM_GET, "/api/v1/registrations", 0, web_api_registrations },
	{ WM_GET, "/api/v1/calls", 0, web_api_calls },
	{ WM_DELETE, "/api/v1/calls/{}", WR_ADMIN, web_api_call_hangup },
	{ WM_GET, "/api/v1/bans", WR_ADMIN, web_api_bans },
	{ WM_DELETE, "/api/v1/bans/{}", WR_ADMIN, web_api_ban_lift },
	{ WM_GET, "/api/v1/security", WR_ADMIN, web_api_security },
	{ WM_GET, "/api/v1/cdrs", 0, web_api_cdrs },
	/* voicemail: a role "user" only its own mailbox (web_vm_may) */
	{ WM_GET, VM, 0, web_api_vm_list },
	{ WM_GET, VM "/{}/messages", 0, web_api_vm_messages },
	{ WM_GET, VM "/{}/messages/{}/audio", 0, web_api_vm_audio },
	{ WM_PATCH | WM_PUT, VM "/{}/messages/{}", WR_JSON, web_api_vm_msg_update },
	{ WM_DELETE, VM "/{}/messages/{}", 0, web_api_vm_msg_delete },
	{ WM_POST | WM_PUT, VM "/{}/greetings/{}", WR_UPLOAD, web_api_vm_greeting_put },
	{ WM_DELETE, VM "/{}/greetings/{}", 0, web_api_vm_greeting_delete },
	{ WM_GET, "/api/v1/events", 0, web_api_events },
	{ WM_GET, "/api/v1/stats/calls-per-hour", 0, web_api_calls_per_hour },
	{ WM_GET, "/api/v1/settings", WR_ADMIN, web_api_settings_get },
	{ WM_PUT | WM_PATCH, "/api/v1/settings", WR_ADMIN | WR_JSON, web_api_settings_put },
	{ WM_GET, "/api/v1/email", WR_ADMIN, web_api_email_status },
	{ WM_POST, "/api/v1/email/test", WR_ADMIN | WR_JSON, web_api_email_test },
	{ WM_GET, "/api/v1/status", WR_ADMIN, web_api_status },
	{ WM_GET, "/api/v1/logs", WR_ADMIN, web_api_logs },
	{ WM_GET, "/api/v1/logs/stream", WR_ADMIN, web_api_logs_stream },
	{ WM_GET, "/api/v1/backup", WR_ADMIN, web_api_backup },
	{ WM_GET, "/api/v1/backups", WR_ADMIN, web_api_backups_list },
	{ WM_POST, "/api/v1/restore", WR_ADMIN | WR_UPLOAD, web_api_restore },
	{ WM_GET, "/api/v1/metrics", WR_ADMIN, web_api_metrics },
	{ WM_GET, "/metrics", WR_ADMIN, web_api_metrics }, /* where Prometheus looks */
	{ WM_GET, "/api/v1/tokens", WR_ADMIN, web_api_tokens_list },
	{ WM_POST, "/api/v1/tokens", WR_ADMIN | WR_JSON, web_api_tokens_create },
	{ WM_DELETE, "/api/v1/tokens/{}", WR_ADMIN, web_api_tokens_delete },
	{ WM_GET, "/api/v1/users", WR_ADMIN, web_api_users_list },
	{ WM_POST, "/api/v1/users", WR_ADMIN | WR_JSON, web_api_users_create },
	{ WM_PUT | WM_PATCH, "/api/v1/users/{}", WR_ADMIN | WR_JSON, web_api_users_update },
	{ WM_DELETE, "/api/v1/users/{}", WR_ADMIN, web_api_users_delete },
};
const size_t web_nroutes = sizeof(web_routes) / sizeof(web_routes[0]);

/* Matches path against pattern, capturing each {} segment into r->arg. */
static bool match(const char *pattern, const char *path, struct web_req *r)
{
	int narg = 0;
	while (*pattern) {
		if (pattern[0] == '{' && pattern[1] == '}') {
			size_t n = strcspn(path, "/");
			if (n == 0 || n >= sizeof(r->arg[0]) || narg == 2)
				return false;
			memcpy(r->arg[narg], path, n);
			r->arg[narg++][n] = '\0';
			path += n;
			pattern += 2;
			continue;
		}
		if (*pattern++ != *path++)
			return false;
	}
	return *path == '\0';
}

static void allow_header(struct web_req *r, int methods)
{
	static const struct {
		int m;
		const char *name;
	} t[] = { { WM_GET, "GET, HEAD" }, { WM_POST, "POST" },   { WM_PUT, "PUT" },
		  { WM_PATCH, "PATCH" },   { WM_DELETE, "DELETE" } };
	char buf[64] = "";
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (methods & t[i].m)
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
				 buf[0] ? ", " : "", t[i].name);
	web_header(r, "Allow", "%s", buf);
}

static bool changes_state(int m)
{
	return m & (WM_POST | WM_PUT | WM_PATCH | WM_DELETE);
}

/* The session's CSRF token must come back in a header, which a page of
 * another site cannot set on a request to us (no CORS is granted), and
 * which it cannot read either (it is returned only in JSON bodies). */
static bool csrf_ok(struct web_req *r)
{
	const char *t = web_in_header(r, "X-CSRF-Token");
	return t && strlen(t) == strlen(r->auth.csrf) &&
	       CRYPTO_memcmp(t, r->auth.csrf, strlen(t)) == 0;
}

const struct web_route *web_route_find(struct web_req *r)
{
	int m = r->method == WM_HEAD ? WM_GET : r->method; /* MHD drops HEAD bodies */
	for (size_t i = 0; i < web_nroutes; i++)
		if ((web_routes[i].methods & m) && match(web_routes[i].pattern, r->url, r))
			return &web_routes[i];
	return NULL;
}

bool web_route_admit(struct web_req *r, const struct web_route *rt)
{
	int m = r->method == WM_HEAD ? WM_GET : r->method;
	if (rt->flags & WR_PUBLIC)
		return true;
	if (!web_authenticate(r)) {
		if (!r->resp.status) {
			web_header(r, "WWW-Authenticate", "Bearer realm=\"hookflash\"");
			web_error(r, 401, "authentication required", NULL);
		}
		return false;
	}
	if (r->auth.session && changes_state(m) && !csrf_ok(r)) {
		web_error(r, 403, "missing or wrong X-CSRF-Token header", NULL);
		return false;
	}
	if (r->auth.must_change && !(rt->flags & WR_PWCHANGE)) {
		web_error(r, 403, "password change required", NULL);
		return false;
	}
	if ((rt->flags & WR_ADMIN) && !web_is_admin(r)) {
		web_error(r, 403, "this needs the admin role", NULL);
		return false;
	}
	return true;
}

void web_dispatch(struct web_req *r)
{
	int m = r->method == WM_HEAD ? WM_GET : r->method; /* MHD drops HEAD bodies */
	const struct web_route *rt = NULL;
	int allowed = 0;
	for (size_t i = 0; i < web_nroutes; i++) {
		if (!match(web_routes[i].pattern, r->url, r))
			continue;
		allowed |= web_routes[i].methods;
		if (web_routes[i].methods & m) {
			rt = &web_routes[i];
			break;
		}
	}
	if (!rt) {
		if (allowed) {
			allow_header(r, allowed);
			web_error(r, 405, "method not allowed", NULL);
		} else {
			web_error(r, 404, "not found", NULL);
		}
		return;
	}
	/* the captures of the routes tried before belong to this one now */
	match(rt->pattern, r->url, r);
	if (web_route_admit(r, rt))
		rt->h(r);
}
