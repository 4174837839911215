/*
 * Tests of the one duration format (core/base/duration.h) the CLI prints
 * and the web UI mirrors: the unit boundaries, zero padding of the second
 * unit, and a buffer too small (always terminated, never overrun).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../core/base/duration.h"

static void is(unsigned long long s, const char *want)
{
	char out[32];
	memset(out, 'x', sizeof(out));
	duration_format(out, sizeof(out), s);
	if (strcmp(out, want))
		fail_msg("%llu s: '%s', want '%s'", s, out, want);
}

static void test_units(void **state)
{
	(void)state;
	is(0, "0s");
	is(45, "45s");
	is(59, "59s");
	is(60, "1m 00s");
	is(298, "4m 58s");
	is(3599, "59m 59s");
	is(3600, "1h 00m");
	is(3720, "1h 02m");
	is(86399, "23h 59m");
	is(86400, "1d 00h");
	is(2 * 86400 + 3 * 3600 + 59, "2d 03h");
}

static void test_small_buffer(void **state)
{
	(void)state;
	char out[4] = "zzz";
	duration_format(out, sizeof(out), 298);
	assert_string_equal(out, "4m ");
	duration_format(out, 0, 298); /* nothing written */
	assert_string_equal(out, "4m ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_small_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
