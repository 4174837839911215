/*
 * The mail queue on the signalling loop (see mail.h). Each message is an
 * item that owns a copy of itself; an attempt is a job on the worker pool
 * (jobs.h) calling mail_send with a copy of the settings of that moment,
 * so a reload between two attempts applies to the next one. A failed
 * attempt waits on a loop timer (1 min, 5 min, 30 min) and tries again;
 * after the last it is given up and its done told why. A message that can
 * never go (bad address, missing attachment) is not retried.
 *
 * Lifetime: a job in flight points at its item and the item at the
 * mailer (for the cancel flag it shares), so the mailer is counted: one
 * reference for its owner and one per job in flight. mailer_free raises
 * the cancel flag, frees what is idle and drops the owner's reference;
 * the last job home frees the rest, without calling anyone back.
 */
#include "mail.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/jobs.h"
#include "../base/list.h"
#include "../base/log.h"
#include "../base/loop.h"

#define TAG "mail"

const uint32_t mailer_retry_ms[MAILER_RETRIES] = { 60 * 1000, 5 * 60 * 1000, 30 * 60 * 1000 };

struct mail_item {
	struct list_node le; /* in m->items */
	struct mailer *m;
	struct mail_cfg cfg; /* the settings of this attempt */
	struct mail_msg msg; /* its strings below */
	char *path, *name, *type;
	bool once, running;
	unsigned attempts;
	int err;
	char why[300];
	struct loop_timer retry;
	mailer_done_h *done;
	void *arg;
};

struct mailer {
	struct jobs *jobs;
	struct loop *loop;
	struct mail_cfg cfg;
	atomic_bool cancel;
	struct list items;
	unsigned refs; /* the owner + one per job in flight */
	bool dead;
	char last_err[300];
	int64_t last_when;
};

static void mailer_unref(struct mailer *m)
{
	if (--m->refs == 0)
		free(m);
}

static void item_free(struct mail_item *it)
{
	loop_timer_cancel(&it->retry);
	free(it->msg.text);
	free(it->path);
	free(it->name);
	free(it->type);
	free(it);
}

/* Unlinks it, tells its owner, frees it. */
static void item_finish(struct mail_item *it, int err, const char *why)
{
	struct mailer *m = it->m;
	list_remove(&m->items, &it->le);
	if (it->done)
		it->done(err, why, it->arg);
	item_free(it);
}

/* On a worker. */
static void attempt_work(void *arg)
{
	struct mail_item *it = arg;
	it->why[0] = '\0';
	it->err = mail_send(&it->cfg, &it->msg, it->why, sizeof(it->why));
}

static void attempt_done(void *arg);
static void on_retry(void *arg);

/* Settings copied now, the job posted. */
static int attempt_start(struct mail_item *it)
{
	struct mailer *m = it->m;
	it->cfg = m->cfg;
	it->cfg.cancel = &m->cancel;
	it->attempts++;
	it->running = true;
	m->refs++;
	int err = jobs_post(m->jobs, attempt_work, attempt_done, it);
	if (err) {
		it->running = false;
		it->attempts--;
		m->refs--;
	}
	return err;
}

/* Can another attempt succeed where this one failed? */
static bool permanent(int err)
{
	return err == EINVAL || err == ENOENT || err == ECANCELED;
}

static void attempt_failed(struct mail_item *it, int err, const char *why)
{
	struct mailer *m = it->m;
	snprintf(m->last_err, sizeof(m->last_err), "%s", why);
	m->last_when = (int64_t)time(NULL);
	if (it->once || permanent(err) || it->attempts > MAILER_RETRIES) {
		log_err(TAG, "mail to %s not sent (%u attempt%s): %s", it->msg.to, it->attempts,
			it->attempts == 1 ? "" : "s", why);
		item_finish(it, err, why);
		return;
	}
	uint32_t wait = mailer_retry_ms[it->attempts - 1];
	log_warn(TAG, "mail to %s failed (attempt %u): %s; trying again in %u s", it->msg.to,
		 it->attempts, why, wait / 1000);
	loop_timer_start(m->loop, &it->retry, wait, on_retry, it);
}

/* On the loop, when a worker is done with it. */
static void attempt_done(void *arg)
{
	struct mail_item *it = arg;
	struct mailer *m = it->m;
	it->running = false;
	if (m->dead) {
		item_free(it); /* unlinked by mailer_free */
		mailer_unref(m);
		return;
	}
	m->refs--;
	if (!it->err) {
		log_info(TAG, "mail to %s sent: %s", it->msg.to, it->msg.subject);
		m->last_err[0] = '\0';
		m->last_when = 0;
		item_finish(it, 0, "");
		return;
	}
	attempt_failed(it, it->err, it->why[0] ? it->why : strerror(it->err));
}

static void on_retry(void *arg)
{
	struct mail_item *it = arg;
	int err = attempt_start(it);
	if (err) {
		char why[96];
		snprintf(why, sizeof(why), "cannot start a send: %s", strerror(err));
		it->attempts++; /* counts as one, so retries still end */
		attempt_failed(it, err, why);
	}
}

static char *dup_or_null(const char *s, bool *oom)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

static int enqueue(struct mailer *m, const struct mail_msg *msg, bool once, mailer_done_h *done,
		   void *arg)
{
	if (!m || !msg)
		return EINVAL;
	if (!mail_addr_valid(msg->to) || strpbrk(msg->subject, "\r\n"))
		return EINVAL;
	if (!m->cfg.smtp_url[0])
		return ENOTCONN;
	struct mail_item *it = calloc(1, sizeof(*it));
	if (!it)
		return ENOMEM;
	bool oom = false;
	it->m = m;
	it->msg = *msg;
	it->msg.text = dup_or_null(msg->text ? msg->text : "", &oom);
	it->path = dup_or_null(msg->attach_path, &oom);
	it->name = dup_or_null(msg->attach_name, &oom);
	it->type = dup_or_null(msg->attach_type, &oom);
	it->msg.attach_path = it->path;
	it->msg.attach_name = it->name;
	it->msg.attach_type = it->type;
	it->once = once;
	it->done = done;
	it->arg = arg;
	loop_timer_init(&it->retry);
	int err = oom ? ENOMEM : attempt_start(it);
	if (err) {
		item_free(it);
		return err;
	}
	list_push_back(&m->items, &it->le);
	return 0;
}

int mailer_send(struct mailer *m, const struct mail_msg *msg, mailer_done_h *done, void *arg)
{
	return enqueue(m, msg, false, done, arg);
}

int mailer_send_once(struct mailer *m, const struct mail_msg *msg, mailer_done_h *done,
		     void *arg)
{
	return enqueue(m, msg, true, done, arg);
}

int mailer_alloc(struct mailer **out, struct jobs *jobs, struct loop *loop,
		 const struct mail_cfg *cfg)
{
	if (!out || !jobs || !loop || !cfg)
		return EINVAL;
	struct mailer *m = calloc(1, sizeof(*m));
	if (!m)
		return ENOMEM;
	m->jobs = jobs;
	m->loop = loop;
	m->refs = 1;
	atomic_init(&m->cancel, false);
	mailer_configure(m, cfg);
	*out = m;
	return 0;
}

void mailer_configure(struct mailer *m, const struct mail_cfg *cfg)
{
	if (!m || !cfg)
		return;
	m->cfg = *cfg;
	m->cfg.cancel = NULL;
}

const char *mailer_last_error(const struct mailer *m, int64_t *when)
{
	if (when)
		*when = m ? m->last_when : 0;
	return m ? m->last_err : "";
}

unsigned mailer_pending(const struct mailer *m)
{
	return m ? (unsigned)list_count(&m->items) : 0;
}

void mailer_free(struct mailer *m)
{
	if (!m)
		return;
	m->dead = true;
	atomic_store(&m->cancel, true);
	struct list_node *n;
	unsigned dropped = 0;
	while ((n = list_pop_front(&m->items))) {
		struct mail_item *it = container_of(n, struct mail_item, le);
		dropped++;
		if (!it->running)
			item_free(it); /* a running one is freed by attempt_done */
	}
	if (dropped)
		log_warn(TAG, "%u mail(s) not sent: shutting down", dropped);
	mailer_unref(m);
}
