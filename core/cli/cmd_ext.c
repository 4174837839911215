/*
 * `hookflash extension add|list|show|set|remove`: editing extensions in
 * the database directly, so they can be managed with no daemon running
 * (first install, recovery); a running daemon is told to reload after
 * each change. Validation is the database layer's (db_ext_validate, and
 * the PIN policy db_ext_add/db_ext_update apply), so the tool and the web
 * UI accept and refuse exactly the same things. A SIP password can be
 * shown again at any time (`extension show --show-password`, the web's
 * Reveal); a voicemail PIN is stored hashed, so a generated PIN is
 * printed once and only its existence is known after.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../db/db.h"
#include "../../db/voicemail.h"
#include "../base/codec_names.h"
#include "../base/pin.h"
#include "cli.h"
#include "ext_calls.h"
#include "table.h"

#define GENERATED_PW_LEN 16

#define U_ADD                                                                  \
	"extension add NUMBER [--name NAME] [--password PW] [--pin PIN] [--disabled]" \
	" [--contact URI] [--trust CIDR[,CIDR...]] [--max-calls N]"           \
	" [--codecs C[,C...]] [--srtp off|optional|required]" EXT_CALLS_USAGE
#define U_LIST "extension list"
#define U_SHOW "extension show NUMBER [--show-password]"
#define U_SET                                                                        \
	"extension set NUMBER [--name NAME] [--password PW | --new-password] [--pin PIN]" \
	" [--enable | --disable] [--contact URI | --no-contact]"                         \
	" [--trust CIDR[,CIDR...] | --no-trust] [--max-calls N]"                     \
	" [--codecs C[,C...] | --default-codecs] [--srtp off|optional|required]"        \
	EXT_CALLS_USAGE
#define U_REMOVE "extension remove NUMBER"
#define U_ALL "extension add|list|show|set|remove ..."

/* Copies an argument into a fixed field, refusing (not truncating) one
 * that does not fit. */
static int put(char *dst, size_t cap, const char *src, const char *what)
{
	if (strlen(src) >= cap)
		return cli_fail("%s: at most %zu bytes", what, cap - 1);
	memcpy(dst, src, strlen(src) + 1);
	return CLI_OK;
}

/* Turns db_ext_validate's "field: rule" into the option the user typed
 * ("max_calls: ..." is --max-calls). */
static int invalid(const struct db_ext *e, const char *why)
{
	const char *colon = strchr(why, ':');
	size_t n = colon ? (size_t)(colon - why) : 0;
	const char *rule = colon ? colon + 2 : why;
	if (n == 6 && strncmp(why, "number", 6) == 0)
		return cli_fail("invalid extension number '%s': %s", e->number, rule);
	char opt[32];
	if (n >= sizeof(opt))
		n = sizeof(opt) - 1;
	for (size_t i = 0; i < n; i++)
		opt[i] = why[i] == '_' ? '-' : why[i];
	opt[n] = '\0';
	if (strcmp(opt, "forward-all") == 0) /* the option is the short one */
		opt[strlen("forward")] = '\0';
	if (strcmp(opt, "trust") == 0) {
		/* Name the entry at fault: validate them one at a time. */
		struct db_ext one = *e;
		const char *t = e->trust;
		for (;;) {
			size_t len = strcspn(t, ",");
			if (len && len < sizeof(one.trust)) {
				memcpy(one.trust, t, len);
				one.trust[len] = '\0';
				const char *w;
				if (db_ext_validate(&one, &w))
					return cli_fail("--trust: '%s': %s", one.trust,
							strchr(w, ':') ? strchr(w, ':') + 2 : w);
			}
			if (!t[len])
				break;
			t += len + 1;
		}
	}
	/* codecs: the message names the codec at fault already */
	return cli_fail("--%s: %s", opt, rule);
}

/* The device options shared by add and set; NULL leaves a field as it
 * is. --trust may be written "a, b": blanks are dropped, the database
 * keeps the canonical "a,b". */
static int set_device(struct db_ext *e, const char *contact, const char *trust,
		      const char *max_calls, const char *codecs, const char *srtp)
{
	int rc;
	if (codecs) {
		/* "opus, PCMU" is taken as "opus,PCMU": the stored form has no blanks */
		size_t n = 0;
		for (const char *p = codecs; *p; p++) {
			if (*p == ' ' || *p == '\t')
				continue;
			if (n + 1 == sizeof(e->codecs))
				return cli_fail("--codecs: at most %zu bytes", sizeof(e->codecs) - 1);
			e->codecs[n++] = *p;
		}
		e->codecs[n] = '\0';
	}
	if (srtp && strlen(srtp) >= sizeof(e->srtp))
		return cli_fail("--srtp: off, optional or required");
	if (srtp)
		memcpy(e->srtp, srtp, strlen(srtp) + 1);
	if (contact && (rc = put(e->contact, sizeof(e->contact), contact, "--contact")))
		return rc;
	if (trust) {
		char t[sizeof(e->trust)];
		size_t n = 0;
		for (const char *p = trust; *p; p++) {
			if (*p == ' ' || *p == '\t')
				continue;
			if (n + 1 == sizeof(t))
				return cli_fail("--trust: at most %zu bytes", sizeof(t) - 1);
			t[n++] = *p;
		}
		t[n] = '\0';
		memcpy(e->trust, t, n + 1);
	}
	if (max_calls) {
		char *end;
		errno = 0;
		long v = strtol(max_calls, &end, 10);
		if (end == max_calls || *end || errno || v < 0 || v > DB_EXT_MAX_CALLS_LIMIT)
			return cli_fail("--max-calls: a number from 0 to %d (0: the default, %d)",
					DB_EXT_MAX_CALLS_LIMIT, DB_EXT_MAX_CALLS_DEFAULT);
		e->max_calls = (int)v;
	}
	return CLI_OK;
}

/* --password PW, "--password -" (read from stdin), or NULL: generate. */
static int set_password(struct db_ext *e, const char *pw, bool *generated)
{
	*generated = false;
	if (!pw) {
		if (db_secret_generate(e->password, sizeof(e->password), GENERATED_PW_LEN))
			return cli_fail("cannot generate a password");
		*generated = true;
		return CLI_OK;
	}
	if (strcmp(pw, "-") == 0) {
		char line[2 * DB_SECRET_MAX];
		int err = cli_read_password(line, sizeof(line));
		if (err == E2BIG)
			return cli_fail("--password: at most %zu characters", sizeof(e->password) - 1);
		if (err)
			return cli_fail("--password -: no password on standard input");
		int rc = put(e->password, sizeof(e->password), line, "--password");
		OPENSSL_cleanse(line, sizeof(line));
		return rc;
	}
	return put(e->password, sizeof(e->password), pw, "--password");
}

static void print_generated(const struct db_ext *e, bool pw, const char *pin)
{
	if (pw)
		printf("SIP password for %s: %s\n", e->number, e->password);
	if (pin)
		printf("voicemail PIN for %s: %s\n", e->number, pin);
	/* the same words as the web's: a password can be shown again, a PIN
	 * (stored hashed) cannot */
	if (pw)
		printf("(generated; 'hookflash extension show %s --show-password' shows the "
		       "password again)\n",
		       e->number);
	if (pin)
		printf("(the PIN is stored hashed: shown only now, note it down)\n");
}

/* After db_ext_add/db_ext_update failed: the policy's "pin: ..." and the
 * other field messages name the option, the rest is said as it is. */
static int write_failed(struct db *db, const struct db_ext *e, int err, const char *verb)
{
	if (err == EINVAL && !strncmp(db_errmsg(db), "pin: ", 5))
		return cli_fail("--pin: %s", db_errmsg(db) + 5);
	if (err == ENOENT)
		return cli_fail("no extension %s", e->number);
	return cli_fail("cannot %s extension %s: %s", verb, e->number, db_errmsg(db));
}

/* --pin '' used to remove the PIN; a mailbox without one cannot be
 * reached from another phone, so the tool says what a PIN needs instead. */
static int empty_pin(void)
{
	const char *why;
	pin_policy_check("", NULL, 0, &why);
	return cli_fail("--pin: %s", why + 5);
}

static int ext_add(struct cli *c, int argc, char **argv)
{
	const char *name = "", *pw = NULL, *pin = NULL, *pos[1];
	const char *contact = NULL, *trust = NULL, *max_calls = NULL;
	const char *codecs = NULL, *srtp = NULL;
	bool disabled = false;
	struct ext_calls_args ca = { 0 };
	struct cli_opt opts[24] = {
		{ "codecs", true, &codecs, NULL },
		{ "srtp", true, &srtp, NULL },
		{ "name", true, &name, NULL },
		{ "password", true, &pw, NULL },
		{ "pin", true, &pin, NULL },
		{ "disabled", false, NULL, &disabled },
		{ "contact", true, &contact, NULL },
		{ "trust", true, &trust, NULL },
		{ "max-calls", true, &max_calls, NULL },
		{ 0 },
	};
	if (!ext_calls_opts(opts, sizeof(opts) / sizeof(opts[0]), &ca))
		return cli_fail("internal: too many options");
	int rc = cli_parse(argc, argv, opts, pos, 1, 1, NULL, U_ADD);
	if (rc)
		return rc < 0 ? CLI_OK : rc;

	struct db_ext e;
	memset(&e, 0, sizeof(e));
	bool generated;
	if (strlen(pos[0]) >= sizeof(e.number))
		return cli_fail("invalid extension number '%s': 2 to 15 digits", pos[0]);
	if ((rc = put(e.number, sizeof(e.number), pos[0], "NUMBER")) ||
	    (rc = put(e.name, sizeof(e.name), name, "--name")) ||
	    (pin && (rc = put(e.vm_pin, sizeof(e.vm_pin), pin, "--pin"))) ||
	    (rc = set_device(&e, contact, trust, max_calls, codecs, srtp)) ||
	    (rc = ext_calls_apply(&e, &ca, U_ADD)) ||
	    (rc = set_password(&e, pw, &generated)))
		return rc;
	/* A device with a contact or a trust still gets a password: it may
	 * register or authenticate like any phone; the trust is an
	 * alternative, not a replacement. */
	e.enabled = !disabled;
	if (pin && !pin[0])
		return empty_pin();
	const char *why;
	if (db_ext_validate(&e, &why))
		return invalid(&e, why);

	struct db *db;
	if ((rc = cli_db_open(c, &db, false)))
		return rc;
	/* No --pin: one of the length the rules ask for, shown once. */
	struct db_vm_policy pol;
	db_vm_policy_get(db, &pol);
	if (!pin && pin_generate_for(e.vm_pin, sizeof(e.vm_pin), pol.pin_min_len, e.number)) {
		db_close(db);
		return cli_fail("cannot generate a PIN");
	}
	/* EEXIST: "number 1001 is taken by extension 1001" */
	int err = db_ext_add(db, &e);
	if (err)
		rc = write_failed(db, &e, err, "add");
	db_close(db);
	if (rc)
		return rc;
	printf("extension %s added%s\n", e.number, e.enabled ? "" : " (disabled)");
	if (generated || !pin)
		print_generated(&e, generated, pin ? NULL : e.vm_pin);
	OPENSSL_cleanse(&e, sizeof(e));
	cli_notify_reload(c);
	return CLI_OK;
}

struct ext_row {
	char num[DB_EXT_NUMBER_MAX];
	char name[DB_EXT_NAME_MAX];
	bool enabled;
	char opts[128]; /* "contact, trust, max-calls 8, codecs opus,PCMU, srtp required" */
	char calls[128]; /* "dnd, fwd 2002" */
};

struct ext_rows {
	struct ext_row *row;
	size_t n, cap;
	bool oom;
};

/* The compact marker of `extension list`: which device options are set
 * (the values are in `extension show`). */
static void device_marker(char *out, size_t cap, const struct db_ext *e)
{
	size_t at = 0;
	out[0] = '\0';
	if (e->contact[0])
		at += (size_t)snprintf(out + at, cap - at, "contact");
	if (e->trust[0] && at < cap)
		at += (size_t)snprintf(out + at, cap - at, "%strust", at ? ", " : "");
	if (e->max_calls && at < cap)
		at += (size_t)snprintf(out + at, cap - at, "%smax-calls %d", at ? ", " : "", e->max_calls);
	if (e->codecs[0] && at < cap)
		at += (size_t)snprintf(out + at, cap - at, "%scodecs %s", at ? ", " : "", e->codecs);
	if (e->srtp[0] && strcmp(e->srtp, "optional") && at < cap)
		snprintf(out + at, cap - at, "%ssrtp %s", at ? ", " : "", e->srtp);
}

static void collect(const struct db_ext *e, void *arg)
{
	struct ext_rows *r = arg;
	if (r->oom)
		return;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct ext_row *a = realloc(r->row, cap * sizeof(*a));
		if (!a) {
			r->oom = true;
			return;
		}
		r->row = a;
		r->cap = cap;
	}
	struct ext_row *w = &r->row[r->n++];
	memcpy(w->num, e->number, sizeof(w->num));
	memcpy(w->name, e->name, sizeof(w->name));
	w->enabled = e->enabled;
	device_marker(w->opts, sizeof(w->opts), e);
	ext_calls_marker(w->calls, sizeof(w->calls), e);
}

static int ext_list(struct cli *c, int argc, char **argv)
{
	int rc = cli_parse(argc, argv, NULL, NULL, 0, 0, NULL, U_LIST);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	struct db *db;
	if ((rc = cli_db_open(c, &db, false)))
		return rc;
	struct ext_rows r = { 0 };
	int n = db_ext_list(db, collect, &r);
	if (n < 0)
		rc = cli_fail("cannot list extensions: %s", db_errmsg(db));
	else if (r.oom)
		rc = cli_fail("out of memory");
	db_close(db);

	enum { NCOLS = 5 };
	const char **cells = NULL;
	if (!rc && r.n) {
		cells = calloc(r.n * NCOLS, sizeof(*cells));
		if (!cells)
			rc = cli_fail("out of memory");
	}
	if (!rc && !r.n) {
		printf("no extensions (add one with 'hookflash extension add NUMBER')\n");
	} else if (!rc) {
		for (size_t i = 0; i < r.n; i++) {
			const char **row = cells + i * NCOLS;
			row[0] = r.row[i].num;
			row[1] = r.row[i].name;
			row[2] = r.row[i].enabled ? "yes" : "no";
			row[3] = r.row[i].opts;
			row[4] = r.row[i].calls;
		}
		static const char *const head[NCOLS] = { "NUMBER", "NAME", "ENABLED", "OPTIONS",
							 "FWD/DND" };
		table_print(stdout, NCOLS, head, NULL, cells, r.n);
	}
	free(cells);
	free(r.row);
	return rc;
}

static int load(struct db *db, const char *number, struct db_ext *e)
{
	int err = db_ext_get(db, number, e);
	if (err == ENOENT)
		return cli_fail("no extension %s", number);
	if (err)
		return cli_fail("cannot read extension %s: %s", number, db_errmsg(db));
	return CLI_OK;
}

static int ext_show(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	bool show_pw = false;
	const struct cli_opt opts[] = {
		{ "show-password", false, NULL, &show_pw },
		{ 0 },
	};
	int rc = cli_parse(argc, argv, opts, pos, 1, 1, NULL, U_SHOW);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	struct db *db;
	if ((rc = cli_db_open(c, &db, false)))
		return rc;
	struct db_ext e;
	struct db_mailbox mb = { .has_pin = false };
	rc = load(db, pos[0], &e);
	if (!rc && db_vm_mailbox_get(db, pos[0], &mb))
		cli_warn("cannot read the mailbox of %s: %s", pos[0], db_errmsg(db));
	db_close(db);
	if (rc)
		return rc;

	char created[64] = "";
	time_t t = (time_t)e.created_at;
	struct tm tm;
	if (localtime_r(&t, &tm))
		strftime(created, sizeof(created), "%Y-%m-%d %H:%M:%S %Z", &tm);
	/* stored hashed: whether there is one is all anyone can know */
	const char *pin = mb.has_pin ? "(set)" : "(none)";
	const char *pw = show_pw ? e.password : "(hidden; --show-password shows it)";
	char max_calls[32];
	if (e.max_calls)
		snprintf(max_calls, sizeof(max_calls), "%d", e.max_calls);
	else
		snprintf(max_calls, sizeof(max_calls), "%d (default)", DB_EXT_MAX_CALLS_DEFAULT);
	struct ext_calls_buf cbuf;
	enum { ROWS = 11 }; /* before the call handling's: number to SRTP */
	const char *cells[(ROWS + EXT_CALLS_ROWS + 1) * 2] = {
		"number:", e.number,
		"name:", e.name,
		"enabled:", e.enabled ? "yes" : "no",
		"SIP user:", e.number,
		"SIP password:", pw,
		"voicemail PIN:", pin,
		"contact:", e.contact[0] ? e.contact : "(none: calls go where it registers)",
		"trusted from:", e.trust[0] ? e.trust : "(none: digest authentication only)",
		"max calls:", max_calls,
		"codecs:", e.codecs[0] ? e.codecs : "(system default)",
		"SRTP:", e.srtp[0] ? e.srtp : "optional",
		/* the call handling rows go here, before "created:" */
	};
	ext_calls_cells(&e, &cbuf, cells + ROWS * 2);
	cells[(ROWS + EXT_CALLS_ROWS) * 2] = "created:";
	cells[(ROWS + EXT_CALLS_ROWS) * 2 + 1] = created;
	table_print(stdout, 2, NULL, NULL, cells, sizeof(cells) / sizeof(cells[0]) / 2);
	return CLI_OK;
}

static int ext_set(struct cli *c, int argc, char **argv)
{
	const char *name = NULL, *pw = NULL, *pin = NULL, *pos[1];
	const char *contact = NULL, *trust = NULL, *max_calls = NULL;
	const char *codecs = NULL, *srtp = NULL;
	bool new_pw = false, enable = false, disable = false;
	bool no_contact = false, no_trust = false, default_codecs = false;
	struct ext_calls_args ca = { 0 };
	struct cli_opt opts[32] = {
		{ "codecs", true, &codecs, NULL },
		{ "default-codecs", false, NULL, &default_codecs },
		{ "srtp", true, &srtp, NULL },
		{ "name", true, &name, NULL },
		{ "password", true, &pw, NULL },
		{ "new-password", false, NULL, &new_pw },
		{ "pin", true, &pin, NULL },
		{ "enable", false, NULL, &enable },
		{ "disable", false, NULL, &disable },
		{ "contact", true, &contact, NULL },
		{ "no-contact", false, NULL, &no_contact },
		{ "trust", true, &trust, NULL },
		{ "no-trust", false, NULL, &no_trust },
		{ "max-calls", true, &max_calls, NULL },
		{ 0 },
	};
	if (!ext_calls_opts(opts, sizeof(opts) / sizeof(opts[0]), &ca))
		return cli_fail("internal: too many options");
	int rc = cli_parse(argc, argv, opts, pos, 1, 1, NULL, U_SET);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	if (pw && new_pw)
		return cli_usage(U_SET, "--password and --new-password exclude each other");
	if (enable && disable)
		return cli_usage(U_SET, "--enable and --disable exclude each other");
	if (contact && no_contact)
		return cli_usage(U_SET, "--contact and --no-contact exclude each other");
	if (trust && no_trust)
		return cli_usage(U_SET, "--trust and --no-trust exclude each other");
	if (codecs && default_codecs)
		return cli_usage(U_SET, "--codecs and --default-codecs exclude each other");
	if (!name && !pw && !new_pw && !pin && !enable && !disable && !contact &&
	    !no_contact && !trust && !no_trust && !max_calls && !codecs && !default_codecs && !srtp &&
	    !ext_calls_given(&ca))
		return cli_usage(U_SET, "nothing to change");
	if (default_codecs)
		codecs = "";
	if (no_contact)
		contact = "";
	if (no_trust)
		trust = "";

	struct db *db;
	if ((rc = cli_db_open(c, &db, false)))
		return rc;
	struct db_ext e;
	bool generated = false;
	if ((rc = load(db, pos[0], &e)))
		goto out;
	if (name && (rc = put(e.name, sizeof(e.name), name, "--name")))
		goto out;
	if (pin && !pin[0]) {
		rc = empty_pin();
		goto out;
	}
	if (pin && (rc = put(e.vm_pin, sizeof(e.vm_pin), pin, "--pin")))
		goto out;
	if ((rc = set_device(&e, contact, trust, max_calls, codecs, srtp)) ||
	    (rc = ext_calls_apply(&e, &ca, U_SET)))
		goto out;
	if ((pw || new_pw) && (rc = set_password(&e, pw, &generated)))
		goto out;
	if (enable || disable)
		e.enabled = enable;
	const char *why;
	if (db_ext_validate(&e, &why)) {
		rc = invalid(&e, why);
		goto out;
	}
	int err = db_ext_update(db, &e);
	if (err)
		rc = write_failed(db, &e, err, "change");
out:
	db_close(db);
	if (rc)
		return rc;
	printf("extension %s updated\n", e.number);
	if (generated)
		print_generated(&e, true, NULL);
	OPENSSL_cleanse(&e, sizeof(e));
	cli_notify_reload(c);
	return CLI_OK;
}

static int ext_remove(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	int rc = cli_parse(argc, argv, NULL, pos, 1, 1, NULL, U_REMOVE);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	struct db *db;
	if ((rc = cli_db_open(c, &db, false)))
		return rc;
	int err = db_ext_delete(db, pos[0]);
	if (err == ENOENT)
		rc = cli_fail("no extension %s", pos[0]);
	else if (err)
		rc = cli_fail("cannot remove extension %s: %s", pos[0], db_errmsg(db));
	db_close(db);
	if (rc)
		return rc;
	printf("extension %s removed\n", pos[0]);
	cli_notify_reload(c);
	return CLI_OK;
}

static const struct cli_sub subs[] = {
	{ "add", ext_add },
	{ "list", ext_list },
	{ "show", ext_show },
	{ "set", ext_set },
	{ "remove", ext_remove },
};

static void ext_help(void)
{
	printf("usage: hookflash " U_ADD "\n"
	       "       hookflash " U_LIST "\n"
	       "       hookflash " U_SHOW "\n"
	       "       hookflash " U_SET "\n"
	       "       hookflash " U_REMOVE "\n"
	       "codecs C: %s\n"
	       "DEST: where the call goes, kind:id (ext:1002, vm:1001, app:echo) or"
	       " hangup; empty: the default, the extension's voicemail\n"
	       "NUMBER (forwarding): a number to dial, 0-9 * # +; --no-forward clears"
	       " all three\n",
	       codec_list_help());
}

int cli_cmd_extension(struct cli *c, int argc, char **argv)
{
	return cli_subcommand(c, argc, argv, subs, sizeof(subs) / sizeof(subs[0]), U_ALL,
			      "extension: which action?", "unknown extension action '%s'", ext_help);
}
