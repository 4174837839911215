/*
 * Web accounts (admin only): list, create, change (password, role, owned
 * extension) and delete; and, for everyone, changing one's own password.
 * Passwords are hashed here with the slow KDF, on the web thread, with no
 * database connection held meanwhile. Any change
 * to an account ends its sessions, so a demoted or deleted user loses
 * access at once, not when a cookie expires. An admin cannot delete or
 * demote their own account: that is how a box ends up with no admin.
 * Every password set here goes through one policy (web_pw_policy), whose
 * message the UI shows as it is. Changing one's own password clears
 * must_change_password (the forced change at the first admin login).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../core/base/log.h"
#include "web_int.h"

#define WEB_PW_MIN 8
#define WEB_PW_MAX 128

const char *web_pw_policy(const char *pw, const char *username)
{
	if (strlen(pw) < WEB_PW_MIN)
		return "at least 8 characters (at most 128)";
	if (username && !strcmp(pw, username))
		return "must not be the user name";
	return NULL;
}

/* Answers 400 naming field when pw breaks the policy. */
static bool pw_ok(struct web_req *r, const char *field, const char *pw, const char *username)
{
	const char *why = web_pw_policy(pw, username);
	if (!why)
		return true;
	char msg[128];
	snprintf(msg, sizeof(msg), "%s: %s", field, why);
	web_error(r, 400, msg, field);
	return false;
}

static void add_user(const struct db_user *u, void *arg)
{
	json_t *o = json_object();
	json_object_set_new(o, "username", json_string(u->username));
	json_object_set_new(o, "role", json_string(u->role));
	json_object_set_new(o, "extension", u->extension[0] ? json_string(u->extension) : json_null());
	json_object_set_new(o, "created_at", json_integer(u->created_at));
	json_object_set_new(o, "must_change_password", json_boolean(u->must_change_password));
	json_array_append_new(arg, o);
}

void web_api_users_list(struct web_req *r)
{
	struct db *db = web_db(r);
	if (!db)
		return;
	json_t *a = json_array();
	int n = db_user_list(db, add_user, a);
	if (n < 0) {
		json_decref(a);
		web_db_error(r, -n, "users");
		return;
	}
	json_t *o = json_object();
	json_object_set_new(o, "users", a);
	web_json(r, 200, o);
}

struct user_in {
	char username[DB_USER_NAME_MAX];
	char password[WEB_PW_MAX + 1];
	char role[DB_ROLE_MAX];
	char extension[DB_EXT_NUMBER_MAX];
	bool has_pw, has_role, has_ext;
	/* the account must choose its own password at its next login (an
	 * admin handing out a temporary one) */
	bool must_change, has_must_change;
};

/* Reads and checks the fields that are present; false having answered. */
static bool read_user(struct web_req *r, json_t *o, struct user_in *in, bool create)
{
	int g;
	if (create && web_field_str(r, o, "username", in->username, sizeof(in->username), true) < 0)
		return false;
	if ((g = web_field_str(r, o, "password", in->password, sizeof(in->password), create)) < 0)
		return false;
	in->has_pw = g > 0;
	if (in->has_pw && !pw_ok(r, "password", in->password, create ? in->username : r->arg[0]))
		return false;
	if ((g = web_field_str(r, o, "role", in->role, sizeof(in->role), false)) < 0)
		return false;
	in->has_role = g > 0;
	if (!in->has_role && create)
		snprintf(in->role, sizeof(in->role), "user");
	if ((in->has_role || create) && strcmp(in->role, "admin") && strcmp(in->role, "user")) {
		web_error(r, 400, "role: admin or user", "role");
		return false;
	}
	json_t *e = json_object_get(o, "extension");
	if (e && json_is_null(e)) { /* null: owns none */
		in->has_ext = true;
		in->extension[0] = '\0';
	} else if ((g = web_field_str(r, o, "extension", in->extension, sizeof(in->extension),
				      false)) < 0) {
		return false;
	} else {
		in->has_ext = g > 0;
	}
	if ((g = web_field_bool(r, o, "must_change_password", &in->must_change)) < 0)
		return false;
	in->has_must_change = g > 0;
	return true;
}

static void ext_missing(struct web_req *r)
{
	web_error(r, 400, "extension: no such extension", "extension");
}

void web_api_users_create(struct web_req *r)
{
	static const char *const keys[] = { "username", "password", "role",
					    "extension", "must_change_password", NULL };
	json_t *o = web_body_object(r, keys);
	if (!o)
		return;
	struct user_in in = { 0 };
	bool ok = read_user(r, o, &in, true);
	json_decref(o);
	char hash[DB_PW_HASH_MAX] = "";
	if (ok && db_password_hash(in.password, hash, sizeof(hash))) {
		web_error(r, 500, "cannot hash the password", NULL);
		ok = false;
	}
	explicit_bzero(in.password, sizeof(in.password));
	struct db *db = ok ? web_db(r) : NULL;
	if (!db)
		return;
	int err = db_user_create(db, in.username, hash, in.role, in.extension);
	if (!err && in.must_change)
		err = db_user_set_must_change(db, in.username, true);
	if (err == ESRCH) {
		ext_missing(r);
	} else if (err == EINVAL) {
		web_invalid(r, db_errmsg(db), "username");
	} else if (err) {
		web_db_error(r, err, "user");
	} else {
		log_info(WEB_TAG, "web user \"%s\" (%s) created by %s", in.username, in.role,
			 r->auth.username);
		struct db_user u;
		if (db_user_info(db, in.username, &u)) {
			web_error(r, 500, "database error", NULL);
			return;
		}
		json_t *a = json_array();
		add_user(&u, a);
		explicit_bzero(&u, sizeof(u));
		web_header(r, "Location", "/api/v1/users/%s", in.username);
		web_json(r, 201, json_incref(json_array_get(a, 0)));
		json_decref(a);
	}
}

void web_api_users_update(struct web_req *r)
{
	static const char *const keys[] = { "password", "role", "extension", "must_change_password",
					    NULL };
	const char *name = r->arg[0];
	json_t *o = web_body_object(r, keys);
	if (!o)
		return;
	struct user_in in = { 0 };
	bool ok = read_user(r, o, &in, false);
	json_decref(o);
	bool self = !strcmp(name, r->auth.username);
	if (ok && in.has_role && self && strcmp(in.role, "admin")) {
		web_error(r, 409, "role: you cannot take the admin role from your own account",
			  "role");
		ok = false;
	}
	char hash[DB_PW_HASH_MAX] = "";
	if (ok && in.has_pw && db_password_hash(in.password, hash, sizeof(hash))) {
		web_error(r, 500, "cannot hash the password", NULL);
		ok = false;
	}
	explicit_bzero(in.password, sizeof(in.password));
	struct db *db = ok ? web_db(r) : NULL;
	if (!db)
		return;
	struct db_user u;
	int err = db_user_info(db, name, &u);
	if (err) {
		web_db_error(r, err, "user");
		return;
	}
	/* Check everything before writing anything. */
	struct db_ext ext;
	if (in.has_ext && in.extension[0] && db_ext_get(db, in.extension, &ext) == ENOENT) {
		ext_missing(r);
		return;
	}
	explicit_bzero(&ext, sizeof(ext));
	if (in.has_role && !strcmp(u.role, "admin") && strcmp(in.role, "admin") &&
	    db_user_count_role(db, "admin") <= 1) {
		web_error(r, 409, "role: this is the last admin account", "role");
		return;
	}
	err = in.has_pw ? db_user_set_password(db, name, hash) : 0;
	if (!err && in.has_role)
		err = db_user_set_role(db, name, in.role);
	if (!err && in.has_ext)
		err = db_user_set_extension(db, name, in.extension);
	if (!err && in.has_must_change)
		err = db_user_set_must_change(db, name, in.must_change);
	/* Whatever got written, sessions holding the old state must go. */
	web_session_end_user(r->w->sessions, name);
	if (err == ESRCH) {
		ext_missing(r);
		return;
	}
	if (err) {
		web_db_error(r, err, "user");
		return;
	}
	log_info(WEB_TAG, "web user \"%s\" changed by %s%s%s%s%s", name, r->auth.username,
		 in.has_pw ? " (password)" : "", in.has_role ? " (role)" : "",
		 in.has_ext ? " (extension)" : "", in.has_must_change ? " (must change password)" : "");
	if ((err = db_user_info(db, name, &u))) {
		web_db_error(r, err, "user");
		return;
	}
	json_t *a = json_array();
	add_user(&u, a);
	explicit_bzero(&u, sizeof(u));
	web_json(r, 200, json_incref(json_array_get(a, 0)));
	json_decref(a);
}

void web_api_users_delete(struct web_req *r)
{
	const char *name = r->arg[0];
	if (!strcmp(name, r->auth.username)) {
		web_error(r, 409, "you cannot delete your own account", "username");
		return;
	}
	struct db *db = web_db(r);
	if (!db)
		return;
	int err = db_user_delete(db, name);
	if (err) {
		web_db_error(r, err, "user");
		return;
	}
	web_session_end_user(r->w->sessions, name);
	log_info(WEB_TAG, "web user \"%s\" deleted by %s", name, r->auth.username);
	web_no_content(r);
}

/* POST /api/v1/password: any account changes its own password, proving
 * it knows the current one (a stolen session alone must not be enough to
 * lock the owner out). Guesses count against the login rate limit. All
 * the account's sessions end, this one too: the browser logs in again. */
void web_api_password(struct web_req *r)
{
	static const char *const keys[] = { "current_password", "new_password", NULL };
	json_t *o = web_body_object(r, keys);
	if (!o)
		return;
	char cur[WEB_PW_MAX + 1], pw[WEB_PW_MAX + 1];
	bool ok = web_field_str(r, o, "current_password", cur, sizeof(cur), true) > 0 &&
		  web_field_str(r, o, "new_password", pw, sizeof(pw), true) > 0;
	json_decref(o);
	if (ok && !pw_ok(r, "new_password", pw, r->auth.username))
		ok = false;
	if (ok && !strcmp(pw, cur)) {
		web_error(r, 400, "new_password: must differ from the current password",
			  "new_password");
		ok = false;
	}
	unsigned retry = 0;
	if (ok && !web_limiter_begin(r->w->limiter, r->src, &retry)) {
		web_header(r, "Retry-After", "%u", retry);
		web_error(r, 429, "too many failed attempts from your address; try again later", NULL);
		ok = false;
	}
	struct db_user u;
	struct db *db = ok ? web_db(r) : NULL;
	int err = db ? db_user_info(db, r->auth.username, &u) : EIO;
	if (ok && (!db || err)) {
		web_limiter_end(r->w->limiter, r->src, -1);
		if (db)
			web_db_error(r, err, "user");
		ok = false;
	}
	char hash[DB_PW_HASH_MAX] = "";
	if (ok) {
		web_db_release(r); /* not held during the KDF */
		bool right = db_password_verify(cur, u.pw_hash);
		web_limiter_end(r->w->limiter, r->src, right ? 1 : 0);
		if (!right) {
			web_error(r, 403, "current_password: wrong password", "current_password");
			ok = false;
		} else if (db_password_hash(pw, hash, sizeof(hash))) {
			web_error(r, 500, "cannot hash the password", NULL);
			ok = false;
		}
	}
	explicit_bzero(cur, sizeof(cur));
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(&u, sizeof(u));
	if (!ok || !(db = web_db(r)))
		return;
	if ((err = db_user_set_password(db, r->auth.username, hash)) ||
	    (err = db_user_set_must_change(db, r->auth.username, false))) {
		web_db_error(r, err, "user");
		return;
	}
	web_session_end_user(r->w->sessions, r->auth.username);
	log_info(WEB_TAG, "web user \"%s\" changed their password", r->auth.username);
	if (r->auth.session)
		web_header(r, "Set-Cookie", "%s=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0",
			   WEB_SESSION_COOKIE);
	web_no_content(r);
}
