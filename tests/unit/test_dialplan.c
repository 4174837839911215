/* Unit tests for the dialplan: destination strings (form only), the
 * numbering plan snapshot, and the routing seam's answers for a number
 * in the plan, an extension the plan does not know yet, a malformed
 * entry and an unknown number. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../core/base/dest.h"
#include "../../core/dialplan/numplan.h"
#include "../../core/dialplan/route.h"

static void test_dest_parse(void **state)
{
	(void)state;
	struct dest d;
	char why[160], out[DEST_MAX];
	assert_int_equal(dest_parse("ext:1001", &d, why, sizeof(why)), 0);
	assert_string_equal(d.kind, "ext");
	assert_string_equal(d.id, "1001");
	dest_format(&d, out, sizeof(out));
	assert_string_equal(out, "ext:1001");
	assert_int_equal(dest_parse("app:echo", &d, why, sizeof(why)), 0);
	assert_string_equal(d.kind, "app");
	assert_int_equal(dest_parse("hangup", &d, why, sizeof(why)), 0);
	assert_string_equal(d.kind, "hangup");
	assert_string_equal(d.id, "");
	dest_format(&d, out, sizeof(out));
	assert_string_equal(out, "hangup");
	assert_int_equal(dest_parse("vm:*98", &d, why, sizeof(why)), 0);
	assert_string_equal(d.id, "*98");

	struct {
		const char *s, *says;
	} bad[] = {
		{ "", "empty" },
		{ "1001", "not kind:id" },
		{ ":1001", "not kind:id" },
		{ "EXT:1001", "lower-case" },
		{ "ext:", "1 to 47" },
		{ "ext:10 01", "may hold" },
		{ "ext:1001;x=<y>", "may hold" },
		{ "averyveryverylongkind:1", "not kind:id" },
		{ "ext:123456789012345678901234567890123456789012345678", "1 to 47" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_equal(dest_parse(bad[i].s, &d, why, sizeof(why)), EINVAL);
		if (!strstr(why, bad[i].says))
			fail_msg("'%s': '%s' does not say '%s'", bad[i].s, why, bad[i].says);
	}
	assert_int_equal(dest_parse(NULL, &d, NULL, 0), EINVAL);
}

static void test_numplan(void **state)
{
	(void)state;
	struct numplan *p;
	assert_int_equal(numplan_alloc(&p), 0);
	assert_null(numplan_find(p, "1001"));
	/* out of order on purpose: lookups must still find every one */
	const char *nums[] = { "2001", "*43", "1001", "800", "1002", "*97", "10" };
	for (size_t i = 0; i < 7; i++) {
		char dest[32];
		snprintf(dest, sizeof(dest), "ext:%s", nums[i]);
		assert_int_equal(numplan_add(p, nums[i], dest), 0);
	}
	assert_int_equal(numplan_count(p), 7);
	for (size_t i = 0; i < 7; i++) {
		char dest[32];
		snprintf(dest, sizeof(dest), "ext:%s", nums[i]);
		assert_string_equal(numplan_find(p, nums[i]), dest);
	}
	assert_null(numplan_find(p, "100"));
	assert_null(numplan_find(p, ""));
	/* replacing keeps one entry */
	assert_int_equal(numplan_add(p, "*43", "app:echo"), 0);
	assert_int_equal(numplan_count(p), 7);
	assert_string_equal(numplan_find(p, "*43"), "app:echo");
	assert_int_equal(numplan_add(p, "", "app:echo"), EINVAL);
	assert_int_equal(numplan_add(p, "1", "ext:123456789012345678901234567890123456789012345678901234567890123456789"),
			 EINVAL);
	numplan_free(p);
	numplan_free(NULL);
}

static void test_route(void **state)
{
	(void)state;
	struct numplan *p;
	struct dest d;
	assert_int_equal(numplan_alloc(&p), 0);
	assert_int_equal(numplan_add(p, "1001", "ext:1001"), 0);
	assert_int_equal(numplan_add(p, "*43", "app:echo"), 0);
	assert_int_equal(numplan_add(p, "700", "not a destination"), 0);
	route_dialled(p, NULL, "1002", "1001", &d);
	assert_string_equal(d.kind, "ext");
	assert_string_equal(d.id, "1001");
	route_dialled(p, NULL, "1002", "*43", &d);
	assert_string_equal(d.kind, "app");
	assert_string_equal(d.id, "echo");
	/* unknown, and malformed in the plan: the announcement */
	char out[DEST_MAX];
	route_dialled(p, NULL, "1002", "5555", &d);
	dest_format(&d, out, sizeof(out));
	assert_string_equal(out, ROUTE_UNKNOWN);
	route_dialled(p, NULL, "1002", "700", &d);
	dest_format(&d, out, sizeof(out));
	assert_string_equal(out, ROUTE_UNKNOWN);
	/* no plan at all */
	route_dialled(NULL, NULL, "1002", "1001", &d);
	dest_format(&d, out, sizeof(out));
	assert_string_equal(out, ROUTE_UNKNOWN);
	numplan_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dest_parse),
		cmocka_unit_test(test_numplan),
		cmocka_unit_test(test_route),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
