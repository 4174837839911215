/*
 * Leaving a message (destination vm:<mailbox>, where an extension's busy,
 * no-answer and unavailable calls go by default). The greeting is the
 * one the owner recorded for why the call came (busy or unavailable),
 * else "the person at extension 1001 is unavailable / on the phone",
 * then the instructions and the beep; '#' during it skips to the beep,
 * '0' goes to the operator destination when one is set.
 * The caller's words are recorded by the media worker into
 * DATA_DIR/voicemail/<mailbox>/ until '#', hang-up or the maximum length;
 * a message shorter than a second, or in which nobody spoke (the worker's
 * voice detection never fired), is dropped. A kept message is stored (its
 * row, the lamp, the e-mail) even when the caller hung up to end it,
 * which is how most people end one.
 */
#include "vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../core/base/log.h"
#include "../../db/voicemail.h"

enum { GREETING = 1, BEEP, RECORDING, GOODBYE };
enum phase { LOADING, GREETED, RECORDING_NOW, SAVED, LEAVING };

struct deposit {
	char mailbox[32];
	enum phase phase;
	bool busy;                /* the busy greeting, not the unavailable one */
	bool voice;               /* the caller spoke while recording */
	char email[256];          /* the owner's, for the message: "" none */
	uint32_t max_ms;          /* this message's longest length */
	bool email_delete;
	int64_t rec_start_ms;
	char msg_path[512];
	struct vm_say say;
};

/* what the store thread finds out about the mailbox */
struct load_job {
	struct deposit *d;        /* valid only while the app lives (done's c) */
	char mailbox[32], dir[400], greeting[512];
	struct db_mailbox mb;
	int err, new_msgs, old_msgs;
	uint64_t total_ms;        /* recorded in the mailbox already */
	bool has_greeting;
};

static void add_ms(const struct db_vm_msg *m, void *arg)
{
	*(uint64_t *)arg += m->duration_ms;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void load_work(struct db *db, void *arg)
{
	struct load_job *j = arg;
	j->err = db_vm_mailbox_get(db, j->mailbox, &j->mb);
	if (!j->err && !j->mb.enabled)
		j->err = ENOENT;
	if (!j->err)
		j->err = db_vm_counts(db, j->mailbox, &j->new_msgs, &j->old_msgs);
	if (!j->err && db_vm_msg_list(db, j->mailbox, add_ms, &j->total_ms) < 0)
		j->err = EIO;
	if (j->err)
		return;
	/* the folder (DATA_DIR/voicemail exists or is made here too) */
	char parent[512];
	snprintf(parent, sizeof(parent), "%s", j->dir);
	char *slash = strrchr(parent, '/');
	if (slash) {
		*slash = '\0';
		mkdir(parent, 0750);
	}
	if (mkdir(j->dir, 0750) && errno != EEXIST) {
		log_err(VM_TAG, "mailbox %s: cannot make %s: %s", j->mailbox, j->dir, strerror(errno));
		j->err = errno;
		return;
	}
	j->has_greeting = access(j->greeting, R_OK) == 0;
}

static void hang_up(struct app_call *c, struct deposit *d, const char *prompt)
{
	d->phase = LEAVING;
	vm_say_init(&d->say);
	vm_say_add(&d->say, c, prompt);
	if (vm_say_play(&d->say, c, GOODBYE))
		app_hangup(c, 200, NULL);
}

static void load_done(struct app_call *c, void *arg)
{
	struct load_job *j = arg;
	if (!c) { /* the caller hung up during the look-up */
		free(j);
		return;
	}
	struct deposit *d = j->d;
	int limit = j->mb.max_msgs > 0 ? j->mb.max_msgs : DB_VM_MAX_MSGS_DEFAULT;
	uint64_t secs = (uint64_t)(j->mb.max_secs > 0 ? j->mb.max_secs : DB_VM_MAX_SECS_DEFAULT);
	if (j->err) {
		log_info(VM_TAG, "call %u: no mailbox %s: %s", app_call_id(c), j->mailbox,
			 strerror(j->err));
		free(j);
		app_hangup(c, 404, "Not Found");
		return;
	}
	if (j->new_msgs + j->old_msgs >= limit || j->total_ms + VM_MSG_MIN_MS >= secs * 1000u) {
		log_info(VM_TAG, "call %u: mailbox %s is full (%d messages, %llu s)", app_call_id(c),
			 d->mailbox, j->new_msgs + j->old_msgs, (unsigned long long)(j->total_ms / 1000));
		free(j);
		hang_up(c, d, "vm-mailboxfull");
		return;
	}
	d->phase = GREETED;
	/* this message may fill what is left of the mailbox's time */
	uint64_t left = secs * 1000u - j->total_ms;
	d->max_ms = left < VM_MSG_MAX_MS ? (uint32_t)left : VM_MSG_MAX_MS;
	snprintf(d->email, sizeof(d->email), "%s", j->mb.email);
	d->email_delete = j->mb.email_delete;
	vm_say_init(&d->say);
	if (j->has_greeting) {
		vm_say_add(&d->say, c, j->greeting);
	} else {
		vm_say_add(&d->say, c, "vm-theperson");
		vm_say_digits(&d->say, c, d->mailbox);
		vm_say_add(&d->say, c, d->busy ? "vm-isonphone" : "vm-isunavail");
	}
	vm_say_add(&d->say, c, "vm-intro");
	vm_say_add(&d->say, c, "beep");
	free(j);
	if (vm_say_play(&d->say, c, GREETING))
		app_hangup(c, 500, NULL);
}

static void start_recording(struct app_call *c, struct deposit *d)
{
	char dir[400];
	vm_dir(c, d->mailbox, dir, sizeof(dir));
	snprintf(d->msg_path, sizeof(d->msg_path), "%s/msg-%lld-%u.wav", dir, (long long)now_ms(),
		 app_call_id(c));
	d->phase = RECORDING_NOW;
	d->voice = false;
	d->rec_start_ms = now_ms();
	int err = app_record(c, d->msg_path, RECORDING);
	if (err) {
		log_err(VM_TAG, "call %u: cannot record for mailbox %s: %s", app_call_id(c), d->mailbox,
			strerror(err));
		app_hangup(c, 500, NULL);
		return;
	}
	app_timer(c, d->max_ms ? d->max_ms : VM_MSG_MAX_MS);
}

static void unlink_work(struct db *db, void *arg)
{
	(void)db;
	unlink(arg);
	free(arg);
}

/* The recording ended after duration_ms: kept (stored, the lamp, the
 * e-mail) or dropped. c may be about to go (the caller hung up). */
static bool keep_or_drop(struct app_call *c, struct deposit *d, uint32_t duration_ms)
{
	if (duration_ms < VM_MSG_MIN_MS || !d->voice) {
		log_info(VM_TAG, "call %u: message for %s dropped (%u ms%s)", app_call_id(c),
			 d->mailbox, duration_ms, d->voice ? "" : ", nobody spoke");
		struct app_services svc;
		app_services(c, &svc);
		char *p = strdup(d->msg_path);
		if (p && app_services_store(&svc, unlink_work, p))
			free(p);
		return false;
	}
	struct vm_saved s;
	memset(&s, 0, sizeof(s));
	snprintf(s.mailbox, sizeof(s.mailbox), "%s", d->mailbox);
	snprintf(s.caller, sizeof(s.caller), "%s", app_caller(c));
	snprintf(s.caller_name, sizeof(s.caller_name), "%s", app_caller_name(c));
	s.received_at = d->rec_start_ms / 1000;
	s.duration_ms = duration_ms;
	snprintf(s.path, sizeof(s.path), "%s", d->msg_path);
	snprintf(s.email, sizeof(s.email), "%s", d->email);
	s.email_delete = d->email_delete;
	vm_store_message(c, &s);
	return true;
}

static int start(struct app_call *c, const char *arg, void **state)
{
	if (!arg[0])
		return EINVAL;
	struct deposit *d = calloc(1, sizeof(*d));
	struct load_job *j = calloc(1, sizeof(*j));
	if (!d || !j) {
		free(d);
		free(j);
		return ENOMEM;
	}
	*state = d;
	snprintf(d->mailbox, sizeof(d->mailbox), "%s", arg);
	d->busy = !strcmp(app_reason(c), "busy");
	j->d = d;
	snprintf(j->mailbox, sizeof(j->mailbox), "%s", arg);
	vm_dir(c, arg, j->dir, sizeof(j->dir));
	snprintf(j->greeting, sizeof(j->greeting), "%s/greet-%s.wav", j->dir,
		 d->busy ? "busy" : "unavail");
	int err = app_store(c, load_work, load_done, j);
	if (err)
		free(j);
	return err;
}

static void on_event(struct app_call *c, void *state, const struct app_event *ev)
{
	struct deposit *d = state;
	switch (ev->type) {
	case APP_EV_PLAY_DONE:
		if (ev->err == ECANCELED)
			break; /* replaced: its successor reports */
		if (ev->tag == GREETING && d->phase == GREETED && ev->err) {
			/* a prompt is missing (ENOENT): the caller still gets a
			 * beep to speak after, generated, not a file */
			if (app_tone(c, "beep", BEEP))
				start_recording(c, d);
		} else if ((ev->tag == GREETING || ev->tag == BEEP) && d->phase == GREETED) {
			start_recording(c, d);
		}
		else if (ev->tag == GOODBYE)
			app_hangup(c, 200, NULL);
		break;
	case APP_EV_DTMF:
		if (d->phase == GREETED && ev->digit == '0' && app_operator(c)[0]) {
			/* the caller wants a person, not a mailbox */
			log_info(VM_TAG, "call %u: 0 in %s's greeting: to %s", app_call_id(c), d->mailbox,
				 app_operator(c));
			char to[64];
			snprintf(to, sizeof(to), "%s", app_operator(c));
			app_goto(c, to);
			return;
		}
		if (d->phase == GREETED && ev->digit == '#') {
			/* skip the greeting: the beep, then record */
			vm_say_init(&d->say);
			vm_say_add(&d->say, c, "beep");
			vm_say_play(&d->say, c, BEEP);
		} else if (d->phase == RECORDING_NOW && ev->digit == '#') {
			app_record_stop(c);
		}
		break;
	case APP_EV_TALK:
		if (d->phase == RECORDING_NOW)
			d->voice = true;
		break;
	case APP_EV_TIMER:
		if (d->phase == RECORDING_NOW)
			app_record_stop(c); /* the longest message */
		break;
	case APP_EV_RECORD_DONE:
		if (d->phase != RECORDING_NOW || ev->tag != RECORDING)
			break;
		d->phase = SAVED;
		if (ev->err) {
			log_err(VM_TAG, "call %u: recording for %s failed: %s", app_call_id(c), d->mailbox,
				strerror(ev->err));
			hang_up(c, d, "vm-goodbye");
		} else if (keep_or_drop(c, d, ev->duration_ms)) {
			vm_say_init(&d->say);
			vm_say_add(&d->say, c, "vm-msgsaved");
			vm_say_add(&d->say, c, "vm-goodbye");
			d->phase = LEAVING;
			if (vm_say_play(&d->say, c, GOODBYE))
				app_hangup(c, 200, NULL);
		} else {
			hang_up(c, d, "vm-goodbye");
		}
		break;
	case APP_EV_SILENCE:
		break;
	}
}

static void stop(struct app_call *c, void *state)
{
	struct deposit *d = state;
	if (d->phase == RECORDING_NOW) {
		/* the caller hung up to end the message: the worker closes the
		 * file with what it wrote when the call's media goes */
		int64_t ms = now_ms() - d->rec_start_ms;
		keep_or_drop(c, d, ms > 0 ? (uint32_t)ms : 0);
	}
	free(d);
}

const struct app_desc voicemail_app = {
	.name = "voicemail",
	.kind = "vm",
	.start = start,
	.on_event = on_event,
	.stop = stop,
};
