/*
 * Dialplan applications: what an app (apps/<name>/) may do with the call
 * it was given, and the callbacks it gives in return.
 *
 * A call reaches an app when its destination is "app:NAME[:...]" or a
 * kind the app serves ("vm:1001" for one whose kind is "vm"). The B2BUA
 * answers the caller for it (200, or 183 early media for an app that
 * only announces and must not be billed as answered), then calls start.
 * Apps are state machines on the signalling loop: they never block, they
 * drive media only through the commands below, and they hear back
 * through on_event. An app ends by hanging up or by sending the call on
 * to another destination (app_goto); either way stop follows, once.
 * When the caller hangs up first, stop is called too.
 *
 * Adding an app is a new folder under apps/ and one line in apps/apps.c.
 */
#ifndef HF_APP_H
#define HF_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct app_call; /* the call as an app sees it */

enum app_event_type {
	APP_EV_DTMF,        /* digit: a key the caller pressed */
	APP_EV_PLAY_DONE,   /* tag, err: 0 played to the end, ECANCELED
			     * stopped or replaced, else why it could not
			     * play (ENOENT: no such prompt) */
	APP_EV_RECORD_DONE, /* tag, err, duration_ms */
	APP_EV_TIMER,       /* the app's timer (app_timer) fired */
	APP_EV_TALK,        /* the caller started talking */
	APP_EV_SILENCE,     /* ... and went quiet */
};

struct app_event {
	enum app_event_type type;
	char digit;
	uint32_t tag;
	int err;
	uint32_t duration_ms;
};

struct app_desc {
	const char *name;   /* "echo": reached as app:echo */
	const char *kind;   /* a destination kind it also serves ("vm"), or NULL */
	/* Answer with 183 and early media instead of 200: announcements
	 * that end in a failure status (not in service) are not answered
	 * calls, and a trunk must not bill them. */
	bool early_media;
	/* arg: what follows the app's name or kind ("1001" of vm:1001; ""
	 * for app:echo). Returns 0, or an errno: the call then goes to its
	 * failure destination. *state is the app's, handed back below. */
	int (*start)(struct app_call *c, const char *arg, void **state);
	void (*on_event)(struct app_call *c, void *state, const struct app_event *ev);
	/* The app is done with the call (it hung up, went elsewhere, or the
	 * caller hung up): free state. No app_* call on c after this. */
	void (*stop)(struct app_call *c, void *state);
};

/* Who called (number and display name), the number dialled, and the
 * call's id for log lines. */
const char *app_caller(const struct app_call *c);
const char *app_caller_name(const struct app_call *c);
const char *app_dialled(const struct app_call *c);
uint32_t app_call_id(const struct app_call *c);
/* Why the call came to this app: "" (dialled, or sent by another app),
 * "busy", "noanswer", "unavail" (the extension it rang for failed that
 * way: voicemail picks its greeting by it), "fail". */
const char *app_reason(const struct app_call *c);
/* The data directory (voicemail keeps its files under it). */
const char *app_data_dir(const struct app_call *c);
/* Where a caller who asks for a person (0 in voicemail) goes: a
 * destination, or "" for nowhere ([voicemail] operator). */
const char *app_operator(const struct app_call *c);

/* Media towards the caller. Each returns 0 or an errno (ENOENT when the
 * call's media is gone). Plays replace each other; the end of each comes
 * as APP_EV_PLAY_DONE with the tag given. Files are paths; prompts by
 * name are resolved with app_prompt. */
int app_play(struct app_call *c, const char *const *files, size_t nfiles, bool loop,
	     uint32_t tag);
int app_tone(struct app_call *c, const char *tone, uint32_t tag);
int app_stop_play(struct app_call *c);
/* The caller hears itself (an echo test). */
int app_echo(struct app_call *c, bool on);
/* The path of a prompt by name ("ss-noservice") in the sounds folder;
 * no disk access here: a missing file shows as PLAY_DONE with ENOENT. */
void app_prompt(const struct app_call *c, const char *name, char *out, size_t cap);

/* Records what the caller says to path (16-bit WAV at the call's rate,
 * created 0640, its folder must exist): APP_EV_RECORD_DONE with tag,
 * duration_ms and err when it ends (app_record_stop, or the file failed).
 * A recording still running when the call ends is closed with what was
 * written; no event comes then (the app's stop says it was recording). */
int app_record(struct app_call *c, const char *path, uint32_t tag);
int app_record_stop(struct app_call *c);

/* Work on the database: work(db, arg) runs on the store thread (it may
 * block: SQL, file system), then done(c, arg) on the loop. When the call
 * or this app is gone by then, done gets c == NULL (it only frees arg). */
struct db;
typedef void(app_store_h)(struct db *db, void *arg);
typedef void(app_done_h)(struct app_call *c, void *arg);
int app_store(struct app_call *c, app_store_h *work, app_done_h *done, void *arg);

/* Services of the PBX around the call, copied by value so that work
 * that ends after the caller hung up can still use them (each is a no-op,
 * or ENOSYS, where this daemon has none): the mailbox's lamp changed (MWI
 * NOTIFY to its phones); the configuration changed in the database
 * (reload it); an e-mail with an attachment to send (queued, retried,
 * never blocking; done(err) later on the loop, may be NULL); work for the
 * store thread with no answer (work frees arg). */
typedef void(app_mail_done_h)(int err, void *arg);
struct app_services {
	void (*mailbox_changed)(const char *mailbox, void *arg);
	void (*reload)(void *arg);
	int (*mail)(const char *to, const char *subject, const char *text, const char *attach_path,
		    app_mail_done_h *done, void *done_arg, void *arg);
	int (*store)(app_store_h *work, void *work_arg, void *arg);
	void *arg;
};
void app_services(const struct app_call *c, struct app_services *out);
void app_services_mailbox_changed(const struct app_services *s, const char *mailbox);
void app_services_reload(const struct app_services *s);
int app_services_mail(const struct app_services *s, const char *to, const char *subject,
		      const char *text, const char *attach_path, app_mail_done_h *done, void *arg);
int app_services_store(const struct app_services *s, app_store_h *work, void *arg);

/* One timer per app: APP_EV_TIMER after ms (re-arming replaces it). */
int app_timer(struct app_call *c, uint32_t ms);

/* Ends the call: BYE when answered, else the final status given. */
void app_hangup(struct app_call *c, uint16_t status, const char *reason);
/* Sends the call on to dest ("ext:1001"); EINVAL for a malformed one
 * (the app goes on). The app is stopped before the call moves. */
int app_goto(struct app_call *c, const char *dest);

#endif
