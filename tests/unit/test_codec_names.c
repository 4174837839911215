/* Unit tests for the codec names table and the codec list parser
 * (core/base/codec_names.c): the table and the media engine's
 * descriptors name the same codecs with the same clocks and packet
 * times (so neither can change alone), lists parse with messages that
 * name the fault, and every layer that takes a codec list (the database,
 * the settings, the negotiation) refuses the same input in the same
 * words. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../core/base/codec_names.h"
#include "../../core/base/conf.h"
#include "../../core/call/call_nego.h"
#include "../../core/media/codecs/codec.h"
#include "../../db/db.h"

/* Every descriptor has its name in the table, in the same place, and the
 * other way round; clocks, bandwidth and packet times agree. */
static void test_table_matches_descriptors(void **state)
{
	(void)state;
	size_t n = 0;
	while (codec_at(n))
		n++;
	assert_int_equal(n, codec_name_count());
	assert_null(codec_name_at(n));
	for (size_t i = 0; i < n; i++) {
		const struct codec_desc *d = codec_at(i);
		const struct codec_name *c = codec_name_at(i);
		assert_non_null(c);
		assert_string_equal(d->name, c->name);
		assert_ptr_equal(codec_name_find(d->name, strlen(d->name)), c);
		assert_ptr_equal(codec_find(pl_from(c->name), c->clock), d);
		assert_int_equal(d->rtp_clock, c->clock);
		assert_int_equal(d->pcm_rate > 8000, c->wideband);
		assert_int_equal(d->min_ptime, c->min_ptime);
		assert_int_equal(d->max_ptime, c->max_ptime);
	}
	/* the limits fit the fields that hold lists */
	assert_true(CODEC_LIST_MAX >= codec_name_count());
	assert_int_equal(NEGO_MAX_CODECS, CODEC_LIST_MAX);
	assert_int_equal(DB_EXT_CODECS_MAX, CODEC_LIST_TEXT_MAX);
	assert_int_equal(sizeof(((struct conf *)0)->codecs), CODEC_LIST_TEXT_MAX);
}

static void test_find_and_join(void **state)
{
	(void)state;
	assert_string_equal(codec_name_find("pcmu", 4)->name, "PCMU");
	assert_string_equal(codec_name_find("OPUS", 4)->name, "opus");
	assert_string_equal(codec_name_find("G722,x", 4)->name, "G722");
	assert_null(codec_name_find("PCM", 3));
	assert_null(codec_name_find("PCMUX", 5));
	assert_null(codec_name_find(NULL, 0));
	char b[64];
	assert_int_equal(codec_names_join(b, sizeof(b), ", "), strlen("PCMU, PCMA, G722, opus"));
	assert_string_equal(b, "PCMU, PCMA, G722, opus");
	/* too small: truncated, terminated, and the length it needed */
	assert_int_equal(codec_names_join(b, 6, "|"), strlen("PCMU|PCMA|G722|opus"));
	assert_string_equal(b, "PCMU|");
	assert_string_equal(codec_list_help(), "comma-separated, preferred first, of PCMU, PCMA, G722, opus");
}

static void test_parse(void **state)
{
	(void)state;
	size_t idx[CODEC_LIST_MAX], n = 99;
	char why[160];
	assert_int_equal(codec_list_parse("opus,g722,PCMU", idx, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(codec_name_at(idx[0])->name, "opus");
	assert_string_equal(codec_name_at(idx[1])->name, "G722");
	assert_string_equal(codec_name_at(idx[2])->name, "PCMU");
	assert_int_equal(codec_list_parse("", idx, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 0);
	assert_int_equal(codec_list_parse(NULL, idx, &n, why, sizeof(why)), 0);
	assert_int_equal(codec_list_validate("PCMA", NULL, 0), 0);

	static const struct {
		const char *in, *why;
	} bad[] = {
		{ "G729", "unknown codec 'G729' (known: PCMU, PCMA, G722, opus)" },
		{ "PCMU,G729", "unknown codec 'G729' (known: PCMU, PCMA, G722, opus)" },
		{ "opus/48000", "unknown codec 'opus/48000' (known: PCMU, PCMA, G722, opus)" },
		{ "PCMU,pcmu", "codec 'PCMU' listed twice" },
		{ "PCMU,,PCMA", "empty entry (a doubled comma, or one at either end)" },
		{ ",PCMU", "empty entry (a doubled comma, or one at either end)" },
		{ "PCMU,", "empty entry (a doubled comma, or one at either end)" },
		{ "PCMU, PCMA", "no blanks: names separated by commas only, e.g. 'opus,PCMU'" },
		{ "PCMU,PCMA,PCMU,PCMA,PCMU,PCMA,PCMU,PCMA,PCMU,PCMA,PCMU,PCMA,PCMU", "at most 63 characters" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_equal(codec_list_parse(bad[i].in, idx, &n, why, sizeof(why)), EINVAL);
		assert_string_equal(why, bad[i].why);
		assert_int_equal(n, 0);
		assert_int_equal(codec_list_validate(bad[i].in, NULL, 0), EINVAL);
	}
	/* a long unknown name is cut in the message, which stays whole */
	assert_int_equal(codec_list_validate("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", why, sizeof(why)), EINVAL);
	assert_non_null(strstr(why, "'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' (known: "));
}

/* The database, the settings and the negotiation refuse a list with the
 * parser's message, each behind its own field name. */
static void test_one_message_everywhere(void **state)
{
	(void)state;
	static const char *const bad[] = { "PCMU,G729", "PCMU,pcmu", "PCMU,,PCMA", "PCMU, PCMA" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char rule[160], want[320], got[320];
		assert_int_equal(codec_list_validate(bad[i], rule, sizeof(rule)), EINVAL);

		struct db_ext e = { .number = "1001", .password = "password-x", .enabled = true };
		snprintf(e.codecs, sizeof(e.codecs), "%s", bad[i]);
		const char *w;
		assert_int_equal(db_ext_validate(&e, &w), EINVAL);
		snprintf(want, sizeof(want), "codecs: %s", rule);
		assert_string_equal(w, want);

		struct conf c;
		conf_defaults(&c);
		assert_int_equal(conf_set(&c, "calls", "codecs", bad[i], got, sizeof(got)), EINVAL);
		snprintf(want, sizeof(want), "invalid value '%s' for calls.codecs: %s", bad[i], rule);
		assert_string_equal(got, want);

		struct nego_policy p;
		assert_int_equal(nego_codecs_parse(&p, bad[i], got, sizeof(got)), EINVAL);
		assert_string_equal(got, rule);
	}
}

/* Help texts carry the table's names. */
static void test_help_from_table(void **state)
{
	(void)state;
	const struct conf_info *ci = conf_info_find("calls.codecs");
	assert_non_null(ci);
	for (size_t i = 0; i < codec_name_count(); i++)
		assert_non_null(strstr(ci->help, codec_name_at(i)->name));
	struct conf c;
	char err[320];
	conf_defaults(&c);
	assert_int_equal(conf_set(&c, "calls", "codecs", "", err, sizeof(err)), EINVAL);
	assert_string_equal(err, "invalid value '' for calls.codecs: at least one codec, of PCMU, PCMA, G722, opus");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_matches_descriptors),
		cmocka_unit_test(test_find_and_join),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_one_message_everywhere),
		cmocka_unit_test(test_help_from_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
