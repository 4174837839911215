/*
 * `hookflash number list` (or `hookflash numbers`): the numbering plan,
 * every dialable number (extensions, feature codes, later conference
 * rooms, IVR menus, ring groups) with where a call to it goes and who
 * owns it. Read from the database, so it works with the daemon stopped.
 * Numbers are edited by their owners (`extension add/remove`), not here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../db/db.h"
#include "cli.h"
#include "table.h"

#define U_LIST "number list"
#define U_ALL "number list"

struct rows {
	struct db_number *n;
	size_t len, cap;
	bool oom;
};

static void collect(const struct db_number *n, void *arg)
{
	struct rows *r = arg;
	if (r->oom)
		return;
	if (r->len == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct db_number *a = realloc(r->n, cap * sizeof(*a));
		if (!a) {
			r->oom = true;
			return;
		}
		r->n = a;
		r->cap = cap;
	}
	r->n[r->len++] = *n;
}

static int number_list(struct cli *c, int argc, char **argv)
{
	int rc = cli_parse(argc, argv, NULL, NULL, 0, 0, NULL, U_LIST);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	struct db *db;
	if ((rc = cli_db_open(c, &db, false)))
		return rc;
	struct rows r = { 0 };
	int n = db_number_list(db, collect, &r);
	if (n < 0)
		rc = cli_fail("cannot list numbers: %s", db_errmsg(db));
	else if (r.oom)
		rc = cli_fail("out of memory");
	db_close(db);

	enum { NCOLS = 3 };
	const char **cells = NULL;
	if (!rc && r.len && !(cells = calloc(r.len * NCOLS, sizeof(*cells))))
		rc = cli_fail("out of memory");
	if (!rc && !r.len) {
		printf("no numbers\n");
	} else if (!rc) {
		for (size_t i = 0; i < r.len; i++) {
			const char **row = cells + i * NCOLS;
			row[0] = r.n[i].number;
			row[1] = r.n[i].dest;
			row[2] = r.n[i].what;
		}
		static const char *const head[NCOLS] = { "NUMBER", "DESTINATION", "WHAT" };
		table_print(stdout, NCOLS, head, NULL, cells, r.len);
	}
	free(cells);
	free(r.n);
	return rc;
}

static const struct cli_sub subs[] = {
	{ "list", number_list },
};

static void number_help(void)
{
	printf("usage: hookflash " U_LIST "\n");
}

int cli_cmd_number(struct cli *c, int argc, char **argv)
{
	return cli_subcommand(c, argc, argv, subs, sizeof(subs) / sizeof(subs[0]), U_ALL,
			      "number: which action?", "number: unknown action '%s'", number_help);
}

int cli_cmd_numbers(struct cli *c, int argc, char **argv)
{
	return number_list(c, argc, argv);
}
