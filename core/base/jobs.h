/*
 * A tiny pool of worker threads (one or two) for blocking work the
 * signalling loop must never do itself: sending e-mail over SMTP, later
 * DNS or HTTP calls. The loop posts work(arg); a worker runs it; then
 * done(arg) runs back on the loop that made the pool (its "home"), where
 * the result is used (nginx's thread pool, whose completions run on the
 * event loop). Work runs in the order posted when there is one thread;
 * with two, two jobs may run at once, so work functions share nothing
 * but their arg.
 *
 * Completions come home through an eventfd the home loop watches, not
 * through loop_post: jobs_free can then take back completions that never
 * ran (the loop may already have stopped) and run their done itself, so
 * every arg posted gets exactly one done and nothing leaks at shutdown.
 */
#ifndef HF_JOBS_H
#define HF_JOBS_H

struct jobs;
struct loop;

typedef void(jobs_work_h)(void *arg);
typedef void(jobs_done_h)(void *arg);

/* Starts nthreads (1 or 2) workers whose completions run on home. Call on
 * home's thread. EINVAL, ENOMEM, or pthread_create's error. */
int jobs_alloc(struct jobs **out, unsigned nthreads, struct loop *home);

/* Any thread: queues work(arg) for a worker, then done(arg) (may be NULL)
 * on the home loop. EINVAL, ENOMEM, ESHUTDOWN after jobs_free began; on
 * an error neither runs and arg stays the caller's. */
int jobs_post(struct jobs *j, jobs_work_h *work, jobs_done_h *done, void *arg);

/* Jobs queued or running right now (for tests and status). */
unsigned jobs_pending(struct jobs *j);

/* On home's thread: runs every job still queued (work that blocks makes
 * this wait for it: give blocking work a deadline), stops the workers,
 * then runs the done of every job not yet completed on the loop. */
void jobs_free(struct jobs *j);

#endif
