/*
 * SIP transport layer: owns the UDP sockets and the TCP listeners and
 * connections of the signalling loop. One datagram or one framed stream
 * message becomes one parsed sip_msg handed to the receive handler; bytes
 * that cannot be parsed into anything answerable are counted and dropped
 * here, so nothing above ever sees them. The UDP and TCP specifics live in
 * transport_udp.c and transport_tcp.c; this file holds what they share.
 */
#include "transport_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/log.h"
#include "msg.h"

const char *sip_tp_name(enum sip_tp tp)
{
	switch (tp) {
	case SIP_TP_UDP: return "udp";
	case SIP_TP_TCP: return "tcp";
	case SIP_TP_TLS: return "tls";
	}
	return "?";
}

void sip_peer_addr_str(const struct sip_peer *p, char *out, size_t cap)
{
	const void *a;
	if (p->addr.ss_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)&p->addr)->sin6_addr;
	else
		a = &((const struct sockaddr_in *)&p->addr)->sin_addr;
	if (!inet_ntop(p->addr.ss_family, a, out, (socklen_t)cap))
		snprintf(out, cap, "?");
}

uint16_t sip_peer_port(const struct sip_peer *p)
{
	if (p->addr.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&p->addr)->sin6_port);
	return ntohs(((const struct sockaddr_in *)&p->addr)->sin_port);
}

int sip_peer_parse(const char *s, struct sip_peer *p)
{
	memset(p, 0, sizeof(*p));
	p->local_fd = -1;
	if (!strncmp(s, "udp:", 4))
		p->tp = SIP_TP_UDP;
	else if (!strncmp(s, "tcp:", 4))
		p->tp = SIP_TP_TCP;
	else if (!strncmp(s, "tls:", 4))
		p->tp = SIP_TP_TLS;
	else
		return EINVAL;
	char host[80];
	const char *h = s + 4, *colon;
	if (*h == '[') {
		const char *end = strchr(h, ']');
		if (!end || end[1] != ':' || (size_t)(end - h - 1) >= sizeof(host))
			return EINVAL;
		memcpy(host, h + 1, (size_t)(end - h - 1));
		host[end - h - 1] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(h, ':');
		if (!colon || (size_t)(colon - h) >= sizeof(host))
			return EINVAL;
		memcpy(host, h, (size_t)(colon - h));
		host[colon - h] = '\0';
	}
	uint64_t port;
	if (pl_u64(pl_from(colon + 1), 65535, &port))
		return EINVAL;
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		len = sizeof(*in6);
	} else {
		return EINVAL;
	}
	p->addr = ss;
	p->alen = len;
	return 0;
}

void sip_peer_str(const struct sip_peer *p, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN];
	sip_peer_addr_str(p, a, sizeof(a));
	if (p->addr.ss_family == AF_INET6)
		snprintf(out, cap, "%s:[%s]:%u", sip_tp_name(p->tp), a, sip_peer_port(p));
	else
		snprintf(out, cap, "%s:%s:%u", sip_tp_name(p->tp), a, sip_peer_port(p));
}

int tp_sockaddr_parse(const char *host, uint16_t port, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return 0;
	}
	return EINVAL;
}

static bool all_crlf(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != '\r' && p[i] != '\n')
			return false;
	return true;
}

void tp_deliver(struct sip_transport *t, const char *data, size_t len,
		const struct sip_peer *from)
{
	if (all_crlf(data, len))
		return; /* RFC 5626 keep-alive */
	char who[96];
	if (log_sip_trace()) {
		sip_peer_str(from, who, sizeof(who));
		log_sip_msg(true, who, data, (unsigned)len);
	}
	struct sip_msg *m = NULL;
	int err = sip_msg_parse(&m, data, len);
	if (err) {
		if (err == EMSGSIZE)
			t->stats.rx_too_big++;
		else
			t->stats.rx_bad++;
		sip_peer_str(from, who, sizeof(who));
		log_debug("tp", "dropped %zu bytes from %s: %s", len, who,
			  err == EMSGSIZE ? "too big" : "unparseable");
		return;
	}
	t->stats.rx_msgs++;
	t->recv_h(m, from, t->arg);
}

void tp_trace_out(const struct sip_peer *to, const char *data, size_t len)
{
	if (!log_sip_trace())
		return;
	char who[96];
	sip_peer_str(to, who, sizeof(who));
	log_sip_msg(false, who, data, (unsigned)len);
}

int sip_transport_alloc(struct sip_transport **out, struct loop *loop,
			const struct sip_transport_cfg *cfg, sip_recv_h *h, void *arg)
{
	struct sip_transport *t = calloc(1, sizeof(*t));
	if (!t)
		return ENOMEM;
	t->loop = loop;
	t->cfg = *cfg;
	t->recv_h = h;
	t->arg = arg;
	t->next_conn_id = 1;
	t->spare_fd = -1;

	static const char *const wildcard[] = { "0.0.0.0", "::" };
	const char *const *binds = cfg->binds;
	int n = cfg->nbinds;
	if (!binds || n == 0) {
		binds = wildcard;
		n = 2;
	}
	int err = 0;
	for (int i = 0; i < n && !err; i++) {
		err = tp_udp_open(t, binds[i]);
		if (!err)
			err = tp_tcp_listen(t, binds[i]);
	}
	if (!err)
		err = loop_flush_add(loop, tp_udp_flush, t);
	if (err) {
		sip_transport_free(t);
		return err;
	}
	*out = t;
	return 0;
}

void sip_transport_free(struct sip_transport *t)
{
	if (!t)
		return;
	tp_udp_flush(t); /* the last BYEs and answers still go out */
	loop_flush_del(t->loop, tp_udp_flush, t);
	tp_tcp_close_all(t);
	for (int i = 0; i < t->nudp; i++) {
		loop_fd_del(t->loop, t->udp[i].fd);
		close(t->udp[i].fd);
		free(t->udp[i].txq);
	}
	free(t->rxbufs);
	free(t);
}

int sip_transport_send(struct sip_transport *t, const struct sip_peer *to,
		       const char *data, size_t len)
{
	tp_trace_out(to, data, len);
	t->stats.tx_msgs++;
	if (to->tp == SIP_TP_UDP)
		return tp_udp_send(t, to, data, len);
	if (to->tp == SIP_TP_TCP)
		return tp_tcp_send(t, to, data, len);
	return EPROTONOSUPPORT;
}

void sip_transport_stats(const struct sip_transport *t, struct sip_transport_stats *s)
{
	*s = t->stats;
}

void sip_transport_set_external(struct sip_transport *t, const char *addr)
{
	snprintf(t->external, sizeof(t->external), "%s", addr ? addr : "");
}

void sip_transport_local_for(struct sip_transport *t, const struct sip_peer *peer,
			     char *host, size_t cap, uint16_t *port)
{
	int af = peer->addr.ss_family;
	*port = peer->tp == SIP_TP_UDP ? t->cfg.udp_port : t->cfg.tcp_port;
	for (int i = 0; i < t->nudp; i++)
		if (t->udp[i].af == af && strcmp(t->udp[i].host, "0.0.0.0") && strcmp(t->udp[i].host, "::")) {
			snprintf(host, cap, "%s", t->udp[i].host);
			return;
		}
	if (t->external[0]) {
		snprintf(host, cap, "%s", t->external);
		return;
	}
	snprintf(host, cap, "%s", af == AF_INET6 ? "::1" : "127.0.0.1");
	int fd = socket(af, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (connect(fd, (const struct sockaddr *)&peer->addr, peer->alen) == 0 &&
	    getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		const void *a = af == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
					       : (const void *)&((struct sockaddr_in *)&ss)->sin_addr;
		inet_ntop(af, a, host, (socklen_t)cap);
	}
	close(fd);
}
