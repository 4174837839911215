/*
 * Listening to messages, with the keys PBX users know from Asterisk's
 * VoiceMailMain: *97 is one's own mailbox (app:vmmain), *98 any mailbox
 * (app:vmany: its number and '#' first). The PIN and '#' open it; three
 * wrong PINs end the call, and failures count across calls (the store
 * keeps them and locks the mailbox for a while), because voicemail PINs
 * are how toll fraud starts. Then: 1 play (new first, then old, each
 * with when and from whom), during or after a message 4 previous,
 * 5 repeat, 6 next, 7 delete, 8 forward to another mailbox (its number
 * and '#'), 9 save, # back; 0 options (1 unavailable
 * greeting, 2 busy greeting, 3 name, 5 new PIN); * help. Any key cuts a
 * prompt short. Every change lights or clears the lamp.
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
#include "../../core/base/pin.h"
#include "../../db/voicemail.h"

#define VM_LIST_MAX 100
#define VM_DIGIT_TIMEOUT_MS 8000u
#define VM_TRIES 3

enum tag { T_PROMPT = 1, T_MSG, T_GREET, T_BYE };
enum phase {
	P_MAILBOX, P_PIN, P_CHECKING, P_MENU, P_MSG, P_AFTER_MSG, P_OPTIONS, P_GREET_REC,
	P_NEWPIN1, P_NEWPIN2, P_FWD, P_BUSY, P_BYE,
};

struct vmmain {
	enum phase phase;
	char mailbox[32];
	struct vm_digits in;
	int tries;              /* of the current question */
	int wrong_pins;
	struct db_vm_msg *msgs;
	size_t nmsgs, cur;
	int new_msgs, old_msgs;
	char newpin[32];
	char greet_kind[12], greet_tmp[512], greet_path[512];
	struct vm_say say;
};

struct job {
	struct vmmain *v;       /* valid only when done's c is not NULL */
	char mailbox[32], pin[32], folder[8], path[512], dst[512];
	char folder_box[32];     /* forwarding: the mailbox it goes to */
	int64_t id, locked_until;
	int err, new_msgs, old_msgs;
	struct db_vm_msg *msgs;
	size_t nmsgs;
	void (*then)(struct app_call *c, struct vmmain *v, struct job *j);
};

static void say_and_wait(struct app_call *c, struct vmmain *v, enum phase next, uint32_t tag)
{
	v->phase = next;
	v->in.n = 0;
	v->in.buf[0] = '\0';
	if (vm_say_play(&v->say, c, tag))
		app_hangup(c, 200, NULL);
	app_timer(c, VM_DIGIT_TIMEOUT_MS + 20000u); /* the prompt's own length, then the wait */
}

static void bye(struct app_call *c, struct vmmain *v)
{
	v->phase = P_BYE;
	vm_say_init(&v->say);
	vm_say_add(&v->say, c, "vm-goodbye");
	if (vm_say_play(&v->say, c, T_BYE))
		app_hangup(c, 200, NULL);
}

/* --- the store ------------------------------------------------------------------- */

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static void job_done(struct app_call *c, void *arg)
{
	struct job *j = arg;
	if (c && j->then)
		j->then(c, j->v, j);
	free(j->msgs);
	free(j);
}

static int run(struct app_call *c, struct vmmain *v, app_store_h *work,
	       void (*then)(struct app_call *, struct vmmain *, struct job *), struct job *proto)
{
	struct job *j = calloc(1, sizeof(*j));
	if (!j)
		return ENOMEM;
	if (proto)
		*j = *proto;
	j->v = v;
	j->then = then;
	snprintf(j->mailbox, sizeof(j->mailbox), "%s", v->mailbox);
	int err = app_store(c, work, job_done, j);
	if (err)
		free(j);
	return err;
}

static void list_one(const struct db_vm_msg *m, void *arg)
{
	struct job *j = arg;
	if (j->nmsgs == VM_LIST_MAX)
		return;
	if (!j->msgs && !(j->msgs = calloc(VM_LIST_MAX, sizeof(*j->msgs))))
		return;
	j->msgs[j->nmsgs++] = *m;
}

static void w_login(struct db *db, void *arg)
{
	struct job *j = arg;
	j->err = db_vm_pin_check(db, j->mailbox, j->pin, now_s(), &j->locked_until);
	if (!j->err) {
		j->err = db_vm_counts(db, j->mailbox, &j->new_msgs, &j->old_msgs);
		if (!j->err && db_vm_msg_list(db, j->mailbox, list_one, j) < 0)
			j->err = EIO;
	}
}

static void w_move(struct db *db, void *arg)
{
	struct job *j = arg;
	j->err = db_vm_msg_move(db, j->id, j->folder);
}

static void w_delete(struct db *db, void *arg)
{
	struct job *j = arg;
	j->err = db_vm_msg_delete(db, j->id);
	if (!j->err)
		unlink(j->path);
}

/* Forwarding a message: a copy of its file in the other mailbox's folder
 * and a new message there (from the same caller). */
static void w_forward(struct db *db, void *arg)
{
	struct job *j = arg;
	struct db_vm_msg src, m;
	struct db_mailbox mb;
	j->err = db_vm_msg_get(db, j->id, &src);
	if (!j->err)
		j->err = db_vm_mailbox_get(db, j->folder_box, &mb);
	if (!j->err && !mb.enabled)
		j->err = ENOENT;
	if (j->err)
		return;
	m = src;
	snprintf(m.mailbox, sizeof(m.mailbox), "%s", j->folder_box);
	snprintf(m.folder, sizeof(m.folder), "%s", DB_VM_FOLDER_NEW);
	m.email_state[0] = '\0';
	mkdir(j->dst, 0750);
	snprintf(m.path, sizeof(m.path), "%.400s/msg-fwd-%lld.wav", j->dst, (long long)src.id);
	FILE *in = fopen(src.path, "rb"), *out = in ? fopen(m.path, "wb") : NULL;
	char buf[8192];
	size_t n;
	while (in && out && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			j->err = EIO;
	if (!in || !out)
		j->err = errno ? errno : EIO;
	if (in)
		fclose(in);
	if (out && fclose(out))
		j->err = EIO;
	if (!j->err)
		j->err = db_vm_msg_add(db, &m);
	if (j->err)
		unlink(m.path);
}

static void w_pin(struct db *db, void *arg)
{
	struct job *j = arg;
	j->err = db_vm_pin_set(db, j->mailbox, j->pin);
}

static void w_greeting(struct db *db, void *arg)
{
	struct job *j = arg;
	(void)db;
	/* the new greeting replaces the old one only once it is complete */
	j->err = rename(j->path, j->dst) ? errno : 0;
}

/* --- menus ----------------------------------------------------------------------- */

static void main_menu(struct app_call *c, struct vmmain *v, bool counts)
{
	vm_say_init(&v->say);
	if (counts) {
		vm_say_add(&v->say, c, "vm-youhave");
		if (!v->new_msgs && !v->old_msgs) {
			vm_say_add(&v->say, c, "vm-no");
			vm_say_add(&v->say, c, "vm-messages");
		} else {
			if (v->new_msgs) {
				vm_say_number(&v->say, c, (unsigned)v->new_msgs);
				vm_say_add(&v->say, c, "vm-INBOX");
				if (v->old_msgs)
					vm_say_add(&v->say, c, "vm-and");
			}
			if (v->old_msgs) {
				vm_say_number(&v->say, c, (unsigned)v->old_msgs);
				vm_say_add(&v->say, c, "vm-Old");
			}
			vm_say_add(&v->say, c, v->new_msgs + v->old_msgs == 1 ? "vm-message" : "vm-messages");
		}
	}
	if (v->nmsgs) {
		vm_say_add(&v->say, c, "vm-onefor");
		vm_say_add(&v->say, c, "vm-messages");
	}
	vm_say_add(&v->say, c, "vm-press");
	vm_say_add(&v->say, c, "digits/0");
	vm_say_add(&v->say, c, "vm-for");
	vm_say_add(&v->say, c, "vm-options");
	vm_say_add(&v->say, c, "vm-helpexit");
	say_and_wait(c, v, P_MENU, T_PROMPT);
}

static void play_msg(struct app_call *c, struct vmmain *v)
{
	const struct db_vm_msg *m = &v->msgs[v->cur];
	vm_say_init(&v->say);
	vm_say_add(&v->say, c, v->cur == 0 ? "vm-first" : v->cur + 1 == v->nmsgs ? "vm-last" : "vm-next");
	vm_say_add(&v->say, c, "vm-message");
	vm_say_add(&v->say, c, "vm-received");
	vm_say_when(&v->say, c, m->received_at);
	if (m->caller[0]) {
		vm_say_add(&v->say, c, "vm-from-phonenumber");
		vm_say_digits(&v->say, c, m->caller);
	}
	vm_say_add(&v->say, c, m->path);
	say_and_wait(c, v, P_MSG, T_MSG);
}

static void after_msg_help(struct app_call *c, struct vmmain *v)
{
	static const char *const keys[][2] = {
		{ "digits/4", "vm-prev" }, { "digits/5", "vm-repeat" }, { "digits/6", "vm-next" },
		{ "digits/7", "vm-delete" }, { "digits/8", "vm-toforward" },
		{ "digits/9", "vm-savemessage" },
	};
	vm_say_init(&v->say);
	vm_say_add(&v->say, c, "vm-press"); /* "press 4 previous, 5 repeat, ..." */
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		vm_say_add(&v->say, c, keys[i][0]);
		vm_say_add(&v->say, c, keys[i][1]);
	}
	vm_say_add(&v->say, c, "vm-helpexit");
	say_and_wait(c, v, P_AFTER_MSG, T_PROMPT);
}

static void options_menu(struct app_call *c, struct vmmain *v)
{
	vm_say_init(&v->say);
	vm_say_add(&v->say, c, "vm-press");
	vm_say_add(&v->say, c, "digits/1");
	vm_say_add(&v->say, c, "vm-rec-unv");
	vm_say_add(&v->say, c, "vm-press");
	vm_say_add(&v->say, c, "digits/2");
	vm_say_add(&v->say, c, "vm-rec-busy");
	vm_say_add(&v->say, c, "vm-press");
	vm_say_add(&v->say, c, "digits/3");
	vm_say_add(&v->say, c, "vm-rec-name");
	vm_say_add(&v->say, c, "vm-press");
	vm_say_add(&v->say, c, "digits/5");
	vm_say_add(&v->say, c, "vm-newpassword");
	vm_say_add(&v->say, c, "vm-helpexit");
	say_and_wait(c, v, P_OPTIONS, T_PROMPT);
}

static void ask(struct app_call *c, struct vmmain *v, const char *prompt, enum phase p)
{
	vm_say_init(&v->say);
	vm_say_add(&v->say, c, prompt);
	say_and_wait(c, v, p, T_PROMPT);
}

/* --- the mailbox opens ------------------------------------------------------------- */

static void after_login(struct app_call *c, struct vmmain *v, struct job *j)
{
	if (j->err == EBUSY) {
		log_warn(VM_TAG, "call %u from %s: mailbox %s is locked after wrong PINs", app_call_id(c),
			 app_caller(c), v->mailbox);
		bye(c, v);
		return;
	}
	if (j->err == EPERM) {
		log_warn(VM_TAG, "call %u: mailbox %s has no PIN yet (hookflash extension set %s --pin)",
			 app_call_id(c), v->mailbox, v->mailbox);
		bye(c, v);
		return;
	}
	if (j->err == EACCES && j->locked_until)
		log_warn(VM_TAG, "call %u from %s: mailbox %s locked after wrong PINs", app_call_id(c),
			 app_caller(c), v->mailbox);
	if (j->err == EACCES || j->err == ENOENT) {
		v->wrong_pins++;
		log_warn(VM_TAG, "call %u from %s: wrong PIN for mailbox %s (%d)", app_call_id(c),
			 app_caller(c), v->mailbox, v->wrong_pins);
		if (v->wrong_pins >= VM_TRIES) {
			vm_say_init(&v->say);
			vm_say_add(&v->say, c, "vm-incorrect");
			vm_say_add(&v->say, c, "vm-goodbye");
			v->phase = P_BYE;
			if (vm_say_play(&v->say, c, T_BYE))
				app_hangup(c, 200, NULL);
			return;
		}
		vm_say_init(&v->say);
		vm_say_add(&v->say, c, "vm-incorrect");
		vm_say_add(&v->say, c, "vm-password");
		say_and_wait(c, v, P_PIN, T_PROMPT);
		return;
	}
	if (j->err) {
		bye(c, v);
		return;
	}
	free(v->msgs);
	v->msgs = j->msgs;
	j->msgs = NULL;
	v->nmsgs = j->nmsgs;
	v->new_msgs = j->new_msgs;
	v->old_msgs = j->old_msgs;
	v->cur = 0;
	log_info(VM_TAG, "call %u: %s opened mailbox %s (%d new, %d old)", app_call_id(c),
		 app_caller(c), v->mailbox, v->new_msgs, v->old_msgs);
	main_menu(c, v, true);
}

static void after_change(struct app_call *c, struct vmmain *v, struct job *j)
{
	struct app_services svc;
	app_services(c, &svc);
	if (!j->err)
		app_services_mailbox_changed(&svc, v->mailbox);
}

static void after_delete(struct app_call *c, struct vmmain *v, struct job *j)
{
	after_change(c, v, j);
	if (j->err) {
		after_msg_help(c, v);
		return;
	}
	/* the list closes over the deleted message */
	if (!strcmp(v->msgs[v->cur].folder, DB_VM_FOLDER_NEW))
		v->new_msgs--;
	else
		v->old_msgs--;
	memmove(&v->msgs[v->cur], &v->msgs[v->cur + 1], (v->nmsgs - v->cur - 1) * sizeof(*v->msgs));
	v->nmsgs--;
	vm_say_init(&v->say);
	vm_say_add(&v->say, c, "vm-message");
	vm_say_add(&v->say, c, "vm-deleted");
	if (v->cur >= v->nmsgs) {
		vm_say_add(&v->say, c, "vm-nomore");
		v->cur = 0;
		say_and_wait(c, v, P_MENU, T_PROMPT);
	} else {
		say_and_wait(c, v, P_AFTER_MSG, T_PROMPT);
	}
}

static void after_forward(struct app_call *c, struct vmmain *v, struct job *j)
{
	if (!j->err) {
		struct app_services svc;
		app_services(c, &svc);
		app_services_mailbox_changed(&svc, j->folder_box);
	}
	vm_say_init(&v->say);
	vm_say_add(&v->say, c, j->err ? "vm-incorrect-mailbox" : "vm-msgforwarded");
	say_and_wait(c, v, P_AFTER_MSG, T_PROMPT);
}

static void after_pin(struct app_call *c, struct vmmain *v, struct job *j)
{
	vm_say_init(&v->say);
	vm_say_add(&v->say, c, j->err ? "vm-invalid-password" : "vm-passchanged");
	say_and_wait(c, v, P_OPTIONS, T_PROMPT);
}

static void after_greeting(struct app_call *c, struct vmmain *v, struct job *j)
{
	vm_say_init(&v->say);
	vm_say_add(&v->say, c, j->err ? "vm-sorry" : "vm-msgsaved");
	say_and_wait(c, v, P_OPTIONS, T_PROMPT);
}

/* The current message was heard to its end: it is old now. */
static void heard(struct app_call *c, struct vmmain *v)
{
	struct db_vm_msg *m = &v->msgs[v->cur];
	if (strcmp(m->folder, DB_VM_FOLDER_NEW))
		return;
	snprintf(m->folder, sizeof(m->folder), "%s", DB_VM_FOLDER_OLD);
	v->new_msgs--;
	v->old_msgs++;
	struct job j = { .id = m->id };
	snprintf(j.folder, sizeof(j.folder), "%s", DB_VM_FOLDER_OLD);
	run(c, v, w_move, after_change, &j);
}

/* --- keys --------------------------------------------------------------------------- */

static void submitted(struct app_call *c, struct vmmain *v)
{
	switch (v->phase) {
	case P_MAILBOX:
		if (!v->in.n) {
			ask(c, v, "vm-login", P_MAILBOX);
			return;
		}
		snprintf(v->mailbox, sizeof(v->mailbox), "%s", v->in.buf);
		ask(c, v, "vm-password", P_PIN);
		return;
	case P_PIN: {
		struct job j;
		memset(&j, 0, sizeof(j));
		snprintf(j.pin, sizeof(j.pin), "%s", v->in.buf);
		v->phase = P_CHECKING;
		if (run(c, v, w_login, after_login, &j))
			bye(c, v);
		return;
	}
	case P_FWD: {
		if (!v->in.n || !strcmp(v->in.buf, v->mailbox)) {
			ask(c, v, "vm-incorrect-mailbox", P_AFTER_MSG);
			return;
		}
		struct job j;
		memset(&j, 0, sizeof(j));
		j.id = v->msgs[v->cur].id;
		snprintf(j.folder_box, sizeof(j.folder_box), "%s", v->in.buf);
		char dir[400];
		vm_dir(c, v->in.buf, dir, sizeof(dir));
		snprintf(j.dst, sizeof(j.dst), "%s", dir);
		v->phase = P_BUSY;
		if (run(c, v, w_forward, after_forward, &j))
			bye(c, v);
		return;
	}
	case P_NEWPIN1: {
		const char *why = NULL;
		if (pin_policy_check(v->in.buf, v->mailbox, 0, &why)) {
			log_info(VM_TAG, "call %u: new PIN for %s refused: %s", app_call_id(c), v->mailbox, why);
			ask(c, v, "vm-invalid-password", P_OPTIONS);
			return;
		}
		snprintf(v->newpin, sizeof(v->newpin), "%s", v->in.buf);
		ask(c, v, "vm-reenterpassword", P_NEWPIN2);
		return;
	}
	case P_NEWPIN2: {
		if (strcmp(v->newpin, v->in.buf)) {
			ask(c, v, "vm-mismatch", P_OPTIONS);
			return;
		}
		struct job j;
		memset(&j, 0, sizeof(j));
		snprintf(j.pin, sizeof(j.pin), "%s", v->newpin);
		v->phase = P_BUSY;
		if (run(c, v, w_pin, after_pin, &j))
			bye(c, v);
		return;
	}
	default:
		return;
	}
}

static void record_greeting(struct app_call *c, struct vmmain *v, const char *kind)
{
	char dir[400];
	vm_dir(c, v->mailbox, dir, sizeof(dir));
	snprintf(v->greet_kind, sizeof(v->greet_kind), "%s", kind);
	snprintf(v->greet_tmp, sizeof(v->greet_tmp), "%s/greet-%s.tmp.wav", dir, kind);
	snprintf(v->greet_path, sizeof(v->greet_path), "%s/greet-%s.wav", dir, kind);
	vm_say_init(&v->say);
	vm_say_add(&v->say, c, !strcmp(kind, "unavail") ? "vm-rec-unv" : !strcmp(kind, "busy") ? "vm-rec-busy" : "vm-rec-name");
	vm_say_add(&v->say, c, "beep");
	say_and_wait(c, v, P_GREET_REC, T_GREET);
}

static void key(struct app_call *c, struct vmmain *v, char k)
{
	v->tries = 0; /* somebody is there */
	switch (v->phase) {
	case P_MAILBOX:
	case P_PIN:
	case P_FWD:
	case P_NEWPIN1:
	case P_NEWPIN2:
		app_stop_play(c);
		if (k == '#') {
			submitted(c, v);
		} else if (v->in.n + 1 < sizeof(v->in.buf) && k >= '0' && k <= '9') {
			v->in.buf[v->in.n++] = k;
			v->in.buf[v->in.n] = '\0';
			app_timer(c, VM_DIGIT_TIMEOUT_MS);
		}
		return;
	case P_MENU:
		app_stop_play(c);
		if (k == '1' && v->nmsgs) {
			v->cur = 0;
			play_msg(c, v);
		} else if (k == '0') {
			options_menu(c, v);
		} else if (k == '#') {
			bye(c, v);
		} else if (k == '*') {
			main_menu(c, v, false);
		}
		return;
	case P_MSG:
	case P_AFTER_MSG:
		app_stop_play(c);
		if (v->phase == P_MSG && k != '5' && k != '4')
			heard(c, v); /* skipped or acted on: it was heard */
		if (k == '4') {
			if (v->cur)
				v->cur--;
			play_msg(c, v);
		} else if (k == '5') {
			play_msg(c, v);
		} else if (k == '6') {
			if (v->cur + 1 < v->nmsgs) {
				v->cur++;
				play_msg(c, v);
			} else {
				ask(c, v, "vm-nomore", P_AFTER_MSG);
			}
		} else if (k == '7') {
			struct job j = { .id = v->msgs[v->cur].id };
			snprintf(j.path, sizeof(j.path), "%s", v->msgs[v->cur].path);
			v->phase = P_BUSY;
			if (run(c, v, w_delete, after_delete, &j))
				bye(c, v);
		} else if (k == '8') {
			ask(c, v, "vm-forward", P_FWD); /* the mailbox, then '#' */
		} else if (k == '9') {
			ask(c, v, "vm-msgsaved", P_AFTER_MSG);
		} else if (k == '*') {
			after_msg_help(c, v);
		} else if (k == '#') {
			main_menu(c, v, false);
		}
		return;
	case P_OPTIONS:
		app_stop_play(c);
		if (k == '1')
			record_greeting(c, v, "unavail");
		else if (k == '2')
			record_greeting(c, v, "busy");
		else if (k == '3')
			record_greeting(c, v, "name");
		else if (k == '5')
			ask(c, v, "vm-newpassword", P_NEWPIN1);
		else if (k == '*')
			options_menu(c, v);
		else if (k == '#')
			main_menu(c, v, false);
		return;
	case P_GREET_REC:
		if (k == '#')
			app_record_stop(c);
		return;
	default:
		return;
	}
}

/* --- the app ---------------------------------------------------------------------- */

static int start_any(struct app_call *c, bool own, void **state)
{
	struct vmmain *v = calloc(1, sizeof(*v));
	if (!v)
		return ENOMEM;
	*state = v;
	if (own) {
		snprintf(v->mailbox, sizeof(v->mailbox), "%s", app_caller(c));
		ask(c, v, "vm-password", P_PIN);
	} else {
		ask(c, v, "vm-login", P_MAILBOX);
	}
	return 0;
}

static int start_own(struct app_call *c, const char *arg, void **state)
{
	(void)arg;
	return start_any(c, true, state);
}

static int start_other(struct app_call *c, const char *arg, void **state)
{
	(void)arg;
	return start_any(c, false, state);
}

static void on_event(struct app_call *c, void *state, const struct app_event *ev)
{
	struct vmmain *v = state;
	switch (ev->type) {
	case APP_EV_DTMF:
		key(c, v, ev->digit);
		break;
	case APP_EV_PLAY_DONE:
		if (ev->err == ECANCELED)
			break;
		if (ev->tag == T_BYE) {
			app_hangup(c, 200, NULL);
		} else if (ev->tag == T_MSG && v->phase == P_MSG) {
			heard(c, v);
			after_msg_help(c, v);
		} else if (ev->tag == T_GREET && v->phase == P_GREET_REC) {
			if (app_record(c, v->greet_tmp, T_GREET))
				options_menu(c, v);
			else
				app_timer(c, 60000); /* a greeting is short */
		} else {
			app_timer(c, VM_DIGIT_TIMEOUT_MS);
		}
		break;
	case APP_EV_RECORD_DONE:
		if (v->phase == P_GREET_REC) {
			struct job j;
			memset(&j, 0, sizeof(j));
			snprintf(j.path, sizeof(j.path), "%s", v->greet_tmp);
			snprintf(j.dst, sizeof(j.dst), "%s", v->greet_path);
			v->phase = P_BUSY;
			if (ev->err || ev->duration_ms < VM_MSG_MIN_MS || run(c, v, w_greeting, after_greeting, &j))
				options_menu(c, v);
		}
		break;
	case APP_EV_TIMER:
		if (v->phase == P_GREET_REC) {
			app_record_stop(c);
		} else if (++v->tries >= VM_TRIES) {
			bye(c, v); /* a caller who never presses anything */
		} else if (v->phase == P_MAILBOX || v->phase == P_PIN || v->phase == P_NEWPIN1 ||
			   v->phase == P_NEWPIN2 || v->phase == P_FWD) {
			submitted(c, v);
		} else if (v->phase == P_MENU) {
			main_menu(c, v, false);
		} else if (v->phase == P_AFTER_MSG) {
			after_msg_help(c, v);
		} else if (v->phase == P_OPTIONS) {
			options_menu(c, v);
		}
		break;
	default:
		break;
	}
}

static void stop(struct app_call *c, void *state)
{
	(void)c; /* an unfinished greeting stays a .tmp file: the old one is kept */
	struct vmmain *v = state;
	free(v->msgs);
	free(v);
}

const struct app_desc vmmain_app = {
	.name = "vmmain",
	.start = start_own,
	.on_event = on_event,
	.stop = stop,
};

const struct app_desc vmany_app = {
	.name = "vmany",
	.start = start_other,
	.on_event = on_event,
	.stop = stop,
};
