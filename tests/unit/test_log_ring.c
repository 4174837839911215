/* Unit tests for the log's ring of recent lines (core/base/log.c): what a
 * reader gets after a seq, the level filter, the seq to ask after, the
 * oldest lines giving way past LOG_RING_LINES, and writers on several
 * threads at once (run under ThreadSanitizer by make check-tsan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/base/log.h"

static struct log_line buf[LOG_RING_LINES];

/* The seq of the newest line now. */
static uint64_t newest(void)
{
	uint64_t next = 0;
	log_ring_read(UINT64_MAX - 1, LOG_DEBUG, buf, 0, &next);
	return next;
}

static void test_read_after_seq_with_level(void **st)
{
	(void)st;
	log_set_level(LOG_DEBUG);
	uint64_t base = newest();
	log_info("t1", "first %d", 1);
	log_debug("t2", "second");
	log_warn("t3", "third\r\nstill third");
	uint64_t next = 0;
	size_t n = log_ring_read(base, LOG_DEBUG, buf, LOG_RING_LINES, &next);
	assert_int_equal(n, 3);
	assert_int_equal(buf[0].seq, base + 1);
	assert_string_equal(buf[0].tag, "t1");
	assert_string_equal(buf[0].text, "first 1");
	assert_int_equal(buf[0].level, LOG_INFO);
	/* one line whatever the message held (how CR/LF are shown is
	 * log_write's business) */
	assert_true(!strncmp(buf[2].text, "third", 5) && !strchr(buf[2].text, '\n'));
	assert_true(buf[0].time_ms > 1600000000000LL);
	assert_int_equal(next, base + 3);
	/* info and above: the debug line is left out, but looked at */
	n = log_ring_read(base, LOG_INFO, buf, LOG_RING_LINES, &next);
	assert_int_equal(n, 2);
	assert_string_equal(buf[1].tag, "t3");
	assert_int_equal(next, base + 3);
	/* nothing new: next stays */
	n = log_ring_read(next, LOG_DEBUG, buf, LOG_RING_LINES, &next);
	assert_int_equal(n, 0);
	assert_int_equal(next, base + 3);
	/* a cap: the oldest first, next where it stopped */
	n = log_ring_read(base, LOG_DEBUG, buf, 2, &next);
	assert_int_equal(n, 2);
	assert_int_equal(next, base + 2);
	/* a seq from the future (another daemon's): back to now */
	log_ring_read(base + 1000000, LOG_DEBUG, buf, LOG_RING_LINES, &next);
	assert_int_equal(next, base + 3);
	/* lines under the log level are not written, nor kept */
	log_set_level(LOG_INFO);
	log_debug("t4", "dropped");
	assert_int_equal(newest(), base + 3);
	log_set_level(LOG_DEBUG);
}

static void test_oldest_give_way(void **st)
{
	(void)st;
	uint64_t base = newest();
	for (int i = 0; i < LOG_RING_LINES + 500; i++)
		log_info("wrap", "line %d", i);
	uint64_t next = 0;
	size_t n = log_ring_read(0, LOG_DEBUG, buf, LOG_RING_LINES, &next);
	assert_int_equal(n, LOG_RING_LINES);
	assert_int_equal(buf[0].seq, base + 501);
	assert_string_equal(buf[0].text, "line 500");
	assert_string_equal(buf[n - 1].text, "line 2499");
	assert_int_equal(next, base + LOG_RING_LINES + 500);
	/* a long line is cut to fit, never overflows */
	char big[2000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info("big", "%s", big);
	n = log_ring_read(next, LOG_DEBUG, buf, 1, &next);
	assert_int_equal(n, 1);
	assert_int_equal(strlen(buf[0].text), LOG_RING_TEXT - 1);
}

static void *writer(void *arg)
{
	for (int i = 0; i < 2000; i++)
		log_info("thr", "thread %ld line %d", (long)(intptr_t)arg, i);
	return NULL;
}

static void test_threads(void **st)
{
	(void)st;
	uint64_t base = newest();
	pthread_t th[4];
	for (long i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, writer, (void *)(intptr_t)i), 0);
	/* a reader at the same time */
	uint64_t seen = base;
	for (int k = 0; k < 200; k++) {
		uint64_t next = 0;
		size_t n = log_ring_read(seen, LOG_DEBUG, buf, 64, &next);
		for (size_t i = 0; i < n; i++)
			assert_true(buf[i].seq > seen && !strcmp(buf[i].tag, "thr"));
		if (n)
			assert_true(next >= buf[n - 1].seq);
		seen = next > seen ? next : seen;
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(newest(), base + 8000);
}

int main(void)
{
	/* the lines also go to stderr: away with them */
	int fd = open("/dev/null", O_WRONLY);
	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_after_seq_with_level),
		cmocka_unit_test(test_oldest_give_way),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
