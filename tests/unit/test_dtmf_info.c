/*
 * Unit tests for DTMF in SIP INFO bodies (core/sip/dtmf_info.c): the
 * application/dtmf-relay and application/dtmf variants phones send, the
 * Content-Type dispatch, garbage that must be refused, and the builder's
 * output read back by the parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/sip/dtmf_info.h"

static int relay(const char *body, struct dtmf_info *out)
{
	memset(out, 0x55, sizeof(*out));
	return dtmf_info_parse_relay(out, pl_from(body));
}

static void expect_relay(const char *body, char digit, uint32_t dur)
{
	struct dtmf_info di;
	int err = relay(body, &di);
	if (err)
		fail_msg("refused: \"%s\"", body);
	assert_int_equal(di.digit, digit);
	assert_int_equal(di.duration_ms, dur);
}

static void test_relay_forms(void **state)
{
	(void)state;
	expect_relay("Signal=5\r\nDuration=160\r\n", '5', 160);
	expect_relay("Signal=5\r\nDuration=160", '5', 160);   /* no final CRLF */
	expect_relay("signal=1\nduration=250\n", '1', 250);   /* bare LF, case */
	expect_relay("SIGNAL = 9 \r\n DURATION = 100 \r\n", '9', 100);
	expect_relay("Signal=*\r\nDuration=100\r\n", '*', 100);
	expect_relay("Signal=#\r\n", '#', 0);
	expect_relay("Signal=A\r\n", 'A', 0);
	expect_relay("Signal=d\r\n", 'D', 0);
	expect_relay("Signal= 10\r\nDuration= 200\r\n", '*', 200);
	expect_relay("Signal=11\r\n", '#', 0);
	expect_relay("Signal=12\r\n", 'A', 0);
	expect_relay("Signal=0\r\n", '0', 0);
	expect_relay("Signal=16\r\n", '!', 0);
	expect_relay("Signal=!\r\n", '!', 0);
	expect_relay("Signal=hf\r\n", '!', 0);
	expect_relay("Signal=FLASH\r\n", '!', 0);
	expect_relay("Signal=\t7\t\r\n", '7', 0);
	/* order, unknown keys, blank lines, CR only */
	expect_relay("Duration=300\r\n\r\nFoo=bar\r\nSignal=3\r\n", '3', 300);
	expect_relay("Signal=4\rDuration=90\r", '4', 90);
	expect_relay("junk line\r\nSignal=8\r\n", '8', 0);
	/* the first Signal and the first Duration count */
	expect_relay("Signal=2\r\nSignal=3\r\nDuration=5\r\nDuration=6\r\n", '2', 5);
	/* a silly duration does not cost the digit */
	expect_relay("Signal=6\r\nDuration=abc\r\n", '6', 0);
	expect_relay("Signal=6\r\nDuration=-5\r\n", '6', 0);
	expect_relay("Signal=6\r\nDuration=\r\n", '6', 0);
	expect_relay("Signal=6\r\nDuration=99999999999999999999999\r\n", '6',
		     DTMF_INFO_MAX_DURATION_MS);
	expect_relay("Signal=6\r\nDuration=60001\r\n", '6', DTMF_INFO_MAX_DURATION_MS);

	struct dtmf_info di;
	assert_int_equal(relay("Signal=#\r\n", &di), 0);
	assert_int_equal(di.code, 11);
	assert_int_equal(relay("Signal=16", &di), 0);
	assert_int_equal(di.code, 16);
}

static void test_relay_garbage(void **state)
{
	(void)state;
	struct dtmf_info di;
	const char *bad[] = {
		"", "\r\n", "Duration=160\r\n", "Signal=\r\n", "Signal=17\r\n",
		"Signal=99\r\n", "Signal=E\r\n", "Signal=55\r\n", "Signal=5 5\r\n",
		"Signal=-1\r\n", "Signal=x\r\n", "Signal\r\n", "Sig nal=5\r\n",
		"Signals=5\r\n", "XSignal=5\r\n", "Signal=0x5\r\n", "5", "=5",
		"Signal=1000\r\n", "Signal=hook\r\n",
		"Signal=E\r\nSignal=5\r\n", /* the first one counts, and is bad */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (relay(bad[i], &di) != EBADMSG)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
	assert_int_equal(dtmf_info_parse_relay(&di, PL_NULL), EBADMSG);
	assert_int_equal(dtmf_info_parse_relay(NULL, PL("Signal=1")), EBADMSG);
	/* a NUL inside the value is no digit, and nothing is read past it */
	static const char nul[] = { 'S', 'i', 'g', 'n', 'a', 'l', '=', '5', '\0', '1' };
	assert_int_equal(dtmf_info_parse_relay(&di, (struct pl){ nul, sizeof(nul) }), EBADMSG);
	assert_int_equal(dtmf_info_parse_relay(&di, (struct pl){ nul, 8 }), 0);
	assert_int_equal(di.digit, '5');
	/* the slice ends where it says: "Signal=1" cut before its value */
	assert_int_equal(dtmf_info_parse_relay(&di, (struct pl){ "Signal=1", 7 }), EBADMSG);

	/* random bytes never crash and never yield a non-digit */
	uint32_t x = 0x9e3779b9;
	char buf[64];
	for (int i = 0; i < 100000; i++) {
		size_t n = (x = x * 1664525u + 1013904223u) >> 26;
		for (size_t k = 0; k < n; k++) {
			x = x * 1664525u + 1013904223u;
			buf[k] = "Signal=Duration0123456789*#ABCDabcd\r\n =!x"[(x >> 16) % 41];
		}
		if (dtmf_info_parse_relay(&di, (struct pl){ buf, n }) == 0)
			assert_non_null(strchr("0123456789*#ABCD!", di.digit));
	}
}

static void test_plain(void **state)
{
	(void)state;
	struct dtmf_info di;
	assert_int_equal(dtmf_info_parse_plain(&di, PL("5")), 0);
	assert_int_equal(di.digit, '5');
	assert_int_equal(di.duration_ms, 0);
	assert_int_equal(dtmf_info_parse_plain(&di, PL(" 7\r\n")), 0);
	assert_int_equal(di.digit, '7');
	assert_int_equal(dtmf_info_parse_plain(&di, PL("10")), 0);
	assert_int_equal(di.digit, '*');
	assert_int_equal(dtmf_info_parse_plain(&di, PL("11\r\n")), 0);
	assert_int_equal(di.digit, '#');
	assert_int_equal(dtmf_info_parse_plain(&di, PL("#")), 0);
	assert_int_equal(di.digit, '#');
	assert_int_equal(dtmf_info_parse_plain(&di, PL("b")), 0);
	assert_int_equal(di.digit, 'B');
	assert_int_equal(dtmf_info_parse_plain(&di, PL("")), EBADMSG);
	assert_int_equal(dtmf_info_parse_plain(&di, PL("12 3")), EBADMSG);
	assert_int_equal(dtmf_info_parse_plain(&di, PL("Signal=5")), EBADMSG);
	assert_int_equal(dtmf_info_parse_plain(&di, PL("17")), EBADMSG);
	assert_int_equal(dtmf_info_parse_plain(&di, PL_NULL), EBADMSG);
}

static void test_ctype_dispatch(void **state)
{
	(void)state;
	struct dtmf_info di;
	assert_int_equal(dtmf_info_parse(&di, PL("application/dtmf-relay"),
					 PL("Signal=3\r\nDuration=100\r\n")), 0);
	assert_int_equal(di.digit, '3');
	assert_int_equal(dtmf_info_parse(&di, PL("Application/DTMF-Relay ; charset=utf-8"),
					 PL("Signal=4\r\n")), 0);
	assert_int_equal(di.digit, '4');
	assert_int_equal(dtmf_info_parse(&di, PL("application/dtmf"), PL("9")), 0);
	assert_int_equal(di.digit, '9');
	assert_int_equal(dtmf_info_parse(&di, PL(" APPLICATION/DTMF "), PL("*")), 0);
	assert_int_equal(di.digit, '*');
	/* a relay body under the plain type is not a digit */
	assert_int_equal(dtmf_info_parse(&di, PL("application/dtmf"), PL("Signal=1")), EBADMSG);
	assert_int_equal(dtmf_info_parse(&di, PL("application/sdp"), PL("5")), ENOTSUP);
	assert_int_equal(dtmf_info_parse(&di, PL("application/dtmf-relayx"), PL("5")), ENOTSUP);
	assert_int_equal(dtmf_info_parse(&di, PL("application/dtm"), PL("5")), ENOTSUP);
	assert_int_equal(dtmf_info_parse(&di, PL(""), PL("5")), ENOTSUP);
	assert_int_equal(dtmf_info_parse(&di, PL_NULL, PL("5")), ENOTSUP);
}

static void test_build(void **state)
{
	(void)state;
	struct sbuf b;
	sbuf_init(&b);
	assert_int_equal(dtmf_info_build(&b, '5', 160), 0);
	assert_string_equal(b.p, "Signal=5\r\nDuration=160\r\n");
	sbuf_reset(&b);
	assert_int_equal(dtmf_info_build(&b, 'c', 0), 0);
	assert_string_equal(b.p, "Signal=C\r\n");
	sbuf_reset(&b);
	assert_int_equal(dtmf_info_build(&b, '!', 500), 0);
	assert_string_equal(b.p, "Signal=16\r\nDuration=500\r\n");
	sbuf_reset(&b);
	assert_int_equal(dtmf_info_build(&b, 'x', 100), EINVAL);
	assert_int_equal(dtmf_info_build(&b, '\0', 100), EINVAL);
	assert_int_equal(b.len, 0);
	assert_int_equal(dtmf_info_build(NULL, '1', 100), EINVAL);

	/* everything built reads back the same */
	const char *keys = "0123456789*#ABCD!";
	for (unsigned i = 0; keys[i]; i++) {
		struct dtmf_info di;
		sbuf_reset(&b);
		assert_int_equal(dtmf_info_build(&b, keys[i], 40 + i), 0);
		assert_int_equal(dtmf_info_parse(&di, PL(DTMF_INFO_CTYPE_RELAY),
						 (struct pl){ b.p, b.len }), 0);
		assert_int_equal(di.digit, keys[i]);
		assert_int_equal(di.code, i);
		assert_int_equal(di.duration_ms, 40 + i);
	}
	sbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relay_forms),
		cmocka_unit_test(test_relay_garbage),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_ctype_dispatch),
		cmocka_unit_test(test_build),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
