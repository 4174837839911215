/*
 * The echo test (feature code *43, as in FreePBX): the caller hears an
 * introduction, then their own voice back, and can judge their audio
 * path (one-way audio, delay, a headset's echo). '#' ends it with a
 * goodbye prompt; any other key skips the introduction. The echo itself
 * is the media worker's (media_leg_echo): the audio never comes up to
 * the signalling loop.
 */
#include <errno.h>
#include <stdlib.h>

#include "../../core/base/log.h"
#include "../../core/call/app.h"

enum { INTRO = 1, DONE };
/* nobody needs an echo for longer; a forgotten call should not hold a
 * line and a media slot for hours */
#define ECHO_MAX_MS (10u * 60u * 1000u)

struct echo {
	int phase; /* INTRO, 0 (echoing), DONE */
};

static void play(struct app_call *c, const char *prompt, uint32_t tag)
{
	char path[512];
	app_prompt(c, prompt, path, sizeof(path));
	const char *files[] = { path };
	if (app_play(c, files, 1, false, tag))
		app_hangup(c, 500, NULL);
}

static void echo_on(struct app_call *c, struct echo *e)
{
	e->phase = 0;
	if (app_echo(c, true)) {
		log_warn("echo", "call %u: the media engine cannot echo", app_call_id(c));
		app_hangup(c, 500, NULL);
	}
}

static int start(struct app_call *c, const char *arg, void **state)
{
	(void)arg;
	struct echo *e = calloc(1, sizeof(*e));
	if (!e)
		return ENOMEM;
	*state = e;
	e->phase = INTRO;
	app_timer(c, ECHO_MAX_MS);
	play(c, "demo-echotest", INTRO);
	return 0;
}

static void on_event(struct app_call *c, void *state, const struct app_event *ev)
{
	struct echo *e = state;
	switch (ev->type) {
	case APP_EV_PLAY_DONE:
		/* a missing prompt (err ENOENT) must not stop the test */
		if (ev->tag == INTRO && e->phase == INTRO && ev->err != ECANCELED)
			echo_on(c, e);
		else if (ev->tag == DONE && ev->err != ECANCELED)
			app_hangup(c, 200, NULL);
		break;
	case APP_EV_DTMF:
		if (ev->digit == '#' && e->phase != DONE) {
			e->phase = DONE;
			app_echo(c, false);
			play(c, "demo-echodone", DONE);
		} else if (e->phase == INTRO) {
			echo_on(c, e); /* stops the introduction */
			app_stop_play(c);
		}
		break;
	case APP_EV_TIMER:
		app_hangup(c, 200, NULL);
		break;
	default:
		break;
	}
}

static void stop(struct app_call *c, void *state)
{
	(void)c;
	free(state);
}

const struct app_desc echo_app = {
	.name = "echo",
	.start = start,
	.on_event = on_event,
	.stop = stop,
};
