/*
 * /api/v1/voicemail: the mailboxes a caller may see with their new/old
 * counts, a mailbox's messages, a message's audio, marking one listened
 * to (folder "old") and deleting one (its row, then its file). An admin
 * sees every mailbox; a role "user" only its own extension's (403 for
 * any other, whether or not it exists). The audio is streamed from its
 * file as MHD sends it (never read whole into memory), honouring a
 * single "Range: bytes=" so the browser's <audio> element can seek.
 * Whatever changes what a phone's lamp shows is told to the signalling
 * loop (pbx_web_mwi_changed); the disk and database work stays on this
 * web thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/base/log.h"
#include "../core/pbx/pbx_web.h"
#include "../db/voicemail.h"
#include "web_int.h"

static const char *const greeting_kinds[] = { "unavail", "busy", "name" };

/* A mailbox is an extension's number: digits only, so it is safe in a
 * path as it is. */
static bool mailbox_ok(const char *s)
{
	size_t n = strlen(s);
	return n >= 2 && n <= 15 && strspn(s, "0123456789") == n;
}

bool web_vm_may(struct web_req *r, const char *mailbox)
{
	if (!mailbox_ok(mailbox)) {
		web_error(r, 404, "no such mailbox", NULL);
		return false;
	}
	if (web_is_admin(r) || (r->auth.extension[0] && !strcmp(r->auth.extension, mailbox)))
		return true;
	web_error(r, 403, "this mailbox is not yours", NULL);
	return false;
}

bool web_vm_dir(struct web_req *r, const char *mailbox, bool mk, char *out, size_t cap)
{
	const char *dd = r->w->conf.data_dir;
	int n = snprintf(out, cap, "%s/voicemail", dd);
	if (n < 0 || (size_t)n >= cap) {
		web_error(r, 500, "data directory path too long", NULL);
		return false;
	}
	if (mk && mkdir(out, 0700) && errno != EEXIST)
		goto fail;
	n = snprintf(out, cap, "%s/voicemail/%s", dd, mailbox);
	if (n < 0 || (size_t)n >= cap) {
		web_error(r, 500, "data directory path too long", NULL);
		return false;
	}
	if (mk && mkdir(out, 0700) && errno != EEXIST)
		goto fail;
	return true;
fail:
	log_err(WEB_TAG, "cannot create %s: %s", out, strerror(errno));
	web_error(r, 500, "cannot create the mailbox's folder", NULL);
	return false;
}

/* The mailbox exists (its extension does); false having answered. */
static bool mailbox_exists(struct web_req *r, struct db *db, const char *mailbox)
{
	struct db_ext e;
	int err = db_ext_get(db, mailbox, &e);
	if (err == ENOENT) {
		web_error(r, 404, "no such mailbox", NULL);
		return false;
	}
	if (err) {
		web_db_error(r, err, "mailbox");
		return false;
	}
	return true;
}

/* --- GET /api/v1/voicemail ------------------------------------------------ */

struct list_ctx {
	struct web_req *r;
	json_t *a;
	int err;
};

static json_t *box_json(struct db *db, const char *mailbox, const char *name, int *err)
{
	int nw = 0, old = 0;
	*err = db_vm_counts(db, mailbox, &nw, &old);
	json_t *o = json_object();
	json_object_set_new(o, "mailbox", json_string(mailbox));
	json_object_set_new(o, "name", web_jstr(name));
	json_object_set_new(o, "new", json_integer(nw));
	json_object_set_new(o, "old", json_integer(old));
	return o;
}

static void on_ext(const struct db_ext *e, void *arg)
{
	struct list_ctx *c = arg;
	if (c->err)
		return;
	json_array_append_new(c->a, box_json(c->r->db, e->number, e->name, &c->err));
}

void web_api_vm_list(struct web_req *r)
{
	struct db *db = web_db(r);
	if (!db)
		return;
	struct list_ctx c = { .r = r, .a = json_array() };
	if (web_is_admin(r)) {
		int n = db_ext_list(db, on_ext, &c);
		if (n < 0)
			c.err = -n;
	} else if (r->auth.extension[0]) {
		struct db_ext e;
		int err = db_ext_get(db, r->auth.extension, &e);
		if (!err)
			json_array_append_new(c.a, box_json(db, e.number, e.name, &c.err));
		else if (err != ENOENT)
			c.err = err;
	}
	if (c.err) {
		json_decref(c.a);
		web_db_error(r, c.err, "voicemail");
		return;
	}
	json_t *o = json_object();
	json_object_set_new(o, "mailboxes", c.a);
	web_json(r, 200, o);
}

/* --- GET /api/v1/voicemail/{mailbox}/messages ------------------------------- */

static json_t *msg_json(const struct db_vm_msg *m)
{
	char url[160];
	snprintf(url, sizeof(url), "/api/v1/voicemail/%s/messages/%" PRId64 "/audio", m->mailbox,
		 m->id);
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(m->id));
	json_object_set_new(o, "folder", json_string(m->folder));
	json_object_set_new(o, "caller", web_jstr(m->caller));
	json_object_set_new(o, "caller_name", web_jstr(m->caller_name));
	json_object_set_new(o, "received_at", json_integer(m->received_at));
	json_object_set_new(o, "duration_ms", json_integer(m->duration_ms));
	json_object_set_new(o, "audio_url", json_string(url));
	return o;
}

static void on_msg(const struct db_vm_msg *m, void *arg)
{
	json_array_append_new(arg, msg_json(m));
}

void web_api_vm_messages(struct web_req *r)
{
	const char *mb = r->arg[0];
	struct db *db;
	if (!web_vm_may(r, mb) || !(db = web_db(r)) || !mailbox_exists(r, db, mb))
		return;
	json_t *a = json_array();
	int nw = 0, old = 0;
	int err = db_vm_msg_list(db, mb, on_msg, a);
	if (!err)
		err = db_vm_counts(db, mb, &nw, &old);
	if (err) {
		json_decref(a);
		web_db_error(r, err, "voicemail");
		return;
	}
	/* which greetings are recorded: their files, which is what a caller
	 * hears */
	char dir[400];
	json_t *g = json_object();
	if (!web_vm_dir(r, mb, false, dir, sizeof(dir))) {
		json_decref(a);
		json_decref(g);
		return;
	}
	for (size_t i = 0; i < sizeof(greeting_kinds) / sizeof(greeting_kinds[0]); i++) {
		char path[480];
		struct stat st;
		snprintf(path, sizeof(path), "%s/greet-%s.wav", dir, greeting_kinds[i]);
		json_object_set_new(g, greeting_kinds[i], json_boolean(stat(path, &st) == 0));
	}
	json_t *o = json_object();
	json_object_set_new(o, "mailbox", json_string(mb));
	json_object_set_new(o, "new", json_integer(nw));
	json_object_set_new(o, "old", json_integer(old));
	json_object_set_new(o, "greetings", g);
	json_object_set_new(o, "messages", a);
	web_json(r, 200, o);
}

/* --- one message --------------------------------------------------------------- */

/* The message {id} of the route's mailbox; false having answered (404
 * also for a message of another mailbox: its id says nothing). */
static bool msg_of(struct web_req *r, struct db_vm_msg *m)
{
	const char *mb = r->arg[0];
	if (!web_vm_may(r, mb) || !web_db(r))
		return false;
	char *end;
	errno = 0;
	long long id = strtoll(r->arg[1], &end, 10);
	int err = ENOENT;
	if (!errno && *end == '\0' && id > 0 && r->arg[1][0] != '+')
		err = db_vm_msg_get(r->db, id, m);
	if (!err && strcmp(m->mailbox, mb))
		err = ENOENT;
	if (err) {
		web_db_error(r, err, "message");
		return false;
	}
	return true;
}

/* The message's file as a real path, only when it lies inside the
 * mailbox's folder: the path comes from the database, and a row pointing
 * elsewhere must not make this a way to read or delete any file. */
static bool audio_path(const struct web_req *r, const struct db_vm_msg *m, char *real)
{
	const char *dd = r->w->conf.data_dir;
	char dir[PATH_MAX], want[PATH_MAX], path[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/voicemail/%s", dd, m->mailbox);
	if (m->path[0] == '/')
		snprintf(path, sizeof(path), "%s", m->path);
	else
		snprintf(path, sizeof(path), "%s/%s", dd, m->path);
	if (!realpath(dir, want) || !realpath(path, real))
		return false;
	size_t n = strlen(want);
	if (strncmp(real, want, n) || real[n] != '/') {
		log_warn(WEB_TAG, "voicemail message %" PRId64 ": %s is outside %s", m->id, m->path,
			 dir);
		return false;
	}
	return true;
}

static bool digits(const char **p, uint64_t *v)
{
	const char *s = *p;
	size_t n = strspn(s, "0123456789");
	if (n == 0 || n > 18)
		return false;
	*v = strtoull(s, NULL, 10);
	*p = s + n;
	return true;
}

/* RFC 9110 14.2: 0 no Range to honour (none, another unit, or several
 * ranges, which a server may answer whole); 1 the range [*a, *b]; -1
 * malformed or unsatisfiable (416). */
static int parse_range(const char *h, uint64_t size, uint64_t *a, uint64_t *b)
{
	if (!h)
		return 0;
	h += strspn(h, " \t");
	if (strncasecmp(h, "bytes=", 6))
		return 0;
	const char *p = h + 6;
	if (strchr(p, ','))
		return 0;
	p += strspn(p, " \t");
	uint64_t x, y;
	if (*p == '-') { /* the last n bytes */
		p++;
		if (!digits(&p, &x) || p[strspn(p, " \t")] || x == 0 || size == 0)
			return -1;
		*a = x >= size ? 0 : size - x;
		*b = size - 1;
		return 1;
	}
	if (!digits(&p, &x) || *p++ != '-')
		return -1;
	if (*p >= '0' && *p <= '9') {
		if (!digits(&p, &y) || y < x)
			return -1;
	} else {
		y = UINT64_MAX;
	}
	if (p[strspn(p, " \t")] || x >= size)
		return -1;
	*a = x;
	*b = y >= size ? size - 1 : y;
	return 1;
}

void web_api_vm_audio(struct web_req *r)
{
	struct db_vm_msg m;
	if (!msg_of(r, &m))
		return;
	web_db_release(r); /* the file may take a while to send */
	char real[PATH_MAX];
	int fd = audio_path(r, &m, real) ? open(real, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0) {
		web_error(r, 404, "the message's audio file is missing", NULL);
		return;
	}
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		web_error(r, 404, "the message's audio file is missing", NULL);
		return;
	}
	uint64_t size = (uint64_t)st.st_size, a = 0, b = 0;
	int rg = parse_range(web_in_header(r, "Range"), size, &a, &b);
	web_header(r, "Accept-Ranges", "bytes");
	if (rg < 0) {
		close(fd);
		web_header(r, "Content-Range", "bytes */%" PRIu64, size);
		web_error(r, 416, "range not satisfiable", NULL);
		return;
	}
	if (rg == 0) {
		web_file(r, 200, "audio/wav", fd, 0, size);
		return;
	}
	web_header(r, "Content-Range", "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, a, b, size);
	web_file(r, 206, "audio/wav", fd, a, b - a + 1);
}

/* PATCH {"folder": "old"}: listened to (or "new" again). */
void web_api_vm_msg_update(struct web_req *r)
{
	static const char *const keys[] = { "folder", NULL };
	struct db_vm_msg m;
	if (!msg_of(r, &m))
		return;
	json_t *o = web_body_object(r, keys);
	if (!o)
		return;
	char folder[16];
	int g = web_field_str(r, o, "folder", folder, sizeof(folder), true);
	json_decref(o);
	if (g < 0)
		return;
	if (strcmp(folder, DB_VM_FOLDER_NEW) && strcmp(folder, DB_VM_FOLDER_OLD)) {
		web_error(r, 400, "folder: \"new\" or \"old\"", "folder");
		return;
	}
	int err = strcmp(folder, m.folder) ? db_vm_msg_move(r->db, m.id, folder) : 0;
	if (err) {
		web_db_error(r, err, "message");
		return;
	}
	if (strcmp(folder, m.folder))
		pbx_web_mwi_changed(r->w->pw, m.mailbox);
	/* one of the two names, checked above */
	strcpy(m.folder, strcmp(folder, DB_VM_FOLDER_NEW) ? DB_VM_FOLDER_OLD : DB_VM_FOLDER_NEW);
	web_json(r, 200, msg_json(&m));
}

void web_api_vm_msg_delete(struct web_req *r)
{
	struct db_vm_msg m;
	if (!msg_of(r, &m))
		return;
	/* the row first: a file without a row is only wasted space, a row
	 * without a file a message that cannot be played */
	int err = db_vm_msg_delete(r->db, m.id);
	if (err) {
		web_db_error(r, err, "message");
		return;
	}
	char real[PATH_MAX];
	if (audio_path(r, &m, real) && unlink(real))
		log_warn(WEB_TAG, "cannot remove %s: %s", real, strerror(errno));
	log_info(WEB_TAG, "voicemail message %" PRId64 " of %s deleted by %s", m.id, m.mailbox,
		 r->auth.username);
	pbx_web_mwi_changed(r->w->pw, m.mailbox);
	web_no_content(r);
}
