/*
 * GET /api/v1/codecs: the codecs Hookflash has and what a codec list may
 * hold, straight from core/base/codec_names.h, for any logged-in user.
 * The web UI builds its codec hints from this answer instead of a list
 * of its own, and the OpenAPI document's codec enum is checked against
 * it (tests/integration/web.py), so a codec added to the table shows up
 * everywhere with no change here.
 */
#include "../core/base/codec_names.h"
#include "web_int.h"

void web_api_codecs(struct web_req *r)
{
	json_t *a = json_array();
	for (size_t i = 0; i < codec_name_count(); i++) {
		const struct codec_name *c = codec_name_at(i);
		json_array_append_new(a, json_pack("{s:s, s:I, s:b, s:i, s:i}", "name", c->name,
						   "clock", (json_int_t)c->clock, "wideband",
						   c->wideband, "min_ptime", c->min_ptime,
						   "max_ptime", c->max_ptime));
	}
	web_json(r, 200, json_pack("{s:o, s:i, s:i, s:s}", "codecs", a, "max_codecs", CODEC_LIST_MAX,
				   "max_length", CODEC_LIST_TEXT_MAX - 1, "syntax",
				   codec_list_help()));
}
