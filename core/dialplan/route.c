/*
 * route_dialled (route.h). Today a number means what the numbering plan
 * says; outbound patterns for trunks and the caller's permissions will
 * be decided here too, which is why the caller is an argument already.
 */
#include "route.h"

#include <stdio.h>
#include <string.h>

#include "../base/log.h"
#include "../ident/ext_table.h"
#include "numplan.h"

void route_dialled(const struct numplan *plan, const struct ext_table *exts, const char *caller,
		   const char *dialled, struct dest *out)
{
	(void)caller;
	const char *d = numplan_find(plan, dialled);
	char why[128];
	if (d && !dest_parse(d, out, why, sizeof(why)))
		return;
	if (d)
		log_warn("route", "number %s: %s; treated as unknown", dialled, why);
	const struct ext *e = exts ? ext_table_find(exts, pl_from(dialled)) : NULL;
	if (!d && e && strlen(dialled) < sizeof(out->id)) {
		memset(out, 0, sizeof(*out));
		snprintf(out->kind, sizeof(out->kind), "ext");
		snprintf(out->id, sizeof(out->id), "%s", dialled);
		return;
	}
	dest_parse(ROUTE_UNKNOWN, out, NULL, 0);
}

bool route_internal(const struct dest *d)
{
	/* the kinds that leave the PBX; everything else is ours */
	static const char *const outside[] = { "trunk" };
	for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++)
		if (strcmp(d->kind, outside[i]) == 0)
			return false;
	return true;
}
