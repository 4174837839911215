/*
 * Event loop (see loop.h). fd watchers are kept in an array indexed by fd,
 * not in heap objects whose pointers ride in epoll data: an fd removed by an
 * earlier handler of the same batch is then simply found empty, with no
 * dangling pointer to fear. Timers are a binary min-heap of pointers to
 * intrusive loop_timer structs, each remembering its heap slot so cancel is
 * O(log n) without a search.
 */
#include "loop.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "list.h"
#include "log.h"

struct fd_watch {
	loop_fd_h *h;
	void *arg;
};

struct work {
	struct snode qe; /* in loop->posted */
	loop_work_h *fn;
	void *arg;
};

struct loop {
	/* the owning thread's kernel id (loop_set_owner); claimed: run by it */
	atomic_int owner;
	atomic_bool claimed;
	int epfd;
	int evfd;
	atomic_bool stop;
	bool fake_clock;
	uint64_t now;
	unsigned pace_us;
	struct { loop_work_h *fn; void *arg; } flush[4];
	int nflush;
	int last_nev; /* fd events handled by the last iteration */

	struct fd_watch *fds;
	size_t nfds;

	/* Loops this loop's handlers posted to during the current iteration:
	 * woken once each when the iteration ends, not once per post. */
	struct loop *wake[16];
	int nwake;

	struct loop_timer **heap;
	size_t heap_len;
	size_t heap_cap;

	pthread_mutex_t qlock; /* only the post queue is shared */
	struct squeue posted; /* struct work, oldest first */
};

/* The loop whose handlers run on this thread right now, if any. */
static __thread struct loop *tls_loop;

static void end_iteration(struct loop *l);

/* gettid() is a system call each time: cache it per thread. */
static __thread int tls_tid;

static int self_tid(void)
{
	if (!tls_tid)
		tls_tid = (int)gettid();
	return tls_tid;
}

void loop_set_owner(struct loop *l)
{
	atomic_store_explicit(&l->owner, self_tid(), memory_order_relaxed);
}

int loop_owner_tid(const struct loop *l)
{
	return l ? atomic_load_explicit(&l->owner, memory_order_relaxed) : 0;
}

void loop_check_owner(const struct loop *l, const char *func)
{
	if (!l)
		return;
	int owner = atomic_load_explicit(&l->owner, memory_order_relaxed);
	if (owner == self_tid())
		return;
	log_err("loop", "%s called on thread %d, but loop %p belongs to thread %d",
		func, self_tid(), (const void *)l, owner);
	abort();
}

/* Inside loop.c: the same check, only in debug builds. */
#ifdef HF_DEBUG
#define OWNER_ONLY(l) loop_check_owner((l), __func__)
#else
#define OWNER_ONLY(l) ((void)0)
#endif

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_eventfd(int fd, uint32_t events, void *arg);

int loop_alloc(struct loop **out)
{
	struct loop *l = calloc(1, sizeof(*l));
	int err;
	if (!l)
		return ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->epfd < 0 || l->evfd < 0) {
		err = errno;
		goto out;
	}
	loop_set_owner(l); /* the creator, until a thread runs it */
	pthread_mutex_init(&l->qlock, NULL);
	l->now = mono_ms();
	err = loop_fd_add(l, l->evfd, EPOLLIN, on_eventfd, l);
	if (err)
		goto out;
	*out = l;
	return 0;
out:
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->evfd >= 0)
		close(l->evfd);
	free(l);
	return err;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	/* freed from a handler of another loop (a worker stopped by the
	 * signalling loop): that loop must not wake it when its iteration
	 * ends */
	struct loop *me = tls_loop;
	for (int i = 0; me && i < me->nwake; i++)
		if (me->wake[i] == l)
			me->wake[i--] = me->wake[--me->nwake];
	struct snode *n;
	while ((n = squeue_pop(&l->posted)))
		free(container_of(n, struct work, qe));
	for (size_t i = 0; i < l->heap_len; i++)
		l->heap[i]->idx = 0;
	close(l->epfd);
	close(l->evfd);
	pthread_mutex_destroy(&l->qlock);
	free(l->heap);
	free(l->fds);
	free(l);
}

int loop_fd_add(struct loop *l, int fd, uint32_t events, loop_fd_h *h, void *arg)
{
	if (!l || fd < 0 || !h)
		return EINVAL;
	OWNER_ONLY(l);
	if ((size_t)fd >= l->nfds) {
		size_t n = l->nfds ? l->nfds : 64;
		while (n <= (size_t)fd)
			n *= 2;
		struct fd_watch *p = realloc(l->fds, n * sizeof(*p));
		if (!p)
			return ENOMEM;
		memset(p + l->nfds, 0, (n - l->nfds) * sizeof(*p));
		l->fds = p;
		l->nfds = n;
	}
	struct epoll_event ev = { .events = events, .data.fd = fd };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return errno;
	l->fds[fd].h = h;
	l->fds[fd].arg = arg;
	return 0;
}

int loop_fd_mod(struct loop *l, int fd, uint32_t events)
{
	OWNER_ONLY(l);
	struct epoll_event ev = { .events = events, .data.fd = fd };
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return errno;
	return 0;
}

void loop_fd_del(struct loop *l, int fd)
{
	OWNER_ONLY(l);
	if (fd < 0 || (size_t)fd >= l->nfds)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->fds[fd].h = NULL;
	l->fds[fd].arg = NULL;
}

/* --- timer heap --------------------------------------------------------- */

static void heap_set(struct loop *l, size_t i, struct loop_timer *t)
{
	l->heap[i] = t;
	t->idx = i + 1;
}

static void sift_up(struct loop *l, size_t i)
{
	struct loop_timer *t = l->heap[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (l->heap[parent]->deadline <= t->deadline)
			break;
		heap_set(l, i, l->heap[parent]);
		i = parent;
	}
	heap_set(l, i, t);
}

static void sift_down(struct loop *l, size_t i)
{
	struct loop_timer *t = l->heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= l->heap_len)
			break;
		if (c + 1 < l->heap_len && l->heap[c + 1]->deadline < l->heap[c]->deadline)
			c++;
		if (t->deadline <= l->heap[c]->deadline)
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

static void heap_remove(struct loop *l, struct loop_timer *t)
{
	size_t i = t->idx - 1;
	struct loop_timer *last = l->heap[--l->heap_len];
	t->idx = 0;
	if (last == t)
		return;
	heap_set(l, i, last);
	if (i > 0 && l->heap[(i - 1) / 2]->deadline > last->deadline)
		sift_up(l, i);
	else
		sift_down(l, i);
}

int loop_timer_start(struct loop *l, struct loop_timer *t, uint64_t ms,
		     loop_timer_h *h, void *arg)
{
	if (!l || !t || !h)
		return EINVAL;
	OWNER_ONLY(l);
	if (t->idx) {
		OWNER_ONLY(t->loop);
		heap_remove(t->loop, t);
	}
	if (l->heap_len == l->heap_cap) {
		size_t n = l->heap_cap ? l->heap_cap * 2 : 256;
		struct loop_timer **p = realloc(l->heap, n * sizeof(*p));
		if (!p)
			return ENOMEM;
		l->heap = p;
		l->heap_cap = n;
	}
	t->deadline = l->now + ms;
	t->h = h;
	t->arg = arg;
	t->loop = l;
	l->heap[l->heap_len] = t;
	t->idx = ++l->heap_len;
	sift_up(l, l->heap_len - 1);
	return 0;
}

void loop_timer_cancel(struct loop_timer *t)
{
	if (t && t->idx && t->loop) {
		OWNER_ONLY(t->loop);
		heap_remove(t->loop, t);
	}
}

size_t loop_timer_count(const struct loop *l)
{
	return l->heap_len;
}

uint64_t loop_now(const struct loop *l)
{
	return l->now;
}

static void run_timers(struct loop *l)
{
	while (l->heap_len && l->heap[0]->deadline <= l->now) {
		struct loop_timer *t = l->heap[0];
		heap_remove(l, t);
		t->h(t->arg); /* may free t or restart it: touch nothing after */
	}
}

void loop_advance(struct loop *l, uint64_t now_ms)
{
	OWNER_ONLY(l);
	l->fake_clock = true;
	if (now_ms > l->now)
		l->now = now_ms;
	struct loop *prev = tls_loop;
	tls_loop = l;
	run_timers(l);
	end_iteration(l);
	tls_loop = prev;
}

/* --- cross-thread queue ------------------------------------------------- */

static void wake_up(struct loop *l)
{
	uint64_t one = 1;
	ssize_t r = write(l->evfd, &one, sizeof(one));
	(void)r; /* EAGAIN means the counter is already non-zero: fine */
}

int loop_flush_add(struct loop *l, loop_work_h *fn, void *arg)
{
	OWNER_ONLY(l);
	if (l->nflush == (int)(sizeof(l->flush) / sizeof(l->flush[0])))
		return ENOSPC;
	l->flush[l->nflush].fn = fn;
	l->flush[l->nflush].arg = arg;
	l->nflush++;
	return 0;
}

void loop_flush_del(struct loop *l, loop_work_h *fn, void *arg)
{
	OWNER_ONLY(l);
	for (int i = 0; i < l->nflush; i++)
		if (l->flush[i].fn == fn && l->flush[i].arg == arg) {
			l->flush[i] = l->flush[--l->nflush];
			return;
		}
}

static void end_iteration(struct loop *l)
{
	for (int i = 0; i < l->nflush; i++)
		l->flush[i].fn(l->flush[i].arg);
	for (int i = 0; i < l->nwake; i++)
		wake_up(l->wake[i]);
	l->nwake = 0;
}

int loop_post(struct loop *l, loop_work_h *fn, void *arg)
{
	struct work *w = malloc(sizeof(*w));
	if (!w)
		return ENOMEM;
	w->fn = fn;
	w->arg = arg;
	pthread_mutex_lock(&l->qlock);
	/* Only the post that makes the queue non-empty wakes the owner: it
	 * drains everything queued by then, so a burst of commands costs one
	 * eventfd write and one wake-up, not one each. */
	bool was_empty = squeue_push(&l->posted, &w->qe);
	pthread_mutex_unlock(&l->qlock);
	if (!was_empty)
		return 0;
	/* Posted from another loop's handler: wake the target once when that
	 * iteration ends (Redis's one batching point before sleeping), so a
	 * call set-up that sends a worker five commands wakes it once. */
	struct loop *me = tls_loop;
	if (me && me != l) {
		for (int i = 0; i < me->nwake; i++)
			if (me->wake[i] == l)
				return 0;
		if (me->nwake < (int)(sizeof(me->wake) / sizeof(me->wake[0]))) {
			me->wake[me->nwake++] = l;
			return 0;
		}
	}
	wake_up(l);
	return 0;
}

/* Runs everything posted so far. */
static void run_posted(struct loop *l)
{
	struct squeue batch = SQUEUE_INIT;
	pthread_mutex_lock(&l->qlock);
	squeue_take(&l->posted, &batch);
	pthread_mutex_unlock(&l->qlock);
	struct snode *n;
	while ((n = squeue_pop(&batch))) {
		struct work *w = container_of(n, struct work, qe);
		w->fn(w->arg);
		free(w);
	}
}

static void on_eventfd(int fd, uint32_t events, void *arg)
{
	uint64_t v;
	(void)events;
	ssize_t r = read(fd, &v, sizeof(v));
	(void)r;
	run_posted(arg);
}

void loop_stop(struct loop *l)
{
	atomic_store(&l->stop, true);
	uint64_t one = 1;
	ssize_t r = write(l->evfd, &one, sizeof(one));
	(void)r;
}

int loop_run_once(struct loop *l, int timeout_ms)
{
	struct epoll_event evs[64];
	OWNER_ONLY(l);
	if (l->heap_len) {
		uint64_t due = l->heap[0]->deadline;
		int until = due > l->now ? (int)(due - l->now) : 0;
		if (timeout_ms < 0 || until < timeout_ms)
			timeout_ms = until;
	}
	int n = epoll_wait(l->epfd, evs, 64, timeout_ms);
	if (n < 0 && errno != EINTR)
		return errno;
	if (!l->fake_clock)
		l->now = mono_ms();
	struct loop *prev = tls_loop;
	tls_loop = l;
	l->last_nev = n > 0 ? n : 0;
	/* Work posted before these events happened runs before they are
	 * handled, even when its wake-up is still deferred (loop_post): the
	 * signalling loop queues a call's media set-up, then answers the
	 * phone, and the phone's first packet must find the call set up. */
	if (n > 0)
		run_posted(l);
	for (int i = 0; i < n; i++) {
		int fd = evs[i].data.fd;
		if ((size_t)fd >= l->nfds || !l->fds[fd].h)
			continue;
		l->fds[fd].h(fd, evs[i].events, l->fds[fd].arg);
	}
	if (!l->fake_clock)
		run_timers(l);
	end_iteration(l);
	tls_loop = prev;
	return 0;
}

void loop_set_pace(struct loop *l, unsigned usec)
{
	l->pace_us = usec;
}

int loop_run(struct loop *l)
{
	/* The thread that runs a loop owns it from now on (loop.h); a loop
	 * already run by one thread must not be run by another. */
	if (atomic_exchange(&l->claimed, true))
		OWNER_ONLY(l);
	else
		loop_set_owner(l);
	while (!atomic_load(&l->stop)) {
		int err = loop_run_once(l, -1);
		if (err)
			return err;
		if (l->pace_us && l->last_nev) {
			struct timespec ts = { 0, (long)l->pace_us * 1000L };
			nanosleep(&ts, NULL);
		}
	}
	return 0;
}
