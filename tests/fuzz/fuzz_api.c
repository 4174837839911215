/* libFuzzer harness for the REST API's JSON handlers without an HTTP
 * server: the seam is struct web_req (web/web_int.h), which a handler
 * reads its body, route arguments and caller from and answers into, with
 * a real database from the server's pool. The first input byte picks the
 * handler (extensions create/update, users create/update, password,
 * tokens, voicemail message update, e-mail test, and the settings'
 * validation path conf_set_name); the rest is the body. The signalling
 * loop is a pbx_web already shut down, so whatever a handler asks of the
 * loop after validating answers 503 at once instead of waiting. Checked:
 * every request is answered, with a status in 200..599, and every JSON
 * answer parses. PBKDF2 (200,000 rounds for web passwords) is swapped
 * for a cheap stand-in with the linker's --wrap, and MHD's header lookup
 * answers Content-Type: application/json: the hash is not what is
 * fuzzed here and would cost ~100 ms an input. The database is started
 * afresh every 2,000 inputs so that rows created by inputs stay few.
 * Seeds: tests/fuzz/seeds/api. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../../core/base/conf.h"
#include "../../core/base/log.h"
#include "../../core/pbx/pbx.h"
#include "../../core/pbx/pbx_web.h"
#include "../../web/web_int.h"

int __real_db_pbkdf2_hash(const char *password, int iter, char *out, size_t cap);
int __wrap_db_pbkdf2_hash(const char *password, int iter, char *out, size_t cap);
int __wrap_db_pbkdf2_hash(const char *password, int iter, char *out, size_t cap)
{
	if (!password || !*password || !out)
		return 22; /* EINVAL, as the real one */
	int n = snprintf(out, cap, "pbkdf2-sha256$%d$AAAAAAAAAAAAAAAAAAAAAA==$fuzz", iter);
	return n < 0 || (size_t)n >= cap ? 34 : 0;
}
int __real_db_password_hash(const char *password, char *out, size_t cap);
int __wrap_db_password_hash(const char *password, char *out, size_t cap);
int __wrap_db_password_hash(const char *password, char *out, size_t cap)
{
	return __wrap_db_pbkdf2_hash(password, 200000, out, cap);
}

/* A request without a connection: the executable's definition comes
 * before libmicrohttpd's, and names the body JSON (which every JSON
 * route requires) and nothing else. */
const char *MHD_lookup_connection_value(struct MHD_Connection *connection,
					enum MHD_ValueKind kind, const char *key)
{
	(void)connection;
	if (kind == MHD_HEADER_KIND && key && !strcasecmp(key, MHD_HTTP_HEADER_CONTENT_TYPE))
		return "application/json";
	return NULL;
}

static struct web_server w;
static struct pbx fake_pbx;
static char db_path[128];
static unsigned uses;

static void db_fresh(void)
{
	if (w.ndbs) {
		db_close(w.dbs[0]);
		w.ndbs = 0;
	}
	unlink(db_path);
	char f[160];
	snprintf(f, sizeof(f), "%s-wal", db_path);
	unlink(f);
	snprintf(f, sizeof(f), "%s-shm", db_path);
	unlink(f);
	if (db_open(&w.dbs[0], db_path))
		abort();
	w.ndbs = 1;
	/* an extension and a user for the update routes to find */
	struct db_ext e;
	memset(&e, 0, sizeof(e));
	snprintf(e.number, sizeof(e.number), "1001");
	snprintf(e.name, sizeof(e.name), "Alice");
	snprintf(e.password, sizeof(e.password), "secret-1001-abcdef");
	e.enabled = true;
	db_ext_add(w.dbs[0], &e);
}

static void init(void)
{
	log_set_level(LOG_ERROR);
	snprintf(db_path, sizeof(db_path), "/dev/shm/hf-fuzz-api-%d.db", (int)getpid());
	conf_defaults(&w.conf);
	pthread_mutex_init(&w.db_mu, NULL);
	pthread_cond_init(&w.db_cv, NULL);
	w.db_init = true;
	if (web_sessions_alloc(&w.sessions) || web_limiter_alloc(&w.limiter))
		abort();
	conf_defaults(&fake_pbx.conf);
	if (pbx_web_alloc(&w.pw, &fake_pbx))
		abort();
	pbx_web_shutdown(w.pw);
	db_fresh();
}

struct target {
	web_route_h *h;
	int method;
	const char *arg0, *arg1;
};

static const struct target targets[] = {
	{ web_api_ext_create, WM_POST, NULL, NULL },
	{ web_api_ext_update, WM_PUT, "1001", NULL },
	{ web_api_ext_update, WM_PATCH, "1001", NULL },
	{ web_api_users_create, WM_POST, NULL, NULL },
	{ web_api_users_update, WM_PATCH, "admin", NULL },
	{ web_api_password, WM_POST, NULL, NULL },
	{ web_api_tokens_create, WM_POST, NULL, NULL },
	{ web_api_vm_msg_update, WM_PATCH, "1001", "1" },
	{ web_api_email_test, WM_POST, NULL, NULL },
	{ NULL, WM_PUT, NULL, NULL }, /* settings: conf_set_name per key */
};
#define NTARGETS (sizeof(targets) / sizeof(targets[0]))

/* The settings' one validation path (CLI, API and conf file share it),
 * with the JSON values as the API turns them into text. */
static void settings(const char *body, size_t len)
{
	json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return;
	}
	struct conf c;
	conf_defaults(&c);
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v)
	{
		char val[512], err[320];
		if (json_is_string(v))
			snprintf(val, sizeof(val), "%s", json_string_value(v));
		else if (json_is_integer(v))
			snprintf(val, sizeof(val), "%lld", (long long)json_integer_value(v));
		else if (json_is_boolean(v))
			snprintf(val, sizeof(val), "%s", json_is_true(v) ? "true" : "false");
		else
			continue;
		const struct conf_info *ci = conf_info_find(key);
		int rc = conf_set_name(&c, key, val, err, sizeof(err));
		if (!ci && rc == 0)
			abort(); /* an unknown name must be refused */
		if (rc && !err[0])
			abort(); /* a refusal says why */
	}
	json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		init();
		ready = true;
	}
	if (size < 1 || size > WEB_BODY_MAX)
		return 0;
	const struct target *t = &targets[data[0] % NTARGETS];
	if (!t->h) {
		settings((const char *)data + 1, size - 1);
		return 0;
	}
	if (++uses % 2000 == 0)
		db_fresh();

	struct web_req r;
	memset(&r, 0, sizeof(r));
	r.w = &w;
	r.method = t->method;
	r.method_s = t->method == WM_POST ? "POST" : t->method == WM_PUT ? "PUT" : "PATCH";
	r.url = "/api/v1/fuzz";
	r.body = malloc(size);
	if (!r.body)
		return 0;
	memcpy(r.body, data + 1, size - 1);
	r.body[size - 1] = '\0';
	r.len = size - 1;
	r.upload_fd = -1;
	if (t->arg0)
		snprintf(r.arg[0], sizeof(r.arg[0]), "%s", t->arg0);
	if (t->arg1)
		snprintf(r.arg[1], sizeof(r.arg[1]), "%s", t->arg1);
	snprintf(r.src, sizeof(r.src), "192.0.2.9");
	r.auth.ok = true;
	snprintf(r.auth.username, sizeof(r.auth.username), "admin");
	snprintf(r.auth.role, sizeof(r.auth.role), "admin");

	t->h(&r);
	web_db_release(&r);

	if (r.resp.status < 200 || r.resp.status > 599) {
		fprintf(stderr, "handler %d answered status %u\n", data[0] % (int)NTARGETS,
			r.resp.status);
		abort();
	}
	if (r.resp.body && r.resp.ctype && !strcmp(r.resp.ctype, "application/json")) {
		json_t *j = json_loadb(r.resp.body, r.resp.len, 0, NULL);
		if (!j) {
			fprintf(stderr, "answer is not JSON: %.*s\n", (int)r.resp.len, r.resp.body);
			abort();
		}
		json_decref(j);
	}
	free(r.resp.body);
	if (r.resp.file && r.resp.fd >= 0)
		close(r.resp.fd);
	free(r.body);
	return 0;
}
