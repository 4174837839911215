/*
 * Unit tests for the worker pool (core/base/jobs.c): work runs off the
 * home loop's thread and its done back on it, in the order posted with
 * one thread; a job that blocks does not hold the loop (a timer still
 * fires meanwhile); two threads run two jobs at once; jobs_free drains
 * what is queued and runs every done that did not come home yet; posting
 * after free began is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../../core/base/jobs.h"
#include "../../core/base/loop.h"

static uint64_t real_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct rec {
	pthread_t home;
	int order[64];
	int nwork, ndone;
	atomic_int running, most_running;
	unsigned sleep_ms;
};

struct item {
	struct rec *r;
	int id;
	bool work_off_home, done_on_home;
};

static void work(void *arg)
{
	struct item *it = arg;
	it->work_off_home = !pthread_equal(pthread_self(), it->r->home);
	int now = atomic_fetch_add(&it->r->running, 1) + 1;
	int most = atomic_load(&it->r->most_running);
	while (now > most && !atomic_compare_exchange_weak(&it->r->most_running, &most, now))
		;
	if (it->r->sleep_ms)
		usleep(it->r->sleep_ms * 1000);
	atomic_fetch_sub(&it->r->running, 1);
}

static void done(void *arg)
{
	struct item *it = arg;
	it->done_on_home = pthread_equal(pthread_self(), it->r->home);
	it->r->order[it->r->ndone++] = it->id;
}

/* Runs l until n dones came home or 5 s passed. */
static void run_until(struct loop *l, struct rec *r, int n)
{
	uint64_t end = real_ms() + 5000;
	while (r->ndone < n && real_ms() < end)
		loop_run_once(l, 50);
}

static void test_jobs_order_and_threads(void **state)
{
	(void)state;
	struct loop *l;
	assert_int_equal(loop_alloc(&l), 0);
	struct jobs *j;
	assert_int_equal(jobs_alloc(&j, 1, l), 0);
	struct rec r = { .home = pthread_self() };
	struct item it[20];
	for (int i = 0; i < 20; i++) {
		it[i] = (struct item){ .r = &r, .id = i };
		assert_int_equal(jobs_post(j, work, done, &it[i]), 0);
	}
	run_until(l, &r, 20);
	assert_int_equal(r.ndone, 20);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(r.order[i], i);
		assert_true(it[i].work_off_home);
		assert_true(it[i].done_on_home);
	}
	assert_int_equal(jobs_pending(j), 0);
	jobs_free(j);
	loop_free(l);
}

static void on_tick(void *arg)
{
	(*(int *)arg)++;
}

static void test_jobs_blocking_work_does_not_hold_the_loop(void **state)
{
	(void)state;
	struct loop *l;
	assert_int_equal(loop_alloc(&l), 0);
	struct jobs *j;
	assert_int_equal(jobs_alloc(&j, 1, l), 0);
	struct rec r = { .home = pthread_self(), .sleep_ms = 400 };
	struct item it = { .r = &r, .id = 1 };
	uint64_t t0 = real_ms();
	assert_int_equal(jobs_post(j, work, done, &it), 0);
	assert_true(real_ms() - t0 < 100); /* posting does not wait */
	int ticks = 0;
	struct loop_timer t;
	loop_timer_init(&t);
	loop_timer_start(l, &t, 50, on_tick, &ticks);
	while (!ticks && real_ms() - t0 < 2000)
		loop_run_once(l, 20);
	assert_int_equal(ticks, 1);
	assert_int_equal(r.ndone, 0); /* the timer fired while the work still ran */
	run_until(l, &r, 1);
	assert_int_equal(r.ndone, 1);
	jobs_free(j);
	loop_free(l);
}

static void test_jobs_two_threads_overlap(void **state)
{
	(void)state;
	struct loop *l;
	assert_int_equal(loop_alloc(&l), 0);
	struct jobs *j;
	assert_int_equal(jobs_alloc(&j, 2, l), 0);
	struct rec r = { .home = pthread_self(), .sleep_ms = 200 };
	struct item it[2] = { { .r = &r, .id = 0 }, { .r = &r, .id = 1 } };
	uint64_t t0 = real_ms();
	assert_int_equal(jobs_post(j, work, done, &it[0]), 0);
	assert_int_equal(jobs_post(j, work, done, &it[1]), 0);
	run_until(l, &r, 2);
	assert_int_equal(r.ndone, 2);
	assert_int_equal(atomic_load(&r.most_running), 2);
	assert_true(real_ms() - t0 < 390);
	jobs_free(j);
	loop_free(l);
}

static void test_jobs_free_drains_and_completes(void **state)
{
	(void)state;
	struct loop *l;
	assert_int_equal(loop_alloc(&l), 0);
	struct jobs *j;
	assert_int_equal(jobs_alloc(&j, 1, l), 0);
	struct rec r = { .home = pthread_self(), .sleep_ms = 20 };
	struct item it[5];
	for (int i = 0; i < 5; i++) {
		it[i] = (struct item){ .r = &r, .id = i };
		assert_int_equal(jobs_post(j, work, done, &it[i]), 0);
	}
	/* the loop never runs: every done comes from jobs_free */
	jobs_free(j);
	assert_int_equal(r.ndone, 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(r.order[i], i);
		assert_true(it[i].done_on_home);
	}
	loop_free(l);
}

static void test_jobs_bad_arguments(void **state)
{
	(void)state;
	struct loop *l;
	assert_int_equal(loop_alloc(&l), 0);
	struct jobs *j;
	assert_int_equal(jobs_alloc(&j, 0, l), EINVAL);
	assert_int_equal(jobs_alloc(&j, 3, l), EINVAL);
	assert_int_equal(jobs_alloc(&j, 1, NULL), EINVAL);
	assert_int_equal(jobs_alloc(&j, 1, l), 0);
	assert_int_equal(jobs_post(j, NULL, NULL, NULL), EINVAL);
	assert_int_equal(jobs_post(NULL, work, NULL, NULL), EINVAL);
	jobs_free(j);
	jobs_free(NULL);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jobs_order_and_threads),
		cmocka_unit_test(test_jobs_blocking_work_does_not_hold_the_loop),
		cmocka_unit_test(test_jobs_two_threads_overlap),
		cmocka_unit_test(test_jobs_free_drains_and_completes),
		cmocka_unit_test(test_jobs_bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
