/*
 * `hookflash extension add|set` call handling options and their display
 * (ext_calls.h). A value that is malformed (a ring time that is not a
 * number, --dnd maybe) is refused here; everything else goes to
 * db_ext_validate, whose message cmd_ext.c turns into the option's name,
 * so the tool and the web API refuse the same input in the same words.
 */
#include "ext_calls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../db/db.h"

bool ext_calls_opts(struct cli_opt *opts, size_t cap, struct ext_calls_args *a)
{
	const struct cli_opt mine[] = {
		{ "ring-time", true, &a->ring_time, NULL },
		{ "no-answer", true, &a->no_answer, NULL },
		{ "busy", true, &a->busy, NULL },
		{ "unavailable", true, &a->unavailable, NULL },
		{ "forward", true, &a->forward, NULL },
		{ "forward-busy", true, &a->forward_busy, NULL },
		{ "forward-no-answer", true, &a->forward_no_answer, NULL },
		{ "no-forward", false, NULL, &a->no_forward },
		{ "dnd", true, &a->dnd, NULL },
	};
	size_t n = sizeof(mine) / sizeof(mine[0]), at = 0;
	while (at < cap && opts[at].name)
		at++;
	if (at + n >= cap)
		return false;
	memcpy(opts + at, mine, sizeof(mine));
	memset(opts + at + n, 0, sizeof(*opts));
	return true;
}

bool ext_calls_given(const struct ext_calls_args *a)
{
	return a->ring_time || a->no_answer || a->busy || a->unavailable || a->forward ||
	       a->forward_busy || a->forward_no_answer || a->no_forward || a->dnd;
}

/* Refuses, rather than truncates, a value that does not fit: cut short
 * it could become another valid number or destination. */
static int put(char *dst, size_t cap, const char *src, const char *opt)
{
	size_t n = strlen(src);
	if (n >= cap)
		return cli_fail("--%s: at most %zu characters", opt, cap - 1);
	memcpy(dst, src, n + 1);
	return CLI_OK;
}

int ext_calls_apply(struct db_ext *e, const struct ext_calls_args *a, const char *usage)
{
	int rc = CLI_OK;
	if (a->no_forward && (a->forward || a->forward_busy || a->forward_no_answer))
		return cli_usage(usage, "--no-forward and --forward... exclude each other");
	if (a->ring_time) {
		char *end;
		errno = 0;
		long v = strtol(a->ring_time, &end, 10);
		/* in range of int: db_ext_validate says what is allowed */
		if (end == a->ring_time || *end || errno || v < -1000000 || v > 1000000)
			return cli_fail("--ring-time: 0 (the default, %d s) or %d to %d seconds",
					DB_EXT_RING_TIME_DEFAULT, DB_EXT_RING_TIME_MIN,
					DB_EXT_RING_TIME_MAX);
		e->ring_time = (int)v;
	}
	if ((a->no_answer &&
	     (rc = put(e->dest_noanswer, sizeof(e->dest_noanswer), a->no_answer, "no-answer"))) ||
	    (a->busy && (rc = put(e->dest_busy, sizeof(e->dest_busy), a->busy, "busy"))) ||
	    (a->unavailable &&
	     (rc = put(e->dest_unavail, sizeof(e->dest_unavail), a->unavailable, "unavailable"))) ||
	    (a->forward && (rc = put(e->fwd_all, sizeof(e->fwd_all), a->forward, "forward"))) ||
	    (a->forward_busy &&
	     (rc = put(e->fwd_busy, sizeof(e->fwd_busy), a->forward_busy, "forward-busy"))) ||
	    (a->forward_no_answer && (rc = put(e->fwd_noanswer, sizeof(e->fwd_noanswer),
					       a->forward_no_answer, "forward-no-answer"))))
		return rc;
	if (a->no_forward)
		e->fwd_all[0] = e->fwd_busy[0] = e->fwd_noanswer[0] = '\0';
	if (a->dnd) {
		if (!strcmp(a->dnd, "on"))
			e->dnd = true;
		else if (!strcmp(a->dnd, "off"))
			e->dnd = false;
		else
			return cli_fail("--dnd: on or off");
	}
	return CLI_OK;
}

static const char *dest_or_default(const char *d)
{
	return d[0] ? d : "(default: voicemail)";
}

static const char *fwd_or_off(const char *f)
{
	return f[0] ? f : "(off)";
}

void ext_calls_cells(const struct db_ext *e, struct ext_calls_buf *buf, const char **cells)
{
	if (e->ring_time)
		snprintf(buf->ring, sizeof(buf->ring), "%d s", e->ring_time);
	else
		snprintf(buf->ring, sizeof(buf->ring), "%d s (default)", DB_EXT_RING_TIME_DEFAULT);
	const char *rows[EXT_CALLS_ROWS * 2] = {
		"ring time:", buf->ring,
		"no answer:", dest_or_default(e->dest_noanswer),
		"busy:", dest_or_default(e->dest_busy),
		"unavailable:", dest_or_default(e->dest_unavail),
		"forward always:", fwd_or_off(e->fwd_all),
		"forward if busy:", fwd_or_off(e->fwd_busy),
		"forward if no answer:", fwd_or_off(e->fwd_noanswer),
		"do not disturb:", e->dnd ? "on" : "off",
	};
	memcpy(cells, rows, sizeof(rows));
}

void ext_calls_marker(char *out, size_t cap, const struct db_ext *e)
{
	size_t at = 0;
	out[0] = '\0';
	if (e->dnd)
		at += (size_t)snprintf(out + at, cap - at, "dnd");
	if (e->fwd_all[0] && at < cap)
		at += (size_t)snprintf(out + at, cap - at, "%sfwd %s", at ? ", " : "", e->fwd_all);
	if (e->fwd_busy[0] && at < cap)
		at += (size_t)snprintf(out + at, cap - at, "%sfwd-busy %s", at ? ", " : "",
				       e->fwd_busy);
	if (e->fwd_noanswer[0] && at < cap)
		snprintf(out + at, cap - at, "%sfwd-no-answer %s", at ? ", " : "", e->fwd_noanswer);
}
