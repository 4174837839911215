/*
 * Unit tests for the event loop's timers and cross-thread queue
 * (core/base/loop.c): deadline order over thousands of random timers,
 * cancelling and restarting from inside handlers, a timer freed by its own
 * handler, loop_post from another thread waking loop_run_once, and work
 * posted before an event running before that event's handler. Timers
 * are driven with the fake clock (loop_advance); the thread test uses real
 * time because it is about waking epoll_wait. Thread ownership: a loop
 * belongs to its creator until a thread runs it, loop_set_owner hands it
 * over, and (debug builds) touching it from another thread aborts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../../core/base/loop.h"

static uint64_t real_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Switches l to the fake clock. Loop time never goes backwards, so the
 * fake clock continues from the real one: tests count from the base. */
static uint64_t fake_start(struct loop *l)
{
	loop_advance(l, 0);
	return loop_now(l);
}

/* --- deadline order ------------------------------------------------------ */

#define NRAND 5000

struct rt {
	struct loop_timer t;
	struct loop *l;
	uint64_t due;      /* absolute deadline we asked for */
	uint64_t fired_at; /* loop time when it fired, 0 = never */
	int fired;
	bool cancelled;
};

static uint64_t last_due;
static int order_errors;

static void rt_h(void *arg)
{
	struct rt *r = arg;
	r->fired++;
	r->fired_at = loop_now(r->l);
	if (r->due < last_due)
		order_errors++;
	last_due = r->due;
}

/* Random timers, one big jump of the clock: all fire, in deadline order. */
static void test_random_order_one_jump(void **state)
{
	(void)state;
	struct loop *l;
	assert_int_equal(loop_alloc(&l), 0);
	uint64_t base = fake_start(l);
	struct rt *rs = calloc(NRAND, sizeof(*rs));
	assert_non_null(rs);
	srand(12345);
	for (int i = 0; i < NRAND; i++) {
		uint64_t ms = (uint64_t)(rand() % 100000);
		rs[i].l = l;
		rs[i].due = base + ms;
		assert_int_equal(loop_timer_start(l, &rs[i].t, ms, rt_h, &rs[i]), 0);
	}
	assert_int_equal(loop_timer_count(l), NRAND);
	last_due = 0;
	order_errors = 0;
	loop_advance(l, base + 100000);
	assert_int_equal(order_errors, 0);
	for (int i = 0; i < NRAND; i++)
		assert_int_equal(rs[i].fired, 1);
	assert_int_equal(loop_timer_count(l), 0);
	free(rs);
	loop_free(l);
}

/* Random timers, some cancelled and some restarted, clock stepped 1 ms at
 * a time: each live timer fires exactly at its deadline, once. */
static void test_random_step_cancel_restart(void **state)
{
	(void)state;
	struct loop *l;
	assert_int_equal(loop_alloc(&l), 0);
	uint64_t base = fake_start(l);
	struct rt *rs = calloc(NRAND, sizeof(*rs));
	assert_non_null(rs);
	srand(777);
	for (int i = 0; i < NRAND; i++) {
		uint64_t ms = (uint64_t)(rand() % 20000);
		rs[i].l = l;
		rs[i].due = base + ms;
		assert_int_equal(loop_timer_start(l, &rs[i].t, ms, rt_h, &rs[i]), 0);
	}
	size_t live = NRAND;
	for (int i = 0; i < NRAND; i += 3) {
		loop_timer_cancel(&rs[i].t);
		loop_timer_cancel(&rs[i].t); /* twice is harmless */
		assert_false(loop_timer_active(&rs[i].t));
		rs[i].cancelled = true;
		live--;
	}
	for (int i = 1; i < NRAND; i += 7) {
		if (rs[i].cancelled)
			continue;
		uint64_t ms = (uint64_t)(rand() % 20000);
		rs[i].due = base + ms;
		assert_int_equal(loop_timer_start(l, &rs[i].t, ms, rt_h, &rs[i]), 0);
	}
	assert_int_equal(loop_timer_count(l), live);
	last_due = 0;
	order_errors = 0;
	for (uint64_t t = 0; t <= 20000; t++)
		loop_advance(l, base + t);
	assert_int_equal(order_errors, 0);
	for (int i = 0; i < NRAND; i++) {
		if (rs[i].cancelled) {
			assert_int_equal(rs[i].fired, 0);
		} else {
			assert_int_equal(rs[i].fired, 1);
			assert_int_equal(rs[i].fired_at, rs[i].due);
		}
	}
	assert_int_equal(loop_timer_count(l), 0);
	free(rs);
	loop_free(l);
}

/* --- handlers that touch timers ------------------------------------------ */

struct pair {
	struct loop *l;
	struct loop_timer a, b, c;
	int na, nb, nc;
	uint64_t at[16];
	int nat;
};

static void b_h(void *arg)
{
	struct pair *p = arg;
	p->nb++;
}

static void c_h(void *arg)
{
	struct pair *p = arg;
	p->nc++;
}

static void a_cancel_h(void *arg)
{
	struct pair *p = arg;
	p->na++;
	loop_timer_cancel(&p->b);
	loop_timer_start(p->l, &p->c, 50, c_h, p);
}

/* Fires every 10 ms, five times, by restarting itself. */
static void periodic_h(void *arg)
{
	struct pair *p = arg;
	p->at[p->nat++] = loop_now(p->l);
	if (p->nat < 5)
		loop_timer_start(p->l, &p->a, 10, periodic_h, p);
}

static void test_cancel_restart_in_handler(void **state)
{
	(void)state;
	struct pair p = { 0 };
	assert_int_equal(loop_alloc(&p.l), 0);
	uint64_t b0 = fake_start(p.l) - 100;
	/* a and b due together; whichever runs first, a cancels b if b has
	 * not fired yet. Give b a later deadline to make it deterministic. */
	assert_int_equal(loop_timer_start(p.l, &p.a, 10, a_cancel_h, &p), 0);
	assert_int_equal(loop_timer_start(p.l, &p.b, 11, b_h, &p), 0);
	assert_int_equal(loop_timer_start(p.l, &p.c, 5, c_h, &p), 0);
	loop_advance(p.l, b0 + 105);
	assert_int_equal(p.nc, 1);
	/* a at 110 cancels b and restarts c for 160. Handlers start timers
	 * relative to loop time, which loop_advance has already moved to its
	 * target: step to each instant, as a real clock would. */
	loop_advance(p.l, b0 + 110);
	assert_int_equal(p.na, 1);
	assert_int_equal(p.nb, 0);
	assert_int_equal(p.nc, 1);
	loop_advance(p.l, b0 + 159);
	assert_int_equal(p.nc, 1);
	loop_advance(p.l, b0 + 160);
	assert_int_equal(p.nc, 2);
	loop_advance(p.l, b0 + 200);
	assert_false(loop_timer_active(&p.b));
	assert_int_equal(loop_timer_count(p.l), 0);

	/* A timer restarting itself fires at each new deadline. */
	assert_int_equal(loop_timer_start(p.l, &p.a, 10, periodic_h, &p), 0);
	for (uint64_t t = 201; t <= 300; t++)
		loop_advance(p.l, b0 + t);
	assert_int_equal(p.nat, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(p.at[i], b0 + 210 + 10 * (uint64_t)i);

	/* Restarting an active timer moves it rather than adding a second. */
	assert_int_equal(loop_timer_start(p.l, &p.b, 10, b_h, &p), 0);
	assert_int_equal(loop_timer_start(p.l, &p.b, 30, b_h, &p), 0);
	assert_int_equal(loop_timer_count(p.l), 1);
	loop_advance(p.l, b0 + 320);
	assert_int_equal(p.nb, 0);
	loop_advance(p.l, b0 + 330);
	assert_int_equal(p.nb, 1);
	loop_free(p.l);
}

/* A timer handler firing at the same instant as others cancels one that
 * is due now but has not run yet: it must not run. */
struct same {
	struct loop_timer t[8];
	int fired[8];
};
static struct same *same_ctx;

static void same_h(void *arg)
{
	int i = (int)(intptr_t)arg;
	same_ctx->fired[i]++;
	for (int j = 0; j < 8; j++)
		if (j != i)
			loop_timer_cancel(&same_ctx->t[j]);
}

static void test_cancel_peer_due_same_instant(void **state)
{
	(void)state;
	struct loop *l;
	struct same s = { 0 };
	same_ctx = &s;
	assert_int_equal(loop_alloc(&l), 0);
	uint64_t base = fake_start(l);
	for (int i = 0; i < 8; i++)
		assert_int_equal(loop_timer_start(l, &s.t[i], 10, same_h, (void *)(intptr_t)i), 0);
	loop_advance(l, base + 10);
	int total = 0;
	for (int i = 0; i < 8; i++)
		total += s.fired[i];
	assert_int_equal(total, 1);
	assert_int_equal(loop_timer_count(l), 0);
	loop_free(l);
}

/* --- a timer freed in its own handler ------------------------------------ */

struct owner {
	struct loop_timer t;
	int *count;
};

static void free_self_h(void *arg)
{
	struct owner *o = arg;
	(*o->count)++;
	free(o); /* ASan reports any later touch of o->t by the loop */
}

static void test_timer_freed_in_handler(void **state)
{
	(void)state;
	struct loop *l;
	int count = 0;
	assert_int_equal(loop_alloc(&l), 0);
	uint64_t base = fake_start(l);
	for (int i = 0; i < 100; i++) {
		struct owner *o = calloc(1, sizeof(*o));
		assert_non_null(o);
		o->count = &count;
		assert_int_equal(loop_timer_start(l, &o->t, (uint64_t)(i % 10), free_self_h, o), 0);
	}
	loop_advance(l, base + 20);
	assert_int_equal(count, 100);
	assert_int_equal(loop_timer_count(l), 0);
	loop_free(l);
}

/* --- loop_post from another thread --------------------------------------- */

struct post_ctx {
	struct loop *l;
	atomic_int ran;
	pthread_t loop_thread;
	bool ran_on_loop_thread;
	int delay_ms;
	int post_err;
};

static void work_h(void *arg)
{
	struct post_ctx *c = arg;
	c->ran_on_loop_thread = pthread_equal(pthread_self(), c->loop_thread);
	atomic_fetch_add(&c->ran, 1);
}

static void *poster(void *arg)
{
	struct post_ctx *c = arg;
	usleep((useconds_t)c->delay_ms * 1000);
	c->post_err = loop_post(c->l, work_h, c); /* cmocka asserts only on the main thread */
	return NULL;
}

static void test_post_from_thread_wakes(void **state)
{
	(void)state;
	struct post_ctx c = { .delay_ms = 50 };
	pthread_t th;
	assert_int_equal(loop_alloc(&c.l), 0);
	c.loop_thread = pthread_self();
	assert_int_equal(pthread_create(&th, NULL, poster, &c), 0);
	uint64_t t0 = real_ms();
	/* No timers, so only the post can end this wait early. */
	while (atomic_load(&c.ran) == 0 && real_ms() - t0 < 5000)
		assert_int_equal(loop_run_once(c.l, 5000), 0);
	uint64_t took = real_ms() - t0;
	pthread_join(th, NULL);
	assert_int_equal(c.post_err, 0);
	assert_int_equal(atomic_load(&c.ran), 1);
	assert_true(c.ran_on_loop_thread);
	assert_true(took >= 40);
	/* woken by the post, not by the end of the 5 s wait (a loaded machine
	 * may be seconds late; it cannot be 5 s early) */
	assert_true(took < 4500);
	loop_free(c.l);
}

struct many_ctx {
	struct loop *l;
	atomic_int ran;
	atomic_int post_errs;
};

static void count_h(void *arg)
{
	struct many_ctx *c = arg;
	atomic_fetch_add(&c->ran, 1);
}

static void *many_poster(void *arg)
{
	struct many_ctx *c = arg;
	for (int i = 0; i < 1000; i++)
		if (loop_post(c->l, count_h, c))
			atomic_fetch_add(&c->post_errs, 1);
	return NULL;
}

static void stop_h(void *arg)
{
	loop_stop(arg);
}

static void *stopper(void *arg)
{
	usleep(20000);
	loop_post(arg, stop_h, arg);
	return NULL;
}

/* Four threads post 4000 items; every one runs exactly once, then a
 * posted loop_stop ends loop_run. */
static void test_post_many_threads_then_stop(void **state)
{
	(void)state;
	struct many_ctx c = { 0 };
	pthread_t th[4], st;
	assert_int_equal(loop_alloc(&c.l), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, many_poster, &c), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(pthread_create(&st, NULL, stopper, c.l), 0);
	assert_int_equal(loop_run(c.l), 0);
	pthread_join(st, NULL);
	assert_int_equal(atomic_load(&c.post_errs), 0);
	assert_int_equal(atomic_load(&c.ran), 4000);
	loop_free(c.l);
}

/* A real-clock timer ends loop_run_once's wait at about its deadline. */
static void fired_h(void *arg)
{
	*(int *)arg = 1;
}

static void test_real_timer_wakes(void **state)
{
	(void)state;
	struct loop *l;
	struct loop_timer t;
	int fired = 0;
	loop_timer_init(&t);
	assert_int_equal(loop_alloc(&l), 0);
	uint64_t t0 = real_ms();
	assert_int_equal(loop_timer_start(l, &t, 30, fired_h, &fired), 0);
	while (!fired && real_ms() - t0 < 5000)
		assert_int_equal(loop_run_once(l, -1), 0);
	assert_int_equal(fired, 1);
	assert_true(real_ms() - t0 >= 25);
	loop_free(l);
}

/* The signalling loop queues a call's media set-up on a worker (its
 * wake-up deferred to the end of the signalling iteration), then answers
 * the phone, whose first packet can reach the worker before that wake-up:
 * the worker must run the queued work before it handles the packet. */
struct order_ctx {
	struct loop *sig, *worker;
	int pkt[2], trig[2];
	bool set_up, set_up_before_packet, packet_seen;
};

static void set_up_h(void *arg)
{
	((struct order_ctx *)arg)->set_up = true;
}

static void packet_h(int fd, uint32_t events, void *arg)
{
	struct order_ctx *c = arg;
	char b;
	(void)events;
	assert_int_equal(read(fd, &b, 1), 1);
	c->packet_seen = true;
	c->set_up_before_packet = c->set_up;
}

static void answer_h(int fd, uint32_t events, void *arg)
{
	struct order_ctx *c = arg;
	char b;
	(void)events;
	assert_int_equal(read(fd, &b, 1), 1);
	assert_int_equal(loop_post(c->worker, set_up_h, c), 0);
	assert_int_equal(write(c->pkt[1], "p", 1), 1); /* the phone answers at once */
	/* the worker runs now, its wake-up still pending */
	assert_int_equal(loop_run_once(c->worker, 0), 0);
}

static void test_posted_work_runs_before_later_events(void **state)
{
	(void)state;
	struct order_ctx c = { 0 };
	assert_int_equal(loop_alloc(&c.sig), 0);
	assert_int_equal(loop_alloc(&c.worker), 0);
	assert_int_equal(pipe(c.pkt), 0);
	assert_int_equal(pipe(c.trig), 0);
	assert_int_equal(loop_fd_add(c.worker, c.pkt[0], EPOLLIN, packet_h, &c), 0);
	assert_int_equal(loop_fd_add(c.sig, c.trig[0], EPOLLIN, answer_h, &c), 0);
	assert_int_equal(write(c.trig[1], "t", 1), 1);
	assert_int_equal(loop_run_once(c.sig, 1000), 0);
	assert_true(c.packet_seen);
	assert_true(c.set_up_before_packet);
	loop_fd_del(c.worker, c.pkt[0]);
	loop_fd_del(c.sig, c.trig[0]);
	loop_free(c.worker);
	loop_free(c.sig);
	for (int i = 0; i < 2; i++) {
		close(c.pkt[i]);
		close(c.trig[i]);
	}
}

/* --- thread ownership ------------------------------------------------------ */

struct own_ctx {
	struct loop *l;
	int runner_tid, owner_seen;
};

static void own_h(void *arg)
{
	struct own_ctx *c = arg;
	c->owner_seen = loop_owner_tid(c->l);
	loop_assert_owner(c->l); /* on the runner: passes */
	loop_stop(c->l);
}

static void *own_runner(void *arg)
{
	struct own_ctx *c = arg;
	c->runner_tid = (int)gettid();
	loop_run(c->l);
	return NULL;
}

/* The creator owns a new loop; the thread that runs it claims it; a
 * thread taking over after the runner ended says so with loop_set_owner. */
static void test_owner_creator_then_runner(void **state)
{
	(void)state;
	struct own_ctx c = { 0 };
	assert_int_equal(loop_alloc(&c.l), 0);
	assert_int_equal(loop_owner_tid(c.l), (int)gettid());
	loop_assert_owner(c.l);
	assert_int_equal(loop_post(c.l, own_h, &c), 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, own_runner, &c), 0);
	pthread_join(th, NULL);
	assert_int_equal(c.owner_seen, c.runner_tid);
	assert_int_equal(loop_owner_tid(c.l), c.runner_tid);
	loop_set_owner(c.l);
	assert_int_equal(loop_owner_tid(c.l), (int)gettid());
	assert_int_equal(loop_run_once(c.l, 0), 0);
	loop_free(c.l);
}

#ifdef HF_DEBUG
static void *own_intruder(void *arg)
{
	struct loop_timer t;
	loop_timer_init(&t);
	loop_timer_start(arg, &t, 10, fired_h, NULL); /* aborts */
	return NULL;
}

/* Debug builds: a timer started on a loop from a thread that does not
 * own it aborts the process (in a child, so this test survives it). */
static void test_owner_violation_aborts(void **state)
{
	(void)state;
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct loop *l;
		pthread_t th;
		if (loop_alloc(&l) || pthread_create(&th, NULL, own_intruder, l))
			_exit(2);
		pthread_join(th, NULL);
		_exit(0); /* not reached when the check works */
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_order_one_jump),
		cmocka_unit_test(test_random_step_cancel_restart),
		cmocka_unit_test(test_cancel_restart_in_handler),
		cmocka_unit_test(test_cancel_peer_due_same_instant),
		cmocka_unit_test(test_timer_freed_in_handler),
		cmocka_unit_test(test_post_from_thread_wakes),
		cmocka_unit_test(test_post_many_threads_then_stop),
		cmocka_unit_test(test_real_timer_wakes),
		cmocka_unit_test(test_posted_work_runs_before_later_events),
		cmocka_unit_test(test_owner_creator_then_runner),
#ifdef HF_DEBUG
		cmocka_unit_test(test_owner_violation_aborts),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
