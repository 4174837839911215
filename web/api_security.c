/*
 * GET /api/v1/security: what the Security page shows in one answer. The
 * bans (whole addresses, and single users refused from an address that
 * holds working phones) and the recent authentication failures live on
 * the signalling loop and are fetched through pbx_web; the trusted
 * networks are a setting, read here and changed through the settings PUT
 * like every other setting (one validation path: core/base/conf.c).
 * Lifting a ban stays DELETE /api/v1/bans/{address} (api_live.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../core/base/conf.h"
#include "../core/pbx/pbx_web.h"
#include "web_int.h"

/* ISO 8601 UTC, as the CDR export writes times. */
static json_t *iso(int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[32];
	if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return json_null();
	return json_string(buf);
}

void web_api_security(struct web_req *r)
{
	struct pbx_web_ban *bans = NULL;
	struct pbx_web_auth_failure *fails = NULL;
	size_t nb = 0, nf = 0;
	struct conf *c = malloc(sizeof(*c));
	int err = c ? 0 : ENOMEM;
	if (!err)
		err = pbx_web_bans(r->w->pw, &bans, &nb);
	if (!err)
		err = pbx_web_auth_failures(r->w->pw, &fails, &nf);
	if (!err)
		err = pbx_web_conf(r->w->pw, c);
	if (err) {
		free(bans);
		free(fails);
		free(c);
		web_loop_error(r, err);
		return;
	}
	json_t *jb = json_array();
	for (size_t i = 0; i < nb; i++) {
		json_t *o = web_ban_json(&bans[i]);
		json_object_set_new(o, "reason", web_jstr(bans[i].reason));
		json_object_set_new(o, "since", iso(bans[i].since * 1000));
		json_object_set_new(o, "until", iso(bans[i].until * 1000));
		json_array_append_new(jb, o);
	}
	json_t *jf = json_array();
	for (size_t i = 0; i < nf; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "time", iso(fails[i].time_ms));
		json_object_set_new(o, "address", web_jstr(fails[i].addr));
		json_object_set_new(o, "user", web_jstr(fails[i].user));
		json_object_set_new(o, "reason", web_jstr(fails[i].reason));
		json_array_append_new(jf, o);
	}
	json_t *o = json_object();
	json_object_set_new(o, "bans", jb);
	json_object_set_new(o, "failures", jf);
	json_object_set_new(o, "trusted_networks", web_jstr(c->trusted_networks));
	free(bans);
	free(fails);
	free(c);
	web_json(r, 200, o);
}
