/*
 * The event loop: one per thread that owns state (the signalling loop, each
 * media worker). epoll for file descriptors, a binary heap of deadlines for
 * timers (tens of thousands of SIP transaction timers stay O(log n)), and a
 * command queue woken by an eventfd through which other threads hand work
 * to the owner (loop_post). Nothing here blocks except epoll_wait.
 *
 * Time is monotonic milliseconds, read once per iteration and cached so all
 * handlers in one iteration agree on "now". Tests can drive the clock by
 * hand with loop_advance() instead of sleeping.
 */
#ifndef HF_LOOP_H
#define HF_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;

typedef void(loop_fd_h)(int fd, uint32_t events, void *arg);
typedef void(loop_timer_h)(void *arg);
typedef void(loop_work_h)(void *arg);

/* A timer lives inside its owner (intrusive); the loop only points at it.
 * Zero-initialised or loop_timer_init()ed timers are idle. */
struct loop_timer {
	uint64_t deadline;
	size_t idx; /* position in the heap + 1; 0 when idle */
	loop_timer_h *h;
	void *arg;
	struct loop *loop;
};

int loop_alloc(struct loop **out);
/* Frees the loop; pending posted work is dropped, timers are forgotten. */
void loop_free(struct loop *l);

/* Watches fd for events (EPOLLIN, EPOLLOUT ...). One watcher per fd. */
int loop_fd_add(struct loop *l, int fd, uint32_t events, loop_fd_h *h, void *arg);
int loop_fd_mod(struct loop *l, int fd, uint32_t events);
/* Stops watching fd. Safe from inside any handler, also for events of fd
 * already fetched in this iteration: they are not delivered. */
void loop_fd_del(struct loop *l, int fd);

static inline void loop_timer_init(struct loop_timer *t)
{
	t->idx = 0;
	t->loop = NULL;
}
/* (Re)starts t to fire once after ms milliseconds. */
int loop_timer_start(struct loop *l, struct loop_timer *t, uint64_t ms,
		     loop_timer_h *h, void *arg);
/* Cancels t if active; safe on idle timers. */
void loop_timer_cancel(struct loop_timer *t);
static inline bool loop_timer_active(const struct loop_timer *t)
{
	return t->idx != 0;
}
size_t loop_timer_count(const struct loop *l);

/* Current loop time in monotonic milliseconds. */
uint64_t loop_now(const struct loop *l);

/* Thread-safe: runs fn(arg) on the loop's thread at its next iteration.
 * Returns ENOMEM when the item cannot be queued (arg is then the caller's). */
int loop_post(struct loop *l, loop_work_h *fn, void *arg);

/* Interrupt coalescing for loops that serve many small packets (media
 * workers): after an iteration that handled I/O, loop_run() sleeps this
 * many microseconds so the next epoll_wait returns a batch instead of one
 * packet per wake-up. Costs up to that much latency; 0 (default) is off. */
void loop_set_pace(struct loop *l, unsigned usec);

/* Registers fn(arg) to run at the end of every iteration, after the
 * handlers and timers and before the loop sleeps: the place to flush
 * output batched during the iteration (sendmmsg). At most 4. */
int loop_flush_add(struct loop *l, loop_work_h *fn, void *arg);
void loop_flush_del(struct loop *l, loop_work_h *fn, void *arg);

/* Runs until loop_stop(); returns 0, or an errno from epoll. */
int loop_run(struct loop *l);
/* Thread-safe and async-signal-safe: makes loop_run() return soon. */
void loop_stop(struct loop *l);

/* One iteration waiting at most timeout_ms (-1: until something happens). */
int loop_run_once(struct loop *l, int timeout_ms);

/* Test clock: sets loop time to now_ms and fires every timer due by then.
 * After the first call the loop stops reading the real clock. */
void loop_advance(struct loop *l, uint64_t now_ms);

/* --- thread ownership -------------------------------------------------------
 *
 * Everything a loop watches belongs to one thread: its owner. A new loop
 * belongs to the thread that created it (which sets it up); loop_run()
 * then claims it for the thread that runs it, once: a loop already run by
 * one thread that another thread runs is a bug. loop_set_owner() hands a
 * loop over explicitly (a test harness that builds on one thread and
 * drives it with loop_run_once() from another; a thread that takes over a
 * joined thread's loop).
 *
 * loop_assert_owner(l), at the top of a function that must run on l's
 * thread, logs the function and both thread ids and aborts when called
 * from any other thread; NULL l is not checked. It is compiled in where
 * HF_DEBUG is defined (the sanitizer builds: build/san, used by every
 * unit and integration test, and build/tsan) and costs nothing in the
 * optimised build, where it is a no-op. The loop's own functions that
 * touch owner-only state (fd watchers, timers, flush hooks, iterations)
 * check it the same way there. loop_post() and loop_stop() stay callable
 * from any thread.
 */
void loop_set_owner(struct loop *l);
/* The owner's kernel thread id (0 when none yet), for diagnostics. */
int loop_owner_tid(const struct loop *l);
void loop_check_owner(const struct loop *l, const char *func);
#ifdef HF_DEBUG
#define loop_assert_owner(l) loop_check_owner((l), __func__)
#else
#define loop_assert_owner(l) ((void)sizeof(l))
#endif

#endif
