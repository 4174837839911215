/* libFuzzer harness for the control-socket protocol (core/ctl): the real
 * ctl_server on a unix socket in a temporary directory, over the real
 * registrar, ban list and call manager of tests/unit/call_harness.h (two
 * phones registered, one call ringing, so "registrations", "calls" and
 * "hangup" have rows to print and act on). Each input is what a client
 * writes: the first byte says where to split it into two writes (the
 * server's line assembly across reads), then the connection is half-closed
 * and the loop runs until the server closes it. "reload" and "email test"
 * answer later through loop_post, as the store thread and the mailer do.
 * Checked: every reply is empty (an over-long or unfinished line) or
 * starts with "OK\n" or "ERR ", and the server never holds a client past
 * the input (no leaked connection, fd or timer). Log level and SIP trace,
 * which commands change, are put back after each input.
 * Seeds: tests/fuzz/seeds/ctl. */
#include "../unit/call_harness.h"

#include <sys/socket.h>
#include <sys/un.h>

#include "../../core/ctl/ctl_proto.h"
#include "../../core/ctl/ctl_server.h"
#include "../../core/pbx/pbx_status.h"

static struct ctl_server *srv;
static char sock_path[128];

static void fake_status(struct pbx_status *out, void *arg)
{
	(void)arg;
	memset(out, 0, sizeof(*out));
	out->extensions = 5;
	out->registrations = 2;
}

struct later {
	ctl_done_h *done;
	ctl_mail_done_h *mailed;
	void *arg;
	int err;
};

static void later_run(void *arg)
{
	struct later *l = arg;
	if (l->done)
		l->done(l->err, l->arg);
	else
		l->mailed(l->err, l->err ? "refused by the fake server" : NULL, l->arg);
	free(l);
}

static void fake_reload(ctl_done_h *done, void *done_arg, void *arg)
{
	(void)arg;
	struct later *l = calloc(1, sizeof(*l));
	if (!l)
		abort();
	*l = (struct later){ .done = done, .arg = done_arg };
	if (loop_post(fx.loop, later_run, l))
		abort();
}

static int fake_email(const char *to, const char *attach, ctl_mail_done_h *done, void *done_arg,
		      void *arg)
{
	(void)arg;
	if (!strchr(to, '@'))
		return EINVAL;
	if (!strcmp(to, "none@example.org"))
		return ENOTCONN;
	struct later *l = calloc(1, sizeof(*l));
	if (!l)
		abort();
	*l = (struct later){ .mailed = done, .arg = done_arg, .err = attach ? EIO : 0 };
	if (loop_post(fx.loop, later_run, l))
		abort();
	return 0;
}

static int fake_mwi(const char *mailbox, void *arg)
{
	(void)arg;
	return strcmp(mailbox, "1001") ? ENOENT : 0;
}

static void count_call(const struct call_info *ci, void *arg)
{
	(void)ci;
	(*(int *)arg)++;
}

/* One call ringing (A calls 1002), made again when an input hung it up. */
static void ensure_call(void)
{
	int n = 0;
	call_each(hx.pbx.calls, count_call, &n);
	if (n)
		return;
	for (size_t i = 0; i < fx.nsent; i++)
		free(fx.sent[i].data);
	fx.nsent = 0;
	phone_invite_ex(PH_A, "1002", PH_A->sdp, NULL);
}

static void init(void)
{
	log_set_level(LOG_ERROR);
	ch_setup(NULL);
	struct ctl_deps d = {
		.loop = fx.loop, .data_dir = hx.dir, .reg = hx.pbx.reg, .calls = hx.pbx.calls,
		.bans = hx.pbx.bans, .status = fake_status, .reload = fake_reload,
		.email_test = fake_email, .mwi_notify = fake_mwi,
	};
	if (ctl_server_alloc(&srv, &d))
		abort();
	snprintf(sock_path, sizeof(sock_path), "%s/%s", hx.dir, CTL_SOCKET_NAME);
	ensure_call();
}

static void pump(void)
{
	for (int i = 0; i < 4; i++)
		loop_run_once(fx.loop, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		init();
		ready = true;
	}
	if (size < 1 || size > 4096)
		return 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		abort();
	pump(); /* accepted */
	const char *p = (const char *)data + 1;
	size_t n = size - 1, cut = n ? data[0] % (n + 1) : 0;
	if (cut && send(fd, p, cut, MSG_NOSIGNAL) < 0)
		abort();
	pump();
	if (n > cut)
		send(fd, p + cut, n - cut, MSG_NOSIGNAL); /* may fail: already answered */
	shutdown(fd, SHUT_WR);

	char reply[65536];
	size_t got = 0;
	for (int rounds = 0; rounds < 1000; rounds++) {
		loop_run_once(fx.loop, 0);
		ssize_t r = recv(fd, reply + got, sizeof(reply) - 1 - got, MSG_DONTWAIT);
		if (r == 0)
			break;
		if (r > 0) {
			got += (size_t)r;
			if (got == sizeof(reply) - 1)
				break;
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			break;
		if (rounds == 999) {
			/* a client that half-closed without a newline is dropped
			 * at its 10 s timeout: let the fake clock get there */
			advance(10001);
			loop_run_once(fx.loop, 0);
			if (recv(fd, reply, 1, MSG_DONTWAIT) != 0) {
				fprintf(stderr, "ctl server holds a client past its timeout\n");
				abort();
			}
		}
	}
	reply[got] = '\0';
	close(fd);
	if (got && strncmp(reply, "OK\n", 3) && strncmp(reply, "ERR ", 4)) {
		fprintf(stderr, "bad reply: %s\n", reply);
		abort();
	}
	log_set_level(LOG_ERROR);
	log_set_sip_trace(false);
	pump();
	/* every 256 inputs, 40 s of fake time in 1 s steps: the
	 * transactions of calls that "hangup" ended reach their timers and
	 * go, instead of piling up for as long as the run lasts (the clock
	 * stands still otherwise: time moving on every input costs 20x) */
	static unsigned inputs;
	if (++inputs % 256 == 0)
		for (int i = 0; i < 40; i++) {
			fx.now += 1000;
			loop_advance(fx.loop, fx.base + fx.now);
			ch_pump();
		}
	ensure_call();
	return 0;
}
