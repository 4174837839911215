/*
 * SIP over UDP. Datagrams are read in batches with recvmmsg so a burst of
 * REGISTERs costs one system call per batch, not per message; the receive
 * buffers are allocated once. Datagrams sent while handling them are
 * queued per socket and written with one sendmmsg when the loop iteration
 * ends (loop_flush_add), so answering a batch also costs one call. A datagram that filled the whole buffer was
 * truncated (MSG_TRUNC) and is dropped: SIP refuses messages over 64 KiB.
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

#define RX_BATCH 16
#define RX_BUFSZ (SIP_MAX_MSG + 1)

static void on_readable(int fd, uint32_t events, void *arg)
{
	struct sip_transport *t = arg;
	struct mmsghdr mm[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct sockaddr_storage from[RX_BATCH];
	(void)events;

	/* Bounded work per wake-up keeps other sockets and timers fair. */
	for (int round = 0; round < 8; round++) {
		for (int i = 0; i < RX_BATCH; i++) {
			iov[i].iov_base = t->rxbufs + (size_t)i * RX_BUFSZ;
			iov[i].iov_len = RX_BUFSZ;
			memset(&mm[i].msg_hdr, 0, sizeof(mm[i].msg_hdr));
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_name = &from[i];
			mm[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		int n = recvmmsg(fd, mm, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			struct sip_peer p = { .tp = SIP_TP_UDP, .local_fd = fd };
			memcpy(&p.addr, &from[i], sizeof(from[i]));
			p.alen = mm[i].msg_hdr.msg_namelen;
			if ((mm[i].msg_hdr.msg_flags & MSG_TRUNC) || mm[i].msg_len > SIP_MAX_MSG) {
				t->stats.rx_too_big++;
				continue;
			}
			tp_deliver(t, iov[i].iov_base, mm[i].msg_len, &p);
		}
		if (n < RX_BATCH)
			return;
	}
}

int tp_udp_open(struct sip_transport *t, const char *host)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (t->nudp == TP_MAX_SOCKS)
		return ENOSPC;
	if (tp_sockaddr_parse(host, t->cfg.udp_port, &ss, &len)) {
		log_err("tp", "bad bind address '%s'", host);
		return EINVAL;
	}
	if (!t->rxbufs) {
		t->rxbufs = malloc((size_t)RX_BATCH * RX_BUFSZ);
		if (!t->rxbufs)
			return ENOMEM;
	}
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	int one = 1;
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Bursts of registrations must not overflow the kernel queue. */
	int rcvbuf = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		int err = errno;
		close(fd);
		if (ss.ss_family == AF_INET6 && (err == EADDRNOTAVAIL || err == EAFNOSUPPORT) && !strcmp(host, "::")) {
			log_warn("tp", "IPv6 not available, listening on IPv4 only");
			return 0;
		}
		log_err("tp", "cannot bind UDP %s port %u: %s", host, t->cfg.udp_port, strerror(err));
		return err;
	}
	int err = loop_fd_add(t->loop, fd, EPOLLIN, on_readable, t);
	if (err) {
		close(fd);
		return err;
	}
	struct tp_udp *u = &t->udp[t->nudp++];
	u->fd = fd;
	u->af = ss.ss_family;
	u->txq = calloc(1, sizeof(*u->txq)); /* NULL: send unbatched */
	snprintf(u->host, sizeof(u->host), "%s", host);
	log_info("tp", "listening on udp %s port %u", host, t->cfg.udp_port);
	return 0;
}

static void flush_one(struct tp_udp *u)
{
	struct tp_txq *q = u->txq;
	unsigned off = 0;
	while (off < q->n) {
		int n = sendmmsg(u->fd, q->mm + off, q->n - off, MSG_DONTWAIT);
		if (n <= 0) {
			/* the kernel queue is full or the peer unreachable: UDP
			 * loses this one datagram, retransmission covers it */
			off++;
			continue;
		}
		off += (unsigned)n;
	}
	q->n = 0;
	q->used = 0;
}

void tp_udp_flush(void *arg)
{
	struct sip_transport *t = arg;
	for (int i = 0; i < t->nudp; i++)
		if (t->udp[i].txq && t->udp[i].txq->n)
			flush_one(&t->udp[i]);
}

int tp_udp_send(struct sip_transport *t, const struct sip_peer *to,
		const char *data, size_t len)
{
	struct tp_udp *u = NULL;
	for (int i = 0; i < t->nudp; i++)
		if (to->local_fd > 0 ? t->udp[i].fd == to->local_fd : t->udp[i].af == to->addr.ss_family) {
			u = &t->udp[i];
			break;
		}
	if (!u)
		return EAFNOSUPPORT;
	struct tp_txq *q = u->txq;
	if (!q || len > TX_ARENA / 4) { /* rare big message: straight out */
		ssize_t n = sendto(u->fd, data, len, MSG_DONTWAIT,
				   (const struct sockaddr *)&to->addr, to->alen);
		return n < 0 ? errno : 0;
	}
	if (q->n == TX_BATCH || q->used + len > TX_ARENA)
		flush_one(u);
	char *p = q->arena + q->used;
	memcpy(p, data, len);
	q->used += len;
	unsigned i = q->n++;
	memcpy(&q->to[i], &to->addr, to->alen);
	q->iov[i].iov_base = p;
	q->iov[i].iov_len = len;
	memset(&q->mm[i], 0, sizeof(q->mm[i]));
	q->mm[i].msg_hdr.msg_name = &q->to[i];
	q->mm[i].msg_hdr.msg_namelen = to->alen;
	q->mm[i].msg_hdr.msg_iov = &q->iov[i];
	q->mm[i].msg_hdr.msg_iovlen = 1;
	return 0;
}
