/*
 * Shared helpers for the DTMF tests (test_dtmf.c, test_dtmf_inband.c): a
 * recorder of DTMF events that checks, as they come, that every key press
 * gives one BEGIN and then one END for the same digit, and a deterministic
 * xorshift32 generator for test signals and packet orders. Header-only
 * (static inline) because each test file is its own binary; include it
 * once, from the test's .c file.
 */
#ifndef HF_TESTS_DTMF_TEST_UTIL_H
#define HF_TESTS_DTMF_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../core/media/dtmf/dtmf.h"

/* Records events and checks the BEGIN/END pairing as they come. */
struct rec {
	char begins[64];
	unsigned nbegin, nend;
	bool open;
	char cur;
	uint32_t dur[64]; /* END durations, in order */
	int level; /* of the last BEGIN */
};

static inline void rec_h(const struct dtmf_ev *ev, void *arg)
{
	struct rec *r = arg;
	if (ev->type == DTMF_BEGIN) {
		assert_false(r->open);
		assert_true(dtmf_code(ev->digit) >= 0);
		assert_int_equal(dtmf_code(ev->digit), ev->code);
		r->open = true;
		r->cur = ev->digit;
		r->level = ev->level;
		if (r->nbegin < sizeof(r->begins) - 1)
			r->begins[r->nbegin] = ev->digit;
		r->nbegin++;
	} else {
		assert_true(r->open);
		assert_int_equal(ev->digit, r->cur);
		r->open = false;
		if (r->nend < 64)
			r->dur[r->nend] = ev->duration_ms;
		r->nend++;
	}
}

/* xorshift32: deterministic; *state must not be 0. */
static inline uint32_t xorshift32(uint32_t *state)
{
	uint32_t x = *state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

#endif
