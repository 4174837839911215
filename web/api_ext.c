/*
 * /api/v1/extensions: the phones' accounts. Reads and writes go to the
 * database on this web thread's connection; after a write the signalling
 * loop is asked to reload and the answer waits until the new snapshot is
 * live, so a script that creates an extension can register a phone on it
 * right away. Validation is db_ext_validate's, the same rules and words as
 * the CLI, with the field it names passed on to the client. SIP passwords
 * are shown in the answer that created them and to an admin who asks
 * for one (GET .../secret, as the CLI's `extension show --show-password`;
 * each reveal is logged, never the password); voicemail PINs are stored
 * hashed, so a generated PIN is shown once, in the answer that made it.
 * The mailbox's own settings ride along as vm_enabled, vm_email and vm_email_delete (db_vm_mailbox_set's
 * rules); vm_pin goes through the PIN policy (400 naming vm_pin with its
 * reason). The messages have their own API.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../core/base/log.h"
#include "../core/base/pin.h"
#include "../db/voicemail.h"
#include "../core/pbx/pbx_settings.h"
#include "../core/pbx/pbx_web.h"
#include "web_int.h"

#define GENERATED_PW_LEN 16 /* as db_setup_defaults: about 93 bits */

static const char *const ext_keys[] = { "number", "name", "enabled", "contact", "trust",
					"max_calls", "vm_pin", "password", "codecs", "srtp",
					"ring_time", "no_answer", "busy", "unavailable",
					"forward_all", "forward_busy", "forward_no_answer",
					"dnd", "vm_enabled", "vm_email", "vm_email_delete",
					"vm_max_messages", "vm_max_seconds", NULL };

static json_t *ext_json(const struct db_ext *e, const struct db_mailbox *mb)
{
	json_t *o = json_object();
	json_object_set_new(o, "number", json_string(e->number));
	json_object_set_new(o, "name", json_string(e->name));
	json_object_set_new(o, "enabled", json_boolean(e->enabled));
	json_object_set_new(o, "contact", json_string(e->contact));
	json_object_set_new(o, "trust", json_string(e->trust));
	json_object_set_new(o, "max_calls", json_integer(e->max_calls));
	/* "": the system's [calls] codecs */
	json_object_set_new(o, "codecs", json_string(e->codecs));
	json_object_set_new(o, "srtp", json_string(e->srtp[0] ? e->srtp : "optional"));
	/* call handling: 0 and "" are the defaults (the system's ring time,
	 * the extension's voicemail, no forwarding) */
	json_object_set_new(o, "ring_time", json_integer(e->ring_time));
	json_object_set_new(o, "no_answer", json_string(e->dest_noanswer));
	json_object_set_new(o, "busy", json_string(e->dest_busy));
	json_object_set_new(o, "unavailable", json_string(e->dest_unavail));
	json_object_set_new(o, "forward_all", json_string(e->fwd_all));
	json_object_set_new(o, "forward_busy", json_string(e->fwd_busy));
	json_object_set_new(o, "forward_no_answer", json_string(e->fwd_noanswer));
	json_object_set_new(o, "dnd", json_boolean(e->dnd));
	json_object_set_new(o, "vm_pin_set", json_boolean(mb->has_pin));
	json_object_set_new(o, "vm_enabled", json_boolean(mb->enabled));
	json_object_set_new(o, "vm_email", json_string(mb->email));
	json_object_set_new(o, "vm_email_delete", json_boolean(mb->email_delete));
	json_object_set_new(o, "vm_max_messages", json_integer(mb->max_msgs));
	json_object_set_new(o, "vm_max_seconds", json_integer(mb->max_secs));
	json_object_set_new(o, "created_at", json_integer(e->created_at));
	return o;
}

/* A role "user" sees its own extension only. */
static bool may_see(const struct web_req *r, const char *number)
{
	return web_is_admin(r) || (r->auth.extension[0] && !strcmp(r->auth.extension, number));
}

/* db/ names the PIN "pin" and the mailbox's fields without vm_; the API
 * prefixes them. */
static void ext_invalid(struct web_req *r, const char *why)
{
	if (why && !strncmp(why, "pin:", 4))
		web_error(r, 400, why, "vm_pin");
	else if (why && !strncmp(why, "email:", 6))
		web_error(r, 400, why, "vm_email");
	else
		web_invalid(r, why, NULL);
}

/* The mailbox fields present in o over m; *given says whether any was.
 * false having answered 400. */
static bool vm_apply(struct web_req *r, json_t *o, struct db_mailbox *m, bool *given)
{
	bool b;
	int g;
	*given = false;
	if ((g = web_field_bool(r, o, "vm_enabled", &b)) < 0)
		return false;
	if (g) {
		m->enabled = b;
		*given = true;
	}
	if ((g = web_field_bool(r, o, "vm_email_delete", &b)) < 0)
		return false;
	if (g) {
		m->email_delete = b;
		*given = true;
	}
	if ((g = web_field_str(r, o, "vm_email", m->email, sizeof(m->email), false)) < 0)
		return false;
	if (g)
		*given = true;
	long long n;
	if ((g = web_field_int(r, o, "vm_max_messages", 0, DB_VM_MAX_MSGS_LIMIT, &n)) < 0)
		return false;
	if (g) {
		m->max_msgs = (int)n;
		*given = true;
	}
	if ((g = web_field_int(r, o, "vm_max_seconds", 0, DB_VM_MAX_SECS_LIMIT, &n)) < 0)
		return false;
	if (g) {
		m->max_secs = (int)n;
		*given = true;
	}
	const char *why;
	if (db_vm_mailbox_validate(m, &why)) {
		ext_invalid(r, why);
		return false;
	}
	return true;
}

/* The PIN rules as they are now: this start's settings with what the
 * settings page saved since (a live setting), on this connection. */
static void vm_policy_now(struct web_req *r, struct db *db)
{
	struct conf c = r->w->conf;
	pbx_conf_apply_saved(&c, db); /* a broken set is logged; c stays */
	struct db_vm_policy vp = { .pin_min_len = c.vm_pin_min_len,
				   .lock_after = c.vm_pin_lock_after,
				   .lock_secs = c.vm_pin_lock_secs };
	db_vm_policy_set(db, &vp);
}

/* A mailbox for ext_json when it cannot be read: what a new one has. */
static void mailbox_default(struct db_mailbox *m, const char *number)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->mailbox, sizeof(m->mailbox), "%s", number);
	m->enabled = true;
}

static void mailbox_read(struct db *db, const char *number, struct db_mailbox *m)
{
	if (db_vm_mailbox_get(db, number, m)) {
		log_warn(WEB_TAG, "cannot read the mailbox of %s: %s", number, db_errmsg(db));
		mailbox_default(m, number);
	}
}

/* Copies the fields present in o over e; false having answered 400. */
static bool ext_apply(struct web_req *r, json_t *o, struct db_ext *e, bool *pw_given)
{
	bool b;
	long long n;
	int g;
	if ((g = web_field_str(r, o, "name", e->name, sizeof(e->name), false)) < 0)
		return false;
	if ((g = web_field_bool(r, o, "enabled", &b)) < 0)
		return false;
	if (g)
		e->enabled = b;
	if (web_field_str(r, o, "contact", e->contact, sizeof(e->contact), false) < 0 ||
	    web_field_str(r, o, "trust", e->trust, sizeof(e->trust), false) < 0 ||
	    web_field_str(r, o, "codecs", e->codecs, sizeof(e->codecs), false) < 0 ||
	    web_field_str(r, o, "srtp", e->srtp, sizeof(e->srtp), false) < 0)
		return false;
	if ((g = web_field_int(r, o, "max_calls", 0, DB_EXT_MAX_CALLS_LIMIT, &n)) < 0)
		return false;
	if (g)
		e->max_calls = (int)n;
	if (web_field_str(r, o, "no_answer", e->dest_noanswer, sizeof(e->dest_noanswer), false) < 0 ||
	    web_field_str(r, o, "busy", e->dest_busy, sizeof(e->dest_busy), false) < 0 ||
	    web_field_str(r, o, "unavailable", e->dest_unavail, sizeof(e->dest_unavail), false) < 0 ||
	    web_field_str(r, o, "forward_all", e->fwd_all, sizeof(e->fwd_all), false) < 0 ||
	    web_field_str(r, o, "forward_busy", e->fwd_busy, sizeof(e->fwd_busy), false) < 0 ||
	    web_field_str(r, o, "forward_no_answer", e->fwd_noanswer, sizeof(e->fwd_noanswer),
			  false) < 0)
		return false;
	/* Anything but a whole number in range is -1, which db_ext_validate
	 * refuses: one message, the CLI's, for every wrong ring time. */
	json_t *rt = json_object_get(o, "ring_time");
	if (rt && !json_is_null(rt))
		e->ring_time = json_is_integer(rt) && json_integer_value(rt) >= 0 &&
				       json_integer_value(rt) <= DB_EXT_RING_TIME_MAX
				       ? (int)json_integer_value(rt)
				       : -1;
	if ((g = web_field_bool(r, o, "dnd", &b)) < 0)
		return false;
	if (g)
		e->dnd = b;
	if ((g = web_field_str(r, o, "password", e->password, sizeof(e->password), false)) < 0)
		return false;
	*pw_given = g > 0;
	/* "" would keep the PIN (db_ext_update): say what a PIN needs */
	if ((g = web_field_str(r, o, "vm_pin", e->vm_pin, sizeof(e->vm_pin), false)) < 0)
		return false;
	const char *pin_why;
	if (g > 0 && !e->vm_pin[0] && pin_policy_check("", NULL, 0, &pin_why)) {
		web_error(r, 400, pin_why, "vm_pin");
		return false;
	}
	const char *why;
	if (db_ext_validate(e, &why)) {
		ext_invalid(r, why);
		return false;
	}
	return true;
}

/* After a write: make it live before answering (see the header). */
static void reload(struct web_req *r)
{
	web_db_release(r);
	int err = pbx_web_reload(r->w->pw);
	if (err)
		log_warn(WEB_TAG, "extensions changed but the reload failed: %s (it applies at the "
			 "next reload)", strerror(err));
}

struct list_ctx {
	json_t *a;
	const struct web_req *r;
	struct db *db;
};

static void add_ext(const struct db_ext *e, void *arg)
{
	struct list_ctx *c = arg;
	if (!may_see(c->r, e->number))
		return;
	struct db_mailbox mb;
	mailbox_read(c->db, e->number, &mb);
	json_array_append_new(c->a, ext_json(e, &mb));
}

void web_api_ext_list(struct web_req *r)
{
	struct db *db = web_db(r);
	if (!db)
		return;
	struct list_ctx c = { .a = json_array(), .r = r, .db = db };
	int n = db_ext_list(db, add_ext, &c);
	if (n < 0) {
		json_decref(c.a);
		web_db_error(r, -n, "extensions");
		return;
	}
	json_t *o = json_object();
	json_object_set_new(o, "extensions", c.a);
	web_json(r, 200, o);
}

/* An extension's number and SIP password (a new one, or revealed), and
 * the copy on the stack wiped. */
static void answer_secret(struct web_req *r, struct db_ext *e)
{
	json_t *j = json_object();
	json_object_set_new(j, "number", json_string(e->number));
	json_object_set_new(j, "password", json_string(e->password));
	web_json(r, 200, j);
	explicit_bzero(e, sizeof(*e));
}

void web_api_ext_get(struct web_req *r)
{
	if (!may_see(r, r->arg[0])) {
		web_error(r, 403, "you may only see your own extension", NULL);
		return;
	}
	struct db *db = web_db(r);
	if (!db)
		return;
	struct db_ext e;
	int err = db_ext_get(db, r->arg[0], &e);
	if (err) {
		web_db_error(r, err, "extension");
		return;
	}
	struct db_mailbox mb;
	mailbox_read(db, e.number, &mb);
	web_json(r, 200, ext_json(&e, &mb));
	explicit_bzero(&e, sizeof(e));
}

void web_api_ext_create(struct web_req *r)
{
	json_t *o = web_body_object(r, ext_keys);
	if (!o)
		return;
	struct db_ext e = { .enabled = true };
	struct db_mailbox mb;
	bool pw_given = false, vm_given = false, ok;
	ok = web_field_str(r, o, "number", e.number, sizeof(e.number), true) > 0;
	mailbox_default(&mb, e.number);
	/* validate with a placeholder, then generate the real one if none */
	json_t *pw = json_object_get(o, "password");
	if (ok && (!pw || json_is_null(pw)))
		snprintf(e.password, sizeof(e.password), "placeholder");
	ok = ok && ext_apply(r, o, &e, &pw_given) && vm_apply(r, o, &mb, &vm_given);
	json_decref(o);
	if (ok && !pw_given && db_secret_generate(e.password, sizeof(e.password), GENERATED_PW_LEN)) {
		web_error(r, 500, "no randomness", NULL);
		ok = false;
	}
	struct db *db = ok ? web_db(r) : NULL;
	if (!db) {
		explicit_bzero(&e, sizeof(e));
		return;
	}
	/* no vm_pin: one of the length the rules ask for, shown once */
	char pin[sizeof(e.vm_pin)] = "";
	struct db_vm_policy pol;
	vm_policy_now(r, db);
	db_vm_policy_get(db, &pol);
	bool pin_generated = !e.vm_pin[0];
	if (pin_generated) {
		if (pin_generate_for(e.vm_pin, sizeof(e.vm_pin), pol.pin_min_len, e.number)) {
			web_error(r, 500, "no randomness", NULL);
			explicit_bzero(&e, sizeof(e));
			return;
		}
		memcpy(pin, e.vm_pin, sizeof(pin));
	}
	int err = db_ext_add(db, &e);
	if (!err && vm_given)
		err = db_vm_mailbox_set(db, &mb);
	if (!err)
		err = db_ext_get(db, e.number, &e); /* created_at as stored */
	if (err) {
		if (err == EINVAL)
			ext_invalid(r, db_errmsg(db));
		else if (err == EEXIST) /* "number 1001 is taken by extension 1001" */
			web_error(r, 409, db_errmsg(db), "number");
		else
			web_db_error(r, err, "extension");
		explicit_bzero(&e, sizeof(e));
		explicit_bzero(pin, sizeof(pin));
		return;
	}
	log_info(WEB_TAG, "extension %s created by %s", e.number, r->auth.username);
	mailbox_read(db, e.number, &mb);
	reload(r);
	json_t *j = ext_json(&e, &mb);
	if (!pw_given) /* generated: the admin needs it now */
		json_object_set_new(j, "password", json_string(e.password));
	if (pin_generated)
		json_object_set_new(j, "vm_pin", json_string(pin));
	explicit_bzero(pin, sizeof(pin));
	web_header(r, "Location", "/api/v1/extensions/%s", e.number);
	web_json(r, 201, j);
	explicit_bzero(&e, sizeof(e));
}

void web_api_ext_update(struct web_req *r)
{
	json_t *o = web_body_object(r, ext_keys);
	if (!o)
		return;
	struct db *db = web_db(r);
	if (!db) {
		json_decref(o);
		return;
	}
	struct db_ext e;
	int err = db_ext_get(db, r->arg[0], &e);
	if (err) {
		json_decref(o);
		web_db_error(r, err, "extension");
		return;
	}
	char number[DB_EXT_NUMBER_MAX];
	bool pw_given, vm_given = false, ok = true;
	struct db_mailbox mb;
	mailbox_read(db, e.number, &mb);
	int g = web_field_str(r, o, "number", number, sizeof(number), false);
	if (g > 0 && strcmp(number, e.number)) {
		web_error(r, 400, "number: cannot be changed (create a new extension)", "number");
		ok = false;
	}
	ok = ok && g >= 0 && ext_apply(r, o, &e, &pw_given) && vm_apply(r, o, &mb, &vm_given);
	json_decref(o);
	if (ok)
		vm_policy_now(r, db);
	if (ok && ((err = db_ext_update(db, &e)) ||
		   (vm_given && (err = db_vm_mailbox_set(db, &mb))))) {
		if (err == EINVAL)
			ext_invalid(r, db_errmsg(db));
		else
			web_db_error(r, err, "extension");
		ok = false;
	}
	if (ok) {
		log_info(WEB_TAG, "extension %s changed by %s", e.number, r->auth.username);
		mailbox_read(db, e.number, &mb);
		reload(r);
		web_json(r, 200, ext_json(&e, &mb));
	}
	explicit_bzero(&e, sizeof(e));
}

void web_api_ext_delete(struct web_req *r)
{
	struct db *db = web_db(r);
	if (!db)
		return;
	int err = db_ext_delete(db, r->arg[0]);
	if (err) {
		web_db_error(r, err, "extension");
		return;
	}
	log_info(WEB_TAG, "extension %s deleted by %s", r->arg[0], r->auth.username);
	reload(r);
	web_no_content(r);
}

void web_api_ext_password(struct web_req *r)
{
	struct db *db = web_db(r);
	if (!db)
		return;
	struct db_ext e;
	int err = db_ext_get(db, r->arg[0], &e);
	if (!err)
		err = db_secret_generate(e.password, sizeof(e.password), GENERATED_PW_LEN);
	if (!err)
		err = db_ext_update(db, &e);
	if (err) {
		web_db_error(r, err, "extension");
		explicit_bzero(&e, sizeof(e));
		return;
	}
	log_info(WEB_TAG, "extension %s: new SIP password generated by %s", e.number,
		 r->auth.username);
	reload(r);
	answer_secret(r, &e);
}

void web_api_ext_secret(struct web_req *r)
{
	struct db *db = web_db(r);
	if (!db)
		return;
	struct db_ext e;
	int err = db_ext_get(db, r->arg[0], &e);
	if (err) {
		web_db_error(r, err, "extension");
		return;
	}
	log_info(WEB_TAG, "extension %s: SIP password revealed to %s", e.number, r->auth.username);
	answer_secret(r, &e);
}
