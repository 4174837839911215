/*
 * The tool's end of the control socket (ctl_client.h). Non-blocking I/O
 * against one absolute deadline, so a daemon that accepts but never
 * answers (stuck, or stopped in a debugger) costs the administrator at
 * most the timeout, never a hung terminal.
 */
#include "ctl_client.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../ctl/ctl_proto.h"

#define REPLY_MAX (16u << 20)

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline; 0, ETIMEDOUT or errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return ETIMEDOUT;
		struct pollfd p = { .fd = fd, .events = events };
		int n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == 0)
			return ETIMEDOUT;
		if (errno != EINTR)
			return errno;
	}
}

static int connect_to(int fd, const struct sockaddr_un *sa, int64_t deadline)
{
	for (;;) {
		if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		/* A unix socket whose listen backlog is full answers EAGAIN
		 * (not EINPROGRESS); it has nothing to poll on, so retry. */
		if (errno != EAGAIN)
			return errno;
		if (now_ms() >= deadline)
			return ETIMEDOUT;
		usleep(20 * 1000);
	}
}

static int send_all(int fd, const char *p, size_t n, int64_t deadline)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return errno;
		int err = wait_fd(fd, POLLOUT, deadline);
		if (err)
			return err;
	}
	return 0;
}

/* Reads until the server closes the connection (the end of a reply). */
static int recv_all(int fd, char **out, size_t *len, int64_t deadline)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		return ENOMEM;
	for (;;) {
		if (n + 1 == cap) {
			if (cap >= REPLY_MAX) {
				free(buf);
				return EMSGSIZE;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
		if (r > 0) {
			n += (size_t)r;
			continue;
		}
		if (r == 0)
			break;
		if (errno == EINTR)
			continue;
		int err = (errno == EAGAIN || errno == EWOULDBLOCK) ? wait_fd(fd, POLLIN, deadline)
								   : errno;
		if (err) {
			free(buf);
			return err;
		}
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static int parse_reply(char *buf, size_t len, struct ctl_reply *r)
{
	if (len == 0)
		return ECONNABORTED; /* closed without a word: it failed or died */
	/* Every line, the status line included, ends in "\n": a reply that
	 * does not was cut short (the daemon died while answering). */
	if (buf[len - 1] != '\n' || memchr(buf, '\0', len))
		return EPROTO;
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';

	char *line = buf;
	char *nl = strchr(line, '\n');
	*nl = '\0';
	if (nl > line && nl[-1] == '\r')
		nl[-1] = '\0';
	if (strcmp(line, CTL_REPLY_OK) == 0) {
		r->ok = true;
		r->msg = "";
	} else if (strncmp(line, CTL_REPLY_ERR, strlen(CTL_REPLY_ERR)) == 0 &&
		   (line[3] == '\0' || line[3] == ' ')) {
		r->ok = false;
		r->msg = line[3] ? line + 4 : "";
	} else {
		return EPROTO;
	}

	r->rows = calloc(lines, sizeof(*r->rows));
	if (!r->rows)
		return ENOMEM;
	for (line = nl + 1; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		*nl = '\0';
		if (nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
		struct ctl_row *row = &r->rows[r->nrows++];
		char *f = line;
		for (;;) {
			row->field[row->nfields++] = f;
			char *tab = strchr(f, '\t');
			if (!tab || row->nfields == CTL_ROW_FIELDS)
				break;
			*tab = '\0';
			f = tab + 1;
		}
	}
	return 0;
}

int ctl_call(const char *path, const char *cmd, const char *arg, int timeout_ms,
	     struct ctl_reply *out)
{
	if (!path || !cmd || !out)
		return EINVAL;
	memset(out, 0, sizeof(*out));

	char req[CTL_LINE_MAX];
	int n = arg ? snprintf(req, sizeof(req), "%s %s\n", cmd, arg)
		    : snprintf(req, sizeof(req), "%s\n", cmd);
	if (n < 0 || (size_t)n >= sizeof(req) || strcspn(req, "\r\n") != (size_t)n - 1)
		return EINVAL;

	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	int64_t deadline = now_ms() + timeout_ms;
	char *buf = NULL;
	size_t len = 0;
	int err = connect_to(fd, &sa, deadline);
	if (!err)
		err = send_all(fd, req, (size_t)n, deadline);
	/* No shutdown(SHUT_WR): the request is one line and the server
	 * closes when it has answered. */
	if (!err)
		err = recv_all(fd, &buf, &len, deadline);
	close(fd);
	if (err)
		return err;
	out->buf = buf;
	err = parse_reply(buf, len, out);
	if (err)
		ctl_reply_free(out);
	return err;
}

void ctl_reply_free(struct ctl_reply *r)
{
	if (!r)
		return;
	free(r->rows);
	free(r->buf);
	memset(r, 0, sizeof(*r));
}
