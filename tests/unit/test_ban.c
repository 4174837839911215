/*
 * Tests of the brute-force ban list (core/sip/ban.c): a ban after N
 * failures inside the window and none when they are spread wider, the end
 * of a ban, IPv6 /64 and IPv4-mapped grouping, ban_lift, a success
 * clearing the count, reconfiguration, the listing for the CLI, and the
 * memory bound under a flood of sources that must not push out bans.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "../../core/sip/ban.h"

struct addr {
	struct sockaddr_storage ss;
};

static const struct sockaddr *sa_of(struct addr *a, const char *text)
{
	memset(a, 0, sizeof(*a));
	struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(5060);
	} else {
		assert_int_equal(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(5060);
	}
	return (const struct sockaddr *)&a->ss;
}

static struct ban_list *mk(uint32_t limit, uint32_t window_s, uint32_t ban_s, size_t max)
{
	struct ban_list *b = NULL;
	struct ban_cfg cfg = { .fail_limit = limit, .window_s = window_s, .ban_s = ban_s,
			       .max_entries = max };
	assert_int_equal(ban_list_alloc(&b, &cfg), 0);
	assert_non_null(b);
	return b;
}

static bool failure(struct ban_list *b, const char *ip, uint64_t now)
{
	struct addr a;
	return ban_record_failure(b, sa_of(&a, ip), now);
}

static bool banned(struct ban_list *b, const char *ip, uint64_t now)
{
	struct addr a;
	return ban_is_banned(b, sa_of(&a, ip), now);
}

struct rows {
	int n;
	struct ban_entry_info e[16];
};

static void collect(const struct ban_entry_info *e, void *arg)
{
	struct rows *r = arg;
	if (r->n < 16)
		r->e[r->n] = *e;
	r->n++;
}

static void test_ban_after_limit(void **state)
{
	struct ban_list *b = mk(5, 60, 300, 0);
	const uint64_t t = 1000000;

	for (int i = 0; i < 4; i++) {
		assert_false(failure(b, "192.0.2.7", t + (uint64_t)i * 10000));
		assert_false(banned(b, "192.0.2.7", t + (uint64_t)i * 10000));
	}
	/* the fifth within 60 s starts the ban, and says so once */
	assert_true(failure(b, "192.0.2.7", t + 45000));
	assert_true(banned(b, "192.0.2.7", t + 45000));
	assert_false(failure(b, "192.0.2.7", t + 46000));
	assert_false(failure(b, "192.0.2.7", t + 47000));
	assert_true(banned(b, "192.0.2.7", t + 47000));
	/* a neighbour is not affected */
	assert_false(banned(b, "192.0.2.8", t + 47000));
	assert_int_equal(ban_count(b, t + 47000), 1);
	ban_list_free(b);
}

static void test_no_ban_when_spread(void **state)
{
	struct ban_list *b = mk(5, 60, 300, 0);

	/* one failure every 16 s: never five in any 60 s */
	for (uint64_t i = 0; i < 50; i++) {
		assert_false(failure(b, "198.51.100.1", 5000000 + i * 16000));
		assert_false(banned(b, "198.51.100.1", 5000000 + i * 16000));
	}
	/* one every 12.5 s: five fall within 50 s, which is a ban */
	bool started = false;
	for (uint64_t i = 0; i < 10 && !started; i++)
		started = failure(b, "198.51.100.2", 5000000 + i * 12500);
	assert_true(started);
	ban_list_free(b);
}

static void test_ban_expiry(void **state)
{
	struct ban_list *b = mk(3, 60, 300, 0);
	const uint64_t t = 42;

	assert_false(failure(b, "203.0.113.9", t));
	assert_false(failure(b, "203.0.113.9", t + 1));
	assert_true(failure(b, "203.0.113.9", t + 2));
	assert_true(banned(b, "203.0.113.9", t + 2 + 299999));
	assert_false(banned(b, "203.0.113.9", t + 2 + 300000));
	assert_int_equal(ban_count(b, t + 2 + 300000), 0);
	/* a fresh start: the next failure is the first, not the fourth */
	assert_false(failure(b, "203.0.113.9", t + 300010));
	assert_false(failure(b, "203.0.113.9", t + 300011));
	assert_true(failure(b, "203.0.113.9", t + 300012));

	/* ends even when nobody asks in between */
	assert_true(banned(b, "203.0.113.9", t + 300012));
	assert_false(failure(b, "203.0.113.9", t + 700000));
	assert_false(banned(b, "203.0.113.9", t + 700000));
	ban_list_free(b);
}

static void test_ipv6_grouping(void **state)
{
	struct ban_list *b = mk(4, 60, 300, 0);
	struct rows r = { 0 };

	/* one host rotating its interface id is one source */
	assert_false(failure(b, "2001:db8:1:2::1", 10));
	assert_false(failure(b, "2001:db8:1:2:aaaa::2", 20));
	assert_false(failure(b, "2001:db8:1:2:ffff:ffff:ffff:ffff", 30));
	assert_false(failure(b, "2001:db8:1:3::1", 35)); /* another /64 */
	assert_true(failure(b, "2001:db8:1:2:1234:5678:9abc:def0", 40));
	assert_true(banned(b, "2001:db8:1:2::99", 50));
	assert_false(banned(b, "2001:db8:1:3::1", 50));
	assert_false(banned(b, "2001:db8:1:1::1", 50));

	ban_list_each(b, 50, false, collect, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.e[0].addr, "2001:db8:1:2::/64");
	assert_int_equal(r.e[0].failures, 4);
	assert_int_equal(r.e[0].banned_for_s, 300);

	/* IPv4-mapped IPv6 is the IPv4 host */
	assert_false(failure(b, "::ffff:192.0.2.55", 60));
	assert_false(failure(b, "192.0.2.55", 61));
	assert_false(failure(b, "::ffff:192.0.2.55", 62));
	assert_true(failure(b, "192.0.2.55", 63));
	assert_true(banned(b, "::ffff:192.0.2.55", 64));
	/* but IPv4 hosts are not grouped */
	assert_false(banned(b, "192.0.2.56", 64));
	ban_list_free(b);
}

static void test_ban_lift(void **state)
{
	struct ban_list *b = mk(2, 60, 300, 0);

	assert_false(failure(b, "192.0.2.1", 0));
	assert_true(failure(b, "192.0.2.1", 1));
	assert_false(failure(b, "2001:db8::5", 1));
	assert_true(failure(b, "2001:db8::6", 2));
	assert_int_equal(ban_count(b, 3), 2);

	assert_int_equal(ban_lift(b, "192.0.2.1"), 0);
	assert_false(banned(b, "192.0.2.1", 3));
	assert_int_equal(ban_lift(b, "192.0.2.1"), ENOENT);
	/* forgiven completely: one failure does not re-ban */
	assert_false(failure(b, "192.0.2.1", 4));

	/* the form the listing prints works, as does any host of the /64 */
	assert_int_equal(ban_lift(b, "2001:db8::/64"), 0);
	assert_false(banned(b, "2001:db8::5", 5));
	assert_true(failure(b, "2001:db8::7", 6) || failure(b, "2001:db8::7", 7));
	assert_int_equal(ban_lift(b, "2001:db8::abcd"), 0);
	assert_false(banned(b, "2001:db8::7", 8));

	assert_int_equal(ban_lift(b, "192.0.2.200"), ENOENT);
	assert_int_equal(ban_lift(b, "2001:db8:ffff::1"), ENOENT);
	assert_int_equal(ban_lift(b, "not an address"), EINVAL);
	assert_int_equal(ban_lift(b, "192.0.2.1/24"), EINVAL);
	assert_int_equal(ban_lift(b, ""), EINVAL);
	assert_int_equal(ban_lift(b, NULL), EINVAL);
	ban_list_free(b);
}

static void test_success_resets(void **state)
{
	struct ban_list *b = mk(5, 60, 300, 0);
	struct addr a;
	struct rows r = { 0 };

	for (int i = 0; i < 4; i++)
		assert_false(failure(b, "192.0.2.20", (uint64_t)i));
	ban_record_success(b, sa_of(&a, "192.0.2.20"));
	ban_list_each(b, 10, true, collect, &r);
	assert_int_equal(r.n, 0); /* nothing held for it any more */
	for (int i = 0; i < 4; i++)
		assert_false(failure(b, "192.0.2.20", 10 + (uint64_t)i));
	assert_false(banned(b, "192.0.2.20", 20));
	assert_true(failure(b, "192.0.2.20", 21));

	/* a success from a banned source does not lift the ban */
	ban_record_success(b, sa_of(&a, "192.0.2.20"));
	assert_true(banned(b, "192.0.2.20", 22));
	/* unknown families are ignored */
	struct sockaddr none = { .sa_family = AF_UNIX };
	assert_false(ban_record_failure(b, &none, 0));
	assert_false(ban_is_banned(b, &none, 0));
	assert_false(ban_record_failure(b, NULL, 0));
	ban_record_success(b, NULL);
	ban_list_free(b);
}

static void test_listing(void **state)
{
	struct ban_list *b = mk(3, 60, 100, 0);
	struct rows r = { 0 };

	assert_false(failure(b, "192.0.2.1", 1000));
	assert_false(failure(b, "192.0.2.1", 1000));
	assert_false(failure(b, "192.0.2.2", 1000));
	assert_false(failure(b, "192.0.2.2", 1000));
	assert_true(failure(b, "192.0.2.2", 1000));

	ban_list_each(b, 1500, false, collect, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.e[0].addr, "192.0.2.2");
	assert_int_equal(r.e[0].failures, 3);
	assert_int_equal(r.e[0].banned_for_s, 100); /* 99.5 s, rounded up */

	memset(&r, 0, sizeof(r));
	ban_list_each(b, 1500, true, collect, &r);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.e[1].addr, "192.0.2.1");
	assert_int_equal(r.e[1].failures, 2);
	assert_int_equal(r.e[1].banned_for_s, 0);

	/* past the window the suspect is no longer listed */
	memset(&r, 0, sizeof(r));
	ban_list_each(b, 1000 + 61000, true, collect, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.e[0].addr, "192.0.2.2");
	assert_int_equal(ban_count(b, 1000 + 100000), 0);
	ban_list_free(b);
}

static void test_configure(void **state)
{
	struct ban_list *b = mk(3, 60, 100, 0);
	struct ban_cfg cfg = { .fail_limit = 2, .window_s = 60, .ban_s = 10 };

	assert_false(failure(b, "192.0.2.1", 0));
	assert_false(failure(b, "192.0.2.1", 1));
	assert_true(failure(b, "192.0.2.1", 2));
	/* a lower limit applies at once; a running ban keeps its end */
	ban_list_configure(b, &cfg);
	assert_false(failure(b, "192.0.2.2", 3));
	assert_true(failure(b, "192.0.2.2", 4));
	assert_true(banned(b, "192.0.2.1", 99000));
	assert_false(banned(b, "192.0.2.2", 10004));
	/* zeros mean defaults (10 in 60 s) */
	ban_list_configure(b, &(struct ban_cfg){ 0 });
	for (int i = 0; i < 9; i++)
		assert_false(failure(b, "192.0.2.3", 200000 + (uint64_t)i));
	assert_true(failure(b, "192.0.2.3", 200010));
	ban_list_free(b);

	assert_int_equal(ban_list_alloc(&b, NULL), 0);
	ban_list_free(b);
	assert_int_equal(ban_list_alloc(&b, &(struct ban_cfg){ .max_entries = (size_t)1 << 30 }),
			 EINVAL);
}

static void test_memory_bound(void **state)
{
	struct ban_list *b = mk(3, 60, 600, 64);
	struct rows r = { 0 };
	char ip[64];

	/* two real attackers get banned */
	for (int i = 0; i < 3; i++) {
		failure(b, "192.0.2.66", 1000);
		failure(b, "2001:db8:66::1", 1000);
	}
	assert_true(banned(b, "192.0.2.66", 1001));

	/* then a flood of 100000 one-off sources (IPv4 and IPv6 /64s) */
	for (int i = 0; i < 100000; i++) {
		if (i & 1)
			snprintf(ip, sizeof(ip), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		else
			snprintf(ip, sizeof(ip), "2001:db8:%x:%x::1", (i >> 16) & 0xffff, i & 0xffff);
		assert_false(failure(b, ip, 2000 + (uint64_t)i / 100));
	}
	ban_list_each(b, 3000, true, collect, &r);
	assert_true(r.n <= 64);
	assert_true(r.n >= 60);
	/* bans go last */
	assert_true(banned(b, "192.0.2.66", 3000));
	assert_true(banned(b, "2001:db8:66::1", 3000));
	assert_int_equal(ban_count(b, 3000), 2);

	/* a flood of bans: the one closest to release goes first, the
	 * table never grows */
	for (int i = 0; i < 200; i++) {
		snprintf(ip, sizeof(ip), "172.16.%d.%d", i >> 8, i & 255);
		for (int k = 0; k < 3; k++)
			failure(b, ip, 4000 + (uint64_t)i);
	}
	assert_int_equal(ban_count(b, 5000), 64);
	assert_true(banned(b, "172.16.0.199", 5000));
	assert_false(banned(b, "192.0.2.66", 5000));
	ban_list_free(b);
}

/* Issue 17: failures count per (address, user); an address holding
 * working phones loses only the offending user; a scanner walking through
 * users from one address is banned at twice the limit. */
static void test_per_user(void **state)
{
	(void)state;
	struct ban_list *b = mk(3, 60, 300, 0);
	struct addr a;
	const uint64_t t = 1000000;
	const struct sockaddr *sa = sa_of(&a, "192.0.2.50");
	assert_int_equal(ban_record_user_failure(b, sa, "1002", true, t), BAN_NONE);
	assert_int_equal(ban_record_user_failure(b, sa, "1002", true, t + 1), BAN_NONE);
	assert_int_equal(ban_record_user_failure(b, sa, "1002", true, t + 2), BAN_USER);
	assert_false(ban_is_banned(b, sa, t + 3));
	assert_true(ban_user_is_banned(b, sa, "1002", t + 3));
	assert_false(ban_user_is_banned(b, sa, "1001", t + 3));
	/* the good phone's success does not lift the bad user's ban */
	ban_record_user_success(b, sa, "1001");
	assert_true(ban_user_is_banned(b, sa, "1002", t + 4));
	struct rows r = { 0 };
	ban_list_each(b, t + 5, false, collect, &r);
	assert_int_equal(r.n, 1);
	assert_true(r.e[0].user_only);
	assert_string_equal(r.e[0].user, "1002");
	assert_string_equal(r.e[0].addr, "192.0.2.50");
	assert_int_equal(ban_count(b, t + 5), 1);
	/* the user ban ends with ban_s */
	assert_false(ban_user_is_banned(b, sa, "1002", t + 2 + 300000));
	/* ban_lift clears user bans at the address too */
	ban_record_user_failure(b, sa, "1003", true, t + 400000);
	ban_record_user_failure(b, sa, "1003", true, t + 400001);
	ban_record_user_failure(b, sa, "1003", true, t + 400002);
	assert_true(ban_user_is_banned(b, sa, "1003", t + 400003));
	assert_int_equal(ban_lift(b, "192.0.2.50"), 0);
	assert_false(ban_user_is_banned(b, sa, "1003", t + 400003));

	/* not in use: the address goes, naming the user */
	const struct sockaddr *sb = sa_of(&a, "192.0.2.51");
	ban_record_user_failure(b, sb, "1002", false, t);
	ban_record_user_failure(b, sb, "1002", false, t);
	assert_int_equal(ban_record_user_failure(b, sb, "1002", false, t), BAN_ADDR);
	assert_true(ban_is_banned(b, sb, t + 1));
	r.n = 0;
	ban_list_each(b, t + 1, false, collect, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.e[0].user, "1002");
	assert_false(r.e[0].user_only);

	/* a scanner: one failure each for many users */
	const struct sockaddr *sc = sa_of(&a, "192.0.2.52");
	char u[16];
	enum ban_verdict v = BAN_NONE;
	for (int i = 0; i < 6; i++) {
		snprintf(u, sizeof(u), "%d", 2000 + i);
		v = ban_record_user_failure(b, sc, u, false, t + (uint64_t)i);
	}
	assert_int_equal(v, BAN_ADDR);
	ban_list_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_user),
		cmocka_unit_test(test_ban_after_limit),
		cmocka_unit_test(test_no_ban_when_spread),
		cmocka_unit_test(test_ban_expiry),
		cmocka_unit_test(test_ipv6_grouping),
		cmocka_unit_test(test_ban_lift),
		cmocka_unit_test(test_success_resets),
		cmocka_unit_test(test_listing),
		cmocka_unit_test(test_configure),
		cmocka_unit_test(test_memory_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
