/*
 * The daemon's settings over the web (admin only): GET lists each one
 * with its value, type, range and whether it applies live or at the next
 * start; PUT takes {"section.key": value, ...}, checks every field with
 * the same parser as hookflash.conf (400 naming the first bad one, nothing
 * saved), saves them in the database's settings table in one transaction
 * (PBX_SETTING_PREFIX + name; they win over the file), then asks the
 * signalling loop to reload, so the live ones take effect before the
 * answer. Each setting says its group on the page ("basic" or
 * "advanced"), its label in plain words and where its value comes from
 * ("web": saved here; "file": hookflash.conf or the command line, told
 * apart from "default" by comparing with the built-in value). Secrets (email.password) are never sent back: GET gives "" and
 * whether one is set; PUT with "" keeps the one saved. Which settings exist, their types and ranges come from
 * core/base/conf.c's table, never from a list kept here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/base/conf.h"
#include "../core/base/log.h"
#include "../core/base/tzname.h"
#include "../core/pbx/pbx_settings.h"
#include "../core/pbx/pbx_web.h"
#include "web_int.h"

#define VALUE_MAX 256

static const char *type_name(enum conf_type t)
{
	switch (t) {
	case CONF_INT:
		return "integer";
	case CONF_BOOL:
		return "boolean";
	case CONF_LEVEL:
		return "level";
	case CONF_CHOICE:
		return "choice";
	case CONF_STRING:
		break;
	}
	return "string";
}

static void full_name(const struct conf_info *ci, char *out, size_t cap)
{
	snprintf(out, cap, "%s.%s", ci->section, ci->key);
}

/* A value as conf_get() writes it, typed for JSON. */
static json_t *typed(const struct conf_info *ci, const char *v)
{
	if (ci->type == CONF_INT)
		return json_integer(strtoll(v, NULL, 10));
	if (ci->type == CONF_BOOL)
		return json_boolean(!strcmp(v, "yes"));
	return web_jstr(v);
}

/* The running settings and, over them, those saved in the database
 * (which a restart would use). */
static int load(struct web_req *r, struct conf *running, struct conf *saved)
{
	int err = pbx_web_conf(r->w->pw, running);
	if (err) {
		web_loop_error(r, err);
		return -1;
	}
	*saved = *running;
	struct db *db = web_db(r);
	if (!db)
		return -1;
	pbx_conf_apply_saved(saved, db); /* a broken set is logged and ignored */
	return 0;
}

/* "web", "file" or "default" (see the header). */
static const char *source_of(struct web_req *r, const char *name, const struct conf *defaults)
{
	char key[128], v[VALUE_MAX], start[VALUE_MAX], def[VALUE_MAX];
	struct db *db = web_db(r);
	snprintf(key, sizeof(key), "%s%.95s", PBX_SETTING_PREFIX, name);
	bool saved = db && db_setting_get(db, key, v, sizeof(v)) == 0;
	explicit_bzero(v, sizeof(v)); /* may be a secret */
	if (saved)
		return "web";
	if (conf_get(&r->w->conf, name, start, sizeof(start)) ||
	    conf_get(defaults, name, def, sizeof(def)))
		return "default";
	bool same = !strcmp(start, def);
	explicit_bzero(start, sizeof(start));
	return same ? "default" : "file";
}

static void answer(struct web_req *r, const struct conf *running, const struct conf *saved,
		   json_t *extra)
{
	struct conf defaults;
	conf_defaults(&defaults);
	json_t *vals = json_object(), *schema = json_object(), *pending = json_array();
	for (size_t i = 0; i < conf_info_count(); i++) {
		const struct conf_info *ci = conf_info_at(i);
		if (!ci->editable)
			continue;
		char name[96], run[VALUE_MAX], sv[VALUE_MAX];
		full_name(ci, name, sizeof(name));
		if (conf_get(running, name, run, sizeof(run)) || conf_get(saved, name, sv, sizeof(sv)))
			continue;
		/* a secret is never sent back: only whether one is set (the
		 * page leaves its input empty; an empty value keeps it) */
		json_object_set_new(vals, name, ci->secret ? json_string("") : typed(ci, sv));
		json_t *d = json_object();
		if (ci->secret) {
			json_object_set_new(d, "secret", json_true());
			json_object_set_new(d, "is_set", json_boolean(sv[0] != '\0'));
		}
		json_object_set_new(d, "type", json_string(type_name(ci->type)));
		json_object_set_new(d, "apply", json_string(ci->live ? "live" : "restart"));
		json_object_set_new(d, "description", json_string(ci->help));
		json_object_set_new(d, "group", json_string(ci->group));
		json_object_set_new(d, "label", json_string(ci->label));
		json_object_set_new(d, "source", json_string(source_of(r, name, &defaults)));
		if (ci->type == CONF_INT) {
			json_object_set_new(d, "min", json_integer(ci->min));
			json_object_set_new(d, "max", json_integer(ci->max));
		}
		if (ci->type == CONF_LEVEL)
			json_object_set_new(d, "choices", json_pack("[ssss]", "error", "warn", "info", "debug"));
		if (ci->type == CONF_CHOICE && ci->choices) {
			json_t *ch = json_array();
			for (const char *const *c = ci->choices; *c; c++)
				json_array_append_new(ch, json_string(*c));
			json_object_set_new(d, "choices", ch);
		}
		if (!ci->live && !ci->secret) {
			json_object_set_new(d, "running", typed(ci, run));
			if (strcmp(run, sv))
				json_array_append_new(pending, json_string(name));
		}
		json_object_set_new(schema, name, d);
	}
	json_t *o = extra ? extra : json_object();
	json_object_set_new(o, "settings", vals);
	json_object_set_new(o, "schema", schema);
	json_object_set_new(o, "pending_restart", pending);
	web_json(r, 200, o);
}

void web_api_settings_get(struct web_req *r)
{
	struct conf running, saved;
	if (load(r, &running, &saved))
		return;
	answer(r, &running, &saved, NULL);
}

/* One field of the PUT body into its text form, or -1 having answered. */
static int field_text(struct web_req *r, const char *name, const struct conf_info *ci, json_t *v,
		      char *out, size_t cap)
{
	char msg[320];
	switch (ci->type) {
	case CONF_INT:
		if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)ci->min ||
		    json_integer_value(v) > (json_int_t)ci->max) {
			snprintf(msg, sizeof(msg), "%.95s: an integer from %u to %u", name, ci->min,
				 ci->max);
			web_error(r, 400, msg, name);
			return -1;
		}
		snprintf(out, cap, "%lld", (long long)json_integer_value(v));
		return 0;
	case CONF_BOOL:
		if (!json_is_boolean(v)) {
			snprintf(msg, sizeof(msg), "%.95s: true or false", name);
			web_error(r, 400, msg, name);
			return -1;
		}
		snprintf(out, cap, "%s", json_is_true(v) ? "yes" : "no");
		return 0;
	case CONF_LEVEL:
	case CONF_CHOICE:
	case CONF_STRING:
		break;
	}
	const char *s = json_string_value(v);
	size_t n = s ? json_string_length(v) : 0;
	bool clean = s && n < cap && strlen(s) == n;
	for (size_t i = 0; clean && i < n; i++)
		clean = (unsigned char)s[i] >= 0x20 && s[i] != 0x7f;
	if (!clean) {
		snprintf(msg, sizeof(msg), "%.95s: a string of printable characters, under %zu bytes",
			 name, cap);
		web_error(r, 400, msg, name);
		return -1;
	}
	memcpy(out, s, n + 1);
	return 0;
}

#define PUT_MAX 64 /* more than conf.c has */

void web_api_settings_put(struct web_req *r)
{
	/* the keys accepted: every editable setting's name */
	char all[PUT_MAX][96];
	const char *allowed[PUT_MAX + 1];
	size_t na = 0;
	for (size_t i = 0; i < conf_info_count() && na < PUT_MAX; i++)
		if (conf_info_at(i)->editable) {
			full_name(conf_info_at(i), all[na], sizeof(all[na]));
			allowed[na] = all[na];
			na++;
		}
	allowed[na] = NULL;
	json_t *body = web_body_object(r, allowed);
	if (!body)
		return;
	struct conf running, saved;
	if (load(r, &running, &saved)) {
		json_decref(body);
		return;
	}
	struct conf next = saved;
	char names[PUT_MAX][96], values[PUT_MAX][VALUE_MAX];
	const char *kp[PUT_MAX], *vp[PUT_MAX];
	char keys[PUT_MAX][128];
	bool live[PUT_MAX];
	size_t n = 0;
	const char *key;
	json_t *v;
	json_object_foreach(body, key, v)
	{
		char msg[400];
		const struct conf_info *ci = conf_info_find(key);
		if (!ci || !ci->editable || n == PUT_MAX || strlen(key) >= sizeof(names[0])) {
			snprintf(msg, sizeof(msg), "%.90s: %s", key,
				 ci ? "set only in hookflash.conf or on the command line"
				    : "no such setting (see GET /api/v1/settings)");
			web_error(r, 400, msg, key);
			json_decref(body);
			return;
		}
		/* "" for a secret is what GET showed: keep the saved one
		 * (a login is turned off by emptying its username) */
		if (ci->secret && json_is_string(v) && json_string_length(v) == 0)
			continue;
		snprintf(names[n], sizeof(names[n]), "%s", key);
		if (field_text(r, names[n], ci, v, values[n], sizeof(values[n]))) {
			json_decref(body);
			return;
		}
		char err[320];
		if (conf_set_name(&next, names[n], values[n], err, sizeof(err))) {
			snprintf(msg, sizeof(msg), "%.95s: %.290s", names[n], err);
			web_error(r, 400, msg, names[n]);
			json_decref(body);
			return;
		}
		snprintf(keys[n], sizeof(keys[n]), "%s%.95s", PBX_SETTING_PREFIX, names[n]);
		kp[n] = keys[n];
		vp[n] = values[n];
		live[n] = ci->live;
		n++;
	}
	json_decref(body);
	char err[320];
	if (conf_check(&next, err, sizeof(err))) {
		char field[96];
		size_t fl = strcspn(err, ":");
		snprintf(field, sizeof(field), "%.*s", (int)(fl < sizeof(field) ? fl : 0), err);
		web_error(r, 400, err, field[0] ? field : NULL);
		return;
	}
	struct db *db = web_db(r);
	if (!db)
		return;
	int rc = db_setting_set_many(db, kp, vp, n);
	if (rc) {
		web_db_error(r, rc, "save settings");
		return;
	}
	json_t *o = json_object(), *sv = json_array(), *ap = json_array(), *rs = json_array();
	bool any_live = false;
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(sv, json_string(names[i]));
		json_array_append_new(live[i] ? ap : rs, json_string(names[i]));
		any_live |= live[i];
	}
	json_object_set_new(o, "saved", sv);
	json_object_set_new(o, "applied", ap);
	json_object_set_new(o, "restart_required", rs);
	log_info(WEB_TAG, "%s saved %zu setting(s)", r->auth.username, n);
	if (any_live) {
		rc = pbx_web_reconfigure(r->w->pw);
		if (rc) {
			json_decref(o);
			web_loop_error(r, rc);
			return;
		}
	}
	if (load(r, &running, &saved)) {
		json_decref(o);
		return;
	}
	answer(r, &running, &saved, o);
}

void web_api_timezone(struct web_req *r)
{
	char zone[128];
	tz_name(zone, sizeof(zone)); /* the zone the daemon's and the CLI's clocks use */
	time_t now = time(NULL);
	struct tm tm;
	json_t *o = json_object();
	json_object_set_new(o, "timezone", web_jstr(zone));
	if (localtime_r(&now, &tm)) {
		json_object_set_new(o, "utc_offset_s", json_integer(tm.tm_gmtoff));
		json_object_set_new(o, "abbreviation", web_jstr(tm.tm_zone ? tm.tm_zone : ""));
	}
	web_json(r, 200, o);
}
