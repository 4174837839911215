/*
 * Unit tests for core/mail: addresses as the mailer accepts them; what
 * mail_send refuses before it connects (no server, a bad address, a line
 * break in a header, a missing attachment) and how fast it reports a
 * closed port; the mailer's retries on the loop's fake clock (a failed
 * message is tried again after 1, 5 and 30 minutes and then given up,
 * done running once with the last error), a one-shot send that is not
 * retried, and mailer_free with a retry pending (no done, no leak). A
 * real SMTP exchange is tested end to end in tests/integration/mail.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../core/base/jobs.h"
#include "../../core/base/loop.h"
#include "../../core/mail/mail.h"

static uint64_t real_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A TCP port on 127.0.0.1 that nobody listens on (bound, then closed). */
static int closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static void cfg_closed(struct mail_cfg *c)
{
	mail_cfg_defaults(c);
	snprintf(c->smtp_url, sizeof(c->smtp_url), "smtp://127.0.0.1:%d", closed_port());
	snprintf(c->from, sizeof(c->from), "PBX <pbx@example.com>");
	snprintf(c->username, sizeof(c->username), "user");
	snprintf(c->password, sizeof(c->password), "hunter2-secret");
	c->tls = MAIL_TLS_OFF;
}

static void test_mail_addresses(void **state)
{
	(void)state;
	assert_true(mail_addr_valid("a@example.com"));
	assert_true(mail_addr_valid("first.last+tag@sub.example.org"));
	assert_false(mail_addr_valid(""));
	assert_false(mail_addr_valid("example.com"));
	assert_false(mail_addr_valid("@example.com"));
	assert_false(mail_addr_valid("a@"));
	assert_false(mail_addr_valid("a@localhost"));
	assert_false(mail_addr_valid("a b@example.com"));
	assert_false(mail_addr_valid("a@example.com\r\nRCPT TO:<x@y.z>"));
	assert_false(mail_addr_valid("<a@example.com>"));
	assert_false(mail_addr_valid("a@example.com,b@example.com"));
	char out[MAIL_ADDR_MAX];
	assert_int_equal(mail_addr_of("Hookflash PBX <pbx@example.com>", out, sizeof(out)), 0);
	assert_string_equal(out, "pbx@example.com");
	assert_int_equal(mail_addr_of("pbx@example.com", out, sizeof(out)), 0);
	assert_string_equal(out, "pbx@example.com");
	assert_int_equal(mail_addr_of("PBX <pbx@example.com", out, sizeof(out)), EINVAL);
	assert_int_equal(mail_addr_of("PBX <pbx@example.com> x", out, sizeof(out)), EINVAL);
	assert_int_equal(mail_addr_of("", out, sizeof(out)), EINVAL);
}

static void test_mail_send_refuses_before_connecting(void **state)
{
	(void)state;
	struct mail_cfg c;
	cfg_closed(&c);
	struct mail_msg m = { .to = "a@example.com", .subject = "hi", .text = (char *)"x" };
	char err[300];

	struct mail_cfg none;
	mail_cfg_defaults(&none);
	assert_int_equal(mail_send(&none, &m, err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, "email.smtp_url"));

	struct mail_cfg nofrom = c;
	nofrom.from[0] = '\0';
	assert_int_equal(mail_send(&nofrom, &m, err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, "email.from"));

	struct mail_msg bad = m;
	snprintf(bad.to, sizeof(bad.to), "not an address");
	assert_int_equal(mail_send(&c, &bad, err, sizeof(err)), EINVAL);

	bad = m;
	snprintf(bad.subject, sizeof(bad.subject), "hi\r\nBcc: x@example.com");
	assert_int_equal(mail_send(&c, &bad, err, sizeof(err)), EINVAL);

	bad = m;
	bad.attach_path = "/nonexistent/msg0001.wav";
	bad.attach_name = "msg0001.wav";
	assert_int_equal(mail_send(&c, &bad, err, sizeof(err)), ENOENT);
}

static void test_mail_send_closed_port_fails_fast(void **state)
{
	(void)state;
	struct mail_cfg c;
	cfg_closed(&c);
	struct mail_msg m = { .to = "a@example.com", .subject = "hi", .text = (char *)"x" };
	char err[300];
	uint64_t t0 = real_ms();
	assert_int_equal(mail_send(&c, &m, err, sizeof(err)), ECONNREFUSED);
	assert_true(real_ms() - t0 < 3000);
	assert_non_null(strstr(err, "cannot connect"));
	assert_null(strstr(err, c.password));
}

/* --- the mailer on a fake clock ------------------------------------------ */

struct outcome {
	int calls, err;
	char why[300];
};

static void on_done(int err, const char *why, void *arg)
{
	struct outcome *o = arg;
	o->calls++;
	o->err = err;
	snprintf(o->why, sizeof(o->why), "%s", why);
}

struct rig {
	struct loop *l;
	struct jobs *j;
	struct mailer *m;
	uint64_t now;
};

static void rig_up(struct rig *r)
{
	assert_int_equal(loop_alloc(&r->l), 0);
	r->now = loop_now(r->l);
	loop_advance(r->l, r->now); /* from here on the test keeps time */
	assert_int_equal(jobs_alloc(&r->j, 1, r->l), 0);
	struct mail_cfg c;
	cfg_closed(&c);
	assert_int_equal(mailer_alloc(&r->m, r->j, r->l, &c), 0);
}

static void rig_down(struct rig *r)
{
	mailer_free(r->m);
	jobs_free(r->j);
	loop_free(r->l);
}

/* Runs the loop (real waiting for the worker) until the jobs pool is idle. */
static void settle(struct rig *r)
{
	uint64_t end = real_ms() + 5000;
	while (jobs_pending(r->j) && real_ms() < end)
		loop_run_once(r->l, 20);
	assert_int_equal(jobs_pending(r->j), 0);
}

static void test_mailer_retries_then_gives_up(void **state)
{
	(void)state;
	struct rig r;
	rig_up(&r);
	struct outcome o = { 0 };
	struct mail_msg m = { .to = "a@example.com", .subject = "Voicemail", .text = (char *)"x" };
	assert_int_equal(mailer_send(r.m, &m, on_done, &o), 0);
	assert_int_equal(mailer_pending(r.m), 1);
	settle(&r); /* attempt 1 fails */
	int64_t when;
	assert_int_equal(o.calls, 0);
	assert_non_null(strstr(mailer_last_error(r.m, &when), "cannot connect"));
	assert_true(when > 0);
	for (int i = 0; i < MAILER_RETRIES; i++) {
		/* just before the retry is due nothing happens */
		r.now += mailer_retry_ms[i] - 1;
		loop_advance(r.l, r.now);
		assert_int_equal(jobs_pending(r.j), 0);
		r.now += 1;
		loop_advance(r.l, r.now); /* attempt i + 2 */
		assert_int_equal(jobs_pending(r.j), 1);
		settle(&r);
		if (i + 1 < MAILER_RETRIES)
			assert_int_equal(o.calls, 0);
	}
	assert_int_equal(o.calls, 1); /* given up after 1 + 3 attempts */
	assert_int_equal(o.err, ECONNREFUSED);
	assert_non_null(strstr(o.why, "cannot connect"));
	assert_int_equal(mailer_pending(r.m), 0);
	rig_down(&r);
}

static void test_mailer_once_is_not_retried(void **state)
{
	(void)state;
	struct rig r;
	rig_up(&r);
	struct outcome o = { 0 };
	struct mail_msg m = { .to = "a@example.com", .subject = "test" };
	assert_int_equal(mailer_send_once(r.m, &m, on_done, &o), 0);
	settle(&r);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.err, ECONNREFUSED);
	assert_int_equal(mailer_pending(r.m), 0);
	rig_down(&r);
}

static void test_mailer_refuses_and_frees(void **state)
{
	(void)state;
	struct rig r;
	rig_up(&r);
	struct outcome o = { 0 };
	struct mail_msg m = { .to = "bad address", .subject = "x" };
	assert_int_equal(mailer_send(r.m, &m, on_done, &o), EINVAL);
	struct mail_cfg none;
	mail_cfg_defaults(&none);
	mailer_configure(r.m, &none);
	snprintf(m.to, sizeof(m.to), "a@example.com");
	assert_int_equal(mailer_send(r.m, &m, on_done, &o), ENOTCONN);
	/* a message waiting for its retry when the mailer goes: no done */
	struct mail_cfg c;
	cfg_closed(&c);
	mailer_configure(r.m, &c);
	assert_int_equal(mailer_send(r.m, &m, on_done, &o), 0);
	settle(&r);
	assert_int_equal(mailer_pending(r.m), 1);
	/* and one still on the worker */
	assert_int_equal(mailer_send(r.m, &m, on_done, &o), 0);
	rig_down(&r);
	assert_int_equal(o.calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mail_addresses),
		cmocka_unit_test(test_mail_send_refuses_before_connecting),
		cmocka_unit_test(test_mail_send_closed_port_fails_fast),
		cmocka_unit_test(test_mailer_retries_then_gives_up),
		cmocka_unit_test(test_mailer_once_is_not_retried),
		cmocka_unit_test(test_mailer_refuses_and_frees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
