/*
 * Unit tests for the RTP port-pair allocator (core/media/port.c), which
 * binds real sockets on 127.0.0.1 in a random range of 40000-60000:
 * bounds, pairs held by other processes skipped, release, and the random
 * choice of pairs (ports in order were easy to guess: RTP bleed).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../core/media/media_int.h"

static struct sockaddr_storage sa4(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	inet_pton(AF_INET, ip, &a->sin_addr);
	return ss;
}

static uint16_t random_base(void)
{
	return (uint16_t)(40000 + 2 * (rand() % 9900));
}

static void test_port_pool(void **state)
{
	(void)state;
	struct port_pool pp;
	struct sockaddr_storage lo = sa4("127.0.0.1", 0);
	assert_int_equal(port_pool_init(&pp, 0, 100), EINVAL);
	assert_int_equal(port_pool_init(&pp, 5000, 5000), EINVAL);
	assert_int_equal(port_pool_init(&pp, 5001, 5002), EINVAL); /* 5002 needs 5003 */
	assert_int_equal(port_pool_init(&pp, 5001, 5003), 0);
	assert_int_equal(pp.base, 5002);
	assert_int_equal(pp.npairs, 1);
	port_pool_fini(&pp);

	uint16_t base = random_base();
	assert_int_equal(port_pool_init(&pp, base, (uint16_t)(base + 15)), 0);
	assert_int_equal(pp.npairs, 8);

	/* somebody else holds the RTCP port of the third pair */
	int squat = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_storage sq = sa4("127.0.0.1", (uint16_t)(base + 5));
	int held = bind(squat, (struct sockaddr *)&sq, sizeof(struct sockaddr_in)) == 0;

	int fds[8][2];
	uint16_t ports[8];
	int n = 0;
	while (n < 8 && port_pair_open(&pp, &lo, &ports[n], fds[n]) == 0) {
		assert_int_equal(ports[n] % 2, 0);
		assert_true(ports[n] >= base && ports[n] + 1 <= base + 15);
		assert_true(port_pair_in_use(&pp, ports[n]));
		if (held)
			assert_int_not_equal(ports[n], base + 4);
		for (int j = 0; j < n; j++)
			assert_int_not_equal(ports[j], ports[n]);
		n++;
	}
	if (held)
		assert_true(n <= 7);
	assert_true(n >= 6); /* another process could hold one by chance */
	assert_int_equal(pp.used, n);
	uint16_t p;
	int f[2];
	assert_int_equal(port_pair_open(&pp, &lo, &p, f), ENOSPC);

	/* release one: it is the one that comes back */
	close(fds[1][0]);
	close(fds[1][1]);
	port_pair_release(&pp, ports[1]);
	assert_false(port_pair_in_use(&pp, ports[1]));
	port_pair_release(&pp, ports[1]); /* twice: harmless */
	port_pair_release(&pp, 3);        /* foreign: harmless */
	assert_int_equal(pp.used, n - 1);
	assert_int_equal(port_pair_open(&pp, &lo, &p, f), 0);
	assert_int_equal(p, ports[1]);
	fds[1][0] = f[0];
	fds[1][1] = f[1];

	for (int i = 0; i < n; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
		port_pair_release(&pp, ports[i]);
	}
	assert_int_equal(pp.used, 0);
	close(squat);
	port_pool_fini(&pp);
}

/* Pairs come in no predictable order: 16 pairs opened from a range of
 * 500 are not the 16 lowest, not ascending, and every pair of a small
 * range is reached when one is opened and released again and again. */
static void test_port_random(void **state)
{
	(void)state;
	struct port_pool pp;
	struct sockaddr_storage lo = sa4("127.0.0.1", 0);
	uint16_t base = (uint16_t)(40000 + 2 * (rand() % 4000));
	assert_int_equal(port_pool_init(&pp, base, (uint16_t)(base + 999)), 0);
	assert_int_equal(pp.npairs, 500);
	int fds[16][2];
	uint16_t ports[16];
	int ascending = 1, low = 0;
	for (int i = 0; i < 16; i++) {
		assert_int_equal(port_pair_open(&pp, &lo, &ports[i], fds[i]), 0);
		assert_int_equal(ports[i] % 2, 0);
		assert_true(ports[i] >= base && ports[i] + 1 <= base + 999);
		if (i && ports[i] <= ports[i - 1])
			ascending = 0;
		if (ports[i] < base + 32)
			low++;
	}
	/* P(ascending by chance) = 1/16!, P(all 16 in the lowest 16) ~ 0 */
	assert_false(ascending);
	assert_true(low < 16);
	for (int i = 0; i < 16; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
		port_pair_release(&pp, ports[i]);
	}
	assert_int_equal(pp.used, 0);
	port_pool_fini(&pp);

	/* 8 pairs, 400 draws: each is seen (P(miss one) = 8 * (7/8)^400) */
	base = (uint16_t)(50000 + 2 * (rand() % 4000));
	assert_int_equal(port_pool_init(&pp, base, (uint16_t)(base + 15)), 0);
	int seen[8] = { 0 };
	for (int k = 0; k < 400; k++) {
		uint16_t p;
		int f[2];
		int err = port_pair_open(&pp, &lo, &p, f);
		if (err)
			continue; /* another process holds one by chance */
		seen[(p - base) / 2]++;
		close(f[0]);
		close(f[1]);
		port_pair_release(&pp, p);
	}
	int reached = 0;
	for (int i = 0; i < 8; i++)
		reached += seen[i] > 0;
	assert_true(reached >= 7);
	port_pool_fini(&pp);
}

int main(void)
{
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_pool),
		cmocka_unit_test(test_port_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
