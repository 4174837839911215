/*
 * "The number you have dialed is not in service": what a caller hears
 * for a number the numbering plan does not know, instead of a bare 404
 * that most phones show as a cryptic error. The special information tone
 * (ITU-T E.180: 950/1400/1800 Hz) first, then the prompt, then 404. The
 * call is never answered (183 early media), so nothing is billed and a
 * phone or trunk sees the failure it would have seen without us.
 */
#include <errno.h>
#include <stdlib.h>

#include "../../core/call/app.h"

enum { SIT = 1, PROMPT };
/* the tone and the prompt last about 5 s; a stuck media worker must not
 * hold the caller longer than this */
#define NOSERVICE_MAX_MS 15000u

static int start(struct app_call *c, const char *arg, void **state)
{
	(void)arg;
	*state = NULL;
	app_timer(c, NOSERVICE_MAX_MS);
	if (app_tone(c, "950/330,1400/330,1800/330", SIT))
		app_hangup(c, 404, "Not Found");
	return 0;
}

static void on_event(struct app_call *c, void *state, const struct app_event *ev)
{
	(void)state;
	if (ev->type == APP_EV_PLAY_DONE && ev->tag == SIT && ev->err != ECANCELED) {
		char path[512];
		app_prompt(c, "ss-noservice", path, sizeof(path));
		const char *files[] = { path };
		if (!app_play(c, files, 1, false, PROMPT))
			return;
	} else if (!(ev->type == APP_EV_TIMER ||
		     (ev->type == APP_EV_PLAY_DONE && ev->tag == PROMPT && ev->err != ECANCELED))) {
		return;
	}
	app_hangup(c, 404, "Not Found");
}

static void stop(struct app_call *c, void *state)
{
	(void)c;
	(void)state;
}

const struct app_desc noservice_app = {
	.name = "noservice",
	.early_media = true,
	.start = start,
	.on_event = on_event,
	.stop = stop,
};
