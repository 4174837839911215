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
#include "../pbx/ext_table.h"
#include "../pbx/pbx.h"
#include "../reg/registrar.h"
#include "../sip/ban.h"
#include "../sip/transport.h"
#include "../sip/tsx.h"
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
	bool reloading; /* the reload callback still holds this client */
	struct loop_timer timeout;
};

struct ctl_server {
	struct pbx *p;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct list clients;
};

static void client_free(struct ctl_client *c)
{
	struct ctl_server *s = c->s;
	list_remove(&s->clients, &c->le);
	loop_timer_cancel(&c->timeout);
	loop_fd_del(s->p->loop, c->fd);
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
				loop_fd_mod(c->s->p->loop, c->fd, EPOLLOUT);
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
	sbuf_printf(b, "%s\t%u\t%u\n", e->addr, e->failures, e->banned_for_s);
}

static void row_call(const struct call_info *ci, void *arg)
{
	struct sbuf *b = arg;
	sbuf_printf(b, "%u\t%s\t%s\t%s\t%u\t%s\t%s\n", ci->id, ci->caller, ci->callee, ci->state,
		    ci->duration_s, ci->codec[0] ? ci->codec : "-",
		    ci->dtmf && ci->dtmf[0] ? ci->dtmf : "-");
}

static void on_reloaded(int err, void *arg)
{
	struct ctl_client *c = arg;
	c->reloading = false;
	if (err)
		sbuf_printf(&c->out, "ERR reload failed: %s\n", strerror(err));
	else
		sbuf_adds(&c->out, "OK\n");
	reply_rows_done(c);
}

static void run_command(struct ctl_client *c, char *line)
{
	struct pbx *p = c->s->p;
	struct sbuf *o = &c->out;
	char *arg = strchr(line, ' ');
	if (arg)
		*arg++ = '\0';
	uint64_t now = loop_now(p->loop);

	if (!strcmp(line, CTL_CMD_STATUS)) {
		struct sip_transport_stats ts;
		sip_transport_stats(p->tp, &ts);
		sbuf_adds(o, "OK\n");
		sbuf_printf(o, "version\t%s\n", HF_VERSION);
		sbuf_printf(o, "uptime_s\t%llu\n", (unsigned long long)((now - p->started_ms) / 1000));
		sbuf_printf(o, "extensions\t%zu\n", ext_table_count(p->exts));
		sbuf_printf(o, "registrations\t%zu\n", registrar_count(p->reg));
		struct call_stats cs;
		call_mgr_stats(p->calls, &cs);
		sbuf_printf(o, "calls\t%zu\n", call_count(p->calls));
		sbuf_printf(o, "calls_total\t%llu\n", (unsigned long long)cs.started);
		sbuf_printf(o, "calls_answered\t%llu\n", (unsigned long long)cs.answered);
		sbuf_printf(o, "bans\t%zu\n", ban_count(p->bans, now));
		sbuf_printf(o, "auth_failures\t%llu\n", (unsigned long long)p->authn.failures);
		sbuf_printf(o, "sip_rx\t%llu\n", (unsigned long long)ts.rx_msgs);
		sbuf_printf(o, "sip_tx\t%llu\n", (unsigned long long)ts.tx_msgs);
		sbuf_printf(o, "sip_rx_bad\t%llu\n", (unsigned long long)(ts.rx_bad + ts.rx_too_big));
		sbuf_printf(o, "transactions\t%zu\n", sip_tsx_count(p->tsx));
		sbuf_printf(o, "tcp_connections\t%llu\n", (unsigned long long)ts.tcp_conns);
	} else if (!strcmp(line, CTL_CMD_REGISTRATIONS)) {
		sbuf_adds(o, "OK\n");
		registrar_each(p->reg, row_reg, o);
	} else if (!strcmp(line, CTL_CMD_CALLS)) {
		sbuf_adds(o, "OK\n");
		call_each(p->calls, row_call, o);
	} else if (!strcmp(line, CTL_CMD_HANGUP)) {
		char *end = NULL;
		unsigned long id = arg ? strtoul(arg, &end, 10) : 0;
		if (!arg || !*arg || *end || !id || id > UINT32_MAX)
			sbuf_adds(o, "ERR usage: hangup CALL_ID\n");
		else if (call_hangup(p->calls, (uint32_t)id))
			sbuf_printf(o, "ERR no such call %lu\n", id);
		else
			sbuf_adds(o, "OK\n");
	} else if (!strcmp(line, CTL_CMD_BANS)) {
		sbuf_adds(o, "OK\n");
		ban_list_each(p->bans, now, false, row_ban, o);
	} else if (!strcmp(line, CTL_CMD_UNBAN)) {
		if (!arg || !*arg)
			sbuf_adds(o, "ERR usage: unban ADDRESS\n");
		else if (ban_lift(p->bans, arg))
			sbuf_printf(o, "ERR %s is not banned\n", arg);
		else {
			log_info("ctl", "ban on %s lifted by the administrator", arg);
			sbuf_adds(o, "OK\n");
		}
	} else if (!strcmp(line, CTL_CMD_RELOAD)) {
		c->reloading = true;
		pbx_reload(p, on_reloaded, c);
		return;
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
		if (c->reloading) /* the reload callback owns c: just stop listening */
			loop_fd_del(c->s->p->loop, c->fd);
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
	loop_fd_mod(c->s->p->loop, c->fd, 0); /* and stop hearing it: a
		half-closed client would otherwise wake us until we answer */
	run_command(c, c->line);
}

static void on_client_timeout(void *arg)
{
	struct ctl_client *c = arg;
	if (c->reloading) /* the store thread answers soon; wait for it */
		loop_timer_start(c->s->p->loop, &c->timeout, 1000, on_client_timeout, c);
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
		if (!c || loop_fd_add(s->p->loop, cfd, EPOLLIN, on_client, c)) {
			free(c);
			close(cfd);
			continue;
		}
		c->s = s;
		c->fd = cfd;
		sbuf_init(&c->out);
		loop_timer_init(&c->timeout);
		loop_timer_start(s->p->loop, &c->timeout, 10000, on_client_timeout, c);
		list_push_front(&s->clients, &c->le);
	}
}

int ctl_server_alloc(struct ctl_server **out, struct pbx *p)
{
	struct ctl_server *s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	s->p = p;
	s->fd = -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", p->conf.data_dir, CTL_SOCKET_NAME);
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
	if (rc < 0 || listen(fd, 16) < 0 || loop_fd_add(p->loop, fd, EPOLLIN, on_accept, s))
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
	loop_fd_del(s->p->loop, s->fd);
	close(s->fd);
	unlink(s->path);
	free(s);
}
