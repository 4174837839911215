/*
 * The worker pool (see jobs.h), built like db/store.c's thread: one mutex
 * and condition variable guard a FIFO of jobs, held only to link or
 * unlink, never while work runs. Finished jobs move to a second FIFO and
 * the home loop is woken through an eventfd when that FIFO goes from
 * empty to not empty, so a burst of completions costs one wake-up.
 */
#include "jobs.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "list.h"
#include "log.h"
#include "loop.h"

#define JOBS_MAX_THREADS 2

struct job {
	struct snode qe; /* in j->todo, then in j->finished */
	jobs_work_h *work;
	jobs_done_h *done;
	void *arg;
};

struct jobs {
	struct loop *home;
	int evfd;
	unsigned nthreads;
	pthread_t threads[JOBS_MAX_THREADS];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct squeue todo;     /* posted, not started; oldest first */
	struct squeue finished; /* work done, done not yet run */
	unsigned pending;       /* queued + running + finished */
	bool stopping;
};

static void *worker_main(void *arg)
{
	struct jobs *j = arg;
	pthread_mutex_lock(&j->mu);
	for (;;) {
		while (squeue_empty(&j->todo) && !j->stopping)
			pthread_cond_wait(&j->cv, &j->mu);
		struct snode *n = squeue_pop(&j->todo);
		if (!n)
			break; /* stopping and drained */
		pthread_mutex_unlock(&j->mu);
		struct job *jb = container_of(n, struct job, qe);
		jb->work(jb->arg);
		pthread_mutex_lock(&j->mu);
		if (squeue_push(&j->finished, &jb->qe)) {
			uint64_t one = 1;
			/* a full counter (never, at 2^64) only delays the wake-up */
			if (write(j->evfd, &one, sizeof(one)) < 0)
				log_warn("jobs", "cannot wake the loop");
		}
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

/* Runs the done of every finished job, on home's thread. */
static void run_finished(struct jobs *j)
{
	struct squeue batch = SQUEUE_INIT;
	pthread_mutex_lock(&j->mu);
	squeue_take(&j->finished, &batch);
	pthread_mutex_unlock(&j->mu);
	struct snode *n;
	while ((n = squeue_pop(&batch))) {
		struct job *jb = container_of(n, struct job, qe);
		if (jb->done)
			jb->done(jb->arg);
		free(jb);
		pthread_mutex_lock(&j->mu);
		j->pending--;
		pthread_mutex_unlock(&j->mu);
	}
}

static void on_wake(int fd, uint32_t events, void *arg)
{
	struct jobs *j = arg;
	uint64_t v;
	(void)events;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("jobs", "eventfd read failed");
	run_finished(j);
}

int jobs_alloc(struct jobs **out, unsigned nthreads, struct loop *home)
{
	if (!out || !home || nthreads < 1 || nthreads > JOBS_MAX_THREADS)
		return EINVAL;
	struct jobs *j = calloc(1, sizeof(*j));
	if (!j)
		return ENOMEM;
	j->home = home;
	j->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (j->evfd < 0) {
		int err = errno;
		free(j);
		return err;
	}
	int err = loop_fd_add(home, j->evfd, EPOLLIN, on_wake, j);
	if (err) {
		close(j->evfd);
		free(j);
		return err;
	}
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	/* signals belong to the signalling loop: workers start with all of
	 * them blocked (a thread inherits the mask in force at creation) */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < nthreads && !err; i++) {
		err = pthread_create(&j->threads[i], NULL, worker_main, j);
		if (!err) {
			pthread_setname_np(j->threads[i], "hf-jobs");
			j->nthreads++;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		jobs_free(j);
		return err;
	}
	*out = j;
	return 0;
}

int jobs_post(struct jobs *j, jobs_work_h *work, jobs_done_h *done, void *arg)
{
	if (!j || !work)
		return EINVAL;
	struct job *jb = malloc(sizeof(*jb));
	if (!jb)
		return ENOMEM;
	jb->work = work;
	jb->done = done;
	jb->arg = arg;
	pthread_mutex_lock(&j->mu);
	if (j->stopping) {
		pthread_mutex_unlock(&j->mu);
		free(jb);
		return ESHUTDOWN;
	}
	squeue_push(&j->todo, &jb->qe);
	j->pending++;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
	return 0;
}

unsigned jobs_pending(struct jobs *j)
{
	if (!j)
		return 0;
	pthread_mutex_lock(&j->mu);
	unsigned n = j->pending;
	pthread_mutex_unlock(&j->mu);
	return n;
}

void jobs_free(struct jobs *j)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->mu);
	j->stopping = true;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	for (unsigned i = 0; i < j->nthreads; i++)
		pthread_join(j->threads[i], NULL);
	/* the workers are gone: what they finished and the loop did not
	 * see yet completes here, so every posted arg gets its done */
	loop_fd_del(j->home, j->evfd);
	close(j->evfd);
	run_finished(j);
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	free(j);
}
