/*
 * The store thread (store.h): one thread, one connection, one FIFO of jobs.
 * The signalling loop posts and returns at once; the mutex is held only to
 * link or unlink a job, never while a job runs, so posting does not wait on
 * the disk. The connection is opened by store_alloc on the caller's thread
 * so a bad path is reported there, and from then on used only by the store
 * thread.
 */
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>

#include "../core/base/list.h"
#include "../core/base/log.h"
#include "db.h"
#include "db_int.h"

struct store_job {
	struct snode qe; /* in store->jobs */
	store_job_h *fn;
	void *arg;
};

struct store {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct squeue jobs; /* oldest first */
	bool stopping;
	struct db *db;
};

/* Jobs are taken in batches: everything queued when the thread wakes runs
 * inside one transaction, so a burst of 2,000 registrations a second costs
 * a handful of commits, not 2,000 (Redis's one batching point before
 * sleeping, applied to SQLite). Jobs in db/ must therefore not open
 * transactions of their own; the ones that do (migrations, first set-up)
 * never run here. */
static void *store_main(void *arg)
{
	struct store *s = arg;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (squeue_empty(&s->jobs) && !s->stopping)
			pthread_cond_wait(&s->cv, &s->mu);
		if (squeue_empty(&s->jobs))
			break; /* stopping and drained */
		struct squeue todo = SQUEUE_INIT;
		squeue_take(&s->jobs, &todo);
		pthread_mutex_unlock(&s->mu);
		bool batch = todo.head != todo.tail;
		if (batch && db_begin(s->db))
			batch = false; /* run them one by one then */
		struct snode *n;
		while ((n = squeue_pop(&todo))) {
			struct store_job *j = container_of(n, struct store_job, qe);
			j->fn(s->db, j->arg);
			free(j);
		}
		if (batch && db_commit(s->db)) {
			log_err("store", "commit failed: %s", db_errmsg(s->db));
			db_rollback(s->db);
		}
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int store_alloc(struct store **out, const char *db_path)
{
	if (!out || !db_path)
		return EINVAL;
	struct store *s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	char why[512];
	int err = db_open_err(&s->db, db_path, why, sizeof(why));
	if (err) {
		log_err("store", "cannot open database: %s", why);
		free(s);
		return err;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);

	/* Signals belong to the signalling loop: the thread starts with all
	 * of them blocked (it inherits the mask in force at creation). */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&s->thread, NULL, store_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
		db_close(s->db);
		free(s);
		return err;
	}
	pthread_setname_np(s->thread, "hf-store");
	*out = s;
	return 0;
}

int store_post(struct store *s, store_job_h *job, void *arg)
{
	if (!s || !job)
		return EINVAL;
	struct store_job *j = malloc(sizeof(*j));
	if (!j)
		return ENOMEM;
	j->fn = job;
	j->arg = arg;
	pthread_mutex_lock(&s->mu);
	/* only the first job wakes the thread: it takes the whole queue */
	if (squeue_push(&s->jobs, &j->qe))
		pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

void store_free(struct store *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	db_close(s->db);
	free(s);
}
