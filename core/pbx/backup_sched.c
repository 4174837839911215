/*
 * Scheduled backups ([backup] schedule, keep, dir, voicemail): one thread
 * of its own ("hf-backup") that wakes at most every 30 s, asks the loop
 * for the settings in effect (pbx_web_conf, the web threads' bounded
 * request, so a change on the settings page applies without a restart),
 * and when the newest backup in the folder is older than the interval
 * writes a new one and deletes the oldest beyond keep (db_backup_to_dir).
 * The schedule follows the files, not a timer: a restart does not take an
 * extra backup, nor skip one. A backup blocks on disk for as long as it
 * takes, which is why it is a thread of its own and not the loop's or the
 * store thread's (whose CDR writes must not wait behind it).
 */
#include "backup_sched.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../db/db.h"
#include "../base/conf.h"
#include "../base/log.h"
#include "pbx_web.h"

#define TAG "backup"
#define WAKE_MAX_S 30
#define RETRY_S 60 /* after a failed backup */

struct backup_sched {
	struct pbx_web *pw;
	char data_dir[256];
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};

static long run_once(struct backup_sched *s, struct conf *c)
{
	long interval = conf_backup_interval(c->backup_schedule);
	if (interval <= 0)
		return WAKE_MAX_S;
	char dir[300];
	if (c->backup_dir[0])
		snprintf(dir, sizeof(dir), "%s", c->backup_dir);
	else
		snprintf(dir, sizeof(dir), "%s/backups", s->data_dir);
	int64_t now = time(NULL), last = db_backup_newest(dir);
	long due = last ? (long)(last + interval - now) : 0;
	if (due > 0)
		return due < WAKE_MAX_S ? due : WAKE_MAX_S;
	struct db_backup_opts o = { .voicemail = c->backup_voicemail };
	char path[800], why[1600];
	int err = db_backup_to_dir(s->data_dir, dir, &o, c->backup_keep, path, sizeof(path), why,
				   sizeof(why));
	if (err) {
		log_err(TAG, "scheduled backup failed: %s (trying again in %d s)", why, RETRY_S);
		return interval < RETRY_S ? interval : RETRY_S;
	}
	log_info(TAG, "scheduled backup written to %s (keeping the newest %u)", path, c->backup_keep);
	return interval < WAKE_MAX_S ? interval : WAKE_MAX_S;
}

static void *sched_main(void *arg)
{
	struct backup_sched *s = arg;
	pthread_setname_np(pthread_self(), "hf-backup");
	struct conf *c = malloc(sizeof(*c));
	for (bool stop = !c; !stop;) {
		/* the loop may not run yet (we start before it): ask again soon */
		long wait_s = 2;
		int err = pbx_web_conf(s->pw, c);
		if (err == ESHUTDOWN)
			break;
		if (!err)
			wait_s = run_once(s, c);
		struct timespec dl;
		clock_gettime(CLOCK_MONOTONIC, &dl);
		dl.tv_sec += wait_s > 0 ? wait_s : 1;
		pthread_mutex_lock(&s->mu);
		while (!s->stop)
			if (pthread_cond_timedwait(&s->cv, &s->mu, &dl) == ETIMEDOUT)
				break;
		stop = s->stop;
		pthread_mutex_unlock(&s->mu);
	}
	free(c);
	return NULL;
}

int backup_sched_start(struct backup_sched **out, struct pbx_web *pw, const char *data_dir)
{
	struct backup_sched *s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	s->pw = pw;
	snprintf(s->data_dir, sizeof(s->data_dir), "%s", data_dir);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int err = pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (err) {
		free(s);
		return err;
	}
	pthread_mutex_init(&s->mu, NULL);
	if ((err = pthread_create(&s->th, NULL, sched_main, s))) {
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
		free(s);
		return err;
	}
	*out = s;
	return 0;
}

void backup_sched_stop(struct backup_sched *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->th, NULL);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
