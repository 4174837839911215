/* Unit tests for settings: defaults, the INI file, flags overriding the
 * file, and clear errors for bad values. Also the local-domain check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/base/conf.h"
#include "../../core/ident/domains.h"

static char tmpdir[64];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_defaults(void **state)
{
	(void)state;
	struct conf c;
	conf_defaults(&c);
	assert_int_equal(c.sip_udp_port, 5060);
	assert_int_equal(c.rtp_min, 10000);
	assert_int_equal(c.rtp_max, 20000);
	assert_int_equal(c.http_port, 8080);
	assert_int_equal(c.https_port, 8443);
}

static void test_flags_only(void **state)
{
	(void)state;
	struct conf c;
	char err[256];
	conf_defaults(&c);
	char *argv[] = { "hookflashd", "--data-dir", tmpdir, "--bind", "127.0.0.1,::1",
			 "--sip-port", "25060", "--rtp-ports", "30001-30999",
			 "--http-port", "28080", "--https-port", "28443", NULL };
	assert_int_equal(conf_from_args(&c, 13, argv, err, sizeof(err)), 0);
	assert_string_equal(c.data_dir, tmpdir);
	assert_int_equal(c.nbinds, 2);
	assert_string_equal(c.binds[1], "::1");
	assert_int_equal(c.sip_udp_port, 25060);
	assert_int_equal(c.sip_tcp_port, 25060);
	assert_int_equal(c.rtp_min, 30002); /* RTP ports are even */
	assert_int_equal(c.rtp_max, 30999);
	assert_int_equal(c.https_port, 28443);
}

/* Each yes/no setting is its own: --ringback no leaves the SIP trace
 * alone, and a bare --sip-trace turns only the trace on. */
static void test_bools_and_media(void **state)
{
	(void)state;
	struct conf c;
	char err[256];
	conf_defaults(&c);
	assert_true(c.ringback);
	assert_false(c.sip_trace);
	assert_string_equal(c.codecs, "opus,G722,PCMU,PCMA");
	char *argv[] = { "hookflashd", "--data-dir", tmpdir, "--ringback", "no", "--sip-trace",
			 "--codecs", "PCMA,PCMU", NULL };
	assert_int_equal(conf_from_args(&c, 8, argv, err, sizeof(err)), 0);
	assert_false(c.ringback);
	assert_true(c.sip_trace);
	assert_string_equal(c.codecs, "PCMA,PCMU");
	assert_int_equal(conf_set(&c, "calls", "ringback", "on", err, sizeof(err)), 0);
	assert_true(c.ringback);
	assert_true(c.sip_trace);
	assert_int_equal(conf_set(&c, "sip", "trace", "off", err, sizeof(err)), 0);
	assert_true(c.ringback);
	assert_false(c.sip_trace);
	assert_int_equal(conf_set(&c, "calls", "ringback", "maybe", err, sizeof(err)), EINVAL);
	/* each bool reads back as itself */
	char v[16];
	assert_int_equal(conf_get(&c, "calls.ringback", v, sizeof(v)), 0);
	assert_string_equal(v, "yes");
	assert_int_equal(conf_get(&c, "sip.trace", v, sizeof(v)), 0);
	assert_string_equal(v, "no");
	/* codec names are checked here, so a typo never reaches a call */
	static const char *const bad[] = { "G729", "PCMU,,PCMA", "PCMU,", ",PCMU", "PCMU, PCMA",
					   "PCMU,pcmu", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(conf_set(&c, "calls", "codecs", bad[i], err, sizeof(err)), EINVAL);
	assert_string_equal(c.codecs, "PCMA,PCMU");
	assert_int_equal(conf_set(&c, "calls", "codecs", "g722,OPUS", err, sizeof(err)), 0);
	assert_string_equal(c.codecs, "g722,OPUS");
}

static void test_file_then_flags(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof(path), "%s/hookflash.conf", tmpdir);
	write_file(path, "# comment\n[sip]\nudp_port = 5070\ndomain = pbx.example.com\n"
			 "[security]\nban_time = 99\n[general]\nlog_level = debug\n");
	struct conf c;
	char err[256];
	conf_defaults(&c);
	char *argv[] = { "hookflashd", "--data-dir", tmpdir, "--ban-time", "5", NULL };
	assert_int_equal(conf_from_args(&c, 5, argv, err, sizeof(err)), 0);
	assert_int_equal(c.sip_udp_port, 5070);
	assert_string_equal(c.domain, "pbx.example.com");
	assert_int_equal(c.ban_time, 5); /* the flag wins */
	assert_int_equal(c.log_level, 3);
	unlink(path);
}

static void test_bad_values(void **state)
{
	(void)state;
	struct conf c;
	char err[256];
	conf_defaults(&c);
	char *a1[] = { "hookflashd", "--sip-port", "70000", NULL };
	assert_int_equal(conf_from_args(&c, 3, a1, err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, "70000"));
	char *a2[] = { "hookflashd", "--rtp-ports", "2000", NULL };
	assert_int_equal(conf_from_args(&c, 3, a2, err, sizeof(err)), EINVAL);
	char *a3[] = { "hookflashd", "--no-such-flag", NULL };
	assert_int_equal(conf_from_args(&c, 2, a3, err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, "--no-such-flag"));
	char *a4[] = { "hookflashd", "--sip-port", NULL };
	assert_int_equal(conf_from_args(&c, 2, a4, err, sizeof(err)), EINVAL);
	char *a5[] = { "hookflashd", "--min-expires", "500", "--max-expires", "100", NULL };
	conf_defaults(&c);
	assert_int_equal(conf_from_args(&c, 5, a5, err, sizeof(err)), EINVAL);

	char path[128];
	snprintf(path, sizeof(path), "%s/bad.conf", tmpdir);
	write_file(path, "[sip]\nudp_port = abc\n");
	conf_defaults(&c);
	assert_int_equal(conf_load_file(&c, path, err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, ":2:"));
	write_file(path, "[nosuch]\nkey = 1\n");
	assert_int_equal(conf_load_file(&c, path, err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, "unknown setting"));
	unlink(path);
}

/* The settings as data: names, types, liveness, the text round trip,
 * the cross check, and copying only what applies live. */
static void test_info_get_copy(void **state)
{
	(void)state;
	struct conf c, d;
	conf_defaults(&c);
	char v[256], err[256];
	assert_true(conf_info_count() > 20);
	const struct conf_info *ci = conf_info_find("registrar.max_expires");
	assert_non_null(ci);
	assert_int_equal(ci->type, CONF_INT);
	assert_true(ci->live && ci->editable);
	assert_int_equal(ci->max, 604800);
	assert_false(conf_info_find("general.data_dir")->editable);
	assert_false(conf_info_find("sip.udp_port")->live);
	assert_int_equal(conf_info_find("sip.trace")->type, CONF_BOOL);
	assert_null(conf_info_find("registrar"));
	assert_null(conf_info_find("registrar.nope"));
	assert_null(conf_info_find(".max_expires"));
	for (size_t i = 0; i < conf_info_count(); i++) {
		/* every value reads back as it was written */
		const struct conf_info *x = conf_info_at(i);
		char name[96];
		snprintf(name, sizeof(name), "%s.%s", x->section, x->key);
		assert_int_equal(conf_get(&c, name, v, sizeof(v)), 0);
		d = c;
		assert_int_equal(conf_set_name(&d, name, v, err, sizeof(err)), 0);
		assert_memory_equal(&c, &d, sizeof(c));
	}
	assert_null(conf_info_at(conf_info_count()));
	assert_int_equal(conf_get(&c, "nope.nope", v, sizeof(v)), EINVAL);
	assert_int_equal(conf_get(&c, "rtp.ports", v, 4), ENOSPC);
	assert_int_equal(conf_set_name(&c, "sip.trace", "yes", err, sizeof(err)), 0);
	assert_int_equal(conf_get(&c, "sip.trace", v, sizeof(v)), 0);
	assert_string_equal(v, "yes");
	assert_int_equal(conf_set_name(&c, "sip.bind", "127.0.0.1,::1", err, sizeof(err)), 0);
	assert_int_equal(conf_get(&c, "sip.bind", v, sizeof(v)), 0);
	assert_string_equal(v, "127.0.0.1,::1");
	assert_int_equal(conf_set_name(&c, "nope", "1", err, sizeof(err)), EINVAL);
	/* min above max is the cross check's, and names the setting */
	assert_int_equal(conf_set_name(&c, "registrar.min_expires", "9000", err, sizeof(err)), 0);
	assert_int_equal(conf_check(&c, err, sizeof(err)), EINVAL);
	assert_true(!strncmp(err, "registrar.min_expires:", 22));
	/* live ones move, restart ones stay */
	conf_defaults(&d);
	assert_int_equal(conf_set_name(&c, "sip.udp_port", "5999", err, sizeof(err)), 0);
	assert_int_equal(conf_set_name(&c, "general.log_level", "debug", err, sizeof(err)), 0);
	conf_copy_live(&d, &c);
	assert_int_equal(d.min_expires, 9000);
	assert_int_equal(d.log_level, c.log_level);
	assert_true(d.sip_trace);
	assert_int_equal(d.sip_udp_port, 5060);
	assert_int_equal(d.nbinds, 0);
}

static void test_domains(void **state)
{
	(void)state;
	struct conf c;
	conf_defaults(&c);
	snprintf(c.domain, sizeof(c.domain), "pbx.example.com");
	snprintf(c.external_addr, sizeof(c.external_addr), "203.0.113.10");
	struct domains *d;
	assert_int_equal(domains_alloc(&d, &c), 0);
	assert_true(domains_match(d, pl_from("127.0.0.1")));
	assert_true(domains_match(d, pl_from("0:0::1")));
	assert_true(domains_match(d, pl_from("PBX.Example.COM")));
	assert_true(domains_match(d, pl_from("pbx.example.com.")));
	assert_true(domains_match(d, pl_from("203.0.113.10")));
	assert_true(domains_match(d, pl_from("localhost")));
	assert_false(domains_match(d, pl_from("example.org")));
	assert_false(domains_match(d, pl_from("198.51.100.7")));
	assert_false(domains_match(d, PL_NULL));
	domains_free(d);
}

/* [email]: the URL, the sender and tls are checked when set; the
 * password is a secret, live, and a refused one is not repeated in the
 * message. */
static void test_email(void **state)
{
	(void)state;
	struct conf c;
	conf_defaults(&c);
	char err[256], v[256];
	assert_int_equal(c.smtp_tls, CONF_TLS_TRY);
	const struct conf_info *pw = conf_info_find("email.password");
	assert_non_null(pw);
	assert_true(pw->secret && pw->live && pw->editable);
	assert_false(conf_info_find("email.username")->secret);
	const struct conf_info *tls = conf_info_find("email.tls");
	assert_int_equal(tls->type, CONF_CHOICE);
	assert_string_equal(tls->choices[2], "require");
	assert_null(tls->choices[3]);
	assert_int_equal(conf_set_name(&c, "email.smtp_url", "smtp://mail.example.com:587", err, sizeof(err)), 0);
	assert_int_equal(conf_set_name(&c, "email.smtp_url", "SMTPS://mail.example.com", err, sizeof(err)), 0);
	assert_int_equal(conf_set_name(&c, "email.smtp_url", "", err, sizeof(err)), 0);
	const char *bad_urls[] = { "http://mail.example.com", "smtp://", "smtp://u:p@mail.example.com",
				   "smtp://mail example.com", "mail.example.com" };
	for (size_t i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++)
		assert_int_equal(conf_set_name(&c, "email.smtp_url", bad_urls[i], err, sizeof(err)), EINVAL);
	assert_int_equal(conf_set_name(&c, "email.from", "Hookflash <pbx@example.com>", err, sizeof(err)), 0);
	assert_int_equal(conf_set_name(&c, "email.from", "pbx@example.com", err, sizeof(err)), 0);
	assert_int_equal(conf_set_name(&c, "email.from", "pbx", err, sizeof(err)), EINVAL);
	assert_int_equal(conf_set_name(&c, "email.from", "PBX <pbx@example.com", err, sizeof(err)), EINVAL);
	assert_int_equal(conf_set_name(&c, "email.tls", "require", err, sizeof(err)), 0);
	assert_int_equal(c.smtp_tls, CONF_TLS_REQUIRE);
	assert_int_equal(conf_get(&c, "email.tls", v, sizeof(v)), 0);
	assert_string_equal(v, "require");
	assert_int_equal(conf_set_name(&c, "email.tls", "maybe", err, sizeof(err)), EINVAL);
	char longpw[300];
	memset(longpw, 'k', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	assert_int_equal(conf_set_name(&c, "email.password", longpw, err, sizeof(err)), EINVAL);
	assert_null(strstr(err, "kkkk"));
	assert_int_equal(conf_set_name(&c, "email.password", "s3cret", err, sizeof(err)), 0);
	struct conf d;
	conf_defaults(&d);
	conf_copy_live(&d, &c);
	assert_string_equal(d.smtp_password, "s3cret");
}

/* security.trusted_networks: a CIDR list, checked in the one place the
 * file, the flags and the web go through; the transaction caps' defaults */
static void test_trusted_networks(void **state)
{
	(void)state;
	struct conf c;
	char err[256];
	conf_defaults(&c);
	assert_string_equal(c.trusted_networks, "");
	assert_int_equal(c.tsx_max_per_source, 200);
	assert_int_equal(c.tsx_max, 20000);
	assert_int_equal(conf_set(&c, "security", "trusted_networks", "192.168.1.0/24, 10.0.0.5,2001:db8::/32",
				  err, sizeof(err)), 0);
	assert_string_equal(c.trusted_networks, "192.168.1.0/24, 10.0.0.5,2001:db8::/32");
	const char *bad[] = { "10.0.0.0/33", "2001:db8::/129", "abc", "10.0.0.1/", "10.0.0.1/x", "1.2.3.4.5" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(conf_set(&c, "security", "trusted_networks", bad[i], err, sizeof(err)), EINVAL);
		assert_non_null(strstr(err, "trusted_networks"));
	}
	assert_string_equal(c.trusted_networks, "192.168.1.0/24, 10.0.0.5,2001:db8::/32");
	assert_int_equal(conf_set(&c, "security", "trusted_networks", "", err, sizeof(err)), 0);
	assert_string_equal(c.trusted_networks, "");
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hf-conf-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_flags_only),
		cmocka_unit_test(test_bools_and_media),
		cmocka_unit_test(test_file_then_flags),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_info_get_copy),
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_domains),
		cmocka_unit_test(test_trusted_networks),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(tmpdir);
	return rc;
}
