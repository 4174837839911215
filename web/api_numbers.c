/*
 * GET /api/v1/numbers: the numbering plan, read-only. Every dialable
 * number (extensions, feature codes, later conference rooms, IVR menus,
 * ring groups) with its destination and owner; any logged-in role may
 * read it, as a phone's user may dial any of them. Numbers change through
 * their owners (POST /api/v1/extensions), not here.
 */
#include "web_int.h"

static void add_number(const struct db_number *n, void *arg)
{
	json_t *o = json_object();
	json_object_set_new(o, "number", web_jstr(n->number));
	json_object_set_new(o, "dest", web_jstr(n->dest));
	json_object_set_new(o, "what", web_jstr(n->what));
	json_array_append_new(arg, o);
}

void web_api_numbers(struct web_req *r)
{
	struct db *db = web_db(r);
	if (!db)
		return;
	json_t *a = json_array();
	int n = db_number_list(db, add_number, a);
	if (n < 0) {
		json_decref(a);
		web_db_error(r, -n, "numbers");
		return;
	}
	json_t *o = json_object();
	json_object_set_new(o, "numbers", a);
	web_json(r, 200, o);
}
