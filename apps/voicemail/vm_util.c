/*
 * What the voicemail apps share (vm.h): prompt sequences, the mailbox
 * folder, and storing a message left, then lighting the lamp and sending
 * the e-mail from the loop even when the caller has hung up by then.
 */
#include "vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../core/base/log.h"
#include "../common/say.h"
#include "../../db/db.h"
#include "../../db/voicemail.h"

void vm_say_init(struct vm_say *s)
{
	s->n = 0;
}

void vm_say_add(struct vm_say *s, const struct app_call *c, const char *name)
{
	if (s->n == VM_MAX_PROMPTS)
		return;
	if (name[0] == '/')
		snprintf(s->path[s->n++], sizeof(s->path[0]), "%s", name);
	else
		app_prompt(c, name, s->path[s->n++], sizeof(s->path[0]));
}

void vm_say_digits(struct vm_say *s, const struct app_call *c, const char *number)
{
	for (const char *p = number; *p; p++) {
		char name[16];
		if (*p >= '0' && *p <= '9') {
			snprintf(name, sizeof(name), "digits/%c", *p);
			vm_say_add(s, c, name);
		}
	}
}

void vm_say_number(struct vm_say *s, const struct app_call *c, unsigned n)
{
	const char *names[SAY_NUMBER_MAX];
	struct say_buf b;
	say_init(&b, names, SAY_NUMBER_MAX);
	if (!say_number(&b, n))
		for (size_t i = 0; i < b.n; i++)
			vm_say_add(s, c, names[i]);
}

void vm_say_when(struct vm_say *s, const struct app_call *c, int64_t when)
{
	const char *names[SAY_DATETIME_MAX];
	struct say_buf b;
	say_init(&b, names, SAY_DATETIME_MAX);
	if (!say_datetime(&b, (time_t)when, time(NULL)))
		for (size_t i = 0; i < b.n; i++)
			vm_say_add(s, c, names[i]);
}

int vm_say_play(struct vm_say *s, struct app_call *c, uint32_t tag)
{
	const char *files[VM_MAX_PROMPTS];
	for (size_t i = 0; i < s->n; i++)
		files[i] = s->path[i];
	return s->n ? app_play(c, files, s->n, false, tag) : EINVAL;
}

void vm_dir(const struct app_call *c, const char *mailbox, char *out, size_t cap)
{
	snprintf(out, cap, "%s/voicemail/%s", app_data_dir(c), mailbox);
}

/* --- a message left ---------------------------------------------------------- */

struct store_job {
	struct vm_saved s;
	struct app_services svc; /* kept for when the call is gone */
};

static void store_work(struct db *db, void *arg)
{
	struct store_job *j = arg;
	struct db_vm_msg m;
	memset(&m, 0, sizeof(m));
	snprintf(m.mailbox, sizeof(m.mailbox), "%s", j->s.mailbox);
	snprintf(m.folder, sizeof(m.folder), "%s", DB_VM_FOLDER_NEW);
	snprintf(m.caller, sizeof(m.caller), "%s", j->s.caller);
	snprintf(m.caller_name, sizeof(m.caller_name), "%s", j->s.caller_name);
	m.received_at = j->s.received_at;
	m.duration_ms = j->s.duration_ms;
	snprintf(m.path, sizeof(m.path), "%s", j->s.path);
	snprintf(m.email_state, sizeof(m.email_state), "%s", j->s.email[0] ? "queued" : "");
	j->s.err = db_vm_msg_add(db, &m);
	j->s.id = m.id;
	if (j->s.err) {
		log_err(VM_TAG, "mailbox %s: cannot store the message from %s: %s", j->s.mailbox,
			j->s.caller, db_errmsg(db));
		unlink(j->s.path);
	}
}

struct mail_job {
	struct app_services svc;
	int64_t id;
	char mailbox[32], path[512];
	bool delete_after, failed;
};

/* on the store thread: the e-mail's outcome, and the message gone when
 * the mailbox wants only the e-mail */
static void mail_state_work(struct db *db, void *arg)
{
	struct mail_job *mj = arg;
	if (!mj->failed && mj->delete_after) {
		if (!db_vm_msg_delete(db, mj->id))
			unlink(mj->path);
	} else {
		(void)db_vm_msg_set_email_state(db, mj->id, mj->failed ? "failed" : "sent");
	}
	free(mj);
}

static void mail_done(int err, void *arg)
{
	struct mail_job *mj = arg;
	mj->failed = err != 0;
	if (err)
		log_warn(VM_TAG, "mailbox %s: the e-mail of message %lld failed", mj->mailbox,
			 (long long)mj->id);
	bool relamp = !err && mj->delete_after;
	struct app_services svc = mj->svc;
	char mailbox[32];
	snprintf(mailbox, sizeof(mailbox), "%s", mj->mailbox);
	if (app_services_store(&svc, mail_state_work, mj))
		free(mj);
	if (relamp)
		app_services_mailbox_changed(&svc, mailbox);
}

static void send_mail(const struct store_job *j)
{
	struct mail_job *mj = calloc(1, sizeof(*mj));
	if (!mj)
		return;
	mj->svc = j->svc;
	mj->id = j->s.id;
	snprintf(mj->mailbox, sizeof(mj->mailbox), "%s", j->s.mailbox);
	snprintf(mj->path, sizeof(mj->path), "%s", j->s.path);
	mj->delete_after = j->s.email_delete;
	const char *name = j->s.caller_name;
	char subject[256], text[512];
	snprintf(subject, sizeof(subject), "New voicemail from %s%s%s%s", name, name[0] ? " <" : "",
		 j->s.caller, name[0] ? ">" : "");
	snprintf(text, sizeof(text),
		 "Mailbox %s has a new message of %u seconds from %s%s%s%s.\r\n"
		 "The recording is attached.\r\n",
		 j->s.mailbox, (j->s.duration_ms + 500) / 1000, name, name[0] ? " <" : "", j->s.caller,
		 name[0] ? ">" : "");
	int err = app_services_mail(&j->svc, j->s.email, subject, text, j->s.path, mail_done, mj);
	if (err) {
		log_warn(VM_TAG, "mailbox %s: cannot send the e-mail of message %lld: %s", mj->mailbox,
			 (long long)mj->id, strerror(err));
		mj->failed = true;
		if (app_services_store(&mj->svc, mail_state_work, mj))
			free(mj);
	}
}

static void store_done(struct app_call *c, void *arg)
{
	(void)c; /* the caller may have hung up: the services were kept */
	struct store_job *j = arg;
	if (!j->s.err) {
		log_info(VM_TAG, "mailbox %s: new message %lld from %s (%u ms)", j->s.mailbox,
			 (long long)j->s.id, j->s.caller, j->s.duration_ms);
		app_services_mailbox_changed(&j->svc, j->s.mailbox);
		if (j->s.email[0])
			send_mail(j);
	}
	free(j);
}

void vm_store_message(struct app_call *c, struct vm_saved *s)
{
	struct store_job *j = calloc(1, sizeof(*j));
	if (!j) {
		log_err(VM_TAG, "mailbox %s: out of memory: message from %s lost", s->mailbox, s->caller);
		return;
	}
	j->s = *s;
	app_services(c, &j->svc);
	if (app_store(c, store_work, store_done, j)) {
		log_err(VM_TAG, "mailbox %s: cannot queue the message from %s", s->mailbox, s->caller);
		free(j);
	}
}
