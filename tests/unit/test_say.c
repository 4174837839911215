/* Unit tests for apps/common/say.c and the prompt manifest: the exact
 * prompt lists for numbers, counts and dates (Asterisk's English rules,
 * with the time zone fixed to UTC), that a list that does not fit is
 * left untouched, that every name say.c can produce is in the manifest,
 * and that apps/common/manifest.c and sounds/manifest.txt list the same
 * prompts in the same order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../apps/common/manifest.h"
#include "../../apps/common/say.h"

#define MAXN 32

/* The list as one string, "a b c", to compare in one assertion with a
 * readable failure. */
static const char *joined(const struct say_buf *b)
{
	static char s[1024];
	size_t len = 0;
	s[0] = 0;
	for (size_t i = 0; i < b->n; i++)
		len += (size_t)snprintf(s + len, sizeof(s) - len, "%s%s", i ? " " : "",
					b->name[i]);
	return s;
}

static const char *number(unsigned long n)
{
	static const char *names[MAXN];
	static struct say_buf b;
	say_init(&b, names, MAXN);
	assert_int_equal(say_number(&b, n), 0);
	return joined(&b);
}

static void test_numbers(void **state)
{
	(void)state;
	assert_string_equal(number(0), "digits/0");
	assert_string_equal(number(7), "digits/7");
	assert_string_equal(number(13), "digits/13");
	assert_string_equal(number(20), "digits/20");
	assert_string_equal(number(21), "digits/20 digits/1");
	assert_string_equal(number(100), "digits/1 digits/hundred");
	assert_string_equal(number(115), "digits/1 digits/hundred digits/15");
	assert_string_equal(number(1000), "digits/1 digits/thousand");
	assert_string_equal(number(1999),
			    "digits/1 digits/thousand digits/9 digits/hundred digits/90 digits/9");
	assert_string_equal(number(2025), "digits/2 digits/thousand digits/20 digits/5");
	assert_string_equal(number(1000000), "digits/1 digits/million");
	assert_string_equal(number(999999999),
			    "digits/9 digits/hundred digits/90 digits/9 digits/million "
			    "digits/9 digits/hundred digits/90 digits/9 digits/thousand "
			    "digits/9 digits/hundred digits/90 digits/9");

	const char *names[MAXN];
	struct say_buf b;
	say_init(&b, names, MAXN);
	assert_int_equal(say_number(&b, 1000000000ul), EINVAL);
	assert_int_equal(b.n, 0);
}

static void test_no_room_leaves_list(void **state)
{
	(void)state;
	const char *names[4];
	struct say_buf b;
	say_init(&b, names, 4);
	assert_int_equal(say_add(&b, "vm-youhave"), 0);
	/* 1999 is six names: nothing of it goes in */
	assert_int_equal(say_number(&b, 1999), ENOBUFS);
	assert_string_equal(joined(&b), "vm-youhave");
	assert_int_equal(say_number(&b, 115), 0);
	assert_string_equal(joined(&b), "vm-youhave digits/1 digits/hundred digits/15");
	assert_int_equal(say_add(&b, "x"), ENOBUFS);

	const char *big[SAY_NUMBER_MAX];
	say_init(&b, big, SAY_NUMBER_MAX);
	assert_int_equal(say_number(&b, 777777777), 0); /* the longest fits */
}

static const char *count(unsigned long n, const char *adj)
{
	static const char *names[MAXN];
	static struct say_buf b;
	say_init(&b, names, MAXN);
	assert_int_equal(say_add(&b, "vm-youhave"), 0);
	assert_int_equal(say_count(&b, n, adj, "vm-message", "vm-messages"), 0);
	return joined(&b);
}

static void test_counts(void **state)
{
	(void)state;
	assert_string_equal(count(0, "vm-INBOX"), "vm-youhave vm-no vm-INBOX vm-messages");
	assert_string_equal(count(1, "vm-INBOX"), "vm-youhave digits/1 vm-INBOX vm-message");
	assert_string_equal(count(5, "vm-Old"), "vm-youhave digits/5 vm-Old vm-messages");
	assert_string_equal(count(21, NULL), "vm-youhave digits/20 digits/1 vm-messages");
}

static const char *date(time_t when, time_t now)
{
	static const char *names[MAXN];
	static struct say_buf b;
	say_init(&b, names, MAXN);
	assert_int_equal(say_datetime(&b, when, now), 0);
	assert_true(b.n <= SAY_DATETIME_MAX);
	return joined(&b);
}

static void test_dates(void **state)
{
	(void)state;
	const time_t now = 1742472000; /* Thursday 2025-03-20 12:00 UTC */
	/* Friday 2025-03-14 15:09:26 */
	assert_string_equal(date(1741964966, now),
			    "digits/day-5 digits/mon-2 digits/h-14 digits/at digits/3 digits/oh "
			    "digits/9 digits/p-m");
	/* today at midnight */
	assert_string_equal(date(1742428800, now),
			    "digits/today digits/at digits/12 digits/oclock digits/a-m");
	/* yesterday, 23:45 */
	assert_string_equal(date(1742427900, now),
			    "digits/yesterday digits/at digits/11 digits/40 digits/5 digits/p-m");
	/* Tuesday 2024-12-31 at noon: the 31st is "thirty first" */
	assert_string_equal(date(1735646400, now),
			    "digits/day-2 digits/mon-11 digits/30 digits/h-1 digits/at digits/12 "
			    "digits/oclock digits/p-m");
	/* Saturday 2025-03-01 00:00 */
	assert_string_equal(date(1740787200, now),
			    "digits/day-6 digits/mon-2 digits/h-1 digits/at digits/12 digits/oclock "
			    "digits/a-m");
}

static void test_ordinals(void **state)
{
	(void)state;
	const char *names[MAXN];
	struct say_buf b;
	say_init(&b, names, MAXN);
	assert_int_equal(say_ordinal_day(&b, 22), 0);
	assert_int_equal(say_ordinal_day(&b, 30), 0);
	assert_int_equal(say_ordinal_day(&b, 20), 0);
	assert_string_equal(joined(&b), "digits/20 digits/h-2 digits/h-30 digits/h-20");
	assert_int_equal(say_ordinal_day(&b, 0), EINVAL);
	assert_int_equal(say_ordinal_day(&b, 32), EINVAL);
}

static bool in_manifest(const char *name)
{
	for (size_t i = 0; apps_prompts[i]; i++)
		if (!strcmp(apps_prompts[i], name))
			return true;
	return false;
}

/* Whatever say.c says has a recording listed (so it is converted at
 * start): every number to 1000, every day of a year at every hour and
 * several minutes. */
static void test_every_name_in_manifest(void **state)
{
	(void)state;
	const char *names[MAXN];
	struct say_buf b;
	for (unsigned long n = 0; n <= 1000; n++) {
		say_init(&b, names, MAXN);
		assert_int_equal(say_number(&b, n * 1001), 0);
		for (size_t i = 0; i < b.n; i++)
			if (!in_manifest(b.name[i]))
				fail_msg("%s (from %lu) is not in the manifest", b.name[i], n * 1001);
	}
	const time_t now = 1767225600; /* 2026-01-01 */
	for (time_t t = now - 366 * 86400; t < now + 86400; t += 3600 + 7 * 60) {
		say_init(&b, names, MAXN);
		assert_int_equal(say_datetime(&b, t, now), 0);
		for (size_t i = 0; i < b.n; i++)
			if (!in_manifest(b.name[i]))
				fail_msg("%s (time %lld) is not in the manifest", b.name[i],
					 (long long)t);
	}
	assert_true(in_manifest("vm-no") && in_manifest("vm-message") &&
		    in_manifest("vm-messages") && in_manifest("vm-INBOX") && in_manifest("vm-Old"));
}

/* sounds/manifest.txt (the readable one) and manifest.c agree. */
static void test_manifest_files_agree(void **state)
{
	(void)state;
	char path[512], line[512];
	const char *slash = strrchr(__FILE__, '/');
	snprintf(path, sizeof(path), "%.*s/../../sounds/manifest.txt",
		 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	size_t i = 0;
	while (fgets(line, sizeof(line), f)) {
		char name[256];
		if (line[0] == '#' || sscanf(line, "%255s", name) != 1)
			continue;
		if (!apps_prompts[i])
			fail_msg("%s is in manifest.txt, not in manifest.c", name);
		if (strcmp(apps_prompts[i], name))
			fail_msg("entry %zu: manifest.txt has %s, manifest.c %s", i, name,
				 apps_prompts[i]);
		i++;
	}
	fclose(f);
	if (apps_prompts[i])
		fail_msg("%s is in manifest.c, not in manifest.txt", apps_prompts[i]);
	assert_true(i > 100);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_no_room_leaves_list),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_ordinals),
		cmocka_unit_test(test_every_name_in_manifest),
		cmocka_unit_test(test_manifest_files_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
