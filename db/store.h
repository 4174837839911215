/*
 * The store thread: the single writer of registrations (and later CDRs and
 * events) on behalf of the signalling loop, which must never wait on disk.
 * The loop posts a job; the store thread runs it with its own connection.
 * Jobs run in the order posted. Errors are logged by the job.
 */
#ifndef HF_STORE_H
#define HF_STORE_H

struct db;
struct store;

typedef void(store_job_h)(struct db *db, void *arg);

int store_alloc(struct store **out, const char *db_path);
/* Queues job(db, arg) for the store thread; the job owns arg. ENOMEM. */
int store_post(struct store *s, store_job_h *job, void *arg);
/* Runs every queued job, then stops the thread and closes the database. */
void store_free(struct store *s);

#endif
