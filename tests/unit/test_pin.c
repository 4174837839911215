/*
 * Tests of the voicemail PIN policy (core/base/pin.h): every kind of weak
 * PIN is refused with its own reason, good PINs pass, the minimum length
 * follows the setting within its range, and generated PINs pass the
 * policy, have the length asked for and differ from each other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "../../core/base/pin.h"

/* pin is refused and the reason contains want. */
static void refused(const char *pin, const char *ext, unsigned min, const char *want)
{
	const char *why = NULL;
	int rc = pin_policy_check(pin, ext, min, &why);
	if (rc != EINVAL)
		fail_msg("'%s' (ext %s) accepted", pin, ext ? ext : "-");
	assert_non_null(why);
	assert_int_equal(strncmp(why, "pin: ", 5), 0);
	if (!strstr(why, want))
		fail_msg("'%s': reason '%s' lacks '%s'", pin, why, want);
}

static void accepted(const char *pin, const char *ext, unsigned min)
{
	const char *why = "untouched";
	int rc = pin_policy_check(pin, ext, min, &why);
	if (rc)
		fail_msg("'%s' refused: %s", pin, why);
	assert_null(why);
}

static void test_weak_refused(void **state)
{
	(void)state;
	refused("12a456", NULL, 0, "digits only");
	refused("", NULL, 0, "at least 6");
	refused("73051", NULL, 0, "at least 6");
	refused("1234567890123456", NULL, 0, "at most 15");
	refused("111111", NULL, 0, "one digit repeated");
	refused("0000000", NULL, 0, "one digit repeated");
	refused("123456", NULL, 0, "run of digits");
	refused("987654", NULL, 0, "run of digits");
	refused("890123", NULL, 0, "run of digits");  /* ascending, wrapping */
	refused("210987", NULL, 0, "run of digits");  /* descending, wrapping */
	refused("121212", NULL, 0, "pattern repeated");
	refused("123123", NULL, 0, "pattern repeated");
	refused("1231231", NULL, 0, "pattern repeated"); /* last copy cut short */
	refused("100110", "1001", 0, "extension number"); /* contains it */
	refused("610015", "1001", 0, "extension number");
	refused("731005", "12731005999", 0, "extension number"); /* part of it */
	refused("12731005999", "12731005999", 0, "extension number"); /* itself */
	refused(NULL, NULL, 0, "missing");
}

static void test_good_accepted(void **state)
{
	(void)state;
	accepted("730519", "1001", 0);
	accepted("482916", NULL, 0);
	accepted("1357924680", "1001", 0);
	accepted("112233", NULL, 0);  /* pairs, not a period: allowed */
	accepted("100300", "1002", 0); /* "1002" is not in it */
	accepted("123457", NULL, 0);  /* a run broken by one digit */
}

static void test_min_length_setting(void **state)
{
	(void)state;
	accepted("7305", NULL, 4);
	refused("730", NULL, 4, "at least 4");
	refused("7305", NULL, 0, "at least 6");
	refused("73051", NULL, 6, "at least 6");
	refused("730519", NULL, 8, "at least 8");
	accepted("73051964", NULL, 8);
	/* outside 4..12 is clamped: 2 means 4, 20 means 12 */
	refused("730", NULL, 2, "at least 4");
	refused("73051964283", NULL, 20, "at least 12");
	accepted("730519642831", NULL, 20);
}

static void test_generate(void **state)
{
	(void)state;
	char seen[64][16];
	for (int i = 0; i < 64; i++) {
		assert_int_equal(pin_generate(seen[i], sizeof(seen[i]), 0), 0);
		assert_int_equal(strlen(seen[i]), PIN_MIN_DEFAULT);
		accepted(seen[i], NULL, 0);
	}
	/* 64 draws from about 990000 PINs: a repeat means a broken source */
	for (int i = 0; i < 64; i++)
		for (int j = i + 1; j < 64; j++)
			if (!strcmp(seen[i], seen[j]))
				fail_msg("generated the same PIN twice: %s", seen[i]);
	char p[16];
	assert_int_equal(pin_generate(p, sizeof(p), 8), 0);
	assert_int_equal(strlen(p), 8);
	assert_int_equal(pin_generate(p, sizeof(p), 15), 0);
	assert_int_equal(strlen(p), 15);
	assert_int_equal(pin_generate(p, 6, 6), ENOSPC);
	/* for a 2-digit extension, which a random PIN often contains */
	for (int i = 0; i < 200; i++) {
		assert_int_equal(pin_generate_for(p, sizeof(p), 6, "10"), 0);
		accepted(p, "10", 6);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weak_refused),
		cmocka_unit_test(test_good_accepted),
		cmocka_unit_test(test_min_length_setting),
		cmocka_unit_test(test_generate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
