/* Unit tests for logging: one event per line even when a peer sends
 * CR/LF, control bytes from the network written as \xNN (in lines and in
 * SIP traces), the level filter, and SIP traces that never show SDES
 * keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../core/base/log.h"

/* Runs fn with stderr redirected into buf. */
static void capture(void (*fn)(void), char *buf, size_t cap)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	int saved = dup(STDERR_FILENO);
	dup2(fds[1], STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[1]);
	ssize_t n = read(fds[0], buf, cap - 1);
	close(fds[0]);
	buf[n > 0 ? n : 0] = '\0';
}

static void emit_trace(void)
{
	static const char m[] = "INVITE sip:1@h SIP/2.0\r\n\r\nv=0\r\n"
				"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^31\r\n"
				"a=crypto:2 AEAD_AES_128_GCM inline:SECRETSECRETSECRETSECRETSECRETSECRETSE\r\n"
				"a=crypto:3 AES_CM_128_HMAC_SHA1_32 INLINE:UPPERCASEKEYUPPERCASEKEYUPPERCASEKEY\r\n";
	log_set_sip_trace(true);
	log_sip_msg(true, "udp:192.0.2.1:5060", m, sizeof(m) - 1);
	log_set_sip_trace(false);
}

static void test_trace_hides_sdes_keys(void **state)
{
	(void)state;
	char buf[2048];
	capture(emit_trace, buf, sizeof(buf));
	assert_non_null(strstr(buf, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:********|2^31"));
	assert_non_null(strstr(buf, "a=crypto:2 AEAD_AES_128_GCM inline:********"));
	assert_null(strstr(buf, "WVNfX19z"));
	assert_null(strstr(buf, "SECRET"));
	/* the key method in any case (the SDES parser accepts any) */
	assert_non_null(strstr(buf, "a=crypto:3 AES_CM_128_HMAC_SHA1_32 INLINE:********"));
	assert_null(strstr(buf, "UPPERCASE"));
	assert_non_null(strstr(buf, "INVITE sip:1@h SIP/2.0"));
}

static void emit_auth_trace(void)
{
	static const char m[] = "REGISTER sip:h SIP/2.0\r\n"
				"Authorization: Digest username=\"1001\", realm=\"h\", nonce=\"abc\", "
				"uri=\"sip:h\", response=\"0123456789abcdef0123456789abcdef\", "
				"algorithm=MD5\r\n"
				"Proxy-Authorization: Digest username=\"1001\", RESPONSE=feedfacefeedface, "
				"nc=00000001\r\n\r\n";
	log_set_sip_trace(true);
	log_sip_msg(true, "udp:192.0.2.1:5060", m, sizeof(m) - 1);
	log_set_sip_trace(false);
}

/* Issue 16: a digest response with its nonce is an offline password
 * guess away from the password, so traces never show it. */
static void test_trace_hides_digest_response(void **state)
{
	(void)state;
	char buf[2048];
	capture(emit_auth_trace, buf, sizeof(buf));
	assert_null(strstr(buf, "0123456789abcdef"));
	assert_null(strstr(buf, "feedface"));
	assert_non_null(strstr(buf, "response=********, algorithm=MD5"));
	assert_non_null(strstr(buf, "RESPONSE=********, nc=00000001"));
	assert_non_null(strstr(buf, "username=\"1001\""));
}

static void emit_lines(void)
{
	log_set_level(LOG_INFO);
	log_info("t", "peer said %s", "evil\r\nfake line");
	log_debug("t", "not shown");
}

static void test_one_line_per_event(void **state)
{
	(void)state;
	char buf[1024];
	capture(emit_lines, buf, sizeof(buf));
	assert_non_null(strstr(buf, "[t] peer said evil\\x0d\\x0afake line\n"));
	assert_null(strstr(buf, "not shown"));
	assert_int_equal(strchr(buf, '\n') - buf + 1, (long)strlen(buf)); /* one line */
}

/* The line after its timestamp (which is the only variable part). */
static const char *after_stamp(const char *buf)
{
	const char *sp = strchr(buf, ' ');
	assert_non_null(sp);
	return sp + 1;
}

static void emit_hostile(void)
{
	log_set_level(LOG_INFO);
	/* a User-Agent that tries to forge a line, colour the terminal, set
	 * its title and ring its bell; UTF-8 passes through untouched */
	log_info("sip", "REGISTER from ua \"%s\"",
		 "x\r\n2026-01-01T00:00:00.000Z error [auth] forged\x1b[31mred\x1b]0;t\x07\x7f\t\xc3\xa9");
}

static void test_escapes_control_bytes(void **state)
{
	(void)state;
	char buf[1024];
	capture(emit_hostile, buf, sizeof(buf));
	assert_string_equal(after_stamp(buf),
			    "info  [sip] REGISTER from ua \"x\\x0d\\x0a2026-01-01T00:00:00.000Z error "
			    "[auth] forged\\x1b[31mred\\x1b]0;t\\x07\\x7f\\x09\xc3\xa9\"\n");
}

static void emit_long(void)
{
	char v[2000];
	memset(v, '\x1b', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	log_info("t", "%s", v);
}

/* Escaping makes a line longer, never longer than the line buffer, and
 * never cuts an escape in half. */
static void test_escape_truncates_whole(void **state)
{
	(void)state;
	char buf[2048];
	capture(emit_long, buf, sizeof(buf));
	size_t n = strlen(buf);
	assert_true(n <= 1024);
	assert_int_equal(buf[n - 1], '\n');
	assert_int_equal(strchr(buf, '\n') - buf + 1, (long)n);
	const char *m = strstr(buf, "[t] ") + 4;
	assert_int_equal((size_t)(buf + n - 1 - m) % 4, 0);
	assert_memory_equal(buf + n - 5, "\\x1b", 4);
}

static void emit_hostile_trace(void)
{
	static const char m[] = "OPTIONS sip:1@h SIP/2.0\r\n"
				"User-Agent: a\x1b[2Jb\rc\x00" "d\r\n"
				"Subject: lf only\n"
				"\r\n";
	log_set_sip_trace(true);
	log_sip_msg(true, "tcp:192.0.2.1:5060", m, sizeof(m) - 1);
	log_set_sip_trace(false);
}

static void test_trace_escapes_but_keeps_lines(void **state)
{
	(void)state;
	char buf[1024];
	capture(emit_hostile_trace, buf, sizeof(buf));
	assert_string_equal(after_stamp(buf),
			    "trace [sip] <<< from tcp:192.0.2.1:5060 (68 bytes)\n"
			    "OPTIONS sip:1@h SIP/2.0\r\n"
			    "User-Agent: a\\x1b[2Jb\\x0dc\\x00d\r\n"
			    "Subject: lf only\n"
			    "\r\n\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trace_hides_sdes_keys),
		cmocka_unit_test(test_trace_hides_digest_response),
		cmocka_unit_test(test_one_line_per_event),
		cmocka_unit_test(test_escapes_control_bytes),
		cmocka_unit_test(test_escape_truncates_whole),
		cmocka_unit_test(test_trace_escapes_but_keeps_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
