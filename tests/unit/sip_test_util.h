/*
 * Shared helpers for the SIP message tests (test_sip_msg.c,
 * test_sip_torture.c, test_sip_uri.c): loading a message of the RFC 4475 /
 * RFC 5118 torture corpus in tests/unit/data/torture/ (or $HF_TORTURE_DIR),
 * parsing a file or a string with the expected return code, and comparing
 * a slice with a string. Header-only (static inline) because each test
 * file is its own binary; include it once, from the test's .c file.
 */
#ifndef HF_TESTS_SIP_TEST_UTIL_H
#define HF_TESTS_SIP_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/sip/msg.h"

/* --- helpers ------------------------------------------------------------ */

static char data_dir[512] = "tests/unit/data/torture";

struct blob {
	char *p;
	size_t l;
};

static inline struct blob load(const char *name)
{
	char path[640];
	snprintf(path, sizeof(path), "%s/%s.dat", data_dir, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (run from the repository root)", path);
	struct blob b = { malloc(SIP_MAX_MSG + 1), 0 };
	assert_non_null(b.p);
	b.l = fread(b.p, 1, SIP_MAX_MSG + 1, f);
	fclose(f);
	return b;
}

/* Parses a torture file; asserts the return code. */
static inline struct sip_msg *parse_file(const char *name, int want)
{
	struct blob b = load(name);
	struct sip_msg *m = NULL;
	int err = sip_msg_parse(&m, b.p, b.l);
	free(b.p);
	if (err != want)
		fail_msg("%s: sip_msg_parse returned %d, expected %d", name, err, want);
	return err ? NULL : m;
}

static inline struct sip_msg *parse_str(const char *s)
{
	struct sip_msg *m = NULL;
	int err = sip_msg_parse(&m, s, strlen(s));
	if (err)
		fail_msg("sip_msg_parse: %d for\n%s", err, s);
	return m;
}

static inline void assert_pl(struct pl got, const char *want)
{
	if (!got.p || got.l != strlen(want) || memcmp(got.p, want, got.l) != 0)
		fail_msg("got \"%.*s\", expected \"%s\"", (int)got.l, got.p ? got.p : "", want);
}

static inline void assert_valid(const struct sip_msg *m, const char *name)
{
	if (m->error)
		fail_msg("%s: unexpected error \"%s\"", name, m->error);
	assert_int_equal(m->error_status, 0);
}

/* Takes the corpus directory from $HF_TORTURE_DIR when set (call first
 * thing in main). */
static inline void torture_dir_from_env(void)
{
	const char *dir = getenv("HF_TORTURE_DIR");
	if (dir)
		snprintf(data_dir, sizeof(data_dir), "%s", dir);
}

#endif
