/*
 * Control socket server (see ctl_server.h). Each client sends one line
 * and gets "OK"/"ERR msg" plus tab-separated rows, then the connection
 * closes. Replies are built in memory and written as the socket accepts
 * them, so a slow client never blocks the signalling loop. A reload
 * answers only once the new configuration is in effect, so a script that
 * adds an extension and registers right after cannot race it.
 */
#include "ctl_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../base/list.h"
#include "../base/log.h"
#include "../base/loop.h"
#include "../base/sbuf.h"
#include "../call/call.h"
#include "../pbx/pbx_status.h"
#include "../reg/registrar.h"
#include "../sip/ban.h"
#include "ctl_proto.h"

#define LINE_MAX_LEN 512

struct ctl_client {
	struct list_node le; /* in s->clients */
	struct ctl_server *s;
	int fd;
	char line[LINE_MAX_LEN];
	size_t llen;
	struct sbuf out;
	size_t sent;
	bool replying;
	bool waiting; /* a reload or a mail callback still holds this client */
	struct loop_timer timeout;
};

struct ctl_server {
	struct ctl_deps d;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct list clients;
};

static void client_free(struct ctl_client *c)
{
	struct ctl_server *s = c->s;
	list_remove(&s->clients, &c->le);
	loop_timer_cancel(&c->timeout);
	loop_fd_del(s->d.loop, c->fd);
	close(c->fd);
	sbuf_free(&c->out);
	free(c);
}

static void client_flush(struct ctl_client *c)
{
	while (c->sent < c->out.len) {
		ssize_t n = send(c->fd, c->out.p + c->sent, c->out.len - c->sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				loop_fd_mod(c->s->d.loop, c->fd, EPOLLOUT);
				return;
			}
			break;
		}
		c->sent += (size_t)n;
	}
	client_free(c);
}

static void reply_rows_done(struct ctl_client *c)
{
	c->replying = true;
	client_flush(c);
}

static void row_reg(const struct reg_info *ri, void *arg)
{
	struct sbuf *b = arg;
	sbuf_printf(b, "%s\t%s\t%s\t%u\t%s\n", ri->ext, ri->contact, ri->source,
		    ri->expires_in, ri->user_agent);
}

static void row_ban(const struct ban_entry_info *e, void *arg)
{
	struct sbuf *b = arg;
	/* user and scope last: older columns keep their places */
	sbuf_printf(b, "%s\t%u\t%u\t%s\t%s\n", e->addr, e->failures, e->banned_for_s,
		    e->user[0] ? e->user : "-", e->user_only ? "user" : "address");
}

static void row_call(const struct call_info *ci, void *arg)
{
	struct sbuf *b = arg;
	sbuf_printf(b, "%u\t%s\t%s\t%s\t%u\t%s\t%s\n", ci->id, ci->caller, ci->callee, ci->state,
		    ci->duration_s, ci->codec[0] ? ci->codec : "-",
		    ci->dtmf && ci->dtmf[0] ? ci->dtmf : "-");
}

static void on_mailed(int err, const char *why, void *arg)
{
	struct ctl_client *c = arg;
	c->waiting = false;
	if (err)
		sbuf_printf(&c->out, "ERR e-mail not sent: %s\n", why && *why ? why : strerror(err));
	else
		sbuf_adds(&c->out, "OK\n");
	reply_rows_done(c);
}

/* "email test ADDRESS [FILE]": false when answered at once. */
static bool email_command(struct ctl_client *c, char *arg)
{
	const struct ctl_deps *d = &c->s->d;
	struct sbuf *o = &c->out;
	char *save = NULL;
	char *verb = arg ? strtok_r(arg, " ", &save) : NULL;
	char *to = verb ? strtok_r(NULL, " ", &save) : NULL;
	char *file = to ? strtok_r(NULL, " ", &save) : NULL;
	if (!verb || strcmp(verb, "test") || !to || strtok_r(NULL, " ", &save) ||
	    (file && file[0] != '/')) {
		sbuf_adds(o, "ERR usage: email test ADDRESS [/ABSOLUTE/FILE]\n");
		return false;
	}
	if (!d->email_test) {
		sbuf_adds(o, "ERR e-mail is not available\n");
		return false;
	}
	c->waiting = true;
	int err = d->email_test(to, file, on_mailed, c, d->arg);
	if (!err)
		return true;
	c->waiting = false;
	if (err == EINVAL)
		sbuf_printf(o, "ERR not an e-mail address: %.100s\n", to);
	else if (err == ENOTCONN)
		sbuf_adds(o, "ERR no SMTP server set (email.smtp_url)\n");
	else
		sbuf_printf(o, "ERR e-mail not sent: %s\n", strerror(err));
	return false;
}

static void on_reloaded(int err, void *arg)
{
	struct ctl_client *c = arg;
	c->waiting = false;
	if (err)
		sbuf_printf(&c->out, "ERR reload failed: %s\n", strerror(err));
	else
		sbuf_adds(&c->out, "OK\n");
	reply_rows_done(c);
}

/* Every field of the snapshot, one "key\tvalue" row each. The names are
 * the protocol's (ctl_proto.h); the web names the same fields in JSON. */
static void print_status(struct sbuf *o, const struct pbx_status *st)
{
	const struct {
		const char *key;
		unsigned long long v;
	} rows[] = {
		{ "uptime_s", st->uptime_s },
		{ "started_at", (unsigned long long)st->started_wall },
		{ "extensions", st->extensions },
		{ "registrations", st->registrations },
		{ "calls", st->calls },
		{ "calls_total", st->calls_started },
		{ "calls_answered", st->calls_answered },
		{ "calls_failed", st->calls_failed },
		{ "calls_busy", st->calls_busy },
		{ "calls_no_answer", st->calls_no_answer },
		{ "calls_cancelled", st->calls_cancelled },
		{ "bans", st->bans },
		{ "auth_failures", st->auth_failures },
		{ "reloads", st->reloads },
		{ "sip_rx", st->sip_rx },
		{ "sip_tx", st->sip_tx },
		{ "sip_rx_bad", st->sip_rx_bad },
		{ "transactions", st->transactions },
		{ "tcp_connections", st->tcp_connections },
		{ "rtp_relayed", st->rtp_relayed },
		{ "rtp_lost", st->rtp_lost },
	};
	sbuf_printf(o, "version\t%s\n", HF_VERSION);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		sbuf_printf(o, "%s\t%llu\n", rows[i].key, rows[i].v);
}

static void run_command(struct ctl_client *c, char *line)
{
	const struct ctl_deps *d = &c->s->d;
	struct sbuf *o = &c->out;
	char *arg = strchr(line, ' ');
	if (arg)
		*arg++ = '\0';
	uint64_t now = loop_now(d->loop);

	if (!strcmp(line, CTL_CMD_STATUS)) {
		struct pbx_status st;
		d->status(&st, d->arg);
		sbuf_adds(o, "OK\n");
		print_status(o, &st);
	} else if (!strcmp(line, CTL_CMD_REGISTRATIONS)) {
		sbuf_adds(o, "OK\n");
		registrar_each(d->reg, row_reg, o);
	} else if (!strcmp(line, CTL_CMD_CALLS)) {
		sbuf_adds(o, "OK\n");
		call_each(d->calls, row_call, o);
	} else if (!strcmp(line, CTL_CMD_HANGUP)) {
		char *end = NULL;
		unsigned long id = arg ? strtoul(arg, &end, 10) : 0;
		if (!arg || !*arg || *end || !id || id > UINT32_MAX)
			sbuf_adds(o, "ERR usage: hangup CALL_ID\n");
		else if (call_hangup(d->calls, (uint32_t)id))
			sbuf_printf(o, "ERR no such call %lu\n", id);
		else
			sbuf_adds(o, "OK\n");
	} else if (!strcmp(line, CTL_CMD_MWI)) {
		const char *n = arg && !strncmp(arg, "notify ", 7) ? arg + 7 : NULL;
		if (!n || !*n || strchr(n, ' ') || strlen(n) > 31)
			sbuf_adds(o, "ERR usage: mwi notify MAILBOX\n");
		else if (!d->mwi_notify || d->mwi_notify(n, d->arg))
			sbuf_printf(o, "ERR no such mailbox %s\n", n);
		else
			sbuf_adds(o, "OK\n");
	} else if (!strcmp(line, CTL_CMD_BANS)) {
		sbuf_adds(o, "OK\n");
		ban_list_each(d->bans, now, false, row_ban, o);
	} else if (!strcmp(line, CTL_CMD_UNBAN)) {
		if (!arg || !*arg)
			sbuf_adds(o, "ERR usage: unban ADDRESS\n");
		else if (ban_lift(d->bans, arg))
			sbuf_printf(o, "ERR %s is not banned\n", arg);
		else {
			log_info("ctl", "ban on %s lifted by the administrator", arg);
			sbuf_adds(o, "OK\n");
		}
	} else if (!strcmp(line, CTL_CMD_RELOAD)) {
		c->waiting = true;
		d->reload(on_reloaded, c, d->arg);
		return;
	} else if (!strcmp(line, CTL_CMD_EMAIL)) {
		if (email_command(c, arg))
			return; /* answered by on_mailed */
	} else if (!strcmp(line, CTL_CMD_TRACE)) {
		if (arg && (!strcmp(arg, "on") || !strcmp(arg, "off"))) {
			log_set_sip_trace(!strcmp(arg, "on"));
			log_info("ctl", "SIP tracing %s", arg);
			sbuf_adds(o, "OK\n");
		} else {
			sbuf_adds(o, "ERR usage: trace on|off\n");
		}
	} else if (!strcmp(line, CTL_CMD_LOGLEVEL)) {
		int lvl = arg ? log_level_parse(arg) : -1;
		if (lvl < 0) {
			sbuf_adds(o, "ERR usage: loglevel error|warn|info|debug\n");
		} else {
			log_set_level((enum log_level)lvl);
			sbuf_adds(o, "OK\n");
		}
	} else {
		sbuf_printf(o, "ERR unknown command '%.40s'\n", line);
	}
	reply_rows_done(c);
}

static void on_client(int fd, uint32_t events, void *arg)
{
	struct ctl_client *c = arg;
	if (c->replying) {
		if (c->waiting) /* a callback owns c: just stop listening */
			loop_fd_del(c->s->d.loop, c->fd);
		else if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			client_flush(c);
		return;
	}
	ssize_t n = recv(fd, c->line + c->llen, sizeof(c->line) - 1 - c->llen, MSG_DONTWAIT);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		client_free(c);
		return;
	}
	c->llen += (size_t)n;
	c->line[c->llen] = '\0';
	char *nl = strchr(c->line, '\n');
	if (!nl) {
		if (c->llen == sizeof(c->line) - 1)
			client_free(c); /* no command is this long */
		return;
	}
	*nl = '\0';
	if (nl > c->line && nl[-1] == '\r')
		nl[-1] = '\0';
	c->replying = true; /* ignore anything else it sends */
	loop_fd_mod(c->s->d.loop, c->fd, 0); /* and stop hearing it: a
		half-closed client would otherwise wake us until we answer */
	run_command(c, c->line);
}

static void on_client_timeout(void *arg)
{
	struct ctl_client *c = arg;
	if (c->waiting) /* the store thread or the mailer answers; wait */
		loop_timer_start(c->s->d.loop, &c->timeout, 1000, on_client_timeout, c);
	else
		client_free(c);
}

static void on_accept(int fd, uint32_t events, void *arg)
{
	struct ctl_server *s = arg;
	(void)events;
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			return;
		struct ctl_client *c = calloc(1, sizeof(*c));
		if (!c || loop_fd_add(s->d.loop, cfd, EPOLLIN, on_client, c)) {
			free(c);
			close(cfd);
			continue;
		}
		c->s = s;
		c->fd = cfd;
		sbuf_init(&c->out);
		loop_timer_init(&c->timeout);
		loop_timer_start(s->d.loop, &c->timeout, 10000, on_client_timeout, c);
		list_push_front(&s->clients, &c->le);
	}
}

int ctl_server_alloc(struct ctl_server **out, const struct ctl_deps *deps)
{
	if (!out || !deps || !deps->loop || !deps->data_dir || !deps->status || !deps->reload)
		return EINVAL;
	struct ctl_server *s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	s->d = *deps;
	s->d.data_dir = NULL; /* not kept: only the socket path is */
	s->fd = -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", deps->data_dir, CTL_SOCKET_NAME);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
		log_err("ctl", "data directory path too long for a control socket");
		free(s);
		return ENAMETOOLONG;
	}
	snprintf(s->path, sizeof(s->path), "%s", sa.sun_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	unlink(s->path); /* a stale socket of a previous run */
	mode_t old = umask(0077);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || listen(fd, 16) < 0 || loop_fd_add(s->d.loop, fd, EPOLLIN, on_accept, s))
		goto fail;
	s->fd = fd;
	*out = s;
	return 0;
fail:;
	int err = errno ? errno : EIO;
	log_err("ctl", "cannot create control socket %s: %s", s->path, strerror(err));
	if (fd >= 0)
		close(fd);
	free(s);
	return err;
}

void ctl_server_free(struct ctl_server *s)
{
	if (!s)
		return;
	while (!list_empty(&s->clients))
		client_free(container_of(s->clients.head, struct ctl_client, le));
	loop_fd_del(s->d.loop, s->fd);
	close(s->fd);
	unlink(s->path);
	free(s);
}
