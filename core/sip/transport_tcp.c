/*
 * SIP over TCP (stream framing by Content-Length, RFC 3261 18.3). One
 * struct tp_conn per connection owns its socket, its receive buffer, its
 * framing state, its queue of unsent bytes and its idle timer. The idle
 * timer is re-armed lazily (nginx style): it fires at the old deadline,
 * looks at the last activity and sleeps again for the remainder, so
 * traffic never touches the timer heap. Only whole messages (and what we
 * send) count as activity: a peer dribbling single bytes does not keep a
 * connection alive, and one that has not sent a whole message by the
 * first-message deadline is closed. One address may hold only so many
 * connections, so a flood from one host cannot take every slot. A
 * connection whose stream cannot be framed is closed: there is no way to
 * find the next message boundary.
 */
#include "transport_int.h"

#include <errno.h>
#include <fcntl.h>
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
	bool inbound; /* accepted: counts against its address's limit */
	bool got_msg; /* a whole message came in: past the first deadline */
	struct sip_peer peer;
	char *rbuf;
	size_t rlen;
	struct sip_frame_state fr; /* of the message at rbuf[0] */
	char *wbuf;
	size_t wlen, wcap;
	uint64_t created;
	uint64_t last_active; /* last whole message in or bytes out */
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

/* When the connection is to be closed unless something happens: the idle
 * deadline, or the first-message one while no message has come. Only
 * ever moves later, which lazy re-arming needs. */
static uint64_t conn_deadline(const struct tp_conn *c)
{
	const struct sip_transport_cfg *cfg = &c->t->cfg;
	uint64_t d = c->last_active + (uint64_t)cfg->tcp_idle_timeout_s * 1000u;
	if (!c->got_msg && cfg->tcp_first_msg_timeout_s) {
		uint64_t f = c->created + (uint64_t)cfg->tcp_first_msg_timeout_s * 1000u;
		if (f < d)
			d = f;
	}
	return d;
}

static void on_idle(void *arg)
{
	struct tp_conn *c = arg;
	struct sip_transport *t = c->t;
	uint64_t now = loop_now(t->loop), d = conn_deadline(c);
	if (now >= d) {
		if (c->got_msg) {
			t->stats.tcp_idle_closed++;
			conn_close(c, "idle");
		} else {
			t->stats.tcp_slow_closed++;
			conn_close(c, "no whole message by the first-message deadline");
		}
		return;
	}
	loop_timer_start(t->loop, &c->idle, d - now, on_idle, c);
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
		int err = sip_msg_frame_next(&c->fr, c->rbuf + off, c->rlen - off, &mlen);
		if (err == EAGAIN)
			break;
		if (err) {
			c->t->stats.rx_bad++;
			conn_close(c, err == EMSGSIZE ? "message too big" : "unframeable stream");
			return false;
		}
		/* A keep-alive (all CR/LF) keeps a connection alive once it
		 * has carried a message, but is no first message. */
		bool keepalive = c->rbuf[off] == '\r' || c->rbuf[off] == '\n';
		if (!keepalive)
			c->got_msg = true;
		if (c->got_msg)
			c->last_active = loop_now(c->t->loop);
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
	c->created = c->last_active = loop_now(t->loop);
	loop_timer_init(&c->idle);
	if (loop_fd_add(t->loop, fd, EPOLLIN, on_conn_event, c)) {
		free(c->rbuf);
		free(c);
		return NULL;
	}
	loop_timer_start(t->loop, &c->idle, conn_deadline(c) - c->created, on_idle, c);
	list_push_front(&t->conns, &c->le);
	t->nconns++;
	t->stats.tcp_conns++;
	return c;
}

/* Whether two sources are the same for the per-address limit: the same
 * IPv4 address, or the same IPv6 /64 (what one subscriber gets). */
static bool same_source(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			       &((const struct sockaddr_in6 *)b)->sin6_addr, 8);
	return false;
}

/* A walk over all connections: at most tcp_max_conns (1024 by default)
 * short comparisons per accepted connection, cheaper than keeping a
 * table of addresses in step with every close. */
static uint32_t conns_from(struct sip_transport *t, const struct sockaddr_storage *sa)
{
	uint32_t n = 0;
	struct list_node *it;
	list_foreach(&t->conns, it) {
		struct tp_conn *c = container_of(it, struct tp_conn, le);
		n += c->inbound && same_source(&c->peer.addr, sa);
	}
	return n;
}

/* A flood is thousands of refusals: one log line per 10 s says how many. */
static void note_refused(struct sip_transport *t, const struct sockaddr_storage *sa,
			 socklen_t alen, const char *why)
{
	t->stats.tcp_refused++;
	t->refused_unlogged++;
	uint64_t now = loop_now(t->loop);
	if (t->refused_logged_at && now - t->refused_logged_at < 10000)
		return;
	struct sip_peer p = { .tp = SIP_TP_TCP, .alen = alen };
	memcpy(&p.addr, sa, alen);
	char who[96];
	sip_peer_str(&p, who, sizeof(who));
	log_warn("tp", "refusing tcp connection from %s: %s (%llu refused in the last 10 s)",
		 who, why, (unsigned long long)t->refused_unlogged);
	t->refused_logged_at = now;
	t->refused_unlogged = 0;
}

/* Out of file descriptors, a pending connection keeps the listener
 * readable and the loop would spin on it: give up the spare descriptor,
 * accept the connection and close it, then take the spare again. */
static void shed_one(struct sip_transport *t, int lfd)
{
	if (t->spare_fd < 0)
		return;
	close(t->spare_fd);
	struct sockaddr_storage sa;
	socklen_t alen = sizeof(sa);
	int fd = accept4(lfd, (struct sockaddr *)&sa, &alen, SOCK_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		note_refused(t, &sa, alen, "out of file descriptors");
	}
	t->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void on_accept(int lfd, uint32_t events, void *arg)
{
	struct sip_transport *t = arg;
	(void)events;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage sa;
		socklen_t alen = sizeof(sa);
		int fd = accept4(lfd, (struct sockaddr *)&sa, &alen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				shed_one(t, lfd);
			return;
		}
		if (t->nconns >= t->cfg.tcp_max_conns) {
			note_refused(t, &sa, alen, "connection limit reached");
			close(fd);
			continue;
		}
		if (t->cfg.tcp_max_conns_per_addr &&
		    conns_from(t, &sa) >= t->cfg.tcp_max_conns_per_addr) {
			note_refused(t, &sa, alen, "too many connections from this address");
			close(fd);
			continue;
		}
		struct tp_conn *c = conn_new(t, fd, &sa, alen);
		if (!c) {
			close(fd);
			continue;
		}
		c->inbound = true;
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
	if (t->spare_fd < 0)
		t->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
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
	c->got_msg = true; /* ours: the peer owes us no first message */
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
	if (t->spare_fd >= 0)
		close(t->spare_fd);
	t->spare_fd = -1;
}
