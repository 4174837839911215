/*
 * Hosting dialplan applications (app.h): finding the app a destination
 * names, answering the caller for it, passing it media events and
 * digits, and the few things it may do with the call. The app sees its
 * call as an opaque struct app_call, which is the struct call itself.
 */
#include "call_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../db/store.h"
#include "../base/conf.h"
#include "../base/log.h"
#include "../media/audio/prompts.h"

static struct call *of(struct app_call *a)
{
	return (struct call *)(void *)a;
}

static const struct call *of_c(const struct app_call *a)
{
	return (const struct call *)(const void *)a;
}

static struct app_call *as_app(struct call *c)
{
	return (struct app_call *)(void *)c;
}

const struct app_desc *call_app_find(struct call_mgr *m, const struct dest *d, const char **arg)
{
	const struct app_desc *const *apps = m->d.apps;
	for (size_t i = 0; apps && apps[i]; i++) {
		const struct app_desc *a = apps[i];
		if (!strcmp(d->kind, "app")) {
			/* app:NAME or app:NAME.ARG: the id names the app */
			size_t n = strlen(a->name);
			if (!strncmp(d->id, a->name, n) && (d->id[n] == '\0' || d->id[n] == '.')) {
				*arg = d->id[n] ? d->id + n + 1 : "";
				return a;
			}
		} else if (a->kind && !strcmp(d->kind, a->kind)) {
			*arg = d->id;
			return a;
		}
	}
	return NULL;
}

static void on_app_timer(void *arg)
{
	struct call *c = arg;
	call_app_event(c, &(struct app_event){ .type = APP_EV_TIMER });
}

void call_app_start(struct call *c, const struct app_desc *app, const char *arg)
{
	struct sbuf sdp;
	sbuf_init(&sdp);
	if (c->a.state != LEG_UP) {
		/* we answer the caller for the app: 200, or 183 with early
		 * media for an app that must not count as answered */
		if (callm_answer_local(c, &sdp)) {
			sbuf_free(&sdp);
			call_end(c, 500, "Server Internal Error", "system", "cannot answer for the app");
			return;
		}
		if (app->early_media) {
			call_reply(&c->a, c->a.inv_st, 183, "Session Progress", NULL, sdp.p, sdp.len);
			c->a.state = LEG_EARLY;
		} else {
			if (call_send_2xx(&c->a, c->a.inv_st, sdp.p, sdp.len, NULL)) {
				sbuf_free(&sdp);
				call_end(c, 500, "Server Internal Error", "system", "cannot answer caller");
				return;
			}
			c->a.inv_st = NULL;
			c->a.state = LEG_UP;
			c->a.answer_in_ack = c->late_offer;
			c->answered = true;
			c->answer_ms = call_wall_ms();
			c->m->stats.answered++;
			call_session_timer_start(c);
		}
	}
	sbuf_free(&sdp);
	c->app = app;
	c->app_state = NULL;
	c->app_seq++;
	log_debug(CALL_TAG, "call %u %s -> %s: app %s%s%s", c->id, c->caller, c->callee, app->name,
		  arg[0] ? " " : "", arg);
	int err = app->start(as_app(c), arg, &c->app_state);
	if (err && c->app == app) {
		c->app = NULL; /* it never started: no stop */
		log_warn(CALL_TAG, "call %u: app %s did not start: %s", c->id, app->name, strerror(err));
		call_next(c, CALL_NEXT_FAIL, 500, "Server Internal Error", "system");
	}
}

void call_app_stop(struct call *c)
{
	const struct app_desc *app = c->app;
	if (!app)
		return;
	c->app = NULL;
	loop_timer_cancel(&c->app_timer);
	callm_app_echo(c, false);
	callm_app_stop(c);
	app->stop(as_app(c), c->app_state);
	c->app_state = NULL;
}

void call_app_event(struct call *c, const struct app_event *ev)
{
	if (c->app && !c->ending)
		c->app->on_event(as_app(c), c->app_state, ev);
}

/* --- what an app may do ------------------------------------------------------ */

const char *app_caller(const struct app_call *a)
{
	return of_c(a)->caller;
}

const char *app_caller_name(const struct app_call *a)
{
	return of_c(a)->caller_name;
}

const char *app_reason(const struct app_call *a)
{
	return of_c(a)->reason;
}

const char *app_data_dir(const struct app_call *a)
{
	return of_c(a)->m->d.conf->data_dir;
}

const char *app_operator(const struct app_call *a)
{
	return of_c(a)->m->d.conf->vm_operator;
}

const char *app_dialled(const struct app_call *a)
{
	return of_c(a)->callee;
}

uint32_t app_call_id(const struct app_call *a)
{
	return of_c(a)->id;
}

int app_play(struct app_call *a, const char *const *files, size_t nfiles, bool loop, uint32_t tag)
{
	return callm_app_play(of(a), files, nfiles, loop, tag);
}

int app_tone(struct app_call *a, const char *tone, uint32_t tag)
{
	return callm_app_tone(of(a), tone, tag);
}

int app_stop_play(struct app_call *a)
{
	return callm_app_stop(of(a));
}

int app_echo(struct app_call *a, bool on)
{
	return callm_app_echo(of(a), on);
}

void app_prompt(const struct app_call *a, const char *name, char *out, size_t cap)
{
	const struct call *c = of_c(a);
	if (c->m->d.prompts && !prompts_path(c->m->d.prompts, name, callm_app_rate(c), out, cap))
		return;
	const char *dir = c->m->d.sounds_dir ? c->m->d.sounds_dir : ".";
	snprintf(out, cap, "%s/%s.wav", dir, name);
}

int app_timer(struct app_call *a, uint32_t ms)
{
	struct call *c = of(a);
	loop_timer_start(c->m->d.loop, &c->app_timer, ms, on_app_timer, c);
	return 0;
}

void app_hangup(struct app_call *a, uint16_t status, const char *reason)
{
	struct call *c = of(a);
	char cause[64];
	snprintf(cause, sizeof(cause), "app %s", c->app ? c->app->name : "?");
	call_app_stop(c);
	if (c->a.inv_st && status < 300) {
		/* not answered (an early-media app): a final answer must fail */
		status = 480;
		reason = NULL;
	}
	call_end(c, status, reason, "system", cause);
}

int app_goto(struct app_call *a, const char *dest)
{
	struct call *c = of(a);
	struct dest d;
	if (dest_parse(dest, &d, NULL, 0))
		return EINVAL;
	call_app_stop(c);
	call_goto(c, dest);
	return 0;
}

int app_record(struct app_call *a, const char *path, uint32_t tag)
{
	return callm_app_record(of(a), path, tag);
}

int app_record_stop(struct app_call *a)
{
	return callm_app_record_stop(of(a));
}

/* --- the store thread for apps ---------------------------------------------- */

struct app_job {
	struct call_mgr *m;
	uint32_t call_id, seq;
	app_store_h *work;
	app_done_h *done;
	void *arg;
};

static void job_done(void *arg)
{
	struct app_job *j = arg;
	struct call *found = NULL;
	struct list_node *n;
	list_foreach(&j->m->calls, n) {
		struct call *c = container_of(n, struct call, le);
		if (c->id == j->call_id) {
			found = c;
			break;
		}
	}
	if (found && (found->ending || !found->app || found->app_seq != j->seq))
		found = NULL; /* the app that asked is gone */
	j->done(found ? as_app(found) : NULL, j->arg);
	free(j);
}

static void job_run(struct db *db, void *arg)
{
	struct app_job *j = arg;
	j->work(db, j->arg);
	if (loop_post(j->m->d.loop, job_done, j)) {
		j->done(NULL, j->arg);
		free(j);
	}
}

int app_store(struct app_call *a, app_store_h *work, app_done_h *done, void *arg)
{
	struct call *c = of(a);
	struct app_job *j = calloc(1, sizeof(*j));
	if (!j)
		return ENOMEM;
	*j = (struct app_job){ .m = c->m, .call_id = c->id, .seq = c->app_seq, .work = work,
			       .done = done, .arg = arg };
	if (store_post(c->m->d.store, job_run, j)) {
		free(j);
		return ENOMEM;
	}
	return 0;
}

void app_services(const struct app_call *a, struct app_services *out)
{
	const struct call_deps *d = &of_c(a)->m->d;
	if (d->services)
		*out = *d->services;
	else
		memset(out, 0, sizeof(*out));
}

void app_services_mailbox_changed(const struct app_services *s, const char *mailbox)
{
	if (s->mailbox_changed)
		s->mailbox_changed(mailbox, s->arg);
}

void app_services_reload(const struct app_services *s)
{
	if (s->reload)
		s->reload(s->arg);
}

int app_services_mail(const struct app_services *s, const char *to, const char *subject,
		      const char *text, const char *attach_path, app_mail_done_h *done, void *arg)
{
	return s->mail ? s->mail(to, subject, text, attach_path, done, arg, s->arg) : ENOSYS;
}

int app_services_store(const struct app_services *s, app_store_h *work, void *arg)
{
	return s->store ? s->store(work, arg, s->arg) : ENOSYS;
}
