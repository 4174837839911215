/*
 * SIP over TCP (stream framing by Content-Length, RFC 3261 18.3). One
 * struct tp_conn per connection owns its socket, its receive buffer, its
 * queue of unsent bytes and its idle timer. The idle timer is re-armed
 * lazily (nginx style): it fires at the old deadline, looks at the last
 * activity and sleeps again for the remainder, so traffic never touches
 * the timer heap. A connection whose stream cannot be framed is closed:
 * there is no way to find the next message boundary.
 */
#include "transport_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../base/log.h"
#include "msg.h"

#define RBUF_MAX (SIP_MAX_MSG + 1)
#define WBUF_MAX (4u << 20) /* a peer that stops reading gets cut off */

struct tp_conn {
	struct list_node le; /* in t->conns */
	struct sip_transport *t;
	int fd;
	uint32_t id;
	bool connecting;
	bool dead; /* failed while a handler up the stack may hold it */
	struct sip_peer peer;
	char *rbuf;
	size_t rlen;
	char *wbuf;
	size_t wlen, wcap;
	uint64_t last_active;
	struct loop_timer idle;
};

static void conn_close(struct tp_conn *c, const char *why)
{
	struct sip_transport *t = c->t;
	char who[96];
	sip_peer_str(&c->peer, who, sizeof(who));
	log_debug("tp", "tcp connection %u with %s closed: %s", c->id, who, why);
	loop_timer_cancel(&c->idle);
	loop_fd_del(t->loop, c->fd);
	close(c->fd);
	list_remove(&t->conns, &c->le);
	t->nconns--;
	free(c->rbuf);
	free(c->wbuf);
	free(c);
}

static void on_idle(void *arg)
{
	struct tp_conn *c = arg;
	struct sip_transport *t = c->t;
	uint64_t limit = (uint64_t)t->cfg.tcp_idle_timeout_s * 1000u;
	uint64_t idle = loop_now(t->loop) - c->last_active;
	if (idle >= limit) {
		t->stats.tcp_idle_closed++;
		conn_close(c, "idle");
		return;
	}
	loop_timer_start(t->loop, &c->idle, limit - idle, on_idle, c);
}

/* Sending can fail deep inside a receive handler of this very connection:
 * closing it there would free what the caller still uses, so the
 * connection is only marked and shut down; its next event closes it. */
static void conn_fail(struct tp_conn *c)
{
	c->dead = true;
	shutdown(c->fd, SHUT_RDWR);
}

/* Frames and delivers every whole message in the buffer. Returns false
 * when the connection was closed. */
static bool drain_messages(struct tp_conn *c)
{
	size_t off = 0;
	while (off < c->rlen) {
		size_t mlen;
		int err = sip_msg_frame(c->rbuf + off, c->rlen - off, &mlen);
		if (err == EAGAIN)
			break;
		if (err) {
			c->t->stats.rx_bad++;
			conn_close(c, err == EMSGSIZE ? "message too big" : "unframeable stream");
			return false;
		}
		tp_deliver(c->t, c->rbuf + off, mlen, &c->peer);
		if (c->dead) { /* sending the answer failed */
			conn_close(c, "write failed");
			return false;
		}
		off += mlen;
	}
	if (off) {
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
	}
	return true;
}

static int flush_wbuf(struct tp_conn *c)
{
	while (c->wlen) {
		ssize_t n = send(c->fd, c->wbuf, c->wlen, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return errno;
		}
		memmove(c->wbuf, c->wbuf + n, c->wlen - (size_t)n);
		c->wlen -= (size_t)n;
	}
	uint32_t ev = EPOLLIN | (c->wlen ? EPOLLOUT : 0);
	loop_fd_mod(c->t->loop, c->fd, ev);
	return 0;
}

static void on_conn_event(int fd, uint32_t events, void *arg)
{
	struct tp_conn *c = arg;
	c->last_active = loop_now(c->t->loop);
	if (c->dead) {
		conn_close(c, "write failed");
		return;
	}
	if (events & EPOLLOUT) {
		if (c->connecting) {
			int soerr = 0;
			socklen_t sl = sizeof(soerr);
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
			if (soerr) {
				conn_close(c, strerror(soerr));
				return;
			}
			c->connecting = false;
		}
		if (flush_wbuf(c)) {
			conn_close(c, "write failed");
			return;
		}
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		for (;;) {
			if (c->rlen == RBUF_MAX) {
				c->t->stats.rx_too_big++;
				conn_close(c, "message too big");
				return;
			}
			ssize_t n = recv(fd, c->rbuf + c->rlen, RBUF_MAX - c->rlen, MSG_DONTWAIT);
			if (n == 0) {
				conn_close(c, "closed by peer");
				return;
			}
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				conn_close(c, strerror(errno));
				return;
			}
			c->rlen += (size_t)n;
			if (!drain_messages(c))
				return;
		}
	}
}

static struct tp_conn *conn_new(struct sip_transport *t, int fd,
				const struct sockaddr_storage *sa, socklen_t alen)
{
	struct tp_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->rbuf = malloc(RBUF_MAX);
	if (!c->rbuf) {
		free(c);
		return NULL;
	}
	c->t = t;
	c->fd = fd;
	c->id = t->next_conn_id++;
	if (t->next_conn_id == 0)
		t->next_conn_id = 1;
	c->peer.tp = SIP_TP_TCP;
	memcpy(&c->peer.addr, sa, alen);
	c->peer.alen = alen;
	c->peer.conn_id = c->id;
	c->peer.local_fd = -1;
	c->last_active = loop_now(t->loop);
	loop_timer_init(&c->idle);
	if (loop_fd_add(t->loop, fd, EPOLLIN, on_conn_event, c)) {
		free(c->rbuf);
		free(c);
		return NULL;
	}
	loop_timer_start(t->loop, &c->idle, (uint64_t)t->cfg.tcp_idle_timeout_s * 1000u, on_idle, c);
	list_push_front(&t->conns, &c->le);
	t->nconns++;
	t->stats.tcp_conns++;
	return c;
}

static void on_accept(int lfd, uint32_t events, void *arg)
{
	struct sip_transport *t = arg;
	(void)events;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage sa;
		socklen_t alen = sizeof(sa);
		int fd = accept4(lfd, (struct sockaddr *)&sa, &alen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (t->nconns >= t->cfg.tcp_max_conns) {
			log_warn("tp", "tcp connection limit (%u) reached, refusing", t->cfg.tcp_max_conns);
			close(fd);
			continue;
		}
		if (!conn_new(t, fd, &sa, alen))
			close(fd);
	}
}

int tp_tcp_listen(struct sip_transport *t, const char *host)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (t->nlis == TP_MAX_SOCKS)
		return ENOSPC;
	if (tp_sockaddr_parse(host, t->cfg.tcp_port, &ss, &len))
		return EINVAL;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 512) < 0) {
		int err = errno;
		close(fd);
		if (ss.ss_family == AF_INET6 && (err == EADDRNOTAVAIL || err == EAFNOSUPPORT) && !strcmp(host, "::"))
			return 0;
		log_err("tp", "cannot listen on TCP %s port %u: %s", host, t->cfg.tcp_port, strerror(err));
		return err;
	}
	int err = loop_fd_add(t->loop, fd, EPOLLIN, on_accept, t);
	if (err) {
		close(fd);
		return err;
	}
	t->lis[t->nlis].fd = fd;
	t->lis[t->nlis].af = ss.ss_family;
	t->nlis++;
	log_info("tp", "listening on tcp %s port %u", host, t->cfg.tcp_port);
	return 0;
}

static bool same_addr(const struct sip_peer *a, const struct sip_peer *b)
{
	return a->alen == b->alen && memcmp(&a->addr, &b->addr, a->alen) == 0;
}

static struct tp_conn *find_conn(struct sip_transport *t, const struct sip_peer *to)
{
	struct tp_conn *byaddr = NULL;
	struct list_node *n;
	list_foreach(&t->conns, n) {
		struct tp_conn *c = container_of(n, struct tp_conn, le);
		if (c->dead)
			continue;
		if (to->conn_id && c->id == to->conn_id)
			return c;
		if (!byaddr && same_addr(&c->peer, to))
			byaddr = c;
	}
	return byaddr;
}

static struct tp_conn *conn_open(struct sip_transport *t, const struct sip_peer *to)
{
	int fd = socket(to->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (const struct sockaddr *)&to->addr, to->alen) < 0 && errno != EINPROGRESS) {
		close(fd);
		return NULL;
	}
	struct tp_conn *c = conn_new(t, fd, &to->addr, to->alen);
	if (!c) {
		close(fd);
		return NULL;
	}
	c->connecting = true;
	loop_fd_mod(t->loop, fd, EPOLLIN | EPOLLOUT);
	return c;
}

int tp_tcp_send(struct sip_transport *t, const struct sip_peer *to,
		const char *data, size_t len)
{
	struct tp_conn *c = find_conn(t, to);
	if (!c)
		c = conn_open(t, to);
	if (!c)
		return ENOTCONN;
	if (c->dead)
		return ENOTCONN;
	if (c->wlen + len > WBUF_MAX) {
		conn_fail(c);
		return ENOBUFS;
	}
	if (c->wlen + len > c->wcap) {
		size_t cap = c->wcap ? c->wcap : 4096;
		while (cap < c->wlen + len)
			cap *= 2;
		char *p = realloc(c->wbuf, cap);
		if (!p)
			return ENOMEM;
		c->wbuf = p;
		c->wcap = cap;
	}
	memcpy(c->wbuf + c->wlen, data, len);
	c->wlen += len;
	c->last_active = loop_now(t->loop);
	if (c->connecting)
		return 0;
	if (flush_wbuf(c)) {
		conn_fail(c);
		return EPIPE;
	}
	return 0;
}

void tp_tcp_close_all(struct sip_transport *t)
{
	while (!list_empty(&t->conns))
		conn_close(container_of(t->conns.head, struct tp_conn, le), "shutdown");
	for (int i = 0; i < t->nlis; i++) {
		loop_fd_del(t->loop, t->lis[i].fd);
		close(t->lis[i].fd);
	}
	t->nlis = 0;
}
