/*
 * Where a call goes: the destinations of its path, one hop at a time.
 * call_on_invite asks the routing seam (core/dialplan/route.h) what the
 * dialled number means and calls call_goto; an extension that is busy,
 * does not answer or has no phone, and an app that fails, send the call
 * on to that destination's next one (call_next) instead of ending it.
 * Only "hangup" ends it, with the status of the last failure. A call
 * that ends unanswered, by whatever path, is logged here at info
 * (call_log_failed): the admin asking "why did my call fail" finds the
 * caller, the number dialled, the status and the reason in one line.
 */
#include "call_int.h"

#include <stdio.h>
#include <string.h>

#include "../base/log.h"
#include "../sip/msg.h"

void call_log_failed(const struct call *c, uint16_t status, const char *reason,
		     const char *disposition, const char *cause, const char *side)
{
	if (!reason || !*reason)
		reason = sip_reason_phrase(status);
	log_info(CALL_TAG, "call %u failed: %s -> %s: %u %s (%s: %s, %s)", c->id,
		 c->caller[0] ? c->caller : "?", c->callee[0] ? c->callee : "?", status,
		 reason ? reason : "", disposition, cause, side);
}

static void path_add(struct call *c, const char *dest)
{
	size_t n = strlen(c->path);
	if (n + 4 + strlen(dest) >= sizeof(c->path))
		return; /* the start of the story is kept */
	snprintf(c->path + n, sizeof(c->path) - n, "%s%s", n ? " > " : "", dest);
}

static void next_defaults(struct call *c)
{
	snprintf(c->next_busy, sizeof(c->next_busy), "hangup");
	snprintf(c->next_noanswer, sizeof(c->next_noanswer), "hangup");
	snprintf(c->next_unavail, sizeof(c->next_unavail), "hangup");
	snprintf(c->next_fail, sizeof(c->next_fail), "hangup");
}

void call_goto(struct call *c, const char *dest)
{
	if (c->ending)
		return;
	struct dest d;
	char why[128];
	if (++c->hops > CALL_MAX_HOPS) {
		log_warn(CALL_TAG, "call %u: more than %d destinations (%s): a forwarding loop?", c->id,
			 CALL_MAX_HOPS, c->path);
		call_end(c, 482, "Loop Detected", "system", "too many destinations");
		return;
	}
	if (dest_parse(dest, &d, why, sizeof(why))) {
		log_warn(CALL_TAG, "call %u: %s", c->id, why);
		call_end(c, 500, "Server Internal Error", "system", "bad destination");
		return;
	}
	path_add(c, dest);
	snprintf(c->kind, sizeof(c->kind), "%s", d.kind);
	next_defaults(c);
	snprintf(c->reason, sizeof(c->reason), "%s", c->reason_next);
	c->reason_next[0] = '\0';
	if (!strcmp(d.kind, "hangup")) {
		uint16_t st = c->fail_status ? c->fail_status : 480;
		call_end(c, st, c->fail_reason[0] ? c->fail_reason : NULL,
			 c->fail_side[0] ? c->fail_side : "system",
			 c->fail_cause[0] ? c->fail_cause : "hangup");
		return;
	}
	if (!strcmp(d.kind, "ext")) {
		call_ring_ext(c, d.id);
		return;
	}
	const char *arg = "";
	const struct app_desc *app = call_app_find(c->m, &d, &arg);
	if (!app) {
		log_info(CALL_TAG, "call %u: no app serves %s", c->id, dest);
		call_next(c, CALL_NEXT_FAIL, 404, "Not Found", "system");
		return;
	}
	call_app_start(c, app, arg);
}

void call_next(struct call *c, enum call_next why, uint16_t status, const char *reason,
	       const char *side)
{
	if (c->ending)
		return;
	static const char *const causes[] = {
		[CALL_NEXT_BUSY] = "busy",
		[CALL_NEXT_NOANSWER] = "no answer",
		[CALL_NEXT_UNAVAIL] = "callee not registered",
		[CALL_NEXT_FAIL] = "destination failed",
	};
	c->fail_status = status;
	snprintf(c->fail_reason, sizeof(c->fail_reason), "%s", reason ? reason : "");
	static const char *const reasons[] = {
		[CALL_NEXT_BUSY] = "busy",
		[CALL_NEXT_NOANSWER] = "noanswer",
		[CALL_NEXT_UNAVAIL] = "unavail",
		[CALL_NEXT_FAIL] = "fail",
	};
	snprintf(c->reason_next, sizeof(c->reason_next), "%s", reasons[why]);
	snprintf(c->fail_side, sizeof(c->fail_side), "%s", side);
	if (!strcmp(side, "callee"))
		snprintf(c->fail_cause, sizeof(c->fail_cause), "callee answered %u", status);
	else
		snprintf(c->fail_cause, sizeof(c->fail_cause), "%s", causes[why]);
	char next[DEST_MAX];
	const char *src = why == CALL_NEXT_BUSY	     ? c->next_busy
			  : why == CALL_NEXT_NOANSWER ? c->next_noanswer
			  : why == CALL_NEXT_UNAVAIL  ? c->next_unavail
						      : c->next_fail;
	snprintf(next, sizeof(next), "%s", src);
	call_goto(c, next);
}
