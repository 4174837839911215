/*
 * The routing seam: the one place that decides what a dialled number
 * means. Everything that sends a call somewhere (a phone dialling, later
 * an inbound trunk's DID, a transfer's target) asks here and gets a
 * destination (dest.h); the call layer then carries the call there.
 */
#ifndef HF_ROUTE_H
#define HF_ROUTE_H

#include <stdbool.h>

#include "../base/dest.h"

struct numplan;
struct ext_table;

/* What an unknown number gets: an announcement, not a bare 404. */
#define ROUTE_UNKNOWN "app:noservice"

/* Where caller's call to dialled goes: the numbering plan's entry, else
 * an extension of that number (a plan loaded before the extension was
 * added), else ROUTE_UNKNOWN. A malformed entry in the plan counts as
 * unknown (and is logged). plan and exts may be NULL. */
void route_dialled(const struct numplan *plan, const struct ext_table *exts, const char *caller,
		   const char *dialled, struct dest *out);

/* True when d stays inside the PBX (extensions, voicemail and the other
 * apps, hangup); false for a destination that leaves it (a trunk: kind
 * "trunk"). A device trusted by its address (ext trust) may only reach
 * internal destinations: UDP sources can be forged, so that trust must
 * never be worth a toll call. */
bool route_internal(const struct dest *d);

#endif
