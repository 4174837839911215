/*
 * The glue between the web threads and the signalling loop (pbx_web.h).
 * A web thread fills a job, posts it with loop_post and sleeps on a
 * condition variable with a deadline; the loop runs the job (copying live
 * state into the job's own buffers, since the registrar's strings are
 * only valid on the loop) and marks it done. Whoever finishes last frees
 * the job: the waiter when the answer came in time, the loop when the
 * waiter gave up. One mutex for all jobs is plenty: it is taken a few
 * times per web request, never on a SIP or media path.
 */
#include "pbx_web.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/list.h"
#include "../base/log.h"
#include "../base/loop.h"
#include "../call/call.h"
#include "../mail/mail.h"
#include "../reg/registrar.h"
#include "../sip/ban.h"
#include "backup_sched.h"
#include "pbx.h"

enum job_kind { J_STATUS, J_REGS, J_CALLS, J_BANS, J_FAILURES, J_HANGUP, J_UNBAN, J_RELOAD, J_CONF, J_RECONF,
		J_MAIL_TEST, J_MAIL_STATUS, J_MWI };

struct job {
	struct list_node le; /* in pw->jobs: every job not yet freed */
	struct pbx_web *pw;
	enum job_kind kind;
	bool done, abandoned;
	int err;
	char key[256]; /* extension filter, ban address or e-mail address */
	char why[300]; /* J_MAIL_TEST: why it failed */
	struct pbx_web_mail mail;
	uint32_t id;
	struct pbx_status status;
	struct conf conf;
	void *items; /* result list, items of item_size bytes */
	size_t n, cap, item_size;
};

struct pbx_web {
	struct pbx *p;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* broadcast when any job is done, or on shutdown */
	bool stopping;
	struct list jobs; /* struct job, newest first */
	struct backup_sched *sched; /* scheduled backups, a client of ours */
};

static void job_free(struct job *j)
{
	free(j->items);
	free(j);
}

/* Under pw->mu. */
static void job_link(struct pbx_web *pw, struct job *j)
{
	list_push_front(&pw->jobs, &j->le);
}

static void job_unlink(struct pbx_web *pw, struct job *j)
{
	list_remove(&pw->jobs, &j->le);
}

/* On the loop: grows the result list; ENOMEM is reported to the waiter. */
static void *job_item(struct job *j)
{
	if (j->n == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 16;
		void *p = realloc(j->items, cap * j->item_size);
		if (!p) {
			j->err = ENOMEM;
			return NULL;
		}
		j->items = p;
		j->cap = cap;
	}
	void *it = (char *)j->items + j->n++ * j->item_size;
	memset(it, 0, j->item_size);
	return it;
}

/* On the loop, when the answer is ready. */
static void job_complete(struct job *j)
{
	struct pbx_web *pw = j->pw;
	pthread_mutex_lock(&pw->mu);
	if (j->abandoned) {
		job_unlink(pw, j);
		pthread_mutex_unlock(&pw->mu);
		job_free(j);
		return;
	}
	j->done = true;
	pthread_cond_broadcast(&pw->cv);
	pthread_mutex_unlock(&pw->mu);
}

/* --- the work, on the loop --------------------------------------------- */

static void on_reg(const struct reg_info *ri, void *arg)
{
	struct job *j = arg;
	if (j->key[0] && strcmp(j->key, ri->ext))
		return;
	struct pbx_web_reg *r = job_item(j);
	if (!r)
		return;
	snprintf(r->ext, sizeof(r->ext), "%s", ri->ext);
	snprintf(r->contact, sizeof(r->contact), "%s", ri->contact ? ri->contact : "");
	snprintf(r->source, sizeof(r->source), "%s", ri->source);
	r->expires_in = ri->expires_in;
	snprintf(r->user_agent, sizeof(r->user_agent), "%s", ri->user_agent ? ri->user_agent : "");
}

static void on_call(const struct call_info *ci, void *arg)
{
	struct job *j = arg;
	if (j->key[0] && strcmp(j->key, ci->caller) && strcmp(j->key, ci->callee))
		return;
	struct pbx_web_call *c = job_item(j);
	if (!c)
		return;
	c->id = ci->id;
	snprintf(c->caller, sizeof(c->caller), "%s", ci->caller);
	snprintf(c->callee, sizeof(c->callee), "%s", ci->callee);
	snprintf(c->state, sizeof(c->state), "%s", ci->state);
	c->duration_s = ci->duration_s;
	snprintf(c->codec, sizeof(c->codec), "%s", ci->codec ? ci->codec : "");
}

static void on_ban(const struct ban_entry_info *e, void *arg)
{
	struct job *j = arg;
	struct pbx_web_ban *b = job_item(j);
	if (!b)
		return;
	snprintf(b->addr, sizeof(b->addr), "%s", e->addr);
	snprintf(b->user, sizeof(b->user), "%s", e->user);
	b->user_only = e->user_only;
	b->failures = e->failures;
	b->banned_for_s = e->banned_for_s;
	int64_t now = (int64_t)time(NULL);
	b->since = now - e->banned_since_s;
	b->until = now + e->banned_for_s;
	if (e->user_only)
		snprintf(b->reason, sizeof(b->reason),
			 "%u failed logins as %s; only %s is refused (the address has working phones)",
			 e->failures, e->user, e->user);
	else if (e->user[0])
		snprintf(b->reason, sizeof(b->reason), "%u failed logins, the last as %s", e->failures,
			 e->user);
	else
		snprintf(b->reason, sizeof(b->reason), "failed logins");
}

static void on_failure(const struct authn_failure *f, void *arg)
{
	struct job *j = arg;
	struct pbx_web_auth_failure *o = job_item(j);
	if (!o)
		return;
	o->time_ms = f->time_ms;
	snprintf(o->addr, sizeof(o->addr), "%s", f->addr);
	snprintf(o->user, sizeof(o->user), "%s", f->user);
	snprintf(o->reason, sizeof(o->reason), "%s", f->reason);
}

static void on_reloaded(int err, void *arg)
{
	struct job *j = arg;
	j->err = err;
	job_complete(j);
}

static void on_mailed(int err, const char *why, void *arg)
{
	struct job *j = arg;
	j->err = err;
	snprintf(j->why, sizeof(j->why), "%s", why ? why : "");
	job_complete(j);
}

static void job_run(void *arg)
{
	struct job *j = arg;
	struct pbx_web *pw = j->pw;
	struct pbx *p = pw->p;
	pthread_mutex_lock(&pw->mu);
	/* nobody waits: do not bother (a lamp's news is never waited for) */
	bool skip = j->abandoned && j->kind != J_MWI;
	pthread_mutex_unlock(&pw->mu);
	if (!skip) {
		switch (j->kind) {
		case J_STATUS:
			pbx_status_fill(p, &j->status);
			break;
		case J_REGS:
			registrar_each(p->reg, on_reg, j);
			break;
		case J_CALLS:
			call_each(p->calls, on_call, j);
			break;
		case J_BANS:
			ban_list_each(p->bans, loop_now(p->loop), false, on_ban, j);
			break;
		case J_FAILURES:
			authn_failures_each(&p->authn, on_failure, j);
			break;
		case J_HANGUP:
			j->err = call_hangup(p->calls, j->id) ? ENOENT : 0;
			if (!j->err)
				log_info("web", "call %u hung up by the administrator", j->id);
			break;
		case J_UNBAN:
			j->err = ban_lift(p->bans, j->key) ? ENOENT : 0;
			if (!j->err)
				log_info("web", "ban on %s lifted by the administrator", j->key);
			break;
		case J_RELOAD:
			/* answers from on_reloaded once the snapshot is live */
			pbx_reload(p, on_reloaded, j);
			return;
		case J_CONF:
			j->conf = p->conf;
			break;
		case J_RECONF:
			pbx_reconfigure(p, on_reloaded, j);
			return;
		case J_MAIL_TEST:
			/* answers from on_mailed with the SMTP outcome */
			j->err = pbx_email_test(p, j->key, NULL, on_mailed, j);
			if (!j->err)
				return;
			break;
		case J_MAIL_STATUS:
			j->mail.configured = p->conf.smtp_url[0] != '\0';
			j->mail.pending = mailer_pending(p->mailer);
			snprintf(j->mail.last_error, sizeof(j->mail.last_error), "%s",
				 mailer_last_error(p->mailer, &j->mail.last_error_at));
			break;
		case J_MWI:
			log_debug("web", "mailbox %s changed from the web%s", j->key,
				  p->mwi_changed ? "" : " (no MWI hook)");
			if (p->mwi_changed)
				p->mwi_changed(p, j->key);
			break;
		}
	}
	job_complete(j);
}

/* --- the waiting, on a web thread --------------------------------------- */

static struct job *job_new(struct pbx_web *pw, enum job_kind kind, size_t item_size)
{
	struct job *j = calloc(1, sizeof(*j));
	if (j) {
		j->pw = pw;
		j->kind = kind;
		j->item_size = item_size;
	}
	return j;
}

/* Hands j to the loop (job_run). 0, or ESHUTDOWN / ENOMEM with j freed. */
static int job_post(struct pbx_web *pw, struct job *j)
{
	pthread_mutex_lock(&pw->mu);
	if (pw->stopping) {
		pthread_mutex_unlock(&pw->mu);
		job_free(j);
		return ESHUTDOWN;
	}
	job_link(pw, j);
	pthread_mutex_unlock(&pw->mu);
	if (loop_post(pw->p->loop, job_run, j)) {
		pthread_mutex_lock(&pw->mu);
		job_unlink(pw, j);
		pthread_mutex_unlock(&pw->mu);
		job_free(j);
		return ENOMEM;
	}
	return 0;
}

/* Posts j and waits up to wait_ms. Returns j, done, for the caller to read
 * and free; or NULL with *err set, j then belonging to the loop (or freed
 * already). */
static struct job *job_submit(struct pbx_web *pw, struct job *j, unsigned wait_ms, int *err)
{
	if (!j) {
		*err = ENOMEM;
		return NULL;
	}
	if ((*err = job_post(pw, j)))
		return NULL;
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += wait_ms / 1000;
	dl.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&pw->mu);
	while (!j->done && !pw->stopping)
		if (pthread_cond_timedwait(&pw->cv, &pw->mu, &dl) == ETIMEDOUT)
			break;
	if (j->done) {
		job_unlink(pw, j);
		pthread_mutex_unlock(&pw->mu);
		*err = j->err;
		return j;
	}
	j->abandoned = true;
	*err = pw->stopping ? ESHUTDOWN : ETIMEDOUT;
	pthread_mutex_unlock(&pw->mu);
	if (*err == ETIMEDOUT)
		log_warn("web", "the signalling loop did not answer within %u ms", wait_ms);
	return NULL;
}

/* Runs a list job and hands its items to the caller. */
static int run_list(struct pbx_web *pw, enum job_kind kind, const char *ext, size_t item_size,
		    void **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct job *j = job_new(pw, kind, item_size);
	if (j && ext)
		snprintf(j->key, sizeof(j->key), "%s", ext);
	int err;
	j = job_submit(pw, j, PBX_WEB_WAIT_MS, &err);
	if (!j)
		return err;
	if (!err) {
		*out = j->items;
		*n = j->n;
		j->items = NULL;
	}
	job_free(j);
	return err;
}

int pbx_web_status(struct pbx_web *pw, struct pbx_status *out)
{
	int err;
	struct job *j = job_submit(pw, job_new(pw, J_STATUS, 0), PBX_WEB_WAIT_MS, &err);
	if (!j)
		return err;
	*out = j->status;
	job_free(j);
	return err;
}

int pbx_web_registrations(struct pbx_web *pw, const char *ext, struct pbx_web_reg **out,
			  size_t *n)
{
	return run_list(pw, J_REGS, ext, sizeof(**out), (void **)out, n);
}

int pbx_web_calls(struct pbx_web *pw, const char *ext, struct pbx_web_call **out, size_t *n)
{
	return run_list(pw, J_CALLS, ext, sizeof(**out), (void **)out, n);
}

int pbx_web_bans(struct pbx_web *pw, struct pbx_web_ban **out, size_t *n)
{
	return run_list(pw, J_BANS, NULL, sizeof(**out), (void **)out, n);
}

int pbx_web_auth_failures(struct pbx_web *pw, struct pbx_web_auth_failure **out, size_t *n)
{
	return run_list(pw, J_FAILURES, NULL, sizeof(**out), (void **)out, n);
}

/* A job whose only answer is its error. */
static int run_simple(struct pbx_web *pw, struct job *j, unsigned wait_ms)
{
	int err;
	j = job_submit(pw, j, wait_ms, &err);
	if (j)
		job_free(j);
	return err;
}

int pbx_web_hangup(struct pbx_web *pw, uint32_t call_id)
{
	struct job *j = job_new(pw, J_HANGUP, 0);
	if (j)
		j->id = call_id;
	return run_simple(pw, j, PBX_WEB_WAIT_MS);
}

int pbx_web_unban(struct pbx_web *pw, const char *addr)
{
	struct job *j = job_new(pw, J_UNBAN, 0);
	if (j)
		snprintf(j->key, sizeof(j->key), "%s", addr);
	return run_simple(pw, j, PBX_WEB_WAIT_MS);
}

int pbx_web_reload(struct pbx_web *pw)
{
	return run_simple(pw, job_new(pw, J_RELOAD, 0), PBX_WEB_RELOAD_WAIT_MS);
}

int pbx_web_conf(struct pbx_web *pw, struct conf *out)
{
	int err;
	struct job *j = job_submit(pw, job_new(pw, J_CONF, 0), PBX_WEB_WAIT_MS, &err);
	if (!j)
		return err;
	*out = j->conf;
	job_free(j);
	return err;
}

int pbx_web_reconfigure(struct pbx_web *pw)
{
	return run_simple(pw, job_new(pw, J_RECONF, 0), PBX_WEB_RELOAD_WAIT_MS);
}

int pbx_web_email_test(struct pbx_web *pw, const char *to, char *why, size_t cap)
{
	if (why && cap)
		why[0] = '\0';
	struct job *j = job_new(pw, J_MAIL_TEST, 0);
	if (j && snprintf(j->key, sizeof(j->key), "%s", to) >= (int)sizeof(j->key)) {
		job_free(j);
		return EINVAL;
	}
	int err;
	j = job_submit(pw, j, PBX_WEB_MAIL_WAIT_MS, &err);
	if (!j)
		return err;
	if (why && cap)
		snprintf(why, cap, "%s", j->why);
	job_free(j);
	return err;
}

int pbx_web_email_status(struct pbx_web *pw, struct pbx_web_mail *out)
{
	int err;
	struct job *j = job_submit(pw, job_new(pw, J_MAIL_STATUS, 0), PBX_WEB_WAIT_MS, &err);
	if (!j)
		return err;
	*out = j->mail;
	job_free(j);
	return err;
}

/* Fire and forget: a job nobody waits for (abandoned from the start, so
 * the loop frees it once run; one the loop never runs, stopping, is
 * freed by pbx_web_free with the rest). */
int pbx_web_mwi_changed(struct pbx_web *pw, const char *mailbox)
{
	struct job *j = job_new(pw, J_MWI, 0);
	if (!j)
		return ENOMEM;
	snprintf(j->key, sizeof(j->key), "%s", mailbox);
	j->abandoned = true;
	return job_post(pw, j);
}

/* --- lifecycle ----------------------------------------------------------- */

int pbx_web_alloc(struct pbx_web **out, struct pbx *p)
{
	struct pbx_web *pw = calloc(1, sizeof(*pw));
	if (!pw)
		return ENOMEM;
	pw->p = p;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	/* deadlines on the monotonic clock: a wall clock step must not make
	 * a web thread wait for hours */
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int err = pthread_cond_init(&pw->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (err) {
		free(pw);
		return err;
	}
	pthread_mutex_init(&pw->mu, NULL);
	err = backup_sched_start(&pw->sched, pw, p->conf.data_dir);
	if (err) {
		pthread_cond_destroy(&pw->cv);
		pthread_mutex_destroy(&pw->mu);
		free(pw);
		return err;
	}
	*out = pw;
	return 0;
}

void pbx_web_shutdown(struct pbx_web *pw)
{
	if (!pw)
		return;
	pthread_mutex_lock(&pw->mu);
	pw->stopping = true;
	pthread_cond_broadcast(&pw->cv);
	pthread_mutex_unlock(&pw->mu);
}

void pbx_web_free(struct pbx_web *pw)
{
	if (!pw)
		return;
	/* the backup thread waits on us: wake it (ESHUTDOWN) and join it */
	pbx_web_shutdown(pw);
	backup_sched_stop(pw->sched);
	/* What is left was abandoned by its waiter and never run: the loop
	 * has stopped and drops its queue without looking at the items. */
	struct list_node *n;
	while ((n = list_pop_front(&pw->jobs)))
		job_free(container_of(n, struct job, le));
	pthread_cond_destroy(&pw->cv);
	pthread_mutex_destroy(&pw->mu);
	free(pw);
}

size_t pbx_web_logs(uint64_t since, int max_level, struct log_line *out, size_t cap,
		    uint64_t *next)
{
	if (max_level < LOG_ERROR)
		max_level = LOG_ERROR;
	if (max_level > LOG_DEBUG)
		max_level = LOG_DEBUG;
	return log_ring_read(since, (enum log_level)max_level, out, cap, next);
}
