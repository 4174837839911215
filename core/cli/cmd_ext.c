/*
 * `hookflash extension add|list|show|set|remove`: editing extensions in
 * the database directly, so they can be managed with no daemon running
 * (first install, recovery); a running daemon is told to reload after
 * each change. Validation is the database layer's (db_ext_validate), so
 * the tool and the web UI accept and refuse exactly the same things.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../db/db.h"
#include "cli.h"
#include "table.h"

#define GENERATED_PW_LEN 16

#define U_ADD "extension add NUMBER [--name NAME] [--password PW] [--pin PIN] [--disabled]"
#define U_LIST "extension list"
#define U_SHOW "extension show NUMBER [--show-password]"
#define U_SET                                                                        \
	"extension set NUMBER [--name NAME] [--password PW | --new-password] [--pin PIN]" \
	" [--enable | --disable]"
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

/* Turns db_ext_validate's "field: rule" into the option the user typed. */
static int invalid(const struct db_ext *e, const char *why)
{
	const char *colon = strchr(why, ':');
	size_t n = colon ? (size_t)(colon - why) : 0;
	const char *rule = colon ? colon + 2 : why;
	if (n == 6 && strncmp(why, "number", 6) == 0)
		return cli_fail("invalid extension number '%s': %s", e->number, rule);
	return cli_fail("--%.*s: %s", (int)n, why, rule);
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

static void print_generated(const struct db_ext *e)
{
	printf("SIP password for %s: %s\n", e->number, e->password);
	printf("(generated; shown only now, note it down)\n");
}

static int ext_add(struct cli *c, int argc, char **argv)
{
	const char *name = "", *pw = NULL, *pin = "", *pos[1];
	bool disabled = false;
	const struct cli_opt opts[] = {
		{ "name", true, &name, NULL },
		{ "password", true, &pw, NULL },
		{ "pin", true, &pin, NULL },
		{ "disabled", false, NULL, &disabled },
		{ 0 },
	};
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
	    (rc = put(e.vm_pin, sizeof(e.vm_pin), pin, "--pin")) ||
	    (rc = set_password(&e, pw, &generated)))
		return rc;
	e.enabled = !disabled;
	const char *why;
	if (db_ext_validate(&e, &why))
		return invalid(&e, why);

	struct db *db;
	if ((rc = cli_db_open(c, &db, false)))
		return rc;
	int err = db_ext_add(db, &e);
	if (err == EEXIST)
		rc = cli_fail("extension %s already exists", e.number);
	else if (err)
		rc = cli_fail("cannot add extension %s: %s", e.number, db_errmsg(db));
	db_close(db);
	if (rc)
		return rc;
	printf("extension %s added%s\n", e.number, e.enabled ? "" : " (disabled)");
	if (generated)
		print_generated(&e);
	cli_notify_reload(c);
	return CLI_OK;
}

struct ext_rows {
	char (*num)[DB_EXT_NUMBER_MAX];
	char (*name)[DB_EXT_NAME_MAX];
	bool *enabled;
	size_t n, cap;
	bool oom;
};

static void collect(const struct db_ext *e, void *arg)
{
	struct ext_rows *r = arg;
	if (r->oom)
		return;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		void *a = realloc(r->num, cap * sizeof(*r->num));
		if (a)
			r->num = a;
		void *b = realloc(r->name, cap * sizeof(*r->name));
		if (b)
			r->name = b;
		void *d = realloc(r->enabled, cap * sizeof(*r->enabled));
		if (d)
			r->enabled = d;
		if (!a || !b || !d) {
			r->oom = true;
			return;
		}
		r->cap = cap;
	}
	memcpy(r->num[r->n], e->number, sizeof(e->number));
	memcpy(r->name[r->n], e->name, sizeof(e->name));
	r->enabled[r->n] = e->enabled;
	r->n++;
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

	const char **cells = NULL;
	if (!rc && r.n) {
		cells = calloc(r.n * 3, sizeof(*cells));
		if (!cells)
			rc = cli_fail("out of memory");
	}
	if (!rc && !r.n) {
		printf("no extensions (add one with 'hookflash extension add NUMBER')\n");
	} else if (!rc) {
		for (size_t i = 0; i < r.n; i++) {
			cells[i * 3] = r.num[i];
			cells[i * 3 + 1] = r.name[i];
			cells[i * 3 + 2] = r.enabled[i] ? "yes" : "no";
		}
		static const char *const head[] = { "NUMBER", "NAME", "ENABLED" };
		table_print(stdout, 3, head, NULL, cells, r.n);
	}
	free(cells);
	free(r.num);
	free(r.name);
	free(r.enabled);
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
	rc = load(db, pos[0], &e);
	db_close(db);
	if (rc)
		return rc;

	char created[64] = "";
	time_t t = (time_t)e.created_at;
	struct tm tm;
	if (localtime_r(&t, &tm))
		strftime(created, sizeof(created), "%Y-%m-%d %H:%M:%S %Z", &tm);
	const char *pin = !e.vm_pin[0] ? "(none)" : show_pw ? e.vm_pin : "(set)";
	const char *pw = show_pw ? e.password : "(hidden; --show-password shows it)";
	const char *cells[] = {
		"number:", e.number,
		"name:", e.name,
		"enabled:", e.enabled ? "yes" : "no",
		"SIP user:", e.number,
		"SIP password:", pw,
		"voicemail PIN:", pin,
		"created:", created,
	};
	table_print(stdout, 2, NULL, NULL, cells, sizeof(cells) / sizeof(cells[0]) / 2);
	return CLI_OK;
}

static int ext_set(struct cli *c, int argc, char **argv)
{
	const char *name = NULL, *pw = NULL, *pin = NULL, *pos[1];
	bool new_pw = false, enable = false, disable = false;
	const struct cli_opt opts[] = {
		{ "name", true, &name, NULL },
		{ "password", true, &pw, NULL },
		{ "new-password", false, NULL, &new_pw },
		{ "pin", true, &pin, NULL },
		{ "enable", false, NULL, &enable },
		{ "disable", false, NULL, &disable },
		{ 0 },
	};
	int rc = cli_parse(argc, argv, opts, pos, 1, 1, NULL, U_SET);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	if (pw && new_pw)
		return cli_usage(U_SET, "--password and --new-password exclude each other");
	if (enable && disable)
		return cli_usage(U_SET, "--enable and --disable exclude each other");
	if (!name && !pw && !new_pw && !pin && !enable && !disable)
		return cli_usage(U_SET, "nothing to change");

	struct db *db;
	if ((rc = cli_db_open(c, &db, false)))
		return rc;
	struct db_ext e;
	bool generated = false;
	if ((rc = load(db, pos[0], &e)))
		goto out;
	if (name && (rc = put(e.name, sizeof(e.name), name, "--name")))
		goto out;
	if (pin && (rc = put(e.vm_pin, sizeof(e.vm_pin), pin, "--pin")))
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
	if (err == ENOENT)
		rc = cli_fail("no extension %s", e.number);
	else if (err)
		rc = cli_fail("cannot change extension %s: %s", e.number, db_errmsg(db));
out:
	db_close(db);
	if (rc)
		return rc;
	printf("extension %s updated\n", e.number);
	if (generated)
		print_generated(&e);
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

static const struct {
	const char *name;
	int (*run)(struct cli *c, int argc, char **argv);
} subs[] = {
	{ "add", ext_add },
	{ "list", ext_list },
	{ "show", ext_show },
	{ "set", ext_set },
	{ "remove", ext_remove },
};

int cli_cmd_extension(struct cli *c, int argc, char **argv)
{
	if (argc < 1)
		return cli_usage(U_ALL, "extension: which action?");
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[0], subs[i].name) == 0)
			return subs[i].run(c, argc - 1, argv + 1);
	if (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0) {
		printf("usage: hookflash " U_ADD "\n"
		       "       hookflash " U_LIST "\n"
		       "       hookflash " U_SHOW "\n"
		       "       hookflash " U_SET "\n"
		       "       hookflash " U_REMOVE "\n");
		return CLI_OK;
	}
	return cli_usage(U_ALL, "unknown extension action '%s'", argv[0]);
}
