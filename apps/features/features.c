/*
 * The phone's own feature codes for call handling, as FreePBX users know
 * them: *72 call forwarding on (the number to forward to, then '#'), *73
 * off, *78 do-not-disturb on, *79 off. Each changes the caller's own
 * extension in the database (on the store thread), has the PBX reload
 * it, and says what is now set. The numbering plan maps the codes to
 * app:fwdon, app:fwdoff, app:dndon and app:dndoff.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/base/log.h"
#include "../../core/call/app.h"
#include "../../db/db.h"

#define FEAT_TAG "features"
#define FEAT_DIGIT_TIMEOUT_MS 10000u

enum { T_ASK = 1, T_DONE };
enum what { FWD_ON, FWD_OFF, DND_ON, DND_OFF };

struct feature {
	enum what what;
	bool collecting, finished;
	char number[32];
	size_t n;
	char paths[6][256];
};

struct job {
	struct feature *f;      /* valid only when done's c is not NULL */
	enum what what;
	char ext[32], number[32];
	int err;
	char why[160];
};

static int say(struct app_call *c, struct feature *f, const char *const *names, size_t n,
	       uint32_t tag)
{
	const char *files[6];
	for (size_t i = 0; i < n && i < 6; i++) {
		app_prompt(c, names[i], f->paths[i], sizeof(f->paths[i]));
		files[i] = f->paths[i];
	}
	return app_play(c, files, n < 6 ? n : 6, false, tag);
}

static void work(struct db *db, void *arg)
{
	struct job *j = arg;
	struct db_ext e;
	j->err = db_ext_get(db, j->ext, &e);
	if (j->err)
		return;
	switch (j->what) {
	case FWD_ON:
		snprintf(e.fwd_all, sizeof(e.fwd_all), "%s", j->number);
		break;
	case FWD_OFF:
		e.fwd_all[0] = '\0';
		break;
	case DND_ON:
		e.dnd = true;
		break;
	case DND_OFF:
		e.dnd = false;
		break;
	}
	const char *why = NULL;
	if (db_ext_validate(&e, &why)) {
		j->err = EINVAL;
		snprintf(j->why, sizeof(j->why), "%s", why ? why : "invalid");
		return;
	}
	j->err = db_ext_update(db, &e);
	if (j->err)
		snprintf(j->why, sizeof(j->why), "%s", db_errmsg(db));
}

static void done(struct app_call *c, void *arg)
{
	struct job *j = arg;
	if (!c) {
		free(j);
		return;
	}
	struct feature *f = j->f;
	if (j->err) {
		log_info(FEAT_TAG, "call %u: %s: cannot change %s: %s", app_call_id(c), app_caller(c),
			 j->ext, j->why[0] ? j->why : strerror(j->err));
		static const char *const sorry[] = { "vm-sorry" };
		free(j);
		f->finished = true;
		if (say(c, f, sorry, 1, T_DONE))
			app_hangup(c, 200, NULL);
		return;
	}
	struct app_services svc;
	app_services(c, &svc);
	app_services_reload(&svc);
	log_info(FEAT_TAG, "call %u: %s set %s%s", app_call_id(c), j->ext,
		 j->what == FWD_ON ? "call forwarding to " : j->what == FWD_OFF ? "call forwarding off"
		 : j->what == DND_ON ? "do-not-disturb on" : "do-not-disturb off",
		 j->what == FWD_ON ? j->number : "");
	const char *names[6];
	size_t n = 0;
	if (j->what == FWD_ON || j->what == FWD_OFF) {
		names[n++] = "call-fwd-unconditional";
		names[n++] = j->what == FWD_ON ? "activated" : "de-activated";
	} else {
		names[n++] = "do-not-disturb";
		names[n++] = j->what == DND_ON ? "activated" : "de-activated";
	}
	free(j);
	f->finished = true;
	if (say(c, f, names, n, T_DONE))
		app_hangup(c, 200, NULL);
}

static void apply(struct app_call *c, struct feature *f)
{
	struct job *j = calloc(1, sizeof(*j));
	if (!j) {
		app_hangup(c, 500, NULL);
		return;
	}
	j->f = f;
	j->what = f->what;
	snprintf(j->ext, sizeof(j->ext), "%s", app_caller(c));
	snprintf(j->number, sizeof(j->number), "%s", f->number);
	if (app_store(c, work, done, j)) {
		free(j);
		app_hangup(c, 500, NULL);
	}
}

static int start_what(struct app_call *c, enum what w, void **state)
{
	struct feature *f = calloc(1, sizeof(*f));
	if (!f)
		return ENOMEM;
	*state = f;
	f->what = w;
	if (w == FWD_ON) {
		/* "call forwarding ... extension", then digits and '#' */
		static const char *const ask[] = { "call-fwd-unconditional", "vm-enter-num-to-call",
						   "vm-then-pound" };
		f->collecting = true;
		app_timer(c, FEAT_DIGIT_TIMEOUT_MS + 10000u);
		return say(c, f, ask, 3, T_ASK);
	}
	apply(c, f);
	return 0;
}

static int start_fwdon(struct app_call *c, const char *a, void **s) { (void)a; return start_what(c, FWD_ON, s); }
static int start_fwdoff(struct app_call *c, const char *a, void **s) { (void)a; return start_what(c, FWD_OFF, s); }
static int start_dndon(struct app_call *c, const char *a, void **s) { (void)a; return start_what(c, DND_ON, s); }
static int start_dndoff(struct app_call *c, const char *a, void **s) { (void)a; return start_what(c, DND_OFF, s); }

static void on_event(struct app_call *c, void *state, const struct app_event *ev)
{
	struct feature *f = state;
	switch (ev->type) {
	case APP_EV_DTMF:
		if (!f->collecting)
			break;
		app_stop_play(c);
		if (ev->digit == '#') {
			f->collecting = false;
			if (!f->n)
				app_hangup(c, 200, NULL);
			else
				apply(c, f);
		} else if (f->n + 1 < sizeof(f->number)) {
			f->number[f->n++] = ev->digit;
			f->number[f->n] = '\0';
			app_timer(c, FEAT_DIGIT_TIMEOUT_MS);
		}
		break;
	case APP_EV_PLAY_DONE:
		if (ev->tag == T_DONE && ev->err != ECANCELED)
			app_hangup(c, 200, NULL);
		else if (ev->tag == T_ASK && f->collecting && ev->err != ECANCELED)
			app_timer(c, FEAT_DIGIT_TIMEOUT_MS);
		break;
	case APP_EV_TIMER:
		if (f->collecting) {
			f->collecting = false;
			if (f->n)
				apply(c, f);
			else
				app_hangup(c, 200, NULL);
		} else if (!f->finished) {
			app_hangup(c, 200, NULL);
		}
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

const struct app_desc fwdon_app = { .name = "fwdon", .start = start_fwdon, .on_event = on_event, .stop = stop };
const struct app_desc fwdoff_app = { .name = "fwdoff", .start = start_fwdoff, .on_event = on_event, .stop = stop };
const struct app_desc dndon_app = { .name = "dndon", .start = start_dndon, .on_event = on_event, .stop = stop };
const struct app_desc dndoff_app = { .name = "dndoff", .start = start_dndoff, .on_event = on_event, .stop = stop };
